//! Sigstore's trusted root (`trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1|0.2`): the certificate
//! authorities, transparency logs, CT logs and timestamp authorities a verification trusts,
//! each only within its validity window (`start` inclusive, `end` inclusive, an absent `end`
//! open), as the Sigstore clients judge them.

use base64::Engine as _;
use serde::Deserialize;

use crate::certificates::{self, Certificate};
use crate::keys::PublicKey;

const MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// The public-good production instance's root, as its TUF repository (sigstore/root-signing)
/// publishes it; copied from sigstore-python's cache of it
/// (`sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json` at commit
/// ee6c64d35d8e4aef9c07373f54351ccc4b8a5732, Apache License 2.0).
pub const PRODUCTION: &str = include_str!("production_trusted_root.json");
/// The start of the newest window in [`PRODUCTION`] (its timestamp authority), shown with
/// every result.
pub const PRODUCTION_DATE: &str = "2025-07-04";

/// A validity window in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: Option<i64>,
}

impl Window {
    pub fn contains(&self, millis: i64) -> bool {
        self.start <= millis && self.end.is_none_or(|end| millis <= end)
    }
}

/// A transparency log (Rekor) or CT log: its key, its id (sha256 of the key, or the id the
/// root gives) and when it may be trusted.
#[derive(Debug, Clone)]
pub struct Log {
    pub base_url: String,
    pub key: PublicKey,
    pub log_id: Vec<u8>,
    pub valid: Window,
}

/// A certificate authority (Fulcio) or timestamp authority: its chain, leaf first, root last.
#[derive(Debug, Clone)]
pub struct Authority {
    pub uri: String,
    pub chain: Vec<Certificate>,
    pub valid: Window,
}

#[derive(Debug, Clone)]
pub struct TrustedRoot {
    pub tlogs: Vec<Log>,
    pub ctlogs: Vec<Log>,
    pub certificate_authorities: Vec<Authority>,
    pub timestamp_authorities: Vec<Authority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    timestamp_authorities: Vec<RawAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawKey,
    log_id: Option<RawLogId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: Option<String>,
    #[serde(default)]
    key_details: String,
    valid_for: Option<RawWindow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthority {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: Option<RawWindow>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawWindow {
    start: Option<String>,
    end: Option<String>,
}

/// The most entries of each kind read: real roots hold a handful.
const MAX_ENTRIES: usize = 64;

impl TrustedRoot {
    pub fn production() -> TrustedRoot {
        // The embedded root is parsed by a test; it cannot fail at run time.
        TrustedRoot::parse(PRODUCTION.as_bytes()).unwrap_or_else(|_| TrustedRoot {
            tlogs: Vec::new(),
            ctlogs: Vec::new(),
            certificate_authorities: Vec::new(),
            timestamp_authorities: Vec::new(),
        })
    }

    /// Parses a trusted root; what is wrong, naming the entry, when it cannot be trusted as
    /// written (a window without a start, a key or certificate that does not parse).
    pub fn parse(bytes: &[u8]) -> Result<TrustedRoot, String> {
        let raw: RawRoot = serde_json::from_slice(bytes).map_err(|e| format!("not a Sigstore trusted root: {e}"))?;
        if !MEDIA_TYPES.contains(&raw.media_type.as_str()) {
            return Err(format!("mediaType {:?} is not a trusted root's", raw.media_type));
        }
        for (what, n) in [
            ("tlogs", raw.tlogs.len()),
            ("ctlogs", raw.ctlogs.len()),
            ("certificateAuthorities", raw.certificate_authorities.len()),
            ("timestampAuthorities", raw.timestamp_authorities.len()),
        ] {
            if n > MAX_ENTRIES {
                return Err(format!("{what}: {n} entries, more than the {MAX_ENTRIES} read"));
            }
        }
        let logs = |logs: Vec<RawLog>, what: &str| -> Result<Vec<Log>, String> {
            logs.into_iter()
                .enumerate()
                .map(|(i, log)| {
                    let at = format!("{what}[{i}]");
                    let der = decode(log.public_key.raw_bytes.as_deref().unwrap_or_default(), &at)?;
                    let key = if log.public_key.key_details.starts_with("PKCS1_RSA") {
                        PublicKey::from_pkcs1_rsa_der(&der, &at)
                    } else {
                        PublicKey::from_spki_der(&der, &at)
                    }
                    .map_err(|e| e.to_string())?;
                    let log_id = match log.log_id {
                        Some(id) => decode(&id.key_id, &at)?,
                        None => sha256(&der),
                    };
                    Ok(Log {
                        base_url: log.base_url,
                        key,
                        log_id,
                        valid: window(log.public_key.valid_for.as_ref(), &at)?,
                    })
                })
                .collect()
        };
        let authorities = |authorities: Vec<RawAuthority>, what: &str| -> Result<Vec<Authority>, String> {
            authorities
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    let at = format!("{what}[{i}]");
                    let chain = a
                        .cert_chain
                        .certificates
                        .iter()
                        .map(|c| certificates::from_der(&decode(&c.raw_bytes, &at)?, &at))
                        .collect::<Result<Vec<_>, _>>()?;
                    if chain.is_empty() {
                        return Err(format!("{at}: an empty certificate chain"));
                    }
                    Ok(Authority {
                        uri: a.uri,
                        chain,
                        valid: window(a.valid_for.as_ref(), &at)?,
                    })
                })
                .collect()
        };
        Ok(TrustedRoot {
            tlogs: logs(raw.tlogs, "tlogs")?,
            ctlogs: logs(raw.ctlogs, "ctlogs")?,
            certificate_authorities: authorities(raw.certificate_authorities, "certificateAuthorities")?,
            timestamp_authorities: authorities(raw.timestamp_authorities, "timestampAuthorities")?,
        })
    }

