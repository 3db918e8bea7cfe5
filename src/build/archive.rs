//! The two archive formats an image is written in, both from the same tree and both a pure
//! function of it: a PAX tar (LinuxKit's `tar` output, with its `LINUXKIT.source` and
//! `LINUXKIT.location` records) and a newc cpio (the initramfs the kernel unpacks).
//!
//! Entries come in byte order of their path, so a folder precedes its contents. Files that share
//! their bytes because a layer made them hard links stay hard links: the first path in order
//! carries the bytes, later ones link to it (tar) or share its inode (cpio).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use crate::image::tarball::{self, EntryKind};

use super::spool::Spool;
use super::tree::{Content, Node, NodeKind, Tree};

/// For each spooled content two or more paths share, those paths in order.
fn hardlink_groups(tree: &Tree, include: &dyn Fn(&str) -> bool) -> BTreeMap<(u64, u64), Vec<String>> {
    let mut groups: BTreeMap<(u64, u64), Vec<String>> = BTreeMap::new();
    for (path, node) in tree.iter() {
        if let NodeKind::File(Content::Spool { offset, len }) = &node.kind
            && include(path)
        {
            groups.entry((*offset, *len)).or_default().push(path.clone());
        }
    }
    groups.retain(|_, paths| paths.len() > 1);
    groups
}

fn group_of<'a>(node: &Node, groups: &'a BTreeMap<(u64, u64), Vec<String>>) -> Option<&'a Vec<String>> {
    match &node.kind {
        NodeKind::File(Content::Spool { offset, len }) => groups.get(&(*offset, *len)),
        _ => None,
    }
}

/// Writes the PAX tar of every entry `include` accepts, each with LinuxKit's records saying
/// where it came from.
pub fn write_tar<W: Write>(tree: &Tree, spool: &Spool, include: &dyn Fn(&str) -> bool, out: W) -> io::Result<W> {
    let groups = hardlink_groups(tree, include);
    let mut writer = tarball::Writer::new(out);
    for (path, node) in tree.iter().filter(|(p, _)| include(p)) {
        let mut body = None;
        let kind = match &node.kind {
            NodeKind::File(content) => match group_of(node, &groups) {
                Some(paths) if &paths[0] != path => EntryKind::HardLink {
                    target: Path::new(&paths[0]),
                },
                _ => {
                    body = Some(content);
                    EntryKind::File { size: content.len() }
                }
            },
            NodeKind::Dir => EntryKind::Dir,
            NodeKind::Symlink(target) => EntryKind::Symlink {
                target: Path::new(target),
            },
            NodeKind::Char { major, minor } => EntryKind::Char {
                major: *major,
                minor: *minor,
            },
            NodeKind::Block { major, minor } => EntryKind::Block {
                major: *major,
                minor: *minor,
            },
            NodeKind::Fifo => EntryKind::Fifo,
        };
        let header = tarball::Header {
            path: Path::new(path),
            kind,
            mode: node.mode,
            uid: node.uid,
            gid: node.gid,
            mtime: node.mtime,
            xattrs: &node.xattrs,
            records: BTreeMap::from([
                ("LINUXKIT.location".into(), node.origin.location.as_bytes().to_vec()),
                ("LINUXKIT.source".into(), node.origin.source.as_bytes().to_vec()),
            ]),
        };
        match body {
            Some(content) => writer.append(&header, spool.read(content)?)?,
            None => writer.append(&header, io::empty())?,
        }
    }
    writer.finish()
}

/// Inode numbers start here, as in LinuxKit's initrds (any fixed start would do).
const FIRST_INODE: u32 = 721;

/// Writes the newc cpio of every entry `include` accepts, then the trailer.
pub fn write_cpio<W: Write>(tree: &Tree, spool: &Spool, include: &dyn Fn(&str) -> bool, out: W) -> io::Result<W> {
    let groups = hardlink_groups(tree, include);
    let mut inodes: BTreeMap<(u64, u64), u32> = BTreeMap::new();
    let mut next = FIRST_INODE;
    let mut out = out;
    let too_big = |path: &str, what: &str| {
        io::Error::other(format!("{path}: {what} does not fit the cpio newc format (32 bits)"))
    };
    for (path, node) in tree.iter().filter(|(p, _)| include(p)) {
        let (type_bits, nlink, rdev, data): (u32, u32, (u32, u32), Option<&Content>) = match &node.kind {
            NodeKind::File(content) => match group_of(node, &groups) {
                Some(paths) => {
                    let first = &paths[0] == path;
                    (0o100000, paths.len() as u32, (0, 0), first.then_some(content))
                }
                None => (0o100000, 1, (0, 0), Some(content)),
            },
            NodeKind::Dir => (0o040000, 2, (0, 0), None),
            NodeKind::Symlink(_) => (0o120000, 1, (0, 0), None),
            NodeKind::Char { major, minor } => (0o020000, 1, (*major, *minor), None),
            NodeKind::Block { major, minor } => (0o060000, 1, (*major, *minor), None),
            NodeKind::Fifo => (0o010000, 1, (0, 0), None),
        };
        let ino = match group_of(node, &groups) {
            Some(_) => {
                let NodeKind::File(Content::Spool { offset, len }) = &node.kind else {
                    unreachable!("only spooled files form groups")
                };
                *inodes.entry((*offset, *len)).or_insert_with(|| {
                    next += 1;
                    next - 1
                })
            }
            None => {
                next += 1;
                next - 1
            }
        };
        let mtime = u32::try_from(node.mtime).map_err(|_| too_big(path, "the mtime"))?;
        let uid = u32::try_from(node.uid).map_err(|_| too_big(path, "the uid"))?;
        let gid = u32::try_from(node.gid).map_err(|_| too_big(path, "the gid"))?;
        let builder = cpio::newc::Builder::new(path)
            .ino(ino)
            .mode(type_bits | node.mode)
            .uid(uid)
            .gid(gid)
            .nlink(nlink)
            .mtime(mtime)
            .rdev_major(rdev.0)
            .rdev_minor(rdev.1);
        match (&node.kind, data) {
            (NodeKind::Symlink(target), _) => {
                let mut w = builder.write(&mut out, target.len() as u32);
                w.write_all(target.as_bytes())?;
                w.finish()?;
            }
            (_, Some(content)) => {
                let size = u32::try_from(content.len()).map_err(|_| too_big(path, "the file size"))?;
                let mut w = builder.write(&mut out, size);
                io::copy(&mut spool.read(content)?, &mut w)?;
                w.finish()?;
            }
            _ => {
                builder.write(&mut out, 0).finish()?;
            }
        }
    }
    cpio::newc::trailer(out)
}
