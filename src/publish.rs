//! Publishing a signed image to an OCI registry, and getting it back (docs/registry.md).
//!
//! An attested output folder becomes one OCI artifact: an image manifest of our artifact type
//! whose layers are the folder's files (each titled with its file name), with an empty config;
//! each Sigstore bundle becomes a referrer of that manifest, laid out as cosign v3 writes them
//! (cosign's specs/BUNDLE_SPEC.md): the OCI 1.1 `subject`, the bundle media type as artifact
//! type, and on registries without the referrers API the index under the referrers tag
//! (`sha256-HEX`) that the OCI distribution specification has clients keep instead.
//!
//! Pulling does the reverse into a folder that `verify` then checks as any other: nothing here
//! decides whether an image is trustworthy, only that every byte is the one the registry's
//! descriptors name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::attest::{self, AttestError, BUNDLE_SUFFIX, Bundle, bundle::MAX_BUNDLE_BYTES};
use crate::image::ImageError;
use crate::image::digest::Digest;
use crate::image::registry::{RegistryOptions, Remote, referrers_tag};
use crate::reference::ImageRef;

crate::error_codes! {
    BadFolder = "publish-folder": "The folder to push is not an attested output folder: not a folder, an entry that is not a regular file, no image file, or no bundle.",
    BadArtifact = "publish-artifact": "What the registry holds under the reference is not a sealkit image artifact, or a file or bundle title is not a plain file name.",
    OutputClash = "publish-output": "The folder to pull into holds files that are not the artifact's.",
    BadReference = "publish-reference": "The reference to push to or pull from is not a registry reference, or pins a digest where a tag is needed.",
}

/// The artifact type of a sealkit image manifest.
pub const ARTIFACT_TYPE: &str = "application/vnd.sealkit.image.v1";
/// The OCI empty descriptor's media type, and its content (`{}`).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY: &[u8] = b"{}";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The annotation that names a layer's file.
pub const TITLE: &str = "org.opencontainers.image.title";
const CREATED: &str = "org.opencontainers.image.created";
const BUNDLE_CONTENT: &str = "dev.sigstore.bundle.content";
const BUNDLE_PREDICATE: &str = "dev.sigstore.bundle.predicateType";
const SCRATCH_PREFIX: &str = ".sealkit-pull-";
/// The largest image manifest or referrers index read (registries cap manifests at 4 MiB).
const MAX_MANIFEST_BYTES: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{what}: {message}\n  hint: {hint}")]
    Input {
        code: Code,
        what: String,
        message: String,
        hint: String,
    },
    #[error("{0}")]
    Registry(Box<ImageError>),
    #[error("{0}")]
    Bundle(#[from] AttestError),
}

impl From<ImageError> for PublishError {
    fn from(e: ImageError) -> Self {
        PublishError::Registry(Box::new(e))
    }
}

impl PublishError {
    fn new(code: Code, what: impl Into<String>, message: impl Into<String>, hint: impl Into<String>) -> Self {
        PublishError::Input {
            code,
            what: what.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The stable code of the error (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            PublishError::Input { code, .. } => code.as_str(),
            PublishError::Registry(e) => e.code(),
            PublishError::Bundle(e) => e.code().as_str(),
        }
    }
}

/// The media type of an output folder's file, by its name: an image file of a build format, or
/// a document beside it.
pub fn media_type(name: &str) -> &'static str {
    const IMAGE_FILES: [(&str, &str); 5] = [
        ("-kernel", "application/vnd.sealkit.linux.kernel.v1"),
        ("-initrd.img", "application/vnd.sealkit.linux.initrd.v1"),
        ("-cmdline", "text/plain"),
        (".tar", "application/x-tar"),
        (".iso", "application/vnd.efi.iso"),
    ];
    IMAGE_FILES
        .iter()
        .find(|(suffix, _)| name.ends_with(suffix))
        .map(|(_, media)| *media)
        .or_else(|| attest::media_type_of(name))
        .unwrap_or("application/octet-stream")
}

