//! The local store: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) that any
//! OCI tool can read (`skopeo copy oci:STORE:NAME …`, `umoci`), with names recorded as LinuxKit's
//! cache records them (annotation `org.opencontainers.image.ref.name` = the full reference).
//!
//! Every blob is hashed while it is written and again while it is read; a mismatch is an error
//! naming the blob, never a silent reuse. Writers serialise on a lock file, and every file lands by
//! an atomic rename, so concurrent sealkit processes never see a half-written blob or index.
//!
//! A blob a descriptor names must also have the descriptor's size, checked as bytes arrive (the
//! copy stops one byte past it) and again when the blob is opened: the layer reader bounds
//! decompression by that size, so it must be the size of the bytes on disk.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageIndexBuilder, MediaType};

use super::digest::{Digest, HashingWriter, VerifyingReader};
use super::error::{Code, ImageError, Result};

/// The annotation OCI layouts (and LinuxKit's cache) keep an image's name in.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// How large one kind of blob may be (docs/limits.md); the error that refuses more names
/// the kind.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bytes: u64,
    pub kind: &'static str,
}

/// Manifests, indexes and configs are read whole into memory. Real ones are a few KiB.
pub const METADATA: Limit = Limit {
    bytes: 4 << 20,
    kind: "a manifest, index or config",
};

/// The largest layer accepted from any source; a bound, not an expectation.
pub const LAYER: Limit = Limit {
    bytes: 64 << 30,
    kind: "a layer",
};

/// The hint of every error about a damaged store copy: importing or pulling replaces it.
pub const REPAIR: &str = "the store's copy is damaged: import or pull the image again, which replaces it";

/// A blob as a descriptor names it: its content must hash to `digest` and be `size` bytes long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub digest: Digest,
    pub size: u64,
}

impl Blob {
    /// The blob `d` describes; `what` names the image in the error for a digest sealkit does not
    /// read.
    pub fn of(d: &Descriptor, what: &str) -> Result<Self> {
        let digest = Digest::try_from(d.digest()).map_err(|e| {
            ImageError::invalid(
                Code::Unsupported,
                what,
                e.to_string(),
                "only sha256 content is supported",
            )
        })?;
        Ok(Blob { digest, size: d.size() })
    }

    /// Refuses a descriptor that claims more than `limit`, before anything is read.
    pub fn check(&self, limit: Limit, what: &str) -> Result<()> {
        if self.size > limit.bytes {
            return Err(ImageError::invalid(
                Code::LimitExceeded,
                what,
                format!(
                    "blob {} is {} bytes by its descriptor, more than {} may be ({} bytes); nothing was copied",
                    self.digest, self.size, limit.kind, limit.bytes
                ),
                "the image is corrupt or hostile: no real image has one this large",
            ));
        }
        Ok(())
    }

