//! The trust policy: containers-policy.json, the file podman, skopeo, buildah and CRI-O read
//! (containers-policy.json(5)), so a team's existing policy applies to sealkit's inputs as it is.
//!
//! Read strictly, as containers/image reads it: an unknown field or requirement type is an
//! error, never ignored (an ignored requirement would accept what it was written to refuse).
//! A scope is looked up from the most specific to the least — the full reference, the
//! repository, each namespace above it, the registry host, `*.`-wildcarded parent domains, the
//! transport's `""` — then `default`; the first scope present decides, and every requirement of
//! it must hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

/// A policy file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustPolicy {
    pub default: Vec<Requirement>,
    #[serde(default)]
    pub transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
    /// sealkit's additions, under a key of their own (docs/trust.md): containers' tools refuse
    /// a file with keys they do not know, so a policy using them is sealkit's alone.
    #[serde(default)]
    pub sealkit: Option<Extensions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Extensions {
    /// Attestations an image must carry, by transport and scope as `transports` are matched:
    /// each entry must be met by one verified attestation.
    #[serde(default)]
    pub required_attestations: BTreeMap<String, BTreeMap<String, Vec<RequiredAttestation>>>,
}

/// One attestation an image must carry: of this predicate type, signed by one of these keys,
/// and for SLSA provenance naming this builder and source repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequiredAttestation {
    pub predicate_type: String,
    pub key_path: Option<PathBuf>,
    pub key_paths: Option<Vec<PathBuf>>,
    pub key_data: Option<String>,
    /// Keyless: a Fulcio certificate, as `sigstoreSigned` takes one (with a Rekor key).
    pub fulcio: Option<Fulcio>,
    pub rekor_public_key_path: Option<PathBuf>,
    pub rekor_public_key_data: Option<String>,
    pub builder_id: Option<String>,
    pub source_repository: Option<String>,
}

impl RequiredAttestation {
    /// Who may have signed the attestation, as a `sigstoreSigned` requirement says it: one
    /// reading and one check of signers for both.
    pub fn signers(&self) -> SigstoreSigned {
        SigstoreSigned {
            key_path: self.key_path.clone(),
            key_paths: self.key_paths.clone(),
            key_data: self.key_data.clone(),
            fulcio: self.fulcio.clone(),
            rekor_public_key_path: self.rekor_public_key_path.clone(),
            rekor_public_key_data: self.rekor_public_key_data.clone(),
            ..SigstoreSigned::default()
        }
    }
}

