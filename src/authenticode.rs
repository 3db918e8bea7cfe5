//! Authenticode: the signature UEFI Secure Boot checks before it starts a PE image (a UKI).
//! A PKCS#7 SignedData whose content (`SpcIndirectDataContent`) holds the image's Authenticode
//! digest (SHA-256 over the image minus its checksum, its certificate table entry and the
//! certificate table, as goblin computes it), signed with RSA-2048/SHA-256 (PKCS#1 v1.5), as
//! firmware expects, appended to the image in a `WIN_CERTIFICATE` and named by its certificate
//! table entry.
//!
//! The signed attributes are only the two CMS requires (content type and message digest): no
//! signing time, so the same image and key give the same bytes, which sbsign's do not.

use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode as _, Encode as _};
use sha2::{Digest as _, Sha256};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::certificates::{self, Certificate};

const SPC_INDIRECT_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.4");
const SPC_PE_IMAGE_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.15");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// `SpcPeImageData { flags: BIT STRING {}, file: [0] { [2] { [0] IMPLICIT BMPString
/// "<<<Obsolete>>>" } } }`: what every Authenticode signer writes for a PE image, and no
/// verifier reads.
const PE_IMAGE_DATA: [u8; 39] = [
    0x30, 0x25, 0x03, 0x01, 0x00, 0xa0, 0x20, 0xa2, 0x1e, 0x80, 0x1c, 0x00, b'<', 0x00, b'<', 0x00, b'<', 0x00, b'O',
    0x00, b'b', 0x00, b's', 0x00, b'o', 0x00, b'l', 0x00, b'e', 0x00, b't', 0x00, b'e', 0x00, b'>', 0x00, b'>', 0x00,
    b'>',
];

/// WIN_CERTIFICATE's revision 2.0 and its PKCS#7 SignedData type.
const WIN_CERT_REVISION_2_0: u16 = 0x0200;
const WIN_CERT_TYPE_PKCS_SIGNED_DATA: u16 = 0x0002;

#[derive(der::Sequence)]
struct SpcAttributeTypeAndOptionalValue {
    value_type: ObjectIdentifier,
    value: Any,
}

#[derive(der::Sequence)]
struct DigestInfo {
    digest_algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

#[derive(der::Sequence)]
struct SpcIndirectDataContent {
    data: SpcAttributeTypeAndOptionalValue,
    message_digest: DigestInfo,
}

fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SHA256,
        parameters: Some(Any::null()),
    }
}

