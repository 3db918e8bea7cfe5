//! `sealkit trust update`: the Sigstore trusted root fetched from a TUF repository (by default
//! the public-good instance's, tuf-repo-cdn.sigstore.dev) and installed in the cache folder,
//! where [`super::installed::select`] finds it. The TUF client workflow (root rotation from the
//! anchor, timestamp, snapshot, targets; signature thresholds, expiry, rollback and
//! fast-forward checks; every download bounded in size) is awslabs' `tough`; this module picks
//! the anchor, keeps each repository's metadata for the next run's rollback checks, checks the
//! target is a trusted root sealkit can use, and installs it. Only this module reaches the
//! network, and only when the user runs `trust update`: verification reads the cache.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tough::error::Error as TufError;

use super::Code;
use super::installed::{self, Expires, Installed, RootError, Versions};
use super::trusted_root::TrustedRoot;

/// The public-good instance's TUF repository.
pub const PRODUCTION_URL: &str = "https://tuf-repo-cdn.sigstore.dev";

/// The public-good repository's root metadata (version 15), the anchor its chain of roots is
/// walked from: `sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/root.json` of
/// sigstore-python at commit 27db13db157ecae5606eb22ec0be299ef348c370 (Apache License 2.0),
/// as sigstore/root-signing publishes it. An older anchor only costs the walk to the newest
/// root; one that expired is fine, as TUF checks the expiry of the root it ends on.
pub const PRODUCTION_ROOT: &[u8] = include_bytes!("tuf_root.json");

/// The target holding the trusted root, as every Sigstore client names it.
pub const TARGET: &str = "trusted_root.json";

/// The largest root.json accepted as an anchor (the repository's own are bounded by tough's
/// limits, 1 MiB each).
const MAX_ANCHOR: u64 = 1 << 20;

/// What one `trust update` did.
#[derive(Debug, Clone, Serialize)]
pub struct Updated {
    /// The record now installed.
    pub installed: Installed,
    /// Where the root is kept.
    pub path: PathBuf,
    /// The digest of the root installed before, if any.
    pub previous: Option<String>,
    /// Whether the installed root changed.
    pub changed: bool,
}

