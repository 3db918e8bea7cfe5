//! Pull and push over the OCI distribution API (oci-client): anonymous, basic and bearer-token
//! auth with credentials from the docker config file; plain HTTP only for loopback registries (as
//! docker allows) or those named with `--insecure-registry`; every blob verified as it lands;
//! timeouts, and retries with backoff on server errors and dropped connections.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use oci_spec::image::{Descriptor, ImageIndex, MediaType};

use super::attestation::STATEMENT;
use super::digest::Digest;
use super::error::{Code, ImageError, Result};
use super::resolve::{BlobSource, Platform, ResolvedImage, parse_index, parse_manifest};
use super::signatures::Kind;
use super::store::{Blob, LAYER, METADATA, Store};

const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

const ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Registries (HOST[:PORT]) reached over plain HTTP besides loopback ones.
    pub insecure: Vec<String>,
    /// How long one request may stall; `SEALKIT_REGISTRY_TIMEOUT` (seconds) overrides the 60 s default.
    pub timeout: Option<Duration>,
}

struct Session {
    client: Client,
    auth: RegistryAuth,
    runtime: tokio::runtime::Runtime,
    image: String,
    registry: String,
}

fn is_loopback(registry: &str) -> bool {
    let host = registry.rsplit_once(':').map_or(registry, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            registry
        }
    });
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Credentials for `registry` from the docker config (`$DOCKER_CONFIG/config.json` or
/// `~/.docker/config.json`, credential helpers included); anonymous when there are none.
fn credentials(registry: &str) -> RegistryAuth {
    let server = if registry == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    match docker_credential::get_credential(server) {
        Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => {
            RegistryAuth::Basic(user, password)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => RegistryAuth::Bearer(token),
        Err(_) => RegistryAuth::Anonymous,
    }
}

impl Session {
    fn new(reference: &Reference, options: &RegistryOptions) -> Result<Self> {
        let registry = reference.registry().to_owned();
        let mut insecure: Vec<String> = options.insecure.clone();
        if is_loopback(&registry) {
            insecure.push(registry.clone());
        }
        let timeout = options.timeout.or_else(|| {
            std::env::var("SEALKIT_REGISTRY_TIMEOUT")
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .map(Duration::from_secs)
        });
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(insecure),
            read_timeout: Some(timeout.unwrap_or(Duration::from_secs(60))),
            connect_timeout: Some(timeout.unwrap_or(Duration::from_secs(15))),
            ..Default::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ImageError::io("tokio runtime", e))?;
        let client = Client::new(config);
        let auth = credentials(&registry);
        // Calls that take no credentials (a blob's HEAD, a push, the referrers) authenticate
        // with those stored for the registry: store them before the first call, whatever it is.
        runtime.block_on(client.store_auth_if_needed(reference.resolve_registry(), &auth));
        Ok(Session {
            client,
            auth,
            runtime,
            image: reference.whole(),
            registry,
        })
    }

    fn error(&self, e: &OciDistributionError) -> ImageError {
        let text = with_causes(e);
        let hint = match e {
            OciDistributionError::AuthenticationFailure(_) | OciDistributionError::UnauthorizedError { .. } => {
                "log in (docker login / skopeo login write the docker config sealkit reads) or check the credentials"
            }
            OciDistributionError::ImageManifestNotFoundError(_) => {
                "check the name and tag: the registry has no such image"
            }
            _ if has_word(&text, "401") || text.to_lowercase().contains("unauthorized") => {
                "log in (docker login / skopeo login write the docker config sealkit reads) or check the credentials"
            }
            _ if has_word(&text, "404")
                || text.contains("not found")
                || text.to_lowercase().contains("manifest unknown")
                || text.to_lowercase().contains("name unknown") =>
            {
                "check the name and tag: the registry has no such image"
            }
            _ if text.contains("timed out") || text.contains("timeout") => {
                "the registry did not answer in time; check that it is up, or raise SEALKIT_REGISTRY_TIMEOUT"
            }
            _ => "check that the registry is reachable and healthy, then try again",
        };
        ImageError::Registry {
            image: self.image.clone(),
            registry: self.registry.clone(),
            message: text,
            hint: hint.into(),
        }
    }

    /// Runs `op`, retrying server errors and transport failures with backoff (0.5 s, 1 s).
    fn retry<T, F, Fut>(&self, what: &str, op: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, OciDistributionError>>,
    {
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            match self.runtime.block_on(op()) {
                Ok(v) => return Ok(v),
                Err(e) if attempt < ATTEMPTS && transient(&e) => {
                    log::info!(
                        "{what} from {}: {}; retrying in {} ms",
                        self.registry,
                        with_causes(&e),
                        delay.as_millis()
                    );
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                Err(e) => return Err(self.error(&e)),
            }
        }
        unreachable!("the last attempt returns")
    }
}

impl Session {
    /// Streams a blob into `out` as it arrives; stops with an error once `out` refuses bytes
    /// (a blob writer over its limit).
    async fn stream_blob(
        &self,
        reference: &Reference,
        digest: &Digest,
        out: &mut dyn Write,
    ) -> std::result::Result<(), OciDistributionError> {
        let digest_text = digest.to_string();
        let mut stream = self.client.pull_blob_stream(reference, digest_text.as_str()).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| OciDistributionError::GenericError(Some(e.to_string())))?;
            out.write_all(&chunk)
                .map_err(|e| OciDistributionError::GenericError(Some(e.to_string())))?;
        }
        Ok(())
    }
}

