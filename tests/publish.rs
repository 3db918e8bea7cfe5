//! Publishing a signed image to a real registry (Debian's docker-registry 2.8, which lacks the
//! referrers API, so the bundles go under the referrers tag) and verifying it from there:
//! skopeo sees what sealkit pushed, a pull gives the same bytes, `verify REF` passes; each
//! tampering with the registry copy fails verification naming the check; a registry that is
//! down or fails mid-push gives a clear error, and a rerun finishes the push.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

mod common;

use common::registry::{FaultyProxy, Registry, faulty_proxy, free_port, http, require, skopeo, start_registry};

const EPOCH: &str = "1700000000";

/// The demo built and attested (`good`), the same with another kernel command line (`other`),
/// and the key pair.
struct Fixture {
    root: PathBuf,
    store: PathBuf,
    config: PathBuf,
    good: PathBuf,
    other: PathBuf,
    public: PathBuf,
}

fn sealkit(f: &Fixture) -> assert_cmd::Command {
    let mut c = common::sealkit(&f.store);
    c.env("SOURCE_DATE_EPOCH", EPOCH);
    c
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            if !require("docker-registry") || !require("skopeo") {
                return None;
            }
            let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("publish-fixture");
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(&root).unwrap();
            let (store, config) = common::locked_example(&root, "demo.yml", &common::DEMO_IMAGES)?;
            let other_dir = root.join("other");
            std::fs::create_dir_all(&other_dir).unwrap();
            let other_config = other_dir.join("demo.yml");
            let text = std::fs::read_to_string(&config).unwrap();
            let changed = text.replacen("cmdline: \"", "cmdline: \"quiet ", 1);
            assert_ne!(text, changed, "examples/demo.yml has a quoted cmdline");
            std::fs::write(&other_config, changed).unwrap();
            let f = Fixture {
                good: root.join("good"),
                other: root.join("other-out"),
                public: root.join("release.pub"),
                root,
                store,
                config,
            };
            sealkit(&f)
                .arg("lock")
                .arg(&other_config)
                .arg("--offline")
                .assert()
                .success();
            sealkit(&f)
                .arg("keygen")
                .arg("-o")
                .arg(f.root.join("release"))
                .assert()
                .success();
            // The parts of `sealkit check --format json`'s decision that attest reads.
            let decision = serde_json::json!({
                "schema": "sealkit.dev/policy-decision/v1",
                "verdict": "pass",
                "results": [],
                "rules": [{"id": "pinned-images"}],
                "basis": {"policy_sources": ["policies/"], "policy_digest": common::sha256(b"policy")},
            });
            std::fs::write(f.root.join("decision.json"), serde_json::to_vec(&decision).unwrap()).unwrap();
            for (config, out) in [(&f.config, &f.good), (&other_config, &f.other)] {
                sealkit(&f)
                    .arg("build")
                    .arg(config)
                    .arg("-o")
                    .arg(out)
                    .assert()
                    .success();
                for (format, file) in [("spdx-json", "sbom.spdx.json"), ("cyclonedx-json", "sbom.cdx.json")] {
                    sealkit(&f)
                        .args(["sbom", "--format", format, "-o"])
                        .arg(out.join(file))
                        .arg(config)
                        .assert()
                        .success();
                }
                sealkit(&f)
                    .arg("attest")
                    .arg(out)
                    .arg("--key")
                    .arg(f.root.join("release.key"))
                    .arg("--config")
                    .arg(config)
                    .arg("--policy-result")
                    .arg(f.root.join("decision.json"))
                    .assert()
                    .success();
            }
            Some(f)
        })
        .as_ref()
}

