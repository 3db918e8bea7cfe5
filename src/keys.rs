//! Signing keys: generated, written and loaded in the formats other tools read, and never shown.
//!
//! sealkit signs with Ed25519 or ECDSA P-256 (SHA-256). Private keys are read from PKCS#8 PEM
//! (`openssl genpkey`), SEC1 PEM (`openssl ecparam -genkey`), encrypted PKCS#8 (`openssl genpkey
//! -aes256`), and cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt and NaCl
//! secretbox, through the `sigstore` crate); public keys from SPKI PEM (`PUBLIC KEY`). Ed25519
//! keys are written as PKCS#8 v1: the v2 form ed25519-dalek writes by default is refused by
//! OpenSSL 3.0 and Node 20.
//!
//! Secret bytes live in zeroizing buffers and in key types that wipe themselves on drop; no error
//! message and no `Debug` output holds any of them.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use pkcs8::der::Decode as _;
use pkcs8::der::pem::LineEnding;
use pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

crate::error_codes! {
    KeyUnreadable = "key-unreadable": "A key or password file could not be read, or a key file could not be written.",
    KeyFormat = "key-format": "A file is not a key in a format sealkit reads (PKCS#8, SEC1 or SPKI PEM; cosign's encrypted key), or is the wrong half of a pair.",
    KeyType = "key-type": "The key is of a type sealkit does not sign or verify with (it uses Ed25519 and ECDSA P-256).",
    KeyPassword = "key-password": "An encrypted key's password is missing or wrong, or a new key's password is empty.",
    KeyExists = "key-exists": "keygen would overwrite an existing key file.",
}

/// The largest key or password file read: real ones are well under a kilobyte.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The environment variable holding the password of an encrypted key.
pub const PASSWORD_ENV: &str = "SEALKIT_PASSWORD";

const ED25519_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.3.101.112");
const EC_PUBLIC_KEY_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.3.132.0.34");
const RSA_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// The smallest RSA modulus taken: NIST and Sigstore refuse smaller ones.
const RSA_MIN_BITS: usize = 2048;

const COSIGN_LABELS: [&str; 2] = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"];

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}\n  hint: {hint}")]
pub struct KeyError {
    pub code: Code,
    /// The file (or the source) the key came from.
    pub origin: String,
    pub message: String,
    pub hint: String,
}

impl KeyError {
    fn new(code: Code, origin: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        KeyError {
            code,
            origin: origin.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn code(&self) -> Code {
        self.code
    }
}

/// The signature schemes sealkit signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Serialize)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032)
    #[value(name = "ed25519")]
    #[serde(rename = "ed25519")]
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256, ASN.1 DER signatures (cosign's default)
    #[value(name = "ecdsa-p256")]
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
        })
    }
}

/// A password for an encrypted key, wiped from memory when dropped.
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    pub fn new(bytes: Vec<u8>) -> Self {
        Password(Zeroizing::new(bytes))
    }

    /// The password from `file` (its first line) or else from $SEALKIT_PASSWORD; `None` when
    /// neither is given. The file wins: a flag is more deliberate than an inherited variable.
    pub fn from_file_or_env(file: Option<&Path>) -> Result<Option<Password>, KeyError> {
        if let Some(path) = file {
            let bytes = read_bounded(path)?;
            let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
            let line = bytes[..end].strip_suffix(b"\r").unwrap_or(&bytes[..end]);
            return Ok(Some(Password::new(line.to_vec())));
        }
        Ok(std::env::var_os(PASSWORD_ENV).map(|v| Password::new(v.into_encoded_bytes())))
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

/// A private key. Its bytes are wiped when it is dropped.
pub struct SigningKey {
    secret: Secret,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({} {})", self.public.algorithm(), self.public.key_id())
    }
}

