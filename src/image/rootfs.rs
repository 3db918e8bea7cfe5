//! The filesystem an image's layers make, computed in one streaming pass per layer without
//! extracting anything to disk: whiteouts and opaque directories applied (`.wh..wh..opq`, which
//! LinuxKit ignores), hard links, symlinks, devices and xattrs kept, every regular file hashed,
//! and each file's content located (layer and entry number) so later stages can stream it again.
//!
//! Hostile layers are refused, naming the image, layer and path: entries that climb out of the
//! root, absolute names, symlinks whose relative target leaves the root, entries written through
//! a symlinked parent, hard links to missing targets, duplicate entries and whiteouts, whiteouts
//! of what the same layer wrote, symlink loops, corrupt or truncated streams (`tarstream`),
//! layers that do not hash to the config's diff_id, and decompression bombs.
//!
//! Work and memory are bounded whatever the layers hold: every entry the view takes in is
//! counted against [`MAX_ENTRIES`] and [`MAX_METADATA_BYTES`]; each map operation touches the
//! entries it concerns only (a whiteout walks the subtree it removes, a new path looks up its
//! missing parents only, since every entry's ancestors are folders of the view); and the symlink
//! check walks at most [`MAX_LINK_WALK_BYTES`] of names.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::ops::Bound;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, mpsc};

use oci_spec::image::MediaType;
use serde::Serialize;

use super::digest::{Digest, HashingWriter};
use super::error::{Code, ImageError, Result};
use super::resolve::{ResolvedImage, clean_member_path};
use super::store::Store;
use super::tarstream::{self, CORRUPT, HOSTILE, MemberKind, TarError, TarStream};

/// Decompressed bytes allowed per compressed byte, beyond [`BOMB_FLOOR`]: real layers compress
/// 2–10×; a layer of zeros compresses 1000×.
pub const BOMB_RATIO: u64 = 100;
pub const BOMB_FLOOR: u64 = 256 << 20;
/// Symlinks followed while resolving one path before it counts as a loop (Linux's MAXSYMLINKS).
pub const MAX_SYMLINK_HOPS: usize = 40;
/// Entries the flattened view may take in, counting each layer's entries (a path written by
/// three layers counts three times) and the folders their paths imply: a real image takes in
/// tens or hundreds of thousands.
pub const MAX_ENTRIES: u64 = 2_000_000;
/// Bytes of paths, link targets and extended attributes the view may take in, counted the same
/// way (attributes shared by hard links count once).
pub const MAX_METADATA_BYTES: u64 = 512 << 20;
/// Bytes of path names looked up while checking every symlink for loops, in all: a real image
/// looks up a few MiB.
pub const MAX_LINK_WALK_BYTES: u64 = 256 << 20;

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
    /// Extended attributes, shared by the hard links of one file rather than copied to each.
    #[serde(skip_serializing_if = "no_xattrs")]
    pub xattrs: Arc<BTreeMap<String, Vec<u8>>>,
    /// For regular files: where the content is (shared by hard links).
    #[serde(skip)]
    pub content: Option<ContentRef>,
    /// The layer that last wrote this entry (for a folder no layer wrote, the layer of the
    /// entry whose path implied it).
    pub layer: usize,
    /// Another path of the same file, when this one was written as a hard link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardlink_of: Option<PathBuf>,
}

fn no_xattrs(xattrs: &Arc<BTreeMap<String, Vec<u8>>>) -> bool {
    xattrs.is_empty()
}

impl Entry {
    /// A folder that no entry describes but some entry's path needs, as image extraction makes
    /// it: root-owned, 0755.
    fn implied_dir(layer: usize) -> Entry {
        Entry {
            kind: Kind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            sha256: None,
            xattrs: Arc::default(),
            content: None,
            layer,
            hardlink_of: None,
        }
    }
}

/// Something worth knowing about how a layer was written that is not an error: later stages
/// (the evidence) carry it, and a policy may warn on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerFact {
    /// The last entry's data is not padded to a whole 512-byte block (umoci ≤ 0.4.7 writes
    /// layers so; Go's archive/tar, and so containerd and Docker, read them).
    TarPaddingMissing,
    /// The two zero blocks that close a tar archive are missing (umoci ≤ 0.4.7).
    TarFooterMissing,
}

impl LayerFact {
    fn of(ending: tarstream::Ending) -> Vec<LayerFact> {
        let mut facts = Vec::new();
        if ending.padding_missing {
            facts.push(LayerFact::TarPaddingMissing);
        }
        if ending.footer_missing {
            facts.push(LayerFact::TarFooterMissing);
        }
        facts
    }
}

/// One layer of a flattened image: its digest and what was unusual about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerFacts {
    pub digest: String,
    pub facts: Vec<LayerFact>,
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

