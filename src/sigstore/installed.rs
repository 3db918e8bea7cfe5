//! Which Sigstore trusted root a verification uses, decided in one place ([`select`]): a file
//! the user names, else the root `sealkit trust update` installed in the cache folder, else the
//! production root sealkit embeds. Nothing here touches the network: the cache is filled by
//! [`super::tuf::update`] alone, and read back here, checked again, at every use.
//!
//! The cache folder holds `installed.json` (the [`Installed`] record: where the root came from,
//! its digest, the TUF versions that vouched for it), the root itself as
//! `roots/sha256-HEX.json` (the target's bytes as the repository signed them) and each
//! repository's TUF metadata under `tuf/`. The record is replaced in one rename after the root
//! it names is written, so a reader sees the old install or the new one, never half of either.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::Code;
use super::trusted_root::{PRODUCTION, PRODUCTION_DATE, TrustedRoot};

/// The record's name in the cache folder.
pub const RECORD: &str = "installed.json";
/// The record's `schema`: a record of another schema is not read as this one.
const SCHEMA: &str = "sealkit.sigstore.installed.v1";
/// The largest trusted root read: real ones are a few KiB.
pub const MAX_ROOT: u64 = 4 << 20;

/// A refusal with its stable code, what went wrong and where, and how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}\n  hint: {hint}")]
pub struct RootError {
    pub code: Code,
    pub message: String,
    pub hint: String,
}

impl RootError {
    pub fn new(code: Code, message: impl Into<String>, hint: impl Into<String>) -> Self {
        RootError {
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// What `sealkit trust update` installed: the record kept beside the root, shown by
/// `sealkit version` and by every verification that uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub schema: String,
    /// The TUF repository's URL, as given.
    pub repository: String,
    /// The target's name in the repository (`trusted_root.json`).
    pub target: String,
    /// The hex SHA-256 of the target's bytes, as the repository's targets metadata states it.
    pub sha256: String,
    pub length: u64,
    /// The start of the newest validity window in the root (`YYYY-MM-DD`).
    pub date: String,
    /// The version of each top-level role whose metadata vouched for the target.
    pub versions: Versions,
    /// When each role's metadata expires (RFC 3339), as signed.
    pub expires: Expires,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    pub root: u64,
    pub timestamp: u64,
    pub snapshot: u64,
    pub targets: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expires {
    pub root: String,
    pub timestamp: String,
    pub snapshot: String,
    pub targets: String,
}

impl Installed {
    pub fn new(
        repository: &str,
        target: &str,
        bytes: &[u8],
        date: String,
        versions: Versions,
        expires: Expires,
    ) -> Self {
        Installed {
            schema: SCHEMA.to_owned(),
            repository: repository.to_owned(),
            target: target.to_owned(),
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
            length: bytes.len() as u64,
            date,
            versions,
            expires,
        }
    }

    /// Where the root this record names is kept, relative to the cache folder.
    pub fn file(&self) -> PathBuf {
        Path::new("roots").join(format!("sha256-{}.json", self.sha256))
    }
}

/// Where a selected root came from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The public-good production root built into sealkit.
    Embedded,
    /// The root `sealkit trust update` installed, at `path`.
    Updated { record: Box<Installed>, path: PathBuf },
    /// A file named on the command line (`--trusted-root`).
    File(PathBuf),
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Embedded => "embedded",
            Source::Updated { .. } => "updated",
            Source::File(_) => "file",
        }
    }
}

/// The trusted root a verification uses, with where it came from, its date and its digest.
#[derive(Debug, Clone)]
pub struct Selected {
    pub root: TrustedRoot,
    pub source: Source,
    /// The start of the newest validity window in the root (`YYYY-MM-DD`).
    pub date: String,
    /// The hex SHA-256 of the root's bytes.
    pub sha256: String,
}

impl Selected {
    /// How results name the root: its source and its date, in a few words.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Embedded => format!("the embedded production root of {}", self.date),
            Source::Updated { record, .. } => format!(
                "the root of {} updated from {} (targets v{})",
                self.date, record.repository, record.versions.targets
            ),
            Source::File(path) => format!("{} (a root of {})", path.display(), self.date),
        }
    }
}