impl SigningKey {
    /// A new key from the operating system's random source.
    pub fn generate(algorithm: Algorithm) -> Result<SigningKey, KeyError> {
        let random = || -> Result<Zeroizing<[u8; 32]>, KeyError> {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut()).map_err(|e| {
                KeyError::new(
                    Code::KeyUnreadable,
                    "the system's random source",
                    e.to_string(),
                    "generate the key on a machine whose kernel provides getrandom(2)",
                )
            })?;
            Ok(bytes)
        };
        let secret = match algorithm {
            Algorithm::Ed25519 => Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&*random()?)),
            // A scalar of 0 or ≥ n is refused; such 32 random bytes come once in 2^32 draws.
            Algorithm::EcdsaP256 => loop {
                if let Ok(key) = p256::ecdsa::SigningKey::from_slice(random()?.as_ref()) {
                    break Secret::P256(key);
                }
            },
        };
        Ok(SigningKey::from_secret(secret))
    }

    fn from_secret(secret: Secret) -> SigningKey {
        let public = match &secret {
            Secret::Ed25519(k) => PublicKey::new(Public::Ed25519(k.verifying_key())),
            Secret::P256(k) => PublicKey::new(Public::P256(*k.verifying_key())),
        };
        SigningKey { secret, public }
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.secret {
            Secret::Ed25519(_) => Algorithm::Ed25519,
            Secret::P256(_) => Algorithm::EcdsaP256,
        }
    }

    /// Signs `message`: 64 raw bytes for Ed25519, an ASN.1 DER signature for ECDSA, as Sigstore
    /// and DSSE tools expect. Both are deterministic (RFC 8032, RFC 6979), so the same key and
    /// message give the same bytes and attestations are reproducible.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use signature::Signer as _;
        match &self.secret {
            Secret::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            Secret::P256(k) => {
                let signature: p256::ecdsa::Signature = k.sign(message);
                signature.to_der().to_bytes().to_vec()
            }
        }
    }

    /// The unencrypted PKCS#8 DER (v1 for Ed25519: no public key inside).
    fn to_pkcs8_der(&self) -> Result<pkcs8::SecretDocument, pkcs8::Error> {
        match &self.secret {
            Secret::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_der(),
            Secret::P256(k) => k.to_pkcs8_der(),
        }
    }

    /// The key as PEM: `PRIVATE KEY` (PKCS#8), or cosign's `ENCRYPTED SIGSTORE PRIVATE KEY`
    /// when a password is given.
    pub fn to_pem(&self, password: Option<&Password>) -> Result<Zeroizing<String>, KeyError> {
        let internal = |e: &dyn fmt::Display| {
            KeyError::new(
                Code::KeyFormat,
                "the new key",
                format!("could not be encoded: {e}"),
                "this is a bug in sealkit; please report it",
            )
        };
        let der = self.to_pkcs8_der().map_err(|e| internal(&e))?;
        match password {
            None => der.to_pem("PRIVATE KEY", LineEnding::LF).map_err(|e| internal(&e)),
            Some(password) => {
                let sealed = sigstore::crypto::signing_key::kdf::encrypt(der.as_bytes(), password.bytes())
                    .map_err(|e| internal(&e))?;
                pkcs8::der::pem::encode_string(COSIGN_LABELS[0], LineEnding::LF, &sealed)
                    .map(Zeroizing::new)
                    .map_err(|e| internal(&e))
            }
        }
    }

    /// Reads a private key file; `password` opens an encrypted one and is ignored otherwise.
    pub fn load(path: &Path, password: Option<&Password>) -> Result<SigningKey, KeyError> {
        let text = Zeroizing::new(read_bounded(path)?);
        SigningKey::from_pem(&text, password, &path.display().to_string())
    }

    /// Parses a private key in any of the formats of the module's documentation; `origin` names
    /// it in errors.
    pub fn from_pem(text: &[u8], password: Option<&Password>, origin: &str) -> Result<SigningKey, KeyError> {
        let (label, der) = decode_pem(text, origin)?;
        let der = Zeroizing::new(der);
        let need_password = || {
            KeyError::new(
                Code::KeyPassword,
                origin,
                "the key is encrypted and no password was given",
                format!("set {PASSWORD_ENV} or pass --password-file FILE"),
            )
        };
        let wrong_password = || {
            KeyError::new(
                Code::KeyPassword,
                origin,
                "the password does not open this key",
                format!("check {PASSWORD_ENV} or the --password-file"),
            )
        };
        match label.as_str() {
            "PRIVATE KEY" => from_pkcs8(&der, origin),
            "EC PRIVATE KEY" => {
                let key = p256::SecretKey::from_sec1_der(&der).map_err(|_| {
                    KeyError::new(
                        Code::KeyType,
                        origin,
                        "is an EC key that is not on the P-256 curve, or is malformed",
                        "sealkit signs with ECDSA P-256 or Ed25519: `sealkit keygen` makes one",
                    )
                })?;
                Ok(SigningKey::from_secret(Secret::P256(key.into())))
            }
            "ENCRYPTED PRIVATE KEY" => {
                let password = password.ok_or_else(need_password)?;
                let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(&der).map_err(|e| malformed(origin, &e))?;
                let plain = info.decrypt(password.bytes()).map_err(|_| wrong_password())?;
                from_pkcs8(plain.as_bytes(), origin)
            }
            l if COSIGN_LABELS.contains(&l) => {
                let password = password.ok_or_else(need_password)?;
                check_cosign_envelope(&der, origin)?;
                let plain = Zeroizing::new(
                    sigstore::crypto::signing_key::kdf::decrypt(&der, password.bytes())
                        .map_err(|_| wrong_password())?,
                );
                from_pkcs8(&plain, origin)
            }
            "PUBLIC KEY" => Err(KeyError::new(
                Code::KeyFormat,
                origin,
                "is a public key; signing needs the private half",
                "pass the NAME.key that `sealkit keygen` wrote beside NAME.pub",
            )),
            "RSA PRIVATE KEY" => Err(unsupported_type(origin, "RSA")),
            other => Err(KeyError::new(
                Code::KeyFormat,
                origin,
                format!("is a PEM `{other}`, not a private key sealkit reads"),
                "use a PKCS#8 `PRIVATE KEY`, an EC `EC PRIVATE KEY`, an `ENCRYPTED PRIVATE KEY` or a cosign key",
            )),
        }
    }
}

