//! Trust in the inputs: whether a component image's signatures meet the trust policy
//! (containers-policy.json, [`policy`]) before anything of it is used.
//!
//! An image is judged by the requirements of the most specific scope its reference falls under;
//! every requirement must hold. `sigstoreSigned` holds when at least one of the image's cosign
//! signatures verifies under it ([`cosign::Signature::verify`]); signatures that do not verify
//! are reported with why, and never make an image pass. The signer is a key, a keyless Fulcio
//! certificate (checked at the time Rekor logged the signature) or a certificate of a PKI.
//! What sealkit cannot check — GPG simple signing (`signedBy`), `signedBaseLayer` — fails
//! closed, as containers/image treats a requirement it does not know.

pub mod attestations;
pub mod bundles;
pub mod cosign;
pub mod examine;
pub mod policy;
pub mod sign;

pub use examine::{Finding, Policy, examine};

crate::error_codes! {
    BadTrustPolicy = "bad-trust-policy": "A trust policy (containers-policy.json) cannot be read, or says something no image could meet as written (an unknown type or field, an empty list, a relative path scope).",
}

/// What a command says when the trust policy refused images: each one and why, and what to do.
pub fn refusal(refused: &[(impl AsRef<str>, impl AsRef<str>)]) -> String {
    let mut text = format!(
        "the trust policy refuses {} of the images; nothing of them was read, built or signed",
        refused.len()
    );
    for (reference, why) in refused {
        text.push_str(&format!("\n  {}: {}", reference.as_ref(), why.as_ref()));
    }
    text.push_str(
        "\n  hint: sign the images with a key the policy names (sealkit image sign, cosign sign), or correct the policy",
    );
    text
}

/// The trust policy container tools read when none is named: the user's
/// (`$HOME/.config/containers/policy.json`), else the system's (`/etc/containers/policy.json`).
/// `sealkit image verify` falls back to it, as skopeo does; a configuration's never does, so a
/// gate's verdict does not depend on the machine it runs on.
pub fn containers_default() -> Option<PathBuf> {
    let user = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config/containers/policy.json"));
    user.into_iter()
        .chain([PathBuf::from("/etc/containers/policy.json")])
        .find(|p| p.is_file())
}

/// Where a configuration's trust policy is looked for when none is given:
/// `demo.yml` → `demo.trust.json`, beside it as its lock is.
pub fn default_path(config: &Path) -> PathBuf {
    config.with_extension("trust.json")
}

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;

use crate::certificates::{self, Certificate};
use crate::keys::PublicKey;
use cosign::{Expectation, Signature, Signers};
use policy::{Requirement, SigstoreSigned, TrustPolicy};

/// An image as the trust policy sees it: how it was named, its manifest's digest, and the
/// signatures found for it (each read, or why it could not be).
pub struct SignedImage {
    pub transport: Transport,
    /// As Docker normalises it: `docker.io/library/busybox:1`; empty for an image with no
    /// registry name (an OCI layout, skopeo's layout), whose signatures only `exactReference`
    /// and `exactRepository` identities can accept, as in containers/image.
    pub reference: String,
    /// `sha256:…` of the manifest as stored.
    pub manifest_digest: String,
    pub signatures: Vec<Result<Signature, String>>,
    /// cosign's attestations of it (DSSE envelopes), each read or why it could not be.
    pub attestations: Vec<Result<Signature, String>>,
    /// cosign v3's signatures of it: Sigstore bundles attached as referrers.
    pub bundles: Vec<Result<Signature, String>>,
}

/// The policy's verdict on one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The scope whose requirements applied (`transports.docker."quay.io/team"`, `default`).
    pub scope: String,
    pub accepted: bool,
    /// Each requirement's outcome, in the policy's order, then each required attestation's.
    pub requirements: Vec<Outcome>,
    /// The image's attestations, each checked against the keys of the attestations its scope
    /// requires (unverified when none is required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<attestations::Attestation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The requirement's type, as the policy names it.
    pub requirement: &'static str,
    pub met: bool,
    /// Why it was or was not met, in words.
    pub reason: String,
    /// The signatures that verified (key id, the reference they were signed as, Rekor's time).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<cosign::Accepted>,
    /// Each signature that did not, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

/// The transport an image came through, which picks the policy's scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A registry image, or one the store keeps under a registry name.
    Docker,
    /// `oci:` (identity `PATH` or `PATH:TAG`) or `dir:` (`PATH`), absolute.
    Path { transport: &'static str, identity: String },
}

