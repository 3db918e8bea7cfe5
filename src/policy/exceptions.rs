//! Exceptions: a denial someone has accepted, for a reason, under their name, until a date.
//!
//! ```yaml
//! exceptions:
//!   - id: SK-PRIV-003            # the rule
//!     component: getty           # a component name or glob (optional: every component)
//!     path: usr/bin/*            # a path glob inside it (optional: any path)
//!     vulnerability: CVE-2024-6387  # the vulnerability (optional: any; for SK-VULN-* rules)
//!     reason: the console's shell lists the host's processes
//!     owner: platform-team@example.com
//!     expires: 2029-12-31        # the first day it no longer applies
//! ```
//!
//! A live exception that matches a result marks it `excepted`; an expired one is itself a denial
//! (`expired-exception`) and excepts nothing; one that matches nothing is a warning
//! (`unused-exception`). Dates are compared with the evaluation date, which comes from `--now`
//! or SOURCE_DATE_EPOCH, never the clock: the same inputs give the same decision on any day.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::config::model::S;

use super::{Code, PolicyError, Result};

/// A calendar day (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// `YYYY-MM-DD`, a day that exists.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b[r.clone()]
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| text[r].parse::<u16>().ok())
                .flatten()
        };
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&day).then_some(Date {
            year,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        })
    }

    /// The UTC day of a number of seconds since 1970 (SOURCE_DATE_EPOCH).
    pub fn of_epoch(seconds: u64) -> Date {
        let text = crate::epoch::rfc3339(seconds);
        Date::parse(&text[..10]).unwrap_or(Date {
            year: 9999,
            month: 12,
            day: 31,
        })
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<Se: serde::Serializer>(&self, s: Se) -> std::result::Result<Se::Ok, Se::Error> {
        s.collect_str(self)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    exceptions: Vec<S<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: S<String>,
    component: Option<S<String>>,
    path: Option<S<String>>,
    vulnerability: Option<S<String>>,
    reason: S<String>,
    owner: S<String>,
    expires: S<String>,
}

/// One exception, read and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Exception {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The vulnerability id it accepts, compared whole and without regard to case (`CVE-…`,
    /// `GHSA-…`: the match's id as the evidence names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    pub reason: String,
    pub owner: String,
    pub expires: Date,
    /// Where it is written: `demo.exceptions.yaml:3:5`.
    pub at: String,
    #[serde(skip)]
    component_glob: Option<GlobMatcher>,
    #[serde(skip)]
    path_glob: Option<GlobMatcher>,
}

impl Exception {
    /// Whether it covers a result of rule `id` on `component` at `path` about `vulnerability`.
    /// A path glob never matches a result without a path, nor a vulnerability id a result
    /// about none.
    pub fn covers(&self, id: &str, component: Option<&str>, path: Option<&str>, vulnerability: Option<&str>) -> bool {
        let glob_matches = |glob: &Option<GlobMatcher>, value: Option<&str>| match glob {
            None => true,
            Some(g) => value.is_some_and(|v| g.is_match(v)),
        };
        let vulnerability_matches = match &self.vulnerability {
            None => true,
            Some(want) => vulnerability.is_some_and(|v| v.eq_ignore_ascii_case(want)),
        };
        self.id == id
            && glob_matches(&self.component_glob, component)
            && glob_matches(&self.path_glob, path)
            && vulnerability_matches
    }

    /// Whether it still applies on `date`: up to the day before it expires.
    pub fn live_on(&self, date: Date) -> bool {
        date < self.expires
    }
}

/// An exceptions file, read.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    pub file: Option<PathBuf>,
    pub sha256: Option<String>,
    pub list: Vec<Exception>,
}

/// The exceptions file that belongs to a configuration: `NAME.exceptions.yaml` beside
/// `NAME.yml`, as its lock file is `NAME.lock.json`.
pub fn beside(config: &Path) -> PathBuf {
    let stem = config.file_stem().unwrap_or_default().to_string_lossy();
    config.with_file_name(format!("{stem}.exceptions.yaml"))
}

