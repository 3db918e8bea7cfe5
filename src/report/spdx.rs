//! SPDX 2.3 JSON: the image (or the OS image and each component image) as described packages,
//! every catalogued package with its purl and CPE, every file with SHA-1 and SHA-256 at its path
//! in the final image, CONTAINS and DEPENDS_ON relationships. Deterministic: the document
//! namespace is derived from the content, `created` from SOURCE_DATE_EPOCH. SPDXIDs are unique
//! across components (LinuxKit's merge does not de-duplicate them).

use std::collections::{BTreeMap, BTreeSet};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{ComponentSbom, SbomInput};
use crate::image::digest::HashingWriter;
use crate::inspect::sbom::{Ecosystem, Package};
use crate::party::Party;

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

/// Which of the document's lists a walk over the components hands out: the files and the
/// relationships (one or more per file) are streamed to the output one element at a time, never
/// held, so memory does not grow with them; the packages are few and kept.
#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Packages,
    Files,
    Relationships,
}

struct Builder<'e> {
    list: List,
    /// Receives each element of `list` as it is made.
    emit: &'e mut dyn FnMut(&Value),
    packages: Vec<Value>,
    /// File elements already written: init images merged at `/` can share paths (one image's
    /// paths are unique, so they are tracked only for several).
    emitted: Option<BTreeSet<String>>,
    extracted: BTreeSet<String>,
}

