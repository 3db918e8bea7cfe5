//! The policy decision, attested twice: as a SLSA verification summary (VSA: the verdict, the
//! policy set's digest) for verifiers that decide on it, and as an in-toto test result listing
//! each rule, for people reading why.
//!
//! What is attested is the decision document itself, as `sealkit check --format json` prints it
//! and the gate writes it (report.json; `policy::decision`, schema
//! `sealkit.dev/policy-decision/v1`): one type, one serialisation. It is read here for what the
//! two statements need, and the test result names its digest, so each statement points at the
//! very bytes it was made from.

use serde::{Deserialize, Serialize};

use super::statement::ResourceDescriptor;
use crate::image::digest::Digest;
use crate::policy::decision::{self, Status};

/// The name of the policy set among a provenance's resolved dependencies.
pub const POLICY_DEPENDENCY: &str = "policy";

/// Who decided: sealkit's policy gate.
pub const VERIFIER_ID: &str = "https://sealkit.dev/verifier/policy/v1";

/// How the test result names the decision document among its configuration.
pub const DOCUMENT_NAME: &str = "policy-decision";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    #[serde(rename = "PASSED")]
    Passed,
    #[serde(rename = "FAILED")]
    Failed,
}

/// The parts of the decision document the statements use; the rest is carried by its digest.
#[derive(Deserialize)]
struct Document {
    schema: String,
    verdict: decision::Verdict,
    results: Vec<ResultPart>,
    rules: Vec<RulePart>,
    basis: BasisPart,
}

#[derive(Deserialize)]
struct ResultPart {
    id: String,
    status: Status,
}

#[derive(Deserialize)]
struct RulePart {
    id: String,
}

#[derive(Deserialize)]
struct BasisPart {
    policy_sources: Vec<String>,
    policy_digest: String,
}

/// A policy decision document, read and checked, with each rule id by outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDecision {
    pub verdict: Verdict,
    /// Where the policy set came from: its sources (`sealkit:baseline`, `--policy` folders).
    pub policy_uri: String,
    /// The digest of the policy set (`PolicySet::digest`).
    pub policy_digest: Digest,
    /// The sha256 of the decision document's bytes.
    pub document: Digest,
    /// Rules with no result at all.
    pub passed: Vec<String>,
    pub warned: Vec<String>,
    /// Rules that denied, accepted by an exception that has not expired.
    pub excepted: Vec<String>,
    /// Rules that denied (an expired exception is a denial).
    pub denied: Vec<String>,
}

