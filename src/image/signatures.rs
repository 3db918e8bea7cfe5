//! cosign's signatures of an image, kept beside it in the store.
//!
//! cosign keeps an image's signatures as one OCI manifest tagged `sha256-<hex>.sig` (hex: the
//! signed manifest's digest) in the image's repository: each layer a simple-signing payload, the
//! signature and any Rekor entry in the layer's annotations. The same manifest is found in an OCI
//! layout under that tag (or, as `cosign save` writes it, annotated `kind:
//! dev.cosignproject.cosign/sigs`), and skopeo's directory layout keeps the same three parts per
//! signature in `signature-N` files.
//!
//! Pull, import and skopeo's layout copy them into the store (skopeo's files turned into the
//! manifest cosign would have written, as `skopeo copy` does), recorded in the store's index,
//! unnamed, with the annotation [`SIGNATURES_OF`] naming the signed digest. Checking them is the
//! trust policy's (`crate::trust`), which reads them from the store only: offline, and exactly
//! what was resolved.

use std::collections::BTreeMap;

use base64::Engine as _;
use oci_spec::image::{Descriptor, ImageManifest, MediaType};

use super::digest::Digest;
use super::error::{Code, ImageError, Result};
use super::resolve::BlobSource;
use super::store::{Blob, Limit, METADATA, Store};

/// The media type of a cosign signature layer (a simple-signing payload).
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The media type of a cosign attestation layer (a DSSE envelope of an in-toto statement).
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The media type (and referrer artifact type) of a Sigstore bundle, as cosign v3 attaches it.
pub const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// `cosign save`'s annotation on an OCI layout's index entries.
pub const COSIGN_KIND: &str = "kind";

/// What cosign attaches to an image under a tag named for its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `sha256-<hex>.sig`: simple-signing payloads, each signed in its layer's annotation.
    Signatures,
    /// `sha256-<hex>.att`: DSSE envelopes of in-toto statements about the image.
    Attestations,
    /// cosign v3's Sigstore bundles: OCI 1.1 referrers of the image (its `subject`), listed by
    /// the registry's referrers API or under the `sha256-<hex>` referrers tag.
    Bundles,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Signatures, Kind::Attestations, Kind::Bundles];

    fn suffix(self) -> &'static str {
        match self {
            Kind::Signatures => ".sig",
            Kind::Attestations => ".att",
            Kind::Bundles => "",
        }
    }

    /// The annotation of a stored manifest of this kind: the digest it is about.
    fn annotation(self) -> &'static str {
        match self {
            Kind::Signatures => "dev.sealkit.signatures-of",
            Kind::Attestations => "dev.sealkit.attestations-of",
            Kind::Bundles => "dev.sealkit.bundles-of",
        }
    }

    /// `cosign save`'s `kind` value for it.
    fn cosign_kind(self) -> Option<&'static str> {
        match self {
            Kind::Signatures => Some("dev.cosignproject.cosign/sigs"),
            Kind::Attestations => Some("dev.cosignproject.cosign/atts"),
            Kind::Bundles => None,
        }
    }

    /// The largest layer kept: a signature payload is a few hundred bytes; an attestation may
    /// carry an SBOM.
    fn layer_limit(self) -> Limit {
        match self {
            Kind::Signatures => PAYLOAD,
            Kind::Attestations | Kind::Bundles => super::attestation::STATEMENT,
        }
    }
}
/// The largest payload read: a simple-signing payload is a few hundred bytes; what is far larger
/// is not one, and is refused before it is stored or parsed.
pub const MAX_PAYLOAD: usize = 64 << 10;
/// Signatures per image: a manifest listing more is refused, not read without end.
pub const MAX_SIGNATURES: usize = 256;
const PAYLOAD: Limit = Limit {
    bytes: MAX_PAYLOAD as u64,
    kind: "a signature payload",
};
/// skopeo's `signature-N` file: this prefix, then the JSON.
const SIGSTORE_FILE_PREFIX: &[u8] = b"\x00sigstore-json\n";

