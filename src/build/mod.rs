//! Building the OS image: every component image is flattened once (the same pass catalogs it for
//! the SBOM and copies its bytes to a scratch spool), the parts are laid out in LinuxKit's tree,
//! and the tree is written in the requested formats — byte for byte the same whoever builds it,
//! wherever and whenever (docs/formats.md).
//!
//! Outputs are written in a staging folder inside the output folder and renamed into place only
//! once all of them are complete: a failed build (a corrupt layer, a full disk) leaves nothing
//! with a final name, and a killed one leaves only its staging folder, which the next build
//! removes.

pub mod archive;
pub mod assemble;
pub mod efi;
pub mod iso;
pub mod output;
pub mod pgzip;
pub mod spool;
pub mod tree;
pub mod uki;
pub mod verity;
pub mod verity_root;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::config::Loaded;
use crate::image::rootfs::{ContentRef, FileCounter, Tee};
use crate::image::{ImageError, Store, tarball};
use crate::inspect::files_section::{FilesSection, inspect_files_section_tapped};
use crate::inspect::{ComponentFacts, inspect_planned};
use crate::plan::Plan;
use crate::report::{self, ComponentSbom, SbomInput};

use assemble::{Inputs, Unpacked as UnpackedImage};
use spool::{Spool, SpoolTap};
use tree::{Content, NodeKind, Tree};

crate::error_codes! {
    OutputNotEmpty = "output-not-empty": "The output folder holds other files (pass --force to replace this build's own).",
    OutputClash = "output-clash": "Something sealkit must not replace or write into stands where an output goes: a folder, block device or socket where a file goes, a symlink or FIFO of a build output's name, anything but a folder at the build's -o.",
    NoKernel = "no-kernel": "The format needs a kernel and the configuration has none.",
    BadImageContent = "bad-image-content": "A component image lacks a file the configuration names, or holds one sealkit cannot place (kernel, modules, apk database, a name that is not UTF-8).",
    BadFileEntry = "bad-file-entry": "An entry of the files section cannot be made (mode, owner, a source that is missing or not a regular file).",
    SourceTooLarge = "source-too-large": "A files entry's source is larger than the limit (docs/limits.md).",
    PathConflict = "path-conflict": "Two parts of the image claim one path in ways that cannot both hold (a file over a folder, a write through a symlink).",
    BadCmdline = "bad-cmdline": "The kernel command line holds a line break or control character (or, for a UKI, anything but printable ASCII).",
    MissingTool = "missing-tool": "A format needs a tool that is not installed.",
    BadStub = "bad-uki-stub": "The EFI stub given for a UKI is not an unsigned x86-64 PE image with room for the sections sealkit adds.",
    UkiTooLarge = "uki-too-large": "The kernel and initrd do not fit in one PE image (4 GiB).",
    BadSecureBootKey = "bad-secure-boot-key": "The key or certificate given to sign a UKI is not an RSA key and its certificate.",
    UkiNotRebuilt = "uki-not-rebuilt": "The signed UKI a rebuild was given is not the UKI the build makes, signed (its Authenticode hash differs).",
    ToolFailed = "tool-failed": "An external tool a format uses failed.",
    BadVerityRoot = "bad-verity-root": "A dm-verity root was asked of a format that cannot boot one, or the image lacks what its first stage runs (an init image's busybox and dmsetup, the kernel's modules).",
    Io = "output-io": "An output or scratch file could not be written or read back.",
    Internal = "internal": "sealkit failed to encode its own data: a bug to report.",
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Image(Box<ImageError>),
    #[error("{0}")]
    Conflict(#[from] tree::Conflict),
    #[error("{what}: {message}\n  hint: {hint}")]
    Input {
        code: Code,
        what: String,
        message: String,
        hint: String,
    },
    #[error("{path}: {source}\n  hint: {hint}")]
    Io {
        path: String,
        source: io::Error,
        hint: String,
    },
}

impl From<ImageError> for BuildError {
    fn from(e: ImageError) -> Self {
        BuildError::Image(Box::new(e))
    }
}

impl BuildError {
    /// The stable code of the error (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            BuildError::Image(e) => e.code(),
            BuildError::Conflict(_) => Code::PathConflict.as_str(),
            BuildError::Input { code, .. } => code.as_str(),
            BuildError::Io { .. } => Code::Io.as_str(),
        }
    }
}

