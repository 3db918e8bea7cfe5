//! Inspection: facts about what each component image contains. Inspectors state facts; every
//! judgement is left to policy.
//!
//! [`inspect`] is the one way in: a [`Source`] goes in — an image, whose layers are each
//! decompressed and read once, or a folder, read in place on every core — and its facts come out.
//! Either way every regular file's bytes pass once through the same gatherers (hashes, the
//! catalogers' files, ELF inspection), and the facts are assembled from what they found in one
//! place, [`facts`].

pub mod elf;
pub mod files_section;
pub mod gobuild;
pub mod hardening;
pub mod kernel;
pub mod rustdeps;
pub mod sbom;
pub mod scan;
pub mod secrets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::image::rootfs::{Both, ContentRef, NoTap, Tap, Tee};
use crate::image::{ImageError, ResolvedImage, Rootfs, Store, attestation, folder};
use elf::Inspection;
use sbom::Catalog;
use sbom::gather::Gather;
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
    /// What the source held that no image can (a socket in a folder), left out, and what could
    /// not be read (a folder's file this user may not read), each with why.
    pub notes: Vec<String>,
}

/// Where a component's files come from.
pub enum Source<'a> {
    /// An image in the store.
    Image { store: &'a Store, image: &'a ResolvedImage },
    /// A folder holding a root filesystem (`dir:`), read in place rather than imported.
    Folder(&'a Path),
}

/// Inspects the component `source` holds.
pub fn inspect(source: Source) -> Result<ComponentFacts, ImageError> {
    match source {
        Source::Image { store, image } => inspect_image(store, image, &mut NoTap),
        Source::Folder(root) => {
            // One gatherer per thread, each seeing the files its thread reads.
            let (folder, found) = folder::read(
                root,
                || {
                    Both::new(
                        Gather::new(&selected, sbom::CATALOG_FILE_LIMIT),
                        secrets::SecretScanner::new(),
                    )
                },
                |mut taps| {
                    taps.first.finish();
                    (Found::from(taps.first), taps.second)
                },
            )?;
            let (found, secrets) = found.into_iter().fold(
                (Found::default(), secrets::SecretScanner::new()),
                |(found, secrets), (more_found, more_secrets)| (found.merge(more_found), secrets.merge(more_secrets)),
            );
            let mut notes = folder.notes;
            let secrets = secrets.finish_in(&folder.rootfs);
            let mut facts = facts(folder.rootfs, found, None, Vec::new());
            facts.secrets = secrets;
            // A file that cannot be read may be an ELF file: it is listed, with the reason.
            for (path, reason) in &folder.unreadable {
                notes.push(format!("dir:{}: {}: {reason}", root.display(), path.display()));
                if let Some(entry) = facts.rootfs.entries.get(path) {
                    facts.binaries.push(scan::binary_report(
                        path,
                        entry,
                        Inspection::NotInspected { reason: reason.clone() },
                    ));
                }
            }
            facts.binaries.sort_by(|a, b| a.path.cmp(&b.path));
            notes.sort();
            facts.notes = notes;
            Ok(facts)
        }
    }
}

/// The files the gatherers keep: what the catalogers and the rootfs facts read.
fn selected(path: &Path) -> bool {
    sbom::wanted(path) || hardening::rootfs::wanted(path)
}

/// Flattens `image` and inspects it in the same pass over each layer; `extra` sees every file's
/// bytes on the way too (the build keeps them). An image with a `kernel` or `kernel-dev.tar` at
/// its root is read as a kernel image too.
pub fn inspect_image(store: &Store, image: &ResolvedImage, extra: &mut dyn Tap) -> Result<ComponentFacts, ImageError> {
    inspect_component(store, image, extra, Some(kernel::DEFAULT_BINARY))
}

