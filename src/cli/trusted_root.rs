//! `sealkit trust update`: refresh the Sigstore trusted root over TUF, into the cache folder;
//! and the one rule every command that verifies Sigstore signatures follows to pick its root
//! (`--trusted-root FILE`, else the updated root, else the embedded one), shown by `version`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use sealkit::sigstore::installed::Source;
use sealkit::sigstore::{self, RootError, Selected, tuf};

use super::{Failure, Outcome, json_error, print};

impl From<RootError> for Failure {
    fn from(e: RootError) -> Self {
        // A repository that served what does not verify is a refusal, as a bundle that does
        // not verify is; everything else is input or environment to fix.
        let code = if e.code == sigstore::Code::TufNotVerified { 1 } else { 2 };
        Failure {
            message: format!("error[{}]: {e}", e.code),
            code,
        }
    }
}

/// The cache folder of the updated trusted root: `SEALKIT_SIGSTORE`, else
/// `$XDG_CACHE_HOME/sealkit/sigstore`, else `~/.cache/sealkit/sigstore` (beside the store).
pub fn cache_dir() -> PathBuf {
    sealkit::image::store::cache_location("SEALKIT_SIGSTORE", "sigstore")
}

/// The trusted root a command verifies against: `file` (`--trusted-root`) when given, else the
/// one `sealkit trust update` installed, else the embedded production root.
pub fn select(file: Option<&Path>) -> Result<Selected, Failure> {
    Ok(sigstore::select(file, &cache_dir())?)
}

#[derive(clap::Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    command: TrustCommand,
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Refresh the Sigstore trusted root over TUF (the public-good instance by default) and
    /// install it in the cache folder, where verifications find it; they never go online
    Update(UpdateArgs),
}

#[derive(clap::Args)]
struct UpdateArgs {
    /// The TUF repository's base URL (http, https, or file for a local mirror); its metadata
    /// is read at URL/N.root.json, URL/timestamp.json…, its targets at URL/targets/
    #[arg(long, value_name = "URL", default_value = tuf::PRODUCTION_URL)]
    tuf_url: String,
    /// The repository's root.json to start the chain of roots from; required for a repository
    /// other than the public-good one, whose root sealkit embeds
    #[arg(long, value_name = "FILE")]
    tuf_root: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: &TrustArgs) -> Outcome {
    match &args.command {
        TrustCommand::Update(args) => update(args),
    }
}

fn update(args: &UpdateArgs) -> Outcome {
    let updated = tuf::update(&args.tuf_url, args.tuf_root.as_deref(), &cache_dir())?;
    match args.format {
        Format::Json => print(&serde_json::to_vec_pretty(&updated).map_err(json_error)?),
        Format::Text => {
            let r = &updated.installed;
            let what = if updated.changed { "installed" } else { "unchanged:" };
            print(
                format!(
                    "{what} the Sigstore trusted root of {} (sha256:{}) from {}\n  TUF metadata: root v{}, timestamp v{}, snapshot v{}, targets v{}; the timestamp expires {}\n  kept in {}",
                    r.date,
                    r.sha256,
                    r.repository,
                    r.versions.root,
                    r.versions.timestamp,
                    r.versions.snapshot,
                    r.versions.targets,
                    r.expires.timestamp,
                    updated.path.display()
                )
                .as_bytes(),
            )
        }
    }
}

#[derive(clap::Args)]
pub struct VersionArgs {
    /// Show this trusted root (trusted_root.json) rather than the one verifications use by default
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
}

/// `sealkit version`: the version, and the trusted root verifications use (which, from where,
/// its date and digest). A root that cannot be used is reported after the version, exit 2.
pub fn version(args: &VersionArgs) -> Outcome {
    let head = format!("sealkit {}", env!("CARGO_PKG_VERSION"));
    let selected = match select(args.trusted_root.as_deref()) {
        Ok(selected) => selected,
        Err(failure) => {
            print(head.as_bytes())?;
            return Err(failure);
        }
    };
    let root = match &selected.source {
        Source::Embedded => format!(
            "the public-good production root of {} (sha256:{}), embedded",
            selected.date, selected.sha256
        ),
        Source::Updated { record, path } => format!(
            "the root of {} (sha256:{}), updated from {} (TUF root v{}, timestamp v{}, targets v{}), in {}",
            selected.date,
            selected.sha256,
            record.repository,
            record.versions.root,
            record.versions.timestamp,
            record.versions.targets,
            path.display()
        ),
        Source::File(path) => format!(
            "the root of {} (sha256:{}), from the file {}",
            selected.date,
            selected.sha256,
            path.display()
        ),
    };
    print(format!("{head}\nsigstore trusted root: {root}").as_bytes())
}
