//! cosign's attestations of an image (`cosign attest`): each layer of the image's
//! `sha256-<hex>.att` manifest a DSSE envelope of an in-toto statement about it, or (cosign
//! v3) a Sigstore bundle attached as a referrer. One is accepted when a signer the policy
//! trusts signed the envelope (a key, or a Fulcio or PKI certificate; logged in Rekor when the
//! policy names Rekor keys) and its statement's subject is this image; only then is anything it
//! says read. The policy asks for them by predicate type, and for SLSA
//! provenance by the builder and the source repository it names (docs/trust.md).

use serde::Serialize;

use super::cosign::{Expectation, Signed, Vouched};
use super::policy::RequiredAttestation;
use crate::dsse::Envelope;
use crate::image::Digest;
use crate::image::signatures::{DSSE_ENVELOPE, Signature};

/// The payload type of an in-toto statement in a DSSE envelope.
pub(super) const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The annotation cosign puts on each attestation layer: its predicate type, unverified.
const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
pub(super) const STATEMENT_TYPES: [&str; 2] = ["https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"];

/// One attestation as checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attestation {
    /// The statement's predicate type once verified; before, what the layer's annotation claims.
    pub predicate_type: String,
    pub verified: bool,
    /// The key that signed it, when one of those given did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The certificate that vouched for the key, for a keyless signer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<super::cosign::Signer>,
    /// SLSA provenance's builder id (v1 `runDetails.builder.id`, v0.2 `builder.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builder_id: Option<String>,
    /// The source repository SLSA provenance names (docs/trust.md says where it is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository: Option<String>,
    /// Why it was not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

/// Checks one tag-scheme attestation layer of the image `signed` as signed as `want` asks;
/// with no `want`, it is refused: nothing says who may have signed it.
pub fn check(layer: &Result<Signature, String>, want: Option<&Expectation>, signed: &Digest) -> Attestation {
    let claimed = layer
        .as_ref()
        .ok()
        .and_then(|l| l.annotations.get(PREDICATE_TYPE_ANNOTATION).cloned())
        .unwrap_or_default();
    let refused = |why: String| refused(claimed.clone(), why);
    let layer = match layer {
        Ok(layer) => layer,
        Err(why) => return refused(why.clone()),
    };
    if layer.mime_type != DSSE_ENVELOPE {
        return refused(format!("media type {:?}, not a DSSE envelope", layer.mime_type));
    }
    let envelope: Envelope = match serde_json::from_slice(&layer.payload) {
        Ok(e) => e,
        Err(e) => return refused(format!("not a DSSE envelope: {e}")),
    };
    if envelope.payload_type != IN_TOTO {
        return refused(format!(
            "payload type {:?}, not an in-toto statement",
            envelope.payload_type
        ));
    }
    let Some(want) = want else {
        return refused("no signer to check it with: no required attestation of its scope names one".into());
    };
    layer
        .vouched_for(
            want,
            &Signed::Envelope {
                stored: &layer.payload,
                envelope: &envelope,
            },
        )
        .and_then(|Vouched { key, certificate, .. }| attested(&envelope, key.key_id(), certificate, signed))
        .unwrap_or_else(refused)
}

/// Checks one Sigstore bundle of the image (cosign v3's `attest` attaches them as referrers)
/// as an attestation signed as `want` asks: keys, or a keyless or PKI certificate, and the
/// policy's Rekor keys.
pub fn check_bundle(found: &Result<Signature, String>, want: &Expectation, signed: &Digest) -> Attestation {
    let checked = found.as_ref().map_err(String::clone).and_then(|found| {
        let (envelope, verified, _) = super::bundles::verified_envelope(found, want)?;
        if envelope.payload_type != IN_TOTO {
            return Err(format!(
                "payload type {:?}, not an in-toto statement",
                envelope.payload_type
            ));
        }
        let signer = verified.certificate.as_ref().map(super::cosign::signer);
        attested(&envelope, verified.key_id.unwrap_or_default(), signer, signed)
    });
    checked.unwrap_or_else(|why| refused(String::new(), why))
}

fn refused(claimed: String, why: String) -> Attestation {
    Attestation {
        predicate_type: claimed,
        verified: false,
        key_id: None,
        certificate: None,
        builder_id: None,
        source_repository: None,
        why_not: Some(why),
    }
}

