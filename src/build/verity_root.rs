//! A root the kernel verifies as it reads it (`--verity`): the image's tree as a squashfs
//! with its dm-verity hash tree appended (NAME-root.img), and the small first stage that boots
//! it — the init images, the kernel's modules and sealkit's `/init` (verity-init.sh), which maps
//! the disk through dm-verity with the parameters the kernel command line gives and switches
//! to the image's own `/init` on it. Signed into a UKI, the command line carries the root
//! hash, so Secure Boot's signature covers every byte of the root.
//!
//! The squashfs is written by squashfs-tools' `sqfstar` from the image's tar: reproducible, every
//! time in it SOURCE_DATE_EPOCH, which it reads from the environment the tool runner sets (and
//! which it refuses beside its own time options; 4.5.1 ignores `-root-time` anyway).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::archive;
use super::spool::Spool;
use super::tree::{Node, NodeKind, Origin, Tree};
use super::verity;
use super::{BuildError, Code, efi, io_error};

/// The first stage's `/init`.
pub const FIRST_STAGE_INIT: &str = include_str!("verity-init.sh");

/// What the first stage needs of the kernel, by the kernel's own module names: the virtio disk
/// the root is on, then what maps, reads and overlays it. Each is built in or a module; modprobe
/// brings what a module depends on.
const MODULES: [&str; 5] = ["virtio_pci", "virtio_blk", "dm_verity", "squashfs", "overlay"];

/// The first stage's list of the modules to load: [`MODULES`] but those built into the kernel,
/// which modprobe could not load (they have no file).
/// verity-init.sh reads it by this path (a test keeps the two in step).
pub const MODULES_TO_LOAD: &str = "etc/sealkit/verity-modules";

/// A real modules.builtin holds a few thousand short lines; more than this is not one.
const MODULES_BUILTIN_LIMIT: u64 = 4 << 20;

/// A written root image and what the kernel needs to verify it.
pub struct Root {
    pub path: PathBuf,
    pub data_blocks: u64,
    pub root_hash: [u8; 32],
    pub salt: [u8; 32],
}

impl Root {
    /// The kernel command-line parameter the first stage reads.
    pub fn parameter(&self) -> String {
        format!(
            "sealkit.verity={}:{}:{}",
            self.data_blocks,
            hex::encode(self.root_hash),
            hex::encode(self.salt)
        )
    }
}

/// Writes the image's tree (`include`d paths) as `name` in `stage`: a squashfs, padded to whole
/// blocks, followed by its hash tree. The salt is the SHA-256 of the squashfs, so it is
/// reproducible and differs between images.
pub fn write_root(
    tree: &Tree,
    spool: &Spool,
    include: &dyn Fn(&str) -> bool,
    ran: &efi::ToolsRun,
    stage: &Path,
    name: &str,
) -> Result<Root, BuildError> {
    let hint = "check the space left on the output disk";
    let tar = stage.join("root.tar.staged");
    let file = File::create(&tar).map_err(io_error(&tar, hint))?;
    let mut w = archive::write_tar(tree, spool, include, io::BufWriter::new(file)).map_err(io_error(&tar, hint))?;
    w.flush().map_err(io_error(&tar, hint))?;
    drop(w);
    let path = stage.join(name);
    let options = [
        "-comp",
        "gzip",
        "-reproducible",
        "-root-mode",
        "755",
        "-root-uid",
        "0",
        "-root-gid",
        "0",
        "-quiet",
        "-no-progress",
        "-exit-on-error",
    ];
    let args: Vec<&OsStr> = options.iter().map(OsStr::new).chain([path.as_os_str()]).collect();
    let input = File::open(&tar).map_err(io_error(&tar, hint))?;
    efi::run_fed("--verity", &efi::SQFSTAR, ran, tree.epoch(), &args, input.into())?;
    std::fs::remove_file(&tar).map_err(io_error(&tar, hint))?;

    let mut image = File::options()
        .read(true)
        .append(true)
        .open(&path)
        .map_err(io_error(&path, hint))?;
    // sqfstar pads to 4 KiB already; a whole block is what dm-verity needs, so make sure.
    let len = image.metadata().map_err(io_error(&path, hint))?.len();
    let padded = len.next_multiple_of(verity::BLOCK as u64);
    image.set_len(padded).map_err(io_error(&path, hint))?;
    let mut hasher = Sha256::new();
    let mut reader = BufReader::with_capacity(1 << 20, &image);
    loop {
        let chunk = reader.fill_buf().map_err(io_error(&path, hint))?;
        if chunk.is_empty() {
            break;
        }
        hasher.update(chunk);
        let used = chunk.len();
        reader.consume(used);
    }
    let salt: [u8; 32] = hasher.finalize().into();
    image.rewind().map_err(io_error(&path, hint))?;
    let hashes = verity::hash_tree(BufReader::new(&image), &salt).map_err(io_error(&path, hint))?;
    image.write_all(&hashes.hash).map_err(io_error(&path, hint))?;
    image.sync_all().map_err(io_error(&path, hint))?;
    Ok(Root {
        path,
        data_blocks: hashes.data_blocks,
        root_hash: hashes.root,
        salt,
    })
}

