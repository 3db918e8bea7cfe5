//! SBOMs shipped inside an image (SPDX or CycloneDX JSON, bare or as an in-toto statement's
//! predicate, as BuildKit writes them): recorded as evidence, and cross-checked against what the
//! catalogers found — packages one side has and the other lacks become facts.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use super::{Files, Package, Problem};

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

pub fn wanted(path: &Path) -> bool {
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

pub fn catalog(files: &Files, packages: &[Package], problems: &mut Vec<Problem>) -> Vec<AttachedSbom> {
    let found: BTreeSet<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let mut out = Vec::new();
    for (path, bytes) in files.contents.iter().filter(|(p, _)| wanted(p)) {
        let file = path.display().to_string();
        let Some(doc) = super::parse_json(&file, bytes, "an SBOM file that is not valid JSON", problems) else {
            continue;
        };
        let Some((format, names)) = read(&doc) else {
            problems.push(Problem {
                file,
                line: 0,
                message: "named like an SBOM but neither SPDX nor CycloneDX JSON".into(),
            });
            continue;
        };
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
        out.push(AttachedSbom {
            path: file,
            format: format.into(),
            packages: names.len(),
            only_in_sbom,
            only_in_image,
        });
    }
    out
}