impl Transport {
    /// The transport's name in the policy, and the identity its scopes are matched against.
    fn scoped_as<'a>(&'a self, reference: &'a str) -> (&'a str, &'a str) {
        match self {
            Transport::Docker => ("docker", reference),
            Transport::Path { transport, identity } => (transport, identity),
        }
    }
}

/// What a verdict is judged against besides the policy.
pub struct Context {
    /// The policy file's folder, where its relative key and certificate paths start.
    pub base: PathBuf,
    /// When certificates of a PKI must be valid (seconds since the epoch); keyless
    /// certificates are judged at the times their log entries and timestamps give instead.
    pub now: u64,
    /// The Sigstore trusted root whose CT logs and timestamp authorities a keyless bundle is
    /// checked against (its CA and log are the policy's `fulcio` and Rekor keys).
    pub sigstore: crate::sigstore::TrustedRoot,
}

/// Judges `image` under `trust` in `context`.
pub fn judge(trust: &TrustPolicy, context: &Context, image: &SignedImage) -> Verdict {
    let base = context.base.as_path();
    let (transport, identity) = image.transport.scoped_as(&image.reference);
    let (requirements, scope) = trust.requirements(transport, identity);
    let mut requirements: Vec<Outcome> = requirements.iter().map(|r| outcome(r, context, image)).collect();
    let mut checked = Vec::new();
    if let Some((required, from)) = trust.required_attestations(transport, identity) {
        let signers: Vec<_> = required.iter().map(|r| signers_of(&r.signers(), base)).collect();
        for (r, signers) in required.iter().zip(&signers) {
            requirements.push(attestation_outcome(r, &from, signers.as_ref(), context, image));
        }
        let wants: Vec<Expectation> = signers
            .iter()
            .flatten()
            .map(|(trusted, rekor_keys)| attestation_signed(trusted, rekor_keys, context, image))
            .collect();
        checked = check_attestations(image, &wants);
    } else if !image.attestations.is_empty() {
        checked = check_attestations(image, &[]);
    }
    Verdict {
        scope,
        accepted: requirements.iter().all(|o| o.met),
        requirements,
        attestations: checked,
    }
}

/// The image's tag-scheme attestations, each as the first of `wants` that accepts it sees it
/// (or as the first refused it, when none does).
fn check_attestations(image: &SignedImage, wants: &[Expectation]) -> Vec<attestations::Attestation> {
    let Ok(signed) = image.manifest_digest.parse() else {
        return Vec::new();
    };
    image
        .attestations
        .iter()
        .map(|a| {
            let mut tried = wants.iter().map(|want| attestations::check(a, Some(want), &signed));
            match tried.next() {
                None => attestations::check(a, None, &signed),
                Some(first) if first.verified => first,
                Some(first) => tried.find(|t| t.verified).unwrap_or(first),
            }
        })
        .collect()
}

/// What an attestation must be signed as: by one of the requirement's signers, logged when it
/// names Rekor keys. It names the image by digest alone: there is no signed reference to match.
fn attestation_signed<'a>(
    trusted: &'a TrustedSigners,
    rekor_keys: &'a [PublicKey],
    context: &'a Context,
    image: &'a SignedImage,
) -> Expectation<'a> {
    const BY_DIGEST: &policy::Identity = &policy::Identity::MatchRepoDigestOrExact;
    Expectation {
        signers: trusted.as_signers(),
        rekor_keys,
        now: context.now,
        sigstore: &context.sigstore,
        manifest_digest: &image.manifest_digest,
        reference: &image.reference,
        identity: BY_DIGEST,
    }
}

