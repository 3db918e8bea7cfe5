//! in-toto Statements v1: what is attested (subjects, matched by sha256) and the predicate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::image::digest::Digest;

/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// cosign still writes v0.1 statements; their shape is the same.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

pub const PROVENANCE: &str = "https://slsa.dev/provenance/v1";
pub const SPDX: &str = "https://spdx.dev/Document";
pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
pub const VERIFICATION_SUMMARY: &str = "https://slsa.dev/verification_summary/v1";
pub const TEST_RESULT: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// cosign's vulnerability scan predicate (`cosign attest --type vuln`).
pub const VULNERABILITIES: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
/// sealkit's blob signature: "the key's holder signed these bytes" (docs/signing.md).
pub const SIGNATURE: &str = "https://sealkit.dev/attestation/signature/v1";

/// The predicate type of a `--type` value: a URI as it is, or one of cosign's aliases.
pub fn predicate_type(name: &str) -> Option<&str> {
    match name {
        "slsaprovenance1" => Some(PROVENANCE),
        "spdx" | "spdxjson" => Some(SPDX),
        "cyclonedx" => Some(CYCLONEDX),
        "custom" => Some("https://cosign.sigstore.dev/attestation/v1"),
        uri if uri.contains("://") && !uri.chars().any(char::is_whitespace) => Some(uri),
        _ => None,
    }
}

/// An in-toto ResourceDescriptor: a subject, a dependency or a byproduct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, serde_json::Value>>,
}

impl ResourceDescriptor {
    /// A named thing with a sha256 digest.
    pub fn named(name: &str, digest: &Digest) -> Self {
        ResourceDescriptor {
            name: Some(name.to_owned()),
            uri: None,
            digest: BTreeMap::from([("sha256".to_owned(), digest.hex().to_owned())]),
            media_type: None,
            annotations: None,
        }
    }

    pub fn sha256(&self) -> Option<&str> {
        self.digest.get("sha256").map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A v1 statement about `subjects`. `predicate` must be a JSON object.
    pub fn new(subjects: Vec<ResourceDescriptor>, predicate_type: &str, predicate: serde_json::Value) -> Self {
        Statement {
            type_: STATEMENT_V1.to_owned(),
            subject: subjects,
            predicate_type: predicate_type.to_owned(),
            predicate,
        }
    }

    /// The exact bytes signed: compact JSON, fields in the spec's order, maps sorted, so the
    /// same statement is always the same bytes.
    pub fn to_payload(&self) -> Vec<u8> {
        // Serializing strings, maps and JSON values to memory cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks verified payload bytes: a v1 (or v0.1) statement whose every subject
    /// has a sha256 digest and whose predicate is an object. The error says what is wrong.
    pub fn parse(payload: &[u8]) -> Result<Statement, String> {
        let s: Statement = serde_json::from_slice(payload).map_err(|e| format!("not an in-toto statement: {e}"))?;
        if s.type_ != STATEMENT_V1 && s.type_ != STATEMENT_V01 {
            return Err(format!("_type {:?} is not an in-toto statement v1", s.type_));
        }
        if s.subject.is_empty() {
            return Err("the statement has no subject".into());
        }
        for (i, subject) in s.subject.iter().enumerate() {
            let hex = subject.sha256().unwrap_or_default();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(format!("subject {i} has no sha256 digest of 64 lower-case hex digits"));
            }
        }
        if s.predicate_type.is_empty() {
            return Err("the statement has no predicateType".into());
        }
        if !s.predicate.is_object() {
            return Err("the predicate is not a JSON object".into());
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_compact_and_in_spec_order() {
        let s = Statement::new(
            vec![ResourceDescriptor::named("a", &Digest::of(b"a"))],
            SIGNATURE,
            serde_json::json!({"z": 1, "a": 2}),
        );
        let text = String::from_utf8(s.to_payload()).unwrap();
        assert!(
            text.starts_with(
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"ca978112"#
            ),
            "{text}"
        );
        assert!(text.ends_with(r#""predicate":{"a":2,"z":1}}"#), "{text}");
        assert_eq!(Statement::parse(text.as_bytes()).unwrap(), s);
    }

    #[test]
    fn parse_names_what_is_missing() {
        let base = serde_json::json!({"_type": STATEMENT_V1, "subject": [{"name": "x", "digest": {"sha256": "ab"}}],
                                      "predicateType": SPDX, "predicate": {}});
        let e = Statement::parse(base.to_string().as_bytes()).unwrap_err();
        assert!(e.contains("subject 0 has no sha256"), "{e}");
        let mut other = base.clone();
        other["_type"] = "https://example.com/Statement".into();
        assert!(
            Statement::parse(other.to_string().as_bytes())
                .unwrap_err()
                .contains("_type")
        );
        assert!(
            Statement::parse(b"[1]")
                .unwrap_err()
                .contains("not an in-toto statement")
        );
    }

    #[test]
    fn type_aliases_follow_cosign() {
        assert_eq!(predicate_type("slsaprovenance1"), Some(PROVENANCE));
        assert_eq!(predicate_type("spdxjson"), Some(SPDX));
        assert_eq!(
            predicate_type("https://example.com/p/v1"),
            Some("https://example.com/p/v1")
        );
        assert_eq!(predicate_type("provenance"), None);
    }
}
