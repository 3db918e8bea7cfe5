//! From a reference to an image in the store: import from an OCI layout, a docker-archive or a
//! folder, pick the platform from an index, and read the manifest and config, all verified.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType};
use serde::Serialize;

use super::digest::Digest;
use super::error::{Code, ImageError, Result};
use super::signatures::Kind;
use super::store::{Blob, LAYER, Limit, METADATA, Store};
use crate::reference::ImageRef;

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// An OS/architecture[/variant] pair, as `--platform linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: None,
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => Ok(Platform {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: Some((*variant).into()),
            }),
            _ => Err(format!(
                "{s:?} is not OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8"
            )),
        }
    }
}

impl Platform {
    fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        self.os == os
            && self.architecture == architecture
            && (self.variant.is_none() || self.variant.as_deref() == variant)
    }
}

/// An image pinned to one manifest in the store.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// What the user wrote.
    pub reference: String,
    pub manifest_digest: Digest,
    /// The index the manifest was chosen from, if any.
    pub index_digest: Option<Digest>,
    pub manifest: ImageManifest,
    pub config: ImageConfiguration,
    pub platform: Platform,
    /// The BuildKit attestation manifests the store holds for this manifest (see
    /// [`super::attestation`]), sorted by digest.
    pub attestations: Vec<Descriptor>,
}

impl ResolvedImage {
    pub fn layers(&self) -> &[Descriptor] {
        self.manifest.layers()
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.labels().clone())
            .map(|l| l.into_iter().collect())
            .unwrap_or_default()
    }
}

/// Where blobs come from when importing.
pub(crate) trait BlobSource {
    fn describe(&self) -> String;
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>>;
    /// A manifest by digest: a registry serves those apart from blobs; layouts do not.
    fn open_manifest(&self, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        self.open(digest)
    }
}

/// An OCI image layout folder.
struct LayoutDir {
    dir: PathBuf,
}

impl BlobSource for LayoutDir {
    fn describe(&self) -> String {
        format!("oci:{}", self.dir.display())
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        let path = self.dir.join("blobs/sha256").join(digest.hex());
        let file = File::open(&path).map_err(|e| {
            ImageError::invalid(
                Code::BadSource,
                self.describe(),
                format!("blob {digest} is missing ({}: {e})", path.display()),
                "the layout is incomplete: copy it again (skopeo copy … oci:DIR:TAG)",
            )
        })?;
        Ok(Box::new(io::BufReader::new(file)))
    }
}

/// Reads an OCI layout's index.json and picks the manifest named `tag` (or the only image);
/// returns it and every entry of the index.
fn layout_root(dir: &Path, tag: Option<&str>) -> Result<(Descriptor, Vec<Descriptor>)> {
    let what = format!("oci:{}", dir.display());
    let layout = dir.join("oci-layout");
    let marker = std::fs::read(&layout).map_err(|e| {
        ImageError::invalid(
            Code::BadSource,
            &what,
            format!("not an OCI image layout ({}: {e})", layout.display()),
            "point at a folder that holds oci-layout and index.json",
        )
    })?;
    let marker: serde_json::Value = serde_json::from_slice(&marker).map_err(|e| {
        ImageError::invalid(
            Code::BadSource,
            &what,
            format!("oci-layout is not JSON: {e}"),
            "repair the layout",
        )
    })?;
    if marker["imageLayoutVersion"] != "1.0.0" {
        return Err(ImageError::invalid(
            Code::Unsupported,
            &what,
            format!("unsupported imageLayoutVersion {}", marker["imageLayoutVersion"]),
            "use an OCI layout of version 1.0.0",
        ));
    }
    let index_path = dir.join("index.json");
    let bytes = read_bounded(&index_path, &what)?;
    let index: ImageIndex = serde_json::from_slice(&bytes).map_err(|e| {
        ImageError::invalid(
            Code::BadSource,
            &what,
            format!("index.json is not an OCI image index: {e}"),
            "repair the layout",
        )
    })?;
    let manifests = index.manifests();
    // `cosign save` writes the image beside its signatures and attestations, each entry marked
    // with its kind: the image is the one marked so.
    let images: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| {
            d.annotations()
                .as_ref()
                .and_then(|a| a.get(super::signatures::COSIGN_KIND))
                .is_none_or(|kind| COSIGN_IMAGE_KINDS.contains(&kind.as_str()))
        })
        .collect();
    let root = match tag {
        Some(tag) => manifests
            .iter()
            .find(|d| ref_name(d) == Some(tag))
            .cloned()
            .ok_or_else(|| {
                let tags: Vec<&str> = manifests.iter().filter_map(ref_name).collect();
                ImageError::invalid(
                    Code::BadSource,
                    &what,
                    format!("no image is tagged {tag:?}"),
                    format!(
                        "tags here: {}",
                        if tags.is_empty() {
                            "none".into()
                        } else {
                            tags.join(", ")
                        }
                    ),
                )
            }),
        None if images.len() == 1 => Ok(images[0].clone()),
        None => Err(ImageError::invalid(
            Code::BadSource,
            &what,
            format!("the layout holds {} images and no tag was given", images.len()),
            "write oci:DIR:TAG",
        )),
    }?;
    Ok((root, manifests.clone()))
}

