//! sigstore-conformance's `bundle-verify` suite (tests/data/sigstore-conformance), every case
//! run offline through `scripts/sigstore-conformance`, the suite's client protocol spoken by
//! sealkit: a case named `…_fail` must fail, every other must pass.
//!
//! The `_fail` cases must also fail for their own reason, not another one met first: each is
//! checked for the words of its check.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest as _;

/// What each `_fail` case's refusal must speak of: the check its README says it breaks.
const REASONS: &[(&str, &str)] = &[
    ("bundle-empty-certificate-chain_fail", "chain of 0"),
    ("bundle-from-wrong-instance_fail", "not in the trusted root"),
    ("bundle-invalid-base64-signature_fail", "not base64"),
    ("bundle-malformed-json_fail", "not a Sigstore bundle"),
    ("bundle-negative-log-index_fail", "negative"),
    ("bundle-unknown-version_fail", "mediaType"),
    ("bundle-with-root-cert_fail", "root certificate"),
    ("checkpoint-bad-keyhint_fail", "checkpoint is not signed"),
    ("checkpoint-wrong-roothash_fail", "checkpoint"),
    ("dsse-invalid-sig_fail", "records another signature"),
    ("dsse-mismatch-envelope_fail", "records another payload"),
    ("dsse-mismatch-sig_fail", "records another signature"),
    ("inclusion-proof-corrupted-hash_fail", "inclusion proof does not verify"),
    ("incorrect-public-key_fail", "inclusion promise"),
    ("integrated-time-in-future_fail", "signing certificate"),
    ("intoto-expired-certificate_fail", "valid only from"),
    ("intoto-log-entry-mismatch_fail", "records another"),
    ("intoto-missing-inclusion-proof_fail", "no inclusion proof"),
    ("intoto-set-outside-signing-cert-validity_fail", "expired"),
    ("intoto-tsa-timestamp-outside-cert-validity_fail", "expired"),
    ("invalid-checkpoint-signature_fail", "checkpoint is not signed"),
    ("invalid-ct-key_fail", "SCT"),
    ("invalid-inclusion-proof_fail", "inclusion proof does not verify"),
    ("managed-key-no-key_fail", "signed with a key"),
    ("managed-key-wrong-key_fail", "key-format"),
    ("message-digest-mismatch_fail", "message digest"),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        "checkpoint is not signed",
    ),
    ("rekor2-checkpoint-missing-origin_fail", "checkpoint lacks"),
    ("rekor2-checkpoint-missing-root-hash_fail", "checkpoint lacks"),
    ("rekor2-checkpoint-missing-size_fail", "checkpoint lacks"),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        "checkpoint is not signed",
    ),
    ("rekor2-dsse-invalid-sig_fail", "records another signature"),
    ("rekor2-dsse-mismatch-envelope_fail", "records another envelope"),
    ("rekor2-dsse-mismatch-sig_fail", "records another signature"),
    ("rekor2-no-inclusion-proof_fail", "no inclusion proof"),
    ("rekor2-no-timestamp_fail", "no verified timestamp"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "timestamp authority",
    ),
    ("rekor2-timestamp-outside-tsa-cert-validity_fail", "timestamp's signer"),
    ("rekor2-timestamp-payload-mismatch_fail", "message imprint"),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "timestamp's signer",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "timestamp authorit",
    ),
    ("rekor2-timestamp-with-incorrect-time_fail", "signing certificate"),
    ("set-invalid-signature_fail", "inclusion promise"),
    ("signature-mismatch_fail", "records another signature"),
    ("trust-root-tlog-missing-validity-start_fail", "no start"),
    ("wrong-hashedrekord-artifact_fail", "records another artifact"),
    ("wrong-hashedrekord-cert-and-sig_fail", "records another signature"),
    ("wrong-hashedrekord-entry_fail", "records another artifact"),
    ("wrong-material_fail", "records another artifact"),
];

/// The suite's defaults, for cases without an `identity` or `issuer` file.
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore-conformance/bundle-verify")
}

/// A Sigstore cache folder that holds no installed root, so that cases without a trusted root
/// use the embedded one whatever `sealkit trust update` installed for the user.
fn no_installed_root() -> PathBuf {
    std::env::temp_dir().join(format!("sealkit-conformance-no-root-{}", std::process::id()))
}

/// Runs one case as the suite's harness would; the exit code and what was said.
fn run(case: &Path) -> (i32, String) {
    let file = |name: &str| case.join(name);
    let text = |name: &str, default: &str| {
        std::fs::read_to_string(file(name)).map_or_else(|_| default.to_owned(), |t| t.trim().to_owned())
    };
    let artifact = if file("artifact").is_file() {
        file("artifact")
    } else {
        suite().join("a.txt")
    };
    let mut command = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sigstore-conformance"));
    command
        .env("SEALKIT", env!("CARGO_BIN_EXE_sealkit"))
        .env("SEALKIT_SIGSTORE", no_installed_root())
        .arg("verify-bundle")
        .arg("--bundle")
        .arg(file("bundle.sigstore.json"));
    if file("key.pub").is_file() {
        command.arg("--key").arg(file("key.pub"));
    } else {
        command
            .arg("--certificate-identity")
            .arg(text("identity", IDENTITY))
            .arg("--certificate-oidc-issuer")
            .arg(text("issuer", ISSUER));
    }
    if file("trusted_root.json").is_file() {
        command.arg("--trusted-root").arg(file("trusted_root.json"));
    }
    let out = command.arg(artifact).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), said)
}

