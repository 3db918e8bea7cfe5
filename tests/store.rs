//! The store under hostile and broken inputs: descriptors that lie about sizes or kinds, metadata
//! too large to read, attestation floods, sockets in folders, damaged store copies and killed
//! imports. Every input is made here; every refusal exits 2 with a named error, and keeps
//! nothing; the work done is bounded by counting bytes (read, stored), never by the clock.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};

mod common;

use common::{E, layer, layout, put_blob, sha256};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const ZSTD_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const TAR_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

fn sealkit(store: &Path) -> Command {
    let mut c = Command::cargo_bin("sealkit").unwrap();
    c.arg("image").arg("--store").arg(store);
    c
}

/// Writes `manifest` into the layout `dir` (whose blobs are already there) and names it
/// `latest`, its descriptor claiming `claimed` bytes when given; returns the reference.
fn name_manifest(dir: &Path, manifest: &Value, claimed: Option<u64>) -> String {
    let (digest, size) = put_blob(dir, &serde_json::to_vec(manifest).unwrap());
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": OCI_MANIFEST, "digest": digest, "size": claimed.unwrap_or(size as u64),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("oci:{}:latest", dir.display())
}

/// A one-layer layout whose layer descriptor has the given type and claimed size, the layer's
/// blob being `blob`; the config lists `plain`'s digest as the diff_id.
fn layout_claiming(dir: &Path, blob: &[u8], plain: &[u8], media_type: &str, claimed: u64) -> (String, String) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let (layer_digest, _) = put_blob(dir, blob);
    let config = json!({"architecture": "amd64", "os": "linux",
                        "rootfs": {"type": "layers", "diff_ids": [sha256(plain)]}});
    let (cd, cn) = put_blob(dir, &serde_json::to_vec(&config).unwrap());
    let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": cn},
        "layers": [{"mediaType": media_type, "digest": layer_digest, "size": claimed}]});
    (name_manifest(dir, &manifest, None), layer_digest)
}

/// Every file under `dir`: the store's footprint.
fn files_under(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let m = std::fs::symlink_metadata(&path).unwrap();
            if m.is_dir() {
                stack.push(path);
            } else {
                out.push((path, m.len()));
            }
        }
    }
    out
}

fn stored_bytes(store: &Path) -> u64 {
    files_under(store).iter().map(|(_, n)| n).sum()
}

fn temp_files(store: &Path) -> Vec<PathBuf> {
    files_under(&store.join("tmp")).into_iter().map(|(p, _)| p).collect()
}

/// Asserts the store holds nothing of a refused import but its empty layout.
fn assert_kept_nothing(store: &Path, blob: &str) {
    assert!(!store.join("blobs/sha256").join(&blob[7..]).exists(), "{blob} stored");
    assert_eq!(temp_files(store), Vec::<PathBuf>::new());
    assert!(stored_bytes(store) < 64 << 10, "{} bytes stored", stored_bytes(store));
}

