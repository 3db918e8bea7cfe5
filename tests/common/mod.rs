//! Helpers shared by the integration tests: hand-made layers and OCI layouts.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// The fixture images' OCI layouts (fixtures/build), if built; CI must have built them.
pub fn fixture_layouts(images: &[&str]) -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/out/oci");
    let present = images.iter().all(|i| dir.join(i).join("index.json").is_file());
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI must run fixtures/build first (scripts/test does)"
    );
    present.then_some(dir)
}

/// The sealkit binary, with its store at `store` and a Sigstore cache of its own (so a root the
/// user installed with `sealkit trust update` never reaches a test: the embedded one is used).
pub fn sealkit(store: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("sealkit").unwrap();
    c.env("SEALKIT_STORE", store);
    c.env("SEALKIT_SIGSTORE", store.join("sigstore-cache"));
    c
}

/// 2026-12-01: the day the demo's exceptions are judged on (all still live), and every time of
/// a gated image.
pub const DEMO_EPOCH: &str = "1796083200";

/// [`sealkit`] at [`DEMO_EPOCH`], with no password in the environment.
pub fn sealkit_at_demo_epoch(store: &Path) -> assert_cmd::Command {
    let mut c = sealkit(store);
    c.env("SOURCE_DATE_EPOCH", DEMO_EPOCH).env_remove("SEALKIT_PASSWORD");
    c
}

/// `sealkit gate CONFIG --key KEY -o OUT EXTRA…` at [`DEMO_EPOCH`]; it may pass or fail, never
/// panic.
pub fn gate(store: &Path, config: &Path, key: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let out = sealkit_at_demo_epoch(store)
        .arg("gate")
        .arg(config)
        .arg("--key")
        .arg(key)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fresh key pair `dir/NAME.key`, `dir/NAME.pub` made by `sealkit keygen`.
pub fn keypair(store: &Path, dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    sealkit(store)
        .arg("keygen")
        .arg("-o")
        .arg(dir.join(name))
        .assert()
        .success();
    (dir.join(format!("{name}.key")), dir.join(format!("{name}.pub")))
}

/// Imports fixture images from their layouts in `dir` as `sealkit-fixtures/NAME:1`, in order.
pub fn import_fixtures(store: &Path, dir: &Path, images: &[&str]) {
    for image in images {
        sealkit(store)
            .args([
                "image",
                "import",
                &format!("oci:{}:1", dir.join(image).display()),
                "--tag",
                &format!("sealkit-fixtures/{image}:1"),
            ])
            .assert()
            .success();
    }
}

/// The images examples/demo.yml uses.
pub const DEMO_IMAGES: [&str; 6] = ["kernel", "init", "getty", "sshd", "hello", "selftest"];

/// A store in `dir` holding the demo's images (imported in `order`), and a copy of the demo
/// configuration in `dir/config/`, beside no lock file; `None` when the fixtures are not built.
pub fn demo(dir: &Path, order: &[&str]) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let layouts = fixture_layouts(&DEMO_IMAGES)?;
    let store = dir.join("store");
    import_fixtures(&store, &layouts, order);
    let config = dir.join("config/demo.yml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.yml"), &config).unwrap();
    Some((store, config))
}

pub mod registry;

/// The npm @sigstore/verify peer (scripts/test installs it), if present.
pub fn sigstore_js() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("SEALKIT_SIGSTORE_JS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("/opt/peers/sigstore-verify"));
    let present = dir.join("node_modules/@sigstore/verify").is_dir();
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI needs @sigstore/verify (scripts/test)"
    );
    present.then_some(dir)
}

