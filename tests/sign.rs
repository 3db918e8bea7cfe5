//! Keys, signatures, attestations and verification before boot, proven with tools no one here
//! wrote: every bundle verifies with npm @sigstore/verify, every envelope with securesystemslib,
//! every statement and SLSA predicate validates with in-toto-attestation, and keys move between
//! sealkit, OpenSSL and Node. Then the tamper matrix: each change to an attested image makes
//! `sealkit verify` exit 1 naming the check that failed, and bad input exits 2, never panics.
//!
//! The image is small (kernel, init, one service) and built once per run.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::OnceLock;

use base64::Engine as _;

mod common;

use common::{peers, sigstore_js};

const EPOCH: &str = "1700000000";
const PASSWORD: &str = "correct horse battery staple";

const CONFIG: &str = "kernel:\n  image: sealkit-fixtures/kernel:1\n  cmdline: \"console=ttyS0\"\n\
init:\n  - sealkit-fixtures/init:1\nservices:\n  - name: hello\n    image: sealkit-fixtures/hello:1\n";

const IMAGES: [&str; 3] = ["kernel", "init", "hello"];

/// A built, unattested image (`tiny`), the same with another command line (`other`), and keys.
struct Fixture {
    root: PathBuf,
    store: PathBuf,
    config: PathBuf,
    other_config: PathBuf,
    built: PathBuf,
    other_built: PathBuf,
}

fn sealkit(f: &Fixture) -> assert_cmd::Command {
    let mut c = common::sealkit(&f.store);
    c.env("SOURCE_DATE_EPOCH", EPOCH).env_remove("SEALKIT_PASSWORD");
    c
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let layouts = common::fixture_layouts(&IMAGES)?;
            let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sign-fixture");
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("config")).unwrap();
            let store = root.join("store");
            common::import_fixtures(&store, &layouts, &IMAGES);
            let config = root.join("config/tiny.yml");
            std::fs::write(&config, CONFIG).unwrap();
            // The same name (tiny), so that its files and bundles can be swapped for ours.
            std::fs::create_dir_all(root.join("config-other")).unwrap();
            let other_config = root.join("config-other/tiny.yml");
            std::fs::write(&other_config, CONFIG.replace("console=ttyS0", "console=ttyS1")).unwrap();
            let f = Fixture {
                built: root.join("built"),
                other_built: root.join("other"),
                root,
                store,
                config,
                other_config,
            };
            for (config, out) in [(&f.config, &f.built), (&f.other_config, &f.other_built)] {
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
            }
            sealkit(&f)
                .arg("keygen")
                .arg("-o")
                .arg(f.root.join("ed"))
                .assert()
                .success();
            sealkit(&f)
                .arg("keygen")
                .arg("-o")
                .arg(f.root.join("p256"))
                .args(["--algorithm", "ecdsa-p256"])
                .env("SEALKIT_PASSWORD", PASSWORD)
                .assert()
                .success();
            sealkit(&f)
                .arg("keygen")
                .arg("-o")
                .arg(f.root.join("stranger"))
                .assert()
                .success();
            write_decision(&f.root.join("passed.json"), "PASSED", &[]);
            write_decision(&f.root.join("failed.json"), "FAILED", &["no-root-login"]);
            Some(f)
        })
        .as_ref()
}

fn policy_digest() -> String {
    common::sha256(b"the policy set")
}

/// A policy decision as `sealkit check --format json` writes it (the parts attest reads).
fn write_decision(path: &Path, verdict: &str, denied: &[&str]) {
    let mut results = vec![
        serde_json::json!({"id": "no-healthcheck", "status": "warned"}),
        serde_json::json!({"id": "hello-runs-as-root", "status": "excepted"}),
    ];
    results.extend(
        denied
            .iter()
            .map(|id| serde_json::json!({"id": id, "status": "denied"})),
    );
    let decision = serde_json::json!({
        "schema": "sealkit.dev/policy-decision/v1",
        "verdict": if verdict == "PASSED" { "pass" } else { "deny" },
        "results": results,
        "rules": [{"id": "pinned-images"}, {"id": "no-healthcheck"}, {"id": "hello-runs-as-root"}],
        "basis": {"policy_sources": ["policies/"], "policy_digest": policy_digest()},
    });
    std::fs::write(path, serde_json::to_vec(&decision).unwrap()).unwrap();
}

