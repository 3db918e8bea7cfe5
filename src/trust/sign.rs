//! Signing component images as cosign does: a simple-signing payload naming the image's
//! manifest digest and the reference it is signed as, signed with the signer's key, kept as a
//! layer of the image's `sha256-<hex>.sig` manifest. What [`super::cosign`] verifies, and what
//! cosign and containers/image verify too.

use base64::Engine as _;

use super::cosign::{SIGNATURE_ANNOTATION, SIGNATURE_TYPE, SIMPLE_SIGNING, Signature};
use crate::image::Digest;
use crate::keys::SigningKey;

/// The predicate type of the in-toto statement `cosign sign` (v3) puts in an image's bundle.
pub const COSIGN_SIGN: &str = "https://sigstore.dev/cosign/sign/v1";

/// cosign's payload for `digest` signed as `docker_reference` (normalised: `host/repo[:tag]`).
pub fn payload(docker_reference: &str, digest: &Digest) -> Vec<u8> {
    // serde_json writes keys sorted, which is cosign's order too.
    let value = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": SIGNATURE_TYPE,
        },
        "optional": null,
    });
    value.to_string().into_bytes()
}

/// A signature of `digest` as `docker_reference` by `key`.
pub fn sign(key: &SigningKey, docker_reference: &str, digest: &Digest) -> Signature {
    let payload = payload(docker_reference, digest);
    let signature = key.sign(&payload);
    Signature {
        mime_type: SIMPLE_SIGNING.to_owned(),
        annotations: [(
            SIGNATURE_ANNOTATION.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(signature),
        )]
        .into_iter()
        .collect(),
        payload,
    }
}

/// A cosign attestation layer: the DSSE `envelope` of an in-toto statement about the image,
/// annotated with its predicate type as cosign annotates it.
pub fn attestation(envelope: &crate::dsse::Envelope, predicate_type: &str) -> Signature {
    Signature {
        mime_type: crate::image::signatures::DSSE_ENVELOPE.to_owned(),
        // Serialising an envelope of bytes and strings cannot fail.
        payload: serde_json::to_vec(envelope).unwrap_or_default(),
        annotations: [("predicateType".to_owned(), predicate_type.to_owned())]
            .into_iter()
            .collect(),
    }
}
