//! CycloneDX 1.6 JSON: the image (or the OS image) as the metadata component, each component
//! image as a container component, every catalogued package as a library with purl, CPE,
//! licenses and supplier, and the dependency graph; who supplies the subject (`metadata.supplier`
//! and the metadata component's) and who made the document besides sealkit (`authors` for people,
//! `manufacturer` for an organisation). The serial number is derived from the content, the
//! timestamp from SOURCE_DATE_EPOCH.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::spdx::package_id;
use super::{ComponentSbom, SbomInput};
use crate::party::{Kind, Party};
use crate::vuln::advisory::Origin;
use crate::vuln::matching::{Match, Report};
use crate::vuln::severity::Level;
use crate::vuln::vex::VexStatus;

/// A person as an `organizationalContact`.
fn contact(p: &Party) -> Value {
    let mut v = json!({"name": p.name});
    if let Some(email) = &p.email {
        v["email"] = Value::from(email.clone());
    }
    v
}

/// An `organizationalEntity`: an organisation, or a person supplying on their own, named and
/// reached through themselves.
fn entity(p: &Party) -> Value {
    let mut v = json!({"name": p.name});
    match (p.kind, &p.email) {
        (Kind::Person, _) => v["contact"] = json!([contact(p)]),
        (Kind::Organization, Some(email)) => v["contact"] = json!([{"email": email}]),
        (Kind::Organization, None) => {}
    }
    v
}

fn library(p: &crate::inspect::sbom::Package, c: &ComponentSbom) -> Value {
    let licenses: Vec<Value> = p
        .licenses
        .iter()
        .map(|l| match spdx::license_id(l) {
            Some(id) => json!({"license": {"id": id.name}}),
            None => json!({"license": {"name": l}}),
        })
        .collect();
    let mut properties =
        vec![json!({"name": "sealkit:package:found-in", "value": format!("{}{}", c.prefix, p.found_in)})];
    for (key, value) in [
        ("arch", &p.arch),
        ("source-name", &p.source_name),
        ("source-version", &p.source_version),
    ] {
        if let Some(v) = value {
            properties.push(json!({"name": format!("sealkit:package:{key}"), "value": v}));
        }
    }
    let mut component = json!({
        "type": "library",
        "bom-ref": package_id(p, &c.prefix),
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
        "properties": properties,
    });
    if let Some(cpe) = p.cpes.first() {
        component["cpe"] = Value::from(cpe.clone());
    }
    if !licenses.is_empty() {
        component["licenses"] = Value::from(licenses);
    }
    if let Some(s) = p.supplier.as_ref().filter(|s| !s.trim().is_empty()) {
        component["supplier"] = json!({"name": s});
    }
    component
}

fn container(bom_ref: &str, c: &ComponentSbom) -> Value {
    let mut v = json!({
        "type": "container",
        "bom-ref": bom_ref,
        "name": c.name,
        "version": c.manifest.to_string(),
        "hashes": [{"alg": "SHA-256", "content": c.manifest.hex()}],
    });
    if let Some(s) = &c.supplier {
        v["supplier"] = entity(s);
    }
    // The SBOMs attached to the image (inside it or attested beside it) and how they compare.
    let attached: Vec<Value> = c
        .facts
        .catalog
        .attached
        .iter()
        .map(|a| json!({"name": "sealkit:attached-sbom", "value": a.summary()}))
        .collect();
    if !attached.is_empty() {
        v["properties"] = Value::from(attached);
    }
    v
}

/// CycloneDX's names of CVSS versions, from a vector's prefix.
fn cvss_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.") {
        "CVSSv3"
    } else {
        "CVSSv2"
    }
}

