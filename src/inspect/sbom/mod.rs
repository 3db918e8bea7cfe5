//! The software bill of materials of one image: one cataloger per ecosystem, each reading files
//! through the flattened view, each stating packages (name, version, origin, files) — in the
//! spirit of syft, written here.

pub mod apk;
pub mod attached;
pub mod binaries;
pub mod dpkg;
pub mod gather;
pub mod npm;
pub mod osrelease;
pub mod python;
pub mod rpm;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::image::Rootfs;
use crate::inspect::scan::BinaryReport;

pub use osrelease::Distro;

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
    pub attached: Vec<attached::AttachedSbom>,
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
    osrelease::wanted(path)
        || dpkg::wanted(path)
        || apk::wanted(path)
        || rpm::wanted(path)
        || python::wanted(path)
        || npm::wanted(path)
        || attached::wanted(path)
}

/// Runs every cataloger over the collected file contents and the binaries' facts.
pub fn catalog(files: &BTreeMap<PathBuf, Vec<u8>>, rootfs: &Rootfs, binaries: &[BinaryReport]) -> Catalog {
    let mut problems = Vec::new();
    let distro = osrelease::read(files, &mut problems);
    let files = Files {
        contents: files,
        rootfs,
    };
    let mut packages = dpkg::catalog(&files, distro.as_ref(), &mut problems);
    packages.extend(apk::catalog(&files, distro.as_ref(), &mut problems));
    packages.extend(rpm::catalog(&files, distro.as_ref(), &mut problems));
    packages.extend(python::catalog(&files, &mut problems));
    packages.extend(npm::catalog(&files, &mut problems));
    packages.extend(binaries::catalog(binaries));
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.arch, &a.found_in).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.arch,
            &b.found_in,
        ))
    });
    let attached = attached::catalog(&files, &packages, &mut problems);
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
        .filter(|p| !owned.contains(p.to_string_lossy().as_ref()))
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
