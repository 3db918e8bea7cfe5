//! `sealkit lock FILE.yml`: pin every image to its manifest digest.

use std::path::PathBuf;

use sealkit::config;
use sealkit::image::lock::lock_path;

use super::{Outcome, StoreArgs, output_error, write_output};

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
}

pub fn run(args: &LockArgs) -> Outcome {
    let loaded = config::load(std::slice::from_ref(&args.file))?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let mut resolver = args.store.resolver(&args.file, !args.offline)?;
    // Re-locking starts from nothing: the point is to see what the references are now.
    resolver.lock = None;
    let lock = resolver.lock(&loaded)?;
    let path = lock_path(&args.file);
    write_output(&path, |out| out.write_all(&lock.to_json()).map_err(output_error(&path)))?;
    for (reference, pin) in &lock.images {
        eprintln!("{reference} -> {} ({})", pin.manifest, pin.platform);
    }
    eprintln!("wrote {}", path.display());
    Ok(())
}
