//! `sealkit image …`: the local store, transports and registries.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use sealkit::image::Digest;
use sealkit::image::lock::Resolver;
use sealkit::image::signatures::{Kind, Signature};
use sealkit::image::{self, ImageRef, ResolvedImage, Rootfs, Store};
use sealkit::trust;

use super::{Failure, Outcome, StoreArgs, json_error, output_name, print, write_output};

#[derive(clap::Args)]
pub struct ImageArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: ImageCommand,
}

#[derive(Subcommand)]
enum ImageCommand {
    /// List the images in the store
    Ls,
    /// Copy an image from oci:DIR[:TAG], docker-archive:FILE or dir:ROOTFS into the store
    Import {
        #[arg(value_name = "SRC")]
        source: String,
        /// The name to give it in the store, e.g. sealkit-fixtures/hello:1
        #[arg(long, value_name = "NAME")]
        tag: String,
    },
    /// Show an image's manifest digest, platform, config and layers as JSON
    Inspect {
        #[arg(value_name = "REF")]
        reference: String,
        /// Also list every file of the flattened filesystem, and the facts of each layer
        /// (`layer_facts`: how it was written, e.g. `tar-footer-missing`)
        #[arg(long)]
        files: bool,
    },
    /// Write the image's flattened filesystem as one tar
    Export {
        #[arg(value_name = "REF")]
        reference: String,
        /// Where the tar goes (- is stdout; a device or FIFO is written through)
        #[arg(short, long, value_name = "FILE.tar")]
        output: PathBuf,
    },
    /// Remove an image's name from the store
    Rm {
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Pull an image from a registry into the store
    Pull {
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Push an image from the store (or oci:/docker-archive:/dir:) to a registry
    Push {
        #[arg(value_name = "REF")]
        reference: String,
        #[arg(value_name = "DEST")]
        destination: String,
    },
    /// Check an image's signatures against the trust policy (--trust-policy, else
    /// containers' policy.json); exit 0 accepted, 1 refused. A registry image missing from
    /// the store is pulled, with its signatures, first
    Verify {
        #[arg(value_name = "REF")]
        reference: String,
        /// How to print the verdict
        #[arg(long, value_enum, default_value = "table")]
        format: VerdictFormat,
    },
    /// Sign an image as cosign does (a simple-signing payload under the image's
    /// sha256-<digest>.sig tag), in the store, and with --push in REF's registry too
    Sign {
        #[arg(value_name = "REF")]
        reference: String,
        #[command(flatten)]
        key: super::sign::KeyArgs,
        /// Also add the signature to the registry REF names
        #[arg(long)]
        push: bool,
    },
    /// Attest an image as cosign does (a DSSE-signed in-toto statement under the image's
    /// sha256-<digest>.att tag), in the store, and with --push in REF's registry too
    Attest {
        #[arg(value_name = "REF")]
        reference: String,
        #[command(flatten)]
        key: super::sign::KeyArgs,
        /// The predicate: one JSON object
        #[arg(long, value_name = "FILE")]
        predicate: PathBuf,
        /// Its type: a URI, or slsaprovenance1, spdx, spdxjson, cyclonedx, custom
        #[arg(long = "type", value_name = "URI")]
        predicate_type: String,
        /// Also add the attestation to the registry REF names
        #[arg(long)]
        push: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum VerdictFormat {
    Table,
    Json,
}

pub fn parse_ref(s: &str) -> Result<ImageRef, Failure> {
    s.parse::<ImageRef>()
        .map_err(|e| Failure::usage(format!("error: {e}\n  hint: {}", e.hint)))
}

pub fn run(args: &ImageArgs) -> Outcome {
    let (store, platform, options) = args.store.open()?;
    let here = Path::new(".");
    match &args.command {
        ImageCommand::Ls => {
            let mut out = String::new();
            for (name, desc) in store.names()? {
                out.push_str(&format!("{name}\t{}\n", desc.digest()));
            }
            print(out.trim_end().as_bytes())
        }
        ImageCommand::Import { source, tag } => {
            let source = parse_ref(source)?;
            if matches!(source, ImageRef::Registry(_)) {
                return Err(Failure::usage(
                    "error: import takes oci:DIR[:TAG], docker-archive:FILE or dir:ROOTFS\n  hint: use `sealkit image pull` for registry images",
                ));
            }
            let name = parse_ref(tag)?;
            if !matches!(name, ImageRef::Registry(_)) {
                return Err(Failure::usage(format!(
                    "error: --tag {tag:?} must be an image name such as example/app:1"
                )));
            }
            let resolved = image::import(&store, &source, &name.to_string(), &platform)?;
            super::log::info(&format!(
                "imported {} as {name} ({})",
                resolved.reference, resolved.manifest_digest
            ));
            Ok(())
        }
        ImageCommand::Inspect { reference, files } => {
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, here)?;
            let mut doc = serde_json::json!({
                "reference": resolved.reference,
                "manifest": resolved.manifest_digest.to_string(),
                "index": resolved.index_digest.as_ref().map(|d| d.to_string()),
                "platform": resolved.platform,
                "config": resolved.config,
                "layers": resolved.layers(),
            });
            if *files {
                let rootfs = Rootfs::flatten(&store, &resolved)?;
                doc["files"] = serde_json::to_value(&rootfs.entries).map_err(json_error)?;
                doc["layer_facts"] = serde_json::to_value(&rootfs.layers).map_err(json_error)?;
            }
            print(&serde_json::to_vec_pretty(&doc).map_err(json_error)?)
        }
        ImageCommand::Export { reference, output } => {
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, here)?;
            let rootfs = Rootfs::flatten(&store, &resolved)?;
            write_output(output, |out| {
                Ok(image::export::export(&store, &resolved, &rootfs, out)?)
            })?;
            super::log::info(&format!(
                "exported {} ({} entries) to {}",
                resolved.reference,
                rootfs.entries.len(),
                output_name(output)
            ));
            Ok(())
        }
        ImageCommand::Verify { reference, format } => verify(&args.store, reference, *format),
        ImageCommand::Sign { reference, key, push } => sign(&args.store, reference, key, *push),
        ImageCommand::Attest {
            reference,
            key,
            predicate,
            predicate_type,
            push,
        } => attest(&args.store, reference, key, predicate, predicate_type, *push),
        ImageCommand::Rm { reference } => {
            let name = parse_ref(reference)?.to_string();
            if store.remove_name(&name)? {
                super::log::info(&format!("removed {name}"));
                Ok(())
            } else {
                Err(Failure::usage(format!(
                    "error: {name}: not in the store\n  hint: sealkit image ls lists what is"
                )))
            }
        }
        ImageCommand::Pull { reference } => {
            let ImageRef::Registry(r) = parse_ref(reference)? else {
                return Err(Failure::usage(
                    "error: pull takes a registry reference [REGISTRY/]NAME[:TAG][@DIGEST]\n  hint: use `sealkit image import` for oci:, docker-archive: and dir: sources",
                ));
            };
            let resolved = super::log::one_stage("pull", Some(1), "images", |progress| {
                let pulled = image::registry::pull(&store, &r, &platform, &options, progress);
                progress.advance(1, 0, 0);
                pulled.map_err(Failure::from)
            })?;
            super::log::info(&format!("pulled {} ({})", resolved.reference, resolved.manifest_digest));
            Ok(())
        }
        ImageCommand::Push { reference, destination } => {
            let ImageRef::Registry(dest) = parse_ref(destination)? else {
                return Err(Failure::usage(
                    "error: the destination must be a registry reference REGISTRY/NAME[:TAG]",
                ));
            };
            let resolved = image::resolve(&store, &parse_ref(reference)?, &platform, here)?;
            let digest = image::registry::push(&store, &resolved, &dest, &options)?;
            super::log::info(&format!("pushed {} to {} ({digest})", resolved.reference, dest.whole()));
            Ok(())
        }
    }
}

/// The image `text` names, from the store (pulled, with its signatures, when a registry image
/// is missing) or its local transport.
fn resolved(store_args: &StoreArgs, text: &str) -> Result<(Store, ImageRef, ResolvedImage), Failure> {
    let (store, platform, options) = store_args.open()?;
    let reference = parse_ref(text)?;
    let resolver = Resolver {
        store,
        platform,
        options,
        lock: None,
        pull: true,
    };
    let image = resolver.resolve(text, Path::new("."))?;
    Ok((resolver.store, reference, image))
}

fn verify(store_args: &StoreArgs, text: &str, format: VerdictFormat) -> Outcome {
    let path = match (store_args.trust_policy.clone(), trust::containers_default()) {
        (Some(path), _) | (None, Some(path)) => path,
        (None, None) => {
            return Err(Failure::usage(
                "error: no trust policy: give --trust-policy FILE (containers-policy.json)\n  hint: \
                 docs/trust.md shows one that requires your key",
            ));
        }
    };
    let policy = store_args.load_trust(&path)?;
    let (store, reference, image) = resolved(store_args, text)?;
    let finding = trust::examine(Some(&policy), &store, &reference, Path::new("."), &image, &[])?;
    match format {
        VerdictFormat::Json => print(&serde_json::to_vec_pretty(&finding).map_err(json_error)?)?,
        VerdictFormat::Table => print(verdict_table(text, &policy, &finding).as_bytes())?,
    }
    if finding.refused() {
        return Err(Failure {
            message: format!("DENIED: {text}: {}", finding.why()),
            code: 1,
        });
    }
    Ok(())
}

fn verdict_table(text: &str, policy: &trust::Policy, finding: &trust::Finding) -> String {
    let Some(verdict) = &finding.verdict else {
        return String::new();
    };
    let mut out = format!(
        "{} {text} ({})\n  policy: {}, scope {}\n  signatures found: {}\n",
        if verdict.accepted { "ACCEPTED" } else { "REFUSED" },
        finding.signed_digest,
        policy.file.display(),
        verdict.scope,
        finding.signatures_found
    );
    for outcome in &verdict.requirements {
        out.push_str(&format!(
            "  {} {}: {}\n",
            if outcome.met { "met" } else { "NOT MET" },
            outcome.requirement,
            outcome.reason
        ));
        for accepted in &outcome.signatures {
            let signer = match &accepted.certificate {
                Some(c) => format!(
                    "certificate of {}{}",
                    c.emails.first().or(c.uris.first()).unwrap_or(&c.subject),
                    c.oidc_issuer
                        .as_ref()
                        .map(|i| format!(" (issuer {i})"))
                        .unwrap_or_default()
                ),
                None => format!("key {}", accepted.key_id),
            };
            out.push_str(&format!(
                "    signed by {signer} as {}{}\n",
                accepted.signed_reference,
                match (accepted.logged_at, accepted.log_entry) {
                    (Some(t), _) => format!(", logged in Rekor at {t}"),
                    (None, "not checked") => ", its Rekor log entry not checked (the policy names no Rekor key)".into(),
                    _ => String::new(),
                }
            ));
        }
        for rejected in &outcome.rejected {
            out.push_str(&format!("    {rejected}\n"));
        }
    }
    out.trim_end().to_owned()
}

/// The image `text` names, to be signed or attested: in the registry with `push` (what its tag
/// names now, as cosign signs), else what the store resolves it to.
fn to_sign(
    store_args: &StoreArgs,
    text: &str,
    push: bool,
) -> Result<(Store, Box<oci_client::Reference>, Digest), Failure> {
    let ImageRef::Registry(r) = parse_ref(text)? else {
        return Err(Failure::usage(format!(
            "error: {text}: an image is signed and attested by its registry name (REGISTRY/NAME[:TAG])\n  hint: \
             import it first (sealkit image import SRC --tag NAME), then name NAME"
        )));
    };
    let (store, platform, options) = store_args.open()?;
    let image = if push {
        image::registry::pull(&store, &r, &platform, &options, &sealkit::progress::Silent)?
    } else {
        resolved(store_args, text)?.2
    };
    let signed = image
        .index_digest
        .clone()
        .unwrap_or_else(|| image.manifest_digest.clone());
    Ok((store, r, signed))
}

/// What a signature or attestation is kept as: cosign's tag-scheme layer (in the store, and
/// with `--push` in the registry), and with `--push` also the Sigstore bundle cosign v3 writes
/// as a referrer of the image.
struct Attached {
    kind: Kind,
    layer: Signature,
    bundle: sealkit::attest::Bundle,
    predicate_type: String,
}

/// How cosign names an image in a statement's subject: its repository with the registry
/// (go-containerregistry's `Repository.Name()`); the digest beside it is what binds.
fn subject_name(r: &oci_client::Reference) -> String {
    format!("{}/{}", r.registry(), r.repository())
}

/// The bundles' layer titles, as a referrer's.
fn bundle_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Signatures => "signature.sigstore.json",
        Kind::Attestations | Kind::Bundles => "attestation.sigstore.json",
    }
}

