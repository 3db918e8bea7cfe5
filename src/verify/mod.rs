//! Verification before boot: the image files, the bundles beside them and trusted public keys
//! in; a typed result out, listing every check and whether it held.
//!
//! Modelled on sigstore-go's `verify`: a [`Policy`] is built from explicit options and refuses
//! contradictory ones before anything is read; nothing is skipped silently; and the outcome is a
//! [`Verification`] document (its own media type) that says what was verified — a caller decides
//! on [`Verification::passed`], never on the mere absence of an error. Errors are bad input
//! (exit 2); failed checks are the verdict (exit 1).

pub mod rebuild;
pub mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use crate::attest::statement::{self, PAYLOAD_TYPE, Statement};
use crate::attest::{AttestError, Bundle, Provenance};
use crate::image::digest::Digest;
use crate::keys::{KeyError, PublicKey};

pub use source::{Artifacts, Local, RawBundle, Source};

crate::error_codes! {
    BadOptions = "verify-options": "Verification options that contradict each other or are incomplete (no key, nothing required, a check of an attestation that is not required).",
    BadTarget = "verify-target": "The target to verify cannot be read, or holds something other than files.",
}

/// The media type of a [`Verification`] rendered as JSON.
pub const RESULT_MEDIA_TYPE: &str = "application/vnd.sealkit.verification.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{what}: {message}\n  hint: {hint}")]
    Input {
        code: Code,
        what: String,
        message: String,
        hint: String,
    },
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Bundle(#[from] AttestError),
}

impl VerifyError {
    fn options(message: impl Into<String>, hint: impl Into<String>) -> Self {
        VerifyError::Input {
            code: Code::BadOptions,
            what: "verify".into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn target(path: &Path, message: impl Into<String>, hint: impl Into<String>) -> Self {
        VerifyError::Input {
            code: Code::BadTarget,
            what: path.display().to_string(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The stable code of the error (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Input { code, .. } => code.as_str(),
            VerifyError::Key(e) => e.code().as_str(),
            VerifyError::Bundle(e) => e.code().as_str(),
        }
    }
}

/// An attestation that must cover every artifact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Requirement {
    /// SLSA provenance v1.
    Provenance,
    /// An SPDX or CycloneDX SBOM.
    Sbom,
    /// A policy verification summary (its verdict must be PASSED).
    Policy,
    /// sealkit's blob signature (`sealkit sign`).
    Signature,
    /// cosign's vulnerability scan predicate: the packages were matched against advisories.
    Vulnerabilities,
    /// A statement of this predicate type.
    Type(String),
}

impl FromStr for Requirement {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "provenance" => Requirement::Provenance,
            "sbom" => Requirement::Sbom,
            "policy" => Requirement::Policy,
            "signature" => Requirement::Signature,
            "vuln" | "vulnerabilities" => Requirement::Vulnerabilities,
            uri if uri.contains("://") => Requirement::Type(uri.to_owned()),
            other => {
                return Err(format!(
                    "{other:?} is not an attestation: use provenance, sbom, policy, signature, vuln or a predicate type URI"
                ));
            }
        })
    }
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Requirement::Provenance => "provenance",
            Requirement::Sbom => "sbom",
            Requirement::Policy => "policy",
            Requirement::Signature => "signature",
            Requirement::Vulnerabilities => "vuln",
            Requirement::Type(uri) => uri,
        })
    }
}

impl Requirement {
    fn is_met_by(&self, predicate_type: &str) -> bool {
        let family = |base: &str| predicate_type == base || predicate_type.starts_with(&format!("{base}/"));
        match self {
            Requirement::Provenance => predicate_type == statement::PROVENANCE,
            Requirement::Sbom => family(statement::SPDX) || family(statement::CYCLONEDX),
            Requirement::Policy => predicate_type == statement::VERIFICATION_SUMMARY,
            Requirement::Signature => predicate_type == statement::SIGNATURE,
            Requirement::Vulnerabilities => predicate_type == statement::VULNERABILITIES,
            Requirement::Type(uri) => predicate_type == uri,
        }
    }
}

