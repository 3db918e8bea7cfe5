//! `sealkit image …`: the local store, transports and registries.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use sealkit::image::{self, ImageRef, Rootfs};

use super::{Failure, Outcome, StoreArgs, json_error, output_name, print, write_output};

#[derive(clap::Args)]
pub struct ImageArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: ImageCommand,
}

#[derive(Subcommand)]
enum ImageCommand {
    /// List the images in the store
    Ls,
    /// Copy an image from oci:DIR[:TAG], docker-archive:FILE or dir:ROOTFS into the store
    Import {
        #[arg(value_name = "SRC")]
        source: String,
        /// The name to give it in the store, e.g. sealkit-fixtures/hello:1
        #[arg(long, value_name = "NAME")]
        tag: String,
    },
    /// Show an image's manifest digest, platform, config and layers as JSON
    Inspect {
        #[arg(value_name = "REF")]
        reference: String,
        /// Also list every file of the flattened filesystem
        #[arg(long)]
        files: bool,
    },
    /// Write the image's flattened filesystem as one tar
    Export {
        #[arg(value_name = "REF")]
        reference: String,
        /// Where the tar goes (- is stdout; a device or FIFO is written through)
        #[arg(short, long, value_name = "FILE.tar")]
        output: PathBuf,
    },
    /// Remove an image's name from the store
    Rm {
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Pull an image from a registry into the store
    Pull {
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Push an image from the store (or oci:/docker-archive:/dir:) to a registry
    Push {
        #[arg(value_name = "REF")]
        reference: String,
        #[arg(value_name = "DEST")]
        destination: String,
    },
}

pub fn parse_ref(s: &str) -> Result<ImageRef, Failure> {
    s.parse::<ImageRef>()
        .map_err(|e| Failure::usage(format!("error: {e}\n  hint: {}", e.hint)))
}

pub fn run(args: &ImageArgs) -> Outcome {
    let (store, platform, options) = args.store.open()?;
    let here = Path::new(".");
    match &args.command {
        ImageCommand::Ls => {
            let mut out = String::new();
            for (name, desc) in store.names()? {
                out.push_str(&format!("{name}\t{}\n", desc.digest()));
            }
            print(out.trim_end().as_bytes())
        }
        ImageCommand::Import { source, tag } => {
            let source = parse_ref(source)?;
            if matches!(source, ImageRef::Registry(_)) {
                return Err(Failure::usage(
                    "error: import takes oci:DIR[:TAG], docker-archive:FILE or dir:ROOTFS\n  hint: use `sealkit image pull` for registry images",
                ));
            }
            let name = parse_ref(tag)?;
            if !matches!(name, ImageRef::Registry(_)) {
                return Err(Failure::usage(format!(
                    "error: --tag {tag:?} must be an image name such as example/app:1"
                )));
            }
            let resolved = image::import(&store, &source, &name.to_string(), &platform)?;
            eprintln!(
                "imported {} as {name} ({})",
                resolved.reference, resolved.manifest_digest
            );
            Ok(())
        }
        ImageCommand::Inspect { reference, files } => {
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, here)?;
            let mut doc = serde_json::json!({
                "reference": resolved.reference,
                "manifest": resolved.manifest_digest.to_string(),
                "index": resolved.index_digest.as_ref().map(|d| d.to_string()),
                "platform": resolved.platform,
                "config": resolved.config,
                "layers": resolved.layers(),
            });
            if *files {
                let rootfs = Rootfs::flatten(&store, &resolved)?;
                doc["files"] = serde_json::to_value(&rootfs.entries).map_err(json_error)?;
            }
            print(&serde_json::to_vec_pretty(&doc).map_err(json_error)?)
        }
        ImageCommand::Export { reference, output } => {
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, here)?;
            let rootfs = Rootfs::flatten(&store, &resolved)?;
            write_output(output, |out| {
                Ok(image::export::export(&store, &resolved, &rootfs, out)?)
            })?;
            eprintln!(
                "exported {} ({} entries) to {}",
                resolved.reference,
                rootfs.entries.len(),
                output_name(output)
            );
            Ok(())
        }
        ImageCommand::Rm { reference } => {
            let name = parse_ref(reference)?.to_string();
            if store.remove_name(&name)? {
                eprintln!("removed {name}");
                Ok(())
            } else {
                Err(Failure::usage(format!(
                    "error: {name}: not in the store\n  hint: sealkit image ls lists what is"
                )))
            }
        }
        ImageCommand::Pull { reference } => {
            let ImageRef::Registry(r) = parse_ref(reference)? else {
                return Err(Failure::usage(
                    "error: pull takes a registry reference [REGISTRY/]NAME[:TAG][@DIGEST]\n  hint: use `sealkit image import` for oci:, docker-archive: and dir: sources",
                ));
            };
            let resolved = image::registry::pull(&store, &r, &platform, &options)?;
            eprintln!("pulled {} ({})", resolved.reference, resolved.manifest_digest);
            Ok(())
        }
        ImageCommand::Push { reference, destination } => {
            let ImageRef::Registry(dest) = parse_ref(destination)? else {
                return Err(Failure::usage(
                    "error: the destination must be a registry reference REGISTRY/NAME[:TAG]",
                ));
            };
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, here)?;
            let digest = image::registry::push(&store, &resolved, &dest, &options)?;
            eprintln!("pushed {} to {} ({digest})", resolved.reference, dest.whole());
            Ok(())
        }
    }
}
