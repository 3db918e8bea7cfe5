//! report.html, opened in a real browser: Debian's chromium, headless, driven over the DevTools
//! protocol by puppeteer-core (tests/peers/chromium/open-report.mjs). The gate's pages of the
//! demo and of the insecure example are rendered and their DOM read back: the verdict, every
//! finding of report.json, the hardening matrix cell by cell against the evidence; the filter
//! is used as a person would use it. No request may leave the page and no console message may
//! appear. `sealkit report` remakes the gate's page byte for byte; hostile names stay text;
//! bad input exits 2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::{DEMO_IMAGES, keypair, locked_example};

use common::sealkit_at_demo_epoch as sealkit;

/// puppeteer-core as scripts/test installs it, and Debian's chromium; CI must have both.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let driver =
        PathBuf::from(std::env::var_os("SEALKIT_CHROMIUM_DRIVER").unwrap_or_else(|| "/opt/peers/chromium".into()));
    let chromium = PathBuf::from("/usr/bin/chromium");
    let present = driver.join("node_modules/puppeteer-core").is_dir() && chromium.is_file();
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI needs chromium and puppeteer-core (scripts/test)"
    );
    present.then_some((driver, chromium))
}

/// What the browser showed of `page`, after requiring that it asked for nothing, logged nothing
/// and drew a screenshot.
fn open(page: &Path) -> Option<Value> {
    let (driver, chromium) = browser()?;
    let shot = page.with_extension("png");
    let out = Command::new("node")
        .arg(common::peers().join("chromium/open-report.mjs"))
        .args([&driver, &chromium, page, &shot])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["requests"], json!([]), "the page made requests");
    assert_eq!(seen["console"], json!([]), "the page logged");
    assert_eq!(seen["errors"], json!([]), "the page's script failed");
    assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"), "no screenshot");
    Some(seen)
}