/// A registry as a source of the small blobs and manifests of attestations: each is fetched
/// whole (bounded), then written to the store through its verifying writer.
struct RegistrySource<'a> {
    session: &'a Session,
    reference: &'a Reference,
}

/// A sink that refuses bytes past its bound.
struct Bounded(Vec<u8>);

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.0.len() + buf.len()) as u64 > STATEMENT.bytes + 1 {
            return Err(std::io::Error::other(format!(
                "the blob is larger than {} bytes",
                STATEMENT.bytes
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl BlobSource for RegistrySource<'_> {
    fn describe(&self) -> String {
        self.session.image.clone()
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        let s = self.session;
        let bytes = s.retry("attestation blob", || async {
            let mut sink = Bounded(Vec::new());
            s.stream_blob(self.reference, digest, &mut sink).await?;
            Ok(sink.0)
        })?;
        Ok(Box::new(std::io::Cursor::new(bytes)))
    }

    fn open_manifest(&self, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        let s = self.session;
        let by_digest = self.reference.clone_with_digest(digest.to_string());
        let (bytes, _) = s.retry("attestation manifest", || {
            s.client.pull_manifest_raw(&by_digest, &s.auth, &MANIFEST_TYPES)
        })?;
        Ok(Box::new(std::io::Cursor::new(bytes)))
    }
}

/// The error and its causes: the HTTP library's top-level message ("error sending request")
/// hides the reason (a timeout, a refused connection) in its source.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(r) => {
            r.is_timeout() || r.is_connect() || r.status().is_some_and(|s| s.is_server_error())
        }
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        _ => {
            let t = e.to_string();
            t.contains(" 500") || t.contains(" 502") || t.contains(" 503") || t.contains(" 504")
        }
    }
}

