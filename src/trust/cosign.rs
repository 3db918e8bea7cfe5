//! cosign's image signatures: a "simple signing" payload naming the image's manifest digest and
//! the reference it was signed as, signed with the signer's key, and optionally logged in Rekor
//! (a Signed Entry Timestamp in the `dev.sigstore.cosign/bundle` annotation).
//!
//! The same signature is found in three places: as a layer of the `sha256-<digest>.sig` tag's
//! manifest in a registry or OCI layout (payload = the layer's bytes, annotations on the layer),
//! and as skopeo's `signature-N` file in its directory layout (`\0sigstore-json` and a JSON
//! object holding the three). [`Signature`] is what each of them gives; checking it is one
//! function, [`Signature::verify`].
//!
//! An attestation (`cosign attest`, the `sha256-<digest>.att` tag) is the same kind of layer
//! holding a DSSE envelope instead, with the same certificate and Rekor annotations: who signed
//! it is judged by the same code ([`Signature::vouched_for`]), its Rekor entry an `intoto`
//! 0.0.1 (cosign up to v2.1) or `dsse` 0.0.1 (from v2.2) recording that envelope.

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::certificates::{self, Certificate};
use crate::keys::PublicKey;
pub(super) use crate::sigstore::tlog::{Promised, logged_der};

use super::policy::Identity;

pub use crate::image::signatures::{MAX_PAYLOAD, SIMPLE_SIGNING, Signature};

pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The `critical.type` every cosign image signature carries.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

/// What a payload claims, parsed only after its signature verified.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    critical: Critical,
    #[serde(default)]
    #[allow(dead_code)]
    optional: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    identity: IdentityClaim,
    image: ImageClaim,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityClaim {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageClaim {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// Who may have signed: keys handed over, or a certificate a trusted authority issued.
pub enum Signers<'a> {
    Keys(&'a [PublicKey]),
    /// Keyless: a Fulcio certificate for `email`, vouched for by `issuer`, valid when Rekor
    /// logged the signature (so a Rekor key is required).
    Fulcio {
        roots: &'a [Certificate],
        issuer: &'a str,
        email: &'a str,
    },
    /// An organisation's CA: the certificate valid at `now` and naming the e-mail and host
    /// given.
    Pki {
        roots: &'a [Certificate],
        intermediates: &'a [Certificate],
        email: Option<&'a str>,
        hostname: Option<&'a str>,
    },
}

/// What must hold for a signature to be accepted.
pub struct Expectation<'a> {
    pub signers: Signers<'a>,
    /// Rekor's keys: when given, the signature must carry a Signed Entry Timestamp by one of
    /// them for exactly this signature, payload and key or certificate.
    pub rekor_keys: &'a [PublicKey],
    /// Now (seconds since the epoch): when a PKI certificate must be valid, and the time a
    /// log entry must not claim to be from after.
    pub now: u64,
    /// CT logs and timestamp authorities for keyless bundles.
    pub sigstore: &'a crate::sigstore::TrustedRoot,
    /// The manifest digest of the image being checked (`sha256:…`).
    pub manifest_digest: &'a str,
    /// The reference the image was resolved from, as Docker normalises it.
    pub reference: &'a str,
    pub identity: &'a Identity,
}

/// An accepted signature: who signed it, what it names, and whether a log vouched for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    pub key_id: String,
    /// `sha256:…` of the signed payload: what a lock pins.
    pub payload: String,
    pub signed_reference: String,
    /// Rekor's integrated time (seconds since the epoch), when its entry was checked.
    pub logged_at: Option<i64>,
    /// `checked` (against the policy's Rekor key), `not checked` (the signature carries a
    /// log entry, and the policy names no Rekor key to check it with), or `none`.
    pub log_entry: &'static str,
    /// The certificate that vouched for the key, when the signer was keyless or of a PKI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Signer>,
    /// The RFC 3161 timestamps that vouched for when it was signed (a bundle's; the tag
    /// scheme has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<crate::sigstore::timestamp::Timestamped>,
}