fn gate(tmp: &Path, example: &str, images: &[&str]) -> Option<(PathBuf, PathBuf)> {
    let (store, config) = locked_example(tmp, example, images)?;
    let (key, _) = keypair(&store, tmp, "release");
    let out = tmp.join("out");
    common::gate(&store, &config, &key, &out, &[]);
    assert!(out.join("report.html").is_file(), "the gate wrote no report.html");
    Some((store, out))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The findings of a decision as the page lists them: (id, status, component, path).
fn findings_of(decision: &Value) -> Vec<(String, String, String, String)> {
    let mut list: Vec<_> = decision["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "passed")
        .map(|r| {
            let path = [&r["path"], &r["vulnerability"]]
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            (
                r["id"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["component"].as_str().unwrap_or_default().to_owned(),
                path,
            )
        })
        .collect();
    list.sort();
    list
}

fn shown_findings(seen: &Value) -> Vec<(String, String, String, String)> {
    let mut list: Vec<_> = seen["dom"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (text("id"), text("status"), text("component"), text("path"))
        })
        .collect();
    list.sort();
    list
}

/// Each row of a component's matrix says, check by check, what the evidence says of the file.
fn assert_matrix_matches(seen: &Value, evidence: &Value) {
    let header: Vec<&str> = ["File", "PIE", "RELRO", "NX", "Canary", "Fortify", "setuid", "RPATH"].to_vec();
    for component in evidence["components"].as_array().unwrap() {
        let name = component["name"].as_str().unwrap();
        let shown = seen["dom"]["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no section for {name}"));
        let rows: BTreeMap<&str, Vec<&str>> = shown["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let cells: Vec<&str> = r.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
                (cells[0], cells[1..].to_vec())
            })
            .collect();
        let elves: Vec<&Value> = component["binaries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["elf"]["status"] == "elf")
            .collect();
        if !elves.is_empty() {
            assert_eq!(shown["matrix_header"], json!(header), "{name}");
        }
        for b in elves {
            let path = b["path"].as_str().unwrap();
            let cells = rows.get(path).unwrap_or_else(|| panic!("{name}: no row for {path}"));
            for (i, check) in ["pie", "relro_check", "nx", "canary", "fortify"].iter().enumerate() {
                let result = b["elf"]["hardening"][check]["result"].as_str().unwrap();
                let word = if result == "na" { "n/a" } else { result };
                assert!(
                    cells[i].ends_with(word),
                    "{name} {path} {check}: {result} shown as {}",
                    cells[i]
                );
            }
        }
    }
}

#[test]
fn the_insecure_gate_page_shows_the_denial_every_finding_and_the_matrix() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((store, out)) = gate(tmp.path(), "insecure.yml", &["kernel", "init", "insecure"]) else {
        return;
    };
    // The page of the saved documents is the gate's, byte for byte.
    let again = tmp.path().join("again.html");
    sealkit(&store)
        .arg("report")
        .arg(out.join("evidence.json"))
        .arg("-o")
        .arg(&again)
        .assert()
        .success();
    assert!(
        std::fs::read(&again).unwrap() == std::fs::read(out.join("report.html")).unwrap(),
        "sealkit report made another page"
    );
    let Some(seen) = open(&out.join("report.html")) else {
        return;
    };
    let decision = read_json(&out.join("report.json"));
    let evidence = read_json(&out.join("evidence.json"));
    assert_eq!(seen["dom"]["verdict"], "DENIED");
    let denied = decision["counts"]["denied"].as_u64().unwrap();
    assert!(denied > 0);
    assert!(
        seen["dom"]["counts"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{denied} denied")),
        "{}",
        seen["dom"]["counts"]
    );
    // Every planted finding, and nothing else.
    assert_eq!(shown_findings(&seen), findings_of(&decision));
    for f in seen["dom"]["findings"].as_array().unwrap() {
        if f["status"] == "denied" {
            assert!(!f["fix"].as_str().unwrap().is_empty(), "a denial without its fix: {f}");
        }
    }
    assert!(seen["dom"]["severity_bars"].as_u64().unwrap() > 0);
    assert!(seen["dom"]["component_bars"].as_u64().unwrap() > 0);
    // Worst first.
    let order = ["critical", "high", "medium", "low", "info"];
    let ranks: Vec<usize> = seen["dom"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            order
                .iter()
                .position(|s| f["severity"] == *s)
                .expect("a known severity")
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert_matrix_matches(&seen, &evidence);

    // Filtering: a rule id shows only its findings; a component, only its section; unticking
    // "denied" hides every denial.
    let filtering = &seen["filtering"];
    let word = filtering["word"].as_str().unwrap();
    let all = filtering["all"]["rows"].as_u64().unwrap();
    let typed = filtering["typed"]["rows"].as_u64().unwrap();
    assert!(typed > 0 && typed < all, "{word}: {typed} of {all} rows");
    assert_eq!(filtering["chosen"]["sections"], json!([filtering["component"]]));
    let without_critical = filtering["without_critical"].as_array().unwrap();
    assert!(!without_critical.is_empty() && without_critical.iter().all(|s| s != "critical"));
    let without = filtering["without_denied"]["findings"].as_array().unwrap();
    assert!(without.iter().all(|s| s != "denied"), "{without:?}");
    assert_eq!(
        without.len() as u64,
        decision["counts"]["warned"].as_u64().unwrap() + decision["counts"]["excepted"].as_u64().unwrap()
    );
}

#[test]
fn the_demo_gate_page_shows_the_pass_the_boot_order_and_the_exceptions() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((_, out)) = gate(tmp.path(), "demo.yml", &DEMO_IMAGES) else {
        return;
    };
    let Some(seen) = open(&out.join("report.html")) else {
        return;
    };
    let decision = read_json(&out.join("report.json"));
    let evidence = read_json(&out.join("evidence.json"));
    let dom = &seen["dom"];
    assert_eq!(dom["verdict"], "PASS");
    assert_eq!(dom["stages"], json!(["kernel", "init", "onboot", "service"]));
    let cards: Vec<&str> = dom["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(cards.len(), evidence["components"].as_array().unwrap().len());
    assert!(cards[0].contains("kernel") && cards[1].contains("init"), "{cards:?}");
    assert_eq!(shown_findings(&seen), findings_of(&decision));
    // The demo's exceptions are in force and accept findings: each is shown with its owner.
    let exceptions = decision["exceptions"].as_array().unwrap().len() as u64;
    assert!(exceptions > 0);
    assert_eq!(dom["exceptions"], exceptions);
    for f in dom["findings"].as_array().unwrap() {
        if f["status"] == "excepted" {
            assert!(f["exception"].as_str().unwrap().contains(", until "), "{f}");
        }
    }
    let sshd = dom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sshd")
        .unwrap();
    assert_eq!(sshd["packages"], 43);
    assert!(sshd["licensed"].as_u64().unwrap() > 30, "{sshd}");
    assert_matrix_matches(&seen, &evidence);
}

/// A whole Debian system (the mmdebstrap rootfs fixture): the page of its evidence opens and
/// filters; the times the browser measured are printed for the notes.
#[test]
fn a_debian_system_page_opens_and_filters() {
    let Some(layouts) = common::fixture_layouts(&["rootfs"]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let image = format!("oci:{}:1", layouts.join("rootfs").display());
    let evidence = tmp.path().join("evidence.json");
    let scanned = sealkit(&store)
        .args(["scan", &image, "--format", "json"])
        .assert()
        .success();
    std::fs::write(&evidence, &scanned.get_output().stdout).unwrap();
    let decision = tmp.path().join("decision.json");
    sealkit(&store)
        .args(["check", &image, "--format", "json", "-o"])
        .arg(&decision)
        .assert()
        .code(predicates::ord::lt(2));
    let page = tmp.path().join("rootfs.html");
    sealkit(&store)
        .arg("report")
        .arg(&evidence)
        .arg("--decision")
        .arg(&decision)
        .arg("-o")
        .arg(&page)
        .assert()
        .success();
    let Some(seen) = open(&page) else { return };
    let rows = seen["filtering"]["all"]["rows"].as_u64().unwrap();
    let matrix = seen["dom"]["components"][0]["matrix"].as_array().unwrap().len();
    assert!(matrix > 100, "{matrix} ELF files");
    assert_matrix_matches(&seen, &read_json(&evidence));
    let typed = seen["filtering"]["typed"]["rows"].as_u64().unwrap();
    assert!(typed > 0 && typed < rows, "{typed} of {rows}");
    eprintln!(
        "report of the Debian system: {} bytes, {rows} rows ({matrix} ELF files); loaded in {} ms, \
         typing '{}' filtered in {} ms",
        std::fs::metadata(&page).unwrap().len(),
        seen["dom"]["load_ms"],
        seen["filtering"]["word"].as_str().unwrap(),
        seen["filtering"]["typed_ms"]
    );
}

/// Names from an image are text on the page, never markup: a hostile file name and component
/// name neither run a script nor load an image (the browser would report the request).
#[test]
fn hostile_names_stay_text() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = "<script>alert(1)</script>";
    let path = "/bin/\"><img src=x onerror=alert(2)>";
    let evidence = json!({
        "schema": "sealkit.dev/evidence/v1",
        "tool": {"name": "sealkit", "version": "0"},
        "subject": {"kind": "image", "name": hostile},
        "components": [{
            "role": "service", "name": hostile,
            "image": {"reference": hostile},
            "privileges": {"capabilities": ["CAP_SYS_ADMIN"], "root_equivalent": [{"name": "CAP_SYS_ADMIN", "why": hostile}]},
            "packages": [{"type": "deb", "name": hostile, "version": "1", "licenses": [hostile]}],
            "binaries": [{"path": path, "file": {}, "elf": {"status": "elf", "hardening": {
                "pie": {"result": "fail", "evidence": hostile}, "relro_check": {"result": "pass", "evidence": ""},
                "nx": {"result": "pass", "evidence": ""}, "canary": {"result": "na", "evidence": ""},
                "fortify": {"result": "unknown", "evidence": ""}}}}]
        }]
    });
    let file = tmp.path().join("evidence.json");
    std::fs::write(&file, serde_json::to_vec(&evidence).unwrap()).unwrap();
    let page = tmp.path().join("page.html");
    sealkit(tmp.path())
        .arg("report")
        .arg(&file)
        .arg("-o")
        .arg(&page)
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script>alert") && !html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let Some(seen) = open(&page) else { return };
    assert_eq!(seen["dom"]["verdict"], "NOT JUDGED");
    assert_eq!(seen["dom"]["cards"], json!([hostile]));
    assert_eq!(seen["dom"]["components"][0]["matrix"][0][0], path);
}

#[test]
fn bad_input_is_refused_with_its_code() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let evidence = write(
        "evidence.json",
        br#"{"schema": "sealkit.dev/evidence/v1", "components": [{"name": "a", "role": "service"}]}"#,
    );
    let refused = |args: &[&Path], code: &str| {
        let out = sealkit(tmp.path())
            .arg("report")
            .args(args)
            .arg("-o")
            .arg(tmp.path().join("out.html"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(
            said.contains(&format!("error[{code}]")) && said.contains("hint:"),
            "{said}"
        );
        assert!(!tmp.path().join("out.html").exists(), "a page was written");
    };
    refused(&[&write("torn.json", b"{\"schema\": ")], "report-bad-evidence");
    refused(
        &[&write("sbom.json", br#"{"spdxVersion": "SPDX-2.3"}"#)],
        "report-bad-evidence",
    );
    refused(&[tmp.path().join("missing.json").as_path()], "report-bad-evidence");
    let other = write(
        "other.json",
        br#"{"schema": "sealkit.dev/policy-decision/v1", "verdict": "pass", "results": [], "components": ["b"]}"#,
    );
    refused(&[&evidence, Path::new("--decision"), &other], "report-bad-decision");
    refused(&[&evidence, Path::new("--decision"), &evidence], "report-bad-decision");
}