#[test]
fn every_bundle_verify_case_agrees_each_failure_for_its_own_reason() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(suite())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite as copied holds 70 cases");
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (code, said) = run(case);
        // A verification that ran and refused exits 1; a bad input (an untrustworthy trusted
        // root, a key that is not one) exits 2; a panic or a signal is neither.
        assert!(matches!(code, 0..=2), "{name}: exit {code}: {said}");
        if !name.ends_with("_fail") {
            if code != 0 {
                wrong.push(format!("{name} must verify: {said}"));
            }
            // Each RFC 3161 timestamp that verified is named, with its authority.
            let stamped = std::fs::read_to_string(case.join("bundle.sigstore.json"))
                .unwrap()
                .contains("signedTimestamp");
            if code == 0 && stamped != said.contains(", timestamped ") {
                wrong.push(format!("{name}: timestamps in the bundle: {stamped}; said: {said}"));
            }
            continue;
        }
        let reason = REASONS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
        match reason {
            None => wrong.push(format!("{name}: no expected reason listed in REASONS")),
            Some(_) if code == 0 => wrong.push(format!("{name} must fail, and verified: {said}")),
            Some(reason) if !said.contains(reason) => {
                wrong.push(format!("{name} failed for another reason than {reason:?}: {said}"))
            }
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Bad input is an error naming what and where (exit 2), never a verdict.
#[test]
fn bad_input_to_verify_bundle_exits_2_naming_it() {
    let case = suite().join("happy-path-v0.3");
    let tmp = tempfile::tempdir().unwrap();
    let bad_root = tmp.path().join("root.json");
    std::fs::write(&bad_root, r#"{"mediaType":"application/json"}"#).unwrap();
    let sealkit = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_sealkit"))
            .env("SEALKIT_SIGSTORE", no_installed_root())
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let bundle = case.join("bundle.sigstore.json");
    let bundle = bundle.to_str().unwrap();
    let artifact = suite().join("a.txt");
    let artifact = artifact.to_str().unwrap();
    let identity = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER];
    for (args, said) in [
        (vec!["--bundle", "/nonexistent.json", artifact], "bad-bundle-input"),
        (
            vec![
                "--bundle",
                bundle,
                "--trusted-root",
                bad_root.to_str().unwrap(),
                artifact,
            ],
            "bad-trusted-root",
        ),
        (vec!["--bundle", bundle, "sha256:12"], "not sha256:"),
        (vec!["--bundle", bundle, "/nonexistent.txt"], "bad-bundle-input"),
    ] {
        let mut all = vec!["verify-bundle"];
        all.extend(args.iter().copied());
        all.extend(identity);
        let (code, stderr) = sealkit(&all);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    let (code, stderr) = sealkit(&[
        "verify-bundle",
        "--bundle",
        bundle,
        "--certificate-identity-regexp",
        "(",
        "--certificate-oidc-issuer",
        ISSUER,
        artifact,
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a regular expression"), "{stderr}");
    let (code, stderr) = sealkit(&["verify-bundle", "--bundle", bundle, artifact]);
    assert_eq!(code, Some(2), "{stderr}");
    // The same artifact by its digest verifies as the file does.
    let digest = format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(std::fs::read(artifact).unwrap()))
    );
    let mut all = vec!["verify-bundle", "--bundle", bundle, digest.as_str()];
    all.extend(identity);
    let (code, stderr) = sealkit(&all);
    assert_eq!(code, Some(0), "{stderr}");
}

/// `sealkit verify` takes keyless bundles too: the suite's in-toto bundle over its artifact
/// (a SLSA provenance) verifies for the identity and issuer that signed it, and is refused for
/// another identity and for a file its statement does not name.
#[test]
fn sealkit_verify_checks_keyless_bundles() {
    let case = suite().join("intoto-with-custom-trust-root");
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other.txt");
    std::fs::write(&other, b"not the artifact\n").unwrap();
    let verify_as = |file: &Path, flag: &str, identity: &str| {
        Command::new(env!("CARGO_BIN_EXE_sealkit"))
            .env("SEALKIT_SIGSTORE", no_installed_root())
            .arg("verify")
            .arg(file)
            .arg("--bundle")
            .arg(case.join("bundle.sigstore.json"))
            .arg("--trusted-root")
            .arg(case.join("trusted_root.json"))
            .args([flag, identity, "--certificate-oidc-issuer", ISSUER])
            .args(["--require", "provenance"])
            .output()
            .unwrap()
    };
    let verify = |file: &Path, identity: &str| verify_as(file, "--certificate-identity", identity);
    let said = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let ok = verify(&case.join("artifact"), IDENTITY);
    assert_eq!(ok.status.code(), Some(0), "{}", said(&ok));
    assert!(
        said(&ok).contains(&format!("signed by {IDENTITY} (issuer {ISSUER})")),
        "{}",
        said(&ok)
    );
    let stranger = verify(&case.join("artifact"), "https://example.com/someone-else");
    assert_eq!(stranger.status.code(), Some(1), "{}", said(&stranger));
    assert!(said(&stranger).contains("keyless:"), "{}", said(&stranger));
    let elsewhere = verify(&other, IDENTITY);
    assert_eq!(elsewhere.status.code(), Some(1), "{}", said(&elsewhere));

    // cosign's --certificate-identity-regexp: the whole identity must match.
    let by_pattern = |pattern: &str| verify_as(&case.join("artifact"), "--certificate-identity-regexp", pattern);
    let matched = by_pattern(r"https://github\.com/sigstore-conformance/.*");
    assert_eq!(matched.status.code(), Some(0), "{}", said(&matched));
    let partial = by_pattern("sigstore-conformance");
    assert_eq!(partial.status.code(), Some(1), "{}", said(&partial));
    let broken = by_pattern("(unclosed");
    assert_eq!(broken.status.code(), Some(2), "{}", said(&broken));
    assert!(
        said(&broken).contains("--certificate-identity-regexp"),
        "{}",
        said(&broken)
    );
}
