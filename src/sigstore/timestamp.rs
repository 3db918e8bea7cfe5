//! RFC 3161 timestamps, as a Sigstore bundle carries them (`timestampVerificationData`): a
//! timestamp authority's CMS SignedData over a TSTInfo whose message imprint is the hash of the
//! bundle's signature. A timestamp verified against a TSA of the trusted root gives a time the
//! signing certificate must have been valid at; it is the only such time for a Rekor v2 entry.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _, Sequence, Tagged as _};

use super::trusted_root::TrustedRoot;
use crate::certificates::{self, Certificate, Usage};
use crate::keys::Hash;

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
/// The largest timestamp read: a token with its chain is a few kilobytes.
const MAX_TOKEN: usize = 64 << 10;

#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: spki_like::AlgorithmIdentifier,
    hashed_message: OctetString,
}

/// The algorithm identifier as x509-cert defines it, for the derive.
mod spki_like {
    pub type AlgorithmIdentifier = x509_cert::spki::AlgorithmIdentifierOwned;
}

fn hash_of(algorithm: &ObjectIdentifier) -> Result<Hash, String> {
    Ok(match *algorithm {
        SHA256 | ECDSA_SHA256 | RSA_SHA256 => Hash::Sha256,
        SHA384 | ECDSA_SHA384 | RSA_SHA384 => Hash::Sha384,
        SHA512 | ECDSA_SHA512 | RSA_SHA512 => Hash::Sha512,
        other => {
            return Err(format!(
                "the timestamp uses the algorithm {other}, which sealkit does not check"
            ));
        }
    })
}

fn hash(algorithm: &ObjectIdentifier, bytes: &[u8]) -> Result<Vec<u8>, String> {
    Ok(hash_of(algorithm)?.digest(bytes))
}

/// Seconds since the epoch of a GeneralizedTime `YYYYMMDDHHMMSS[.fraction]Z`.
fn generalized_time(any: &Any) -> Result<i64, String> {
    if any.tag() != der::Tag::GeneralizedTime {
        return Err("the timestamp's time is not a GeneralizedTime".into());
    }
    let text = std::str::from_utf8(any.value()).map_err(|_| "the timestamp's time is not text")?;
    let bad = || format!("the timestamp's time {text:?} is malformed");
    if text.len() < 15 || !text.ends_with('Z') || !text[..14].bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let fraction = &text[14..text.len() - 1];
    if !(fraction.is_empty()
        || fraction
            .strip_prefix('.')
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit())))
    {
        return Err(bad());
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[8..10],
        &text[10..12],
        &text[12..14]
    );
    crate::epoch::parse_rfc3339_millis(&rfc3339)
        .map(|millis| millis / 1000)
        .ok_or_else(bad)
}

/// A verified RFC 3161 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Timestamped {
    /// The timestamp authority of the trusted root that vouched for it (its URI).
    pub authority: String,
    /// The time it attests (seconds since the epoch).
    pub time: i64,
}

