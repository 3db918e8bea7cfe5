//! cosign v3's image signatures: a Sigstore bundle attached as an OCI 1.1 referrer of the
//! image, holding a DSSE envelope of an in-toto statement of type
//! `https://sigstore.dev/cosign/sign/v1` whose subject is the image's digest and repository.
//! What `sealkit image sign --push` writes beside the tag-scheme signature, and all that
//! cosign v3 writes by default.
//!
//! The statement names a repository, not a tag: under `matchRepoDigestOrExact` and
//! `matchExact` only a digest-pinned reference can be accepted by one, as containers/image
//! judges a signature naming no tag.

use super::attestations::{IN_TOTO, STATEMENT_TYPES};
use super::cosign::{Accepted, Expectation, Signers};
use super::sign::COSIGN_SIGN;
use crate::bundle::Bundle;
use crate::image::Digest;
use crate::image::signatures::{BUNDLE, Signature};

/// Checks one bundle found for the image against `want`; the reason when it is not accepted.
pub fn verify(found: &Signature, want: &Expectation) -> Result<Accepted, String> {
    if found.mime_type != BUNDLE {
        return Err(format!("media type {:?}, not a Sigstore bundle", found.mime_type));
    }
    let bundle = Bundle::parse(&found.payload, "the bundle").map_err(|e| e.message)?;
    let Signers::Keys(keys) = want.signers else {
        return Err(
            "a bundle is checked against keys only: certificates in bundles come with the keyless verifier".into(),
        );
    };
    let envelope = &bundle.dsse_envelope;
    let key = envelope.signed_by(keys).ok_or("not signed by any trusted key")?;
    let logged = !bundle.verification_material.tlog_entries.is_empty();
    if !want.rekor_keys.is_empty() {
        return Err(if logged {
            "the policy requires a checked Rekor entry, and a bundle's log entries are not checked yet".into()
        } else {
            "no Rekor entry, and the policy requires one".into()
        });
    }
    if envelope.payload_type != IN_TOTO {
        return Err(format!(
            "payload type {:?}, not an in-toto statement",
            envelope.payload_type
        ));
    }
    // Only now is the statement trusted enough to be read.
    let statement: serde_json::Value =
        serde_json::from_slice(&envelope.payload).map_err(|e| format!("the signed statement is not JSON: {e}"))?;
    if !STATEMENT_TYPES.contains(&statement["_type"].as_str().unwrap_or_default()) {
        return Err(format!("the signed statement's _type is {}", statement["_type"]));
    }
    if statement["predicateType"] != COSIGN_SIGN {
        return Err(format!(
            "a statement of type {}, not an image signature ({COSIGN_SIGN})",
            statement["predicateType"]
        ));
    }
    let wanted = want.manifest_digest.strip_prefix("sha256:").unwrap_or_default();
    let subject = statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["digest"]["sha256"].as_str() == Some(wanted))
        .ok_or_else(|| format!("its subject is not this image's {}", want.manifest_digest))?;
    let signed = subject["name"].as_str().unwrap_or_default().to_owned();
    if !want.identity.matches(want.reference, &signed) {
        return Err(format!(
            "it was signed as {signed:?}, which the policy's signedIdentity does not accept for {}",
            want.reference
        ));
    }
    Ok(Accepted {
        key_id: key.key_id(),
        payload: Digest::of(&envelope.payload).to_string(),
        signed_reference: signed,
        logged_at: None,
        log_entry: if logged { "not checked" } else { "none" },
        certificate: None,
    })
}