/// Pulls `reference` (the manifest for `platform` when it is an index) with its config and
/// layers into the store, and names it with its full reference. Returns the resolved image.
/// `progress` is told the bytes of each blob fetched.
pub fn pull(
    store: &Store,
    reference: &Reference,
    platform: &Platform,
    options: &RegistryOptions,
    progress: &dyn crate::progress::Progress,
) -> Result<ResolvedImage> {
    let s = Session::new(reference, options)?;
    let name = reference.whole();
    let (bytes, header_digest) = s.retry("manifest", || {
        s.client.pull_manifest_raw(reference, &s.auth, &MANIFEST_TYPES)
    })?;
    let root_digest = store.write_bytes(&bytes, METADATA, &name)?;
    if !header_digest.is_empty() && header_digest != root_digest.to_string() {
        return Err(ImageError::invalid(
            Code::DigestMismatch,
            &name,
            format!("the registry says the manifest is {header_digest}, its content hashes to {root_digest}"),
            "the registry or a proxy altered the manifest",
        ));
    }
    if let Some(pinned) = reference.digest()
        && pinned != root_digest.to_string()
    {
        return Err(ImageError::invalid(
            Code::DigestMismatch,
            &name,
            format!("pinned to {pinned}, but the registry served {root_digest}"),
            "the registry or a proxy altered the image",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        ImageError::invalid(
            Code::BadMetadata,
            &name,
            format!("the manifest is not JSON: {e}"),
            "the registry served something else",
        )
    })?;
    let media = value["mediaType"].as_str().unwrap_or_default().to_owned();
    let is_index = value.get("manifests").is_some();
    let root_media = if media.is_empty() {
        if is_index {
            MediaType::ImageIndex
        } else {
            MediaType::ImageManifest
        }
    } else {
        MediaType::from(media.as_str())
    };
    let root = Descriptor::new(root_media, bytes.len() as u64, &root_digest);

    let index: Option<ImageIndex> = if is_index {
        Some(parse_index(&bytes, &name)?)
    } else {
        None
    };
    let manifest_digest = if let Some(index) = &index {
        let chosen = Blob::of(&super::resolve::select_platform(index, platform, &name)?, &name)?;
        if !store.has_intact(&chosen, &name)? {
            chosen.check(METADATA, &name)?;
            let by_digest = reference.clone_with_digest(chosen.digest.to_string());
            let (mbytes, _) = s.retry("manifest", || {
                s.client.pull_manifest_raw(&by_digest, &s.auth, &MANIFEST_TYPES)
            })?;
            store.write_blob(&mbytes[..], Some(&chosen), METADATA, &name)?;
        }
        chosen.digest
    } else {
        root_digest.clone()
    };
    let manifest = parse_manifest(&store.read_blob(&manifest_digest, &name)?, &name)?;
    let config = std::iter::once((manifest.config(), METADATA));
    for (desc, limit) in config.chain(manifest.layers().iter().map(|l| (l, LAYER))) {
        let blob = Blob::of(desc, &name)?;
        if store.has_intact(&blob, &name)? {
            continue;
        }
        // A blob that is not what its descriptor says (or claims more than the limit) is refused
        // at once; only the transport's failures are retried.
        let landed = s.retry("blob", || async {
            let mut writer = match store.blob_writer(Some(&blob), limit, &name) {
                Ok(writer) => writer,
                Err(e) => return Ok(Err(e)),
            };
            match s.stream_blob(reference, &blob.digest, &mut writer).await {
                Err(e) => match writer.refusal() {
                    Some(refused) => Ok(Err(refused)),
                    None => Err(e),
                },
                Ok(()) => Ok(writer.commit()),
            }
        })?;
        landed?;
        progress.advance(0, 0, blob.size);
    }
    if let Some(index) = &index {
        let source = RegistrySource { session: &s, reference };
        super::attestation::import(store, &source, index, &manifest_digest, &name)?;
    }
    let remote = Remote {
        session: s,
        reference: reference.clone(),
    };
    remote.copy_signatures(store, &root_digest)?;
    store.set_name(&name, &root)?;
    super::resolve::resolve(
        store,
        &super::ImageRef::Registry(Box::new(reference.clone())),
        platform,
        std::path::Path::new("."),
    )
}

/// Pushes a resolved image's blobs (those the registry lacks) and its manifest, byte for byte, so
/// the digest stays the same. Returns the pushed manifest's digest.
pub fn push(
    store: &Store,
    image: &ResolvedImage,
    destination: &Reference,
    options: &RegistryOptions,
) -> Result<Digest> {
    let remote = Remote::connect(destination, options)?;
    let name = destination.whole();
    for desc in std::iter::once(image.manifest.config()).chain(image.layers()) {
        let digest = Blob::of(desc, &name)?.digest;
        if remote.has_blob(&digest)? {
            continue;
        }
        // Blobs are streamed from the store, verified on the way out.
        let size = store.verify_blob(&digest, &name)?;
        remote.upload_file(&store.blob_path(&digest), &digest, size)?;
    }
    let bytes = store.read_blob(&image.manifest_digest, &name)?;
    let media = image
        .manifest
        .media_type()
        .as_ref()
        .map(|m| m.to_string())
        .unwrap_or_else(|| MediaType::ImageManifest.to_string());
    remote.put_manifest(destination.tag(), &bytes, &media)?;
    Ok(image.manifest_digest.clone())
}

fn http_header(value: &str, image: &str) -> Result<http::HeaderValue> {
    http::HeaderValue::from_str(value)
        .map_err(|e| ImageError::invalid(Code::Registry, image, e.to_string(), "report this as a sealkit bug"))
}

/// A file as a stream of 1 MiB chunks, for blob uploads.
fn tokio_util_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::result::Result<bytes::Bytes, OciDistributionError>> + Send + 'static {
    futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 1 << 20];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(OciDistributionError::GenericError(Some(e.to_string()))), file)),
        }
    })
}