/// The output formats, as LinuxKit names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    /// NAME-kernel, NAME-initrd.img (gzip'd newc cpio), NAME-cmdline
    #[value(name = "kernel+initrd")]
    KernelInitrd,
    /// NAME.tar: the whole tree, PAX, with LinuxKit's LINUXKIT.* records
    Tar,
    /// NAME-initrd.tar holding kernel, initrd.img, cmdline (and ucode.cpio)
    #[value(name = "tar-kernel-initrd")]
    TarKernelInitrd,
    /// NAME-efi.iso: a hybrid ISO that UEFI boots (GRUB; needs grub-efi-amd64-bin, dosfstools,
    /// mtools, xorriso)
    #[value(name = "iso-efi")]
    IsoEfi,
    /// NAME.efi: a Unified Kernel Image, systemd's EFI stub with the kernel, initrd and command
    /// line as sections (needs systemd-boot-efi, or --uki-stub)
    Uki,
    /// NAME-esp.img: an EFI system partition (FAT32) holding the UKI as EFI/BOOT/BOOTX64.EFI, for
    /// a disk UEFI boots (needs dosfstools and mtools too)
    Esp,
}

impl Format {
    /// The files a format writes, for an image called `name`.
    pub fn files(self, name: &str) -> Vec<String> {
        match self {
            Format::KernelInitrd => vec![
                format!("{name}-kernel"),
                format!("{name}-initrd.img"),
                format!("{name}-cmdline"),
            ],
            Format::Tar => vec![format!("{name}.tar")],
            Format::TarKernelInitrd => vec![format!("{name}-initrd.tar")],
            Format::IsoEfi => vec![format!("{name}-efi.iso")],
            Format::Uki => vec![format!("{name}.efi")],
            Format::Esp => vec![format!("{name}-esp.img")],
        }
    }
}

/// The root image `--verity` writes beside the boot formats.
pub fn verity_root_file(name: &str) -> String {
    format!("{name}-root.img")
}

/// Whether `name` can start every output file's name: letters, digits, `-`, `_`, `.` and `+`,
/// not starting with `.` (a hidden file, or a path).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

pub struct Request<'a> {
    pub output: &'a Path,
    pub name: &'a str,
    pub formats: &'a [Format],
    /// Replace earlier outputs of the same names; other files in the folder are left alone.
    pub force: bool,
    /// Who the image's /sbom.spdx.json names as supplier and creators; `None` leaves it out.
    pub sbom: Option<report::Authorship>,
    /// Every timestamp of the image: SOURCE_DATE_EPOCH ([`crate::epoch::source_date_epoch`]).
    pub epoch: u64,
    /// The EFI stub of the `uki` and `esp` formats; default [`uki::DEFAULT_STUB`].
    pub uki_stub: Option<&'a Path>,
    /// Who signs the UKI for Secure Boot (Authenticode); unsigned when `None`.
    pub uki_signer: Option<&'a crate::authenticode::Signer>,
    /// The root as NAME-root.img under dm-verity, booted by a first stage ([`verity_root`]).
    pub verity: bool,
    /// The UKI this build makes, as someone already signed it (a gated image's, rebuilt
    /// without its key): taken in place of the UKI built, once its Authenticode hash is that
    /// one's, so the ESP holds it as the gate's did.
    pub presigned_uki: Option<&'a Path>,
    /// Told of each image unpacked and each file read ([`unpack`]).
    pub progress: &'a dyn crate::progress::Progress,
}

/// What was built: the output files (final paths) and the sizes of the parts.
pub struct Built {
    pub files: Vec<PathBuf>,
    /// The image's /sbom.spdx.json, as written into it (when it has one).
    pub sbom: Option<Vec<u8>>,
    pub entries: usize,
    pub images: usize,
    pub packages: usize,
    /// The external tools that wrote the formats, each with the version line it printed
    /// (`mcopy` → `mcopy (GNU mtools) 4.0.32`): the bytes depend on them.
    pub tools: BTreeMap<String, String>,
}

fn io_error(path: &Path, hint: &str) -> impl FnOnce(io::Error) -> BuildError {
    let path = path.display().to_string();
    let hint = hint.to_owned();
    move |source| BuildError::Io { path, source, hint }
}

/// The name every staging folder starts with.
const STAGING: &str = ".sealkit-build-";

/// A staging folder, locked (flock) for its writer's lifetime: a folder of its name that no one
/// holds locked was left by a writer that was killed. Dropped, it is removed.
pub struct Staging {
    dir: tempfile::TempDir,
    _lock: File,
}

impl Staging {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Keeps the folder (its writer renames it into place) and releases the lock.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }
}