/// What the caller asks for, before it is checked to make sense.
#[derive(Default)]
pub struct Options {
    /// The trusted keys: a bundle holds if any of them signed it.
    pub keys: Vec<PublicKey>,
    /// Attestations that must cover every artifact.
    pub require: Vec<Requirement>,
    /// The policy set the verdict must come from (`sha256:…`).
    pub policy_digest: Option<String>,
    /// The oldest policy decision accepted, in seconds before `now`.
    pub max_age: Option<u64>,
    /// The oldest advisory database accepted behind the vulnerability attestation: its newest
    /// entry at most this many seconds before `now`.
    pub max_db_age: Option<u64>,
    /// The time `max_age` and `max_db_age` count back from (seconds since 1970).
    pub now: Option<u64>,
    /// The configuration files the provenance must name, in order: (name, digest).
    pub expect_configs: Vec<(String, Digest)>,
    /// Keyless signers: a bundle with a Fulcio certificate holds if the certificate names one
    /// of these identities with its OIDC issuer, checked under `trusted_root` (the time a log
    /// entry must not be after is `now`).
    pub identities: Vec<(crate::sigstore::Identity, String)>,
    pub trusted_root: Option<crate::sigstore::TrustedRoot>,
}

/// A checked set of options: what [`verify`] enforces.
pub struct Policy {
    keys: Vec<PublicKey>,
    identities: Vec<(crate::sigstore::Identity, String)>,
    trusted_root: Option<crate::sigstore::TrustedRoot>,
    now: i64,
    require: BTreeSet<Requirement>,
    policy_digest: Option<Digest>,
    max_age: Option<(u64, u64)>,
    max_db_age: Option<(u64, u64)>,
    expect_configs: Vec<(String, Digest)>,
}

