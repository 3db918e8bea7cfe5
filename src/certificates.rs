//! X.509 certificates that vouch for a signing key instead of the key being handed over:
//! Fulcio's short-lived certificates (keyless signing, bound to an OIDC identity) and an
//! organisation's own PKI.
//!
//! Path building and the signatures along the path are rustls-webpki's, the verifier rustls
//! and sigstore-rs use; reading the fields a policy asks about (e-mail and URI names, Fulcio's
//! OIDC issuer) is x509-cert's. The checks follow Go's `x509.Certificate.Verify` as
//! containers/image and cosign call it: every certificate valid at the given time, a path to a
//! trusted root through the given intermediates, and code signing among the extended key
//! usages wherever a certificate restricts them.

use std::time::Duration;

use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::keys::PublicKey;

/// What a certificate on a path must be allowed to do (its extended key usage, where it
/// restricts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// id-kp-codeSigning: Fulcio's and a signing PKI's certificates.
    CodeSigning,
    /// id-kp-timeStamping: a timestamp authority's.
    TimeStamping,
}

impl Usage {
    /// The OID's content octets, as webpki wants them.
    fn oid(self) -> &'static [u8] {
        match self {
            Usage::CodeSigning => &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03],
            Usage::TimeStamping => &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08],
        }
    }
}
/// Fulcio's OIDC issuer, first as the raw extension value (deprecated, still issued in 2023)…
const FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// …then as a DER UTF8String.
const FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";

/// The most certificates read from one PEM text: real chains hold three or four.
const MAX_CHAIN: usize = 32;

/// One parsed certificate and its DER.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

/// Two certificates are the same when their DER is.
impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({})", self.subject())
    }
}

/// Every `CERTIFICATE` block of a PEM text, in order; none, or one that does not parse, is an
/// error naming `origin`.
pub fn from_pem(text: &[u8], origin: &str) -> Result<Vec<Certificate>, String> {
    let mut certificates = Vec::new();
    let mut rest = text;
    while let Some(block) = next_pem_block(rest) {
        let (label, der, end) = block.map_err(|e| format!("{origin}: {e}"))?;
        if label != "CERTIFICATE" {
            return Err(format!("{origin}: holds a PEM {label:?}, not a CERTIFICATE"));
        }
        if certificates.len() == MAX_CHAIN {
            return Err(format!("{origin}: holds more than the {MAX_CHAIN} certificates read"));
        }
        // The bytes as given, not re-encoded: they are what was signed and what Rekor logged.
        let parsed = x509_cert::Certificate::from_der(&der)
            .map_err(|e| format!("{origin}: certificate {} is malformed ({e})", certificates.len() + 1))?;
        certificates.push(Certificate { der, parsed });
        rest = &rest[end..];
    }
    if certificates.is_empty() {
        return Err(format!("{origin}: holds no PEM certificate"));
    }
    Ok(certificates)
}

/// One certificate from its DER (as a trusted root or a bundle holds it).
pub fn from_der(der: &[u8], origin: &str) -> Result<Certificate, String> {
    let parsed =
        x509_cert::Certificate::from_der(der).map_err(|e| format!("{origin}: a malformed certificate ({e})"))?;
    Ok(Certificate {
        der: der.to_vec(),
        parsed,
    })
}

/// The label and contents of the first PEM block of `text`.
pub fn pem_block(text: &str) -> Option<(String, Vec<u8>)> {
    let (label, der, _) = next_pem_block(text.as_bytes())?.ok()?;
    Some((label, der))
}

/// A PEM block's label, its contents, and where in the text it ends.
type PemBlock = (String, Vec<u8>, usize);

