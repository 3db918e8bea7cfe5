//! SPDX 2.3 JSON: the image (or the OS image and each component image) as described packages,
//! every catalogued package with its purl and CPE, every file with SHA-1 and SHA-256 at its path
//! in the final image, CONTAINS and DEPENDS_ON relationships. Deterministic: the document
//! namespace is derived from the content, `created` from SOURCE_DATE_EPOCH. SPDXIDs are unique
//! across components (LinuxKit's merge does not de-duplicate them).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{ComponentSbom, SbomInput};
use crate::inspect::sbom::{Ecosystem, Package};

const ROOT_ID: &str = "SPDXRef-Image";

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

/// A package's identifier, unique per component (`prefix`) and place found.
pub fn package_id(p: &Package, prefix: &str) -> String {
    let eco = serde_json::to_value(p.ecosystem)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "SPDXRef-Package-{eco}-{}-{}",
        id_safe(&p.name),
        short_hash(&format!("{}|{prefix}{}", p.purl, p.found_in))
    )
}

pub fn file_id(path: &str) -> String {
    format!("SPDXRef-File-{}", short_hash(path))
}

fn component_id(c: &ComponentSbom) -> String {
    format!("SPDXRef-Component-{}-{}", id_safe(&c.name), short_hash(&c.prefix))
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

pub fn supplier(s: &Option<String>) -> String {
    match s {
        Some(s) if !s.trim().is_empty() => format!("Organization: {}", s.replace(['\n', '\r'], " ")),
        _ => "NOASSERTION".into(),
    }
}

/// SPDX 2.3 §7.9: the SHA-1 of the package's files' sorted SHA-1s.
fn verification_code<'a>(sums: impl Iterator<Item = &'a String>) -> Option<String> {
    let mut sums: Vec<&String> = sums.collect();
    if sums.is_empty() {
        return None;
    }
    sums.sort();
    let mut h = sha1::Sha1::default();
    for s in sums {
        sha1::Digest::update(&mut h, s.as_bytes());
    }
    Some(hex::encode(sha1::Digest::finalize(h)))
}

struct Builder {
    packages: Vec<Value>,
    files: Vec<Value>,
    /// File elements already written: init images merged at `/` can share paths.
    emitted: BTreeSet<String>,
    relationships: Vec<Value>,
    extracted: BTreeSet<String>,
}