/// The matches of `report` as CycloneDX `vulnerabilities`, one per vulnerability id, each
/// affecting every library of the document whose purl is the matched package's (a purl names
/// one version of one package: every copy of it is affected).
fn vulnerabilities(report: &Report, components: &[Value]) -> Vec<Value> {
    let mut refs_by_purl: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in components {
        if let (Some(purl), Some(bom_ref)) = (c["purl"].as_str(), c["bom-ref"].as_str()) {
            refs_by_purl.entry(purl).or_default().insert(bom_ref);
        }
    }
    // Each vulnerability with its matches, and the (bom-ref, version, status) it affects: a
    // match a VEX statement suppressed is `unaffected`.
    type Affects<'r> = BTreeSet<(&'r str, &'r str, &'static str)>;
    let mut by_id: BTreeMap<&str, (Vec<&Match>, Affects)> = BTreeMap::new();
    for component in &report.components {
        for m in &component.findings.matches {
            let entry = by_id.entry(m.id.as_str()).or_default();
            entry.0.push(m);
            let status = if m.suppressed_by.is_some() {
                "unaffected"
            } else {
                "affected"
            };
            for bom_ref in refs_by_purl.get(m.package.purl.as_str()).into_iter().flatten() {
                entry.1.insert((bom_ref, m.package.version.as_str(), status));
            }
        }
    }
    by_id
        .into_iter()
        .filter(|(_, (_, affects))| !affects.is_empty())
        .map(|(id, (matches, affects))| {
            let m = matches[0];
            let source = |origin: Origin| json!({"name": origin.as_str()});
            let mut rating = json!({"source": source(m.sources.first().map_or(Origin::Osv, |s| s.origin))});
            rating["severity"] = Value::from(match m.rating.level {
                Level::Critical => "critical",
                Level::High => "high",
                Level::Medium => "medium",
                Level::Low => "low",
                Level::Negligible => "info",
                Level::Unknown => "unknown",
            });
            if let (Some(score), Some(vector)) = (m.rating.score, &m.rating.vector) {
                rating["score"] = json!(f64::from(score.tenths()) / 10.0);
                rating["method"] = Value::from(cvss_method(vector));
                rating["vector"] = Value::from(vector.clone());
            }
            let mut v = json!({
                "bom-ref": format!("vulnerability-{id}"),
                "id": id,
                "source": source(m.sources.first().map_or(Origin::Osv, |s| s.origin)),
                "ratings": [rating],
                "affects": affects.iter().map(|(bom_ref, version, status)| json!({
                    "ref": bom_ref,
                    "versions": [{"version": version, "status": status}],
                })).collect::<Vec<_>>(),
            });
            let references: Vec<Value> = m
                .sources
                .iter()
                .filter(|s| s.id != m.id)
                .map(|s| json!({"id": s.id, "source": source(s.origin)}))
                .collect();
            if !references.is_empty() {
                v["references"] = Value::from(references);
            }
            if !m.summary.is_empty() {
                v["description"] = Value::from(m.summary.clone());
            }
            // CycloneDX's analysis is the vulnerability's as a whole: given only when one
            // statement settled every match of it.
            let statements: BTreeSet<_> = matches
                .iter()
                .map(|m| {
                    m.suppressed_by
                        .as_ref()
                        .map(|s| (s.status, &s.justification, &s.impact_statement))
                })
                .collect();
            if let [Some((status, justification, detail))] = statements.into_iter().collect::<Vec<_>>()[..] {
                let mut analysis = json!({"state": match status {
                    VexStatus::Fixed => "resolved",
                    _ => "not_affected",
                }});
                if let Some(j) = justification.as_deref().and_then(cyclonedx_justification) {
                    analysis["justification"] = Value::from(j);
                }
                if let Some(d) = detail {
                    analysis["detail"] = Value::from(d.clone());
                }
                v["analysis"] = analysis;
            }
            if let Some(fixed) = &m.fixed {
                v["recommendation"] = Value::from(format!("Upgrade {} to {fixed} or later.", m.package.name));
            }
            v
        })
        .collect()
}