/// The next PEM block of `text`: its label, its contents and where it ends; `None` when no
/// block begins. Read as Go's `encoding/pem` reads it, which writes the certificates and keys
/// in cosign annotations and Rekor entries: any line width, whitespace ignored (the strict
/// RFC 7468 reader refuses what Go and Python write there).
fn next_pem_block(text: &[u8]) -> Option<Result<PemBlock, String>> {
    let start = find(text, b"-----BEGIN ")?;
    let read = || {
        let rest = &text[start + 11..];
        let label_end = find(rest, b"-----").ok_or("a PEM header line is not closed")?;
        let label = std::str::from_utf8(&rest[..label_end]).map_err(|_| "a PEM label is not text".to_owned())?;
        let body = &rest[label_end + 5..];
        let footer = format!("-----END {label}-----");
        let end = find(body, footer.as_bytes())
            .ok_or_else(|| format!("the PEM block {label:?} is not closed (no {footer} line)"))?;
        let encoded: Vec<u8> = body[..end]
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
            .map_err(|e| format!("the PEM block {label:?} is not base64 ({e})"))?;
        Ok((label.to_owned(), der, start + 11 + label_end + 5 + end + footer.len()))
    };
    Some(read())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

impl Certificate {
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate, for fields this module does not interpret.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    /// The subject's distinguished name, as OpenSSL prints it (RFC 4514).
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate().subject().to_string()
    }

    /// Whether the certificate names itself as its issuer: a root, which only a trust store
    /// may supply.
    pub fn is_self_issued(&self) -> bool {
        let tbs = self.parsed.tbs_certificate();
        tbs.issuer() == tbs.subject()
    }

    /// The key the certificate vouches for.
    pub fn public_key(&self) -> Result<PublicKey, String> {
        let spki = self
            .parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| format!("the certificate's key cannot be read ({e})"))?;
        PublicKey::from_spki_der(&spki, "the certificate").map_err(|e| e.to_string())
    }

    /// The subject's alternative names that `pick` keeps.
    fn alternative_names(&self, pick: impl Fn(GeneralName) -> Option<String>) -> Vec<String> {
        match self.parsed.tbs_certificate().get_extension::<SubjectAltName>() {
            Ok(Some((_, names))) => names.0.into_iter().filter_map(pick).collect(),
            _ => Vec::new(),
        }
    }

    /// The e-mail addresses among the subject's alternative names.
    pub fn emails(&self) -> Vec<String> {
        self.alternative_names(|name| match name {
            GeneralName::Rfc822Name(email) => Some(email.to_string()),
            _ => None,
        })
    }

    /// The URIs among the subject's alternative names (a CI workflow's identity).
    pub fn uris(&self) -> Vec<String> {
        self.alternative_names(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
    }

    /// Fulcio's record of the OIDC issuer that vouched for the signer. Both forms may be
    /// present and must then agree; a duplicate of either is refused, as containers/image does.
    pub fn oidc_issuer(&self) -> Result<Option<String>, String> {
        let (mut v1, mut v2) = (None, None);
        for extension in self.parsed.tbs_certificate().extensions().into_iter().flatten() {
            let id = extension.extn_id.to_string();
            let value = extension.extn_value.as_bytes();
            if id == FULCIO_ISSUER_V1 {
                if v1.is_some() {
                    return Err("the certificate names its OIDC issuer twice (v1 extension)".into());
                }
                v1 = Some(
                    String::from_utf8(value.to_vec())
                        .map_err(|_| "the certificate's OIDC issuer (v1) is not UTF-8".to_owned())?,
                );
            } else if id == FULCIO_ISSUER_V2 {
                if v2.is_some() {
                    return Err("the certificate names its OIDC issuer twice (v2 extension)".into());
                }
                let text = x509_cert::der::asn1::Utf8StringRef::from_der(value)
                    .map_err(|e| format!("the certificate's OIDC issuer (v2) is not a UTF8String ({e})"))?;
                v2 = Some(text.as_str().to_owned());
            }
        }
        match (v1, v2) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "the certificate's OIDC issuer extensions disagree: v1 {a:?}, v2 {b:?}"
            )),
            (a, b) => Ok(a.or(b)),
        }
    }

    /// Checks that the certificate chains to one of `roots` through `intermediates`, every
    /// certificate on the path valid at `at` (seconds since the epoch) and allowed to sign code.
    pub fn verify_path(&self, intermediates: &[Certificate], roots: &[Certificate], at: u64) -> Result<(), String> {
        self.verify_path_for(Usage::CodeSigning, intermediates, roots, at)
    }

    /// [`Certificate::verify_path`] for another usage.
    pub fn verify_path_for(
        &self,
        usage: Usage,
        intermediates: &[Certificate],
        roots: &[Certificate],
        at: u64,
    ) -> Result<(), String> {
        let leaf_der = rustls_pki_types::CertificateDer::from(self.der.as_slice());
        let leaf = webpki::EndEntityCert::try_from(&leaf_der)
            .map_err(|e| format!("the certificate cannot be used ({})", explain(&e)))?;
        let root_ders: Vec<_> = roots
            .iter()
            .map(|r| rustls_pki_types::CertificateDer::from(r.der.as_slice()))
            .collect();
        let anchors = root_ders
            .iter()
            .map(webpki::anchor_from_trusted_cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("a trusted root cannot be used ({})", explain(&e)))?;
        let intermediate_ders: Vec<_> = intermediates
            .iter()
            .map(|c| rustls_pki_types::CertificateDer::from(c.der.as_slice()))
            .collect();
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediate_ders,
            rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(at)),
            webpki::KeyUsage::required_if_present(usage.oid()),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| explain(&e))
    }

    /// Checks that the certificate names `email` among its alternative names.
    pub fn verify_email(&self, email: &str) -> Result<(), String> {
        let emails = self.emails();
        if emails.iter().any(|e| e == email) {
            Ok(())
        } else {
            Err(format!("the certificate is for {emails:?}, not {email}"))
        }
    }

    /// Checks that the certificate names `host` (a DNS name or an IP address) among its
    /// alternative names.
    pub fn verify_hostname(&self, host: &str) -> Result<(), String> {
        let name = rustls_pki_types::ServerName::try_from(host)
            .map_err(|_| format!("{host:?} is not a host name or an IP address"))?;
        let leaf_der = rustls_pki_types::CertificateDer::from(self.der.as_slice());
        let leaf = webpki::EndEntityCert::try_from(&leaf_der)
            .map_err(|e| format!("the certificate cannot be used ({})", explain(&e)))?;
        leaf.verify_is_valid_for_subject_name(&name)
            .map_err(|_| format!("the certificate is not for host {host}"))
    }
}