/// The first stage's tree: what the init images put in the image (LinuxKit's `init:`), the
/// kernel's modules, sealkit's `/init` over theirs and the list of modules it loads. Refused
/// when it could not boot: no shell, no dmsetup, or a kernel that has one of [`MODULES`]
/// neither as a module nor built in.
pub fn first_stage(tree: &Tree, spool: &Spool) -> Result<Tree, BuildError> {
    let wanted = |path: &str, node: &Node| node.origin.location.starts_with("init[") || of_kernel_modules(path, node);
    let mut keep: BTreeSet<&str> = BTreeSet::new();
    for (path, _) in tree.iter().filter(|(p, n)| wanted(p, n)) {
        keep.insert(path);
        let mut end = path.len();
        while let Some(slash) = path[..end].rfind('/') {
            end = slash;
            if !keep.insert(&path[..slash]) {
                break;
            }
        }
    }
    let refuse = |message: String, hint: &str| BuildError::Input {
        code: Code::BadVerityRoot,
        what: "--verity".into(),
        message,
        hint: hint.into(),
    };
    let has = |path: &str| keep.contains(path);
    if !["bin/sh", "bin/busybox"].iter().all(|p| has(p)) {
        return Err(refuse(
            "the init images hold no busybox (/bin/busybox and /bin/sh), which the first stage runs".into(),
            "list an init image with busybox first under init: (sealkit-fixtures/init has it)",
        ));
    }
    if !["sbin/dmsetup", "usr/sbin/dmsetup"].iter().any(|p| has(p)) {
        return Err(refuse(
            "the init images hold no dmsetup, which sets up the verity device".into(),
            "add an init image with Debian's dmsetup (sealkit-fixtures/dmsetup) after the init",
        ));
    }
    let (modules, built_in) = kernel_modules(tree, spool)?;
    let mut to_load = String::new();
    for module in MODULES {
        if built_in.contains(module) {
            continue;
        }
        if !modules.contains(module) {
            return Err(refuse(
                format!(
                    "the kernel has no {module}, which the first stage needs: no module file of that \
                     name under lib/modules, and no modules.builtin there lists it"
                ),
                &format!(
                    "use a kernel with {} built in or as modules (with what they depend on, and \
                     modules.dep), or ship its lib/modules/VERSION/modules.builtin",
                    MODULES.join(", ")
                ),
            ));
        }
        to_load.push_str(module);
        to_load.push('\n');
    }
    let mut first = Tree::new(tree.epoch());
    for (path, node) in tree.iter().filter(|(p, _)| keep.contains(p.as_str())) {
        first.insert(path, node.clone()).map_err(BuildError::Conflict)?;
    }
    let origin = Origin::new("sealkit.verity", "verity");
    first
        .put(
            "init",
            Node::inline(FIRST_STAGE_INIT.as_bytes().to_vec(), 0o755, &origin),
        )
        .map_err(BuildError::Conflict)?;
    first
        .insert(MODULES_TO_LOAD, Node::inline(to_load.into_bytes(), 0o644, &origin))
        .map_err(BuildError::Conflict)?;
    Ok(first)
}

/// The kernel image's modules and the modules built into its kernel
/// (`lib/modules/VERSION/modules.builtin`), by module name.
fn kernel_modules(tree: &Tree, spool: &Spool) -> Result<(BTreeSet<String>, BTreeSet<String>), BuildError> {
    let (mut modules, mut built_in) = (BTreeSet::new(), BTreeSet::new());
    for (path, node) in tree.iter().filter(|(path, node)| of_kernel_modules(path, node)) {
        let NodeKind::File(content) = &node.kind else {
            continue;
        };
        let is_builtin_list = path.ends_with("/modules.builtin") && path.matches('/').count() == 3;
        if !is_builtin_list {
            modules.extend(module_name(path));
            continue;
        }
        let unreadable = |message: String| BuildError::Input {
            code: Code::BadVerityRoot,
            what: path.clone(),
            message,
            hint: "ship the modules.builtin the kernel's build wrote (one module path a line)".into(),
        };
        if content.len() > MODULES_BUILTIN_LIMIT {
            return Err(unreadable(format!(
                "is {} bytes, more than a list of built-in modules ({MODULES_BUILTIN_LIMIT} at most)",
                content.len()
            )));
        }
        let mut text = String::new();
        spool
            .read(content)
            .and_then(|mut bytes| bytes.read_to_string(&mut text))
            .map_err(|e| unreadable(format!("cannot be read as text: {e}")))?;
        built_in.extend(text.lines().filter_map(module_name));
    }
    Ok((modules, built_in))
}

/// Whether `path` is under the kernel image's lib/modules: the modules and their lists.
fn of_kernel_modules(path: &str, node: &Node) -> bool {
    path.starts_with("lib/modules/") && &*node.origin.location == "kernel"
}