/// The trusted root to use: `file` when given, else the one `sealkit trust update` installed in
/// `cache`, else the embedded production root. An installed root is checked again here (its
/// digest against its record, and that it parses): a cache that fails either is an error, never
/// a silent fall back to the embedded root, which may be older than what the user installed.
pub fn select(file: Option<&Path>, cache: &Path) -> Result<Selected, RootError> {
    if let Some(path) = file {
        let bytes = read_bounded(path).map_err(|e| {
            RootError::new(
                Code::BadTrustedRoot,
                format!("{}: {e}", path.display()),
                "name a readable Sigstore trusted_root.json",
            )
        })?;
        let root = TrustedRoot::parse(&bytes).map_err(|e| {
            RootError::new(
                Code::BadTrustedRoot,
                format!("{}: {e}", path.display()),
                "name a Sigstore trusted_root.json, as `sealkit trust update` or the Sigstore clients fetch it",
            )
        })?;
        return Ok(Selected {
            date: newest_date(&root),
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            root,
            source: Source::File(path.to_path_buf()),
        });
    }
    if let Some((record, path, root)) = load_installed(cache)? {
        return Ok(Selected {
            date: newest_date(&root),
            sha256: record.sha256.clone(),
            root,
            source: Source::Updated {
                record: Box::new(record),
                path,
            },
        });
    }
    Ok(Selected {
        root: TrustedRoot::production(),
        source: Source::Embedded,
        date: PRODUCTION_DATE.to_owned(),
        sha256: hex::encode(sha2::Sha256::digest(PRODUCTION)),
    })
}

/// The installed record, the root's path and the root, when `sealkit trust update` installed
/// one in `cache`; `None` when it did not.
pub fn load_installed(cache: &Path) -> Result<Option<(Installed, PathBuf, TrustedRoot)>, RootError> {
    let record_path = cache.join(RECORD);
    let corrupt = |what: String| {
        RootError::new(
            Code::TrustedRootCache,
            what,
            format!(
                "run `sealkit trust update` again, or delete {} to use the embedded production root",
                record_path.display()
            ),
        )
    };
    // An update between reading the record and opening the root it names removes that root:
    // the record, read once more, names the new one.
    let mut tries = 0;
    let (record, path, root_bytes) = loop {
        tries += 1;
        let bytes = match read_bounded(&record_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(corrupt(format!(
                    "the installed trusted root's record {}: {e}",
                    record_path.display()
                )));
            }
        };
        let record: Installed = serde_json::from_slice(&bytes).map_err(|e| {
            corrupt(format!(
                "the installed trusted root's record {} is corrupt: {e}",
                record_path.display()
            ))
        })?;
        if record.schema != SCHEMA || record.sha256.len() != 64 || !record.sha256.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(corrupt(format!(
                "the installed trusted root's record {} is not one this sealkit wrote (schema {:?})",
                record_path.display(),
                record.schema
            )));
        }
        let path = cache.join(record.file());
        match read_bounded(&path) {
            Ok(root_bytes) => break (record, path, root_bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && tries < 2 => continue,
            Err(e) => return Err(corrupt(format!("the installed trusted root {}: {e}", path.display()))),
        }
    };
    let digest = hex::encode(sha2::Sha256::digest(&root_bytes));
    if digest != record.sha256 {
        return Err(corrupt(format!(
            "the installed trusted root {} is corrupt: its sha256 is {digest}, the repository signed {}",
            path.display(),
            record.sha256
        )));
    }
    let root = TrustedRoot::parse(&root_bytes).map_err(|e| {
        corrupt(format!(
            "the installed trusted root {} does not parse: {e}",
            path.display()
        ))
    })?;
    Ok(Some((record, path, root)))
}

/// Installs `bytes` as the trusted root `record` describes: the root first, then the record
/// in one rename, then the roots no record names any more are removed.
pub fn install(cache: &Path, record: &Installed, bytes: &[u8]) -> Result<PathBuf, RootError> {
    let path = cache.join(record.file());
    let roots = cache.join("roots");
    std::fs::create_dir_all(&roots).map_err(|e| unwritable(&roots, e))?;
    write_atomically(&path, bytes)?;
    let mut json = serde_json::to_vec_pretty(record)
        .map_err(|e| RootError::new(Code::TrustedRootCache, e.to_string(), "report this as a bug"))?;
    json.push(b'\n');
    write_atomically(&cache.join(RECORD), &json)?;
    // Best effort: a root left behind only takes room, and no record names it.
    if let Ok(entries) = std::fs::read_dir(&roots) {
        for entry in entries.flatten() {
            if entry.path() != path {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(path)
}

/// Writes `bytes` to a temporary file beside `path`, flushed to disk, then renames it over
/// `path`: a reader sees the old content or the new, whole.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RootError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| unwritable(dir, e))?;
    file.write_all(bytes).map_err(|e| unwritable(path, e))?;
    file.as_file().sync_all().map_err(|e| unwritable(path, e))?;
    file.persist(path).map_err(|e| unwritable(path, e.error))?;
    Ok(())
}

pub(super) fn unwritable(path: &Path, e: std::io::Error) -> RootError {
    RootError::new(
        Code::TrustedRootCache,
        format!("{}: {e}", path.display()),
        "check that the cache folder ($SEALKIT_SIGSTORE, else $XDG_CACHE_HOME/sealkit/sigstore) is writable and its disk has room",
    )
}

/// Reads a file of at most [`MAX_ROOT`] bytes.
pub(super) fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_ROOT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_ROOT {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB, which no trusted root is",
            MAX_ROOT >> 20
        )));
    }
    Ok(bytes)
}

