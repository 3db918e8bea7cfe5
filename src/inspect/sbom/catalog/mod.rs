//! The catalogers, one folder each: its code in `mod.rs`, and beside it `testdata/` with real
//! samples of what it reads and corrupt ones. Each implements [`Cataloger`] and is listed once,
//! in [`CATALOGERS`]; adding a cataloger is adding a folder and a line there.

pub mod apk;
pub mod attached;
pub mod binaries;
pub mod dpkg;
pub mod npm;
pub mod python;
pub mod rpm;

use std::path::Path;

use super::{Distro, Files, Package, Problem};
use crate::inspect::scan::BinaryReport;
use attached::AttachedSbom;

/// Every cataloger. The order is free: their packages are sorted and their problems too.
pub static CATALOGERS: &[&dyn Cataloger] = &[
    &dpkg::Dpkg,
    &apk::Apk,
    &rpm::Rpm,
    &python::Python,
    &npm::Npm,
    &binaries::Binaries,
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