fn attach(
    store_args: &StoreArgs,
    store: &Store,
    r: &oci_client::Reference,
    signed: &Digest,
    attached: Attached,
    push: bool,
) -> Result<String, Failure> {
    let kind = attached.kind;
    if !push {
        image::signatures::record(store, signed, kind, std::slice::from_ref(&attached.layer), &r.whole())?;
        return Ok("in the store; --push adds it to the registry".into());
    }
    let (_, _, options) = store_args.open()?;
    let remote = image::registry::Remote::connect(r, &options)?;
    let pushed = remote.push_attached(store, signed, kind, std::slice::from_ref(&attached.layer))?;
    let subject = store.read_blob(signed, &r.whole())?;
    let referrers = sealkit::publish::push_bundle(
        &remote,
        &subject,
        &attached.bundle,
        bundle_name(kind),
        &attached.predicate_type,
        sealkit::epoch::from_env()?,
    )?;
    let listed = match referrers {
        sealkit::publish::Referrers::Api => "by the referrers API".to_owned(),
        sealkit::publish::Referrers::Tag(tag) => format!("under {}:{tag}", r.repository()),
    };
    Ok(format!(
        "pushed {}:{} ({pushed}), and its bundle as a referrer, listed {listed}",
        r.repository(),
        image::signatures::tag_of(signed, kind)
    ))
}