/// Makes and locks a staging folder in `dir` whose name starts with `prefix`.
pub fn stage(dir: &Path, prefix: &str) -> io::Result<Staging> {
    use std::os::unix::fs::MetadataExt;
    loop {
        // 0777 less the umask, as a folder made by hand: the gate renames its staging folder
        // into the output folder's place.
        let staging = tempfile::Builder::new()
            .prefix(prefix)
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .tempdir_in(dir)?;
        let lock = match File::open(staging.path()) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            opened => opened?,
        };
        lock.lock()?;
        // Another build may have taken it for a stale one between its making and the lock, and
        // removed it: a removed folder has no links left.
        if lock.metadata()?.nlink() > 0 {
            return Ok(Staging {
                dir: staging,
                _lock: lock,
            });
        }
    }
}

/// Removes the staging folders (named `prefix`…) in `dir` of writers that were killed: those
/// no live writer holds locked.
pub fn remove_stale_staging(dir: &Path, prefix: &str) -> Result<(), BuildError> {
    let hint = "remove the folder by hand: a killed sealkit run left it";
    for entry in std::fs::read_dir(dir).map_err(io_error(dir, "choose an output folder you can read"))? {
        let entry = entry.map_err(io_error(dir, "choose an output folder you can read"))?;
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(prefix) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(folder) = File::open(&path) else { continue };
        if folder.try_lock().is_ok() {
            std::fs::remove_dir_all(&path).map_err(io_error(&path, hint))?;
        }
    }
    Ok(())
}

/// The output folder: made if missing; it must hold none of the files this build writes (unless
/// `force`) and nothing at all if it is not the user's to share. Returns the staging folder.
fn prepare_output(request: &Request) -> Result<Staging, BuildError> {
    let dir = request.output;
    let hint = "choose an output folder you can write to (-o DIR)";
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(m) => {
            return Err(BuildError::Input {
                code: Code::OutputClash,
                what: dir.display().to_string(),
                message: format!("is {}, not a folder", output::kind_of(m.file_type())),
                hint: "the build writes several files: name a folder (-o DIR), new or empty".into(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io_error(dir, hint))?;
        }
        Err(e) => return Err(io_error(dir, hint)(e)),
    }
    remove_stale_staging(dir, STAGING)?;
    let mut names: Vec<String> = request.formats.iter().flat_map(|f| f.files(request.name)).collect();
    if request.verity {
        names.push(verity_root_file(request.name));
    }
    let entries = std::fs::read_dir(dir).map_err(io_error(dir, "choose an output folder you can read"))?;
    let mut present: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error(dir, "choose an output folder you can read"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // A live build's staging folder (another build into this folder) is not content.
        if !name.starts_with(STAGING) {
            present.push(name);
        }
    }
    present.sort();
    if !request.force && !present.is_empty() {
        return Err(BuildError::Input {
            code: Code::OutputNotEmpty,
            what: dir.display().to_string(),
            message: format!(
                "the output folder is not empty (it holds {}{})",
                present.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                if present.len() > 3 { ", …" } else { "" }
            ),
            hint: "build into an empty or new folder, or pass --force to replace this build's own files \
                   (others are left alone)"
                .into(),
        });
    }
    // Only a regular file is this build's to replace: a folder, a device or a symlink of an
    // output's name is someone else's.
    for name in present.iter().filter(|p| names.contains(p)) {
        let path = dir.join(name);
        let kind = path.symlink_metadata().map_err(io_error(&path, hint))?.file_type();
        if !kind.is_file() {
            return Err(BuildError::Input {
                code: Code::OutputClash,
                what: path.display().to_string(),
                message: format!("is {} where an output file goes", output::kind_of(kind)),
                hint: "remove it or build into another folder".into(),
            });
        }
    }
    stage(dir, STAGING).map_err(io_error(dir, hint))
}

/// The images of a plan, unpacked: each flattened and inspected once, its bytes kept in a spool
/// in the output folder's staging area. A caller may stop here (policy said no): dropping it
/// removes the staging folder and leaves the output folder as it was.
pub struct Unpacked {
    staging: Staging,
    spool: Spool,
    /// The facts of each of the plan's images, in the plan's order.
    pub components: Vec<ComponentFacts>,
    /// Where the spool holds each image's file contents.
    stored: Vec<BTreeMap<ContentRef, Content>>,
    /// The configuration's files section, each source read once: its secrets for the evidence,
    /// its bytes into the spool for the image.
    pub files: FilesSection,
    /// Where the spool holds each source's bytes.
    sources: BTreeMap<ContentRef, Content>,
}

/// Flattens and inspects every image of `plan` once, and reads the files section's sources
/// once, keeping their bytes for [`write`]. The facts are those every other reader of the
/// configuration gets (`inspect_planned`, `inspect_files_section`), so the gate judges the very
/// bytes it builds from: a source changed on the host after this is not seen by the build.
pub fn unpack(loaded: &Loaded, plan: &Plan, store: &Store, request: &Request) -> Result<Unpacked, BuildError> {
    let staging = prepare_output(request)?;
    let spool_path = staging.path().join("spool");
    let mut spool = Spool::create(&spool_path).map_err(io_error(&spool_path, "check the output folder"))?;
    let mut components = Vec::new();
    let mut stored = Vec::new();
    for image in &plan.images {
        let mut tap = SpoolTap::new(&mut spool);
        let mut counter = FileCounter(request.progress);
        components.push(inspect_planned(
            store,
            loaded,
            image,
            &mut Tee::new(&mut tap, &mut counter),
        )?);
        stored.push(
            tap.finish()
                .map_err(io_error(&spool_path, "check the space left on the output disk"))?,
        );
        request.progress.advance(1, 0, 0);
    }
    let mut tap = SpoolTap::new(&mut spool);
    let files = inspect_files_section_tapped(loaded, &mut tap);
    let sources = tap
        .finish()
        .map_err(io_error(&spool_path, "check the space left on the output disk"))?;
    Ok(Unpacked {
        staging,
        spool,
        components,
        stored,
        files,
        sources,
    })
}

/// The SBOM's view of each unpacked image: its name, where its files land and who supplies it.
pub fn sbom_components<'a>(plan: &Plan, unpacked: &'a Unpacked) -> Vec<ComponentSbom<'a>> {
    plan.images
        .iter()
        .zip(&unpacked.components)
        .map(|(image, facts)| {
            ComponentSbom::new(
                image.name.clone(),
                &image.image,
                image.prefix.clone(),
                report::supplier_of(&image.reference),
                facts,
            )
        })
        .collect()
}