fn der_error(what: &str) -> impl FnOnce(der::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Who signs boot images: an RSA key and the certificate (enrolled in the firmware's db, or
/// issued by one that is) that names it.
pub struct Signer {
    key: rsa::pkcs1v15::SigningKey<Sha256>,
    certificate: Certificate,
}

impl Signer {
    /// The key (PKCS#8 or PKCS#1 PEM, unencrypted) and its certificate (PEM).
    pub fn from_pem(
        key: &[u8],
        key_origin: &str,
        certificate: &[u8],
        certificate_origin: &str,
    ) -> Result<Signer, String> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        let text = std::str::from_utf8(key).map_err(|_| format!("{key_origin}: not a PEM text"))?;
        let private = rsa::PrivateKey::from_pkcs8_pem(text)
            .or_else(|_| rsa::PrivateKey::from_pkcs1_pem(text))
            .map_err(|_| {
                format!(
                    "{key_origin}: not an unencrypted RSA private key (PKCS#8 or PKCS#1 PEM): UEFI firmware checks RSA-2048 signatures"
                )
            })?;
        let mut certificates = certificates::from_pem(certificate, certificate_origin)?;
        if certificates.len() != 1 {
            return Err(format!(
                "{certificate_origin}: holds {} certificates, not the signer's one",
                certificates.len()
            ));
        }
        let certificate = certificates.remove(0);
        let public = certificate.public_key()?;
        let ours = {
            use rsa::pkcs8::EncodePublicKey as _;
            rsa::PublicKey::from(&private)
                .to_public_key_der()
                .map_err(|e| format!("{key_origin}: {e}"))?
        };
        if ours.as_bytes() != public.spki_der() {
            return Err(format!(
                "{certificate_origin} is not the certificate of {key_origin}: its key is another"
            ));
        }
        Ok(Signer {
            key: rsa::pkcs1v15::SigningKey::<Sha256>::new(private),
            certificate,
        })
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}

/// The Authenticode SHA-256 digest of a PE image (a signed one's too: its signature is left out).
pub fn image_digest(image: &[u8]) -> Result<[u8; 32], String> {
    let pe = goblin::pe::PE::parse(image).map_err(|e| format!("not a PE image: {e}"))?;
    let mut hasher = Sha256::new();
    for range in pe.authenticode_ranges() {
        hasher.update(range);
    }
    Ok(hasher.finalize().into())
}

/// The file offset of the PE's optional header, and whether it is PE32+.
fn optional_header(image: &[u8]) -> Result<(usize, bool), String> {
    let pe = image
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
        .ok_or("not a PE image: too short")?;
    let optional = pe + 24;
    let magic = image
        .get(optional..optional + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or("not a PE image: its optional header is cut")?;
    Ok((optional, magic == 0x20b))
}

/// The offsets of the checksum and the certificate table's directory entry.
fn header_fields(image: &[u8]) -> Result<(usize, usize), String> {
    let (optional, plus) = optional_header(image)?;
    let directories = optional + if plus { 112 } else { 96 };
    let certificate_entry = directories + 4 * 8;
    if certificate_entry + 8 > image.len() {
        return Err("not a PE image: its data directories are cut".into());
    }
    Ok((optional + 64, certificate_entry))
}

/// The PE checksum (as `CheckSumMappedFile` computes it): a 16-bit one's-complement sum of
/// the file's words, the checksum field taken as zero, plus the file's length.
fn pe_checksum(image: &[u8], checksum_at: usize) -> u32 {
    let mut sum: u64 = 0;
    for (i, pair) in image.chunks(2).enumerate() {
        let at = i * 2;
        if at == checksum_at || at == checksum_at + 2 {
            continue;
        }
        let word = u64::from(pair[0]) | u64::from(*pair.get(1).unwrap_or(&0)) << 8;
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    (sum as u32).wrapping_add(image.len() as u32)
}

/// The image signed: padded to 8 bytes, the SignedData appended in a WIN_CERTIFICATE, the
/// certificate table entry naming it, the checksum recomputed.
pub fn sign(image: &[u8], signer: &Signer) -> Result<Vec<u8>, String> {
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    let (checksum_at, certificate_entry) = header_fields(image)?;
    if image[certificate_entry..certificate_entry + 8] != [0; 8] {
        return Err("the image is signed already".into());
    }
    let mut signed = image.to_vec();
    signed.resize(signed.len().next_multiple_of(8), 0);
    let digest = image_digest(&signed)?;

    let content = SpcIndirectDataContent {
        data: SpcAttributeTypeAndOptionalValue {
            value_type: SPC_PE_IMAGE_DATA,
            value: Any::from_der(&PE_IMAGE_DATA).map_err(der_error("SpcPeImageData"))?,
        },
        message_digest: DigestInfo {
            digest_algorithm: sha256_algorithm(),
            digest: OctetString::new(digest.to_vec()).map_err(der_error("the digest"))?,
        },
    };
    let content = Any::encode_from(&content).map_err(der_error("SpcIndirectDataContent"))?;
    // Authenticode's one departure from CMS: the message digest covers the content's value,
    // without its SEQUENCE tag and length.
    let message_digest = Sha256::digest(content.value());
    let attribute = |oid, value: Any| -> Result<x509_cert::attr::Attribute, String> {
        Ok(x509_cert::attr::Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).map_err(der_error("an attribute"))?,
        })
    };
    let signed_attributes: SetOfVec<x509_cert::attr::Attribute> = SetOfVec::try_from(vec![
        attribute(
            CONTENT_TYPE,
            Any::encode_from(&SPC_INDIRECT_DATA).map_err(der_error("contentType"))?,
        )?,
        attribute(
            MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest.to_vec()).map_err(der_error("messageDigest"))?)
                .map_err(der_error("messageDigest"))?,
        )?,
    ])
    .map_err(der_error("the signed attributes"))?;
    // Signed as a SET OF, stored as [0] IMPLICIT (RFC 5652 §5.4).
    let to_sign = signed_attributes.to_der().map_err(der_error("the signed attributes"))?;
    let signature: rsa::pkcs1v15::Signature = signer
        .key
        .try_sign(&to_sign)
        .map_err(|e| format!("the RSA signature failed: {e}"))?;

    let x509 = signer.certificate.x509();
    let signer_info = cms::signed_data::SignerInfo {
        version: cms::content_info::CmsVersion::V1,
        sid: cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
            issuer: x509.tbs_certificate().issuer().clone(),
            serial_number: x509.tbs_certificate().serial_number().clone(),
        }),
        digest_alg: sha256_algorithm(),
        signed_attrs: Some(signed_attributes),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature.to_vec()).map_err(der_error("the signature"))?,
        unsigned_attrs: None,
    };
    let signed_data = cms::signed_data::SignedData {
        version: cms::content_info::CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_algorithm()]).map_err(der_error("digestAlgorithms"))?,
        encap_content_info: cms::signed_data::EncapsulatedContentInfo {
            econtent_type: SPC_INDIRECT_DATA,
            econtent: Some(content),
        },
        certificates: Some(
            cms::signed_data::CertificateSet::try_from(vec![cms::cert::CertificateChoices::Certificate(x509.clone())])
                .map_err(der_error("the certificates"))?,
        ),
        crls: None,
        signer_infos: cms::signed_data::SignerInfos::try_from(vec![signer_info])
            .map_err(der_error("the signer infos"))?,
    };
    let pkcs7 = cms::content_info::ContentInfo {
        content_type: SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(der_error("SignedData"))?,
    }
    .to_der()
    .map_err(der_error("ContentInfo"))?;

    let length = 8 + pkcs7.len();
    let table_at = u32::try_from(signed.len()).map_err(|_| "the image passes 4 GiB")?;
    signed.extend_from_slice(&(length as u32).to_le_bytes());
    signed.extend_from_slice(&WIN_CERT_REVISION_2_0.to_le_bytes());
    signed.extend_from_slice(&WIN_CERT_TYPE_PKCS_SIGNED_DATA.to_le_bytes());
    signed.extend_from_slice(&pkcs7);
    signed.resize(signed.len().next_multiple_of(8), 0);
    let table_size = signed.len() as u32 - table_at;
    signed[certificate_entry..certificate_entry + 4].copy_from_slice(&table_at.to_le_bytes());
    signed[certificate_entry + 4..certificate_entry + 8].copy_from_slice(&table_size.to_le_bytes());
    signed[checksum_at..checksum_at + 4].copy_from_slice(&[0; 4]);
    let checksum = pe_checksum(&signed, checksum_at);
    signed[checksum_at..checksum_at + 4].copy_from_slice(&checksum.to_le_bytes());
    Ok(signed)
}

