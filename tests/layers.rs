//! Layers as real tools write them and as attackers shape them, through the CLI: each is read to
//! its end, or refused with exit 2 in words that name the image, the layer and the entry. The
//! shapes that once took minutes or gigabytes run under an address-space cap, so that a
//! regression aborts instead of passing slowly; the work they cost is counted by the unit tests
//! of src/image/rootfs.rs.

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
mod common;

use common::{E, gzip, layer, layout, layout_with, sha256};

/// The sealkit binary with its store at `store`.
fn sealkit(store: &Path) -> Command {
    common::sealkit(store)
}

/// The sealkit binary under an address-space cap: a regression to unbounded memory fails to
/// allocate and aborts, rather than passing slowly.
fn sealkit_capped(store: &Path, bytes: u64) -> Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={bytes}"))
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("sealkit"))
        .env("SEALKIT_STORE", store)
        // One malloc arena per thread would reserve 64 MiB of address space each.
        .env("MALLOC_ARENA_MAX", "2");
    c
}

/// What every command below may use: the normal runs need a fraction of it.
const CAP: u64 = 768 << 20;

fn files(store: &Path, reference: &str) -> serde_json::Value {
    let out = sealkit(store)
        .args(["image", "inspect", "--files", reference])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// `sealkit image inspect --files` fails with exit 2: its stderr.
fn refused(store: &Path, reference: &str) -> String {
    let out = sealkit_capped(store, CAP)
        .args(["image", "inspect", "--files", reference])
        .assert()
        .code(2)
        .get_output()
        .clone();
    String::from_utf8(out.stderr).unwrap()
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

fn run(program: &str, args: &[&str]) {
    let out = Process::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Debian bookworm's umoci (0.4.7) writes each `insert` layer without the padding after the last
/// file's data and without the closing zero blocks. Such an image is imported, flattened,
/// scanned and SBOM'd, and each layer says how it ended.
#[test]
fn layers_written_by_umoci_insert_are_read() {
    if !have_umoci() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("dpkg")).unwrap();
    std::fs::copy("/bin/true", src.join("true")).unwrap();
    std::fs::write(
        src.join("dpkg/status"),
        "Package: hello\nStatus: install ok installed\nMaintainer: T <t@example.org>\nVersion: 2.10-3\n\
         Architecture: amd64\n",
    )
    .unwrap();
    std::fs::write(src.join("os-release"), "ID=debian\nVERSION_ID=12\n").unwrap();
    let image = tmp.path().join("umoci");
    let tagged = format!("{}:1", image.display());
    run("umoci", &["init", "--layout", image.to_str().unwrap()]);
    run("umoci", &["new", "--image", &tagged]);
    for (from, to) in [
        ("true", "/usr/bin/true"),
        ("dpkg", "/var/lib/dpkg"),
        ("os-release", "/etc/os-release"),
    ] {
        run(
            "umoci",
            &["insert", "--image", &tagged, src.join(from).to_str().unwrap(), to],
        );
    }
    // What umoci wrote: tars that end right after the last byte of data.
    let raw_endings: Vec<bool> = std::fs::read_dir(image.join("blobs/sha256"))
        .unwrap()
        .filter_map(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let mut tar = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut tar).ok()?;
            Some(!tar.ends_with(&[0u8; 1024]))
        })
        .collect();
    assert_eq!(raw_endings, [true; 3], "umoci wrote footerless layers");

    let store = tmp.path().join("store");
    sealkit(&store)
        .args(["image", "import", &format!("oci:{tagged}"), "--tag", "example/umoci:1"])
        .assert()
        .success();
    let doc = files(&store, "example/umoci:1");
    assert_eq!(
        doc["files"]["usr/bin/true"]["sha256"],
        sha256(&std::fs::read("/bin/true").unwrap())
    );
    let facts = doc["layer_facts"].as_array().unwrap();
    assert_eq!(facts.len(), 3);
    for layer in facts {
        let facts = layer["facts"].as_array().unwrap();
        assert!(facts.contains(&"tar-footer-missing".into()), "{layer}");
    }
    // The status file is not a whole number of blocks: its padding is missing too.
    assert_eq!(
        facts[1]["facts"],
        serde_json::json!(["tar-padding-missing", "tar-footer-missing"])
    );

    let scan = sealkit(&store)
        .args(["scan", "example/umoci:1", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let scan: serde_json::Value = serde_json::from_slice(&scan).unwrap();
    let paths: Vec<&str> = scan["components"][0]["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["usr/bin/true"]);
    // The evidence carries each layer's facts, for a policy to warn on.
    let layer_facts: Vec<&serde_json::Value> = scan["components"][0]["image"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["facts"])
        .collect();
    assert_eq!(layer_facts, facts.iter().map(|l| &l["facts"]).collect::<Vec<_>>());
    let sbom = common::sbom_json(&store, "example/umoci:1");
    let packages: Vec<&str> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(packages, ["hello"], "{sbom:#}");
}

/// Hand-trimmed tars: the footer gone, then the last entry's padding too.
#[test]
fn layers_that_end_after_their_last_entry_are_read() {
    let whole = layer(&[E::Dir("etc/", 0o755), E::File("etc/motd", 0o644, b"hello")]);
    let footerless = whole[..whole.len() - 1024].to_vec();
    let padless = footerless[..footerless.len() - (512 - 5)].to_vec();
    for (name, bytes, facts) in [
        ("footerless", footerless, serde_json::json!(["tar-footer-missing"])),
        (
            "padless",
            padless,
            serde_json::json!(["tar-padding-missing", "tar-footer-missing"]),
        ),
        ("whole", whole, serde_json::json!([])),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let reference = layout(&tmp.path().join("layout"), std::slice::from_ref(&bytes), true);
        let doc = files(&tmp.path().join("store"), &reference);
        assert_eq!(doc["files"]["etc/motd"]["sha256"], sha256(b"hello"), "{name}");
        assert_eq!(
            doc["layer_facts"],
            serde_json::json!([{"digest": sha256(&gzip(&bytes)), "facts": facts}]),
            "{name}"
        );
    }
}

/// The exact words of representative errors: image, layer, entry, what is wrong, what to do,
/// with no empty segment.
#[test]
fn error_texts() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let case = |name: &str, layers: &[Vec<u8>], diff_ids: Option<Vec<String>>| {
        let reference = layout_with(&tmp.path().join(name), layers, false, diff_ids);
        let prefix = format!("{reference}: layer {}", sha256(&layers[0]));
        (refused(&store, &reference), prefix)
    };
    let passwd = b"root:x:0:0:root:/root:/bin/sh\n";
    let mut cut = layer(&[E::Dir("etc/", 0o755), E::File("etc/passwd", 0o644, passwd)]);
    cut.truncate(1024 + 10);
    let (text, prefix) = case("cut", &[cut], None);
    assert_eq!(
        text,
        format!(
            "error[corrupt-layer]: {prefix}: etc/passwd: the layer ends inside this entry's data (10 of its 30 bytes)\n  \
             hint: the layer is corrupt or truncated: import or pull the image again, or rebuild it\n"
        )
    );
    // Cut inside the second header: its name field is there (100 bytes), so it is named.
    let mut cut = layer(&[E::Dir("etc/", 0o755), E::File("etc/passwd", 0o644, passwd)]);
    cut.truncate(512 + 120);
    let (text, prefix) = case("cut-header", &[cut], None);
    assert_eq!(
        text,
        format!(
            "error[corrupt-layer]: {prefix}: etc/passwd: the layer ends inside this entry's header (120 of its 512 \
             bytes)\n  hint: the layer is corrupt or truncated: import or pull the image again, or rebuild it\n"
        )
    );
    // Cut before its name field is whole: the entry before it is named instead.
    let mut cut = layer(&[E::Dir("etc/", 0o755), E::File("etc/passwd", 0o644, passwd)]);
    cut.truncate(512 + 40);
    let (text, prefix) = case("cut-name", &[cut], None);
    assert_eq!(
        text,
        format!(
            "error[corrupt-layer]: {prefix}: the layer ends inside the header of the entry after etc/ (40 of its 512 \
             bytes)\n  hint: the layer is corrupt or truncated: import or pull the image again, or rebuild it\n"
        )
    );
    let (text, prefix) = case("escape", &[layer(&[E::File("../escape", 0o644, b"x")])], None);
    assert_eq!(
        text,
        format!(
            "error[hostile-layer]: {prefix}: ../escape: the entry climbs out of the root with `..`\n  hint: the layer is \
             hostile: rebuild the image from trusted sources\n"
        )
    );
    let good = layer(&[E::File("f", 0o644, b"x")]);
    let (text, prefix) = case("diffid", std::slice::from_ref(&good), Some(vec![sha256(b"other")]));
    assert_eq!(
        text,
        format!(
            "error[digest-mismatch]: {prefix}: its uncompressed content hashes to {}, but the image's config says \
             diff_id {}\n  hint: the image was altered or damaged after it was built: import or pull it again from a \
             source you trust, or rebuild it\n",
            sha256(&good),
            sha256(b"other")
        )
    );
    let (text, prefix) = case(
        "symlink",
        &[layer(&[E::Dir("a/", 0o755), E::Symlink("a/l", "../../etc/shadow")])],
        None,
    );
    assert_eq!(
        text,
        format!(
            "error[hostile-layer]: {prefix}: a/l: symlink target \"../../etc/shadow\" climbs out of the root\n  hint: the \
             layer is hostile: rebuild the image from trusted sources\n"
        )
    );
    // No error of this file has an empty segment (`: :`).
}

/// A PAX path with a NUL beside the benign name it would shorten to: cpio, GNU tar and the
/// kernel would read `bin/sh`, so it is refused.
#[test]
fn nul_in_a_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = layer(&[
        E::Dir("bin/", 0o755),
        E::File("bin/sh", 0o755, b"benign"),
        E::Pax(&[("path", b"bin/sh\0hidden")]),
        E::File("placeholder", 0o755, b"hidden"),
    ]);
    let reference = layout(&tmp.path().join("layout"), std::slice::from_ref(&bytes), false);
    let text = refused(&tmp.path().join("store"), &reference);
    assert_eq!(
        text,
        format!(
            "error[hostile-layer]: {reference}: layer {}: bin/sh\\0hidden: its name holds a NUL byte: tools that stop \
             at it would read another name\n  hint: the layer is hostile: rebuild the image from trusted sources\n",
            sha256(&bytes)
        )
    );
}

/// Shapes that once cost minutes or gigabytes are refused from their headers.
#[test]
fn oversized_names_and_attributes_are_refused_cheaply() {
    let deep = "a/".repeat(40_000) + "f";
    let long_name = vec![b'n'; 1 << 20];
    let big_xattr = vec![7u8; 32 << 20];
    let mut links = vec![E::Xattr("user.big", &big_xattr), E::File("f", 0o644, b"x")];
    let names: Vec<String> = (0..200).map(|i| format!("l{i}")).collect();
    links.extend(names.iter().map(|n| E::Hardlink(n, "f")));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "deep",
            layer(&[E::Pax(&[("path", deep.as_bytes())]), E::File("x", 0o644, b"")]),
            "its name is 80001 bytes long (Linux allows 4096)",
        ),
        (
            "long-name",
            layer(&[E::Gnu(b'L', &long_name), E::File("x", 0o644, b"")]),
            "a GNU long name of 1048576 bytes at byte 0 (the longest a name may be is 4096)",
        ),
        (
            "xattr",
            layer(&links),
            "bytes at byte 0 (the most a layer may use is 1048576)",
        ),
    ];
    for (name, bytes, message) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let reference = layout(&tmp.path().join("layout"), &[bytes], true);
        let text = refused(&tmp.path().join("store"), &reference);
        assert!(text.starts_with("error[limit-exceeded]: "), "{name}: {text}");
        assert!(text.contains(message), "{name}: {text}");
        assert!(
            text.contains("hint: sealkit reads layers within Linux's limits"),
            "{name}: {text}"
        );
    }
}