/// Lays out the unpacked images as LinuxKit does and writes the requested formats into
/// `request.output`: each file lands under its final name only once all of them are complete.
pub fn write(
    loaded: &Loaded,
    plan: &Plan,
    store: &Store,
    unpacked: Unpacked,
    request: &Request,
) -> Result<Built, BuildError> {
    let epoch = request.epoch;
    let sbom = if let Some(authorship) = &request.sbom {
        let components = sbom_components(plan, &unpacked);
        let input = SbomInput {
            name: request.name,
            components: &components,
            created: crate::epoch::rfc3339(epoch),
            authorship,
        };
        let mut bytes = Vec::new();
        report::spdx::write(&input, &mut bytes).map_err(|e| BuildError::Input {
            code: Code::Internal,
            what: "the SBOM".into(),
            message: e.to_string(),
            hint: "report this as a sealkit bug".into(),
        })?;
        Some(bytes)
    } else {
        None
    };
    let Unpacked {
        staging,
        mut spool,
        components,
        stored,
        files,
        sources,
    } = unpacked;
    let images: Vec<UnpackedImage> = plan
        .images
        .iter()
        .zip(&components)
        .zip(&stored)
        .map(|((image, facts), stored)| UnpackedImage {
            image,
            rootfs: &facts.rootfs,
            stored,
        })
        .collect();
    let tree = assemble::assemble(
        &Inputs {
            loaded,
            store,
            plan,
            unpacked: &images,
            sbom: sbom.as_deref(),
            epoch,
            files: &files,
            sources: &sources,
        },
        &mut spool,
    )?;
    spool
        .flush()
        .map_err(io_error(spool.path(), "check the space left on the output disk"))?;

    let staged = write_formats(&tree, &spool, request, staging.path())?;
    let mut files = Vec::new();
    for (name, path) in staged.files {
        let target = request.output.join(&name);
        std::fs::rename(&path, &target).map_err(io_error(&target, "check the output folder"))?;
        files.push(target);
    }
    Ok(Built {
        files,
        sbom,
        entries: tree.len(),
        images: plan.images.len(),
        packages: components.iter().map(|c| c.catalog.packages.len()).sum(),
        tools: staged.tools,
    })
}

/// Builds the OS image `plan` describes into `request.output`: [`unpack`], then [`write`].
pub fn build(loaded: &Loaded, plan: &Plan, store: &Store, request: &Request) -> Result<Built, BuildError> {
    let unpacked = unpack(loaded, plan, store, request)?;
    write(loaded, plan, store, unpacked, request)
}