impl Policy {
    /// Refuses options that cannot be verified as asked: no key, nothing required, or a check
    /// of an attestation the requirements leave out (it would never run).
    pub fn new(options: Options) -> Result<Policy, VerifyError> {
        if options.keys.is_empty() && options.identities.is_empty() {
            return Err(VerifyError::options(
                "no trusted key or identity was given",
                "pass --key PUB (the public key the image was signed with), or --certificate-identity and \
                 --certificate-oidc-issuer for keyless bundles",
            ));
        }
        if !options.identities.is_empty() && options.trusted_root.is_none() {
            return Err(VerifyError::options(
                "keyless identities need a trusted root",
                "a bug: report it",
            ));
        }
        let trusted_root = options.trusted_root;
        let require: BTreeSet<Requirement> = options.require.into_iter().collect();
        if require.is_empty() {
            return Err(VerifyError::options(
                "nothing is required",
                "name the attestations that must cover the image: --require provenance,sbom,policy",
            ));
        }
        let needs = |r: Requirement, option: &str| {
            if require.contains(&r) {
                Ok(())
            } else {
                Err(VerifyError::options(
                    format!("{option} checks the {r} attestation, which --require leaves out"),
                    format!("add {r} to --require, or drop {option}"),
                ))
            }
        };
        let policy_digest = match options.policy_digest {
            Some(text) => {
                needs(Requirement::Policy, "--policy-digest")?;
                Some(text.parse::<Digest>().map_err(|e| {
                    VerifyError::options(format!("--policy-digest: {e}"), "pass the policy set's sha256:… digest")
                })?)
            }
            None => None,
        };
        let max_age = match options.max_age {
            Some(age) => {
                needs(Requirement::Policy, "--max-age")?;
                let now = options
                    .now
                    .ok_or_else(|| VerifyError::options("--max-age needs the current time", "a bug: report it"))?;
                Some((age, now))
            }
            None => None,
        };
        let max_db_age = match options.max_db_age {
            Some(age) => {
                needs(Requirement::Vulnerabilities, "--max-db-age")?;
                let now = options
                    .now
                    .ok_or_else(|| VerifyError::options("--max-db-age needs the current time", "a bug: report it"))?;
                Some((age, now))
            }
            None => None,
        };
        if !options.expect_configs.is_empty() {
            needs(Requirement::Provenance, "--expect-config")?;
        }
        let mut keys = options.keys;
        keys.dedup();
        Ok(Policy {
            keys,
            identities: options.identities,
            trusted_root,
            now: options.now.and_then(|n| i64::try_from(n).ok()).unwrap_or(0),
            require,
            policy_digest,
            max_age,
            max_db_age,
            expect_configs: options.expect_configs,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// A bundle's signature is a trusted key's.
    Signature,
    /// A signed payload is an in-toto statement.
    Statement,
    /// A statement's subjects are the artifacts' digests.
    Subject,
    /// A document the provenance lists beside the image is unchanged.
    Byproduct,
    /// An artifact is covered by a required attestation.
    Attested,
    /// A policy decision passed.
    PolicyVerdict,
    /// The decision came from the expected policy set.
    PolicyDigest,
    /// The decision is recent enough.
    PolicyAge,
    /// The advisory database behind the vulnerability attestation is recent enough.
    VulnDbAge,
    /// The provenance is sealkit's and names the expected configuration.
    ExpectConfig,
    /// An independent rebuild gave the same files.
    Rebuild,
    /// A UKI's Authenticode signature is one the firmware's db accepts.
    SecureBoot,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Signature => "signature",
            CheckKind::Statement => "statement",
            CheckKind::Subject => "subject",
            CheckKind::Byproduct => "byproduct",
            CheckKind::Attested => "attested",
            CheckKind::PolicyVerdict => "policy-verdict",
            CheckKind::PolicyDigest => "policy-digest",
            CheckKind::PolicyAge => "policy-age",
            CheckKind::VulnDbAge => "vulndb-age",
            CheckKind::ExpectConfig => "expect-config",
            CheckKind::Rebuild => "rebuild",
            CheckKind::SecureBoot => "secure-boot",
        }
    }
}

/// One check: what was checked, about what, whether it held and why.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: CheckKind,
    /// The bundle, file or attestation checked.
    pub subject: String,
    pub passed: bool,
    pub detail: String,
}

/// A statement whose signature held: where it came from, who signed it, what it is about.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedStatement {
    pub bundle: String,
    pub key_id: String,
    pub predicate_type: String,
    pub subjects: Vec<String>,
    #[serde(skip)]
    pub statement: Statement,
}

/// The outcome of [`verify`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub media_type: &'static str,
    pub target: String,
    pub passed: bool,
    pub keys: Vec<String>,
    pub required: Vec<String>,
    /// The files verified, with their sha256.
    pub artifacts: BTreeMap<String, String>,
    pub statements: Vec<VerifiedStatement>,
    pub checks: Vec<Check>,
}

impl Verification {
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// Adds a check made after [`verify`] (the rebuild), updating the verdict.
    pub fn push(&mut self, check: Check) {
        self.passed &= check.passed;
        self.checks.push(check);
    }

    /// The verified provenance statements' predicates about the artifacts.
    pub fn provenances(&self) -> impl Iterator<Item = Provenance> + '_ {
        self.statements
            .iter()
            .filter(|s| s.predicate_type == statement::PROVENANCE)
            .filter_map(|s| serde_json::from_value(s.statement.predicate.clone()).ok())
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn add(&mut self, check: CheckKind, subject: &str, passed: bool, detail: impl Into<String>) {
        self.0.push(Check {
            check,
            subject: subject.to_owned(),
            passed,
            detail: detail.into(),
        });
    }
}

