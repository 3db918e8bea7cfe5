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
use super::error::{Code, ImageError, Result, examples, plural};
use super::resolve::{BlobSource, Platform, clean_member_path, import_from, section};
use super::store::{BlobWriter, LAYER, METADATA, REF_NAME, Store};

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

/// Imports a folder as a one-layer image: a plain tar of its tree, entries sorted, symlinks kept
/// as links (never followed), hard links recorded once, written straight into the store. What a
/// tar cannot hold (sockets; doors elsewhere) is left out, with one note naming it: kept, it
/// would make every later reading of the layer fail.
pub fn import_dir(store: &Store, dir: &Path, platform: &Platform) -> Result<Descriptor> {
    let what = format!("dir:{}", dir.display());
    let epoch = crate::epoch::from_env()?;
    let meta = fs::symlink_metadata(dir).map_err(|e| {
        ImageError::invalid(
            Code::BadSource,
            &what,
            format!("cannot read the folder: {e}"),
            "check the path",
        )
    })?;
    if !meta.is_dir() {
        return Err(ImageError::invalid(
            Code::BadSource,
            &what,
            "not a folder",
            "dir: takes a folder holding a root filesystem",
        ));
    }
    let mut builder = tar::Builder::new(store.blob_writer(None, LAYER, &what)?);
    builder.follow_symlinks(false);
    let mut seen_inodes: BTreeMap<(u64, u64), PathBuf> = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    let mut paths = Vec::new();
    while let Some(rel) = stack.pop() {
        let full = dir.join(&rel);
        let mut children: Vec<PathBuf> = fs::read_dir(&full)
            .map_err(|e| {
                ImageError::invalid(
                    Code::BadSource,
                    &what,
                    format!("{}: {e}", full.display()),
                    "make the folder readable",
                )
            })?
            .map(|e| e.map(|e| rel.join(e.file_name())))
            .collect::<io::Result<_>>()
            .map_err(|e| {
                ImageError::invalid(
                    Code::BadSource,
                    &what,
                    e.to_string(),
                    "check that the source is complete and readable",
                )
            })?;
        children.sort();
        for child in children.into_iter().rev() {
            let m = fs::symlink_metadata(dir.join(&child)).map_err(|e| {
                ImageError::invalid(
                    Code::BadSource,
                    &what,
                    e.to_string(),
                    "check that the source is complete and readable",
                )
            })?;
            if m.is_dir() {
                stack.push(child.clone());
            }
            paths.push(child);
        }
    }
    paths.sort();
    let write_err = |writer: &BlobWriter, e: io::Error| {
        writer.refusal().unwrap_or_else(|| {
            ImageError::invalid(
                Code::Io,
                &what,
                format!("writing the layer failed: {e}"),
                "check free space in the store",
            )
        })
    };
    let mut left_out = Vec::new();
    for rel in &paths {
        let full = dir.join(rel);
        let m = fs::symlink_metadata(&full).map_err(|e| {
            ImageError::invalid(
                Code::BadSource,
                &what,
                e.to_string(),
                "check that the source is complete and readable",
            )
        })?;
        let kind = m.file_type();
        if !(kind.is_file()
            || kind.is_dir()
            || kind.is_symlink()
            || kind.is_char_device()
            || kind.is_block_device()
            || kind.is_fifo())
        {
            let name = if kind.is_socket() {
                "a socket"
            } else {
                "not a file type tar holds"
            };
            left_out.push(format!("{} ({name})", rel.display()));
            continue;
        }
        let mut header = tar::Header::new_gnu();
        header.set_metadata_in_mode(&m, tar::HeaderMode::Complete);
        header.set_mtime(clamp_mtime(m.mtime(), epoch));
        if m.is_file() && m.nlink() > 1 {
            if let Some(first) = seen_inodes.get(&(m.dev(), m.ino())) {
                header.set_entry_type(tar::EntryType::Link);
                header.set_size(0);
                builder
                    .append_link(&mut header, rel, first)
                    .map_err(|e| write_err(builder.get_ref(), e))?;
                continue;
            }
            seen_inodes.insert((m.dev(), m.ino()), rel.clone());
        }
        if m.is_file() {
            let f = File::open(&full).map_err(|e| {
                ImageError::invalid(
                    Code::BadSource,
                    &what,
                    format!("{}: {e}", full.display()),
                    "make the file readable",
                )
            })?;
            builder
                .append_data(&mut header, rel, f)
                .map_err(|e| write_err(builder.get_ref(), e))?;
        } else if m.file_type().is_symlink() {
            let target = fs::read_link(&full).map_err(|e| {
                ImageError::invalid(
                    Code::BadSource,
                    &what,
                    e.to_string(),
                    "check that the source is complete and readable",
                )
            })?;
            builder
                .append_link(&mut header, rel, target)
                .map_err(|e| write_err(builder.get_ref(), e))?;
        } else {
            let name = if m.is_dir() { rel.join("") } else { rel.clone() };
            header.set_size(0);
            builder
                .append_data(&mut header, name, io::empty())
                .map_err(|e| write_err(builder.get_ref(), e))?;
        }
    }
    builder.finish().map_err(|e| write_err(builder.get_ref(), e))?;
    let layer = builder
        .into_inner()
        .map_err(|e| ImageError::io(store.root(), e))?
        .commit()?;
    if !left_out.is_empty() {
        eprintln!(
            "note: {what}: {} left out, as a tar layer cannot hold {}: {}",
            plural(left_out.len(), "entry", "entries"),
            if left_out.len() == 1 { "it" } else { "them" },
            examples(&left_out)
        );
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