fn malformed(origin: &str, e: &dyn fmt::Display) -> KeyError {
    KeyError::new(
        Code::KeyFormat,
        origin,
        format!("the key's contents are malformed ({e})"),
        "regenerate the key, or convert it with `openssl pkey`",
    )
}

fn unsupported_type(origin: &str, what: &str) -> KeyError {
    KeyError::new(
        Code::KeyType,
        origin,
        format!(
            "is an {what} key; sealkit signs with Ed25519 and ECDSA P-256, and verifies those, ECDSA P-384 and RSA"
        ),
        "make a key with `sealkit keygen --algorithm ed25519|ecdsa-p256`",
    )
}

/// Which of sealkit's algorithms an algorithm identifier names.
fn algorithm_of(algorithm: &pkcs8::AlgorithmIdentifierRef, origin: &str) -> Result<Algorithm, KeyError> {
    let oid = algorithm.oid;
    if oid == ED25519_OID {
        Ok(Algorithm::Ed25519)
    } else if oid == EC_PUBLIC_KEY_OID {
        match algorithm.parameters_oid() {
            Ok(curve) if curve == P256_OID => Ok(Algorithm::EcdsaP256),
            Ok(curve) => Err(unsupported_type(origin, &format!("ECDSA (curve {curve})"))),
            Err(e) => Err(malformed(origin, &e)),
        }
    } else if oid == RSA_OID {
        Err(unsupported_type(origin, "RSA"))
    } else {
        Err(unsupported_type(origin, &format!("unknown ({oid})")))
    }
}

fn from_pkcs8(der: &[u8], origin: &str) -> Result<SigningKey, KeyError> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| malformed(origin, &e))?;
    let secret = match algorithm_of(&info.algorithm, origin)? {
        Algorithm::Ed25519 => {
            Secret::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|e| malformed(origin, &e))?)
        }
        Algorithm::EcdsaP256 => {
            Secret::P256(p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|e| malformed(origin, &e))?)
        }
    };
    Ok(SigningKey::from_secret(secret))
}