/// A registry reference from the command line; `oci:`, `dir:` and the other transports are
/// refused, as only a registry holds referrers.
pub fn parse_reference(text: &str) -> Result<oci_client::Reference, PublishError> {
    let bad = |message: String| {
        PublishError::new(
            Code::BadReference,
            text,
            message,
            "write HOST[:PORT]/NAME[:TAG][@sha256:DIGEST], e.g. registry.example/os/demo:1",
        )
    };
    match text.parse::<ImageRef>() {
        Ok(ImageRef::Registry(reference)) => Ok(*reference),
        Ok(_) => Err(bad("is a local image transport, not a registry".into())),
        Err(e) => Err(bad(e.message)),
    }
}

/// Whether a verify TARGET names a registry artifact rather than a path: its first
/// `/`-separated part is a registry host (holds a `.` or a `:`, or is `localhost`), as Docker
/// tells a registry from a repository. Decided on the text alone, never on what exists on disk;
/// a folder whose path reads so is written with `./` before it.
pub fn is_registry_target(text: &str) -> bool {
    let Some((host, rest)) = text.split_once('/') else {
        return false;
    };
    let hostname = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    !rest.is_empty()
        && !host.starts_with('.')
        && host.chars().all(hostname)
        && (host.contains('.') || host.contains(':') || host == "localhost")
}

/// A file or bundle title from a registry: a plain file name, so that it cannot climb out of the
/// folder (no `/`, no `..`, no NUL, no leading dot, at most 255 bytes).
fn check_title(title: &str, what: &str) -> Result<(), PublishError> {
    let why = if title.is_empty() {
        Some("is empty")
    } else if title.contains('/') || title.contains('\\') {
        Some("holds a path separator")
    } else if title.contains('\0') {
        Some("holds a NUL byte")
    } else if title.starts_with('.') {
        Some("starts with a dot (., .. or a hidden file)")
    } else if title.len() > 255 {
        Some("is longer than 255 bytes")
    } else if title.chars().any(char::is_control) {
        Some("holds a control character")
    } else {
        None
    };
    match why {
        Some(why) => Err(PublishError::new(
            Code::BadArtifact,
            what,
            format!("title {title:?} {why}; it must be a plain file name"),
            "the artifact was not written by sealkit push, or was tampered with; do not use it",
        )),
        None => Ok(()),
    }
}

/// A file of the folder to push.
struct LocalFile {
    name: String,
    path: PathBuf,
    digest: Digest,
    size: u64,
}

/// A bundle of the folder to push, with what its statement says (unverified: annotations only).
struct LocalBundle {
    name: String,
    bytes: Vec<u8>,
    digest: Digest,
    predicate_type: String,
}

fn folder_error(dir: &Path, message: impl Into<String>, hint: impl Into<String>) -> PublishError {
    PublishError::new(Code::BadFolder, dir.display().to_string(), message, hint)
}

