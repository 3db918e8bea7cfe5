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
use sha2::{Digest as _, Sha256};

use super::cosign::{Accepted, Expectation, Signers};
use super::sign::COSIGN_SIGN;
use crate::image::Digest;
use crate::image::signatures::{BUNDLE, Signature};
use crate::sigstore::{
    self, Artifact, Signer, Tlog,
    trusted_root::{Authority, Log, TrustedRoot, Window},
};

/// Checks one bundle found for the image against `want`; the reason when it is not accepted.
/// Its statement must be cosign's image signature of this image.
pub fn verify(found: &Signature, want: &Expectation) -> Result<Accepted, String> {
    let (envelope, verified, log_entry) = verified_envelope(found, want)?;
    Ok(Accepted {
        key_id: verified.key_id.clone().unwrap_or_default(),
        payload: Digest::of(&envelope.payload).to_string(),
        signed_reference: names_this_image(&envelope, want)?,
        logged_at: verified.log_entries.iter().filter_map(|e| e.integrated_time).min(),
        log_entry,
        certificate: verified.certificate.as_ref().map(super::cosign::signer),
        timestamps: verified.timestamps.clone(),
    })
}

/// The bundle verified as any Sigstore bundle of a DSSE statement about the image's digest,
/// under a trusted root made of the policy's Fulcio CA and Rekor keys (with the CT logs and
/// timestamp authorities of the Sigstore trusted root): its envelope, what the verifier
/// established, and what became of its log entries (`checked`, `not checked`, `none`).
pub(super) fn verified_envelope(
    found: &Signature,
    want: &Expectation,
) -> Result<(crate::dsse::Envelope, sigstore::Verified, &'static str), String> {
    if found.mime_type != BUNDLE {
        return Err(format!("media type {:?}, not a Sigstore bundle", found.mime_type));
    }
    let bundle: serde_json::Value =
        serde_json::from_slice(&found.payload).map_err(|e| format!("not a Sigstore bundle: {e}"))?;
    let envelope: crate::dsse::Envelope = serde_json::from_value(bundle["dsseEnvelope"].clone()).map_err(|e| {
        format!("an image signature in a bundle is a DSSE envelope of a statement, and this bundle holds none ({e})")
    })?;
    let fulcio_identity;
    let signer = match &want.signers {
        Signers::Keys(keys) => Signer::Key(envelope.signed_by(keys).ok_or("not signed by any trusted key")?),
        Signers::Fulcio { issuer, email, .. } => {
            fulcio_identity = sigstore::Identity::Exact((*email).to_owned());
            Signer::Identity {
                identity: &fulcio_identity,
                issuer,
            }
        }
        Signers::Pki {
            roots,
            intermediates,
            email,
            hostname,
        } => Signer::Issued {
            roots,
            intermediates,
            email: *email,
            hostname: *hostname,
        },
    };
    // containers/image reads no log entry when the policy names no Rekor key.
    let tlog = if want.rekor_keys.is_empty() {
        Tlog::Ignored
    } else {
        Tlog::Required
    };
    let digest: [u8; 32] = hex::decode(want.manifest_digest.strip_prefix("sha256:").unwrap_or_default())
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or("the image's digest is not sha256")?;
    let verified = sigstore::verify(
        &found.payload,
        &Artifact::Sha256(digest),
        &signer,
        &policy_root(want),
        i64::try_from(want.now).unwrap_or(i64::MAX),
        tlog,
    )?;
    let carries_entries = bundle["verificationMaterial"]["tlogEntries"]
        .as_array()
        .is_some_and(|entries| !entries.is_empty());
    let log_entry = match (tlog, carries_entries) {
        (Tlog::Required, _) => "checked",
        (Tlog::Ignored, true) => "not checked",
        (Tlog::Ignored, false) => "none",
    };
    Ok((envelope, verified, log_entry))
}

/// The trusted root a policy requirement amounts to: its Fulcio CA chain (intermediates
/// first, root last) and Rekor keys, valid at all times (the policy gives no windows), with
/// the Sigstore trusted root's CT logs and timestamp authorities.
fn policy_root(want: &Expectation) -> TrustedRoot {
    let always = Window {
        start: i64::MIN,
        end: None,
    };
    let fulcio = match &want.signers {
        Signers::Fulcio { roots, .. } => vec![Authority {
            uri: "the trust policy's fulcio".into(),
            chain: roots.to_vec(),
            valid: always,
        }],
        Signers::Keys(_) | Signers::Pki { .. } => Vec::new(),
    };
    TrustedRoot {
        certificate_authorities: fulcio,
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
    }
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