/// Checks a cosign key's JSON before the `sigstore` crate decrypts it: that crate panics on a
/// nonce of the wrong length, and its errors do not tell a malformed file from a wrong password.
fn check_cosign_envelope(json: &[u8], origin: &str) -> Result<(), KeyError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        kdf: Kdf,
        cipher: Cipher,
        ciphertext: String,
    }
    #[derive(serde::Deserialize)]
    struct Kdf {
        name: String,
        params: Params,
        salt: String,
    }
    #[derive(serde::Deserialize)]
    #[allow(non_snake_case)]
    struct Params {
        N: u32,
        r: u32,
        p: u32,
    }
    #[derive(serde::Deserialize)]
    struct Cipher {
        name: String,
        nonce: String,
    }
    let bad = |why: String| {
        KeyError::new(
            Code::KeyFormat,
            origin,
            format!("is not a valid cosign/sigstore encrypted key: {why}"),
            "regenerate it with `sealkit keygen` or `cosign generate-key-pair`",
        )
    };
    let e: Envelope = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    if e.kdf.name != "scrypt" || e.cipher.name != "nacl/secretbox" {
        return Err(bad(format!(
            "it uses {} and {}, not scrypt and nacl/secretbox",
            e.kdf.name, e.cipher.name
        )));
    }
    // sigstore-rs and cosign accept only these: a larger N would let a key file burn memory.
    if !matches!(e.kdf.params.N, 32768 | 65536) || e.kdf.params.r != 8 || e.kdf.params.p != 1 {
        return Err(bad(format!(
            "scrypt parameters N={} r={} p={} (expected N=32768 or 65536, r=8, p=1)",
            e.kdf.params.N, e.kdf.params.r, e.kdf.params.p
        )));
    }
    let nonce = b64.decode(&e.cipher.nonce).map_err(|e| bad(format!("nonce: {e}")))?;
    if nonce.len() != 24 {
        return Err(bad(format!("the nonce is {} bytes, not 24", nonce.len())));
    }
    b64.decode(&e.kdf.salt).map_err(|e| bad(format!("salt: {e}")))?;
    b64.decode(&e.ciphertext).map_err(|e| bad(format!("ciphertext: {e}")))?;
    Ok(())
}

/// The label and contents of the first PEM block of `text` (text before it is ignored, as
/// OpenSSL does).
fn decode_pem(text: &[u8], origin: &str) -> Result<(String, Vec<u8>), KeyError> {
    let start = text.windows(11).position(|w| w == b"-----BEGIN ").ok_or_else(|| {
        KeyError::new(
            Code::KeyFormat,
            origin,
            "is not a PEM file (no -----BEGIN line)",
            "a DER key converts with `openssl pkey -inform DER -in KEY -out KEY.pem`",
        )
    })?;
    let (label, der) = pkcs8::der::pem::decode_vec(&text[start..]).map_err(|e| {
        KeyError::new(
            Code::KeyFormat,
            origin,
            format!("is not valid PEM ({e})"),
            "check the file is complete and unmodified",
        )
    })?;
    Ok((label.to_owned(), der))
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, KeyError> {
    let origin = path.display().to_string();
    let unreadable = |e: std::io::Error| {
        KeyError::new(
            Code::KeyUnreadable,
            &origin,
            format!("cannot be read ({e})"),
            "check the path and its permissions",
        )
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::new(
            Code::KeyFormat,
            &origin,
            format!("is larger than {MAX_KEY_FILE} bytes, which no key is"),
            "pass the key file itself",
        ));
    }
    Ok(bytes)
}

#[derive(Clone, PartialEq, Eq)]
enum Public {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    /// Verified only: images signed by others' P-384 keys (SHA-384, as Sigstore pairs them).
    P384(p384::ecdsa::VerifyingKey),
    /// Verified only: RSA PKCS#1 v1.5 with SHA-256, as cosign and Sigstore sign with RSA keys.
    Rsa(Box<rsa::PublicKey>),
}

/// A hash a signature may be made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    pub fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(bytes).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        }
    }
}

/// A public key, identified as cosign and sigstore-go do: base64(sha256(SPKI DER)).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: Public,
    spki: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} {})", self.algorithm(), self.key_id())
    }
}

impl PublicKey {
    fn new(key: Public) -> PublicKey {
        // Encoding a valid point as SPKI cannot fail: both crates only size a buffer.
        let spki = match &key {
            Public::Ed25519(k) => k.to_public_key_der(),
            Public::P256(k) => k.to_public_key_der(),
            Public::P384(k) => k.to_public_key_der(),
            Public::Rsa(k) => k.to_public_key_der(),
        }
        .map(|d| d.into_vec())
        .unwrap_or_default();
        PublicKey { key, spki }
    }

    /// The scheme the key verifies, as people name it (`ed25519`, `ecdsa-p256`, `ecdsa-p384`,
    /// `rsa-2048`).
    pub fn algorithm(&self) -> String {
        use rsa::traits::PublicKeyParts as _;
        match &self.key {
            Public::Ed25519(_) => Algorithm::Ed25519.to_string(),
            Public::P256(_) => Algorithm::EcdsaP256.to_string(),
            Public::P384(_) => "ecdsa-p384".into(),
            Public::Rsa(k) => format!("rsa-{}", k.size() * 8),
        }
    }