/// Runs sealkit; returns (exit code, stdout, stderr), after checking it did not panic.
fn run(f: &Fixture, args: &[&str]) -> (i32, String, String) {
    let out = sealkit(f).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn push(f: &Fixture, dir: &Path, reference: &str) -> String {
    let (code, stdout, stderr) = run(f, &["push", dir.to_str().unwrap(), reference]);
    assert_eq!(code, 0, "push {reference}: {stderr}");
    let pinned = stdout.trim().to_owned();
    assert!(pinned.starts_with(&format!("{reference}@sha256:")), "{pinned}");
    pinned.rsplit_once('@').unwrap().1.to_owned()
}

fn verify(f: &Fixture, target: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["verify", target, "--key", f.public.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(f, &args);
    (code, format!("{stdout}{stderr}"))
}

fn raw(registry: &Registry, reference: &str) -> serde_json::Value {
    serde_json::from_str(&skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/{reference}", registry.address),
    ]))
    .unwrap()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Puts a referrers index under `sha256-HEX` by hand, as someone with push rights could.
fn put_index(registry: &Registry, repository: &str, subject: &str, manifests: &[serde_json::Value]) {
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests});
    let (status, _) = http(
        &registry.address,
        "PUT",
        &format!("/v2/{repository}/manifests/{}", subject.replace(':', "-")),
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&index).unwrap(),
    );
    assert_eq!(status, 201);
}