/// The two signing keys: (name, private key, public key, password).
fn keys(f: &Fixture) -> [(&'static str, PathBuf, PathBuf, Option<&'static str>); 2] {
    [
        ("ed25519", f.root.join("ed.key"), f.root.join("ed.pub"), None),
        (
            "ecdsa-p256",
            f.root.join("p256.key"),
            f.root.join("p256.pub"),
            Some(PASSWORD),
        ),
    ]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A copy of the built image (`other` picks the second one) in `dir`, attested with `key`.
fn attested(f: &Fixture, dir: &Path, other: bool, key: &Path, password: Option<&str>, decision: &str) -> PathBuf {
    let (built, config) = if other {
        (&f.other_built, &f.other_config)
    } else {
        (&f.built, &f.config)
    };
    copy_dir(built, dir);
    let mut c = sealkit(f);
    c.arg("attest")
        .arg(dir)
        .arg("--key")
        .arg(key)
        .arg("--config")
        .arg(config);
    c.arg("--policy-result").arg(f.root.join(decision));
    if let Some(p) = password {
        c.env("SEALKIT_PASSWORD", p);
    }
    c.assert().success();
    dir.to_owned()
}

/// `sealkit verify DIR --key PUB ARGS…`: (exit code, stdout).
fn verify(f: &Fixture, target: &Path, public: &Path, args: &[&str]) -> (i32, String) {
    let out = sealkit(f)
        .arg("verify")
        .arg(target)
        .arg("--key")
        .arg(public)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

fn bundles(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".sigstore.json"))
        .collect();
    out.sort();
    out
}

fn image_files(dir: &Path) -> Vec<PathBuf> {
    ["tiny-kernel", "tiny-initrd.img", "tiny-cmdline"]
        .iter()
        .map(|n| dir.join(n))
        .collect()
}

fn run(what: &str, cmd: &mut Process) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// The Python of the validators' venv, if securesystemslib and in-toto-attestation are there.
fn python() -> Option<PathBuf> {
    let dir = std::env::var_os("SEALKIT_VALIDATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/peers/validators/bin"));
    let python = dir.join("python");
    let present = Process::new(&python)
        .args(["-c", "import securesystemslib.dsse, in_toto_attestation"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI needs securesystemslib and in-toto-attestation (scripts/test)"
    );
    present.then_some(python)
}

/// Every bundle in `bundles` verifies with @sigstore/verify against each of `artifacts`, with
/// securesystemslib, and validates with in-toto-attestation.
fn third_parties_accept(public: &Path, artifacts: &[PathBuf], bundles: &[PathBuf]) -> String {
    let mut log = String::new();
    if let Some(js) = sigstore_js() {
        for artifact in artifacts {
            log += &run(
                "@sigstore/verify",
                Process::new("node")
                    .arg(peers().join("sigstore-verify/verify-bundle.mjs"))
                    .arg(&js)
                    .arg(public)
                    .arg(artifact)
                    .args(bundles),
            );
        }
    }
    if let Some(python) = python() {
        log += &run(
            "securesystemslib",
            Process::new(&python)
                .arg(peers().join("sslib_verify.py"))
                .arg(public)
                .args(bundles),
        );
        log += &run(
            "in-toto-attestation",
            Process::new(&python)
                .arg(peers().join("intoto_validate.py"))
                .args(bundles),
        );
    }
    log
}

