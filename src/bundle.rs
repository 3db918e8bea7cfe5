//! Sigstore bundles (v0.3, `application/vnd.dev.sigstore.bundle.v0.3+json`) holding one DSSE
//! envelope, verified with a key known out of band: `verificationMaterial.publicKey.hint` is the
//! key id, there is no certificate and no transparency-log entry: the shape of a key-signed
//! bundle, which @sigstore/verify accepts (tests/sign.rs).

use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;

/// Which rule of the bundle format a file breaks; each stage maps it to its own error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// Not JSON of the bundle format, or one of its rules broken.
    Malformed,
    /// Not a Sigstore bundle's media type.
    MediaType,
    /// Signed in a way sealkit does not verify with a key (a certificate, a message signature).
    Unsupported,
    TooLarge,
    Io,
}

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}\n  hint: {hint}")]
pub struct BundleError {
    pub broken: Broken,
    pub origin: String,
    pub message: String,
    pub hint: String,
}

impl BundleError {
    fn new(broken: Broken, origin: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        BundleError {
            broken,
            origin: origin.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn io(origin: &str, e: &std::io::Error) -> Self {
        BundleError::new(Broken::Io, origin, e.to_string(), "check the path and its permissions")
    }
}

pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Media types a verifier must accept (the bundle specification); with a public key and a DSSE
/// envelope all versions have the same shape.
const ACCEPTED_MEDIA_TYPES: [&str; 4] = [
    MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

/// The largest bundle read: an SBOM predicate of a large image is tens of MiB, and a bound keeps
/// a hostile file from exhausting memory.
pub const MAX_BUNDLE_BYTES: u64 = 128 << 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    pub dsse_envelope: Envelope,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    pub public_key: PublicKeyHint,
    /// Always written empty: sealkit signs offline.
    pub tlog_entries: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyHint {
    pub hint: String,
}

/// The bundle as read, every field optional, so that each broken rule gets its own message.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBundle {
    media_type: Option<String>,
    verification_material: Option<RawMaterial>,
    dsse_envelope: Option<Envelope>,
    message_signature: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawMaterial {
    public_key: Option<PublicKeyHint>,
    certificate: Option<serde::de::IgnoredAny>,
    x509_certificate_chain: Option<serde::de::IgnoredAny>,
    /// Transparency-log entries and timestamps are not checked (docs/signing.md): trust rests
    /// on the keys alone.
    #[serde(default)]
    tlog_entries: Vec<serde_json::Value>,
    #[serde(rename = "timestampVerificationData")]
    _timestamps: Option<serde::de::IgnoredAny>,
}

impl Bundle {
    pub fn new(envelope: Envelope, key_id: String) -> Bundle {
        Bundle {
            media_type: MEDIA_TYPE.to_owned(),
            verification_material: VerificationMaterial {
                public_key: PublicKeyHint { hint: key_id },
                tlog_entries: Vec::new(),
            },
            dsse_envelope: envelope,
        }
    }

    /// The bundle as written: compact JSON and a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Reads a bundle file, at most [`MAX_BUNDLE_BYTES`].
    pub fn read(path: &Path) -> Result<Bundle, BundleError> {
        Bundle::parse(&Bundle::read_bytes(path)?, &path.display().to_string())
    }

    /// A bundle file's bytes, read up to one byte past [`MAX_BUNDLE_BYTES`] so that
    /// [`Bundle::parse`] refuses a larger one.
    pub fn read_bytes(path: &Path) -> Result<Vec<u8>, BundleError> {
        let origin = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| BundleError::io(&origin, &e))?;
        let mut bytes = Vec::new();
        file.take(MAX_BUNDLE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BundleError::io(&origin, &e))?;
        Ok(bytes)
    }

    /// Parses a bundle, refusing anything sealkit cannot verify with a key: certificates, a
    /// message signature, more or fewer than one signature, a keyid that is not the hint.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Bundle, BundleError> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(BundleError::new(
                Broken::TooLarge,
                origin,
                format!(
                    "is larger than {} MiB, which sealkit does not read",
                    MAX_BUNDLE_BYTES >> 20
                ),
                "check that this is a Sigstore bundle",
            ));
        }
        let malformed = |message: String| {
            BundleError::new(
                Broken::Malformed,
                origin,
                message,
                "a Sigstore bundle v0.3 with a publicKey hint and one DSSE envelope is expected (docs/signing.md)",
            )
        };
        let raw: RawBundle =
            serde_json::from_slice(bytes).map_err(|e| malformed(format!("is not a Sigstore bundle: {e}")))?;
        let media_type = raw.media_type.ok_or_else(|| malformed("has no mediaType".into()))?;
        if !ACCEPTED_MEDIA_TYPES.contains(&media_type.as_str()) {
            return Err(BundleError::new(
                Broken::MediaType,
                origin,
                format!("has mediaType {media_type:?}, not a Sigstore bundle's"),
                format!("expected {MEDIA_TYPE}"),
            ));
        }
        let material = raw
            .verification_material
            .ok_or_else(|| malformed("has no verificationMaterial".into()))?;
        if material.certificate.is_some() || material.x509_certificate_chain.is_some() {
            return Err(BundleError::new(
                Broken::Unsupported,
                origin,
                "is signed with a certificate (keyless signing), which sealkit does not verify",
                "sign with a key (`sealkit sign --key`, `cosign sign-blob --key`) and verify with its public half",
            ));
        }
        let hint = material
            .public_key
            .ok_or_else(|| malformed("has no verificationMaterial.publicKey".into()))?;
        let envelope = match (raw.dsse_envelope, raw.message_signature) {
            (Some(envelope), None) => envelope,
            (None, Some(_)) => {
                return Err(BundleError::new(
                    Broken::Unsupported,
                    origin,
                    "holds a messageSignature; sealkit verifies DSSE envelopes only",
                    "sign with `sealkit sign`, which writes a DSSE statement over the file's digest",
                ));
            }
            (Some(_), Some(_)) => return Err(malformed("holds both a dsseEnvelope and a messageSignature".into())),
            (None, None) => return Err(malformed("holds neither a dsseEnvelope nor a messageSignature".into())),
        };
        if envelope.signatures.len() != 1 {
            return Err(malformed(format!(
                "its envelope has {} signatures; a Sigstore bundle holds exactly one",
                envelope.signatures.len()
            )));
        }
        if let Some(keyid) = envelope.signatures[0].keyid.as_deref().filter(|k| !k.is_empty())
            && keyid != hint.hint
        {
            return Err(malformed(format!(
                "its signature's keyid {keyid:?} is not the publicKey hint {:?}",
                hint.hint
            )));
        }
        Ok(Bundle {
            media_type,
            verification_material: VerificationMaterial {
                public_key: hint,
                tlog_entries: material.tlog_entries,
            },
            dsse_envelope: envelope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "mediaType": MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": []},
            "dsseEnvelope": {"payload": "e30=", "payloadType": "application/vnd.in-toto+json",
                             "signatures": [{"sig": "AAAA", "keyid": "k"}]}
        })
    }

    fn parse(v: &serde_json::Value) -> Result<Bundle, BundleError> {
        Bundle::parse(v.to_string().as_bytes(), "b.sigstore.json")
    }

    #[test]
    fn a_bundle_round_trips() {
        let b = parse(&sample()).unwrap();
        assert_eq!(b.dsse_envelope.payload, b"{}");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&b.to_json()).unwrap(),
            sample()
        );
    }

    #[test]
    fn broken_rules_are_named() {
        type Change = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: [(&str, Change, Broken, &str); 8] = [
            (
                "media type",
                Box::new(|v| v["mediaType"] = "application/json".into()),
                Broken::MediaType,
                "mediaType",
            ),
            (
                "two signatures",
                Box::new(|v| {
                    let s = v["dsseEnvelope"]["signatures"][0].clone();
                    v["dsseEnvelope"]["signatures"].as_array_mut().unwrap().push(s);
                }),
                Broken::Malformed,
                "2 signatures",
            ),
            (
                "keyid",
                Box::new(|v| v["dsseEnvelope"]["signatures"][0]["keyid"] = "other".into()),
                Broken::Malformed,
                "not the publicKey hint",
            ),
            (
                "certificate",
                Box::new(|v| v["verificationMaterial"]["certificate"] = serde_json::json!({"rawBytes": "AA=="})),
                Broken::Unsupported,
                "certificate",
            ),
            (
                "message signature",
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("dsseEnvelope");
                    v["messageSignature"] = serde_json::json!({"signature": "AA=="});
                }),
                Broken::Unsupported,
                "messageSignature",
            ),
            (
                "bad base64",
                Box::new(|v| v["dsseEnvelope"]["payload"] = "%%%".into()),
                Broken::Malformed,
                "base64",
            ),
            (
                "unknown field",
                Box::new(|v| v["dsseEnvelope"]["extra"] = 1.into()),
                Broken::Malformed,
                "unknown field",
            ),
            (
                "no hint",
                Box::new(|v| {
                    v["verificationMaterial"].as_object_mut().unwrap().remove("publicKey");
                }),
                Broken::Malformed,
                "publicKey",
            ),
        ];
        for (what, change, code, text) in cases {
            let mut v = sample();
            change(&mut v);
            let e = parse(&v).unwrap_err();
            assert_eq!(e.broken, code, "{what}: {e}");
            assert!(e.to_string().contains(text), "{what}: {e}");
        }
    }

    #[test]
    fn duplicate_keys_and_non_json_are_malformed() {
        let text = sample()
            .to_string()
            .replacen("\"payloadType\"", "\"payload\":\"e30=\",\"payloadType\"", 1);
        let e = Bundle::parse(text.as_bytes(), "b").unwrap_err();
        assert!(e.to_string().contains("duplicate field"), "{e}");
        assert_eq!(Bundle::parse(b"\xff\xfe", "b").unwrap_err().broken, Broken::Malformed);
    }
}
