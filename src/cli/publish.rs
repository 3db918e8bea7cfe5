//! `sealkit push DIR REF` and `sealkit pull REF -o DIR`: a signed image as an OCI artifact in a
//! registry, its bundles as referrers (docs/registry.md).

use std::path::PathBuf;

use sealkit::image::registry::RegistryOptions;
use sealkit::publish::{self, PublishError, Referrers};

use super::{Failure, Outcome};

impl From<PublishError> for Failure {
    fn from(e: PublishError) -> Self {
        Failure::input(e.code(), e)
    }
}

#[derive(clap::Args, Clone)]
pub struct RegistryArgs {
    /// A registry (HOST[:PORT]) to reach over plain HTTP; loopback registries always are
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
}

impl RegistryArgs {
    pub fn options(&self) -> RegistryOptions {
        RegistryOptions {
            insecure: self.insecure_registry.clone(),
            timeout: None,
        }
    }
}

#[derive(clap::Args)]
pub struct PushArgs {
    /// An attested output folder: image files, documents and *.sigstore.json bundles
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Where to publish it: HOST[:PORT]/NAME[:TAG]
    #[arg(value_name = "REF")]
    reference: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(clap::Args)]
pub struct PullArgs {
    /// The image to fetch: HOST[:PORT]/NAME[:TAG][@sha256:DIGEST]
    #[arg(value_name = "REF")]
    reference: String,
    /// The folder to write the files and bundles to (made if missing; must hold no other files)
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn push(args: &PushArgs) -> Outcome {
    let reference = publish::parse_reference(&args.reference)?;
    let created = sealkit::epoch::from_env()?;
    let pushed = super::log::one_stage("push", None, "blobs", |progress| {
        publish::push(&args.dir, &reference, &args.registry.options(), created, progress)
    })?;
    super::log::info(&format!(
        "pushed {} files and {} bundles of {} ({} blobs sent, {} already there); bundles listed {}",
        pushed.files,
        pushed.bundles,
        args.dir.display(),
        pushed.uploaded,
        pushed.present,
        match &pushed.referrers {
            Referrers::Api => "by the registry's referrers API".to_owned(),
            Referrers::Tag(tag) => format!("under the referrers tag {tag} (the registry has no referrers API)"),
        }
    ));
    super::print(pushed.reference.as_bytes())
}

/// Pulls `reference` into `dir`, saying on stderr what was written; shared with verify.
pub fn pull_into(reference: &str, dir: &std::path::Path, registry: &RegistryArgs) -> Result<publish::Pulled, Failure> {
    let parsed = publish::parse_reference(reference)?;
    let pulled = super::log::one_stage("pull", None, "blobs", |progress| {
        publish::pull(&parsed, dir, &registry.options(), progress)
    })?;
    for foreign in &pulled.foreign {
        super::log::warning(&format!(
            "{reference}: referrer {foreign} is about another image; kept for verify to judge"
        ));
    }
    if pulled.bundles.is_empty() {
        super::log::warning(&format!("{reference}: no Sigstore bundle refers to {}", pulled.digest));
    }
    Ok(pulled)
}

pub fn pull(args: &PullArgs) -> Outcome {
    let pulled = pull_into(&args.reference, &args.output, &args.registry)?;
    super::log::info(&format!(
        "pulled {} ({}): {} files and {} bundles into {}",
        args.reference,
        pulled.digest,
        pulled.files.len(),
        pulled.bundles.len(),
        args.output.display()
    ));
    Ok(())
}
