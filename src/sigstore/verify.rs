//! Verifying a Sigstore bundle (v0.1, v0.2, v0.3) offline against a trusted root: the signing
//! certificate's chain to a Fulcio CA valid when the log integrated the signature, the
//! identity and issuer it names, the transparency-log entries (promise, inclusion proof,
//! checkpoint, and a body recording exactly this signature), and the signature over the
//! artifact (a message signature) or its in-toto subject (a DSSE envelope). Or, with a key
//! given instead of an identity, the same without the certificate; or with an organisation's
//! own CA instead of Fulcio.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::tlog::{Entry, Logged};
use super::trusted_root::TrustedRoot;
use crate::certificates::{self, Certificate};
use crate::dsse::Envelope;
use crate::keys::PublicKey;

const V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
const V02: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
const V03: [&str; 2] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];
/// The most log entries read from one bundle.
const MAX_ENTRIES: usize = 16;

/// Who must have signed.
pub enum Signer<'a> {
    /// A key handed over out of band.
    Key(&'a PublicKey),
    /// A Fulcio certificate naming this identity (a SAN: e-mail or URI) and OIDC issuer.
    Identity { identity: &'a Identity, issuer: &'a str },
    /// A certificate an organisation's own CA issued (cosign's `--ca-roots` and
    /// `--ca-intermediates`, containers/image's `pki`): it chains to one of `roots` through
    /// `intermediates` or the bundle's own chain, is valid whenever the log or a timestamp says
    /// it signed (at `now` when nothing says), and names `email` and `hostname` when given.
    /// No SCT: such a CA logs to no CT log.
    Issued {
        roots: &'a [Certificate],
        intermediates: &'a [Certificate],
        email: Option<&'a str>,
        hostname: Option<&'a str>,
    },
}

/// Whether the transparency log must vouch for the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tlog {
    Required,
    /// The log entries are not read at all (cosign's `--insecure-ignore-tlog`, and what
    /// containers/image does for a policy naming no Rekor key).
    Ignored,
}

/// The identity a certificate must name: exactly, or matching a regular expression (cosign's
/// `--certificate-identity-regexp`, anchored as Go's `regexp.MatchString` is not: the whole
/// name must match).
pub enum Identity {
    Exact(String),
    Pattern(regex::Regex),
}

impl Identity {
    /// A pattern that must match a whole name.
    pub fn pattern(text: &str) -> Result<Identity, String> {
        regex::Regex::new(&format!("^(?:{text})$"))
            .map(Identity::Pattern)
            .map_err(|e| format!("{text:?} is not a regular expression: {e}"))
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Identity::Exact(exact) => exact == name,
            Identity::Pattern(pattern) => pattern.is_match(name),
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Exact(exact) => f.write_str(exact),
            Identity::Pattern(pattern) => write!(f, "/{}/", pattern.as_str()),
        }
    }
}

/// What was signed: the artifact's bytes, or only its SHA-256.
pub enum Artifact<'a> {
    Bytes(&'a [u8]),
    Sha256([u8; 32]),
    /// A DSSE envelope's in-toto statement whose subjects the caller checks against its own
    /// files (`sealkit verify`, where one statement names several). A message signature has
    /// nothing to be checked against here, and is refused.
    Subjects,
}

impl Artifact<'_> {
    fn sha256(&self) -> Option<[u8; 32]> {
        match self {
            Artifact::Bytes(b) => Some(Sha256::digest(b).into()),
            Artifact::Sha256(d) => Some(*d),
            Artifact::Subjects => None,
        }
    }
}

/// What a verification established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    pub media_type: String,
    /// The certificate's SAN and OIDC issuer, for a keyless signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The id of the key that verified (the certificate's, for a keyless signature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// When the signature was made, as the log attests it (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<i64>,
    pub log_entries: Vec<Logged>,
    /// The RFC 3161 timestamps that verified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<super::timestamp::Timestamped>,
    /// The signing certificate, once it verified.
    #[serde(skip)]
    pub certificate: Option<Certificate>,
}

enum Material {
    Key,
    Chain(Vec<Certificate>),
}

enum Content {
    Message {
        digest: Option<Vec<u8>>,
        signature: Vec<u8>,
    },
    Dsse(Envelope),
}

