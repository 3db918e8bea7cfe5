//! LinuxKit configuration: parse, validate and merge one or more YAML files exactly as LinuxKit's
//! schema defines them, and stricter where LinuxKit would silently do the wrong thing.

pub mod diag;
pub mod label;
pub mod model;
mod template;
pub mod validate;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

pub use diag::{Code, ConfigError, Diagnostic, Findings, Place};
pub use model::{Config, ImageSpec};

/// The largest configuration file read. Real LinuxKit files are a few KiB; this bound keeps a
/// hostile or mistaken input (a disk image passed by accident) from being read into memory.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// A merged configuration, with the file every entry came from and the warnings found.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub origins: Origins,
    pub warnings: Vec<Diagnostic>,
}

/// For each list entry of the merged configuration, the file it was read from.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    pub files: Vec<PathBuf>,
    /// The file whose kernel image won (LinuxKit: the last one that names one).
    kernel: Option<usize>,
    init: Vec<usize>,
    onboot: Vec<usize>,
    onshutdown: Vec<usize>,
    services: Vec<usize>,
    file_entries: Vec<usize>,
    volumes: Vec<usize>,
}

impl Origins {
    /// The file that holds entry `index` of `section` (`kernel`, `init`, `onboot`, `services`,
    /// `files`…).
    pub fn file(&self, section: &str, index: usize) -> &Path {
        let list = match section {
            "kernel" => {
                return self
                    .kernel
                    .and_then(|i| self.files.get(i))
                    .map_or(Path::new(""), PathBuf::as_path);
            }
            "init" => &self.init,
            "onboot" => &self.onboot,
            "onshutdown" => &self.onshutdown,
            "services" => &self.services,
            "files" => &self.file_entries,
            "volumes" => &self.volumes,
            _ => return Path::new(""),
        };
        list.get(index)
            .and_then(|&i| self.files.get(i))
            .map_or(Path::new(""), PathBuf::as_path)
    }
}

/// Largest `files` source: LinuxKit reads a source into memory whole, and the initramfs holding
/// it is unpacked into memory at boot; content this large belongs in an image.
pub const FILE_SOURCE_LIMIT: u64 = 1 << 30;

/// Where a files entry's `source` is on this machine: `~/` is the home folder; a relative path
/// starts at the folder of the configuration file that names it (LinuxKit: the working folder),
/// so a build does not depend on where it is run from.
pub fn file_source_path(source: &str, config_file: &Path) -> PathBuf {
    if let Some(rest) = source.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    let path = Path::new(source);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    config_file.parent().unwrap_or(Path::new("")).join(path)
}

/// Why a files entry's source cannot be opened.
#[derive(Debug)]
pub enum FileSourceError {
    /// Missing or unreadable: `optional: true` skips it.
    Unreadable(std::io::Error),
    /// A device, FIFO, socket or folder.
    NotRegular(std::fs::FileType),
    TooLarge,
}

/// Opens a files entry's source as LinuxKit reads it: the file a path names, so a symlink to a
/// regular file is followed; anything else is refused before it is opened (reading /dev/zero
/// never ends, opening a FIFO waits for a writer), and the opened file is checked again in case
/// the path was swapped in between. Read it through `take(FILE_SOURCE_LIMIT + 1)`: a file may
/// grow while it is read.
pub fn open_file_source(host: &Path) -> Result<std::fs::File, FileSourceError> {
    use std::os::unix::fs::OpenOptionsExt;
    let regular = |meta: std::fs::Metadata| match meta.is_file() {
        true if meta.len() > FILE_SOURCE_LIMIT => Err(FileSourceError::TooLarge),
        true => Ok(()),
        false => Err(FileSourceError::NotRegular(meta.file_type())),
    };
    regular(std::fs::metadata(host).map_err(FileSourceError::Unreadable)?)?;
    let opened = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(host)
        .map_err(FileSourceError::Unreadable)?;
    regular(opened.metadata().map_err(FileSourceError::Unreadable)?)?;
    Ok(opened)
}

