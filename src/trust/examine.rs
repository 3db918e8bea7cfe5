//! One resolved image examined: which digest its signatures must name, the signatures the store
//! keeps for it (copied there when it was pulled or imported), and the trust policy's verdict.
//! What every command that resolves images records, and what the gate refuses on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::policy::{DIR, OCI, PolicyError, TrustPolicy, parse_named};
use super::{Outcome, SignedImage, Transport, Verdict, judge};
use crate::config::Loaded;
use crate::image::lock::{Lock, PinnedSignature, Resolver};
use crate::image::{Digest, ImageRef, ResolvedImage, Result, Store, signatures};

/// A trust policy and where it was read from (its relative key paths start at its folder).
pub struct Policy {
    pub policy: TrustPolicy,
    pub file: PathBuf,
    /// When certificates of a PKI must be valid (seconds since the epoch): the time of the
    /// check, as containers/image takes it. Keyless certificates use their log's time instead.
    pub now: u64,
    /// The Sigstore trusted root of keyless bundles' CT logs and timestamp authorities.
    pub sigstore: crate::sigstore::TrustedRoot,
}

impl Policy {
    pub fn load(path: &Path) -> std::result::Result<Policy, PolicyError> {
        Ok(Policy {
            policy: TrustPolicy::load(path)?,
            file: path.to_path_buf(),
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            sigstore: crate::sigstore::TrustedRoot::production(),
        })
    }

    fn base(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
    }
}

/// What was found and decided for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The digest its signatures must name: what the reference resolved to (the index of a
    /// multi-platform image, else the manifest), as cosign signs it.
    pub signed_digest: String,
    /// Signatures found beside it, whether or not they verify.
    pub signatures_found: usize,
    /// Attestations found beside it (cosign's `.att`), whether or not they verify.
    pub attestations_found: usize,
    /// Sigstore bundles referring to it (cosign v3's signatures), whether or not they verify.
    pub bundles_found: usize,
    /// The trust policy's verdict; absent when no trust policy was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

impl Finding {
    /// Whether a trust policy refused the image.
    pub fn refused(&self) -> bool {
        self.verdict.as_ref().is_some_and(|v| !v.accepted)
    }

    /// Why it was refused, in one line: each unmet requirement and its reason.
    pub fn why(&self) -> String {
        let Some(verdict) = &self.verdict else {
            return String::new();
        };
        let unmet: Vec<String> = verdict
            .requirements
            .iter()
            .filter(|o| !o.met)
            .map(|o| {
                let mut line = format!("{}: {}", o.requirement, o.reason);
                if !o.rejected.is_empty() {
                    line.push_str(&format!(" ({})", o.rejected.join("; ")));
                }
                line
            })
            .collect();
        format!("under {}: {}", verdict.scope, unmet.join("; "))
    }
}

/// Examines `image`, resolved from `reference` as written in a file of the folder `base`.
/// Under a policy, each signature the lock `pinned` must verify again.
pub fn examine(
    policy: Option<&Policy>,
    store: &Store,
    reference: &ImageRef,
    base: &Path,
    image: &ResolvedImage,
    pinned: &[PinnedSignature],
) -> Result<Finding> {
    let signed: &Digest = image.index_digest.as_ref().unwrap_or(&image.manifest_digest);
    let found = signatures::stored(store, signed, signatures::Kind::Signatures)?;
    let attestations = signatures::stored(store, signed, signatures::Kind::Attestations)?;
    let bundles = signatures::stored(store, signed, signatures::Kind::Bundles)?;
    let bundles_found = bundles.len();
    let signatures_found = found.len();
    let attestations_found = attestations.len();
    let verdict = policy.map(|policy| {
        let (transport, named) = transport_of(reference, base);
        let mut verdict = judge(
            &policy.policy,
            &super::Context {
                base: policy.base().to_path_buf(),
                now: policy.now,
                sigstore: policy.sigstore.clone(),
            },
            &SignedImage {
                transport,
                reference: named,
                manifest_digest: signed.to_string(),
                signatures: found,
                attestations,
                bundles,
            },
        );
        // Where the policy checks no signature (insecureAcceptAnything), its owner chose not
        // to: the pinned ones are not asked for either.
        let checks_signatures = verdict.requirements.iter().any(|o| o.requirement == "sigstoreSigned");
        if !pinned.is_empty() && checks_signatures {
            hold_to_lock(&mut verdict, pinned);
        }
        verdict
    });
    Ok(Finding {
        signed_digest: signed.to_string(),
        signatures_found,
        attestations_found,
        bundles_found,
        verdict,
    })
}

