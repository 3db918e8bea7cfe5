//! `sealkit vulndb …`: the local advisory database that `sealkit vulns` matches packages
//! against. Importing is the only way data gets in; scanning never touches the network.

use std::path::PathBuf;

use clap::Subcommand;
use sealkit::vuln::VulnError;
use sealkit::vuln::db::{self, Database, ImportOptions};
use sealkit::vuln::update;

use super::{Failure, Outcome, json_error, print};

impl From<VulnError> for Failure {
    fn from(e: VulnError) -> Self {
        Failure::input(e.code.as_str(), e)
    }
}

/// How a command that judges an image matches its packages: the database, what to assume of
/// images without os-release, and how old the data may be.
#[derive(clap::Args)]
pub struct MatchArgs {
    #[command(flatten)]
    pub db: VulndbArgs,
    /// The distribution of images that have no os-release (ID-VERSION_ID, as in purls:
    /// debian-12, alpine-3.20): their OS packages cannot be matched without it
    #[arg(long, value_name = "ID-VERSION", value_parser = parse_distro)]
    pub distro: Option<sealkit::inspect::sbom::Distro>,
    /// Warn (baseline SK-VULN-004) when the newest advisory is more than DAYS older than the
    /// evaluation date (--now, SOURCE_DATE_EPOCH)
    #[arg(long, value_name = "DAYS")]
    pub max_db_age: Option<u64>,
    #[command(flatten)]
    pub vex: VexArgs,
}

/// VEX documents that say which matches do not apply.
#[derive(clap::Args)]
pub struct VexArgs {
    /// A VEX document (OpenVEX, CycloneDX VEX, or either signed: a DSSE envelope or Sigstore
    /// bundle of an in-toto statement, as `cosign attest --type openvex` makes); repeatable.
    /// Its `not_affected` and `fixed` statements suppress the matches they name, which stay
    /// listed with the statement
    #[arg(long = "vex", value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Require every --vex file to be signed by one of these public keys (repeatable)
    #[arg(long = "vex-key", value_name = "PUB", requires = "vex")]
    pub vex_key: Vec<PathBuf>,
}

