//! OSV entries (ossf/osv-schema) into the database's [`Advisory`]. Fields matching does not use
//! (`references`, `credits`, most of `*_specific`) are read past; what it does use is checked
//! here, so a malformed entry is refused when it is imported, not skipped when it is matched.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::advisory::{Advisory, Affected, DebianStatus, Event, Origin, Range, Severity, parse_utc, summary_of};

/// Lists and objects that producers write as `null` read as empty.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    modified: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Vec<String>,
    /// Debian's and Ubuntu's entries name the upstream CVE here.
    #[serde(default, deserialize_with = "nullable")]
    upstream: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "nullable")]
    affected: Vec<RawAffected>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "nullable")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "nullable")]
    versions: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    repo: Option<String>,
    events: Vec<BTreeMap<String, serde_json::Value>>,
}

/// One OSV entry from its JSON; the error names the field that is wrong.
pub fn parse(doc: serde_json::Value) -> Result<Advisory, String> {
    let entry: Entry = serde_path_to_error::deserialize(doc).map_err(|e| match e.path().to_string().as_str() {
        "." => e.inner().to_string(),
        path => format!("{path}: {}", e.inner()),
    })?;
    convert(entry)
}

fn convert(entry: Entry) -> Result<Advisory, String> {
    let id = entry.id.trim().to_owned();
    if id.is_empty() {
        return Err("id: empty".into());
    }
    if parse_utc(&entry.modified).is_none() {
        return Err(format!("modified: {:?} is not an RFC 3339 UTC time", entry.modified));
    }
    let mut aliases: Vec<String> = entry
        .aliases
        .into_iter()
        .chain(entry.upstream)
        .filter(|a| *a != id)
        .collect();
    aliases.sort();
    aliases.dedup();
    let mut affected = Vec::new();
    for (i, a) in entry.affected.into_iter().enumerate() {
        affected.push(convert_affected(a).map_err(|e| format!("affected[{i}].{e}"))?);
    }
    affected.sort();
    affected.dedup();
    let mut severity = entry.severity;
    let label = |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v["severity"].as_str()).map(str::to_owned);
    let severity_label = label(&entry.database_specific);
    let mut severity: Vec<Severity> = severity
        .drain(..)
        .map(|s| Severity {
            kind: s.kind,
            score: s.score,
        })
        .collect();
    severity.sort();
    severity.dedup();
    Ok(Advisory {
        origin: Origin::Osv,
        id,
        aliases,
        modified: Some(entry.modified),
        published: entry.published,
        withdrawn: entry.withdrawn,
        summary: summary_of(entry.summary.as_deref().or(entry.details.as_deref()).unwrap_or("")),
        severity,
        severity_label,
        affected,
    })
}

fn convert_affected(a: RawAffected) -> Result<Affected, String> {
    // An entry of GIT ranges only may name no package; it can match no catalogued package.
    let (ecosystem, name) = match a.package {
        Some(p) => (p.ecosystem, p.name),
        None => (String::new(), String::new()),
    };
    let mut ranges = Vec::new();
    for (i, r) in a.ranges.into_iter().enumerate() {
        ranges.push(convert_range(r).map_err(|e| format!("ranges[{i}].{e}"))?);
    }
    let mut versions = a.versions;
    versions.sort();
    versions.dedup();
    // Debian's entries carry the tracker's urgency (`ecosystem_specific.urgency`).
    let urgency = a
        .ecosystem_specific
        .as_ref()
        .and_then(|v| v["urgency"].as_str())
        .map(str::to_owned);
    let debian = urgency
        .filter(|_| ecosystem.starts_with("Debian"))
        .map(|urgency| DebianStatus {
            release: None,
            status: None,
            fixed_version: None,
            urgency: Some(urgency),
            nodsa: None,
        });
    let _ = (a.severity, a.database_specific);
    Ok(Affected {
        ecosystem,
        name,
        ranges,
        versions,
        debian,
    })
}

fn convert_range(r: RawRange) -> Result<Range, String> {
    if r.events.is_empty() {
        return Err("events: empty".into());
    }
    let mut events = Vec::new();
    for (i, e) in r.events.into_iter().enumerate() {
        let mut fields = e.into_iter();
        let (Some((key, value)), None) = (fields.next(), fields.next()) else {
            return Err(format!(
                "events[{i}]: not exactly one of introduced, fixed, last_affected, limit"
            ));
        };
        let Some(version) = value.as_str().map(str::to_owned) else {
            return Err(format!("events[{i}].{key}: not a string"));
        };
        events.push(match key.as_str() {
            "introduced" => Event::Introduced(version),
            "fixed" => Event::Fixed(version),
            "last_affected" => Event::LastAffected(version),
            "limit" => Event::Limit(version),
            other => return Err(format!("events[{i}]: unknown event {other:?}")),
        });
    }
    Ok(Range {
        kind: r.kind,
        repo: r.repo,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_entry_must_have() {
        let ok = serde_json::json!({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "aliases": null,
            "affected": [{"package": {"ecosystem": "PyPI", "name": "p"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]});
        let a = parse(ok).unwrap();
        assert_eq!(a.affected[0].ranges[0].events[1], Event::Fixed("1.0".into()));
        let cases = [
            (
                serde_json::json!({"modified": "2024-01-01T00:00:00Z"}),
                "missing field `id`",
            ),
            (serde_json::json!({"id": "X", "modified": "yesterday"}), "modified"),
            (
                serde_json::json!({"id": "X", "modified": "2024-01-01T00:00:00Z", "affected": [{"ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}]}),
                "affected[0].ranges[0].events[0]",
            ),
            (
                serde_json::json!({"id": "X", "modified": "2024-01-01T00:00:00Z", "affected": [{"ranges": [{"type": "SEMVER", "events": [{"fixed": 1}]}]}]}),
                "not a string",
            ),
            (
                serde_json::json!({"id": "X", "modified": "2024-01-01T00:00:00Z", "affected": "no"}),
                "affected",
            ),
        ];
        for (doc, want) in cases {
            let e = parse(doc.clone()).unwrap_err();
            assert!(e.contains(want), "{doc}: {e}");
        }
    }
}
