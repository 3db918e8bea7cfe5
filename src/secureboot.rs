//! Secure Boot keys of one's own: the platform key (PK), the key exchange key (KEK) and the
//! signature database key (db) UEFI firmware enrols, each an RSA-2048 key (what every firmware
//! verifies) with a self-signed certificate and an EFI signature list (the form firmware and
//! `efi-updatevar` enrol). The db key signs boot images (crate::authenticode).

use der::Encode as _;
use zeroize::Zeroizing;

/// `EFI_CERT_X509_GUID` (a5c059a1-94e4-4aa7-87b5-ab155c2bf072) as UEFI stores a GUID: its
/// first three fields little-endian.
const EFI_CERT_X509: [u8; 16] = [
    0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72,
];

/// The roles, in enrolment order's reverse (db first is what a machine checks; PK last locks it).
pub const ROLES: [&str; 3] = ["PK", "KEK", "db"];

/// One generated key: its PKCS#8 private key, its certificate, and the certificate as an EFI
/// signature list owned by `owner`.
pub struct Generated {
    pub role: &'static str,
    pub key_pem: Zeroizing<String>,
    pub certificate_pem: String,
    pub signature_list: Vec<u8>,
}

/// An owner GUID (random, version 4), as text and in UEFI's byte order.
pub fn new_owner() -> Result<(String, [u8; 16]), String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| format!("no randomness from the kernel: {e}"))?;
    raw[6] = (raw[6] & 0x0f) | 0x40;
    raw[8] = (raw[8] & 0x3f) | 0x80;
    let text = format!(
        "{}-{}-{}-{}-{}",
        hex::encode(&raw[..4]),
        hex::encode(&raw[4..6]),
        hex::encode(&raw[6..8]),
        hex::encode(&raw[8..10]),
        hex::encode(&raw[10..])
    );
    let mut stored = raw;
    stored[..4].reverse();
    stored[4..6].reverse();
    stored[6..8].reverse();
    Ok((text, stored))
}

/// An EFI_SIGNATURE_LIST of one X.509 certificate (DER) owned by `owner`.
pub fn signature_list(certificate_der: &[u8], owner: &[u8; 16]) -> Vec<u8> {
    let signature_size = 16 + certificate_der.len() as u32;
    let mut list = Vec::with_capacity(28 + signature_size as usize);
    list.extend_from_slice(&EFI_CERT_X509);
    list.extend_from_slice(&(28 + signature_size).to_le_bytes());
    list.extend_from_slice(&0u32.to_le_bytes());
    list.extend_from_slice(&signature_size.to_le_bytes());
    list.extend_from_slice(owner);
    list.extend_from_slice(certificate_der);
    list
}

/// A key for `role`, its certificate (subject `CN=NAME Secure Boot ROLE`) valid from `from`
/// (seconds) for thirty years: firmware has no trusted clock and checks no dates, so the
/// window only has to hold for the tools that do.
pub fn generate(role: &'static str, name: &str, owner: &[u8; 16], from: u64) -> Result<Generated, String> {
    use rsa::pkcs8::EncodePrivateKey as _;
    use x509_cert::builder::{Builder as _, CertificateBuilder, profile::BuilderProfile};
    use x509_cert::ext::{ToExtension as _, pkix};

    struct SelfSigned(x509_cert::name::Name);
    impl BuilderProfile for SelfSigned {
        fn get_issuer(&self, subject: &x509_cert::name::Name) -> x509_cert::name::Name {
            subject.clone()
        }
        fn get_subject(&self) -> x509_cert::name::Name {
            self.0.clone()
        }
        fn build_extensions(
            &self,
            spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
            _: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
            tbs: &x509_cert::TbsCertificate,
        ) -> x509_cert::builder::Result<Vec<x509_cert::ext::Extension>> {
            // A CA, so that a db certificate may also issue signing certificates, as the
            // firmware accepts either.
            Ok(vec![
                pkix::BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                }
                .to_extension(tbs.subject(), &[])?,
                pkix::KeyUsage(pkix::KeyUsages::DigitalSignature | pkix::KeyUsages::KeyCertSign)
                    .to_extension(tbs.subject(), &[])?,
                pkix::SubjectKeyIdentifier::try_from(spk)?.to_extension(tbs.subject(), &[])?,
            ])
        }
    }

    let private =
        rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| format!("the RSA key of {role}: {e}"))?;
    let subject = format!("CN={name} Secure Boot {role}")
        .parse::<x509_cert::name::Name>()
        .map_err(|e| format!("--name {name:?} cannot be a certificate subject: {e}"))?;
    let time = |at: u64| {
        x509_cert::time::Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at))
            .map_err(|e| format!("a certificate date: {e}"))
    };
    let validity = x509_cert::time::Validity::new(time(from)?, time(from + 30 * 365 * 86_400)?);
    let spki = {
        use rsa::pkcs8::EncodePublicKey as _;
        let der = rsa::PublicKey::from(&private)
            .to_public_key_der()
            .map_err(|e| format!("the public key of {role}: {e}"))?;
        x509_cert::spki::SubjectPublicKeyInfoOwned::try_from(der.as_bytes()).map_err(|e| e.to_string())?
    };
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| format!("no randomness from the kernel: {e}"))?;
    serial[0] &= 0x7f;
    let serial = x509_cert::serial_number::SerialNumber::new(&serial).map_err(|e| e.to_string())?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private.clone());
    let certificate = CertificateBuilder::new(SelfSigned(subject), serial, validity, spki)
        .map_err(|e| e.to_string())?
        .build::<_, rsa::pkcs1v15::Signature>(&signer)
        .map_err(|e| format!("the certificate of {role}: {e}"))?;
    let der = certificate.to_der().map_err(|e| e.to_string())?;
    let key_pem = private
        .to_pkcs8_pem(pkcs8::der::pem::LineEnding::LF)
        .map_err(|e| format!("the private key of {role}: {e}"))?;
    Ok(Generated {
        role,
        key_pem: Zeroizing::new(key_pem.to_string()),
        certificate_pem: pkcs8::der::pem::encode_string("CERTIFICATE", pkcs8::der::pem::LineEnding::LF, &der)
            .map_err(|e| e.to_string())?,
        signature_list: signature_list(&der, owner),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_db_key_signs_what_its_certificate_verifies() {
        let (text, owner) = new_owner().unwrap();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4");
        let db = generate("db", "sealkit test", &owner, 1_700_000_000).unwrap();
        let certificate = crate::certificates::from_pem(db.certificate_pem.as_bytes(), "db.crt").unwrap();
        assert_eq!(certificate.len(), 1);
        assert!(certificate[0].subject().contains("CN=sealkit test Secure Boot db"));
        let key = certificate[0].public_key().unwrap();
        assert!(key.algorithm().to_lowercase().contains("rsa"), "{}", key.algorithm());
        let signer = crate::authenticode::Signer::from_pem(
            db.key_pem.as_bytes(),
            "db.key",
            db.certificate_pem.as_bytes(),
            "db.crt",
        )
        .unwrap();
        assert_eq!(signer.certificate(), &certificate[0]);
        // The signature list: X.509 type, sizes that add up, the owner, the certificate.
        let list = &db.signature_list;
        assert_eq!(&list[..16], &EFI_CERT_X509);
        assert_eq!(
            u32::from_le_bytes(list[16..20].try_into().unwrap()) as usize,
            list.len()
        );
        assert_eq!(&list[28..44], &owner);
        assert_eq!(&list[44..], certificate[0].der());
    }
}
