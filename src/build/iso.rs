//! `iso-efi`: a hybrid ISO 9660 image that UEFI firmware boots from a CD or a USB stick, made with
//! Debian's own tools — grub-mkimage (GRUB as BOOTX64.EFI, its configuration embedded), mkfs.fat
//! and mtools (the EFI system partition image) and xorriso (the ISO) — each run with
//! SOURCE_DATE_EPOCH, TZ=UTC and fixed volume ids, so the same inputs and the same tool versions
//! give the same bytes.

use std::path::Path;

use super::efi::{self, GRUB_MKIMAGE, ToolsRun, XORRISO, os, run, set_mtime, tool_error};
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

/// Writes the ISO at `out`, working in `scratch` (an empty folder).
pub fn write_iso(boot: &Boot, ran: &ToolsRun, scratch: &Path, out: &Path) -> Result<(), BuildError> {
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
        return Err(tool_error(
            "--format iso-efi",
            "GRUB for x86_64-efi",
            "grub-efi-amd64-bin",
        ));
    }
    let epoch = boot.epoch;
    let tree = scratch.join("iso");
    let initrds = if boot.ucode.is_empty() {
        "/boot/initrd.img".to_owned()
    } else {
        efi::write(&tree.join("boot/ucode.cpio"), boot.ucode, epoch)?;
        "/boot/ucode.cpio /boot/initrd.img".to_owned()
    };
    efi::write(&tree.join("boot/kernel"), boot.kernel, epoch)?;
    // Copied, not read into memory: an initrd can be hundreds of MiB.
    let staged_initrd = tree.join("boot/initrd.img");
    std::fs::copy(boot.initrd, &staged_initrd).map_err(|e| BuildError::Io {
        path: staged_initrd.display().to_string(),
        source: e,
        hint: "check the space left on the output disk".into(),
    })?;
    set_mtime(&staged_initrd, epoch)?;
    efi::write(&tree.join(MARKER), b"sealkit\n", epoch)?;
    let config = format!(
        "set timeout=0\nlinux /boot/kernel {}\ninitrd {initrds}\nboot\n",
        grub_escape(boot.cmdline)
    );
    efi::write(&tree.join("boot/grub/grub.cfg"), config.as_bytes(), epoch)?;

    // GRUB, told where its configuration is by a small one built into it.
    let early = scratch.join("early.cfg");
    efi::write(
        &early,
        format!("search --no-floppy --set=root --file /{MARKER}\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n")
            .as_bytes(),
        epoch,
    )?;
    let efi = scratch.join("BOOTX64.EFI");
    let mut args = os(&["-O", "x86_64-efi", "-p", "/boot/grub", "-d", GRUB_MODULES, "-c"]);
    args.extend([early.as_os_str(), "-o".as_ref(), efi.as_os_str()]);
    args.extend(os(&MODULES));
    run("--format iso-efi", &GRUB_MKIMAGE, ran, epoch, &args)?;
    set_mtime(&efi, epoch)?;

    // The EFI system partition: a FAT image holding EFI/BOOT/BOOTX64.EFI, with a fixed volume id.
    let esp = tree.join("boot/efiboot.img");
    efi::write_esp(ran, &efi, &esp, epoch, "5EA1C17A", "EFIBOOT", false)?;
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
    run("--format iso-efi", &XORRISO, ran, epoch, &args)
}

#[cfg(test)]
mod tests {
    #[test]
    fn grub_escaping() {
        assert_eq!(super::grub_escape("console=ttyS0 panic=-1"), "console=ttyS0 panic=-1");
        assert_eq!(super::grub_escape("a=$x;b 'c'"), "a=\\$x\\;b \\'c\\'");
    }
}
