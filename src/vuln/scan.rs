//! A scan: the catalogs of an image's components in, one report out, as every caller needs it
//! (`sealkit vulns`, `check`, the gate). The database is read once, for the packages of all the
//! components together, and each component is matched against it.

use std::path::Path;

use super::VulnError;
use super::db::Database;
use super::matching::{ComponentFindings, Index, Report, Wanted, match_packages};
use crate::inspect::sbom::{Distro, Package};

/// One component to scan: its name and prefix as the evidence gives them, its packages and
/// the distribution its os-release names.
pub struct Component<'a> {
    pub name: String,
    pub prefix: String,
    pub packages: &'a [Package],
    pub distro: Option<&'a Distro>,
}

/// Matches `components` against the current database of `dir`. `fallback` is the
/// distribution to match the OS packages of an image without os-release as (a user's
/// `--distro`); each component it was applied to says so in the report.
pub fn scan<'a>(dir: &Path, components: &[Component<'a>], fallback: Option<&'a Distro>) -> Result<Report, VulnError> {
    let distro_of = |c: &Component<'a>| c.distro.or(fallback);
    let mut wanted = Wanted::default();
    for c in components {
        wanted.add(c.packages, distro_of(c));
    }
    let database = Database::open_where(dir, |ecosystem, name| wanted.wants(ecosystem, name))?;
    let index = Index::new(&database);
    let findings = components
        .iter()
        .map(|c| ComponentFindings {
            name: c.name.clone(),
            prefix: c.prefix.clone(),
            packages: c.packages.len(),
            matched_as: match (c.distro, fallback) {
                (None, Some(given)) => Some(given.qualifier()),
                _ => None,
            },
            findings: match_packages(&index, c.packages, distro_of(c)),
        })
        .collect();
    Ok(Report::new(&database, findings))
}