/// Fetches the trusted root from the TUF repository at `url`, walking its chain from `anchor`
/// (its root.json; the embedded one for the public-good repository), and installs it in `cache`.
/// Nothing is installed unless all of TUF's checks hold and the target parses as a trusted root.
pub fn update(url: &str, anchor: Option<&Path>, cache: &Path) -> Result<Updated, RootError> {
    let base = url::Url::parse(url.trim_end_matches('/'))
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https" | "file") && !u.cannot_be_a_base())
        .ok_or_else(|| {
            RootError::new(
                Code::BadTufInput,
                format!("--tuf-url {url}: not an http, https or file URL"),
                format!("name the TUF repository's base URL, as {PRODUCTION_URL}"),
            )
        })?;
    let is_production = url.trim_end_matches('/') == PRODUCTION_URL;
    let anchor_bytes = match anchor {
        Some(path) => read_anchor(path)?,
        None if is_production => PRODUCTION_ROOT.to_vec(),
        None => {
            return Err(RootError::new(
                Code::BadTufInput,
                format!("--tuf-url {url}: sealkit holds no root for this repository"),
                "give its root.json (from its operator, out of band) with --tuf-root",
            ));
        }
    };

    std::fs::create_dir_all(cache).map_err(|e| installed::unwritable(cache, e))?;
    // One update at a time per cache folder: tough rewrites its metadata files in place.
    let lock_path = cache.join(".lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| installed::unwritable(&lock_path, e))?;
    lock.lock().map_err(|e| installed::unwritable(&lock_path, e))?;
    remove_stale_temp_files(cache);

    let datastore = cache.join("tuf").join(escape(base.as_str()));
    std::fs::create_dir_all(&datastore).map_err(|e| installed::unwritable(&datastore, e))?;
    let anchor_bytes = newest_anchor(anchor_bytes, &datastore)?;

    let directory = |path: &str| {
        url::Url::parse(&format!("{}/{path}", base.as_str().trim_end_matches('/'))).map_err(|e| {
            RootError::new(
                Code::BadTufInput,
                format!("--tuf-url {url}: {e}"),
                "name the repository's base URL",
            )
        })
    };
    let metadata_url = directory("")?;
    let targets_url = directory("targets/")?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RootError::new(Code::TufUnreachable, format!("an async runtime: {e}"), "retry"))?;
    let fetched = runtime.block_on(async {
        let transport = tough::DefaultTransport::new_with_http_settings(
            tough::HttpTransportBuilder::new()
                .timeout(std::time::Duration::from_secs(60))
                .connect_timeout(std::time::Duration::from_secs(10))
                .tries(3),
        );
        let repository = tough::RepositoryLoader::new(&anchor_bytes, metadata_url, targets_url)
            .transport(transport)
            .datastore(&datastore)
            .expiration_enforcement(tough::ExpirationEnforcement::Safe)
            .load()
            .await?;
        let name = tough::TargetName::new(TARGET)?;
        let Ok(length) = repository.targets().signed.find_target(&name, false).map(|t| t.length) else {
            return Ok(None);
        };
        if length > installed::MAX_ROOT {
            return Ok(Some((repository, Err(length))));
        }
        let bytes = match repository.read_target(&name).await? {
            Some(stream) => tough::IntoVec::into_vec(stream).await?,
            None => return Ok(None),
        };
        Ok::<_, TufError>(Some((repository, Ok(bytes))))
    });
    let (repository, bytes) = match fetched {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(RootError::new(
                Code::TufNotVerified,
                format!("{url}: the repository's targets metadata lists no {TARGET}"),
                "check that the URL names a Sigstore TUF repository; nothing was installed",
            ));
        }
        Err(e) => return Err(classify(url, anchor, &e)),
    };
    let bytes = bytes.map_err(|length| {
        RootError::new(
            Code::BadTrustedRoot,
            format!(
                "{url}: {TARGET} is {length} bytes, more than the {} MiB read",
                installed::MAX_ROOT >> 20
            ),
            "no Sigstore trusted root is this large; nothing was installed",
        )
    })?;
    let root = TrustedRoot::parse(&bytes).map_err(|e| {
        RootError::new(
            Code::BadTrustedRoot,
            format!("{url}: {TARGET}, signed by the repository, cannot be used: {e}"),
            "the repository serves a trusted root sealkit cannot read; nothing was installed",
        )
    })?;
    let signed = |expires: &dyn std::fmt::Display| expires.to_string();
    let record = Installed::new(
        url,
        TARGET,
        &bytes,
        installed::newest_date(&root),
        Versions {
            root: repository.root().signed.version.get(),
            timestamp: repository.timestamp().signed.version.get(),
            snapshot: repository.snapshot().signed.version.get(),
            targets: repository.targets().signed.version.get(),
        },
        Expires {
            root: signed(&repository.root().signed.expires),
            timestamp: signed(&repository.timestamp().signed.expires),
            snapshot: signed(&repository.snapshot().signed.expires),
            targets: signed(&repository.targets().signed.expires),
        },
    );
    // What was installed before is replaced whatever state it is in: the new root is verified.
    let previous = installed::load_installed(cache)
        .ok()
        .flatten()
        .map(|(record, _, _)| record.sha256);
    let path = installed::install(cache, &record, &bytes)?;
    drop(lock);
    Ok(Updated {
        changed: previous.as_deref() != Some(record.sha256.as_str()),
        installed: record,
        path,
        previous,
    })
}

fn read_anchor(path: &Path) -> Result<Vec<u8>, RootError> {
    use std::io::Read as _;
    let bad = |e: String| {
        RootError::new(
            Code::BadTufInput,
            format!("--tuf-root {}: {e}", path.display()),
            "give the repository's root.json (TUF root metadata), as its operator publishes it",
        )
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_ANCHOR + 1).read_to_end(&mut bytes))
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > MAX_ANCHOR {
        return Err(bad(format!("larger than {} MiB", MAX_ANCHOR >> 20)));
    }
    if root_version(&bytes).is_none() {
        return Err(bad("not TUF root metadata (no signed.version)".into()));
    }
    Ok(bytes)
}

/// The newer of the anchor given and the root this repository's last update ended on: a root
/// verified before is not given up for an older one.
fn newest_anchor(given: Vec<u8>, datastore: &Path) -> Result<Vec<u8>, RootError> {
    let path = datastore.join("root.json");
    let kept = match installed::read_bounded(&path) {
        Ok(kept) => kept,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(given),
        Err(e) => return Err(corrupt_datastore(datastore, format!("{}: {e}", path.display()))),
    };
    let Some(kept_version) = root_version(&kept) else {
        return Err(corrupt_datastore(
            datastore,
            format!("{}: not TUF root metadata", path.display()),
        ));
    };
    Ok(match root_version(&given) {
        Some(given_version) if given_version > kept_version => given,
        _ => kept,
    })
}

fn corrupt_datastore(datastore: &Path, message: String) -> RootError {
    RootError::new(
        Code::TrustedRootCache,
        message,
        format!(
            "delete {} (this repository's TUF metadata) and run `sealkit trust update` again",
            datastore.display()
        ),
    )
}

fn root_version(bytes: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if value["signed"]["_type"] != "root" {
        return None;
    }
    value["signed"]["version"].as_u64()
}

