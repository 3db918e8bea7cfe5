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
/// from `tracker` when given.
pub fn downloads(osv: &str, ecosystems: &[String], tracker: Option<&str>) -> Vec<Download> {
    let base = osv.trim_end_matches('/');
    let mut out: Vec<Download> = ecosystems
        .iter()
        .map(|e| Download {
            url: format!("{base}/{}/all.zip", percent_encode_segment(e)),
            file: format!("osv-{}-all.zip", e.replace(|c: char| !c.is_ascii_alphanumeric(), "_")),
        })
        .collect();
    if let Some(url) = tracker {
        out.push(Download {
            url: url.to_owned(),
            file: "debian-tracker.json".to_owned(),
        });
    }
    out
}

/// An ecosystem name as a URL path segment (`crates.io` stays, a space or `:` would not).
fn percent_encode_segment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
        );
        assert_eq!(d[0].url, "https://example.org/exports/crates.io/all.zip");
        assert_eq!(d[1].url, "https://example.org/exports/Debian%3A12/all.zip");
        assert_eq!(d[1].file, "osv-Debian_12-all.zip");
        assert_eq!(d[2].file, "debian-tracker.json");
        assert_eq!(d.len(), 3);
    }
}
