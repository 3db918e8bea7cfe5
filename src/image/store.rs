//! The local store: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) that any
//! OCI tool can read (`skopeo copy oci:STORE:NAME …`, `umoci`), with names recorded as LinuxKit's
//! cache records them (annotation `org.opencontainers.image.ref.name` = the full reference).
//!
//! Every blob is hashed while it is written and again while it is read; a mismatch is an error
//! naming the blob, never a silent reuse. Writers serialise on a lock file, and every file lands by
//! an atomic rename, so concurrent sealkit processes never see a half-written blob or index.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageIndexBuilder, MediaType};

use super::digest::{Digest, HashingWriter, VerifyingReader};
use super::error::{Code, ImageError, Result};

/// The annotation OCI layouts (and LinuxKit's cache) keep an image's name in.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The largest manifest, index or config sealkit reads into memory. Real ones are a few KiB.
pub const MAX_METADATA_BYTES: u64 = 4 << 20;

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Holds the store's write lock until dropped.
pub struct StoreLock {
    _file: File,
}

impl Store {
    /// `SEALKIT_STORE`, else `$XDG_CACHE_HOME/sealkit/store`, else `~/.cache/sealkit/store`.
    pub fn default_location() -> PathBuf {
        if let Some(dir) = std::env::var_os("SEALKIT_STORE").filter(|d| !d.is_empty()) {
            return dir.into();
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"));
        cache.join("sealkit/store")
    }

    /// Opens the store at `root`, creating an empty OCI layout there if needed.
    pub fn open(root: &Path) -> Result<Self> {
        let store = Store {
            root: root.to_path_buf(),
        };
        let blobs = root.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(|e| ImageError::io(&blobs, e))?;
        fs::create_dir_all(store.tmp_dir()).map_err(|e| ImageError::io(store.tmp_dir(), e))?;
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

    fn temp_file(&self) -> Result<(tempfile::NamedTempFile, PathBuf)> {
        let dir = self.tmp_dir();
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(|e| ImageError::io(&dir, e))?;
        Ok((file, dir))
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let (mut file, _) = self.temp_file()?;
        file.write_all(bytes).map_err(|e| ImageError::io(path, e))?;
        file.as_file().sync_all().map_err(|e| ImageError::io(path, e))?;
        file.persist(path).map_err(|e| ImageError::io(path, e.error))?;
        Ok(())
    }

    /// Streams `reader` into the store, hashing as it goes; with `expected`, the content must hash
    /// to it (else nothing is stored). Returns the digest and size. `what` names the blob's origin
    /// in errors. At most `limit` bytes are accepted.
    pub fn write_blob(
        &self,
        reader: impl Read,
        expected: Option<&Digest>,
        limit: u64,
        what: &str,
    ) -> Result<(Digest, u64)> {
        if let Some(d) = expected
            && self.has_blob(d)
        {
            // Already present: still check that the stored copy is intact before reusing it.
            let size = self.verify_blob(d, what)?;
            return Ok((d.clone(), size));
        }
        let mut writer = self.blob_writer(limit, what)?;
        io::copy(&mut reader.take(limit + 1), &mut writer).map_err(|e| {
            ImageError::invalid(
                Code::BadSource,
                what,
                format!("reading the blob failed: {e}"),
                "check that the source is complete and readable",
            )
        })?;
        writer.commit(expected)
    }

    /// A writer for a new blob, for sources that push bytes (a registry download).
    pub fn blob_writer(&self, limit: u64, what: &str) -> Result<BlobWriter<'_>> {
        let (file, _) = self.temp_file()?;
        Ok(BlobWriter {
            store: self,
            inner: HashingWriter::new(io::BufWriter::new(file)),
            limit,
            what: what.to_owned(),
        })
    }

    pub fn write_bytes(&self, bytes: &[u8], what: &str) -> Result<Digest> {
        self.write_blob(bytes, None, bytes.len() as u64, what).map(|(d, _)| d)
    }

    /// A reader of the blob that fails at its end if the content no longer matches the digest.
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
            .take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                ImageError::invalid(
                    Code::CorruptStore,
                    what,
                    e.to_string(),
                    "the store copy is corrupt: remove the image and fetch it again",
                )
            })?;
        if bytes.len() as u64 > MAX_METADATA_BYTES {
            return Err(ImageError::invalid(
                Code::LimitExceeded,
                what,
                format!("{digest} is larger than {MAX_METADATA_BYTES} bytes"),
                "manifests and configs are small JSON documents; this one is not plausible",
            ));
        }
        Ok(bytes)
    }

    /// Re-hashes a stored blob; returns its size.
    pub fn verify_blob(&self, digest: &Digest, what: &str) -> Result<u64> {
        let mut reader = self.open_blob(digest, None)?;
        io::copy(&mut reader, &mut io::sink()).map_err(|e| {
            ImageError::invalid(
                Code::CorruptStore,
                what,
                e.to_string(),
                "the store copy is corrupt: remove the image and fetch it again",
            )
        })
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

    /// The attestation manifests recorded for the image manifest `manifest`, sorted by digest.
    pub fn attestations_of(&self, manifest: &Digest) -> Result<Vec<Descriptor>> {
        let wanted = manifest.to_string();
        Ok(self
            .entries()?
            .1
            .into_values()
            .filter(|d| super::attestation::described_by(d) == Some(wanted.as_str()))
            .collect())
    }

    /// Records attestation manifests (already in the store, or reported missing later) in the
    /// index, unnamed, as BuildKit lists them in an image index: OCI tools skip entries without a
    /// name when asked for a name, and the image finds them by its manifest digest.
    pub fn record_attestations(&self, attestations: &[Descriptor]) -> Result<()> {
        let _lock = self.lock()?;
        let (named, mut others) = self.entries()?;
        let before = others.len();
        for d in attestations {
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

/// A blob being written: hashed as bytes arrive, landed only by [`BlobWriter::commit`].
pub struct BlobWriter<'a> {
    store: &'a Store,
    inner: HashingWriter<io::BufWriter<tempfile::NamedTempFile>>,
    limit: u64,
    what: String,
}

impl Write for BlobWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if self.inner.len() > self.limit {
            return Err(io::Error::other(format!(
                "the blob is larger than {} bytes",
                self.limit
            )));
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl BlobWriter<'_> {
    /// Lands the blob under its digest; with `expected`, only if the content hashes to it.
    pub fn commit(self, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        let what = self.what;
        let (buffered, digest, size) = self.inner.finish();
        if size > self.limit {
            return Err(ImageError::invalid(
                Code::LimitExceeded,
                &what,
                format!("the blob is larger than {} bytes", self.limit),
                "this is not a plausible image component",
            ));
        }
        if let Some(expected) = expected
            && &digest != expected
        {
            return Err(ImageError::invalid(
                Code::DigestMismatch,
                &what,
                format!("blob {expected} does not match its digest: its content hashes to {digest}"),
                "the source is corrupt or was tampered with; fetch it again from a trusted source",
            ));
        }
        let dir = self.store.tmp_dir();
        let file = buffered
            .into_inner()
            .map_err(|e| ImageError::io(&dir, e.into_error()))?;
        file.as_file().sync_all().map_err(|e| ImageError::io(&dir, e))?;
        let path = self.store.blob_path(&digest);
        file.persist(&path).map_err(|e| ImageError::io(&path, e.error))?;
        Ok((digest, size))
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

    #[test]
    fn blobs_are_verified_on_write_and_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = store.write_bytes(b"layer", "test").unwrap();
        assert_eq!(d, Digest::of(b"layer"));
        assert_eq!(store.read_blob(&d, "test").unwrap(), b"layer");
        let wrong = Digest::of(b"other");
        let err = store.write_blob(&b"layer"[..], Some(&wrong), 100, "test").unwrap_err();
        assert!(err.to_string().contains("does not match its digest"), "{err}");
        assert!(!store.has_blob(&wrong));
        // Tampering with a stored blob is caught on the next read.
        fs::write(store.blob_path(&d), b"LAYER").unwrap();
        let err = store.read_blob(&d, "test").unwrap_err();
        assert!(err.to_string().contains("does not match its digest"), "{err}");
        let err = store.write_blob(&b"layer"[..], Some(&d), 100, "test").unwrap_err();
        assert!(
            err.to_string().contains("does not match"),
            "a corrupt copy is never reused: {err}"
        );
        assert!(
            store
                .write_blob(&[0u8; 10][..], None, 5, "test")
                .unwrap_err()
                .to_string()
                .contains("larger than")
        );
    }

    #[test]
    fn names_are_kept_sorted_and_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = store.write_bytes(b"{}", "test").unwrap();
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