/// The third-party verifiers' scripts (tests/peers).
pub fn peers() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// One tar entry of a hand-made layer. Names are written raw, so hostile ones survive.
pub enum E<'a> {
    Dir(&'a str, u32),
    File(&'a str, u32, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Fifo(&'a str),
    /// A regular file with an owner: name, mode, content, uid, gid.
    Owned(&'a str, u32, &'a [u8], u64, u64),
    /// A character device (major, minor).
    Char(&'a str, u32, u32),
    /// A PAX header carrying one extended attribute for the entry that follows.
    Xattr(&'a str, &'a [u8]),
    /// A PAX header of these records (key, value) for the entry that follows.
    Pax(&'a [(&'a str, &'a [u8])]),
    /// A GNU long name (`b'L'`) or long link (`b'K'`) for the entry that follows, as written
    /// (with its terminating NUL, or not).
    Gnu(u8, &'a [u8]),
}

/// One PAX record: `LENGTH KEY=VALUE\n`, the length counting its own digits.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut total = body + 1;
    while total.to_string().len() + body != total {
        total = total.to_string().len() + body;
    }
    let mut record = format!("{total} {key}=").into_bytes();
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

/// A header of an extension (`x`, `L`, `K`) and its data.
fn extension(out: &mut Vec<u8>, kind: tar::EntryType, name: &[u8], data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(data.len() as u64);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

pub fn layer(entries: &[E]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        match e {
            E::Xattr(key, value) => {
                let record = pax_record(&format!("SCHILY.xattr.{key}"), value);
                extension(&mut out, tar::EntryType::XHeader, b"PaxHeader", &record);
                continue;
            }
            E::Pax(records) => {
                let data: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
                extension(&mut out, tar::EntryType::XHeader, b"PaxHeader", &data);
                continue;
            }
            E::Gnu(kind, name) => {
                extension(&mut out, tar::EntryType::new(*kind), b"././@LongLink", name);
                continue;
            }
            _ => {}
        }
        let mut h = tar::Header::new_ustar();
        let (uid, gid) = if let E::Owned(_, _, _, uid, gid) = e {
            (*uid, *gid)
        } else {
            (0, 0)
        };
        let (name, kind, mode, data, link): (&str, tar::EntryType, u32, &[u8], Option<&str>) = match e {
            E::Dir(n, m) => (n, tar::EntryType::Directory, *m, b"", None),
            E::File(n, m, d) | E::Owned(n, m, d, _, _) => (n, tar::EntryType::Regular, *m, d, None),
            E::Symlink(n, t) => (n, tar::EntryType::Symlink, 0o777, b"", Some(t)),
            E::Hardlink(n, t) => (n, tar::EntryType::Link, 0o644, b"", Some(t)),
            E::Fifo(n) => (n, tar::EntryType::Fifo, 0o644, b"", None),
            E::Char(n, major, minor) => {
                h.set_device_major(*major).unwrap();
                h.set_device_minor(*minor).unwrap();
                (n, tar::EntryType::Char, 0o620, b"", None)
            }
            E::Xattr(..) | E::Pax(..) | E::Gnu(..) => unreachable!("handled above"),
        };
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes an OCI layout holding one image of the given (uncompressed) layers, gzip-compressed
/// when `compress`; returns the `oci:DIR:latest` reference.
pub fn layout(dir: &Path, layers: &[Vec<u8>], compress: bool) -> String {
    layout_with(dir, layers, compress, None)
}

/// As [`layout`], with the config's diff_ids replaced by `diff_ids` when given.
pub fn layout_with(dir: &Path, layers: &[Vec<u8>], compress: bool, diff_ids_override: Option<Vec<String>>) -> String {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let put = |bytes: &[u8]| put_blob(dir, bytes);
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for l in layers {
        diff_ids.push(sha256(l));
        let (blob, media) = if compress {
            (gzip(l), "application/vnd.oci.image.layer.v1.tar+gzip")
        } else {
            (l.clone(), "application/vnd.oci.image.layer.v1.tar")
        };
        let (d, n) = put(&blob);
        descriptors.push(serde_json::json!({"mediaType": media, "digest": d, "size": n}));
    }
    let diff_ids = diff_ids_override.unwrap_or(diff_ids);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/bin/app"], "Labels": {"org.mobyproject.config": "{\"capabilities\":[\"CAP_KILL\"]}"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let (md, mn) = put_manifest(dir, &config, descriptors);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
                       "annotations": {"org.opencontainers.image.ref.name": "latest"}}],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("oci:{}:latest", dir.display())
}

/// Writes a blob into the layout `dir`; returns its digest and size.
pub fn put_blob(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let d = sha256(bytes);
    std::fs::write(dir.join("blobs/sha256").join(&d[7..]), bytes).unwrap();
    (d, bytes.len())
}

/// Writes `config` and an OCI manifest of it and `layers` into the layout `dir`; returns the
/// manifest's digest and size.
pub fn put_manifest(dir: &Path, config: &serde_json::Value, layers: Vec<serde_json::Value>) -> (String, usize) {
    let (cd, cn) = put_blob(dir, &serde_json::to_vec(config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": layers,
    });
    put_blob(dir, &serde_json::to_vec(&manifest).unwrap())
}

/// An in-toto statement (v0.1, as BuildKit writes them) about `subject` (`sha256:…`).
pub fn in_toto(subject: &str, predicate_type: &str, predicate: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": predicate_type,
        "subject": [{"name": "pkg:docker/example/app@1?platform=linux%2Famd64",
                     "digest": {"sha256": subject.trim_start_matches("sha256:")}}],
        "predicate": predicate,
    }))
    .unwrap()
}

/// One layer of an attestation manifest: its predicate-type annotation, and its blob — or, with
/// `None`, a descriptor of `size` bytes whose blob the layout lacks.
pub struct Attestation<'a> {
    pub predicate_type: &'a str,
    pub blob: Option<Vec<u8>>,
    pub size: usize,
}

