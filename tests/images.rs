//! Images: layouts written by the tests themselves (layer by layer, hostile ones included), the
//! flattened view checked file by file against umoci's extraction of the same image, and every
//! bad input refused with exit 2, naming image, layer and path.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use predicates::prelude::*;
mod common;

use common::{E, gzip, layer, layout, layout_with, sha256};

fn sealkit(store: &Path) -> Command {
    let mut c = Command::cargo_bin("sealkit").unwrap();
    c.arg("image").arg("--store").arg(store);
    c
}

fn inspect_files(store: &Path, reference: &str) -> serde_json::Value {
    let out = sealkit(store)
        .args(["inspect", "--files", reference])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice::<serde_json::Value>(&out).unwrap()["files"].clone()
}

/// (type, mode, size, sha256-or-target, owner) of every path under `root`, as extracted by umoci.
fn reference_view(root: &Path) -> BTreeMap<String, View> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let m = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let mode = m.permissions().mode() & 0o7777;
            let ft = m.file_type();
            let value = if ft.is_symlink() {
                (
                    "symlink".into(),
                    0,
                    0,
                    std::fs::read_link(&path).unwrap().to_string_lossy().into_owned(),
                )
            } else if ft.is_dir() {
                stack.push(path.clone());
                ("dir".into(), mode, 0, String::new())
            } else if ft.is_file() {
                ("file".into(), mode, m.size(), sha256(&std::fs::read(&path).unwrap()))
            } else {
                ("fifo".into(), mode, 0, String::new())
            };
            out.insert(
                rel,
                (value.0, value.1, value.2, value.3, format!("{}:{}", m.uid(), m.gid())),
            );
        }
    }
    out
}

/// (type, mode, size, sha256-or-target, uid:gid)
type View = (String, u32, u64, String, String);

fn sealkit_view(files: &serde_json::Value) -> BTreeMap<String, View> {
    files
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, e)| {
            let kind = e["type"].as_str().unwrap().to_owned();
            let value = match kind.as_str() {
                "symlink" => (kind, 0, 0, e["target"].as_str().unwrap().to_owned()),
                "file" => (
                    kind,
                    e["mode"].as_u64().unwrap() as u32,
                    e["size"].as_u64().unwrap(),
                    e["sha256"].as_str().unwrap().to_owned(),
                ),
                _ => (kind, e["mode"].as_u64().unwrap() as u32, 0, String::new()),
            };
            let owner = format!("{}:{}", e["uid"], e["gid"]);
            (path.clone(), (value.0, value.1, value.2, value.3, owner))
        })
        .collect()
}

fn have_umoci() -> bool {
    let ok = Process::new("umoci")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "umoci is required in CI (scripts/test installs it)"
    );
    ok
}

