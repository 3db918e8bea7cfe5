//! `sealkit sbom IMAGE|FILE.yml`: the software bill of materials as SPDX 2.3 or CycloneDX 1.6
//! JSON, of one image or of the whole OS image a LinuxKit configuration makes.

use std::path::{Path, PathBuf};

use sealkit::config::{self};
use sealkit::image;
use sealkit::inspect::{ComponentFacts, inspect_image};
use sealkit::plan::{self, Allowance};
use sealkit::report::{self, ComponentSbom, SbomInput};

use sealkit::image::rootfs::NoTap;

use super::image::parse_ref;
use super::{Outcome, StoreArgs, is_config, output_error, output_name, print_with, write_output};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    SpdxJson,
    CyclonedxJson,
    /// sealkit's own catalogs (packages and problems per component), for inspection
    Json,
}

#[derive(clap::Args)]
pub struct SbomArgs {
    /// An image (store name, registry reference, oci:DIR[:TAG], docker-archive:FILE, dir:ROOTFS),
    /// or a LinuxKit FILE.yml for the whole OS image (through its lock, when there is one)
    #[arg(value_name = "IMAGE|FILE.yml")]
    subject: String,
    #[arg(long, value_enum, default_value = "spdx-json")]
    format: Format,
    /// Write to FILE instead of stdout (- is stdout; a device or FIFO is written through)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: &SbomArgs) -> Outcome {
    let created = sealkit::epoch::rfc3339(sealkit::epoch::source_date_epoch()?);
    // Each image with its facts: (name, image, prefix, supplier).
    let mut subjects = Vec::new();
    let mut facts: Vec<ComponentFacts> = Vec::new();
    if is_config(&args.subject) {
        let file = PathBuf::from(&args.subject);
        let loaded = config::load(std::slice::from_ref(&file))?;
        let resolver = args.store.resolver(&file, false)?;
        let plan = plan::plan(&loaded, &resolver, &Allowance::default())?;
        for image in plan.images {
            facts.push(inspect_image(&resolver.store, &image.image, &mut NoTap)?);
            let supplier = report::supplier_of(&image.reference);
            subjects.push((image.name, image.image, image.prefix, supplier));
        }
    } else {
        let (store, platform, _) = args.store.open()?;
        let image = image::resolve(&store, &parse_ref(&args.subject)?, &platform, Path::new("."))?;
        facts.push(inspect_image(&store, &image, &mut NoTap)?);
        subjects.push((
            args.subject.clone(),
            image,
            String::new(),
            report::supplier_of(&args.subject),
        ));
    }
    let components: Vec<ComponentSbom> = subjects
        .into_iter()
        .zip(&facts)
        .map(|((name, image, prefix, supplier), facts)| ComponentSbom::new(name, &image, prefix, supplier, facts))
        .collect();
    for c in &components {
        for p in &c.facts.catalog.problems {
            eprintln!("note: {}: {}{}:{}: {}", c.name, c.prefix, p.file, p.line, p.message);
        }
    }
    let input = SbomInput {
        name: &args.subject,
        components: &components,
        created,
    };
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
            eprintln!(
                "wrote {} ({} components, {packages} packages)",
                output_name(path),
                components.len()
            );
            Ok(())
        }
    }
}