/// How strictly YAML scalars are typed. LinuxKit validates configuration files and image labels
/// against its JSON schema (so `mode: 0644` unquoted is an integer, not a string, and `yes` is not
/// a boolean); `build.yml` files are decoded straight into Go structs, which accept any scalar
/// for a string field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    Schema,
    GoStruct,
}

fn yaml_options(typing: Typing) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // A few thousand events cover the largest real configuration; aliases are legal YAML but
    // bounded so that a "billion laughs" document fails fast.
    budget.max_events = 200_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.strict_booleans = true;
    options.no_schema = typing == Typing::Schema;
    options.with_snippet = false;
    options
}

/// Deserializes YAML text into `T`, turning any error into a diagnostic with line, column and the
/// path of the field.
pub fn parse_yaml<T: DeserializeOwned>(text: &str, file: &Path, typing: Typing) -> Result<T, ConfigError> {
    let mut field = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(typing), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            field = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let (code, message, hint) = explain_yaml_error(&e.without_snippet().to_string());
        let field = clean_field_path(&field);
        ConfigError::Invalid(vec![Diagnostic {
            code,
            file: file.to_path_buf(),
            line,
            column,
            field,
            message,
            hint,
        }])
    })
}

/// `onboot[0].value.name` → `onboot[0].name`: `Spanned` wrappers add a `value` step, and an
/// unknown position shows as `?`.
fn clean_field_path(path: &str) -> String {
    path.split('.')
        .filter(|step| !matches!(*step, "value" | "?" | ""))
        .collect::<Vec<_>>()
        .join(".")
}

/// Rewords the YAML library's messages for people who write LinuxKit files: the code, the
/// message and a hint. Nothing of the library's internals (its function names, its budget
/// counters) reaches the user.
fn explain_yaml_error(raw: &str) -> (Code, String, Option<String>) {
    // The library appends the location, which the diagnostic already carries.
    let message = match raw.rfind(" at line ") {
        Some(i) if raw[i..].contains(", column ") => &raw[..i],
        _ => raw,
    };
    let message = message.trim();
    let say = |code: Code, message: String, hint: &str| (code, message, Some(hint.to_owned()));
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest);
        return say(
            Code::DuplicateKey,
            format!("duplicate key `{key}`"),
            "keep one of them: YAML parsers disagree on which one wins",
        );
    }
    if message.starts_with("unknown field") {
        return say(
            Code::UnknownField,
            message.to_owned(),
            "check the spelling; docs/config.md lists every field",
        );
    }
    if message.contains("from_str_multiple") || message.contains("multiple documents") {
        return say(
            Code::YamlSyntax,
            "the file holds more than one YAML document (a `---` line starts a second one)".into(),
            "keep one document per file; to combine configurations, pass several files to sealkit",
        );
    }
    if message.contains("budget") || message.contains("limit") {
        return say(
            Code::YamlSyntax,
            "the document nests, repeats or expands aliases far beyond what a configuration needs".into(),
            "write it out plainly: a LinuxKit configuration is a few KiB of YAML",
        );
    }
    if message.contains("did not find expected key") || message.contains("block scalar") {
        return say(
            Code::YamlSyntax,
            message.to_owned(),
            "a line less indented than a block scalar's text (a comment at column 0 counts) ends the scalar \
             (YAML 1.2 §8.1.1); indent the line or remove it",
        );
    }
    if message.contains("must be quoted") {
        return say(
            Code::WrongType,
            message.to_owned(),
            "quote the value: LinuxKit's schema reads an unquoted 0644, 10 or true as a number or boolean, not a \
             string",
        );
    }
    if message.contains("invalid boolean") {
        return say(Code::WrongType, message.to_owned(), "write true or false");
    }
    if message.contains("invalid type") || message.starts_with("expected ") {
        return say(
            Code::WrongType,
            message.to_owned(),
            "check the value's type: strings that look like numbers or booleans are quoted (\"0644\"), lists are \
             written [a, b] or with '- ' items, mappings with 'key: value'",
        );
    }
    if message.contains("missing field") {
        return say(
            Code::MissingField,
            message.to_owned(),
            "add the field; docs/config.md lists the required ones",
        );
    }
    say(
        Code::YamlSyntax,
        message.to_owned(),
        "fix the YAML at this position; docs/config.md describes every field",
    )
}