/// Every whiteout and link case, flattened by sealkit and extracted by umoci, file by file.
#[test]
fn flattening_matches_umoci_unpack() {
    if !have_umoci() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layers = vec![
        layer(&[
            E::Dir("etc/", 0o755),
            E::File("etc/passwd", 0o644, b"root:x:0:0::/root:/bin/sh\n"),
            E::Owned("etc/shadow", 0o640, b"root:*:1::::::\n", 0, 42),
            E::Owned("home-file", 0o600, b"mine", 1000, 1000),
            E::Dir("opt/", 0o755),
            E::Dir("opt/app/", 0o755),
            E::File("opt/app/old.conf", 0o644, b"old"),
            E::Dir("opt/app/sub/", 0o700),
            E::File("opt/app/sub/x", 0o600, b"x"),
            E::Dir("bin/", 0o755),
            E::File("bin/busybox", 0o4755, b"\x7fELF pretend"),
            E::Hardlink("bin/sh", "bin/busybox"),
            E::Symlink("bin/ls", "busybox"),
            E::Symlink("bin/abs", "/bin/busybox"),
            E::Dir("var/", 0o755),
            E::Dir("var/tmp/", 0o1777),
            E::Fifo("var/fifo"),
            E::File("gone", 0o644, b"to be deleted"),
            E::Dir("tree/", 0o755),
            E::File("tree/leaf", 0o644, b"leaf"),
        ]),
        layer(&[
            // whiteouts of a file and of a whole tree
            E::File(".wh.gone", 0o644, b""),
            E::File(".wh.tree", 0o644, b""),
            // opaque directory: hides old.conf and sub/, keeps what this layer adds
            E::Dir("opt/app/", 0o750),
            E::File("opt/app/.wh..wh..opq", 0o644, b""),
            E::File("opt/app/new.conf", 0o644, b"new"),
            // a file replaced by a directory, and a symlink replaced by a file
            E::Dir("etc/shadow/", 0o700),
            E::File("bin/ls", 0o755, b"real ls"),
            // a hard link to a lower layer's file, whose original name is then whited out
            E::Hardlink("bin/keep", "bin/busybox"),
            E::File("bin/.wh.busybox", 0o644, b""),
        ]),
    ];
    let reference = layout(&tmp.path().join("layout"), &layers, true);
    let store = tmp.path().join("store");
    let ours = sealkit_view(&inspect_files(&store, &reference));

    let bundle = tmp.path().join("bundle");
    let status = Process::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:latest", tmp.path().join("layout").display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "umoci unpack: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let theirs = reference_view(&bundle.join("rootfs"));
    assert_eq!(ours, theirs, "sealkit's flattened view differs from umoci's extraction");
    // Spot checks that make the cases above explicit.
    assert!(!ours.contains_key("gone") && !ours.contains_key("tree/leaf") && !ours.contains_key("opt/app/old.conf"));
    assert_eq!(
        ours["bin/keep"].3,
        sha256(b"\x7fELF pretend"),
        "a hard link keeps the content of a whited-out name"
    );
    assert_eq!(ours["bin/keep"].1, 0o4755, "setuid survives");
}

#[test]
fn export_round_trips_the_view() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = layout(
        &tmp.path().join("layout"),
        &[layer(&[
            E::Dir("a/", 0o755),
            E::File("a/f", 0o644, b"data"),
            E::Hardlink("a/g", "a/f"),
            E::Symlink("a/l", "f"),
        ])],
        false,
    );
    let store = tmp.path().join("store");
    let out = tmp.path().join("export.tar");
    sealkit(&store)
        .args(["export", &reference, "-o"])
        .arg(&out)
        .assert()
        .success();
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(std::fs::File::open(&out).unwrap());
    for e in archive.entries().unwrap() {
        let e = e.unwrap();
        names.push((e.path().unwrap().display().to_string(), e.header().entry_type()));
    }
    assert_eq!(
        names,
        [
            ("a/".to_owned(), tar::EntryType::Directory),
            ("a/l".to_owned(), tar::EntryType::Symlink),
            ("a/f".to_owned(), tar::EntryType::Regular),
            ("a/g".to_owned(), tar::EntryType::Link),
        ]
    );
    let again = tmp.path().join("again.tar");
    sealkit(&store)
        .args(["export", &reference, "-o"])
        .arg(&again)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&again).unwrap(),
        "export is deterministic"
    );
}