fn sign(store_args: &StoreArgs, text: &str, key: &super::sign::KeyArgs, push: bool) -> Outcome {
    let key = key.load()?;
    let (store, r, signed) = to_sign(store_args, text, push)?;
    let as_reference = trust::policy::parse_named(&r.whole())
        .map(|n| n.to_string())
        .ok_or_else(|| Failure::usage(format!("error: {text}: not a reference a signature can name")))?;
    let signature = trust::sign::sign(&key, &as_reference, &signed);
    // cosign v3 signs an image as an in-toto statement of this type, with no predicate to
    // speak of, in a bundle.
    let statement = sealkit::attest::predicate_statement(
        &subject_name(&r),
        &signed,
        trust::sign::COSIGN_SIGN,
        b"{}",
        "cosign sign",
    )
    .map_err(|e| Failure::input(e.code().as_str(), e))?;
    let attached = Attached {
        kind: Kind::Signatures,
        layer: signature,
        bundle: sealkit::attest::sign(&statement, &key),
        predicate_type: trust::sign::COSIGN_SIGN.to_owned(),
    };
    let kept = attach(store_args, &store, &r, &signed, attached, push)?;
    super::log::info(&format!(
        "signed {signed} as {as_reference} with key {}; {kept}",
        key.public_key().key_id()
    ));
    Ok(())
}

