//! VEX: what a product's authors say about the vulnerabilities its packages match. OpenVEX
//! documents (v0.0.1 to v0.2.0) and CycloneDX VEX (1.4–1.6) are read into one model
//! ([`Document`]); a DSSE envelope or a Sigstore bundle whose in-toto statement carries an
//! OpenVEX predicate (`cosign attest --type openvex`) is read the same way, its signature
//! checked against the keys given. [`apply`] then marks each match the latest statement about
//! it speaks to: `not_affected` (with its justification) and `fixed` suppress it, and the
//! match stays in the findings with the statement that suppressed it (docs/vulnerabilities.md).
//! Plain data in, plain data out: the `vulns` command and the gate call the same functions.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::matching::{Findings, Match, Report, Summary, lookup_name};
use super::{Code, VulnError};
use crate::bundle::{Broken, Bundle};
use crate::dsse::Envelope;
use crate::keys::PublicKey;
use crate::reference::ImageRef;

/// The largest VEX file read: real documents are kilobytes, a vendor's feed a few MiB.
pub const MAX_VEX_BYTES: u64 = 64 << 20;
/// The most statements one document may hold.
pub const MAX_STATEMENTS: usize = 100_000;
/// The most products and subcomponents one statement may name.
pub const MAX_PRODUCTS: usize = 10_000;

/// The OpenVEX contexts read: the versioned ones, and the bare namespace that v0.0.x
/// documents (and cosign's predicate type) use.
const OPENVEX_CONTEXTS: [&str; 4] = [
    "https://openvex.dev/ns",
    "https://openvex.dev/ns/v0.0.1",
    "https://openvex.dev/ns/v0.0.2",
    "https://openvex.dev/ns/v0.2.0",
];
const IN_TOTO_TYPES: [&str; 2] = ["https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1"];
const IN_TOTO_PAYLOAD: &str = "application/vnd.in-toto+json";
const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];
const CDX_JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];
const CDX_RESPONSES: [&str; 5] = [
    "can_not_fix",
    "will_not_fix",
    "update",
    "rollback",
    "workaround_available",
];

/// The four statuses of VEX; CycloneDX's states map onto them (`false_positive` →
/// `not_affected`, `resolved` → `fixed`, `exploitable` → `affected`, `in_triage` →
/// `under_investigation`), the document's own word kept beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }

    /// Whether a winning statement of this status can take its match out of the counts: what
    /// trivy and grype both do for `not_affected` and `fixed` (see [`Statement::suppresses`]).
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Openvex,
    Cyclonedx,
}

/// One VEX file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file as it was named.
    pub file: String,
    pub format: Format,
    /// OpenVEX's `@id`, CycloneDX's `serialNumber` (empty when the document has none).
    pub id: String,
    pub author: String,
    /// The document's timestamp as written: statements without their own inherit it.
    pub timestamp: Option<String>,
    pub version: Option<String>,
    /// The id of the key whose signature was verified, when one was required.
    pub signed_by: Option<String>,
    pub statements: Vec<Statement>,
}

/// One statement: a vulnerability, the products it is about, what is said of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its place in the document (0-based), as errors and records name it.
    pub index: usize,
    pub vulnerability: String,
    pub aliases: Vec<String>,
    pub products: Vec<Product>,
    pub status: VexStatus,
    /// The status as the document spelled it (CycloneDX's `false_positive`, `resolved`…).
    pub state: String,
    pub justification: Option<String>,
    pub impact_statement: Option<String>,
    pub action_statement: Option<String>,
    /// The statement's own timestamp, as written.
    pub timestamp: Option<String>,
}

impl Statement {
    /// Whether this statement, winning, takes its match out of the counts: `fixed`, and a
    /// `not_affected` that says why (a justification, an impact statement; CycloneDX's
    /// `false_positive` says why by itself). OpenVEX requires the why of every
    /// `not_affected`; CycloneDX does not, and an unjustified one only stays on the record.
    pub fn suppresses(&self) -> bool {
        match self.status {
            VexStatus::Fixed => true,
            VexStatus::NotAffected => {
                self.state == "false_positive" || self.justification.is_some() || self.impact_statement.is_some()
            }
            VexStatus::Affected | VexStatus::UnderInvestigation => false,
        }
    }
}

/// A product: the identifiers it goes by (`@id`, `identifiers.purl`, `sha256:` hashes) and
/// the subcomponents (each by its identifiers) the statement narrows it to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Product {
    pub ids: Vec<String>,
    pub subcomponents: Vec<Vec<String>>,
}

/// The statement a match carries: which file and document said what about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VexRecord {
    pub file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub document: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// The statement's index in its document (0-based).
    pub statement: usize,
    pub vulnerability: String,
    pub status: VexStatus,
    /// CycloneDX's own state when it is not the status's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
    /// The statement's timestamp, or its document's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

/// A VEX document as a report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentRef {
    pub file: String,
    pub format: Format,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    pub statements: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