/// One requirement. Every type containers/image knows is read; `signedBy` (GPG and X.509
/// simple signing) and `signedBaseLayer` are read so that a policy using them is understood,
/// and fail closed when evaluated: sealkit checks sigstore signatures only.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type")]
pub enum Requirement {
    #[serde(rename = "insecureAcceptAnything")]
    InsecureAcceptAnything,
    #[serde(rename = "reject")]
    Reject,
    #[serde(rename = "signedBy")]
    SignedBy(SignedBy),
    #[serde(rename = "signedBaseLayer")]
    SignedBaseLayer(SignedBaseLayer),
    #[serde(rename = "sigstoreSigned")]
    SigstoreSigned(Box<SigstoreSigned>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignedBy {
    pub key_type: String,
    pub key_path: Option<String>,
    pub key_paths: Option<Vec<String>>,
    pub key_data: Option<String>,
    pub signed_identity: Option<Identity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignedBaseLayer {
    pub base_layer_identity: Identity,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SigstoreSigned {
    pub key_path: Option<PathBuf>,
    pub key_paths: Option<Vec<PathBuf>>,
    /// Base64 of the PEM, as Go's `[]byte` is written in JSON.
    pub key_data: Option<String>,
    pub key_datas: Option<Vec<String>>,
    pub fulcio: Option<Fulcio>,
    pub rekor_public_key_path: Option<PathBuf>,
    pub rekor_public_key_paths: Option<Vec<PathBuf>>,
    pub rekor_public_key_data: Option<String>,
    pub rekor_public_key_datas: Option<Vec<String>>,
    pub pki: Option<Pki>,
    pub signed_identity: Option<Identity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fulcio {
    pub ca_path: Option<PathBuf>,
    pub ca_data: Option<String>,
    pub oidc_issuer: Option<String>,
    pub subject_email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pki {
    pub ca_roots_path: Option<PathBuf>,
    pub ca_roots_data: Option<String>,
    pub ca_intermediates_path: Option<PathBuf>,
    pub ca_intermediates_data: Option<String>,
    pub subject_email: Option<String>,
    pub subject_hostname: Option<String>,
}

/// Which reference a signature must name (`signedIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Identity {
    #[serde(rename = "matchExact")]
    MatchExact,
    #[serde(rename = "matchRepoDigestOrExact")]
    MatchRepoDigestOrExact,
    #[serde(rename = "matchRepository")]
    MatchRepository,
    #[serde(rename = "exactReference", rename_all = "camelCase")]
    ExactReference { docker_reference: String },
    #[serde(rename = "exactRepository", rename_all = "camelCase")]
    ExactRepository { docker_repository: String },
    #[serde(rename = "remapIdentity", rename_all = "camelCase")]
    RemapIdentity { prefix: String, signed_prefix: String },
}

/// A policy that cannot be used, and where in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {at}: {message}")]
pub struct PolicyError {
    pub file: String,
    /// The JSON path of the offending value (`transports.docker."example.com"[0]`), or the line
    /// and column for a syntax error.
    pub at: String,
    pub message: String,
}

/// The transports whose scopes sealkit can match; others are read and never consulted.
const DOCKER: &str = "docker";
/// Transports whose scopes are absolute paths: an OCI layout (`PATH` or `PATH:TAG`) and
/// skopeo's directory layout.
pub const OCI: &str = "oci";
pub const DIR: &str = "dir";

impl TrustPolicy {
    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<TrustPolicy, PolicyError> {
        let file = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| PolicyError {
            file: file.clone(),
            at: "(file)".into(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(&text, &file)
    }

    pub fn parse(text: &[u8], file: &str) -> Result<TrustPolicy, PolicyError> {
        let mut de = serde_json::Deserializer::from_slice(text);
        let policy: TrustPolicy = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            let at = match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    format!("line {} column {}", inner.line(), inner.column())
                }
                _ => e.path().to_string(),
            };
            PolicyError {
                file: file.to_owned(),
                at,
                message: inner.to_string(),
            }
        })?;
        policy.check(file)?;
        Ok(policy)
    }

    /// The checks containers/image makes beyond the file's shape: a non-empty default, valid
    /// scopes, and each requirement's fields consistent.
    fn check(&self, file: &str) -> Result<(), PolicyError> {
        let error = |at: String, message: String| PolicyError {
            file: file.to_owned(),
            at,
            message,
        };
        if self.default.is_empty() {
            return Err(error(
                "default".into(),
                "the default requirements are empty: say `[{\"type\": \"reject\"}]` or what should apply".into(),
            ));
        }
        let mut all = vec![("default".to_owned(), &self.default)];
        for (transport, scopes) in &self.transports {
            for (scope, requirements) in scopes {
                let at = format!("transports.{transport}.{scope:?}");
                if requirements.is_empty() {
                    return Err(error(
                        at,
                        "an empty requirement list: give at least one requirement".into(),
                    ));
                }
                if let Err(why) = check_scope(transport, scope) {
                    return Err(error(at, why));
                }
                all.push((at, requirements));
            }
        }
        for (at, requirements) in all {
            for (i, r) in requirements.iter().enumerate() {
                if let Err(why) = r.check() {
                    return Err(error(format!("{at}[{i}]"), why));
                }
            }
        }
        for (transport, scopes) in self.sealkit.iter().flat_map(|e| &e.required_attestations) {
            for (scope, required) in scopes {
                let at = format!("sealkit.requiredAttestations.{transport}.{scope:?}");
                if let Err(why) = check_scope(transport, scope) {
                    return Err(error(at, why));
                }
                for (i, r) in required.iter().enumerate() {
                    let signers = [
                        r.key_path.is_some(),
                        r.key_paths.is_some(),
                        r.key_data.is_some(),
                        r.fulcio.is_some(),
                    ];
                    if signers.iter().filter(|&&set| set).count() != 1 {
                        return Err(error(
                            format!("{at}[{i}]"),
                            "a required attestation needs exactly one of keyPath, keyPaths, keyData and fulcio".into(),
                        ));
                    }
                    if let Err(why) = r.signers().check() {
                        return Err(error(format!("{at}[{i}]"), why));
                    }
                    if r.predicate_type.is_empty() {
                        return Err(error(format!("{at}[{i}]"), "predicateType is empty".into()));
                    }
                }
            }
        }
        Ok(())
    }

    /// Docker scopes that no reference can fall under, since references are compared in full
    /// (`docker.io/library/busybox`, never `busybox`): each is almost surely a mistake.
    pub fn unreachable_scopes(&self) -> Vec<String> {
        self.transports
            .get(DOCKER)
            .into_iter()
            .flat_map(|scopes| scopes.keys())
            .filter(|s| !s.is_empty() && !s.starts_with("*.") && !begins_with_host(s))
            .map(|s| format!("transports.docker.{s:?}"))
            .collect()
    }

    /// The requirements for an image in a registry, `reference` as Docker normalises it
    /// (`docker.io/library/busybox:1`), and the scope that gave them (`default` when none did).
    pub fn for_docker(&self, reference: &str) -> (&[Requirement], String) {
        self.requirements(DOCKER, reference)
    }

    /// The requirements for an image of `transport` whose identity is `identity` (a Docker
    /// reference, or an absolute path), and the scope that gave them.
    pub fn requirements(&self, transport: &str, identity: &str) -> (&[Requirement], String) {
        match most_specific(self.transports.get(transport), transport, identity) {
            Some((requirements, scope)) => (requirements, format!("transports.{transport}.{scope:?}")),
            None => (&self.default, "default".into()),
        }
    }

    /// The attestations an image of `transport` and `identity` must carry, and the scope that
    /// asks for them; none when no scope of `sealkit.requiredAttestations` covers it.
    pub fn required_attestations(&self, transport: &str, identity: &str) -> Option<(&[RequiredAttestation], String)> {
        let scopes = self.sealkit.as_ref()?.required_attestations.get(transport);
        most_specific(scopes, transport, identity)
            .map(|(required, scope)| (required, format!("sealkit.requiredAttestations.{transport}.{scope:?}")))
    }
}

impl TrustPolicy {}

/// The entry of `scopes` for the most specific scope `identity` falls under, and that scope.
fn most_specific<'a, T>(
    scopes: Option<&'a BTreeMap<String, Vec<T>>>,
    transport: &str,
    identity: &str,
) -> Option<(&'a [T], &'a str)> {
    let scopes = scopes?;
    let candidates = if transport == DOCKER {
        docker_scopes(identity)
    } else {
        path_scopes(transport, identity)
    };
    candidates
        .iter()
        .find_map(|scope| scopes.get_key_value(scope))
        .map(|(scope, entry)| (&entry[..], scope.as_str()))
}

/// A scope's form, by transport: a Docker scope names a host first; a path transport's scope
/// is an absolute path.
fn check_scope(transport: &str, scope: &str) -> Result<(), String> {
    if transport == DOCKER {
        return check_docker_scope(scope);
    }
    if [OCI, DIR].contains(&transport) && !scope.is_empty() && !scope.starts_with('/') {
        return Err(format!(
            "a {transport} scope is an absolute path (or \"\" for every {transport} image)"
        ));
    }
    Ok(())
}

/// The scopes an image of a path transport (`oci`, `dir`) falls under, most specific first:
/// `identity` is its absolute path, for `oci` followed by `:TAG` when a tag was given. As in
/// containers/image: the identity, the path without its tag, each parent folder but `/`, then
/// `""`.
fn path_scopes(transport: &str, identity: &str) -> Vec<String> {
    let mut candidates = vec![identity.to_owned()];
    let mut path = identity;
    if transport == OCI
        && let Some((untagged, _)) = identity.rsplit_once(':')
        && !untagged.is_empty()
    {
        candidates.push(untagged.to_owned());
        path = untagged;
    }
    while let Some((parent, _)) = path.rsplit_once('/') {
        if parent.is_empty() {
            break;
        }
        candidates.push(parent.to_owned());
        path = parent;
    }
    candidates.push(String::new());
    candidates
}

impl Requirement {
    fn check(&self) -> Result<(), String> {
        match self {
            Requirement::SignedBy(s) => {
                let sources = [s.key_path.is_some(), s.key_paths.is_some(), s.key_data.is_some()];
                if sources.iter().filter(|&&set| set).count() != 1 {
                    return Err("signedBy needs exactly one of keyPath, keyPaths and keyData".into());
                }
                if !["GPGKeys", "signedByGPGKeys", "X509Certificates", "signedByX509CAs"].contains(&s.key_type.as_str())
                {
                    return Err(format!("unknown keyType {:?}", s.key_type));
                }
                s.signed_identity.as_ref().map_or(Ok(()), Identity::check)
            }
            Requirement::SignedBaseLayer(s) => s.base_layer_identity.check(),
            Requirement::SigstoreSigned(s) => s.check(),
            Requirement::InsecureAcceptAnything | Requirement::Reject => Ok(()),
        }
    }
}

impl SigstoreSigned {
    fn check(&self) -> Result<(), String> {
        let keys = [
            self.key_path.is_some(),
            self.key_paths.is_some(),
            self.key_data.is_some(),
            self.key_datas.is_some(),
        ];
        let kinds =
            usize::from(keys.contains(&true)) + usize::from(self.fulcio.is_some()) + usize::from(self.pki.is_some());
        if kinds != 1 || keys.iter().filter(|&&set| set).count() > 1 {
            return Err(
                "sigstoreSigned needs exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki".into(),
            );
        }
        for list in [
            self.key_paths.as_ref().map(Vec::len),
            self.key_datas.as_ref().map(Vec::len),
        ] {
            if list == Some(0) {
                return Err("an empty keyPaths or keyDatas list".into());
            }
        }
        let rekor = [
            self.rekor_public_key_path.is_some(),
            self.rekor_public_key_paths.is_some(),
            self.rekor_public_key_data.is_some(),
            self.rekor_public_key_datas.is_some(),
        ];
        if rekor.iter().filter(|&&set| set).count() > 1 {
            return Err("give at most one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and rekorPublicKeyDatas".into());
        }
        if let Some(f) = &self.fulcio {
            if usize::from(f.ca_path.is_some()) + usize::from(f.ca_data.is_some()) != 1 {
                return Err("fulcio needs exactly one of caPath and caData".into());
            }
            if f.oidc_issuer.as_deref().unwrap_or("").is_empty() || f.subject_email.as_deref().unwrap_or("").is_empty()
            {
                return Err("fulcio needs oidcIssuer and subjectEmail".into());
            }
            if !rekor.contains(&true) {
                return Err(
                    "fulcio needs a Rekor public key: a certificate is only valid at the time Rekor attests".into(),
                );
            }
        }
        if let Some(p) = &self.pki {
            if usize::from(p.ca_roots_path.is_some()) + usize::from(p.ca_roots_data.is_some()) != 1 {
                return Err("pki needs exactly one of caRootsPath and caRootsData".into());
            }
            if p.ca_intermediates_path.is_some() && p.ca_intermediates_data.is_some() {
                return Err("pki takes at most one of caIntermediatesPath and caIntermediatesData".into());
            }
            if p.subject_email.is_none() && p.subject_hostname.is_none() {
                return Err("pki needs subjectEmail or subjectHostname".into());
            }
            if rekor.contains(&true) {
                return Err("pki takes no Rekor public key (containers/image refuses the pair)".into());
            }
        }
        for data in [&self.key_data, &self.rekor_public_key_data].into_iter().flatten() {
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| format!("key data is not base64: {e}"))?;
        }
        self.signed_identity.as_ref().map_or(Ok(()), Identity::check)
    }

    /// `signedIdentity`, or its default for sigstoreSigned.
    pub fn identity(&self) -> Identity {
        self.signed_identity.clone().unwrap_or(Identity::MatchRepoDigestOrExact)
    }
}

impl Identity {
    fn check(&self) -> Result<(), String> {
        match self {
            Identity::ExactReference { docker_reference } => match parse_named(docker_reference) {
                Some(r) if r.tag.is_some() || r.digest.is_some() => Ok(()),
                Some(_) => Err(format!("exactReference {docker_reference:?} names no tag or digest")),
                None => Err(format!("exactReference {docker_reference:?} is not a reference")),
            },
            Identity::ExactRepository { docker_repository } => match parse_named(docker_repository) {
                Some(_) => Ok(()),
                None => Err(format!("exactRepository {docker_repository:?} is not a repository")),
            },
            Identity::RemapIdentity { prefix, signed_prefix } => {
                for p in [prefix, signed_prefix] {
                    check_docker_scope(p).map_err(|why| format!("remapIdentity prefix {p:?}: {why}"))?;
                    let last = p.rsplit('/').next().unwrap_or(p);
                    if p.contains('@') || (p.contains('/') && last.contains(':')) {
                        return Err(format!(
                            "remapIdentity prefix {p:?} must be a repository or namespace, without a tag or digest"
                        ));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether a signature claiming `signed` (its `docker-reference`) may stand for the image
    /// named `intended` (the full normalised reference it was resolved from).
    pub fn matches(&self, intended: &str, signed: &str) -> bool {
        let (Some(want), Some(got)) = (parse_named(intended), parse_named(signed)) else {
            return match self {
                Identity::ExactReference { docker_reference } => exact(docker_reference, signed),
                Identity::ExactRepository { docker_repository } => same_repository(docker_repository, signed),
                _ => false,
            };
        };
        match self {
            Identity::MatchExact => !want.is_name_only() && !got.is_name_only() && want.to_string() == got.to_string(),
            Identity::MatchRepoDigestOrExact => repo_digest_or_exact(&want, &got),
            Identity::MatchRepository => want.name == got.name,
            Identity::ExactReference { docker_reference } => exact(docker_reference, signed),
            Identity::ExactRepository { docker_repository } => same_repository(docker_repository, signed),
            Identity::RemapIdentity { prefix, signed_prefix } => {
                let remapped = if has_prefix(&want.name, prefix) {
                    let text = want.to_string().replacen(prefix.as_str(), signed_prefix, 1);
                    match parse_named(&text) {
                        Some(r) => r,
                        None => return false,
                    }
                } else {
                    want
                };
                repo_digest_or_exact(&remapped, &got)
            }
        }
    }
}

fn exact(expected: &str, signed: &str) -> bool {
    match (parse_named(expected), parse_named(signed)) {
        (Some(a), Some(b)) => !a.is_name_only() && !b.is_name_only() && a.to_string() == b.to_string(),
        _ => false,
    }
}

fn same_repository(expected: &str, signed: &str) -> bool {
    match (parse_named(expected), parse_named(signed)) {
        (Some(a), Some(b)) => a.name == b.name,
        _ => false,
    }
}

/// containers/image's `matchRepoDigestOrExact`: a tagged image needs a signature for that
/// tag; an image pinned by digest accepts any signature of its repository (the digest itself is
/// checked against the signature's manifest digest); a name alone matches nothing.
fn repo_digest_or_exact(intended: &Named, signed: &Named) -> bool {
    if signed.is_name_only() {
        return false;
    }
    if intended.tag.is_some() {
        intended.to_string() == signed.to_string()
    } else if intended.digest.is_some() {
        intended.name == signed.name
    } else {
        false
    }
}

/// `name` is `prefix` or below it (a `/` follows).
fn has_prefix(name: &str, prefix: &str) -> bool {
    name == prefix || name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// A reference as Docker normalises it: `name` (`docker.io/library/busybox`), tag, digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Named {
    fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }
}

impl std::fmt::Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Parses `text` as Docker's `ParseNormalizedNamed` does (no tag is added); `None` if it is not
/// a reference.
pub fn parse_named(text: &str) -> Option<Named> {
    let reference: oci_spec::distribution::Reference = text.parse().ok()?;
    // oci-spec adds `latest` to a reference without tag or digest; a name alone must stay one.
    let (before_digest, _) = text.split_once('@').unwrap_or((text, ""));
    let last = before_digest.rsplit('/').next().unwrap_or(before_digest);
    let tag = last.contains(':').then(|| reference.tag().map(str::to_owned)).flatten();
    Some(Named {
        // `registry()`, not `resolve_registry()`: the latter is where Docker Hub is fetched
        // from (index.docker.io), not its name in references and scopes (docker.io).
        name: format!("{}/{}", reference.registry(), reference.repository()),
        tag,
        digest: reference.digest().map(str::to_owned),
    })
}

/// containers/image's rule for a docker scope: a full reference, a repository, a namespace, a
/// host (with port), or `*.` and a domain; never with `docker.io/library` implied.
fn check_docker_scope(scope: &str) -> Result<(), String> {
    if let Some(domain) = scope.strip_prefix("*.") {
        if domain.is_empty() || domain.contains(['/', ':', '@', '*']) {
            return Err("a wildcard scope is `*.` and a domain, nothing more".into());
        }
        return Ok(());
    }
    if scope.is_empty() {
        return Ok(());
    }
    if scope.contains('*') {
        return Err("`*` is allowed only as a leading `*.` of a domain".into());
    }
    if !begins_with_host(scope) {
        // containers/image accepts such a scope, which can never match: accepted here too (an
        // existing policy reads as it is), and named by `TrustPolicy::unreachable_scopes`.
        return Ok(());
    }
    if scope.contains('/') || scope.contains('@') {
        parse_named(scope).ok_or_else(|| format!("{scope:?} is not a valid reference or namespace"))?;
    }
    Ok(())
}

fn begins_with_host(scope: &str) -> bool {
    let (host, _) = scope.split_once('/').unwrap_or((scope, ""));
    host.contains('.') || host.contains(':') || host == "localhost"
}

/// The scopes `reference` falls under, most specific first, as containers/image's docker
/// transport lists them: the reference itself, its repository, each namespace above it, the
/// host, the wildcarded parent domains of the host, and `""`.
fn docker_scopes(reference: &str) -> Vec<String> {
    let mut scopes = Vec::new();
    let Some(named) = parse_named(reference) else {
        return vec![String::new()];
    };
    if !named.is_name_only() {
        scopes.push(named.to_string());
    }
    let mut name = named.name.as_str();
    scopes.push(name.to_owned());
    while let Some((parent, _)) = name.rsplit_once('/') {
        scopes.push(parent.to_owned());
        name = parent;
    }
    let host = name.split(':').next().unwrap_or(name);
    let mut domain = host;
    // `*.example.com` covers `a.example.com` and `b.a.example.com`, not `example.com` itself.
    while let Some((_, parent)) = domain.split_once('.') {
        scopes.push(format!("*.{parent}"));
        domain = parent;
    }
    scopes.push(String::new());
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Result<TrustPolicy, PolicyError> {
        TrustPolicy::parse(json.as_bytes(), "policy.json")
    }

    /// containers/image's own example policy (signature/fixtures/policy.json, Apache-2.0) reads.
    #[test]
    fn the_upstream_example_policy_reads() {
        let p = policy(include_str!("testdata/containers-image/policy.json")).unwrap();
        assert!(matches!(p.default[..], [Requirement::Reject]));
        let (r, scope) = p.for_docker("example.com/playground/app:1");
        assert!(matches!(r[..], [Requirement::InsecureAcceptAnything]), "{scope}");
    }

    #[test]
    fn unknown_types_and_fields_are_errors_naming_where() {
        let e = policy(r#"{"default":[{"type":"acceptIfNice"}]}"#).unwrap_err();
        assert!(e.at.starts_with("default[0]"), "{e}");
        assert!(e.message.contains("acceptIfNice"), "{e}");
        let e = policy(r#"{"default":[{"type":"reject"}],"transports":{"docker":{"quay.io":[{"type":"sigstoreSigned","keyPath":"/k","keyPaht":"/k"}]}}}"#).unwrap_err();
        assert!(e.at.contains("quay.io"), "{e}");
        assert!(e.message.contains("keyPaht"), "{e}");
        let e = policy(r#"{"default":[]}"#).unwrap_err();
        assert_eq!(e.at, "default");
        let loose =
            policy(r#"{"default":[{"type":"reject"}],"transports":{"docker":{"busybox":[{"type":"reject"}]}}}"#)
                .unwrap();
        assert_eq!(loose.unreachable_scopes(), [r#"transports.docker."busybox""#]);
        let e = policy(r#"{"default":[{"type":"sigstoreSigned","keyPath":"/a","keyData":"AA=="}]}"#).unwrap_err();
        assert!(e.message.contains("exactly one"), "{e}");
        let e = policy(r#"{"default":[{"type":"sigstoreSigned","fulcio":{"caPath":"/ca","oidcIssuer":"https://i","subjectEmail":"a@b"}}]}"#).unwrap_err();
        assert!(e.message.contains("Rekor"), "{e}");
        let e = policy("{\n  \"default\": [\n").unwrap_err();
        assert!(e.at.starts_with("line 3"), "{e}");
    }

    #[test]
    fn the_most_specific_scope_decides() {
        let p = policy(
            r#"{"default":[{"type":"reject"}],"transports":{"docker":{
                "registry.example.com/team/app:stable":[{"type":"insecureAcceptAnything"}],
                "registry.example.com/team":[{"type":"sigstoreSigned","keyPath":"/team.pub"}],
                "registry.example.com":[{"type":"reject"}],
                "*.example.com":[{"type":"sigstoreSigned","keyPath":"/wild.pub"}],
                "":[{"type":"sigstoreSigned","keyPath":"/any.pub"}]}}}"#,
        )
        .unwrap();
        let scope = |r: &str| p.for_docker(r).1;
        assert_eq!(
            scope("registry.example.com/team/app:stable"),
            r#"transports.docker."registry.example.com/team/app:stable""#
        );
        assert_eq!(
            scope("registry.example.com/team/app:1"),
            r#"transports.docker."registry.example.com/team""#
        );
        assert_eq!(
            scope("registry.example.com/team/sub/app:1"),
            r#"transports.docker."registry.example.com/team""#
        );
        assert_eq!(
            scope("registry.example.com/other:1"),
            r#"transports.docker."registry.example.com""#
        );
        assert_eq!(
            scope("mirror.eu.example.com/x:1"),
            r#"transports.docker."*.example.com""#
        );
        assert_eq!(scope("eu.example.com/x:1"), r#"transports.docker."*.example.com""#);
        assert_eq!(scope("example.com/x:1"), r#"transports.docker."""#);
        assert_eq!(scope("busybox:1"), r#"transports.docker."""#);
        let bare = policy(r#"{"default":[{"type":"reject"}]}"#).unwrap();
        assert_eq!(bare.for_docker("busybox").1, "default");
    }

    #[test]
    fn identities_match_as_containers_image_matches_them() {
        let tagged = "docker.io/library/busybox:1";
        let pinned =
            "docker.io/library/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000";
        let default = Identity::MatchRepoDigestOrExact;
        assert!(default.matches(tagged, "busybox:1"));
        assert!(!default.matches(tagged, "busybox:2"));
        assert!(default.matches(pinned, "busybox:anything"));
        assert!(
            !default.matches(pinned, "busybox"),
            "a signature naming no tag matches nothing"
        );
        assert!(!default.matches(pinned, "other:1"));
        assert!(Identity::MatchRepository.matches(tagged, "docker.io/library/busybox:9"));
        assert!(!Identity::MatchExact.matches(pinned, "busybox:1"));
        assert!(Identity::MatchExact.matches(tagged, "busybox:1"));
        let exact = Identity::ExactReference {
            docker_reference: "quay.io/team/app:1".into(),
        };
        assert!(exact.matches(tagged, "quay.io/team/app:1"));
        assert!(!exact.matches(tagged, "quay.io/team/app:2"));
        let repo = Identity::ExactRepository {
            docker_repository: "quay.io/team/app".into(),
        };
        assert!(repo.matches(tagged, "quay.io/team/app:7"));
        let remap = Identity::RemapIdentity {
            prefix: "mirror.example.com/upstream".into(),
            signed_prefix: "quay.io/team".into(),
        };
        assert!(remap.matches("mirror.example.com/upstream/app:1", "quay.io/team/app:1"));
        assert!(!remap.matches("mirror.example.com/upstreamer/app:1", "quay.io/team/app:1"));
    }
}
