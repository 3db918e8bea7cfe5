//! `sealkit vulndb update`: the exports advisory publishers offer (osv.dev's per-ecosystem
//! `all.zip`, the Debian Security Tracker's JSON), fetched over HTTP(S) and then imported as any
//! files are. The only part of sealkit's vulnerability data that uses the network: a scan reads
//! what was fetched, named by its digest.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Code, VulnError};

/// Where osv.dev publishes its exports: `BASE/ECOSYSTEM/all.zip`.
pub const OSV_EXPORTS: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The Debian Security Tracker's whole data set as JSON.
pub const DEBIAN_TRACKER: &str = "https://security-tracker.debian.org/tracker/data/json";
/// The ecosystems sealkit matches, as osv.dev names its export folders.
pub const ECOSYSTEMS: [&str; 6] = ["Debian", "Alpine", "PyPI", "npm", "Go", "crates.io"];
/// The most one download may weigh: osv.dev's largest exports are a few hundred MiB.
pub const MAX_DOWNLOAD: u64 = 2 << 30;

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub url: String,
    /// Its name in the download folder, which tells the importer nothing: contents decide.
    pub file: String,
}

/// The downloads for `ecosystems` under the OSV export base `osv`, and the tracker's data
/// from `tracker` when given; a base that is no URL is bad input.
pub fn downloads(osv: &str, ecosystems: &[String], tracker: Option<&str>) -> Result<Vec<Download>, VulnError> {
    let bad = |why: String| VulnError::new(Code::Fetch, format!("--osv-url {osv:?}: {why}"), "give an http(s) URL");
    let base = url::Url::parse(osv).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for e in ecosystems {
        let mut url = base.clone();
        // Each ecosystem is one path segment, percent-encoded as needed (`Debian:12`).
        url.path_segments_mut()
            .map_err(|()| bad("it cannot have a path".into()))?
            .pop_if_empty()
            .push(e)
            .push("all.zip");
        out.push(Download {
            url: url.to_string(),
            file: format!("osv-{}-all.zip", e.replace(|c: char| !c.is_ascii_alphanumeric(), "_")),
        });
    }
    if let Some(url) = tracker {
        out.push(Download {
            url: url.to_owned(),
            file: "debian-tracker.json".to_owned(),
        });
    }
    Ok(out)
}

fn fetch_error(url: &str, why: impl std::fmt::Display) -> VulnError {
    VulnError::new(
        Code::Fetch,
        format!("{url}: {why}"),
        "check the machine's network and the URL (--osv-url, --tracker-url); the current database is unchanged",
    )
}

/// Fetches every download into `dir`, each whole or not at all, bounded by `limit` bytes per
/// file; returns the files in order.
pub fn fetch(downloads: &[Download], dir: &Path, limit: u64, timeout: Duration) -> Result<Vec<PathBuf>, VulnError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VulnError::new(Code::Fetch, format!("tokio runtime: {e}"), "report this bug"))?;
    let client = reqwest::Client::builder()
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .user_agent(concat!("sealkit/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| VulnError::new(Code::Fetch, format!("HTTP client: {e}"), "report this bug"))?;
    let mut files = Vec::new();
    for d in downloads {
        let path = dir.join(&d.file);
        runtime.block_on(fetch_one(&client, d, &path, limit))?;
        files.push(path);
    }
    Ok(files)
}

async fn fetch_one(client: &reqwest::Client, d: &Download, path: &Path, limit: u64) -> Result<(), VulnError> {
    let mut response = client
        .get(&d.url)
        .send()
        .await
        .map_err(|e| fetch_error(&d.url, error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fetch_error(&d.url, format!("the server answered {status}")));
    }
    if let Some(length) = response.content_length()
        && length > limit
    {
        return Err(too_large(&d.url, limit));
    }
    let write_error = |e: std::io::Error| {
        VulnError::new(
            Code::Write,
            format!("{}: {e}", path.display()),
            "check the space left in the database's folder",
        )
    };
    let mut file = std::fs::File::create(path).map_err(write_error)?;
    let mut written: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| fetch_error(&d.url, error_chain(&e)))?
    {
        written += chunk.len() as u64;
        if written > limit {
            return Err(too_large(&d.url, limit));
        }
        file.write_all(&chunk).map_err(write_error)?;
    }
    file.sync_all().map_err(write_error)
}

fn too_large(url: &str, limit: u64) -> VulnError {
    VulnError::new(
        Code::TooLarge,
        format!("{url}: larger than {} MiB", limit >> 20),
        "fetch fewer ecosystems at a time, or check that the URL is an advisory export",
    )
}

/// reqwest's errors say "error sending request" and keep the cause (refused, DNS, TLS) below.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_follow_osv_dev_s_layout() {
        let d = downloads(
            "https://example.org/exports/",
            &["crates.io".to_owned(), "Debian:12".to_owned()],
            Some(DEBIAN_TRACKER),
        )
        .unwrap();
        assert_eq!(d[0].url, "https://example.org/exports/crates.io/all.zip");
        assert_eq!(d[1].url, "https://example.org/exports/Debian:12/all.zip");
        assert_eq!(d[1].file, "osv-Debian_12-all.zip");
        assert_eq!(d[2].file, "debian-tracker.json");
        assert_eq!(d.len(), 3);
        assert!(downloads("not a url", &[], None).is_err());
        let odd = downloads("http://127.0.0.1:8080", &["Red Hat/x".to_owned()], None).unwrap();
        assert_eq!(odd[0].url, "http://127.0.0.1:8080/Red%20Hat%2Fx/all.zip");
    }
}
