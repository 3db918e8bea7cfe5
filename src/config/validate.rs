//! The checks LinuxKit makes at parse time, plus the ones it only makes at build time (or never):
//! sealkit rejects at parse time everything that would make a build fail or run something other
//! than what the file says.

use std::collections::BTreeMap;
use std::path::Path;

use serde_saphyr::Location;

use super::diag::{Code, Diagnostic, Findings};
use super::model::{Config, File, Id, ImageSpec, Mount, S, Volume, VolumeFormat};
use crate::caps;
use crate::reference::ImageRef;

/// Whether an `ImageSpec` is a container entry of the YAML or an image's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecKind {
    Container,
    Label,
}

pub const NAME_RULE: &str = "names may use only a-z, 0-9, '_' and '-'";

pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

struct Checker<'a> {
    file: &'a Path,
    findings: &'a mut Findings,
}

impl Checker<'_> {
    fn error(&mut self, at: Location, field: impl Into<String>, message: impl Into<String>, hint: &str) {
        let d = Diagnostic::new(self.file, at, field, message);
        self.findings.error(if hint.is_empty() { d } else { d.hint(hint) });
    }
}

/// Checks one parsed file on its own. Cross-file rules (unique names, volume and uid references)
/// are in [`check_merged`].
pub fn check_file(config: &Config, file: &Path, findings: &mut Findings) {
    let mut c = Checker { file, findings };
    if let Some(kernel) = &config.kernel {
        if let Some(image) = &kernel.image {
            check_reference(&mut c, image, "kernel.image");
        }
        if let Some(binary) = &kernel.binary {
            let b = &binary.value;
            if b.is_empty() || b.starts_with('/') || b.split('/').any(|p| p == "..") {
                c.error(
                    binary.referenced,
                    "kernel.binary",
                    format!("{b:?} is not a path inside the kernel image"),
                    "write a relative path such as kernel or boot/vmlinuz",
                );
            }
        }
    }
    for (i, init) in config.init.iter().flatten().enumerate() {
        check_reference(&mut c, init, &format!("init[{i}]"));
    }
    for (section, list) in sections(config) {
        for (i, entry) in list.iter().enumerate() {
            check_spec(&mut c, entry, &format!("{section}[{i}]"), SpecKind::Container);
        }
    }
    for (i, f) in config.files.iter().flatten().enumerate() {
        check_file_entry(&mut c, f, &format!("files[{i}]"));
    }
    for (i, v) in config.volumes.iter().flatten().enumerate() {
        check_volume(&mut c, v, &format!("volumes[{i}]"));
    }
    if let Some(trust) = &config.trust {
        c.findings.warn(
            Diagnostic::new(
                file,
                trust.referenced,
                "trust",
                "`trust` is deprecated and IGNORED: LinuxKit removed Docker Content Trust in 2021 and verifies no signature",
            )
            .hint("remove the `trust` block; pin images by digest (sealkit lock) and verify signatures with sealkit verify")
            .code(Code::TrustIgnored),
        );
    }
}