/// Where the files of the boot folder are, and what the initramfs leaves out: everything below
/// boot/ (LinuxKit's `CopySplitTar`).
fn in_initrd(path: &str) -> bool {
    !path.starts_with("boot/")
}

fn file_bytes<'a>(tree: &'a Tree, path: &str) -> Option<&'a Content> {
    match tree.get(path).map(|n| &n.kind) {
        Some(NodeKind::File(content)) => Some(content),
        _ => None,
    }
}

/// Creates a staged output file. Its mode is 0666 less the umask, as LinuxKit's outputs: the
/// bytes are reproducible, who may read them on this machine is the user's to say.
fn create(stage: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>), BuildError> {
    let path = stage.join(name);
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_error(&path, "check the output folder"))?;
    Ok((path, BufWriter::with_capacity(1 << 20, file)))
}

fn finish(path: &Path, writer: BufWriter<File>) -> Result<(), BuildError> {
    let hint = "check the space left on the output disk";
    let file = writer.into_inner().map_err(|e| io_error(path, hint)(e.into_error()))?;
    file.sync_all().map_err(io_error(path, hint))
}

/// The gzip'd newc cpio of everything outside boot/: LinuxKit's initrd.img. Deflated at level 6
/// by flate2 (its zlib-rs backend, pinned by Cargo.lock) in fixed 1 MiB chunks on every core
/// (`pgzip`), with no file name and mtime 0 in the header.
fn write_initrd(
    tree: &Tree,
    spool: &Spool,
    include: &dyn Fn(&str) -> bool,
    stage: &Path,
) -> Result<PathBuf, BuildError> {
    let (path, writer) = create(stage, "initrd.img.staged")?;
    let hint = "check the space left on the output disk";
    let gz = pgzip::Writer::new(writer, 6);
    let gz = archive::write_cpio(tree, spool, include, gz).map_err(io_error(&path, hint))?;
    let writer = gz.finish().map_err(io_error(&path, hint))?;
    finish(&path, writer)?;
    Ok(path)
}

/// The root image of `--verity` (staged as NAME-root.img) and its first stage's tree, for the
/// formats that boot one.
fn verity_root(
    tree: &Tree,
    spool: &Spool,
    request: &Request,
    ran: &efi::ToolsRun,
    stage: &Path,
) -> Result<(verity_root::Root, Tree), BuildError> {
    if let Some(format) = request
        .formats
        .iter()
        .find(|f| matches!(f, Format::TarKernelInitrd | Format::IsoEfi))
    {
        return Err(BuildError::Input {
            code: Code::BadVerityRoot,
            what: "--verity".into(),
            message: format!("--format {} cannot carry a root beside it", format_name(*format)),
            hint: "build the verity root with --format uki, esp or kernel+initrd".into(),
        });
    }
    let first_stage = verity_root::first_stage(tree, spool)?;
    let root = verity_root::write_root(tree, spool, &in_initrd, ran, stage, &verity_root_file(request.name))?;
    Ok((root, first_stage))
}

fn format_name(format: Format) -> String {
    use clap::ValueEnum as _;
    format
        .to_possible_value()
        .map_or_else(|| format!("{format:?}"), |v| v.get_name().to_owned())
}

fn boot_file(tree: &Tree, spool: &Spool, name: &str) -> Result<Vec<u8>, BuildError> {
    let mut bytes = Vec::new();
    if let Some(content) = file_bytes(tree, &format!("boot/{name}")) {
        spool
            .read(content)
            .and_then(|mut r| r.read_to_end(&mut bytes))
            .map_err(io_error(spool.path(), "check the output disk"))?;
    }
    Ok(bytes)
}

/// What [`write_formats`] staged.
struct Staged {
    /// The staged files by output name.
    files: BTreeMap<String, PathBuf>,
    /// The tools that wrote them, with their versions ([`Built::tools`]).
    tools: BTreeMap<String, String>,
}