/// Verifies `source` under `policy`. Malformed bundles and unreadable targets are errors;
/// everything else is a check in the result.
pub fn verify(source: &dyn Source, policy: &Policy) -> Result<Verification, VerifyError> {
    let artifacts = source.artifacts()?;
    let bundles = source.bundles()?;
    let mut checks = Checks(Vec::new());
    let mut statements: Vec<VerifiedStatement> = Vec::new();

    for raw in &bundles {
        let (signer, envelope) = match Bundle::parse(&raw.bytes, &raw.name) {
            Ok(bundle) => {
                let envelope = bundle.dsse_envelope;
                let Some(key) = envelope.signed_by(&policy.keys) else {
                    checks.add(
                        CheckKind::Signature,
                        &raw.name,
                        false,
                        format!(
                            "no trusted key made this signature (its key hint: {})",
                            bundle.verification_material.public_key.hint
                        ),
                    );
                    continue;
                };
                checks.add(
                    CheckKind::Signature,
                    &raw.name,
                    true,
                    format!("signed by {} key {}", key.algorithm(), key.key_id()),
                );
                (key.key_id(), envelope)
            }
            // A Fulcio certificate instead of a key: the Sigstore verifier judges it.
            Err(e) if e.broken == crate::bundle::Broken::Unsupported && !policy.identities.is_empty() => {
                match keyless(raw, policy) {
                    Ok((identity, envelope)) => {
                        checks.add(CheckKind::Signature, &raw.name, true, format!("signed by {identity}"));
                        (identity, envelope)
                    }
                    Err(why) => {
                        checks.add(CheckKind::Signature, &raw.name, false, why);
                        continue;
                    }
                }
            }
            Err(e) => return Err(crate::attest::AttestError::from(e).into()),
        };
        // Only the exact bytes that were verified are parsed.
        let parsed = if envelope.payload_type == PAYLOAD_TYPE {
            Statement::parse(&envelope.payload)
        } else {
            Err(format!("payloadType {:?} is not {PAYLOAD_TYPE}", envelope.payload_type))
        };
        match parsed {
            Ok(s) => {
                checks.add(CheckKind::Statement, &raw.name, true, s.predicate_type.clone());
                statements.push(VerifiedStatement {
                    bundle: raw.name.clone(),
                    key_id: signer.clone(),
                    predicate_type: s.predicate_type.clone(),
                    subjects: s.subject.iter().filter_map(|d| d.name.clone()).collect(),
                    statement: s,
                });
            }
            Err(why) => checks.add(CheckKind::Statement, &raw.name, false, why),
        }
    }

    // Which statements are about the artifacts, and whether their subjects agree with them.
    statements.retain(|s| {
        let mut wrong = Vec::new();
        let mut about = false;
        for subject in &s.statement.subject {
            let hex = subject.sha256().unwrap_or_default();
            let name = subject.name.as_deref().unwrap_or("");
            match artifacts.files.get(name) {
                Some(d) if d.hex() == hex => about = true,
                Some(d) => wrong.push(format!(
                    "{name}: the file's sha256 is {}, the statement's {hex}",
                    d.hex()
                )),
                None if artifacts.complete => wrong.push(format!("{name}: no such file")),
                None => about |= artifacts.files.values().any(|d| d.hex() == hex),
            }
        }
        if !wrong.is_empty() {
            checks.add(CheckKind::Subject, &s.bundle, false, wrong.join("; "));
        } else if about {
            checks.add(
                CheckKind::Subject,
                &s.bundle,
                true,
                format!("{} subjects match", s.statement.subject.len()),
            );
        }
        about || !wrong.is_empty()
    });
    let provenances: Vec<(&VerifiedStatement, Option<Provenance>)> = statements
        .iter()
        .filter(|s| s.predicate_type == statement::PROVENANCE)
        .map(|s| (s, serde_json::from_value(s.statement.predicate.clone()).ok()))
        .collect();

    // Documents beside the image: unchanged, and not counted as image files.
    let mut byproducts: BTreeSet<&str> = BTreeSet::new();
    if artifacts.complete {
        for (s, provenance) in &provenances {
            for b in provenance.iter().flat_map(|p| &p.run_details.byproducts) {
                let Some(name) = b.name.as_deref() else { continue };
                byproducts.insert(name);
                let hex = b.sha256().unwrap_or_default();
                let (passed, detail) = match artifacts.files.get(name) {
                    Some(d) if d.hex() == hex => (true, format!("unchanged, as {} lists it", s.bundle)),
                    Some(d) => (
                        false,
                        format!("sha256 {} differs from {hex}, which {} lists", d.hex(), s.bundle),
                    ),
                    None => (false, format!("{} lists it, and the folder lacks it", s.bundle)),
                };
                checks.add(CheckKind::Byproduct, name, passed, detail);
            }
        }
    }

    // Every artifact is covered by every required attestation.
    let images: Vec<(&String, &Digest)> = artifacts
        .files
        .iter()
        .filter(|(n, _)| !byproducts.contains(n.as_str()))
        .collect();
    if images.is_empty() {
        checks.add(
            CheckKind::Attested,
            &source.target(),
            false,
            "there is no image file to verify",
        );
    }
    for (name, digest) in &images {
        for requirement in &policy.require {
            let by: Vec<&str> = statements
                .iter()
                .filter(|s| requirement.is_met_by(&s.predicate_type))
                .filter(|s| s.statement.subject.iter().any(|d| d.sha256() == Some(digest.hex())))
                .map(|s| s.bundle.as_str())
                .collect();
            let subject = format!("{name}: {requirement}");
            if by.is_empty() {
                checks.add(
                    CheckKind::Attested,
                    &subject,
                    false,
                    "no verified statement of this kind names the file's sha256",
                );
            } else {
                checks.add(CheckKind::Attested, &subject, true, format!("by {}", by.join(", ")));
            }
        }
    }

    check_policy(&statements, policy, &mut checks);
    check_vulnerability_database(&statements, policy, &mut checks);
    check_configs(&provenances, policy, &mut checks);

    let passed = checks.0.iter().all(|c| c.passed);
    Ok(Verification {
        media_type: RESULT_MEDIA_TYPE,
        target: source.target(),
        passed,
        keys: policy.keys.iter().map(PublicKey::key_id).collect(),
        required: policy.require.iter().map(ToString::to_string).collect(),
        artifacts: artifacts
            .files
            .iter()
            .map(|(n, d)| (n.clone(), d.to_string()))
            .collect(),
        statements,
        checks: checks.0,
    })
}