/// What a layer's signer was found to be.
pub(super) struct Vouched {
    pub key: PublicKey,
    pub logged_at: Option<i64>,
    pub log_entry: &'static str,
    pub certificate: Option<Signer>,
}

/// What a tag-scheme layer's key signed, and so what its Rekor entry must record.
pub(super) enum Signed<'a> {
    /// A simple-signing payload signed as it is (`cosign sign`): a `hashedrekord` entry.
    Payload { payload: &'a [u8], signature: &'a [u8] },
    /// A DSSE envelope (`cosign attest`), `stored` being the layer's bytes: an `intoto` or
    /// `dsse` 0.0.1 entry, which records a hash of exactly those bytes.
    Envelope {
        stored: &'a [u8],
        envelope: &'a crate::dsse::Envelope,
    },
}

impl Signed<'_> {
    fn verifies(&self, key: &PublicKey) -> bool {
        match self {
            Signed::Payload { payload, signature } => key.verify(payload, signature),
            Signed::Envelope { envelope, .. } => envelope.signed_by(std::slice::from_ref(key)).is_some(),
        }
    }
}

/// Whom a certificate names: what a keyless signature says about its signer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signer {
    pub subject: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
}

impl Signature {
    /// Checks the signature against `want`; the reason when it is not accepted.
    pub fn verify(&self, want: &Expectation) -> Result<Accepted, String> {
        if self.mime_type != SIMPLE_SIGNING {
            return Err(format!("media type {:?}, not cosign's simple signing", self.mime_type));
        }
        if self.payload.len() > MAX_PAYLOAD {
            return Err(format!(
                "a {}-byte payload: too large for a signature",
                self.payload.len()
            ));
        }
        let encoded = self
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .ok_or_else(|| format!("no {SIGNATURE_ANNOTATION} annotation"))?;
        // Go's decoder, which cosign's readers use, skips line breaks: RSA signatures of
        // cosign's PKI mode are written wrapped.
        let unwrapped: String = encoded.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(unwrapped)
            .map_err(|e| format!("the signature is not base64: {e}"))?;
        let Vouched {
            key,
            logged_at,
            log_entry,
            certificate,
        } = self.vouched_for(
            want,
            &Signed::Payload {
                payload: &self.payload,
                signature: &raw,
            },
        )?;
        // Only now is the payload trusted enough to be parsed.
        let payload: Payload =
            serde_json::from_slice(&self.payload).map_err(|e| format!("the signed payload is not cosign's: {e}"))?;
        if payload.critical.kind != SIGNATURE_TYPE {
            return Err(format!("the signed payload's type is {:?}", payload.critical.kind));
        }
        if payload.critical.image.docker_manifest_digest != want.manifest_digest {
            return Err(format!(
                "it signs manifest {}, not this image's {}",
                payload.critical.image.docker_manifest_digest, want.manifest_digest
            ));
        }
        let signed = payload.critical.identity.docker_reference;
        if !want.identity.matches(want.reference, &signed) {
            return Err(format!(
                "it was signed as {signed}, which the policy's signedIdentity does not accept for {}",
                want.reference
            ));
        }
        Ok(Accepted {
            key_id: key.key_id(),
            payload: crate::image::Digest::of(&self.payload).to_string(),
            signed_reference: signed,
            logged_at,
            log_entry,
            certificate,
            timestamps: Vec::new(),
        })
    }

