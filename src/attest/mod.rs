//! Attestations of a build: in-toto statements about the output files (SLSA provenance, the
//! SBOMs, the policy decision), each signed as a DSSE envelope inside a Sigstore bundle v0.3.
//!
//! The same inputs give the same bytes: statements are compact JSON with sorted maps, times come
//! only from the caller (SOURCE_DATE_EPOCH or an explicit `--timestamps`), and both signature
//! schemes are deterministic. docs/signing.md describes every format.

pub mod policy;
pub mod provenance;
pub mod statement;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::image::digest::{Digest, HashingReader};
use crate::keys::SigningKey;

pub use crate::bundle::{self, Bundle};
pub use policy::{PolicyDecision, Verdict};
pub use provenance::{BuildInputs, ExternalParameters, ImageInput, Provenance};
pub use statement::{ResourceDescriptor, Statement};

crate::error_codes! {
    BundleMalformed = "bundle-malformed": "A Sigstore bundle is not valid JSON of the bundle format, or breaks one of its rules (one signature, keyid equal to the key hint).",
    BundleMediaType = "bundle-media-type": "A file's mediaType is not that of a Sigstore bundle (v0.1 to v0.3).",
    BundleUnsupported = "bundle-unsupported": "A bundle is signed in a way sealkit does not verify: with a certificate (keyless), or as a messageSignature instead of a DSSE envelope.",
    TooLarge = "attest-too-large": "A bundle or predicate is larger than sealkit reads (128 MiB).",
    PredicateInvalid = "predicate-invalid": "A predicate, SBOM or policy decision is not what its statement needs (a JSON object; a known type; a verdict that agrees with its rules).",
    Io = "attest-io": "A file to attest could not be read, or a bundle could not be read or written.",
}

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}\n  hint: {hint}")]
pub struct AttestError {
    pub code: Code,
    pub origin: String,
    pub message: String,
    pub hint: String,
}

impl AttestError {
    pub(crate) fn new(code: Code, origin: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        AttestError {
            code,
            origin: origin.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn io(origin: &str, e: &std::io::Error) -> Self {
        AttestError::new(Code::Io, origin, e.to_string(), "check the path and its permissions")
    }

    pub fn code(&self) -> Code {
        self.code
    }
}

impl From<crate::bundle::BundleError> for AttestError {
    fn from(e: crate::bundle::BundleError) -> Self {
        use crate::bundle::Broken;
        let code = match e.broken {
            Broken::Malformed => Code::BundleMalformed,
            Broken::MediaType => Code::BundleMediaType,
            Broken::Unsupported => Code::BundleUnsupported,
            Broken::TooLarge => Code::TooLarge,
            Broken::Io => Code::Io,
        };
        AttestError {
            code,
            origin: e.origin,
            message: e.message,
            hint: e.hint,
        }
    }
}

/// Every bundle file's name ends so.
pub const BUNDLE_SUFFIX: &str = ".sigstore.json";

/// The bundle files of an attested output folder, one per statement.
pub const PROVENANCE_BUNDLE: &str = "provenance.sigstore.json";
pub const SPDX_BUNDLE: &str = "sbom-spdx.sigstore.json";
pub const CYCLONEDX_BUNDLE: &str = "sbom-cyclonedx.sigstore.json";
pub const SUMMARY_BUNDLE: &str = "policy-summary.sigstore.json";
pub const TEST_RESULT_BUNDLE: &str = "policy-tests.sigstore.json";
pub const VULNERABILITIES_BUNDLE: &str = "vulnerabilities.sigstore.json";

/// What to attest about a build's output folder.
pub struct Request<'a> {
    pub dir: &'a Path,
    /// The image files (names in `dir`): the subjects of every statement.
    pub subjects: &'a [String],
    /// The folder's other documents (SBOMs, reports, evidence): listed, with their digests, as
    /// byproducts of the provenance, so that verify can tell them from strays.
    pub byproducts: &'a [String],
    pub inputs: &'a BuildInputs,
    /// The SBOMs, as written to the folder; each becomes an SBOM statement.
    pub spdx: Option<&'a [u8]>,
    pub cyclonedx: Option<&'a [u8]>,
    /// The policy decision document (`PolicyDecision::read`).
    pub decision: Option<&'a PolicyDecision>,
    /// The packages' known vulnerabilities, when they were matched: attested with cosign's
    /// vulnerability predicate, its database named in the provenance.
    pub vulnerabilities: Option<&'a crate::vuln::matching::Report>,
    /// Seconds since 1970 of the statements' timestamps; `None` writes none.
    pub time: Option<u64>,
}

/// A statement and the name of its bundle file.
pub struct Attestation {
    pub file: &'static str,
    pub statement: Statement,
}

/// The sha256 of a file, read once in bounded memory.
pub fn file_digest(path: &Path) -> Result<Digest, AttestError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| AttestError::io(&origin, &e))?;
    let mut reader = HashingReader::new(file);
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| AttestError::io(&origin, &e))?;
    Ok(reader.finish().0)
}

