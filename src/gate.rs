//! The gate: sealkit's main job, from LinuxKit YAML to a signed image in one pass, and the only
//! module that uses every stage (docs/gate.md).
//!
//! config → plan → unpack (each image flattened and inspected once, its bytes spooled) →
//! evidence → policy → on a denial: the reports, nothing signed → build (from the spool) →
//! SBOMs → attest → verify → the output folder. Each stage takes the one before's value: the
//! facts the policy judged are the facts the image and its SBOMs are made from.
//!
//! The output folder is made whole in a staging folder beside it and only then put in its
//! place, so a run that is interrupted or fails leaves the folder as it was, and one that ends
//! leaves exactly its own files: after a denial only the reports, never an image or a bundle.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum as _;

use crate::attest::{self, AttestError, BuildInputs, PolicyDecision};
use crate::build::{self, BuildError, Format, Staging};
use crate::config::{self, ConfigError};
use crate::image::lock::Resolver;
use crate::image::registry::RegistryOptions;
use crate::keys::{PublicKey, SigningKey};
use crate::plan::{self, PlanError, PlanOptions};
use crate::policy::PolicyError;
use crate::policy::decision::{Decision, Verdict};
use crate::policy::judge::{self, Judge};
use crate::policy::sandbox::{Evaluator, Limits};
use crate::progress::{Progress, Stages};
use crate::publish::{self, PublishError};
use crate::report::{self, Authorship, SbomInput};
use crate::verify::{self, Local, Requirement, VerifyError};
use crate::vuln::VulnError;

crate::error_codes! {
    BadName = "gate-name": "The first configuration file's name cannot start the image's file names (letters, digits, '-', '_', '.', '+'; not a leading '.').",
    OutputForeign = "output-foreign": "The gate's output folder holds something other than this gate's own outputs for the same image name (another image's files, anything else), or is not a folder.",
    KeyMismatch = "key-mismatch": "The signing key's public half is not the public key --expect-key names.",
    SelfCheck = "gate-self-check": "The gate's own output did not verify before it was put in place: a bug to report.",
    Io = "gate-io": "The gate's staging folder or output folder could not be made, written, or put in place.",
    Untrusted = "untrusted-input": "A component image does not meet the trust policy (docs/trust.md): the gate stopped before reading it, and failed (exit 1).",
}

/// The evidence document, as `sealkit scan FILE.yml --format json` prints it.
pub const EVIDENCE: &str = "evidence.json";
/// The policy decision, as `sealkit check --format json` prints it; the attested policy result.
pub const REPORT: &str = "report.json";
/// The decision as SARIF 2.1.0 (`check --format sarif`).
pub const SARIF: &str = "report.sarif";
/// The decision as JUnit XML (`check --format junit`).
pub const JUNIT: &str = "report.junit.xml";
/// The report for people: evidence and decision on one self-contained page.
pub const HTML: &str = "report.html";
/// The image's SPDX SBOM: byte for byte the image's own /sbom.spdx.json.
pub const SPDX: &str = "sbom.spdx.json";
/// The image's CycloneDX SBOM.
pub const CYCLONEDX: &str = "sbom.cdx.json";

/// The reports, written whatever the verdict.
pub const REPORTS: [&str; 5] = [EVIDENCE, REPORT, SARIF, JUNIT, HTML];

/// Every bundle the gate writes, one per attestation.
pub const BUNDLES: [&str; 5] = [
    attest::PROVENANCE_BUNDLE,
    attest::SPDX_BUNDLE,
    attest::CYCLONEDX_BUNDLE,
    attest::SUMMARY_BUNDLE,
    attest::TEST_RESULT_BUNDLE,
];

