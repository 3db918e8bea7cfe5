//! Matching: the packages one inspection catalogued in, the advisories that concern them out.
//! Plain data both ways, so any caller (the `vulns` command, later the evidence and the gate)
//! can take it.
//!
//! Each package is looked up under OSV's ecosystem for it and compared in that ecosystem's
//! order: Debian packages by their *source* package and version under `Debian:MAJOR` (OSV's
//! Debian entries and the tracker's data alike), Alpine packages by origin under
//! `Alpine:vMAJOR.MINOR`, PyPI by PEP 503 name, npm, Go modules and the Go toolchain
//! (`stdlib`), crates.io. What cannot be decided — a GIT range, a version that does not parse —
//! is reported as not evaluated, never counted as affected or safe.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::advisory::{Advisory, Affected, Event, Origin, Range, Severity, TrackerStatus};
use super::db::Database;
use super::severity::Rating;
use super::version::{Scheme, Version};
use super::vex::{DocumentRef, VexRecord};
use crate::inspect::sbom::{Catalog, Distro, Ecosystem, Package};

/// Advisories by (ecosystem, package name), built once per database.
pub struct Index<'a> {
    database: &'a Database,
    by_package: HashMap<(String, String), Vec<(usize, usize)>>,
}

impl<'a> Index<'a> {
    pub fn new(database: &'a Database) -> Self {
        let mut by_package: HashMap<(String, String), Vec<(usize, usize)>> = HashMap::new();
        for (i, a) in database.advisories.iter().enumerate() {
            if a.withdrawn.is_some() {
                continue;
            }
            for (j, x) in a.affected.iter().enumerate() {
                by_package
                    .entry((x.ecosystem.clone(), lookup_name(&x.ecosystem, &x.name)))
                    .or_default()
                    .push((i, j));
            }
        }
        Index { database, by_package }
    }
}

/// Names as each ecosystem compares them: PyPI's are PEP 503-normalised.
pub(super) fn lookup_name(ecosystem: &str, name: &str) -> String {
    if ecosystem == "PyPI" {
        let mut out = String::with_capacity(name.len());
        for c in name.chars() {
            match c {
                '-' | '_' | '.' if out.ends_with('-') => {}
                '-' | '_' | '.' => out.push('-'),
                c => out.push(c.to_ascii_lowercase()),
            }
        }
        out
    } else {
        name.to_owned()
    }
}

/// The (ecosystem, name) keys the packages of `catalogs` are looked up by, so a scan reads
/// only the advisories that can concern them ([`Database::open_where`]).
#[derive(Debug, Default)]
pub struct Wanted(std::collections::HashSet<(String, String)>);

impl Wanted {
    pub fn of<'c>(catalogs: impl IntoIterator<Item = &'c Catalog>) -> Self {
        let mut wanted = Wanted::default();
        for catalog in catalogs {
            wanted.add(&catalog.packages, catalog.distro.as_ref());
        }
        wanted
    }

    /// Adds the keys of `packages`, OS packages looked up as `distro`'s.
    pub fn add(&mut self, packages: &[Package], distro: Option<&Distro>) {
        for package in packages {
            if let Ok(l) = lookup_of(package, distro) {
                let name = lookup_name(&l.ecosystem, &l.name);
                self.0.insert((l.ecosystem, name));
            }
        }
    }

    pub fn wants(&self, ecosystem: &str, name: &str) -> bool {
        self.0.contains(&(ecosystem.to_owned(), lookup_name(ecosystem, name)))
    }
}

/// The version order of an OSV ecosystem.
pub fn scheme_of(ecosystem: &str) -> Option<Scheme> {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    Some(match base {
        "Debian" | "Ubuntu" => Scheme::Dpkg,
        "Alpine" => Scheme::Apk,
        "PyPI" => Scheme::Pep440,
        "npm" | "crates.io" => Scheme::Semver,
        "Go" => Scheme::Go,
        _ => return None,
    })
}

/// What one component's packages matched.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    pub matches: Vec<Match>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// Packages no advisory source here covers, by kind (`rpm`, `deb (ubuntu)`): counted, so
    /// their absence from `matches` is not read as "clean".
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub not_covered: BTreeMap<String, usize>,
}

/// The installed package a match is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PackageRef {
    #[serde(rename = "type")]
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub purl: String,
    pub found_in: String,
}

