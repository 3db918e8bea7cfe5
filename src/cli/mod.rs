//! The command implementations: each turns arguments into library calls and renders the outcome.

pub mod build;
pub mod check;
pub mod config;
pub mod gate;
pub mod image;
pub mod keygen;
pub mod lock;
pub mod log;
pub mod manual;
pub mod policy;
pub mod publish;
pub mod report;
pub mod sbom;
pub mod scan;
pub mod sign;
pub mod trusted_root;
pub mod verify;
pub mod vulndb;
pub mod vulns;

use std::io::Write;
use std::path::{Path, PathBuf};

use sealkit::image::lock::Resolver;
use sealkit::image::registry::RegistryOptions;
use sealkit::image::{ImageError, Platform, Store};
use sealkit::trust;

/// Exit code of bad usage or input.
pub const EXIT_USAGE: u8 = 2;

/// Why a command failed: the message for people, and the exit code.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }
}

impl Failure {
    /// Bad input, rendered as `error[CODE]: …` with the error's stable code (docs/errors.md).
    pub fn input(code: &str, error: impl std::fmt::Display) -> Self {
        Failure::usage(format!("error[{code}]: {error}"))
    }
}

impl From<ImageError> for Failure {
    fn from(e: ImageError) -> Self {
        Failure::input(e.code(), e)
    }
}

impl From<sealkit::plan::PlanError> for Failure {
    fn from(e: sealkit::plan::PlanError) -> Self {
        Failure::input(e.code(), e)
    }
}

impl From<sealkit::build::BuildError> for Failure {
    fn from(e: sealkit::build::BuildError) -> Self {
        Failure::input(e.code(), e)
    }
}

impl From<sealkit::epoch::EpochError> for Failure {
    fn from(e: sealkit::epoch::EpochError) -> Self {
        Failure::input(e.code().as_str(), e)
    }
}

impl From<sealkit::config::ConfigError> for Failure {
    fn from(e: sealkit::config::ConfigError) -> Self {
        use sealkit::config::ConfigError;
        let message = match &e {
            ConfigError::Invalid(list) => {
                let mut out = String::new();
                for d in list {
                    out.push_str(&format!("error[{}]: {d}\n", d.code));
                    if let Some(snippet) = d.place().as_ref().and_then(snippet) {
                        out.push_str(&snippet);
                        out.push('\n');
                    }
                }
                out.push_str(&format!(
                    "{} problem{}; nothing was done",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" }
                ));
                out
            }
            ConfigError::Read { .. } => format!("error[{}]: {e}", sealkit::config::Code::Unreadable),
        };
        Failure::usage(message)
    }
}

/// The line of a YAML file an error points at, drawn as rustc and cargo-deny draw theirs
/// (annotate-snippets): the file and line, the text, the offending token underlined. None when
/// the file cannot be read again.
pub fn snippet(d: &sealkit::config::Place) -> Option<String> {
    use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
    let line_number = usize::try_from(d.line).ok().filter(|&l| l > 0)?;
    let text = std::fs::read_to_string(&d.file).ok()?;
    let line_start: usize = text.split_inclusive('\n').take(line_number - 1).map(str::len).sum();
    let line = text.get(line_start..)?.lines().next()?;
    let column = usize::try_from(d.column).unwrap_or(1).saturating_sub(1);
    let start = line.char_indices().nth(column).map_or(line.len(), |(i, _)| i);
    // The token there: a key up to its colon, a value up to the next space or comma.
    let token = line[start..]
        .find(|c: char| c == ':' || c == ',' || c.is_whitespace())
        .unwrap_or(line.len() - start);
    let span = line_start + start..line_start + start + token.max(1).min(line.len() - start);
    let file = d.file.display().to_string();
    let report = [Group::with_level(Level::ERROR).element(
        Snippet::source(text.as_str())
            .path(file.as_str())
            .fold(true)
            .annotation(AnnotationKind::Primary.span(span)),
    )];
    Some(Renderer::plain().render(&report).to_string())
}

pub type Outcome = Result<(), Failure>;

/// Where images are kept and fetched from.
#[derive(clap::Args, Clone)]
pub struct StoreArgs {
    /// The local store (an OCI image layout); default $SEALKIT_STORE or ~/.cache/sealkit/store
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The platform to pick from multi-platform images
    #[arg(long, global = true, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
    pub platform: String,
    /// A registry (HOST[:PORT]) to reach over plain HTTP; loopback registries always are
    #[arg(long, global = true, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// The trust policy (containers-policy.json) every component image must meet; default
    /// FILE.trust.json beside the configuration FILE, when it exists (docs/trust.md)
    #[arg(long, global = true, value_name = "FILE")]
    pub trust_policy: Option<PathBuf>,
    /// The Sigstore trusted root (trusted_root.json) whose CT logs and timestamp authorities
    /// keyless signatures are checked against; default the one `sealkit trust update`
    /// installed, else the production root sealkit embeds
    #[arg(long, global = true, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl StoreArgs {
    pub fn open(&self) -> Result<(Store, Platform, RegistryOptions), Failure> {
        let platform: Platform = self
            .platform
            .parse()
            .map_err(|e| Failure::usage(format!("error: --platform: {e}")))?;
        let store = Store::open(&self.store.clone().unwrap_or_else(Store::default_location))?;
        let options = RegistryOptions {
            insecure: self.insecure_registry.clone(),
            timeout: None,
        };
        Ok((store, platform, options))
    }