impl<'a> Attestation<'a> {
    pub fn new(predicate_type: &'a str, blob: Vec<u8>) -> Self {
        let size = blob.len();
        Attestation {
            predicate_type,
            blob: Some(blob),
            size,
        }
    }
}

/// Rewrites the one-image layout `dir` (made by [`layout`]) the way BuildKit exports an image
/// with `--attest type=sbom`: index.json names an image index holding the linux/amd64 manifest
/// and an attestation manifest (platform unknown/unknown, `vnd.docker.reference.*` annotations)
/// whose layers are the given in-toto blobs. Returns (the image manifest's digest, the
/// attestation manifest's digest).
pub fn attest_layout(dir: &Path, attestations: &[Attestation]) -> (String, String) {
    let put = |bytes: &[u8]| put_blob(dir, bytes);
    let top: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let image = &top["manifests"][0];
    let image_digest = image["digest"].as_str().unwrap().to_owned();
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for a in attestations {
        let digest = match &a.blob {
            Some(blob) => put(blob).0,
            None => sha256(format!("absent {}", a.size).as_bytes()),
        };
        diff_ids.push(digest.clone());
        layers.push(
            serde_json::json!({"mediaType": "application/vnd.in-toto+json", "digest": digest, "size": a.size,
                                        "annotations": {"in-toto.io/predicate-type": a.predicate_type}}),
        );
    }
    let config = serde_json::json!({"architecture": "unknown", "os": "unknown", "config": {},
                                     "rootfs": {"type": "layers", "diff_ids": diff_ids}});
    let (ad, an) = put_manifest(dir, &config, layers);
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": image["mediaType"], "digest": image_digest, "size": image["size"],
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ad, "size": an,
             "platform": {"architecture": "unknown", "os": "unknown"},
             "annotations": {"vnd.docker.reference.digest": image_digest,
                             "vnd.docker.reference.type": "attestation-manifest"}},
        ],
    });
    let (id, n) = put(&serde_json::to_vec(&index).unwrap());
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": id, "size": n,
                       "annotations": {"org.opencontainers.image.ref.name": "latest"}}],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    (image_digest, ad)
}

/// The digest of the one image manifest index.json of a [`layout`] names.
pub fn manifest_of(dir: &Path) -> String {
    let top: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    top["manifests"][0]["digest"].as_str().unwrap().to_owned()
}

pub const SPDX: &str = "https://spdx.dev/Document";

/// An image with packages alpha and beta (dpkg), in a BuildKit-shaped layout whose attestation
/// manifest carries `extra` besides an SPDX statement listing alpha and gamma. Returns the
/// reference, the image manifest's digest and the SPDX statement's digest.
pub fn attested_image(dir: &Path, extra: &dyn Fn(&str) -> Vec<Attestation<'static>>) -> (String, String, String) {
    let status = b"Package: alpha\nStatus: install ok installed\nMaintainer: Test <t@example.org>\nVersion: 1\nArchitecture: amd64\n\nPackage: beta\nStatus: install ok installed\nMaintainer: Test <t@example.org>\nVersion: 2\nArchitecture: amd64\n";
    let reference = layout(
        dir,
        &[layer(&[
            E::Dir("var/", 0o755),
            E::Dir("var/lib/", 0o755),
            E::Dir("var/lib/dpkg/", 0o755),
            E::File("var/lib/dpkg/status", 0o644, status),
        ])],
        true,
    );
    let image = manifest_of(dir);
    let spdx = in_toto(
        &image,
        SPDX,
        serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": [{"name": "alpha"}, {"name": "gamma"}]}),
    );
    let spdx_digest = sha256(&spdx);
    let mut attestations = vec![Attestation::new(SPDX, spdx)];
    attestations.extend(extra(&image));
    attest_layout(dir, &attestations);
    (reference, image, spdx_digest)
}