/// How a package was looked up: OSV's ecosystem, and the name and version compared (for Debian,
/// the source package's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Lookup {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The installed version is in an affected range, or the tracker says so.
    Affected,
    /// The tracker has not determined whether this release is affected.
    Undetermined,
}

/// One advisory source's word on a match.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Source {
    pub origin: Origin,
    pub id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

/// A vulnerability of one installed package. Several advisories about one vulnerability (a
/// CVE, its GHSA, its PYSEC, the tracker's entry) are one match with a source each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// The CVE id when any source names one, else the smallest id.
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub package: PackageRef,
    pub lookup: Lookup,
    pub status: Status,
    /// The version that fixes it (the greatest any source names), or none known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Debian's urgency (`unimportant`, `low`… `end-of-life`), where the data has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity_label: Option<String>,
    /// The one level rules judge by, and where it came from ([`super::severity`]).
    pub rating: Rating,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub summary: String,
    pub sources: Vec<Source>,
    /// The VEX statement (`not_affected`, `fixed`) that takes this match out of the counts: it
    /// stays listed, with what suppressed it (`vuln::vex::apply`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<VexRecord>,
    /// The latest VEX statement about this match when it does not suppress it (`affected`,
    /// `under_investigation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex: Option<VexRecord>,
}

/// An advisory that concerns a package but could not be evaluated against it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotEvaluated {
    pub package: PackageRef,
    pub lookup: Lookup,
    pub ids: Vec<String>,
    pub reason: String,
}

/// The key a package is looked up by, or why it has none.
fn lookup_of(package: &Package, distro: Option<&Distro>) -> Result<Lookup, String> {
    let (ecosystem, name, version) = match package.ecosystem {
        Ecosystem::Deb => match distro {
            Some(d) if d.id == "debian" && !d.version_id.is_empty() => (
                format!("Debian:{}", d.version_id.split('.').next().unwrap_or("")),
                package.source_name.clone().unwrap_or_else(|| package.name.clone()),
                package
                    .source_version
                    .clone()
                    .unwrap_or_else(|| package.version.clone()),
            ),
            Some(d) if d.id == "debian" => return Err("deb (debian without VERSION_ID)".into()),
            Some(d) => return Err(format!("deb ({})", d.id)),
            None => return Err("deb (no os-release)".into()),
        },
        Ecosystem::Apk => match distro {
            Some(d) if d.id == "alpine" => {
                let mut parts = d.version_id.split('.');
                match (parts.next(), parts.next()) {
                    (Some(major), Some(minor)) => (
                        format!("Alpine:v{major}.{minor}"),
                        package.source_name.clone().unwrap_or_else(|| package.name.clone()),
                        package.version.clone(),
                    ),
                    _ => return Err("apk (alpine without VERSION_ID)".into()),
                }
            }
            Some(d) => return Err(format!("apk ({})", d.id)),
            None => return Err("apk (no os-release)".into()),
        },
        Ecosystem::Python => ("PyPI".into(), package.name.clone(), package.version.clone()),
        Ecosystem::Npm => ("npm".into(), package.name.clone(), package.version.clone()),
        Ecosystem::Golang => ("Go".into(), package.name.clone(), package.version.clone()),
        Ecosystem::Cargo => ("crates.io".into(), package.name.clone(), package.version.clone()),
        Ecosystem::Rpm => return Err("rpm".into()),
    };
    Ok(Lookup {
        ecosystem,
        name,
        version,
    })
}

/// One affected entry's verdict on one version.
enum Verdict {
    Affected { status: Status, fixed: Option<String> },
    NotAffected,
    NotEvaluated(String),
}

/// Matches every package of `catalog` against the index.
pub fn match_catalog(index: &Index, catalog: &Catalog) -> Findings {
    match_packages(index, &catalog.packages, catalog.distro.as_ref())
}

