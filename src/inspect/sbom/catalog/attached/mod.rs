//! SBOMs shipped inside an image (SPDX or CycloneDX JSON, bare or as an in-toto statement's
//! predicate, as BuildKit writes them) or attested beside it: recorded as evidence, and
//! cross-checked against what the catalogers found — packages one side has and the other lacks
//! become facts.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use super::{Cataloger, Input};
use crate::image::attestation::Statement;
use crate::inspect::sbom::{self, Package, Problem};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachedSbom {
    pub path: String,
    /// `spdx` or `cyclonedx`.
    pub format: String,
    pub packages: usize,
    /// Package names the attached SBOM lists and the catalogers did not find.
    pub only_in_sbom: Vec<String>,
    /// Package names the catalogers found and the attached SBOM does not list.
    pub only_in_image: Vec<String>,
}

impl AttachedSbom {
    /// One line for the SPDX and CycloneDX writers: where it is and how it compares, e.g.
    /// `attestation:sha256:… (spdx, 2 packages): 1 only in the SBOM, 1 only in the image`.
    pub fn summary(&self) -> String {
        format!(
            "{} ({}, {} packages): {} only in the SBOM, {} only in the image",
            self.path,
            self.format,
            self.packages,
            self.only_in_sbom.len(),
            self.only_in_image.len()
        )
    }
}

pub struct Attached;

impl Cataloger for Attached {
    fn name(&self) -> &'static str {
        "attached"
    }

    fn wanted(&self, path: &Path) -> bool {
        wanted(path)
    }

    /// An SBOM's packages are claims to check, not packages found.
    fn catalog(&self, _input: &Input, _problems: &mut Vec<Problem>) -> Vec<Package> {
        Vec::new()
    }

    fn cross_check(&self, input: &Input, packages: &[Package], problems: &mut Vec<Problem>) -> Vec<AttachedSbom> {
        let found = found(packages);
        let mut out = Vec::new();
        for (path, bytes) in input.files.contents.iter().filter(|(p, _)| wanted(p)) {
            let file = path.display().to_string();
            let Some(doc) = sbom::parse_json(&file, bytes, "an SBOM file that is not valid JSON", problems) else {
                continue;
            };
            match cross_check(file.clone(), &doc, &found) {
                Some(attached) => out.push(attached),
                None => problems.push(Problem {
                    file,
                    line: 0,
                    message: "named like an SBOM but neither SPDX nor CycloneDX JSON".into(),
                }),
            }
        }
        out
    }
}

fn wanted(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.ends_with(".spdx.json")
        || name.ends_with(".cdx.json")
        || name.ends_with(".bom.json")
        || name == "sbom.json"
        || name == "bom.json"
}

