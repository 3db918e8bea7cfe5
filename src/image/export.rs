//! The flattened filesystem as one tar, as `crane export` writes it.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use super::error::{Code, ImageError, Result};
use super::resolve::ResolvedImage;
use super::rootfs::{ContentRef, Entry, Kind, LayerCtx, Rootfs, open_layer};
use super::store::Store;
use super::tarstream::TarStream;

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
    let mut builder = tar::Builder::new(out);
    let header_for = |e: &Entry| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(e.mtime);
        h.set_size(0);
        h
    };
    let mut by_content: BTreeMap<ContentRef, Vec<&PathBuf>> = BTreeMap::new();
    for (path, e) in &rootfs.entries {
        let mut h = header_for(e);
        match &e.kind {
            Kind::File => {
                if let Some(c) = e.content {
                    by_content.entry(c).or_default().push(path);
                }
                continue;
            }
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                builder
                    .append_data(&mut h, path.join(""), io::empty())
                    .map_err(write_err)?;
            }
            Kind::Symlink { target } => {
                h.set_entry_type(tar::EntryType::Symlink);
                builder.append_link(&mut h, path, target).map_err(write_err)?;
            }
            Kind::Char { major, minor } | Kind::Block { major, minor } => {
                h.set_entry_type(if matches!(e.kind, Kind::Char { .. }) {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                });
                h.set_device_major(*major).map_err(write_err)?;
                h.set_device_minor(*minor).map_err(write_err)?;
                builder.append_data(&mut h, path, io::empty()).map_err(write_err)?;
            }
            Kind::Fifo => {
                h.set_entry_type(tar::EntryType::Fifo);
                builder.append_data(&mut h, path, io::empty()).map_err(write_err)?;
            }
        }
    }
    for layer in 0..image.layers().len() {
        if !by_content.keys().any(|c| c.layer == layer) {
            continue;
        }
        let ctx = LayerCtx::of(image, layer);
        let mut tar = TarStream::new(open_layer(store, image, layer)?);
        while let Some(member) = tar.next_member().map_err(|e| ctx.tar(e))? {
            let Some(paths) = by_content.get(&ContentRef {
                layer,
                ordinal: member.ordinal,
            }) else {
                continue;
            };
            let first = paths[0];
            let e = &rootfs.entries[first];
            let mut h = header_for(e);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(e.size);
            builder.append_data(&mut h, first, &mut tar).map_err(write_err)?;
            for other in &paths[1..] {
                let mut h = header_for(e);
                h.set_entry_type(tar::EntryType::Link);
                builder.append_link(&mut h, other, first).map_err(write_err)?;
            }
        }
    }
    let mut out = builder.into_inner().map_err(write_err)?;
    out.flush().map_err(write_err)
}
