//! `iso-efi`: a hybrid ISO 9660 image that UEFI firmware boots from a CD or a USB stick, made with
//! Debian's own tools — grub-mkimage (GRUB as BOOTX64.EFI, its configuration embedded), mkfs.fat
//! and mtools (the EFI system partition image) and xorriso (the ISO) — each run with
//! SOURCE_DATE_EPOCH, TZ=UTC and fixed volume ids, so the same inputs and the same tool versions
//! give the same bytes.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use super::{BuildError, Code};

/// What the ISO boots.
pub struct Boot<'a> {
    pub kernel: &'a [u8],
    pub initrd: &'a Path,
    pub ucode: &'a [u8],
    pub cmdline: &'a str,
    pub epoch: u64,
}

/// A file only this ISO has, so GRUB finds its own volume among the machine's disks.
const MARKER: &str = "boot/sealkit-efi-iso";
const GRUB_MODULES: &str = "/usr/lib/grub/x86_64-efi";
/// The GRUB modules the embedded configuration needs: find the ISO, read it, boot Linux.
const MODULES: [&str; 13] = [
    "part_gpt",
    "part_msdos",
    "iso9660",
    "fat",
    "search",
    "search_fs_file",
    "configfile",
    "linux",
    "normal",
    "echo",
    "gzio",
    "all_video",
    "efi_gop",
];

