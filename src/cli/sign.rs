//! `sealkit sign FILE --key K` and `sealkit attest FILE|DIR --key K …`: Sigstore bundles of DSSE
//! in-toto statements, like `cosign sign-blob` and `cosign attest-blob` with a key.

use std::path::{Path, PathBuf};

use clap::ValueEnum as _;
use sealkit::attest::{self, AttestError, BuildInputs, PolicyDecision};
use sealkit::build::Format;
use sealkit::config;
use sealkit::keys::SigningKey;
use sealkit::plan::PlanOptions;

use super::keygen::PasswordArgs;
use super::sbom::AuthorshipArgs;
use super::{Failure, Outcome, StoreArgs};

impl From<AttestError> for Failure {
    fn from(e: AttestError) -> Self {
        Failure::input(e.code().as_str(), e)
    }
}

#[derive(clap::Args)]
pub struct KeyArgs {
    /// The private key: PKCS#8, SEC1 or cosign PEM (`sealkit keygen`, `openssl genpkey`,
    /// `cosign generate-key-pair`)
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    #[command(flatten)]
    password: PasswordArgs,
}

impl KeyArgs {
    pub fn load(&self) -> Result<SigningKey, Failure> {
        Ok(SigningKey::load(&self.key, self.password.password()?.as_ref())?)
    }
}

#[derive(clap::Args)]
pub struct SignArgs {
    /// The file to sign
    file: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    /// Where to write the bundle (default FILE.sigstore.json; - for stdout)
    #[arg(long, value_name = "OUT")]
    bundle: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct AttestArgs {
    /// A file (with --predicate and --type), or the output folder of `sealkit build` (with
    /// --config): its provenance, SBOMs and policy result
    #[arg(value_name = "FILE|DIR")]
    target: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    /// A file's predicate: one JSON object
    #[arg(long, value_name = "FILE")]
    predicate: Option<PathBuf>,
    /// A file's predicate type: a URI, or slsaprovenance1, spdx, spdxjson, cyclonedx, custom
    #[arg(long = "type", value_name = "URI")]
    predicate_type: Option<String>,
    /// Where to write a file's bundle (default FILE.sigstore.json; - for stdout)
    #[arg(long, value_name = "OUT")]
    bundle: Option<PathBuf>,
    /// A folder's configuration files, as given to `sealkit build` (in order)
    #[arg(long = "config", value_name = "FILE.yml")]
    configs: Vec<PathBuf>,
    /// A folder's image name, as given to `sealkit build`; default the first file's name
    #[arg(long)]
    name: Option<String>,
    /// The folder was built with --no-sbom
    #[arg(long)]
    no_sbom: bool,
    /// The folder's SBOM supplier and creators, as given to `sealkit build` (default the lock's)
    #[command(flatten)]
    authorship: AuthorshipArgs,
    /// The policy decision, as `sealkit check --format json` writes it, attested as a
    /// verification summary and a test result
    #[arg(long, value_name = "FILE")]
    policy_result: Option<PathBuf>,
    /// Record when: SOURCE_DATE_EPOCH if set, else now. Without it only SOURCE_DATE_EPOCH
    /// gives a time, and attestations are reproducible
    #[arg(long)]
    timestamps: bool,
    #[command(flatten)]
    store: StoreArgs,
}

fn default_bundle(file: &Path) -> PathBuf {
    let mut out = file.as_os_str().to_owned();
    out.push(attest::BUNDLE_SUFFIX);
    PathBuf::from(out)
}

fn file_name(file: &Path) -> Result<String, Failure> {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Failure::usage(format!("error: {}: name a file", file.display())))
}

/// Writes one bundle as every command's `-o FILE` is written (`-` is stdout).
fn write(bundle: &attest::Bundle, out: &Path, key: &SigningKey) -> Outcome {
    let json = bundle.to_json();
    super::write_output(out, |w| w.write_all(&json).map_err(super::output_error(out)))?;
    super::log::info(&format!(
        "wrote {} (signed by {} key {})",
        super::output_name(out),
        key.algorithm(),
        key.public_key().key_id()
    ));
    Ok(())
}

pub fn sign(args: &SignArgs) -> Outcome {
    let key = args.key.load()?;
    let digest = attest::file_digest(&args.file)?;
    let statement = attest::signature_statement(&file_name(&args.file)?, &digest);
    let out = args.bundle.clone().unwrap_or_else(|| default_bundle(&args.file));
    write(&attest::sign(&statement, &key), &out, &key)
}