/// The media type of a document beside the image (an SBOM, a report), by its name.
pub fn media_type_of(name: &str) -> Option<&'static str> {
    [
        (".spdx.json", "application/spdx+json"),
        (".cdx.json", "application/vnd.cyclonedx+json"),
        (".sarif", "application/sarif+json"),
        (".json", "application/json"),
        (".html", "text/html"),
    ]
    .into_iter()
    .find(|(ext, _)| name.ends_with(ext))
    .map(|(_, media)| media)
}

fn json_object(bytes: &[u8], what: &str) -> Result<serde_json::Value, AttestError> {
    let invalid = |why: String| {
        AttestError::new(
            Code::PredicateInvalid,
            what,
            why,
            "a predicate is one JSON object (an SPDX or CycloneDX document, a SLSA predicate, …)",
        )
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| invalid(format!("is not JSON ({e})")))?;
    if !value.is_object() {
        return Err(invalid("is JSON but not an object".into()));
    }
    Ok(value)
}

/// The statements of a build's output folder: its provenance, an SBOM statement per SBOM, and
/// with a policy decision its summary and test result. Files are hashed here.
pub fn statements(request: &Request) -> Result<Vec<Attestation>, AttestError> {
    let describe = |names: &[String]| -> Result<Vec<ResourceDescriptor>, AttestError> {
        names
            .iter()
            .map(|name| Ok(ResourceDescriptor::named(name, &file_digest(&request.dir.join(name))?)))
            .collect()
    };
    let mut subjects = describe(request.subjects)?;
    // A UKI is also known by its Authenticode hash: what a Secure Boot signature signs, and
    // what a firmware's db lists for an image allowed unsigned.
    for subject in &mut subjects {
        let Some(name) = subject.name.clone().filter(|n| n.ends_with(".efi")) else {
            continue;
        };
        let path = request.dir.join(&name);
        let image = std::fs::read(&path).map_err(|e| AttestError::io(&path.display().to_string(), &e))?;
        if let Ok(digest) = crate::authenticode::image_digest(&image) {
            subject.annotations = Some(std::collections::BTreeMap::from([(
                "authenticode".to_owned(),
                serde_json::Value::from(format!("sha256:{}", hex::encode(digest))),
            )]));
        }
    }
    let byproducts = describe(request.byproducts)?
        .into_iter()
        .map(|mut d| {
            d.media_type = d.name.as_deref().and_then(media_type_of).map(str::to_owned);
            d
        })
        .collect();
    let mut provenance = Provenance::new(
        request.inputs,
        request.decision.map(PolicyDecision::policy),
        byproducts,
        request.time,
    );
    if let Some(report) = request.vulnerabilities {
        provenance
            .build_definition
            .resolved_dependencies
            .push(vulnerability_database(report)?);
    }
    let statement = |predicate_type: &str, predicate: serde_json::Value| {
        Statement::new(subjects.clone(), predicate_type, predicate)
    };
    let mut out = vec![Attestation {
        file: PROVENANCE_BUNDLE,
        statement: statement(
            statement::PROVENANCE,
            serde_json::to_value(&provenance).unwrap_or_default(),
        ),
    }];
    for (bytes, predicate_type, file, what) in [
        (request.spdx, statement::SPDX, SPDX_BUNDLE, "the SPDX SBOM"),
        (
            request.cyclonedx,
            statement::CYCLONEDX,
            CYCLONEDX_BUNDLE,
            "the CycloneDX SBOM",
        ),
    ] {
        if let Some(bytes) = bytes {
            out.push(Attestation {
                file,
                statement: statement(predicate_type, json_object(bytes, what)?),
            });
        }
    }
    if let Some(decision) = request.decision {
        // The summary names the provenance it rests on by the digest of its exact payload.
        let mut input = ResourceDescriptor::named(PROVENANCE_BUNDLE, &Digest::of(&out[0].statement.to_payload()));
        input.uri = Some(PROVENANCE_BUNDLE.to_owned());
        let name = &request.inputs.parameters.name;
        out.push(Attestation {
            file: SUMMARY_BUNDLE,
            statement: statement(
                statement::VERIFICATION_SUMMARY,
                decision.summary(name, &[input], request.time),
            ),
        });
        out.push(Attestation {
            file: TEST_RESULT_BUNDLE,
            statement: statement(statement::TEST_RESULT, decision.test_result()),
        });
    }
    if let Some(report) = request.vulnerabilities {
        out.push(Attestation {
            file: VULNERABILITIES_BUNDLE,
            statement: statement(
                statement::VULNERABILITIES,
                vulnerability_predicate(report, request.time)?,
            ),
        });
    }
    Ok(out)
}

/// The name the advisory database goes by in the provenance and the vulnerability predicate.
pub const VULNERABILITY_DATABASE: &str = "vulnerability-database";