/// The container sections in LinuxKit's processing order.
pub fn sections(config: &Config) -> [(&'static str, &[S<ImageSpec>]); 3] {
    [
        ("onboot", config.onboot.as_deref().unwrap_or_default()),
        ("onshutdown", config.onshutdown.as_deref().unwrap_or_default()),
        ("services", config.services.as_deref().unwrap_or_default()),
    ]
}

fn check_reference(c: &mut Checker, reference: &S<String>, field: &str) {
    // An unresolved template has already been reported by the template stage.
    if reference.value.starts_with("@pkg:") {
        return;
    }
    if let Err(e) = reference.value.parse::<ImageRef>() {
        c.error(reference.referenced, field, e.message, e.hint);
    }
}

/// Checks a container entry or a label: the same schema, with `name`/`image` required in the one
/// and forbidden in the other.
pub fn check_spec_alone(spec: &S<ImageSpec>, file: &Path, field: &str, kind: SpecKind, findings: &mut Findings) {
    check_spec(&mut Checker { file, findings }, spec, field, kind);
}

fn check_spec(c: &mut Checker, entry: &S<ImageSpec>, field: &str, kind: SpecKind) {
    let spec = &entry.value;
    match kind {
        SpecKind::Container => {
            match &spec.name {
                None => c.error(
                    entry.referenced,
                    field,
                    "missing field `name`",
                    "give every container a name",
                ),
                Some(name) if !is_valid_name(&name.value) => c.error(
                    name.referenced,
                    format!("{field}.name"),
                    format!("invalid container name {:?}", name.value),
                    NAME_RULE,
                ),
                Some(_) => {}
            }
            match &spec.image {
                None => c.error(
                    entry.referenced,
                    field,
                    "missing field `image`",
                    "name the image this container runs",
                ),
                Some(image) => check_reference(c, image, &format!("{field}.image")),
            }
        }
        SpecKind::Label => {
            for (key, value) in [("name", &spec.name), ("image", &spec.image)] {
                if let Some(v) = value {
                    c.error(
                        v.referenced,
                        format!("{field}.{key}"),
                        format!("`{key}` cannot be set in an image label"),
                        "remove it from the label (org.mobyproject.config / build.yml config:)",
                    );
                }
            }
        }
    }

    check_capabilities(c, spec.capabilities.as_deref(), &format!("{field}.capabilities"), true);
    check_capabilities(
        c,
        spec.capabilities_add.as_deref(),
        &format!("{field}.capabilities.add"),
        false,
    );
    check_capabilities(c, spec.ambient.as_deref(), &format!("{field}.ambient"), true);

    for (key, list) in [("binds", &spec.binds), ("binds.add", &spec.binds_add)] {
        for (i, bind) in list.iter().flatten().enumerate() {
            if let Err((message, hint)) = parse_bind(&bind.value) {
                c.error(bind.referenced, format!("{field}.{key}[{i}]"), message, hint);
            } else if kind == SpecKind::Label && !bind.value.starts_with('/') {
                c.error(
                    bind.referenced,
                    format!("{field}.{key}[{i}]"),
                    "a label's bind source must be an absolute path (volumes are resolved only for YAML entries)",
                    "write /HOST/PATH:/CONTAINER/PATH[:OPTIONS]",
                );
            }
        }
    }
    for (i, tmpfs) in spec.tmpfs.iter().flatten().enumerate() {
        if let Err((message, hint)) = parse_tmpfs(&tmpfs.value) {
            c.error(tmpfs.referenced, format!("{field}.tmpfs[{i}]"), message, hint);
        }
    }
    for (i, mount) in spec.mounts.iter().flatten().enumerate() {
        check_mount(c, mount, &format!("{field}.mounts[{i}]"));
    }
    if let Some(runtime) = &spec.runtime {
        for (i, mount) in runtime.mounts.iter().flatten().enumerate() {
            check_mount(c, mount, &format!("{field}.runtime.mounts[{i}]"));
        }
    }
    for (i, device) in spec.devices.iter().flatten().enumerate() {
        if let Err((message, hint)) = check_device(&device.value) {
            c.error(device.referenced, format!("{field}.devices[{i}]"), message, hint);
        }
    }
    for (i, rlimit) in spec.rlimits.iter().flatten().enumerate() {
        if let Err((message, hint)) = parse_rlimit(&rlimit.value) {
            c.error(rlimit.referenced, format!("{field}.rlimits[{i}]"), message, hint);
        }
    }
    for (i, env) in spec.env.iter().flatten().enumerate() {
        if env.value.split_once('=').is_none_or(|(k, _)| k.is_empty()) {
            c.error(
                env.referenced,
                format!("{field}.env[{i}]"),
                format!("{:?} is not an environment entry", env.value),
                "write KEY=VALUE (KEY= for an empty value)",
            );
        }
    }
    for (key, value) in [
        ("net", &spec.net),
        ("pid", &spec.pid),
        ("ipc", &spec.ipc),
        ("uts", &spec.uts),
        ("userns", &spec.userns),
    ] {
        if let Some(v) = value {
            let known = matches!(v.value.as_str(), "host" | "root" | "new") || (key == "net" && v.value == "none");
            if !known && !v.value.starts_with('/') {
                let allowed = if key == "net" {
                    "host, root, new, none"
                } else {
                    "host, root, new"
                };
                c.error(
                    v.referenced,
                    format!("{field}.{key}"),
                    format!("{:?} is neither a namespace mode nor a namespace path", v.value),
                    &format!("write one of {allowed}, or the absolute path of a namespace to join"),
                );
            }
        }
    }
    if let Some(cwd) = &spec.cwd
        && !cwd.value.is_empty()
        && !cwd.value.starts_with('/')
    {
        c.error(
            cwd.referenced,
            format!("{field}.cwd"),
            format!("{:?} is not absolute", cwd.value),
            "write an absolute path",
        );
    }
    if let Some(adj) = &spec.oom_score_adj
        && !(-1000..=1000).contains(&adj.value)
    {
        c.error(
            adj.referenced,
            format!("{field}.oomScoreAdj"),
            format!("{} is outside the kernel's range", adj.value),
            "use a value from -1000 to 1000",
        );
    }
    if let Some(p) = &spec.rootfs_propagation {
        const PROPAGATIONS: [&str; 9] = [
            "",
            "shared",
            "slave",
            "private",
            "rshared",
            "rslave",
            "rprivate",
            "unbindable",
            "runbindable",
        ];
        if !PROPAGATIONS.contains(&p.value.as_str()) {
            c.error(
                p.referenced,
                format!("{field}.rootfsPropagation"),
                format!("unknown propagation {:?}", p.value),
                "use shared, slave, private, unbindable or their r- (recursive) forms",
            );
        }
    }
}

fn check_capabilities(c: &mut Checker, list: Option<&[S<String>]>, field: &str, all_or_none_allowed: bool) {
    let Some(list) = list else { return };
    for (i, cap) in list.iter().enumerate() {
        let name = cap.value.as_str();
        let lower = name.to_ascii_lowercase();
        if lower == "all" || lower == "none" {
            if !all_or_none_allowed || list.len() != 1 {
                c.error(
                    cap.referenced,
                    format!("{field}[{i}]"),
                    format!("`{name}` is only meaningful as the single entry of `capabilities` or `ambient`"),
                    "list capability names here, or use `capabilities: [all]` / `[none]` alone",
                );
            }
        } else if !caps::is_known(name) {
            let hint = match caps::suggest(name) {
                Some(known) => format!("did you mean {known}? capability names are upper case with the CAP_ prefix"),
                None => "use a Linux capability name such as CAP_NET_ADMIN (see capabilities(7))".to_owned(),
            };
            c.error(
                cap.referenced,
                format!("{field}[{i}]"),
                format!("unknown capability {name:?}"),
                &hint,
            );
        }
    }
}

type Problem = (String, &'static str);

/// A bind as LinuxKit reads it: `SOURCE:DEST[:OPT,OPT…]`.
pub struct Bind<'a> {
    pub source: &'a str,
    pub destination: &'a str,
    pub options: Option<&'a str>,
}

pub fn parse_bind(bind: &str) -> Result<Bind<'_>, Problem> {
    const HINT: &str = "write SOURCE:DESTINATION[:OPTIONS], e.g. /var/log:/var/log:ro";
    let parts: Vec<&str> = bind.split(':').collect();
    let (source, destination, options) = match parts.as_slice() {
        [s, d] => (*s, *d, None),
        [s, d, o] => (*s, *d, Some(*o)),
        [_] => return Err((format!("bind {bind:?} has no ':' between source and destination"), HINT)),
        _ => return Err((format!("bind {bind:?} has too many ':'"), HINT)),
    };
    if source.is_empty() {
        return Err((format!("bind {bind:?} has an empty source"), HINT));
    }
    if !destination.starts_with('/') {
        return Err((
            format!("bind {bind:?}: destination {destination:?} is not absolute"),
            HINT,
        ));
    }
    if let Some(opts) = options
        && opts.split(',').any(str::is_empty)
    {
        return Err((format!("bind {bind:?} has an empty mount option"), HINT));
    }
    Ok(Bind {
        source,
        destination,
        options,
    })
}

