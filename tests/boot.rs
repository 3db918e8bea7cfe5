//! The demo image boots: built as kernel+initrd and started under qemu (software emulation),
//! its init runs the onboot selftest container, which checks from inside what the configuration
//! asked for (its capabilities, its bind of /etc/motd, /proc) and prints a verdict the test
//! waits for (scripts/boot), then powers the machine off.

use std::path::Path;

mod common;

const IMAGES: [&str; 6] = ["kernel", "init", "getty", "sshd", "hello", "selftest"];

#[test]
fn the_demo_boots_and_its_selftest_passes() {
    let Some(layouts) = common::fixture_layouts(&IMAGES) else {
        return;
    };
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
    let store = tmp.path().join("store");
    common::import_fixtures(&store, &layouts, &IMAGES);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = tmp.path().join("demo.yml");
    std::fs::copy(root.join("examples/demo.yml"), &config).unwrap();
    let out = tmp.path().join("out");
    common::sealkit(&store)
        .arg("build")
        .arg(&config)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let boot = std::process::Command::new(root.join("scripts/boot"))
        .arg(out.join("demo"))
        .arg("600")
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&boot.stdout);
    let verdict = String::from_utf8_lossy(&boot.stderr);
    assert!(boot.status.success(), "{verdict}\n{console}");
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
