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
use crate::certificates::Certificate;
use crate::image::Digest;
use crate::image::signatures::{BUNDLE, Signature};
use crate::keys::PublicKey;
use crate::sigstore::{
    self,
    trusted_root::{Authority, Log, TrustedRoot, Window},
};

/// Checks one bundle found for the image against `want`; the reason when it is not accepted.
pub fn verify(found: &Signature, want: &Expectation) -> Result<Accepted, String> {
    if found.mime_type != BUNDLE {
        return Err(format!("media type {:?}, not a Sigstore bundle", found.mime_type));
    }
    let keys = match &want.signers {
        Signers::Keys(keys) => keys,
        Signers::Fulcio { roots, issuer, email } => return keyless(found, want, roots, issuer, email),
        Signers::Pki { .. } => {
            return Err("a bundle signed with a PKI certificate is not checked: sign with a key or keyless".into());
        }
    };
    let bundle = Bundle::parse(&found.payload, "the bundle").map_err(|e| e.message)?;
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
    Ok(Accepted {
        key_id: key.key_id(),
        payload: Digest::of(&envelope.payload).to_string(),
        signed_reference: names_this_image(envelope, want)?,
        logged_at,
        log_entry,
        certificate: None,
    })
}

/// A keyless bundle (cosign v3's default): verified as any Sigstore bundle over the image's
/// digest, against a trusted root made of the policy's Fulcio CA chain (intermediates first,
/// root last) and Rekor keys, with the CT logs and timestamp authorities of the Sigstore
/// trusted root; the certificate must name the policy's e-mail and OIDC issuer.
fn keyless(
    found: &Signature,
    want: &Expectation,
    roots: &[Certificate],
    issuer: &str,
    email: &str,
) -> Result<Accepted, String> {
    let always = Window {
        start: i64::MIN,
        end: None,
    };
    let root = TrustedRoot {
        certificate_authorities: vec![Authority {
            uri: "the trust policy's fulcio".into(),
            chain: roots.to_vec(),
            valid: always,
        }],
        tlogs: want
            .rekor_keys
            .iter()
            .map(|key| Log {
                base_url: "the trust policy's Rekor".into(),
                key: key.clone(),
                log_id: Sha256::digest(key.spki_der()).to_vec(),
                valid: always,
            })
            .collect(),
        ctlogs: want.sigstore.ctlogs.clone(),
        timestamp_authorities: want.sigstore.timestamp_authorities.clone(),
    };
    let digest: [u8; 32] = hex::decode(want.manifest_digest.strip_prefix("sha256:").unwrap_or_default())
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or("the image's digest is not sha256")?;
    let identity = sigstore::Identity::Exact(email.to_owned());
    let signer = sigstore::Signer::Identity {
        identity: &identity,
        issuer,
    };
    let verified = sigstore::verify(
        &found.payload,
        &sigstore::Artifact::Sha256(digest),
        &signer,
        &root,
        i64::try_from(want.now).unwrap_or(i64::MAX),
    )?;
    let value: serde_json::Value = serde_json::from_slice(&found.payload).map_err(|e| e.to_string())?;
    let envelope: crate::dsse::Envelope = serde_json::from_value(value["dsseEnvelope"].clone())
        .map_err(|_| "a keyless image signature is a DSSE statement, and this bundle holds none".to_owned())?;
    Ok(Accepted {
        key_id: verified.key_id.clone().unwrap_or_default(),
        payload: Digest::of(&envelope.payload).to_string(),
        signed_reference: names_this_image(&envelope, want)?,
        logged_at: verified.signed_at,
        log_entry: "checked",
        certificate: Some(super::cosign::Signer {
            subject: verified.identity.clone().unwrap_or_default(),
            emails: vec![email.to_owned()],
            uris: Vec::new(),
            oidc_issuer: verified.issuer,
        }),
    })
}

/// The verified envelope's statement must be cosign's image signature of this image, signed
/// as a repository the policy's signedIdentity accepts; that repository.
fn names_this_image(envelope: &crate::dsse::Envelope, want: &Expectation) -> Result<String, String> {
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
    Ok(signed)
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