pub fn parse_tmpfs(tmpfs: &str) -> Result<(&str, Option<&str>), Problem> {
    const HINT: &str = "write DESTINATION[:OPTIONS], e.g. /run:size=16m,mode=755";
    let (destination, options) = match tmpfs.split_once(':') {
        Some((_, o)) if o.contains(':') => return Err((format!("tmpfs {tmpfs:?} has too many ':'"), HINT)),
        Some((d, o)) => (d, Some(o)),
        None => (tmpfs, None),
    };
    if !destination.starts_with('/') {
        return Err((format!("tmpfs {tmpfs:?}: destination is not absolute"), HINT));
    }
    Ok((destination, options))
}

/// The type and destination LinuxKit infers for a mount that leaves them out.
pub fn mount_type_and_destination(mount: &Mount) -> Result<(String, String), Problem> {
    let source = mount.source.as_deref().unwrap_or("");
    let destination = mount.destination.as_deref().unwrap_or("");
    let mut kind = mount.kind.clone().unwrap_or_default();
    if kind.is_empty() && matches!(source, "mqueue" | "devpts" | "proc" | "sysfs" | "cgroup") {
        kind = source.to_owned();
    }
    if kind.is_empty() && destination == "/dev" {
        kind = "tmpfs".to_owned();
    }
    if kind.is_empty() {
        return Err((
            format!("mount for destination {destination:?} has no type"),
            "add `type:` (bind, tmpfs, proc, overlay, …)",
        ));
    }
    let destination = if destination.is_empty() {
        match kind.as_str() {
            "proc" => "/proc",
            "devpts" => "/dev/pts",
            "sysfs" => "/sys",
            "cgroup" => "/sys/fs/cgroup",
            "mqueue" => "/dev/mqueue",
            _ => return Err((format!("mount of type {kind} has no destination"), "add `destination:`")),
        }
        .to_owned()
    } else {
        destination.to_owned()
    };
    Ok((kind, destination))
}