/// Bytes as protocol buffers' JSON writes them: standard or URL-safe base64, padded or not,
/// line breaks ignored (as Go's decoder, which most Sigstore bundles pass through, does).
fn b64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    STANDARD
        .decode(&text)
        .or_else(|e| {
            [STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(&text).ok())
                .ok_or(e)
        })
        .map_err(|e| format!("{what} is not base64 ({e})"))
}

/// Verifies `bundle` (its JSON) over `artifact` for `signer` under `root`, at `now` (seconds):
/// what was established, or why it does not verify.
pub fn verify(
    bundle: &[u8],
    artifact: &Artifact,
    signer: &Signer,
    root: &TrustedRoot,
    now: i64,
    tlog: Tlog,
) -> Result<Verified, String> {
    let v: serde_json::Value = serde_json::from_slice(bundle).map_err(|e| format!("not a Sigstore bundle: {e}"))?;
    let media_type = v["mediaType"].as_str().unwrap_or_default().to_owned();
    let version = match media_type.as_str() {
        V01 => 1,
        V02 => 2,
        t if V03.contains(&t) => 3,
        other => {
            return Err(format!(
                "mediaType {other:?} is not a Sigstore bundle version sealkit reads"
            ));
        }
    };
    let material_json = &v["verificationMaterial"];
    let material = if material_json.get("publicKey").is_some() {
        Material::Key
    } else if let Some(raw) = material_json["certificate"]["rawBytes"].as_str() {
        Material::Chain(vec![certificates::from_der(
            &b64(raw, "the certificate")?,
            "the bundle's certificate",
        )?])
    } else if let Some(chain) = material_json["x509CertificateChain"]["certificates"].as_array() {
        if version == 3 {
            return Err("a v0.3 bundle holds one certificate, not a chain".into());
        }
        if chain.is_empty() || chain.len() > 8 {
            return Err(format!("a certificate chain of {} certificates", chain.len()));
        }
        let chain: Vec<Certificate> = chain
            .iter()
            .map(|c| {
                certificates::from_der(
                    &b64(c["rawBytes"].as_str().unwrap_or_default(), "a certificate")?,
                    "the bundle's chain",
                )
            })
            .collect::<Result<_, _>>()?;
        if chain.iter().any(Certificate::is_self_issued) {
            return Err(
                "the bundle's certificate chain holds a root certificate: only the trusted root may supply one".into(),
            );
        }
        Material::Chain(chain)
    } else {
        return Err("the bundle has no verification material (no key hint, certificate or chain)".into());
    };
    let content = if let Some(envelope) = v.get("dsseEnvelope") {
        let envelope: Envelope =
            serde_json::from_value(envelope.clone()).map_err(|e| format!("the DSSE envelope is malformed: {e}"))?;
        if envelope.signatures.len() != 1 {
            return Err(format!(
                "the envelope holds {} signatures, not one",
                envelope.signatures.len()
            ));
        }
        Content::Dsse(envelope)
    } else if let Some(message) = v.get("messageSignature") {
        let digest = message["messageDigest"]["digest"]
            .as_str()
            .map(|d| b64(d, "the message digest"))
            .transpose()?;
        Content::Message {
            digest,
            signature: b64(message["signature"].as_str().unwrap_or_default(), "the signature")?,
        }
    } else {
        return Err("the bundle holds neither a message signature nor a DSSE envelope".into());
    };
    // Only a statement's subjects can name files the caller checks itself.
    let artifact_digest = match (artifact.sha256(), &content) {
        (Some(digest), _) => digest,
        (None, Content::Dsse(_)) => [0; 32],
        (None, Content::Message { .. }) => {
            return Err("a message signature signs one file: give that file, not only a statement's subjects".into());
        }
    };

    // The log entries first: they give the signing time the certificate is judged at.
    let entries = match tlog {
        Tlog::Required => material_json["tlogEntries"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default(),
        Tlog::Ignored => &[],
    };
    if entries.is_empty() && tlog == Tlog::Required {
        return Err("the bundle has no transparency-log entry".into());
    }
    if entries.len() > MAX_ENTRIES {
        return Err(format!(
            "{} log entries, more than the {MAX_ENTRIES} read",
            entries.len()
        ));
    }
    let entries: Vec<Entry> = entries.iter().map(Entry::parse).collect::<Result<_, _>>()?;

    let (key, leaf) = match (&material, signer) {
        (Material::Key, Signer::Key(key)) => ((*key).clone(), None),
        (Material::Key, Signer::Identity { .. } | Signer::Issued { .. }) => {
            return Err("the bundle is signed with a key, and a certificate was asked for".into());
        }
        (Material::Chain(_), Signer::Key(_)) => {
            return Err("the bundle is signed with a certificate, and a key was given".into());
        }
        (Material::Chain(chain), Signer::Identity { .. } | Signer::Issued { .. }) => {
            (chain[0].public_key()?, Some(chain))
        }
    };

    // Timestamps first: a Rekor v2 entry needs one to be judged at all.
    let signature_bytes = match &content {
        Content::Message { signature, .. } => signature.as_slice(),
        Content::Dsse(envelope) => envelope.signatures[0].sig.as_slice(),
    };
    let tokens = material_json["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if tokens.len() > MAX_ENTRIES {
        return Err(format!("{} timestamps, more than the {MAX_ENTRIES} read", tokens.len()));
    }
    let mut timestamps = Vec::new();
    for token in tokens {
        let der = b64(token["signedTimestamp"].as_str().unwrap_or_default(), "a timestamp")?;
        timestamps.push(super::timestamp::verify(&der, signature_bytes, root)?);
    }

    let mut log_entries = Vec::new();
    // Every time something trusted says the signature existed: each checked promise's
    // integrated time and each verified timestamp. The certificate must be valid at all.
    let mut times: Vec<i64> = timestamps.iter().map(|t| t.time).collect();
    for entry in &entries {
        let logged = entry.verify(
            root,
            version == 1,
            version >= 2,
            now,
            timestamps.first().map(|t| t.time),
        )?;
        check_body(entry, &content, &key, leaf.map(|c| &c[0]), &artifact_digest)?;
        times.extend(logged.integrated_time);
        log_entries.push(logged);
    }
    let signed_at = times.iter().copied().min();

    let (mut identity, mut issuer) = (None, None);
    if let (
        Some(chain),
        Signer::Identity {
            identity: want,
            issuer: want_issuer,
        },
    ) = (leaf, signer)
    {
        if times.is_empty() {
            return Err("neither a log entry's promise nor a timestamp attests when the certificate signed".into());
        }
        let mut ca = None;
        for at in &times {
            ca = Some(verify_chain(chain, root, *at)?);
        }
        if let Some(ca) = ca {
            super::sct::verify(&chain[0], ca, root)?;
        }
        let leaf = &chain[0];
        let names: Vec<String> = leaf.uris().into_iter().chain(leaf.emails()).collect();
        let Some(matched) = names.iter().find(|n| want.matches(n)) else {
            return Err(format!("the certificate is for {names:?}, not {want}"));
        };
        let found = leaf.oidc_issuer()?;
        if found.as_deref() != Some(*want_issuer) {
            return Err(format!(
                "the certificate's OIDC issuer is {}, not {want_issuer}",
                found.as_deref().unwrap_or("(none)")
            ));
        }
        identity = Some(matched.clone());
        issuer = found;
    }
    if let (
        Some(chain),
        Signer::Issued {
            roots,
            intermediates,
            email,
            hostname,
        },
    ) = (leaf, signer)
    {
        let leaf = &chain[0];
        let untrusted: Vec<Certificate> = intermediates.iter().chain(&chain[1..]).cloned().collect();
        let judged_at = if times.is_empty() { vec![now] } else { times.clone() };
        for at in judged_at {
            let at = u64::try_from(at).map_err(|_| "the signing time is before 1970")?;
            leaf.verify_path(&untrusted, roots, at)
                .map_err(|e| format!("the signing certificate: {e}"))?;
        }
        if let Some(email) = email {
            leaf.verify_email(email)?;
        }
        if let Some(host) = hostname {
            leaf.verify_hostname(host)?;
        }
        identity = leaf.emails().into_iter().chain(leaf.uris()).next();
    }

    match &content {
        Content::Message { digest, signature } => {
            if let Some(digest) = digest
                && digest.as_slice() != artifact_digest
            {
                return Err("the bundle's message digest is not the artifact's".into());
            }
            let verified = match artifact {
                Artifact::Bytes(bytes) => key.verify(bytes, signature),
                Artifact::Sha256(digest) => key.verify_sha256_prehash(digest, signature),
                Artifact::Subjects => false,
            };
            if !verified {
                return Err("the signature does not verify over the artifact".into());
            }
        }
        Content::Dsse(envelope) => {
            if envelope.signed_by(std::slice::from_ref(&key)).is_none() {
                return Err("the DSSE envelope's signature does not verify".into());
            }
            let statement: serde_json::Value = serde_json::from_slice(&envelope.payload)
                .map_err(|e| format!("the signed statement is not JSON: {e}"))?;
            let wanted = hex::encode(artifact_digest);
            let names_it = statement["subject"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["digest"]["sha256"].as_str() == Some(wanted.as_str()));
            if !names_it && !matches!(artifact, Artifact::Subjects) {
                return Err("the signed statement's subject is not the artifact".into());
            }
        }
    }
    Ok(Verified {
        media_type,
        identity,
        issuer,
        key_id: Some(key.key_id()),
        signed_at,
        log_entries,
        timestamps,
        certificate: leaf.map(|chain| chain[0].clone()),
    })
}

/// The leaf must chain to a Fulcio CA of the root that was valid at `at`, every certificate
/// valid then. Returns the leaf's issuer, from that CA's chain.
fn verify_chain<'r>(chain: &[Certificate], root: &'r TrustedRoot, at: i64) -> Result<&'r Certificate, String> {
    let millis = at.saturating_mul(1000);
    let mut why = String::from("no certificate authority of the trusted root was valid when it signed");
    let leaf = &chain[0];
    for ca in root
        .certificate_authorities
        .iter()
        .filter(|ca| ca.valid.contains(millis))
    {
        let (anchor, intermediates) = ca.chain.split_last().unwrap_or((&ca.chain[0], &[]));
        // The bundle's own chain past its leaf is untrusted: only the root's may vouch.
        match leaf.verify_path(intermediates, std::slice::from_ref(anchor), at as u64) {
            Ok(()) => {
                let issuer = leaf.x509().tbs_certificate().issuer();
                return ca
                    .chain
                    .iter()
                    .find(|c| c.x509().tbs_certificate().subject() == issuer)
                    .ok_or_else(|| "the signing certificate's issuer is not in its CA's chain".to_owned());
            }
            Err(e) => why = e,
        }
    }
    Err(format!("the signing certificate: {why}"))
}

