//! BuildKit attestation manifests: what `docker buildx build --attest type=sbom` and `linuxkit
//! pkg build` attach to an image index beside each platform image (an OCI manifest with platform
//! `unknown/unknown`, annotated `vnd.docker.reference.type: attestation-manifest` and
//! `vnd.docker.reference.digest: <the image manifest>`, whose layers are in-toto statements).
//!
//! Import and pull keep the attestations of the selected image (the manifest, its config and its
//! in-toto layers, each verified like every blob), and the store records their descriptors so
//! the image finds them however it is named later. An attestation that could not be copied (the
//! source lacks a blob, a statement is too large) is still recorded: cataloging then reports it,
//! rather than the SBOM silently losing it. Past [`MAX_ATTESTATIONS`] per image (or
//! [`MAX_STATEMENTS`] in one), attestations are left out, and the import's one-line note says so.

use std::io::Read;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use super::digest::Digest;
use super::error::{Code, ImageError, Result, examples, plural};
use super::resolve::{BlobSource, ResolvedImage};
use super::store::{Blob, Limit, METADATA, Store};

pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
pub const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
pub const PREDICATE_TYPE: &str = "in-toto.io/predicate-type";

/// The largest in-toto statement kept and read: an SBOM of a large image is tens of MiB.
pub const STATEMENT: Limit = Limit {
    bytes: 64 << 20,
    kind: "an in-toto statement",
};

/// The most attestation manifests kept per image, and statements per attestation manifest.
/// BuildKit attaches one manifest holding a statement or two (SBOM, provenance); the bounds keep
/// a hostile index from filling the store's index.json, and the import's output, with thousands.
pub const MAX_ATTESTATIONS: usize = 16;
pub const MAX_STATEMENTS: usize = 16;

/// The manifest digest an attestation manifest's descriptor describes; `None` for anything else
/// (BuildKit: "if any other value is specified, the entire manifest should be ignored").
pub fn described_by(d: &Descriptor) -> Option<&str> {
    let a = d.annotations().as_ref()?;
    (a.get(REFERENCE_TYPE)? == ATTESTATION_MANIFEST)
        .then(|| a.get(REFERENCE_DIGEST).map(String::as_str))
        .flatten()
}

/// The attestation manifests the store keeps for the image manifest `manifest`, sorted by
/// digest.
pub fn stored(store: &Store, manifest: &Digest) -> Result<Vec<Descriptor>> {
    let wanted = manifest.to_string();
    Ok(store
        .attached()?
        .into_iter()
        .filter(|d| described_by(d) == Some(wanted.as_str()))
        .collect())
}

/// The attestation manifests of `index` that describe `manifest`.
pub fn describing(index: &ImageIndex, manifest: &Digest) -> Vec<Descriptor> {
    let wanted = manifest.to_string();
    index
        .manifests()
        .iter()
        .filter(|d| described_by(d) == Some(wanted.as_str()))
        .cloned()
        .collect()
}

/// The blobs of an attestation manifest that are kept: its config (so the stored manifest is
/// complete for tools that copy it) and its in-toto layers; other layer types are ignored, as
/// BuildKit's format asks.
fn kept_blobs(manifest: &ImageManifest) -> impl Iterator<Item = &Descriptor> {
    std::iter::once(manifest.config()).chain(manifest.layers().iter().filter(|l| is_statement(l)))
}

fn is_statement(layer: &Descriptor) -> bool {
    layer.media_type().as_ref() == IN_TOTO
}

/// Copies a blob unless the store has it intact; `Ok(false)` when the source cannot supply it or
/// it is over `limit`, with the reason added to `problems` (the attestation is then reported when
/// the image is catalogued); an error when what the source supplies is not the blob its
/// descriptor names (a corrupt or tampered source, as for every blob).
fn copy_if_available(
    store: &Store,
    source: &dyn BlobSource,
    d: &Descriptor,
    manifest: bool,
    limit: Limit,
    what: &str,
    problems: &mut Vec<String>,
) -> Result<bool> {
    let blob = Blob::of(d, what)?;
    if store.has_intact(&blob, what)? {
        return Ok(true);
    }
    let opened = blob.check(limit, what).and_then(|()| {
        if manifest {
            source.open_manifest(&blob.digest)
        } else {
            source.open(&blob.digest)
        }
    });
    match opened {
        Ok(reader) => {
            store.write_blob(reader, Some(&blob), limit, what)?;
            Ok(true)
        }
        Err(e) => {
            problems.push(reason(&e, what));
            Ok(false)
        }
    }
}

/// The first line of an error (its hint is for whole failures, not a note's examples), without
/// the source's name the note already gives.
fn reason(e: &ImageError, what: &str) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix(what)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(line)
        .to_owned()
}