#[test]
fn an_attested_image_verifies_here_and_with_third_party_tools() {
    let Some(f) = fixture() else { return };
    for (algorithm, key, public, password) in keys(f) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = attested(f, &tmp.path().join("out"), false, &key, password, "passed.json");
        let found: Vec<String> = bundles(&dir)
            .iter()
            .map(|b| b.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            found,
            [
                "policy-summary.sigstore.json",
                "policy-tests.sigstore.json",
                "provenance.sigstore.json",
                "sbom-cyclonedx.sigstore.json",
                "sbom-spdx.sigstore.json"
            ]
        );
        let (code, out) = verify(
            f,
            &dir,
            &public,
            &[
                "--policy-digest",
                &policy_digest(),
                "--expect-config",
                &f.config.display().to_string(),
            ],
        );
        assert_eq!(code, 0, "{algorithm}: {out}");
        assert!(out.contains("verified, all") && !out.contains("FAIL"), "{out}");
        // One image file alone verifies too, with the bundles beside it.
        let (code, out) = verify(f, &dir.join("tiny-kernel"), &public, &[]);
        assert_eq!(code, 0, "{algorithm}: {out}");

        let log = third_parties_accept(&public, &image_files(&dir), &bundles(&dir));
        if sigstore_js().is_some() {
            // One line per image file: each file is a subject the library left to us to check.
            let lines = log
                .lines()
                .filter(|l| *l == "OK provenance.sigstore.json https://slsa.dev/provenance/v1");
            assert_eq!(lines.count(), 3, "{log}");
        }
        if python().is_some() {
            assert!(
                log.contains("OK provenance.sigstore.json https://slsa.dev/provenance/v1 statement and predicate"),
                "{log}"
            );
            assert!(
                log.contains(
                    "OK policy-summary.sigstore.json https://slsa.dev/verification_summary/v1 statement and predicate"
                ),
                "{log}"
            );
            assert!(log.contains("OK policy-tests.sigstore.json https://in-toto.io/attestation/test-result/v0.1 statement and predicate"), "{log}");
            let scheme = if algorithm == "ed25519" {
                "ed25519"
            } else {
                "ecdsa-sha2-nistp256"
            };
            assert!(
                log.contains(&format!(
                    "OK sbom-spdx.sigstore.json {scheme} https://spdx.dev/Document"
                )),
                "{log}"
            );
        }

        // The JSON result says what was verified.
        let out = sealkit(f)
            .arg("verify")
            .arg(&dir)
            .arg("--key")
            .arg(&public)
            .args(["--format", "json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let result: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(result["mediaType"], "application/vnd.sealkit.verification.v1+json");
        assert_eq!(result["passed"], true);
        assert_eq!(result["statements"].as_array().unwrap().len(), 5);
        assert_eq!(result["artifacts"].as_object().unwrap().len(), 5);
    }
}

#[test]
fn provenance_records_the_build() {
    let Some(f) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_, key, _, _) = &keys(f)[0];
    let dir = attested(f, &tmp.path().join("out"), false, key, None, "passed.json");
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("provenance.sigstore.json")).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let subjects: Vec<&str> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["tiny-kernel", "tiny-initrd.img", "tiny-cmdline"]);
    let definition = &statement["predicate"]["buildDefinition"];
    assert_eq!(definition["buildType"], "https://sealkit.dev/build/linuxkit-image/v1");
    let parameters = &definition["externalParameters"];
    assert_eq!(parameters["configs"][0]["name"], "tiny.yml");
    assert_eq!(
        format!(
            "sha256:{}",
            parameters["configs"][0]["digest"]["sha256"].as_str().unwrap()
        ),
        common::sha256(CONFIG.as_bytes())
    );
    assert_eq!(parameters["formats"], serde_json::json!(["kernel+initrd"]));
    assert_eq!(parameters["sourceDateEpoch"], 1_700_000_000);
    let dependencies: Vec<(&str, &str)> = definition["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["uri"].as_str().unwrap()))
        .collect();
    assert_eq!(
        dependencies,
        [
            ("kernel", "sealkit-fixtures/kernel:1"),
            ("init[0]", "sealkit-fixtures/init:1"),
            ("services[0]", "sealkit-fixtures/hello:1"),
            ("policy", "policies/")
        ]
    );
    let kernel_manifest = common::manifest_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/out/oci/kernel"));
    assert_eq!(
        format!(
            "sha256:{}",
            definition["resolvedDependencies"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        kernel_manifest
    );
    let run_details = &statement["predicate"]["runDetails"];
    assert_eq!(run_details["builder"]["version"]["sealkit"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run_details["metadata"]["finishedOn"], "2023-11-14T22:13:20Z");
    let byproducts: Vec<&str> = run_details["byproducts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(byproducts, ["sbom.cdx.json", "sbom.spdx.json"]);
}

#[test]
fn attestations_are_byte_for_byte_reproducible() {
    let Some(f) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for (algorithm, key, _, password) in keys(f) {
        let a = attested(
            f,
            &tmp.path().join(format!("{algorithm}-a")),
            false,
            &key,
            password,
            "passed.json",
        );
        let b = attested(
            f,
            &tmp.path().join(format!("{algorithm}-b/deeper")),
            false,
            &key,
            password,
            "passed.json",
        );
        for (x, y) in bundles(&a).iter().zip(bundles(&b)) {
            assert_eq!(
                std::fs::read(x).unwrap(),
                std::fs::read(&y).unwrap(),
                "{algorithm}: {}",
                x.display()
            );
        }
        assert_eq!(bundles(&a).len(), 5);
    }
    // Without SOURCE_DATE_EPOCH and --timestamps, no time at all.
    let dir = tmp.path().join("untimed");
    copy_dir(&f.built, &dir);
    sealkit(f)
        .env_remove("SOURCE_DATE_EPOCH")
        .arg("attest")
        .arg(&dir)
        .arg("--key")
        .arg(f.root.join("ed.key"))
        .arg("--config")
        .arg(&f.config)
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.join("provenance.sigstore.json")).unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    assert!(!String::from_utf8(payload).unwrap().contains("finishedOn"));
}

/// Flips one byte of the decoded `field` ("payload" or "sig") of a bundle and writes it back,
/// well-formed: only the signature can tell.
fn flip_in_bundle(path: &Path, field: &str) {
    let mut bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let slot = if field == "payload" {
        &mut bundle["dsseEnvelope"]["payload"]
    } else {
        &mut bundle["dsseEnvelope"]["signatures"][0]["sig"]
    };
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(slot.as_str().unwrap())
        .unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    *slot = base64::engine::general_purpose::STANDARD.encode(&bytes).into();
    std::fs::write(path, serde_json::to_vec(&bundle).unwrap()).unwrap();
}

fn flip_file(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn every_tampering_fails_verification_naming_the_check() {
    let Some(f) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_, key, public, _) = &keys(f)[0];
    let good = attested(f, &tmp.path().join("good"), false, key, None, "passed.json");
    let other = attested(f, &tmp.path().join("other"), true, key, None, "passed.json");
    let failed = attested(f, &tmp.path().join("failed"), false, key, None, "failed.json");
    let mut n = 0;
    // Each case: a copy of `from`, changed by `tamper`, then verify with `args` must exit 1
    // with every check in `expect` failed.
    let mut case = |what: &str, from: &Path, tamper: &dyn Fn(&Path), args: &[&str], expect: &[&str]| {
        n += 1;
        let dir = tmp.path().join(format!("case{n}"));
        copy_dir(from, &dir);
        tamper(&dir);
        let (code, out) = verify(f, &dir, public, args);
        assert_eq!(code, 1, "{what}: {out}");
        for check in expect {
            assert!(
                out.contains(&format!("FAIL {check}")),
                "{what}: no failed {check:?} check\n{out}"
            );
        }
        assert!(out.contains("error: verification failed: "), "{what}: {out}");
    };
    for file in ["tiny-kernel", "tiny-initrd.img", "tiny-cmdline"] {
        case(
            &format!("flip a byte of {file}"),
            &good,
            &|d| flip_file(&d.join(file)),
            &[],
            &["subject", "attested"],
        );
    }
    for file in ["sbom.spdx.json", "sbom.cdx.json"] {
        case(
            &format!("flip a byte of {file}"),
            &good,
            &|d| flip_file(&d.join(file)),
            &[],
            &["byproduct"],
        );
    }
    for bundle in bundles(&good) {
        let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
        for field in ["payload", "sig"] {
            case(
                &format!("flip a byte of {name}'s {field}"),
                &good,
                &|d| flip_in_bundle(&d.join(&name), field),
                &[],
                &[&format!("signature      {name}")],
            );
        }
    }
    case(
        "swap in the other image's provenance",
        &good,
        &|d| {
            std::fs::copy(
                other.join("provenance.sigstore.json"),
                d.join("provenance.sigstore.json"),
            )
            .unwrap();
        },
        &[],
        &["subject", "attested       tiny-cmdline: provenance"],
    );
    case(
        "swap in the other image's kernel command line",
        &good,
        &|d| {
            std::fs::copy(other.join("tiny-cmdline"), d.join("tiny-cmdline")).unwrap();
        },
        &[],
        &["subject", "attested"],
    );
    case(
        "drop the SBOM attestations",
        &good,
        &|d| {
            std::fs::remove_file(d.join("sbom-spdx.sigstore.json")).unwrap();
            std::fs::remove_file(d.join("sbom-cyclonedx.sigstore.json")).unwrap();
        },
        &[],
        &["attested       tiny-kernel: sbom"],
    );
    case(
        "drop the provenance",
        &good,
        &|d| std::fs::remove_file(d.join("provenance.sigstore.json")).unwrap(),
        &[],
        &["attested       tiny-kernel: provenance"],
    );
    case(
        "sign with a key that is not trusted",
        &good,
        &|d| {
            std::fs::copy(
                attested(
                    f,
                    &d.with_extension("stranger"),
                    false,
                    &f.root.join("stranger.key"),
                    None,
                    "passed.json",
                )
                .join("provenance.sigstore.json"),
                d.join("provenance.sigstore.json"),
            )
            .unwrap();
        },
        &[],
        &["signature      provenance.sigstore.json"],
    );
    case("a failed policy verdict", &failed, &|_| {}, &[], &["policy-verdict"]);
    case(
        "a decision older than --max-age",
        &good,
        &|_| {},
        &["--max-age", "30d"],
        &["policy-age"],
    );
    case(
        "another policy set",
        &good,
        &|_| {},
        &["--policy-digest", &common::sha256(b"another policy")],
        &["policy-digest"],
    );
    case(
        "another configuration",
        &good,
        &|_| {},
        &["--expect-config", &f.other_config.display().to_string()],
        &["expect-config"],
    );
    case(
        "a file nobody attested",
        &good,
        &|d| std::fs::write(d.join("tiny-extra"), b"hello").unwrap(),
        &[],
        &["attested       tiny-extra: provenance"],
    );
    case(
        "a byproduct removed",
        &good,
        &|d| std::fs::remove_file(d.join("sbom.cdx.json")).unwrap(),
        &[],
        &["byproduct      sbom.cdx.json"],
    );
    // The untampered copies pass (the matrix proves the changes, not the copying, failed).
    assert_eq!(verify(f, &good, public, &[]).0, 0);
    // The wrong key for everything: every signature fails.
    let (code, out) = verify(f, &good, &f.root.join("stranger.pub"), &[]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("FAIL signature").count(), 5, "{out}");
}

#[test]
fn files_are_signed_and_attested_like_cosign_blobs() {
    let Some(f) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let blob = tmp.path().join("image.iso");
    std::fs::write(&blob, b"an image to boot").unwrap();
    let predicate = tmp.path().join("predicate.json");
    std::fs::write(&predicate, br#"{"buildDefinition":{"buildType":"https://example.com/t","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/b"}}}"#).unwrap();
    for (algorithm, key, public, password) in keys(f) {
        let with_password = |c: &mut assert_cmd::Command| {
            if let Some(p) = password {
                c.env("SEALKIT_PASSWORD", p);
            }
        };
        let mut c = sealkit(f);
        c.arg("sign").arg(&blob).arg("--key").arg(&key);
        with_password(&mut c);
        c.assert().success();
        let signature = tmp.path().join("image.iso.sigstore.json");
        // `--bundle -` writes the same bundle to stdout.
        let mut c = sealkit(f);
        c.arg("sign").arg(&blob).arg("--key").arg(&key).args(["--bundle", "-"]);
        with_password(&mut c);
        let stdout = c.assert().success().get_output().stdout.clone();
        assert_eq!(stdout, std::fs::read(&signature).unwrap(), "{algorithm}");
        let (code, out) = verify(f, &blob, &public, &["--require", "signature"]);
        assert_eq!(code, 0, "{algorithm}: {out}");

        let bundle = tmp.path().join(format!("{algorithm}.att.json"));
        let mut c = sealkit(f);
        c.arg("attest")
            .arg(&blob)
            .arg("--key")
            .arg(&key)
            .arg("--predicate")
            .arg(&predicate);
        c.args(["--type", "slsaprovenance1", "--bundle"]).arg(&bundle);
        with_password(&mut c);
        c.assert().success();
        let (code, out) = verify(
            f,
            &blob,
            &public,
            &[
                "--require",
                "provenance,signature",
                "--bundle",
                &bundle.display().to_string(),
                "--bundle",
                &signature.display().to_string(),
            ],
        );
        assert_eq!(code, 0, "{algorithm}: {out}");
        let log = third_parties_accept(
            &public,
            std::slice::from_ref(&blob),
            &[signature.clone(), bundle.clone()],
        );
        if sigstore_js().is_some() {
            assert!(
                log.contains("OK image.iso.sigstore.json https://sealkit.dev/attestation/signature/v1"),
                "{log}"
            );
        }

        std::fs::write(&blob, b"another image").unwrap();
        let (code, out) = verify(f, &blob, &public, &["--require", "signature"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("FAIL subject") && out.contains("FAIL attested"), "{out}");
        std::fs::write(&blob, b"an image to boot").unwrap();
        std::fs::remove_file(&signature).unwrap();
        std::fs::remove_file(&bundle).unwrap();
    }
}

#[test]
fn keys_move_between_sealkit_openssl_and_node() {
    let Some(f) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let blob = tmp.path().join("blob");
    std::fs::write(&blob, b"bytes").unwrap();
    let openssl = |args: &[&str]| run("openssl", Process::new("openssl").args(args).current_dir(tmp.path()));
    // Keys OpenSSL makes, plain and encrypted, sign in sealkit and verify with their .pub.
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "o-ed.key"]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "o-ec.key",
    ]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-aes256",
        "-pass",
        "pass:pw",
        "-out",
        "o-enc.key",
    ]);
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "o-sec1.key",
    ]);
    for (name, password) in [("o-ed", None), ("o-ec", None), ("o-enc", Some("pw")), ("o-sec1", None)] {
        openssl(&[
            "pkey",
            "-in",
            &format!("{name}.key"),
            "-passin",
            "pass:pw",
            "-pubout",
            "-out",
            &format!("{name}.pub"),
        ]);
        let mut c = sealkit(f);
        c.arg("sign")
            .arg(&blob)
            .arg("--key")
            .arg(tmp.path().join(format!("{name}.key")));
        if let Some(p) = password {
            c.env("SEALKIT_PASSWORD", p);
        }
        c.assert().success();
        let (code, out) = verify(
            f,
            &blob,
            &tmp.path().join(format!("{name}.pub")),
            &["--require", "signature"],
        );
        assert_eq!(code, 0, "{name}: {out}");
        third_parties_accept(
            &tmp.path().join(format!("{name}.pub")),
            std::slice::from_ref(&blob),
            &[tmp.path().join("blob.sigstore.json")],
        );
    }
    // Keys sealkit makes load in OpenSSL and Node, and their public halves are the same key.
    let ed = f.root.join("ed.key");
    let text = std::fs::read_to_string(&ed).unwrap();
    assert!(text.contains("MC4CAQAwBQYDK2VwBCIEI"), "PKCS#8 v1: {text}");
    let ours = std::fs::read_to_string(f.root.join("ed.pub")).unwrap();
    let theirs = openssl(&["pkey", "-in", &ed.display().to_string(), "-pubout"]);
    assert_eq!(ours, theirs);
    let node = run(
        "node",
        Process::new("node").args([
            "-e",
            "const c=require('crypto'),fs=require('fs');const k=c.createPrivateKey(fs.readFileSync(process.argv[1]));\
             process.stdout.write(c.createPublicKey(k).export({type:'spki',format:'pem'}))",
            &ed.display().to_string(),
        ]),
    );
    assert_eq!(node, ours);
    // A P-256 key written unencrypted (no password) loads in both too.
    sealkit(f)
        .arg("keygen")
        .arg("-o")
        .arg(tmp.path().join("plain"))
        .args(["--algorithm", "ecdsa-p256"])
        .assert()
        .success();
    let plain = tmp.path().join("plain.key").display().to_string();
    assert_eq!(
        openssl(&["pkey", "-in", &plain, "-pubout"]),
        std::fs::read_to_string(tmp.path().join("plain.pub")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn bad_input_is_refused_with_exit_2_and_never_a_panic() {
    let Some(f) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_, key, public, _) = &keys(f)[0];
    let good = attested(f, &tmp.path().join("good"), false, key, None, "passed.json");
    let mut n = 0;
    let mut case = |what: &str, tamper: &dyn Fn(&Path), args: &[&str], code: i32, text: &str| {
        n += 1;
        let dir = tmp.path().join(format!("case{n}"));
        copy_dir(&good, &dir);
        tamper(&dir);
        let (got, out) = verify(f, &dir, public, args);
        assert_eq!(got, code, "{what}: {out}");
        assert!(out.contains(text), "{what}: expected {text:?}\n{out}");
    };
    let edit = |d: &Path, change: &dyn Fn(&mut serde_json::Value)| {
        let path = d.join("provenance.sigstore.json");
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        change(&mut v);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    };
    case(
        "not JSON",
        &|d| std::fs::write(d.join("provenance.sigstore.json"), b"\x89PNG\r\n").unwrap(),
        &[],
        2,
        "error[bundle-malformed]",
    );
    case(
        "truncated",
        &|d| std::fs::write(d.join("provenance.sigstore.json"), b"{\"mediaType\":").unwrap(),
        &[],
        2,
        "error[bundle-malformed]",
    );
    case(
        "another media type",
        &|d| {
            edit(d, &|v| {
                v["mediaType"] = "application/vnd.dev.sigstore.bundle.v9+json".into()
            })
        },
        &[],
        2,
        "error[bundle-media-type]",
    );
    case(
        "two signatures",
        &|d| {
            edit(d, &|v| {
                let s = v["dsseEnvelope"]["signatures"][0].clone();
                v["dsseEnvelope"]["signatures"].as_array_mut().unwrap().push(s);
            })
        },
        &[],
        2,
        "has 2 signatures",
    );
    case(
        "URL-safe unpadded base64 is the same bundle",
        &|d| {
            edit(d, &|v| {
                let envelope = &mut v["dsseEnvelope"];
                for pointer in ["/payload", "/signatures/0/sig"] {
                    let slot = envelope.pointer_mut(pointer).unwrap();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(slot.as_str().unwrap())
                        .unwrap();
                    *slot = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes).into();
                }
            })
        },
        &[],
        0,
        "verified, all",
    );
    case(
        "a bundle of 129 MiB",
        &|d| {
            std::fs::File::create(d.join("huge.sigstore.json"))
                .unwrap()
                .set_len(129 << 20)
                .unwrap();
        },
        &[],
        2,
        "error[attest-too-large]",
    );
    case(
        "contradictory options",
        &|_| {},
        &["--require", "sbom", "--policy-digest", &policy_digest()],
        2,
        "error[verify-options]",
    );
    case(
        "an unknown requirement",
        &|_| {},
        &["--require", "vibes"],
        2,
        "--require",
    );

    // Keys: the wrong type, the wrong half, a wrong or missing password.
    let run_code = |c: &mut assert_cmd::Command| {
        let out = c.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("panicked"), "{text}");
        (out.status.code().unwrap_or(-1), text)
    };
    run(
        "openssl",
        Process::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:1024",
                "-out",
            ])
            .arg(tmp.path().join("rsa.key")),
    );
    run(
        "openssl",
        Process::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(tmp.path().join("rsa.key"))
            .arg("-out")
            .arg(tmp.path().join("rsa.pub")),
    );
    let (code, text) = verify(f, &good, &tmp.path().join("rsa.pub"), &[]);
    assert_eq!((code, text.contains("error[key-type]")), (2, true), "{text}");
    let (code, text) = verify(f, &good, key, &[]);
    assert_eq!((code, text.contains("is a private key")), (2, true), "{text}");
    let (code, text) = run_code(
        sealkit(f)
            .arg("sign")
            .arg(good.join("tiny-cmdline"))
            .arg("--key")
            .arg(tmp.path().join("rsa.key")),
    );
    assert_eq!((code, text.contains("error[key-type]")), (2, true), "{text}");
    let p256 = f.root.join("p256.key");
    let (code, text) = run_code(
        sealkit(f)
            .arg("sign")
            .arg(good.join("tiny-cmdline"))
            .arg("--key")
            .arg(&p256),
    );
    assert_eq!(
        (
            code,
            text.contains("error[key-password]") && text.contains("no password")
        ),
        (2, true),
        "{text}"
    );
    let (code, text) = run_code(
        sealkit(f)
            .arg("sign")
            .arg(good.join("tiny-cmdline"))
            .arg("--key")
            .arg(&p256)
            .env("SEALKIT_PASSWORD", "wrong"),
    );
    assert_eq!(
        (
            code,
            text.contains("error[key-password]") && text.contains("does not open")
        ),
        (2, true),
        "{text}"
    );
    assert!(!text.contains("wrong\n") && !text.contains(PASSWORD), "{text}");
    let password_file = tmp.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let (code, text) = run_code(
        sealkit(f)
            .arg("sign")
            .arg(good.join("tiny-cmdline"))
            .arg("--key")
            .arg(&p256)
            .arg("--password-file")
            .arg(&password_file)
            .env("SEALKIT_PASSWORD", "wrong"),
    );
    assert_eq!(code, 0, "--password-file wins over the environment: {text}");
    let (code, text) = run_code(sealkit(f).arg("keygen").arg("-o").arg(f.root.join("ed")));
    assert_eq!((code, text.contains("error[key-exists]")), (2, true), "{text}");
    let (code, text) = run_code(
        sealkit(f)
            .arg("keygen")
            .arg("-o")
            .arg(tmp.path().join("e"))
            .env("SEALKIT_PASSWORD", ""),
    );
    assert_eq!((code, text.contains("error[key-password]")), (2, true), "{text}");
    let (code, text) = run_code(
        sealkit(f)
            .arg("attest")
            .arg(&good)
            .arg("--key")
            .arg(key)
            .arg("--predicate")
            .arg(&password_file),
    );
    assert_eq!(code, 2, "{text}");
    let (code, text) = run_code(
        sealkit(f)
            .arg("attest")
            .arg(good.join("tiny-cmdline"))
            .arg("--key")
            .arg(key)
            .arg("--predicate")
            .arg(&password_file)
            .args(["--type", "spdx"]),
    );
    assert_eq!((code, text.contains("error[predicate-invalid]")), (2, true), "{text}");
}

