//! VEX read as the specifications write it (OpenVEX's own examples transcribed, CycloneDX VEX
//! as trivy's documentation shows it), statements applied to matches, and every way a file can
//! be refused.

use super::*;
use crate::inspect::sbom::Ecosystem;
use crate::keys::{Algorithm, SigningKey};
use crate::vuln::matching::{ComponentFindings, DatabaseRef, Lookup, PackageRef, Status};

fn doc(text: &str) -> Result<Document, VulnError> {
    parse(text.as_bytes(), "vex.json", &[])
}

fn code_of(text: &str) -> (Code, String) {
    let e = doc(text).unwrap_err();
    (e.code, e.to_string())
}

/// A match of `id` on a Debian binary package `name` built from `source`.
fn a_match(id: &str, aliases: &[&str], name: &str, version: &str, source: &str) -> Match {
    Match {
        id: id.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        package: PackageRef {
            ecosystem: Ecosystem::Deb,
            name: name.into(),
            version: version.into(),
            purl: format!(
                "pkg:deb/debian/{name}@{}?arch=amd64&upstream={source}&distro=debian-12",
                version.replace(':', "%3A")
            ),
            found_in: "var/lib/dpkg/status".into(),
        },
        lookup: Lookup {
            ecosystem: "Debian:12".into(),
            name: source.into(),
            version: version.into(),
        },
        status: Status::Affected,
        fixed: Some("9".into()),
        urgency: None,
        severity: Vec::new(),
        severity_label: None,
        rating: Default::default(),
        summary: String::new(),
        sources: Vec::new(),
        suppressed_by: None,
        vex: None,
    }
}

fn findings(matches: Vec<Match>) -> Findings {
    Findings {
        matches,
        ..Findings::default()
    }
}

fn openvex_doc(timestamp: &str, statements: serde_json::Value) -> String {
    serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex-1",
        "author": "Example Security <security@example.com>",
        "timestamp": timestamp,
        "version": 1,
        "statements": statements,
    })
    .to_string()
}

fn sshd() -> Subject {
    Subject::image(
        "sshd",
        "registry.example.com/sealkit/sshd:1",
        vec!["sha256:aaaa".into()],
        Some("amd64"),
    )
}