/// Tells `progress` of every file as it begins (one more file, its size) and asks for no bytes,
/// so it costs nothing per byte.
pub struct FileCounter<'a>(pub &'a dyn crate::progress::Progress);

impl Tap for FileCounter<'_> {
    fn begin(&mut self, _: &Path, size: u64, _: ContentRef) -> bool {
        self.0.advance(0, 1, size);
        false
    }
    fn chunk(&mut self, _: &[u8]) {}
    fn end(&mut self) {}
}

/// Shows every file to two taps: each sees the bytes of the files it asked for. Borrowed
/// (`Tee`) for one pass, or owned, for a thread's taps that outlive the call that made them.
pub struct Both<A, B> {
    pub first: A,
    pub second: B,
    watching: (bool, bool),
}

pub type Tee<'a> = Both<&'a mut dyn Tap, &'a mut dyn Tap>;

impl<A: Tap, B: Tap> Both<A, B> {
    pub fn new(first: A, second: B) -> Self {
        Both {
            first,
            second,
            watching: (false, false),
        }
    }
}

impl<T: Tap + ?Sized> Tap for &mut T {
    fn begin(&mut self, path: &Path, size: u64, at: ContentRef) -> bool {
        (**self).begin(path, size, at)
    }
    fn chunk(&mut self, bytes: &[u8]) {
        (**self).chunk(bytes)
    }
    fn end(&mut self) {
        (**self).end()
    }
}

impl<A: Tap, B: Tap> Tap for Both<A, B> {
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

/// The flattened view: relative path → entry (the root itself is not listed). Every entry's
/// ancestors are folders of the view.
#[derive(Debug, Clone, Default)]
pub struct Rootfs {
    pub entries: BTreeMap<PathBuf, Entry>,
    /// Each layer, in order: its digest (for messages) and the facts about how it was written.
    pub layers: Vec<LayerFacts>,
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
            path: tarstream::shown(path.as_ref()),
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