/// Checks, as the firmware will, the Authenticode signature of every UKI (`NAME.efi`) among
/// the verified files of `folder` against the Secure Boot `db` certificates, and adds the
/// checks to `verification`. Each file must still be the one verified.
pub fn secure_boot(folder: &Path, verification: &mut Verification, db: &[crate::certificates::Certificate]) {
    let ukis: Vec<(String, String)> = verification
        .artifacts
        .iter()
        .filter(|(name, _)| name.ends_with(".efi"))
        .map(|(name, digest)| (name.clone(), digest.clone()))
        .collect();
    if ukis.is_empty() {
        let target = verification.target.clone();
        verification.push(Check {
            check: CheckKind::SecureBoot,
            subject: target,
            passed: false,
            detail: "no UKI (NAME.efi) among the image's files to check: build with --format uki --sign-uki".into(),
        });
        return;
    }
    for (name, digest) in ukis {
        let path = folder.join(&name);
        let outcome = std::fs::read(&path)
            .map_err(|e| format!("cannot be read: {e}"))
            .and_then(|bytes| {
                if Digest::of(&bytes).to_string() != digest {
                    return Err("changed since its digest was verified".to_owned());
                }
                crate::authenticode::verify(&bytes, db)
            });
        let (passed, detail) = match outcome {
            Ok(v) => (
                true,
                format!("signed by {} (Authenticode {})", v.signer, v.authenticode_digest),
            ),
            Err(why) => (false, why),
        };
        verification.push(Check {
            check: CheckKind::SecureBoot,
            subject: name,
            passed,
            detail,
        });
    }
}