    fn size_mismatch(&self, message: String, what: &str) -> ImageError {
        ImageError::invalid(
            Code::DigestMismatch,
            what,
            message,
            "the image is corrupt or was tampered with (its descriptor gives another size than its blob's); nothing was stored",
        )
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Holds the store's write lock until dropped.
pub struct StoreLock {
    _file: File,
}

/// Where sealkit keeps `name` (the store, the vulnerability database): `$env` when set, else
/// `$XDG_CACHE_HOME/sealkit/NAME`, else `~/.cache/sealkit/NAME`.
pub fn cache_location(env: &str, name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(env).filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("sealkit").join(name)
}

impl Store {
    /// `SEALKIT_STORE`, else `$XDG_CACHE_HOME/sealkit/store`, else `~/.cache/sealkit/store`.
    pub fn default_location() -> PathBuf {
        cache_location("SEALKIT_STORE", "store")
    }

    /// Opens the store at `root`, creating an empty OCI layout there if needed.
    pub fn open(root: &Path) -> Result<Self> {
        let store = Store {
            root: root.to_path_buf(),
        };
        let blobs = root.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(|e| ImageError::io(&blobs, e))?;
        fs::create_dir_all(store.tmp_dir()).map_err(|e| ImageError::io(store.tmp_dir(), e))?;
        store.remove_stale_temp_files();
        let layout = root.join("oci-layout");
        if !layout.exists() {
            store.write_atomically(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let index = root.join("index.json");
        if !index.exists() {
            let _lock = store.lock()?;
            if !index.exists() {
                store.save_index(&empty_index())?;
            }
        }
        Ok(store)
    }

    /// The error for an image this store lacks: names the store, and how to use another.
    pub fn not_found(&self, reference: &str, fetch: &str) -> ImageError {
        ImageError::NotFound {
            reference: reference.to_owned(),
            store: self.root.clone(),
            hint: format!("{fetch}, or point at the store that holds it with --store DIR or SEALKIT_STORE=DIR"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Takes the store's exclusive write lock (blocking until other writers are done).
    pub fn lock(&self) -> Result<StoreLock> {
        let path = self.root.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ImageError::io(&path, e))?;
        file.lock().map_err(|e| ImageError::io(&path, e))?;
        Ok(StoreLock { _file: file })
    }

    /// Held shared while a temp file is created and locked, exclusive while stale ones are
    /// removed: so the cleaner never sees a live writer's file in the instant before its lock.
    fn temp_guard(&self) -> Result<File> {
        let path = self.root.join(".tmp.lock");
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ImageError::io(&path, e))
    }

    /// A new file in tmp/, exclusively locked (flock) for as long as it is open: the mark of a
    /// live writer, which a killed one loses.
    fn temp_file(&self) -> Result<tempfile::NamedTempFile> {
        let dir = self.tmp_dir();
        let guard = self.temp_guard()?;
        guard.lock_shared().map_err(|e| ImageError::io(&dir, e))?;
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(|e| ImageError::io(&dir, e))?;
        file.as_file().lock().map_err(|e| ImageError::io(file.path(), e))?;
        Ok(file)
    }

    /// Removes what interrupted writers (killed, out of power) left in tmp/: every file no live
    /// writer holds locked. Best effort, as it only frees space: skipped while another process is
    /// creating a temp file (the next open does it), and in a store this user cannot write, which
    /// stays readable.
    fn remove_stale_temp_files(&self) {
        let Ok(guard) = self.temp_guard() else { return };
        let Ok(entries) = fs::read_dir(self.tmp_dir()) else {
            return;
        };
        if guard.try_lock().is_err() {
            return;
        }
        for entry in entries.flatten() {
            let path = entry.path();
            // Landed (renamed into blobs/) or removed since the listing: not stale.
            let Ok(file) = File::open(&path) else { continue };
            if file.metadata().is_ok_and(|m| m.is_file()) && file.try_lock().is_ok() {
                let _ = fs::remove_file(&path);
            }
        }
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let mut file = self.temp_file()?;
        file.write_all(bytes).map_err(|e| ImageError::io(path, e))?;
        file.as_file().sync_all().map_err(|e| ImageError::io(path, e))?;
        file.persist(path).map_err(|e| ImageError::io(path, e.error))?;
        Ok(())
    }

    /// Whether the store holds `blob` intact, so that it need not be fetched again. A damaged
    /// copy is not: the next write of the blob replaces it. A sound copy of another size than the
    /// descriptor's is an error: the descriptor lies.
    pub fn has_intact(&self, blob: &Blob, what: &str) -> Result<bool> {
        if !self.has_blob(&blob.digest) {
            return Ok(false);
        }
        let Ok(size) = self.verify_blob(&blob.digest, what) else {
            return Ok(false);
        };
        if size != blob.size {
            return Err(blob.size_mismatch(
                format!(
                    "blob {} has {size} bytes, but its descriptor says {}",
                    blob.digest, blob.size
                ),
                what,
            ));
        }
        Ok(true)
    }

    /// Streams `reader` into the store, hashing as it goes, and lands it under its digest. With
    /// `expected`, the content must be that blob (reading stops one byte past its size); else it
    /// may be up to `limit`. `what` names the source in errors. Nothing is stored on failure.
    pub fn write_blob(&self, reader: impl Read, expected: Option<&Blob>, limit: Limit, what: &str) -> Result<Blob> {
        let mut writer = self.blob_writer(expected, limit, what)?;
        io::copy(&mut reader.take(writer.bound + 1), &mut writer).map_err(|e| {
            writer.refusal().unwrap_or_else(|| {
                ImageError::invalid(
                    Code::BadSource,
                    what,
                    format!("reading the blob failed: {e}"),
                    "check that the source is complete and readable",
                )
            })
        })?;
        writer.commit()
    }

    /// A writer for a new blob, for sources that push bytes (a registry download, a layer being
    /// made). A descriptor over `limit` is refused before any byte is read.
    pub fn blob_writer(&self, expected: Option<&Blob>, limit: Limit, what: &str) -> Result<BlobWriter<'_>> {
        if let Some(blob) = expected {
            blob.check(limit, what)?;
        }
        Ok(BlobWriter {
            store: self,
            inner: HashingWriter::new(io::BufWriter::new(self.temp_file()?)),
            bound: expected.map_or(limit.bytes, |b| b.size),
            expected: expected.cloned(),
            limit,
            refused: false,
            what: what.to_owned(),
        })
    }

    /// Stores a small blob made here or fetched whole, up to `limit`.
    pub fn write_bytes(&self, bytes: &[u8], limit: Limit, what: &str) -> Result<Digest> {
        self.write_blob(bytes, None, limit, what).map(|b| b.digest)
    }

    /// A reader of the blob that fails at its end if the content no longer matches the digest.
    /// With `size`, a stored blob of another size is refused here, before a byte is read: readers
    /// bound their work by that size.
    pub fn open_blob(&self, digest: &Digest, size: Option<u64>) -> Result<VerifyingReader<io::BufReader<File>>> {
        let path = self.blob_path(digest);
        let file = File::open(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                ImageError::invalid(
                    Code::CorruptStore,
                    digest.to_string(),
                    format!("blob {digest} is missing from the store at {}", self.root.display()),
                    "import or pull the image again",
                )
            } else {
                ImageError::io(&path, e)
            }
        })?;
        if let Some(size) = size {
            let stored = file.metadata().map_err(|e| ImageError::io(&path, e))?.len();
            if stored != size {
                return Err(ImageError::invalid(
                    Code::CorruptStore,
                    digest.to_string(),
                    format!("blob {digest} has {stored} bytes in the store, but the image's descriptor says {size}"),
                    REPAIR,
                ));
            }
        }
        Ok(VerifyingReader::new(
            io::BufReader::with_capacity(1 << 16, file),
            digest.clone(),
            size,
        ))
    }

    /// Reads a small blob (manifest, index, config) whole, verified and bounded.
    pub fn read_blob(&self, digest: &Digest, what: &str) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_blob(digest, None)?
            .take(METADATA.bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ImageError::invalid(Code::CorruptStore, what, e.to_string(), REPAIR))?;
        if bytes.len() as u64 > METADATA.bytes {
            return Err(ImageError::invalid(
                Code::LimitExceeded,
                what,
                format!(
                    "{digest} is larger than {} may be ({} bytes)",
                    METADATA.kind, METADATA.bytes
                ),
                "manifests and configs are small JSON documents; this one is not plausible",
            ));
        }
        Ok(bytes)
    }

    /// Re-hashes a stored blob; returns its size.
    pub fn verify_blob(&self, digest: &Digest, what: &str) -> Result<u64> {
        let mut reader = self.open_blob(digest, None)?;
        io::copy(&mut reader, &mut io::sink())
            .map_err(|e| ImageError::invalid(Code::CorruptStore, what, e.to_string(), REPAIR))
    }

    pub fn index(&self) -> Result<ImageIndex> {
        let path = self.root.join("index.json");
        let bytes = fs::read(&path).map_err(|e| ImageError::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::invalid(
                Code::CorruptStore,
                path.display().to_string(),
                format!("not an OCI image index: {e}"),
                "repair or remove the store",
            )
        })
    }