    /// The layer's tar stream could not be read.
    pub fn tar(&self, e: TarError) -> ImageError {
        self.err(e.code, &e.entry, e.message, e.hint)
    }
}

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
            // The kind tells a bomb from a corrupt stream (`tarstream::stream_error`).
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "the layer decompresses to more than {} bytes ({BOMB_RATIO}× its compressed size, \
                     {BOMB_FLOOR} at least): a decompression bomb",
                    self.limit
                ),
            ));
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
    let ctx = LayerCtx::of(image, index);
    let digest = Digest::try_from(desc.digest()).map_err(|e| {
        ctx.err(
            Code::Unsupported,
            "",
            e.to_string(),
            "sealkit reads sha256 digests only: push or export the image with sha256 digests",
        )
    })?;
    let mut blob = io::BufReader::with_capacity(1 << 17, store.open_blob(&digest, Some(desc.size()))?);
    let head = io::BufRead::fill_buf(&mut blob)
        .map_err(|e| {
            ctx.err(
                Code::CorruptStore,
                "",
                format!("reading the stored blob failed: {e}"),
                "the store's copy is unreadable: import or pull the image again",
            )
        })?
        .to_vec();
    let compression = compression_of(desc.media_type(), &head);
    let plain = matches!(compression, Compression::None);
    let decoded: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(blob),
        Compression::Gzip => Box::new(super::gunzip::MultiGzDecoder::new(blob)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(blob)
                .map_err(|e| ctx.corrupt("", format!("the zstd stream cannot be read: {e}")))?,
        ),
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
            ctx.err(
                Code::Io,
                "",
                format!("starting a thread to read the layer failed: {e}"),
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

impl<'a> LayerCtx<'a> {
    /// Layer `index` of `image`.
    pub fn of(image: &'a ResolvedImage, index: usize) -> Self {
        LayerCtx {
            image: &image.reference,
            layer: image.layers()[index].digest().to_string(),
        }
    }
}

impl Rootfs {
    /// Applies the layers of `image` in order.
    pub fn flatten(store: &Store, image: &ResolvedImage) -> Result<Rootfs> {
        Self::flatten_tapped(store, image, &mut NoTap)
    }

    /// As [`Rootfs::flatten`], showing every regular file's bytes to `tap` on the way.
    pub fn flatten_tapped(store: &Store, image: &ResolvedImage, tap: &mut dyn Tap) -> Result<Rootfs> {
        let mut flat = Flattening::default();
        let diff_ids = image.config.rootfs().diff_ids();
        for index in 0..image.layers().len() {
            let ctx = LayerCtx::of(image, index);
            let mut stream = open_layer(store, image, index)?;
            flat.apply_layer(&mut stream, index, &ctx, tap)?;
            let diff_id = stream.finish().map_err(|e| ctx.tar(tarstream::stream_error(&e, "")))?;
            let expected = diff_ids.get(index).map(String::as_str);
            if expected != Some(diff_id.to_string().as_str()) {
                return Err(ctx.err(
                    Code::DigestMismatch,
                    "",
                    format!(
                        "its uncompressed content hashes to {diff_id}, but the image's config says {}",
                        expected.map_or_else(
                            || "nothing (it lists fewer diff_ids than layers)".into(),
                            |d| format!("diff_id {d}")
                        )
                    ),
                    "the image was altered or damaged after it was built: import or pull it again from a source you \
                     trust, or rebuild it",
                ));
            }
        }
        flat.check_symlink_loops(&image.reference)?;
        Ok(flat.rootfs)
    }

    /// Follows symlinks from `path` as the kernel would inside the root (`..` stops at `/`).
    /// Returns the final path, or `None` if it dangles; a loop is an error.
    pub fn resolve(&self, path: &Path) -> std::result::Result<Option<PathBuf>, String> {
        let mut walk = Walk {
            steps: 0,
            bytes: 0,
            limit: u64::MAX,
        };
        self.follow(PathBuf::new(), path, 0, &mut walk).map_err(|_| {
            format!(
                "{}: too many levels of symbolic links (more than {MAX_SYMLINK_HOPS}): a loop",
                path.display()
            )
        })
    }

    /// Resolves `path` from the folder `current` (a path of the view without symlinks), having
    /// followed `hops` symlinks already.
    fn follow(
        &self,
        mut current: PathBuf,
        path: &Path,
        mut hops: usize,
        walk: &mut Walk,
    ) -> std::result::Result<Option<PathBuf>, Unresolved> {
        let mut pending: Vec<Component> = path.components().rev().collect();
        while let Some(component) = pending.pop() {
            match component {
                Component::RootDir => current = PathBuf::new(),
                Component::ParentDir => {
                    current.pop();
                }
                Component::Normal(name) => {
                    current.push(name);
                    walk.step(&current)?;
                    match self.entries.get(&current).map(|e| &e.kind) {
                        Some(Kind::Symlink { target }) => {
                            hops += 1;
                            if hops > MAX_SYMLINK_HOPS {
                                return Err(Unresolved::Loop);
                            }
                            current.pop();
                            pending.extend(Path::new(target).components().rev());
                        }
                        Some(_) => {}
                        None => return Ok(None),
                    }
                }
                Component::CurDir | Component::Prefix(_) => {}
            }
        }
        Ok(Some(current))
    }

    pub fn files(&self) -> impl Iterator<Item = (&PathBuf, &Entry)> {
        self.entries.iter().filter(|(_, e)| e.kind == Kind::File)
    }
}

/// Why a path could not be resolved.
enum Unresolved {
    Loop,
    /// The walk's budget ran out.
    Budget,
}

/// Path names looked up while resolving: how many, and their bytes against a limit.
struct Walk {
    steps: u64,
    bytes: u64,
    limit: u64,
}

impl Walk {
    fn step(&mut self, looked_up: &Path) -> std::result::Result<(), Unresolved> {
        self.steps += 1;
        self.bytes += looked_up.as_os_str().len() as u64;
        if self.bytes > self.limit {
            return Err(Unresolved::Budget);
        }
        Ok(())
    }
}

/// The bounds of one flattening: the constants above, smaller in tests.
struct Limits {
    entries: u64,
    metadata_bytes: u64,
    link_walk_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: MAX_ENTRIES,
            metadata_bytes: MAX_METADATA_BYTES,
            link_walk_bytes: MAX_LINK_WALK_BYTES,
        }
    }
}

/// An image being flattened: the view, what it has taken in, and the work done.
#[derive(Default)]
struct Flattening {
    rootfs: Rootfs,
    limits: Limits,
    /// Entries and bytes of metadata taken in (see [`MAX_ENTRIES`]).
    entries_taken: u64,
    bytes_taken: u64,
    /// Map lookups, insertions and removals, and entries visited: the work the tests bound.
    ops: u64,
}

/// Paths one layer wrote, and its whiteouts: neither may come twice, and a whiteout may not
/// delete what the layer itself wrote.
#[derive(Default)]
struct LayerPaths {
    written: BTreeSet<PathBuf>,
    whiteouts: BTreeSet<PathBuf>,
}

/// The first path of `set` at or beneath `dir`, or strictly beneath it.
fn first_within<'s>(set: &'s BTreeSet<PathBuf>, dir: &Path, strictly: bool) -> Option<&'s PathBuf> {
    set.range::<Path, _>((Bound::Included(dir), Bound::Unbounded))
        .find(|p| !(strictly && p.as_path() == dir))
        .filter(|p| p.starts_with(dir))
}

