//! Matching against the real advisories of `testdata/` (see its README): an image holding the
//! affected versions matches exactly those advisories, with the fixed versions the sources
//! name; one holding the fixed versions matches none.

use std::path::PathBuf;

use super::db::{self, Database, ImportOptions};
use super::matching::{Index, Status, match_catalog};
use crate::inspect::sbom::{Catalog, Distro, Ecosystem, Package};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/vuln/testdata")
}

fn database() -> Database {
    db::import(&[testdata()], &ImportOptions::default()).unwrap().database
}

/// A catalogued package as the catalogers give it (for Debian, with its source).
fn package(ecosystem: Ecosystem, name: &str, version: &str, source: Option<(&str, &str)>) -> Package {
    Package {
        ecosystem,
        name: name.into(),
        version: version.into(),
        arch: None,
        source_name: source.map(|s| s.0.into()),
        source_version: source.map(|s| s.1.into()),
        supplier: None,
        licenses: Vec::new(),
        purl: format!("pkg:test/{name}@{version}"),
        cpes: Vec::new(),
        depends: Vec::new(),
        files: Vec::new(),
        found_in: "test".into(),
    }
}

fn catalog(distro: (&str, &str), packages: Vec<Package>) -> Catalog {
    Catalog {
        distro: Some(Distro {
            id: distro.0.into(),
            version_id: distro.1.into(),
            pretty_name: String::new(),
        }),
        packages,
        attached: Vec::new(),
        problems: Vec::new(),
    }
}

/// One image's packages at the given versions: Debian's by their source, and one of every
/// other ecosystem the test advisories cover.
fn image(openssh: &str, glibc: &str, requests: &str, semver: &str, stdlib: &str, xnet: &str, h2: &str) -> Catalog {
    catalog(
        ("debian", "12"),
        vec![
            package(Ecosystem::Deb, "openssh-server", openssh, Some(("openssh", openssh))),
            // A binary package whose version differs from its source's (binNMU): matched by the source.
            package(Ecosystem::Deb, "libc6", &format!("{glibc}+b1"), Some(("glibc", glibc))),
            package(Ecosystem::Deb, "liblzma5", "5.4.1-0.2", Some(("xz-utils", "5.4.1-0.2"))),
            package(Ecosystem::Python, "Requests", requests, None),
            package(Ecosystem::Npm, "semver", semver, None),
            package(Ecosystem::Golang, "stdlib", stdlib, None),
            package(Ecosystem::Golang, "golang.org/x/net", xnet, None),
            package(Ecosystem::Cargo, "h2", h2, None),
            package(Ecosystem::Rpm, "bash", "5.2-1", None),
        ],
    )
}

#[test]
fn affected_versions_match_exactly_their_advisories() {
    let db = database();
    let index = Index::new(&db);
    let found = match_catalog(
        &index,
        &image(
            "1:9.2p1-2+deb12u2",
            "2.36-9+deb12u1",
            "2.28.1",
            "7.5.1",
            "1.21.1",
            "v0.15.0",
            "0.3.16",
        ),
    );
    let got: Vec<(&str, &str, Option<&str>)> = found
        .matches
        .iter()
        .map(|m| (m.package.name.as_str(), m.id.as_str(), m.fixed.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("libc6", "CVE-2023-4911", Some("2.36-9+deb12u3")),
            ("openssh-server", "CVE-2024-6387", Some("1:9.2p1-2+deb12u3")),
            ("Requests", "CVE-2023-32681", Some("2.31.0")),
            ("semver", "CVE-2022-25883", Some("7.5.2")),
            ("golang.org/x/net", "CVE-2023-39325", Some("0.17.0")),
            ("stdlib", "CVE-2023-39325", Some("1.21.3")),
            ("h2", "CVE-2023-26964", None),
        ],
        "{:#?}",
        found.matches
    );
    // xz-utils 5.4.1-0.2: the tracker says bookworm was never affected by the backdoor.
    assert!(found.matches.iter().all(|m| m.package.name != "liblzma5"));
    // The tracker's entry and the DSA are one vulnerability: one match, both sources.
    let openssh = &found.matches[1];
    let sources: Vec<&str> = openssh.sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(sources, ["DSA-5724-1", "CVE-2024-6387"]);
    assert_eq!(openssh.lookup.ecosystem, "Debian:12");
    assert_eq!(openssh.status, Status::Affected);
    assert_eq!(found.matches[2].aliases, ["GHSA-j8r2-6x86-q33q"]);
    assert_eq!(found.not_covered.get("rpm"), Some(&1));
    assert!(found.not_evaluated.is_empty(), "{:#?}", found.not_evaluated);
}