/// The folder's files and bundles, by name.
fn read_folder(dir: &Path) -> Result<(Vec<LocalFile>, Vec<LocalBundle>), PublishError> {
    let unreadable = |e: std::io::Error| folder_error(dir, format!("cannot be listed ({e})"), "pass an output folder");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().into_string().map_err(|n| {
            folder_error(
                dir,
                format!("holds {n:?}, whose name is not UTF-8"),
                "rename or remove it",
            )
        })?;
        if !entry.file_type().map_err(unreadable)?.is_file() {
            return Err(folder_error(
                &entry.path(),
                "is not a regular file; an output folder holds only files",
                "remove it from the folder",
            ));
        }
        check_title(&name, &entry.path().display().to_string()).map_err(|_| {
            folder_error(
                &entry.path(),
                "is not a name a registry title can carry (hidden, or with control characters)",
                "rename or remove it",
            )
        })?;
        names.push(name);
    }
    names.sort();
    let mut files = Vec::new();
    let mut bundles = Vec::new();
    for name in names {
        let path = dir.join(&name);
        if name.ends_with(BUNDLE_SUFFIX) {
            let bytes = Bundle::read_bytes(&path).map_err(AttestError::from)?;
            let bundle = Bundle::parse(&bytes, &path.display().to_string()).map_err(AttestError::from)?;
            let predicate_type = attest::Statement::parse(&bundle.dsse_envelope.payload)
                .map(|s| s.predicate_type)
                .map_err(|why| {
                    folder_error(
                        &path,
                        format!("does not hold an in-toto statement ({why})"),
                        "attest the folder again (sealkit attest DIR …)",
                    )
                })?;
            bundles.push(LocalBundle {
                digest: Digest::of(&bytes),
                name,
                bytes,
                predicate_type,
            });
        } else {
            let digest = attest::file_digest(&path)?;
            let size = std::fs::metadata(&path)
                .map_err(|e| AttestError::io(&path.display().to_string(), &e))?
                .len();
            files.push(LocalFile {
                name,
                path,
                digest,
                size,
            });
        }
    }
    if files.is_empty() {
        return Err(folder_error(
            dir,
            "holds no image file",
            "pass the output folder of sealkit build (or gate)",
        ));
    }
    if bundles.is_empty() {
        return Err(folder_error(
            dir,
            format!("holds no bundle (*{BUNDLE_SUFFIX}): the image is not signed"),
            "attest it first: sealkit attest DIR --config FILE.yml --key KEY",
        ));
    }
    Ok((files, bundles))
}

fn descriptor(media_type: &str, digest: &Digest, size: u64) -> Value {
    json!({"mediaType": media_type, "digest": digest.to_string(), "size": size})
}

/// The image manifest of a folder's files: deterministic (sorted names, sorted keys, no time),
/// so that pushing the same folder twice gives the same digest.
fn image_manifest(files: &[LocalFile]) -> Vec<u8> {
    let layers: Vec<Value> = files
        .iter()
        .map(|f| {
            let mut d = descriptor(media_type(&f.name), &f.digest, f.size);
            d["annotations"] = json!({ TITLE: f.name });
            d
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "artifactType": ARTIFACT_TYPE,
        "config": descriptor(EMPTY_MEDIA_TYPE, &Digest::of(EMPTY), EMPTY.len() as u64),
        "layers": layers,
    });
    serde_json::to_vec(&manifest).expect("a JSON value serialises")
}

/// The annotations cosign puts on a bundle's manifest (and its referrers index entry); the
/// time only when SOURCE_DATE_EPOCH gives one.
fn bundle_annotations(bundle: &LocalBundle, created: Option<u64>) -> Value {
    let mut a = json!({
        BUNDLE_CONTENT: "dsse-envelope",
        BUNDLE_PREDICATE: bundle.predicate_type,
    });
    if let Some(epoch) = created {
        a[CREATED] = crate::epoch::rfc3339(epoch).into();
    }
    a
}

/// A bundle's referrer manifest, as cosign v3 writes it.
fn bundle_manifest(bundle: &LocalBundle, subject: &Value, created: Option<u64>) -> Vec<u8> {
    let mut layer = descriptor(attest::bundle::MEDIA_TYPE, &bundle.digest, bundle.bytes.len() as u64);
    layer["annotations"] = json!({ TITLE: bundle.name });
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "artifactType": attest::bundle::MEDIA_TYPE,
        "config": descriptor(EMPTY_MEDIA_TYPE, &Digest::of(EMPTY), EMPTY.len() as u64),
        "layers": [layer],
        "subject": subject,
        "annotations": bundle_annotations(bundle, created),
    });
    serde_json::to_vec(&manifest).expect("a JSON value serialises")
}

/// Where the referrers of a pushed image are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referrers {
    /// The registry's referrers API indexed them itself.
    Api,
    /// The registry lacks the API; the index is kept under this tag.
    Tag(String),
}