/// Each hostile layer: exit 2, the image, layer and path named, nothing written outside the store.
#[test]
fn hostile_layers_are_refused() {
    let cases: Vec<(&str, Vec<E>, &str, &str)> = vec![
        (
            "dotdot",
            vec![E::File("../escape", 0o644, b"x")],
            "../escape",
            "climbs out of the root",
        ),
        (
            "absolute",
            vec![E::File("/etc/passwd", 0o644, b"x")],
            "/etc/passwd",
            "absolute entry name",
        ),
        (
            "symlink-escape",
            vec![E::Dir("a/", 0o755), E::Symlink("a/l", "../../etc/shadow")],
            "a/l",
            "climbs out of the root",
        ),
        (
            "through-symlink",
            vec![E::Symlink("etc", "/tmp"), E::File("etc/passwd", 0o644, b"x")],
            "etc/passwd",
            "written through the symlink etc",
        ),
        (
            "dangling-hardlink",
            vec![E::Hardlink("sh", "bin/busybox")],
            "sh",
            "does not exist",
        ),
        (
            "hardlink-escape",
            vec![E::Hardlink("sh", "../../bin/busybox")],
            "sh",
            "leaves the root",
        ),
        ("loop", vec![E::Symlink("a", "b"), E::Symlink("b", "a")], "a", "a loop"),
        (
            "duplicate",
            vec![E::File("f", 0o644, b"1"), E::File("f", 0o644, b"2")],
            "f",
            "writes this path twice",
        ),
    ];
    for (name, entries, path, message) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let reference = layout(&tmp.path().join("layout"), &[layer(&entries)], false);
        let store = tmp.path().join("store");
        let out = sealkit(&store)
            .args(["inspect", "--files", &reference])
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{name}: {message:?} not in {stderr}");
        assert!(
            stderr.contains(&format!(": {path}: ")),
            "{name}: path {path} not named in {stderr}"
        );
        assert!(stderr.contains("layer sha256:"), "{name}: layer not named in {stderr}");
        assert!(stderr.contains("hint:"), "{name}: {stderr}");
        assert!(!tmp.path().join("escape").exists() && !Path::new("/escape").exists());
    }
}

#[test]
fn corrupt_streams_and_blobs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let good = layer(&[E::File("f", 0o644, &[7u8; 100_000])]);

    // A truncated gzip stream.
    let dir = tmp.path().join("truncated");
    let reference = layout(&dir, std::slice::from_ref(&good), true);
    let blob = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read(p).unwrap().starts_with(&[0x1f, 0x8b]))
        .unwrap();
    let bytes = std::fs::read(&blob).unwrap();
    std::fs::write(&blob, &bytes[..bytes.len() / 2]).unwrap();
    // The import itself notices: the blob no longer matches its digest.
    sealkit(&tmp.path().join("s1"))
        .args(["inspect", &reference])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not match its digest").or(predicate::str::contains("bytes")));

    // A manifest naming a missing blob.
    let dir = tmp.path().join("missing");
    let reference = layout(&dir, std::slice::from_ref(&good), false);
    std::fs::remove_file(dir.join("blobs/sha256").join(&sha256(&good)[7..])).unwrap();
    sealkit(&tmp.path().join("s2"))
        .args(["inspect", &reference])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is missing"));

    // A layer whose uncompressed content does not match the config's diff_id.
    let dir = tmp.path().join("diffid");
    let reference = layout_with(
        &dir,
        std::slice::from_ref(&good),
        true,
        Some(vec![sha256(b"something else")]),
    );
    sealkit(&tmp.path().join("s4"))
        .args(["inspect", "--files", &reference])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("but the image's config says diff_id"));

    // A stream that is corrupt as published (its digest matches the truncated bytes).
    let dir = tmp.path().join("cut");
    let whole = gzip(&good);
    let reference = layout_raw_gzip(&dir, &whole[..whole.len() - 20]);
    sealkit(&tmp.path().join("s5"))
        .args(["inspect", "--files", &reference])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("layer sha256:").and(predicate::str::contains("hint:")));

    // A decompression bomb: 300 MiB of zeros in 300 concatenated gzip members of ~1 KiB each.
    let dir = tmp.path().join("bomb");
    let mut header = layer(&[E::File("z", 0o644, b"")]);
    header.truncate(512);
    let mut bomb = gzip(&header);
    let member = gzip(&vec![0u8; 1 << 20]);
    for _ in 0..300 {
        bomb.extend_from_slice(&member);
    }
    let reference = layout_raw_gzip(&dir, &bomb);
    sealkit(&tmp.path().join("s3"))
        .args(["inspect", "--files", &reference])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("decompression bomb"));
}

/// A layout whose single layer is the given gzip bytes. The diff_id is left unchecked: the bomb
/// must be stopped while it is being decompressed, long before the digest is known.
fn layout_raw_gzip(dir: &Path, gz: &[u8]) -> String {
    layout_raw(
        dir,
        gz,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        &sha256(b"unknown"),
    )
}