/// Matches every one of `packages`, OS packages as `distro`'s: the image's own os-release, or
/// the one a user named for an image without it.
pub fn match_packages(index: &Index, packages: &[Package], distro: Option<&Distro>) -> Findings {
    let mut findings = Findings::default();
    for package in packages {
        let lookup = match lookup_of(package, distro) {
            Ok(lookup) => lookup,
            Err(kind) => {
                *findings.not_covered.entry(kind).or_default() += 1;
                continue;
            }
        };
        let key = (lookup.ecosystem.clone(), lookup_name(&lookup.ecosystem, &lookup.name));
        let Some(candidates) = index.by_package.get(&key) else {
            continue;
        };
        let package_ref = PackageRef {
            ecosystem: package.ecosystem,
            name: package.name.clone(),
            version: package.version.clone(),
            purl: package.purl.clone(),
            found_in: package.found_in.clone(),
        };
        let Some(scheme) = scheme_of(&lookup.ecosystem) else {
            continue;
        };
        let installed = match scheme.parse(&lookup.version) {
            Ok(v) => v,
            Err(e) => {
                let mut ids: Vec<String> = candidates
                    .iter()
                    .map(|&(i, _)| index.database.advisories[i].id.clone())
                    .collect();
                ids.sort();
                ids.dedup();
                findings.not_evaluated.push(NotEvaluated {
                    package: package_ref,
                    lookup,
                    ids,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let mut found: Vec<(&Advisory, Option<String>, Source)> = Vec::new();
        for &(i, j) in candidates {
            let advisory = &index.database.advisories[i];
            let affected = &advisory.affected[j];
            match verdict(affected, scheme, &installed, &lookup.version) {
                Verdict::NotAffected => {}
                Verdict::Affected { status, fixed } => found.push((
                    advisory,
                    affected.debian.as_ref().and_then(|d| d.urgency.clone()),
                    Source {
                        origin: advisory.origin,
                        id: advisory.id.clone(),
                        status,
                        fixed,
                        modified: advisory.modified.clone(),
                    },
                )),
                Verdict::NotEvaluated(reason) => findings.not_evaluated.push(NotEvaluated {
                    package: package_ref.clone(),
                    lookup: lookup.clone(),
                    ids: vec![advisory.id.clone()],
                    reason,
                }),
            }
        }
        findings.matches.extend(merge(found, &package_ref, &lookup, scheme));
    }
    findings
        .matches
        .sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
    findings.not_evaluated.sort();
    findings.not_evaluated.dedup();
    findings
}

fn verdict(affected: &Affected, scheme: Scheme, installed: &Version, text: &str) -> Verdict {
    if let Some(status) = affected.debian.as_ref().and_then(|d| d.status.map(|s| (s, d))) {
        let (status, d) = status;
        return match status {
            TrackerStatus::Open => Verdict::Affected {
                status: Status::Affected,
                fixed: None,
            },
            TrackerStatus::Undetermined => Verdict::Affected {
                status: Status::Undetermined,
                fixed: None,
            },
            TrackerStatus::Resolved => match d.fixed_version.as_deref() {
                // Resolved without a version: the tracker says nothing to compare.
                None => Verdict::NotEvaluated("the tracker says resolved but names no fixed version".into()),
                Some(fixed) => match scheme.parse(fixed) {
                    Err(e) => Verdict::NotEvaluated(format!("fixed version: {e}")),
                    Ok(f) if installed.compare(&f) == Some(Ordering::Less) => Verdict::Affected {
                        status: Status::Affected,
                        fixed: Some(fixed.to_owned()),
                    },
                    Ok(_) => Verdict::NotAffected,
                },
            },
        };
    }
    let mut unevaluated = Vec::new();
    let mut evaluable = false;
    let mut fixes: Vec<&str> = Vec::new();
    let mut hit = false;
    for range in &affected.ranges {
        let range_scheme = match range.kind.as_str() {
            "ECOSYSTEM" => scheme,
            "SEMVER" if scheme == Scheme::Go => Scheme::Go,
            "SEMVER" => Scheme::Semver,
            "GIT" => {
                unevaluated.push("a GIT range (commits, not versions) is not evaluated".to_owned());
                continue;
            }
            other => {
                unevaluated.push(format!("range type {other:?} is not evaluated"));
                continue;
            }
        };
        // The installed version read in the range's scheme (SEMVER over a PyPI package is odd
        // but the schema allows it).
        let own;
        let v = if range_scheme == scheme {
            installed
        } else {
            match range_scheme.parse(text) {
                Ok(v) => {
                    own = v;
                    &own
                }
                Err(e) => {
                    unevaluated.push(format!("{} range: {e}", range.kind));
                    continue;
                }
            }
        };
        match in_range(range, range_scheme, v) {
            Err(e) => unevaluated.push(e),
            Ok(None) => evaluable = true,
            Ok(Some(fixed)) => {
                evaluable = true;
                hit = true;
                if let Some(f) = fixed {
                    fixes.push(f);
                }
            }
        }
    }
    for listed in &affected.versions {
        if let Ok(l) = scheme.parse(listed) {
            evaluable = true;
            if installed.compare(&l) == Some(Ordering::Equal) {
                hit = true;
            }
        }
    }
    if hit {
        // The smallest fix above the installed version, of the ranges that hold it.
        let fixed = fixes
            .iter()
            .filter_map(|f| Some((scheme.parse(f).ok()?, *f)))
            .min_by(|a, b| a.0.compare(&b.0).unwrap_or(Ordering::Equal))
            .map(|f| f.1.to_owned());
        return Verdict::Affected {
            status: Status::Affected,
            fixed,
        };
    }
    // A GIT range beside ranges that could be read is redundant (OSV entries carry both); alone,
    // or with versions that do not parse, it leaves the question open.
    match unevaluated.first() {
        Some(reason) if !evaluable || !reason.starts_with("a GIT range") => Verdict::NotEvaluated(reason.clone()),
        _ => Verdict::NotAffected,
    }
}

/// OSV's evaluation of one range: events in version order, `introduced` opens, `fixed` (at or
/// below the version) and `last_affected` (below it) close, and `limit`s bound the whole.
/// `Ok(Some(fix))` when `v` is inside, with the `fixed` that closes its interval, if one does.
fn in_range<'r>(range: &'r Range, scheme: Scheme, v: &Version) -> Result<Option<Option<&'r str>>, String> {
    let mut events: Vec<(Option<Version>, &Event)> = Vec::new();
    for e in &range.events {
        let parsed = match e {
            Event::Introduced(t) if t == "0" => None,
            other => Some(
                scheme
                    .parse(other.version())
                    .map_err(|err| format!("{} range event: {err}", range.kind))?,
            ),
        };
        events.push((parsed, e));
    }
    // "0" sorts first; otherwise version order, ties in the entry's order (a stable sort).
    events.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.compare(y).unwrap_or(Ordering::Equal),
    });
    // Where `v` stands against each event: `Less` when below it.
    let against = |p: &Option<Version>| p.as_ref().map(|p| v.compare(p).unwrap_or(Ordering::Equal));
    let limited = events.iter().any(|(_, e)| matches!(e, Event::Limit(_)));
    if limited
        && !events
            .iter()
            .any(|(p, e)| matches!(e, Event::Limit(_)) && against(p) == Some(Ordering::Less))
    {
        return Ok(None);
    }
    let mut inside = false;
    for (parsed, event) in &events {
        let cmp = against(parsed);
        match event {
            Event::Introduced(_) if cmp != Some(Ordering::Less) => inside = true,
            Event::Fixed(_) if cmp != Some(Ordering::Less) => inside = false,
            Event::LastAffected(_) if cmp == Some(Ordering::Greater) => inside = false,
            _ => {}
        }
    }
    if !inside {
        return Ok(None);
    }
    // The event that closes the interval holding `v`: a fix, or a last affected version.
    let closing = events
        .iter()
        .find(|(p, e)| matches!(e, Event::Fixed(_) | Event::LastAffected(_)) && against(p) == Some(Ordering::Less));
    Ok(Some(match closing {
        Some((_, Event::Fixed(text))) => Some(text.as_str()),
        _ => None,
    }))
}