#[test]
fn fixed_versions_match_nothing() {
    let db = database();
    let index = Index::new(&db);
    let found = match_catalog(
        &index,
        &image(
            "1:9.2p1-2+deb12u3",
            "2.36-9+deb12u3",
            "2.31.0",
            "7.5.2",
            "1.21.3",
            "v0.17.0",
            "0.3.17",
        ),
    );
    assert!(found.matches.is_empty(), "{:#?}", found.matches);
    // Other branches of the same ranges: below the first fix, and a release candidate.
    let found = match_catalog(
        &index,
        &image(
            "1:9.2p1-2+deb12u3",
            "2.36-9+deb12u3",
            "2.2.0",
            "6.3.1",
            "1.20.10",
            "v0.17.0",
            "0.3.17",
        ),
    );
    assert!(found.matches.is_empty(), "{:#?}", found.matches);
    let found = match_catalog(
        &index,
        &image(
            "1:9.2p1-2+deb12u3",
            "2.36-9+deb12u3",
            "2.31.0",
            "6.3.0",
            "1.21rc2",
            "v0.17.0",
            "0.3.17",
        ),
    );
    let got: Vec<(&str, Option<&str>)> = found
        .matches
        .iter()
        .map(|m| (m.package.name.as_str(), m.fixed.as_deref()))
        .collect();
    assert_eq!(got, [("semver", Some("6.3.1")), ("stdlib", Some("1.21.3"))]);
}

/// bullseye's openssh (8.4p1) and glibc (2.31) predate both bugs: the tracker says `0`, and
/// the DSAs are for Debian 12 only.
#[test]
fn another_release_is_judged_by_its_own_data() {
    let db = database();
    let index = Index::new(&db);
    let bullseye = catalog(
        ("debian", "11"),
        vec![
            package(
                Ecosystem::Deb,
                "openssh-server",
                "1:8.4p1-5+deb11u3",
                Some(("openssh", "1:8.4p1-5+deb11u3")),
            ),
            package(
                Ecosystem::Deb,
                "libc6",
                "2.31-13+deb11u11",
                Some(("glibc", "2.31-13+deb11u11")),
            ),
        ],
    );
    assert!(match_catalog(&index, &bullseye).matches.is_empty());
    // Ubuntu's packages are not Debian's: counted as not covered, never matched by name.
    let ubuntu = catalog(
        ("ubuntu", "22.04"),
        vec![package(
            Ecosystem::Deb,
            "openssh-server",
            "1:8.9p1-3",
            Some(("openssh", "1:8.9p1-3")),
        )],
    );
    let found = match_catalog(&index, &ubuntu);
    assert!(found.matches.is_empty());
    assert_eq!(found.not_covered.get("deb (ubuntu)"), Some(&1));
}

/// What cannot be decided is reported, never counted either way; tracker statuses other than
/// resolved.
#[test]
fn undecidable_and_open_cases() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("git.json"),
        r#"{"id": "OSV-GIT-1", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "gitonly"},
                          "ranges": [{"type": "GIT", "repo": "https://example.org/r", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("tracker.json"),
        r#"{"bash": {"CVE-9-1": {"releases": {"bookworm": {"status": "open", "urgency": "unimportant"}}},
                     "CVE-9-2": {"releases": {"bookworm": {"status": "undetermined"}}},
                     "CVE-9-3": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "not a version!"}}}}}"#,
    )
    .unwrap();
    let db = db::import(&[testdata(), tmp.path().to_path_buf()], &ImportOptions::default())
        .unwrap()
        .database;
    let index = Index::new(&db);
    let found = match_catalog(
        &index,
        &catalog(
            ("debian", "12"),
            vec![
                package(Ecosystem::Python, "gitonly", "1.0", None),
                package(Ecosystem::Python, "requests", "not-a-version", None),
                package(Ecosystem::Deb, "bash", "5.2.15-2+b2", Some(("bash", "5.2.15-2"))),
            ],
        ),
    );
    let matched: Vec<(&str, Status, Option<&str>)> = found
        .matches
        .iter()
        .map(|m| (m.id.as_str(), m.status, m.urgency.as_deref()))
        .collect();
    assert_eq!(
        matched,
        [
            ("CVE-9-1", Status::Affected, Some("unimportant")),
            ("CVE-9-2", Status::Undetermined, None)
        ]
    );
    assert!(found.matches.iter().all(|m| m.fixed.is_none()));
    let reasons: Vec<(&str, &str)> = found
        .not_evaluated
        .iter()
        .map(|n| (n.package.name.as_str(), n.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:#?}");
    assert!(
        reasons
            .iter()
            .any(|(p, r)| *p == "bash" && r.contains("not a dpkg version")),
        "{reasons:#?}"
    );
    assert!(
        reasons.iter().any(|(p, r)| *p == "gitonly" && r.contains("GIT range")),
        "{reasons:#?}"
    );
    assert!(
        reasons.iter().any(|(p, r)| *p == "requests" && r.contains("pep440")),
        "{reasons:#?}"
    );
}
