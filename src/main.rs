//! The `sealkit` command: parses arguments, calls the library, maps outcomes to exit codes
//! (0 pass, 1 gate failed, 2 usage or input error).

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sealkit",
    version,
    about = "Build minimal LinuxKit-style OS images, and refuse to sign one until it is proven clean"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print no progress (warnings, errors and the result still print)
    #[arg(short, long, global = true)]
    quiet: bool,
    /// How progress, warnings and errors are written on stderr: text (bars on a terminal, a line
    /// per stage elsewhere) or json (one object per line, for log collectors)
    #[arg(long, global = true, value_enum, default_value = "text", value_name = "FORMAT")]
    log_format: cli::log::LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Validate and merge LinuxKit YAML files; print the result (or each container's effective runtime config) as JSON
    Config(cli::config::ConfigArgs),
    /// Build the OS image from LinuxKit YAML, reproducibly
    Build(cli::build::BuildArgs),
    /// Inspect component images: binaries, hardening, files
    Scan(cli::scan::ScanArgs),
    /// Write the software bill of materials (SPDX, CycloneDX)
    Sbom(cli::sbom::SbomArgs),
    /// Evaluate the policy over the evidence, without building
    Check(cli::check::CheckArgs),
    /// Policy authoring: run the Rego unit tests of policy folders
    Policy(cli::policy::PolicyArgs),
    /// The policy evaluator, run by sealkit itself with bounded time and memory
    #[command(name = "__evaluate-policy", hide = true)]
    EvaluatePolicy(cli::policy::ServeArgs),
    /// The whole pipeline: resolve, inspect, judge, build, SBOM, attest, verify: a signed image, or the reasons it was denied
    Gate(Box<cli::gate::GateArgs>),
    /// Write the HTML report of a saved evidence.json (and its report.json): one self-contained page for people
    Report(cli::report::ReportArgs),
    /// Sign a file: a DSSE statement over its digest, in a Sigstore bundle (FILE.sigstore.json)
    Sign(cli::sign::SignArgs),
    /// Attest a file (any predicate) or a build's output folder (SLSA provenance, SBOMs, policy result)
    Attest(cli::sign::AttestArgs),
    /// Verify an image before boot: signatures, subjects, attestations, policy result
    Verify(cli::verify::VerifyArgs),
    /// Verify a Sigstore bundle over a file or digest, offline: keyless (certificate identity and issuer) or with a key
    VerifyBundle(cli::verify::VerifyBundleArgs),
    /// Publish an attested output folder to a registry: the image as an OCI artifact, each bundle as its referrer
    Push(cli::publish::PushArgs),
    /// Fetch an image published by `sealkit push` (files and bundles) into a folder, checking every digest
    Pull(cli::publish::PullArgs),
    /// Generate a signing key pair (Ed25519 or ECDSA P-256)
    Keygen(cli::keygen::KeygenArgs),
    /// Pin every image reference of a configuration to its manifest digest (FILE.lock.json)
    Lock(cli::lock::LockArgs),
    /// Show sealkit's version and the Sigstore trusted root verifications use (embedded, updated or a file)
    Version(cli::trusted_root::VersionArgs),
    /// The Sigstore trusted root: `trust update` refreshes it over TUF (the only command that goes online for it)
    Trust(cli::trusted_root::TrustArgs),
    /// Manage component images in the local store: import, ls, inspect, export, rm, pull, push
    Image(cli::image::ImageArgs),
    /// Known vulnerabilities of an image's packages, matched offline against the advisory database
    Vulns(cli::vulns::VulnsArgs),
    /// The local advisory database (OSV, Debian Security Tracker): import, info
    Vulndb(cli::vulndb::VulndbCommandArgs),
    /// Print a shell completion script for sealkit (bash, zsh, fish, elvish, powershell)
    Completions(cli::manual::CompletionsArgs),
    /// Write sealkit's manual pages into a folder (-o DIR), or print sealkit.1
    Man(cli::manual::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::log::configure(cli.quiet, cli.log_format);
    let outcome = match &cli.command {
        Command::Config(args) => cli::config::run(args),
        Command::Lock(args) => cli::lock::run(args),
        Command::Image(args) => cli::image::run(args),
        Command::Vulns(args) => cli::vulns::run(args),
        Command::Vulndb(args) => cli::vulndb::run(args),
        Command::Scan(args) => cli::scan::run(args),
        Command::Sbom(args) => cli::sbom::run(args),
        Command::Build(args) => cli::build::run(args),
        Command::Check(args) => cli::check::run(args),
        Command::Policy(args) => cli::policy::run(args),
        Command::EvaluatePolicy(args) => cli::policy::serve(args),
        Command::Gate(args) => cli::gate::run(args),
        Command::Report(args) => cli::report::run(args),
        Command::Sign(args) => cli::sign::sign(args),
        Command::VerifyBundle(args) => cli::verify::verify_bundle(args),
        Command::Version(args) => cli::trusted_root::version(args),
        Command::Trust(args) => cli::trusted_root::run(args),
        Command::Attest(args) => cli::sign::attest(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Keygen(args) => cli::keygen::run(args),
        Command::Push(args) => cli::publish::push(args),
        Command::Pull(args) => cli::publish::pull(args),
        Command::Completions(args) => cli::manual::completions(args),
        Command::Man(args) => cli::manual::man(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            cli::log::error(&failure.message, failure.code);
            ExitCode::from(failure.code)
        }
    }
}