pub fn attest(args: &AttestArgs) -> Outcome {
    if args.target.is_dir() {
        return attest_folder(args);
    }
    let authorship_given = args.authorship.supplier.is_some() || !args.authorship.creators.is_empty();
    if !args.configs.is_empty()
        || args.policy_result.is_some()
        || args.name.is_some()
        || args.no_sbom
        || authorship_given
    {
        return Err(Failure::usage(
            "error: --config, --name, --no-sbom, --supplier, --creator and --policy-result describe a build's output \
             folder, and the target is a file",
        ));
    }
    let (Some(predicate), Some(type_name)) = (&args.predicate, &args.predicate_type) else {
        return Err(Failure::usage(
            "error: attesting a file needs --predicate FILE and --type URI",
        ));
    };
    let predicate_type = attest::statement::predicate_type(type_name).ok_or_else(|| {
        Failure::usage(format!(
            "error: --type {type_name:?} is neither a URI nor one of slsaprovenance1, spdx, spdxjson, cyclonedx, custom"
        ))
    })?;
    let key = args.key.load()?;
    let origin = predicate.display().to_string();
    let bytes = std::fs::read(predicate).map_err(|e| AttestError::io(&origin, &e))?;
    let digest = attest::file_digest(&args.target)?;
    let statement = attest::predicate_statement(&file_name(&args.target)?, &digest, predicate_type, &bytes, &origin)?;
    let out = args.bundle.clone().unwrap_or_else(|| default_bundle(&args.target));
    write(&attest::sign(&statement, &key), &out, &key)
}

/// The time of the statements: SOURCE_DATE_EPOCH when set; else now with --timestamps; else
/// none, so that attesting again gives the same bytes.
fn statement_time(timestamps: bool) -> Result<Option<u64>, Failure> {
    if let Some(epoch) = sealkit::epoch::from_env()? {
        return Ok(Some(epoch));
    }
    Ok(timestamps.then(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }))
}

fn attest_folder(args: &AttestArgs) -> Outcome {
    if args.predicate.is_some() || args.predicate_type.is_some() || args.bundle.is_some() {
        return Err(Failure::usage(
            "error: --predicate, --type and --bundle attest one file, and the target is a folder (its bundles are named by what they attest)",
        ));
    }
    let Some(first) = args.configs.first() else {
        return Err(Failure::usage(
            "error: attesting an output folder needs the configuration it was built from: --config FILE.yml",
        ));
    };
    let dir = &args.target;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => first
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    // The formats built are those whose every file is present.
    let formats: Vec<Format> = Format::value_variants()
        .iter()
        .copied()
        .filter(|f| f.files(&name).iter().all(|file| dir.join(file).is_file()))
        .collect();
    if formats.is_empty() {
        return Err(Failure::usage(format!(
            "error: {}: holds no image called {name:?} (no {}-kernel, {name}.tar, …)\n  hint: pass the --name given to `sealkit build`",
            dir.display(),
            name
        )));
    }
    let mut subjects: Vec<String> = formats.iter().flat_map(|f| f.files(&name)).collect();
    let verity_root = sealkit::build::verity_root_file(&name);
    if dir.join(&verity_root).is_file() {
        subjects.push(verity_root);
    }
    let mut byproducts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| AttestError::io(&dir.display().to_string(), &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| AttestError::io(&dir.display().to_string(), &e))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && !file.ends_with(attest::BUNDLE_SUFFIX) && !subjects.contains(&file) {
            byproducts.push(file);
        }
    }
    byproducts.sort();
    let read_if_present = |file: &str| -> Result<Option<Vec<u8>>, Failure> {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AttestError::io(&path.display().to_string(), &e).into()),
        }
    };
    let spdx = read_if_present("sbom.spdx.json")?;
    let cyclonedx = read_if_present("sbom.cdx.json")?;
    let decision: Option<PolicyDecision> = match &args.policy_result {
        Some(path) => {
            let origin = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| AttestError::io(&origin, &e))?;
            Some(PolicyDecision::read(&bytes).map_err(|why| {
                Failure::input(
                    attest::Code::PredicateInvalid.as_str(),
                    format!(
                        "{origin}: {why}\n  hint: pass the decision `sealkit check --format json` writes (docs/signing.md, \"Policy result\")"
                    ),
                )
            })?)
        }
        None => None,
    };

    let loaded = config::load(&args.configs)?;
    let resolver = args.store.resolver(first, false)?;
    let plan = super::plan_trusted(&args.store, &loaded, &resolver, first, PlanOptions::default())?;
    let epoch = sealkit::epoch::source_date_epoch()?;
    let authorship = args.authorship.over(resolver.lock.as_ref().map(|l| &l.sbom))?;
    let sbom = (!args.no_sbom).then_some(&authorship);
    let mut inputs = BuildInputs::from_plan(&loaded, &plan, &name, &formats, epoch, sbom)?;
    inputs.parameters.verity = subjects.contains(&sealkit::build::verity_root_file(&name));
    let key = args.key.load()?;
    let request = attest::Request {
        dir,
        subjects: &subjects,
        byproducts: &byproducts,
        inputs: &inputs,
        spdx: spdx.as_deref(),
        cyclonedx: cyclonedx.as_deref(),
        decision: decision.as_ref(),
        vulnerabilities: None,
        time: statement_time(args.timestamps)?,
    };
    let written = attest::attest(&request, &key)?;
    let mut said = format!(
        "attested {} ({} files) with {} key {}:",
        dir.display(),
        subjects.len(),
        key.algorithm(),
        key.public_key().key_id()
    );
    for path in written {
        said.push_str(&format!("\n  {}", path.display()));
    }
    super::log::info(&said);
    Ok(())
}