/// What a push did.
#[derive(Debug)]
pub struct Pushed {
    /// The reference pushed to, pinned to the manifest's digest.
    pub reference: String,
    pub digest: Digest,
    pub files: usize,
    pub bundles: usize,
    /// Blobs sent, and blobs the registry already had (an earlier, perhaps interrupted, push).
    pub uploaded: usize,
    pub present: usize,
    pub referrers: Referrers,
}

/// Pushes an attested output folder to `reference` (a tag): its files, the manifest, each bundle
/// as a referrer, and last the tag. Blobs the registry has are not sent again, so a rerun
/// finishes an interrupted push. `created` (SOURCE_DATE_EPOCH) dates the bundles' manifests.
pub fn push(
    dir: &Path,
    reference: &oci_client::Reference,
    options: &RegistryOptions,
    created: Option<u64>,
    progress: &dyn crate::progress::Progress,
) -> Result<Pushed, PublishError> {
    if reference.digest().is_some() {
        return Err(PublishError::new(
            Code::BadReference,
            reference.whole(),
            "pins a digest; a push names the tag to put the image under",
            "drop the @sha256:… part (sealkit prints the digest it pushed)",
        ));
    }
    let (files, bundles) = read_folder(dir)?;
    let remote = Remote::connect(reference, options)?;
    let (mut uploaded, mut present) = (0, 0);
    // Progress counts every blob as a step, and the bytes of those sent.
    let mut send =
        |digest: &Digest, size: u64, upload: &dyn Fn() -> Result<(), ImageError>| -> Result<(), ImageError> {
            if remote.has_blob(digest)? {
                present += 1;
                progress.advance(1, 0, 0);
            } else {
                upload()?;
                uploaded += 1;
                progress.advance(1, 0, size);
            }
            Ok(())
        };
    let empty = Digest::of(EMPTY);
    send(&empty, EMPTY.len() as u64, &|| remote.upload_bytes(EMPTY, &empty))?;
    for f in &files {
        send(&f.digest, f.size, &|| remote.upload_file(&f.path, &f.digest, f.size))?;
    }
    for b in &bundles {
        send(&b.digest, b.bytes.len() as u64, &|| {
            remote.upload_bytes(&b.bytes, &b.digest)
        })?;
    }
    let manifest = image_manifest(&files);
    // The image goes in by digest first and under its tag last, once its bundles are listed:
    // whoever follows the tag never finds the image without its signatures.
    let digest = remote.put_manifest(None, &manifest, MANIFEST_MEDIA_TYPE)?;
    let subject = descriptor(MANIFEST_MEDIA_TYPE, &digest, manifest.len() as u64);

    let referrers = put_referrers(&remote, &digest, &subject, &bundles, created)?;
    remote.put_manifest(reference.tag().or(Some("latest")), &manifest, MANIFEST_MEDIA_TYPE)?;
    Ok(Pushed {
        reference: format!("{}@{digest}", reference.whole().split('@').next().unwrap_or_default()),
        digest,
        files: files.len(),
        bundles: bundles.len(),
        uploaded,
        present,
        referrers,
    })
}

