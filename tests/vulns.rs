//! `sealkit vulndb` and `sealkit vulns` as people run them: the real advisories of
//! src/vuln/testdata imported, then a root folder holding affected versions (a dpkg status at
//! older versions, a Python and an npm package) matched, and the same root at the fixed versions
//! matching nothing; and what bad input does (exit 2, a stable code, never a panic).

mod common;

use std::path::Path;

use common::sealkit;

fn testdata() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/vuln/testdata")
}

/// A Debian 12 root whose dpkg status names `openssh`, `glibc` and `xz-utils` binaries at the
/// given source versions, with Python's requests and npm's semver.
fn root(dir: &Path, openssh: &str, glibc: &str, requests: &str, semver: &str) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
    );
    let stanza = |package: &str, source: &str, version: &str| {
        format!(
            "Package: {package}\nStatus: install ok installed\nPriority: optional\nSection: net\nMaintainer: Debian \
             <debian@example.org>\nArchitecture: amd64\nSource: {source}\nVersion: {version}\nDescription: {package}\n\n"
        )
    };
    write(
        "var/lib/dpkg/status",
        &[
            stanza("openssh-server", "openssh", openssh),
            stanza("libc6", "glibc", glibc),
            stanza("liblzma5", "xz-utils", "5.4.1-0.2"),
        ]
        .concat(),
    );
    write(
        &format!("usr/lib/python3/dist-packages/requests-{requests}.dist-info/METADATA"),
        &format!("Metadata-Version: 2.1\nName: requests\nVersion: {requests}\n"),
    );
    write(
        "usr/lib/node_modules/semver/package.json",
        &format!("{{\"name\": \"semver\", \"version\": \"{semver}\"}}"),
    );
}

fn vulns(store: &Path, db: &Path, root: &Path) -> serde_json::Value {
    let out = sealkit(store)
        .args([
            "vulns",
            &format!("dir:{}", root.display()),
            "--format",
            "json",
            "--vulndb",
        ])
        .arg(db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn affected_versions_match_and_fixed_ones_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, db) = (tmp.path().join("store"), tmp.path().join("vulndb"));
    let imported = sealkit(&store)
        .args(["vulndb", "import", "--vulndb"])
        .arg(&db)
        .arg(testdata())
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let info = sealkit(&store)
        .args(["vulndb", "info", "--format", "json", "--vulndb"])
        .arg(&db)
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["advisories"], 9, "{info}");

    let old = tmp.path().join("old");
    root(&old, "1:9.2p1-2+deb12u2", "2.36-9+deb12u1", "2.28.1", "7.5.1");
    let doc = vulns(&store, &db, &old);
    assert_eq!(doc["database"]["digest"], info["digest"]);
    let got: Vec<(String, String, String)> = doc["components"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["package"]["name"].as_str().unwrap().to_owned(),
                m["id"].as_str().unwrap().to_owned(),
                m["fixed"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let want = [
        ("libc6", "CVE-2023-4911", "2.36-9+deb12u3"),
        ("openssh-server", "CVE-2024-6387", "1:9.2p1-2+deb12u3"),
        ("requests", "CVE-2023-32681", "2.31.0"),
        ("semver", "CVE-2022-25883", "7.5.2"),
    ];
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned())),
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["matches"], 4);

    let new = tmp.path().join("new");
    root(&new, "1:9.2p1-2+deb12u3", "2.36-9+deb12u3", "2.31.0", "7.5.2");
    let doc = vulns(&store, &db, &new);
    assert_eq!(doc["summary"]["matches"], 0, "{doc:#}");
    assert_eq!(doc["components"][0]["packages"], 5);

    // The table says the same, and names the database.
    let table = sealkit(&store)
        .args(["vulns", &format!("dir:{}", old.display()), "--vulndb"])
        .arg(&db)
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("CVE-2024-6387") && table.contains("4 vulnerabilities (4 with a fix)"),
        "{table}"
    );
    assert!(table.contains(info["digest"].as_str().unwrap()), "{table}");
}

