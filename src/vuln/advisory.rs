//! The database's own form of an advisory: what matching needs of an OSV entry or of the Debian
//! Security Tracker's data, and what a result shows (ids, summary, severity), nothing more.
//! Every list is sorted and every map ordered, so the same advisories always serialize to the
//! same bytes (the database's digest depends on it).

use serde::{Deserialize, Serialize};

/// Where an advisory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// An OSV entry (osv.dev, GHSA, the Go and RustSec databases, Debian's OSV export…).
    Osv,
    /// The Debian Security Tracker's JSON (`security-tracker.debian.org/tracker/data/json`).
    DebianTracker,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Osv => "osv",
            Origin::DebianTracker => "debian-tracker",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Advisory {
    pub origin: Origin,
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// RFC 3339, UTC (OSV's `modified`); the tracker's data carries no dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// A withdrawn entry is kept (the database says what it was given) but never matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// CVSS vectors as OSV gives them (`CVSS_V3`, `CVSS_V4`…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    /// A severity word where the data has one and no vector (GHSA's `database_specific.severity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_label: Option<String>,
    pub affected: Vec<Affected>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Severity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// One package an advisory concerns, in one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Affected {
    /// OSV's ecosystem: `Debian:12`, `Alpine:v3.20`, `PyPI`, `npm`, `Go`, `crates.io`. Tracker
    /// data is filed as `Debian:MAJOR` from its release's codename.
    pub ecosystem: String,
    /// The package: for Debian the *source* package.
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Versions listed one by one (OSV `versions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// The tracker's verdict for this release, or Debian's `urgency` carried by OSV entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debian: Option<DebianStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT` (any other is kept and reported as not evaluated).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    pub events: Vec<Event>,
}

/// One OSV range event, in the order the entry gives them (evaluation sorts them itself).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// The Debian Security Tracker's word on one source package in one release.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DebianStatus {
    /// The tracker's codename (`bookworm`); absent for OSV entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// `resolved`, `open` or `undetermined`; absent for OSV entries (their ranges say it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TrackerStatus>,
    /// The first fixed version (`0`: never affected in this release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// `low`, `medium`, `high`, `unimportant`, `not yet assigned`, `end-of-life`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    /// Why Debian will not issue an advisory (`<no-dsa>`), when it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodsa: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackerStatus {
    Resolved,
    Open,
    Undetermined,
}

/// The longest summary kept (an OSV `details` can be pages; the entry's page has them).
pub const SUMMARY_LIMIT: usize = 400;

/// `text`'s first line, at most [`SUMMARY_LIMIT`] bytes (cut at a character boundary).
pub fn summary_of(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    if line.len() <= SUMMARY_LIMIT {
        return line.to_owned();
    }
    let mut end = SUMMARY_LIMIT;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// Seconds and nanoseconds since 1970 of an RFC 3339 UTC time
/// (`YYYY-MM-DDTHH:MM:SS[.FRACTION]Z`, as the OSV schema requires), for ordering `modified`.
pub fn parse_utc(text: &str) -> Option<(i64, u32)> {
    crate::epoch::parse_rfc3339(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_order_by_instant_not_text() {
        let a = parse_utc("2024-07-01T12:00:00Z").unwrap();
        let b = parse_utc("2024-07-01T12:00:00.5Z").unwrap();
        assert!(a < b, "\"…:00Z\" sorts after \"…:00.5Z\" as text, not as time");
        assert_eq!(a.0, 1_719_835_200);
        for bad in [
            "2024-07-01",
            "2024-07-01T12:00:00",
            "2024-07-01T12:00:00+02:00",
            "2024-13-01T00:00:00Z",
            "x",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn summaries_are_one_bounded_line() {
        assert_eq!(summary_of("  first\nsecond"), "first");
        let long = "é".repeat(300);
        let s = summary_of(&long);
        assert!(s.len() <= SUMMARY_LIMIT + "…".len() && s.ends_with('…'));
    }
}
