//! The flattened filesystem as one tar, as `crane export` writes it.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::error::{Code, ImageError, Result};
use super::resolve::ResolvedImage;
use super::rootfs::{ContentRef, Entry, Kind, LayerCtx, Rootfs, open_layer};
use super::store::Store;
use super::tarball::{self, EntryKind};

/// Writes the flattened filesystem as one tar (what `crane export` does): folders, links and
/// devices first in path order, then regular files in the order the layers hold their content,
/// each content once, further paths of it as hard links. Deterministic for a given image.
pub fn export(store: &Store, image: &ResolvedImage, rootfs: &Rootfs, out: impl io::Write) -> Result<()> {
    let what = &image.reference;
    let write_err = |e: io::Error| {
        ImageError::invalid(
            Code::Io,
            what,
            format!("writing the export failed: {e}"),
            "check the output path and free space",
        )
    };
    let mut writer = tarball::Writer::new(out);
    let mut by_content: BTreeMap<ContentRef, Vec<&PathBuf>> = BTreeMap::new();
    for (path, e) in &rootfs.entries {
        let kind = match &e.kind {
            Kind::File => {
                if let Some(c) = e.content {
                    by_content.entry(c).or_default().push(path);
                }
                continue;
            }
            Kind::Dir => EntryKind::Dir,
            Kind::Symlink { target } => EntryKind::Symlink {
                target: Path::new(target),
            },
            Kind::Char { major, minor } => EntryKind::Char {
                major: *major,
                minor: *minor,
            },
            Kind::Block { major, minor } => EntryKind::Block {
                major: *major,
                minor: *minor,
            },
            Kind::Fifo => EntryKind::Fifo,
        };
        writer.append(&header(path, kind, e), io::empty()).map_err(write_err)?;
    }
    for layer in 0..image.layers().len() {
        if !by_content.keys().any(|c| c.layer == layer) {
            continue;
        }
        let ctx = LayerCtx {
            image: what,
            layer: image.layers()[layer].digest().to_string(),
        };
        let mut stream = open_layer(store, image, layer)?;
        let mut archive = tar::Archive::new(&mut stream);
        let entries = archive.entries().map_err(|e| ctx.corrupt("", e.to_string()))?;
        for (ordinal, entry) in entries.enumerate() {
            let entry = entry.map_err(|e| ctx.corrupt("", e.to_string()))?;
            let Some(paths) = by_content.get(&ContentRef {
                layer,
                ordinal: ordinal as u64,
            }) else {
                continue;
            };
            let first = paths[0];
            let e = &rootfs.entries[first];
            writer
                .append(&header(first, EntryKind::File { size: e.size }, e), entry)
                .map_err(write_err)?;
            for other in &paths[1..] {
                writer
                    .append(&header(other, EntryKind::HardLink { target: first }, e), io::empty())
                    .map_err(write_err)?;
            }
        }
    }
    let mut out = writer.finish().map_err(write_err)?;
    out.flush().map_err(write_err)
}

fn header<'a>(path: &'a Path, kind: EntryKind<'a>, e: &'a Entry) -> tarball::Header<'a> {
    tarball::Header {
        path,
        kind,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        mtime: e.mtime,
        xattrs: &e.xattrs,
        records: BTreeMap::new(),
    }
}