/// A mount needs a type and a destination, given or inferred. The destination may be relative:
/// runc and LinuxKit's init resolve it inside the container's root.
fn check_mount(c: &mut Checker, mount: &S<Mount>, field: &str) {
    if let Err((message, hint)) = mount_type_and_destination(&mount.value) {
        c.error(mount.referenced, field, message, hint);
    }
    let m = &mount.value;
    if m.uidmappings.is_some() || m.gidmappings.is_some() {
        c.error(
            mount.referenced,
            field,
            "uidmappings/gidmappings on a mount are accepted by LinuxKit's schema but never applied",
            "remove them; map ids for the whole container with uidMappings/gidMappings",
        );
    }
}

fn check_device(device: &super::model::Device) -> Result<(), Problem> {
    let Some(path) = device.path.as_deref() else {
        return Err((
            "device has no `path`".into(),
            "add path: /dev/NAME, or path: all with a type",
        ));
    };
    let kind = device.kind.as_deref().unwrap_or("");
    if path == "all" {
        if !matches!(kind, "a" | "b" | "c") {
            return Err((
                format!("device class {kind:?} is not a, b or c"),
                "with path: all, set type: a (all), b (block) or c (character)",
            ));
        }
        return Ok(());
    }
    if !path.starts_with("/dev/") {
        return Err((format!("device path {path:?} is not under /dev"), "write /dev/NAME"));
    }
    if !matches!(kind, "b" | "c" | "u" | "p") {
        return Err((
            format!("device type {kind:?} is not b, c, u or p"),
            "set type: c (character) or b (block)",
        ));
    }
    let Some(mode) = device.mode.as_deref() else {
        return Err((
            "device has no `mode` (LinuxKit fails the build without one)".into(),
            "add mode: \"0660\"",
        ));
    };
    parse_mode(mode)
        .map(|_| ())
        .map_err(|m| (m, "write the mode as an octal string, e.g. \"0660\""))
}

/// An octal permission string (`"0644"`, `"755"`).
pub fn parse_mode(mode: &str) -> Result<u32, String> {
    match u32::from_str_radix(mode, 8) {
        Ok(m) if m <= 0o7777 && !mode.is_empty() => Ok(m),
        Ok(_) => Err(format!("mode {mode:?} is larger than 07777")),
        Err(_) => Err(format!("mode {mode:?} is not an octal number")),
    }
}

