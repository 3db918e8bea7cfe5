//! Version orders, one per scheme an advisory's ranges are written in: Debian's (dpkg), Alpine's
//! (apk), Python's (PEP 440), semver (npm, crates.io) and Go's. A version that does not parse in
//! its scheme is an error, so it is reported rather than matched as affected or safe by accident.
//! dpkg's and apk's orders are written here and tested against dpkg itself and apk-tools' own
//! vectors; PEP 440 and semver come from maintained crates.

pub mod apk;
pub mod dpkg;
pub mod golang;

use std::cmp::Ordering;

use serde::Serialize;

/// How an ecosystem orders its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    Dpkg,
    Apk,
    Pep440,
    /// Semantic Versioning 2.0.0 precedence (build metadata ignored): npm, crates.io, OSV SEMVER.
    Semver,
    Go,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Apk => "apk",
            Scheme::Pep440 => "pep440",
            Scheme::Semver => "semver",
            Scheme::Go => "go",
        }
    }

    pub fn parse(self, text: &str) -> Result<Version, BadVersion> {
        let bad = |reason: String| BadVersion {
            scheme: self,
            version: text.to_owned(),
            reason,
        };
        Ok(match self {
            Scheme::Dpkg => Version::Dpkg(dpkg::Version::parse(text).map_err(bad)?),
            Scheme::Apk => Version::Apk(apk::Version::parse(text).map_err(bad)?),
            Scheme::Pep440 => Version::Pep440(
                text.trim()
                    .parse::<pep440_rs::Version>()
                    .map_err(|e| bad(e.to_string()))?,
            ),
            Scheme::Semver => Version::Semver(
                semver::Version::parse(text.trim().strip_prefix('v').unwrap_or(text.trim()))
                    .map_err(|e| bad(e.to_string()))?,
            ),
            Scheme::Go => Version::Go(golang::Version::parse(text).map_err(bad)?),
        })
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version that does not parse in its scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{version:?} is not a {scheme} version: {reason}")]
pub struct BadVersion {
    pub scheme: Scheme,
    pub version: String,
    pub reason: String,
}

/// A version parsed in its scheme.
#[derive(Debug, Clone)]
pub enum Version {
    Dpkg(dpkg::Version),
    Apk(apk::Version),
    Pep440(pep440_rs::Version),
    Semver(semver::Version),
    Go(golang::Version),
}

impl Version {
    /// The order of two versions of one scheme; `None` for versions of different schemes,
    /// which have none.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        Some(match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Semver(a), Version::Semver(b)) => a.cmp_precedence(b),
            (Version::Go(a), Version::Go(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests;