/// The start of the newest validity window in `root`, as `YYYY-MM-DD`: the date a root is
/// known by (for the embedded one, [`PRODUCTION_DATE`]).
pub fn newest_date(root: &TrustedRoot) -> String {
    let newest = root
        .tlogs
        .iter()
        .chain(&root.ctlogs)
        .map(|l| l.valid.start)
        .chain(
            root.certificate_authorities
                .iter()
                .chain(&root.timestamp_authorities)
                .map(|a| a.valid.start),
        )
        .max();
    match newest {
        Some(millis) if millis >= 0 => crate::epoch::rfc3339((millis / 1000) as u64)[..10].to_owned(),
        _ => "an unknown date".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(bytes: &[u8]) -> Installed {
        Installed::new(
            "http://127.0.0.1:1",
            "trusted_root.json",
            bytes,
            "2025-07-04".into(),
            Versions {
                root: 1,
                timestamp: 2,
                snapshot: 3,
                targets: 4,
            },
            Expires {
                root: "2030-01-01T00:00:00Z".into(),
                timestamp: "2030-01-01T00:00:00Z".into(),
                snapshot: "2030-01-01T00:00:00Z".into(),
                targets: "2030-01-01T00:00:00Z".into(),
            },
        )
    }

    #[test]
    fn the_embedded_roots_date_is_the_start_of_its_newest_window() {
        assert_eq!(newest_date(&TrustedRoot::production()), PRODUCTION_DATE);
    }

    #[test]
    fn a_file_comes_first_then_the_installed_root_then_the_embedded_one() {
        let cache = tempfile::tempdir().unwrap();
        let selected = select(None, cache.path()).unwrap();
        assert_eq!(selected.source.kind(), "embedded");
        assert!(selected.describe().contains(PRODUCTION_DATE));

        let record = record(PRODUCTION.as_bytes());
        install(cache.path(), &record, PRODUCTION.as_bytes()).unwrap();
        let selected = select(None, cache.path()).unwrap();
        assert_eq!(selected.source.kind(), "updated");
        assert_eq!(selected.sha256, record.sha256);
        assert!(
            selected
                .describe()
                .contains("updated from http://127.0.0.1:1 (targets v4)")
        );

        let file = cache.path().join("mine.json");
        std::fs::write(&file, PRODUCTION).unwrap();
        assert_eq!(select(Some(&file), cache.path()).unwrap().source.kind(), "file");
    }

    #[test]
    fn a_corrupt_install_is_an_error_naming_the_file_and_the_fix() {
        let cache = tempfile::tempdir().unwrap();
        let record = record(PRODUCTION.as_bytes());
        let path = install(cache.path(), &record, PRODUCTION.as_bytes()).unwrap();
        std::fs::write(&path, b"{").unwrap();
        let e = select(None, cache.path()).unwrap_err();
        assert_eq!(e.code, Code::TrustedRootCache);
        assert!(e.message.contains("is corrupt: its sha256"), "{e}");
        assert!(e.hint.contains("sealkit trust update"), "{e}");

        std::fs::write(cache.path().join(RECORD), b"[]").unwrap();
        let e = select(None, cache.path()).unwrap_err();
        assert!(e.message.contains("record"), "{e}");
        // A file named on the command line is used whatever the cache holds.
        let file = cache.path().join("mine.json");
        std::fs::write(&file, PRODUCTION).unwrap();
        assert!(select(Some(&file), cache.path()).is_ok());
    }

    #[test]
    fn a_root_missing_behind_its_record_is_an_error() {
        let cache = tempfile::tempdir().unwrap();
        let path = install(cache.path(), &record(PRODUCTION.as_bytes()), PRODUCTION.as_bytes()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let e = select(None, cache.path()).unwrap_err();
        assert_eq!(e.code, Code::TrustedRootCache);
        assert!(e.message.contains(&path.display().to_string()), "{e}");
    }

    #[test]
    fn a_new_install_replaces_the_old_root() {
        let cache = tempfile::tempdir().unwrap();
        let old = install(cache.path(), &record(b"old"), b"old").unwrap();
        let new = install(cache.path(), &record(PRODUCTION.as_bytes()), PRODUCTION.as_bytes()).unwrap();
        assert!(!old.exists());
        assert!(new.exists());
        assert_eq!(select(None, cache.path()).unwrap().source.kind(), "updated");
    }
}