/// `cosign save`'s kinds of index entry that are images (the rest are its signatures and
/// attestations).
const COSIGN_IMAGE_KINDS: [&str; 2] = ["dev.cosignproject.cosign/image", "dev.cosignproject.cosign/imageIndex"];

fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get(super::store::REF_NAME))
        .map(String::as_str)
}

fn read_bounded(path: &Path, what: &str) -> Result<Vec<u8>> {
    let file = File::open(path)
        .map_err(|e| ImageError::invalid(Code::Io, what, format!("{}: {e}", path.display()), "check the path"))?;
    let mut bytes = Vec::new();
    file.take(METADATA.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::io(path, e))?;
    if bytes.len() as u64 > METADATA.bytes {
        return Err(ImageError::invalid(
            Code::LimitExceeded,
            what,
            format!(
                "{} is larger than {} may be ({} bytes)",
                path.display(),
                METADATA.kind,
                METADATA.bytes
            ),
            "check the path",
        ));
    }
    Ok(bytes)
}

pub(crate) fn is_index(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageIndex) || media_type.as_ref() == DOCKER_MANIFEST_LIST
}

fn is_manifest(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageManifest) || media_type.as_ref() == DOCKER_MANIFEST
}

fn is_config(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageConfig) || media_type.as_ref() == DOCKER_CONFIG
}

/// OCI's layer types (plain, gzip, zstd, non-distributable) and Docker's (`rootfs.diff`,
/// `rootfs.foreign.diff`): the only blobs that are a tar stream to unpack.
fn is_layer(media_type: &MediaType) -> bool {
    let m = media_type.as_ref();
    m.starts_with("application/vnd.oci.image.layer.") || m.starts_with("application/vnd.docker.image.rootfs.")
}

/// Copies the blob `d` names from `source` into the store (verifying its size and digest) unless
/// the store holds it intact. A descriptor over `limit` is refused before the source is read.
fn copy_blob(store: &Store, source: &dyn BlobSource, d: &Descriptor, limit: Limit, what: &str) -> Result<Digest> {
    let blob = Blob::of(d, what)?;
    if store.has_intact(&blob, what)? {
        return Ok(blob.digest);
    }
    blob.check(limit, what)?;
    let reader = source.open(&blob.digest)?;
    Ok(store.write_blob(reader, Some(&blob), limit, what)?.digest)
}