/// One signature as found, untrusted until the trust policy checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub mime_type: String,
    pub payload: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SigstoreFile {
    mime_type: String,
    payload: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

impl Signature {
    /// Reads skopeo's `signature-N` file.
    pub fn from_sigstore_file(bytes: &[u8]) -> std::result::Result<Signature, String> {
        let Some(json) = bytes.strip_prefix(SIGSTORE_FILE_PREFIX) else {
            return Err(if bytes.first() == Some(&0) {
                "not a sigstore signature (a GPG simple-signing signature, which sealkit does not check)".into()
            } else {
                "not a sigstore signature file (it does not begin with \\0sigstore-json)".into()
            });
        };
        if json.len() > 4 * MAX_PAYLOAD {
            return Err(format!("{} bytes: too large for a signature", json.len()));
        }
        let file: SigstoreFile = serde_json::from_slice(json).map_err(|e| format!("not a sigstore signature: {e}"))?;
        let payload = base64::engine::general_purpose::STANDARD
            .decode(&file.payload)
            .map_err(|e| format!("payload is not base64: {e}"))?;
        Ok(Signature {
            mime_type: file.mime_type,
            payload,
            annotations: file.annotations,
        })
    }
}

/// The tag under which cosign keeps what it attaches of `kind` to the manifest `signed`.
pub fn tag_of(signed: &Digest, kind: Kind) -> String {
    format!("sha256-{}{}", signed.hex(), kind.suffix())
}

/// Whether an OCI layout's index entry holds `kind` of `signed`: tagged as cosign tags them, or
/// marked by `cosign save` (whose layout holds one image, so they are that image's; what they
/// sign is checked from their payloads).
pub fn is_entry(d: &Descriptor, signed: &Digest, kind: Kind) -> bool {
    if kind == Kind::Bundles {
        // A layout lists referrers by their artifact type; whom each is about is read from
        // its `subject` on import.
        return d.artifact_type().as_ref().is_some_and(|t| t.to_string() == BUNDLE);
    }
    let Some(a) = d.annotations().as_ref() else {
        return false;
    };
    a.get(super::store::REF_NAME) == Some(&tag_of(signed, kind))
        || a.get(COSIGN_KIND).map(String::as_str) == kind.cosign_kind()
}

/// Copies the manifest `manifest` of `kind` about the image `signed` from `source` into the
/// store, with its layers, and records it. A manifest listing more than [`MAX_SIGNATURES`]
/// layers, or a layer over its kind's limit, is refused whole.
pub(crate) fn import(
    store: &Store,
    source: &dyn BlobSource,
    manifest: &Descriptor,
    signed: &Digest,
    kind: Kind,
    what: &str,
) -> Result<()> {
    let what = format!("{what} ({})", tag_of(signed, kind));
    let blob = Blob::of(manifest, &what)?;
    if !store.has_intact(&blob, &what)? {
        blob.check(METADATA, &what)?;
        store.write_blob(source.open_manifest(&blob.digest)?, Some(&blob), METADATA, &what)?;
    }
    let parsed = parse(&store.read_blob(&blob.digest, &what)?, &what)?;
    if kind == Kind::Bundles {
        let subject = parsed.subject().as_ref().map(|d| d.digest().to_string());
        if subject.as_deref() != Some(signed.to_string().as_str()) {
            // A referrer of another image (a stale or forged index entry): not this image's.
            return Ok(());
        }
    }
    for layer in parsed.layers() {
        let layer = Blob::of(layer, &what)?;
        if !store.has_intact(&layer, &what)? {
            layer.check(kind.layer_limit(), &what)?;
            store.write_blob(source.open(&layer.digest)?, Some(&layer), kind.layer_limit(), &what)?;
        }
    }
    // The config says nothing a signature needs; it is kept when it is there, so the stored
    // manifest is whole for tools that copy it, and not asked for otherwise.
    let config = Blob::of(parsed.config(), &what)?;
    if !store.has_intact(&config, &what)?
        && config.check(METADATA, &what).is_ok()
        && let Ok(reader) = source.open(&config.digest)
    {
        let _ = store.write_blob(reader, Some(&config), METADATA, &what);
    }
    store.record_attached(&[attached(
        manifest.media_type().clone(),
        blob.digest,
        blob.size,
        signed,
        kind,
    )])
}

/// Writes `signatures` into the store as the one manifest cosign would write for them, and
/// records it as `kind` of `signed`. Returns the manifest's bytes and the blobs it lists
/// (config first), for a caller that also pushes them.
pub fn record(store: &Store, signed: &Digest, kind: Kind, signatures: &[Signature], what: &str) -> Result<Written> {
    let written = manifest_of(signatures, what)?;
    for blob in &written.blobs {
        store.write_bytes(blob, kind.layer_limit(), what)?;
    }
    let digest = store.write_bytes(&written.manifest, METADATA, what)?;
    store.record_attached(&[attached(
        MediaType::ImageManifest,
        digest,
        written.manifest.len() as u64,
        signed,
        kind,
    )])?;
    Ok(written)
}

/// A signature manifest and the blobs it lists (its config, then one payload per signature).
pub struct Written {
    pub manifest: Vec<u8>,
    pub blobs: Vec<Vec<u8>>,
}

/// The manifest cosign writes for `signatures`: an OCI image manifest whose layers are the
/// payloads, each annotated with its signature, and a config listing them as its diff_ids (as
/// go-containerregistry derives it for uncompressed layers).
pub fn manifest_of(signatures: &[Signature], what: &str) -> Result<Written> {
    if signatures.len() > MAX_SIGNATURES {
        return Err(too_many(signatures.len(), what));
    }
    let digests: Vec<String> = signatures.iter().map(|s| Digest::of(&s.payload).to_string()).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": digests.iter().map(|_| serde_json::json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": digests},
    }))
    .map_err(|e| ImageError::invalid(Code::Io, what, e.to_string(), "report this"))?;
    let layers: Vec<serde_json::Value> = signatures
        .iter()
        .zip(&digests)
        .map(|(s, digest)| {
            serde_json::json!({
                "mediaType": s.mime_type,
                "size": s.payload.len(),
                "digest": digest,
                "annotations": s.annotations,
            })
        })
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": Digest::of(&config).to_string(),
        },
        "layers": layers,
    }))
    .map_err(|e| ImageError::invalid(Code::Io, what, e.to_string(), "report this"))?;
    let mut blobs = vec![config];
    blobs.extend(signatures.iter().map(|s| s.payload.clone()));
    Ok(Written { manifest, blobs })
}

