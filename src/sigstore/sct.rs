//! Certificate transparency for Fulcio certificates: the Signed Certificate Timestamps embedded
//! in the leaf (RFC 6962 §3.3), each a CT log's promise to log the precertificate. One must be
//! by a CT log of the trusted root, valid at its time, over the precertificate as RFC 6962
//! §3.2 defines it: the leaf's TBSCertificate without the SCT extension, and the hash of its
//! issuer's key.

use der::asn1::Any;
use der::{Decode as _, Encode as _, Tagged as _};
use sha2::{Digest as _, Sha256};

use super::trusted_root::TrustedRoot;
use crate::certificates::Certificate;

const SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
/// The most SCTs read from one certificate: Fulcio embeds one.
const MAX_SCTS: usize = 16;

struct Sct<'a> {
    log_id: &'a [u8],
    timestamp: u64,
    extensions: &'a [u8],
    signature: &'a [u8],
}

/// A TLS-encoding reader: big-endian integers and length-prefixed vectors.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the certificate's SCT list is cut short".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn int(&mut self, n: usize) -> Result<u64, String> {
        Ok(self.take(n)?.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn vector(&mut self, length_bytes: usize) -> Result<&'a [u8], String> {
        let n = self.int(length_bytes)? as usize;
        self.take(n)
    }
}

fn parse_list(bytes: &[u8]) -> Result<Vec<Sct<'_>>, String> {
    let mut list = Reader(Reader(bytes).vector(2)?);
    let mut scts = Vec::new();
    while !list.0.is_empty() {
        if scts.len() == MAX_SCTS {
            return Err(format!("the certificate embeds more than {MAX_SCTS} SCTs"));
        }
        let mut sct = Reader(list.vector(2)?);
        if sct.int(1)? != 0 {
            return Err("an SCT of a version other than 1".into());
        }
        let log_id = sct.take(32)?;
        let timestamp = sct.int(8)?;
        let extensions = sct.vector(2)?;
        let _hash_and_signature_algorithms = sct.take(2)?;
        let signature = sct.vector(2)?;
        scts.push(Sct {
            log_id,
            timestamp,
            extensions,
            signature,
        });
    }
    Ok(scts)
}

/// Checks that one SCT embedded in `leaf`, issued by `issuer`, verifies under a CT log of
/// `root`.
pub fn verify(leaf: &Certificate, issuer: &Certificate, root: &TrustedRoot) -> Result<(), String> {
    let tbs = leaf.x509().tbs_certificate();
    let extensions = tbs.extensions().map(|e| e.as_slice()).unwrap_or_default();
    let list = extensions
        .iter()
        .find(|e| e.extn_id.to_string() == SCT_LIST)
        .ok_or("the signing certificate embeds no SCT")?;
    // The extension holds an OCTET STRING holding the TLS-encoded list.
    let inner = der::asn1::OctetString::from_der(list.extn_value.as_bytes())
        .map_err(|e| format!("the certificate's SCT list is malformed: {e}"))?;
    let scts = parse_list(inner.as_bytes())?;

    let precert_der = precertificate(leaf)?;
    let issuer_key = issuer
        .x509()
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| e.to_string())?;
    let issuer_key_hash = Sha256::digest(&issuer_key);

    let mut why = String::from("none of its SCTs is by a CT log of the trusted root");
    for sct in &scts {
        let Some(log) = root
            .ctlogs
            .iter()
            .find(|l| l.log_id == sct.log_id && l.valid.contains(sct.timestamp as i64))
        else {
            continue;
        };
        let mut signed = vec![0u8, 0u8];
        signed.extend(sct.timestamp.to_be_bytes());
        signed.extend([0, 1]); // precert_entry
        signed.extend(issuer_key_hash.as_slice());
        let length = precert_der.len();
        if length >= 1 << 24 {
            return Err("the precertificate is too large for an SCT".into());
        }
        signed.extend(&(length as u32).to_be_bytes()[1..]);
        signed.extend(&precert_der);
        signed.extend((sct.extensions.len() as u16).to_be_bytes());
        signed.extend(sct.extensions);
        if log.key.verify(&signed, sct.signature) {
            return Ok(());
        }
        why = format!("the SCT of the CT log {} does not verify", log.base_url);
    }
    Err(format!("the signing certificate's transparency: {why}"))
}

/// The precertificate as the log saw it: the leaf's TBSCertificate, byte for byte, without
/// the SCT list extension.
fn precertificate(leaf: &Certificate) -> Result<Vec<u8>, String> {
    let bad = |e: der::Error| format!("the signing certificate cannot be taken apart: {e}");
    let certificate = Vec::<Any>::from_der(leaf.der()).map_err(bad)?;
    let tbs = certificate.first().ok_or("the signing certificate is empty")?;
    let mut fields = Vec::<Any>::from_der(&tbs.to_der().map_err(bad)?).map_err(bad)?;
    let extensions_tag = der::Tag::ContextSpecific {
        constructed: true,
        number: der::TagNumber(3),
    };
    for field in fields.iter_mut().filter(|f| f.tag() == extensions_tag) {
        let extensions = Vec::<x509_cert::ext::Extension>::from_der(field.value()).map_err(bad)?;
        let kept: Vec<_> = extensions
            .into_iter()
            .filter(|e| e.extn_id.to_string() != SCT_LIST)
            .collect();
        *field = Any::new(extensions_tag, kept.to_der().map_err(bad)?).map_err(bad)?;
    }
    fields.to_der().map_err(bad)
}