/// Imports the manifest of `platform` reachable from `root` (a manifest or an index) into the
/// store, with its config and layers, and the attestations the index lists for it. Returns the
/// manifest's descriptor and the index digest.
pub(crate) fn import_from(
    store: &Store,
    source: &dyn BlobSource,
    root: &Descriptor,
    platform: &Platform,
) -> Result<(Descriptor, Option<Digest>)> {
    let what = source.describe();
    let root_digest = copy_blob(store, source, root, METADATA, &what)?;
    let (manifest_desc, index) = if is_index(root.media_type()) {
        let index = parse_index(&store.read_blob(&root_digest, &what)?, &what)?;
        (select_platform(&index, platform, &what)?, Some(index))
    } else {
        (root.clone(), None)
    };
    let manifest_digest = copy_blob(store, source, &manifest_desc, METADATA, &what)?;
    let manifest = parse_manifest(&store.read_blob(&manifest_digest, &what)?, &what)?;
    copy_blob(store, source, manifest.config(), METADATA, &what)?;
    for layer in manifest.layers() {
        copy_blob(store, source, layer, LAYER, &what)?;
    }
    let index_digest = match index {
        Some(index) => {
            super::attestation::import(store, source, &index, &manifest_digest, &what)?;
            Some(root_digest)
        }
        None => None,
    };
    Ok((manifest_desc, index_digest))
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str, kind: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            what,
            format!("not a valid {kind}: {e}"),
            "the image is corrupt or not an OCI/Docker image",
        )
    })
}

/// An image index (OCI's or Docker's manifest list), refused when it says it is something else.
pub(crate) fn parse_index(bytes: &[u8], what: &str) -> Result<ImageIndex> {
    let index: ImageIndex = parse_json(bytes, what, "image index")?;
    if let Some(media) = index.media_type()
        && !is_index(media)
    {
        return Err(malformed(
            what,
            format!("the image index says its mediaType is {media}"),
        ));
    }
    Ok(index)
}

/// An image manifest (OCI's or Docker's v2), refused when it says it is something else, or
/// types its config or a layer as another kind of blob: what is read as a config, or unpacked as
/// a layer, is what the manifest says it is.
pub(crate) fn parse_manifest(bytes: &[u8], what: &str) -> Result<ImageManifest> {
    let manifest: ImageManifest = parse_json(bytes, what, "image manifest")?;
    if let Some(media) = manifest.media_type()
        && !is_manifest(media)
    {
        return Err(malformed(
            what,
            format!("the image manifest says its mediaType is {media}"),
        ));
    }
    let config = manifest.config();
    if !is_config(config.media_type()) {
        return Err(malformed(
            what,
            format!(
                "the config {} is typed {}, not as an image config ({} or {DOCKER_CONFIG})",
                config.digest(),
                config.media_type(),
                MediaType::ImageConfig
            ),
        ));
    }
    if let Some(layer) = manifest.layers().iter().find(|l| !is_layer(l.media_type())) {
        return Err(malformed(
            what,
            format!(
                "layer {} is typed {}, not as a layer (application/vnd.oci.image.layer.v1.tar[+gzip|+zstd] or Docker's rootfs.diff types)",
                layer.digest(),
                layer.media_type()
            ),
        ));
    }
    Ok(manifest)
}

fn malformed(what: &str, message: String) -> ImageError {
    ImageError::invalid(
        Code::BadMetadata,
        what,
        message,
        "the image is malformed or hostile: rebuild it with a standard tool (docker buildx, linuxkit pkg build, umoci)",
    )
}

pub(crate) fn select_platform(index: &ImageIndex, platform: &Platform, what: &str) -> Result<Descriptor> {
    let mut available = Vec::new();
    for d in index.manifests() {
        // Attestation manifests say unknown/unknown: they are never an image to run.
        if super::attestation::described_by(d).is_some() {
            continue;
        }
        let Some(p) = d.platform() else { continue };
        let (os, arch) = (p.os().to_string(), p.architecture().to_string());
        if platform.matches(&os, &arch, p.variant().as_deref()) {
            return Ok(d.clone());
        }
        available.push(format!(
            "{os}/{arch}{}",
            p.variant().as_ref().map(|v| format!("/{v}")).unwrap_or_default()
        ));
    }
    Err(ImageError::invalid(
        Code::NoSuchPlatform,
        what,
        format!("the index has no image for {platform}"),
        format!(
            "available: {}; choose one with --platform",
            if available.is_empty() {
                "none (no platform is declared)".into()
            } else {
                available.join(", ")
            }
        ),
    ))
}