/// The module a path names (`kernel/drivers/md/dm-verity.ko.xz` is `dm_verity`), as modprobe
/// names it: `-` and `_` are the same to the kernel.
fn module_name(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let (stem, _) = file.split_once(".ko")?;
    (!stem.is_empty()).then(|| stem.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image whose init holds busybox and dmsetup, and whose kernel image holds `modules`
    /// (paths under lib/modules/6.1.0) and `built_in` as its modules.builtin, if any.
    fn image(modules: &[&str], built_in: Option<&str>) -> Tree {
        let mut tree = Tree::new(0);
        let init = Origin::new("sealkit-fixtures/init", "init[0]");
        for path in ["bin/busybox", "bin/sh", "sbin/dmsetup"] {
            tree.insert(path, Node::inline(b"x".to_vec(), 0o755, &init)).unwrap();
        }
        let kernel = Origin::new("sealkit-fixtures/kernel", "kernel");
        let under = |path: &str| format!("lib/modules/6.1.0/{path}");
        for module in modules {
            tree.insert(&under(module), Node::inline(b"\x7fELF".to_vec(), 0o644, &kernel))
                .unwrap();
        }
        if let Some(list) = built_in {
            tree.insert(
                &under("modules.builtin"),
                Node::inline(list.as_bytes().to_vec(), 0o644, &kernel),
            )
            .unwrap();
        }
        tree
    }

    fn first_stage_of(tree: &Tree) -> Result<Tree, BuildError> {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::create(&dir.path().join("spool")).unwrap();
        first_stage(tree, &spool)
    }

    fn to_load(first: &Tree) -> String {
        match &first.get(MODULES_TO_LOAD).expect("the list of modules").kind {
            NodeKind::File(super::super::tree::Content::Inline(bytes)) => String::from_utf8(bytes.to_vec()).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    const ALL_AS_MODULES: [&str; 5] = [
        "kernel/drivers/virtio/virtio_pci.ko",
        "kernel/drivers/block/virtio_blk.ko.xz",
        "kernel/drivers/md/dm-verity.ko",
        "kernel/fs/squashfs/squashfs.ko.zst",
        "kernel/fs/overlayfs/overlay.ko",
    ];

    #[test]
    fn modules_are_loaded_in_order_and_found_by_either_spelling() {
        let first = first_stage_of(&image(&ALL_AS_MODULES, None)).unwrap();
        assert_eq!(
            to_load(&first),
            "virtio_pci\nvirtio_blk\ndm_verity\nsquashfs\noverlay\n"
        );
        assert!(first.get("init").is_some() && first.get("lib/modules/6.1.0/kernel/fs/overlayfs/overlay.ko").is_some());
    }

    #[test]
    fn the_init_reads_the_list_where_the_build_writes_it() {
        assert!(FIRST_STAGE_INIT.contains(&format!("$(cat /{MODULES_TO_LOAD})")));
    }

    #[test]
    fn built_in_modules_are_not_loaded_nor_required_as_files() {
        // As LinuxKit's kernels have them: virtio, dm and the file systems built in.
        let built_in = "kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/block/virtio_blk.ko\n\
                        kernel/drivers/md/dm-verity.ko\nkernel/fs/squashfs/squashfs.ko\n";
        let first = first_stage_of(&image(&["kernel/fs/overlayfs/overlay.ko"], Some(built_in))).unwrap();
        assert_eq!(to_load(&first), "overlay\n");
        let all = format!("{built_in}kernel/fs/overlayfs/overlay.ko\n");
        assert_eq!(to_load(&first_stage_of(&image(&[], Some(&all))).unwrap()), "");
    }

    #[test]
    fn a_module_neither_shipped_nor_built_in_is_refused() {
        let without_verity: Vec<&str> = ALL_AS_MODULES.into_iter().filter(|m| !m.contains("verity")).collect();
        for built_in in [None, Some("kernel/drivers/md/dm-mod.ko\n"), Some("")] {
            let Err(BuildError::Input { code, message, .. }) = first_stage_of(&image(&without_verity, built_in)) else {
                panic!("a kernel without dm_verity was taken");
            };
            assert_eq!(code, Code::BadVerityRoot);
            assert!(message.contains("the kernel has no dm_verity"), "{message}");
        }
    }

    #[test]
    fn a_modules_builtin_that_is_not_text_is_refused() {
        let mut tree = image(&ALL_AS_MODULES, None);
        let kernel = Origin::new("sealkit-fixtures/kernel", "kernel");
        tree.insert(
            "lib/modules/6.1.0/modules.builtin",
            Node::inline(vec![0xff, 0xfe, b'\n'], 0o644, &kernel),
        )
        .unwrap();
        let Err(BuildError::Input {
            code, what, message, ..
        }) = first_stage_of(&tree)
        else {
            panic!("a modules.builtin that is not text was taken");
        };
        assert_eq!(
            (code, what.as_str()),
            (Code::BadVerityRoot, "lib/modules/6.1.0/modules.builtin")
        );
        assert!(message.contains("cannot be read as text"), "{message}");
    }
}