    fn save_index(&self, index: &ImageIndex) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| {
            ImageError::invalid(
                Code::Io,
                "index.json",
                e.to_string(),
                "check the path and the free space",
            )
        })?;
        self.write_atomically(&self.root.join("index.json"), &bytes)
    }

    /// The index's entries: named images by name, and the others (attestation manifests
    /// recorded for stored images) by digest.
    fn entries(&self) -> Result<(BTreeMap<String, Descriptor>, BTreeMap<String, Descriptor>)> {
        let mut named = BTreeMap::new();
        let mut others = BTreeMap::new();
        for d in self.index()?.manifests() {
            match d.annotations().as_ref().and_then(|a| a.get(REF_NAME)) {
                Some(name) => named.insert(name.clone(), d.clone()),
                None => others.insert(d.digest().to_string(), d.clone()),
            };
        }
        Ok((named, others))
    }

    /// Every named image, sorted by name.
    pub fn names(&self) -> Result<BTreeMap<String, Descriptor>> {
        Ok(self.entries()?.0)
    }

    /// The unnamed entries of the index, sorted by digest: what is attached to stored images
    /// (BuildKit attestation manifests, cosign signature manifests), each annotated with the
    /// image it belongs to.
    pub fn attached(&self) -> Result<Vec<Descriptor>> {
        Ok(self.entries()?.1.into_values().collect())
    }

    /// Records manifests attached to stored images (already in the store, or reported missing
    /// later) in the index, unnamed, as BuildKit lists attestations in an image index: OCI tools
    /// skip entries without a name when asked for a name, and each image finds its own by the
    /// annotation naming its digest.
    pub fn record_attached(&self, attached: &[Descriptor]) -> Result<()> {
        let _lock = self.lock()?;
        let (named, mut others) = self.entries()?;
        let before = others.len();
        for d in attached {
            others.entry(d.digest().to_string()).or_insert_with(|| d.clone());
        }
        if others.len() == before {
            return Ok(());
        }
        self.save_entries(named, others)
    }

    pub fn lookup(&self, name: &str) -> Result<Option<Descriptor>> {
        Ok(self.names()?.remove(name))
    }

    /// Names `descriptor` (a manifest or index already in the store) `name`, replacing any
    /// earlier image of that name.
    pub fn set_name(&self, name: &str, descriptor: &Descriptor) -> Result<()> {
        let _lock = self.lock()?;
        let (mut names, others) = self.entries()?;
        let mut named = descriptor.clone();
        let mut annotations = named.annotations().clone().unwrap_or_default();
        annotations.insert(REF_NAME.to_owned(), name.to_owned());
        named.set_annotations(Some(annotations));
        names.insert(name.to_owned(), named);
        self.save_entries(names, others)
    }

    /// Forgets a name; blobs stay until `gc`. Returns whether the name existed.
    pub fn remove_name(&self, name: &str) -> Result<bool> {
        let _lock = self.lock()?;
        let (mut names, others) = self.entries()?;
        let existed = names.remove(name).is_some();
        if existed {
            self.save_entries(names, others)?;
        }
        Ok(existed)
    }

    /// Writes the index: named images by name, then the unnamed entries by digest.
    fn save_entries(&self, names: BTreeMap<String, Descriptor>, others: BTreeMap<String, Descriptor>) -> Result<()> {
        let mut index = empty_index();
        index.set_manifests(names.into_values().chain(others.into_values()).collect());
        self.save_index(&index)
    }
}