#[test]
fn bad_input_exits_2_with_a_code() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, db) = (tmp.path().join("store"), tmp.path().join("vulndb"));
    let root_dir = tmp.path().join("root");
    root(&root_dir, "1:9.2p1-2+deb12u2", "2.36-9+deb12u1", "2.28.1", "7.5.1");
    // No database yet: nothing is scanned.
    let out = sealkit(&store)
        .args(["vulns", &format!("dir:{}", root_dir.display()), "--vulndb"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[vulndb-missing]"));
    let cases: [(&str, &[u8], &str); 3] = [
        ("bad.json", br#"{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"ranges": [{"type": "SEMVER", "events": [{"fixed": 1}]}]}]}"#, "error[vulndb-malformed]"),
        ("cut.zip", b"PK\x03\x04\x14\x00\x00\x00", "error[vulndb-zip]"),
        ("notes.json", b"hello", "error[vulndb-format]"),
    ];
    for (name, bytes, code) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = sealkit(&store)
            .args(["vulndb", "import", "--vulndb"])
            .arg(&db)
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(code) && stderr.contains(name), "{name}: {stderr}");
    }
    assert!(!db.join("current").exists(), "a failed import stores nothing");
}

/// The demo's sshd image as fixtures/build makes it (real bookworm packages, no os-release):
/// at its own versions nothing of the test advisories matches (xz-utils included); with its
/// dpkg status rewritten to versions before the DSAs' fixes, exactly regreSSHion and Looney
/// Tunables do.
#[test]
fn the_sshd_fixture_before_and_after_the_fixes() {
    let Some(layouts) = common::fixture_layouts(&["sshd"]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (store, db) = (tmp.path().join("store"), tmp.path().join("vulndb"));
    common::import_fixtures(&store, &layouts, &["sshd"]);
    sealkit(&store)
        .args(["vulndb", "import", "--vulndb"])
        .arg(&db)
        .arg(testdata())
        .assert()
        .success();
    let out = sealkit(&store)
        .args([
            "vulns",
            "sealkit-fixtures/sshd:1",
            "--distro",
            "debian-12",
            "--format",
            "json",
            "--vulndb",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["matches"], 0, "{doc:#}");
    assert!(doc["components"][0]["packages"].as_u64().unwrap() > 20);

    // The same root, its status rewritten: openssh's and glibc's packages one update before the fix.
    let tar = tmp.path().join("sshd.tar");
    sealkit(&store)
        .args(["image", "export", "sealkit-fixtures/sshd:1", "-o"])
        .arg(&tar)
        .assert()
        .success();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&root)
        .arg("var/lib/dpkg/status")
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    let older = [("openssh", "1:9.2p1-2+deb12u2"), ("glibc", "2.36-9+deb12u1")];
    let mut rewritten = 0;
    let stanzas: Vec<String> = text
        .split("\n\n")
        .map(|stanza| {
            let source = stanza
                .lines()
                .find_map(|l| l.strip_prefix("Source: "))
                .map(|s| s.split(' ').next().unwrap_or(s));
            let Some((_, version)) = older.iter().find(|(name, _)| Some(*name) == source) else {
                return stanza.to_owned();
            };
            rewritten += 1;
            stanza
                .lines()
                .map(|l| match l {
                    l if l.starts_with("Version: ") => format!("Version: {version}"),
                    l if l.starts_with("Source: ") => format!("Source: {}", source.unwrap()),
                    l => l.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert!(
        rewritten >= 2,
        "the fixture's status names openssh's and glibc's binaries"
    );
    std::fs::write(root.join("var/lib/dpkg/status"), stanzas.join("\n\n")).unwrap();
    let out = sealkit(&store)
        .args([
            "vulns",
            &format!("dir:{}", root.display()),
            "--distro",
            "debian-12",
            "--format",
            "json",
            "--vulndb",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<(&str, &str)> = doc["components"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["fixed"].as_str().unwrap()))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids,
        [
            ("CVE-2023-4911", "2.36-9+deb12u3"),
            ("CVE-2024-6387", "1:9.2p1-2+deb12u3")
        ],
        "{doc:#}"
    );

    // VEX over the real packages: Debian-style statements name the source package, so one
    // not_affected about openssh suppresses regreSSHion on every binary built from it; a
    // CycloneDX in_triage about glibc is recorded and suppresses nothing.
    let openvex_file = tmp.path().join("openssh.openvex.json");
    std::fs::write(
        &openvex_file,
        openvex(regresshion(serde_json::json!([{"@id": "pkg:deb/debian/openssh"}]))),
    )
    .unwrap();
    let cdx_file = tmp.path().join("glibc.cdx.json");
    std::fs::write(
        &cdx_file,
        serde_json::json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {"timestamp": "2024-07-03T00:00:00Z"},
            "vulnerabilities": [{
                "id": "CVE-2023-4911",
                "analysis": {"state": "in_triage", "detail": "checking whether ld.so honours GLIBC_TUNABLES here"},
                "affects": [{"ref": "pkg:deb/debian/glibc"}]
            }]
        })
        .to_string(),
    )
    .unwrap();
    let (doc, table) = vulns_with(
        &store,
        &db,
        &format!("dir:{}", root.display()),
        &[
            "--distro",
            "debian-12",
            "--vex",
            &openvex_file.display().to_string(),
            "--vex",
            &cdx_file.display().to_string(),
        ],
    );
    let matches = doc["components"][0]["matches"].as_array().unwrap();
    let (regresshion, looney): (Vec<_>, Vec<_>) = matches.iter().partition(|m| m["id"] == "CVE-2024-6387");
    assert!(!regresshion.is_empty() && !looney.is_empty(), "{doc:#}");
    for m in &regresshion {
        assert_eq!(m["suppressed_by"]["status"], "not_affected", "{m:#}");
    }
    for m in &looney {
        assert!(m.get("suppressed_by").is_none(), "{m:#}");
        assert_eq!(
            (&m["vex"]["status"], &m["vex"]["state"]),
            (&"under_investigation".into(), &"in_triage".into()),
            "{m:#}"
        );
    }
    assert_eq!(doc["summary"]["suppressed"], regresshion.len());
    assert_eq!(doc["summary"]["affected"], looney.len());
    assert!(table.contains("[vex: under_investigation]"), "{table}");
}

/// A one-file-per-path HTTP/1.1 server on 127.0.0.1 for `vulndb update`: osv.dev's and the
/// tracker's layouts, served from memory; anything else is a 404.
fn serve(files: std::collections::BTreeMap<String, Vec<u8>>) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).map_or(true, |n| n == 0) || header == "\r\n" {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            let reply = match files.get(&path) {
                Some(body) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(body);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&reply);
        }
    });
    base
}

