//! The firmware enforces the gate's signature: the demo as a signed UKI on an EFI system
//! partition boots under OVMF's Secure Boot build with the test's own keys enrolled (by
//! virt-fw-vars), the kernel saying Secure Boot is on and locking itself down; the same image
//! unsigned, signed by a key not enrolled, and with one byte changed after signing is refused
//! by the firmware ("Access Denied"); and all three boot with Secure Boot off, so the refusals
//! are the firmware's doing, not broken images.

use std::path::Path;
use std::process::Command;

mod common;

const EPOCH: &str = "1796083200";
const STUB: &str = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";

/// Boots `esp` with scripts/boot (Secure Boot on with `vars`): its success and console.
fn boot(esp: &Path, vars: Option<&Path>) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(root.join("scripts/boot"));
    command.arg(esp).arg("600");
    if let Some(vars) = vars {
        command.env("SECURE_BOOT_VARS", vars);
    }
    let run = command.output().unwrap();
    let console =
        String::from_utf8_lossy(&std::fs::read(format!("{}-console.log", esp.display())).unwrap()).into_owned();
    (
        run.status.success(),
        format!("{}\n{console}", String::from_utf8_lossy(&run.stderr)),
    )
}

#[test]
fn secure_boot_starts_the_signed_uki_and_refuses_every_other() {
    let ready = Command::new("qemu-system-x86_64").arg("--version").output().is_ok()
        && Path::new(STUB).is_file()
        && Path::new("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd").is_file();
    let Some(virt_fw_vars) = common::virt_fw_vars().filter(|_| ready) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs qemu, ovmf, systemd-boot-efi and virt-firmware (scripts/test)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = common::locked_example(tmp.path(), "demo.yml", &common::DEMO_IMAGES) else {
        return;
    };
    let keygen = |dir: &Path| {
        common::sealkit(&store)
            .args(["keygen", "--secure-boot", "-o"])
            .arg(dir)
            .assert()
            .success();
        dir.to_path_buf()
    };
    let (keys, stranger) = (
        keygen(&tmp.path().join("keys")),
        keygen(&tmp.path().join("stranger-keys")),
    );
    let build = |name: &str, signer: Option<&Path>| {
        let out = tmp.path().join(name);
        let mut c = common::sealkit(&store);
        c.env("SOURCE_DATE_EPOCH", EPOCH)
            .arg("build")
            .arg(&config)
            .arg("-o")
            .arg(&out)
            .args(["--format", "esp"]);
        if let Some(dir) = signer {
            c.arg("--sign-uki")
                .arg(dir.join("db.key"))
                .arg("--sign-cert")
                .arg(dir.join("db.crt"));
        }
        c.assert().success();
        out.join("demo-esp.img")
    };
    let signed = build("signed", Some(&keys));
    let unsigned = build("unsigned", None);
    let by_stranger = build("stranger", Some(&stranger));
    // One byte of the signed UKI's command-line section, in its padding: covered by the
    // signature, read by nobody, so the image still boots where nothing checks it.
    let mut bytes = std::fs::read(&signed).unwrap();
    let at = bytes
        .windows(b"console=ttyS0 panic=-1".len())
        .position(|w| w == b"console=ttyS0 panic=-1")
        .unwrap();
    bytes[at + 0x100] ^= 1;
    let flipped = tmp.path().join("flipped-esp.img");
    std::fs::write(&flipped, bytes).unwrap();

    let vars = tmp.path().join("vars.fd");
    common::enrolled_vars(&virt_fw_vars, &keys, &vars);

    let (passed, console) = boot(&signed, Some(&vars));
    assert!(passed, "{console}");
    assert!(
        console.contains("Kernel is locked down from EFI Secure Boot"),
        "{console}"
    );
    for refused in [&unsigned, &by_stranger, &flipped] {
        let (passed, console) = boot(refused, Some(&vars));
        assert!(!passed, "{}: booted under Secure Boot\n{console}", refused.display());
        assert!(console.contains("Access Denied"), "{}: {console}", refused.display());
        assert!(!console.contains("SEALKIT-SELFTEST"), "{console}");
    }
    for image in [&unsigned, &by_stranger, &flipped] {
        let (passed, console) = boot(image, None);
        assert!(
            passed,
            "{}: does not boot without Secure Boot\n{console}",
            image.display()
        );
        assert!(console.contains("secureboot: Secure boot disabled"), "{console}");
    }
}