/// OpenVEX's justifications in CycloneDX's words (CycloneDX's own pass through), as trivy maps
/// them.
fn cyclonedx_justification(justification: &str) -> Option<&'static str> {
    Some(match justification {
        "component_not_present" | "vulnerable_code_not_present" | "code_not_present" => "code_not_present",
        "vulnerable_code_not_in_execute_path" | "code_not_reachable" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" | "requires_environment" => "requires_environment",
        "inline_mitigations_already_exist" | "protected_by_mitigating_control" => "protected_by_mitigating_control",
        "requires_configuration" => "requires_configuration",
        "requires_dependency" => "requires_dependency",
        "protected_by_compiler" => "protected_by_compiler",
        "protected_at_runtime" => "protected_at_runtime",
        "protected_at_perimeter" => "protected_at_perimeter",
        _ => return None,
    })
}

pub fn document(input: &SbomInput) -> Value {
    document_with(input, None)
}

/// The SBOM of `input`, with the known vulnerabilities of its packages when a scan was made.
pub fn document_with(input: &SbomInput, report: Option<&Report>) -> Value {
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    let single = input.single();
    let mut top = BTreeSet::new();
    for (i, c) in input.components.iter().enumerate() {
        let holder = if single.is_some() {
            "image".to_owned()
        } else {
            format!("component-{i}")
        };
        if single.is_none() {
            components.push(container(&holder, c));
            top.insert(holder.clone());
        }
        let mut by_name: BTreeMap<&str, String> = BTreeMap::new();
        for p in &c.facts.catalog.packages {
            by_name
                .entry(p.name.as_str())
                .or_insert_with(|| package_id(p, &c.prefix));
        }
        let mut held = BTreeSet::new();
        for p in &c.facts.catalog.packages {
            components.push(library(p, c));
            held.insert(package_id(p, &c.prefix));
            let depends: BTreeSet<String> = p
                .depends
                .iter()
                .filter_map(|d| by_name.get(d.as_str()).cloned())
                .collect();
            dependencies.push(json!({"ref": package_id(p, &c.prefix), "dependsOn": depends}));
        }
        if single.is_some() {
            top.extend(held);
        } else {
            dependencies.push(json!({"ref": holder, "dependsOn": held}));
        }
    }
    let supplier = input.supplier();
    let mut metadata_component = match single {
        Some(c) => {
            let mut v = container("image", c);
            v["name"] = Value::from(input.name);
            v
        }
        None => json!({"type": "operating-system", "bom-ref": "image", "name": input.name}),
    };
    let mut metadata = json!({
        "timestamp": input.created,
        "tools": {"components": [{"type": "application", "name": "sealkit", "version": env!("CARGO_PKG_VERSION")}]},
    });
    if let Some(s) = &supplier {
        metadata_component["supplier"] = entity(s);
        metadata["supplier"] = entity(s);
    }
    metadata["component"] = metadata_component;
    let authors: Vec<Value> = input
        .authorship
        .creators
        .iter()
        .filter(|c| c.kind == Kind::Person)
        .map(contact)
        .collect();
    if !authors.is_empty() {
        metadata["authors"] = Value::from(authors);
    }
    if let Some(maker) = input.authorship.creators.iter().find(|c| c.kind == Kind::Organization) {
        metadata["manufacturer"] = entity(maker);
    }
    dependencies.push(json!({"ref": "image", "dependsOn": top}));
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "serialNumber": "",
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    });
    if let Some(report) = report {
        let found = vulnerabilities(report, doc["components"].as_array().map_or(&[], Vec::as_slice));
        if !found.is_empty() {
            doc["vulnerabilities"] = Value::from(found);
        }
    }
    let digest = Sha256::digest(serde_json::to_vec(&doc).unwrap_or_default());
    let h = hex::encode(&digest[..16]);
    // A UUID-shaped serial (version 5 layout) derived from the content.
    let variant = ["8", "9", "a", "b"][usize::from(digest[8] & 3)];
    let serial = format!(
        "urn:uuid:{}-{}-5{}-{variant}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    );
    doc["serialNumber"] = Value::from(serial);
    doc
}
