//! What the EFI formats share: Debian's tools run under the build's clock, and the EFI system
//! partition (a FAT image holding `EFI/BOOT/BOOTX64.EFI`) made with mkfs.fat and mtools.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use super::{BuildError, Code};

/// `tool`, from Debian's `package`, which `what` (the format) needs, is missing.
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

/// Runs `tool` (from Debian's `package`) for `what` (the format) with `args`, under the build's
/// clock and no time zone or locale of the user's.
pub fn run(what: &str, tool: &str, package: &str, epoch: u64, args: &[&OsStr]) -> Result<(), BuildError> {
    // A pipe closed at once rather than /dev/null, which some sandboxes deny to unprivileged
    // users.
    run_fed(what, tool, package, epoch, args, std::process::Stdio::piped())
}

/// [`run`], the tool reading `stdin`.
pub fn run_fed(
    what: &str,
    tool: &str,
    package: &str,
    epoch: u64,
    args: &[&OsStr],
    stdin: std::process::Stdio,
) -> Result<(), BuildError> {
    let mut command = Command::new(locate(tool).ok_or_else(|| tool_error(what, tool, package))?);
    command
        .args(args)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .stdin(stdin);
    let output = command.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => tool_error(what, tool, package),
        _ => BuildError::Input {
            code: Code::ToolFailed,
            what: what.into(),
            message: format!("{tool} could not be run: {e}"),
            hint: "check the tool's installation".into(),
        },
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(BuildError::Input {
        code: Code::ToolFailed,
        what: what.into(),
        message: format!(
            "{tool} failed ({}): {}",
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
    run(what, "mkfs.fat", "dosfstools", epoch, &args)?;
    run(
        what,
        "mmd",
        "mtools",
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
    run(what, "mcopy", "mtools", epoch, &args)?;
    set_mtime(esp, epoch)
}