/// Every policy decision present passed (required or not: a signed FAILED is never ignored),
/// came from the expected policy set and is recent enough.
fn check_policy(statements: &[VerifiedStatement], policy: &Policy, checks: &mut Checks) {
    let failed_tests: Vec<String> = statements
        .iter()
        .filter(|s| s.predicate_type == statement::TEST_RESULT)
        .flat_map(|s| {
            s.statement.predicate["failedTests"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    for s in statements {
        let p = &s.statement.predicate;
        if s.predicate_type == statement::TEST_RESULT {
            let result = p["result"].as_str().unwrap_or("(none)");
            checks.add(
                CheckKind::PolicyVerdict,
                &s.bundle,
                result != "FAILED",
                format!("test result {result}"),
            );
        }
        if s.predicate_type != statement::VERIFICATION_SUMMARY {
            continue;
        }
        let result = p["verificationResult"].as_str().unwrap_or("(none)");
        let detail = if result == "PASSED" || failed_tests.is_empty() {
            format!("verificationResult {result}")
        } else {
            format!("verificationResult {result}; denied: {}", failed_tests.join(", "))
        };
        checks.add(CheckKind::PolicyVerdict, &s.bundle, result == "PASSED", detail);
        if let Some(expected) = &policy.policy_digest {
            let got = p["policy"]["digest"]["sha256"].as_str().unwrap_or("(none)");
            checks.add(
                CheckKind::PolicyDigest,
                &s.bundle,
                got == expected.hex(),
                format!("policy set sha256:{got}, expected {expected}"),
            );
        }
        if let Some((max_age, now)) = policy.max_age {
            let (passed, detail) = recent(
                p["timeVerified"].as_str(),
                "timeVerified",
                "the decision carries no time (attest with SOURCE_DATE_EPOCH or --timestamps)",
                "decided at",
                (max_age, now),
            );
            checks.add(CheckKind::PolicyAge, &s.bundle, passed, detail);
        }
    }
}

/// A keyless bundle verified by the Sigstore verifier for one of the policy's identities (its
/// certificate chain, SCT, log entries and timestamps under the trusted root), and its
/// envelope; or why for none.
fn keyless(raw: &RawBundle, policy: &Policy) -> Result<(String, crate::dsse::Envelope), String> {
    use crate::sigstore::{Artifact, Signer, Tlog};
    let root = policy.trusted_root.as_ref().ok_or("no trusted root")?;
    let mut refusals = Vec::new();
    for (identity, issuer) in &policy.identities {
        let signer = Signer::Identity { identity, issuer };
        match crate::sigstore::verify(
            &raw.bytes,
            &Artifact::Subjects,
            &signer,
            root,
            policy.now,
            Tlog::Required,
        ) {
            Ok(verified) => {
                let value: serde_json::Value = serde_json::from_slice(&raw.bytes).map_err(|e| e.to_string())?;
                let envelope: crate::dsse::Envelope = serde_json::from_value(value["dsseEnvelope"].clone())
                    .map_err(|_| "a keyless bundle without a DSSE envelope holds no statement".to_owned())?;
                let who = format!(
                    "{} (issuer {})",
                    verified.identity.unwrap_or_default(),
                    verified.issuer.unwrap_or_default()
                );
                return Ok((who, envelope));
            }
            Err(why) => refusals.push(why),
        }
    }
    Err(format!("keyless: {}", refusals.join("; ")))
}

/// With `--max-db-age`, each vulnerability attestation's database (`scanner.db.version`: its
/// newest entry) must be recent enough: a scan against old data misses what became known since.
fn check_vulnerability_database(statements: &[VerifiedStatement], policy: &Policy, checks: &mut Checks) {
    let Some((max_age, now)) = policy.max_db_age else {
        return;
    };
    for s in statements
        .iter()
        .filter(|s| s.predicate_type == statement::VULNERABILITIES)
    {
        let version = s.statement.predicate["scanner"]["db"]["version"]
            .as_str()
            .filter(|t| !t.is_empty());
        let (passed, detail) = recent(
            version,
            "scanner.db.version",
            "the scan names no database time (scanner.db.version)",
            "newest advisory",
            (max_age, now),
        );
        checks.add(CheckKind::VulnDbAge, &s.bundle, passed, detail);
    }
}

/// Whether the RFC 3339 time `field` (`what` in the detail) is at most `max_age` seconds
/// before `now`, and why.
fn recent(time: Option<&str>, field: &str, missing: &str, what: &str, (max_age, now): (u64, u64)) -> (bool, String) {
    match time.map(|t| (t, parse_rfc3339(t))) {
        None => (false, missing.to_owned()),
        Some((t, None)) => (false, format!("{field} {t:?} is not an RFC 3339 UTC time")),
        Some((t, Some(at))) => {
            let age = now.saturating_sub(at);
            (
                age <= max_age,
                format!("{what} {t}, {age} s before now (at most {max_age} s accepted)"),
            )
        }
    }
}

/// With expected configuration files, each provenance must be sealkit's and name exactly them,
/// in order.
fn check_configs(provenances: &[(&VerifiedStatement, Option<Provenance>)], policy: &Policy, checks: &mut Checks) {
    if policy.expect_configs.is_empty() {
        return;
    }
    for (s, provenance) in provenances {
        let parameters = provenance
            .as_ref()
            .ok_or_else(|| "the predicate is not SLSA provenance v1".to_owned())
            .and_then(Provenance::parameters);
        let (passed, detail) = match parameters {
            Err(why) => (false, why),
            Ok(params) => {
                let named: Vec<(Option<&str>, Option<&str>)> =
                    params.configs.iter().map(|c| (c.name.as_deref(), c.sha256())).collect();
                let expected: Vec<(Option<&str>, Option<&str>)> = policy
                    .expect_configs
                    .iter()
                    .map(|(n, d)| (Some(n.as_str()), Some(d.hex())))
                    .collect();
                let show = |list: &[(Option<&str>, Option<&str>)]| {
                    list.iter()
                        .map(|(n, d)| format!("{} sha256:{}", n.unwrap_or("?"), d.unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                // Files are matched by content; their names may differ between machines.
                let same = named.len() == expected.len() && named.iter().zip(&expected).all(|(a, b)| a.1 == b.1);
                if same {
                    (true, format!("built from {}", show(&named)))
                } else {
                    (
                        false,
                        format!("built from {}; expected {}", show(&named), show(&expected)),
                    )
                }
            }
        };
        checks.add(CheckKind::ExpectConfig, &s.bundle, passed, detail);
    }
}

/// `30d`, `12h`, `15m`, `90s` or plain seconds, in seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?} is not a duration (a number and s, m, h or d: 30d)")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?} is not a duration (a number and s, m, h or d: 30d)"))
}

/// Seconds since 1970 of `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the form sealkit and SLSA write.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    crate::epoch::parse_rfc3339_millis(text).and_then(|millis| u64::try_from(millis.div_euclid(1000)).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_reads_what_epoch_writes() {
        for t in [0, 951_782_400, crate::epoch::LINUXKIT_BUILD_TIME, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&crate::epoch::rfc3339(t)), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2017-04-18T16:30:00.25Z"),
            Some(crate::epoch::LINUXKIT_BUILD_TIME)
        );
        for bad in [
            "2017-04-18 16:30:00Z",
            "2017-13-18T16:30:00Z",
            "2017-04-18T16:30:00+01:00",
            "2017-04-18T16:30:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("90"), Ok(90));
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    /// Every single-byte change of the signature, of the signed payload (which holds the
    /// subject's name and digest) and of the file itself fails verification, naming the check.
    #[test]
    fn every_flipped_byte_of_signature_payload_or_file_fails() {
        use crate::attest::{self, Bundle};
        use crate::dsse::Envelope;
        use crate::keys::{Algorithm, SigningKey};
        for algorithm in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let key = SigningKey::generate(algorithm).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("image.iso");
            let content = b"thirty-two bytes of boot image!!".to_vec();
            std::fs::write(&file, &content).unwrap();
            let statement = attest::signature_statement("image.iso", &Digest::of(&content));
            let bundle = attest::sign(&statement, &key);
            let bundle_path = dir.path().join("image.iso.sigstore.json");
            let policy = Policy::new(Options {
                keys: vec![key.public_key().clone()],
                require: vec![Requirement::Signature],
                ..Options::default()
            })
            .unwrap();
            let failed_checks = || -> Vec<CheckKind> {
                let source = Local::open(&file, vec![]).unwrap();
                let v = verify(&source, &policy).unwrap();
                assert_eq!(v.passed, v.failed().next().is_none());
                v.failed().map(|c| c.check).collect()
            };
            let write = |envelope: &Envelope| {
                let b = Bundle::new(envelope.clone(), key.public_key().key_id());
                std::fs::write(&bundle_path, b.to_json()).unwrap();
            };
            write(&bundle.dsse_envelope);
            assert_eq!(failed_checks(), [], "{algorithm}: the untouched bundle verifies");

            let envelope = &bundle.dsse_envelope;
            for i in 0..envelope.signatures[0].sig.len() {
                let mut e = envelope.clone();
                e.signatures[0].sig[i] ^= 0x01;
                write(&e);
                let failed = failed_checks();
                assert!(
                    failed.contains(&CheckKind::Signature),
                    "{algorithm}: signature byte {i}: {failed:?}"
                );
            }
            for i in 0..envelope.payload.len() {
                let mut e = envelope.clone();
                e.payload[i] ^= 0x01;
                write(&e);
                let failed = failed_checks();
                assert!(
                    failed.contains(&CheckKind::Signature),
                    "{algorithm}: payload byte {i}: {failed:?}"
                );
            }
            write(envelope);
            for i in 0..content.len() {
                let mut changed = content.clone();
                changed[i] ^= 0x01;
                std::fs::write(&file, &changed).unwrap();
                let failed = failed_checks();
                assert!(
                    failed.contains(&CheckKind::Subject) && failed.contains(&CheckKind::Attested),
                    "{algorithm}: file byte {i}: {failed:?}"
                );
            }
        }
    }

    #[test]
    fn contradictory_options_are_refused() {
        let key = crate::keys::SigningKey::generate(crate::keys::Algorithm::Ed25519).unwrap();
        let options = |require: &[Requirement]| Options {
            keys: vec![key.public_key().clone()],
            require: require.to_vec(),
            ..Options::default()
        };
        let refused = |o: Options, text: &str| match Policy::new(o) {
            Err(e) => assert!(e.to_string().contains(text), "{e}"),
            Ok(_) => panic!("accepted; expected {text}"),
        };
        refused(
            Options {
                keys: vec![],
                ..options(&[Requirement::Sbom])
            },
            "no trusted key",
        );
        refused(options(&[]), "nothing is required");
        refused(
            Options {
                policy_digest: Some(Digest::of(b"p").to_string()),
                ..options(&[Requirement::Provenance])
            },
            "--policy-digest checks the policy attestation",
        );
        refused(
            Options {
                expect_configs: vec![("a.yml".into(), Digest::of(b"a"))],
                ..options(&[Requirement::Policy])
            },
            "--expect-config checks the provenance",
        );
        refused(
            Options {
                max_age: Some(1),
                now: Some(2),
                ..options(&[Requirement::Sbom])
            },
            "--max-age",
        );
        assert!(Policy::new(options(&[Requirement::Sbom, Requirement::Sbom])).is_ok());
    }
}