/// OPENVEX-SPEC.md's minimal document: `fixed` for git on two architectures.
#[test]
fn the_specification_minimal_document() {
    let d = doc(r#"{
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
      "author": "Wolfi J Inkinson",
      "role": "Document Creator",
      "timestamp": "2023-01-08T18:02:03.647787998-06:00",
      "version": 1,
      "statements": [
        {
          "vulnerability": {"name": "CVE-2023-12345"},
          "products": [
            {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"},
            {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"}
          ],
          "status": "fixed"
        }
      ]
    }"#)
    .unwrap();
    assert_eq!(d.format, Format::Openvex);
    assert_eq!(d.author, "Wolfi J Inkinson");
    assert_eq!(d.version.as_deref(), Some("1"));
    assert_eq!(d.statements.len(), 1);
    let s = &d.statements[0];
    assert_eq!(
        (s.vulnerability.as_str(), s.status),
        ("CVE-2023-12345", VexStatus::Fixed)
    );
    assert_eq!(s.products.len(), 2);
    assert_eq!(s.products[1].ids, ["pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"]);
}

/// The specification's Spring Boot example: not_affected with a justification and an impact
/// statement, the product named by @id, a purl identifier and a hash, the vulnerability with
/// an alias.
#[test]
fn the_specification_spring_example() {
    let d = doc(r#"{
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://openvex.dev/docs/public/vex-2e67563e128250cbcb3e98930df948dd053e43271d70dc50cfa22d57e03fe96f",
      "author": "Spring Builds <spring-builds@users.noreply.github.com>",
      "role": "Project Release Bot",
      "timestamp": "2023-01-16T19:07:16.853479631-06:00",
      "version": 1,
      "statements": [
        {
          "vulnerability": {
            "@id": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
            "name": "CVE-2021-44228",
            "description": "Remote code injection in Log4j",
            "aliases": ["GHSA-jfh8-c2jp-5v3q"]
          },
          "products": [
            {
              "@id": "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3",
              "identifiers": {"purl": "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3"},
              "hashes": {"sha-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
            }
          ],
          "status": "not_affected",
          "justification": "vulnerable_code_not_in_execute_path",
          "impact_statement": "Spring Boot users are only affected by this vulnerability if they have switched the default logging system to Log4J2."
        }
      ]
    }"#)
    .unwrap();
    let s = &d.statements[0];
    assert_eq!(s.aliases, ["GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(s.justification.as_deref(), Some("vulnerable_code_not_in_execute_path"));
    assert!(s.impact_statement.as_deref().unwrap().starts_with("Spring Boot users"));
    assert_eq!(s.products[0].ids.len(), 3, "{:?}", s.products[0].ids);
    assert!(s.products[0].ids[2].starts_with("sha256:e3b0"));
}

/// The specification's "Updating Statements with Inherited Data": the later statement (the
/// document's timestamp, inherited) overrides the earlier one (its own timestamp).
#[test]
fn the_specification_inheritance_example_latest_wins() {
    let text = r#"{
      "@context": "https://openvex.dev/ns",
      "@id": "https://openvex.dev/docs/example/vex-84822c4e5028c",
      "author": "Wolfi J Inkinson",
      "role": "Document Creator",
      "timestamp": "2023-01-09T09:08:42-06:00",
      "version": 1,
      "statements": [
        {
          "timestamp": "2023-01-08T18:02:03-06:00",
          "vulnerability": {"name": "CVE-2023-12345"},
          "products": [{"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"}],
          "status": "under_investigation"
        },
        {
          "vulnerability": {"name": "CVE-2023-12345"},
          "products": [{"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"}],
          "status": "fixed"
        }
      ]
    }"#;
    let d = doc(text).unwrap();
    let mut m = a_match("CVE-2023-12345", &[], "git", "2.39.0-r1", "git");
    m.package.ecosystem = Ecosystem::Apk;
    m.package.purl = "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7&distro=wolfi-20230201".into();
    let mut f = findings(vec![m]);
    apply_findings(&mut f, std::slice::from_ref(&d), &Subject::default());
    let by = f.matches[0].suppressed_by.as_ref().expect("the fixed statement wins");
    assert_eq!((by.statement, by.status), (1, VexStatus::Fixed));
    assert_eq!(by.timestamp.as_deref(), Some("2023-01-09T09:08:42-06:00"));

    // The same statements in the other order: the earlier timestamp still loses to the later.
    let swapped = text
        .replacen("\"timestamp\": \"2023-01-08T18:02:03-06:00\",", "", 1)
        .replacen(
            "\"status\": \"fixed\"",
            "\"status\": \"fixed\", \"timestamp\": \"2023-01-08T18:02:03-06:00\"",
            1,
        );
    let d = doc(&swapped).unwrap();
    apply_findings(&mut f, std::slice::from_ref(&d), &Subject::default());
    assert!(f.matches[0].suppressed_by.is_none(), "under investigation is later now");
    assert_eq!(f.matches[0].vex.as_ref().unwrap().status, VexStatus::UnderInvestigation);
}

/// go-vex's v0.0.1 test document: the vulnerability and products as strings, version as text.
#[test]
fn openvex_v0_0_1_documents_are_read() {
    let d = doc(r#"{
      "@context": "https://openvex.dev/ns/v0.0.1",
      "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
      "author": "Wolfi J Inkinson",
      "role": "Document Creator",
      "timestamp": "2023-01-08T18:02:03.647787998-06:00",
      "version": "1",
      "statements": [
        {
          "vulnerability": "CVE-2023-12345",
          "products": ["pkg:apk/wolfi/git@2.39.0-r1?arch=armv7", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"],
          "subcomponents": ["pkg:apk/wolfi/libcurl@8.0.1-r0"],
          "status": "fixed"
        }
      ]
    }"#)
    .unwrap();
    let s = &d.statements[0];
    assert_eq!(s.vulnerability, "CVE-2023-12345");
    assert_eq!(
        s.products[0].subcomponents,
        [vec!["pkg:apk/wolfi/libcurl@8.0.1-r0".to_owned()]]
    );
    assert_eq!(d.version.as_deref(), Some("1"));
}

/// CycloneDX VEX as trivy's documentation writes it: a BOM-Link to a component of the SBOM,
/// not_affected with a justification, responses and detail.
#[test]
fn cyclonedx_vex() {
    let d = doc(r#"{
      "bomFormat": "CycloneDX",
      "specVersion": "1.5",
      "version": 1,
      "metadata": {"timestamp": "2024-01-02T03:04:05Z", "authors": [{"name": "Example Security"}]},
      "vulnerabilities": [
        {
          "id": "CVE-2020-8911",
          "references": [{"id": "GHSA-f5pg-7wfw-84q9", "source": {"name": "GitHub"}}],
          "analysis": {
            "state": "not_affected",
            "justification": "code_not_reachable",
            "response": ["will_not_fix", "update"],
            "detail": "The vulnerable function is not called"
          },
          "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:golang/github.com/aws/aws-sdk-go@1.44.234"}]
        },
        {
          "id": "CVE-2024-0001",
          "analysis": {"state": "false_positive"},
          "affects": [{"ref": "app"}]
        },
        {"id": "CVE-2024-0002", "ratings": [], "affects": [{"ref": "app"}]},
        {
          "id": "CVE-2024-0003",
          "analysis": {"state": "resolved"},
          "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg%3Anpm%2Fapp%401.0.0"}]
        }
      ],
      "components": [{"bom-ref": "app", "type": "library", "name": "app", "purl": "pkg:npm/app@1.0.0"}]
    }"#)
    .unwrap();
    assert_eq!(d.format, Format::Cyclonedx);
    assert_eq!(d.author, "Example Security");
    assert_eq!(
        d.statements.len(),
        3,
        "the entry without analysis is a finding, not a statement"
    );
    let s = &d.statements[0];
    assert_eq!(s.status, VexStatus::NotAffected);
    assert_eq!(s.aliases, ["GHSA-f5pg-7wfw-84q9"]);
    assert_eq!(s.action_statement.as_deref(), Some("will_not_fix, update"));
    assert!(
        s.products[0]
            .ids
            .contains(&"pkg:golang/github.com/aws/aws-sdk-go@1.44.234".to_owned())
    );
    let fp = &d.statements[1];
    assert_eq!(
        (fp.status, fp.state.as_str()),
        (VexStatus::NotAffected, "false_positive")
    );
    assert!(
        fp.products[0].ids.contains(&"pkg:npm/app@1.0.0".to_owned()),
        "bom-ref resolved"
    );
    let resolved = &d.statements[2];
    assert_eq!(
        (resolved.status, resolved.state.as_str()),
        (VexStatus::Fixed, "resolved")
    );
    assert!(
        resolved.products[0].ids.contains(&"pkg:npm/app@1.0.0".to_owned()),
        "BOM-Link decoded"
    );

    // Applied: the Go module's match is suppressed, its record keeps CycloneDX's words.
    let mut m = a_match("GHSA-f5pg-7wfw-84q9", &["CVE-2020-8911"], "x", "1", "x");
    m.package.ecosystem = Ecosystem::Golang;
    m.package.purl = "pkg:golang/github.com/aws/aws-sdk-go@1.44.234".into();
    let mut f = findings(vec![m]);
    apply_findings(&mut f, &[d], &Subject::default());
    let by = f.matches[0].suppressed_by.as_ref().unwrap();
    assert_eq!(by.justification.as_deref(), Some("code_not_reachable"));
    assert_eq!(
        by.impact_statement.as_deref(),
        Some("The vulnerable function is not called")
    );
    assert_eq!(by.state, None, "not_affected is the status's own name");
}

#[test]
fn purls_match_on_what_the_statement_gives() {
    let package = |purl: &str| {
        let mut m = a_match("CVE-1", &[], "openssh-server", "1:9.2p1-2+deb12u2", "openssh");
        m.package.purl = purl.into();
        PackageIds::of(&m)
    };
    let ours =
        package("pkg:deb/debian/openssh-server@1:9.2p1-2%2Bdeb12u2?arch=amd64&upstream=openssh&distro=debian-12");
    let cases = [
        ("pkg:deb/debian/openssh-server", true),
        ("pkg:deb/debian/openssh-server@1:9.2p1-2+deb12u2", true),
        ("pkg:deb/debian/openssh-server@1%3A9.2p1-2%2Bdeb12u2", true),
        ("pkg:DEB/Debian/OpenSSH-Server?arch=amd64", true),
        ("pkg:deb/debian/openssh-server?distro=debian-12&arch=amd64", true),
        ("pkg:deb/debian/openssh-server@1:9.2p1-2+deb12u3", false),
        ("pkg:deb/debian/openssh-server?arch=arm64", false),
        ("pkg:deb/debian/openssh-server?os=linux", false),
        ("pkg:deb/ubuntu/openssh-server", false),
        ("pkg:deb/debian/openssh-client", false),
        ("pkg:rpm/debian/openssh-server", false),
        // Debian's statements name source packages.
        ("pkg:deb/debian/openssh@1:9.2p1-2+deb12u2", true),
        ("pkg:deb/debian/openssh", true),
        ("openssh-server", false),
    ];
    for (id, want) in cases {
        assert_eq!(ours.named_by(id), want, "{id}");
    }
    let py = package("pkg:pypi/zope.interface@6.0");
    assert!(py.named_by("pkg:pypi/Zope_Interface@6.0"), "PEP 503 names");
    let raw = package("not a purl");
    assert!(
        raw.named_by("not a purl"),
        "an identifier that is no purl is compared as written"
    );
}

#[test]
fn statements_about_the_image_reach_its_packages() {
    let m = || a_match("CVE-2024-6387", &[], "openssh-server", "1:9.2p1-2+deb12u2", "openssh");
    let statement = |product: serde_json::Value| {
        doc(&openvex_doc(
            "2024-07-01T00:00:00Z",
            serde_json::json!([{
                "vulnerability": {"name": "CVE-2024-6387"},
                "products": [product],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path"
            }]),
        ))
        .unwrap()
    };
    let cases = [
        (
            serde_json::json!({"@id": "pkg:oci/sshd", "subcomponents": [{"@id": "pkg:deb/debian/openssh-server"}]}),
            true,
        ),
        (
            serde_json::json!({"@id": "pkg:oci/sshd?repository_url=registry.example.com/sealkit/sshd&tag=1",
                            "subcomponents": [{"identifiers": {"purl": "pkg:deb/debian/openssh"}}]}),
            true,
        ),
        (
            serde_json::json!({"@id": "pkg:oci/sshd@sha256%3Aaaaa?arch=amd64"}),
            true,
        ),
        (
            serde_json::json!({"@id": "registry.example.com/sealkit/sshd:1", "subcomponents": [{"@id": "pkg:deb/debian/openssh-server"}]}),
            true,
        ),
        (serde_json::json!({"hashes": {"sha-256": "aaaa"}}), true),
        (serde_json::json!({"@id": "sshd"}), true),
        // Another image, another digest, another tag, another subcomponent.
        (
            serde_json::json!({"@id": "pkg:oci/getty", "subcomponents": [{"@id": "pkg:deb/debian/openssh-server"}]}),
            false,
        ),
        (serde_json::json!({"@id": "pkg:oci/sshd@sha256%3Abbbb"}), false),
        (serde_json::json!({"@id": "pkg:oci/sshd?tag=2"}), false),
        (
            serde_json::json!({"@id": "pkg:oci/sshd", "subcomponents": [{"@id": "pkg:deb/debian/libc6"}]}),
            false,
        ),
        // A subcomponent known only by a CPE narrows the product to nothing sealkit can match.
        (
            serde_json::json!({"@id": "pkg:oci/sshd", "subcomponents": [{"identifiers": {"cpe23": "cpe:2.3:a:openbsd:openssh:9.2:*:*:*:*:*:*:*"}}]}),
            false,
        ),
        (
            serde_json::json!({"identifiers": {"cpe23": "cpe:2.3:a:openbsd:openssh:9.2:*:*:*:*:*:*:*"}}),
            false,
        ),
    ];
    for (product, want) in cases {
        let mut f = findings(vec![m()]);
        apply_findings(&mut f, &[statement(product.clone())], &sshd());
        assert_eq!(f.matches[0].suppressed_by.is_some(), want, "{product}");
    }
    // Another vulnerability is not spoken to, whatever the product.
    let mut f = findings(vec![a_match("CVE-2023-4911", &[], "libc6", "2.36-9", "glibc")]);
    apply_findings(
        &mut f,
        &[statement(serde_json::json!({"@id": "pkg:oci/sshd"}))],
        &sshd(),
    );
    assert!(f.matches[0].suppressed_by.is_none() && f.matches[0].vex.is_none());
}

#[test]
fn precedence_across_files_and_aliases() {
    let stmt = |ts: Option<&str>, status: &str, name: &str| {
        let mut s = serde_json::json!({
            "vulnerability": {"name": name},
            "products": [{"@id": "pkg:deb/debian/openssh"}],
            "status": status,
        });
        match status {
            "not_affected" => s["justification"] = "component_not_present".into(),
            "affected" => s["action_statement"] = "upgrade".into(),
            _ => {}
        }
        if let Some(ts) = ts {
            s["timestamp"] = ts.into();
        }
        s
    };
    let file = |name: &str, ts: &str, statements: Vec<serde_json::Value>| {
        parse(
            openvex_doc(ts, serde_json::Value::Array(statements)).as_bytes(),
            name,
            &[],
        )
        .unwrap()
    };
    let m = || {
        a_match(
            "CVE-2024-6387",
            &["DSA-5724-1"],
            "openssh-server",
            "1:9.2p1-2+deb12u2",
            "openssh",
        )
    };
    let outcome = |docs: &[Document]| {
        let mut f = findings(vec![m()]);
        apply_findings(&mut f, docs, &Subject::default());
        let m = &f.matches[0];
        m.suppressed_by
            .as_ref()
            .or(m.vex.as_ref())
            .map(|r| (r.file.clone(), r.statement, r.status))
    };
    // Later document timestamp wins over file order.
    let a = file(
        "a.json",
        "2024-07-02T00:00:00Z",
        vec![stmt(None, "affected", "CVE-2024-6387")],
    );
    let b = file(
        "b.json",
        "2024-07-01T00:00:00Z",
        vec![stmt(None, "not_affected", "CVE-2024-6387")],
    );
    assert_eq!(
        outcome(&[a.clone(), b.clone()]),
        Some(("a.json".into(), 0, VexStatus::Affected))
    );
    assert_eq!(
        outcome(&[b.clone(), a.clone()]),
        Some(("a.json".into(), 0, VexStatus::Affected))
    );
    // A statement's own timestamp outranks its document's; an alias names the match too.
    let c = file(
        "c.json",
        "2024-07-01T00:00:00Z",
        vec![stmt(Some("2024-07-03T00:00:00+02:00"), "not_affected", "DSA-5724-1")],
    );
    assert_eq!(
        outcome(&[a.clone(), c.clone()]),
        Some(("c.json".into(), 0, VexStatus::NotAffected))
    );
    // Same time: the later file, then the later statement, wins.
    let d = file(
        "d.json",
        "2024-07-02T00:00:00Z",
        vec![stmt(None, "not_affected", "CVE-2024-6387")],
    );
    assert_eq!(
        outcome(&[a.clone(), d.clone()]),
        Some(("d.json".into(), 0, VexStatus::NotAffected))
    );
    assert_eq!(
        outcome(&[d.clone(), a.clone()]),
        Some(("a.json".into(), 0, VexStatus::Affected))
    );
    let e = file(
        "e.json",
        "2024-07-02T00:00:00Z",
        vec![
            stmt(None, "fixed", "CVE-2024-6387"),
            stmt(None, "under_investigation", "CVE-2024-6387"),
        ],
    );
    assert_eq!(outcome(&[e]), Some(("e.json".into(), 1, VexStatus::UnderInvestigation)));
}

#[test]
fn the_report_counts_suppressed_matches_apart() {
    let d = doc(&openvex_doc(
        "2024-07-01T00:00:00Z",
        serde_json::json!([{
            "vulnerability": {"name": "CVE-2024-6387"},
            "products": [{"@id": "pkg:deb/debian/openssh-server"}],
            "status": "not_affected",
            "impact_statement": "sshd is not started in this image"
        }]),
    ))
    .unwrap();
    let components = vec![ComponentFindings {
        name: "sshd".into(),
        prefix: String::new(),
        packages: 2,
        matched_as: None,
        findings: findings(vec![
            a_match("CVE-2024-6387", &[], "openssh-server", "1:9.2p1-2+deb12u2", "openssh"),
            a_match("CVE-2023-4911", &[], "libc6", "2.36-9+deb12u1", "glibc"),
        ]),
    }];
    let mut report = Report {
        database: DatabaseRef {
            digest: "sha256:00".into(),
            newest: None,
            advisories: 2,
        },
        vex: Vec::new(),
        summary: Summary::of(&components),
        components,
    };
    assert_eq!((report.summary.affected, report.summary.suppressed), (2, 0));
    apply(&mut report, &[d], &[sshd()]);
    let s = report.summary;
    assert_eq!((s.matches, s.affected, s.with_fix, s.suppressed), (2, 1, 1, 1));
    assert_eq!(report.vex.len(), 1);
    let json = serde_json::to_value(&report).unwrap();
    let by = &json["components"][0]["matches"];
    let suppressed = by
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "CVE-2024-6387")
        .unwrap();
    assert_eq!(suppressed["suppressed_by"]["status"], "not_affected");
    assert_eq!(
        suppressed["suppressed_by"]["impact_statement"],
        "sshd is not started in this image"
    );
    assert_eq!(
        suppressed["suppressed_by"]["author"],
        "Example Security <security@example.com>"
    );
    let open = by
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "CVE-2023-4911")
        .unwrap();
    assert!(
        open.get("suppressed_by").is_none() && open.get("vex").is_none(),
        "{open}"
    );
}

