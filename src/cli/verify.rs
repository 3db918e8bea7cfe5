//! `sealkit verify TARGET --key PUB…`: before boot, every bundle signed by a trusted key, every
//! image file covered by the required attestations, the policy verdict PASSED. Exit 0 only if
//! every check holds; 1 with each failed check named; 2 on bad input.

use std::path::PathBuf;

use sealkit::attest::Provenance;
use sealkit::attest::statement::PROVENANCE;
use sealkit::config;
use sealkit::keys::PublicKey;
use sealkit::plan::PlanOptions;
use sealkit::sigstore::Identity;
use sealkit::verify::{
    self, Check, CheckKind, Local, Options, Policy, Requirement, Verification, VerifiedStatement, VerifyError,
};

use super::publish::{RegistryArgs, pull_into};
use super::{Failure, Outcome, StoreArgs, print};

impl From<VerifyError> for Failure {
    fn from(e: VerifyError) -> Self {
        Failure::input(e.code(), e)
    }
}

/// Exit code of a verification that ran and failed.
const EXIT_FAILED: u8 = 1;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    /// The typed result (application/vnd.sealkit.verification.v1+json)
    Json,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// An output folder (every file must be attested), one image file of it, or a registry
    /// artifact pushed by `sealkit push`: HOST[:PORT]/NAME[:TAG][@sha256:DIGEST] (a first part
    /// with a `.` or `:`, or `localhost`, names a registry; write ./PATH for such a folder)
    #[arg(value_name = "DIR|FILE|REF")]
    target: PathBuf,
    /// A trusted public key (SPKI PEM, NAME.pub); repeat for several
    #[arg(
        long = "key",
        value_name = "PUB",
        required_unless_present_any = ["certificate_identity", "certificate_identity_regexp"]
    )]
    keys: Vec<PathBuf>,
    /// A keyless signer: the identity its Fulcio certificate must name (a SAN: e-mail or URI),
    /// checked with the Sigstore trusted root (--trusted-root, else the updated or embedded one)
    #[arg(
        long,
        value_name = "IDENTITY",
        requires = "certificate_oidc_issuer",
        conflicts_with = "certificate_identity_regexp"
    )]
    certificate_identity: Option<String>,
    /// A regular expression the keyless signer's identity must match whole (cosign's option)
    #[arg(long, value_name = "REGEX", requires = "certificate_oidc_issuer")]
    certificate_identity_regexp: Option<String>,
    /// The OIDC issuer the keyless signer's certificate must name
    #[arg(long, value_name = "URL")]
    certificate_oidc_issuer: Option<String>,
    /// Bundles to check instead of the *.sigstore.json files beside the target
    #[arg(long = "bundle", value_name = "BUNDLE")]
    bundles: Vec<PathBuf>,
    /// Attestations that must cover every image file: provenance, sbom, policy, signature, vuln
    /// (cosign's vulnerability scan), or a predicate type URI
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "provenance,sbom,policy",
        value_name = "KIND,…"
    )]
    require: Vec<String>,
    /// The policy set the verdict must come from
    #[arg(long, value_name = "sha256:…")]
    policy_digest: Option<String>,
    /// Refuse a policy decision older than AGE (30d, 12h, 15m, 90s)
    #[arg(long, value_name = "AGE")]
    max_age: Option<String>,
    /// Refuse a vulnerability attestation whose advisory database's newest entry is older than
    /// AGE (needs vuln in --require)
    #[arg(long, value_name = "AGE")]
    max_db_age: Option<String>,
    /// A configuration file the provenance must name (its content, by sha256); repeat, in the
    /// build's order
    #[arg(long = "expect-config", value_name = "FILE.yml")]
    expect_configs: Vec<PathBuf>,
    /// Rebuild the image from the --expect-config files and the images the provenance names
    /// (from the store), and compare every image file's sha256 with the attested one
    #[arg(long, requires = "expect_configs")]
    rebuild: bool,
    /// Check every UKI's Secure Boot signature (Authenticode) as the firmware will: signed by
    /// this db certificate (PEM) or one it issued; repeat for several
    #[arg(long = "db-cert", value_name = "CERT")]
    db_certs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    #[command(flatten)]
    store: StoreArgs,
}