/// One required attestation: met when one of the image's attestations (cosign's tag scheme, or
/// a bundle referrer), signed as it asks, names this image and says what it must.
fn attestation_outcome(
    required: &policy::RequiredAttestation,
    scope: &str,
    signers: Result<&(TrustedSigners, Vec<PublicKey>), &String>,
    context: &Context,
    image: &SignedImage,
) -> Outcome {
    let mut out = Outcome {
        requirement: "attestation",
        met: false,
        reason: String::new(),
        signatures: Vec::new(),
        rejected: Vec::new(),
    };
    let (trusted, rekor_keys) = match signers {
        Ok(signers) => signers,
        Err(why) => {
            out.reason = format!("{scope}: {why}");
            return out;
        }
    };
    let Ok(signed) = image.manifest_digest.parse() else {
        out.reason = format!("{scope}: the image's digest {} is not one", image.manifest_digest);
        return out;
    };
    let want = attestation_signed(trusted, rekor_keys, context, image);
    let mut wanted = required.predicate_type.clone();
    if let Some(builder) = &required.builder_id {
        wanted.push_str(&format!(" by builder {builder}"));
    }
    if let Some(source) = &required.source_repository {
        wanted.push_str(&format!(" from {source}"));
    }
    let tag_scheme = check_attestations(image, std::slice::from_ref(&want))
        .into_iter()
        .enumerate()
        .map(|(i, a)| (format!("attestation {}", i + 1), a));
    let bundles = image.bundles.iter().enumerate().map(|(i, b)| {
        (
            format!("bundle {}", i + 1),
            attestations::check_bundle(b, &want, &signed),
        )
    });
    for (which, found) in tag_scheme.chain(bundles) {
        match attestations::meets(&found, required) {
            Ok(()) => {
                out.met = true;
                let signer = match &found.certificate {
                    Some(certificate) => certificate.emails.iter().chain(&certificate.uris).next().map_or_else(
                        || format!("certificate {}", certificate.subject),
                        |name| format!("certificate for {name}"),
                    ),
                    None => format!("key {}", found.key_id.as_deref().unwrap_or_default()),
                };
                out.reason = format!("{scope} asks for {wanted}: {which} signed by {signer}");
                return out;
            }
            Err(why) => out.rejected.push(format!("{which}: {why}")),
        }
    }
    let found = image.attestations.len() + image.bundles.len();
    out.reason = if found == 0 {
        format!("{scope} asks for {wanted}, and the image has no attestation")
    } else {
        format!("{scope} asks for {wanted}, and none of its {found} attestations and bundles is one")
    };
    out
}

fn outcome(requirement: &Requirement, context: &Context, image: &SignedImage) -> Outcome {
    let plain = |name, met, reason: &str| Outcome {
        requirement: name,
        met,
        reason: reason.to_owned(),
        signatures: Vec::new(),
        rejected: Vec::new(),
    };
    match requirement {
        Requirement::InsecureAcceptAnything => {
            plain("insecureAcceptAnything", true, "the policy accepts any image here")
        }
        Requirement::Reject => plain("reject", false, "the policy rejects every image in this scope"),
        Requirement::SignedBy(_) => plain(
            "signedBy",
            false,
            "GPG and X.509 simple signing are not checked by sealkit: this requirement cannot be met (use sigstoreSigned)",
        ),
        Requirement::SignedBaseLayer(_) => plain(
            "signedBaseLayer",
            false,
            "signedBaseLayer is not checked by sealkit: this requirement cannot be met",
        ),
        Requirement::SigstoreSigned(s) => sigstore_signed(s, context, image),
    }
}

fn sigstore_signed(s: &SigstoreSigned, context: &Context, image: &SignedImage) -> Outcome {
    let base = context.base.as_path();
    let mut out = Outcome {
        requirement: "sigstoreSigned",
        met: false,
        reason: String::new(),
        signatures: Vec::new(),
        rejected: Vec::new(),
    };
    let (trusted, rekor_keys) = match signers_of(s, base) {
        Ok(signers) => signers,
        Err(e) => {
            out.reason = e;
            return out;
        }
    };
    let identity = s.identity();
    let want = Expectation {
        signers: trusted.as_signers(),
        rekor_keys: &rekor_keys,
        now: context.now,
        sigstore: &context.sigstore,
        manifest_digest: &image.manifest_digest,
        reference: &image.reference,
        identity: &identity,
    };
    let mut signatures = 0;
    for (i, signature) in image.signatures.iter().enumerate() {
        let checked = signature.as_ref().map_err(String::clone).and_then(|sig| {
            // Other attachments in the signature store (SBOMs, attestations) are not signatures.
            if sig.mime_type != cosign::SIMPLE_SIGNING {
                return Err(String::new());
            }
            signatures += 1;
            sig.verify(&want)
        });
        match checked {
            Ok(accepted) => out.signatures.push(accepted),
            Err(why) if why.is_empty() => {}
            Err(why) => out.rejected.push(format!("signature {}: {why}", i + 1)),
        }
    }
    for (i, bundle) in image.bundles.iter().enumerate() {
        signatures += 1;
        match bundle
            .as_ref()
            .map_err(String::clone)
            .and_then(|b| bundles::verify(b, &want))
        {
            Ok(accepted) => out.signatures.push(accepted),
            Err(why) => out.rejected.push(format!("bundle {}: {why}", i + 1)),
        }
    }
    out.met = !out.signatures.is_empty();
    out.reason = match (out.met, signatures) {
        (true, _) => format!("{} of {signatures} signatures verified", out.signatures.len()),
        (false, 0) => "the image has no sigstore signature".into(),
        (false, n) => format!("none of its {n} signatures verified"),
    };
    out
}