impl Document {
    pub fn reference(&self) -> DocumentRef {
        DocumentRef {
            file: self.file.clone(),
            format: self.format,
            id: self.id.clone(),
            author: self.author.clone(),
            timestamp: self.timestamp.clone(),
            statements: self.statements.len(),
            signed_by: self.signed_by.clone(),
        }
    }
}

/// What one scanned image is known as, for statements whose product is the image rather than
/// a package: its names as given, its digests, and its repository, tag and architecture as an
/// OCI purl (`pkg:oci/NAME@DIGEST?repository_url=…&tag=…&arch=…`) would carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub names: Vec<String>,
    /// `sha256:HEX` of the manifest (and the index it was chosen from).
    pub digests: Vec<String>,
    /// `REGISTRY/PATH` (`docker.io/library/debian`).
    pub repository: Option<String>,
    pub tag: Option<String>,
    pub arch: Option<String>,
}

impl Subject {
    /// A resolved image, under the name the caller knows it by (a component's name, or the
    /// reference as given): its manifest's (and index's) digest, reference and architecture.
    pub fn resolved(name: &str, image: &crate::image::ResolvedImage) -> Subject {
        let digests = std::iter::once(image.manifest_digest.to_string())
            .chain(image.index_digest.as_ref().map(ToString::to_string))
            .collect();
        Subject::image(name, &image.reference, digests, Some(&image.platform.architecture))
    }

    /// A folder read in place (`dir:PATH`), known only by its name.
    pub fn folder(name: &str) -> Subject {
        Subject {
            names: vec![name.to_owned()],
            ..Subject::default()
        }
    }

    /// An image named `name` (a component's name, or the reference as the user wrote it),
    /// resolved from `reference` to `digests`.
    pub fn image(name: &str, reference: &str, digests: Vec<String>, arch: Option<&str>) -> Subject {
        let mut names = vec![name.to_owned()];
        if reference != name {
            names.push(reference.to_owned());
        }
        let (repository, tag) = match reference.parse::<ImageRef>() {
            Ok(ImageRef::Registry(r)) => (
                Some(format!("{}/{}", r.registry(), r.repository())),
                r.tag().map(str::to_owned),
            ),
            _ => (None, None),
        };
        Subject {
            names,
            digests,
            repository,
            tag,
            arch: arch.map(str::to_owned),
        }
    }
}

fn error(code: Code, file: &str, message: impl std::fmt::Display, hint: &str) -> VulnError {
    VulnError::new(code, format!("{file}: {message}"), hint)
}

const MALFORMED_HINT: &str =
    "an OpenVEX document (openvex.dev/ns/v0.2.0) or a CycloneDX 1.4–1.6 VEX is expected (docs/vulnerabilities.md)";

fn malformed(file: &str, message: impl std::fmt::Display) -> VulnError {
    error(Code::VexMalformed, file, message, MALFORMED_HINT)
}

/// Reads one VEX file. With `keys`, the file must be a DSSE envelope or Sigstore bundle signed
/// by one of them.
pub fn read(path: &Path, keys: &[PublicKey]) -> Result<Document, VulnError> {
    let file = path.display().to_string();
    let read_error = |e: std::io::Error| error(Code::VexRead, &file, e, "check the path and its permissions");
    let handle = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    handle
        .take(MAX_VEX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    parse(&bytes, &file, keys)
}

/// Which kind of JSON a file holds, read from its top-level keys alone.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "@context")]
    context: Option<serde::de::IgnoredAny>,
    #[serde(rename = "bomFormat")]
    bom_format: Option<serde::de::IgnoredAny>,
    #[serde(rename = "payloadType")]
    payload_type: Option<serde::de::IgnoredAny>,
    #[serde(rename = "mediaType")]
    media_type: Option<serde::de::IgnoredAny>,
}

/// Reads every file of `paths` in order ([`read`]); the first that cannot be read, or is not
/// signed when `keys` are given, stops it.
pub fn read_all(paths: &[std::path::PathBuf], keys: &[PublicKey]) -> Result<Vec<Document>, VulnError> {
    paths.iter().map(|p| read(p, keys)).collect()
}