pub const RLIMITS: [&str; 16] = [
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

/// `NAME,SOFT,HARD` as LinuxKit reads it: NAME case-insensitive with or without `RLIMIT_`,
/// limits a number or `unlimited`.
pub fn parse_rlimit(rlimit: &str) -> Result<(String, u64, u64), Problem> {
    const HINT: &str = "write NAME,SOFT,HARD, e.g. nofile,1024,4096 (a limit may be `unlimited`)";
    let parts: Vec<&str> = rlimit.splitn(3, ',').collect();
    let [name, soft, hard] = parts.as_slice() else {
        return Err((format!("rlimit {rlimit:?} does not have three fields"), HINT));
    };
    let mut name = name.trim().to_ascii_uppercase();
    if !name.starts_with("RLIMIT_") {
        name = format!("RLIMIT_{name}");
    }
    if !RLIMITS.contains(&name.as_str()) {
        return Err((format!("unknown rlimit {:?}", parts[0].trim()), HINT));
    }
    let limit = |s: &str| -> Result<u64, Problem> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("unlimited") {
            Ok(u64::MAX)
        } else {
            s.parse::<u64>()
                .map_err(|_| (format!("rlimit {rlimit:?}: {s:?} is not a number or `unlimited`"), HINT))
        }
    };
    let (soft, hard) = (limit(soft)?, limit(hard)?);
    if soft > hard {
        return Err((
            format!("rlimit {rlimit:?}: the soft limit exceeds the hard limit (the kernel refuses it)"),
            HINT,
        ));
    }
    Ok((name, soft, hard))
}

const CONTROL_HINT: &str = "write the name without control characters: cpio, tar and the kernel's unpacker end a \
                            name at a NUL, and the others disguise it in every listing";

/// Names bound for the image's tar and cpio hold no control character: at a NUL the image would
/// hold another name than the one scanned; a line break or an escape sequence would make one
/// name read as two, or as another, in every listing of the image.
fn control_character(name: &str) -> Option<String> {
    let c = name.chars().find(|c| c.is_control())?;
    Some(format!("{name:?} holds the control character {c:?}"))
}

fn check_file_entry(c: &mut Checker, entry: &S<File>, field: &str) {
    let f = &entry.value;
    match &f.path {
        None => c.error(
            entry.referenced,
            field,
            "missing field `path`",
            "give the path inside the image, e.g. etc/motd",
        ),
        Some(path) => {
            let trimmed = path.value.trim_start_matches('/');
            if trimmed.is_empty() {
                c.error(
                    path.referenced,
                    format!("{field}.path"),
                    "the path names the image root",
                    "name a file or folder below /",
                );
            } else if trimmed.split('/').any(|p| p == "..") {
                c.error(
                    path.referenced,
                    format!("{field}.path"),
                    format!("{:?} climbs out of its folder with `..`", path.value),
                    "write the path without `..` components",
                );
            } else if let Some(message) = control_character(&path.value) {
                c.error(path.referenced, format!("{field}.path"), message, CONTROL_HINT);
            }
        }
    }
    if let Some(message) = f.symlink.as_deref().and_then(control_character) {
        c.error(entry.referenced, format!("{field}.symlink"), message, CONTROL_HINT);
    }
    let mut kinds = Vec::new();
    if f.contents.is_some() {
        kinds.push("contents");
    }
    if f.source.is_some() {
        kinds.push("source");
    }
    if f.metadata.is_some() {
        kinds.push("metadata");
    }
    if f.directory == Some(true) {
        kinds.push("directory");
    }
    if f.symlink.is_some() {
        kinds.push("symlink");
    }
    if kinds.len() > 1 {
        c.error(
            entry.referenced,
            field,
            format!(
                "{} are mutually exclusive (LinuxKit would only fail at build time)",
                kinds.join(", ")
            ),
            "keep one of contents, source, metadata, directory or symlink",
        );
    }
    if let Some(m) = &f.metadata
        && m.value != "yaml"
        && m.value != "json"
    {
        c.error(
            m.referenced,
            format!("{field}.metadata"),
            format!("unknown metadata format {:?}", m.value),
            "use yaml or json",
        );
    }
    if let Some(mode) = &f.mode
        && let Err(message) = parse_mode(&mode.value)
    {
        c.error(
            mode.referenced,
            format!("{field}.mode"),
            message,
            "write the mode as an octal string, e.g. \"0644\"",
        );
    }
}

