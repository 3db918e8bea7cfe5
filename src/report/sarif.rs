//! The policy decision as SARIF 2.1.0 (OASIS), which code-scanning services read: each rule with
//! its metadata (title, description, remediation as help, severity and upstream aliases as
//! properties), each result with its component as a logical location and its path inside it as
//! the artifact, and each excepted result as an accepted suppression with its justification.
//! Nothing in it depends on the clock: the same decision gives the same bytes.

use serde_json::{Value, json};

use crate::policy::decision::{Decision, Outcome, Status};
use crate::policy::engine::Level;
use crate::policy::metadata::{RuleMeta, Severity};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// GitHub's code scanning orders results by `security-severity`, a CVSS-like score.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `No container holds every capability` → `NoContainerHoldsEveryCapability`: SARIF's `name`
/// is an identifier-like form of the rule for people.
fn pascal(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rule(meta: &RuleMeta) -> Value {
    let mut help = meta.remediation.clone();
    if !meta.aliases.is_empty() {
        if !help.is_empty() {
            help.push_str("\n\n");
        }
        help.push_str(&format!("Corresponds to: {}.", meta.aliases.join(", ")));
    }
    let full = if meta.description.is_empty() {
        &meta.title
    } else {
        &meta.description
    };
    let mut out = json!({
        "id": meta.id,
        "name": pascal(&meta.title),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": full},
        "properties": {
            "aliases": meta.aliases,
            "severity": meta.severity.as_str(),
            "security-severity": security_severity(meta.severity),
            "tags": ["security"],
            "declared": meta.declared,
        },
    });
    if !help.is_empty() {
        out["help"] = json!({"text": help});
    }
    out
}

/// A path as a URI reference: every byte outside the unreserved set and `/` is percent-encoded
/// (a `:` too, which would otherwise read as a scheme).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn result(r: &Outcome, index: usize) -> Value {
    let level = match r.level {
        Level::Deny => "error",
        Level::Warn => "warning",
    };
    let mut out = json!({
        "ruleId": r.id,
        "ruleIndex": index,
        "level": level,
        "message": {"text": r.msg},
        "properties": {"severity": r.severity.as_str(), "status": r.status},
    });
    let mut location = serde_json::Map::new();
    if let Some(path) = &r.path {
        location.insert(
            "physicalLocation".into(),
            json!({"artifactLocation": {"uri": uri(path)}}),
        );
    }
    if let Some(component) = &r.component {
        location.insert(
            "logicalLocations".into(),
            json!([{"name": component, "fullyQualifiedName": component, "kind": "module"}]),
        );
    }
    if !location.is_empty() {
        out["locations"] = json!([location]);
    }
    // One rule reports every vulnerable package: the vulnerability keeps each result apart,
    // and code scanning tracks a result across runs by its fingerprint.
    if let Some(vulnerability) = &r.vulnerability {
        out["properties"]["vulnerability"] = json!(vulnerability);
        let scope = [r.component.as_deref(), r.path.as_deref(), Some(vulnerability.as_str())];
        out["partialFingerprints"] = json!({
            "sealkitVulnerability/v1": scope.iter().flatten().copied().collect::<Vec<_>>().join("|"),
        });
    }
    if r.status == Status::Excepted
        && let Some(e) = &r.exception
    {
        out["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} (owner {}, until {}; {})", e.reason, e.owner, e.expires, e.at),
        }]);
    }
    out
}

/// The SARIF log of `decision`.
pub fn write(decision: &Decision) -> Value {
    let index = |id: &str| decision.rules.iter().position(|r| r.id == id).unwrap_or(0);
    let results: Vec<Value> = decision.results.iter().map(|r| result(r, index(&r.id))).collect();
    let basis = &decision.basis;
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sealkit",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": decision.rules.iter().map(rule).collect::<Vec<_>>(),
            }},
            "results": results,
            "properties": {
                "subject": decision.subject,
                "verdict": decision.verdict,
                "counts": decision.counts,
                "policyDigest": basis.policy_digest,
                "evaluatedOn": basis.evaluated_on,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_uris() {
        assert_eq!(
            super::pascal("No ssh host key baked into the image"),
            "NoSshHostKeyBakedIntoTheImage"
        );
        assert_eq!(super::uri("usr/lib/a b:c%"), "usr/lib/a%20b%3Ac%25");
    }
}