/// Parses one VEX file's bytes; `file` names it in errors and records.
pub fn parse(bytes: &[u8], file: &str, keys: &[PublicKey]) -> Result<Document, VulnError> {
    if bytes.len() as u64 > MAX_VEX_BYTES {
        return Err(error(
            Code::VexTooLarge,
            file,
            format!(
                "is larger than {} MiB, which sealkit does not read",
                MAX_VEX_BYTES >> 20
            ),
            "split the statements over several files",
        ));
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Eof => malformed(file, format!("is truncated: {e}")),
        serde_json::error::Category::Data => malformed(file, format!("is not a VEX document: {e}")),
        _ => malformed(file, format!("is not JSON: {e}")),
    })?;
    let signed = |envelope: Envelope, hint: Option<&str>| -> Result<Document, VulnError> {
        let signed_by = if keys.is_empty() {
            None
        } else if envelope.signatures.is_empty() {
            return Err(error(
                Code::VexUnsigned,
                file,
                "is an envelope without a signature, and --vex-key requires every VEX to be signed",
                "sign the envelope with one of the --vex-key keys' private halves",
            ));
        } else {
            let Some(key) = envelope.signed_by(keys) else {
                return Err(error(
                    Code::VexSignature,
                    file,
                    format!(
                        "its signature{} was not made by any --vex-key given",
                        hint.map(|h| format!(" (key hint {h:?})")).unwrap_or_default()
                    ),
                    "pass the public key of whoever signed the VEX, or check that the file was not altered",
                ));
            };
            Some(key.key_id())
        };
        let mut document = from_envelope(&envelope, file)?;
        document.signed_by = signed_by;
        Ok(document)
    };
    if probe.media_type.is_some() {
        let bundle = Bundle::parse(bytes, file).map_err(|e| {
            let code = match e.broken {
                Broken::TooLarge => Code::VexTooLarge,
                Broken::Unsupported => Code::VexSignature,
                Broken::Io => Code::VexRead,
                Broken::Malformed | Broken::MediaType => Code::VexMalformed,
            };
            VulnError::new(code, format!("{}: {}", e.origin, e.message), e.hint)
        })?;
        let hint = bundle.verification_material.public_key.hint.clone();
        return signed(bundle.dsse_envelope, Some(&hint));
    }
    if probe.payload_type.is_some() {
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| malformed(file, format!("is not a DSSE envelope: {e}")))?;
        return signed(envelope, None);
    }
    let format = match (probe.context.is_some(), probe.bom_format.is_some()) {
        (true, _) => Format::Openvex,
        (false, true) => Format::Cyclonedx,
        (false, false) => {
            return Err(error(
                Code::VexFormat,
                file,
                "is neither OpenVEX (no @context), CycloneDX (no bomFormat), a DSSE envelope nor a Sigstore bundle",
                MALFORMED_HINT,
            ));
        }
    };
    if !keys.is_empty() {
        return Err(error(
            Code::VexUnsigned,
            file,
            "is not signed, and --vex-key requires every VEX to be",
            "sign it (`cosign attest --type openvex --key …`, or a DSSE envelope over an in-toto statement) or drop --vex-key",
        ));
    }
    match format {
        Format::Openvex => openvex(bytes, file, &[]),
        Format::Cyclonedx => cyclonedx(bytes, file),
    }
}

/// The OpenVEX document inside a DSSE envelope's in-toto statement. Its subjects stand for
/// the product of statements that name none (OpenVEX's inheritance from the encapsulating
/// document).
fn from_envelope(envelope: &Envelope, file: &str) -> Result<Document, VulnError> {
    #[derive(Deserialize)]
    struct InToto {
        #[serde(rename = "_type")]
        kind: String,
        #[serde(default)]
        subject: Vec<InTotoSubject>,
        #[serde(rename = "predicateType")]
        predicate_type: String,
        predicate: serde_json::Value,
    }
    #[derive(Deserialize)]
    struct InTotoSubject {
        #[serde(default)]
        name: String,
        #[serde(default)]
        digest: BTreeMap<String, String>,
    }
    if envelope.payload_type != IN_TOTO_PAYLOAD {
        return Err(malformed(
            file,
            format!(
                "its envelope's payloadType is {:?}, not {IN_TOTO_PAYLOAD}",
                envelope.payload_type
            ),
        ));
    }
    let statement: InToto = serde_json::from_slice(&envelope.payload)
        .map_err(|e| malformed(file, format!("its payload is not an in-toto statement: {e}")))?;
    if !IN_TOTO_TYPES.contains(&statement.kind.as_str()) {
        return Err(malformed(
            file,
            format!("its payload's _type {:?} is not in-toto's", statement.kind),
        ));
    }
    let openvex_type = OPENVEX_CONTEXTS.contains(&statement.predicate_type.as_str())
        || statement.predicate_type.starts_with("https://openvex.dev/ns/");
    if !openvex_type {
        return Err(malformed(
            file,
            format!("its predicateType {:?} is not OpenVEX's", statement.predicate_type),
        ));
    }
    let subjects: Vec<Product> = statement
        .subject
        .iter()
        .map(|s| Product {
            // An in-toto subject is the artifact of that digest; its name alone would also
            // name every other version of the repository.
            ids: if s.digest.is_empty() {
                std::iter::once(s.name.clone()).filter(|n| !n.is_empty()).collect()
            } else {
                s.digest.iter().map(|(alg, hex)| format!("{alg}:{hex}")).collect()
            },
            subcomponents: Vec::new(),
        })
        .collect();
    let bytes = serde_json::to_vec(&statement.predicate).map_err(|e| malformed(file, e))?;
    openvex(&bytes, file, &subjects)
}

// OpenVEX as written: v0.0.1's strings and v0.2.0's objects alike.