#[test]
fn malformed_documents_name_the_file_and_statement() {
    let with = |statement: serde_json::Value| openvex_doc("2024-07-01T00:00:00Z", serde_json::json!([statement]));
    let base = || {
        serde_json::json!({
            "vulnerability": {"name": "CVE-1"},
            "products": [{"@id": "pkg:deb/debian/x"}],
            "status": "not_affected",
            "justification": "component_not_present"
        })
    };
    let mut no_justification = base();
    no_justification.as_object_mut().unwrap().remove("justification");
    let mut unknown_status = base();
    unknown_status["status"] = "not_really".into();
    let mut unknown_justification = base();
    unknown_justification["justification"] = "trust_me".into();
    let mut affected_no_action = base();
    affected_no_action["status"] = "affected".into();
    affected_no_action.as_object_mut().unwrap().remove("justification");
    let mut no_product = base();
    no_product.as_object_mut().unwrap().remove("products");
    let mut bad_time = base();
    bad_time["timestamp"] = "yesterday".into();
    let mut status_number = base();
    status_number["status"] = 3.into();
    let good = with(base());
    let cases: Vec<(String, Code, &str)> = vec![
        (with(no_justification), Code::VexMalformed, "statement 0: not_affected needs a justification"),
        (with(unknown_status), Code::VexMalformed, "statement 0: unknown status \"not_really\""),
        (with(unknown_justification), Code::VexMalformed, "unknown justification \"trust_me\""),
        (with(affected_no_action), Code::VexMalformed, "affected needs an action_statement"),
        (with(no_product), Code::VexMalformed, "statement 0: names no product"),
        (with(bad_time), Code::VexMalformed, "\"yesterday\" is not an RFC 3339 time"),
        (with(status_number), Code::VexMalformed, "statements[0].status"),
        (
            good.replace("https://openvex.dev/ns/v0.2.0", "https://example.com/ns"),
            Code::VexMalformed,
            "@context \"https://example.com/ns\"",
        ),
        (good[..good.len() / 2].to_owned(), Code::VexMalformed, "truncated"),
        (good.replace("\"author\"", "\"writer\""), Code::VexMalformed, "has no author"),
        (openvex_doc("2024-07-01T00:00:00Z", serde_json::json!([])), Code::VexMalformed, "holds no statement"),
        ("{\"hello\": 1}".into(), Code::VexFormat, "neither OpenVEX"),
        ("\u{1F600}".into(), Code::VexMalformed, "is not JSON"),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [{"id": "CVE-1", "analysis": {"state": "fine"}, "affects": [{"ref": "x"}]}]}"#.into(),
            Code::VexMalformed,
            "vulnerabilities[0]: unknown analysis.state \"fine\"",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.2", "vulnerabilities": []}"#.into(),
            Code::VexMalformed,
            "specVersion \"1.2\"",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}"#.into(),
            Code::VexMalformed,
            "holds no vulnerability with an analysis.state",
        ),
    ];
    for (text, code, message) in cases {
        let (got, e) = code_of(&text);
        assert_eq!(got, code, "{e}");
        assert!(
            e.contains(message) && e.starts_with("vex.json: "),
            "want {message:?} in {e}"
        );
    }
    doc(&good).unwrap();

    let huge = vec![b' '; MAX_VEX_BYTES as usize + 1];
    assert_eq!(parse(&huge, "big.json", &[]).unwrap_err().code, Code::VexTooLarge);
}

