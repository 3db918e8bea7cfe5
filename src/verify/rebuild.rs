//! `verify --rebuild`: an independent rebuild. The configuration files the provenance names (by
//! content) are built again with the images it names (by manifest digest), with its parameters,
//! and every image file the provenance is about must come out with the same sha256.

use std::path::Path;

use clap::ValueEnum as _;

use super::{Check, CheckKind, VerifiedStatement};
use crate::attest::{BuildInputs, Provenance, file_digest};
use crate::build::{self, Format, Request};
use crate::config::Loaded;
use crate::image::Store;
use crate::plan::Plan;

/// The checks of rebuilding what `statement` (a verified provenance) describes from `loaded` and
/// `plan` (resolved from the same store the caller names), into the empty folder `scratch`. A
/// UKI the gate signed is taken from `folder` (the verified image) once its Authenticode hash
/// is the rebuilt UKI's: the signature needs a key the verifier does not hold, and the ESP
/// holds the signed UKI.
/// Every mismatch is a failed [`CheckKind::Rebuild`] check; nothing here is an error, since a
/// rebuild that cannot happen is a verification that did not hold.
pub fn rebuild(
    statement: &VerifiedStatement,
    loaded: &Loaded,
    plan: &Plan,
    store: &Store,
    scratch: &Path,
    folder: &Path,
) -> Vec<Check> {
    let fail = |detail: String| {
        vec![Check {
            check: CheckKind::Rebuild,
            subject: statement.bundle.clone(),
            passed: false,
            detail,
        }]
    };
    let provenance: Provenance = match serde_json::from_value(statement.statement.predicate.clone()) {
        Ok(p) => p,
        Err(e) => return fail(format!("the predicate is not SLSA provenance v1 ({e})")),
    };
    let params = match provenance.parameters() {
        Ok(p) => p,
        Err(why) => return fail(why),
    };
    let mut formats = Vec::new();
    for name in &params.formats {
        match Format::from_str(name, false) {
            Ok(f) => formats.push(f),
            Err(_) => return fail(format!("format {name:?} is not one this sealkit builds")),
        }
    }
    if plan.platform.to_string() != params.platform {
        return fail(format!(
            "the images were resolved for {}, the provenance says {}",
            plan.platform, params.platform
        ));
    }
    // The same inputs: every image at the manifest the provenance names, in the same places.
    let inputs = match BuildInputs::from_plan(
        loaded,
        plan,
        &params.name,
        &formats,
        params.source_date_epoch,
        params.sbom.as_ref(),
    ) {
        Ok(i) => i,
        Err(e) => return fail(format!("the configuration could not be read again: {e}")),
    };
    let ours: Vec<(String, String)> = inputs
        .images
        .iter()
        .map(|i| (i.location.clone(), i.manifest.hex().to_owned()))
        .collect();
    let theirs = provenance.image_dependencies();
    if ours != theirs {
        let show = |list: &[(String, String)]| {
            list.iter()
                .map(|(n, d)| format!("{n} sha256:{d}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return fail(format!(
            "the store resolves the configuration to {}; the provenance names {}",
            show(&ours),
            show(&theirs)
        ));
    }
    // The UKI holds its EFI stub whole: the rebuild needs the very one attested.
    let stub = provenance
        .efi_stub()
        .map(|d| d.uri.as_deref().unwrap_or_default().trim_start_matches("file://"));
    if let (Some(path), Some(attested)) = (stub, provenance.efi_stub().and_then(|d| d.sha256())) {
        match file_digest(Path::new(path)) {
            Ok(d) if d.hex() == attested => {}
            Ok(d) => {
                return fail(format!(
                    "the EFI stub {path} is sha256 {}, the provenance names {attested}: install the systemd-boot-efi it was built with",
                    d.hex()
                ));
            }
            Err(e) => return fail(format!("the EFI stub the provenance names cannot be read: {e}")),
        }
    }
    let signed_uki = statement
        .statement
        .subject
        .iter()
        .find(|s| s.annotations.as_ref().is_some_and(|a| a.contains_key("authenticode")))
        .and_then(|s| s.name.as_deref())
        .map(|name| folder.join(name))
        .filter(|path| path.is_file());
    let request = Request {
        output: scratch,
        name: &params.name,
        formats: &formats,
        force: false,
        sbom: params.sbom.clone(),
        epoch: params.source_date_epoch,
        uki_stub: stub.map(Path::new),
        uki_signer: None,
        verity: params.verity,
        presigned_uki: signed_uki.as_deref(),
        progress: &crate::progress::Silent,
    };
    let built = match build::build(loaded, plan, store, &request) {
        Ok(built) => built,
        Err(e) => return fail(format!("the rebuild failed ({}): {e}", e.code())),
    };
    // Another version of a tool that wrote a format is the likeliest cause of other bytes.
    let attested_tools = &provenance.run_details.builder.version;
    let other_tools: Vec<String> = built
        .tools
        .iter()
        .filter(|(tool, version)| attested_tools.get(*tool) != Some(version))
        .map(|(tool, version)| match attested_tools.get(tool) {
            Some(attested) => format!("{tool} here says {version:?}, the provenance {attested:?}"),
            None => format!("{tool} ({version:?}) ran here, and the provenance names no {tool}"),
        })
        .collect();
    let why = match other_tools.is_empty() {
        true => String::new(),
        false => format!("; the tools differ from the build's: {}", other_tools.join("; ")),
    };
    statement
        .statement
        .subject
        .iter()
        .map(|subject| {
            let name = subject.name.clone().unwrap_or_default();
            let want = subject.sha256().unwrap_or_default();
            let (passed, detail) = match file_digest(&scratch.join(&name)) {
                Ok(d) if d.hex() == want => (true, format!("rebuilt with the same sha256 ({want})")),
                Ok(d) => (false, format!("rebuilt as sha256 {}, attested as {want}{why}", d.hex())),
                Err(e) => (false, format!("the rebuild made no such file ({e})")),
            };
            Check {
                check: CheckKind::Rebuild,
                subject: name,
                passed,
                detail,
            }
        })
        .collect()
}