    /// Whether a signer `want` trusts made `signed`, by the key or certificate this layer's
    /// annotations carry, and (when the policy names Rekor keys) whether Rekor logged exactly
    /// that; who, and when the log says.
    pub(super) fn vouched_for(&self, want: &Expectation, signed: &Signed) -> Result<Vouched, String> {
        let set = self.annotations.get(BUNDLE_ANNOTATION);
        let log_entry = match (want.rekor_keys.is_empty(), set.is_some()) {
            (false, _) => "checked",
            (true, true) => "not checked",
            (true, false) => "none",
        };
        let set = match (want.rekor_keys.is_empty(), set) {
            (true, _) => None,
            (false, Some(set)) => Some(set.as_str()),
            (false, None) => return Err("no Rekor entry, and the policy requires one".into()),
        };
        let (key, logged_at, certificate) = match &want.signers {
            Signers::Keys(keys) => {
                let key = keys
                    .iter()
                    .find(|k| signed.verifies(k))
                    .ok_or("not signed by any trusted key")?;
                let logged_at = set
                    .map(|set| verify_rekor_set(want.rekor_keys, set, key.spki_der(), signed))
                    .transpose()?;
                (key.clone(), logged_at, None)
            }
            Signers::Fulcio { roots, issuer, email } => {
                let set = set.ok_or("a keyless signature needs a Rekor entry, and the policy names no Rekor key")?;
                let (leaf, chain) = self.certificates()?;
                // The certificate lives ten minutes: it must have been valid when Rekor
                // logged the signature, the only trusted time there is.
                let logged_at = verify_rekor_set(want.rekor_keys, set, leaf.der(), signed)?;
                leaf.verify_path(
                    chain_intermediates(&chain),
                    roots,
                    u64::try_from(logged_at).map_err(|_| "the Rekor entry's time is before 1970")?,
                )?;
                let found = leaf.oidc_issuer()?;
                if found.as_deref() != Some(*issuer) {
                    return Err(match found {
                        Some(found) => format!("the certificate's OIDC issuer is {found}, not {issuer}"),
                        None => "the certificate names no OIDC issuer (not a Fulcio certificate)".into(),
                    });
                }
                leaf.verify_email(email)?;
                let key = signed_by(&leaf, signed)?;
                (key, Some(logged_at), Some(signer(&leaf)))
            }
            Signers::Pki {
                roots,
                intermediates,
                email,
                hostname,
            } => {
                let (leaf, chain) = self.certificates()?;
                let all: Vec<Certificate> = intermediates
                    .iter()
                    .chain(chain_intermediates(&chain))
                    .cloned()
                    .collect();
                leaf.verify_path(&all, roots, want.now)?;
                if let Some(email) = email {
                    leaf.verify_email(email)?;
                }
                if let Some(host) = hostname {
                    leaf.verify_hostname(host)?;
                }
                let key = signed_by(&leaf, signed)?;
                (key, None, Some(signer(&leaf)))
            }
        };
        Ok(Vouched {
            key,
            logged_at,
            log_entry,
            certificate,
        })
    }

    /// The signer's certificate and the chain cosign attached to it.
    fn certificates(&self) -> Result<(Certificate, Vec<Certificate>), String> {
        let leaf = self
            .annotations
            .get(CERTIFICATE_ANNOTATION)
            .ok_or_else(|| format!("no {CERTIFICATE_ANNOTATION} annotation: the signature is not keyless"))?;
        let mut leaf = certificates::from_pem(leaf.as_bytes(), "the signature's certificate")?;
        if leaf.len() != 1 {
            return Err("the signature's certificate annotation holds several certificates".into());
        }
        let chain = match self.annotations.get(CHAIN_ANNOTATION) {
            Some(chain) => certificates::from_pem(chain.as_bytes(), "the signature's certificate chain")?,
            None => Vec::new(),
        };
        Ok((leaf.remove(0), chain))
    }
}

/// The intermediates of a chain cosign attached: all but its last certificate, the root,
/// which only the policy may supply (as containers/image reads it).
fn chain_intermediates(chain: &[Certificate]) -> &[Certificate] {
    &chain[..chain.len().saturating_sub(1)]
}

/// The certificate's key, once it verified the signature.
fn signed_by(leaf: &Certificate, signed: &Signed) -> Result<PublicKey, String> {
    let key = leaf.public_key()?;
    if signed.verifies(&key) {
        Ok(key)
    } else {
        Err("the signature does not verify with its certificate's key".into())
    }
}