impl PolicyDecision {
    /// Reads a decision document (`sealkit check --format json`). Refuses another schema, a
    /// policy digest that is not sha256, and a verdict that disagrees with its results: `deny`
    /// exactly when some result is denied.
    pub fn read(bytes: &[u8]) -> Result<PolicyDecision, String> {
        let doc: Document = serde_json::from_slice(bytes).map_err(|e| format!("is not a policy decision ({e})"))?;
        if doc.schema != decision::SCHEMA {
            return Err(format!(
                "its schema is {:?}, not {:?} (the document `sealkit check --format json` prints)",
                doc.schema,
                decision::SCHEMA
            ));
        }
        let policy_digest: Digest = doc
            .basis
            .policy_digest
            .parse()
            .map_err(|e| format!("basis.policy_digest: {e}"))?;
        let ids = |status: Status| -> Vec<String> {
            let mut ids: Vec<String> = doc
                .results
                .iter()
                .filter(|r| r.status == status)
                .map(|r| r.id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let denied = ids(Status::Denied);
        // A rule is listed once, under its worst outcome.
        let excepted: Vec<String> = ids(Status::Excepted)
            .into_iter()
            .filter(|i| !denied.contains(i))
            .collect();
        let warned: Vec<String> = ids(Status::Warned)
            .into_iter()
            .filter(|i| !denied.contains(i) && !excepted.contains(i))
            .collect();
        let mut passed: Vec<String> = doc
            .rules
            .iter()
            .filter(|rule| !doc.results.iter().any(|r| r.id == rule.id))
            .map(|rule| rule.id.clone())
            .collect();
        passed.sort();
        passed.dedup();
        let verdict = match (doc.verdict, denied.is_empty()) {
            (decision::Verdict::Pass, true) => Verdict::Passed,
            (decision::Verdict::Deny, false) => Verdict::Failed,
            (decision::Verdict::Pass, false) => {
                return Err(format!("the verdict is pass but rules denied: {}", denied.join(", ")));
            }
            (decision::Verdict::Deny, true) => return Err("the verdict is deny but no rule denied".into()),
        };
        let policy_uri = match doc.basis.policy_sources.is_empty() {
            true => "sealkit:no-policy".to_owned(),
            false => doc.basis.policy_sources.join(","),
        };
        Ok(PolicyDecision {
            verdict,
            policy_uri,
            policy_digest,
            document: Digest::of(bytes),
            passed,
            warned,
            excepted,
            denied,
        })
    }

    /// The policy set as a resource: its URI and digest, named [`POLICY_DEPENDENCY`].
    pub fn policy(&self) -> ResourceDescriptor {
        ResourceDescriptor {
            uri: Some(self.policy_uri.clone()),
            ..ResourceDescriptor::named(POLICY_DEPENDENCY, &self.policy_digest)
        }
    }

    /// The `https://slsa.dev/verification_summary/v1` predicate about the image `name`;
    /// `inputs` are the attestations the decision rests on.
    pub fn summary(&self, name: &str, inputs: &[ResourceDescriptor], time: Option<u64>) -> serde_json::Value {
        let passed = self.verdict == Verdict::Passed;
        let mut predicate = serde_json::json!({
            "verifier": {"id": VERIFIER_ID},
            "resourceUri": format!("pkg:generic/{name}"),
            "policy": {"uri": self.policy_uri, "digest": {"sha256": self.policy_digest.hex()}},
            "inputAttestations": inputs.iter().map(|i| serde_json::json!({"uri": i.name, "digest": i.digest})).collect::<Vec<_>>(),
            "verificationResult": if passed { "PASSED" } else { "FAILED" },
            // SLSA: the highest level verified, or FAILED. The gate's images carry signed
            // provenance from the gate itself, which is Build L1.
            "verifiedLevels": [if passed { "SLSA_BUILD_LEVEL_1" } else { "FAILED" }],
            "slsaVersion": "1.0",
        });
        if let Some(t) = time {
            predicate["timeVerified"] = crate::epoch::rfc3339(t).into();
        }
        predicate
    }

    /// The `https://in-toto.io/attestation/test-result/v0.1` predicate: every rule by outcome.
    /// The format has no "excepted" list: excepted rules count as warned, and the policy's
    /// configuration entry names them. The configuration lists the decision document too.
    pub fn test_result(&self) -> serde_json::Value {
        let result = match self.verdict {
            Verdict::Failed => "FAILED",
            Verdict::Passed if self.warned.is_empty() && self.excepted.is_empty() => "PASSED",
            Verdict::Passed => "WARNED",
        };
        let mut policy = self.policy();
        if !self.excepted.is_empty() {
            policy.annotations = Some([("excepted".to_owned(), serde_json::json!(self.excepted))].into());
        }
        let warned: Vec<&String> = self.warned.iter().chain(&self.excepted).collect();
        serde_json::json!({
            "result": result,
            "configuration": [policy, ResourceDescriptor {
                media_type: Some("application/json".to_owned()),
                ..ResourceDescriptor::named(DOCUMENT_NAME, &self.document)
            }],
            "passedTests": self.passed,
            "warnedTests": warned,
            "failedTests": self.denied,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decision document as `sealkit check --format json` writes it (the parts read here).
    fn document(verdict: &str, statuses: &[(&str, &str)]) -> Vec<u8> {
        let results: Vec<serde_json::Value> = statuses
            .iter()
            .map(|(id, status)| serde_json::json!({"id": id, "status": status}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schema": decision::SCHEMA, "verdict": verdict, "results": results,
            "rules": [{"id": "a"}, {"id": "w"}, {"id": "e"}, {"id": "d"}],
            "basis": {"policy_sources": ["sealkit:baseline", "team/"], "policy_digest": Digest::of(b"rules").to_string()},
        }))
        .unwrap()
    }

    #[test]
    fn a_decision_must_hold_together() {
        let ok = document("pass", &[("w", "warned"), ("e", "excepted"), ("e", "warned")]);
        let d = PolicyDecision::read(&ok).unwrap();
        assert_eq!(
            (d.verdict, d.passed, d.warned, d.excepted, d.denied),
            (
                Verdict::Passed,
                vec!["a".to_owned(), "d".to_owned()],
                vec!["w".to_owned()],
                vec!["e".to_owned()],
                vec![]
            )
        );
        assert_eq!(d.policy_uri, "sealkit:baseline,team/");
        assert_eq!(d.document, Digest::of(&ok));
        let e = PolicyDecision::read(&document("pass", &[("d", "denied")])).unwrap_err();
        assert!(e.contains("denied: d"), "{e}");
        assert!(PolicyDecision::read(&document("deny", &[])).is_err());
        let other = String::from_utf8(document("pass", &[]))
            .unwrap()
            .replace("policy-decision/v1", "x/v9");
        assert!(PolicyDecision::read(other.as_bytes()).unwrap_err().contains("schema"));
        let md5 = String::from_utf8(document("pass", &[]))
            .unwrap()
            .replace("sha256:", "md5:");
        assert!(
            PolicyDecision::read(md5.as_bytes())
                .unwrap_err()
                .contains("policy_digest")
        );
        assert!(PolicyDecision::read(b"{}").is_err());
    }

    #[test]
    fn excepted_rules_are_warned_and_named() {
        let d = PolicyDecision::read(&document("pass", &[("w", "warned"), ("e", "excepted")])).unwrap();
        let t = d.test_result();
        assert_eq!(t["result"], "WARNED");
        assert_eq!(t["warnedTests"], serde_json::json!(["w", "e"]));
        assert_eq!(
            t["configuration"][0]["annotations"]["excepted"],
            serde_json::json!(["e"])
        );
        assert_eq!(t["configuration"][1]["name"], DOCUMENT_NAME);
        assert_eq!(t["configuration"][1]["digest"]["sha256"], d.document.hex());
        let f = PolicyDecision::read(&document("deny", &[("d", "denied")])).unwrap();
        let s = f.summary("demo", &[], None);
        assert_eq!(s["verificationResult"], "FAILED");
        assert_eq!(s["verifiedLevels"], serde_json::json!(["FAILED"]));
        assert!(s.get("timeVerified").is_none());
    }
}