/// webpki's verdict in words a release engineer acts on.
fn explain(error: &webpki::Error) -> String {
    let when = |t: &rustls_pki_types::UnixTime| crate::epoch::rfc3339(t.as_secs());
    match error {
        webpki::Error::CertExpired { time, not_after } => format!(
            "a certificate on the path expired at {}, before the signing time {}",
            when(not_after),
            when(time)
        ),
        webpki::Error::CertNotValidYet { time, not_before } => format!(
            "a certificate on the path is valid only from {}, after the signing time {}",
            when(not_before),
            when(time)
        ),
        webpki::Error::UnknownIssuer => "no path to a trusted root: the issuer is not trusted".into(),
        webpki::Error::InvalidSignatureForPublicKey => {
            "a signature on the path does not verify: a certificate was altered".into()
        }
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "a certificate on the path is not allowed this use (extended key usage)".into()
        }
        other => format!("{other:?}"),
    }
}

/// Certificates made for tests: an organisation's CA and what it issues.
#[cfg(test)]
pub mod testing {
    use super::{Certificate, from_der};
    use crate::keys::SigningKey;

    /// A certificate `issuer_key` issued to `subject_key` (self-signed when they are one), valid
    /// from `from` for a year, naming `names` (e-mail addresses and host names): an
    /// organisation's own CA, as cosign's PKI mode trusts one.
    pub fn issue(
        subject: &str,
        subject_key: &SigningKey,
        issuer: Option<(&str, &SigningKey)>,
        from: u64,
        names: &[&str],
    ) -> Certificate {
        issue_with(subject, subject_key, issuer, from, names, Vec::new())
    }