/// The referrers of a manifest (signatures, SBOMs, attestations): the referrers API, or the
/// `sha256-HEX` tag scheme on registries that lack it.
pub fn referrers(
    reference: &Reference,
    digest: &Digest,
    artifact_type: Option<&str>,
    options: &RegistryOptions,
) -> Result<Vec<Descriptor>> {
    Remote::connect(reference, options)?.referrers(digest, artifact_type)
}

/// One repository of a registry, for callers that compose artifacts of their own (the
/// publishing of signed images): the session of [`pull`] and [`push`] — credentials, plain HTTP
/// rules, timeouts, retries with backoff — with one call per distribution API operation.
pub struct Remote {
    session: Session,
    reference: Reference,
}

/// What a manifest fetched by [`Remote::manifest`] is: its bytes and their digest (checked
/// against the registry's header and the reference's pin).
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub digest: Digest,
}

/// The tag under which the OCI distribution specification's referrers tag schema keeps the
/// index of `subject`'s referrers on registries without the referrers API: `sha256-HEX`.
pub fn referrers_tag(subject: &Digest) -> String {
    format!("sha256-{}", subject.hex())
}

impl Remote {
    /// A session with the repository of `reference` (its tag or digest is the default target of
    /// [`Remote::manifest`]).
    pub fn connect(reference: &Reference, options: &RegistryOptions) -> Result<Remote> {
        Ok(Remote {
            session: Session::new(reference, options)?,
            reference: reference.clone(),
        })
    }

    /// The reference, for messages.
    pub fn name(&self) -> &str {
        &self.session.image
    }

    pub fn registry(&self) -> &str {
        &self.session.registry
    }

    fn at_tag(&self, tag: &str) -> Reference {
        Reference::with_tag(
            self.reference.registry().to_owned(),
            self.reference.repository().to_owned(),
            tag.to_owned(),
        )
    }

    fn at_digest(&self, digest: &Digest) -> Reference {
        Reference::with_digest(
            self.reference.registry().to_owned(),
            self.reference.repository().to_owned(),
            digest.to_string(),
        )
    }

    /// Whether the repository holds the blob (HEAD): what an interrupted upload need not send
    /// again.
    pub fn has_blob(&self, digest: &Digest) -> Result<bool> {
        let s = &self.session;
        let text = digest.to_string();
        s.retry("blob check", || s.client.blob_exists(&self.reference, &text))
    }

