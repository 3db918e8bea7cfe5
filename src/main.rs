//! The `sealkit` command: parses arguments, calls the library, maps outcomes to exit codes
//! (0 pass, 1 gate failed, 2 usage or input error).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sealkit::config::label::LabelDir;
use sealkit::config::{self, ConfigError};
use sealkit::effective::{self, ImageFacts};

#[derive(Parser)]
#[command(
    name = "sealkit",
    version,
    about = "Build minimal LinuxKit-style OS images, and refuse to sign one until it is proven clean"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate and merge LinuxKit YAML files; print the result (or each container's effective runtime config) as JSON
    Config(ConfigArgs),
    /// Build the OS image from LinuxKit YAML, reproducibly
    Build(Pending),
    /// Inspect component images: binaries, hardening, files
    Scan(Pending),
    /// Write the software bill of materials (SPDX, CycloneDX)
    Sbom(Pending),
    /// Evaluate the policy over the evidence, without building
    Check(Pending),
    /// The whole pipeline: resolve, inspect, enforce policy, build, sign
    Gate(Pending),
    /// Sign a built image
    Sign(Pending),
    /// Create in-toto attestations (SLSA provenance, SBOM, policy result)
    Attest(Pending),
    /// Verify an image before boot: signatures, subjects, attestations, policy result
    Verify(Pending),
    /// Generate a signing key pair
    Keygen(Pending),
    /// Pin every image reference of a configuration to its digest
    Lock(Pending),
    /// Manage component images in the local store: import, ls, inspect, export, rm, pull, push
    Image(ImageArgs),
}

#[derive(clap::Args)]
struct ConfigArgs {
    /// LinuxKit YAML files, merged in order (later kernel settings win, lists are appended)
    #[arg(required = true, value_name = "FILE.yml")]
    files: Vec<PathBuf>,
    /// Print each container's effective OCI config.json and runtime.json instead of the merged YAML
    #[arg(long)]
    effective: bool,
    /// Folder of LinuxKit package folders (NAME/build.yml) whose `config:` blocks stand in for the
    /// image labels of images that cannot be read; may be given several times
    #[arg(long, value_name = "DIR")]
    label_dir: Vec<PathBuf>,
}

#[derive(clap::Args)]
struct ImageArgs {
    /// The local store (an OCI image layout); default $SEALKIT_STORE or ~/.cache/sealkit/store
    #[arg(long, global = true, value_name = "DIR")]
    store: Option<PathBuf>,
    /// The platform to pick from multi-platform images
    #[arg(long, global = true, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
    platform: String,
    /// A registry (HOST[:PORT]) to reach over plain HTTP; loopback registries always are
    #[arg(long, global = true, value_name = "HOST")]
    insecure_registry: Vec<String>,
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

/// A command whose stage is not built yet: it says so and changes nothing.
#[derive(clap::Args)]
struct Pending {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}

const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let name = match &cli.command {
        Command::Config(args) => return run_config(args),
        Command::Build(_) => "build",
        Command::Scan(_) => "scan",
        Command::Sbom(_) => "sbom",
        Command::Check(_) => "check",
        Command::Gate(_) => "gate",
        Command::Sign(_) => "sign",
        Command::Attest(_) => "attest",
        Command::Verify(_) => "verify",
        Command::Keygen(_) => "keygen",
        Command::Lock(_) => "lock",
        Command::Image(args) => return run_image(args),
    };
    eprintln!("error: `sealkit {name}` is not yet available in this version; nothing was done");
    ExitCode::from(EXIT_USAGE)
}