/// What a verified Authenticode signature established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// `sha256:…` of the image's Authenticode digest.
    pub authenticode_digest: String,
    /// The subject of the certificate that signed.
    pub signer: String,
}

/// Checks `image`'s Authenticode signature: its digest is the image's, its signature verifies
/// with the certificate it names, and that certificate is one of `trusted` (a db entry) or
/// issued by one, as UEFI firmware judges it (validity dates aside: firmware has no trusted
/// clock).
pub fn verify(image: &[u8], trusted: &[Certificate]) -> Result<Verified, String> {
    let (_, certificate_entry) = header_fields(image)?;
    let entry = &image[certificate_entry..certificate_entry + 8];
    let (at, size) = (
        u32::from_le_bytes(entry[..4].try_into().expect("4 bytes")) as usize,
        u32::from_le_bytes(entry[4..].try_into().expect("4 bytes")) as usize,
    );
    if size == 0 {
        return Err("the image is not signed (no certificate table)".into());
    }
    let table = at
        .checked_add(size)
        .and_then(|end| image.get(at..end))
        .ok_or("the certificate table runs past the image's end")?;
    if table.len() < 8 {
        return Err("the certificate table is cut".into());
    }
    let length = u32::from_le_bytes(table[..4].try_into().expect("4 bytes")) as usize;
    let kind = u16::from_le_bytes([table[6], table[7]]);
    if kind != WIN_CERT_TYPE_PKCS_SIGNED_DATA || length < 8 || length > table.len() {
        return Err("the certificate table's first entry is not a PKCS#7 signature".into());
    }
    let content_info = cms::content_info::ContentInfo::from_der(&table[8..length])
        .map_err(der_error("the signature is not PKCS#7"))?;
    if content_info.content_type != SIGNED_DATA {
        return Err("the signature is not a PKCS#7 SignedData".into());
    }
    let signed_data: cms::signed_data::SignedData =
        content_info.content.decode_as().map_err(der_error("the SignedData"))?;
    if signed_data.encap_content_info.econtent_type != SPC_INDIRECT_DATA {
        return Err("the signed content is not Authenticode's SpcIndirectDataContent".into());
    }
    let content = signed_data
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("the SignedData holds no content")?;
    let indirect: SpcIndirectDataContent = content.decode_as().map_err(der_error("SpcIndirectDataContent"))?;
    if indirect.message_digest.digest_algorithm.oid != SHA256 {
        return Err("the image digest is not SHA-256".into());
    }
    let digest = image_digest(image)?;
    if indirect.message_digest.digest.as_bytes() != digest {
        return Err(
            "the image's Authenticode digest is not the one signed: the image was changed after signing".into(),
        );
    }
    let [signer_info] = signed_data.signer_infos.0.as_slice() else {
        return Err("the signature does not have exactly one signer".into());
    };
    let attributes = signer_info
        .signed_attrs
        .as_ref()
        .ok_or("the signature has no signed attributes")?;
    let message_digest = attributes
        .iter()
        .find(|a| a.oid == MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("the signature names no message digest")?;
    if message_digest.as_bytes() != Sha256::digest(content.value()).as_slice() {
        return Err("the signed message digest is not the content's".into());
    }
    let cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(sid) = &signer_info.sid else {
        return Err("the signer is not named by issuer and serial number".into());
    };
    let certificates: Vec<Certificate> = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
            _ => None,
        })
        .map(|der| certificates::from_der(&der, "the signature's certificates"))
        .collect::<Result<_, _>>()?;
    let leaf = certificates
        .iter()
        .find(|c| {
            let tbs = c.x509().tbs_certificate();
            tbs.issuer() == &sid.issuer && tbs.serial_number() == &sid.serial_number
        })
        .ok_or("the signature does not carry its signer's certificate")?;
    let signed = attributes.to_der().map_err(der_error("the signed attributes"))?;
    if !leaf.public_key()?.verify(&signed, signer_info.signature.as_bytes()) {
        return Err("the RSA signature does not verify with its certificate".into());
    }
    let issued_by_trusted = || {
        let not_before = leaf
            .x509()
            .tbs_certificate()
            .validity()
            .not_before
            .to_unix_duration()
            .as_secs();
        leaf.verify_path(&certificates, trusted, not_before + 1).is_ok()
    };
    if !(trusted.contains(leaf) || issued_by_trusted()) {
        return Err(format!(
            "signed by {}, which is not a trusted db certificate nor issued by one",
            leaf.subject()
        ));
    }
    Ok(Verified {
        authenticode_digest: format!("sha256:{}", hex::encode(digest)),
        signer: leaf.subject(),
    })
}