/// A blob being written: hashed as bytes arrive, refused past its bound (the descriptor's size,
/// else the limit) so a lying or endless source costs at most that much disk, landed only by
/// [`BlobWriter::commit`].
pub struct BlobWriter<'a> {
    store: &'a Store,
    inner: HashingWriter<io::BufWriter<tempfile::NamedTempFile>>,
    expected: Option<Blob>,
    limit: Limit,
    bound: u64,
    refused: bool,
    what: String,
}

impl Write for BlobWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.inner.len() + buf.len() as u64 > self.bound {
            self.refused = true;
            return Err(io::Error::other(format!(
                "the blob is longer than {} bytes",
                self.bound
            )));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl BlobWriter<'_> {
    /// Why bytes were refused, if they were: the blob outgrew its descriptor or the limit. A
    /// write error without a refusal is the sink's own (disk full, …).
    pub fn refusal(&self) -> Option<ImageError> {
        if !self.refused {
            return None;
        }
        Some(match &self.expected {
            Some(blob) => blob.size_mismatch(
                format!(
                    "blob {} is longer than its descriptor's {} bytes (reading stopped there)",
                    blob.digest, blob.size
                ),
                &self.what,
            ),
            None => ImageError::invalid(
                Code::LimitExceeded,
                &self.what,
                format!(
                    "the blob is larger than {} may be ({} bytes)",
                    self.limit.kind, self.limit.bytes
                ),
                "this is not a plausible image component",
            ),
        })
    }

