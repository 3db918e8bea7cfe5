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
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::archive;
use super::spool::Spool;
use super::tree::{Node, Origin, Tree};
use super::verity;
use super::{BuildError, Code, efi, io_error};

/// The first stage's `/init`.
pub const FIRST_STAGE_INIT: &str = include_str!("verity-init.sh");

/// The kernel modules the first stage loads (and those they depend on must be there too).
const MODULES: [&str; 3] = ["dm-verity", "squashfs", "overlay"];

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
    efi::run_fed(
        "--verity",
        "sqfstar",
        "squashfs-tools",
        tree.epoch(),
        &args,
        input.into(),
    )?;
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
/// kernel's modules, and sealkit's `/init` over theirs. Refused when it could not boot: no
/// shell, no dmsetup, or a kernel without the modules it loads.
pub fn first_stage(tree: &Tree) -> Result<Tree, BuildError> {
    let wanted = |path: &str, node: &Node| {
        node.origin.location.starts_with("init[")
            || (path.starts_with("lib/modules/") && &*node.origin.location == "kernel")
    };
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
    for module in MODULES {
        let found = keep.iter().any(|p| {
            p.starts_with("lib/modules/")
                && p.rsplit('/')
                    .next()
                    .and_then(|file| file.split_once(".ko"))
                    .is_some_and(|(stem, _)| stem.replace('_', "-") == module)
        });
        if !found {
            return Err(refuse(
                format!("the kernel image's modules hold no {module}, which the first stage loads"),
                "use a kernel whose kernel.tar carries dm-verity, squashfs and overlay (and what they depend on)",
            ));
        }
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
    Ok(first)
}