impl Builder {
    fn relate(&mut self, from: &str, kind: &str, to: &str) {
        self.relationships
            .push(json!({"spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to}));
    }

    /// Adds one component's packages and files under `parent`.
    fn component(&mut self, c: &ComponentSbom, parent_id: &str, parent_index: usize) {
        let present: BTreeMap<String, &std::path::PathBuf> =
            c.rootfs.files().map(|(p, _)| (p.display().to_string(), p)).collect();
        let mut by_name: BTreeMap<&str, String> = BTreeMap::new();
        for p in &c.catalog.packages {
            by_name
                .entry(p.name.as_str())
                .or_insert_with(|| package_id(p, &c.prefix));
        }
        let mut owned = BTreeSet::new();
        for p in &c.catalog.packages {
            let id = package_id(p, &c.prefix);
            let mut refs = vec![
                json!({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl}),
            ];
            for cpe in &p.cpes {
                refs.push(
                    json!({"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": cpe}),
                );
            }
            let mut source_info = format!("found in {}{}", c.prefix, p.found_in);
            if matches!(p.ecosystem, Ecosystem::Deb | Ecosystem::Rpm)
                && let (Some(s), Some(v)) = (&p.source_name, &p.source_version)
            {
                source_info.push_str(&format!("; built from source package {s} {v}"));
            }
            let mut pkg = json!({
                "SPDXID": id,
                "name": p.name,
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": license_expression(&p.licenses, &mut self.extracted),
                "copyrightText": "NOASSERTION",
                "supplier": supplier(&p.supplier),
                "externalRefs": refs,
                "sourceInfo": source_info,
            });
            let contained: Vec<&String> = p.files.iter().filter(|f| present.contains_key(*f)).collect();
            if let Some(code) = verification_code(contained.iter().filter_map(|f| c.sha1.get(present[*f]))) {
                pkg["filesAnalyzed"] = Value::from(true);
                pkg["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
            }
            self.packages.push(pkg);
            self.relate(parent_id, "CONTAINS", &id);
            for f in contained {
                owned.insert(f.clone());
                self.relate(&id, "CONTAINS", &file_id(&format!("{}{f}", c.prefix)));
            }
            for d in &p.depends {
                if let Some(target) = by_name.get(d.as_str()).cloned() {
                    self.relate(&id, "DEPENDS_ON", &target);
                }
            }
        }
        let mut unowned_sums = Vec::new();
        for (path, entry) in c.rootfs.files() {
            let name = format!("{}{}", c.prefix, path.display());
            let mut checksums = Vec::new();
            if let Some(sha1) = c.sha1.get(path) {
                checksums.push(json!({"algorithm": "SHA1", "checksumValue": sha1}));
            }
            if let Some(sha256) = &entry.sha256 {
                checksums.push(json!({"algorithm": "SHA256", "checksumValue": sha256.hex()}));
            }
            if !self.emitted.insert(name.clone()) {
                continue;
            }
            self.files.push(json!({
                "SPDXID": file_id(&name),
                "fileName": format!("./{name}"),
                "checksums": checksums,
                "licenseConcluded": "NOASSERTION",
                "copyrightText": "NOASSERTION",
            }));
            if !owned.contains(&path.display().to_string()) {
                self.relate(parent_id, "CONTAINS", &file_id(&name));
                if let Some(s) = c.sha1.get(path) {
                    unowned_sums.push(s);
                }
            }
        }
        if let Some(code) = verification_code(unowned_sums.into_iter()) {
            self.packages[parent_index]["filesAnalyzed"] = Value::from(true);
            self.packages[parent_index]["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
        }
    }
}

fn image_package(id: &str, name: &str, version: &str, digest_hex: Option<&str>, supplier_of: &Option<String>) -> Value {
    let mut p = json!({
        "SPDXID": id,
        "name": name,
        "versionInfo": version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "supplier": supplier(supplier_of),
        "primaryPackagePurpose": "CONTAINER",
    });
    if let Some(h) = digest_hex {
        p["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": h}]);
    }
    p
}

/// The SBOMs attached to a component image (shipped inside it or attested beside it) and how they
/// compare with the catalogers, as SPDX annotations of the image's package.
fn annotate_attached(package: &mut Value, c: &ComponentSbom, created: &str) {
    let annotations: Vec<Value> = c
        .catalog
        .attached
        .iter()
        .map(|a| {
            json!({
                "annotationDate": created,
                "annotationType": "OTHER",
                "annotator": format!("Tool: sealkit-{}", env!("CARGO_PKG_VERSION")),
                "comment": format!("Attached SBOM {}, compared with sealkit's catalogers", a.summary()),
            })
        })
        .collect();
    if !annotations.is_empty() {
        package["annotations"] = Value::from(annotations);
    }
}

pub fn document(input: &SbomInput) -> Value {
    let mut b = Builder {
        packages: Vec::new(),
        files: Vec::new(),
        emitted: BTreeSet::new(),
        relationships: Vec::new(),
        extracted: BTreeSet::new(),
    };
    b.relate("SPDXRef-DOCUMENT", "DESCRIBES", ROOT_ID);
    if let Some(only) = input.single() {
        b.packages.push(image_package(
            ROOT_ID,
            input.name,
            &only.manifest.to_string(),
            Some(only.manifest.hex()),
            &only.supplier,
        ));
        annotate_attached(&mut b.packages[0], only, &input.created);
        b.component(only, ROOT_ID, 0);
    } else {
        // The OS image: its supplier is whoever supplies its components, when they agree.
        let suppliers: BTreeSet<&String> = input.components.iter().filter_map(|c| c.supplier.as_ref()).collect();
        let supplier = (suppliers.len() == 1)
            .then(|| suppliers.iter().next().map(|s| (*s).clone()))
            .flatten();
        b.packages
            .push(image_package(ROOT_ID, input.name, "NOASSERTION", None, &supplier));
        b.packages[0]["primaryPackagePurpose"] = Value::from("OPERATING-SYSTEM");
        for c in input.components {
            let id = component_id(c);
            let index = b.packages.len();
            b.packages.push(image_package(
                &id,
                &c.name,
                &c.manifest.to_string(),
                Some(c.manifest.hex()),
                &c.supplier,
            ));
            annotate_attached(&mut b.packages[index], c, &input.created);
            b.relate(ROOT_ID, "CONTAINS", &id);
            b.component(c, &id, index);
        }
    }
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": input.name,
        "documentNamespace": "",
        "creationInfo": {"created": input.created, "creators": [format!("Tool: sealkit-{}", env!("CARGO_PKG_VERSION"))]},
        "packages": b.packages,
        "files": b.files,
        "relationships": b.relationships,
    });
    if !b.extracted.is_empty() {
        doc["hasExtractedLicensingInfos"] = b
            .extracted
            .iter()
            .map(|id| json!({"licenseId": id, "name": id.trim_start_matches("LicenseRef-"), "extractedText": "A license named in the package's copyright file that is not on the SPDX license list."}))
            .collect();
    }
    // The namespace is a digest of everything else: the same input gives the same document.
    let digest = hex::encode(Sha256::digest(serde_json::to_vec(&doc).unwrap_or_default()));
    doc["documentNamespace"] = Value::from(format!("https://sealkit.dev/spdx/{}/{digest}", id_safe(input.name)));
    doc
}
