//! `sealkit build FILE.yml… [-o DIR] [--name NAME] [--format F]…`: the OS image, reproducibly.

use std::path::PathBuf;

use sealkit::build::{self, Format, Request};
use sealkit::config;
use sealkit::plan::PlanOptions;
use sealkit::report::SbomInput;

use super::sbom::{AuthorshipArgs, warn_without_supplier};
use super::{Failure, Outcome, StoreArgs};

#[derive(clap::Args)]
pub struct BuildArgs {
    /// LinuxKit YAML files, merged in order; images are pinned by the first file's lock, if any
    #[arg(required = true, value_name = "FILE.yml")]
    files: Vec<PathBuf>,
    /// The output folder: made if missing, and it must be empty (see --force); a folder, or a
    /// symlink to one, never a device
    #[arg(short, long, value_name = "DIR", default_value = "out")]
    output: PathBuf,
    /// The image's name, the start of every output file's name; default: the first file's name
    /// without its extension
    #[arg(long)]
    name: Option<String>,
    /// Output formats (several may be given)
    #[arg(long, value_enum, default_value = "kernel+initrd")]
    format: Vec<Format>,
    /// Build into a folder that holds other files; earlier outputs of this build are replaced
    #[arg(long)]
    force: bool,
    /// Leave /sbom.spdx.json out of the image
    #[arg(long)]
    no_sbom: bool,
    #[command(flatten)]
    uki: UkiArgs,
    #[command(flatten)]
    authorship: AuthorshipArgs,
    /// Pull registry images missing from the store
    #[arg(long)]
    pull: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: &BuildArgs) -> Outcome {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args.files[0]
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !build::valid_name(&name) {
        return Err(Failure::usage(format!(
            "error: --name {name:?}: an image name is letters, digits, '-', '_', '.' and '+', and does not start \
             with '.'\n  hint: pass --name NAME"
        )));
    }
    if args.output == std::path::Path::new("-") {
        return Err(Failure::usage(
            "error: -o -: the build writes several files into a folder, not one stream to stdout\n  hint: name a \
             folder (-o ./- if you mean one called -)",
        ));
    }
    let uki_signer = args.uki.signer()?;
    let loaded = config::load(&args.files)?;
    for w in &loaded.warnings {
        super::log::warning(&w.to_string());
    }
    let epoch = sealkit::epoch::source_date_epoch()?;
    let resolver = args.store.resolver(&args.files[0], args.pull)?;
    let authorship = args.authorship.over(resolver.lock.as_ref().map(|l| &l.sbom))?;
    let progress = super::log::Reporter::new();
    let mut stages = sealkit::progress::Stages::new(&progress);
    stages.begin("resolve", None, "images");
    let plan = super::plan_trusted(
        &args.store,
        &loaded,
        &resolver,
        &args.files[0],
        PlanOptions {
            progress: Some(&progress),
            ..PlanOptions::default()
        },
    )?;
    stages.begin("unpack", Some(plan.images.len() as u64), "images");
    let request = Request {
        output: &args.output,
        name: &name,
        formats: &args.format,
        force: args.force,
        sbom: (!args.no_sbom).then_some(authorship),
        epoch,
        uki_stub: args.uki.uki_stub.as_deref(),
        uki_signer: uki_signer.as_ref(),
        verity: args.uki.verity,
        presigned_uki: None,
        progress: &progress,
    };
    let unpacked = build::unpack(&loaded, &plan, &resolver.store, &request)?;
    if let Some(authorship) = &request.sbom {
        let components = build::sbom_components(&plan, &unpacked);
        let input = SbomInput {
            name: &name,
            components: &components,
            created: sealkit::epoch::rfc3339(epoch),
            authorship,
        };
        warn_without_supplier(&input, Some(&args.files[0]));
    }
    stages.begin("build", None, "");
    let built = build::write(&loaded, &plan, &resolver.store, unpacked, &request)?;
    stages.finish();
    let mut said = format!(
        "built {name}: {} images, {} entries, {} packages in its SBOM",
        built.images, built.entries, built.packages
    );
    for file in &built.files {
        said.push_str(&format!("\n  {}", file.display()));
    }
    super::log::info(&said);
    Ok(())
}

/// How the `uki` and `esp` formats are made and signed.
#[derive(clap::Args)]
pub struct UkiArgs {
    /// The EFI stub of the uki and esp formats (default systemd-boot-efi's,
    /// /usr/lib/systemd/boot/efi/linuxx64.efi.stub)
    #[arg(long, value_name = "FILE")]
    pub uki_stub: Option<PathBuf>,
    /// Sign the UKI for Secure Boot with this RSA key (PEM; the db key of `sealkit keygen
    /// --secure-boot`)
    #[arg(long, value_name = "KEY", requires = "sign_cert")]
    pub sign_uki: Option<PathBuf>,
    /// The certificate of --sign-uki's key, as the firmware's db holds it (or one it issued)
    #[arg(long, value_name = "CERT", requires = "sign_uki")]
    pub sign_cert: Option<PathBuf>,
    /// Put the root in NAME-root.img, a squashfs under dm-verity (needs squashfs-tools), and boot
    /// it from a first stage that checks every block against the root hash on the command line
    /// (uki, esp, kernel+initrd)
    #[arg(long)]
    pub verity: bool,
}

impl UkiArgs {
    /// The signer, read before anything is built: a bad key must not cost a build, nor leave
    /// one half-signed.
    pub fn signer(&self) -> Result<Option<sealkit::authenticode::Signer>, Failure> {
        match (&self.sign_uki, &self.sign_cert) {
            (Some(key), Some(cert)) => load_uki_signer(key, cert).map(Some),
            _ => Ok(None),
        }
    }
}

/// The Secure Boot signer of `--sign-uki KEY --sign-cert CERT`.
fn load_uki_signer(key: &std::path::Path, cert: &std::path::Path) -> Result<sealkit::authenticode::Signer, Failure> {
    let code = sealkit::build::Code::BadSecureBootKey.as_str();
    let read = |path: &std::path::Path| {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(1 << 20).read_to_end(&mut bytes))
            .map(|_| bytes)
            .map_err(|e| Failure::input(code, format!("{}: cannot be read: {e}", path.display())))
    };
    sealkit::authenticode::Signer::from_pem(
        &read(key)?,
        &key.display().to_string(),
        &read(cert)?,
        &cert.display().to_string(),
    )
    .map_err(|e| {
        Failure::input(
            code,
            format!("{e}\n  hint: --sign-uki takes the db key and --sign-cert its certificate (sealkit keygen --secure-boot)"),
        )
    })
}
