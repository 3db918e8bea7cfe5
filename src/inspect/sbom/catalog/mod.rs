//! The catalogers, one folder each: its code in `mod.rs`, and beside it `testdata/` with real
//! samples of what it reads and corrupt ones. Each implements [`Cataloger`] and is listed once,
//! in [`CATALOGERS`]; adding a cataloger is adding a folder and a line there.

pub mod apk;
pub mod attached;
pub mod dpkg;
pub mod golang;
pub mod npm;
pub mod python;
pub mod rpm;
pub mod rust;

use std::path::Path;

use super::{Distro, Ecosystem, Files, Package, Problem, cpe};
use crate::inspect::elf::{ElfFacts, Inspection};
use crate::inspect::scan::BinaryReport;
use attached::AttachedSbom;

/// Every cataloger. The order is free: their packages are sorted and their problems too.
pub static CATALOGERS: &[&dyn Cataloger] = &[
    &dpkg::Dpkg,
    &apk::Apk,
    &rpm::Rpm,
    &python::Python,
    &npm::Npm,
    &golang::Golang,
    &rust::Rust,
    &attached::Attached,
];

/// What the catalogers read. All of it is gathered in the one pass over the image's layers
/// before any cataloger runs, so none of them reads the image itself.
pub struct Input<'a> {
    /// The files some cataloger wanted ([`Cataloger::wanted`]).
    pub files: Files<'a>,
    /// The purl namespace and `distro` qualifier of the OS packages.
    pub distro: Option<&'a Distro>,
    /// Every ELF file's facts, for what is compiled into binaries.
    pub binaries: &'a [BinaryReport],
}

/// One ecosystem's cataloger. Problems go to a sink of their own rather than into [`Input`], so
/// that the input stays shared and read-only: a cataloger that meets a broken database records
/// why and goes on with the rest.
pub trait Cataloger: Sync {
    /// The cataloger's folder under `catalog/`.
    fn name(&self) -> &'static str;

    /// Whether the pass over the layers keeps this file's bytes for the cataloger.
    fn wanted(&self, path: &Path) -> bool;

    /// The packages the input holds.
    fn catalog(&self, input: &Input, problems: &mut Vec<Problem>) -> Vec<Package>;

    /// Run after every cataloger has catalogued, with all they found: documents that list
    /// packages of their own (SBOMs shipped in the image) are compared with the catalog, not
    /// trusted instead of it, so they cannot be read before it is complete.
    fn cross_check(&self, _input: &Input, _found: &[Package], _problems: &mut Vec<Problem>) -> Vec<AttachedSbom> {
        Vec::new()
    }
}

/// The packages `of` finds in each ELF binary's facts, for the catalogers of what is compiled
/// into binaries (they keep no file: the ELF inspection on the same pass is their input).
fn from_binaries(input: &Input, of: impl Fn(&str, &ElfFacts) -> Vec<Package>) -> Vec<Package> {
    input
        .binaries
        .iter()
        .flat_map(|b| match &b.elf {
            Inspection::Elf(facts) => of(&b.path, facts),
            _ => Vec::new(),
        })
        .collect()
}

/// A package compiled into the binary at `binary` (a Go module, a Rust crate): it owns that
/// file, and its CPE names the last segment of its name, as syft's first candidate does.
fn compiled_in(
    ecosystem: Ecosystem,
    name: &str,
    version: &str,
    purl: String,
    supplier: String,
    binary: &str,
) -> Package {
    let product = name.rsplit('/').next().unwrap_or(name);
    Package {
        ecosystem,
        name: name.to_owned(),
        version: version.to_owned(),
        arch: None,
        source_name: None,
        source_version: None,
        supplier: Some(supplier),
        licenses: Vec::new(),
        purl,
        cpes: vec![cpe(product, product, version)],
        depends: Vec::new(),
        files: vec![binary.to_owned()],
        found_in: binary.to_owned(),
    }
}

/// Test support shared by every cataloger's tests: samples are read from the cataloger's own
/// `testdata/` (found by [`Cataloger::name`]) and handed to it as the pass over an image would.
#[cfg(test)]
pub(crate) mod testdata {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::{Cataloger, Input};
    use crate::image::Rootfs;
    use crate::inspect::sbom::{Distro, Files, Package, Problem};

    /// The bytes of the cataloger's sample `name`.
    pub fn read(cataloger: &dyn Cataloger, name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/inspect/sbom/catalog")
            .join(cataloger.name())
            .join("testdata")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn distro(id: &str, version_id: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: version_id.into(),
            pretty_name: String::new(),
        }
    }

    /// Hands `f` the input a pass over an image holding `(sample, path in the image)` pairs
    /// would give the cataloger. Each path must be one the cataloger asks the pass to keep, or
    /// the sample would never reach it in an image.
    pub fn with_input<R>(
        cataloger: &dyn Cataloger,
        distro: Option<&Distro>,
        samples: &[(&str, &str)],
        f: impl FnOnce(&Input) -> R,
    ) -> R {
        let contents: BTreeMap<PathBuf, Vec<u8>> = samples
            .iter()
            .map(|(sample, at)| {
                assert!(
                    cataloger.wanted(Path::new(at)),
                    "{} does not keep {at}",
                    cataloger.name()
                );
                (PathBuf::from(at), read(cataloger, sample))
            })
            .collect();
        let rootfs = Rootfs::default();
        f(&Input {
            files: Files {
                contents: &contents,
                rootfs: &rootfs,
            },
            distro,
            binaries: &[],
        })
    }

    /// The cataloger's packages and problems (sorted as the catalog sorts them) for the samples.
    pub fn run(
        cataloger: &dyn Cataloger,
        distro: Option<&Distro>,
        samples: &[(&str, &str)],
    ) -> (Vec<Package>, Vec<Problem>) {
        with_input(cataloger, distro, samples, |input| {
            let mut problems = Vec::new();
            let packages = cataloger.catalog(input, &mut problems);
            problems.sort();
            (packages, problems)
        })
    }

    /// What a vulnerability match of an OS package rests on, as one value to compare: name,
    /// version, architecture, source name and version, purl.
    pub type Identity<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
    );

    pub fn identity(p: &Package) -> Identity<'_> {
        (
            &p.name,
            &p.version,
            p.arch.as_deref(),
            p.source_name.as_deref(),
            p.source_version.as_deref(),
            &p.purl,
        )
    }

    /// Each problem as `line: message`, for comparing in one assertion.
    pub fn lines(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(|p| format!("{}: {}", p.line, p.message)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding a cataloger is adding a folder and a line: every folder here is listed in
    /// [`CATALOGERS`] under its own name, and each has samples with a README naming their source.
    #[test]
    fn every_cataloger_is_a_listed_folder_with_samples() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/inspect/sbom/catalog");
        let mut folders: Vec<String> = std::fs::read_dir(&here)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let mut listed: Vec<&str> = CATALOGERS.iter().map(|c| c.name()).collect();
        listed.sort();
        assert_eq!(folders, listed);
        for name in listed {
            let testdata = here.join(name).join("testdata");
            assert!(testdata.join("README.md").is_file(), "{name}: no testdata/README.md");
            // The README, a real sample and a corrupt one at least.
            let files = std::fs::read_dir(&testdata).unwrap().count();
            assert!(files >= 3, "{name}: {files} files in testdata/");
        }
    }
}
