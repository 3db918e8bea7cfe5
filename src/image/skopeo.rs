//! skopeo's directory layout (`skopeo copy docker://… dir:PATH`): a `version` file, the
//! manifest as `manifest.json`, each blob under its digest's hex, and the image's signatures as
//! `signature-1`, `signature-2` … The form in which images are carried to air-gapped review,
//! signatures included. A `dir:` folder holding this layout is read as the image it holds;
//! any other `dir:` folder is a root file system.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, MediaType};

use super::digest::Digest;
use super::error::{Code, ImageError, Result};
use super::resolve::{BlobSource, Platform, import_from, is_index};
use super::signatures::{Kind, MAX_PAYLOAD, MAX_SIGNATURES, Signature};
use super::store::{METADATA, Store};

/// What the `version` file of the layouts skopeo writes begins with.
const VERSION_PREFIX: &[u8] = b"Directory Transport Version: 1.";

/// Whether `dir` holds skopeo's layout rather than a root file system.
pub fn is_layout(dir: &Path) -> bool {
    let mut head = [0u8; VERSION_PREFIX.len()];
    File::open(dir.join("version"))
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == VERSION_PREFIX
}

/// The layout's manifest bytes and its signatures, each read or why it could not be.
pub struct SkopeoDir {
    pub manifest: Vec<u8>,
    pub signatures: Vec<std::result::Result<Signature, String>>,
}

/// Reads the manifest and the signatures of the layout at `dir`.
pub fn read(dir: &Path) -> std::result::Result<SkopeoDir, String> {
    let manifest_path = dir.join("manifest.json");
    let manifest =
        read_bounded(&manifest_path, METADATA.bytes).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut signatures = Vec::new();
    for n in 1.. {
        let path = dir.join(format!("signature-{n}"));
        if !path.exists() {
            break;
        }
        if n > MAX_SIGNATURES {
            return Err(format!("{}: more than {MAX_SIGNATURES} signatures", dir.display()));
        }
        signatures.push(
            read_bounded(&path, 4 * MAX_PAYLOAD as u64)
                .and_then(|bytes| Signature::from_sigstore_file(&bytes))
                .map_err(|e| format!("signature-{n}: {e}")),
        );
    }
    Ok(SkopeoDir { manifest, signatures })
}

/// Imports the image of the layout at `dir` into the store, and its signatures as cosign's
/// signature manifest of the image (what `skopeo copy` to a registry writes). Signatures that
/// cannot be read are left out with a note: only a signature that verifies counts, and one that
/// was never stored cannot.
pub fn import(store: &Store, dir: &Path, platform: &Platform) -> Result<(Descriptor, Option<Digest>, Digest)> {
    let what = format!("dir:{}", dir.display());
    let layout = read(dir).map_err(|e| {
        ImageError::invalid(
            Code::BadSource,
            &what,
            e,
            "copy the image again (skopeo copy docker://… dir:PATH)",
        )
    })?;
    let value: serde_json::Value = serde_json::from_slice(&layout.manifest).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            &what,
            format!("manifest.json is not JSON: {e}"),
            "copy the image again",
        )
    })?;
    let media = match value.get("mediaType").and_then(|m| m.as_str()) {
        Some(m) => MediaType::from(m),
        None if value.get("manifests").is_some() => MediaType::ImageIndex,
        None => MediaType::ImageManifest,
    };
    if is_index(&media) {
        return Err(ImageError::invalid(
            Code::Unsupported,
            &what,
            "manifest.json is an image index (skopeo copy --all)",
            "copy one platform's image (skopeo copy without --all)",
        ));
    }
    let root_digest = Digest::of(&layout.manifest);
    let root = Descriptor::new(media, layout.manifest.len() as u64, &root_digest);
    let source = Layout {
        dir: dir.to_path_buf(),
        manifest: layout.manifest,
        manifest_digest: root_digest.clone(),
    };
    let (manifest, index) = import_from(store, &source, &root, platform)?;
    let mut unreadable = Vec::new();
    let signatures: Vec<Signature> = layout
        .signatures
        .into_iter()
        .filter_map(|s| s.map_err(|e| unreadable.push(e)).ok())
        .collect();
    if !unreadable.is_empty() {
        log::info!("{what}: signatures left out: {}", unreadable.join("; "));
    }
    if !signatures.is_empty() {
        super::signatures::record(store, &root_digest, Kind::Signatures, &signatures, &what)?;
    }
    Ok((manifest, index, root_digest))
}

/// The layout as a source of blobs: the manifest from `manifest.json`, the rest by digest.
struct Layout {
    dir: PathBuf,
    manifest: Vec<u8>,
    manifest_digest: Digest,
}

impl BlobSource for Layout {
    fn describe(&self) -> String {
        format!("dir:{}", self.dir.display())
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        if *digest == self.manifest_digest {
            return Ok(Box::new(io::Cursor::new(&self.manifest[..])));
        }
        // Version 1.1 names a blob by its digest's hex; 1.0 named layers `HEX.tar`.
        let plain = self.dir.join(digest.hex());
        let legacy = self.dir.join(format!("{}.tar", digest.hex()));
        let file = File::open(&plain).or_else(|_| File::open(&legacy)).map_err(|e| {
            ImageError::invalid(
                Code::BadSource,
                self.describe(),
                format!("blob {digest} is missing ({}: {e})", plain.display()),
                "the layout is incomplete: copy it again (skopeo copy … dir:PATH)",
            )
        })?;
        Ok(Box::new(io::BufReader::new(file)))
    }
}

fn read_bounded(path: &Path, limit: u64) -> std::result::Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    if !file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}