fn check_volume(c: &mut Checker, entry: &S<Volume>, field: &str) {
    let v = &entry.value;
    match &v.name {
        None => c.error(
            entry.referenced,
            field,
            "missing field `name`",
            "give the volume a name",
        ),
        Some(name) if !is_valid_name(&name.value) => c.error(
            name.referenced,
            format!("{field}.name"),
            format!("invalid volume name {:?}", name.value),
            NAME_RULE,
        ),
        Some(_) => {}
    }
    if let Some(image) = &v.image {
        check_reference(c, image, &format!("{field}.image"));
    }
    if v.platforms.is_some() && v.format != Some(VolumeFormat::Oci) {
        c.error(
            entry.referenced,
            format!("{field}.platforms"),
            "`platforms` only applies to volumes with format: oci",
            "set format: oci, or remove platforms",
        );
    }
}

/// Rules over the whole merged configuration: unique container and volume names, bind sources that
/// name volumes, read-only volumes bound read-only, and uid/gid names that exist.
pub fn check_merged(config: &Config, origins: &super::Origins, findings: &mut Findings) {
    // Services run side by side under their names, so those must be unique. Onboot and
    // onshutdown bundles are numbered (000-name), and real configurations reuse names there
    // (two `format` steps), so a reused name is only an error where it is referred to.
    let mut owners: BTreeMap<&str, Vec<(&str, usize, Location)>> = BTreeMap::new();
    for (section, list) in sections(config) {
        for (i, entry) in list.iter().enumerate() {
            let Some(name) = &entry.value.name else { continue };
            let users = owners.entry(name.value.as_str()).or_default();
            if section == "services"
                && let Some((first_section, first_index, first_at)) = users.iter().find(|(s, _, _)| *s == "services")
            {
                findings.error(
                    Diagnostic::new(
                        origins.file(section, i),
                        name.referenced,
                        format!("{section}[{i}].name"),
                        format!(
                            "service name {:?} is already used by {first_section}[{first_index}] (line {})",
                            name.value,
                            first_at.line()
                        ),
                    )
                    .hint("services run side by side under their names: give each its own")
                    .code(Code::DuplicateName),
                );
            }
            users.push((section, i, name.referenced));
        }
    }

    let mut volumes: BTreeMap<&str, &Volume> = BTreeMap::new();
    for (i, v) in config.volumes.iter().flatten().enumerate() {
        let Some(name) = &v.value.name else { continue };
        if volumes.insert(name.value.as_str(), &v.value).is_some() {
            findings.error(
                Diagnostic::new(
                    origins.file("volumes", i),
                    name.referenced,
                    format!("volumes[{i}].name"),
                    format!("duplicate volume name {:?}", name.value),
                )
                .hint("give each volume its own name")
                .code(Code::DuplicateName),
            );
        }
    }

    let check_id = |findings: &mut Findings, file: &Path, id: &S<Id>, field: String| {
        let Id::Name(name) = &id.value else { return };
        if name.is_empty() || name == "root" {
            return;
        }
        match owners.get(name.as_str()).map(Vec::as_slice) {
            None | Some([]) => findings.error(
                Diagnostic::new(file, id.referenced, field, format!("no container is named {name:?}"))
                    .hint("use a number, root, or the name of an onboot, onshutdown or service container")
                    .code(Code::DanglingName),
            ),
            Some([_]) => {}
            Some(several) => findings.error(
                Diagnostic::new(
                    file,
                    id.referenced,
                    field,
                    format!(
                        "{} containers are named {name:?}, so the id it stands for is ambiguous",
                        several.len()
                    ),
                )
                .hint("rename the containers apart, or give the id as a number")
                .code(Code::DanglingName),
            ),
        }
    };

    for (section, list) in sections(config) {
        for (i, entry) in list.iter().enumerate() {
            let spec = &entry.value;
            let file = origins.file(section, i);
            let field = format!("{section}[{i}]");
            for (key, id) in [("uid", &spec.uid), ("gid", &spec.gid)] {
                if let Some(id) = id {
                    check_id(findings, file, id, format!("{field}.{key}"));
                }
            }
            for (j, id) in spec.additional_gids.iter().flatten().enumerate() {
                check_id(findings, file, id, format!("{field}.additionalGids[{j}]"));
            }
            for (key, list) in [("binds", &spec.binds), ("binds.add", &spec.binds_add)] {
                for (j, bind) in list.iter().flatten().enumerate() {
                    let Ok(b) = parse_bind(&bind.value) else { continue };
                    if b.source.starts_with('/') {
                        continue;
                    }
                    let field = format!("{field}.{key}[{j}]");
                    match volumes.get(b.source) {
                        None => findings.error(
                            Diagnostic::new(
                                file,
                                bind.referenced,
                                field,
                                format!("bind source {:?} is neither an absolute path nor a volume", b.source),
                            )
                            .hint("write an absolute host path, or declare the volume under `volumes:`")
                            .code(Code::DanglingName),
                        ),
                        Some(v) if v.readonly == Some(true) && b.options != Some("ro") => findings.error(
                            Diagnostic::new(
                                file,
                                bind.referenced,
                                field,
                                format!("volume {:?} is read-only but is bound read-write", b.source),
                            )
                            .hint("add :ro to the bind"),
                        ),
                        Some(_) => {}
                    }
                }
            }
            for (j, mount) in spec.mounts.iter().flatten().enumerate() {
                let m = &mount.value;
                let source = m.source.as_deref().unwrap_or("");
                if m.kind.as_deref() != Some("bind") || source.starts_with('/') {
                    continue;
                }
                let field = format!("{field}.mounts[{j}]");
                match volumes.get(source) {
                    None => findings.error(
                        Diagnostic::new(
                            file,
                            mount.referenced,
                            field,
                            format!("bind mount source {source:?} is neither an absolute path nor a volume"),
                        )
                        .hint("write an absolute host path, or declare the volume under `volumes:`")
                        .code(Code::DanglingName),
                    ),
                    Some(v) if v.readonly == Some(true) && !mount_is_read_only(m) => findings.error(
                        Diagnostic::new(
                            file,
                            mount.referenced,
                            field,
                            format!("volume {source:?} is read-only but is mounted read-write"),
                        )
                        .hint("add ro to the mount's options"),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    for (i, f) in config.files.iter().flatten().enumerate() {
        let file = origins.file("files", i);
        for (key, id) in [("uid", &f.value.uid), ("gid", &f.value.gid)] {
            if let Some(id) = id {
                check_id(findings, file, id, format!("files[{i}].{key}"));
            }
        }
    }
}

/// LinuxKit's reading of a mount's options: the first of `rw`/`ro` decides.
fn mount_is_read_only(mount: &Mount) -> bool {
    mount
        .options
        .iter()
        .flatten()
        .find(|o| *o == "rw" || *o == "ro")
        .is_some_and(|o| o == "ro")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds() {
        assert!(parse_bind("/a:/b").is_ok());
        assert!(parse_bind("/a:/b:ro,rshared").is_ok());
        assert!(parse_bind("vol:/b:ro").is_ok());
        for bad in ["/a", "/a:b", ":/b", "/a:/b:c:d", "/a:/b:ro,,x"] {
            assert!(parse_bind(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rlimits() {
        assert_eq!(
            parse_rlimit("nofile,100,unlimited").unwrap(),
            ("RLIMIT_NOFILE".into(), 100, u64::MAX)
        );
        assert_eq!(parse_rlimit(" RLIMIT_CORE , 0 , 0").unwrap().0, "RLIMIT_CORE");
        for bad in ["nofile,100", "bogus,1,1", "nofile,x,1", "nofile,10,1", "nofile,-1,1"] {
            assert!(parse_rlimit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0644"), Ok(0o644));
        assert_eq!(parse_mode("7777"), Ok(0o7777));
        assert!(parse_mode("0800").is_err());
        assert!(parse_mode("17777").is_err());
        assert!(parse_mode("").is_err());
        assert!(parse_mode("-1").is_err());
    }

    #[test]
    fn names() {
        assert!(is_valid_name("getty_1-x"));
        for bad in ["", "Getty", "a/b", "..", "a.b", "a b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn mount_inference() {
        let m = Mount {
            source: Some("proc".into()),
            ..Default::default()
        };
        assert_eq!(mount_type_and_destination(&m).unwrap(), ("proc".into(), "/proc".into()));
        let m = Mount {
            destination: Some("/dev".into()),
            ..Default::default()
        };
        assert_eq!(mount_type_and_destination(&m).unwrap().0, "tmpfs");
        assert!(mount_type_and_destination(&Mount::default()).is_err());
    }
}