/// Reads a manifest from the store and checks its config's platform.
fn load_resolved(
    store: &Store,
    reference: &str,
    manifest_desc: &Descriptor,
    index_digest: Option<Digest>,
    platform: &Platform,
) -> Result<ResolvedImage> {
    let manifest_digest = Blob::of(manifest_desc, reference)?.digest;
    let manifest = parse_manifest(&store.read_blob(&manifest_digest, reference)?, reference)?;
    let config_desc = manifest.config();
    let config_digest = Blob::of(config_desc, reference)?.digest;
    let config_bytes = store.read_blob(&config_digest, reference)?;
    if config_bytes.len() as u64 != config_desc.size() {
        return Err(ImageError::invalid(
            Code::BadMetadata,
            reference,
            "the config's size differs from its descriptor",
            "the image is corrupt",
        ));
    }
    let config: ImageConfiguration = parse_json(&config_bytes, reference, "image config")?;
    let (os, arch) = (config.os().to_string(), config.architecture().to_string());
    if !platform.matches(&os, &arch, config.variant().as_deref()) {
        return Err(ImageError::invalid(
            Code::NoSuchPlatform,
            reference,
            format!("the image is for {os}/{arch}, not {platform}"),
            "use the image built for this platform, or pass --platform",
        ));
    }
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(ImageError::invalid(
            Code::BadMetadata,
            reference,
            format!(
                "the manifest has {} layers but the config lists {} diff_ids",
                manifest.layers().len(),
                diff_ids.len()
            ),
            "the image is corrupt",
        ));
    }
    for layer in manifest.layers() {
        let d = Blob::of(layer, reference)?.digest;
        if !store.has_blob(&d) {
            return Err(ImageError::invalid(
                Code::CorruptStore,
                reference,
                format!("layer {d} is missing from the store"),
                "import or pull the image again",
            ));
        }
    }
    let attestations = super::attestation::stored(store, &manifest_digest)?;
    Ok(ResolvedImage {
        reference: reference.to_owned(),
        manifest_digest,
        index_digest,
        manifest,
        config,
        platform: platform.clone(),
        attestations,
    })
}

/// Resolves `reference` to an image in the store, importing it first when it names an OCI
/// layout, a docker-archive or a folder. `base` anchors relative paths (the YAML's folder).
pub fn resolve(store: &Store, reference: &ImageRef, platform: &Platform, base: &Path) -> Result<ResolvedImage> {
    let text = reference.to_string();
    match reference {
        ImageRef::OciLayout { dir, tag } => {
            let dir = base.join(dir);
            let (root, entries) = layout_root(&dir, tag.as_deref())?;
            let source = LayoutDir { dir };
            let (manifest, index) = import_from(store, &source, &root, platform)?;
            let signed = Blob::of(&root, &text)?.digest;
            for kind in Kind::ALL {
                for entry in entries.iter().filter(|d| super::signatures::is_entry(d, &signed, kind)) {
                    super::signatures::import(store, &source, entry, &signed, kind, &text)?;
                }
            }
            load_resolved(store, &text, &manifest, index, platform)
        }
        ImageRef::DockerArchive { path } => {
            let (manifest, index) = super::archive::import_docker_archive(store, &base.join(path), platform)?;
            load_resolved(store, &text, &manifest, index, platform)
        }
        ImageRef::Dir { path } if super::skopeo::is_layout(&base.join(path)) => {
            let (manifest, index, _) = super::skopeo::import(store, &base.join(path), platform)?;
            load_resolved(store, &text, &manifest, index, platform)
        }
        ImageRef::Dir { path } => {
            let manifest = super::archive::import_dir(store, &base.join(path), platform)?;
            load_resolved(store, &text, &manifest, None, platform)
        }
        ImageRef::Registry(_) => {
            let desc = store.lookup(&text)?.ok_or_else(|| {
                store.not_found(
                    &text,
                    &format!(
                        "pull it (sealkit image pull {text}) or import it (sealkit image import SRC --tag {text})"
                    ),
                )
            })?;
            if is_index(desc.media_type()) {
                let index_digest = Blob::of(&desc, &text)?.digest;
                let index = parse_index(&store.read_blob(&index_digest, &text)?, &text)?;
                let manifest = select_platform(&index, platform, &text)?;
                load_resolved(store, &text, &manifest, Some(index_digest), platform)
            } else {
                load_resolved(store, &text, &desc, None, platform)
            }
        }
    }
}