/// Bytes this thread has read through system calls (Linux's per-thread I/O accounting).
fn bytes_read_by_this_thread() -> u64 {
    let io = std::fs::read_to_string("/proc/thread-self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .parse()
        .unwrap()
}

/// A docker-archive holding the OCI layout `dir`, as Docker 25+ writes them.
fn archive_of(dir: &Path, out: &Path) -> String {
    let mut builder = tar::Builder::new(std::fs::File::create(out).unwrap());
    builder.append_dir_all(".", dir).unwrap();
    builder.finish().unwrap();
    format!("docker-archive:{}", out.display())
}

/// Issue 13 item 3: a layer whose descriptor claims 60 GiB is a 1 MiB zstd stream. Refused at
/// import (from a layout, a docker-archive's layout), keeping nothing; a blob longer than its
/// descriptor is read one byte past the claimed size, however long it is.
#[test]
fn a_descriptor_must_give_its_blobs_size() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = layer(&[E::File("zeros", 0o644, &vec![0u8; 1 << 20])]);
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    let dir = tmp.path().join("short");
    let (reference, blob) = layout_claiming(&dir, &zst, &plain, ZSTD_LAYER, 60 << 30);
    let short = format!(
        "blob {blob} has {} bytes, but its descriptor says 64424509440",
        zst.len()
    );
    let archive = archive_of(&dir, &tmp.path().join("short.tar"));
    for (i, source) in [reference, archive].iter().enumerate() {
        let store = tmp.path().join(format!("store{i}"));
        sealkit(&store)
            .args(["import", source, "--tag", "x/short:1"])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("error[digest-mismatch]")
                    .and(predicate::str::contains(&short))
                    .and(predicate::str::contains("nothing was stored")),
            );
        assert_kept_nothing(&store, &blob);
    }

    // An 8 GiB (sparse) blob whose descriptor says 1 MiB.
    let dir = tmp.path().join("long");
    let (reference, blob) = layout_claiming(&dir, b"placeholder", b"", TAR_LAYER, 1 << 20);
    let long = dir.join("blobs/sha256").join(&blob[7..]);
    std::fs::File::create(&long).unwrap().set_len(8 << 30).unwrap();
    let store = tmp.path().join("store-long");
    sealkit(&store)
        .args(["import", &reference, "--tag", "x/long:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "blob {blob} is longer than its descriptor's 1048576 bytes"
        )));
    assert_kept_nothing(&store, &blob);
    // The same import in this thread, counting what it reads: the claimed size and a buffer,
    // plus the small JSON documents; not the 8 GiB.
    let store = sealkit::image::Store::open(&tmp.path().join("store-counted")).unwrap();
    let before = bytes_read_by_this_thread();
    let err = sealkit::image::import(
        &store,
        &reference.parse().unwrap(),
        "docker.io/x/long:1",
        &Default::default(),
    )
    .unwrap_err();
    let read = bytes_read_by_this_thread() - before;
    assert_eq!(err.code(), sealkit::image::Code::DigestMismatch.as_str());
    assert!(read < (1 << 20) + (256 << 10), "{read} bytes read");
}

/// The layer reader bounds decompression by the layer's size, so that size must be the stored
/// blob's: a store whose manifest claims 60 GiB for a small zstd layer (written by hand, as an
/// older sealkit could have kept it) is refused when the layer is opened, before decompressing.
#[test]
fn the_decompression_bound_is_the_stored_size() {
    let tmp = tempfile::tempdir().unwrap();
    let store = sealkit::image::Store::open(&tmp.path().join("store")).unwrap();
    let plain = layer(&[E::File("zeros", 0o644, &vec![0u8; 64 << 20])]);
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    let metadata = sealkit::image::store::METADATA;
    let layer = store.write_bytes(&zst, sealkit::image::store::LAYER, "test").unwrap();
    let config = json!({"architecture": "amd64", "os": "linux",
                        "rootfs": {"type": "layers", "diff_ids": [sha256(&plain)]}});
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = store.write_bytes(&config, metadata, "test").unwrap();
    let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest.to_string(), "size": config.len()},
        "layers": [{"mediaType": ZSTD_LAYER, "digest": layer.to_string(), "size": 60u64 << 30}]});
    let manifest = store
        .write_bytes(&serde_json::to_vec(&manifest).unwrap(), metadata, "test")
        .unwrap();
    let image = sealkit::image::resolve::resolve_manifest(&store, "test", &manifest, &Default::default())
        .unwrap()
        .unwrap();
    let err = sealkit::image::Rootfs::flatten(&store, &image).err().unwrap();
    assert_eq!(err.code(), sealkit::image::Code::CorruptStore.as_str());
    assert!(
        err.to_string().contains(&format!(
            "blob {layer} has {} bytes in the store, but the image's descriptor says 64424509440",
            zst.len()
        )),
        "{err}"
    );
}