#[test]
fn an_independent_rebuild_gives_the_attested_bytes() {
    let Some(f) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_, key, public, _) = &keys(f)[0];
    let config = f.config.display().to_string();
    let rebuild = ["--require", "provenance", "--expect-config", &config, "--rebuild"];
    let good = attested(f, &tmp.path().join("good"), false, key, None, "passed.json");
    let (code, out) = verify(f, &good, public, &rebuild);
    assert_eq!(code, 0, "{out}");
    for file in ["tiny-kernel", "tiny-initrd.img", "tiny-cmdline"] {
        assert!(
            out.contains(&format!("ok   rebuild        {file}: rebuilt with the same sha256")),
            "{out}"
        );
    }
    // Attested as built at another SOURCE_DATE_EPOCH than it was: every signature and subject
    // holds, and only the rebuild tells (the initrd's entries carry the time).
    let lie = tmp.path().join("lie");
    copy_dir(&f.built, &lie);
    sealkit(f)
        .env("SOURCE_DATE_EPOCH", "1600000000")
        .arg("attest")
        .arg(&lie)
        .arg("--key")
        .arg(key)
        .arg("--config")
        .arg(&f.config)
        .assert()
        .success();
    let (code, out) = verify(
        f,
        &lie,
        public,
        &["--require", "provenance", "--expect-config", &config],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(f, &lie, public, &rebuild);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL rebuild        tiny-initrd.img: rebuilt as sha256"),
        "{out}"
    );
    assert!(
        out.contains("error: verification failed: rebuild (tiny-initrd.img)"),
        "{out}"
    );
    // --rebuild needs the configuration files: the provenance holds only their digests.
    let (code, out) = verify(f, &good, public, &["--rebuild"]);
    assert_eq!(code, 2, "{out}");
}
