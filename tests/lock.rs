//! `sealkit lock` pins every image; `config --effective` then reads labels and image configs
//! through the lock and fails when an image no longer matches it.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::{E, layer, layout};
use predicates::prelude::*;

fn sealkit(store: &Path) -> Command {
    let mut c = Command::cargo_bin("sealkit").unwrap();
    c.env("SEALKIT_STORE", store);
    c
}

#[test]
fn lock_then_verify_through_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    // A local layout, referenced relative to the YAML's folder, and an image in the store.
    layout(
        &tmp.path().join("app"),
        &[layer(&[E::File("bin/app", 0o755, b"app v1")])],
        true,
    );
    let other = layout(&tmp.path().join("other"), &[layer(&[E::File("x", 0o644, b"x")])], false);
    sealkit(&store)
        .args(["image", "import", &other, "--tag", "example/other:1"])
        .assert()
        .success();
    let yaml = tmp.path().join("os.yml");
    std::fs::write(
        &yaml,
        "onboot:\n  - name: app\n    image: oci:app:latest\nservices:\n  - name: other\n    image: example/other:1\n    command: [/x]\n",
    )
    .unwrap();

    sealkit(&store)
        .arg("lock")
        .arg(&yaml)
        .arg("--offline")
        .assert()
        .success();
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("os.lock.json")).unwrap()).unwrap();
    assert_eq!(lock["schema"], "https://sealkit.dev/schemas/lock/v1");
    let pin = &lock["images"]["example/other:1"];
    assert_eq!(pin["resolved"], "docker.io/example/other:1");
    assert!(pin["manifest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(pin["platform"], "linux/amd64");
    assert!(lock["images"]["oci:app:latest"]["manifest"].is_string());

    // The effective config now comes from the images themselves: label and Entrypoint.
    let out = sealkit(&store)
        .args(["config", "--effective"])
        .arg(&yaml)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let app = &doc["components"][0];
    assert_eq!(app["image_config_known"], true);
    assert_eq!(app["config"]["process"]["args"], serde_json::json!(["/bin/app"]));
    assert_eq!(
        app["config"]["process"]["capabilities"]["effective"],
        serde_json::json!(["CAP_KILL"])
    );
    assert!(app["label_source"].as_str().unwrap().contains("org.mobyproject.config"));
    assert_eq!(
        doc["components"][1]["config"]["process"]["args"],
        serde_json::json!(["/x"])
    );

    // The tag moves to other content: the lock still pins the old manifest, which the store keeps.
    let moved = layout(
        &tmp.path().join("moved"),
        &[layer(&[E::File("x", 0o644, b"changed")])],
        false,
    );
    sealkit(&store)
        .args(["image", "import", &moved, "--tag", "example/other:1"])
        .assert()
        .success();
    sealkit(&store)
        .args(["config", "--effective"])
        .arg(&yaml)
        .assert()
        .success();

    // The local layout changes: resolution through the lock fails, naming both digests.
    layout(
        &tmp.path().join("app"),
        &[layer(&[E::File("bin/app", 0o755, b"app v2")])],
        true,
    );
    sealkit(&store)
        .args(["config", "--effective"])
        .arg(&yaml)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("the lock pins sha256:").and(predicate::str::contains("run sealkit lock again")),
        );

    // Locking again accepts the change.
    sealkit(&store)
        .arg("lock")
        .arg(&yaml)
        .arg("--offline")
        .assert()
        .success();
    sealkit(&store)
        .args(["config", "--effective"])
        .arg(&yaml)
        .assert()
        .success();
}

#[test]
fn lock_fails_on_images_it_cannot_find() {
    let tmp = tempfile::tempdir().unwrap();
    let yaml = tmp.path().join("os.yml");
    std::fs::write(&yaml, "services:\n  - name: s\n    image: example/absent:1\n").unwrap();
    sealkit(&tmp.path().join("store"))
        .arg("lock")
        .arg(&yaml)
        .arg("--offline")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not in the local store"));
    assert!(
        !tmp.path().join("os.lock.json").exists(),
        "no lock is written when an image is missing"
    );
}