/// Merges the sources that speak of one vulnerability (their ids and aliases meet) into one
/// match each.
fn merge(
    found: Vec<(&Advisory, Option<String>, Source)>,
    package: &PackageRef,
    lookup: &Lookup,
    scheme: Scheme,
) -> Vec<Match> {
    type Member<'a> = (&'a Advisory, Option<String>, Source);
    let mut groups: Vec<(BTreeSet<String>, Vec<Member>)> = Vec::new();
    for (advisory, urgency, source) in found {
        let names: BTreeSet<String> = std::iter::once(advisory.id.clone())
            .chain(advisory.aliases.iter().cloned())
            .collect();
        let mut joined: Option<usize> = None;
        let mut i = 0;
        while i < groups.len() {
            if groups[i].0.is_disjoint(&names) {
                i += 1;
                continue;
            }
            match joined {
                None => {
                    groups[i].0.extend(names.iter().cloned());
                    groups[i].1.push((advisory, urgency.clone(), source.clone()));
                    joined = Some(i);
                    i += 1;
                }
                Some(j) => {
                    let (more_names, more) = groups.remove(i);
                    groups[j].0.extend(more_names);
                    groups[j].1.extend(more);
                }
            }
        }
        if joined.is_none() {
            groups.push((names, vec![(advisory, urgency, source)]));
        }
    }
    groups
        .into_iter()
        .map(|(names, mut members)| {
            members.sort_by(|a, b| a.2.cmp(&b.2));
            let id = names
                .iter()
                .find(|n| n.starts_with("CVE-"))
                .or_else(|| names.iter().next())
                .cloned()
                .unwrap_or_default();
            let aliases = names.iter().filter(|n| **n != id).cloned().collect();
            let status = if members.iter().any(|m| m.2.status == Status::Affected) {
                Status::Affected
            } else {
                Status::Undetermined
            };
            let fixed = members
                .iter()
                .filter_map(|m| m.2.fixed.as_deref())
                .filter_map(|f| Some((scheme.parse(f).ok()?, f)))
                .max_by(|a, b| a.0.compare(&b.0).unwrap_or(Ordering::Equal))
                .map(|f| f.1.to_owned());
            let urgency = members.iter().find_map(|m| m.1.clone());
            let mut severity: Vec<Severity> = members.iter().flat_map(|m| m.0.severity.iter().cloned()).collect();
            severity.sort();
            severity.dedup();
            let severity_label = members.iter().find_map(|m| m.0.severity_label.clone());
            let rating = super::severity::rate(&severity, severity_label.as_deref(), urgency.as_deref());
            Match {
                id,
                aliases,
                package: package.clone(),
                lookup: lookup.clone(),
                status,
                fixed,
                urgency,
                severity,
                severity_label,
                rating,
                summary: members
                    .iter()
                    .map(|m| m.0.summary.as_str())
                    .find(|s| !s.is_empty())
                    .unwrap_or("")
                    .to_owned(),
                sources: members.into_iter().map(|m| m.2).collect(),
                suppressed_by: None,
                vex: None,
            }
        })
        .collect()
}

