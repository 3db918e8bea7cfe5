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
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::cosign::{Accepted, Expectation, Promised, Signers, logged_der};
use super::sign::COSIGN_SIGN;
use crate::bundle::Bundle;
use crate::image::Digest;
use crate::image::signatures::{BUNDLE, Signature};
use crate::keys::PublicKey;

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
    let entries = &bundle.verification_material.tlog_entries;
    let logged_at = if want.rekor_keys.is_empty() {
        None
    } else {
        let entry = entries.first().ok_or("no Rekor entry, and the policy requires one")?;
        Some(check_log_entry(want.rekor_keys, entry, envelope, key)?)
    };
    let log_entry = match (logged_at.is_some(), entries.is_empty()) {
        (true, _) => "checked",
        (false, false) => "not checked",
        (false, true) => "none",
    };
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
        logged_at,
        log_entry,
        certificate: None,
    })
}

/// Checks a bundle's transparency-log entry by its inclusion promise: Rekor's signature over
/// the entry, whose body (a `dsse` 0.0.1, as cosign v3 logs a signed statement) must record
/// exactly this envelope's payload, signature and key. Returns the entry's integrated time.
/// Inclusion proofs against a checkpoint come with the keyless verifier.
fn check_log_entry(
    rekor_keys: &[PublicKey],
    entry: &serde_json::Value,
    envelope: &crate::dsse::Envelope,
    key: &PublicKey,
) -> Result<i64, String> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    // Protocol buffers' JSON writes 64-bit integers as strings.
    let integer = |v: &serde_json::Value, what: &str| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| format!("the Rekor entry's {what} is not an integer"))
    };
    let promise = entry["inclusionPromise"]["signedEntryTimestamp"]
        .as_str()
        .ok_or("the Rekor entry has no inclusion promise (a Signed Entry Timestamp) to check")?;
    let log_id = b64
        .decode(entry["logId"]["keyId"].as_str().unwrap_or_default())
        .map_err(|e| format!("the Rekor entry's log id is not base64: {e}"))?;
    let promised = Promised {
        body: entry["canonicalizedBody"].as_str().unwrap_or_default().to_owned(),
        integrated_time: integer(&entry["integratedTime"], "integrated time")?,
        log_id: hex::encode(log_id),
        log_index: integer(&entry["logIndex"], "log index")?,
    };
    let body: serde_json::Value = serde_json::from_slice(&promised.verify(rekor_keys, promise)?)
        .map_err(|e| format!("the Rekor entry's body is not JSON: {e}"))?;
    if (body["kind"].as_str(), body["apiVersion"].as_str()) != (Some("dsse"), Some("0.0.1")) {
        return Err(format!(
            "the Rekor entry is a {} {}; a bundle's entries are checked as dsse 0.0.1",
            body["kind"], body["apiVersion"]
        ));
    }
    let spec = &body["spec"];
    let payload_hash = hex::encode(Sha256::digest(&envelope.payload));
    if spec["payloadHash"]["algorithm"] != "sha256" || spec["payloadHash"]["value"] != payload_hash.as_str() {
        return Err("the Rekor entry records another payload".into());
    }
    let recorded = spec["signatures"].as_array().into_iter().flatten().any(|s| {
        let signature = b64.decode(s["signature"].as_str().unwrap_or_default());
        let verifier = logged_der(s["verifier"].as_str().unwrap_or_default());
        matches!((signature, verifier), (Ok(sig), Ok(der))
            if der == key.spki_der() && envelope.signatures.iter().any(|e| e.sig == sig))
    });
    if !recorded {
        return Err("the Rekor entry records another signature or key".into());
    }
    Ok(promised.integrated_time)
}