/// The image whose manifest is `digest`, if the store holds it (whatever name it was stored
/// under: content is addressed by digest).
pub fn resolve_manifest(
    store: &Store,
    reference: &str,
    digest: &Digest,
    platform: &Platform,
) -> Result<Option<ResolvedImage>> {
    if !store.has_blob(digest) {
        return Ok(None);
    }
    let size = store.verify_blob(digest, reference)?;
    let desc = Descriptor::new(MediaType::ImageManifest, size, digest);
    load_resolved(store, reference, &desc, None, platform).map(Some)
}

/// Imports `source` into the store and names it `name`.
pub fn import(store: &Store, source: &ImageRef, name: &str, platform: &Platform) -> Result<ResolvedImage> {
    let resolved = resolve(store, source, platform, Path::new("."))?;
    let size = store.verify_blob(&resolved.manifest_digest, name)?;
    let media = if resolved
        .manifest
        .media_type()
        .as_ref()
        .is_some_and(|m| m.to_string() == DOCKER_MANIFEST)
    {
        MediaType::Other(DOCKER_MANIFEST.into())
    } else {
        MediaType::ImageManifest
    };
    let mut desc = Descriptor::new(media, size, &resolved.manifest_digest);
    desc.set_platform(Some(
        oci_spec::image::PlatformBuilder::default()
            .os(resolved.platform.os.as_str())
            .architecture(resolved.platform.architecture.as_str())
            .build()
            .map_err(|e| {
                ImageError::invalid(
                    Code::BadMetadata,
                    name,
                    e.to_string(),
                    "the image is corrupt or not an OCI/Docker image: fetch or rebuild it",
                )
            })?,
    ));
    store.set_name(name, &desc)?;
    Ok(resolved)
}

/// A normalised relative path inside an image, or `None` when it would leave the root.
pub fn clean_member_path(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) | Component::ParentDir => return None,
        }
    }
    Some(out)
}

/// Reads `size` bytes at `offset` of a seekable file (a member of an uncompressed tar).
pub(crate) fn section(file: &File, offset: u64, size: u64) -> io::Result<impl Read + '_> {
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    Ok(f.take(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        assert_eq!(
            "linux/arm64/v8".parse::<Platform>().unwrap().to_string(),
            "linux/arm64/v8"
        );
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//".parse::<Platform>().is_err());
        let p = Platform::default();
        assert!(p.matches("linux", "amd64", Some("v3")), "no variant asked: any variant");
        assert!(!p.matches("linux", "arm64", None));
    }

    #[test]
    fn member_paths() {
        assert_eq!(clean_member_path(Path::new("./a/b")), Some(PathBuf::from("a/b")));
        assert_eq!(clean_member_path(Path::new("/etc/passwd")), None);
        assert_eq!(clean_member_path(Path::new("a/../../b")), None);
    }
}
