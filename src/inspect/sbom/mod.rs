//! The software bill of materials of one image: one cataloger per ecosystem, each reading files
//! through the flattened view, each stating packages (name, version, origin, files) — in the
//! spirit of syft, written here. The catalogers live in `catalog/`, one folder each; the
//! distribution they qualify their packages with is found first (`distro/`).

pub mod catalog;
pub mod distro;
pub mod gather;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::image::Rootfs;
use crate::inspect::scan::BinaryReport;

use catalog::{CATALOGERS, Input};
pub use distro::Distro;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Deb,
    Apk,
    Rpm,
    Python,
    Npm,
    Golang,
    Cargo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    #[serde(rename = "type")]
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The source package and its version (dpkg `Source:`, rpm `SOURCERPM`), for vulnerability
    /// matching.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    pub licenses: Vec<String>,
    pub purl: String,
    pub cpes: Vec<String>,
    /// Names of packages this one depends on (the first alternative of each dependency).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<String>,
    /// Files the package owns, relative to the image root.
    pub files: Vec<String>,
    /// The file this package was found in (database, manifest or binary).
    pub found_in: String,
}

/// A problem a cataloger met and went past: a broken stanza, an unreadable manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub file: String,
    /// 1-based; 0 when it concerns the whole file.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    /// SBOMs the image ships, compared with what the catalogers found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attached: Vec<catalog::attached::AttachedSbom>,
    pub problems: Vec<Problem>,
}

/// Files larger than this are not read by the catalogers (a status file is a few MiB).
pub const CATALOG_FILE_LIMIT: u64 = 64 << 20;

/// Parses a collected file as JSON; on failure records the problem `{what}: {error}` with the
/// file and line.
pub fn parse_json(file: &str, bytes: &[u8], what: &str, problems: &mut Vec<Problem>) -> Option<serde_json::Value> {
    match serde_json::from_slice(bytes) {
        Ok(doc) => Some(doc),
        Err(e) => {
            problems.push(Problem {
                file: file.to_owned(),
                line: e.line(),
                message: format!("{what}: {e}"),
            });
            None
        }
    }
}

/// The files the catalogers read, so one pass over the layers can collect them.
pub fn wanted(path: &Path) -> bool {
    distro::wanted(path) || CATALOGERS.iter().any(|c| c.wanted(path))
}

/// Runs every cataloger over the collected file contents and the binaries' facts, then lets
/// each cross-check what they found together.
pub fn catalog(files: &BTreeMap<PathBuf, Vec<u8>>, rootfs: &Rootfs, binaries: &[BinaryReport]) -> Catalog {
    let mut problems = Vec::new();
    // Before any cataloger: every OS package's purl is qualified by it.
    let distro = distro::read(files, &mut problems);
    let input = Input {
        files: Files {
            contents: files,
            rootfs,
        },
        distro: distro.as_ref(),
        binaries,
    };
    let mut packages: Vec<Package> = CATALOGERS
        .iter()
        .flat_map(|c| c.catalog(&input, &mut problems))
        .collect();
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.arch, &a.found_in).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.arch,
            &b.found_in,
        ))
    });
    let attached = CATALOGERS
        .iter()
        .flat_map(|c| c.cross_check(&input, &packages, &mut problems))
        .collect();
    problems.sort();
    Catalog {
        distro,
        packages,
        attached,
        problems,
    }
}

/// The collected contents, read through the image's symlinks where a path is not itself a file
/// (`usr/share/doc/openssh-server` → `openssh-client`).
pub struct Files<'a> {
    pub contents: &'a BTreeMap<PathBuf, Vec<u8>>,
    pub rootfs: &'a Rootfs,
}

impl Files<'_> {
    pub fn get(&self, path: &Path) -> Option<&Vec<u8>> {
        self.contents.get(path).or_else(|| {
            let real = self.rootfs.resolve(path).ok().flatten()?;
            self.contents.get(&real)
        })
    }
}

/// Paths no package claims.
pub fn unowned<'a>(rootfs: &'a Rootfs, catalog: &Catalog) -> Vec<&'a PathBuf> {
    let owned: BTreeSet<&str> = catalog
        .packages
        .iter()
        .flat_map(|p| p.files.iter().map(String::as_str))
        .collect();
    rootfs
        .files()
        .map(|(p, _)| p)
        .filter(|p| !owned.contains(&*p.to_string_lossy()))
        .collect()
}

/// `cpe:2.3:a:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*` with the CPE 2.3 escaping of special
/// characters, vendor and product both the package name (syft's first candidate).
pub fn cpe(vendor: &str, product: &str, version: &str) -> String {
    let escape = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            if !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    format!(
        "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
        escape(vendor),
        escape(product),
        escape(version)
    )
}