impl Builder<'_> {
    fn relate(&mut self, from: &str, kind: &str, to: &str) {
        if self.list == List::Relationships {
            (self.emit)(&json!({"spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to}));
        }
    }

    /// Adds one component's packages and files under `parent`.
    fn component(&mut self, c: &ComponentSbom, parent_id: &str, parent_index: usize) {
        // The list of files needs nothing from the packages.
        let packages: &[Package] = if self.list == List::Files {
            &[]
        } else {
            &c.facts.catalog.packages
        };
        let present: BTreeMap<String, &std::path::PathBuf> = match packages {
            [] => BTreeMap::new(),
            _ => c
                .facts
                .rootfs
                .files()
                .map(|(p, _)| (p.display().to_string(), p))
                .collect(),
        };
        let mut by_name: BTreeMap<&str, String> = BTreeMap::new();
        for p in &c.facts.catalog.packages {
            by_name
                .entry(p.name.as_str())
                .or_insert_with(|| package_id(p, &c.prefix));
        }
        let mut owned = BTreeSet::new();
        for p in packages {
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
            if self.list == List::Packages
                && let Some(code) = verification_code(contained.iter().filter_map(|f| c.facts.sha1.get(present[*f])))
            {
                pkg["filesAnalyzed"] = Value::from(true);
                pkg["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
            }
            self.packages.push(pkg);
            self.relate(parent_id, "CONTAINS", &id);
            for f in contained {
                owned.insert(f.clone());
                if self.list == List::Relationships {
                    self.relate(&id, "CONTAINS", &file_id(&format!("{}{f}", c.prefix)));
                }
            }
            for d in &p.depends {
                if let Some(target) = by_name.get(d.as_str()).cloned() {
                    self.relate(&id, "DEPENDS_ON", &target);
                }
            }
        }
        let mut unowned_sums = Vec::new();
        // The SHA-1s are keyed by the same paths in the same order: read them alongside.
        let mut sha1s = c.facts.sha1.iter().peekable();
        for (path, entry) in c.facts.rootfs.files() {
            while sha1s.next_if(|(p, _)| *p < path).is_some() {}
            let sha1 = sha1s.next_if(|(p, _)| *p == path).map(|(_, s)| s);
            let name = format!("{}{}", c.prefix, path.display());
            if let Some(emitted) = self.emitted.as_mut()
                && !emitted.insert(name.clone())
            {
                continue;
            }
            if self.list == List::Files {
                let mut checksums = Vec::new();
                if let Some(sha1) = sha1 {
                    checksums.push(json!({"algorithm": "SHA1", "checksumValue": sha1}));
                }
                if let Some(sha256) = &entry.sha256 {
                    checksums.push(json!({"algorithm": "SHA256", "checksumValue": sha256.hex()}));
                }
                (self.emit)(&json!({
                    "SPDXID": file_id(&name),
                    "fileName": format!("./{name}"),
                    "checksums": checksums,
                    "licenseConcluded": "NOASSERTION",
                    "copyrightText": "NOASSERTION",
                }));
            }
            if !owned.contains(&name[c.prefix.len()..]) {
                if self.list == List::Relationships {
                    self.relate(parent_id, "CONTAINS", &file_id(&name));
                }
                if let Some(s) = sha1 {
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

fn image_package(id: &str, name: &str, version: &str, digest_hex: Option<&str>, supplier: Option<&Party>) -> Value {
    let mut p = json!({
        "SPDXID": id,
        "name": name,
        "versionInfo": version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "supplier": supplier.map_or_else(|| "NOASSERTION".to_owned(), Party::to_string),
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
        .facts
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

/// One walk over the components, handing the elements of `list` to `emit`; returns the packages
/// and the extracted licenses.
fn walk(input: &SbomInput, list: List, emit: &mut dyn FnMut(&Value)) -> (Vec<Value>, BTreeSet<String>) {
    let mut b = Builder {
        list,
        emit,
        packages: Vec::new(),
        emitted: (input.components.len() > 1).then(BTreeSet::new),
        extracted: BTreeSet::new(),
    };
    b.relate("SPDXRef-DOCUMENT", "DESCRIBES", ROOT_ID);
    let supplier = input.supplier();
    if let Some(only) = input.single() {
        b.packages.push(image_package(
            ROOT_ID,
            input.name,
            &only.manifest.to_string(),
            Some(only.manifest.hex()),
            supplier.as_ref(),
        ));
        annotate_attached(&mut b.packages[0], only, &input.created);
        b.component(only, ROOT_ID, 0);
    } else {
        b.packages.push(image_package(
            ROOT_ID,
            input.name,
            "NOASSERTION",
            None,
            supplier.as_ref(),
        ));
        b.packages[0]["primaryPackagePurpose"] = Value::from("OPERATING-SYSTEM");
        for c in input.components {
            let id = component_id(c);
            let index = b.packages.len();
            b.packages.push(image_package(
                &id,
                &c.name,
                &c.manifest.to_string(),
                Some(c.manifest.hex()),
                c.supplier.as_ref(),
            ));
            annotate_attached(&mut b.packages[index], c, &input.created);
            b.relate(ROOT_ID, "CONTAINS", &id);
            b.component(c, &id, index);
        }
    }
    (b.packages, b.extracted)
}

/// A list of the document, made while it is serialized.
struct Streamed<'a> {
    input: &'a SbomInput<'a>,
    list: List,
}

impl Serialize for Streamed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let mut failed = None;
        walk(self.input, self.list, &mut |v| {
            if failed.is_none()
                && let Err(e) = seq.serialize_element(v)
            {
                failed = Some(e);
            }
        });
        match failed {
            Some(e) => Err(e),
            None => seq.end(),
        }
    }
}

/// The document, its keys in the order a `serde_json::Value` writes them (sorted), so that
/// streaming it gives the same bytes as building it first did.
struct Document<'a> {
    input: &'a SbomInput<'a>,
    namespace: String,
    packages: Vec<Value>,
    extracted: Option<Value>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let input = self.input;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("SPDXID", "SPDXRef-DOCUMENT")?;
        let creators: Vec<String> = std::iter::once(format!("Tool: sealkit-{}", env!("CARGO_PKG_VERSION")))
            .chain(input.authorship.creators.iter().map(Party::to_string))
            .collect();
        map.serialize_entry("creationInfo", &json!({"created": input.created, "creators": creators}))?;
        map.serialize_entry("dataLicense", "CC0-1.0")?;
        map.serialize_entry("documentNamespace", &self.namespace)?;
        map.serialize_entry(
            "files",
            &Streamed {
                input,
                list: List::Files,
            },
        )?;
        if let Some(extracted) = &self.extracted {
            map.serialize_entry("hasExtractedLicensingInfos", extracted)?;
        }
        map.serialize_entry("name", input.name)?;
        map.serialize_entry("packages", &self.packages)?;
        map.serialize_entry(
            "relationships",
            &Streamed {
                input,
                list: List::Relationships,
            },
        )?;
        map.serialize_entry("spdxVersion", "SPDX-2.3")?;
        map.end()
    }
}

impl<'a> Document<'a> {
    fn new(input: &'a SbomInput<'a>) -> Result<Self, serde_json::Error> {
        let (packages, extracted) = walk(input, List::Packages, &mut |_| {});
        let extracted = (!extracted.is_empty()).then(|| {
            extracted
                .iter()
                .map(|id| json!({"licenseId": id, "name": id.trim_start_matches("LicenseRef-"), "extractedText": "A license named in the package's copyright file that is not on the SPDX license list."}))
                .collect()
        });
        let mut doc = Document {
            input,
            namespace: String::new(),
            packages,
            extracted,
        };
        // The namespace is a digest of everything else: the same input gives the same document.
        let mut hasher = HashingWriter::new(std::io::sink());
        serde_json::to_writer(&mut hasher, &doc)?;
        let digest = hasher.finish().1;
        doc.namespace = format!("https://sealkit.dev/spdx/{}/{}", id_safe(input.name), digest.hex());
        Ok(doc)
    }
}

/// Writes the SPDX document as pretty JSON, streaming its files and relationships: memory does
/// not grow with them.
pub fn write(input: &SbomInput, out: impl std::io::Write) -> Result<(), serde_json::Error> {
    serde_json::to_writer_pretty(out, &Document::new(input)?)
}

/// The SPDX document as a value, for callers that embed it; [`write`] streams it instead.
pub fn document(input: &SbomInput) -> Value {
    // Serializing to a Value fails only on map keys that are not strings, and there are none.
    Document::new(input)
        .and_then(serde_json::to_value)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::image::rootfs::{ContentRef, Entry, Kind};
    use crate::image::{Digest, Rootfs};
    use crate::inspect::ComponentFacts;
    use crate::inspect::sbom::Catalog;
    use crate::report::Authorship;

    fn facts(files: &[&str]) -> ComponentFacts {
        let mut rootfs = Rootfs::default();
        let mut sha1 = BTreeMap::new();
        for (i, f) in files.iter().enumerate() {
            let entry = Entry {
                kind: Kind::File,
                mode: 0o644,
                uid: 0,
                gid: 0,
                size: 1,
                mtime: 0,
                sha256: Some(Digest::of(f.as_bytes())),
                xattrs: Default::default(),
                content: Some(ContentRef {
                    layer: 0,
                    ordinal: i as u64,
                }),
                layer: 0,
                hardlink_of: None,
            };
            rootfs.entries.insert(PathBuf::from(f), entry);
            sha1.insert(PathBuf::from(f), format!("{i:040}"));
        }
        ComponentFacts {
            rootfs,
            binaries: Vec::new(),
            catalog: Catalog::default(),
            sha1,
            notes: Vec::new(),
            files: Default::default(),
            secrets: Default::default(),
            kernel: None,
        }
    }

    fn component<'a>(prefix: &str, facts: &'a ComponentFacts) -> ComponentSbom<'a> {
        ComponentSbom {
            name: format!("example/{}", prefix.trim_end_matches('/')),
            manifest: Digest::of(prefix.as_bytes()),
            facts,
            prefix: prefix.to_owned(),
            supplier: Party::organization("example"),
        }
    }

    /// The streamed document is the document: the same bytes as the value written pretty, for
    /// one image and for an OS image whose components share a path.
    #[test]
    fn streamed_and_built_documents_agree() {
        let (a_b, a, a_c, none) = (
            facts(&["etc/a", "usr/b"]),
            facts(&["etc/a"]),
            facts(&["etc/a", "etc/c"]),
            facts(&[]),
        );
        for components in [
            vec![component("", &a_b)],
            vec![component("", &a), component("", &a_c), component("x/", &none)],
        ] {
            let input = SbomInput {
                name: "example",
                components: &components,
                created: "2017-04-18T16:30:00Z".into(),
                authorship: &Authorship::default(),
            };
            let mut streamed = Vec::new();
            write(&input, &mut streamed).unwrap();
            assert_eq!(streamed, serde_json::to_vec_pretty(&document(&input)).unwrap());
            // The namespace is the digest of the compact document with an empty namespace.
            let mut doc = document(&input);
            assert!(!doc["files"].as_array().unwrap().is_empty());
            let namespace = doc["documentNamespace"].as_str().unwrap().to_owned();
            doc["documentNamespace"] = Value::from("");
            let digest = hex::encode(Sha256::digest(serde_json::to_vec(&doc).unwrap()));
            assert_eq!(namespace, format!("https://sealkit.dev/spdx/example/{digest}"));
        }
    }
}