/// A 500 MB manifest or config (sparse files) is refused by its descriptor's size, before a byte
/// of it is copied.
#[test]
fn metadata_over_the_limit_is_refused_before_it_is_copied() {
    let tmp = tempfile::tempdir().unwrap();
    let huge = 500_000_000u64;
    let refusal = |blob: &str| {
        format!(
            "blob {blob} is {huge} bytes by its descriptor, more than a manifest, index or config may be (4194304 bytes); nothing was copied"
        )
    };

    let dir = tmp.path().join("manifest");
    let reference = layout(&dir, &[layer(&[E::File("f", 0o644, b"x")])], false);
    let manifest = common::manifest_of(&dir);
    std::fs::File::options()
        .append(true)
        .open(dir.join("blobs/sha256").join(&manifest[7..]))
        .unwrap()
        .set_len(huge)
        .unwrap();
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["size"] = json!(huge);
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let store = tmp.path().join("store1");
    sealkit(&store)
        .args(["import", &reference, "--tag", "x/huge:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[limit-exceeded]").and(predicate::str::contains(refusal(&manifest))));
    assert_kept_nothing(&store, &manifest);

    let dir = tmp.path().join("config");
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let config = sha256(b"a config that is not there");
    std::fs::File::create(dir.join("blobs/sha256").join(&config[7..]))
        .unwrap()
        .set_len(huge)
        .unwrap();
    let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config, "size": huge}, "layers": []});
    let reference = name_manifest(&dir, &manifest, None);
    let store = tmp.path().join("store2");
    sealkit(&store)
        .args(["import", &reference, "--tag", "x/huge:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(refusal(&config)));
    assert_kept_nothing(&store, &config);
}

/// A manifest is read as what it says it is, and so are its config and layers.
#[test]
fn manifests_must_say_what_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = layer(&[E::File("f", 0o644, b"x")]);
    // (case, field of the manifest, the type it is given, the error)
    let cases = [
        (
            "index",
            "/mediaType",
            "application/vnd.oci.image.index.v1+json",
            "the image manifest says its mediaType is application/vnd.oci.image.index.v1+json",
        ),
        (
            "list",
            "/mediaType",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "its mediaType is application/vnd.docker.distribution.manifest.list.v2+json",
        ),
        (
            "config-as-layer",
            "/config/mediaType",
            TAR_LAYER,
            "is typed application/vnd.oci.image.layer.v1.tar, not as an image config",
        ),
        (
            "layer-as-config",
            "/layers/0/mediaType",
            OCI_CONFIG,
            "is typed application/vnd.oci.image.config.v1+json, not as a layer",
        ),
        (
            "layer-as-manifest",
            "/layers/0/mediaType",
            OCI_MANIFEST,
            "is typed application/vnd.oci.image.manifest.v1+json, not as a layer",
        ),
    ];
    for (name, field, media_type, message) in cases {
        let dir = tmp.path().join(name);
        let (reference, _) = layout_claiming(&dir, &plain, &plain, TAR_LAYER, plain.len() as u64);
        let manifest_digest = common::manifest_of(&dir);
        let mut manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(&manifest_digest[7..])).unwrap())
                .unwrap();
        *manifest.pointer_mut(field).unwrap() = json!(media_type);
        name_manifest(&dir, &manifest, None);
        sealkit(&tmp.path().join(format!("store-{name}")))
            .args(["import", &reference, "--tag", "x/typed:1"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("error[bad-metadata]").and(predicate::str::contains(message)));
    }
}

/// 9,000 attestation manifests, none of whose blobs the source has: the first 16 are recorded
/// (cataloguing reports them), the rest left out, and one line says so.
#[test]
fn attestations_are_bounded_and_summed_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("flood");
    layout(&dir, &[layer(&[E::File("f", 0o644, b"x")])], false);
    let image = common::manifest_of(&dir);
    let mut manifests = vec![json!({"mediaType": OCI_MANIFEST, "digest": image, "size": 1,
                                    "platform": {"architecture": "amd64", "os": "linux"}})];
    let top: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    manifests[0]["size"] = top["manifests"][0]["size"].clone();
    for i in 0..9000 {
        manifests.push(json!({"mediaType": OCI_MANIFEST, "digest": sha256(format!("absent {i}").as_bytes()), "size": 500,
            "platform": {"architecture": "unknown", "os": "unknown"},
            "annotations": {"vnd.docker.reference.digest": image, "vnd.docker.reference.type": "attestation-manifest"}}));
    }
    let index = serde_json::to_vec(&json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}))
    .unwrap();
    let (index_digest, index_size) = put_blob(&dir, &index);
    let top = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": index_digest, "size": index_size, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    let store = tmp.path().join("store");
    let out = sealkit(&store)
        .args(["import", &format!("oci:{}:latest", dir.display()), "--tag", "x/flood:1"])
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    let first_missing = sha256(b"absent 0");
    assert!(
        lines[0].starts_with(&format!(
            "note: oci:{}: attestations not kept whole (17 problems): 8984 attestation manifests beyond the first 16 left out; blob {first_missing} is missing",
            dir.display()
        )) && lines[0].ends_with("; and 14 more"),
        "{}",
        lines[0]
    );
    let recorded: Value = serde_json::from_slice(&std::fs::read(store.join("index.json")).unwrap()).unwrap();
    assert_eq!(recorded["manifests"].as_array().unwrap().len(), 1 + 16);
    assert!(std::fs::metadata(store.join("index.json")).unwrap().len() < 16 << 10);
}