/// Puts each bundle (its blob already in the registry) as a referrer of `digest`, described by
/// `subject`, and lists them: by the referrers API where the registry has it, else in the
/// index under the referrers tag (the specification's read-modify-write).
fn put_referrers(
    remote: &Remote,
    digest: &Digest,
    subject: &Value,
    bundles: &[LocalBundle],
    created: Option<u64>,
) -> Result<Referrers, PublishError> {
    let mut entries = Vec::new();
    for b in bundles {
        let bytes = bundle_manifest(b, subject, created);
        let referrer = remote.put_manifest(None, &bytes, MANIFEST_MEDIA_TYPE)?;
        let mut entry = descriptor(MANIFEST_MEDIA_TYPE, &referrer, bytes.len() as u64);
        entry["artifactType"] = attest::bundle::MEDIA_TYPE.into();
        entry["annotations"] = bundle_annotations(b, created);
        entries.push(entry);
    }
    // A registry with the referrers API lists a manifest as soon as it has it; one without
    // answers the API with 404 and the client reads the referrers tag instead, where the
    // bundles appear only once this push writes them.
    let listed: BTreeSet<String> = remote
        .referrers(digest, Some(attest::bundle::MEDIA_TYPE))?
        .iter()
        .map(|d| d.digest().to_string())
        .collect();
    let missing: Vec<Value> = entries
        .into_iter()
        .filter(|e| !listed.contains(e["digest"].as_str().unwrap_or_default()))
        .collect();
    if missing.is_empty() && !has_referrers_tag(remote, digest)? {
        return Ok(Referrers::Api);
    }
    let tag = referrers_tag(digest);
    if !missing.is_empty() {
        let mut index = match remote.manifest(Some(&tag), None)? {
            Some(raw) => parse_json(&raw.bytes, &format!("{}:{tag}", remote.name()))?,
            None => json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": []}),
        };
        let Some(list) = index["manifests"].as_array_mut() else {
            return Err(PublishError::new(
                Code::BadArtifact,
                format!("{}:{tag}", remote.name()),
                "the referrers tag holds something other than an image index",
                "delete that tag in the registry, then push again",
            ));
        };
        list.extend(missing);
        let bytes = serde_json::to_vec(&index).expect("a JSON value serialises");
        remote.put_manifest(Some(&tag), &bytes, INDEX_MEDIA_TYPE)?;
    }
    Ok(Referrers::Tag(tag))
}

/// Pushes one Sigstore bundle about the image `subject` (in `remote`'s repository, whose
/// manifest is `subject_bytes`) as its referrer, as cosign v3 writes the bundles of `cosign
/// sign` and `cosign attest`. `name` titles the bundle's layer.
pub fn push_bundle(
    remote: &Remote,
    subject_bytes: &[u8],
    bundle: &attest::Bundle,
    name: &str,
    predicate_type: &str,
    created: Option<u64>,
) -> Result<Referrers, PublishError> {
    let digest = Digest::of(subject_bytes);
    let media_type = serde_json::from_slice::<Value>(subject_bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| MANIFEST_MEDIA_TYPE.to_owned());
    let subject = descriptor(&media_type, &digest, subject_bytes.len() as u64);
    let bytes = bundle.to_json();
    let bundle = LocalBundle {
        name: name.to_owned(),
        digest: Digest::of(&bytes),
        bytes,
        predicate_type: predicate_type.to_owned(),
    };
    if !remote.has_blob(&bundle.digest)? {
        remote.upload_bytes(&bundle.bytes, &bundle.digest)?;
    }
    let empty = Digest::of(EMPTY);
    if !remote.has_blob(&empty)? {
        remote.upload_bytes(EMPTY, &empty)?;
    }
    put_referrers(remote, &digest, &subject, std::slice::from_ref(&bundle), created)
}

fn has_referrers_tag(remote: &Remote, subject: &Digest) -> Result<bool, PublishError> {
    Ok(remote.manifest(Some(&referrers_tag(subject)), None)?.is_some())
}

fn parse_json(bytes: &[u8], what: &str) -> Result<Value, PublishError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(PublishError::new(
            Code::BadArtifact,
            what,
            format!(
                "the manifest has {} bytes, more than the {MAX_MANIFEST_BYTES} read",
                bytes.len()
            ),
            "the registry serves something other than a sealkit artifact",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        PublishError::new(
            Code::BadArtifact,
            what,
            format!("the manifest is not JSON ({e})"),
            "the registry serves something other than a sealkit artifact",
        )
    })
}

/// A descriptor of a layer, read strictly enough to fetch it.
struct Layer {
    media_type: String,
    digest: Digest,
    size: u64,
    title: Option<String>,
}