/// Verifies one timestamp response (DER) over `signature` against the TSAs of `root`: the time it
/// attests and who attests it.
pub fn verify(token: &[u8], signature: &[u8], root: &TrustedRoot) -> Result<Timestamped, String> {
    if token.len() > MAX_TOKEN {
        return Err("a timestamp larger than 64 KiB".into());
    }
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }.
    let response =
        Vec::<Any>::from_der(token).map_err(|e| format!("the timestamp is not an RFC 3161 response: {e}"))?;
    let [status, token] = response.as_slice() else {
        return Err("the timestamp response holds no token".into());
    };
    let status = Vec::<Any>::from_der(&status.to_der().map_err(|e| e.to_string())?)
        .ok()
        .and_then(|fields| fields.first().and_then(|s| s.decode_as::<u8>().ok()));
    // granted (0) or grantedWithMods (1).
    if !matches!(status, Some(0 | 1)) {
        return Err("the timestamp response's status is not granted".into());
    }
    let token = token.to_der().map_err(|e| e.to_string())?;
    let info = ContentInfo::from_der(&token).map_err(|e| format!("the timestamp token is not CMS: {e}"))?;
    if info.content_type != SIGNED_DATA {
        return Err("the timestamp is not CMS SignedData".into());
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| format!("the timestamp's SignedData is malformed: {e}"))?;
    if signed.encap_content_info.econtent_type != TST_INFO {
        return Err("the timestamp does not hold a TSTInfo".into());
    }
    let content = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("the timestamp holds no TSTInfo")?;
    let tst_der = OctetString::from_der(&content.to_der().map_err(|e| e.to_string())?)
        .map_err(|e| format!("the timestamp's content is not an OCTET STRING: {e}"))?;
    // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, … }: read
    // as a sequence of values, so that the optional fields after genTime need no model here.
    let fields = Vec::<Any>::from_der(tst_der.as_bytes()).map_err(|e| format!("the TSTInfo is malformed: {e}"))?;
    let [version, _policy, imprint, _serial, gen_time, ..] = fields.as_slice() else {
        return Err("the TSTInfo lacks its first five fields".into());
    };
    if version.decode_as::<u8>().ok() != Some(1) {
        return Err("a TSTInfo of a version other than 1".into());
    }
    let imprint: MessageImprint = imprint
        .decode_as()
        .map_err(|e| format!("the TSTInfo's message imprint is malformed: {e}"))?;
    if imprint.hashed_message.as_bytes() != hash(&imprint.hash_algorithm.oid, signature)? {
        return Err("the timestamp is of another signature (its message imprint differs)".into());
    }
    let time = generalized_time(gen_time)?;

    let signer = match signed.signer_infos.0.as_slice() {
        [one] => one,
        other => return Err(format!("the timestamp has {} signers, not one", other.len())),
    };
    let attributes = signer
        .signed_attrs
        .as_ref()
        .ok_or("the timestamp's signer has no signed attributes")?;
    let attribute = |oid: ObjectIdentifier| {
        attributes
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
            .cloned()
    };
    let content_type = attribute(CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or("the timestamp's signed attributes lack the content type")?;
    if content_type != TST_INFO {
        return Err("the timestamp's signed content type is not TSTInfo".into());
    }
    let digest = attribute(MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("the timestamp's signed attributes lack the message digest")?;
    if digest.as_bytes() != hash(&signer.digest_alg.oid, tst_der.as_bytes())? {
        return Err("the timestamp's signed digest is not its TSTInfo's".into());
    }
    let signed_attributes = attributes.to_der().map_err(|e| e.to_string())?;
    // CMS often names only the key's algorithm (rsaEncryption, id-ecPublicKey) and leaves the
    // hash to the signer's digest algorithm.
    let signature_hash = match signer.signature_algorithm.oid {
        RSA_ENCRYPTION | EC_PUBLIC_KEY => hash_of(&signer.digest_alg.oid)?,
        other => hash_of(&other)?,
    };
    let signed_digest = signature_hash.digest(&signed_attributes);

    let embedded: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => c
                .to_der()
                .ok()
                .and_then(|der| certificates::from_der(&der, "the timestamp").ok()),
            _ => None,
        })
        .collect();
    let millis = time.saturating_mul(1000);
    let mut why = String::from("no timestamp authority of the trusted root was valid at its time");
    for authority in root.timestamp_authorities.iter().filter(|a| a.valid.contains(millis)) {
        let (anchor, intermediates) = authority.chain.split_last().unwrap_or((&authority.chain[0], &[]));
        // The signer is the embedded certificate the identifier names, else the authority's
        // own leaf; either way it must chain to the authority's root.
        let candidates = embedded.iter().chain(authority.chain.first());
        for candidate in candidates.filter(|c| names(&signer.sid, c)) {
            if let Err(e) = candidate.verify_path_for(
                Usage::TimeStamping,
                intermediates,
                std::slice::from_ref(anchor),
                time as u64,
            ) {
                why = format!("the timestamp's signer: {e}");
                continue;
            }
            let key = candidate.public_key()?;
            if key.verify_prehash(signature_hash, &signed_digest, signer.signature.as_bytes()) {
                return Ok(Timestamped {
                    authority: authority.uri.clone(),
                    time,
                });
            }
            why = "the timestamp's signature does not verify".into();
        }
    }
    Err(why)
}

/// Whether the signer identifier names `certificate`.
fn names(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
    let tbs = certificate.x509().tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == *tbs.issuer() && id.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| own == *ski),
    }
}