/// Everything of `kind` the store keeps for the manifest `signed`, each read or why it could
/// not be, in a stable order (by manifest digest, then layer), each payload once.
pub fn stored(store: &Store, signed: &Digest, kind: Kind) -> Result<Vec<std::result::Result<Signature, String>>> {
    let wanted = signed.to_string();
    let mut found = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for d in store.attached()? {
        if d.annotations().as_ref().and_then(|a| a.get(kind.annotation())) != Some(&wanted) {
            continue;
        }
        let what = format!("{} of {signed} ({})", tag_of(signed, kind), d.digest());
        let manifest = parse(&store.read_blob(&Blob::of(&d, &what)?.digest, &what)?, &what)?;
        for layer in manifest.layers() {
            let annotations: BTreeMap<&String, &String> = layer.annotations().iter().flatten().collect();
            if !seen.insert(format!("{} {annotations:?}", layer.digest())) {
                continue;
            }
            found.push(read_layer(store, layer, kind.layer_limit(), &what));
        }
    }
    Ok(found)
}

fn read_layer(store: &Store, layer: &Descriptor, limit: Limit, what: &str) -> std::result::Result<Signature, String> {
    let blob = Blob::of(layer, what).map_err(|e| e.to_string())?;
    if blob.size > limit.bytes {
        return Err(format!("a {}-byte layer: too large for {}", blob.size, limit.kind));
    }
    let payload = store.read_blob(&blob.digest, what).map_err(|e| e.to_string())?;
    Ok(Signature {
        mime_type: layer.media_type().to_string(),
        payload,
        annotations: layer.annotations().clone().unwrap_or_default().into_iter().collect(),
    })
}

fn parse(bytes: &[u8], what: &str) -> Result<ImageManifest> {
    // Counted before the layers are parsed, so a manifest of millions costs no more than its
    // bounded bytes.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(what, e.to_string()))?;
    let layers = value.get("layers").and_then(|l| l.as_array()).map_or(0, Vec::len);
    if layers > MAX_SIGNATURES {
        return Err(too_many(layers, what));
    }
    serde_json::from_value(value).map_err(|e| bad(what, e.to_string()))
}

fn bad(what: &str, why: String) -> ImageError {
    ImageError::invalid(
        Code::BadMetadata,
        what,
        format!("not a cosign signature manifest: {why}"),
        "sign the image again (sealkit image sign, cosign sign)",
    )
}

