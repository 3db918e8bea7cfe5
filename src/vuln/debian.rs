//! The Debian Security Tracker's JSON (`https://security-tracker.debian.org/tracker/data/json`):
//! source package → vulnerability id → `{description, scope, debianbug, releases: {CODENAME:
//! {status, repositories, fixed_version, urgency, nodsa, nodsa_reason}}}`. Each vulnerability
//! becomes one [`Advisory`] whose affected entries are its packages in each release, filed under
//! OSV's ecosystem names (`Debian:12`) so one lookup finds both sources.
//!
//! The document is read entry by entry (a visitor over the two outer maps): the whole tracker is
//! tens of MiB, and only one entry is ever held as a JSON tree.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, Visitor};

use super::advisory::{Advisory, Affected, DebianStatus, Origin, TrackerStatus, summary_of};

/// OSV's `Debian:MAJOR` for a release codename; releases without a number (`sid`) keep their
/// name.
pub fn ecosystem_of(codename: &str) -> String {
    let major = match codename {
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        other => other,
    };
    format!("Debian:{major}")
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    releases: BTreeMap<String, Release>,
}

#[derive(Deserialize)]
struct Release {
    status: TrackerStatus,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

/// A tracker entry that is not what the tracker writes: `package/id` and why.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub entry: String,
    pub reason: String,
}

/// What a tracker document held: advisories (one per vulnerability id, merged over packages)
/// and the entries that were not well-formed.
#[derive(Debug, Default)]
pub struct Parsed {
    pub advisories: Vec<Advisory>,
    pub malformed: Vec<Malformed>,
}

/// Reads a whole tracker document from `reader`. Malformed entries are listed, not fatal: the
/// caller decides.
pub fn parse(reader: impl std::io::Read) -> Result<Parsed, String> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, reader));
    let mut entries: BTreeMap<String, Advisory> = BTreeMap::new();
    let mut malformed = Vec::new();
    Packages {
        entries: &mut entries,
        malformed: &mut malformed,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    let mut advisories: Vec<Advisory> = entries.into_values().collect();
    for a in &mut advisories {
        a.affected.sort();
        a.affected.dedup();
    }
    Ok(Parsed { advisories, malformed })
}

struct Packages<'a> {
    entries: &'a mut BTreeMap<String, Advisory>,
    malformed: &'a mut Vec<Malformed>,
}

impl<'de> DeserializeSeed<'de> for Packages<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Packages<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of source packages")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(package) = map.next_key::<String>()? {
            map.next_value_seed(Ids {
                package: &package,
                entries: self.entries,
                malformed: self.malformed,
            })?;
        }
        Ok(())
    }
}

struct Ids<'a> {
    package: &'a str,
    entries: &'a mut BTreeMap<String, Advisory>,
    malformed: &'a mut Vec<Malformed>,
}

impl<'de> DeserializeSeed<'de> for Ids<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Ids<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object of vulnerability ids for {}", self.package)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(id) = map.next_key::<String>()? {
            let value: serde_json::Value = map.next_value()?;
            match serde_path_to_error::deserialize::<_, Entry>(value) {
                Ok(entry) => add(self.entries, self.package, &id, entry),
                Err(e) => self.malformed.push(Malformed {
                    entry: format!("{}/{id}", self.package),
                    reason: match e.path().to_string().as_str() {
                        "." => e.inner().to_string(),
                        path => format!("{path}: {}", e.inner()),
                    },
                }),
            }
        }
        Ok(())
    }
}

fn add(entries: &mut BTreeMap<String, Advisory>, package: &str, id: &str, entry: Entry) {
    let advisory = entries.entry(id.to_owned()).or_insert_with(|| Advisory {
        origin: Origin::DebianTracker,
        id: id.to_owned(),
        aliases: Vec::new(),
        modified: None,
        published: None,
        withdrawn: None,
        summary: String::new(),
        severity: Vec::new(),
        severity_label: None,
        affected: Vec::new(),
    });
    // One description per id (the tracker repeats it under each package): the first non-empty
    // one in the document's order, which is the package order of a BTreeMap.
    if advisory.summary.is_empty() {
        advisory.summary = summary_of(entry.description.as_deref().unwrap_or(""));
    }
    for (release, r) in entry.releases {
        advisory.affected.push(Affected {
            ecosystem: ecosystem_of(&release),
            name: package.to_owned(),
            ranges: Vec::new(),
            versions: Vec::new(),
            debian: Some(DebianStatus {
                release: Some(release),
                status: Some(r.status),
                fixed_version: r.fixed_version.filter(|v| !v.is_empty()),
                urgency: r.urgency,
                nodsa: r.nodsa.or(r.nodsa_reason),
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_advisories_and_bad_ones_are_named() {
        let doc = br#"{"openssh": {"CVE-1": {"description": "d", "scope": "remote",
            "releases": {"bookworm": {"status": "resolved", "repositories": {"bookworm": "1:9.2p1-2+deb12u3"},
                                       "fixed_version": "1:9.2p1-2+deb12u3", "urgency": "not yet assigned"},
                         "sid": {"status": "open", "repositories": {}, "urgency": "low"}}},
            "CVE-2": {"releases": {"bookworm": {"status": "fixed?"}}}},
            "xz-utils": {"CVE-1": {"releases": {"bookworm": {"status": "undetermined", "urgency": "unimportant"}}}}}"#;
        let parsed = parse(&doc[..]).unwrap();
        assert_eq!(parsed.advisories.len(), 1);
        let a = &parsed.advisories[0];
        assert_eq!((a.id.as_str(), a.summary.as_str()), ("CVE-1", "d"));
        let names: Vec<(&str, &str)> = a
            .affected
            .iter()
            .map(|x| (x.ecosystem.as_str(), x.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("Debian:12", "openssh"),
                ("Debian:12", "xz-utils"),
                ("Debian:sid", "openssh")
            ]
        );
        assert_eq!(parsed.malformed.len(), 1);
        assert_eq!(parsed.malformed[0].entry, "openssh/CVE-2");
        assert!(
            parsed.malformed[0].reason.contains("releases.bookworm.status"),
            "{}",
            parsed.malformed[0].reason
        );
        assert!(parse(&b"{\"a\": [1]}"[..]).is_err());
        assert!(parse(&b"{\"a\": {}} trailing"[..]).is_err());
    }
}