impl VexArgs {
    /// The documents, read and (with --vex-key) their signatures checked: input like the
    /// image, refused before anything is inspected.
    pub fn read(&self) -> Result<Vec<sealkit::vuln::vex::Document>, Failure> {
        let keys = self
            .vex_key
            .iter()
            .map(|k| sealkit::keys::PublicKey::load(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(sealkit::vuln::vex::read_all(&self.vex, &keys)?)
    }
}

impl MatchArgs {
    pub fn vex(&self) -> Result<Vec<sealkit::vuln::vex::Document>, Failure> {
        self.vex.read()
    }

    pub fn options<'a>(&'a self, vex: &'a [sealkit::vuln::vex::Document]) -> sealkit::evidence::VulnOptions<'a> {
        sealkit::evidence::VulnOptions {
            database: self.db.dir.as_deref(),
            distro: self.distro.as_ref(),
            max_age_days: self.max_db_age,
            vex,
        }
    }
}

pub fn parse_distro(text: &str) -> Result<sealkit::inspect::sbom::Distro, String> {
    sealkit::inspect::sbom::Distro::from_qualifier(text)
        .ok_or_else(|| format!("{text:?} is not ID-VERSION (debian-12)"))
}

/// Where the advisory database is kept.
#[derive(clap::Args, Clone)]
pub struct VulndbArgs {
    /// The advisory database's folder; default $SEALKIT_VULNDB or ~/.cache/sealkit/vulndb
    #[arg(long = "vulndb", global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl VulndbArgs {
    pub fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(db::default_location)
    }

    pub fn open(&self) -> Result<Database, Failure> {
        Ok(Database::open(&self.dir())?)
    }
}

#[derive(clap::Args)]
pub struct VulndbCommandArgs {
    #[command(flatten)]
    db: VulndbArgs,
    #[command(subcommand)]
    command: VulndbCommand,
}

#[derive(Subcommand)]
enum VulndbCommand {
    /// Build the database from advisory files, replacing the current one: OSV JSON (an entry,
    /// an array of entries, folders of them, osv.dev's per-ecosystem all.zip) and the Debian
    /// Security Tracker's JSON (security-tracker.debian.org/tracker/data/json)
    Import {
        #[arg(value_name = "FILE|DIR", required = true)]
        paths: Vec<PathBuf>,
        /// Import what is well-formed and list each malformed entry, instead of importing
        /// nothing
        #[arg(long)]
        skip_malformed: bool,
    },
    /// Fetch the public exports (osv.dev's all.zip per ecosystem, the Debian Security Tracker's
    /// JSON) and import them, replacing the current database; the only command that uses the
    /// network for advisories
    Update {
        /// An osv.dev ecosystem to fetch (repeat); default Debian, Alpine, PyPI, npm, Go,
        /// crates.io
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        /// Where the OSV exports are (BASE/ECOSYSTEM/all.zip)
        #[arg(long, value_name = "URL", default_value = update::OSV_EXPORTS)]
        osv_url: String,
        /// Where the Debian Security Tracker's JSON is
        #[arg(long, value_name = "URL", default_value = update::DEBIAN_TRACKER)]
        tracker_url: String,
        /// Fetch no tracker data (OSV's Debian entries only)
        #[arg(long)]
        no_tracker: bool,
        /// Seconds to wait for a connection or for more bytes
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        timeout: u64,
        /// As for import
        #[arg(long)]
        skip_malformed: bool,
    },
    /// The current database: its digest, the newest entry's time, advisories per ecosystem
    Info {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn run(args: &VulndbCommandArgs) -> Outcome {
    match &args.command {
        VulndbCommand::Import { paths, skip_malformed } => import(&args.db, paths, *skip_malformed),
        VulndbCommand::Update {
            ecosystems,
            osv_url,
            tracker_url,
            no_tracker,
            timeout,
            skip_malformed,
        } => {
            let ecosystems: Vec<String> = if ecosystems.is_empty() {
                update::ECOSYSTEMS.iter().map(|e| (*e).to_owned()).collect()
            } else {
                ecosystems.clone()
            };
            let downloads = update::downloads(osv_url, &ecosystems, (!no_tracker).then_some(tracker_url.as_str()))?;
            let dir = args.db.dir();
            std::fs::create_dir_all(&dir)
                .map_err(|e| Failure::input(sealkit::vuln::Code::Write.as_str(), format!("{}: {e}", dir.display())))?;
            // Fetched beside the database, so a failure leaves it as it was and no partial
            // export behind.
            let spool = tempfile::Builder::new()
                .prefix(".update-")
                .tempdir_in(&dir)
                .map_err(|e| Failure::input(sealkit::vuln::Code::Write.as_str(), format!("{}: {e}", dir.display())))?;
            for d in &downloads {
                super::log::info(&format!("fetching {}", d.url));
            }
            let files = update::fetch(
                &downloads,
                spool.path(),
                update::MAX_DOWNLOAD,
                std::time::Duration::from_secs(*timeout),
            )?;
            import(&args.db, &files, *skip_malformed)
        }
        VulndbCommand::Info { format } => {
            let d = args.db.open()?;
            let summary = info(&d);
            match format {
                Format::Json => print(&serde_json::to_vec_pretty(&summary).map_err(json_error)?),
                Format::Table => {
                    let mut out = format!(
                        "database {}\nnewest entry {}\nadvisories {}\n",
                        d.digest,
                        d.newest.as_deref().unwrap_or("(none dated)"),
                        d.advisories.len()
                    );
                    for (ecosystem, n) in summary["ecosystems"].as_object().into_iter().flatten() {
                        out.push_str(&format!("  {ecosystem:<24} {n}\n"));
                    }
                    print(out.trim_end().as_bytes())
                }
            }
        }
    }
}

/// Digest, newest time, and how many advisories name each ecosystem.
/// Imports `paths` into the database of `db`, replacing the current one.
fn import(db: &VulndbArgs, paths: &[PathBuf], skip_malformed: bool) -> Outcome {
    let options = ImportOptions {
        skip_malformed,
        ..Default::default()
    };
    let imported = db::import(paths, &options)?;
    for s in &imported.skipped {
        super::log::warning(&format!("skipped {}: {}: {}", s.file, s.entry, s.reason));
    }
    let dir = db.dir();
    imported.database.store(&dir)?;
    let d = &imported.database;
    super::log::info(&format!(
        "imported {} advisories from {} files{} into {}\n  database {}\n  newest entry {}",
        d.advisories.len(),
        imported.files,
        match imported.skipped.len() {
            0 => String::new(),
            n => format!(" ({n} malformed entries skipped)"),
        },
        dir.display(),
        d.digest,
        d.newest.as_deref().unwrap_or("(none dated: tracker data only)")
    ));
    Ok(())
}

fn info(d: &Database) -> serde_json::Value {
    let mut ecosystems: std::collections::BTreeMap<&str, usize> = Default::default();
    for a in &d.advisories {
        let mut seen: Vec<&str> = a.affected.iter().map(|x| x.ecosystem.as_str()).collect();
        seen.sort();
        seen.dedup();
        for e in seen {
            *ecosystems.entry(e).or_default() += 1;
        }
    }
    serde_json::json!({
        "digest": d.digest,
        "newest": d.newest,
        "advisories": d.advisories.len(),
        "ecosystems": ecosystems,
    })
}