fn layers(manifest: &Value, what: &str) -> Result<Vec<Layer>, PublishError> {
    let bad = |why: String| {
        PublishError::new(
            Code::BadArtifact,
            what,
            why,
            "the artifact was not written by sealkit push, or was tampered with",
        )
    };
    let list = manifest["layers"]
        .as_array()
        .ok_or_else(|| bad("the manifest has no layers list".into()))?;
    list.iter()
        .enumerate()
        .map(|(i, l)| {
            let digest = l["digest"]
                .as_str()
                .and_then(|d| d.parse::<Digest>().ok())
                .ok_or_else(|| bad(format!("layer {i} has no sha256 digest")))?;
            let size = l["size"]
                .as_u64()
                .ok_or_else(|| bad(format!("layer {i} has no size")))?;
            Ok(Layer {
                media_type: l["mediaType"].as_str().unwrap_or_default().to_owned(),
                digest,
                size,
                title: l["annotations"][TITLE].as_str().map(str::to_owned),
            })
        })
        .collect()
}

/// What a pull wrote.
#[derive(Debug)]
pub struct Pulled {
    pub digest: Digest,
    /// The image's files and the bundles, by name, as written.
    pub files: Vec<String>,
    pub bundles: Vec<String>,
    /// Referrers that name another manifest as their subject (listed under the tag by someone
    /// else): written too, for verify to judge, and reported.
    pub foreign: Vec<String>,
}

/// One file to fetch: its name in the folder, the blob, and its size bound.
struct Fetch {
    name: String,
    digest: Digest,
    size: u64,
}