/// Reads a file, refusing anything larger than `limit` bytes or not UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(read_error)?;
    let whole = |message: String, hint: &str| {
        ConfigError::Invalid(vec![Diagnostic {
            code: Code::Unreadable,
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            message,
            hint: Some(hint.to_owned()),
        }])
    };
    if bytes.len() as u64 > limit {
        return Err(whole(
            format!("the file is larger than {} MiB", limit >> 20),
            "a LinuxKit configuration is a few KiB of YAML: check that this is the right file",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        whole(
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "pass a YAML file",
        )
    })
}

/// Parses and checks one configuration text. `file` names it in messages and anchors `@pkg:`
/// templates, which LinuxKit resolves relative to the file's folder.
pub fn parse(text: &str, file: &Path) -> Result<(Config, Vec<Diagnostic>), ConfigError> {
    if text.trim().is_empty() {
        return Err(ConfigError::Invalid(vec![Diagnostic {
            code: Code::Unreadable,
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            message: "the file is empty".into(),
            hint: Some("a LinuxKit configuration has at least a kernel, init or containers section".into()),
        }]));
    }
    let mut config: Config = parse_yaml(text, file, Typing::Schema)?;
    let mut findings = Findings::default();
    let base = file.parent().unwrap_or(Path::new("."));
    template::resolve(&mut config, base, file, &mut findings);
    validate::check_file(&config, file, &mut findings);
    let warnings = findings.into_result()?;
    Ok((config, warnings))
}

/// Loads and merges several files in order, as `linuxkit build a.yml b.yml` does: later kernel
/// fields win, lists are appended.
pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded, ConfigError> {
    let mut merged = Loaded {
        config: Config::default(),
        origins: Origins::default(),
        warnings: Vec::new(),
    };
    let mut errors = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let parsed = read_text(path, MAX_FILE_BYTES).and_then(|text| parse(&text, path));
        match parsed {
            Ok((config, warnings)) => {
                merged.warnings.extend(warnings);
                append(&mut merged, config, path);
            }
            Err(ConfigError::Invalid(d)) => errors.extend(d),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(ConfigError::Invalid(errors));
    }
    let mut findings = Findings::default();
    validate::check_merged(&merged.config, &merged.origins, &mut findings);
    findings.into_result()?;
    Ok(merged)
}

fn append(into: &mut Loaded, next: Config, path: &Path) {
    let index = into.origins.files.len();
    into.origins.files.push(path.to_path_buf());
    let o = &mut into.origins;
    let c = &mut into.config;
    if let Some(k) = next.kernel {
        let kernel = c.kernel.get_or_insert_with(Default::default);
        // LinuxKit's AppendConfig: a non-empty string (or any tar/ucode) replaces the earlier one.
        if k.image.as_ref().is_some_and(|i| !i.value.is_empty()) {
            kernel.image = k.image;
            o.kernel = Some(index);
        }
        if k.cmdline.as_ref().is_some_and(|s| !s.is_empty()) {
            kernel.cmdline = k.cmdline;
        }
        if k.binary.as_ref().is_some_and(|s| !s.value.is_empty()) {
            kernel.binary = k.binary;
        }
        if k.tar.is_some() {
            kernel.tar = k.tar;
        }
        if k.ucode.is_some() {
            kernel.ucode = k.ucode;
        }
    }
    extend(&mut c.init, next.init, (&mut o.init, index));
    extend(&mut c.onboot, next.onboot, (&mut o.onboot, index));
    extend(&mut c.onshutdown, next.onshutdown, (&mut o.onshutdown, index));
    extend(&mut c.services, next.services, (&mut o.services, index));
    extend(&mut c.files, next.files, (&mut o.file_entries, index));
    extend(&mut c.volumes, next.volumes, (&mut o.volumes, index));
    if next.trust.is_some() {
        c.trust = next.trust;
    }
}

fn extend<T>(into: &mut Option<Vec<T>>, more: Option<Vec<T>>, (origins, index): (&mut Vec<usize>, usize)) {
    let Some(more) = more else { return };
    origins.extend(std::iter::repeat_n(index, more.len()));
    into.get_or_insert_with(Vec::new).extend(more);
}