#[derive(Deserialize)]
struct RawOpenvex {
    #[serde(rename = "@context")]
    context: String,
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    version: Option<RawVersion>,
    #[serde(default)]
    statements: Option<Vec<RawStatement>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawVersion {
    Number(u64),
    Text(String),
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: RawVulnerability,
    #[serde(default)]
    products: Option<Vec<RawProduct>>,
    /// v0.0.1: subcomponents beside the products, applying to each.
    #[serde(default)]
    subcomponents: Option<Vec<String>>,
    status: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    action_statement: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawVulnerability {
    Name(String),
    Object {
        #[serde(default)]
        name: Option<String>,
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawProduct {
    Id(String),
    Object(RawComponent),
}

#[derive(Deserialize)]
struct RawComponent {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    identifiers: BTreeMap<String, String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(default)]
    subcomponents: Vec<RawComponent>,
}

impl RawComponent {
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.id.iter().cloned().collect();
        ids.extend(self.identifiers.get("purl").cloned());
        // A hash names the artifact itself: an image's digest, as in-toto subjects give it.
        ids.extend(self.hashes.get("sha-256").map(|h| format!("sha256:{h}")));
        ids.retain(|i| !i.is_empty());
        ids
    }
}

/// Reads a JSON document into `T`, naming the path of the first value that does not fit
/// (`statements[3].status`).
fn typed<T: serde::de::DeserializeOwned>(bytes: &[u8], file: &str) -> Result<T, VulnError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_eof() {
            malformed(file, format!("is truncated: {inner}"))
        } else if path == "." {
            malformed(file, inner)
        } else {
            malformed(file, format!("{path}: {inner}"))
        }
    })
}

fn check_time(file: &str, what: &str, text: &Option<String>) -> Result<(), VulnError> {
    match text {
        Some(t) if instant(t).is_none() => Err(malformed(file, format!("{what}: {t:?} is not an RFC 3339 time"))),
        _ => Ok(()),
    }
}

fn openvex(bytes: &[u8], file: &str, inherited: &[Product]) -> Result<Document, VulnError> {
    let raw: RawOpenvex = typed(bytes, file)?;
    if !OPENVEX_CONTEXTS.contains(&raw.context.as_str()) {
        return Err(malformed(
            file,
            format!(
                "@context {:?} is not an OpenVEX context this version of sealkit reads",
                raw.context
            ),
        ));
    }
    let author = raw
        .author
        .filter(|a| !a.is_empty())
        .ok_or_else(|| malformed(file, "has no author"))?;
    let timestamp = raw.timestamp.ok_or_else(|| malformed(file, "has no timestamp"))?;
    check_time(file, "timestamp", &Some(timestamp.clone()))?;
    let raw_statements = raw.statements.unwrap_or_default();
    if raw_statements.is_empty() {
        return Err(malformed(file, "holds no statement"));
    }
    if raw_statements.len() > MAX_STATEMENTS {
        return Err(error(
            Code::VexTooLarge,
            file,
            format!("holds {} statements, more than {MAX_STATEMENTS}", raw_statements.len()),
            "split the statements over several files",
        ));
    }
    let mut statements = Vec::with_capacity(raw_statements.len());
    for (index, s) in raw_statements.into_iter().enumerate() {
        let at = |message: String| malformed(file, format!("statement {index}: {message}"));
        let (vulnerability, aliases) = match s.vulnerability {
            RawVulnerability::Name(name) => (name, Vec::new()),
            RawVulnerability::Object { name, id, aliases } => (name.or(id).unwrap_or_default(), aliases),
        };
        if vulnerability.is_empty() {
            return Err(at("its vulnerability has no name".into()));
        }
        let status = match s.status.as_str() {
            "not_affected" => VexStatus::NotAffected,
            "affected" => VexStatus::Affected,
            "fixed" => VexStatus::Fixed,
            "under_investigation" => VexStatus::UnderInvestigation,
            other => {
                return Err(at(format!(
                    "unknown status {other:?} (not_affected, affected, fixed, under_investigation)"
                )));
            }
        };
        if let Some(j) = &s.justification
            && !JUSTIFICATIONS.contains(&j.as_str())
        {
            return Err(at(format!(
                "unknown justification {j:?} ({})",
                JUSTIFICATIONS.join(", ")
            )));
        }
        let nonempty = |t: &Option<String>| t.as_deref().is_some_and(|t| !t.trim().is_empty());
        if status == VexStatus::NotAffected && s.justification.is_none() && !nonempty(&s.impact_statement) {
            return Err(at("not_affected needs a justification or an impact_statement".into()));
        }
        if status == VexStatus::Affected && !nonempty(&s.action_statement) {
            return Err(at("affected needs an action_statement".into()));
        }
        check_time(file, &format!("statement {index}: timestamp"), &s.timestamp)?;
        let legacy_subcomponents: Vec<Vec<String>> = s
            .subcomponents
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !c.is_empty())
            .map(|c| vec![c])
            .collect();
        let mut products = Vec::new();
        for p in s.products.unwrap_or_default() {
            let mut product = match p {
                RawProduct::Id(id) => Product {
                    ids: vec![id],
                    subcomponents: Vec::new(),
                },
                RawProduct::Object(c) => Product {
                    ids: c.ids(),
                    // A subcomponent known only by what sealkit does not compare (a CPE)
                    // keeps its place with no identifier: it matches nothing, and the product
                    // stays narrowed rather than widening to the whole image.
                    subcomponents: c.subcomponents.iter().map(RawComponent::ids).collect(),
                },
            };
            product.subcomponents.extend(legacy_subcomponents.iter().cloned());
            products.push(product);
        }
        if products.is_empty() {
            products = inherited.to_vec();
        }
        if products.is_empty() {
            return Err(at("names no product".into()));
        }
        if products.iter().map(|p| 1 + p.subcomponents.len()).sum::<usize>() > MAX_PRODUCTS {
            return Err(error(
                Code::VexTooLarge,
                file,
                format!("statement {index}: names more than {MAX_PRODUCTS} products and subcomponents"),
                "split the statement",
            ));
        }
        statements.push(Statement {
            index,
            vulnerability,
            aliases,
            products,
            status,
            state: s.status,
            justification: s.justification,
            impact_statement: s.impact_statement,
            action_statement: s.action_statement,
            timestamp: s.timestamp,
        });
    }
    Ok(Document {
        file: file.to_owned(),
        format: Format::Openvex,
        id: raw.id.unwrap_or_default(),
        author,
        timestamp: Some(timestamp),
        version: raw.version.map(|v| match v {
            RawVersion::Number(n) => n.to_string(),
            RawVersion::Text(t) => t,
        }),
        signed_by: None,
        statements,
    })
}