fn tool_error(tool: &str, package: &str) -> BuildError {
    BuildError::Input {
        code: Code::MissingTool,
        what: "--format iso-efi".into(),
        message: format!("{tool} is not installed"),
        hint: format!("apt-get install {package} (iso-efi needs grub-efi-amd64-bin, dosfstools, mtools and xorriso)"),
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

/// Runs `tool` (from Debian's `package`) with `args`, under the build's clock and no time zone
/// or locale of the user's.
fn run(tool: &str, package: &str, epoch: u64, args: &[&OsStr]) -> Result<(), BuildError> {
    let mut command = Command::new(locate(tool).ok_or_else(|| tool_error(tool, package))?);
    command
        .args(args)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        // A pipe closed at once rather than /dev/null, which some sandboxes deny to unprivileged
        // users.
        .stdin(std::process::Stdio::piped());
    let output = command.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => tool_error(tool, package),
        _ => BuildError::Input {
            code: Code::ToolFailed,
            what: "--format iso-efi".into(),
            message: format!("{tool} could not be run: {e}"),
            hint: "check the tool's installation".into(),
        },
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(BuildError::Input {
        code: Code::ToolFailed,
        what: "--format iso-efi".into(),
        message: format!(
            "{tool} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        hint: "check the space left on the output disk and the tool's installation".into(),
    })
}

/// Escapes what GRUB's script syntax would read as quotes, variables or command separators.
fn grub_escape(cmdline: &str) -> String {
    let mut out = String::new();
    for c in cmdline.chars() {
        if matches!(
            c,
            '$' | ';' | '"' | '\'' | '\\' | '{' | '}' | '|' | '&' | '<' | '>' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn write(path: &Path, bytes: &[u8], epoch: u64) -> Result<(), BuildError> {
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

fn set_mtime(path: &Path, epoch: u64) -> Result<(), BuildError> {
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

/// Writes the ISO at `out`, working in `scratch` (an empty folder).
pub fn write_iso(boot: &Boot, scratch: &Path, out: &Path) -> Result<(), BuildError> {
    // grub.cfg is a script: a line break in the command line would start a command of its own.
    if boot.cmdline.chars().any(char::is_control) {
        return Err(BuildError::Input {
            code: Code::BadCmdline,
            what: "kernel.cmdline".into(),
            message: format!("{:?} holds a line break or control character", boot.cmdline),
            hint: "write the kernel command line on one line, without control characters".into(),
        });
    }
    if !Path::new(GRUB_MODULES).join("linux.mod").is_file() {
        return Err(tool_error("GRUB for x86_64-efi", "grub-efi-amd64-bin"));
    }
    let epoch = boot.epoch;
    let tree = scratch.join("iso");
    let initrds = if boot.ucode.is_empty() {
        "/boot/initrd.img".to_owned()
    } else {
        write(&tree.join("boot/ucode.cpio"), boot.ucode, epoch)?;
        "/boot/ucode.cpio /boot/initrd.img".to_owned()
    };
    write(&tree.join("boot/kernel"), boot.kernel, epoch)?;
    // Copied, not read into memory: an initrd can be hundreds of MiB.
    let staged_initrd = tree.join("boot/initrd.img");
    std::fs::copy(boot.initrd, &staged_initrd).map_err(|e| BuildError::Io {
        path: staged_initrd.display().to_string(),
        source: e,
        hint: "check the space left on the output disk".into(),
    })?;
    set_mtime(&staged_initrd, epoch)?;
    write(&tree.join(MARKER), b"sealkit\n", epoch)?;
    let config = format!(
        "set timeout=0\nlinux /boot/kernel {}\ninitrd {initrds}\nboot\n",
        grub_escape(boot.cmdline)
    );
    write(&tree.join("boot/grub/grub.cfg"), config.as_bytes(), epoch)?;

    // GRUB, told where its configuration is by a small one built into it.
    let early = scratch.join("early.cfg");
    write(
        &early,
        format!("search --no-floppy --set=root --file /{MARKER}\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n")
            .as_bytes(),
        epoch,
    )?;
    let efi = scratch.join("BOOTX64.EFI");
    let mut args = os(&["-O", "x86_64-efi", "-p", "/boot/grub", "-d", GRUB_MODULES, "-c"]);
    args.extend([early.as_os_str(), "-o".as_ref(), efi.as_os_str()]);
    args.extend(os(&MODULES));
    run("grub-mkimage", "grub-efi-amd64-bin", epoch, &args)?;
    set_mtime(&efi, epoch)?;

    // The EFI system partition: a FAT image holding EFI/BOOT/BOOTX64.EFI, with a fixed volume id.
    let efi_size = std::fs::metadata(&efi).map(|m| m.len()).unwrap_or(0);
    let esp = tree.join("boot/efiboot.img");
    let kib = (efi_size / 1024 + 512).next_multiple_of(64).to_string();
    let mut args = os(&["-C", "--invariant", "-i", "5EA1C17A", "-n", "EFIBOOT"]);
    args.extend([esp.as_os_str(), kib.as_ref()]);
    run("mkfs.fat", "dosfstools", epoch, &args)?;
    run(
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
    let mut args = os(&["-m", "-i"]);
    args.extend([esp.as_os_str(), efi.as_os_str(), "::/EFI/BOOT/BOOTX64.EFI".as_ref()]);
    run("mcopy", "mtools", epoch, &args)?;
    set_mtime(&esp, epoch)?;
    for dir in ["boot/grub", "boot", ""] {
        set_mtime(&tree.join(dir), epoch)?;
    }

    // -r, not -R: Rock Ridge owners 0:0 and uniform modes, so neither the user nor the umask of
    // the build shows in the image.
    let mut args = os(&[
        "-report_about",
        "SORRY",
        "-as",
        "mkisofs",
        "-iso-level",
        "3",
        "-V",
        "SEALKIT",
        "-r",
    ]);
    args.extend(os(&[
        "-e",
        "boot/efiboot.img",
        "-no-emul-boot",
        "-isohybrid-gpt-basdat",
        "-o",
    ]));
    args.extend([out.as_os_str(), tree.as_os_str()]);
    run("xorriso", "xorriso", epoch, &args)
}

fn os<'a>(words: &[&'a str]) -> Vec<&'a OsStr> {
    words.iter().map(|w| OsStr::new(*w)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn grub_escaping() {
        assert_eq!(super::grub_escape("console=ttyS0 panic=-1"), "console=ttyS0 panic=-1");
        assert_eq!(super::grub_escape("a=$x;b 'c'"), "a=\\$x\\;b \\'c\\'");
    }
}
