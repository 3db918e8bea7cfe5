//! The demo image boots: built as kernel+initrd and as an EFI ISO, and started under qemu
//! (software emulation; the ISO under OVMF, from a CD and as a disk),
//! its init runs the onboot selftest container, which checks from inside what the configuration
//! asked for (its capabilities, its bind of /etc/motd, /proc) and prints a verdict the test
//! waits for (scripts/boot), then powers the machine off.

use std::path::Path;

mod common;

#[test]
fn the_demo_boots_and_its_selftest_passes() {
    if std::process::Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs qemu-system-x86 (scripts/test)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = common::demo(tmp.path(), &common::DEMO_IMAGES) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tmp.path().join("out");
    common::sealkit(&store)
        .arg("build")
        .arg(&config)
        .arg("-o")
        .arg(&out)
        .args(["--format", "kernel+initrd", "--format", "iso-efi"])
        .assert()
        .success();
    // One machine at a time: a loaded host makes the emulated firmware slower, not wrong.
    boot(root, &out.join("demo"), None);
    boot(root, &out.join("demo-efi.iso"), Some("cdrom"));
    boot(root, &out.join("demo-efi.iso"), Some("disk"));
}

fn boot(root: &Path, image: &Path, iso_as: Option<&str>) {
    let mut command = std::process::Command::new(root.join("scripts/boot"));
    command.arg(image).arg("600");
    if let Some(how) = iso_as {
        command.env("ISO_AS", how);
    }
    let boot = command.output().unwrap();
    let log = format!("{}-console.log", image.display());
    let console = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
    let verdict = String::from_utf8_lossy(&boot.stderr);
    assert!(boot.status.success(), "{}: {verdict}\n{console}", image.display());
    // What the selftest saw: only CAP_SYS_BOOT (its label), the bind the YAML added, and the
    // other bundles through the label's /containers bind.
    assert!(console.contains("selftest: CapEff=0000000000400000"), "{console}");
    assert!(
        console.contains("/host/etc/motd is readable: Built by sealkit, verified before boot."),
        "{console}"
    );
    assert!(console.contains("containers seen: 4"), "{console}");
    assert!(console.contains("SEALKIT-SELFTEST: PASS"));
}