// CycloneDX VEX: the `vulnerabilities` that carry an `analysis`.

#[derive(Deserialize)]
struct RawBom {
    #[serde(rename = "bomFormat")]
    bom_format: String,
    #[serde(rename = "specVersion")]
    spec_version: String,
    #[serde(rename = "serialNumber", default)]
    serial_number: Option<String>,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    metadata: Option<RawMetadata>,
    #[serde(default)]
    components: Vec<RawCdxComponent>,
    #[serde(default)]
    vulnerabilities: Vec<RawCdxVulnerability>,
}

#[derive(Deserialize)]
struct RawMetadata {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    authors: Vec<RawNamed>,
    #[serde(default)]
    manufacturer: Option<RawNamed>,
    #[serde(default)]
    supplier: Option<RawNamed>,
    #[serde(default)]
    component: Option<RawCdxComponent>,
}

#[derive(Deserialize)]
struct RawNamed {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawCdxComponent {
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    components: Vec<RawCdxComponent>,
}

#[derive(Deserialize)]
struct RawCdxVulnerability {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    references: Vec<RawReference>,
    #[serde(default)]
    analysis: Option<RawAnalysis>,
    #[serde(default)]
    affects: Vec<RawAffects>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    updated: Option<String>,
}

#[derive(Deserialize)]
struct RawReference {
    id: String,
}

#[derive(Deserialize)]
struct RawAnalysis {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    response: Vec<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(rename = "firstIssued", default)]
    first_issued: Option<String>,
    #[serde(rename = "lastUpdated", default)]
    last_updated: Option<String>,
}

#[derive(Deserialize)]
struct RawAffects {
    #[serde(rename = "ref")]
    reference: String,
}