/// Inspects one image of a configuration's plan, as every command that reads a configuration
/// does: only the kernel's image is read as a kernel image, with the configuration's
/// `kernel.binary`. `extra` rides on the same pass (the build's spool).
pub fn inspect_planned(
    store: &Store,
    loaded: &crate::config::Loaded,
    image: &crate::plan::ImageUse,
    extra: &mut dyn Tap,
) -> Result<ComponentFacts, ImageError> {
    let binary = loaded
        .config
        .kernel
        .as_ref()
        .and_then(|k| k.binary.as_ref())
        .map_or(kernel::DEFAULT_BINARY, |b| b.value.as_str());
    let kernel_binary = (image.location == "kernel").then_some(binary);
    inspect_component(store, &image.image, extra, kernel_binary)
}

/// [`inspect_image`], reading the image as a kernel image whose kernel binary is `kernel_binary`
/// (LinuxKit's `kernel.binary`), or not at all (`None`).
pub fn inspect_component(
    store: &Store,
    image: &ResolvedImage,
    extra: &mut dyn Tap,
    kernel_binary: Option<&str>,
) -> Result<ComponentFacts, ImageError> {
    let mut gather = Gather::new(&selected, sbom::CATALOG_FILE_LIMIT);
    let mut secrets = secrets::SecretScanner::new();
    let mut kernel_tap = kernel_binary.map(kernel::KernelTap::new);
    let mut no_kernel = NoTap;
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
    let mut facts = facts(rootfs, Found::from(gather), Some((store, image)), Vec::new());
    facts.secrets = secrets;
    facts.kernel = kernel;
    Ok(facts)
}

/// What the gatherers found, keyed by where each file's content is.
#[derive(Default)]
struct Found {
    sha1: BTreeMap<ContentRef, String>,
    kept: BTreeMap<ContentRef, Vec<u8>>,
    not_read: BTreeMap<ContentRef, String>,
    elf: BTreeMap<ContentRef, Inspection>,
}

impl From<Gather<'_>> for Found {
    fn from(g: Gather<'_>) -> Self {
        Found {
            sha1: g.sha1,
            kept: g.kept,
            not_read: g.not_read,
            elf: g.elf,
        }
    }
}

impl Found {
    /// Gatherers of different threads saw different files: their findings add up.
    fn merge(mut self, other: Found) -> Found {
        self.sha1.extend(other.sha1);
        self.kept.extend(other.kept);
        self.not_read.extend(other.not_read);
        self.elf.extend(other.elf);
        self
    }
}

/// The facts of a component from its view and what the gatherers found in its files; an image's
/// attested SBOMs are compared with the catalog too.
fn facts(
    rootfs: Rootfs,
    gathered: Found,
    image: Option<(&Store, &ResolvedImage)>,
    notes: Vec<String>,
) -> ComponentFacts {
    let mut files = BTreeMap::new();
    let mut sha1 = BTreeMap::new();
    let mut binaries = Vec::new();
    let mut problems = Vec::new();
    for (path, entry) in rootfs.files() {
        let Some(at) = entry.content else { continue };
        if let Some(inspection) = gathered.elf.get(&at) {
            binaries.push(scan::binary_report(path, entry, inspection.clone()));
        }
        if let Some(s) = gathered.sha1.get(&at) {
            sha1.insert(path.clone(), s.clone());
        }
        if let Some(bytes) = gathered.kept.get(&at).filter(|_| selected(path)) {
            files.insert(path.clone(), bytes.clone());
        }
        if let Some(reason) = gathered.not_read.get(&at).filter(|_| selected(path)) {
            problems.push(sbom::Problem {
                file: path.display().to_string(),
                line: 0,
                message: reason.clone(),
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
        if let Some((store, image)) = image {
            // SBOMs attached to the image's index, beside those shipped inside it.
            let statements = attestation::statements(store, image, &sbom::catalog::attached::is_sbom_predicate);
            let attested = sbom::catalog::attached::attested(
                &statements,
                &attestation::subjects(image),
                &catalog.packages,
                &mut problems,
            );
            catalog.attached.extend(attested);
        }
        catalog.problems.extend(problems);
        catalog.problems.sort();
        catalog
    };
    ComponentFacts {
        rootfs,
        binaries,
        catalog,
        sha1,
        files: file_facts,
        notes,
        secrets: secrets::Secrets::default(),
        kernel: None,
    }
}