#[test]
fn times_with_offsets() {
    assert_eq!(instant("2023-01-08T18:02:03-06:00"), instant("2023-01-09T00:02:03Z"));
    assert_eq!(instant("2023-01-09T09:08:42+09:00"), instant("2023-01-09T00:08:42Z"));
    assert_eq!(
        instant("2023-01-08T18:02:03.647787998-06:00"),
        Some((instant("2023-01-09T00:02:03Z").unwrap().0, 647_787_998))
    );
    for bad in [
        "2023-01-08T18:02:03-6:00",
        "2023-01-08T18:02:03+24:00",
        "2023-01-08",
        "2023-01-08T18:02:03+0é:00",
    ] {
        assert_eq!(instant(bad), None, "{bad}");
    }
}

/// A VEX signed as `cosign attest --type openvex` signs it: an in-toto statement whose
/// predicate is the document, in a DSSE envelope, alone or inside a Sigstore bundle.
#[test]
fn signed_vex_is_verified_against_the_keys_given() {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let other = SigningKey::generate(Algorithm::EcdsaP256).unwrap();
    let predicate: serde_json::Value = serde_json::from_str(&openvex_doc(
        "2024-07-01T00:00:00Z",
        serde_json::json!([{
            "vulnerability": {"name": "CVE-2024-6387"},
            "status": "not_affected",
            "justification": "vulnerable_code_not_present"
        }]),
    ))
    .unwrap();
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://openvex.dev/ns",
        "subject": [{"name": "registry.example.com/sealkit/sshd", "digest": {"sha256": "aaaa"}}],
        "predicate": predicate,
    });
    let envelope = Envelope::sign(IN_TOTO_PAYLOAD, serde_json::to_vec(&statement).unwrap(), &key);
    let dsse = serde_json::to_vec(&envelope).unwrap();
    let bundle = Bundle::new(envelope.clone(), key.public_key().key_id()).to_json();
    let ours = [key.public_key().clone()];
    let theirs = [other.public_key().clone()];
    for (name, bytes) in [("vex.dsse.json", &dsse), ("vex.sigstore.json", &bundle)] {
        let d = parse(bytes, name, &ours).unwrap();
        assert_eq!(d.signed_by, Some(key.public_key().key_id()));
        // The statement names no product: the in-toto subject stands for it (the image).
        assert_eq!(
            d.statements[0].products[0].ids,
            ["sha256:aaaa"],
            "the subject's digest, not its name"
        );
        let mut f = findings(vec![a_match("CVE-2024-6387", &[], "openssh-server", "1", "openssh")]);
        apply_findings(&mut f, &[d], &sshd());
        assert!(f.matches[0].suppressed_by.as_ref().unwrap().signed_by.is_some());
        // Another build of the same repository is another subject.
        let mut rebuilt = sshd();
        rebuilt.digests = vec!["sha256:bbbb".into()];
        let mut f = findings(vec![a_match("CVE-2024-6387", &[], "openssh-server", "1", "openssh")]);
        apply_findings(&mut f, &[parse(bytes, name, &ours).unwrap()], &rebuilt);
        assert!(f.matches[0].suppressed_by.is_none());

        let e = parse(bytes, name, &theirs).unwrap_err();
        assert_eq!(e.code, Code::VexSignature, "{e}");
        assert!(e.to_string().contains(name));
        // Without a key the content is read, the signature unchecked.
        assert_eq!(parse(bytes, name, &[]).unwrap().signed_by, None);
    }
    let e = parse(predicate.to_string().as_bytes(), "plain.json", &ours).unwrap_err();
    assert_eq!(e.code, Code::VexUnsigned, "{e}");
    assert!(e.to_string().contains("plain.json"));

    let mut tampered = serde_json::to_value(&envelope).unwrap();
    let payload = String::from_utf8(envelope.payload.clone())
        .unwrap()
        .replace("vulnerable_code_not_present", "component_not_present");
    tampered["payload"] = crate::dsse::encode_base64(payload.as_bytes()).into();
    let e = parse(tampered.to_string().as_bytes(), "t.json", &ours).unwrap_err();
    assert_eq!(e.code, Code::VexSignature);

    let mut bare = serde_json::to_value(&envelope).unwrap();
    bare["signatures"] = serde_json::json!([]);
    let e = parse(bare.to_string().as_bytes(), "bare.json", &ours).unwrap_err();
    assert_eq!(e.code, Code::VexUnsigned, "{e}");
    parse(bare.to_string().as_bytes(), "bare.json", &[]).unwrap();

    let wrong = Envelope::sign("text/plain", b"{}".to_vec(), &key);
    let e = parse(&serde_json::to_vec(&wrong).unwrap(), "w.json", &ours).unwrap_err();
    assert!(
        e.code == Code::VexMalformed && e.to_string().contains("payloadType"),
        "{e}"
    );
    let mut other_predicate = statement.clone();
    for foreign in ["https://slsa.dev/provenance/v1", "https://openvex.dev/nsfoo"] {
        other_predicate["predicateType"] = foreign.into();
        let wrong = Envelope::sign(IN_TOTO_PAYLOAD, serde_json::to_vec(&other_predicate).unwrap(), &key);
        let e = parse(&serde_json::to_vec(&wrong).unwrap(), "w.json", &ours).unwrap_err();
        assert!(
            e.code == Code::VexMalformed && e.to_string().contains("predicateType"),
            "{e}"
        );
    }
}