/// The OSV entries of src/vuln/testdata as one osv.dev-style `all.zip`.
fn osv_export() -> Vec<u8> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut names: Vec<_> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("debian-tracker.json"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn digest_of(store: &Path, db: &Path) -> String {
    let out = sealkit(store)
        .args(["vulndb", "info", "--format", "json", "--vulndb"])
        .arg(db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    info["digest"].as_str().unwrap().to_owned()
}

/// `vulndb update` fetches osv.dev's export layout and the tracker's JSON (here from a server on
/// 127.0.0.1) and makes the same database an import of the same files makes; a missing export or
/// an unreachable server is a clear error (exit 2) that leaves the current database as it was.
#[test]
fn update_fetches_the_exports_and_failures_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let base = serve(
        [
            ("/Debian/all.zip".to_owned(), osv_export()),
            (
                "/tracker/data/json".to_owned(),
                std::fs::read(testdata().join("debian-tracker.json")).unwrap(),
            ),
        ]
        .into(),
    );
    let imported = tmp.path().join("imported");
    sealkit(&store)
        .args(["vulndb", "import", "--vulndb"])
        .arg(&imported)
        .arg(testdata())
        .assert()
        .success();
    let fetched = tmp.path().join("fetched");
    let update = |ecosystem: &str, osv: &str| {
        sealkit(&store)
            .args(["vulndb", "update", "--vulndb"])
            .arg(&fetched)
            .args(["--ecosystem", ecosystem, "--osv-url", osv, "--timeout", "10"])
            .args(["--tracker-url", &format!("{base}/tracker/data/json")])
            .output()
            .unwrap()
    };
    let run = update("Debian", &base);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let digest = digest_of(&store, &fetched);
    assert_eq!(
        digest,
        digest_of(&store, &imported),
        "the same advisories, the same database"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&fetched)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".update-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // An export the server does not have, and a server that is not there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    for (ecosystem, osv, want) in [("PyPI", base.as_str(), "404"), ("Debian", nobody.as_str(), "")] {
        let run = update(ecosystem, osv);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{err}");
        assert!(err.contains("error[vulndb-fetch]") && err.contains(want), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(digest_of(&store, &fetched), digest, "the database is unchanged");
    }
}

/// An OpenVEX document of `statements`, issued at `timestamp`.
fn openvex(statements: serde_json::Value) -> String {
    serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/sshd-1",
        "author": "Example Security <security@example.com>",
        "timestamp": "2024-07-02T10:00:00+02:00",
        "version": 1,
        "statements": statements,
    })
    .to_string()
}