fn cyclonedx(bytes: &[u8], file: &str) -> Result<Document, VulnError> {
    let bom: RawBom = typed(bytes, file)?;
    if bom.bom_format != "CycloneDX" {
        return Err(malformed(
            file,
            format!("bomFormat {:?} is not CycloneDX", bom.bom_format),
        ));
    }
    if !["1.4", "1.5", "1.6"].contains(&bom.spec_version.as_str()) {
        return Err(malformed(
            file,
            format!(
                "specVersion {:?}: CycloneDX VEX is read from 1.4 to 1.6",
                bom.spec_version
            ),
        ));
    }
    // Every component's purl by bom-ref, so an `affects` ref names what it points to.
    let mut purls: HashMap<String, String> = HashMap::new();
    let mut stack: Vec<&RawCdxComponent> = bom.components.iter().collect();
    stack.extend(bom.metadata.as_ref().and_then(|m| m.component.as_ref()));
    while let Some(c) = stack.pop() {
        if let (Some(r), Some(p)) = (&c.bom_ref, &c.purl) {
            purls.insert(r.clone(), p.clone());
        }
        stack.extend(c.components.iter());
    }
    let metadata = bom.metadata.as_ref();
    let timestamp = metadata.and_then(|m| m.timestamp.clone());
    check_time(file, "metadata.timestamp", &timestamp)?;
    let author = metadata
        .and_then(|m| {
            m.authors
                .iter()
                .find_map(|a| a.name.clone())
                .or_else(|| m.manufacturer.as_ref().and_then(|n| n.name.clone()))
                .or_else(|| m.supplier.as_ref().and_then(|n| n.name.clone()))
        })
        .unwrap_or_default();
    if bom.vulnerabilities.len() > MAX_STATEMENTS {
        return Err(error(
            Code::VexTooLarge,
            file,
            format!(
                "holds {} vulnerabilities, more than {MAX_STATEMENTS}",
                bom.vulnerabilities.len()
            ),
            "split the statements over several files",
        ));
    }
    let mut statements = Vec::new();
    for (index, v) in bom.vulnerabilities.into_iter().enumerate() {
        let at = |message: String| malformed(file, format!("vulnerabilities[{index}]: {message}"));
        // A vulnerability without an analysis is a scanner's finding, not a statement.
        let Some(analysis) = v.analysis else { continue };
        let Some(state) = analysis.state.clone() else { continue };
        let vulnerability =
            v.id.clone()
                .filter(|i| !i.is_empty())
                .ok_or_else(|| at("has no id".into()))?;
        let status = match state.as_str() {
            "not_affected" | "false_positive" => VexStatus::NotAffected,
            "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
            "exploitable" => VexStatus::Affected,
            "in_triage" => VexStatus::UnderInvestigation,
            other => {
                return Err(at(format!(
                    "unknown analysis.state {other:?} (resolved, resolved_with_pedigree, exploitable, in_triage, false_positive, not_affected)"
                )));
            }
        };
        if let Some(j) = &analysis.justification
            && !CDX_JUSTIFICATIONS.contains(&j.as_str())
        {
            return Err(at(format!(
                "unknown analysis.justification {j:?} ({})",
                CDX_JUSTIFICATIONS.join(", ")
            )));
        }
        if let Some(r) = analysis.response.iter().find(|r| !CDX_RESPONSES.contains(&r.as_str())) {
            return Err(at(format!(
                "unknown analysis.response {r:?} ({})",
                CDX_RESPONSES.join(", ")
            )));
        }
        let detail = analysis.detail.clone().filter(|d| !d.trim().is_empty());
        // CycloneDX makes the justification optional; such a statement is kept (and shown)
        // but suppresses nothing (`Statement::suppresses`).
        for (what, t) in [
            ("analysis.firstIssued", &analysis.first_issued),
            ("analysis.lastUpdated", &analysis.last_updated),
            ("published", &v.published),
            ("updated", &v.updated),
        ] {
            check_time(file, &format!("vulnerabilities[{index}].{what}"), t)?;
        }
        let products: Vec<Product> = v
            .affects
            .iter()
            .map(|a| {
                let mut ids = vec![a.reference.clone()];
                let local = bom_link_fragment(&a.reference).unwrap_or_else(|| a.reference.clone());
                ids.extend(purls.get(&local).cloned());
                if local != a.reference {
                    ids.push(local);
                }
                Product {
                    ids,
                    subcomponents: Vec::new(),
                }
            })
            .collect();
        if products.is_empty() {
            return Err(at("affects nothing".into()));
        }
        if products.len() > MAX_PRODUCTS {
            return Err(error(
                Code::VexTooLarge,
                file,
                format!("vulnerabilities[{index}]: affects more than {MAX_PRODUCTS} components"),
                "split the statement",
            ));
        }
        let action = (!analysis.response.is_empty()).then(|| analysis.response.join(", "));
        statements.push(Statement {
            index,
            vulnerability,
            aliases: v
                .references
                .into_iter()
                .map(|r| r.id)
                .filter(|r| !r.is_empty())
                .collect(),
            products,
            status,
            state,
            justification: analysis.justification,
            impact_statement: detail,
            action_statement: action,
            timestamp: analysis
                .last_updated
                .or(analysis.first_issued)
                .or(v.updated)
                .or(v.published),
        });
    }
    if statements.is_empty() {
        return Err(malformed(
            file,
            "holds no vulnerability with an analysis.state: a VEX says something about each",
        ));
    }
    Ok(Document {
        file: file.to_owned(),
        format: Format::Cyclonedx,
        id: bom.serial_number.unwrap_or_default(),
        author,
        timestamp,
        version: bom.version.map(|v| v.to_string()),
        signed_by: None,
        statements,
    })
}