impl Flattening {
    /// Applies one layer's tar stream, and records what was unusual about it.
    fn apply_layer(&mut self, stream: impl Read, layer: usize, ctx: &LayerCtx, tap: &mut dyn Tap) -> Result<()> {
        let mut tar = TarStream::new(stream);
        let mut paths = LayerPaths::default();
        let mut buf = vec![0u8; 1 << 16];
        while let Some(member) = tar.next_member().map_err(|e| ctx.tar(e))? {
            let raw = &member.name;
            if raw.is_absolute() {
                return Err(ctx.hostile(raw, "absolute entry name"));
            }
            let Some(path) = clean_member_path(raw) else {
                return Err(ctx.hostile(raw, "the entry climbs out of the root with `..`"));
            };
            if path.as_os_str().is_empty() {
                continue; // "./" itself: the root's metadata is not part of the view
            }
            let name = path.file_name().map_or(&[][..], OsStr::as_bytes);
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            self.ensure_parents(&parent, layer, ctx, &path)?;
            if let Some(hidden) = name.strip_prefix(b".wh.") {
                let opaque = hidden == b".wh..opq";
                if !paths.whiteouts.insert(path.clone()) {
                    let what = if opaque { "opaque marker" } else { "whiteout" };
                    return Err(ctx.hostile(&path, format!("the layer repeats this {what}")));
                }
                if opaque {
                    self.opaque(&parent, &paths, ctx, &path)?;
                } else {
                    self.whiteout(&parent, hidden, &paths, ctx, &path)?;
                }
                continue;
            }
            if !paths.written.insert(path.clone()) {
                return Err(ctx.hostile(&path, "the layer writes this path twice"));
            }
            let xattr_bytes: usize = member.xattrs.iter().map(|(k, v)| k.len() + v.len()).sum();
            let mut new = Entry {
                kind: Kind::File,
                mode: member.mode,
                uid: member.uid,
                gid: member.gid,
                size: 0,
                mtime: member.mtime,
                sha256: None,
                xattrs: Arc::new(member.xattrs),
                content: None,
                layer,
                hardlink_of: None,
            };
            let mut bytes = path.as_os_str().len() + xattr_bytes;
            match member.kind {
                MemberKind::Regular => {
                    let at = ContentRef {
                        layer,
                        ordinal: member.ordinal,
                    };
                    let watching = tap.begin(&path, member.size, at);
                    let mut hasher = HashingWriter::new(io::sink());
                    loop {
                        let n = tar
                            .read(&mut buf)
                            .map_err(|e| ctx.tar(tarstream::data_error(e, &path)))?;
                        if n == 0 {
                            break;
                        }
                        // A sink never fails.
                        let _ = io::Write::write_all(&mut hasher, &buf[..n]);
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
                MemberKind::Dir => new.kind = Kind::Dir,
                MemberKind::Symlink => {
                    let target = member
                        .link
                        .ok_or_else(|| ctx.hostile(&path, "symlink without a target"))?;
                    let target_text = target.to_string_lossy().into_owned();
                    if !target.is_absolute() && escapes(&parent, &target) {
                        return Err(
                            ctx.hostile(&path, format!("symlink target {target_text:?} climbs out of the root"))
                        );
                    }
                    bytes += target_text.len();
                    new.kind = Kind::Symlink { target: target_text };
                }
                MemberKind::HardLink => {
                    let target = member
                        .link
                        .ok_or_else(|| ctx.hostile(&path, "hard link without a target"))?;
                    let Some(target) = clean_member_path(&target).filter(|t| !t.as_os_str().is_empty()) else {
                        return Err(ctx.hostile(
                            &path,
                            format!("hard link target {} leaves the root", tarstream::shown(&target)),
                        ));
                    };
                    self.ops += 1;
                    let Some(existing) = self.rootfs.entries.get(&target) else {
                        return Err(ctx.hostile(
                            &path,
                            format!("hard link to {}, which does not exist", tarstream::shown(&target)),
                        ));
                    };
                    if existing.kind == Kind::Dir {
                        return Err(ctx.hostile(
                            &path,
                            format!("hard link to the directory {}", tarstream::shown(&target)),
                        ));
                    }
                    bytes = path.as_os_str().len() + target.as_os_str().len();
                    if let Kind::Symlink { target } = &existing.kind {
                        bytes += target.len();
                    }
                    // A hard link shares the inode: same content, mode, owner and attributes.
                    new = Entry {
                        layer,
                        hardlink_of: Some(target),
                        ..existing.clone()
                    };
                }
                MemberKind::Char => {
                    new.kind = Kind::Char {
                        major: member.major,
                        minor: member.minor,
                    }
                }
                MemberKind::Block => {
                    new.kind = Kind::Block {
                        major: member.major,
                        minor: member.minor,
                    }
                }
                MemberKind::Fifo => new.kind = Kind::Fifo,
            }
            self.take(ctx, &path, bytes)?;
            self.insert(path, new);
        }
        let ending = tar.ending().unwrap_or_default();
        self.rootfs.layers.push(LayerFacts {
            digest: ctx.layer.clone(),
            facts: LayerFact::of(ending),
        });
        Ok(())
    }

    /// Counts one more entry of `bytes` of metadata against the image's budget.
    fn take(&mut self, ctx: &LayerCtx, path: &Path, bytes: usize) -> Result<()> {
        self.entries_taken += 1;
        self.bytes_taken += bytes as u64;
        let over = if self.entries_taken > self.limits.entries {
            format!("the image's layers hold more than {} entries", self.limits.entries)
        } else if self.bytes_taken > self.limits.metadata_bytes {
            format!(
                "the image's layers hold more than {} bytes of names, link targets and attributes",
                self.limits.metadata_bytes
            )
        } else {
            return Ok(());
        };
        Err(ctx.err(
            Code::LimitExceeded,
            path,
            format!("{over} (counting each layer's copy of a path, and the folders paths imply)"),
            "sealkit flattens images within fixed bounds (docs/limits.md): split the image, or squash its layers",
        ))
    }

    /// No ancestor of an entry may be a symlink (writing through it would land elsewhere), and
    /// missing ancestors are created as root-owned 0755 folders, as image extraction does. Since
    /// every entry's ancestors are folders, only the missing ones and the nearest present one
    /// are looked up.
    fn ensure_parents(&mut self, parent: &Path, layer: usize, ctx: &LayerCtx, path: &Path) -> Result<()> {
        let mut missing = Vec::new();
        let mut dir = parent;
        while !dir.as_os_str().is_empty() {
            self.ops += 1;
            match self.rootfs.entries.get(dir).map(|e| &e.kind) {
                Some(Kind::Dir) => break,
                Some(Kind::Symlink { .. }) => {
                    return Err(ctx.hostile(path, format!("written through the symlink {}", dir.display())));
                }
                Some(_) => {
                    return Err(ctx.hostile(path, format!("its parent {} is not a directory", dir.display())));
                }
                None => {
                    missing.push(dir);
                    dir = dir.parent().unwrap_or(Path::new(""));
                }
            }
        }
        for dir in missing.into_iter().rev() {
            self.take(ctx, path, dir.as_os_str().len())?;
            self.ops += 1;
            self.rootfs.entries.insert(dir.to_path_buf(), Entry::implied_dir(layer));
        }
        Ok(())
    }

    /// `.wh.NAME`: removes NAME and everything below it, as lower layers left them.
    fn whiteout(
        &mut self,
        parent: &Path,
        hidden: &[u8],
        paths: &LayerPaths,
        ctx: &LayerCtx,
        marker: &Path,
    ) -> Result<()> {
        if matches!(hidden, b"" | b"." | b"..") {
            return Err(ctx.hostile(marker, "a whiteout that names no file in its folder"));
        }
        let target = parent.join(OsStr::from_bytes(hidden));
        if let Some(own) = first_within(&paths.written, &target, false) {
            // Go's extractors would delete it; the OCI spec keeps it: readers disagree.
            return Err(ctx.hostile(
                marker,
                format!(
                    "the layer deletes {} after writing {}",
                    target.display(),
                    tarstream::shown(own)
                ),
            ));
        }
        self.remove_tree(&target, true);
        Ok(())
    }

    /// `.wh..wh..opq`: hides everything lower layers put in the folder.
    fn opaque(&mut self, dir: &Path, paths: &LayerPaths, ctx: &LayerCtx, marker: &Path) -> Result<()> {
        if let Some(own) = first_within(&paths.written, dir, true) {
            return Err(ctx.err(
                Code::Unsupported,
                marker,
                format!(
                    "the opaque marker comes after {}, which the same layer wrote in its folder",
                    tarstream::shown(own)
                ),
                "write the marker right after its folder's own entry, as Docker, BuildKit and umoci do",
            ));
        }
        self.remove_tree(dir, false);
        Ok(())
    }

    fn insert(&mut self, path: PathBuf, new: Entry) {
        // A directory over a directory keeps the children; anything else replaces the subtree.
        self.ops += 1;
        let keep_children =
            new.kind == Kind::Dir && self.rootfs.entries.get(&path).is_some_and(|e| e.kind == Kind::Dir);
        if !keep_children {
            self.remove_tree(&path, true);
        }
        self.ops += 1;
        self.rootfs.entries.insert(path, new);
    }

    /// Removes everything below `top`, and `top` itself if asked: the entries visited are the
    /// entries removed.
    fn remove_tree(&mut self, top: &Path, with_top: bool) {
        let doomed: Vec<PathBuf> = self
            .rootfs
            .entries
            .range::<Path, _>((Bound::Included(top), Bound::Unbounded))
            .take_while(|(p, _)| p.starts_with(top))
            .filter(|(p, _)| with_top || p.as_path() != top)
            .map(|(p, _)| p.clone())
            .collect();
        self.ops += 1 + doomed.len() as u64;
        for p in doomed {
            self.rootfs.entries.remove(&p);
        }
    }

    /// Every symlink must resolve in [`MAX_SYMLINK_HOPS`] hops or dangle. Each is followed
    /// from its own folder (a folder of the view: no symlink in it), all within one budget.
    fn check_symlink_loops(&mut self, image: &str) -> Result<()> {
        let mut walk = Walk {
            steps: 0,
            bytes: 0,
            limit: self.limits.link_walk_bytes,
        };
        let rootfs = &self.rootfs;
        for (path, entry) in &rootfs.entries {
            let Kind::Symlink { target } = &entry.kind else {
                continue;
            };
            let from = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let outcome = rootfs.follow(from, Path::new(target), 1, &mut walk);
            let ctx = LayerCtx {
                image,
                layer: rootfs
                    .layers
                    .get(entry.layer)
                    .map(|l| l.digest.clone())
                    .unwrap_or_default(),
            };
            match outcome {
                Ok(_) => {}
                Err(Unresolved::Loop) => {
                    return Err(ctx.err(
                        Code::HostileLayer,
                        path,
                        format!("too many levels of symbolic links (more than {MAX_SYMLINK_HOPS}): a loop"),
                        "fix the links so that each ends at a file or folder",
                    ));
                }
                Err(Unresolved::Budget) => {
                    return Err(ctx.err(
                        Code::LimitExceeded,
                        path,
                        format!(
                            "checking the image's symlinks for loops looks up more than {} bytes of path names",
                            walk.limit
                        ),
                        "real images need a few MiB (docs/limits.md): rebuild the image with fewer or shorter symlinks",
                    ));
                }
            }
        }
        self.ops += walk.steps;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::super::tarstream::testing::*;
    use super::*;

    /// Flattens layers given as tar bytes (no store, so no digests to check) within `limits`:
    /// the view or the error, and the work done.
    fn flatten_within(layers: &[Vec<u8>], limits: Limits) -> (Result<Rootfs>, u64) {
        let mut flat = Flattening {
            limits,
            ..Flattening::default()
        };
        let mut apply = || -> Result<()> {
            for (index, bytes) in layers.iter().enumerate() {
                let ctx = LayerCtx {
                    image: "test",
                    layer: format!("sha256:{index}"),
                };
                flat.apply_layer(&bytes[..], index, &ctx, &mut NoTap)?;
            }
            flat.check_symlink_loops("test")
        };
        let outcome = apply();
        (outcome.map(|()| std::mem::take(&mut flat.rootfs)), flat.ops)
    }

    fn flatten(layers: &[Vec<u8>]) -> (Result<Rootfs>, u64) {
        flatten_within(layers, Limits::default())
    }

    fn refused(layers: &[Vec<u8>]) -> (&'static str, String) {
        match flatten(layers).0 {
            Ok(_) => panic!("accepted"),
            Err(e) => (e.code(), e.to_string()),
        }
    }

    /// A file at `name`, however long.
    fn long_file(out: &mut Vec<u8>, name: &str) {
        pax(out, &[("path", name.as_bytes())]);
        file(out, "placeholder", b"");
    }

    #[test]
    fn escaping_targets() {
        assert!(!escapes(Path::new("usr/bin"), Path::new("../lib/x")));
        assert!(!escapes(Path::new("usr/bin"), Path::new("../../etc")));
        assert!(escapes(Path::new("usr/bin"), Path::new("../../../etc")));
        assert!(escapes(Path::new(""), Path::new("../x")));
    }

    /// A 40,000-level path is refused from its name alone: no map is touched.
    #[test]
    fn a_deep_path_is_refused_before_any_work() {
        let mut layer = Vec::new();
        long_file(&mut layer, &("a/".repeat(40_000) + "f"));
        let (outcome, ops) = flatten(&[layer]);
        assert_eq!(outcome.unwrap_err().code(), Code::LimitExceeded.as_str());
        assert_eq!(ops, 0);
    }

    /// Parents are looked up from the nearest: a thousand files 2,000 folders deep cost about
    /// as much as the folders themselves, not a thousand times as much.
    #[test]
    fn parents_are_looked_up_once() {
        let deep = "d/".repeat(2000);
        let mut layer = Vec::new();
        for i in 0..1000 {
            long_file(&mut layer, &format!("{deep}f{i}"));
        }
        let (outcome, ops) = flatten(&[layer]);
        let rootfs = outcome.unwrap();
        assert_eq!(rootfs.entries.len(), 3000);
        assert!(ops < 2 * 2000 + 10 * 1000, "{ops} operations");
        let implied = &rootfs.entries[Path::new(&deep[..deep.len() - 1])];
        assert_eq!((&implied.kind, implied.mode, implied.layer), (&Kind::Dir, 0o755, 0));
    }

    /// Each fresh deep path implies thousands of folders: they are counted against the budget,
    /// so the work and memory stop growing where it ends.
    #[test]
    fn implied_folders_are_budgeted() {
        let mut layer = Vec::new();
        for i in 0..100 {
            long_file(&mut layer, &format!("x{i}/{}f", "a/".repeat(1000)));
        }
        let limits = Limits {
            metadata_bytes: 20 << 20,
            ..Limits::default()
        };
        let (outcome, ops) = flatten_within(&[layer], limits);
        let e = outcome.unwrap_err();
        assert_eq!(e.code(), Code::LimitExceeded.as_str());
        assert!(
            e.to_string().contains(
                "the image's layers hold more than 20971520 bytes of names, link targets and attributes (counting each \
                 layer's copy of a path, and the folders paths imply)"
            ),
            "{e}"
        );
        // Twenty chains of a thousand folders (a MiB of names each) fit in 20 MiB.
        assert!(ops < 25 * 2 * 1002, "{ops} operations");
        let limits = Limits {
            entries: 5000,
            ..Limits::default()
        };
        let (outcome, _) = flatten_within(&[archive_of(6000)], limits);
        assert!(outcome.unwrap_err().to_string().contains("hold more than 5000 entries"));
    }

    fn archive_of(files: usize) -> Vec<u8> {
        let mut layer = Vec::new();
        for i in 0..files {
            file(&mut layer, &format!("f{i}"), b"");
        }
        layer
    }

    /// An opaque marker walks its own folder only: two thousand markers over twenty thousand
    /// files cost a few operations per file and marker, not one walk of the tree per marker.
    #[test]
    fn opaque_markers_clear_their_folder_only() {
        let mut lower = Vec::new();
        for d in 0..2000 {
            dir(&mut lower, &format!("d{d}/"));
            for f in 0..10 {
                file(&mut lower, &format!("d{d}/f{f}"), b"x");
            }
        }
        let mut upper = Vec::new();
        for d in 0..2000 {
            file(&mut upper, &format!("d{d}/.wh..wh..opq"), b"");
        }
        file(&mut upper, "d7/new", b"y");
        let (lower_only, lower_ops) = flatten(std::slice::from_ref(&lower));
        assert_eq!(lower_only.unwrap().entries.len(), 22_000);
        let (outcome, ops) = flatten(&[lower, upper]);
        let rootfs = outcome.unwrap();
        let left: Vec<_> = rootfs.files().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(left, ["d7/new"]);
        assert_eq!(rootfs.entries.len(), 2001);
        let marker_ops = ops - lower_ops;
        assert!(marker_ops < 5 * 22_000, "{marker_ops} operations for the markers");
    }

    #[test]
    fn whiteouts_are_well_formed() {
        let mut lower = Vec::new();
        file(&mut lower, "d/old", b"x");
        let cases: Vec<(Vec<u8>, Code, &str)> = vec![
            (
                {
                    let mut l = Vec::new();
                    file(&mut l, "d/.wh..wh..opq", b"");
                    file(&mut l, "d/.wh..wh..opq", b"");
                    l
                },
                Code::HostileLayer,
                "test: layer sha256:1: d/.wh..wh..opq: the layer repeats this opaque marker",
            ),
            (
                {
                    let mut l = Vec::new();
                    file(&mut l, "d/.wh.old", b"");
                    file(&mut l, "d/.wh.old", b"");
                    l
                },
                Code::HostileLayer,
                "test: layer sha256:1: d/.wh.old: the layer repeats this whiteout",
            ),
            (
                {
                    let mut l = Vec::new();
                    file(&mut l, "d/-new", b"");
                    file(&mut l, "d/.wh..wh..opq", b"");
                    l
                },
                Code::Unsupported,
                "test: layer sha256:1: d/.wh..wh..opq: the opaque marker comes after d/-new, which the same layer wrote \
                 in its folder\n  hint: write the marker right after its folder's own entry, as Docker, BuildKit and \
                 umoci do",
            ),
            (
                {
                    let mut l = Vec::new();
                    file(&mut l, "d/new/x", b"");
                    file(&mut l, ".wh.d", b"");
                    l
                },
                Code::HostileLayer,
                "test: layer sha256:1: .wh.d: the layer deletes d after writing d/new/x",
            ),
            (
                {
                    let mut l = Vec::new();
                    file(&mut l, "d/.wh..", b"");
                    l
                },
                Code::HostileLayer,
                "test: layer sha256:1: d/.wh..: a whiteout that names no file in its folder",
            ),
        ];
        for (upper, code, message) in cases {
            let (got, text) = refused(&[lower.clone(), upper]);
            assert_eq!(got, code.as_str(), "{text}");
            assert!(text.starts_with(message), "{text}");
        }
        // A whiteout before the layer's own entry is fine; an implied folder can be whited out.
        let mut upper = Vec::new();
        file(&mut upper, ".wh.d", b"");
        file(&mut upper, "d/again", b"z");
        file(&mut upper, "e/f/g", b"");
        let mut top = Vec::new();
        file(&mut top, ".wh.e", b"");
        let rootfs = flatten(&[lower, upper, top]).0.unwrap();
        let paths: Vec<_> = rootfs.entries.keys().map(|p| p.display().to_string()).collect();
        assert_eq!(paths, ["d", "d/again"]);
    }

    /// Hard links share their target's attributes: ten thousand links to a file with a 64 KiB
    /// attribute hold it once, and count it once.
    #[test]
    fn hard_links_share_metadata() {
        let mut layer = Vec::new();
        pax(&mut layer, &[("SCHILY.xattr.user.big", &[7u8; 64 << 10])]);
        file(&mut layer, "f", b"content");
        for i in 0..10_000 {
            link(&mut layer, &format!("l{i}"), b'1', "f");
        }
        let mut flat = Flattening::default();
        let ctx = LayerCtx {
            image: "test",
            layer: "sha256:0".into(),
        };
        flat.apply_layer(&layer[..], 0, &ctx, &mut NoTap).unwrap();
        let view = &flat.rootfs.entries;
        assert!(Arc::ptr_eq(
            &view[Path::new("f")].xattrs,
            &view[Path::new("l9999")].xattrs
        ));
        assert_eq!(view[Path::new("l9999")].hardlink_of.as_deref(), Some(Path::new("f")));
        assert!(
            flat.bytes_taken < (64 << 10) + 10_000 * 16,
            "{} bytes",
            flat.bytes_taken
        );
    }

    #[test]
    fn symlink_checks_are_bounded() {
        let mut layer = Vec::new();
        let deep = "d/".repeat(500);
        long_file(&mut layer, &format!("{deep}f"));
        for i in 0..50 {
            pax(&mut layer, &[("linkpath", format!("{deep}f").as_bytes())]);
            link(&mut layer, &format!("l{i}"), b'2', "placeholder");
        }
        let (outcome, ops) = flatten(std::slice::from_ref(&layer));
        outcome.unwrap();
        // The file and its 500 folders (2 each), then each link and the 501 names its target walks.
        assert!(ops < 2 * 500 + 50 * 520, "{ops} operations");
        let limits = Limits {
            link_walk_bytes: 1 << 20,
            ..Limits::default()
        };
        let e = flatten_within(&[layer], limits).0.unwrap_err();
        assert_eq!(e.code(), Code::LimitExceeded.as_str());
        assert!(
            e.to_string()
                .contains("checking the image's symlinks for loops looks up more than 1048576 bytes"),
            "{e}"
        );
        let mut loop_layer = Vec::new();
        link(&mut loop_layer, "a", b'2', "b");
        link(&mut loop_layer, "b", b'2', "a");
        link(&mut loop_layer, "dangling", b'2', "nowhere/x");
        assert_eq!(
            refused(&[loop_layer]).1,
            "test: layer sha256:0: a: too many levels of symbolic links (more than 40): a loop\n  hint: fix the links so \
             that each ends at a file or folder"
        );
    }

    #[test]
    fn layers_record_how_they_end() {
        let mut footerless = Vec::new();
        file(&mut footerless, "a", b"1");
        let mut padless = footerless.clone();
        padless.truncate(513);
        let mut complete = footerless.clone();
        finish(&mut complete);
        let rootfs = flatten(&[complete, footerless, padless]).0.unwrap();
        let facts: Vec<_> = rootfs.layers.iter().map(|l| l.facts.clone()).collect();
        assert_eq!(
            facts,
            [
                vec![],
                vec![LayerFact::TarFooterMissing],
                vec![LayerFact::TarPaddingMissing, LayerFact::TarFooterMissing]
            ]
        );
        assert_eq!(
            serde_json::to_value(&rootfs.layers[2]).unwrap(),
            serde_json::json!({"digest": "sha256:2", "facts": ["tar-padding-missing", "tar-footer-missing"]})
        );
    }
}