/// Writes every requested format into `stage`.
fn write_formats(tree: &Tree, spool: &Spool, request: &Request, stage: &Path) -> Result<Staged, BuildError> {
    let ran = efi::ToolsRun::default();
    let name = request.name;
    let hint = "check the space left on the output disk";
    let mut staged = BTreeMap::new();
    let needs_boot = request.formats.iter().any(|f| *f != Format::Tar);
    if needs_boot && file_bytes(tree, "boot/kernel").is_none() {
        return Err(BuildError::Input {
            code: Code::NoKernel,
            what: format!("{name}: kernel"),
            message: "the configuration has no kernel image, which this format needs".into(),
            hint: "add `kernel: {image: …}` or build with --format tar".into(),
        });
    }
    let verity = match request.verity {
        true => Some(verity_root(tree, spool, request, &ran, stage)?),
        false => None,
    };
    let initrd = match (needs_boot, &verity) {
        (true, Some((_, first_stage))) => Some(write_initrd(first_stage, spool, &|_| true, stage)?),
        (true, None) => Some(write_initrd(tree, spool, &in_initrd, stage)?),
        (false, _) => None,
    };
    let kernel = if needs_boot {
        boot_file(tree, spool, "kernel")?
    } else {
        Vec::new()
    };
    let mut cmdline = if needs_boot {
        boot_file(tree, spool, "cmdline")?
    } else {
        Vec::new()
    };
    if let Some((root, _)) = &verity {
        cmdline.truncate(cmdline.trim_ascii_end().len());
        if !cmdline.is_empty() {
            cmdline.push(b' ');
        }
        cmdline.extend_from_slice(root.parameter().as_bytes());
        staged.insert(verity_root_file(name), root.path.clone());
    }
    let ucode = if needs_boot {
        boot_file(tree, spool, "ucode.cpio")?
    } else {
        Vec::new()
    };
    let mut formats = request.formats.to_vec();
    formats.sort();
    formats.dedup();
    // Written once for `uki` and `esp` both (the enum's order puts `uki` first).
    let mut uki: Option<PathBuf> = None;
    for format in formats {
        match format {
            Format::KernelInitrd => {
                for (file, bytes) in [("kernel", &kernel), ("cmdline", &cmdline)] {
                    let out = format!("{name}-{file}");
                    let (path, mut w) = create(stage, &out)?;
                    w.write_all(bytes).map_err(io_error(&path, hint))?;
                    finish(&path, w)?;
                    staged.insert(out, path);
                }
                // Microcode goes first, uncompressed, as the kernel's early loader wants it.
                let out = format!("{name}-initrd.img");
                let (path, mut w) = create(stage, &out)?;
                w.write_all(&ucode).map_err(io_error(&path, hint))?;
                let from = initrd.as_deref().expect("built above");
                io::copy(&mut File::open(from).map_err(io_error(from, hint))?, &mut w)
                    .map_err(io_error(&path, hint))?;
                finish(&path, w)?;
                staged.insert(out, path);
            }
            Format::Tar => {
                let out = format!("{name}.tar");
                let (path, w) = create(stage, &out)?;
                let w = archive::write_tar(tree, spool, &|_| true, w).map_err(io_error(&path, hint))?;
                finish(&path, w)?;
                staged.insert(out, path);
            }
            Format::TarKernelInitrd => {
                let out = format!("{name}-initrd.tar");
                let (path, w) = create(stage, &out)?;
                let from = initrd.as_deref().expect("built above");
                let w = kernel_initrd_tar(w, &kernel, from, &cmdline, &ucode, tree.epoch())
                    .map_err(io_error(&path, hint))?;
                finish(&path, w)?;
                staged.insert(out, path);
            }
            Format::IsoEfi => {
                let out = format!("{name}-efi.iso");
                let scratch = stage.join("iso-efi");
                std::fs::create_dir(&scratch).map_err(io_error(&scratch, hint))?;
                let path = stage.join(&out);
                let boot = iso::Boot {
                    kernel: &kernel,
                    initrd: initrd.as_deref().expect("built above"),
                    ucode: &ucode,
                    cmdline: &String::from_utf8_lossy(&cmdline),
                    epoch: tree.epoch(),
                };
                iso::write_iso(&boot, &ran, &scratch, &path)?;
                staged.insert(out, path);
            }
            Format::Uki | Format::Esp => {
                let uki_path = match &uki {
                    Some(path) => path.clone(),
                    None => {
                        let file = match format {
                            Format::Uki => format!("{name}.efi"),
                            _ => "uki.efi.staged".to_owned(),
                        };
                        let boot = UkiParts {
                            kernel: &kernel,
                            initrd: initrd.as_deref().expect("built above"),
                            ucode: &ucode,
                            cmdline: &cmdline,
                            os_release: os_release(tree, spool)?,
                        };
                        let (path, mut w) = create(stage, &file)?;
                        write_uki(&boot, request, &mut w)?;
                        finish(&path, w)?;
                        if let Some(signer) = request.uki_signer {
                            sign_in_place(&path, signer)?;
                        } else if let Some(signed) = request.presigned_uki {
                            take_presigned(&path, signed)?;
                        }
                        if format == Format::Uki {
                            staged.insert(file, path.clone());
                        }
                        uki = Some(path.clone());
                        path
                    }
                };
                if format == Format::Esp {
                    let out = format!("{name}-esp.img");
                    let path = stage.join(&out);
                    let scratch = stage.join("esp");
                    std::fs::create_dir(&scratch).map_err(io_error(&scratch, hint))?;
                    // mcopy names the file in the image after the copy's own name.
                    let efi = scratch.join("BOOTX64.EFI");
                    std::fs::copy(&uki_path, &efi).map_err(io_error(&efi, hint))?;
                    efi::write_esp(&ran, &efi, &path, tree.epoch(), "5EA1C0DE", "SEALKIT", true)?;
                    staged.insert(out, path);
                }
            }
        }
    }
    Ok(Staged {
        files: staged,
        tools: ran.into_versions(),
    })
}

