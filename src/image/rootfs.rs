//! The filesystem an image's layers make, computed in one streaming pass per layer without
//! extracting anything to disk: whiteouts and opaque directories applied (`.wh..wh..opq`, which
//! LinuxKit ignores), hard links, symlinks, devices and xattrs kept, every regular file hashed,
//! and each file's content located (layer and entry number) so later stages can stream it again.
//!
//! Hostile layers are refused, naming the image, layer and path: entries that climb out of the
//! root, absolute names, symlinks whose relative target leaves the root, entries written through
//! a symlinked parent, hard links to missing targets, duplicate entries, symlink loops, corrupt
//! or truncated streams, layers that do not hash to the config's diff_id, and decompression
//! bombs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use oci_spec::image::{Descriptor, MediaType};
use serde::Serialize;

use super::digest::{Digest, HashingWriter};
use super::error::{Code, ImageError, Result};
use super::resolve::{ResolvedImage, clean_member_path};
use super::store::Store;

/// Decompressed bytes allowed per compressed byte, beyond [`BOMB_FLOOR`]: real layers compress
/// 2–10×; a layer of zeros compresses 1000×.
pub const BOMB_RATIO: u64 = 100;
pub const BOMB_FLOOR: u64 = 256 << 20;
/// Symlinks followed while resolving one path before it counts as a loop (Linux's MAXSYMLINKS).
pub const MAX_SYMLINK_HOPS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Kind {
    File,
    Dir,
    Symlink { target: String },
    Char { major: u32, minor: u32 },
    Block { major: u32, minor: u32 },
    Fifo,
}

/// Where a regular file's bytes are: entry `ordinal` of layer `layer` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ContentRef {
    pub layer: usize,
    pub ordinal: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub kind: Kind,
    /// Permission bits with setuid, setgid and sticky (`0o7777` at most).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Digest>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub xattrs: BTreeMap<String, Vec<u8>>,
    /// For regular files: where the content is (shared by hard links).
    #[serde(skip)]
    pub content: Option<ContentRef>,
    /// The layer that last wrote this entry.
    pub layer: usize,
    /// Another path of the same file, when this one was written as a hard link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardlink_of: Option<PathBuf>,
}

/// Extra work on every regular file while a layer is flattened, so that later stages need not
/// read the layer again (the SBOM's SHA-1s and catalog files, the ELF scan).
pub trait Tap {
    /// A regular file is about to be read: returns whether to see its bytes.
    fn begin(&mut self, path: &Path, size: u64, at: ContentRef) -> bool;
    fn chunk(&mut self, bytes: &[u8]);
    fn end(&mut self);
}

/// Sees nothing.
pub struct NoTap;

impl Tap for NoTap {
    fn begin(&mut self, _: &Path, _: u64, _: ContentRef) -> bool {
        false
    }
    fn chunk(&mut self, _: &[u8]) {}
    fn end(&mut self) {}
}

/// Shows every file to two taps: each sees the bytes of the files it asked for.
pub struct Tee<'a> {
    pub first: &'a mut dyn Tap,
    pub second: &'a mut dyn Tap,
    watching: (bool, bool),
}

impl<'a> Tee<'a> {
    pub fn new(first: &'a mut dyn Tap, second: &'a mut dyn Tap) -> Self {
        Tee {
            first,
            second,
            watching: (false, false),
        }
    }
}

impl Tap for Tee<'_> {
    fn begin(&mut self, path: &Path, size: u64, at: ContentRef) -> bool {
        self.watching = (self.first.begin(path, size, at), self.second.begin(path, size, at));
        self.watching.0 || self.watching.1
    }
    fn chunk(&mut self, bytes: &[u8]) {
        if self.watching.0 {
            self.first.chunk(bytes);
        }
        if self.watching.1 {
            self.second.chunk(bytes);
        }
    }
    fn end(&mut self) {
        if self.watching.0 {
            self.first.end();
        }
        if self.watching.1 {
            self.second.end();
        }
    }
}

/// The flattened view: relative path → entry (the root itself is not listed).
#[derive(Debug, Clone, Default)]
pub struct Rootfs {
    pub entries: BTreeMap<PathBuf, Entry>,
    /// Digest of each layer, in order, for messages and content streaming.
    pub layers: Vec<Descriptor>,
}

/// Names the image and layer in every error about one of its entries.
pub(crate) struct LayerCtx<'a> {
    pub image: &'a str,
    pub layer: String,
}

