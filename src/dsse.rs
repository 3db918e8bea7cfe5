//! DSSE, the Dead Simple Signing Envelope: a signature over the payload *and* its type, through
//! the pre-authentication encoding (PAE), so that bytes signed as one type cannot be passed off
//! as another. Verifiers hand on the exact bytes that were verified, never a re-encoding.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::keys::{PublicKey, SigningKey};

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII
/// decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    #[serde(with = "base64_any")]
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    #[serde(with = "base64_any")]
    pub sig: Vec<u8>,
    /// An unauthenticated hint: it only narrows the keys to try first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
}

impl Envelope {
    /// Signs `payload` as `payload_type`; the signature's keyid is the key's id.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &SigningKey) -> Envelope {
        let sig = key.sign(&pae(payload_type, &payload));
        Envelope {
            payload,
            payload_type: payload_type.to_owned(),
            signatures: vec![Signature {
                sig,
                keyid: Some(key.public_key().key_id()),
            }],
        }
    }

    /// The first of `keys` that made one of the signatures. Keys whose id matches a signature's
    /// keyid are tried first; the keyid decides nothing else.
    pub fn signed_by<'k>(&self, keys: &'k [PublicKey]) -> Option<&'k PublicKey> {
        let message = pae(&self.payload_type, &self.payload);
        self.signatures.iter().find_map(|s| {
            let (hinted, others): (Vec<&PublicKey>, Vec<&PublicKey>) = keys
                .iter()
                .partition(|k| s.keyid.as_deref() == Some(k.key_id().as_str()));
            hinted.into_iter().chain(others).find(|k| k.verify(&message, &s.sig))
        })
    }
}

/// Decodes base64 as DSSE requires it read: standard or URL-safe alphabet (not mixed), padded
/// or not.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    let engine = if text.contains(['-', '_']) { URL_SAFE } else { STANDARD };
    engine.decode(text.as_bytes()).ok()
}

/// Encodes base64 as sealkit writes it: standard alphabet, padded.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Serde adapter for the envelope's bytes fields.
mod base64_any {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::encode_base64(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<str>>::deserialize(d)?;
        super::decode_base64(&text).ok_or_else(|| serde::de::Error::custom("invalid base64 (standard or URL-safe)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PublicKey;

    /// The example of the DSSE specification (protocol.md, "Test Vectors"): ECDSA P-256,
    /// deterministic (RFC 6979), raw r‖s.
    const SPEC_TYPE: &str = "http://example.com/HelloWorld";
    const SPEC_SIG: &str = "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==";
    /// The vector's private scalar d (protocol.md gives it in decimal).
    const SPEC_D_HEX: &str = "d73ec437fd6346e3619c5ebfdfff0f6916804955ad32ac9ac492b0ede1f6ffb7";
    /// The vector's public point (X, Y of protocol.md), uncompressed.
    const SPEC_Q_HEX: &str = "0467cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d2380c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74";

    fn spec_public_key() -> PublicKey {
        let point = p256::ecdsa::VerifyingKey::from_sec1_bytes(&hex::decode(SPEC_Q_HEX).unwrap()).unwrap();
        let der = pkcs8::EncodePublicKey::to_public_key_der(&point).unwrap();
        let pem = pkcs8::der::pem::encode_string("PUBLIC KEY", pkcs8::LineEnding::LF, der.as_bytes()).unwrap();
        PublicKey::from_pem(pem.as_bytes(), "spec").unwrap()
    }

    #[test]
    fn pae_matches_the_specification() {
        assert_eq!(
            hex::encode(pae(SPEC_TYPE, b"hello world")),
            "44535345763120323920687474703a2f2f6578616d706c652e636f6d2f48656c6c6f576f726c642031312068656c6c6f20776f726c64"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        // Lengths count bytes, not characters.
        assert_eq!(pae("é", "ü".as_bytes()), "DSSEv1 2 é 2 ü".as_bytes());
    }

    #[test]
    fn the_specification_envelope_verifies_and_signing_reproduces_it() {
        let envelope: Envelope = serde_json::from_str(&format!(
            r#"{{"payload":"aGVsbG8gd29ybGQ=","payloadType":"{SPEC_TYPE}","signatures":[{{"sig":"{SPEC_SIG}"}}]}}"#
        ))
        .unwrap();
        let keys = [spec_public_key()];
        assert!(envelope.signed_by(&keys).is_some());
        // RFC 6979 makes ECDSA deterministic: the vector's key signs the same r‖s.
        let secret = p256::ecdsa::SigningKey::from_slice(&hex::decode(SPEC_D_HEX).unwrap()).unwrap();
        let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&secret).unwrap();
        let pem = der.to_pem("PRIVATE KEY", pkcs8::LineEnding::LF).unwrap();
        let key = crate::keys::SigningKey::from_pem(pem.as_bytes(), None, "spec").unwrap();
        let ours = Envelope::sign(SPEC_TYPE, b"hello world".to_vec(), &key);
        let raw = p256::ecdsa::Signature::from_der(&ours.signatures[0].sig)
            .unwrap()
            .to_bytes();
        assert_eq!(encode_base64(&raw), SPEC_SIG);

        let mut tampered = envelope.clone();
        tampered.payload[0] ^= 1;
        assert!(tampered.signed_by(&keys).is_none());
        let mut retyped = envelope;
        retyped.payload_type.push('2');
        assert!(retyped.signed_by(&keys).is_none());
    }

    #[test]
    fn base64_is_read_in_either_alphabet() {
        let bytes = [0xfb, 0xff, 0xfe, 0x01];
        assert_eq!(decode_base64("+//+AQ==").unwrap(), bytes);
        assert_eq!(decode_base64("-__-AQ==").unwrap(), bytes);
        assert_eq!(decode_base64("-__-AQ").unwrap(), bytes);
        assert!(decode_base64("+/_-AQ==").is_none(), "one alphabet per field");
        assert!(decode_base64("not base64!").is_none());
    }
}
