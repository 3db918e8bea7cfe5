//! Importing `docker-archive:` tarballs (`docker save`, both the classic layout and the OCI layout
//! newer Docker writes) and `dir:` folders into the store as OCI images.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageManifestBuilder, MediaType};
use serde::Deserialize;

use super::digest::Digest;
use super::error::{Code, ImageError, Result};
use super::folder;
use super::resolve::{BlobSource, Platform, clean_member_path, import_from, section};
use super::store::{BlobWriter, LAYER, METADATA, REF_NAME, Store};
use super::tarball::{self, EntryKind};

/// A tarball's members, by cleaned path: where each regular file's data starts, and its size.
struct Members {
    file: File,
    files: BTreeMap<PathBuf, (u64, u64)>,
    what: String,
}

/// Upper bound on members, so a hostile archive cannot make the index grow without end.
const MAX_MEMBERS: usize = 1_000_000;

impl Members {
    fn scan(path: &Path, what: &str) -> Result<Self> {
        let file = File::open(path).map_err(|e| {
            ImageError::invalid(
                Code::BadSource,
                what,
                format!("cannot open {}: {e}", path.display()),
                "check the path",
            )
        })?;
        let mut files = BTreeMap::new();
        let bad = |e: io::Error| {
            ImageError::invalid(
                Code::BadSource,
                what,
                format!("not a readable tar archive: {e}"),
                "pass the file `docker save` wrote, uncompressed",
            )
        };
        let mut archive = tar::Archive::new(&file);
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            if files.len() >= MAX_MEMBERS {
                return Err(ImageError::invalid(
                    Code::LimitExceeded,
                    what,
                    format!("the archive holds more than {MAX_MEMBERS} files"),
                    "this is not a docker-archive",
                ));
            }
            let name = entry.path().map_err(bad)?.into_owned();
            let Some(clean) = clean_member_path(&name) else {
                return Err(ImageError::invalid(
                    Code::HostileLayer,
                    what,
                    format!("member {} escapes the archive root", name.display()),
                    "this archive is hostile or corrupt; do not use it",
                ));
            };
            if entry.header().entry_type().is_file() {
                files.insert(clean, (entry.raw_file_position(), entry.size()));
            }
        }
        Ok(Members {
            file,
            files,
            what: what.to_owned(),
        })
    }

    fn open(&self, name: &Path) -> Result<impl Read + '_> {
        let (offset, size) = *self.files.get(name).ok_or_else(|| {
            ImageError::invalid(
                Code::BadSource,
                &self.what,
                format!("member {} is missing", name.display()),
                "the archive is incomplete",
            )
        })?;
        section(&self.file, offset, size)
            .map_err(|e| ImageError::invalid(Code::BadSource, &self.what, e.to_string(), "the archive is unreadable"))
    }

    fn read_small(&self, name: &Path) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open(name)?
            .take(METADATA.bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                ImageError::invalid(
                    Code::BadSource,
                    &self.what,
                    e.to_string(),
                    "check that the source is complete and readable",
                )
            })?;
        if bytes.len() as u64 > METADATA.bytes {
            return Err(ImageError::invalid(
                Code::LimitExceeded,
                &self.what,
                format!(
                    "{} is larger than {} may be ({} bytes)",
                    name.display(),
                    METADATA.kind,
                    METADATA.bytes
                ),
                "this is not a docker-archive",
            ));
        }
        Ok(bytes)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifest {
    config: String,
    layers: Vec<String>,
}

