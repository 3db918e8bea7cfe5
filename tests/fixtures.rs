//! The fixture images (fixtures/build: real Debian packages, built with umoci) through sealkit:
//! import, inspect, flatten, scan, lock and effective config of the demo. scripts/test builds the
//! fixtures first; without them (a bare `cargo test`) these tests say so and pass only outside CI.

use std::path::{Path, PathBuf};

mod common;

use assert_cmd::Command;
use common::sealkit;

const IMAGES: [&str; 7] = ["kernel", "init", "getty", "sshd", "hello", "selftest", "insecure"];

fn layouts() -> Option<PathBuf> {
    common::fixture_layouts(&IMAGES)
}

fn json(c: &mut Command) -> serde_json::Value {
    serde_json::from_slice(&c.assert().success().get_output().stdout).unwrap()
}

fn import_all(store: &Path, dir: &Path) {
    common::import_fixtures(store, dir, &IMAGES);
}

#[test]
fn every_fixture_imports_flattens_and_scans() {
    let Some(dir) = layouts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    import_all(&store, &dir);
    let listed = String::from_utf8(
        sealkit(&store)
            .args(["image", "ls"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    for image in IMAGES {
        assert!(
            listed.contains(&format!("docker.io/sealkit-fixtures/{image}:1\t")),
            "{image} not listed"
        );
        let doc = json(sealkit(&store).args(["image", "inspect", "--files", &format!("sealkit-fixtures/{image}:1")]));
        assert_eq!(doc["platform"]["architecture"], "amd64");
        assert!(!doc["files"].as_object().unwrap().is_empty(), "{image}: no files");
    }

    let sshd = json(sealkit(&store).args(["image", "inspect", "--files", "sealkit-fixtures/sshd:1"]));
    let files = sshd["files"].as_object().unwrap();
    assert!(files.contains_key("var/lib/dpkg/status") && files.contains_key("usr/sbin/sshd"));
    assert!(files.contains_key("etc/ssh/sshd_config"));
    assert!(
        sshd["config"]["config"]["Labels"]["org.mobyproject.config"]
            .as_str()
            .unwrap()
            .contains("CAP_NET_BIND_SERVICE")
    );

    let kernel = json(sealkit(&store).args(["image", "inspect", "--files", "sealkit-fixtures/kernel:1"]));
    for f in ["kernel", "kernel.tar", "kernel-dev.tar", "config"] {
        assert!(
            kernel["files"].as_object().unwrap().contains_key(f),
            "kernel image lacks /{f}"
        );
    }

    // The evidence of one image: its only component holds the binaries.
    let scan = |image: &str| {
        json(sealkit(&store).args(["scan", "--format", "json", &format!("sealkit-fixtures/{image}:1")]))["components"]
            [0]
        .clone()
    };
    let binary = |doc: &serde_json::Value, suffix: &str| {
        doc["binaries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["path"].as_str().unwrap().ends_with(suffix))
            .cloned()
            .unwrap()
    };
    let hello = binary(&scan("hello"), "bin/hello");
    for check in ["pie", "relro_check", "bind_now", "nx", "canary", "fortify"] {
        assert_eq!(hello["elf"]["hardening"][check]["result"], "pass", "hello: {check}");
    }
    let insecure = scan("insecure");
    let bad = binary(&insecure, "usr/bin/insecure");
    assert_eq!(bad["elf"]["hardening"]["pie"]["result"], "fail");
    assert_eq!(bad["elf"]["hardening"]["nx"]["result"], "fail");
    assert_eq!(bad["elf"]["hardening"]["canary"]["result"], "fail");
    assert_eq!(bad["elf"]["hardening"]["relro_check"]["result"], "fail");
    assert!(
        insecure["binaries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["file"]["setuid"] == true && b["file"]["uid"] == 0)
    );
    let ssh = binary(&scan("sshd"), "usr/sbin/sshd");
    assert_eq!(ssh["elf"]["hardening"]["pie"]["result"], "pass");
}

#[test]
fn the_demo_locks_and_runs_from_the_images_labels() {
    let Some(dir) = layouts() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    import_all(&store, &dir);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let yaml = tmp.path().join("demo.yml");
    std::fs::copy(root.join("examples/demo.yml"), &yaml).unwrap();
    sealkit(&store)
        .arg("lock")
        .arg(&yaml)
        .arg("--offline")
        .assert()
        .success();
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("demo.lock.json")).unwrap()).unwrap();
    assert_eq!(
        lock["images"].as_object().unwrap().len(),
        6,
        "kernel, init and four containers"
    );

    let doc = json(sealkit(&store).args(["config", "--effective"]).arg(&yaml));
    let component = |name: &str| {
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    let selftest = component("selftest");
    assert_eq!(selftest["image_config_known"], true);
    assert_eq!(
        selftest["config"]["process"]["capabilities"]["effective"],
        serde_json::json!(["CAP_SYS_BOOT"])
    );
    assert!(
        selftest["label_source"]
            .as_str()
            .unwrap()
            .contains("org.mobyproject.config")
    );
    let hello = component("hello");
    assert!(
        hello["config"]["process"]["capabilities"]["bounding"].is_null(),
        "capabilities: [none]"
    );
    assert_eq!(hello["config"]["process"]["noNewPrivileges"], true);
    assert_eq!(hello["config"]["root"]["readonly"], true);
    assert_eq!(
        hello["config"]["process"]["user"]["uid"], 103,
        "uid: hello is the fourth container's id"
    );
    assert!(
        !hello["config"]["process"]["args"].as_array().unwrap().is_empty(),
        "args from the image's Entrypoint/Cmd"
    );
}