/// Every prefix of every kind of VEX file is refused with a code, never a panic, and a JSON
/// value that is no object is not taken for a document.
#[test]
fn truncated_files_are_refused_at_every_length() {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let openvex = openvex_doc(
        "2024-07-01T00:00:00-05:00",
        serde_json::json!([{
            "vulnerability": {"name": "CVE-1", "aliases": ["GHSA-1"]},
            "products": [{"@id": "pkg:oci/x", "subcomponents": [{"@id": "pkg:deb/debian/x"}]}],
            "status": "not_affected",
            "justification": "component_not_present"
        }]),
    );
    let cdx = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"timestamp":"2024-01-01T00:00:00Z"},
        "vulnerabilities":[{"id":"CVE-1","analysis":{"state":"resolved","lastUpdated":"2024-01-02T00:00:00Z"},
        "affects":[{"ref":"urn:cdx:1/1#pkg%3Adeb%2Fdebian%2Fx"}]}]}"#;
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "x", "digest": {"sha256": "00"}}],
        "predicateType": "https://openvex.dev/ns/v0.2.0",
        "predicate": serde_json::from_str::<serde_json::Value>(&openvex).unwrap(),
    });
    let envelope = Envelope::sign(IN_TOTO_PAYLOAD, serde_json::to_vec(&statement).unwrap(), &key);
    let dsse = serde_json::to_string(&envelope).unwrap();
    let bundle = String::from_utf8(Bundle::new(envelope, key.public_key().key_id()).to_json()).unwrap();
    for whole in [openvex.as_str(), cdx, dsse.as_str(), bundle.trim_end()] {
        doc(whole).unwrap();
        for end in 0..whole.len() {
            let Some(prefix) = whole.get(..end) else { continue };
            let e = doc(prefix).expect_err(prefix);
            assert!(matches!(e.code, Code::VexMalformed | Code::VexFormat), "{prefix}: {e}");
        }
    }
    for not_a_document in ["[]", "1", "\"vex\"", "null"] {
        let e = doc(not_a_document).unwrap_err();
        assert!(e.to_string().contains("is not a VEX document"), "{e}");
    }
}

