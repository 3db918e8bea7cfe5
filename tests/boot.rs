//! The demo boots, as people get it: gated (`sealkit gate --push`) into a docker-registry on
//! 127.0.0.1, pulled into an empty folder, verified from the registry and as pulled, and that
//! pulled copy started under qemu; built as an EFI ISO, booted under OVMF from a CD and as
//! a disk; and built as a UKI on an EFI system partition, which OVMF starts directly. qemu runs in software emulation; the image's init runs the onboot selftest
//! container, which checks from inside what the configuration asked for (its capabilities, its
//! bind of /etc/motd, /proc) and prints a verdict the test waits for (scripts/boot), then powers
//! the machine off.

use std::path::Path;

mod common;

/// 2026-12-01: the day the demo's exceptions are judged on (all still live).
const EPOCH: &str = "1796083200";

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
    if !common::registry::require("docker-registry") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = common::locked_example(tmp.path(), "demo.yml", &common::DEMO_IMAGES) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sealkit = || {
        let mut c = common::sealkit(&store);
        c.env("SOURCE_DATE_EPOCH", EPOCH);
        c
    };

    // The gated image, from the registry alone.
    let registry = common::registry::start_registry(None);
    let (key, public) = common::keypair(&store, tmp.path(), "release");
    let reference = format!("{}/os/demo:1", registry.address);
    sealkit()
        .arg("gate")
        .arg(&config)
        .arg("--key")
        .arg(&key)
        .arg("-o")
        .arg(tmp.path().join("gated"))
        .args(["--push", &reference])
        .assert()
        .success();
    let pulled = tmp.path().join("pulled");
    std::fs::create_dir(&pulled).unwrap();
    sealkit()
        .args(["pull", &reference, "-o"])
        .arg(&pulled)
        .assert()
        .success();
    for target in [std::ffi::OsStr::new(&reference), pulled.as_os_str()] {
        sealkit()
            .arg("verify")
            .arg(target)
            .arg("--key")
            .arg(&public)
            .args(["--require", "provenance,sbom,policy"])
            .assert()
            .success();
    }
    drop(registry);

    let out = tmp.path().join("out");
    sealkit()
        .arg("build")
        .arg(&config)
        .arg("-o")
        .arg(&out)
        .args(["--format", "iso-efi", "--format", "esp"])
        .assert()
        .success();
    // One machine at a time: a loaded host makes the emulated firmware slower, not wrong.
    boot(root, &pulled.join("demo"), None);
    boot(root, &out.join("demo-efi.iso"), Some("cdrom"));
    boot(root, &out.join("demo-efi.iso"), Some("disk"));
    // The UKI, started by the firmware itself from an EFI system partition: no boot loader.
    boot(root, &out.join("demo-esp.img"), None);
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