fn attest(
    store_args: &StoreArgs,
    text: &str,
    key: &super::sign::KeyArgs,
    predicate: &Path,
    type_name: &str,
    push: bool,
) -> Outcome {
    let predicate_type = sealkit::attest::statement::predicate_type(type_name).ok_or_else(|| {
        Failure::usage(format!(
            "error: --type {type_name:?} is neither a URI nor one of slsaprovenance1, spdx, spdxjson, cyclonedx, custom"
        ))
    })?;
    let key = key.load()?;
    let origin = predicate.display().to_string();
    let bytes = std::fs::read(predicate).map_err(|e| Failure::usage(format!("error: {origin}: {e}")))?;
    let (store, r, signed) = to_sign(store_args, text, push)?;
    let statement = sealkit::attest::predicate_statement(&subject_name(&r), &signed, predicate_type, &bytes, &origin)
        .map_err(|e| Failure::input(e.code().as_str(), e))?;
    let envelope =
        sealkit::dsse::Envelope::sign(sealkit::attest::statement::PAYLOAD_TYPE, statement.to_payload(), &key);
    let attached = Attached {
        kind: Kind::Attestations,
        layer: trust::sign::attestation(&envelope, predicate_type),
        bundle: sealkit::attest::Bundle::new(envelope, key.public_key().key_id()),
        predicate_type: predicate_type.to_owned(),
    };
    let kept = attach(store_args, &store, &r, &signed, attached, push)?;
    super::log::info(&format!(
        "attested {signed} ({predicate_type}) with key {}; {kept}",
        key.public_key().key_id()
    ));
    Ok(())
}