/// The signatures the lock pinned must be among those accepted now: a signature removed, or a
/// key no longer trusted, refuses the image though another signature may still verify.
fn hold_to_lock(verdict: &mut Verdict, pinned: &[PinnedSignature]) {
    let accepted: BTreeSet<(&str, &str)> = verdict
        .requirements
        .iter()
        .flat_map(|o| &o.signatures)
        .map(|a| (a.payload.as_str(), a.key_id.as_str()))
        .collect();
    let lost: Vec<String> = pinned
        .iter()
        .filter(|p| !accepted.contains(&(p.payload.as_str(), p.key.as_str())))
        .map(|p| format!("payload {} by key {}", p.payload, p.key))
        .collect();
    let met = lost.is_empty();
    verdict.requirements.push(Outcome {
        requirement: "lock",
        met,
        reason: if met {
            format!("all {} signatures the lock pinned verified again", pinned.len())
        } else {
            format!(
                "the lock pinned signatures that no longer verify ({}); if that is intended, run sealkit lock again",
                lost.join("; ")
            )
        },
        signatures: Vec::new(),
        rejected: Vec::new(),
    });
    verdict.accepted &= met;
}

/// The transport whose scopes apply to `reference`, and its Docker name (empty when it has
/// none).
fn transport_of(reference: &ImageRef, base: &Path) -> (Transport, String) {
    let absolute = |path: &Path| {
        let joined = base.join(path);
        std::fs::canonicalize(&joined).unwrap_or(joined).display().to_string()
    };
    match reference {
        ImageRef::Registry(r) => (
            Transport::Docker,
            parse_named(&r.whole()).map(|n| n.to_string()).unwrap_or_default(),
        ),
        ImageRef::OciLayout { dir, tag } => {
            let mut identity = absolute(dir);
            if let Some(tag) = tag {
                identity = format!("{identity}:{tag}");
            }
            (
                Transport::Path {
                    transport: OCI,
                    identity,
                },
                String::new(),
            )
        }
        ImageRef::Dir { path } => (
            Transport::Path {
                transport: DIR,
                identity: absolute(path),
            },
            String::new(),
        ),
        ImageRef::DockerArchive { path } => (
            Transport::Path {
                transport: "docker-archive",
                identity: absolute(path),
            },
            String::new(),
        ),
    }
}

/// The signatures a lock pins for an image: those its verdict accepted.
pub fn pins(finding: &Finding) -> Vec<PinnedSignature> {
    let mut pins: Vec<PinnedSignature> = finding
        .verdict
        .iter()
        .flat_map(|v| &v.requirements)
        .flat_map(|o| &o.signatures)
        .map(|a| PinnedSignature {
            payload: a.payload.clone(),
            key: a.key_id.clone(),
        })
        .collect();
    pins.sort();
    pins.dedup();
    pins
}

/// Pins every image of `loaded` (as [`Resolver::lock`]) and, under `policy`, records the
/// signatures that verified. Returns the lock and the images the policy refused, with why.
pub fn lock(resolver: &Resolver, loaded: &Loaded, policy: Option<&Policy>) -> Result<(Lock, Vec<(String, String)>)> {
    let Some(policy) = policy else {
        return Ok((resolver.lock(loaded)?, Vec::new()));
    };
    let mut refused = Vec::new();
    let lock = resolver.lock_with(loaded, |text, base, image| {
        let reference: ImageRef = text.parse().map_err(|e: crate::reference::ReferenceError| {
            crate::image::ImageError::invalid(crate::image::Code::BadReference, text, e.message, e.hint)
        })?;
        let finding = examine(Some(policy), &resolver.store, &reference, base, image, &[])?;
        if finding.refused() {
            refused.push((text.to_owned(), finding.why()));
        }
        Ok(pins(&finding))
    })?;
    Ok((lock, refused))
}