#[test]
fn files_are_read_within_their_bound() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    assert_eq!(read(&missing, &[]).unwrap_err().code, Code::VexRead);
    assert_eq!(read(dir.path(), &[]).unwrap_err().code, Code::VexRead, "a folder");
    // A sparse file one byte over the bound: refused after reading the bound, not the file.
    let big = dir.path().join("big.json");
    std::fs::File::create(&big).unwrap().set_len(MAX_VEX_BYTES + 1).unwrap();
    let e = read(&big, &[]).unwrap_err();
    assert!(e.code == Code::VexTooLarge && e.to_string().contains("big.json"), "{e}");
}

/// trivy's own CycloneDX VEX test document (pkg/vex/testdata/cyclonedx.json): BOM-Links with
/// percent-encoded purls, and a not_affected without a justification, which CycloneDX allows:
/// read, recorded on its match, suppressing nothing (only a justified not_affected does).
#[test]
fn trivy_cyclonedx_test_document() {
    let d = doc(r#"{
      "bomFormat": "CycloneDX",
      "specVersion": "1.5",
      "version": 1,
      "vulnerabilities": [
        {
          "id": "CVE-2018-7489",
          "source": {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2019-9997"},
          "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
          "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.8.0"}]
        },
        {
          "id": "CVE-2022-27943",
          "source": {"name": "ubuntu", "url": "https://git.launchpad.net/ubuntu-cve-tracker"},
          "affects": [
            {
              "ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0-1ubuntu1~22.04?arch=amd64&distro=ubuntu-22.04",
              "versions": [{"version": "12.3.0-1ubuntu1~22.04", "status": "affected"}]
            }
          ],
          "analysis": {"state": "not_affected"}
        }
      ]
    }"#)
    .unwrap();
    assert_eq!(d.statements.len(), 2);
    assert!(d.statements[0].suppresses());
    assert!(!d.statements[1].suppresses(), "no justification, no detail");
    let mut m = a_match("CVE-2022-27943", &[], "libstdc++6", "12.3.0-1ubuntu1~22.04", "gcc-12");
    m.package.purl = "pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0-1ubuntu1~22.04?arch=amd64&distro=ubuntu-22.04".into();
    let mut f = findings(vec![m]);
    apply_findings(&mut f, &[d], &Subject::default());
    assert!(f.matches[0].suppressed_by.is_none());
    assert_eq!(f.matches[0].vex.as_ref().unwrap().status, VexStatus::NotAffected);
}

/// go-vex's v0.0.1-noversion.json: the bare namespace as @context with v0.0.1's shapes.
#[test]
fn go_vex_bare_context_document() {
    let d = doc(r#"{
      "@context": "https://openvex.dev/ns",
      "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
      "author": "Wolfi J Inkinson",
      "role": "Document Creator",
      "timestamp": "2023-01-08T18:02:03.647787998-06:00",
      "version": "1",
      "statements": [
        {
          "vulnerability": "CVE-2023-12345",
          "products": [
            "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
            "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"
          ],
          "status": "fixed"
        }
      ]
    }"#)
    .unwrap();
    assert_eq!(d.statements[0].products.len(), 2);
    assert!(d.statements[0].suppresses());
}