    /// Uploads a file as the blob `digest` of `size` bytes, streamed in 1 MiB chunks; the
    /// registry refuses it if the bytes do not hash to `digest`.
    pub fn upload_file(&self, path: &std::path::Path, digest: &Digest, size: u64) -> Result<()> {
        let s = &self.session;
        let text = digest.to_string();
        s.retry("blob upload", || async {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| OciDistributionError::GenericError(Some(format!("{}: {e}", path.display()))))?;
            s.client
                .push_blob_stream(&self.reference, tokio_util_stream(file), &text, Some(size))
                .await
        })?;
        Ok(())
    }

    /// Uploads a small blob held in memory.
    pub fn upload_bytes(&self, bytes: &[u8], digest: &Digest) -> Result<()> {
        let s = &self.session;
        let text = digest.to_string();
        let bytes = bytes::Bytes::copy_from_slice(bytes);
        s.retry("blob upload", || {
            s.client.push_blob(&self.reference, bytes.clone(), &text)
        })?;
        Ok(())
    }

    /// Puts a manifest under `tag`, or under its digest alone when `tag` is `None`; returns
    /// its digest.
    pub fn put_manifest(&self, tag: Option<&str>, bytes: &[u8], media_type: &str) -> Result<Digest> {
        let s = &self.session;
        let digest = Digest::of(bytes);
        // By digest, the digest goes where a tag would: the URL is the same, and oci-client's
        // work-around for registries that answer without a Location header (it strips the tag
        // from the URL) has a tag to strip instead of panicking.
        let digest_text = digest.to_string();
        let target = self.at_tag(tag.unwrap_or(&digest_text));
        let content_type = http_header(media_type, &s.image)?;
        let body = bytes::Bytes::copy_from_slice(bytes);
        s.retry("manifest upload", || {
            s.client.push_manifest_raw(&target, body.clone(), content_type.clone())
        })?;
        Ok(digest)
    }

    /// The manifest the reference names (`None`), or the one under `tag`, or by `digest`;
    /// `Ok(None)` when the registry has no such manifest.
    pub fn manifest(&self, tag: Option<&str>, digest: Option<&Digest>) -> Result<Option<RawManifest>> {
        let s = &self.session;
        let target = match (tag, digest) {
            (_, Some(d)) => self.at_digest(d),
            (Some(t), None) => self.at_tag(t),
            (None, None) => self.reference.clone(),
        };
        let fetched = s.runtime.block_on(async {
            let mut delay = Duration::from_millis(500);
            let mut attempt = 1;
            loop {
                match s.client.pull_manifest_raw(&target, &s.auth, &MANIFEST_TYPES).await {
                    Ok(v) => return Ok(Some(v)),
                    Err(e) if not_found(&e) => return Ok(None),
                    Err(e) if attempt < ATTEMPTS && transient(&e) => {
                        log::info!(
                            "manifest from {}: {}; retrying in {} ms",
                            s.registry,
                            with_causes(&e),
                            delay.as_millis()
                        );
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                        attempt += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        });
        let Some((bytes, header)) = fetched.map_err(|e| s.error(&e))? else {
            return Ok(None);
        };
        let computed = Digest::of(&bytes);
        let pinned = target.digest().map(str::to_owned);
        for (what, claimed) in [("the registry says", Some(header)), ("the reference pins", pinned)] {
            if let Some(claimed) = claimed.filter(|c| !c.is_empty())
                && claimed != computed.to_string()
            {
                return Err(ImageError::invalid(
                    Code::DigestMismatch,
                    target.whole(),
                    format!("{what} the manifest is {claimed}, its content hashes to {computed}"),
                    "the registry or a proxy altered the manifest",
                ));
            }
        }
        Ok(Some(RawManifest {
            bytes: bytes.to_vec(),
            digest: computed,
        }))
    }

    /// Copies what cosign attached to the manifest `signed` (the manifests under its
    /// `sha256-<hex>.sig` and `.att` tags, and their layers) into the store; none is not an
    /// error, a registry failing to answer is.
    pub fn copy_signatures(&self, store: &Store, signed: &Digest) -> Result<()> {
        let source = RegistrySource {
            session: &self.session,
            reference: &self.reference,
        };
        let what = self.session.image.clone();
        let copy = |found: RawManifest, kind: Kind| -> Result<()> {
            store.write_bytes(&found.bytes, METADATA, &what)?;
            let descriptor = Descriptor::new(MediaType::ImageManifest, found.bytes.len() as u64, &found.digest);
            super::signatures::import(store, &source, &descriptor, signed, kind, &what)
        };
        for kind in [Kind::Signatures, Kind::Attestations] {
            if let Some(found) = self.manifest(Some(&super::signatures::tag_of(signed, kind)), None)? {
                copy(found, kind)?;
            }
        }
        // oci-client falls back to the referrers tag, and takes its absence for no referrers.
        let bundles = self.referrers(signed, Some(super::signatures::BUNDLE))?;
        if bundles.len() > super::signatures::MAX_SIGNATURES {
            return Err(ImageError::invalid(
                Code::BadMetadata,
                &what,
                format!(
                    "{} bundles refer to {signed}, more than the {} read",
                    bundles.len(),
                    super::signatures::MAX_SIGNATURES
                ),
                "remove stale referrers and sign again",
            ));
        }
        for referrer in bundles {
            let digest: Digest = referrer.digest().to_string().parse().map_err(|_| {
                ImageError::invalid(
                    Code::BadMetadata,
                    &what,
                    format!(
                        "a referrer of {signed} has the digest {}, not sha256",
                        referrer.digest()
                    ),
                    "the registry serves a malformed referrers index",
                )
            })?;
            if let Some(found) = self.manifest(None, Some(&digest))? {
                copy(found, Kind::Bundles)?;
            }
        }
        Ok(())
    }

    /// Adds `added` to cosign's `kind` of `signed` in the registry: the `sha256-<hex>.sig` (or
    /// `.att`) manifest is read (into the store), the new layers appended to those it holds,
    /// and the whole put back, as cosign appends. Returns the new manifest's digest.
    pub fn push_attached(
        &self,
        store: &Store,
        signed: &Digest,
        kind: Kind,
        added: &[super::signatures::Signature],
    ) -> Result<Digest> {
        self.copy_signatures(store, signed)?;
        let mut all: Vec<super::signatures::Signature> = Vec::new();
        for found in super::signatures::stored(store, signed, kind)? {
            // One the store cannot read is not carried forward: the registry keeps what it has
            // only through what this manifest lists.
            if let Ok(signature) = found
                && !all.contains(&signature)
            {
                all.push(signature);
            }
        }
        for signature in added {
            if !all.contains(signature) {
                all.push(signature.clone());
            }
        }
        let what = self.session.image.clone();
        let written = super::signatures::record(store, signed, kind, &all, &what)?;
        for blob in &written.blobs {
            let digest = Digest::of(blob);
            if !self.has_blob(&digest)? {
                self.upload_bytes(blob, &digest)?;
            }
        }
        self.put_manifest(
            Some(&super::signatures::tag_of(signed, kind)),
            &written.manifest,
            "application/vnd.oci.image.manifest.v1+json",
        )
    }

    /// Streams the blob `digest` into what `open` creates (called again for each attempt, so
    /// that a retry starts from an empty file), refusing more than `size` bytes; the bytes must
    /// hash to `digest` and be exactly `size` long.
    pub fn fetch_blob<W: Write>(&self, digest: &Digest, size: u64, open: impl Fn() -> std::io::Result<W>) -> Result<W> {
        let s = &self.session;
        let what = format!("{} blob {digest}", s.image);
        s.retry("blob", || async {
            let file = match open() {
                Ok(file) => file,
                Err(e) => return Ok(Err(ImageError::io(what.clone(), e))),
            };
            let mut sink = SizedSink {
                inner: super::digest::HashingWriter::new(file),
                size,
                over: false,
            };
            if let Err(e) = s.stream_blob(&self.reference, digest, &mut sink).await {
                if sink.over {
                    return Ok(Err(ImageError::invalid(
                        Code::DigestMismatch,
                        &what,
                        format!("is longer than its descriptor's {size} bytes"),
                        "the registry serves something else than the manifest lists; push the image again",
                    )));
                }
                return Err(e);
            }
            let (file, got, length) = sink.inner.finish();
            if length != size || &got != digest {
                return Ok(Err(ImageError::invalid(
                    Code::DigestMismatch,
                    &what,
                    format!("has {length} bytes hashing to {got}, its descriptor says {size} bytes"),
                    "the registry serves something else than the manifest lists; push the image again",
                )));
            }
            Ok(Ok(file))
        })?
    }

    /// The referrers of `subject` (optionally only those of `artifact_type`): the referrers
    /// API, or on a registry without it (which answers 404) the index under the referrers tag,
    /// as the OCI distribution specification says a client falls back.
    pub fn referrers(&self, subject: &Digest, artifact_type: Option<&str>) -> Result<Vec<Descriptor>> {
        let s = &self.session;
        let target = self.at_digest(subject);
        let index = s.retry("referrers", || s.client.pull_referrers(&target, artifact_type))?;
        let bad = |e: serde_json::Error| {
            ImageError::invalid(
                Code::BadMetadata,
                &s.image,
                format!("the referrers of {subject}: {e}"),
                "the registry serves a malformed referrers index",
            )
        };
        let value = serde_json::to_value(&index).map_err(bad)?;
        serde_json::from_value(value.get("manifests").cloned().unwrap_or_default()).map_err(bad)
    }
}

/// A writer that refuses bytes past `size`.
struct SizedSink<W: Write> {
    inner: super::digest::HashingWriter<W>,
    size: u64,
    over: bool,
}

impl<W: Write> Write for SizedSink<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.inner.len() + buf.len() as u64 > self.size {
            self.over = true;
            return Err(std::io::Error::other("longer than its descriptor"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Whether the registry said it has no such manifest (or repository).
fn not_found(e: &OciDistributionError) -> bool {
    use oci_client::errors::OciErrorCode;
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown)),
        _ => false,
    }
}

/// Whether `word` (a status code) stands as a word of its own in `text`: the same digits inside
/// a port (127.0.0.1:44019) or a digest are not an answer from the registry.
fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_code_is_a_word_not_digits_inside_a_port() {
        let refused = "error sending request for url (http://127.0.0.1:44019/v2/os/demo/blobs/sha256:4401ab): \
                       Connection refused";
        assert!(!has_word(refused, "401") && !has_word(refused, "404"));
        assert!(has_word("server responded with status 401 Unauthorized", "401"));
        assert!(has_word("HTTP 404: manifest unknown", "404"));
    }

    #[test]
    fn loopback_registries_are_plain_http() {
        for r in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(r), "{r}");
        }
        for r in [
            "docker.io",
            "10.0.0.1:5000",
            "registry.example:443",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(r), "{r}");
        }
    }
}