/// The signers a `sigstoreSigned` requirement trusts, read from its files and data.
enum TrustedSigners {
    Keys(Vec<PublicKey>),
    Fulcio {
        roots: Vec<Certificate>,
        issuer: String,
        email: String,
    },
    Pki {
        roots: Vec<Certificate>,
        intermediates: Vec<Certificate>,
        email: Option<String>,
        hostname: Option<String>,
    },
}

impl TrustedSigners {
    fn as_signers(&self) -> Signers<'_> {
        match self {
            TrustedSigners::Keys(keys) => Signers::Keys(keys),
            TrustedSigners::Fulcio { roots, issuer, email } => Signers::Fulcio { roots, issuer, email },
            TrustedSigners::Pki {
                roots,
                intermediates,
                email,
                hostname,
            } => Signers::Pki {
                roots,
                intermediates,
                email: email.as_deref(),
                hostname: hostname.as_deref(),
            },
        }
    }
}

/// The signers a `sigstoreSigned` requirement (or a required attestation) trusts, and its
/// Rekor keys.
fn signers_of(s: &SigstoreSigned, base: &Path) -> Result<(TrustedSigners, Vec<PublicKey>), String> {
    let rekor_keys = load_keys(
        base,
        s.rekor_public_key_path
            .iter()
            .chain(s.rekor_public_key_paths.iter().flatten()),
        s.rekor_public_key_data
            .iter()
            .chain(s.rekor_public_key_datas.iter().flatten()),
    )?;
    Ok((trusted_signers(s, base)?, rekor_keys))
}

/// Policy validation guarantees exactly one kind of signer, and the fields each needs.
fn trusted_signers(s: &SigstoreSigned, base: &Path) -> Result<TrustedSigners, String> {
    if let Some(f) = &s.fulcio {
        return Ok(TrustedSigners::Fulcio {
            roots: load_certificates(base, f.ca_path.as_ref(), f.ca_data.as_ref())?,
            issuer: f.oidc_issuer.clone().unwrap_or_default(),
            email: f.subject_email.clone().unwrap_or_default(),
        });
    }
    if let Some(p) = &s.pki {
        let intermediates = if p.ca_intermediates_path.is_some() || p.ca_intermediates_data.is_some() {
            load_certificates(base, p.ca_intermediates_path.as_ref(), p.ca_intermediates_data.as_ref())?
        } else {
            Vec::new()
        };
        return Ok(TrustedSigners::Pki {
            roots: load_certificates(base, p.ca_roots_path.as_ref(), p.ca_roots_data.as_ref())?,
            intermediates,
            email: p.subject_email.clone(),
            hostname: p.subject_hostname.clone(),
        });
    }
    load_keys(
        base,
        s.key_path.iter().chain(s.key_paths.iter().flatten()),
        s.key_data.iter().chain(s.key_datas.iter().flatten()),
    )
    .map(TrustedSigners::Keys)
}

/// The largest certificate file read: a bundle of CA certificates is a few kilobytes.
const MAX_CERTIFICATE_FILE: u64 = 1024 * 1024;

/// Certificates from a file (relative to `base`) or base64 PEM data.
fn load_certificates(base: &Path, path: Option<&PathBuf>, data: Option<&String>) -> Result<Vec<Certificate>, String> {
    use std::io::Read as _;
    let (pem, origin) = match (path, data) {
        (Some(path), _) => {
            let path = base.join(path);
            let mut pem = Vec::new();
            std::fs::File::open(&path)
                .and_then(|f| f.take(MAX_CERTIFICATE_FILE + 1).read_to_end(&mut pem))
                .map_err(|e| format!("{}: cannot be read ({e})", path.display()))?;
            if pem.len() as u64 > MAX_CERTIFICATE_FILE {
                return Err(format!(
                    "{}: larger than {MAX_CERTIFICATE_FILE} bytes, which no CA bundle is",
                    path.display()
                ));
            }
            (pem, path.display().to_string())
        }
        (None, Some(data)) => (
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| format!("certificate data is not base64: {e}"))?,
            "the policy's certificate data".to_owned(),
        ),
        (None, None) => return Err("no certificate file or data".into()),
    };
    certificates::from_pem(&pem, &origin)
}

/// Public keys from files (relative paths from `base`) and base64 PEM data.
fn load_keys<'a>(
    base: &Path,
    paths: impl Iterator<Item = &'a PathBuf>,
    datas: impl Iterator<Item = &'a String>,
) -> Result<Vec<PublicKey>, String> {
    let mut keys = Vec::new();
    for path in paths {
        let path = base.join(path);
        keys.push(PublicKey::load(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    for data in datas {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| format!("key data is not base64: {e}"))?;
        keys.push(PublicKey::from_pem(&pem, "keyData").map_err(|e| e.to_string())?);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests;
