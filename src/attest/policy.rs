//! The policy decision, attested twice: as a SLSA verification summary (VSA: the verdict, the
//! policy set's digest) for verifiers that decide on it, and as an in-toto test result listing
//! each rule, for people reading why.

use serde::{Deserialize, Serialize};

use super::statement::ResourceDescriptor;
use crate::image::digest::Digest;

/// Who decided: sealkit's policy gate.
pub const VERIFIER_ID: &str = "https://sealkit.dev/verifier/policy/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    #[serde(rename = "PASSED")]
    Passed,
    #[serde(rename = "FAILED")]
    Failed,
}

/// What the policy engine decided, as plain data (the gate hands it over; `sealkit attest
/// --policy-result FILE` reads it as JSON). Rules are named by their ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyDecision {
    pub verdict: Verdict,
    /// Where the policy set came from: a URL, or a path as the user gave it.
    pub policy_uri: String,
    /// The digest of the policy set (every rule file and the exceptions).
    pub policy_digest: String,
    #[serde(default)]
    pub passed: Vec<String>,
    #[serde(default)]
    pub warned: Vec<String>,
    /// Rules that denied, waived by an exception that has not expired.
    #[serde(default)]
    pub excepted: Vec<String>,
    /// Rules that denied (an expired exception is a denial).
    #[serde(default)]
    pub denied: Vec<String>,
}

impl PolicyDecision {
    /// Checks the decision holds together: a sha256 policy digest, and a verdict that is
    /// FAILED exactly when some rule denied.
    pub fn check(&self) -> Result<Digest, String> {
        let digest: Digest = self.policy_digest.parse().map_err(|e| format!("policyDigest: {e}"))?;
        match (self.verdict, self.denied.is_empty()) {
            (Verdict::Passed, false) => Err(format!(
                "the verdict is PASSED but rules denied: {}",
                self.denied.join(", ")
            )),
            (Verdict::Failed, true) => Err("the verdict is FAILED but no rule denied".into()),
            _ => Ok(digest),
        }
    }

    /// The policy set as a resource: its URI and digest.
    pub fn policy(&self, digest: &Digest) -> ResourceDescriptor {
        ResourceDescriptor {
            uri: Some(self.policy_uri.clone()),
            ..ResourceDescriptor::named("policy", digest)
        }
    }

    /// The `https://slsa.dev/verification_summary/v1` predicate about the image `name`;
    /// `inputs` are the attestations the decision rests on.
    pub fn summary(
        &self,
        digest: &Digest,
        name: &str,
        inputs: &[ResourceDescriptor],
        time: Option<u64>,
    ) -> serde_json::Value {
        let passed = self.verdict == Verdict::Passed;
        let mut predicate = serde_json::json!({
            "verifier": {"id": VERIFIER_ID},
            "resourceUri": format!("pkg:generic/{name}"),
            "policy": {"uri": self.policy_uri, "digest": {"sha256": digest.hex()}},
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
    /// configuration entry names them.
    pub fn test_result(&self, digest: &Digest) -> serde_json::Value {
        let result = match self.verdict {
            Verdict::Failed => "FAILED",
            Verdict::Passed if self.warned.is_empty() && self.excepted.is_empty() => "PASSED",
            Verdict::Passed => "WARNED",
        };
        let mut policy = self.policy(digest);
        if !self.excepted.is_empty() {
            policy.annotations = Some([("excepted".to_owned(), serde_json::json!(self.excepted))].into());
        }
        let warned: Vec<&String> = self.warned.iter().chain(&self.excepted).collect();
        serde_json::json!({
            "result": result,
            "configuration": [policy],
            "passedTests": self.passed,
            "warnedTests": warned,
            "failedTests": self.denied,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(verdict: Verdict, denied: &[&str]) -> PolicyDecision {
        PolicyDecision {
            verdict,
            policy_uri: "policies/".into(),
            policy_digest: Digest::of(b"rules").to_string(),
            passed: vec!["a".into()],
            warned: vec!["w".into()],
            excepted: vec!["e".into()],
            denied: denied.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_decision_must_hold_together() {
        assert!(decision(Verdict::Passed, &[]).check().is_ok());
        assert!(
            decision(Verdict::Passed, &["d"])
                .check()
                .unwrap_err()
                .contains("denied: d")
        );
        assert!(decision(Verdict::Failed, &[]).check().is_err());
        let mut bad = decision(Verdict::Failed, &["d"]);
        bad.policy_digest = "md5:1".into();
        assert!(bad.check().unwrap_err().contains("policyDigest"));
    }

    #[test]
    fn excepted_rules_are_warned_and_named() {
        let d = decision(Verdict::Passed, &[]);
        let t = d.test_result(&d.check().unwrap());
        assert_eq!(t["result"], "WARNED");
        assert_eq!(t["warnedTests"], serde_json::json!(["w", "e"]));
        assert_eq!(
            t["configuration"][0]["annotations"]["excepted"],
            serde_json::json!(["e"])
        );
        let f = decision(Verdict::Failed, &["d"]);
        let s = f.summary(&f.check().unwrap(), "demo", &[], None);
        assert_eq!(s["verificationResult"], "FAILED");
        assert_eq!(s["verifiedLevels"], serde_json::json!(["FAILED"]));
        assert!(s.get("timeVerified").is_none());
    }
}
