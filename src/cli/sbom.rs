//! `sealkit sbom IMAGE|FILE.yml`: the software bill of materials as SPDX 2.3 or CycloneDX 1.6
//! JSON, of one image, of a folder read in place (`dir:`), or of the whole OS image a LinuxKit
//! configuration makes.

use std::path::{Path, PathBuf};

use sealkit::config::{self};
use sealkit::image::ImageRef;
use sealkit::image::lock::SbomSettings;
use sealkit::inspect::{ComponentFacts, Source, inspect};
use sealkit::party::{FORMS, Party};
use sealkit::plan::PlanOptions;
use sealkit::report::{self, Authorship, ComponentSbom, SbomInput};

use super::image::parse_ref;
use super::{Failure, Outcome, StoreArgs, is_config, output_error, output_name, print_with, write_output};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    SpdxJson,
    CyclonedxJson,
    /// sealkit's own catalogs (packages and problems per component), for inspection
    Json,
}

#[derive(clap::Args)]
pub struct SbomArgs {
    /// An image (store name, registry reference, oci:DIR[:TAG], docker-archive:FILE), a folder
    /// (dir:ROOTFS, read in place), or a LinuxKit FILE.yml for the whole OS image (through its
    /// lock, when there is one)
    #[arg(value_name = "IMAGE|FILE.yml")]
    subject: String,
    #[arg(long, value_enum, default_value = "spdx-json")]
    format: Format,
    /// Write to FILE instead of stdout (- is stdout; a device or FIFO is written through)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    authorship: AuthorshipArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Who the SBOM names as supplier and creators; `sbom`, `build` and `lock` take the same options.
#[derive(clap::Args)]
pub struct AuthorshipArgs {
    /// Who supplies what the SBOM describes (an NTIA minimum element): "Organization: NAME" or
    /// "Person: NAME (EMAIL)". Default: the lock's (sealkit lock --supplier), else the one
    /// organisation all the images' names share
    #[arg(long, value_name = "PARTY")]
    pub supplier: Option<Party>,
    /// Who made the SBOM besides sealkit, in the same form; may be given again (one organisation,
    /// any number of people). Default: the lock's
    #[arg(long = "creator", value_name = "PARTY")]
    pub creators: Vec<Party>,
}

impl AuthorshipArgs {
    /// The options, each over what the lock says.
    pub fn over(&self, lock: Option<&SbomSettings>) -> Result<Authorship, Failure> {
        let supplier = self.supplier.clone().or_else(|| lock.and_then(|l| l.supplier.clone()));
        let creators = match (&self.creators[..], lock) {
            ([], Some(lock)) => lock.creators.clone(),
            (given, _) => given.to_vec(),
        };
        Authorship::new(supplier, creators).map_err(|e| Failure::usage(format!("error: --creator: {e}")))
    }
}

/// Says what the NTIA minimum elements lack: sealkit writes the document anyway (it is valid
/// SPDX), but a gap is never silent.
pub fn warn_without_supplier(input: &SbomInput, lock_hint: Option<&Path>) {
    let missing = input.without_supplier();
    if missing.is_empty() {
        return;
    }
    let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
    let more = match missing.len() - shown.len() {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let record = match lock_hint {
        Some(config) => format!(", or record it once: sealkit lock {} --supplier …", config.display()),
        None => String::new(),
    };
    super::log::warning(&format!(
        "the SBOM names no supplier for {}{more}, which the NTIA minimum elements require\n  \
         hint: pass --supplier {FORMS}{record}",
        shown.join(", ")
    ));
}

/// An SBOM hashes every file: a folder's file this user cannot read leaves a hole no warning
/// would make honest, so the document is not written.
fn refuse_unhashed(subject: &str, facts: &ComponentFacts) -> Result<(), Failure> {
    let unread: Vec<(&std::path::PathBuf, _)> = facts
        .rootfs
        .files()
        .filter(|(_, e)| e.content.is_none() && e.hardlink_of.is_none())
        .collect();
    let Some((first, _)) = unread.first() else {
        return Ok(());
    };
    Err(Failure::usage(format!(
        "error: {subject}: {} files cannot be read (the first: {}), and an SBOM hashes every file\n  hint: run \
         sealkit as a user who can read the whole folder",
        unread.len(),
        first.display()
    )))
}

pub fn run(args: &SbomArgs) -> Outcome {
    let created = sealkit::epoch::rfc3339(sealkit::epoch::source_date_epoch()?);
    // What each component is, beside its facts: (name, prefix, image and its supplier).
    let mut described = Vec::new();
    let mut facts: Vec<ComponentFacts> = Vec::new();
    let mut config_file = None;
    let authorship;
    if is_config(&args.subject) {
        let file = PathBuf::from(&args.subject);
        let loaded = config::load(std::slice::from_ref(&file))?;
        let resolver = args.store.resolver(&file, false)?;
        authorship = args.authorship.over(resolver.lock.as_ref().map(|l| &l.sbom))?;
        let plan = super::plan_trusted(&args.store, &loaded, &resolver, &file, PlanOptions::default())?;
        for image in plan.images {
            facts.push(inspect(Source::Image {
                store: &resolver.store,
                image: &image.image,
            })?);
            let supplier = report::supplier_of(&image.reference);
            described.push((image.name, image.prefix, Some((image.image, supplier))));
        }
        config_file = Some(file);
    } else {
        authorship = args.authorship.over(None)?;
        match parse_ref(&args.subject)? {
            ImageRef::Dir { path } if !sealkit::image::skopeo::is_layout(&path) => {
                let folder = inspect(Source::Folder(&path))?;
                refuse_unhashed(&args.subject, &folder)?;
                facts.push(folder);
                described.push((args.subject.clone(), String::new(), None));
            }
            reference => {
                let (store, platform, _) = args.store.open()?;
                let image = sealkit::image::resolve(&store, &reference, &platform, Path::new("."))?;
                facts.push(inspect(Source::Image {
                    store: &store,
                    image: &image,
                })?);
                let supplier = report::supplier_of(&args.subject);
                described.push((args.subject.clone(), String::new(), Some((image, supplier))));
            }
        }
    }
    let components: Vec<ComponentSbom> = described
        .into_iter()
        .zip(&facts)
        .map(|((name, prefix, image), facts)| match image {
            Some((image, supplier)) => ComponentSbom::new(name, &image, prefix, supplier, facts),
            None => ComponentSbom::folder(name, facts),
        })
        .collect();
    for c in &components {
        for note in &c.facts.notes {
            super::log::note(&note.to_string());
        }
        for p in &c.facts.catalog.problems {
            super::log::note(&format!("{}: {}{}:{}: {}", c.name, c.prefix, p.file, p.line, p.message));
        }
    }
    let input = SbomInput {
        name: &args.subject,
        components: &components,
        created,
        authorship: &authorship,
    };
    if !matches!(args.format, Format::Json) {
        warn_without_supplier(&input, config_file.as_deref());
    }
    // SPDX is streamed to the output, its files and relationships never all in memory; the
    // other documents hold packages only.
    let doc = match args.format {
        Format::SpdxJson => None,
        Format::CyclonedxJson => Some(report::cyclonedx::document(&input)),
        Format::Json => {
            let list: Vec<serde_json::Value> = components
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "prefix": c.prefix, "manifest": c.manifest.to_string(), "catalog": c.facts.catalog}))
                .collect();
            Some(match list.as_slice() {
                [only] if input.single().is_some() => only["catalog"].clone(),
                _ => serde_json::json!({"components": list}),
            })
        }
    };
    let write = |out: &mut dyn std::io::Write| -> std::io::Result<()> {
        match &doc {
            None => report::spdx::write(&input, out)?,
            Some(doc) => serde_json::to_writer_pretty(out, doc)?,
        }
        Ok(())
    };
    let packages: usize = components.iter().map(|c| c.facts.catalog.packages.len()).sum();
    match &args.output {
        None => print_with(write),
        Some(path) => {
            write_output(path, |out| write(out).map_err(output_error(path)))?;
            super::log::info(&format!(
                "wrote {} ({} components, {packages} packages)",
                output_name(path),
                components.len()
            ));
            Ok(())
        }
    }
}