/// The attached SBOM of a BuildKit attestation, with the exact differences.
pub fn assert_attested(catalog: &serde_json::Value, spdx_digest: &str) {
    let attached = catalog["attached"].as_array().unwrap();
    let entry = attached
        .iter()
        .find(|a| a["path"] == format!("attestation:{spdx_digest}"))
        .unwrap_or_else(|| panic!("no attestation entry: {catalog:#}"));
    assert_eq!(entry["format"], "spdx");
    assert_eq!(entry["packages"], 2);
    assert_eq!(entry["only_in_sbom"], serde_json::json!(["gamma"]));
    assert_eq!(entry["only_in_image"], serde_json::json!(["beta"]));
}

/// `sealkit sbom REFERENCE --format json` over the store `store`, parsed.
pub fn sbom_json(store: &Path, reference: &str) -> serde_json::Value {
    let out = assert_cmd::Command::cargo_bin("sealkit")
        .unwrap()
        .env("SEALKIT_STORE", store)
        .args(["sbom", reference, "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// The LinuxKit corpus (../shared/linuxkit-examples, or $SEALKIT_LINUXKIT_EXAMPLES).
pub fn corpus_root() -> std::path::PathBuf {
    let root = std::env::var_os("SEALKIT_LINUXKIT_EXAMPLES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/linuxkit-examples"));
    assert!(
        root.join("README.md").is_file(),
        "the LinuxKit corpus is missing at {} (set SEALKIT_LINUXKIT_EXAMPLES)",
        root.display()
    );
    root
}

pub fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml") && path.file_name().is_some_and(|n| n != "build.yml") {
            out.push(path);
        }
    }
}

/// examples/*.yml, the two root files and every YAML file of test/ but the package build files.
pub fn corpus_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files = vec![root.join("linuxkit.yml"), root.join("linuxkit-template.yml")];
    yaml_files(&root.join("examples"), &mut files);
    yaml_files(&root.join("test"), &mut files);
    files
}

/// A store with `images`, and a copy of examples/`example` (with its exceptions file, when it
/// has one) locked against it; `None` when the fixtures are not built.
pub fn locked_example(tmp: &Path, example: &str, images: &[&str]) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let layouts = fixture_layouts(images)?;
    let store = tmp.join("store");
    import_fixtures(&store, &layouts, images);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let config = tmp.join(example);
    std::fs::copy(examples.join(example), &config).unwrap();
    let exceptions = example.replace(".yml", ".exceptions.yaml");
    if examples.join(&exceptions).is_file() {
        std::fs::copy(examples.join(&exceptions), tmp.join(&exceptions)).unwrap();
    }
    sealkit(&store)
        .arg("lock")
        .arg(&config)
        .arg("--offline")
        .assert()
        .success();
    Some((store, config))
}

/// virt-fw-vars (the validators' virt-firmware, scripts/test), when installed.
pub fn virt_fw_vars() -> Option<std::path::PathBuf> {
    std::env::var_os("SEALKIT_VALIDATORS")
        .map(|v| Path::new(&v).join("virt-fw-vars"))
        .filter(|p| p.exists())
}

/// A copy of OVMF's variable store at `out` with the PK, KEK and db of `keys` (a folder
/// `sealkit keygen --secure-boot` wrote) enrolled by `virt_fw_vars`, Secure Boot on and no
/// Microsoft keys.
pub fn enrolled_vars(virt_fw_vars: &Path, keys: &Path, out: &Path) {
    let owner = std::fs::read_to_string(keys.join("owner.guid")).unwrap();
    let enrol = std::process::Command::new(virt_fw_vars)
        .args(["--input", "/usr/share/OVMF/OVMF_VARS_4M.fd", "--output"])
        .arg(out)
        .args(["--set-pk", owner.trim()])
        .arg(keys.join("PK.crt"))
        .args(["--add-kek", owner.trim()])
        .arg(keys.join("KEK.crt"))
        .args(["--add-db", owner.trim()])
        .arg(keys.join("db.crt"))
        .args(["--no-microsoft", "--secure-boot"])
        .output()
        .unwrap();
    assert!(enrol.status.success(), "{}", String::from_utf8_lossy(&enrol.stderr));
}