/// A Rekor v2 verifier: the certificate's or the key's DER, base64 in protobuf JSON.
fn recorded_verifier(verifier: &serde_json::Value, signer_der: &[u8]) -> bool {
    let raw = verifier["x509Certificate"]["rawBytes"]
        .as_str()
        .or_else(|| verifier["publicKey"]["rawBytes"].as_str())
        .unwrap_or_default();
    b64(raw, "").ok().as_deref() == Some(signer_der)
}

/// The log entry's body must record this very signature, key or certificate, and artifact.
fn check_body(
    entry: &Entry,
    content: &Content,
    key: &PublicKey,
    leaf: Option<&Certificate>,
    artifact: &[u8; 32],
) -> Result<(), String> {
    let body: serde_json::Value =
        serde_json::from_slice(&entry.body).map_err(|e| format!("the log entry's body is not JSON: {e}"))?;
    let kind = (
        body["kind"].as_str().unwrap_or_default(),
        body["apiVersion"].as_str().unwrap_or_default(),
    );
    if kind != (entry.kind.as_str(), entry.version.as_str()) {
        return Err(format!(
            "the log entry says it is a {} {}, and its body is a {} {}",
            entry.kind, entry.version, kind.0, kind.1
        ));
    }
    let signer_der = leaf.map_or_else(|| key.spki_der().to_vec(), |c| c.der().to_vec());
    let recorded_signer = |b64_pem: &serde_json::Value| {
        super::tlog::logged_der(b64_pem.as_str().unwrap_or_default()).ok() == Some(signer_der.clone())
    };
    let spec = &body["spec"];
    let mismatch = |what: &str| Err(format!("the log entry records another {what}"));
    match (kind, content) {
        (("hashedrekord", "0.0.1"), Content::Message { signature, .. }) => {
            if spec["data"]["hash"]["algorithm"] != "sha256"
                || spec["data"]["hash"]["value"] != hex::encode(artifact).as_str()
            {
                return mismatch("artifact");
            }
            if b64(
                spec["signature"]["content"].as_str().unwrap_or_default(),
                "the logged signature",
            )? != *signature
            {
                return mismatch("signature");
            }
            if !recorded_signer(&spec["signature"]["publicKey"]["content"]) {
                return mismatch("key or certificate");
            }
        }
        (("dsse", "0.0.1"), Content::Dsse(envelope)) => {
            if spec["payloadHash"]["value"] != hex::encode(Sha256::digest(&envelope.payload)).as_str() {
                return mismatch("payload");
            }
            let recorded = spec["signatures"].as_array().into_iter().flatten().any(|s| {
                b64(s["signature"].as_str().unwrap_or_default(), "").ok().as_deref()
                    == Some(envelope.signatures[0].sig.as_slice())
                    && recorded_signer(&s["verifier"])
            });
            if !recorded {
                return mismatch("signature or key");
            }
        }
        (("intoto", "0.0.2"), Content::Dsse(envelope)) => {
            let content = &spec["content"];
            if content["payloadHash"]["value"] != hex::encode(Sha256::digest(&envelope.payload)).as_str() {
                return mismatch("payload");
            }
            // intoto 0.0.2 keeps each signature base64-encoded twice.
            let recorded = content["envelope"]["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| {
                    let sig = b64(s["sig"].as_str().unwrap_or_default(), "")
                        .ok()
                        .and_then(|once| b64(std::str::from_utf8(&once).ok()?, "").ok());
                    sig.as_deref() == Some(envelope.signatures[0].sig.as_slice()) && recorded_signer(&s["publicKey"])
                });
            if !recorded {
                return mismatch("signature or key");
            }
        }
        (("hashedrekord", "0.0.2"), Content::Message { signature, .. }) => {
            let spec = &spec["hashedRekordV002"];
            if spec["data"]["algorithm"] != "SHA2_256"
                || b64(spec["data"]["digest"].as_str().unwrap_or_default(), "the logged digest")? != artifact
            {
                return mismatch("artifact");
            }
            if b64(
                spec["signature"]["content"].as_str().unwrap_or_default(),
                "the logged signature",
            )? != *signature
            {
                return mismatch("signature");
            }
            if !recorded_verifier(&spec["signature"]["verifier"], &signer_der) {
                return mismatch("key or certificate");
            }
        }
        // Rekor v2 logs a DSSE envelope as a hashedrekord over its PAE (rekor-v2 §6.1.4).
        (("hashedrekord", "0.0.2"), Content::Dsse(envelope)) => {
            let spec = &spec["hashedRekordV002"];
            let pae = crate::dsse::pae(&envelope.payload_type, &envelope.payload);
            if spec["data"]["algorithm"] != "SHA2_256"
                || b64(spec["data"]["digest"].as_str().unwrap_or_default(), "the logged digest")?
                    != Sha256::digest(&pae).as_slice()
            {
                return mismatch("envelope");
            }
            if b64(
                spec["signature"]["content"].as_str().unwrap_or_default(),
                "the logged signature",
            )? != envelope.signatures[0].sig
            {
                return mismatch("signature");
            }
            if !recorded_verifier(&spec["signature"]["verifier"], &signer_der) {
                return mismatch("key or certificate");
            }
        }
        (("dsse", "0.0.2"), Content::Dsse(envelope)) => {
            let spec = &spec["dsseV002"];
            if spec["payloadHash"]["algorithm"] != "SHA2_256"
                || b64(
                    spec["payloadHash"]["digest"].as_str().unwrap_or_default(),
                    "the logged payload hash",
                )? != Sha256::digest(&envelope.payload).as_slice()
            {
                return mismatch("payload");
            }
            let recorded = spec["signatures"].as_array().into_iter().flatten().any(|s| {
                b64(s["content"].as_str().unwrap_or_default(), "").ok().as_deref()
                    == Some(envelope.signatures[0].sig.as_slice())
                    && recorded_verifier(&s["verifier"], &signer_der)
            });
            if !recorded {
                return mismatch("signature or key");
            }
        }
        ((k, ver), _) => {
            return Err(format!(
                "a log entry of kind {k} {ver} does not record this kind of signature"
            ));
        }
    }
    Ok(())
}