/// Signs the staged UKI at `path` (Authenticode), rewriting it. The image is held in memory
/// twice while it is signed: a UKI is its kernel and initrd, tens of MiB.
fn sign_in_place(path: &Path, signer: &crate::authenticode::Signer) -> Result<(), BuildError> {
    let hint = "check the space left on the output disk";
    let image = std::fs::read(path).map_err(io_error(path, hint))?;
    let signed = crate::authenticode::sign(&image, signer).map_err(|message| BuildError::Input {
        code: Code::BadSecureBootKey,
        what: "--sign-uki".into(),
        message,
        hint: "give the db key and certificate `sealkit keygen --secure-boot` writes".into(),
    })?;
    std::fs::write(path, signed).map_err(io_error(path, hint))
}

/// Replaces the UKI just built at `path` with `signed`, the same UKI signed: the Authenticode
/// hash, which leaves the signature out, must be the one of the UKI built (padded to 8 bytes,
/// as signing pads it).
fn take_presigned(path: &Path, signed: &Path) -> Result<(), BuildError> {
    let hint = "check the output disk";
    let mut built = std::fs::read(path).map_err(io_error(path, hint))?;
    built.resize(built.len().next_multiple_of(8), 0);
    let theirs = std::fs::read(signed).map_err(io_error(signed, "give the signed UKI of the image rebuilt"))?;
    let hash = |image: &[u8], what: &str| {
        crate::authenticode::image_digest(image).map_err(|message| BuildError::Input {
            code: Code::UkiNotRebuilt,
            what: what.to_owned(),
            message,
            hint: "give the signed UKI of the image rebuilt".into(),
        })
    };
    let (ours, given) = (
        hash(&built, "the UKI built")?,
        hash(&theirs, &signed.display().to_string())?,
    );
    if ours != given {
        return Err(BuildError::Input {
            code: Code::UkiNotRebuilt,
            what: signed.display().to_string(),
            message: format!(
                "its Authenticode hash is sha256:{}, the UKI built is sha256:{}",
                hex::encode(given),
                hex::encode(ours)
            ),
            hint: "it is not this build's UKI signed: compare the inputs (stub, kernel, initrd, command line)".into(),
        });
    }
    std::fs::write(path, theirs).map_err(io_error(path, hint))
}

/// What a UKI holds besides its stub.
struct UkiParts<'a> {
    kernel: &'a [u8],
    initrd: &'a Path,
    ucode: &'a [u8],
    cmdline: &'a [u8],
    os_release: Option<Vec<u8>>,
}