/// A socket cannot go in a tar: left out of a `dir:` import with one note, and the image reads.
#[test]
fn sockets_in_a_folder_are_left_out_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("run")).unwrap();
    std::fs::write(root.join("run/kept"), b"kept").unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(root.join("run/app.sock")).unwrap();
    let store = tmp.path().join("store");
    sealkit(&store)
        .args(["import", &format!("dir:{}", root.display()), "--tag", "x/sockets:1"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "note: dir:{}: run/app.sock: a socket, which no image can hold: left out\n",
            root.display()
        )));
    let out = sealkit(&store)
        .args(["inspect", "--files", "x/sockets:1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let files = &serde_json::from_slice::<Value>(&out).unwrap()["files"];
    assert_eq!(files["run/kept"]["type"], "file");
    assert!(files.get("run/app.sock").is_none(), "{files:#}");
}

/// Issue 13 item 10: a damaged store copy (changed, truncated) is reported with a hint that
/// works, and importing again (or `rm` then import) replaces it.
#[test]
fn a_damaged_store_copy_is_repaired_by_importing_again() {
    let tmp = tempfile::tempdir().unwrap();
    let content = vec![7u8; 100_000];
    let dir = tmp.path().join("layout");
    let reference = layout(&dir, &[layer(&[E::File("f", 0o644, &content)])], true);
    let manifest = common::manifest_of(&dir);
    let manifest_json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(&manifest[7..])).unwrap()).unwrap();
    let layer_digest = manifest_json["layers"][0]["digest"].as_str().unwrap().to_owned();
    let store = tmp.path().join("store");
    let import = || {
        sealkit(&store)
            .args(["import", &reference, "--tag", "x/app:1"])
            .assert()
            .success();
    };
    let damage = |digest: &str, how: &dyn Fn(&mut Vec<u8>)| {
        let path = store.join("blobs/sha256").join(&digest[7..]);
        let mut bytes = std::fs::read(&path).unwrap();
        how(&mut bytes);
        std::fs::write(&path, bytes).unwrap();
    };
    let check = |fails: bool| {
        let assert = sealkit(&store).args(["inspect", "--files", "x/app:1"]).assert();
        if fails {
            assert
                .code(2)
                .stderr(predicate::str::contains("import or pull the image again"));
        } else {
            assert.success();
        }
    };
    import();
    damage(&layer_digest, &|b| b[100] ^= 1);
    check(true);
    import();
    check(false);

    damage(&layer_digest, &|b| b.truncate(b.len() / 2));
    sealkit(&store)
        .args(["inspect", "--files", "x/app:1"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("error[corrupt-store]").and(predicate::str::contains(
                "hint: the store's copy is damaged: import or pull the image again, which replaces it",
            )),
        );
    sealkit(&store).args(["rm", "x/app:1"]).assert().success();
    import();
    check(false);

    damage(&manifest, &|b| b[0] = b' ');
    sealkit(&store).args(["inspect", "x/app:1"]).assert().code(2).stderr(
        predicate::str::contains("does not match its digest").and(predicate::str::contains(
            "the store's copy is damaged: import or pull the image again",
        )),
    );
    import();
    check(false);
}

