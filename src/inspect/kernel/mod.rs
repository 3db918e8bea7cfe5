//! The kernel image's facts: how its kernel was configured ([`config_of`]) and what its command
//! line says ([`cmdline`], [`cmdline_facts`]); with the rule data the baseline policy judges the
//! configuration by ([`check_list`]). Facts only: every judgement is policy's (docs/kernel.md).

mod checks;
mod cmdline;
mod config;
mod ikconfig;
mod tap;

use std::io::Read;
use std::path::{Component, Path};

use serde::Serialize;

pub use checks::{Check, CheckList, Condition, Level, Outcome, Test, check_list};
pub use cmdline::{CmdlineFacts, CmdlineOption, cmdline, cmdline_facts};
pub use config::{KernelConfig, KernelVersion, MAX_CONFIG_BYTES, MAX_LINE_BYTES, MAX_LINES, Value};
pub use ikconfig::MAX_VMLINUX_BYTES;
pub use tap::{KernelTap, MAX_BINARY_BYTES};

/// LinuxKit's kernel images ship the build tree's `.config` in this member of their root.
pub const DEV_TAR: &str = "kernel-dev.tar";

/// Where LinuxKit looks for the kernel binary in a kernel image, unless `kernel.binary` says
/// otherwise.
pub const DEFAULT_BINARY: &str = "kernel";

/// A file of the kernel image, by its path in the image, and its content.
pub struct Named<T> {
    pub path: String,
    pub data: T,
}

/// What the kernel image holds that can say how its kernel was configured, as the inspect pass
/// collected it. [`config_of`] tries them in this order and reads nothing else.
#[derive(Default)]
pub struct Sources<'a> {
    /// [`DEV_TAR`], read as a stream up to its `usr/src/linux-headers-*/.config` member and no
    /// further: the caller need not hold it.
    pub dev_tar: Option<Named<&'a mut dyn Read>>,
    /// Configuration files lying in the image ([`is_config_file`]: Debian's
    /// `boot/config-<release>`), in the order given.
    pub config_files: Vec<Named<&'a [u8]>>,
    /// The kernel binary (`kernel`, or the YAML's `kernel.binary`): a bzImage, EFI zboot image,
    /// `Image.gz` or vmlinux; its IKCONFIG blob is the last resort.
    pub binary: Option<Named<&'a [u8]>>,
}

/// The configuration found, and every source tried before it with the reason it gave nothing.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigFact {
    pub config: Option<KernelConfig>,
    pub unread: Vec<Unread>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unread {
    pub source: String,
    pub reason: String,
}

/// Whether a file of the kernel image is a loose configuration file: `config` or `config-*`
/// at the root or in `boot/` (Debian's `boot/config-<release>`).
pub fn is_config_file(path: &Path) -> bool {
    let names: Vec<_> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => n.to_str(),
            _ => None,
        })
        .collect();
    let file = match names.as_slice() {
        [file] | ["boot", file] => *file,
        _ => return false,
    };
    file == "config" || file.starts_with("config-")
}

/// The kernel's configuration: from the first source, in [`Sources`] order, that holds one.
pub fn config_of(sources: Sources<'_>) -> ConfigFact {
    let mut unread = Vec::new();
    let mut found = |source: String, outcome: Result<KernelConfig, String>| match outcome {
        Ok(config) => Some(config),
        Err(reason) => {
            unread.push(Unread { source, reason });
            None
        }
    };
    let mut config = None;
    if let Some(tar) = sources.dev_tar {
        config = match dev_tar_config(tar.data) {
            Ok((member, bytes)) => {
                let source = format!("{}:{member}", tar.path);
                found(source.clone(), KernelConfig::parse(&bytes, &source))
            }
            Err(reason) => found(tar.path, Err(reason)),
        };
    }
    for file in sources.config_files {
        if config.is_some() {
            break;
        }
        config = found(file.path.clone(), KernelConfig::parse(file.data, &file.path));
    }
    if let (None, Some(binary)) = (&config, sources.binary) {
        let source = format!("IKCONFIG in {}", binary.path);
        config = match ikconfig::extract(binary.data) {
            Ok((bytes, how)) => {
                let source = format!("{source} ({how})");
                found(source.clone(), KernelConfig::parse(&bytes, &source))
            }
            Err(reason) => found(source, Err(reason)),
        };
    }
    ConfigFact { config, unread }
}

/// The `.config` member of a kernel-dev.tar: its path and bytes.
fn dev_tar_config(reader: &mut dyn Read) -> Result<(String, Vec<u8>), String> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| format!("not a tar archive: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("corrupt or truncated: {e}"))?;
        let path = entry.path().map_err(|e| format!("a member's name: {e}"))?.into_owned();
        if !is_headers_config(&path) || !entry.header().entry_type().is_file() {
            continue;
        }
        let member = path.display().to_string();
        let mut bytes = Vec::new();
        entry
            .take(MAX_CONFIG_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{member}: cannot read it: {e}"))?;
        return Ok((member, bytes));
    }
    Err("no usr/src/linux-headers-*/.config in it".into())
}

fn is_headers_config(path: &Path) -> bool {
    let names: Vec<_> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => n.to_str(),
            _ => None,
        })
        .collect();
    matches!(names.as_slice(), ["usr", "src", tree, ".config"] if tree.starts_with("linux-headers-"))
}