/// Copies the attestations of `manifest` listed in `index` into the store and records them: at
/// most [`MAX_ATTESTATIONS`], each with at most [`MAX_STATEMENTS`]. What could not be kept is
/// summed up in one note.
pub(crate) fn import(
    store: &Store,
    source: &dyn BlobSource,
    index: &ImageIndex,
    manifest: &Digest,
    what: &str,
) -> Result<()> {
    let mut listed = describing(index, manifest);
    let mut problems = Vec::new();
    if listed.len() > MAX_ATTESTATIONS {
        problems.push(format!(
            "{} beyond the first {MAX_ATTESTATIONS} left out",
            plural(
                listed.len() - MAX_ATTESTATIONS,
                "attestation manifest",
                "attestation manifests"
            )
        ));
        listed.truncate(MAX_ATTESTATIONS);
    }
    let mut kept = Vec::new();
    for att in listed {
        let copied = copy_if_available(store, source, &att, true, METADATA, what, &mut problems)?;
        // A missing or unreadable attestation manifest is recorded as it came: cataloguing the
        // image reports it.
        if copied && let Ok(m) = read_manifest(store, &att, what) {
            let statements = m.layers().iter().filter(|l| is_statement(l)).count();
            if statements > MAX_STATEMENTS {
                problems.push(format!(
                    "attestation manifest {} left out: it lists {statements} statements, more than {MAX_STATEMENTS}",
                    att.digest()
                ));
                continue;
            }
            for blob in kept_blobs(&m) {
                let limit = if blob == m.config() { METADATA } else { STATEMENT };
                copy_if_available(store, source, blob, false, limit, what, &mut problems)?;
            }
        }
        kept.push(att);
    }
    if !problems.is_empty() {
        log::info!(
            "{what}: attestations not kept whole ({}): {}",
            plural(problems.len(), "problem", "problems"),
            examples(&problems)
        );
    }
    store.record_attached(&kept)
}

fn read_manifest(store: &Store, d: &Descriptor, what: &str) -> Result<ImageManifest> {
    let digest = Blob::of(d, what)?.digest;
    serde_json::from_slice(&store.read_blob(&digest, what)?).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            what,
            format!("attestation manifest {digest} is not an image manifest: {e}"),
            "the attestation is corrupt",
        )
    })
}

/// One in-toto statement attached to an image, as the store holds it.
#[derive(Debug)]
pub struct Statement {
    /// `attestation:sha256:…`: the statement's blob (or the attestation manifest's, when that
    /// could not be read).
    pub location: String,
    /// The layer's `in-toto.io/predicate-type` annotation.
    pub predicate_type: Option<String>,
    /// The statement's bytes, or why they could not be read.
    pub content: std::result::Result<Vec<u8>, String>,
}

fn location(digest: &str) -> String {
    format!("attestation:{digest}")
}

/// The in-toto statements attached to `image` whose predicate-type annotation `wanted` accepts
/// (or that have none), read from the store, verified and bounded. Nothing here fails: an
/// unreadable attestation is a statement whose content says why.
pub fn statements(store: &Store, image: &ResolvedImage, wanted: &dyn Fn(&str) -> bool) -> Vec<Statement> {
    let what = &image.reference;
    let mut out = Vec::new();
    for att in &image.attestations {
        let manifest = match read_manifest(store, att, what) {
            Ok(m) => m,
            Err(e) => {
                out.push(Statement {
                    location: location(att.digest().as_ref()),
                    predicate_type: None,
                    content: Err(format!(
                        "attestation manifest unreadable: {e}; import or pull the image again with its attestations"
                    )),
                });
                continue;
            }
        };
        for layer in manifest.layers().iter().filter(|l| is_statement(l)) {
            let predicate_type = layer
                .annotations()
                .as_ref()
                .and_then(|a| a.get(PREDICATE_TYPE))
                .cloned();
            if predicate_type.as_deref().is_some_and(|t| !wanted(t)) {
                continue;
            }
            out.push(Statement {
                location: location(layer.digest().as_ref()),
                predicate_type,
                content: read_statement(store, layer),
            });
        }
    }
    out.sort_by(|a, b| a.location.cmp(&b.location));
    out
}

/// The digests a statement about `image` may name as its subject: the manifest, or an object
/// within it (BuildKit: "the same digest as the target manifest …, or some object within").
pub fn subjects(image: &ResolvedImage) -> std::collections::BTreeSet<String> {
    std::iter::once(image.manifest_digest.to_string())
        .chain(
            std::iter::once(image.manifest.config())
                .chain(image.layers())
                .map(|d| d.digest().to_string()),
        )
        .collect()
}

fn read_statement(store: &Store, layer: &Descriptor) -> std::result::Result<Vec<u8>, String> {
    if layer.size() > STATEMENT.bytes {
        return Err(format!(
            "the statement is {} bytes, over the {}-byte limit: not read",
            layer.size(),
            STATEMENT.bytes
        ));
    }
    let digest = Digest::try_from(layer.digest()).map_err(|e| e.to_string())?;
    if !store.has_blob(&digest) {
        return Err("the blob is missing: the image's source lacked it when it was imported or pulled; copy the image with its attestations (skopeo copy --all) and import it again".into());
    }
    let mut bytes = Vec::new();
    store
        .open_blob(&digest, Some(layer.size()))
        .map_err(|e| e.to_string())?
        .take(STATEMENT.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("the stored copy is corrupt ({e}): import or pull the image again"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(entries: serde_json::Value) -> ImageIndex {
        serde_json::from_value(serde_json::json!({"schemaVersion": 2, "manifests": entries})).unwrap()
    }

    #[test]
    fn only_attestation_manifests_of_the_image_are_found() {
        let image = Digest::of(b"image");
        let other = Digest::of(b"other");
        let entry = |digest: &Digest, kind: &str, about: &Digest| {
            serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest.to_string(), "size": 1,
                "annotations": {REFERENCE_TYPE: kind, REFERENCE_DIGEST: about.to_string()}})
        };
        let wanted = Digest::of(b"attestation");
        let idx = index(serde_json::json!([
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image.to_string(), "size": 1},
            entry(&wanted, ATTESTATION_MANIFEST, &image),
            // Another image's attestation, and a reference of another type: not this image's.
            entry(&Digest::of(b"a2"), ATTESTATION_MANIFEST, &other),
            entry(&Digest::of(b"a3"), "signature", &image),
        ]));
        let found = describing(&idx, &image);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].digest().to_string(), wanted.to_string());
        assert!(describing(&idx, &Digest::of(b"none")).is_empty());
    }
}
