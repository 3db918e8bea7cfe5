//! Inspection: facts about what each component image contains. Inspectors state facts; every
//! judgement is left to policy.
//!
//! [`inspect_image`] is the one way in: a resolved image goes in, its facts come out, and each
//! of its layers is decompressed and read once — flattening, hashing, cataloging and ELF
//! inspection all ride on the same pass.

pub mod elf;
pub mod gobuild;
pub mod hardening;
pub mod kernel;
pub mod rustdeps;
pub mod sbom;
pub mod scan;
pub mod secrets;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::image::rootfs::{Tap, Tee};
use crate::image::{ImageError, ResolvedImage, Rootfs, Store, attestation};
use sbom::Catalog;
use scan::BinaryReport;

/// Everything inspection found in one component image.
pub struct ComponentFacts {
    pub rootfs: Rootfs,
    /// Every ELF file, in path order.
    pub binaries: Vec<BinaryReport>,
    /// Packages and the problems met reading them.
    pub catalog: Catalog,
    /// SHA-1 of every regular file (SPDX requires it).
    pub sha1: BTreeMap<PathBuf, String>,
    /// Permission bits, owners, accounts, sshd and sudo settings, tools present.
    pub files: hardening::RootfsFacts,
    /// Secrets in the files' bytes and credential files by name (docs/secrets.md).
    pub secrets: secrets::Secrets,
    /// How its kernel was configured, when the image is a kernel image (docs/kernel.md).
    pub kernel: Option<kernel::ConfigFact>,
}

/// Flattens `image` and inspects it in the same pass over each layer; `extra` sees every file's
/// bytes on the way too (the build keeps them). An image with a `kernel` or `kernel-dev.tar` at
/// its root is read as a kernel image too.
pub fn inspect_image(store: &Store, image: &ResolvedImage, extra: &mut dyn Tap) -> Result<ComponentFacts, ImageError> {
    inspect_component(store, image, extra, Some(kernel::DEFAULT_BINARY))
}

/// [`inspect_image`], reading the image as a kernel image whose kernel binary is `kernel_binary`
/// (LinuxKit's `kernel.binary`), or not at all (`None`).
pub fn inspect_component(
    store: &Store,
    image: &ResolvedImage,
    extra: &mut dyn Tap,
    kernel_binary: Option<&str>,
) -> Result<ComponentFacts, ImageError> {
    let select = |path: &std::path::Path| sbom::wanted(path) || hardening::rootfs::wanted(path);
    let mut gather = sbom::gather::Gather::new(&select, sbom::CATALOG_FILE_LIMIT);
    let mut secrets = secrets::SecretScanner::new();
    let mut kernel_tap = kernel_binary.map(kernel::KernelTap::new);
    let mut no_kernel = crate::image::rootfs::NoTap;
    let rootfs = {
        let kernel: &mut dyn Tap = match kernel_tap.as_mut() {
            Some(tap) => tap,
            None => &mut no_kernel,
        };
        let mut ours = Tee::new(&mut secrets, kernel);
        let mut theirs = Tee::new(&mut gather, extra);
        Rootfs::flatten_tapped(store, image, &mut Tee::new(&mut theirs, &mut ours))?
    };
    gather.finish();
    let secrets = secrets.finish_in(&rootfs);
    let kernel = kernel_tap.and_then(|tap| tap.finish_in(&rootfs));
    let mut files = BTreeMap::new();
    let mut sha1 = BTreeMap::new();
    let mut binaries = Vec::new();
    let mut problems = Vec::new();
    for (path, entry) in rootfs.files() {
        let Some(at) = entry.content else { continue };
        if let Some(inspection) = gather.elf.get(&at) {
            binaries.push(scan::binary_report(path, entry, inspection.clone()));
        }
        if let Some(s) = gather.sha1.get(&at) {
            sha1.insert(path.clone(), s.clone());
        }
        if let Some(bytes) = gather.kept.get(&at).filter(|_| select(path)) {
            files.insert(path.clone(), bytes.clone());
        }
        if gather.too_large.contains_key(&at) && select(path) {
            problems.push(sbom::Problem {
                file: path.display().to_string(),
                line: 0,
                message: format!("larger than {} bytes: not read", sbom::CATALOG_FILE_LIMIT),
            });
        }
    }
    let file_facts = hardening::rootfs_facts(
        &rootfs,
        &sbom::Files {
            contents: &files,
            rootfs: &rootfs,
        },
    );
    let catalog = {
        let mut catalog = sbom::catalog(&files, &rootfs, &binaries);
        // SBOMs attached to the image's index, beside those shipped inside it.
        let statements = attestation::statements(store, image, &sbom::catalog::attached::is_sbom_predicate);
        let attested = sbom::catalog::attached::attested(
            &statements,
            &attestation::subjects(image),
            &catalog.packages,
            &mut problems,
        );
        catalog.attached.extend(attested);
        catalog.problems.extend(problems);
        catalog.problems.sort();
        catalog
    };
    Ok(ComponentFacts {
        rootfs,
        binaries,
        catalog,
        sha1,
        files: file_facts,
        secrets,
        kernel,
    })
}