fn layout_raw(dir: &Path, blob: &[u8], media_type: &str, diff_id: &str) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = sha256(bytes);
        std::fs::write(blobs.join(&d[7..]), bytes).unwrap();
        (d, bytes.len())
    };
    let (ld, ln) = put(blob);
    let config = serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}});
    let (cd, cn) = put(&serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": [{"mediaType": media_type, "digest": ld, "size": ln}],
    });
    let (md, mn) = put(&serde_json::to_vec(&manifest).unwrap());
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("oci:{}:latest", dir.display())
}

#[test]
fn devices_and_file_capabilities_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    // security.capability v2 for cap_net_raw (bit 13), effective.
    let cap: &[u8] = &[
        0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let reference = layout(
        &tmp.path().join("layout"),
        &[layer(&[
            E::Dir("dev/", 0o755),
            E::Char("dev/console", 5, 1),
            E::Xattr("security.capability", cap),
            E::File("ping", 0o755, b"ping"),
        ])],
        false,
    );
    let files = inspect_files(&tmp.path().join("store"), &reference);
    assert_eq!(files["dev/console"]["type"], "char");
    assert_eq!(
        (
            files["dev/console"]["major"].as_u64(),
            files["dev/console"]["minor"].as_u64()
        ),
        (Some(5), Some(1))
    );
    let xattr: Vec<u8> = files["ping"]["xattrs"]["security.capability"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(xattr, cap);
}

#[test]
fn zstd_layers_flatten() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = layer(&[E::File("z", 0o644, b"zstd content")]);
    let compressed = zstd::encode_all(&plain[..], 3).unwrap();
    let dir = tmp.path().join("layout");
    let reference = layout_raw(
        &dir,
        &compressed,
        "application/vnd.oci.image.layer.v1.tar+zstd",
        &sha256(&plain),
    );
    let files = inspect_files(&tmp.path().join("store"), &reference);
    assert_eq!(files["z"]["sha256"], sha256(b"zstd content"));
}

#[test]
fn platforms_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = layout(
        &tmp.path().join("layout"),
        &[layer(&[E::File("f", 0o644, b"x")])],
        false,
    );
    sealkit(&tmp.path().join("store"))
        .args(["--platform", "linux/arm64", "inspect", &reference])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is for linux/amd64, not linux/arm64"));
}

#[test]
fn import_names_the_image_and_other_tools_read_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = layout(&tmp.path().join("layout"), &[layer(&[E::File("f", 0o644, b"x")])], true);
    let store = tmp.path().join("store");
    sealkit(&store)
        .args(["import", &reference, "--tag", "example/app:1"])
        .assert()
        .success();
    sealkit(&store)
        .arg("ls")
        .assert()
        .success()
        .stdout(predicate::str::contains("docker.io/example/app:1\tsha256:"));
    let out = sealkit(&store)
        .args(["inspect", "example/app:1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["config"]["config"]["Entrypoint"][0], "/bin/app");
    sealkit(&store).args(["rm", "example/app:1"]).assert().success();
    sealkit(&store)
        .args(["inspect", "example/app:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not in the local store"));
    sealkit(&store)
        .args(["import", "example/app:1", "--tag", "x/y:1"])
        .assert()
        .code(2);
}

/// Several sealkit processes import into one store at once: every name survives (the index is
/// rewritten under the store's lock) and every blob is intact.
#[test]
fn concurrent_imports_into_one_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let references: Vec<String> = (0..6)
        .map(|i| {
            let content = format!("image {i}");
            layout(
                &tmp.path().join(format!("l{i}")),
                &[layer(&[E::File("f", 0o644, content.as_bytes())])],
                true,
            )
        })
        .collect();
    let children: Vec<_> = references
        .iter()
        .enumerate()
        .map(|(i, reference)| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("sealkit"))
                .arg("image")
                .arg("--store")
                .arg(&store)
                .args(["import", reference, "--tag", &format!("race/img:{i}")])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let out = sealkit(&store).arg("ls").assert().success().get_output().stdout.clone();
    let listed = String::from_utf8(out).unwrap();
    for i in 0..6 {
        assert!(
            listed.contains(&format!("docker.io/race/img:{i}\t")),
            "race/img:{i} lost:\n{listed}"
        );
        sealkit(&store)
            .args(["inspect", "--files", &format!("race/img:{i}")])
            .assert()
            .success();
    }
}