impl LayerCtx<'_> {
    pub fn err(&self, code: Code, path: impl AsRef<Path>, message: impl Into<String>, hint: &str) -> ImageError {
        ImageError::Layer {
            code,
            image: self.image.to_owned(),
            layer: self.layer.clone(),
            path: path.as_ref().display().to_string(),
            message: message.into(),
            hint: hint.to_owned(),
        }
    }

    /// The layer tries to escape the root or to hide a file: never the result of a mishap.
    pub fn hostile(&self, path: impl AsRef<Path>, message: impl Into<String>) -> ImageError {
        self.err(Code::HostileLayer, path, message, HOSTILE)
    }

    /// The layer cannot be read as a tar stream.
    pub fn corrupt(&self, path: impl AsRef<Path>, message: impl Into<String>) -> ImageError {
        self.err(Code::CorruptLayer, path, message, CORRUPT)
    }
}

const HOSTILE: &str = "the layer is hostile: rebuild the image from trusted sources";
const CORRUPT: &str = "the layer is corrupt or truncated: import or pull the image again, or rebuild it";

/// Counts decompressed bytes and fails past a limit, so a bomb costs bounded time and no memory.
pub struct Bounded<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(format!(
                "decompresses to more than {} bytes ({}× its compressed size): a decompression bomb",
                self.limit, BOMB_RATIO
            )));
        }
        Ok(n)
    }
}

pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression of a layer, from its media type, or from its first bytes when the type does
/// not say (Docker's `…tar.gzip`, foreign types).
pub fn compression_of(media_type: &MediaType, head: &[u8]) -> Compression {
    match media_type {
        MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => Compression::Gzip,
        MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => Compression::Zstd,
        _ => match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        },
    }
}

/// A layer as an uncompressed tar stream, bounded, whose diff_id is known at its end.
///
/// A thread of its own reads the blob (hashing it) and decompresses it, and another hashes the
/// result (the diff_id), while the reader parses the tar and hashes each file: on two cores,
/// decompression and the per-file work overlap instead of taking turns. The thread hands over filled buffers, in
/// order, through a queue of [`PIPE_BUFFERS`], so memory stays flat whatever the layer's size and
/// the bytes read are the same whatever the scheduling.
pub struct LayerStream {
    full: Option<mpsc::Receiver<Piece>>,
    /// Buffers read out, returned to the thread to be filled again.
    empty: mpsc::Sender<Arc<Vec<u8>>>,
    current: Arc<Vec<u8>>,
    /// Bytes of `current` that hold data, and how many of them were read out.
    filled: usize,
    taken: usize,
    /// How the stream ended, once it has: the diff_id, or the error (repeated to later reads).
    end: Option<std::result::Result<Digest, (io::ErrorKind, String)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Buffers between the decompressing thread and the reader: enough to smooth out their pace, few
/// enough to cost 1 MiB.
const PIPE_BUFFERS: usize = 4;
const PIPE_BUFFER_BYTES: usize = 1 << 18;

enum Piece {
    /// A buffer and how many of its bytes hold data.
    Bytes(Arc<Vec<u8>>, usize),
    End(io::Result<Digest>),
}

/// The decompressing thread: fills buffers from `reader` until its end or first error. The
/// diff_id is hashed on a third thread, so that the work spreads over the cores whichever side,
/// decompressing or reading the tar, is the busier.
fn inflate_layer(
    mut reader: Bounded<Box<dyn Read + Send>>,
    hash_diff: bool,
    blob_digest: Digest,
    full: mpsc::SyncSender<Piece>,
    empty: mpsc::Receiver<Arc<Vec<u8>>>,
) {
    let mut hasher = None;
    if hash_diff {
        let (tx, rx) = mpsc::sync_channel::<(Arc<Vec<u8>>, usize)>(PIPE_BUFFERS);
        let spawned = std::thread::Builder::new()
            .name("sealkit-diffid".into())
            .spawn(move || {
                let mut h = HashingWriter::new(io::sink());
                for (buf, n) in rx {
                    // A sink never fails.
                    let _ = io::Write::write_all(&mut h, &buf[..n]);
                }
                h.finish().1
            });
        match spawned {
            Ok(thread) => hasher = Some((tx, thread)),
            Err(e) => {
                let _ = full.send(Piece::End(Err(e)));
                return;
            }
        }
    }
    // `None` when the reader is gone: nothing is waiting for the rest.
    let outcome = loop {
        // A buffer comes back for reuse unless the hasher still holds it.
        let mut buf = empty
            .try_recv()
            .ok()
            .and_then(|b| Arc::try_unwrap(b).ok())
            .unwrap_or_else(|| vec![0u8; PIPE_BUFFER_BYTES]);
        let mut filled = 0;
        let mut failure = None;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let at_end = filled < buf.len();
        if filled > 0 {
            let buf = Arc::new(buf);
            if let Some((tx, _)) = &hasher {
                let _ = tx.send((Arc::clone(&buf), filled));
            }
            if full.send(Piece::Bytes(buf, filled)).is_err() {
                break None;
            }
        }
        if let Some(e) = failure {
            break Some(Err(e));
        }
        if at_end {
            break Some(Ok(()));
        }
    };
    // Closing its queue ends the hasher: no thread outlives the stream.
    let diff_id = hasher.map(|(tx, thread)| {
        drop(tx);
        thread.join()
    });
    let end = match (outcome, diff_id) {
        (None, _) => return,
        (Some(Err(e)), _) => Err(e),
        (Some(Ok(())), None) => Ok(blob_digest),
        (Some(Ok(())), Some(Ok(diff_id))) => Ok(diff_id),
        (Some(Ok(())), Some(Err(_))) => Err(io::Error::other("the thread hashing the layer's diff_id stopped")),
    };
    let _ = full.send(Piece::End(end));
}

impl Read for LayerStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.taken < self.filled {
                let n = buf.len().min(self.filled - self.taken);
                buf[..n].copy_from_slice(&self.current[self.taken..self.taken + n]);
                self.taken += n;
                return Ok(n);
            }
            match &self.end {
                Some(Ok(_)) => return Ok(0),
                Some(Err((kind, message))) => return Err(io::Error::new(*kind, message.clone())),
                None => {}
            }
            let piece = self.full.as_ref().and_then(|full| full.recv().ok());
            match piece {
                Some(Piece::Bytes(next, filled)) => {
                    let spent = std::mem::replace(&mut self.current, next);
                    // The thread may have ended already: then the buffer is simply freed.
                    let _ = self.empty.send(spent);
                    (self.filled, self.taken) = (filled, 0);
                }
                Some(Piece::End(Ok(diff_id))) => self.end = Some(Ok(diff_id)),
                Some(Piece::End(Err(e))) => {
                    self.end = Some(Err((e.kind(), e.to_string())));
                    return Err(e);
                }
                None => {
                    let message = "the layer's decompressing thread stopped unexpectedly".to_owned();
                    self.end = Some(Err((io::ErrorKind::Other, message.clone())));
                    return Err(io::Error::other(message));
                }
            }
        }
    }
}