    /// Lands the blob under its digest if it is whole: the descriptor's size and digest when one
    /// was expected. Otherwise the temp file goes, and nothing is stored.
    pub fn commit(self) -> Result<Blob> {
        if let Some(refusal) = self.refusal() {
            return Err(refusal);
        }
        let (buffered, digest, size) = self.inner.finish();
        if let Some(blob) = &self.expected {
            if size != blob.size {
                return Err(blob.size_mismatch(
                    format!(
                        "blob {} has {size} bytes, but its descriptor says {}",
                        blob.digest, blob.size
                    ),
                    &self.what,
                ));
            }
            if digest != blob.digest {
                return Err(ImageError::invalid(
                    Code::DigestMismatch,
                    &self.what,
                    format!(
                        "blob {} does not match its digest: its content hashes to {digest}",
                        blob.digest
                    ),
                    "the source is corrupt or was tampered with; fetch it again from a trusted source",
                ));
            }
        }
        let dir = self.store.tmp_dir();
        let file = buffered
            .into_inner()
            .map_err(|e| ImageError::io(&dir, e.into_error()))?;
        file.as_file().sync_all().map_err(|e| ImageError::io(&dir, e))?;
        // Replaces a damaged copy, if any: readers have it open or see the new one whole.
        let path = self.store.blob_path(&digest);
        file.persist(&path).map_err(|e| ImageError::io(&path, e.error))?;
        Ok(Blob { digest, size })
    }
}