/// A multi-platform index: --platform picks the manifest; a platform it lacks is an error that
/// lists what it has.
#[test]
fn indexes_pick_the_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("multi");
    // One image, then wrap its manifest in an index that declares it as linux/amd64 only.
    layout(&dir, &[layer(&[E::File("f", 0o644, b"amd64")])], false);
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest = index["manifests"][0].clone();
    let inner = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": manifest["mediaType"], "digest": manifest["digest"], "size": manifest["size"],
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    });
    let bytes = serde_json::to_vec(&inner).unwrap();
    let digest = common::sha256(&bytes);
    std::fs::write(dir.join("blobs/sha256").join(&digest[7..]), &bytes).unwrap();
    let outer = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": bytes.len(), "annotations": {"org.opencontainers.image.ref.name": "multi"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&outer).unwrap()).unwrap();
    let reference = format!("oci:{}:multi", dir.display());
    let store = tmp.path().join("store");
    let out = sealkit(&store)
        .args(["inspect", &reference])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["index"].as_str(), Some(digest.as_str()));
    sealkit(&store)
        .args(["--platform", "linux/arm64/v8", "inspect", &reference])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no image for linux/arm64/v8")
                .and(predicate::str::contains("available: linux/amd64")),
        );
}

/// Importing a BuildKit-shaped index keeps the selected image's attestation manifest and its
/// in-toto layers, verified like every blob; the store stays a layout skopeo reads (the
/// attestation is an unnamed entry of its index.json, as in BuildKit's own index), names survive
/// beside it, and a tampered attestation blob is refused like any other.
#[test]
fn attestations_are_imported_and_the_store_stays_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("attested");
    layout(&dir, &[layer(&[E::File("f", 0o644, b"x")])], true);
    let image = common::manifest_of(&dir);
    let statement = common::in_toto(
        &image,
        "https://spdx.dev/Document",
        serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": []}),
    );
    let (_, attestation) = common::attest_layout(
        &dir,
        &[common::Attestation::new("https://spdx.dev/Document", statement.clone())],
    );
    let reference = format!("oci:{}:latest", dir.display());
    let store = tmp.path().join("store");
    sealkit(&store)
        .args(["import", &reference, "--tag", "example/attested:1"])
        .assert()
        .success();
    sealkit(&store)
        .args(["import", &reference, "--tag", "example/again:1"])
        .assert()
        .success();
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(store.join("index.json")).unwrap()).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "two names and one attestation: {index:#}");
    let recorded = &entries[2];
    assert_eq!(recorded["digest"], attestation.as_str());
    assert_eq!(recorded["annotations"]["vnd.docker.reference.digest"], image.as_str());
    assert_eq!(recorded["platform"]["os"], "unknown");
    for digest in [&attestation, &sha256(&statement)] {
        assert!(store.join("blobs/sha256").join(&digest[7..]).is_file(), "{digest} kept");
    }
    // Forgetting a name keeps the attestation record (blobs and records stay, as for images).
    sealkit(&store).args(["rm", "example/again:1"]).assert().success();
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(store.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    if Process::new("skopeo").arg("--version").output().is_ok() {
        let name = format!("oci:{}:docker.io/example/attested:1", store.display());
        let out = Process::new("skopeo").args(["inspect", &name]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let copy = format!("oci:{}:x", tmp.path().join("copy").display());
        let out = Process::new("skopeo")
            .args(["copy", "-q", &name, &copy])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    // A statement whose bytes do not match its digest: the source is corrupt.
    std::fs::write(dir.join("blobs/sha256").join(&sha256(&statement)[7..]), b"{}").unwrap();
    sealkit(&tmp.path().join("store2"))
        .args(["import", &reference, "--tag", "example/attested:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("blob {}", sha256(&statement))));
}
