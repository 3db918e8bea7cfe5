//! cosign's image signatures: a "simple signing" payload naming the image's manifest digest and
//! the reference it was signed as, signed with the signer's key, and optionally logged in Rekor
//! (a Signed Entry Timestamp in the `dev.sigstore.cosign/bundle` annotation).
//!
//! The same signature is found in three places: as a layer of the `sha256-<digest>.sig` tag's
//! manifest in a registry or OCI layout (payload = the layer's bytes, annotations on the layer),
//! and as skopeo's `signature-N` file in its directory layout (`\0sigstore-json` and a JSON
//! object holding the three). [`Signature`] is what each of them gives; checking it is one
//! function, [`Signature::verify`].

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
                    .find(|k| k.verify(&self.payload, &raw))
                    .ok_or("not signed by any trusted key")?;
                let logged_at = set
                    .map(|set| verify_rekor_set(want.rekor_keys, set, key.spki_der(), &raw, &self.payload))
                    .transpose()?;
                (key.clone(), logged_at, None)
            }
            Signers::Fulcio { roots, issuer, email } => {
                let set = set.ok_or("a keyless signature needs a Rekor entry, and the policy names no Rekor key")?;
                let (leaf, chain) = self.certificates()?;
                // The certificate lives ten minutes: it must have been valid when Rekor
                // logged the signature, the only trusted time there is.
                let logged_at = verify_rekor_set(want.rekor_keys, set, leaf.der(), &raw, &self.payload)?;
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
                let key = signed_by(&leaf, &self.payload, &raw)?;
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
                let key = signed_by(&leaf, &self.payload, &raw)?;
                (key, None, Some(signer(&leaf)))
            }
        };
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
fn signed_by(leaf: &Certificate, payload: &[u8], signature: &[u8]) -> Result<PublicKey, String> {
    let key = leaf.public_key()?;
    if key.verify(payload, signature) {
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

#[derive(Deserialize)]
struct HashedRekord {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    spec: HashedRekordSpec,
}

#[derive(Deserialize)]
struct HashedRekordSpec {
    data: HashedData,
    signature: HashedSignature,
}

#[derive(Deserialize)]
struct HashedData {
    hash: HashValue,
}

#[derive(Deserialize)]
struct HashValue {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
struct HashedSignature {
    content: String,
    #[serde(rename = "publicKey")]
    public_key: HashedKey,
}

#[derive(Deserialize)]
struct HashedKey {
    content: String,
}

/// Checks a Rekor Signed Entry Timestamp: Rekor's signature over the canonical JSON of its
/// entry, and that the entry (a `hashedrekord` 0.0.1) records exactly this signature, this
/// payload's digest and this key or certificate (`logged_as`, DER). Returns the entry's integrated time.
fn verify_rekor_set(
    rekor_keys: &[PublicKey],
    set: &str,
    logged_as: &[u8],
    signature: &[u8],
    payload: &[u8],
) -> Result<i64, String> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let set: RekorSet = serde_json::from_str(set).map_err(|e| format!("the Rekor entry is malformed: {e}"))?;
    let body = set.payload.verify(rekor_keys, &set.signed_entry_timestamp)?;
    let rekord: HashedRekord =
        serde_json::from_slice(&body).map_err(|e| format!("the Rekor entry's body is not a hashedrekord: {e}"))?;
    if (rekord.kind.as_str(), rekord.api_version.as_str()) != ("hashedrekord", "0.0.1") {
        return Err(format!(
            "the Rekor entry is a {} {}, not a hashedrekord 0.0.1",
            rekord.kind, rekord.api_version
        ));
    }
    if logged_der(&rekord.spec.signature.public_key.content)? != logged_as {
        return Err("the Rekor entry records another key or certificate".into());
    }
    let logged_signature = b64
        .decode(&rekord.spec.signature.content)
        .map_err(|e| format!("the Rekor entry's signature is not base64: {e}"))?;
    if logged_signature != signature {
        return Err("the Rekor entry records another signature".into());
    }
    if rekord.spec.data.hash.algorithm != "sha256"
        || !rekord
            .spec
            .data
            .hash
            .value
            .eq_ignore_ascii_case(&hex::encode(Sha256::digest(payload)))
    {
        return Err("the Rekor entry records another payload".into());
    }
    Ok(set.payload.integrated_time)
}
