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

/// The sealkit binary, with its store at `store`.
pub fn sealkit(store: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("sealkit").unwrap();
    c.env("SEALKIT_STORE", store);
    c
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
}

pub fn layer(entries: &[E]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        if let E::Xattr(key, value) = e {
            let mut record = Vec::new();
            let body_len = format!("SCHILY.xattr.{key}=").len() + value.len() + 2;
            // The length prefix counts itself.
            let mut total = body_len + 1;
            while format!("{total} ").len() + body_len - 1 != total {
                total = format!("{total} ").len() + body_len - 1;
            }
            record.extend_from_slice(format!("{total} SCHILY.xattr.{key}=").as_bytes());
            record.extend_from_slice(value);
            record.push(b'\n');
            let mut h = tar::Header::new_ustar();
            h.as_old_mut().name[..9].copy_from_slice(b"PaxHeader");
            h.set_entry_type(tar::EntryType::XHeader);
            h.set_mode(0o644);
            h.set_size(record.len() as u64);
            h.set_cksum();
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(&record);
            out.resize(out.len().div_ceil(512) * 512, 0);
            continue;
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
            E::Xattr(..) => unreachable!("handled above"),
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
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = sha256(bytes);
        std::fs::write(blobs.join(&d[7..]), bytes).unwrap();
        (d, bytes.len())
    };
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
    let (cd, cn) = put(&serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": descriptors,
    });
    let (md, mn) = put(&serde_json::to_vec(&manifest).unwrap());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
                       "annotations": {"org.opencontainers.image.ref.name": "latest"}}],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("oci:{}:latest", dir.display())
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