/// Issue 13 item 10: an import killed mid-copy leaves its temp file, which the next open of the
/// store removes; a live import's temp file is never touched, while a concurrent `ls` opens the
/// store. The source is a FIFO the test feeds, so the import is caught mid-copy, by state.
#[test]
fn a_killed_import_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("slow");
    let (reference, blob) = layout_claiming(&dir, b"placeholder", b"", TAR_LAYER, 4 << 20);
    let fifo = dir.join("blobs/sha256").join(&blob[7..]);
    std::fs::remove_file(&fifo).unwrap();
    assert!(Process::new("mkfifo").arg(&fifo).status().unwrap().success());
    let store = tmp.path().join("store");
    sealkit(&store).arg("ls").assert().success();
    let mut importer = Process::new(assert_cmd::cargo::cargo_bin("sealkit"))
        .arg("image")
        .arg("--store")
        .arg(&store)
        .args(["import", &reference, "--tag", "x/slow:1"])
        .spawn()
        .unwrap();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        // Cut short if the importer is killed first.
        let _ = pipe.write_all(&vec![0u8; 1 << 20]);
        let _ = finished.recv();
    });
    // Until the importer has copied most of what it was fed (a failure guard, not a measure).
    let deadline = Instant::now() + Duration::from_secs(120);
    let live = loop {
        if let Some((path, _)) = files_under(&store.join("tmp"))
            .into_iter()
            .find(|(_, n)| *n >= 512 << 10)
        {
            break path;
        }
        assert!(importer.try_wait().unwrap().is_none(), "the import ended early");
        assert!(Instant::now() < deadline, "the import never copied its input");
        std::thread::sleep(Duration::from_millis(20));
    };
    sealkit(&store).arg("ls").assert().success();
    assert!(live.exists(), "a live import's temp file was removed");

    importer.kill().unwrap();
    importer.wait().unwrap();
    done.send(()).unwrap();
    feeder.join().unwrap();
    // And what an older interruption left: 8 GiB (sparse).
    std::fs::File::create(store.join("tmp/.tmpOLDER"))
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    assert_eq!(temp_files(&store).len(), 2);
    sealkit(&store).arg("ls").assert().success();
    assert_eq!(temp_files(&store), Vec::<PathBuf>::new());
    assert!(stored_bytes(&store) < 64 << 10);
}

/// Issue 12 item 3: an image the store lacks is named with the store, and how to use another.
#[test]
fn an_image_not_in_the_store_names_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let expected = format!(
        "error[not-in-store]: docker.io/example/none:1: not in the local store {}\n  hint: pull it (sealkit image pull docker.io/example/none:1) or import it (sealkit image import SRC --tag docker.io/example/none:1), or point at the store that holds it with --store DIR or SEALKIT_STORE=DIR\n",
        store.display()
    );
    sealkit(&store)
        .args(["inspect", "example/none:1"])
        .assert()
        .code(2)
        .stderr(expected.clone());
    Command::cargo_bin("sealkit")
        .unwrap()
        .env("SEALKIT_STORE", &store)
        .args(["image", "inspect", "example/none:1"])
        .assert()
        .code(2)
        .stderr(expected);
}

/// A folder's import clamps mtimes to SOURCE_DATE_EPOCH; a value that is not a number is an
/// error, never silently ignored (which would make the layer depend on the clock).
#[test]
fn a_folder_import_refuses_a_bad_source_date_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a"), b"a").unwrap();
    let store = tmp.path().join("store");
    sealkit(&store)
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .args(["import", &format!("dir:{}", root.display()), "--tag", "x:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error[bad-source-date-epoch]: SOURCE_DATE_EPOCH: \"yesterday\"",
        ));
    let imported = |epoch: &str| {
        sealkit(&store)
            .env("SOURCE_DATE_EPOCH", epoch)
            .args(["import", &format!("dir:{}", root.display()), "--tag", "x:1"])
            .assert()
            .success();
        let out = sealkit(&store).args(["inspect", "x:1"]).output().unwrap();
        let digest = serde_json::from_slice::<Value>(&out.stdout).unwrap()["manifest"].clone();
        assert!(digest.as_str().is_some_and(|d| d.starts_with("sha256:")), "{digest}");
        digest
    };
    assert_eq!(
        imported("1"),
        imported("1"),
        "the same tree and epoch give the same image"
    );
    assert_ne!(
        imported("1"),
        imported("4000000000"),
        "the epoch clamps the files' times"
    );
}
