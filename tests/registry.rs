//! Registry pull and push against a real registry (Debian's docker-registry, started here on
//! 127.0.0.1 with its storage in a temp folder), with skopeo as the independent client; and the
//! failures a registry can cause: 404, 401 (and the credentials that cure it), 500, a hang.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

mod common;

use common::registry::{http, require, skopeo, start_registry};

/// A small OCI layout with two gzip layers, written with umoci from a folder.
fn make_layout(dir: &Path) -> String {
    let layout = dir.join("layout");
    let run = |args: &[&str]| {
        let out = Process::new("umoci").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "umoci {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let image = format!("{}:v1", layout.display());
    run(&["init", "--layout", layout.to_str().unwrap()]);
    run(&["new", "--image", &image]);
    let bundle = dir.join("bundle");
    run(&["unpack", "--image", &image, bundle.to_str().unwrap()]);
    std::fs::create_dir_all(bundle.join("rootfs/etc")).unwrap();
    std::fs::write(bundle.join("rootfs/etc/motd"), "hello from the registry test\n").unwrap();
    run(&["repack", "--image", &image, bundle.to_str().unwrap()]);
    std::fs::write(bundle.join("rootfs/etc/second"), vec![b'x'; 100_000]).unwrap();
    run(&["repack", "--image", &image, bundle.to_str().unwrap()]);
    run(&["config", "--image", &image, "--config.entrypoint", "/bin/true"]);
    format!("oci:{image}")
}

fn sealkit(store: &Path) -> Command {
    let mut c = Command::cargo_bin("sealkit").unwrap();
    c.arg("image").arg("--store").arg(store);
    c
}

fn manifest_digest(store: &Path, reference: &str) -> String {
    let out = sealkit(store)
        .args(["inspect", reference])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice::<serde_json::Value>(&out).unwrap()["manifest"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn skopeo_push_sealkit_pull_and_back() {
    if !require("docker-registry") || !require("skopeo") || !require("umoci") {
        return;
    }
    let registry = start_registry(None);
    let tmp = tempfile::tempdir().unwrap();
    let source = make_layout(tmp.path());
    let remote = format!("{}/test/app:1", registry.address);

    // skopeo pushes, sealkit pulls.
    skopeo(&[
        "copy",
        "-q",
        "--dest-tls-verify=false",
        &source,
        &format!("docker://{remote}"),
    ]);
    let store = tmp.path().join("store");
    let run = sealkit(&store).args(["pull", &remote]).assert().success();
    // Its progress, as a log gets it: the image and the bytes of its blobs.
    let said = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    let progress = said
        .lines()
        .find(|l| l.trim_start().starts_with("pull "))
        .unwrap_or_else(|| panic!("no progress line: {said}"));
    assert!(
        progress.contains(", 1 image, ") && progress.ends_with("/s)"),
        "{progress}"
    );
    let pulled = manifest_digest(&store, &remote);
    let remote_digest: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{remote}"),
    ]))
    .unwrap();
    assert_eq!(
        pulled,
        remote_digest["Digest"].as_str().unwrap(),
        "same manifest, same digest"
    );
    let files = sealkit(&store)
        .args(["inspect", "--files", &remote])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let files: serde_json::Value = serde_json::from_slice(&files).unwrap();
    assert_eq!(files["files"]["etc/second"]["size"], 100_000);

    // sealkit pushes, skopeo pulls: byte-identical manifest, and a layout umoci can read.
    let pushed = format!("{}/test/pushed:2", registry.address);
    sealkit(&store).args(["push", &remote, &pushed]).assert().success();
    let back: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{pushed}"),
    ]))
    .unwrap();
    assert_eq!(back["Digest"].as_str().unwrap(), pulled);
    let copy = tmp.path().join("copy");
    skopeo(&[
        "copy",
        "-q",
        "--src-tls-verify=false",
        &format!("docker://{pushed}"),
        &format!("oci:{}:x", copy.display()),
    ]);
    let other_store = tmp.path().join("store2");
    assert_eq!(
        manifest_digest(&other_store, &format!("oci:{}:x", copy.display())),
        pulled
    );

    // Pushing again uploads nothing new and keeps the digest; pulling twice reuses the store,
    // but for a damaged copy, which the pull replaces.
    sealkit(&store).args(["push", &remote, &pushed]).assert().success();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("blobs/sha256").join(&pulled[7..])).unwrap()).unwrap();
    let layer = manifest["layers"].as_array().unwrap().last().unwrap()["digest"]
        .as_str()
        .unwrap();
    let layer_path = store.join("blobs/sha256").join(&layer[7..]);
    let mut bytes = std::fs::read(&layer_path).unwrap();
    bytes.truncate(bytes.len() - 1);
    std::fs::write(&layer_path, bytes).unwrap();
    sealkit(&store)
        .args(["inspect", "--files", &remote])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("import or pull the image again"));
    sealkit(&store).args(["pull", &remote]).assert().success();
    sealkit(&store).args(["inspect", "--files", &remote]).assert().success();

    // A local image (oci:) pushed straight from its layout.
    let direct = format!("{}/test/direct:1", registry.address);
    sealkit(&store).args(["push", &source, &direct]).assert().success();
    skopeo(&["inspect", "--tls-verify=false", &format!("docker://{direct}")]);
}