fn empty_index() -> ImageIndex {
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(Vec::new())
        .build()
        .unwrap_or_else(|_| unreachable!("every required field is set"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(bytes: &[u8]) -> Blob {
        Blob {
            digest: Digest::of(bytes),
            size: bytes.len() as u64,
        }
    }

    /// Counts the bytes read through it.
    struct Counting<R> {
        inner: R,
        read: u64,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n as u64;
            Ok(n)
        }
    }

    fn temp_files(store: &Store) -> usize {
        fs::read_dir(store.tmp_dir()).unwrap().count()
    }

    #[test]
    fn blobs_are_verified_on_write_and_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = store.write_bytes(b"layer", METADATA, "test").unwrap();
        assert_eq!(d, Digest::of(b"layer"));
        assert_eq!(store.read_blob(&d, "test").unwrap(), b"layer");
        let wrong = Blob {
            digest: Digest::of(b"other"),
            size: 5,
        };
        let err = store
            .write_blob(&b"layer"[..], Some(&wrong), LAYER, "test")
            .unwrap_err();
        assert_eq!(err.code(), Code::DigestMismatch.as_str());
        assert!(err.to_string().contains("does not match its digest"), "{err}");
        assert!(!store.has_blob(&wrong.digest));
        let err = store
            .write_bytes(
                &[0u8; 10],
                Limit {
                    bytes: 5,
                    kind: "a test",
                },
                "test",
            )
            .unwrap_err();
        assert_eq!(err.code(), Code::LimitExceeded.as_str());
        assert!(err.to_string().contains("larger than a test may be (5 bytes)"), "{err}");
        assert_eq!(temp_files(&store), 0, "a refused blob leaves nothing behind");
    }

    /// A damaged store copy is caught on the next read, with a hint that works: writing the
    /// blob again (what an import or pull does) replaces it.
    #[test]
    fn a_damaged_copy_is_replaced_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let good = blob(b"layer");
        store.write_blob(&b"layer"[..], Some(&good), LAYER, "test").unwrap();
        for damage in [&b"LAYER"[..], b"lay", b""] {
            fs::write(store.blob_path(&good.digest), damage).unwrap();
            let err = store.read_blob(&good.digest, "test").unwrap_err();
            assert_eq!(err.code(), Code::CorruptStore.as_str());
            assert!(err.to_string().contains(REPAIR), "{err}");
            assert!(!store.has_intact(&good, "test").unwrap());
            store.write_blob(&b"layer"[..], Some(&good), LAYER, "test").unwrap();
            assert!(store.has_intact(&good, "test").unwrap());
        }
        // A sound copy is never rewritten; a descriptor that lies about its size is refused.
        let lie = Blob {
            size: 6,
            ..good.clone()
        };
        let err = store.has_intact(&lie, "test").unwrap_err();
        assert_eq!(err.code(), Code::DigestMismatch.as_str());
        assert!(
            err.to_string().contains("has 5 bytes, but its descriptor says 6"),
            "{err}"
        );
    }

    /// The descriptor's size bounds the copy: an endless source is read one byte past it, a
    /// short one is refused, an implausible one is not read at all; nothing is kept.
    #[test]
    fn descriptor_sizes_are_checked_while_copying() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let claimed = Blob {
            digest: Digest::of(b"anything"),
            size: 1 << 20,
        };
        let mut endless = Counting {
            inner: io::repeat(0),
            read: 0,
        };
        let err = store
            .write_blob(&mut endless, Some(&claimed), LAYER, "test")
            .unwrap_err();
        assert_eq!(err.code(), Code::DigestMismatch.as_str());
        assert!(
            err.to_string()
                .contains("is longer than its descriptor's 1048576 bytes"),
            "{err}"
        );
        assert_eq!(endless.read, (1 << 20) + 1);

        let short = Blob {
            size: 60 << 30,
            ..blob(b"layer")
        };
        let err = store
            .write_blob(&b"layer"[..], Some(&short), LAYER, "test")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("has 5 bytes, but its descriptor says 64424509440"),
            "{err}"
        );

        let huge = Blob {
            size: 500_000_000,
            ..claimed.clone()
        };
        let mut untouched = Counting {
            inner: io::repeat(0),
            read: 0,
        };
        let err = store
            .write_blob(&mut untouched, Some(&huge), METADATA, "test")
            .unwrap_err();
        assert_eq!(err.code(), Code::LimitExceeded.as_str());
        assert!(err.to_string().contains("500000000 bytes by its descriptor"), "{err}");
        assert_eq!(untouched.read, 0);

        assert!(!store.has_blob(&claimed.digest) && !store.has_blob(&short.digest));
        assert_eq!(temp_files(&store), 0);
    }

    /// Readers bound their work by the descriptor's size (decompression ratio): a stored blob of
    /// another size is refused when it is opened, not at its end.
    #[test]
    fn opening_a_blob_checks_its_size_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = store.write_bytes(b"layer", METADATA, "test").unwrap();
        assert!(store.open_blob(&d, Some(5)).is_ok());
        let err = store.open_blob(&d, Some(60 << 30)).err().unwrap();
        assert_eq!(err.code(), Code::CorruptStore.as_str());
        assert!(
            err.to_string()
                .contains("has 5 bytes in the store, but the image's descriptor says 64424509440"),
            "{err}"
        );
    }

    /// What a killed writer left in tmp/ goes at the next open; a live writer's file stays.
    #[test]
    fn stale_temp_files_are_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let live = store.temp_file().unwrap();
        let stale = store.tmp_dir().join(".tmpKILLED");
        File::create(&stale).unwrap().set_len(8 << 30).unwrap();
        Store::open(dir.path()).unwrap();
        assert!(!stale.exists());
        assert!(live.path().exists());
        drop(live);
        assert_eq!(temp_files(&store), 0);
    }

    #[test]
    fn names_are_kept_sorted_and_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = store.write_bytes(b"{}", METADATA, "test").unwrap();
        let desc = Descriptor::new(MediaType::ImageManifest, 2, &d);
        store.set_name("b:1", &desc).unwrap();
        store.set_name("a:1", &desc).unwrap();
        assert_eq!(
            store.names().unwrap().keys().cloned().collect::<Vec<_>>(),
            ["a:1", "b:1"]
        );
        assert!(store.remove_name("a:1").unwrap());
        assert!(!store.remove_name("a:1").unwrap());
        assert!(store.lookup("b:1").unwrap().is_some());
        // The layout is what other OCI tools expect.
        let layout: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.path().join("oci-layout")).unwrap()).unwrap();
        assert_eq!(layout["imageLayoutVersion"], "1.0.0");
    }
}