fn too_many(n: usize, what: &str) -> ImageError {
    ImageError::invalid(
        Code::LimitExceeded,
        what,
        format!("{n} signatures, more than the {MAX_SIGNATURES} read"),
        "remove stale signatures (cosign clean) and sign again",
    )
}

fn attached(media_type: MediaType, digest: Digest, size: u64, signed: &Digest, kind: Kind) -> Descriptor {
    let mut d = Descriptor::new(media_type, size, &digest);
    d.set_annotations(Some(
        [(kind.annotation().to_owned(), signed.to_string())]
            .into_iter()
            .collect(),
    ));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature(n: u8) -> Signature {
        Signature {
            mime_type: SIMPLE_SIGNING.into(),
            payload: vec![b'{', n, b'}'],
            annotations: [("dev.cosignproject.cosign/signature".to_owned(), format!("sig{n}"))]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn recorded_signatures_are_read_back_once_each_whatever_the_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let signed = Digest::of(b"an image manifest");
        let other = Digest::of(b"another");
        let sig = Kind::Signatures;
        record(&store, &signed, sig, &[signature(1), signature(2)], "test").unwrap();
        // A second manifest repeating one and adding one, as a later pull of an appended tag.
        record(&store, &signed, sig, &[signature(2), signature(3)], "test").unwrap();
        record(&store, &other, sig, &[signature(9)], "test").unwrap();
        record(&store, &signed, Kind::Attestations, &[signature(7)], "test").unwrap();
        let found: Vec<Signature> = stored(&store, &signed, sig)
            .unwrap()
            .into_iter()
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(found.len(), 3);
        for n in 1..=3 {
            assert!(found.contains(&signature(n)), "{n}");
        }
        assert_eq!(stored(&store, &other, sig).unwrap().len(), 1);
        assert!(stored(&store, &Digest::of(b"unsigned"), sig).unwrap().is_empty());
        let attested = stored(&store, &signed, Kind::Attestations).unwrap();
        assert_eq!(attested, [Ok(signature(7))]);
        // The same signatures give the same manifest bytes: what is pushed is reproducible.
        let a = manifest_of(&[signature(1)], "t").unwrap().manifest;
        assert_eq!(a, manifest_of(&[signature(1)], "t").unwrap().manifest);
    }

    #[test]
    fn a_manifest_of_a_thousand_signatures_is_refused_before_its_layers_are_read() {
        let layer = serde_json::json!({"mediaType": SIMPLE_SIGNING, "size": 3, "digest": Digest::of(b"x").to_string()});
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": Digest::of(b"{}").to_string()},
            "layers": vec![layer; 1000],
        });
        let e = parse(&serde_json::to_vec(&manifest).unwrap(), "test").unwrap_err();
        assert_eq!(e.code(), Code::LimitExceeded.as_str());
        assert!(e.to_string().contains("1000 signatures"), "{e}");
        let e = manifest_of(&vec![signature(1); MAX_SIGNATURES + 1], "test")
            .err()
            .unwrap();
        assert_eq!(e.code(), Code::LimitExceeded.as_str());
    }

    #[test]
    fn a_payload_past_the_limit_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let signed = Digest::of(b"image");
        // A signature manifest whose layer claims 100 MiB: the store never holds such a blob,
        // and reading it back says why rather than reading it.
        let huge = Descriptor::new(MediaType::Other(SIMPLE_SIGNING.into()), 100 << 20, &Digest::of(b"huge"));
        let why = read_layer(&store, &huge, PAYLOAD, "test").unwrap_err();
        assert!(why.contains("too large for a signature payload"), "{why}");
        let _ = signed;
    }

    #[test]
    fn a_sigstore_file_is_read_and_anything_else_refused_with_why() {
        let mut file = b"\x00sigstore-json\n".to_vec();
        file.extend(br#"{"mimeType":"m","payload":"e30=","annotations":{"a":"b"}}"#);
        let s = Signature::from_sigstore_file(&file).unwrap();
        assert_eq!(s.payload, b"{}");
        assert!(Signature::from_sigstore_file(b"\x00gpg").unwrap_err().contains("GPG"));
        assert!(
            Signature::from_sigstore_file(b"{}")
                .unwrap_err()
                .contains("does not begin")
        );
        let mut big = b"\x00sigstore-json\n".to_vec();
        big.extend(vec![b' '; 4 * MAX_PAYLOAD + 1]);
        assert!(Signature::from_sigstore_file(&big).unwrap_err().contains("too large"));
    }
}