    /// base64(sha256(SPKI DER)): the `publicKey.hint` of a Sigstore bundle and the DSSE keyid.
    pub fn key_id(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&self.spki))
    }

    /// The key's SubjectPublicKeyInfo DER: what a Rekor entry or a certificate records.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key as SPKI PEM (`PUBLIC KEY`), as cosign, OpenSSL and Node write it.
    pub fn to_pem(&self) -> String {
        pkcs8::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.spki).unwrap_or_default()
    }

    /// Whether `signature` is this key's over `message`. Ed25519 is checked strictly (no
    /// malleable or small-order forms); an ECDSA signature may be ASN.1 DER (Sigstore, cosign,
    /// Node) or raw r‖s (the DSSE specification's test vector).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use signature::Verifier as _;
        match &self.key {
            Public::Ed25519(k) => {
                ed25519_dalek::Signature::from_slice(signature).is_ok_and(|s| k.verify_strict(message, &s).is_ok())
            }
            Public::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            Public::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .or_else(|_| p384::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            Public::Rsa(k) => rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|s| {
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone())
                    .verify(message, &s)
                    .is_ok()
            }),
        }
    }

    /// Whether `signature` is this key's over a message of which only the SHA-256 is known
    /// (a Sigstore bundle checked against an artifact's digest). Ed25519 signs the message
    /// itself and P-384 pairs with SHA-384, so neither can be checked from a SHA-256.
    pub fn verify_sha256_prehash(&self, digest: &[u8; 32], signature: &[u8]) -> bool {
        match &self.key {
            Public::P384(_) => false,
            _ => self.verify_prehash(Hash::Sha256, digest, signature),
        }
    }

    /// Whether `signature` is this key's over a message whose `hash` is `digest`, whatever
    /// hash the key usually pairs with (a timestamp authority signs with ECDSA P-384 over
    /// SHA-256). Ed25519 cannot be checked from a digest.
    pub fn verify_prehash(&self, hash: Hash, digest: &[u8], signature: &[u8]) -> bool {
        use signature::hazmat::PrehashVerifier as _;
        if digest.len() != hash.output_len() {
            return false;
        }
        match &self.key {
            Public::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            Public::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .or_else(|_| p384::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            Public::Rsa(k) => rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|s| {
                let key = (**k).clone();
                match hash {
                    Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify_prehash(digest, &s),
                    Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key).verify_prehash(digest, &s),
                    Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key).verify_prehash(digest, &s),
                }
                .is_ok()
            }),
            Public::Ed25519(_) => false,
        }
    }

    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        PublicKey::from_pem(&read_bounded(path)?, &path.display().to_string())
    }

    pub fn from_pem(text: &[u8], origin: &str) -> Result<PublicKey, KeyError> {
        let (label, der) = decode_pem(text, origin)?;
        if label != "PUBLIC KEY" {
            let private = label.contains("PRIVATE KEY");
            return Err(KeyError::new(
                Code::KeyFormat,
                origin,
                if private {
                    format!("is a private key (`{label}`); verifying needs only the public key")
                } else {
                    format!("is a PEM `{label}`, not a `PUBLIC KEY`")
                },
                "pass the NAME.pub that `sealkit keygen` wrote (or `openssl pkey -pubout -in KEY`)",
            ));
        }
        PublicKey::from_spki_der(&der, origin)
    }

    /// An RSA key from its PKCS#1 `RSAPublicKey` DER, as Sigstore's trusted roots hold some CT
    /// log keys (`PKCS1_RSA_PKCS1V5`).
    pub fn from_pkcs1_rsa_der(der: &[u8], origin: &str) -> Result<PublicKey, KeyError> {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        let key = rsa::PublicKey::from_pkcs1_der(der).map_err(|e| malformed(origin, &e))?;
        let spki = PublicKey::new(Public::Rsa(Box::new(key))).spki;
        PublicKey::from_spki_der(&spki, origin)
    }

    /// A key from its SubjectPublicKeyInfo DER, as a PEM `PUBLIC KEY` or a certificate holds it.
    pub fn from_spki_der(der: &[u8], origin: &str) -> Result<PublicKey, KeyError> {
        let info = pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| malformed(origin, &e))?;
        let oid = info.algorithm.oid;
        let curve = (oid == EC_PUBLIC_KEY_OID)
            .then(|| info.algorithm.parameters_oid().map_err(|e| malformed(origin, &e)))
            .transpose()?;
        let key = if oid == RSA_OID {
            use rsa::traits::PublicKeyParts as _;
            let key = rsa::PublicKey::from_public_key_der(der).map_err(|e| malformed(origin, &e))?;
            if key.size() * 8 < RSA_MIN_BITS {
                return Err(KeyError::new(
                    Code::KeyType,
                    origin,
                    format!(
                        "is an RSA key of {} bits, fewer than the {RSA_MIN_BITS} taken",
                        key.size() * 8
                    ),
                    "sign with a stronger key (sealkit keygen)",
                ));
            }
            Public::Rsa(Box::new(key))
        } else if curve == Some(P384_OID) {
            Public::P384(p384::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| malformed(origin, &e))?)
        } else {
            match algorithm_of(&info.algorithm, origin)? {
                Algorithm::Ed25519 => Public::Ed25519(
                    ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|e| malformed(origin, &e))?,
                ),
                Algorithm::EcdsaP256 => Public::P256(
                    p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| malformed(origin, &e))?,
                ),
            }
        };
        Ok(PublicKey::new(key))
    }
}