    /// The trust policy: `--trust-policy`, else the one beside `config` when there is one.
    pub fn trust(&self, config: Option<&Path>) -> Result<Option<trust::Policy>, Failure> {
        let path = match (&self.trust_policy, config) {
            (Some(path), _) => path.clone(),
            (None, Some(config)) if trust::default_path(config).is_file() => trust::default_path(config),
            (None, _) => return Ok(None),
        };
        self.load_trust(&path).map(Some)
    }

    /// The trust policy at `path`, its keyless checks judged against the trusted root
    /// [`trusted_root::select`] picks (`--trusted-root`, else the updated one, else the embedded).
    pub fn load_trust(&self, path: &Path) -> Result<trust::Policy, Failure> {
        let mut policy =
            trust::Policy::load(path).map_err(|e| Failure::input(trust::Code::BadTrustPolicy.as_str(), e))?;
        policy.sigstore = trusted_root::select(self.trusted_root.as_deref())?.root;
        Ok(policy)
    }

    /// A resolver for the configuration `config`, pinned by its lock file when there is one.
    pub fn resolver(&self, config: &Path, pull: bool) -> Result<Resolver, Failure> {
        let (store, platform, options) = self.open()?;
        let mut resolver = Resolver::for_config(store, platform, options, config)?;
        resolver.pull = pull;
        Ok(resolver)
    }
}

/// Plans `loaded` through `resolver` under the trust policy (`--trust-policy`, else the one
/// beside `config`): what every command that resolves a configuration's images does. Images the
/// policy refuses stop the command (exit 1) before anything of them is read.
pub fn plan_trusted(
    store: &StoreArgs,
    loaded: &sealkit::config::Loaded,
    resolver: &Resolver,
    config: &Path,
    options: sealkit::plan::PlanOptions,
) -> Result<sealkit::plan::Plan, Failure> {
    let trust = store.trust(Some(config))?;
    let plan = sealkit::plan::plan(
        loaded,
        resolver,
        &sealkit::plan::PlanOptions {
            trust: trust.as_ref(),
            ..options
        },
    )?;
    let refused = plan.refused();
    if !refused.is_empty() {
        return Err(untrusted(&refused));
    }
    Ok(plan)
}

/// The failure of a command whose images the trust policy refused: a failed gate (exit 1).
pub fn untrusted(refused: &[(impl AsRef<str>, impl AsRef<str>)]) -> Failure {
    Failure {
        message: format!("DENIED: {}", trust::refusal(refused)),
        code: 1,
    }
}

/// Writes a document and a newline to stdout. A reader that stops early (`| head`) is not an
/// error.
pub fn print(bytes: &[u8]) -> Outcome {
    print_with(|out| out.write_all(bytes))
}

/// As [`print`], for text with ANSI styles: kept on a terminal, dropped where stdout is not
/// one or NO_COLOR (or CLICOLOR=0) is set, as anstream decides.
pub fn print_styled(text: &str) -> Outcome {
    let mut out = anstream::AutoStream::auto(std::io::stdout().lock());
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::usage(format!("error: writing to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// As [`print`], for a document that `write` streams (buffered) to stdout.
pub fn print_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Outcome {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::usage(format!("error: writing to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Whether a subject names a LinuxKit configuration (an existing .yml/.yaml file) rather than
/// an image.
pub fn is_config(subject: &str) -> bool {
    let p = Path::new(subject);
    p.is_file() && p.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

/// Writes a command's file output (`-o FILE`): `-` is stdout, which gets exactly the bytes the
/// file would hold; a path goes through [`sealkit::build::output::write_file`], which replaces a
/// file atomically or writes through to a device or FIFO.
pub fn write_output(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<(), Failure>) -> Outcome {
    if path != Path::new("-") {
        return sealkit::build::output::write_file(path, write);
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    write(&mut out)?;
    out.flush()
        .map_err(|e| sealkit::build::output::write_error(Path::new("stdout"), e).into())
}

/// How messages name an output: `-` is stdout.
pub fn output_name(path: &Path) -> std::borrow::Cow<'_, str> {
    match path == Path::new("-") {
        true => "stdout".into(),
        false => path.to_string_lossy(),
    }
}

/// An I/O error writing the output `path`, for [`write_output`]'s writers.
pub fn output_error(path: &Path) -> impl FnOnce(std::io::Error) -> Failure + '_ {
    move |e| sealkit::build::output::write_error(path, e).into()
}

pub fn json_error(e: serde_json::Error) -> Failure {
    Failure::usage(format!("error: {e}"))
}