/// Imports a docker-archive; returns the descriptor of the image manifest now in the store, and
/// the index it was chosen from, if any.
pub fn import_docker_archive(store: &Store, path: &Path, platform: &Platform) -> Result<(Descriptor, Option<Digest>)> {
    let what = format!("docker-archive:{}", path.display());
    let members = Members::scan(path, &what)?;
    if members.files.contains_key(Path::new("index.json")) && members.files.contains_key(Path::new("oci-layout")) {
        return import_oci_in_archive(store, &members, platform);
    }
    let manifest_bytes = members.read_small(Path::new("manifest.json"))?;
    let entries: Vec<ArchiveManifest> = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            &what,
            format!("manifest.json is not a docker-archive manifest: {e}"),
            "pass the file `docker save` wrote",
        )
    })?;
    let [entry] = entries.as_slice() else {
        return Err(ImageError::invalid(
            Code::Unsupported,
            &what,
            format!("the archive holds {} images", entries.len()),
            "save one image per archive (docker save IMAGE)",
        ));
    };
    let member = |name: &str| {
        clean_member_path(Path::new(name)).ok_or_else(|| {
            ImageError::invalid(
                Code::HostileLayer,
                &what,
                format!("manifest.json names {name:?}, outside the archive"),
                "the archive is hostile or corrupt",
            )
        })
    };
    let config_bytes = members.read_small(&member(&entry.config)?)?;
    let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config_bytes).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            &what,
            format!("the image config is not valid: {e}"),
            "the archive is corrupt",
        )
    })?;
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != entry.layers.len() {
        return Err(ImageError::invalid(
            Code::BadMetadata,
            &what,
            format!(
                "{} layers but {} diff_ids in the config",
                entry.layers.len(),
                diff_ids.len()
            ),
            "the archive is corrupt",
        ));
    }
    let config_digest = store.write_bytes(&config_bytes, METADATA, &what)?;
    let mut layers = Vec::new();
    for (name, diff_id) in entry.layers.iter().zip(diff_ids) {
        let layer_path = member(name)?;
        let blob = store.write_blob(members.open(&layer_path)?, None, LAYER, &what)?;
        let media = layer_media_type(store, &blob.digest, &what)?;
        if media == MediaType::ImageLayer && &blob.digest.to_string() != diff_id {
            return Err(ImageError::invalid(
                Code::DigestMismatch,
                &what,
                format!(
                    "layer {name} hashes to {}, but the config's diff_id is {diff_id}",
                    blob.digest
                ),
                "the archive is corrupt or was tampered with",
            ));
        }
        layers.push(Descriptor::new(media, blob.size, &blob.digest));
    }
    let config_desc = Descriptor::new(MediaType::ImageConfig, config_bytes.len() as u64, &config_digest);
    Ok((store_manifest(store, config_desc, layers, &what)?, None))
}

/// Classic archives hold plain tar layers, but some tools gzip them: tell by the first bytes.
fn layer_media_type(store: &Store, digest: &Digest, what: &str) -> Result<MediaType> {
    let mut magic = [0u8; 4];
    let mut reader = File::open(store.blob_path(digest)).map_err(|e| ImageError::io(store.blob_path(digest), e))?;
    let n = reader
        .read(&mut magic)
        .map_err(|e| ImageError::invalid(Code::Io, what, e.to_string(), "check the path and the free space"))?;
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => MediaType::ImageLayerGzip,
        [0x28, 0xb5, 0x2f, 0xfd] => MediaType::ImageLayerZstd,
        _ => MediaType::ImageLayer,
    })
}

fn store_manifest(store: &Store, config: Descriptor, layers: Vec<Descriptor>, what: &str) -> Result<Descriptor> {
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(layers)
        .build()
        .map_err(|e| {
            ImageError::invalid(
                Code::BadMetadata,
                what,
                e.to_string(),
                "the image is corrupt or not an OCI/Docker image: fetch or rebuild it",
            )
        })?;
    let bytes = serde_json::to_vec(&manifest).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            what,
            e.to_string(),
            "the image is corrupt or not an OCI/Docker image: fetch or rebuild it",
        )
    })?;
    let digest = store.write_bytes(&bytes, METADATA, what)?;
    Ok(Descriptor::new(MediaType::ImageManifest, bytes.len() as u64, &digest))
}

/// The blobs of the OCI layout inside an archive.
impl BlobSource for Members {
    fn describe(&self) -> String {
        self.what.clone()
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(Members::open(
            self,
            &PathBuf::from("blobs/sha256").join(digest.hex()),
        )?))
    }
}

/// Docker 25+ writes an OCI layout inside the archive: imported as any layout is.
fn import_oci_in_archive(
    store: &Store,
    members: &Members,
    platform: &Platform,
) -> Result<(Descriptor, Option<Digest>)> {
    let what = &members.what;
    let index: ImageIndex = serde_json::from_slice(&members.read_small(Path::new("index.json"))?).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            what,
            format!("index.json is not an OCI index: {e}"),
            "the archive is corrupt",
        )
    })?;
    let [root] = index.manifests().as_slice() else {
        return Err(ImageError::invalid(
            Code::Unsupported,
            what,
            format!("the archive holds {} images", index.manifests().len()),
            "save one image per archive",
        ));
    };
    let (mut desc, index_digest) = import_from(store, members, root, platform)?;
    if let Some(mut a) = desc.annotations().clone() {
        a.remove(REF_NAME);
        desc.set_annotations(Some(a));
    }
    Ok((desc, index_digest))
}