/// The bom-ref a BOM-Link (`urn:cdx:SERIAL/VERSION#REF`) points to, percent-decoded as the
/// BOM-Link specification encodes it.
fn bom_link_fragment(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix("urn:cdx:")?;
    let (_, fragment) = rest.split_once('#')?;
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// An RFC 3339 time with `Z` or a numeric offset (OpenVEX writes `-06:00`), as seconds and
/// nanoseconds since the epoch, UTC.
fn instant(text: &str) -> Option<(i64, u32)> {
    if let Some(t) = crate::epoch::parse_rfc3339(text) {
        return Some(t);
    }
    if !text.is_ascii() || text.len() < 25 {
        return None;
    }
    let (head, offset) = text.split_at(text.len() - 6);
    let o = offset.as_bytes();
    let sign = match o[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if o[3] != b':' || !o[1..3].iter().chain(&o[4..6]).all(u8::is_ascii_digit) {
        return None;
    }
    let (hh, mm): (i64, i64) = (offset[1..3].parse().ok()?, offset[4..6].parse().ok()?);
    if hh > 23 || mm > 59 {
        return None;
    }
    let (secs, nanos) = crate::epoch::parse_rfc3339(&format!("{head}Z"))?;
    Some((secs - sign * (hh * 3600 + mm * 60), nanos))
}

// Matching statements to matches.

/// A purl's parts as compared: type, namespace and name as the purl specification normalises
/// them, the version, the qualifiers.
struct Purl {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

fn purl(text: &str) -> Option<Purl> {
    let p: packageurl::PackageUrl = text.parse().ok()?;
    // PEP 503 names, as the purl specification asks for pypi.
    let name = match p.ty() {
        "pypi" => lookup_name("PyPI", p.name()),
        _ => p.name().to_owned(),
    };
    Some(Purl {
        ty: p.ty().to_owned(),
        namespace: p.namespace().map(str::to_owned),
        name,
        version: p.version().map(str::to_owned),
        qualifiers: p
            .qualifiers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        subpath: p.subpath().map(str::to_owned),
    })
}

/// Whether a statement's purl names the package's: type, namespace and name equal; the
/// version, the subpath and each qualifier equal where the statement gives them (go-vex's
/// `PurlMatches`, which trivy and grype use).
fn purl_covers(general: &Purl, specific: &Purl) -> bool {
    general.ty == specific.ty
        && general.namespace == specific.namespace
        && general.name == specific.name
        && general
            .version
            .as_ref()
            .is_none_or(|v| specific.version.as_ref() == Some(v))
        && general
            .subpath
            .as_ref()
            .is_none_or(|s| specific.subpath.as_ref() == Some(s))
        && general
            .qualifiers
            .iter()
            .all(|(k, v)| specific.qualifiers.get(k) == Some(v))
}

/// The identities of a matched package: its purl, and for a Debian binary its source
/// package at the source version (the name Debian's own statements use).
struct PackageIds {
    text: Vec<String>,
    purls: Vec<Purl>,
}

impl PackageIds {
    fn of(m: &Match) -> PackageIds {
        let mut text = vec![m.package.purl.clone()];
        let mut purls: Vec<Purl> = purl(&m.package.purl).into_iter().collect();
        if let Some(p) = purls.first()
            && p.ty == "deb"
            && m.lookup.name != p.name
        {
            let source = Purl {
                ty: p.ty.clone(),
                namespace: p.namespace.clone(),
                name: m.lookup.name.clone(),
                version: Some(m.lookup.version.clone()),
                qualifiers: p
                    .qualifiers
                    .iter()
                    .filter(|(k, _)| *k != "upstream")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                subpath: None,
            };
            text.push(format!(
                "pkg:deb/{}/{}@{}",
                p.namespace.as_deref().unwrap_or(""),
                m.lookup.name,
                m.lookup.version
            ));
            purls.push(source);
        }
        PackageIds { text, purls }
    }

    fn named_by(&self, id: &str) -> bool {
        match purl(id) {
            Some(general) => self.purls.iter().any(|p| purl_covers(&general, p)),
            None => self.text.iter().any(|t| t == id),
        }
    }
}

/// Whether `id` names the scanned image: an OCI purl (name, digest and the qualifiers it
/// gives), a digest, or a name or reference as written.
fn names_image(id: &str, subject: &Subject) -> bool {
    if let Some(p) = purl(id).filter(|p| p.ty == "oci") {
        let last = subject
            .repository
            .as_deref()
            .map(|r| r.rsplit('/').next().unwrap_or(r).to_ascii_lowercase());
        if last.as_deref() != Some(p.name.as_str()) || p.namespace.is_some() {
            return false;
        }
        if let Some(v) = &p.version
            && !subject.digests.iter().any(|d| d == v)
        {
            return false;
        }
        return p.qualifiers.iter().all(|(k, v)| match k.as_str() {
            "repository_url" => subject.repository.as_deref().map(normal_repository) == Some(normal_repository(v)),
            "tag" => subject.tag.as_deref() == Some(v),
            "arch" => subject.arch.as_deref() == Some(v),
            // A qualifier sealkit cannot confirm of the image does not name it.
            _ => false,
        });
    }
    let Some(repository) = &subject.repository else {
        return subject.names.iter().chain(&subject.digests).any(|n| n == id);
    };
    subject.names.iter().chain(&subject.digests).any(|n| n == id)
        || id == repository
        || subject.tag.as_ref().is_some_and(|t| id == format!("{repository}:{t}"))
        || subject.digests.iter().any(|d| id == format!("{repository}@{d}"))
}

/// `index.docker.io/library/x`, `https://docker.io/library/x/` → `docker.io/library/x`.
fn normal_repository(text: &str) -> String {
    let t = text
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let t = t
        .strip_prefix("index.docker.io/")
        .map(|r| format!("docker.io/{r}"))
        .unwrap_or_else(|| t.to_owned());
    t.to_ascii_lowercase()
}

/// Whether a statement's product covers the package of a match: the product is the package,
/// or the product is the image and either names no subcomponent (the whole image) or names
/// the package as one.
fn covers(product: &Product, package: &PackageIds, subject: &Subject) -> bool {
    if product.ids.iter().any(|id| package.named_by(id)) {
        return true;
    }
    product.ids.iter().any(|id| names_image(id, subject))
        && (product.subcomponents.is_empty()
            || product
                .subcomponents
                .iter()
                .any(|ids| ids.iter().any(|id| package.named_by(id))))
}

/// Statements by every vulnerability name they give, in document order.
struct ByName<'d> {
    statements: HashMap<&'d str, Vec<(usize, &'d Document, &'d Statement)>>,
}

impl<'d> ByName<'d> {
    fn new(documents: &'d [Document]) -> Self {
        let mut statements: HashMap<&str, Vec<(usize, &Document, &Statement)>> = HashMap::new();
        for (order, d) in documents.iter().enumerate() {
            for s in &d.statements {
                let mut names: Vec<&str> = std::iter::once(s.vulnerability.as_str())
                    .chain(s.aliases.iter().map(String::as_str))
                    .collect();
                names.sort_unstable();
                names.dedup();
                for n in names {
                    statements.entry(n).or_default().push((order, d, s));
                }
            }
        }
        ByName { statements }
    }

    /// The statement that speaks last about this match: the latest timestamp (the
    /// statement's, else its document's; none is earliest), then the later file, then the
    /// later statement of a file.
    fn latest(&self, m: &Match, subject: &Subject) -> Option<(&'d Document, &'d Statement)> {
        let package = PackageIds::of(m);
        type Rank = (Option<(i64, u32)>, usize, usize);
        let mut best: Option<(Rank, &Document, &Statement)> = None;
        let mut seen = std::collections::HashSet::new();
        for name in std::iter::once(&m.id).chain(&m.aliases) {
            for &(order, d, s) in self.statements.get(name.as_str()).into_iter().flatten() {
                if !seen.insert((order, s.index)) || !s.products.iter().any(|p| covers(p, &package, subject)) {
                    continue;
                }
                let when = s.timestamp.as_deref().or(d.timestamp.as_deref()).and_then(instant);
                let rank = (when, order, s.index);
                if best.as_ref().is_none_or(|b| rank > b.0) {
                    best = Some((rank, d, s));
                }
            }
        }
        best.map(|b| (b.1, b.2))
    }
}

fn record(d: &Document, s: &Statement) -> VexRecord {
    VexRecord {
        file: d.file.clone(),
        document: d.id.clone(),
        author: d.author.clone(),
        statement: s.index,
        vulnerability: s.vulnerability.clone(),
        status: s.status,
        state: (s.state != s.status.as_str()).then(|| s.state.clone()),
        justification: s.justification.clone(),
        impact_statement: s.impact_statement.clone(),
        action_statement: s.action_statement.clone(),
        timestamp: s.timestamp.clone().or_else(|| d.timestamp.clone()),
        signed_by: d.signed_by.clone(),
    }
}

/// Marks each match of one component's findings with the latest statement of `documents`
/// that speaks to it: `suppressed_by` when that statement is `fixed` or a justified
/// `not_affected` ([`Statement::suppresses`]), `vex` otherwise. Matches no statement speaks to are left as they were; a second call replaces
/// the marks of the first.
pub fn apply_findings(findings: &mut Findings, documents: &[Document], subject: &Subject) {
    let by_name = ByName::new(documents);
    mark(findings, &by_name, subject);
}

fn mark(findings: &mut Findings, by_name: &ByName, subject: &Subject) {
    for m in &mut findings.matches {
        m.suppressed_by = None;
        m.vex = None;
        if let Some((d, s)) = by_name.latest(m, subject) {
            if s.suppresses() {
                m.suppressed_by = Some(record(d, s));
            } else {
                m.vex = Some(record(d, s));
            }
        }
    }
}

/// [`apply_findings`] over every component of a report (`subjects[i]` is what
/// `report.components[i]` is known as; a component without one is matched by its packages'
/// purls alone), listing the documents in the report and counting the summary again.
pub fn apply(report: &mut Report, documents: &[Document], subjects: &[Subject]) {
    let by_name = ByName::new(documents);
    let none = Subject::default();
    for (i, c) in report.components.iter_mut().enumerate() {
        mark(&mut c.findings, &by_name, subjects.get(i).unwrap_or(&none));
    }
    report.vex = documents.iter().map(Document::reference).collect();
    report.summary = Summary::of(&report.components);
}

#[cfg(test)]
#[path = "vex_tests.rs"]
mod tests;