    /// [`issue`] with `extra` extensions besides the usual ones.
    pub fn issue_with(
        subject: &str,
        subject_key: &SigningKey,
        issuer: Option<(&str, &SigningKey)>,
        from: u64,
        names: &[&str],
        extra: Vec<x509_cert::ext::Extension>,
    ) -> Certificate {
        use pkcs8::DecodePrivateKey as _;
        use sha2::Digest as _;
        use x509_cert::builder::{Builder as _, CertificateBuilder, profile::BuilderProfile};
        use x509_cert::ext::{ToExtension as _, pkix};

        struct Profile {
            subject: x509_cert::name::Name,
            issuer: x509_cert::name::Name,
            names: Vec<pkix::name::GeneralName>,
            extra: Vec<x509_cert::ext::Extension>,
        }
        impl BuilderProfile for Profile {
            fn get_issuer(&self, _: &x509_cert::name::Name) -> x509_cert::name::Name {
                self.issuer.clone()
            }
            fn get_subject(&self) -> x509_cert::name::Name {
                self.subject.clone()
            }
            fn build_extensions(
                &self,
                _: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
                _: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
                tbs: &x509_cert::TbsCertificate,
            ) -> x509_cert::builder::Result<Vec<x509_cert::ext::Extension>> {
                let ca = self.names.is_empty();
                let mut extensions = vec![
                    pkix::BasicConstraints {
                        ca,
                        path_len_constraint: None,
                    }
                    .to_extension(tbs.subject(), &[])?,
                ];
                if ca {
                    extensions
                        .push(pkix::KeyUsage(pkix::KeyUsages::KeyCertSign.into()).to_extension(tbs.subject(), &[])?);
                } else {
                    extensions.push(pkix::SubjectAltName(self.names.clone()).to_extension(tbs.subject(), &[])?);
                    extensions.push(
                        pkix::ExtendedKeyUsage(vec![der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3")])
                            .to_extension(tbs.subject(), &[])?,
                    );
                }
                extensions.extend(self.extra.iter().cloned());
                Ok(extensions)
            }
        }
        let name = |cn: &str| {
            format!("CN={cn},O=sealkit tests")
                .parse::<x509_cert::name::Name>()
                .unwrap()
        };
        let (issuer_name, issuer_key) = issuer.unwrap_or((subject, subject_key));
        let names = names
            .iter()
            .map(|n| {
                let text = der::asn1::Ia5String::new(n).unwrap();
                if n.contains('@') {
                    pkix::name::GeneralName::Rfc822Name(text)
                } else {
                    pkix::name::GeneralName::DnsName(text)
                }
            })
            .collect();
        let profile = Profile {
            subject: name(subject),
            issuer: name(issuer_name),
            names,
            extra,
        };
        let time = |at: u64| {
            x509_cert::time::Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at)).unwrap()
        };
        let validity = x509_cert::time::Validity::new(time(from), time(from + 365 * 86_400));
        let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::try_from(subject_key.public_key().spki_der()).unwrap();
        let serial = x509_cert::serial_number::SerialNumber::new(
            &sha2::Sha256::digest(format!("{subject}{issuer_name}").as_bytes())[..8],
        )
        .unwrap();
        let signer = p256::ecdsa::SigningKey::from_pkcs8_pem(&issuer_key.to_pem(None).unwrap()).unwrap();
        let certificate = CertificateBuilder::new(profile, serial, validity, spki)
            .unwrap()
            .build::<_, p256::ecdsa::DerSignature>(&signer)
            .unwrap();
        from_der(&der::Encode::to_der(&certificate).unwrap(), "a test certificate").unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/trust/testdata/containers-image")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn garbage_and_empty_texts_are_refused_naming_their_origin() {
        let e = from_pem(b"not a certificate", "ca.pem").unwrap_err();
        assert!(e.starts_with("ca.pem: "), "{e}");
        let e = from_pem(b"", "ca.pem").unwrap_err();
        assert!(e.starts_with("ca.pem: "), "{e}");
        let roots = from_pem(&fixture("pki_root_crts.pem"), "roots").unwrap();
        assert_eq!(roots.len(), 1);
        let mut cut = fixture("pki_root_crts.pem");
        cut.truncate(cut.len() / 2);
        assert!(from_pem(&cut, "cut").is_err());
    }

    /// The leaf certificate and chain a cosign signature of the fixtures carries.
    fn signed_with(fixture_dir: &str) -> (Certificate, Vec<Certificate>) {
        let raw = fixture(&format!("{fixture_dir}/signature-1"));
        let json: serde_json::Value = serde_json::from_slice(&raw[b"\0sigstore-json".len()..]).unwrap();
        let text = |key: &str| json["annotations"][key].as_str().unwrap().as_bytes().to_vec();
        let leaf = from_pem(&text("dev.sigstore.cosign/certificate"), "leaf")
            .unwrap()
            .remove(0);
        let chain = from_pem(&text("dev.sigstore.cosign/chain"), "chain").unwrap();
        (leaf, chain)
    }