impl LayerStream {
    /// Reads what is left (the diff_id covers the bytes after the tar's end blocks too) and
    /// returns the diff_id.
    pub fn finish(mut self) -> io::Result<Digest> {
        io::copy(&mut self, &mut io::sink())?;
        match self.end.take() {
            Some(Ok(diff_id)) => Ok(diff_id),
            Some(Err((kind, message))) => Err(io::Error::new(kind, message)),
            None => Err(io::Error::other("the layer stream ended without its diff_id")),
        }
    }
}

impl Drop for LayerStream {
    fn drop(&mut self) {
        // Closing the queue stops the thread at its next buffer; wait for it, so that no thread
        // outlives the stream.
        self.full = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Opens layer `index` of `image` as an uncompressed tar stream, bounded against bombs. The
/// compressed blob's digest is verified when the stream ends.
pub fn open_layer(store: &Store, image: &ResolvedImage, index: usize) -> Result<LayerStream> {
    let desc = &image.layers()[index];
    let digest = Digest::try_from(desc.digest()).map_err(|e| {
        ImageError::invalid(
            Code::Unsupported,
            &image.reference,
            e.to_string(),
            "only sha256 digests are supported",
        )
    })?;
    let mut blob = io::BufReader::with_capacity(1 << 17, store.open_blob(&digest, Some(desc.size()))?);
    let head = io::BufRead::fill_buf(&mut blob)
        .map_err(|e| {
            ImageError::invalid(
                Code::CorruptStore,
                &image.reference,
                format!("layer {digest}: {e}"),
                CORRUPT,
            )
        })?
        .to_vec();
    let compression = compression_of(desc.media_type(), &head);
    let plain = matches!(compression, Compression::None);
    let decoded: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(blob),
        Compression::Gzip => Box::new(super::gunzip::MultiGzDecoder::new(blob)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(blob).map_err(|e| {
            ImageError::invalid(
                Code::CorruptLayer,
                &image.reference,
                format!("layer {digest}: {e}"),
                CORRUPT,
            )
        })?),
    };
    let limit = desc.size().saturating_mul(BOMB_RATIO).max(BOMB_FLOOR);
    let reader = Bounded {
        inner: decoded,
        read: 0,
        limit,
    };
    let (full_tx, full) = mpsc::sync_channel(PIPE_BUFFERS);
    let (empty, empty_rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("sealkit-layer".into())
        .spawn(move || inflate_layer(reader, !plain, digest, full_tx, empty_rx))
        .map_err(|e| {
            ImageError::invalid(
                Code::Io,
                &image.reference,
                format!("starting a thread to read layer {index} failed: {e}"),
                "the system is out of threads or memory: retry with fewer programs running",
            )
        })?;
    Ok(LayerStream {
        full: Some(full),
        empty,
        current: Arc::new(Vec::new()),
        filled: 0,
        taken: 0,
        end: None,
        thread: Some(thread),
    })
}

impl Rootfs {
    /// Applies the layers of `image` in order.
    pub fn flatten(store: &Store, image: &ResolvedImage) -> Result<Rootfs> {
        Self::flatten_tapped(store, image, &mut NoTap)
    }

    /// As [`Rootfs::flatten`], showing every regular file's bytes to `tap` on the way.
    pub fn flatten_tapped(store: &Store, image: &ResolvedImage, tap: &mut dyn Tap) -> Result<Rootfs> {
        let mut rootfs = Rootfs {
            entries: BTreeMap::new(),
            layers: image.layers().to_vec(),
        };
        let diff_ids = image.config.rootfs().diff_ids().clone();
        for index in 0..image.layers().len() {
            let ctx = LayerCtx {
                image: &image.reference,
                layer: image.layers()[index].digest().to_string(),
            };
            let mut stream = open_layer(store, image, index)?;
            rootfs.apply_layer(&mut stream, index, &ctx, tap)?;
            let diff_id = stream.finish().map_err(|e| ctx.corrupt("", e.to_string()))?;
            if diff_ids.get(index).map(String::as_str) != Some(diff_id.to_string().as_str()) {
                return Err(ctx.err(
                    Code::DigestMismatch,
                    "",
                    format!(
                        "uncompressed content hashes to {diff_id}, but the config's diff_id is {}",
                        diff_ids.get(index).map_or("missing", String::as_str)
                    ),
                    "the image was tampered with or is corrupt",
                ));
            }
        }
        rootfs.check_symlink_loops(&image.reference)?;
        Ok(rootfs)
    }

    fn apply_layer(&mut self, stream: &mut impl Read, layer: usize, ctx: &LayerCtx, tap: &mut dyn Tap) -> Result<()> {
        let mut archive = tar::Archive::new(stream);
        let mut written: BTreeSet<PathBuf> = BTreeSet::new();
        let entries = archive
            .entries()
            .map_err(|e| ctx.corrupt("", format!("not a tar stream: {e}")))?;
        for (ordinal, entry) in entries.enumerate() {
            let mut entry = entry.map_err(|e| ctx.corrupt("", format!("corrupt or truncated: {e}")))?;
            let raw = entry
                .path()
                .map_err(|e| ctx.corrupt("", format!("unreadable entry name: {e}")))?
                .into_owned();
            if raw.is_absolute() {
                return Err(ctx.hostile(&raw, "absolute entry name"));
            }
            let Some(path) = clean_member_path(&raw) else {
                return Err(ctx.hostile(&raw, "the entry climbs out of the root with `..`"));
            };
            if path.as_os_str().is_empty() {
                continue; // "./" itself: the root's metadata is not part of the view
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            self.check_parents(&parent, ctx, &path)?;
            if name == ".wh..wh..opq" {
                // Opaque directory: hide everything lower layers put in it.
                self.entries
                    .retain(|p, e| !(p.starts_with(&parent) && p != &parent && e.layer < layer));
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                let target = parent.join(hidden);
                self.remove_tree(&target, |e| e.layer < layer);
                continue;
            }
            if !written.insert(path.clone()) {
                return Err(ctx.hostile(&path, "the layer writes this path twice"));
            }
            let xattrs = xattrs_of(&mut entry, ctx, &path)?;
            let header = entry.header().clone();
            let mode = header.mode().map_err(|e| ctx.hostile(&path, e.to_string()))? & 0o7777;
            let uid = header.uid().map_err(|e| ctx.hostile(&path, e.to_string()))?;
            let gid = header.gid().map_err(|e| ctx.hostile(&path, e.to_string()))?;
            let mtime = header.mtime().unwrap_or(0);
            let entry_type = header.entry_type();
            let mut new = Entry {
                kind: Kind::File,
                mode,
                uid,
                gid,
                size: 0,
                mtime,
                sha256: None,
                xattrs,
                content: None,
                layer,
                hardlink_of: None,
            };
            match entry_type {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let at = ContentRef {
                        layer,
                        ordinal: ordinal as u64,
                    };
                    let watching = tap.begin(&path, entry.size(), at);
                    let mut hasher = HashingWriter::new(io::sink());
                    let mut buf = vec![0u8; 1 << 16];
                    loop {
                        let n = entry
                            .read(&mut buf)
                            .map_err(|e| ctx.corrupt(&path, format!("reading the file failed: {e}")))?;
                        if n == 0 {
                            break;
                        }
                        io::Write::write_all(&mut hasher, &buf[..n]).map_err(|e| ctx.hostile(&path, e.to_string()))?;
                        if watching {
                            tap.chunk(&buf[..n]);
                        }
                    }
                    if watching {
                        tap.end();
                    }
                    let (_, digest, size) = hasher.finish();
                    new.size = size;
                    new.sha256 = Some(digest);
                    new.content = Some(at);
                }
                tar::EntryType::Directory => new.kind = Kind::Dir,
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name()
                        .map_err(|e| ctx.hostile(&path, e.to_string()))?
                        .ok_or_else(|| ctx.hostile(&path, "symlink without a target"))?;
                    let target_text = target.to_string_lossy().into_owned();
                    if !target.is_absolute() && escapes(&parent, &target) {
                        return Err(
                            ctx.hostile(&path, format!("symlink target {target_text:?} climbs out of the root"))
                        );
                    }
                    new.kind = Kind::Symlink { target: target_text };
                }
                tar::EntryType::Link => {
                    let target = entry
                        .link_name()
                        .map_err(|e| ctx.hostile(&path, e.to_string()))?
                        .ok_or_else(|| ctx.hostile(&path, "hard link without a target"))?;
                    let Some(target) = clean_member_path(&target).filter(|t| !t.as_os_str().is_empty()) else {
                        return Err(
                            ctx.hostile(&path, format!("hard link target {} leaves the root", target.display()))
                        );
                    };
                    let Some(existing) = self.entries.get(&target) else {
                        return Err(ctx.hostile(
                            &path,
                            format!("hard link to {}, which does not exist", target.display()),
                        ));
                    };
                    if existing.kind == Kind::Dir {
                        return Err(ctx.hostile(&path, format!("hard link to the directory {}", target.display())));
                    }
                    // A hard link shares the inode: same content, mode and owner.
                    new = Entry {
                        layer,
                        hardlink_of: Some(target),
                        ..existing.clone()
                    };
                }
                tar::EntryType::Char | tar::EntryType::Block => {
                    let major = header.device_major().ok().flatten().unwrap_or(0);
                    let minor = header.device_minor().ok().flatten().unwrap_or(0);
                    new.kind = if entry_type == tar::EntryType::Char {
                        Kind::Char { major, minor }
                    } else {
                        Kind::Block { major, minor }
                    };
                }
                tar::EntryType::Fifo => new.kind = Kind::Fifo,
                other => {
                    return Err(ctx.err(
                        Code::Unsupported,
                        &path,
                        format!("unsupported tar entry type {other:?}"),
                        "layers hold files, folders, links, devices and fifos only",
                    ));
                }
            }
            self.insert(path, new);
        }
        Ok(())
    }

    /// No ancestor of an entry may be a symlink (writing through it would land elsewhere), and
    /// missing ancestors are created as root-owned 0755 folders, as image extraction does.
    fn check_parents(&mut self, parent: &Path, ctx: &LayerCtx, path: &Path) -> Result<()> {
        let mut prefix = PathBuf::new();
        for component in parent.components() {
            prefix.push(component);
            match self.entries.get(&prefix) {
                Some(e) if matches!(e.kind, Kind::Symlink { .. }) => {
                    return Err(ctx.hostile(path, format!("written through the symlink {}", prefix.display())));
                }
                Some(e) if e.kind != Kind::Dir => {
                    return Err(ctx.hostile(path, format!("its parent {} is not a directory", prefix.display())));
                }
                Some(_) => {}
                None => {
                    self.entries.insert(
                        prefix.clone(),
                        Entry {
                            kind: Kind::Dir,
                            mode: 0o755,
                            uid: 0,
                            gid: 0,
                            size: 0,
                            mtime: 0,
                            sha256: None,
                            xattrs: BTreeMap::new(),
                            content: None,
                            layer: usize::MAX,
                            hardlink_of: None,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    fn insert(&mut self, path: PathBuf, new: Entry) {
        // A directory over a directory keeps the children; anything else replaces the subtree.
        let keep_children = new.kind == Kind::Dir && self.entries.get(&path).is_some_and(|e| e.kind == Kind::Dir);
        if !keep_children {
            self.remove_tree(&path, |_| true);
        }
        self.entries.insert(path, new);
    }

    fn remove_tree(&mut self, path: &Path, which: impl Fn(&Entry) -> bool) {
        let doomed: Vec<PathBuf> = self
            .entries
            .range(path.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(path))
            .filter(|(_, e)| which(e))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.entries.remove(&p);
        }
    }

    /// Follows symlinks from `path` as the kernel would inside the root (`..` stops at `/`).
    /// Returns the final path, or `None` if it dangles; a loop is an error.
    pub fn resolve(&self, path: &Path) -> std::result::Result<Option<PathBuf>, String> {
        let mut pending: Vec<PathBuf> = vec![path.to_path_buf()];
        let mut hops = 0;
        let mut current = PathBuf::new();
        while let Some(next) = pending.pop() {
            let mut components: Vec<_> = next.components().collect();
            components.reverse();
            while let Some(c) = components.pop() {
                match c {
                    std::path::Component::RootDir => current = PathBuf::new(),
                    std::path::Component::ParentDir => {
                        current.pop();
                    }
                    std::path::Component::Normal(n) => {
                        let candidate = current.join(n);
                        match self.entries.get(&candidate).map(|e| &e.kind) {
                            Some(Kind::Symlink { target }) => {
                                hops += 1;
                                if hops > MAX_SYMLINK_HOPS {
                                    return Err(format!(
                                        "{}: too many levels of symbolic links (a loop)",
                                        path.display()
                                    ));
                                }
                                let rest: PathBuf = components.iter().rev().collect();
                                let target = Path::new(target);
                                if target.is_absolute() {
                                    current = PathBuf::new();
                                }
                                pending.push(target.join(rest));
                                break;
                            }
                            Some(_) => current = candidate,
                            None => return Ok(None),
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Some(current))
    }

    fn check_symlink_loops(&self, image: &str) -> Result<()> {
        for (path, entry) in &self.entries {
            if matches!(entry.kind, Kind::Symlink { .. })
                && let Err(message) = self.resolve(path)
            {
                return Err(ImageError::Layer {
                    code: Code::HostileLayer,
                    image: image.to_owned(),
                    layer: self
                        .layers
                        .get(entry.layer)
                        .map(|d| d.digest().to_string())
                        .unwrap_or_default(),
                    path: path.display().to_string(),
                    message,
                    hint: "fix the links so that each ends at a file or folder".into(),
                });
            }
        }
        Ok(())
    }

    pub fn files(&self) -> impl Iterator<Item = (&PathBuf, &Entry)> {
        self.entries.iter().filter(|(_, e)| e.kind == Kind::File)
    }
}

/// Whether a relative symlink target, read from `parent`, climbs above the root.
pub(crate) fn escapes(parent: &Path, target: &Path) -> bool {
    let mut depth = parent.components().count() as i64;
    for c in target.components() {
        match c {
            std::path::Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            std::path::Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    false
}

fn xattrs_of<R: Read>(entry: &mut tar::Entry<R>, ctx: &LayerCtx, path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let Some(extensions) = entry
        .pax_extensions()
        .map_err(|e| ctx.corrupt(path, format!("bad PAX header: {e}")))?
    else {
        return Ok(out);
    };
    for ext in extensions {
        let ext = ext.map_err(|e| ctx.corrupt(path, format!("bad PAX record: {e}")))?;
        if let Ok(key) = ext.key()
            && let Some(name) = key.strip_prefix("SCHILY.xattr.")
        {
            out.insert(name.to_owned(), ext.value_bytes().to_vec());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_targets() {
        assert!(!escapes(Path::new("usr/bin"), Path::new("../lib/x")));
        assert!(!escapes(Path::new("usr/bin"), Path::new("../../etc")));
        assert!(escapes(Path::new("usr/bin"), Path::new("../../../etc")));
        assert!(escapes(Path::new(""), Path::new("../x")));
    }
}