/// Sorts tough's errors by what the user can do: the repository could not be reached (exit 2),
/// the anchor or the cache is wrong (exit 2), or what the repository served did not verify
/// (exit 1). A check that fails while a file streams in (a hash, a length) comes wrapped in a
/// transport error, so the innermost of tough's errors decides.
fn classify(url: &str, anchor: Option<&Path>, e: &TufError) -> RootError {
    let inner = innermost(e);
    match inner {
        TufError::Transport {
            url: fetched, source, ..
        } => RootError::new(
            Code::TufUnreachable,
            format!("{url}: fetching {fetched}: {}", last_cause(source)),
            "check the URL and the network (a proxy is taken from HTTPS_PROXY); nothing was changed",
        ),
        TufError::ParseTrustedMetadata { .. } | TufError::VerifyTrustedMetadata { .. } => RootError::new(
            Code::BadTufInput,
            format!(
                "{}: {inner}",
                anchor.map_or_else(
                    || "the root the update starts from".to_owned(),
                    |a| a.display().to_string()
                )
            ),
            "give the repository's root.json, signed by its own root keys",
        ),
        TufError::DatastoreInit { .. }
        | TufError::DatastoreCreate { .. }
        | TufError::DatastoreOpen { .. }
        | TufError::DatastoreRemove { .. }
        | TufError::DatastoreSerialize { .. }
        | TufError::DirCreate { .. } => RootError::new(
            Code::TrustedRootCache,
            inner.to_string(),
            "check that the cache folder ($SEALKIT_SIGSTORE, else $XDG_CACHE_HOME/sealkit/sigstore) is writable",
        ),
        // Everything else is the repository failing a check (a signature, an expiry, a version,
        // a hash, a size): fail closed, as not verified, whatever tough adds later.
        _ => RootError::new(
            Code::TufNotVerified,
            format!("{url}: {inner}"),
            "the repository's metadata or target did not verify; nothing was installed, and the root in use is unchanged",
        ),
    }
}

/// The innermost of tough's own errors in `e`'s chain of causes.
fn innermost(e: &TufError) -> &TufError {
    let mut found = e;
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(tough) = cause.downcast_ref::<TufError>() {
            found = tough;
        }
        source = cause.source();
    }
    found
}

/// The first cause of an error, where the network says what went wrong (a refused connection,
/// an HTTP status).
fn last_cause(e: &dyn std::error::Error) -> String {
    let mut last = e;
    while let Some(cause) = last.source() {
        last = cause;
    }
    last.to_string()
}

/// A repository URL as one folder name: every byte but ASCII letters, digits, `-`, `.` and `_`
/// percent-encoded (as sigstore-python names its folders), so no URL names a path outside.
fn escape(url: &str) -> String {
    let mut out = String::new();
    for b in url.trim_end_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Removes temporary files a killed update left in the cache folder (under the lock, so no
/// live writer owns them).
fn remove_stale_temp_files(cache: &Path) {
    for dir in [cache.to_path_buf(), cache.join("roots")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_anchor_is_the_public_good_repositorys_root() {
        let root: serde_json::Value = serde_json::from_slice(PRODUCTION_ROOT).unwrap();
        assert_eq!(root["signed"]["_type"], "root");
        assert_eq!(root_version(PRODUCTION_ROOT), Some(15));
        // Signed by its own keys: tough refuses an anchor that is not.
        let root: tough::schema::Signed<tough::schema::Root> = serde_json::from_slice(PRODUCTION_ROOT).unwrap();
        root.signed.verify_role(&root).unwrap();
    }

    #[test]
    fn repository_urls_escape_to_one_folder_name() {
        assert_eq!(
            escape("https://tuf-repo-cdn.sigstore.dev/"),
            "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
        );
        assert!(!escape("file:///../..").contains('/'));
    }

    #[test]
    fn a_non_default_repository_needs_its_root_and_urls_are_checked() {
        let cache = tempfile::tempdir().unwrap();
        let e = update("http://127.0.0.1:9", None, cache.path()).unwrap_err();
        assert_eq!(e.code, Code::BadTufInput);
        assert!(e.hint.contains("--tuf-root"), "{e}");
        let e = update("ftp://example", None, cache.path()).unwrap_err();
        assert_eq!(e.code, Code::BadTufInput);
        let not_root = cache.path().join("root.json");
        std::fs::write(&not_root, br#"{"signed":{"_type":"timestamp","version":1}}"#).unwrap();
        let e = update("http://127.0.0.1:9", Some(&not_root), cache.path()).unwrap_err();
        assert!(e.message.contains("not TUF root metadata"), "{e}");
    }

    #[test]
    fn a_corrupt_kept_root_is_an_error_naming_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("root.json"), b"{").unwrap();
        let e = newest_anchor(PRODUCTION_ROOT.to_vec(), dir.path()).unwrap_err();
        assert_eq!(e.code, Code::TrustedRootCache);
        assert!(e.hint.contains("delete"), "{e}");
    }
}
