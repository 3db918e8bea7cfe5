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
    /// Manage component images: import, ls, pull, push, inspect, export, rm
    Image(Pending),
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
        Command::Image(_) => "image",
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
