//! `sealkit lock FILE.yml`: pin every image to its manifest digest.

use std::path::PathBuf;

use sealkit::config;
use sealkit::image::lock::{SbomSettings, lock_path};

use super::sbom::AuthorshipArgs;
use super::{Outcome, StoreArgs, output_error, untrusted, write_output};

#[derive(clap::Args)]
pub struct LockArgs {
    /// The LinuxKit YAML file; the lock is written beside it as FILE.lock.json
    #[arg(value_name = "FILE.yml")]
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
    /// Do not pull images missing from the store; fail instead
    #[arg(long)]
    offline: bool,
    /// What the configuration's SBOMs say about who made the OS image, recorded in the lock for
    /// `sbom` and `build`; kept from the previous lock when not given
    #[command(flatten)]
    authorship: AuthorshipArgs,
}

pub fn run(args: &LockArgs) -> Outcome {
    let loaded = config::load(std::slice::from_ref(&args.file))?;
    for w in &loaded.warnings {
        super::log::warning(&w.to_string());
    }
    let mut resolver = args.store.resolver(&args.file, !args.offline)?;
    // Re-locking starts from nothing: the point is to see what the references are now. The
    // settings are the user's, not the references': they stay unless given anew.
    let previous = resolver.lock.take().map(|l| l.sbom);
    let authorship = args.authorship.over(previous.as_ref())?;
    let trust = args.store.trust(Some(&args.file))?;
    let (mut lock, refused) = sealkit::trust::examine::lock(&resolver, &loaded, trust.as_ref())?;
    if !refused.is_empty() {
        return Err(untrusted(&refused));
    }
    lock.sbom = SbomSettings {
        supplier: authorship.supplier,
        creators: authorship.creators,
    };
    let path = lock_path(&args.file);
    write_output(&path, |out| out.write_all(&lock.to_json()).map_err(output_error(&path)))?;
    for (reference, pin) in &lock.images {
        super::log::info(&format!("{reference} -> {} ({})", pin.manifest, pin.platform));
    }
    super::log::info(&format!("wrote {}", path.display()));
    Ok(())
}