/// (format, package names) of an SBOM document, unwrapping an in-toto statement.
fn read(doc: &serde_json::Value) -> Option<(&'static str, BTreeSet<String>)> {
    let doc = if doc
        .get("_type")
        .and_then(|t| t.as_str())
        .is_some_and(|t| t.contains("in-toto"))
    {
        &doc["predicate"]
    } else {
        doc
    };
    let names = |list: &serde_json::Value| -> BTreeSet<String> {
        list.as_array()
            .map(|a| a.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    if doc.get("spdxVersion").is_some() {
        Some(("spdx", names(&doc["packages"])))
    } else if doc.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
        Some(("cyclonedx", names(&doc["components"])))
    } else {
        None
    }
}

/// Cap on the names listed per difference: enough to act on, bounded for huge SBOMs.
const MAX_LISTED: usize = 100;

/// The cross-check of one SBOM document against the catalogued packages: what each side lists
/// that the other lacks. `None` when the document is neither SPDX nor CycloneDX.
fn cross_check(location: String, doc: &serde_json::Value, found: &BTreeSet<&str>) -> Option<AttachedSbom> {
    let (format, names) = read(doc)?;
    // The document's own root (the image or the described package) is not a package of it.
    let only_in_sbom: Vec<String> = names
        .iter()
        .filter(|n| !found.contains(n.as_str()))
        .take(MAX_LISTED)
        .cloned()
        .collect();
    let only_in_image: Vec<String> = found
        .iter()
        .filter(|n| !names.contains(**n))
        .take(MAX_LISTED)
        .map(|n| (*n).to_owned())
        .collect();
    Some(AttachedSbom {
        path: location,
        format: format.into(),
        packages: names.len(),
        only_in_sbom,
        only_in_image,
    })
}

fn found(packages: &[Package]) -> BTreeSet<&str> {
    packages.iter().map(|p| p.name.as_str()).collect()
}

/// Whether an in-toto predicate type is an SBOM sealkit reads (SPDX or CycloneDX, any version
/// suffix: `https://spdx.dev/Document`, `https://cyclonedx.org/bom/v1.6`).
pub fn is_sbom_predicate(predicate_type: &str) -> bool {
    predicate_type.starts_with("https://spdx.dev/Document") || predicate_type.starts_with("https://cyclonedx.org/bom")
}

/// The SBOMs attached to the image as BuildKit attestations, cross-checked like those shipped
/// inside it. Not part of [`Attached::cross_check`]: the statements are not files of the image
/// but blobs of the store beside it, read by [`crate::inspect::inspect_image`] for images only.
/// `subjects` are the digests a statement may name as its subject: the image manifest,
/// or an object within it (its config or a layer), as BuildKit's attestation format allows. A
/// statement that cannot be read, is not an in-toto statement, or names another subject is a
/// problem; other predicate types (provenance) are not SBOMs and are passed over.
pub fn attested(
    statements: &[Statement],
    subjects: &BTreeSet<String>,
    packages: &[Package],
    problems: &mut Vec<Problem>,
) -> Vec<AttachedSbom> {
    let found = found(packages);
    let mut out = Vec::new();
    let mut problem = |file: &str, message: String| {
        problems.push(Problem {
            file: file.to_owned(),
            line: 0,
            message,
        })
    };
    for st in statements {
        let file = st.location.as_str();
        let bytes = match &st.content {
            Ok(bytes) => bytes,
            Err(why) => {
                problem(file, why.clone());
                continue;
            }
        };
        let doc = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(doc) => doc,
            Err(e) => {
                problem(file, format!("an attestation that is not valid JSON: {e}"));
                continue;
            }
        };
        let Some(predicate_type) = doc
            .get("_type")
            .and_then(|t| t.as_str())
            .filter(|t| t.starts_with("https://in-toto.io/Statement/"))
            .and(doc.get("predicateType"))
            .and_then(|t| t.as_str())
        else {
            problem(
                file,
                "not an in-toto statement (no _type https://in-toto.io/Statement/… with a predicateType)".into(),
            );
            continue;
        };
        if !is_sbom_predicate(predicate_type) {
            continue;
        }
        let named: Vec<String> = doc["subject"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["digest"]["sha256"].as_str())
            .map(|hex| format!("sha256:{hex}"))
            .collect();
        if !named.iter().any(|d| subjects.contains(d)) {
            problem(
                file,
                format!(
                    "the statement is about {}, not this image: it was attached to the wrong image",
                    if named.is_empty() {
                        "no sha256 subject".to_owned()
                    } else {
                        named.join(", ")
                    }
                ),
            );
            continue;
        }
        match cross_check(st.location.clone(), &doc, &found) {
            Some(attached) => out.push(attached),
            None => problem(
                file,
                format!("predicate type {predicate_type}, but the predicate is neither SPDX nor CycloneDX JSON"),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sbom::catalog::{dpkg::Dpkg, testdata};

    /// Real SPDX and CycloneDX documents compared with what the dpkg cataloger finds in its own
    /// real sample (libcap-ng0, zlib1g); broken ones are problems, not comparisons.
    #[test]
    fn documents_against_the_catalog() {
        let (found, _) = testdata::run(&Dpkg, None, &[("status", "var/lib/dpkg/status")]);
        let samples = [
            ("dpkg.spdx.json", "usr/share/sbom/dpkg.spdx.json"),
            ("dpkg.cdx.json", "usr/share/sbom/dpkg.cdx.json"),
            ("truncated.spdx.json", "usr/share/sbom/truncated.spdx.json"),
            ("neither.bom.json", "usr/share/sbom/neither.bom.json"),
        ];
        let mut problems = Vec::new();
        let attached = testdata::with_input(&Attached, None, &samples, |input| {
            assert!(
                Attached.catalog(input, &mut problems).is_empty(),
                "an SBOM's claims are no finding"
            );
            Attached.cross_check(input, &found, &mut problems)
        });
        assert_eq!(
            attached,
            [
                AttachedSbom {
                    path: "usr/share/sbom/dpkg.cdx.json".into(),
                    format: "cyclonedx".into(),
                    packages: 2,
                    only_in_sbom: vec!["libssl3".into()],
                    only_in_image: vec!["zlib1g".into()],
                },
                AttachedSbom {
                    path: "usr/share/sbom/dpkg.spdx.json".into(),
                    format: "spdx".into(),
                    packages: 2,
                    only_in_sbom: Vec::new(),
                    only_in_image: Vec::new(),
                },
            ]
        );
        problems.sort();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            (
                problems[0].file.as_str(),
                problems[0].line,
                problems[0].message.as_str()
            ),
            (
                "usr/share/sbom/neither.bom.json",
                0,
                "named like an SBOM but neither SPDX nor CycloneDX JSON"
            )
        );
        assert_eq!(
            (problems[1].file.as_str(), problems[1].line),
            ("usr/share/sbom/truncated.spdx.json", 4)
        );
        assert!(
            problems[1]
                .message
                .starts_with("an SBOM file that is not valid JSON: EOF while parsing"),
            "{problems:?}"
        );
    }
}
