//! `sealkit build FILE.yml… [-o DIR] [--name NAME] [--format F]…`: the OS image, reproducibly.

use std::path::PathBuf;

use sealkit::build::{self, Format, Request};
use sealkit::config;
use sealkit::plan::{self, Allowance};

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
    /// Pull registry images missing from the store
    #[arg(long)]
    pull: bool,
    #[command(flatten)]
    store: StoreArgs,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

pub fn run(args: &BuildArgs) -> Outcome {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args.files[0]
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !valid_name(&name) {
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
    let loaded = config::load(&args.files)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let epoch = sealkit::epoch::source_date_epoch()?;
    let resolver = args.store.resolver(&args.files[0], args.pull)?;
    let plan = plan::plan(&loaded, &resolver, &Allowance::default())?;
    let request = Request {
        output: &args.output,
        name: &name,
        formats: &args.format,
        force: args.force,
        sbom: !args.no_sbom,
        epoch,
    };
    let built = build::build(&loaded, &plan, &resolver.store, &request)?;
    eprintln!(
        "built {name}: {} images, {} entries, {} packages in its SBOM",
        built.images, built.entries, built.packages
    );
    for file in &built.files {
        eprintln!("  {}", file.display());
    }
    Ok(())
}