pub(super) fn signer(leaf: &Certificate) -> Signer {
    Signer {
        subject: leaf.subject(),
        emails: leaf.emails(),
        uris: leaf.uris(),
        oidc_issuer: leaf.oidc_issuer().ok().flatten(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RekorSet {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: Promised,
}

/// Checks a Rekor Signed Entry Timestamp: Rekor's signature over the canonical JSON of its
/// entry, and that the entry records exactly what was signed (`signed`) by this key or
/// certificate (`logged_as`, DER). Returns the entry's integrated time.
fn verify_rekor_set(rekor_keys: &[PublicKey], set: &str, logged_as: &[u8], signed: &Signed) -> Result<i64, String> {
    let set: RekorSet = serde_json::from_str(set).map_err(|e| format!("the Rekor entry is malformed: {e}"))?;
    let body = set.payload.verify(rekor_keys, &set.signed_entry_timestamp)?;
    let body: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("the Rekor entry's body is not JSON: {e}"))?;
    let kind = (
        body["kind"].as_str().unwrap_or_default(),
        body["apiVersion"].as_str().unwrap_or_default(),
    );
    let spec = &body["spec"];
    let sha256_of = |bytes: &[u8]| hex::encode(Sha256::digest(bytes));
    // Rekor writes hex in lower case; cosign compares without regard to case.
    let records = |hash: &serde_json::Value, bytes: &[u8]| {
        hash["algorithm"] == "sha256"
            && hash["value"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(&sha256_of(bytes)))
    };
    let logged_signer = |pem_b64: &serde_json::Value| -> Result<bool, String> {
        Ok(logged_der(pem_b64.as_str().unwrap_or_default())? == logged_as)
    };
    let same_signature = |logged: &serde_json::Value, signature: &[u8]| {
        logged
            .as_str()
            .and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok())
            .is_some_and(|l| l == signature)
    };
    let mismatch = |what: &str| Err(format!("the Rekor entry records another {what}"));
    match (kind, signed) {
        (("hashedrekord", "0.0.1"), Signed::Payload { payload, signature }) => {
            if !logged_signer(&spec["signature"]["publicKey"]["content"])? {
                return mismatch("key or certificate");
            }
            if !same_signature(&spec["signature"]["content"], signature) {
                return mismatch("signature");
            }
            if !records(&spec["data"]["hash"], payload) {
                return mismatch("payload");
            }
        }
        // cosign up to v2.1: the envelope's hash and the signer; not the signature itself.
        (("intoto", "0.0.1"), Signed::Envelope { stored, envelope }) => {
            if !logged_signer(&spec["publicKey"])? {
                return mismatch("key or certificate");
            }
            if !records(&spec["content"]["hash"], stored) {
                return mismatch("envelope");
            }
            if spec["content"].get("payloadHash").is_some()
                && !records(&spec["content"]["payloadHash"], &envelope.payload)
            {
                return mismatch("payload");
            }
        }
        // cosign from v2.2.
        (("dsse", "0.0.1"), Signed::Envelope { stored, envelope }) => {
            if !records(&spec["envelopeHash"], stored) {
                return mismatch("envelope");
            }
            if !records(&spec["payloadHash"], &envelope.payload) {
                return mismatch("payload");
            }
            let mut recorded = false;
            for logged in spec["signatures"].as_array().into_iter().flatten() {
                recorded |= logged_signer(&logged["verifier"])?
                    && envelope
                        .signatures
                        .iter()
                        .any(|s| same_signature(&logged["signature"], &s.sig));
            }
            if !recorded {
                return mismatch("signature or key");
            }
        }
        ((kind, version), Signed::Payload { .. }) => {
            return Err(format!(
                "the Rekor entry is a {kind} {version}, not the hashedrekord 0.0.1 of a signature"
            ));
        }
        ((kind, version), Signed::Envelope { .. }) => {
            return Err(format!(
                "the Rekor entry is a {kind} {version}, not the intoto or dsse 0.0.1 of an attestation"
            ));
        }
    }
    Ok(set.payload.integrated_time)
}