/// Imports a folder as a one-layer image: its tree as listed for reading it in place (symlinks
/// kept as links, never followed; hard links recorded once; file capabilities kept; what a tar
/// cannot hold, a socket, left out with a note), written by the one tar writer straight into the
/// store, so that the layer's flattened view is the folder's view.
pub fn import_dir(store: &Store, dir: &Path, platform: &Platform) -> Result<Descriptor> {
    let what = format!("dir:{}", dir.display());
    let epoch = crate::epoch::from_env()?;
    let (listed, notes) = folder::list(dir, &what)?;
    let mut writer = tarball::Writer::new(store.blob_writer(None, LAYER, &what)?);
    let write_err = |writer: &BlobWriter, path: &Path, e: io::Error| {
        writer
            .refusal()
            .unwrap_or_else(|| folder::unreadable(&what, &dir.join(path), &e))
    };
    let no_xattrs = BTreeMap::new();
    let mut first_of_inode: BTreeMap<(u64, u64), &Path> = BTreeMap::new();
    for l in &listed {
        let m = &l.meta;
        let ft = m.file_type();
        let full = dir.join(&l.path);
        let mut xattrs = None;
        let mut body = None;
        let target;
        let kind = if ft.is_file() {
            let earlier = if m.nlink() > 1 {
                let first = *first_of_inode.entry((m.dev(), m.ino())).or_insert(l.path.as_path());
                (first != l.path).then_some(first)
            } else {
                None
            };
            if let Some(first) = earlier {
                EntryKind::HardLink { target: first }
            } else {
                let file = folder::open_listed(dir, l).map_err(|e| folder::unreadable(&what, &full, &e))?;
                xattrs = folder::capability(&file)
                    .map_err(|e| folder::unreadable(&what, &full, &e))?
                    .map(|value| BTreeMap::from([(folder::CAPABILITY.to_owned(), value)]));
                body = Some(file);
                EntryKind::File { size: m.len() }
            }
        } else if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_symlink() {
            target = fs::read_link(&full).map_err(|e| folder::unreadable(&what, &full, &e))?;
            EntryKind::Symlink { target: &target }
        } else if ft.is_char_device() || ft.is_block_device() {
            let (major, minor) = folder::device_numbers(m.rdev());
            if ft.is_char_device() {
                EntryKind::Char { major, minor }
            } else {
                EntryKind::Block { major, minor }
            }
        } else {
            EntryKind::Fifo
        };
        let header = tarball::Header {
            path: &l.path,
            kind,
            mode: m.mode() & 0o7777,
            uid: u64::from(m.uid()),
            gid: u64::from(m.gid()),
            mtime: clamp_mtime(m.mtime(), epoch),
            xattrs: xattrs.as_ref().unwrap_or(&no_xattrs),
            records: BTreeMap::new(),
        };
        let appended = match body {
            Some(file) => writer.append(&header, file),
            None => writer.append(&header, io::empty()),
        };
        appended.map_err(|e| write_err(writer.get_ref(), &l.path, e))?;
    }
    let layer = writer.finish().map_err(|e| ImageError::io(store.root(), e))?.commit()?;
    for note in notes {
        log::info!("{note}");
    }
    let (layer_digest, layer_size) = (layer.digest, layer.size);
    let config = serde_json::json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]},
    });
    let config_bytes = serde_json::to_vec(&config).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            &what,
            e.to_string(),
            "the image is corrupt or not an OCI/Docker image: fetch or rebuild it",
        )
    })?;
    let config_digest = store.write_bytes(&config_bytes, METADATA, &what)?;
    store_manifest(
        store,
        Descriptor::new(MediaType::ImageConfig, config_bytes.len() as u64, &config_digest),
        vec![Descriptor::new(MediaType::ImageLayer, layer_size, &layer_digest)],
        &what,
    )
}

/// Modification times no later than SOURCE_DATE_EPOCH, when it is set, so an import of the same
/// tree is the same layer.
fn clamp_mtime(mtime: i64, epoch: Option<u64>) -> u64 {
    let mtime = mtime.max(0) as u64;
    epoch.map_or(mtime, |epoch| mtime.min(epoch))
}
