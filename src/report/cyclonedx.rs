//! CycloneDX 1.6 JSON: the image as the metadata component, every catalogued package as a
//! library component with purl, CPE, licenses and supplier, dependencies from package metadata.
//! The serial number is derived from the content, the timestamp from SOURCE_DATE_EPOCH.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::SbomInput;
use super::spdx::package_id;

pub fn document(input: &SbomInput) -> Value {
    let mut components = Vec::new();
    let mut by_name: BTreeMap<&str, String> = BTreeMap::new();
    for p in &input.catalog.packages {
        by_name.entry(p.name.as_str()).or_insert_with(|| package_id(p));
    }
    let mut dependencies = Vec::new();
    let mut top = BTreeSet::new();
    for p in &input.catalog.packages {
        let bom_ref = package_id(p);
        top.insert(bom_ref.clone());
        let licenses: Vec<Value> = p
            .licenses
            .iter()
            .map(|l| match spdx::license_id(l) {
                Some(id) => json!({"license": {"id": id.name}}),
                None => json!({"license": {"name": l}}),
            })
            .collect();
        let mut properties = vec![json!({"name": "sealkit:package:found-in", "value": p.found_in})];
        if let Some(arch) = &p.arch {
            properties.push(json!({"name": "sealkit:package:arch", "value": arch}));
        }
        if let Some(s) = &p.source_name {
            properties.push(json!({"name": "sealkit:package:source-name", "value": s}));
        }
        if let Some(v) = &p.source_version {
            properties.push(json!({"name": "sealkit:package:source-version", "value": v}));
        }
        let mut component = json!({
            "type": "library",
            "bom-ref": bom_ref,
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
        components.push(component);
        let depends: BTreeSet<String> = p
            .depends
            .iter()
            .filter_map(|d| by_name.get(d.as_str()).cloned())
            .collect();
        dependencies.push(json!({"ref": package_id(p), "dependsOn": depends}));
    }
    dependencies.push(json!({"ref": "image", "dependsOn": top}));
    let mut image = json!({
        "type": "container",
        "bom-ref": "image",
        "name": input.name,
        "version": input.manifest.to_string(),
        "hashes": [{"alg": "SHA-256", "content": input.manifest.hex()}],
    });
    if let Some(s) = &input.supplier {
        image["supplier"] = json!({"name": s});
    }
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "serialNumber": "",
        "metadata": {
            "timestamp": input.created,
            "tools": {"components": [{"type": "application", "name": "sealkit", "version": env!("CARGO_PKG_VERSION")}]},
            "component": image,
        },
        "components": components,
        "dependencies": dependencies,
    });
    let digest = Sha256::digest(serde_json::to_vec(&doc).unwrap_or_default());
    let h = hex::encode(&digest[..16]);
    // A UUID-shaped serial (version 5 layout) derived from the content.
    let serial = format!(
        "urn:uuid:{}-{}-5{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        ["8", "9", "a", "b"][usize::from(digest[8] & 3)],
        &h[17..20],
        &h[20..32]
    );
    doc["serialNumber"] = Value::from(serial);
    doc
}
