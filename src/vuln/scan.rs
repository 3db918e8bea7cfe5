//! A scan: the catalogs of an image's components in, one report out, as every caller needs it
//! (`sealkit vulns`, `check`, the gate). The database is read once, for the packages of all the
//! components together, and each component is matched against it.

use std::path::Path;

use super::VulnError;
use super::db::Database;
use super::matching::{ComponentFindings, Index, Report, Wanted, match_catalog_as};
use crate::inspect::sbom::{Catalog, Distro};

/// One component to scan: its name and prefix as the evidence gives them, and its catalog.
pub struct Component<'a> {
    pub name: String,
    pub prefix: String,
    pub catalog: &'a Catalog,
}

/// Matches `components` against the current database of `dir`. `fallback` is the
/// distribution to match the OS packages of an image without os-release as (a user's
/// `--distro`); each component it was applied to says so in the report.
pub fn scan<'a>(dir: &Path, components: &[Component<'a>], fallback: Option<&'a Distro>) -> Result<Report, VulnError> {
    let distro_of = |c: &Component<'a>| c.catalog.distro.as_ref().or(fallback);
    let mut wanted = Wanted::default();
    for c in components {
        wanted.add(c.catalog, distro_of(c));
    }
    let database = Database::open_where(dir, |ecosystem, name| wanted.wants(ecosystem, name))?;
    let index = Index::new(&database);
    let findings = components
        .iter()
        .map(|c| ComponentFindings {
            name: c.name.clone(),
            prefix: c.prefix.clone(),
            packages: c.catalog.packages.len(),
            matched_as: match (&c.catalog.distro, fallback) {
                (None, Some(given)) => Some(given.qualifier()),
                _ => None,
            },
            findings: match_catalog_as(&index, c.catalog, distro_of(c)),
        })
        .collect();
    Ok(Report::new(&database, findings))
}