/// A not_affected statement about regreSSHion for `products`.
fn regresshion(products: serde_json::Value) -> serde_json::Value {
    serde_json::json!([{
        "vulnerability": {"name": "CVE-2024-6387", "aliases": ["DSA-5724-1"]},
        "products": products,
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        "impact_statement": "sshd is never started in this image"
    }])
}

/// `sealkit vulns SUBJECT --vex …` as JSON, and its table.
fn vulns_with(store: &Path, db: &Path, subject: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let run = |format: &str| {
        sealkit(store)
            .args(["vulns", subject, "--format", format, "--vulndb"])
            .arg(db)
            .args(extra)
            .output()
            .unwrap()
    };
    let json = run("json");
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let table = run("table");
    assert!(table.status.success(), "{}", String::from_utf8_lossy(&table.stderr));
    (
        serde_json::from_slice(&json.stdout).unwrap(),
        String::from_utf8(table.stdout).unwrap(),
    )
}

fn match_of<'d>(doc: &'d serde_json::Value, id: &str) -> &'d serde_json::Value {
    doc["components"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {doc:#}"))
}

/// The issue's proof: an OpenVEX not_affected suppresses its match, and the JSON and the table
/// show it as suppressed, with the statement; a statement about another product suppresses
/// nothing; a statement about the image reaches the package it names as a subcomponent.
#[test]
fn openvex_not_affected_suppresses_its_match_and_stays_visible() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, db) = (tmp.path().join("store"), tmp.path().join("vulndb"));
    sealkit(&store)
        .args(["vulndb", "import", "--vulndb"])
        .arg(&db)
        .arg(testdata())
        .assert()
        .success();
    let old = tmp.path().join("old");
    root(&old, "1:9.2p1-2+deb12u2", "2.36-9+deb12u1", "2.28.1", "7.5.1");
    let subject = format!("dir:{}", old.display());
    let write = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };

    let ours = write(
        "sshd.openvex.json",
        &openvex(regresshion(
            serde_json::json!([{"@id": "pkg:deb/debian/openssh-server"}]),
        )),
    );
    let (doc, table) = vulns_with(&store, &db, &subject, &["--vex", &ours]);
    let m = match_of(&doc, "CVE-2024-6387");
    let by = &m["suppressed_by"];
    assert_eq!(by["status"], "not_affected", "{m:#}");
    assert_eq!(by["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(by["impact_statement"], "sshd is never started in this image");
    assert_eq!(by["file"], ours.as_str());
    assert_eq!(by["document"], "https://example.com/vex/sshd-1");
    assert_eq!(by["statement"], 0);
    assert!(match_of(&doc, "CVE-2023-4911").get("suppressed_by").is_none());
    let summary = &doc["summary"];
    assert_eq!(
        (&summary["matches"], &summary["affected"], &summary["suppressed"]),
        (&4.into(), &3.into(), &1.into()),
        "{summary}"
    );
    assert_eq!(doc["vex"][0]["file"], ours.as_str());
    let (open, suppressed) = table.split_once("SUPPRESSED BY VEX").expect(&table);
    assert!(
        !open.contains("CVE-2024-6387") && open.contains("CVE-2023-4911"),
        "{table}"
    );
    let line = suppressed.lines().find(|l| l.contains("CVE-2024-6387")).expect(&table);
    assert!(
        line.contains("openssh-server")
            && line.contains("not_affected")
            && line.contains("vulnerable_code_not_in_execute_path")
            && line.contains(&format!("{ours} #0")),
        "{line}"
    );
    assert!(
        table.contains("3 vulnerabilities (3 with a fix), 1 suppressed by VEX"),
        "{table}"
    );

    // Another product (the C library, another image) suppresses nothing.
    let theirs = write(
        "other.openvex.json",
        &openvex(regresshion(serde_json::json!([
            {"@id": "pkg:deb/debian/libc6"},
            {"@id": "pkg:oci/getty", "subcomponents": [{"@id": "pkg:deb/debian/openssh-server"}]}
        ]))),
    );
    let (doc, table) = vulns_with(&store, &db, &subject, &["--vex", &theirs]);
    assert!(
        match_of(&doc, "CVE-2024-6387").get("suppressed_by").is_none(),
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["suppressed"], 0);
    assert!(!table.contains("SUPPRESSED BY VEX"), "{table}");

    // The root as a registry-named image: a statement about the image reaches the package
    // it names as a subcomponent (by its source package, as Debian names them).
    sealkit(&store)
        .args([
            "image",
            "import",
            &subject,
            "--tag",
            "registry.example.com/sealkit/sshd:1",
        ])
        .assert()
        .success();
    let image = write(
        "image.openvex.json",
        &openvex(regresshion(serde_json::json!([{
            "@id": "pkg:oci/sshd?repository_url=registry.example.com/sealkit/sshd&tag=1",
            "subcomponents": [{"@id": "pkg:deb/debian/openssh"}]
        }]))),
    );
    let (doc, _) = vulns_with(
        &store,
        &db,
        "registry.example.com/sealkit/sshd:1",
        &["--distro", "debian-12", "--vex", &image, "--vex", &theirs],
    );
    assert_eq!(
        match_of(&doc, "CVE-2024-6387")["suppressed_by"]["file"],
        image.as_str(),
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["suppressed"], 1);
}

/// A signed VEX (an in-toto statement carrying the OpenVEX predicate, in a DSSE envelope, as
/// `cosign attest --type openvex` makes) is accepted with the key that signed it; an unsigned
/// one, or one signed by another key, is refused with --vex-key (exit 2, the file named).
#[test]
fn signed_vex_with_vex_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, db) = (tmp.path().join("store"), tmp.path().join("vulndb"));
    sealkit(&store)
        .args(["vulndb", "import", "--vulndb"])
        .arg(&db)
        .arg(testdata())
        .assert()
        .success();
    let old = tmp.path().join("old");
    root(&old, "1:9.2p1-2+deb12u2", "2.36-9+deb12u1", "2.28.1", "7.5.1");
    let subject = format!("dir:{}", old.display());
    let (key, public) = common::keypair(&store, tmp.path(), "vex");
    let (_, stranger) = common::keypair(&store, tmp.path(), "stranger");
    let predicate: serde_json::Value = serde_json::from_str(&openvex(regresshion(serde_json::json!([
        {"@id": "pkg:deb/debian/openssh-server"}
    ]))))
    .unwrap();
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "sshd", "digest": {"sha256": "00"}}],
        "predicateType": "https://openvex.dev/ns/v0.2.0",
        "predicate": predicate,
    });
    let signing = sealkit::keys::SigningKey::load(&key, None).unwrap();
    let envelope = sealkit::dsse::Envelope::sign(
        "application/vnd.in-toto+json",
        serde_json::to_vec(&statement).unwrap(),
        &signing,
    );
    let signed = tmp.path().join("sshd.openvex.dsse.json");
    std::fs::write(&signed, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let unsigned = tmp.path().join("sshd.openvex.json");
    std::fs::write(&unsigned, predicate.to_string()).unwrap();

    let (doc, _) = vulns_with(
        &store,
        &db,
        &subject,
        &[
            "--vex",
            &signed.display().to_string(),
            "--vex-key",
            &public.display().to_string(),
        ],
    );
    let by = &match_of(&doc, "CVE-2024-6387")["suppressed_by"];
    assert_eq!(by["status"], "not_affected", "{doc:#}");
    assert!(by["signed_by"].is_string(), "{by}");

    let refused = |vex: &Path, key: &Path, code: &str| {
        let out = sealkit(&store)
            .args(["vulns", &subject, "--vulndb"])
            .arg(&db)
            .arg("--vex")
            .arg(vex)
            .arg("--vex-key")
            .arg(key)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("error[{code}]")) && stderr.contains(&vex.display().to_string()),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing is reported from refused input");
    };
    refused(&unsigned, &public, "vex-unsigned");
    refused(&signed, &stranger, "vex-signature");

    // Malformed VEX is input error too, with or without a key.
    let bad = tmp.path().join("bad.openvex.json");
    std::fs::write(
        &bad,
        openvex(serde_json::json!([{
            "vulnerability": {"name": "CVE-2024-6387"},
            "products": [{"@id": "pkg:deb/debian/openssh-server"}],
            "status": "not_affected"
        }])),
    )
    .unwrap();
    let out = sealkit(&store)
        .args(["vulns", &subject, "--vulndb"])
        .arg(&db)
        .arg("--vex")
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error[vex-malformed]")
            && stderr.contains("statement 0")
            && stderr.contains("bad.openvex.json"),
        "{stderr}"
    );
}