/// The advisory database as a resolved dependency: what judged the image, by its digest.
fn vulnerability_database(report: &crate::vuln::matching::Report) -> Result<ResourceDescriptor, AttestError> {
    let digest: Digest = report.database.digest.parse().map_err(|e| {
        AttestError::new(
            Code::PredicateInvalid,
            VULNERABILITY_DATABASE,
            format!("digest {:?}: {e}", report.database.digest),
            "import the advisories again (sealkit vulndb import)",
        )
    })?;
    let mut d = ResourceDescriptor::named(VULNERABILITY_DATABASE, &digest);
    d.uri = Some(format!("sealkit:vulndb/{}", report.database.digest));
    Ok(d)
}

/// cosign's vulnerability predicate (its COSIGN_VULN_ATTESTATION_SPEC): the scanner, the
/// database by digest (`db.uri`) and newest entry (`db.version`), and the report as `result`.
/// The scan's times are the statements' (SOURCE_DATE_EPOCH), so the bytes do not move.
fn vulnerability_predicate(
    report: &crate::vuln::matching::Report,
    time: Option<u64>,
) -> Result<serde_json::Value, AttestError> {
    let result = serde_json::to_value(report).map_err(|e| {
        AttestError::new(
            Code::PredicateInvalid,
            VULNERABILITIES_BUNDLE,
            e.to_string(),
            "report this bug",
        )
    })?;
    let mut predicate = serde_json::json!({
        "invocation": {"parameters": [], "uri": "", "event_id": "", "builder.id": provenance::BUILDER_ID},
        "scanner": {
            "uri": "https://sealkit.dev",
            "version": env!("CARGO_PKG_VERSION"),
            "db": {
                "uri": vulnerability_database(report)?.uri,
                "version": report.database.newest.clone().unwrap_or_default(),
            },
            "result": result,
        },
    });
    if let Some(t) = time {
        let at = crate::epoch::rfc3339(t);
        predicate["metadata"] = serde_json::json!({"scanStartedOn": at, "scanFinishedOn": at});
    }
    Ok(predicate)
}

/// Signs a statement: a DSSE envelope in a Sigstore bundle, hinting at the key's id.
pub fn sign(statement: &Statement, key: &SigningKey) -> Bundle {
    let envelope = crate::dsse::Envelope::sign(statement::PAYLOAD_TYPE, statement.to_payload(), key);
    Bundle::new(envelope, key.public_key().key_id())
}

/// Attests a build's output folder: writes one bundle per statement into it. Every bundle is
/// written whole before any takes its final name.
pub fn attest(request: &Request, key: &SigningKey) -> Result<Vec<PathBuf>, AttestError> {
    let bundles: Vec<(PathBuf, Bundle)> = statements(request)?
        .iter()
        .map(|a| (request.dir.join(a.file), sign(&a.statement, key)))
        .collect();
    let mut staged = Vec::new();
    for (path, bundle) in &bundles {
        staged.push((stage(path, &bundle.to_json())?, path));
    }
    let mut written = Vec::new();
    for (temp, path) in staged {
        temp.persist(path)
            .map_err(|e| AttestError::io(&path.display().to_string(), &e.error))?;
        written.push(path.clone());
    }
    Ok(written)
}

/// The bundle of a blob signature: a statement that names the file and its digest, signed.
/// Ed25519 cannot sign a Sigstore messageSignature that sigstore-js verifies, so both schemes
/// sign the same kind of statement (docs/signing.md).
pub fn signature_statement(name: &str, digest: &Digest) -> Statement {
    Statement::new(
        vec![ResourceDescriptor::named(name, digest)],
        statement::SIGNATURE,
        serde_json::json!({"signer": {"tool": "sealkit", "version": env!("CARGO_PKG_VERSION")}}),
    )
}

/// A statement about one file with a predicate read from `predicate` (JSON bytes; `origin`
/// names it in errors).
pub fn predicate_statement(
    name: &str,
    digest: &Digest,
    predicate_type: &str,
    predicate: &[u8],
    origin: &str,
) -> Result<Statement, AttestError> {
    if predicate.len() as u64 > bundle::MAX_BUNDLE_BYTES / 2 {
        return Err(AttestError::new(
            Code::TooLarge,
            origin,
            "is larger than a bundle can hold once encoded",
            "attest a smaller predicate",
        ));
    }
    Ok(Statement::new(
        vec![ResourceDescriptor::named(name, digest)],
        predicate_type,
        json_object(predicate, origin)?,
    ))
}

fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, AttestError> {
    let origin = path.display().to_string();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Mode 0666 less the umask, as every output of sealkit (build::output).
    let mut temp = tempfile::Builder::new()
        .prefix(".sealkit-bundle-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| AttestError::io(&origin, &e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| AttestError::io(&origin, &e))?;
    Ok(temp)
}