/// What a verified envelope's statement attests about the image `signed`, once its
/// signature has been checked; why not, when it is not about this image.
fn attested(
    envelope: &Envelope,
    key_id: String,
    certificate: Option<super::cosign::Signer>,
    signed: &Digest,
) -> Result<Attestation, String> {
    // Only now is the statement trusted enough to be read.
    let statement: serde_json::Value =
        serde_json::from_slice(&envelope.payload).map_err(|e| format!("the signed statement is not JSON: {e}"))?;
    if !STATEMENT_TYPES.contains(&statement["_type"].as_str().unwrap_or_default()) {
        return Err(format!("the signed statement's _type is {}", statement["_type"]));
    }
    let names_this_image = statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["digest"]["sha256"].as_str() == Some(signed.hex()));
    if !names_this_image {
        let named: Vec<String> = statement["subject"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["digest"]["sha256"].as_str().map(|h| format!("sha256:{h}")))
            .collect();
        return Err(format!(
            "its subject is {}, not this image's {signed}",
            if named.is_empty() {
                "no sha256 digest".to_owned()
            } else {
                named.join(", ")
            }
        ));
    }
    let predicate = &statement["predicate"];
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    Ok(Attestation {
        predicate_type: statement["predicateType"].as_str().unwrap_or_default().to_owned(),
        verified: true,
        key_id: Some(key_id),
        certificate,
        builder_id: text(&predicate["runDetails"]["builder"]["id"]).or_else(|| text(&predicate["builder"]["id"])),
        source_repository: source_repository(predicate),
        why_not: None,
    })
}

/// Where SLSA provenance names its source: GitHub's generator's workflow repository (v1), a
/// `source` external parameter, the first `git+` resolved dependency (v1), or v0.2's
/// `invocation.configSource.uri`.
fn source_repository(predicate: &serde_json::Value) -> Option<String> {
    let external = &predicate["buildDefinition"]["externalParameters"];
    [
        &external["workflow"]["repository"],
        &external["source"]["uri"],
        &external["source"],
        &predicate["invocation"]["configSource"]["uri"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().map(str::to_owned))
    .or_else(|| {
        predicate["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|d| d["uri"].as_str().filter(|u| u.starts_with("git+")).map(str::to_owned))
    })
}

/// Whether `found` meets `required` (its keys already chose who may have signed it).
pub fn meets(found: &Attestation, required: &RequiredAttestation) -> Result<(), String> {
    if !found.verified {
        return Err(found.why_not.clone().unwrap_or_default());
    }
    if found.predicate_type != required.predicate_type {
        return Err(format!("of predicate type {}", found.predicate_type));
    }
    if let Some(builder) = &required.builder_id
        && found.builder_id.as_ref() != Some(builder)
    {
        return Err(format!(
            "it names the builder {}, not {builder}",
            found.builder_id.as_deref().unwrap_or("(none)")
        ));
    }
    if let Some(source) = &required.source_repository
        && !found
            .source_repository
            .as_deref()
            .is_some_and(|s| same_repository(s, source))
    {
        return Err(format!(
            "it names the source {}, not {source}",
            found.source_repository.as_deref().unwrap_or("(none)")
        ));
    }
    Ok(())
}

/// `git+https://github.com/org/repo@refs/heads/main` names the repository
/// `https://github.com/org/repo`, also written `github.com/org/repo`; GitHub's generator
/// writes `org/repo`.
fn same_repository(named: &str, wanted: &str) -> bool {
    let bare = |s: &str| {
        let s = s.strip_prefix("git+").unwrap_or(s);
        let s = s.split('@').next().unwrap_or(s);
        let s = s.trim_end_matches(".git").trim_end_matches('/');
        let s = s.strip_prefix("https://").unwrap_or(s);
        s.strip_prefix("github.com/").unwrap_or(s).to_owned()
    };
    bare(named) == bare(wanted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_source_repository_matches_in_each_form_it_is_written() {
        for named in [
            "git+https://github.com/org/repo@refs/heads/main",
            "https://github.com/org/repo",
            "https://github.com/org/repo.git",
            "org/repo",
        ] {
            for wanted in ["github.com/org/repo", "https://github.com/org/repo", "org/repo"] {
                assert!(super::same_repository(named, wanted), "{named} ~ {wanted}");
            }
        }
        assert!(!super::same_repository(
            "https://github.com/org/repo",
            "github.com/org/other"
        ));
        assert!(!super::same_repository(
            "https://gitlab.com/org/repo",
            "github.com/org/repo"
        ));
    }
}