/// The vulnerabilities of a set of components as one document: what `sealkit vulns --format
/// json` prints, and the section the evidence and reports can carry. It names the database
/// that judged, so a result is never read without it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub database: DatabaseRef,
    /// The VEX documents applied (`vuln::vex::apply`), in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vex: Vec<DocumentRef>,
    pub components: Vec<ComponentFindings>,
    pub summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseRef {
    /// `sha256:HEX` of the database's stored bytes.
    pub digest: String,
    /// The newest entry's `modified` (none when the data carries no dates).
    pub newest: Option<String>,
    pub advisories: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentFindings {
    pub name: String,
    /// Where the component's files go in the OS image (empty for a single image).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    pub packages: usize,
    /// The distribution its OS packages were matched as when the image has no os-release and
    /// the user named one (`--distro`): an assumption, so it is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_as: Option<String>,
    #[serde(flatten)]
    pub findings: Findings,
}

/// Counts over every component. `matches` counts every match listed; `affected`,
/// `undetermined` and `with_fix` only those no VEX statement suppressed, which `suppressed`
/// counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub matches: usize,
    pub affected: usize,
    pub undetermined: usize,
    pub with_fix: usize,
    pub not_evaluated: usize,
    pub suppressed: usize,
}

impl Summary {
    pub fn of(components: &[ComponentFindings]) -> Summary {
        let matches = || components.iter().flat_map(|c| &c.findings.matches);
        let open = || matches().filter(|m| m.suppressed_by.is_none());
        Summary {
            matches: matches().count(),
            affected: open().filter(|m| m.status == Status::Affected).count(),
            undetermined: open().filter(|m| m.status == Status::Undetermined).count(),
            with_fix: open().filter(|m| m.fixed.is_some()).count(),
            not_evaluated: components.iter().map(|c| c.findings.not_evaluated.len()).sum(),
            suppressed: matches().filter(|m| m.suppressed_by.is_some()).count(),
        }
    }
}

impl Report {
    pub fn new(database: &Database, components: Vec<ComponentFindings>) -> Self {
        let summary = Summary::of(&components);
        Report {
            database: DatabaseRef {
                digest: database.digest.clone(),
                newest: database.newest.clone(),
                advisories: database.total,
            },
            vex: Vec::new(),
            components,
            summary,
        }
    }
}
