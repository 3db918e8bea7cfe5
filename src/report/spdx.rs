//! SPDX 2.3 JSON: the image as the described package, every catalogued package with its purl and
//! CPE, every file with SHA-1 and SHA-256, CONTAINS and DEPENDS_ON relationships. Deterministic:
//! the document namespace is derived from the content, `created` from SOURCE_DATE_EPOCH.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::SbomInput;
use crate::inspect::sbom::{Ecosystem, Package};

const IMAGE_ID: &str = "SPDXRef-Image";

/// SPDX identifiers allow letters, digits, `.` and `-`.
fn id_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

pub fn package_id(p: &Package) -> String {
    let eco = serde_json::to_value(p.ecosystem)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "SPDXRef-Package-{eco}-{}-{}",
        id_safe(&p.name),
        short_hash(&format!("{}|{}", p.purl, p.found_in))
    )
}

pub fn file_id(path: &str) -> String {
    format!("SPDXRef-File-{}", short_hash(path))
}

/// A valid SPDX expression for the licenses as written: known identifiers as they are, anything
/// else as `LicenseRef-…` (recorded in `extracted`).
fn license_expression(licenses: &[String], extracted: &mut BTreeSet<String>) -> String {
    if licenses.is_empty() {
        return "NOASSERTION".into();
    }
    let mut terms = Vec::new();
    for l in licenses {
        let term = if spdx::Expression::parse(l).is_ok() {
            if l.contains(' ') { format!("({l})") } else { l.clone() }
        } else if let Some(id) = spdx::license_id(l) {
            id.name.to_owned()
        } else {
            let r = format!("LicenseRef-{}", id_safe(l));
            extracted.insert(r.clone());
            r
        };
        terms.push(term);
    }
    terms.sort();
    terms.dedup();
    terms.join(" AND ")
}

fn supplier(s: &Option<String>) -> String {
    match s {
        Some(s) if !s.trim().is_empty() => format!("Organization: {}", s.replace(['\n', '\r'], " ")),
        _ => "NOASSERTION".into(),
    }
}

pub fn document(input: &SbomInput) -> Value {
    let mut extracted = BTreeSet::new();
    let mut packages = vec![json!({
        "SPDXID": IMAGE_ID,
        "name": input.name,
        "versionInfo": input.manifest.to_string(),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "supplier": supplier(&input.supplier),
        "primaryPackagePurpose": "CONTAINER",
        "checksums": [{"algorithm": "SHA256", "checksumValue": input.manifest.hex()}],
    })];
    let mut relationships = vec![
        json!({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": IMAGE_ID}),
    ];
    let present: BTreeMap<String, ()> = input
        .rootfs
        .files()
        .map(|(p, _)| (p.display().to_string(), ()))
        .collect();
    let mut by_name: BTreeMap<&str, String> = BTreeMap::new();
    for p in &input.catalog.packages {
        by_name.entry(p.name.as_str()).or_insert_with(|| package_id(p));
    }
    let mut owned = BTreeSet::new();
    // SPDX 2.3: a package that contains files is "files analyzed" and carries a verification code,
    // the SHA-1 of its files' sorted SHA-1s (§7.9).
    let verification = |files: &mut dyn Iterator<Item = &str>| -> Option<String> {
        let mut sums: Vec<&String> = files.filter_map(|f| input.sha1.get(std::path::Path::new(f))).collect();
        if sums.is_empty() {
            return None;
        }
        sums.sort();
        let mut h = sha1::Sha1::default();
        for s in sums {
            sha1::Digest::update(&mut h, s.as_bytes());
        }
        Some(hex::encode(sha1::Digest::finalize(h)))
    };
    for p in &input.catalog.packages {
        let id = package_id(p);
        let mut refs =
            vec![json!({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl})];
        for c in &p.cpes {
            refs.push(json!({"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": c}));
        }
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": license_expression(&p.licenses, &mut extracted),
            "copyrightText": "NOASSERTION",
            "supplier": supplier(&p.supplier),
            "externalRefs": refs,
            "sourceInfo": format!("found in {}", p.found_in),
        });
        let contained: Vec<&str> = p
            .files
            .iter()
            .map(String::as_str)
            .filter(|f| present.contains_key(*f))
            .collect();
        if let Some(code) = verification(&mut contained.iter().copied()) {
            pkg["filesAnalyzed"] = Value::from(true);
            pkg["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
        }
        if p.ecosystem == Ecosystem::Deb
            && let (Some(s), Some(v)) = (&p.source_name, &p.source_version)
        {
            pkg["sourceInfo"] = Value::from(format!("found in {}; built from source package {s} {v}", p.found_in));
        }
        packages.push(pkg);
        relationships
            .push(json!({"spdxElementId": IMAGE_ID, "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
        for f in &p.files {
            if present.contains_key(f) {
                owned.insert(f.clone());
                relationships.push(
                    json!({"spdxElementId": id, "relationshipType": "CONTAINS", "relatedSpdxElement": file_id(f)}),
                );
            }
        }
        for d in &p.depends {
            if let Some(target) = by_name.get(d.as_str()) {
                relationships
                    .push(json!({"spdxElementId": id, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": target}));
            }
        }
    }
    let mut files = Vec::new();
    for (path, entry) in input.rootfs.files() {
        let name = path.display().to_string();
        let mut checksums = Vec::new();
        if let Some(sha1) = input.sha1.get(path) {
            checksums.push(json!({"algorithm": "SHA1", "checksumValue": sha1}));
        }
        if let Some(sha256) = &entry.sha256 {
            checksums.push(json!({"algorithm": "SHA256", "checksumValue": sha256.hex()}));
        }
        files.push(json!({
            "SPDXID": file_id(&name),
            "fileName": format!("./{name}"),
            "checksums": checksums,
            "licenseConcluded": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        }));
        if !owned.contains(&name) {
            relationships.push(json!({"spdxElementId": IMAGE_ID, "relationshipType": "CONTAINS", "relatedSpdxElement": file_id(&name)}));
        }
    }
    let unowned: Vec<String> = input
        .rootfs
        .files()
        .map(|(p, _)| p.display().to_string())
        .filter(|p| !owned.contains(p))
        .collect();
    if let Some(code) = verification(&mut unowned.iter().map(String::as_str)) {
        packages[0]["filesAnalyzed"] = Value::from(true);
        packages[0]["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
    }
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": input.name,
        "documentNamespace": "",
        "creationInfo": {"created": input.created, "creators": [format!("Tool: sealkit-{}", env!("CARGO_PKG_VERSION"))]},
        "packages": packages,
        "files": files,
        "relationships": relationships,
    });
    if !extracted.is_empty() {
        doc["hasExtractedLicensingInfos"] = extracted
            .iter()
            .map(|id| json!({"licenseId": id, "name": id.trim_start_matches("LicenseRef-"), "extractedText": "A license named in the package's copyright file that is not on the SPDX license list."}))
            .collect();
    }
    // The namespace is a digest of everything else: the same image gives the same document.
    let digest = hex::encode(Sha256::digest(serde_json::to_vec(&doc).unwrap_or_default()));
    doc["documentNamespace"] = Value::from(format!("https://sealkit.dev/spdx/{}/{digest}", id_safe(input.name)));
    doc
}