impl Exceptions {
    pub fn load(path: &Path) -> Result<Exceptions> {
        let bad = |at: String, why: String| {
            PolicyError::new(
                Code::BadExceptions,
                format!("{at}: {why}"),
                "each exception has id, reason, owner and expires (YYYY-MM-DD), and may have component and path \
                 globs and a vulnerability id; docs/policies.md",
            )
        };
        let bytes = std::fs::read(path).map_err(|e| bad(path.display().to_string(), e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| bad(path.display().to_string(), "not UTF-8 text".into()))?;
        use sha2::Digest as _;
        let sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        let doc: Document = crate::config::parse_yaml(&text, path, crate::config::Typing::GoStruct).map_err(|e| {
            let place = e.diagnostics().first().and_then(crate::config::Diagnostic::place);
            bad(String::new(), without_hints(&e.to_string()))
                .with_message_trimmed()
                .at(place)
        })?;
        let at = |l: serde_saphyr::Location| format!("{}:{}:{}", path.display(), l.line(), l.column());
        let bad = |l: serde_saphyr::Location, why: String| bad(at(l), why).at(Some(crate::config::Place::new(path, l)));
        let mut list = Vec::new();
        for entry in doc.exceptions {
            let e = entry.value;
            let non_empty = |field: &str, v: &S<String>| {
                if v.value.trim().is_empty() {
                    Err(bad(v.referenced, format!("{field} is empty")))
                } else {
                    Ok(v.value.trim().to_owned())
                }
            };
            let glob = |field: &str, v: &Option<S<String>>| -> Result<Option<GlobMatcher>> {
                v.as_ref()
                    .map(|v| {
                        Glob::new(&v.value)
                            .map(|g| g.compile_matcher())
                            .map_err(|err| bad(v.referenced, format!("{field} {:?} is not a glob: {err}", v.value)))
                    })
                    .transpose()
            };
            let expires = Date::parse(e.expires.value.trim()).ok_or_else(|| {
                bad(
                    e.expires.referenced,
                    format!("expires {:?} is not a date (YYYY-MM-DD)", e.expires.value),
                )
            })?;
            list.push(Exception {
                id: non_empty("id", &e.id)?,
                component_glob: glob("component", &e.component)?,
                path_glob: glob("path", &e.path)?,
                component: e.component.map(|c| c.value),
                path: e.path.map(|p| p.value),
                vulnerability: e
                    .vulnerability
                    .as_ref()
                    .map(|v| non_empty("vulnerability", v))
                    .transpose()?,
                reason: non_empty("reason", &e.reason)?,
                owner: non_empty("owner", &e.owner)?,
                expires,
                at: at(entry.referenced),
            });
        }
        Ok(Exceptions {
            file: Some(path.to_path_buf()),
            sha256: Some(sha256),
            list,
        })
    }
}

/// The configuration parser's diagnostics end with hints about configuration files: this file's
/// own hint says what an exception holds instead.
fn without_hints(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("hint:"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl PolicyError {
    /// The configuration parser's diagnostics start with the file: no empty prefix before them.
    fn with_message_trimmed(mut self) -> Self {
        self.message = self.message.trim_start_matches(": ").to_owned();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Exceptions> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.exceptions.yaml");
        std::fs::write(&file, text).unwrap();
        Exceptions::load(&file)
    }

    #[test]
    fn dates_are_days_that_exist() {
        assert_eq!(
            Date::parse("2028-02-29").map(|d| d.to_string()).as_deref(),
            Some("2028-02-29")
        );
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-1-01",
            "27-01-01",
            "2027-01-00",
            "2027/01/01",
            "+027-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(Date::of_epoch(1_492_533_000).to_string(), "2017-04-18");
        assert!(Date::parse("2026-12-31") < Date::parse("2027-01-01"));
    }

    #[test]
    fn an_exception_covers_its_rule_component_and_path() {
        let x = load(
            "exceptions:\n  - id: A\n    component: get*\n    path: usr/bin/*\n    reason: r\n    owner: o\n    expires: \
             2030-01-01\n",
        )
        .unwrap();
        let e = &x.list[0];
        assert!(e.covers("A", Some("getty"), Some("usr/bin/login"), None));
        assert!(!e.covers("B", Some("getty"), Some("usr/bin/login"), None));
        assert!(!e.covers("A", Some("sshd"), Some("usr/bin/login"), None));
        assert!(!e.covers("A", Some("getty"), Some("usr/sbin/x"), None));
        assert!(!e.covers("A", Some("getty"), None, None), "a path glob needs a path");
        assert!(e.live_on(Date::parse("2029-12-31").unwrap()));
        assert!(!e.live_on(Date::parse("2030-01-01").unwrap()));
        assert!(e.at.ends_with(":2:5"), "{}", e.at);
    }

    #[test]
    fn an_exception_may_name_one_vulnerability() {
        let x = load(
            "exceptions:\n  - id: SK-VULN-001\n    component: sshd\n    vulnerability: cve-2024-6387\n    reason: r\n    \
             owner: o\n    expires: 2030-01-01\n",
        )
        .unwrap();
        let e = &x.list[0];
        assert!(e.covers("SK-VULN-001", Some("sshd"), None, Some("CVE-2024-6387")));
        assert!(!e.covers("SK-VULN-001", Some("sshd"), None, Some("CVE-2023-4911")));
        assert!(
            !e.covers("SK-VULN-001", Some("sshd"), None, None),
            "a result about no vulnerability"
        );
        let any =
            load("exceptions:\n  - id: SK-VULN-001\n    reason: r\n    owner: o\n    expires: 2030-01-01\n").unwrap();
        assert!(any.list[0].covers("SK-VULN-001", Some("sshd"), None, Some("CVE-2023-4911")));
    }

    #[test]
    fn bad_files_are_refused_with_line_and_column() {
        let base = "exceptions:\n  - id: A\n    reason: r\n    owner: o\n";
        for (text, want) in [
            (
                format!("{base}    expires: 2030-02-30\n"),
                ":5:14: expires \"2030-02-30\" is not a date",
            ),
            (format!("{base}    expires: soon\n"), ":5:14: expires \"soon\""),
            (
                format!("{base}    expires: 2030-01-01\n    owners: x\n"),
                ":6:5: exceptions[0].owners: unknown field `owners`",
            ),
            (
                format!("{base}    expires: 2030-01-01\n    path: \"a[\"\n"),
                ":6:11: path \"a[\" is not a glob",
            ),
            (
                "exceptions:\n  - id: A\n    reason: \" \"\n    owner: o\n    expires: 2030-01-01\n".into(),
                ":3:13: reason is empty",
            ),
            (
                "exceptions:\n  - id: A\n    expires: 2030-01-01\n".into(),
                "missing field",
            ),
        ] {
            let e = load(&text).unwrap_err();
            assert_eq!(e.code, "bad-exceptions");
            assert!(e.message.contains(want), "want {want:?} in {e}");
        }
    }
}