    #[test]
    fn a_pki_certificate_chains_to_its_root_only_while_valid() {
        let roots = from_pem(&fixture("pki_root_crts.pem"), "roots").unwrap();
        let intermediates = from_pem(&fixture("pki_intermediate_crts.pem"), "intermediates").unwrap();
        let (leaf, _) = signed_with("dir-img-cosign-pki-valid");
        assert_eq!(leaf.emails(), ["qiwan@redhat.com"]);
        leaf.verify_hostname("myhost.example.com").unwrap();
        assert!(leaf.verify_hostname("otherhost.example.com").is_err());
        // 2030-01-01: within every certificate's validity (2024-10-01 to 2052-02-16).
        leaf.verify_path(&intermediates, &roots, 1_893_456_000).unwrap();
        let early = leaf.verify_path(&intermediates, &roots, 1_700_000_000).unwrap_err();
        assert!(early.contains("valid only from 2024-10-01"), "{early}");
        let lost = leaf.verify_path(&[], &roots, 1_893_456_000).unwrap_err();
        assert!(lost.contains("not trusted"), "{lost}");
        let fulcio = from_pem(&fixture("fulcio_v1.crt.pem"), "fulcio").unwrap();
        let stranger = leaf.verify_path(&intermediates, &fulcio, 1_893_456_000).unwrap_err();
        assert!(stranger.contains("not trusted"), "{stranger}");
    }

    /// Chains that loop or run deeper than any real one, and certificates with a critical
    /// extension nobody here understands: refused with a reason, never accepted, never a hang.
    #[test]
    fn looping_and_deep_chains_and_unknown_critical_extensions_are_refused() {
        use crate::keys::{Algorithm, SigningKey};
        use testing::{issue, issue_with};
        let key = || SigningKey::generate(Algorithm::EcdsaP256).unwrap();
        let at = 1_700_000_000;
        let from = at - 86_400;
        let (root_key, a_key, b_key, leaf_key) = (key(), key(), key(), key());
        let root = issue("Root", &root_key, None, from, &[]);

        // A and B issue each other; neither reaches the root.
        let a = issue("A", &a_key, Some(("B", &b_key)), from, &[]);
        let b = issue("B", &b_key, Some(("A", &a_key)), from, &[]);
        let leaf = issue("Leaf", &leaf_key, Some(("A", &a_key)), from, &["dev@example.com"]);
        let e = leaf.verify_path(&[a, b], std::slice::from_ref(&root), at).unwrap_err();
        assert!(!e.is_empty());

        // Twelve intermediates between the leaf and the root: deeper than webpki follows.
        let keys: Vec<SigningKey> = (0..12).map(|_| key()).collect();
        let mut chain = Vec::new();
        let mut parent = ("Root".to_owned(), &root_key);
        for (i, k) in keys.iter().enumerate() {
            let name = format!("Intermediate {i}");
            chain.push(issue(&name, k, Some((&parent.0, parent.1)), from, &[]));
            parent = (name, k);
        }
        let deep = issue(
            "Leaf",
            &leaf_key,
            Some((&parent.0, parent.1)),
            from,
            &["dev@example.com"],
        );
        chain.reverse();
        assert!(deep.verify_path(&chain, std::slice::from_ref(&root), at).is_err());
        // The same leaf one step from the root is accepted: depth alone refused the other.
        let near = issue("Leaf", &leaf_key, Some(("Root", &root_key)), from, &["dev@example.com"]);
        near.verify_path(&[], std::slice::from_ref(&root), at).unwrap();

        let unknown = x509_cert::ext::Extension {
            extn_id: der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
            critical: true,
            extn_value: der::asn1::OctetString::new(vec![5, 0]).unwrap(),
        };
        let marked = issue_with(
            "Leaf",
            &leaf_key,
            Some(("Root", &root_key)),
            from,
            &["dev@example.com"],
            vec![unknown],
        );
        let e = marked.verify_path(&[], std::slice::from_ref(&root), at).unwrap_err();
        assert!(e.contains("Critical"), "{e}");
    }

    #[test]
    fn a_fulcio_certificate_names_its_signer_and_issuer_for_ten_minutes() {
        let fulcio = from_pem(&fixture("fulcio_v1.crt.pem"), "fulcio").unwrap();
        let (leaf, chain) = signed_with("dir-img-cosign-fulcio-rekor-valid");
        assert_eq!(leaf.emails(), ["mitr@redhat.com"]);
        assert_eq!(
            leaf.oidc_issuer().unwrap().as_deref(),
            Some("https://github.com/login/oauth")
        );
        assert!(leaf.public_key().unwrap().algorithm().contains("p256"));
        let intermediates = &chain[..chain.len() - 1];
        // Issued 2023-01-20T20:51:31Z for ten minutes.
        leaf.verify_path(intermediates, &fulcio, 1_674_247_900).unwrap();
        let late = leaf.verify_path(intermediates, &fulcio, 1_674_248_500).unwrap_err();
        assert!(late.contains("expired at 2023-01-20T21:01:31Z"), "{late}");
    }
}