/// Twenty thousand hard links to a file with a 64 KiB attribute: the links share it, so the
/// image is scanned and built within the cap (copies would take 1.3 GB).
#[test]
fn hard_link_fan_out_shares_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let xattr = vec![7u8; 64 << 10];
    let names: Vec<String> = (0..20_000).map(|i| format!("l{i}")).collect();
    let mut entries = vec![E::Xattr("user.big", &xattr), E::File("f", 0o644, b"x")];
    entries.extend(names.iter().map(|n| E::Hardlink(n, "f")));
    let reference = layout(&tmp.path().join("layout"), &[layer(&entries)], true);
    sealkit_capped(&tmp.path().join("store"), CAP)
        .args(["scan", &reference, "--format", "json"])
        .assert()
        .success();
}

/// One layer with a 40 MiB catalog file, listed twenty times by the manifest: the SBOM keeps
/// the one copy the merged view has (twenty would take 800 MiB).
#[test]
fn sbom_keeps_catalog_files_of_the_merged_view_only() {
    let tmp = tempfile::tempdir().unwrap();
    let mut os_release = b"ID=debian\nVERSION_ID=12\n".to_vec();
    os_release.resize(40 << 20, b'#');
    os_release.push(b'\n');
    let one = layer(&[E::Dir("etc/", 0o755), E::File("etc/os-release", 0o644, &os_release)]);
    // The layout by hand: one blob, listed twenty times.
    let dir = tmp.path().join("layout");
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let (digest, size) = common::put_blob(&dir, &gzip(&one));
    let descriptor =
        serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size});
    let config = serde_json::json!({"architecture": "amd64", "os": "linux",
                                    "rootfs": {"type": "layers", "diff_ids": vec![sha256(&one); 20]}});
    let (manifest, size) = common::put_manifest(&dir, &config, vec![descriptor; 20]);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest, "size": size, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let reference = format!("oci:{}:latest", dir.display());
    let out = sealkit_capped(&tmp.path().join("store"), CAP)
        .args(["sbom", &reference, "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let sbom: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(sbom["distro"]["id"], "debian", "{}", &sbom["distro"]);
}

/// Malformed records and unknown entry types say what they are.
#[test]
fn malformed_layers_say_what_is_wrong() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "size",
            layer(&[E::Pax(&[("size", b"12x")]), E::File("f", 0o644, b"")]),
            "error[corrupt-layer]: {}: f: its PAX size record is malformed: \"12x\"",
        ),
        (
            "empty-path",
            layer(&[E::Pax(&[("path", b"")]), E::File("f", 0o644, b"data")]),
            "error[corrupt-layer]: {}: the entry whose header is at byte 1024 has an empty PAX path: it would have no \
             name",
        ),
        (
            "socket",
            {
                let mut bytes = layer(&[E::File("run/sock", 0o644, b"")]);
                bytes[156] = b' ';
                let sum: u32 = bytes[..512]
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) })
                    .sum();
                bytes[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
                bytes
            },
            "error[unsupported]: {}: run/sock: unsupported tar entry type ' ' (byte 0x20): an unknown kind of entry\n  \
             hint: layers hold files, folders, links, devices and fifos only: rebuild the layer without it",
        ),
        (
            "repeated-opaque",
            layer(&[
                E::Dir("d/", 0o755),
                E::File("d/.wh..wh..opq", 0o644, b""),
                E::File("d/.wh..wh..opq", 0o644, b""),
            ]),
            "error[hostile-layer]: {}: d/.wh..wh..opq: the layer repeats this opaque marker",
        ),
    ];
    for (name, bytes, expected) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let reference = layout(&tmp.path().join("layout"), std::slice::from_ref(&bytes), false);
        let text = refused(&tmp.path().join("store"), &reference);
        let expected = expected.replace("{}", &format!("{reference}: layer {}", sha256(&bytes)));
        assert!(text.starts_with(&expected), "{name}: {text}");
        assert!(!text.contains("Nonexhaustive"), "{name}: {text}");
    }
}