/// Where the staging folders of gate runs start their names, beside the output folder.
const STAGING: &str = ".sealkit-gate-";

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Build(#[from] BuildError),
    #[error("{0}")]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Attest(#[from] AttestError),
    #[error("{0}")]
    Verify(#[from] VerifyError),
    #[error("{0}")]
    Publish(#[from] PublishError),
    #[error("{0}")]
    Vuln(#[from] VulnError),
    /// Component images the trust policy refused, each with why: a failed gate, not bad input.
    #[error("{}", crate::trust::refusal(.0))]
    Untrusted(Vec<(String, String)>),
    #[error("{what}: {message}\n  hint: {hint}")]
    Gate {
        code: Code,
        what: String,
        message: String,
        hint: String,
    },
}

impl GateError {
    fn new(code: Code, what: impl std::fmt::Display, message: impl Into<String>, hint: impl Into<String>) -> Self {
        GateError::Gate {
            code,
            what: what.to_string(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn io(path: &Path, e: &io::Error) -> Self {
        GateError::new(
            Code::Io,
            path.display(),
            e.to_string(),
            "check that the output folder's parent exists and can be written, and the space left on its disk",
        )
    }

    /// The stable code of the error (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            GateError::Config(_) => "config",
            GateError::Plan(e) => e.code(),
            GateError::Build(e) => e.code(),
            GateError::Policy(e) => crate::policy::Code::ALL
                .iter()
                .find(|c| c.as_str() == e.code)
                .map_or("policy", |c| c.as_str()),
            GateError::Attest(e) => e.code().as_str(),
            GateError::Verify(e) => e.code(),
            GateError::Publish(e) => e.code(),
            GateError::Vuln(e) => e.code.as_str(),
            GateError::Gate { code, .. } => code.as_str(),
            GateError::Untrusted(_) => Code::Untrusted.as_str(),
        }
    }
}

/// The policy to judge with, as `sealkit check` takes it.
pub struct PolicyOptions<'a> {
    /// Include the built-in baseline.
    pub baseline: bool,
    pub policies: &'a [PathBuf],
    pub data: &'a [PathBuf],
    /// The exceptions file; by default `NAME.exceptions.yaml` beside the first configuration.
    pub exceptions: Option<&'a Path>,
    /// `--now YYYY-MM-DD`: the day exceptions are judged on, else SOURCE_DATE_EPOCH's.
    pub now: Option<&'a str>,
    /// Pass on a set with no deny or warn rule.
    pub allow_empty: bool,
    pub evaluator: Evaluator,
    pub limits: Limits,
}

/// One gate run.
pub struct Options<'a> {
    /// LinuxKit configuration files, merged in order; the first names the image and the lock.
    pub configs: &'a [PathBuf],
    /// The images, pinned by the first file's lock when it has one.
    pub resolver: &'a Resolver,
    /// The trust policy the images must meet before anything of them is read.
    pub trust: Option<&'a crate::trust::Policy>,
    /// The output folder (docs/gate.md).
    pub output: &'a Path,
    pub formats: &'a [Format],
    /// The EFI stub and the Secure Boot signer of the `uki` and `esp` formats.
    pub uki_stub: Option<&'a Path>,
    pub uki_signer: Option<&'a crate::authenticode::Signer>,
    /// The root as NAME-root.img under dm-verity ([`crate::build::Request::verity`]).
    pub verity: bool,
    pub key: &'a SigningKey,
    /// The public key the signing key must match, when given.
    pub expect_key: Option<&'a PublicKey>,
    pub policy: PolicyOptions<'a>,
    /// The SBOMs' supplier and creators.
    pub authorship: Authorship,
    /// SOURCE_DATE_EPOCH (or LinuxKit's fixed time): every time in the image, and the
    /// provenance's `sourceDateEpoch`.
    pub epoch: u64,
    /// SOURCE_DATE_EPOCH when it is set: the day exceptions are judged on (without `now`) and
    /// the statements' time; unset, they carry none and are reproducible all the same.
    pub source_date_epoch: Option<u64>,
    /// Where to publish the signed folder once it is in place (docs/registry.md); a denied image
    /// is never pushed.
    pub push: Option<(&'a oci_client::Reference, &'a RegistryOptions)>,
    pub vulnerabilities: crate::evidence::VulnOptions<'a>,
    /// Told as each stage begins and ends, and of each image unpacked.
    pub progress: &'a dyn Progress,
}

/// What a gate run did.
pub struct Gated {
    /// The image's name, the start of its files' names.
    pub name: String,
    pub output: PathBuf,
    /// The policy's decision: its verdict is the gate's.
    pub decision: Decision,
    /// Every file of the output folder, in name order.
    pub files: Vec<String>,
    /// The configuration's warnings.
    pub warnings: Vec<String>,
    /// SBOM components that name no supplier (an NTIA minimum element), when the image was built.
    pub without_supplier: Vec<String>,
    /// The checks the gate's own verification of the folder made (0 when denied).
    pub verified_checks: usize,
    /// Per component: packages, binaries and their hardening, privileges (from the evidence).
    pub summary: crate::report::summary::Summary,
    /// What `push` published, when it was asked to.
    pub pushed: Option<publish::Pushed>,
    /// Each stage's wall time, in the order the stages first ran (`--timings`). Never written
    /// into the output folder: the outputs stay reproducible.
    pub timings: Vec<(&'static str, Duration)>,
}

impl Gated {
    pub fn passed(&self) -> bool {
        self.decision.verdict == Verdict::Pass
    }
}

/// The image's name: the first configuration's file name without its extension.
pub fn image_name(configs: &[PathBuf]) -> Result<String, GateError> {
    let first = configs
        .first()
        .ok_or_else(|| GateError::new(Code::BadName, "gate", "no configuration file", "name a FILE.yml"))?;
    let name = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !build::valid_name(&name) {
        return Err(GateError::new(
            Code::BadName,
            first.display(),
            format!("{name:?} cannot start the image's file names"),
            "rename the file: letters, digits, '-', '_', '.' and '+', not starting with '.'",
        ));
    }
    Ok(name)
}

/// What was judged, as `sealkit check` names it: the configuration file as given (the files,
/// space-separated, when there are several).
fn subject(configs: &[PathBuf]) -> String {
    configs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the gate. A denial is an `Ok` whose decision says so: the reports are in the output
/// folder and nothing was signed. An `Err` is input the gate cannot judge.
pub fn run(options: &Options) -> Result<Gated, GateError> {
    let mut stages = Stages::new(options.progress);
    stages.begin("policy", None, "");
    let name = image_name(options.configs)?;
    if let Some(expected) = options.expect_key
        && expected != options.key.public_key()
    {
        return Err(GateError::new(
            Code::KeyMismatch,
            "--key",
            format!(
                "its public half has the key id {}, and --expect-key names {}",
                options.key.public_key().key_id(),
                expected.key_id()
            ),
            "sign with the private key of the public key verifiers trust, or correct --expect-key",
        ));
    }
    let output = output_folder(options.output, &name)?;

    // The policy first: a bad rule or exceptions file fails before anything is read.
    let p = &options.policy;
    let first = &options.configs[0];
    let exceptions = judge::exceptions_file(p.exceptions, Some(first));
    let judge = Judge::load(&judge::Options {
        baseline: p.baseline,
        policies: p.policies,
        data: p.data,
        exceptions: exceptions.as_deref(),
        evaluated_on: judge::evaluation_date(p.now, options.source_date_epoch)?,
        allow_empty: p.allow_empty,
    })?;
    stages.begin("resolve", None, "images");

    let loaded = config::load(options.configs)?;
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let plan = plan::plan(
        &loaded,
        options.resolver,
        &PlanOptions {
            trust: options.trust,
            progress: Some(options.progress),
            ..Default::default()
        },
    )?;
    let refused = plan.refused();
    if !refused.is_empty() {
        return Err(GateError::Untrusted(
            refused.into_iter().map(|(r, why)| (r.to_owned(), why)).collect(),
        ));
    }

    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| GateError::io(&parent, &e))?;
    build::remove_stale_staging(&parent, STAGING)?;
    let staging = build::stage(&parent, STAGING).map_err(|e| GateError::io(&parent, &e))?;
    stages.begin("unpack", Some(plan.images.len() as u64), "images");
    let request = build::Request {
        output: staging.path(),
        name: &name,
        formats: options.formats,
        force: false,
        sbom: Some(options.authorship.clone()),
        epoch: options.epoch,
        uki_stub: options.uki_stub,
        uki_signer: options.uki_signer,
        verity: options.verity,
        presigned_uki: None,
        progress: options.progress,
    };

    // One pass over every layer: the facts for the evidence and the bytes for the build.
    let unpacked = build::unpack(&loaded, &plan, &options.resolver.store, &request)?;
    stages.begin("evidence", None, "");
    let mut inputs: Vec<PathBuf> = options.configs.to_vec();
    let lock = crate::image::lock::lock_path(first);
    if lock.is_file() {
        inputs.push(lock);
    }
    if let Some(trust) = options.trust {
        inputs.push(trust.file.clone());
    }
    let input_paths: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let subject = subject(options.configs);
    // The files section was read by the unpack too: the sources judged are the bytes built.
    let mut evidence = crate::evidence::of_os_image(
        &subject,
        &loaded,
        &plan,
        &unpacked.components,
        &unpacked.files,
        &input_paths,
    )
    .map_err(|e| GateError::io(first, &e))?;
    let vulnerabilities = evidence.scan_vulnerabilities(&options.vulnerabilities)?;
    evidence.add_vulnerabilities(
        vulnerabilities.as_ref(),
        p.now,
        options.source_date_epoch,
        options.vulnerabilities.max_age_days,
    );
    let components: Vec<String> = evidence.components.iter().map(|c| c.name.clone()).collect();
    let evidence_json = serde_json::to_vec(&evidence).map_err(internal)?;
    let evidence_value: serde_json::Value = serde_json::from_slice(&evidence_json).map_err(internal)?;
    let summary = crate::report::summary::Summary::of_evidence(&evidence_value);
    let mut evidence_doc = serde_json::to_vec_pretty(&evidence).map_err(internal)?;
    evidence_doc.push(b'\n');
    drop(evidence);
    stages.begin("policy", None, "");
    let decision = judge.judge(&p.evaluator, p.limits, &subject, components, &evidence_json)?;
    drop(evidence_json);

    let report_json = decision.to_json().map_err(internal)?;
    let mut sarif = serde_json::to_vec_pretty(&report::sarif::write(&decision)).map_err(internal)?;
    sarif.push(b'\n');
    let junit = report::junit::write(&decision).into_bytes();
    let html = report::html::write(
        &evidence_value,
        Some(&serde_json::from_slice(&report_json).map_err(internal)?),
    )
    .into_bytes();
    drop(evidence_value);
    let dir = staging.path().to_path_buf();
    for (file, bytes) in [
        (EVIDENCE, &evidence_doc),
        (REPORT, &report_json),
        (SARIF, &sarif),
        (JUNIT, &junit),
        (HTML, &html),
    ] {
        write(&dir.join(file), bytes)?;
    }

    let mut gated = Gated {
        name: name.clone(),
        output: output.clone(),
        decision,
        files: Vec::new(),
        warnings,
        without_supplier: Vec::new(),
        verified_checks: 0,
        summary,
        pushed: None,
        timings: Vec::new(),
    };
    if !gated.passed() {
        // Nothing is built or signed: the spool goes, the reports stay.
        stages.begin("write", None, "");
        drop(unpacked);
        gated.files = REPORTS.iter().map(|s| (*s).to_owned()).collect();
        gated.files.sort();
        put_in_place(staging, &output)?;
        gated.timings = stages.finish();
        return Ok(gated);
    }

    stages.begin("sbom", None, "");

    let created = crate::epoch::rfc3339(options.epoch);
    let cyclonedx = {
        let components = build::sbom_components(&plan, &unpacked);
        let input = SbomInput {
            name: &name,
            components: &components,
            created,
            authorship: &options.authorship,
        };
        gated.without_supplier = input.without_supplier();
        serde_json::to_vec_pretty(&report::cyclonedx::document_with(&input, vulnerabilities.as_ref()))
            .map_err(internal)?
    };
    stages.begin("build", None, "");
    let built = build::write(&loaded, &plan, &options.resolver.store, unpacked, &request)?;
    stages.begin("sbom", None, "");
    let spdx = built.sbom.ok_or_else(|| {
        GateError::new(
            Code::SelfCheck,
            "the build",
            "wrote no SBOM into the image",
            "report this bug",
        )
    })?;
    write(&dir.join(SPDX), &spdx)?;
    write(&dir.join(CYCLONEDX), &cyclonedx)?;
    stages.begin("attest", None, "");

    let mut subjects: Vec<String> = options.formats.iter().flat_map(|f| f.files(&name)).collect();
    if options.verity {
        subjects.push(crate::build::verity_root_file(&name));
    }
    let mut byproducts: Vec<String> = REPORTS
        .iter()
        .chain(&[SPDX, CYCLONEDX])
        .map(|s| (*s).to_owned())
        .collect();
    byproducts.sort();
    let decision = PolicyDecision::read(&report_json).map_err(|why| {
        GateError::new(
            Code::SelfCheck,
            REPORT,
            why,
            "report this bug: the gate's decision did not read back",
        )
    })?;
    let build_inputs = BuildInputs::from_plan(
        &loaded,
        &plan,
        &name,
        options.formats,
        options.epoch,
        Some(&options.authorship),
    )?;
    let build_inputs = BuildInputs {
        parameters: crate::attest::provenance::ExternalParameters {
            verity: options.verity,
            ..build_inputs.parameters
        },
        tools: built.tools,
        ..build_inputs
    }
    .with_efi_stub(
        options.formats,
        options.uki_stub.unwrap_or(Path::new(crate::build::uki::DEFAULT_STUB)),
    )?;
    attest::attest(
        &attest::Request {
            dir: &dir,
            subjects: &subjects,
            byproducts: &byproducts,
            inputs: &build_inputs,
            spdx: Some(&spdx),
            cyclonedx: Some(&cyclonedx),
            decision: Some(&decision),
            vulnerabilities: vulnerabilities.as_ref(),
            time: options.source_date_epoch,
        },
        options.key,
    )?;
    stages.begin("verify", None, "");

    // What a verifier will check, checked before the folder takes its name.
    let mut require = vec![Requirement::Provenance, Requirement::Sbom, Requirement::Policy];
    if vulnerabilities.is_some() {
        require.push(Requirement::Vulnerabilities);
    }
    let policy = verify::Policy::new(verify::Options {
        keys: vec![options.key.public_key().clone()],
        require,
        policy_digest: Some(gated.decision.basis.policy_digest.clone()),
        ..verify::Options::default()
    })?;
    let verification = verify::verify(&Local::open(&dir, Vec::new())?, &policy)?;
    if !verification.passed {
        let failed: Vec<String> = verification
            .failed()
            .map(|c| format!("{} {}: {}", c.check.as_str(), c.subject, c.detail))
            .collect();
        return Err(GateError::new(
            Code::SelfCheck,
            output.display(),
            format!("the signed folder did not verify: {}", failed.join("; ")),
            "report this bug; nothing was put in place",
        ));
    }
    gated.verified_checks = verification.checks.len();
    stages.begin("write", None, "");
    let mut files: Vec<String> = subjects;
    files.extend(byproducts);
    files.extend(BUNDLES.iter().map(|s| (*s).to_owned()));
    if vulnerabilities.is_some() {
        files.push(attest::VULNERABILITIES_BUNDLE.to_owned());
    }
    files.sort();
    gated.files = files;
    put_in_place(staging, &output)?;
    if let Some((reference, registry)) = options.push {
        stages.begin("push", None, "blobs");
        gated.pushed = Some(publish::push(
            &output,
            reference,
            registry,
            options.source_date_epoch,
            options.progress,
        )?);
    }
    gated.timings = stages.finish();
    Ok(gated)
}

fn internal(e: serde_json::Error) -> GateError {
    GateError::new(Code::SelfCheck, "a report", e.to_string(), "report this bug")
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), GateError> {
    use std::io::Write as _;
    let mut file = std::fs::File::create_new(path).map_err(|e| GateError::io(path, &e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| GateError::io(path, &e))
}

/// Whether `file` may be in the output folder of the image `name`: one of the gate's outputs.
fn ours(file: &str, name: &str) -> bool {
    Format::value_variants()
        .iter()
        .any(|f| f.files(name).iter().any(|n| n == file))
        || file == crate::build::verity_root_file(name)
        || REPORTS.contains(&file)
        || [SPDX, CYCLONEDX].contains(&file)
        || BUNDLES.contains(&file)
        || file == attest::VULNERABILITIES_BUNDLE
}

/// The output folder, checked: missing (it is made), empty, or holding only this gate's earlier
/// outputs for the same image name. A symlink to a folder is followed: its target is replaced.
fn output_folder(output: &Path, name: &str) -> Result<PathBuf, GateError> {
    let foreign = |message: String| {
        GateError::new(
            Code::OutputForeign,
            output.display(),
            message,
            "gate into a new or empty folder (-o DIR), or into the folder of an earlier gate of this image",
        )
    };
    if output.file_name().is_none() {
        return Err(foreign("names no folder of its own (., .. or /)".into()));
    }
    let meta = match std::fs::metadata(output) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(output.to_path_buf()),
        Err(e) => return Err(GateError::io(output, &e)),
        Ok(meta) => meta,
    };
    if !meta.is_dir() {
        return Err(foreign(format!(
            "is {}, not a folder",
            build::output::kind_of(meta.file_type())
        )));
    }
    let output = std::fs::canonicalize(output).map_err(|e| GateError::io(output, &e))?;
    let mut theirs = Vec::new();
    let mut documents = false;
    for entry in std::fs::read_dir(&output).map_err(|e| GateError::io(&output, &e))? {
        let entry = entry.map_err(|e| GateError::io(&output, &e))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if !regular || !ours(&file, name) {
            theirs.push(file);
        } else if REPORTS.contains(&file.as_str()) {
            documents = true;
        }
    }
    theirs.sort();
    if let Some(first) = theirs.first() {
        return Err(foreign(format!(
            "holds {first}{}, which is not an output of the gate of {name:?}",
            match theirs.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            }
        )));
    }
    // Reports alone do not say whose they are: the decision names the configuration judged.
    if documents {
        let report = output.join(REPORT);
        let judged = std::fs::read(&report)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|v| v["subject"].as_str().map(str::to_owned));
        let same = judged.as_deref().is_some_and(|s| {
            let first = s.split(' ').next().unwrap_or("");
            Path::new(first).file_stem().is_some_and(|stem| stem == name)
        });
        if !same {
            return Err(foreign(format!(
                "holds reports of {}, not of {name:?}",
                judged.as_deref().unwrap_or("an unknown configuration")
            )));
        }
    }
    Ok(output)
}

/// Puts the staged folder at `output`: renamed there when nothing is, else exchanged with the
/// folder there in one step (renameat2 RENAME_EXCHANGE), whose old content is then removed.
/// A file system without the exchange gets two renames: interrupted between them, the old
/// folder is beside the output under a `.sealkit-gate-` name, whole.
fn put_in_place(staging: Staging, output: &Path) -> Result<(), GateError> {
    let staged = staging.keep();
    let done = match std::fs::symlink_metadata(output) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::rename(&staged, output),
        Err(e) => Err(e),
        Ok(_) => {
            let exchanged = rustix::fs::renameat_with(
                rustix::fs::CWD,
                &staged,
                rustix::fs::CWD,
                output,
                rustix::fs::RenameFlags::EXCHANGE,
            );
            match exchanged {
                Ok(()) => std::fs::remove_dir_all(&staged),
                Err(_) => {
                    let mut old = staged.clone().into_os_string();
                    old.push(".old");
                    std::fs::rename(output, &old)
                        .and_then(|()| std::fs::rename(&staged, output))
                        .and_then(|()| std::fs::remove_dir_all(&old))
                }
            }
        }
    };
    done.map_err(|e| GateError::io(output, &e))
}