    /// The transparency log with this id whose key was valid at `millis`.
    pub fn tlog(&self, log_id: &[u8], millis: i64) -> Option<&Log> {
        self.tlogs
            .iter()
            .find(|l| l.log_id == log_id && l.valid.contains(millis))
    }
}

fn decode(text: &str, at: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("{at}: not base64 ({e})"))
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

/// A window must say when it starts: one that does not would trust a key for all time before.
fn window(raw: Option<&RawWindow>, at: &str) -> Result<Window, String> {
    let raw = raw.ok_or_else(|| format!("{at}: no validFor window"))?;
    let time = |t: &str| {
        crate::epoch::parse_rfc3339_millis(t).ok_or_else(|| format!("{at}: {t:?} is not an RFC 3339 UTC time"))
    };
    let start = time(
        raw.start
            .as_deref()
            .ok_or_else(|| format!("{at}: validFor has no start"))?,
    )?;
    let end = raw.end.as_deref().map(time).transpose()?;
    if end.is_some_and(|end| end < start) {
        return Err(format!("{at}: validFor ends before it starts"));
    }
    Ok(Window { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_production_root_reads() {
        let root = TrustedRoot::parse(PRODUCTION.as_bytes()).unwrap();
        assert_eq!(root.tlogs.len(), 1);
        assert_eq!(root.certificate_authorities.len(), 2);
        // The first Fulcio CA's window closed at the end of 2022; its end is inclusive.
        let first = root.certificate_authorities[0].valid;
        assert!(first.contains(1_672_531_199_999));
        assert!(!first.contains(1_672_531_200_000));
    }

    #[test]
    fn windows_without_a_start_and_unknown_media_types_are_refused() {
        let root: serde_json::Value = serde_json::from_str(PRODUCTION).unwrap();
        let mut no_start = root.clone();
        no_start["tlogs"][0]["publicKey"]["validFor"] = serde_json::json!({"end": "2030-01-01T00:00:00Z"});
        let e = TrustedRoot::parse(no_start.to_string().as_bytes()).unwrap_err();
        assert!(e.contains("tlogs[0]: validFor has no start"), "{e}");
        let mut backwards = root.clone();
        backwards["tlogs"][0]["publicKey"]["validFor"] =
            serde_json::json!({"start": "2030-01-01T00:00:00Z", "end": "2029-01-01T00:00:00Z"});
        let e = TrustedRoot::parse(backwards.to_string().as_bytes()).unwrap_err();
        assert!(e.contains("tlogs[0]: validFor ends before it starts"), "{e}");
        let mut other = root;
        other["mediaType"] = "application/json".into();
        assert!(TrustedRoot::parse(other.to_string().as_bytes()).is_err());
        assert!(TrustedRoot::parse(b"{").is_err());
    }
}