fn run_config(args: &ConfigArgs) -> ExitCode {
    match config_json(args) {
        Ok(json) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(&json).and_then(|()| out.write_all(b"\n")).is_err() {
                return ExitCode::from(EXIT_USAGE);
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn config_json(args: &ConfigArgs) -> Result<Vec<u8>, String> {
    let loaded = config::load(&args.files).map_err(render_config_error)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    if !args.effective {
        return serde_json::to_vec_pretty(&loaded.config).map_err(|e| format!("error: {e}"));
    }
    let mut label_dirs = Vec::new();
    for dir in &args.label_dir {
        label_dirs.push(LabelDir::load(dir).map_err(render_config_error)?);
    }
    let facts = |image: &sealkit::image::ImageRef| ImageFacts {
        label: label_dirs.iter().find_map(|d| d.find(image)).cloned(),
        defaults: None,
    };
    let components = effective::compute(&loaded, &facts).map_err(|e| format!("error: {e}"))?;
    for c in components.iter().filter(|c| c.label_source.is_none()) {
        eprintln!(
            "note: {} ({}): no label found{}; its effective config rests on the YAML and defaults alone",
            c.name,
            c.image,
            if args.label_dir.is_empty() {
                " (images are not read yet: pass --label-dir)"
            } else {
                " in --label-dir"
            }
        );
    }
    let document = effective::Document {
        schema: effective::DOCUMENT_SCHEMA,
        files: args.files.iter().map(|f| f.display().to_string()).collect(),
        components,
    };
    serde_json::to_vec_pretty(&document).map_err(|e| format!("error: {e}"))
}

fn run_image(args: &ImageArgs) -> ExitCode {
    match image_command(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn image_command(args: &ImageArgs) -> Result<(), String> {
    use sealkit::image::{self, ImageRef, Platform, Rootfs, Store};
    let err = |e: image::ImageError| format!("error: {e}");
    let platform: Platform = args.platform.parse().map_err(|e| format!("error: --platform: {e}"))?;
    let store = Store::open(&args.store.clone().unwrap_or_else(Store::default_location)).map_err(err)?;
    let registry_options = image::registry::RegistryOptions {
        insecure: args.insecure_registry.clone(),
        timeout: None,
    };
    let parse_ref = |s: &str| {
        s.parse::<ImageRef>()
            .map_err(|e| format!("error: {e}\n  hint: {}", e.hint))
    };
    let stdout = |bytes: Vec<u8>| {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| format!("error: writing to stdout: {e}"))
    };
    match &args.command {
        ImageCommand::Ls => {
            let mut out = String::new();
            for (name, desc) in store.names().map_err(err)? {
                out.push_str(&format!("{name}\t{}\n", desc.digest()));
            }
            stdout(out.trim_end().as_bytes().to_vec())
        }
        ImageCommand::Import { source, tag } => {
            let source = parse_ref(source)?;
            if matches!(source, ImageRef::Registry(_)) {
                return Err("error: import takes oci:DIR[:TAG], docker-archive:FILE or dir:ROOTFS\n  hint: use `sealkit image pull` for registry images".into());
            }
            let name = parse_ref(tag)?;
            if !matches!(name, ImageRef::Registry(_)) {
                return Err(format!(
                    "error: --tag {tag:?} must be an image name such as example/app:1"
                ));
            }
            let resolved = image::import(&store, &source, &name.to_string(), &platform).map_err(err)?;
            eprintln!(
                "imported {} as {name} ({})",
                resolved.reference, resolved.manifest_digest
            );
            Ok(())
        }
        ImageCommand::Inspect { reference, files } => {
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, Path::new(".")).map_err(err)?;
            let mut doc = serde_json::json!({
                "reference": resolved.reference,
                "manifest": resolved.manifest_digest.to_string(),
                "index": resolved.index_digest.as_ref().map(|d| d.to_string()),
                "platform": resolved.platform,
                "config": resolved.config,
                "layers": resolved.layers(),
            });
            if *files {
                let rootfs = Rootfs::flatten(&store, &resolved).map_err(err)?;
                doc["files"] = serde_json::to_value(&rootfs.entries).map_err(|e| format!("error: {e}"))?;
            }
            stdout(serde_json::to_vec_pretty(&doc).map_err(|e| format!("error: {e}"))?)
        }
        ImageCommand::Export { reference, output } => {
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, Path::new(".")).map_err(err)?;
            let rootfs = Rootfs::flatten(&store, &resolved).map_err(err)?;
            let dir = output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("error: {}: {e}", dir.display()))?;
            image::rootfs::export(&store, &resolved, &rootfs, std::io::BufWriter::new(tmp.as_file())).map_err(err)?;
            tmp.persist(output)
                .map_err(|e| format!("error: {}: {}", output.display(), e.error))?;
            eprintln!(
                "exported {} ({} entries) to {}",
                resolved.reference,
                rootfs.entries.len(),
                output.display()
            );
            Ok(())
        }
        ImageCommand::Rm { reference } => {
            let name = parse_ref(reference)?.to_string();
            if store.remove_name(&name).map_err(err)? {
                eprintln!("removed {name}");
                Ok(())
            } else {
                Err(format!(
                    "error: {name}: not in the store\n  hint: sealkit image ls lists what is"
                ))
            }
        }
        ImageCommand::Pull { reference } => {
            let ImageRef::Registry(r) = parse_ref(reference)? else {
                return Err("error: pull takes a registry reference [REGISTRY/]NAME[:TAG][@DIGEST]\n  hint: use `sealkit image import` for oci:, docker-archive: and dir: sources".into());
            };
            let resolved = image::registry::pull(&store, &r, &platform, &registry_options).map_err(err)?;
            eprintln!("pulled {} ({})", resolved.reference, resolved.manifest_digest);
            Ok(())
        }
        ImageCommand::Push { reference, destination } => {
            let ImageRef::Registry(dest) = parse_ref(destination)? else {
                return Err("error: the destination must be a registry reference REGISTRY/NAME[:TAG]".into());
            };
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, Path::new(".")).map_err(err)?;
            let digest = image::registry::push(&store, &resolved, &dest, &registry_options).map_err(err)?;
            eprintln!("pushed {} to {} ({digest})", resolved.reference, dest.whole());
            Ok(())
        }
    }
}

fn render_config_error(e: ConfigError) -> String {
    match &e {
        ConfigError::Invalid(list) => {
            let mut out = String::new();
            for d in list {
                out.push_str(&format!("error: {d}\n"));
            }
            let files: Vec<&Path> = list.iter().map(|d| d.file.as_path()).collect();
            out.push_str(&format!(
                "{} problem{} in {}; nothing was done",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                files.first().map_or(String::new(), |f| f.display().to_string())
            ));
            out
        }
        ConfigError::Read { .. } => format!("error: {e}"),
    }
}