/// Pulls the artifact `reference` names, and every Sigstore bundle among its referrers, into
/// `dir` (created if missing). Every blob is checked against its descriptor as it lands, in a
/// scratch folder inside `dir`; only a complete set is moved into place, replacing files of the
/// same names. `dir` may hold no other files.
pub fn pull(
    reference: &oci_client::Reference,
    dir: &Path,
    options: &RegistryOptions,
    progress: &dyn crate::progress::Progress,
) -> Result<Pulled, PublishError> {
    let remote = Remote::connect(reference, options)?;
    let name = remote.name().to_owned();
    let raw = remote.manifest(None, None)?.ok_or_else(|| {
        PublishError::from(ImageError::Registry {
            image: name.clone(),
            registry: remote.registry().to_owned(),
            message: "the registry has no such manifest".into(),
            hint: "check the name and tag: the registry has no such image".into(),
        })
    })?;
    let manifest = parse_json(&raw.bytes, &name)?;
    if manifest["mediaType"] != MANIFEST_MEDIA_TYPE || manifest["artifactType"] != ARTIFACT_TYPE {
        return Err(PublishError::new(
            Code::BadArtifact,
            &name,
            format!(
                "is a {} of artifact type {}, not a sealkit image ({ARTIFACT_TYPE})",
                manifest["mediaType"].as_str().unwrap_or("manifest of no media type"),
                manifest["artifactType"].as_str().unwrap_or("(none)")
            ),
            "pull images that sealkit push (or gate --push) published",
        ));
    }
    let mut fetches = Vec::new();
    let mut names = BTreeSet::new();
    for layer in layers(&manifest, &name)? {
        let what = format!("{name} layer {}", layer.digest);
        let title = layer.title.ok_or_else(|| {
            PublishError::new(
                Code::BadArtifact,
                &what,
                "has no org.opencontainers.image.title",
                "the artifact was not written by sealkit push, or was tampered with",
            )
        })?;
        check_title(&title, &what)?;
        if title.ends_with(BUNDLE_SUFFIX) || !names.insert(title.clone()) {
            return Err(PublishError::new(
                Code::BadArtifact,
                &what,
                format!("title {title:?} is a bundle's name or another layer's"),
                "the artifact was not written by sealkit push, or was tampered with",
            ));
        }
        fetches.push(Fetch {
            name: title,
            digest: layer.digest,
            size: layer.size,
        });
    }
    let files: Vec<String> = fetches.iter().map(|f| f.name.clone()).collect();

    // The bundles: every referrer of the bundle artifact type, in digest order.
    let mut referrers = remote.referrers(&raw.digest, Some(attest::bundle::MEDIA_TYPE))?;
    referrers.sort_by_key(|d| d.digest().to_string());
    referrers.dedup_by_key(|d| d.digest().to_string());
    let mut bundle_fetches: Vec<(Fetch, Option<String>)> = Vec::new();
    let mut foreign = Vec::new();
    for r in &referrers {
        let digest: Digest = r.digest().to_string().parse().map_err(|_| {
            PublishError::new(
                Code::BadArtifact,
                &name,
                format!("a referrer has the digest {}, not sha256", r.digest()),
                "the referrers index was not written by sealkit push",
            )
        })?;
        let what = format!("{name} referrer {digest}");
        let Some(raw_referrer) = remote.manifest(None, Some(&digest))? else {
            return Err(PublishError::new(
                Code::BadArtifact,
                &what,
                "is listed as a referrer, and the registry does not have it",
                "push the image again",
            ));
        };
        let referrer = parse_json(&raw_referrer.bytes, &what)?;
        if referrer["subject"]["digest"] != raw.digest.to_string() {
            foreign.push(format!(
                "{digest} (its subject is {})",
                referrer["subject"]["digest"].as_str().unwrap_or("missing")
            ));
        }
        for layer in layers(&referrer, &what)? {
            if layer.media_type != attest::bundle::MEDIA_TYPE {
                continue;
            }
            if layer.size > MAX_BUNDLE_BYTES {
                return Err(PublishError::new(
                    Code::BadArtifact,
                    &what,
                    format!("its bundle claims {} bytes, more than {MAX_BUNDLE_BYTES}", layer.size),
                    "the bundle was not written by sealkit",
                ));
            }
            if let Some(title) = &layer.title {
                check_title(title, &what)?;
            }
            let title = layer.title.filter(|t| t.ends_with(BUNDLE_SUFFIX));
            bundle_fetches.push((
                Fetch {
                    name: String::new(),
                    digest: layer.digest,
                    size: layer.size,
                },
                title,
            ));
        }
    }
    // A bundle keeps its title; untitled ones and those sharing a title are named by digest, as
    // cosign names them, so that no bundle hides another.
    let mut titles: BTreeMap<String, usize> = BTreeMap::new();
    for (_, title) in &bundle_fetches {
        if let Some(t) = title {
            *titles.entry(t.clone()).or_default() += 1;
        }
    }
    let mut bundles = Vec::new();
    for (mut fetch, title) in bundle_fetches {
        fetch.name = match title {
            Some(t) if titles[&t] == 1 && !names.contains(&t) => t,
            _ => format!("sha256-{}{BUNDLE_SUFFIX}", fetch.digest.hex()),
        };
        if !names.insert(fetch.name.clone()) {
            continue; // the same bundle listed twice
        }
        bundles.push(fetch.name.clone());
        fetches.push(fetch);
    }

    prepare_output(dir, &names)?;
    let scratch = tempfile::Builder::new()
        .prefix(SCRATCH_PREFIX)
        .tempdir_in(dir)
        .map_err(|e| ImageError::io(dir, e))?;
    for f in &fetches {
        let path = scratch.path().join(&f.name);
        let file = remote.fetch_blob(&f.digest, f.size, || std::fs::File::create(&path))?;
        file.sync_all().map_err(|e| ImageError::io(&path, e))?;
        progress.advance(1, 0, f.size);
    }
    for f in &fetches {
        let to = dir.join(&f.name);
        std::fs::rename(scratch.path().join(&f.name), &to).map_err(|e| ImageError::io(&to, e))?;
    }
    Ok(Pulled {
        digest: raw.digest,
        files,
        bundles,
        foreign,
    })
}