#[test]
fn missing_images_and_bad_credentials() {
    if !require("docker-registry") || !require("skopeo") || !require("umoci") || !require("htpasswd") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    // 404
    let open = start_registry(None);
    sealkit(&store)
        .args(["pull", &format!("{}/no/such:1", open.address)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such image"));

    // 401, then the docker config's credentials let the pull through.
    let htpasswd = tmp.path().join("htpasswd");
    let out = Process::new("htpasswd")
        .args(["-Bbn", "alice", "s3cret"])
        .output()
        .unwrap();
    std::fs::write(&htpasswd, out.stdout).unwrap();
    let locked = start_registry(Some(htpasswd.to_str().unwrap()));
    let source = make_layout(tmp.path());
    let remote = format!("{}/private/app:1", locked.address);
    skopeo(&[
        "copy",
        "-q",
        "--dest-tls-verify=false",
        "--dest-creds",
        "alice:s3cret",
        &source,
        &format!("docker://{remote}"),
    ]);
    let docker_config = tmp.path().join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    sealkit(&store)
        .env("DOCKER_CONFIG", &docker_config)
        .args(["pull", &remote])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("log in"));
    let auth = base64_encode(b"alice:s3cret");
    std::fs::write(
        docker_config.join("config.json"),
        format!("{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}", locked.address),
    )
    .unwrap();
    sealkit(&store)
        .env("DOCKER_CONFIG", &docker_config)
        .args(["pull", &remote])
        .assert()
        .success();
    // A push authenticates too, though its first call (a blob's HEAD) takes no credentials.
    sealkit(&store)
        .env("DOCKER_CONFIG", &docker_config)
        .args(["push", &remote, &format!("{}/private/copy:1", locked.address)])
        .assert()
        .success();
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A fake registry on loopback that answers every request with `status`, or never answers.
fn fake_registry(status: Option<u16>) -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(false).unwrap();
    let handle = std::thread::spawn(move || {
        let mut served = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        listener.set_nonblocking(true).unwrap();
        let mut held: Vec<TcpStream> = Vec::new();
        while Instant::now() < deadline && served < 20 {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    served += 1;
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                    match status {
                        Some(code) => {
                            let _ = write!(
                                stream,
                                "HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            );
                        }
                        None => held.push(stream),
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        served
    });
    (address, handle)
}

#[test]
fn server_errors_are_retried_then_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let (address, server) = fake_registry(Some(500));
    let started = Instant::now();
    sealkit(&tmp.path().join("store"))
        .args(["pull", &format!("{address}/x/y:1")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(&address).and(predicate::str::contains("retrying")));
    assert!(started.elapsed() < Duration::from_secs(30));
    drop(server);
}

#[test]
fn a_hanging_registry_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (address, _server) = fake_registry(None);
    sealkit(&tmp.path().join("store"))
        .env("SEALKIT_REGISTRY_TIMEOUT", "1")
        .args(["pull", &format!("{address}/x/y:1")])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did not answer in time").or(predicate::str::contains("timed out")));
}

/// An index with an SBOM attestation, copied whole to the registry by skopeo (`--all`): sealkit
/// pulls the attestation with the image, and the SBOM reports it as from the layout.
#[test]
fn attestations_come_with_a_pull() {
    if !require("docker-registry") || !require("skopeo") {
        return;
    }
    let registry = start_registry(None);
    let tmp = tempfile::tempdir().unwrap();
    let (source, image, spdx_digest) = common::attested_image(&tmp.path().join("attested"), &|_| Vec::new());
    let remote = format!("{}/test/attested:1", registry.address);
    skopeo(&[
        "copy",
        "-q",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &source,
        &format!("docker://{remote}"),
    ]);
    let store = tmp.path().join("store");
    sealkit(&store).args(["pull", &remote]).assert().success();
    assert_eq!(manifest_digest(&store, &remote), image);
    let catalog = common::sbom_json(&store, &remote);
    common::assert_attested(&catalog, &spdx_digest);
    assert_eq!(catalog["problems"], serde_json::json!([]));
}

/// Pushes blobs and a manifest as they are, through the distribution API by hand: no client
/// would send a manifest whose descriptors lie, and the registry checks only that blobs exist.
fn push_raw(address: &str, repository: &str, tag: &str, blobs: &[&[u8]], manifest: &serde_json::Value) {
    for blob in blobs {
        let (status, location) = http(
            address,
            "POST",
            &format!("/v2/{repository}/blobs/uploads/"),
            "application/octet-stream",
            b"",
        );
        assert_eq!(status, 202);
        let location = location.unwrap();
        let separator = if location.contains('?') { '&' } else { '?' };
        let target = format!("{location}{separator}digest={}", common::sha256(blob));
        let (status, _) = http(address, "PUT", &target, "application/octet-stream", blob);
        assert_eq!(status, 201, "{target}");
    }
    let (status, _) = http(
        address,
        "PUT",
        &format!("/v2/{repository}/manifests/{tag}"),
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(manifest).unwrap(),
    );
    assert_eq!(status, 201);
}

/// A registry serving a layer shorter or longer than its descriptor says (issue 13 item 3): the
/// pull is refused, reading no further than the descriptor's size, and keeps nothing.
#[test]
fn pulled_blobs_must_have_their_descriptors_size() {
    if !require("docker-registry") {
        return;
    }
    let registry = start_registry(None);
    let tmp = tempfile::tempdir().unwrap();
    let plain = common::layer(&[common::E::File("f", 0o644, &vec![0u8; 100_000])]);
    let layer = common::sha256(&plain);
    let config = serde_json::to_vec(&serde_json::json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer]}}))
    .unwrap();
    let short = format!(
        "blob {layer} has {} bytes, but its descriptor says 64424509440",
        plain.len()
    );
    let long = format!("blob {layer} is longer than its descriptor's 1000 bytes");
    for (tag, claimed, message) in [("short", 60u64 << 30, short), ("long", 1000, long)] {
        let manifest = serde_json::json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": common::sha256(&config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": claimed}]});
        push_raw(&registry.address, "test/liar", tag, &[&config, &plain], &manifest);
        let store = tmp.path().join(tag);
        sealkit(&store)
            .args(["pull", &format!("{}/test/liar:{tag}", registry.address)])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("error[digest-mismatch]").and(predicate::str::contains(message)));
        assert!(!store.join("blobs/sha256").join(&layer[7..]).exists());
        assert_eq!(std::fs::read_dir(store.join("tmp")).unwrap().count(), 0);
    }
}