#[test]
fn a_pushed_image_is_seen_by_skopeo_pulled_byte_for_byte_and_verified_from_the_registry() {
    let Some(f) = fixture() else { return };
    let registry = start_registry(None);
    let reference = format!("{}/os/demo:1", registry.address);
    let digest = push(f, &f.good, &reference);

    // skopeo, which no one here wrote, sees an OCI artifact of our type, titled layers, and the
    // bundles' referrers index under the tag the distribution spec names.
    let text = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ]);
    assert_eq!(
        common::sha256(text.trim_end().as_bytes()),
        digest,
        "skopeo gets the pushed manifest"
    );
    let inspected: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(inspected["artifactType"], "application/vnd.sealkit.image.v1");
    assert_eq!(inspected["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
    let mut titles: Vec<&str> = inspected["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["annotations"]["org.opencontainers.image.title"].as_str().unwrap())
        .collect();
    titles.sort();
    let local: Vec<String> = files(&f.good)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| !n.ends_with(".sigstore.json"))
        .collect();
    assert_eq!(titles, local);
    let index = raw(&registry, &format!("os/demo:{}", digest.replace(':', "-")));
    let referrers = index["manifests"].as_array().unwrap();
    assert_eq!(referrers.len(), 5, "{index}");
    for r in referrers {
        assert_eq!(r["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
        let manifest = raw(&registry, &format!("os/demo@{}", r["digest"].as_str().unwrap()));
        assert_eq!(manifest["subject"]["digest"], digest.as_str());
        assert_eq!(
            manifest["artifactType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert_eq!(manifest["annotations"]["dev.sigstore.bundle.content"], "dsse-envelope");
    }

    // Pulled into an empty folder: the same files, byte for byte, bundles included.
    let pulled = f.root.join("pulled");
    let _ = std::fs::remove_dir_all(&pulled);
    let (code, _, stderr) = run(f, &["pull", &reference, "-o", pulled.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(files(&pulled), files(&f.good));
    let progress = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("pull "))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    assert!(progress.contains(" blobs, ") && progress.ends_with("/s)"), "{progress}");

    // Verified from the registry alone, and pinned to the digest.
    let (code, out) = verify(f, &reference, &["--expect-config", f.config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{}/os/demo:1@{digest}: verified", registry.address)),
        "{out}"
    );
    let (code, out) = verify(f, &format!("{}/os/demo@{digest}", registry.address), &[]);
    assert_eq!(code, 0, "{out}");

    // A second push sends nothing new, keeps the digest and lists no bundle twice.
    let (code, stdout, stderr) = run(f, &["push", f.good.to_str().unwrap(), &reference]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&digest), "{stdout}");
    assert!(stderr.contains("0 blobs sent"), "{stderr}");
    // Its progress, a line in a log: every blob counted, none sent, so no bytes.
    let progress = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("push "))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    assert!(progress.ends_with(" blobs"), "{progress}");
    let index = raw(&registry, &format!("os/demo:{}", digest.replace(':', "-")));
    assert_eq!(index["manifests"].as_array().unwrap().len(), 5);

    // A pull never mixes another image's files into a folder.
    std::fs::write(pulled.join("stray"), b"x").unwrap();
    let (code, _, stderr) = run(f, &["pull", &reference, "-o", pulled.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error[publish-output]") && stderr.contains("stray"),
        "{stderr}"
    );
}

#[test]
fn tampering_with_the_registry_copy_fails_verification_naming_the_check() {
    let Some(f) = fixture() else { return };
    let registry = start_registry(None);
    let repository = "os/tamper";
    let reference = format!("{}/{repository}:1", registry.address);
    let good = push(f, &f.good, &reference);
    let other = push(f, &f.other, &format!("{}/{repository}:other", registry.address));
    let good_index = raw(&registry, &format!("{repository}:{}", good.replace(':', "-")));
    let other_index = raw(&registry, &format!("{repository}:{}", other.replace(':', "-")));
    let entries = |index: &serde_json::Value| index["manifests"].as_array().unwrap().clone();
    let predicate = |e: &serde_json::Value| e["annotations"]["dev.sigstore.bundle.predicateType"].clone();
    let (code, out) = verify(f, &reference, &[]);
    assert_eq!(code, 0, "{out}");

    // A referrer swapped for the other image's provenance: its subjects are not these files.
    let swapped: Vec<serde_json::Value> = entries(&good_index)
        .into_iter()
        .map(|e| {
            if predicate(&e) == "https://slsa.dev/provenance/v1" {
                entries(&other_index)
                    .into_iter()
                    .find(|o| predicate(o) == predicate(&e))
                    .unwrap()
            } else {
                e
            }
        })
        .collect();
    put_index(&registry, repository, &good, &swapped);
    let (code, out) = verify(f, &reference, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL subject"), "{out}");
    assert!(out.contains("is about another image"), "{out}");

    // The bundles dropped: nothing attests the files.
    put_index(&registry, repository, &good, &[]);
    let (code, out) = verify(f, &reference, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL attested"), "{out}");
    put_index(&registry, repository, &good, &entries(&good_index));
    let (code, out) = verify(f, &reference, &[]);
    assert_eq!(code, 0, "{out}");

    // The tag moved to another image, signed as well: the expected configuration tells them
    // apart, and a reference pinned to the first digest still gets the first image.
    push(f, &f.other, &reference);
    let (code, out) = verify(f, &reference, &["--expect-config", f.config.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL expect-config"), "{out}");
    let pinned = format!("{}/{repository}@{good}", registry.address);
    let (code, out) = verify(f, &pinned, &["--expect-config", f.config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");

    // The first image's bundles hung on the other image's files: no subject matches.
    put_index(&registry, repository, &other, &entries(&good_index));
    let (code, out) = verify(f, &reference, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL subject"), "{out}");

    // Something else under the tag than a sealkit artifact: bad input.
    let (status, _) = http(
        &registry.address,
        "PUT",
        &format!("/v2/{repository}/manifests/1"),
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&good_index).unwrap(),
    );
    assert_eq!(status, 201);
    let (code, out) = verify(f, &reference, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("error[publish-artifact]"), "{out}");

    // Hand-made manifests of our type: a title that climbs out of the folder, and a layer
    // longer than its descriptor says. Neither writes a byte.
    let image = raw(&registry, &format!("{repository}@{good}"));
    let layer = image["layers"][0].clone();
    let mut cases = Vec::new();
    for (tag, title, size, message) in [
        ("climb", "../escaped", layer["size"].clone(), "holds a path separator"),
        (
            "short",
            "demo-cmdline",
            5.into(),
            "is longer than its descriptor's 5 bytes",
        ),
    ] {
        let mut manifest = image.clone();
        manifest["layers"] = serde_json::json!([{"mediaType": layer["mediaType"], "digest": layer["digest"],
            "size": size, "annotations": {"org.opencontainers.image.title": title}}]);
        let (status, _) = http(
            &registry.address,
            "PUT",
            &format!("/v2/{repository}/manifests/{tag}"),
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
        );
        assert_eq!(status, 201);
        cases.push((tag, message));
    }
    for (tag, message) in cases {
        let into = f.root.join("hostile").join(tag);
        let (code, _, stderr) = run(
            f,
            &[
                "pull",
                &format!("{}/{repository}:{tag}", registry.address),
                "-o",
                into.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!f.root.join("hostile/escaped").exists());
        let left: Vec<_> = std::fs::read_dir(&into).map(|d| d.collect()).unwrap_or_default();
        assert!(left.is_empty(), "{tag}: {left:?}");
    }
}

/// A proxy in front of the registry that answers 500 to every new blob upload past the first
/// `allowed` while `failing` is set.
struct FlakyProxy {
    address: String,
    failing: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    _proxy: FaultyProxy,
}

fn flaky_proxy(upstream: String, allowed: usize) -> FlakyProxy {
    let failing = Arc::new(AtomicBool::new(true));
    let refused = Arc::new(AtomicUsize::new(0));
    let uploads = AtomicUsize::new(0);
    let (fail, count) = (failing.clone(), refused.clone());
    let proxy = faulty_proxy(upstream, move |request_line| {
        let refuse = request_line.starts_with("POST ")
            && request_line.contains("/blobs/uploads/")
            && uploads.fetch_add(1, Ordering::SeqCst) >= allowed
            && fail.load(Ordering::SeqCst);
        if refuse {
            count.fetch_add(1, Ordering::SeqCst);
        }
        refuse
    });
    FlakyProxy {
        address: proxy.address.clone(),
        failing,
        refused,
        _proxy: proxy,
    }
}

#[test]
fn a_registry_down_or_failing_mid_push_gives_a_clear_error_and_a_rerun_finishes() {
    let Some(f) = fixture() else { return };

    // Nothing listens: bad input (exit 2) naming the registry, for each command.
    let down = format!("127.0.0.1:{}", free_port());
    let reference = format!("{down}/os/demo:1");
    let pulled = f.root.join("from-down");
    for args in [
        vec!["push", f.good.to_str().unwrap(), &reference],
        vec!["pull", &reference, "-o", pulled.to_str().unwrap()],
        vec!["verify", &reference, "--key", f.public.to_str().unwrap()],
    ] {
        let (code, _, stderr) = run(f, &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("error[registry]") && stderr.contains(&down) && stderr.contains("reachable"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!pulled.exists());

    // 500 on blob uploads after the third: retried with backoff, then a clear error.
    let registry = start_registry(None);
    let proxy = flaky_proxy(registry.address.clone(), 3);
    let reference = format!("{}/os/flaky:1", proxy.address);
    let (code, _, stderr) = run(f, &["push", f.good.to_str().unwrap(), &reference]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("retrying"), "{stderr}");
    assert!(
        stderr.contains("error[registry]") && stderr.contains(&proxy.address),
        "{stderr}"
    );
    assert!(proxy.refused.load(Ordering::SeqCst) >= 3);
    let (status, _) = http(
        &registry.address,
        "GET",
        "/v2/os/flaky/manifests/1",
        "application/json",
        b"",
    );
    assert_eq!(status, 404, "the tag names no half-pushed image");

    // The registry recovers: the rerun sends only what is missing, and the image verifies.
    proxy.failing.store(false, Ordering::SeqCst);
    let (code, stdout, stderr) = run(f, &["push", f.good.to_str().unwrap(), &reference]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("@sha256:"), "{stdout}");
    assert!(stderr.contains("3 already there"), "{stderr}");
    let (code, out) = verify(f, &reference, &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_private_registry_takes_the_docker_configs_credentials() {
    let Some(f) = fixture() else { return };
    if !require("htpasswd") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let htpasswd = tmp.path().join("htpasswd");
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbn", "alice", "s3cret"])
        .output()
        .unwrap();
    std::fs::write(&htpasswd, out.stdout).unwrap();
    let registry = start_registry(Some(htpasswd.to_str().unwrap()));
    let reference = format!("{}/private/demo:1", registry.address);
    let docker = tmp.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let with_config = |args: &[&str]| {
        let out = sealkit(f).env("DOCKER_CONFIG", &docker).args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = with_config(&["push", f.good.to_str().unwrap(), &reference]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("log in"), "{stderr}");
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::write(
        docker.join("config.json"),
        format!("{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}", registry.address),
    )
    .unwrap();
    let (code, stderr) = with_config(&["push", f.good.to_str().unwrap(), &reference]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = with_config(&["verify", &reference, "--key", f.public.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
}