/// Makes `dir` if needed and refuses one holding anything but files of these names (an earlier
/// pull of the same image is replaced; another image's files are never mixed in).
fn prepare_output(dir: &Path, names: &BTreeSet<String>) -> Result<(), PublishError> {
    std::fs::create_dir_all(dir).map_err(|e| ImageError::io(dir, e))?;
    let mut strangers = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| ImageError::io(dir, e))? {
        let entry = entry.map_err(|e| ImageError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(|e| ImageError::io(dir, e))?;
        if kind.is_dir() && name.starts_with(SCRATCH_PREFIX) {
            // The scratch folder of a pull that was killed.
            std::fs::remove_dir_all(entry.path()).map_err(|e| ImageError::io(entry.path(), e))?;
            continue;
        }
        let is_file = kind.is_file();
        if !is_file || !names.contains(&name) {
            strangers.push(name);
        }
    }
    if strangers.is_empty() {
        return Ok(());
    }
    strangers.sort();
    Err(PublishError::new(
        Code::OutputClash,
        dir.display().to_string(),
        format!(
            "holds {} that the image does not ({})",
            if strangers.len() == 1 { "an entry" } else { "entries" },
            strangers.join(", ")
        ),
        "pull into an empty or new folder",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_must_be_plain_file_names() {
        for bad in ["", "a/b", "../x", "..", ".", ".hidden", "a\0b", "a\\b", "x\ny"] {
            assert!(check_title(bad, "t").is_err(), "{bad:?}");
        }
        for good in [
            "demo-kernel",
            "demo-initrd.img",
            "sbom.spdx.json",
            "provenance.sigstore.json",
        ] {
            assert!(check_title(good, "t").is_ok(), "{good:?}");
        }
        assert!(check_title(&"a".repeat(256), "t").is_err());
    }

    #[test]
    fn registry_targets_are_told_from_paths_by_their_text() {
        for reference in [
            "localhost/demo",
            "localhost:5000/demo:1",
            "127.0.0.1:5000/os/demo@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "registry.example/os/demo:1",
            "docker.io/library/demo",
        ] {
            assert!(is_registry_target(reference), "{reference}");
        }
        for path in [
            "out",
            "out/demo-kernel",
            "./registry.example/demo",
            "../out",
            "/tmp/out",
            "build/out:1",
            "demo:1",
            "host.example/",
            ".config/out",
            "my dir.d/out",
        ] {
            assert!(!is_registry_target(path), "{path}");
        }
    }

    #[test]
    fn media_types_follow_the_file_names() {
        assert_eq!(media_type("demo-kernel"), "application/vnd.sealkit.linux.kernel.v1");
        assert_eq!(media_type("demo-initrd.tar"), "application/x-tar");
        assert_eq!(media_type("demo-efi.iso"), "application/vnd.efi.iso");
        assert_eq!(media_type("sbom.spdx.json"), "application/spdx+json");
        assert_eq!(media_type("report.sarif"), "application/sarif+json");
        assert_eq!(media_type("report.html"), "text/html");
        assert_eq!(media_type("report.xml"), "application/octet-stream");
    }

    #[test]
    fn the_image_manifest_is_deterministic_and_titled() {
        let file = |name: &str, bytes: &[u8]| LocalFile {
            name: name.into(),
            path: PathBuf::new(),
            digest: Digest::of(bytes),
            size: bytes.len() as u64,
        };
        let files = [file("a-cmdline", b"console=ttyS0"), file("a-kernel", b"k")];
        let bytes = image_manifest(&files);
        assert_eq!(bytes, image_manifest(&files));
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["artifactType"], ARTIFACT_TYPE);
        assert_eq!(v["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(
            v["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(v["layers"][1]["annotations"][TITLE], "a-kernel");
        assert_eq!(v["layers"][0]["mediaType"], "text/plain");
    }
}