/// Writes `key` as `PREFIX.key` (mode 0600; encrypted with `password` if given) and its public
/// half as `PREFIX.pub`. Neither file may exist already: a key is never overwritten.
pub fn write_pair(
    prefix: &Path,
    key: &SigningKey,
    password: Option<&Password>,
) -> Result<(PathBuf, PathBuf), KeyError> {
    if password.is_some_and(|p| p.bytes().is_empty()) {
        return Err(KeyError::new(
            Code::KeyPassword,
            &prefix.display().to_string(),
            "the password is empty, which protects nothing",
            format!("set a password in {PASSWORD_ENV} or --password-file, or neither for an unencrypted key"),
        ));
    }
    let with = |ext: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let (private, public) = (with(".key"), with(".pub"));
    for path in [&private, &public] {
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::new(
                Code::KeyExists,
                &path.display().to_string(),
                "exists already; sealkit never overwrites a key",
                "choose another name (-o DIR/NAME) or move the old pair away",
            ));
        }
    }
    let pem = key.to_pem(password)?;
    write_new(&private, pem.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public, key.public_key().to_pem().as_bytes(), 0o644) {
        let _ = std::fs::remove_file(&private);
        return Err(e);
    }
    Ok((private, public))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let failed = |e: std::io::Error| {
        KeyError::new(
            Code::KeyUnreadable,
            &path.display().to_string(),
            format!("cannot be written ({e})"),
            "choose a folder you can write to",
        )
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    // create_new: a file that appeared since the check is not overwritten; the mode is set at
    // creation so the private key is never readable by others, whatever the umask.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(failed)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| {
        let _ = std::fs::remove_file(path);
        failed(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_keys_are_written_as_pkcs8_v1() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let pem = key.to_pem(None).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(body.starts_with("MC4CAQAwBQYDK2VwBCIEI"), "{body}");
        let back = SigningKey::from_pem(pem.as_bytes(), None, "test").unwrap();
        assert_eq!(back.public_key(), key.public_key());
    }

    #[test]
    fn encrypted_keys_round_trip_and_refuse_wrong_or_missing_passwords() {
        for algorithm in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let key = SigningKey::generate(algorithm).unwrap();
            let pem = key.to_pem(Some(&Password::new(b"right".to_vec()))).unwrap();
            assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
            let back = SigningKey::from_pem(pem.as_bytes(), Some(&Password::new(b"right".to_vec())), "k").unwrap();
            assert_eq!(back.public_key(), key.public_key());
            let wrong = SigningKey::from_pem(pem.as_bytes(), Some(&Password::new(b"wrong".to_vec())), "k");
            assert_eq!(wrong.unwrap_err().code, Code::KeyPassword);
            assert_eq!(
                SigningKey::from_pem(pem.as_bytes(), None, "k").unwrap_err().code,
                Code::KeyPassword
            );
        }
    }

    #[test]
    fn a_cosign_key_with_a_short_nonce_is_an_error_not_a_panic() {
        let json = br#"{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"AAAA"},
                        "cipher":{"name":"nacl/secretbox","nonce":"AAAA"},"ciphertext":"AAAA"}"#;
        let pem = pkcs8::der::pem::encode_string(COSIGN_LABELS[0], LineEnding::LF, json).unwrap();
        let e = SigningKey::from_pem(pem.as_bytes(), Some(&Password::new(b"x".to_vec())), "k").unwrap_err();
        assert_eq!(e.code, Code::KeyFormat);
        assert!(e.message.contains("nonce is 3 bytes"), "{e}");
    }

    #[test]
    fn key_ids_are_base64_of_the_spki_digest() {
        // `openssl pkey -pubout` of the RFC 8032 test 1 key; its id computed with
        // `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64`.
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
        let key = PublicKey::from_pem(pem.as_bytes(), "rfc8032").unwrap();
        assert_eq!(key.algorithm(), "ed25519");
        assert_eq!(key.to_pem(), pem);
        assert_eq!(key.key_id(), "BuP9j9opu2CrWVV95h7bCuzbIxE0vjDnW0Vfjht5L6k=");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let pem = key.to_pem(None).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let shown = format!("{key:?} {:?}", Password::new(b"hunter2".to_vec()));
        assert!(!shown.contains(&body[20..]) && !shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn the_wrong_half_or_type_is_named() {
        let key = SigningKey::generate(Algorithm::EcdsaP256).unwrap();
        let public = key.public_key().to_pem();
        assert_eq!(
            SigningKey::from_pem(public.as_bytes(), None, "p").unwrap_err().code,
            Code::KeyFormat
        );
        let private = key.to_pem(None).unwrap();
        let e = PublicKey::from_pem(private.as_bytes(), "k").unwrap_err();
        assert!(e.message.contains("is a private key"), "{e}");
        assert_eq!(
            SigningKey::from_pem(b"not a key", None, "x").unwrap_err().code,
            Code::KeyFormat
        );
    }

    /// Keys and signatures made by OpenSSL, which no one here wrote: P-384 (SHA-384) and RSA
    /// PKCS#1 v1.5 (SHA-256) verify, as Sigstore pairs them; the wrong message, a flipped byte,
    /// and an RSA key under 2048 bits do not.
    #[test]
    fn p384_and_rsa_signatures_made_by_openssl_verify() {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output();
            match out {
                Ok(out) if out.status.success() => true,
                Ok(out) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)),
                Err(_) => {
                    assert!(std::env::var_os("CI").is_none(), "CI has openssl");
                    false
                }
            }
        };
        std::fs::write(dir.path().join("message"), b"a payload").unwrap();
        for (name, genkey, digest, algorithm) in [
            (
                "p384",
                &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"][..],
                "-sha384",
                "ecdsa-p384",
            ),
            (
                "rsa",
                &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
                "-sha256",
                "rsa-2048",
            ),
        ] {
            let key = format!("{name}.key");
            if !openssl(&[genkey, &["-out", &key]].concat()) {
                return;
            }
            openssl(&["pkey", "-in", &key, "-pubout", "-out", &format!("{name}.pub")]);
            openssl(&["dgst", digest, "-sign", &key, "-out", &format!("{name}.sig"), "message"]);
            let public = PublicKey::load(&dir.path().join(format!("{name}.pub"))).unwrap();
            assert_eq!(public.algorithm(), algorithm);
            let mut signature = std::fs::read(dir.path().join(format!("{name}.sig"))).unwrap();
            assert!(public.verify(b"a payload", &signature), "{name}");
            assert!(!public.verify(b"another payload", &signature), "{name}");
            let last = signature.len() - 1;
            signature[last] ^= 1;
            assert!(!public.verify(b"a payload", &signature), "{name}");
            // The key round-trips, and signing with it is still refused: sealkit verifies these.
            assert_eq!(PublicKey::from_pem(public.to_pem().as_bytes(), name).unwrap(), public);
            let private = SigningKey::load(&dir.path().join(&key), None).unwrap_err();
            assert_eq!(private.code(), Code::KeyType, "{name}");
        }
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "weak.key",
        ]);
        openssl(&["pkey", "-in", "weak.key", "-pubout", "-out", "weak.pub"]);
        let weak = PublicKey::load(&dir.path().join("weak.pub")).unwrap_err();
        assert_eq!(weak.code(), Code::KeyType);
        assert!(weak.to_string().contains("1024 bits"), "{weak}");
    }
}