fn options(args: &VerifyArgs) -> Result<Options, Failure> {
    let mut keys = Vec::new();
    for path in &args.keys {
        keys.push(PublicKey::load(path)?);
    }
    let require = args
        .require
        .iter()
        .map(|r| r.parse::<Requirement>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::usage(format!("error: --require: {e}")))?;
    let max_age = args
        .max_age
        .as_deref()
        .map(verify::parse_duration)
        .transpose()
        .map_err(|e| Failure::usage(format!("error: --max-age: {e}")))?;
    let max_db_age = args
        .max_db_age
        .as_deref()
        .map(verify::parse_duration)
        .transpose()
        .map_err(|e| Failure::usage(format!("error: --max-db-age: {e}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .ok();
    let mut expect_configs = Vec::new();
    for path in &args.expect_configs {
        let digest = sealkit::attest::file_digest(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        expect_configs.push((name, digest));
    }
    let identities = match (
        keyless_identity(&args.certificate_identity, &args.certificate_identity_regexp)?,
        &args.certificate_oidc_issuer,
    ) {
        (Some(identity), Some(issuer)) => vec![(identity, issuer.clone())],
        (None, Some(_)) => {
            return Err(Failure::usage(
                "error: --certificate-oidc-issuer needs --certificate-identity or --certificate-identity-regexp",
            ));
        }
        _ => Vec::new(),
    };
    let trusted_root = if identities.is_empty() {
        None
    } else {
        Some(super::trusted_root::select(args.store.trusted_root.as_deref())?.root)
    };
    Ok(Options {
        keys,
        identities,
        trusted_root,
        require,
        policy_digest: args.policy_digest.clone(),
        max_age,
        max_db_age,
        now,
        expect_configs,
    })
}

/// Rebuilds what each verified provenance describes, in a scratch folder, and adds the
/// comparison's checks to `v`.
fn rebuild(args: &VerifyArgs, v: &mut Verification, folder: &std::path::Path) -> Outcome {
    let provenances: Vec<VerifiedStatement> = v
        .statements
        .iter()
        .filter(|s| s.predicate_type == PROVENANCE)
        .cloned()
        .collect();
    if provenances.is_empty() {
        v.push(Check {
            check: CheckKind::Rebuild,
            subject: v.target.clone(),
            passed: false,
            detail: "there is no verified provenance to rebuild from".into(),
        });
        return Ok(());
    }
    let loaded = config::load(&args.expect_configs)?;
    for statement in &provenances {
        // The images are picked for the platform the provenance names.
        let platform = serde_json::from_value::<Provenance>(statement.statement.predicate.clone())
            .ok()
            .and_then(|p| p.parameters().ok())
            .map_or_else(|| args.store.platform.clone(), |p| p.platform);
        let store = StoreArgs {
            platform,
            ..args.store.clone()
        };
        let resolver = store.resolver(&args.expect_configs[0], false)?;
        let plan = super::plan_trusted(
            &store,
            &loaded,
            &resolver,
            &args.expect_configs[0],
            PlanOptions::default(),
        )?;
        let scratch =
            tempfile::tempdir().map_err(|e| Failure::usage(format!("error: a scratch folder for the rebuild: {e}")))?;
        for check in verify::rebuild::rebuild(statement, &loaded, &plan, &resolver.store, scratch.path(), folder) {
            v.push(check);
        }
    }
    Ok(())
}

fn render(v: &Verification) -> String {
    let mut out = String::new();
    for c in &v.checks {
        out.push_str(&format!(
            "{} {:<14} {}: {}\n",
            if c.passed { "ok  " } else { "FAIL" },
            c.check.as_str(),
            c.subject,
            c.detail
        ));
    }
    let failed: Vec<_> = v.failed().collect();
    if failed.is_empty() {
        out.push_str(&format!("{}: verified, all {} checks passed", v.target, v.checks.len()));
    } else {
        out.push_str(&format!(
            "{}: verification FAILED, {} of {} checks failed",
            v.target,
            failed.len(),
            v.checks.len()
        ));
    }
    out
}

pub fn run(args: &VerifyArgs) -> Outcome {
    let policy = Policy::new(options(args)?)?;
    let mut db = Vec::new();
    for path in &args.db_certs {
        let pem = std::fs::read(path)
            .map_err(|e| Failure::usage(format!("error: --db-cert {}: cannot be read: {e}", path.display())))?;
        db.extend(
            sealkit::certificates::from_pem(&pem, &path.display().to_string())
                .map_err(|e| Failure::usage(format!("error: --db-cert {e}")))?,
        );
    }
    // A registry artifact is pulled whole into a scratch folder, and verified as that folder.
    let scratch;
    let source = match args.target.to_str().filter(|t| sealkit::publish::is_registry_target(t)) {
        Some(reference) => {
            if !args.bundles.is_empty() {
                return Err(Failure::usage(
                    "error: --bundle picks bundles beside a local file; a registry artifact's bundles are its referrers",
                ));
            }
            if args.target.exists() {
                super::log::note(&format!(
                    "{reference} is read as a registry reference; write ./{reference} for the local path"
                ));
            }
            scratch = tempfile::tempdir()
                .map_err(|e| Failure::usage(format!("error: a scratch folder for the pulled image: {e}")))?;
            let registry = RegistryArgs {
                insecure_registry: args.store.insecure_registry.clone(),
            };
            let dir = scratch.path().join("image");
            let pulled = pull_into(reference, &dir, &registry)?;
            let pinned = format!("{}@{}", reference.split('@').next().unwrap_or(reference), pulled.digest);
            Local::open(&dir, Vec::new())?.labelled(pinned)
        }
        None => Local::open(&args.target, args.bundles.clone())?,
    };
    let mut verification = verify::verify(&source, &policy)?;
    if args.rebuild {
        rebuild(args, &mut verification, source.folder())?;
    }
    if !db.is_empty() {
        verify::secure_boot(source.folder(), &mut verification, &db);
    }
    match args.format {
        OutputFormat::Text => print(render(&verification).as_bytes())?,
        OutputFormat::Json => print(&serde_json::to_vec_pretty(&verification).map_err(super::json_error)?)?,
    }
    if verification.passed {
        return Ok(());
    }
    let names: Vec<String> = verification
        .failed()
        .map(|c| format!("{} ({})", c.check.as_str(), c.subject))
        .collect();
    Err(Failure {
        message: format!("error: verification failed: {}", names.join(", ")),
        code: EXIT_FAILED,
    })
}

#[derive(clap::Args)]
pub struct VerifyBundleArgs {
    /// The signed file, or its digest as sha256:HEX
    #[arg(value_name = "FILE|sha256:HEX")]
    artifact: String,
    /// The Sigstore bundle (v0.1 to v0.3)
    #[arg(long, value_name = "BUNDLE")]
    bundle: PathBuf,
    /// The signer's identity a keyless certificate must name (a SAN: e-mail or URI)
    #[arg(long, value_name = "IDENTITY", conflicts_with_all = ["key", "certificate_identity_regexp"])]
    certificate_identity: Option<String>,
    /// A regular expression the certificate's identity must match whole (cosign's option)
    #[arg(long, value_name = "REGEX", conflicts_with = "key")]
    certificate_identity_regexp: Option<String>,
    /// The OIDC issuer a keyless certificate must name
    #[arg(long, value_name = "URL", conflicts_with = "key")]
    certificate_oidc_issuer: Option<String>,
    /// The signer's public key (SPKI PEM), instead of an identity
    #[arg(long, value_name = "PUB")]
    key: Option<PathBuf>,
    /// The Sigstore trusted root (trusted_root.json); default the one `sealkit trust update`
    /// installed, else the embedded production root
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
}

/// The identity a keyless certificate must name: `--certificate-identity` or
/// `--certificate-identity-regexp`.
fn keyless_identity(exact: &Option<String>, pattern: &Option<String>) -> Result<Option<Identity>, Failure> {
    match (exact, pattern) {
        (Some(exact), _) => Ok(Some(Identity::Exact(exact.clone()))),
        (None, Some(pattern)) => Identity::pattern(pattern)
            .map(Some)
            .map_err(|e| Failure::usage(format!("error: --certificate-identity-regexp: {e}"))),
        (None, None) => Ok(None),
    }
}

/// The largest bundle, trusted root or artifact read into memory by `verify-bundle`.
const MAX_BUNDLE_INPUT: u64 = 256 << 20;

fn read_input(path: &std::path::Path, what: &str) -> Result<Vec<u8>, Failure> {
    use std::io::Read as _;
    let code = sealkit::sigstore::Code::BadBundleInput.as_str();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BUNDLE_INPUT + 1).read_to_end(&mut bytes))
        .map_err(|e| Failure::input(code, format!("{what} {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_BUNDLE_INPUT {
        return Err(Failure::input(
            code,
            format!("{what} {}: larger than {} MiB", path.display(), MAX_BUNDLE_INPUT >> 20),
        ));
    }
    Ok(bytes)
}

/// `sealkit verify-bundle`: exit 0 verified, 1 not verified (with why), 2 bad input.
pub fn verify_bundle(args: &VerifyBundleArgs) -> Outcome {
    use sealkit::sigstore::{Artifact, Signer, Tlog};
    let bundle = read_input(&args.bundle, "bundle")?;
    let selected = super::trusted_root::select(args.trusted_root.as_deref())?;
    let (root, root_name) = (&selected.root, selected.describe());
    let bytes;
    let artifact = match args.artifact.strip_prefix("sha256:") {
        Some(hex_digest) => {
            let digest: [u8; 32] = hex::decode(hex_digest)
                .ok()
                .and_then(|d| d.try_into().ok())
                .ok_or_else(|| {
                    Failure::input(
                        sealkit::sigstore::Code::BadBundleInput.as_str(),
                        format!("{}: not sha256: and 64 hexadecimal digits", args.artifact),
                    )
                })?;
            Artifact::Sha256(digest)
        }
        None => {
            bytes = read_input(std::path::Path::new(&args.artifact), "artifact")?;
            Artifact::Bytes(&bytes)
        }
    };
    let key = args
        .key
        .as_ref()
        .map(|k| PublicKey::load(k).map_err(|e| Failure::input(e.code().as_str(), e)))
        .transpose()?;
    let identity = keyless_identity(&args.certificate_identity, &args.certificate_identity_regexp)?;
    let signer = match (&key, &identity, &args.certificate_oidc_issuer) {
        (Some(key), _, _) => Signer::Key(key),
        (None, Some(identity), Some(issuer)) => Signer::Identity { identity, issuer },
        _ => {
            return Err(Failure::usage(
                "error: give --key, or --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer",
            ));
        }
    };
    // Whether a log entry claims a time still to come is judged against the machine's clock:
    // the one input of this verdict that is not in the files.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match sealkit::sigstore::verify(&bundle, &artifact, &signer, root, now, Tlog::Required) {
        Ok(verified) => match args.format {
            OutputFormat::Json => {
                let mut value = serde_json::to_value(&verified).unwrap_or_default();
                value["trusted_root"] = root_name.into();
                value["trusted_root_sha256"] = selected.sha256.clone().into();
                print(format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default()).as_bytes())
            }
            OutputFormat::Text => {
                let signer = verified
                    .identity
                    .clone()
                    .or_else(|| verified.key_id.as_ref().map(|k| format!("key {k}")))
                    .unwrap_or_default();
                let issuer = verified
                    .issuer
                    .as_ref()
                    .map(|i| format!(" (issuer {i})"))
                    .unwrap_or_default();
                let entries = verified.log_entries.len();
                let timestamps: String = verified
                    .timestamps
                    .iter()
                    .map(|t| {
                        format!(
                            ", timestamped {} by {}",
                            sealkit::epoch::rfc3339(t.time.max(0) as u64),
                            t.authority
                        )
                    })
                    .collect();
                print(
                    format!(
                        "VERIFIED {} against {root_name}: signed by {signer}{issuer}, logged in {entries} entr{}{timestamps}\n",
                        args.bundle.display(),
                        if entries == 1 { "y" } else { "ies" }
                    )
                    .as_bytes(),
                )
            }
        },
        Err(why) => Err(Failure {
            message: format!("error: {} does not verify: {why}", args.bundle.display()),
            code: EXIT_FAILED,
        }),
    }
}
