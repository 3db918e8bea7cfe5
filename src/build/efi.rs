//! What the EFI formats share: Debian's tools run under the build's clock, and the EFI system
//! partition (a FAT image holding `EFI/BOOT/BOOTX64.EFI`) made with mkfs.fat and mtools.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use super::{BuildError, Code};

/// A Debian tool a format runs. What it writes is in the image, so the same inputs give the
/// same bytes only with the same tool: its version is part of the build (the provenance's
/// `runDetails.builder.version`).
pub struct Tool {
    name: &'static str,
    /// The Debian package that ships it, for the hint when it is missing.
    package: &'static str,
    version: Version,
}

/// How a tool tells its version: the first line it prints.
enum Version {
    /// Run with this one argument.
    Flag(&'static str),
    /// On every run, as mkfs.fat does (it has no version option).
    Banner,
}

impl Tool {
    /// A tool that prints its version when run with `flag` alone.
    const fn telling(name: &'static str, package: &'static str, flag: &'static str) -> Tool {
        Tool {
            name,
            package,
            version: Version::Flag(flag),
        }
    }
}

pub const MKFS_FAT: Tool = Tool {
    name: "mkfs.fat",
    package: "dosfstools",
    version: Version::Banner,
};
pub const MMD: Tool = Tool::telling("mmd", "mtools", "--version");
pub const MCOPY: Tool = Tool::telling("mcopy", "mtools", "--version");
pub const GRUB_MKIMAGE: Tool = Tool::telling("grub-mkimage", "grub-efi-amd64-bin", "--version");
pub const XORRISO: Tool = Tool::telling("xorriso", "xorriso", "-version");
pub const SQFSTAR: Tool = Tool::telling("sqfstar", "squashfs-tools", "-version");

/// The tools a build ran, each with what it said of its version (`unknown` when it said
/// nothing): one line each, in name order. The formats are written one after the other, so
/// one thread records.
#[derive(Debug, Default)]
pub struct ToolsRun(std::cell::RefCell<BTreeMap<String, String>>);

impl ToolsRun {
    pub fn into_versions(self) -> BTreeMap<String, String> {
        self.0.into_inner()
    }

    fn knows(&self, tool: &Tool) -> bool {
        self.0.borrow().contains_key(tool.name)
    }