/// The image's os-release (`etc/os-release`, else `usr/lib/os-release`), when it has one.
fn os_release(tree: &Tree, spool: &Spool) -> Result<Option<Vec<u8>>, BuildError> {
    for path in ["etc/os-release", "usr/lib/os-release"] {
        if let Some(content) = file_bytes(tree, path) {
            let mut bytes = Vec::new();
            spool
                .read(content)
                .and_then(|mut r| r.read_to_end(&mut bytes))
                .map_err(io_error(spool.path(), "check the output disk"))?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

fn write_uki(parts: &UkiParts, request: &Request, out: &mut impl Write) -> Result<(), BuildError> {
    let cmdline = parts.cmdline.trim_ascii_end();
    uki::check_cmdline(cmdline)?;
    let os_release = uki::os_release(parts.os_release.clone(), request.name);
    let release = uki::kernel_release(parts.kernel);
    // Microcode first, uncompressed, as the kernel's early loader wants it; each initrd padded
    // to 4 bytes, as ukify joins them.
    let padding = [0u8; 3];
    let ucode_padding = &padding[..(4 - parts.ucode.len() % 4) % 4];
    let mut sections = vec![
        uki::Section {
            name: ".osrel",
            parts: vec![uki::Part::Bytes(&os_release)],
        },
        uki::Section {
            name: ".cmdline",
            parts: vec![uki::Part::Bytes(cmdline)],
        },
    ];
    if let Some(release) = &release {
        sections.push(uki::Section {
            name: ".uname",
            parts: vec![uki::Part::Bytes(release.as_bytes())],
        });
    }
    sections.push(uki::Section {
        name: ".initrd",
        parts: vec![
            uki::Part::Bytes(parts.ucode),
            uki::Part::Bytes(ucode_padding),
            uki::Part::File(parts.initrd),
        ],
    });
    sections.push(uki::Section {
        name: ".linux",
        parts: vec![uki::Part::Bytes(parts.kernel)],
    });
    let stub = request.uki_stub.unwrap_or(Path::new(uki::DEFAULT_STUB));
    uki::write_uki(stub, &sections, out)
}

/// LinuxKit's `outputKernelInitrdTarball`: kernel, initrd.img, cmdline and ucode.cpio, each
/// 0644, the empty ones left out.
fn kernel_initrd_tar<W: Write>(
    out: W,
    kernel: &[u8],
    initrd: &Path,
    cmdline: &[u8],
    ucode: &[u8],
    epoch: u64,
) -> io::Result<W> {
    let mut writer = tarball::Writer::new(out);
    let initrd_size = std::fs::metadata(initrd)?.len();
    let parts: [(&str, u64, Box<dyn Read>); 4] = [
        ("kernel", kernel.len() as u64, Box::new(kernel)),
        ("initrd.img", initrd_size, Box::new(File::open(initrd)?)),
        ("cmdline", cmdline.len() as u64, Box::new(cmdline)),
        ("ucode.cpio", ucode.len() as u64, Box::new(ucode)),
    ];
    let no_xattrs = Default::default();
    for (name, size, body) in parts {
        if size > 0 {
            let header = tarball::Header {
                path: Path::new(name),
                kind: tarball::EntryKind::File { size },
                mode: 0o644,
                uid: 0,
                gid: 0,
                mtime: epoch,
                xattrs: &no_xattrs,
                records: Default::default(),
            };
            writer.append(&header, body)?;
        }
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::lock::Resolver;

    /// The gate judges what `unpack` read and builds from the same read: a files entry's source
    /// changed on the host between the judgement and `write` is not read again, so the image
    /// holds the bytes whose secret the evidence reported, not the ones now on disk.
    #[test]
    fn the_image_holds_the_source_bytes_that_were_judged() {
        let dir = tempfile::tempdir().unwrap();
        let judged = b"TOKEN=ghp_TESTONLYsealkitPlanted12345678901234\n";
        let source = dir.path().join("deploy.env");
        std::fs::write(&source, judged).unwrap();
        let config = dir.path().join("image.yml");
        std::fs::write(
            &config,
            "files:\n  - path: etc/deploy.env\n    source: deploy.env\n    mode: \"0600\"\n",
        )
        .unwrap();
        let loaded = crate::config::load(std::slice::from_ref(&config)).unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let resolver = Resolver::for_config(store, Default::default(), Default::default(), &config).unwrap();
        let plan = crate::plan::plan(&loaded, &resolver, &Default::default()).unwrap();
        let out = dir.path().join("out");
        let request = Request {
            output: &out,
            name: "image",
            formats: &[Format::Tar],
            force: false,
            sbom: None,
            epoch: 0,
            uki_stub: None,
            uki_signer: None,
            verity: false,
            presigned_uki: None,
            progress: &crate::progress::Silent,
        };
        let unpacked = unpack(&loaded, &plan, &resolver.store, &request).unwrap();
        let found: Vec<_> = unpacked
            .files
            .secrets
            .findings
            .iter()
            .map(|f| (f.path.as_str(), f.rule))
            .collect();
        assert_eq!(found, [("etc/deploy.env", "github-pat")]);

        // Swapped after the judgement, before the build: a new file under the same name.
        std::fs::remove_file(&source).unwrap();
        std::fs::write(&source, b"harmless\n").unwrap();
        write(&loaded, &plan, &resolver.store, unpacked, &request).unwrap();

        let mut archive = tar::Archive::new(File::open(out.join("image.tar")).unwrap());
        let mut built = None;
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap() == Path::new("etc/deploy.env") {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).unwrap();
                built = Some(bytes);
            }
        }
        assert_eq!(built.as_deref(), Some(&judged[..]));
    }
}