    fn record(&self, tool: &Tool, said: &[u8]) {
        self.0
            .borrow_mut()
            .entry(tool.name.to_owned())
            .or_insert_with(|| version_line(said));
    }
}

/// A version line is short; a tool that prints more is cut, so a broken one cannot bloat the
/// provenance.
const VERSION_LINE_LIMIT: usize = 200;

/// The first line of `said` with anything in it, trimmed and cut to [`VERSION_LINE_LIMIT`].
fn version_line(said: &[u8]) -> String {
    let text = String::from_utf8_lossy(said);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown");
    line.chars().take(VERSION_LINE_LIMIT).collect()
}

/// `tool`, which `what` (the format) needs, is missing.
pub fn tool_error(what: &str, tool: &str, package: &str) -> BuildError {
    BuildError::Input {
        code: Code::MissingTool,
        what: what.into(),
        message: format!("{tool} is not installed"),
        hint: format!("apt-get install {package}"),
    }
}

/// Where `tool` is: the first executable of that name in PATH (then /usr/sbin and /sbin, where
/// mkfs.fat lives) in a folder this user may search — PATH can name folders another user's
/// (/root/.cargo/bin) that an unprivileged build cannot enter.
fn locate(tool: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(std::path::PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|candidate| {
            std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Runs `tool` for `what` (the format) with `args`, under the build's clock and no time zone
/// or locale of the user's, and records its version in `ran`.
pub fn run(what: &str, tool: &Tool, ran: &ToolsRun, epoch: u64, args: &[&OsStr]) -> Result<(), BuildError> {
    // A pipe closed at once rather than /dev/null, which some sandboxes deny to unprivileged
    // users.
    run_fed(what, tool, ran, epoch, args, std::process::Stdio::piped())
}

/// [`run`], the tool reading `stdin`.
pub fn run_fed(
    what: &str,
    tool: &Tool,
    ran: &ToolsRun,
    epoch: u64,
    args: &[&OsStr],
    stdin: std::process::Stdio,
) -> Result<(), BuildError> {
    let located = locate(tool.name).ok_or_else(|| tool_error(what, tool.name, tool.package))?;
    let command = |args: &[&OsStr], stdin: std::process::Stdio| {
        let mut command = Command::new(&located);
        command
            .args(args)
            .env("SOURCE_DATE_EPOCH", epoch.to_string())
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .stdin(stdin);
        command.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => tool_error(what, tool.name, tool.package),
            _ => BuildError::Input {
                code: Code::ToolFailed,
                what: what.into(),
                message: format!("{} could not be run: {e}", tool.name),
                hint: "check the tool's installation".into(),
            },
        })
    };
    if let Version::Flag(flag) = tool.version
        && !ran.knows(tool)
    {
        let told = command(&[OsStr::new(flag)], std::process::Stdio::piped())?;
        ran.record(
            tool,
            if told.stdout.is_empty() {
                &told.stderr
            } else {
                &told.stdout
            },
        );
    }
    let output = command(args, stdin)?;
    if output.status.success() {
        if let Version::Banner = tool.version {
            ran.record(tool, &output.stdout);
        }
        return Ok(());
    }
    Err(BuildError::Input {
        code: Code::ToolFailed,
        what: what.into(),
        message: format!(
            "{} failed ({}): {}",
            tool.name,
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        hint: "check the space left on the output disk and the tool's installation".into(),
    })
}

/// Writes `bytes` to `path` (its folders made), its mtime the build's.
pub fn write(path: &Path, bytes: &[u8], epoch: u64) -> Result<(), BuildError> {
    let io = |e| BuildError::Io {
        path: path.display().to_string(),
        source: e,
        hint: "check the space left on the output disk".into(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    set_mtime(path, epoch)
}

pub fn set_mtime(path: &Path, epoch: u64) -> Result<(), BuildError> {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch);
    std::fs::File::options()
        .read(true)
        .open(path)
        .and_then(|f| f.set_times(std::fs::FileTimes::new().set_accessed(time).set_modified(time)))
        .map_err(|e| BuildError::Io {
            path: path.display().to_string(),
            source: e,
            hint: "check the output disk".into(),
        })
}

pub fn os<'a>(words: &[&'a str]) -> Vec<&'a OsStr> {
    words.iter().map(|w| OsStr::new(*w)).collect()
}

/// Writes at `esp` a FAT image holding `efi` as `EFI/BOOT/BOOTX64.EFI`, where UEFI firmware
/// looks on a removable disk, with a fixed volume id and label and every date the build's.
/// FAT32 when `fat32` (the UEFI specification's choice for a system partition on a disk),
/// else the smallest FAT that fits (an ISO's El Torito image).
pub fn write_esp(
    ran: &ToolsRun,
    efi: &Path,
    esp: &Path,
    epoch: u64,
    volume_id: &str,
    label: &str,
    fat32: bool,
) -> Result<(), BuildError> {
    let what = "the EFI system partition";
    let efi_size = std::fs::metadata(efi).map(|m| m.len()).map_err(|e| BuildError::Io {
        path: efi.display().to_string(),
        source: e,
        hint: "check the output disk".into(),
    })?;
    // FAT's own tables and folders need room beside the file; FAT32 wants 65525 clusters at
    // least, 33 MiB with mkfs.fat's 512-byte clusters.
    let mut kib = (efi_size / 1024 + 512).next_multiple_of(64);
    if fat32 {
        kib = (efi_size / 1024 + 8192).max(33 * 1024).next_multiple_of(64);
    }
    let kib = kib.to_string();
    let mut args = os(&["-C", "--invariant", "-i", volume_id, "-n", label]);
    if fat32 {
        args.extend(os(&["-F", "32", "-S", "512", "-s", "1"]));
    }
    args.extend([esp.as_os_str(), kib.as_ref()]);
    run(what, &MKFS_FAT, ran, epoch, &args)?;
    run(
        what,
        &MMD,
        ran,
        epoch,
        &[
            OsStr::new("-i"),
            esp.as_os_str(),
            "::/EFI".as_ref(),
            "::/EFI/BOOT".as_ref(),
        ],
    )?;
    set_mtime(efi, epoch)?;
    let mut args = os(&["-m", "-i"]);
    args.extend([esp.as_os_str(), efi.as_os_str(), "::/EFI/BOOT/BOOTX64.EFI".as_ref()]);
    run(what, &MCOPY, ran, epoch, &args)?;
    set_mtime(esp, epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_the_first_line_with_anything_in_it() {
        assert_eq!(
            version_line(b"\n  sqfstar version 4.5.1 (2022/03/17)  \ncopyright\n"),
            "sqfstar version 4.5.1 (2022/03/17)"
        );
        assert_eq!(version_line(b""), "unknown");
        assert_eq!(version_line(b" \n\t\n"), "unknown");
        assert_eq!(version_line(b"tool \xff 1.0"), "tool \u{fffd} 1.0");
        assert_eq!(version_line(&[b'x'; 10_000]).len(), VERSION_LINE_LIMIT);
    }

    #[test]
    fn a_tool_is_recorded_once_with_what_it_first_said() {
        let ran = ToolsRun::default();
        assert!(!ran.knows(&MCOPY));
        ran.record(&MCOPY, b"mcopy (GNU mtools) 4.0.32\n");
        ran.record(&MCOPY, b"mcopy (GNU mtools) 9\n");
        ran.record(&MKFS_FAT, b"mkfs.fat 4.2 (2021-01-31)\n");
        assert!(ran.knows(&MCOPY));
        let versions: Vec<(String, String)> = ran.into_versions().into_iter().collect();
        assert_eq!(
            versions,
            [
                ("mcopy".to_owned(), "mcopy (GNU mtools) 4.0.32".to_owned()),
                ("mkfs.fat".to_owned(), "mkfs.fat 4.2 (2021-01-31)".to_owned())
            ]
        );
    }
}
