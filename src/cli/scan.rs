//! `sealkit scan IMAGE`: binary facts of every ELF file (hardening, linkage, embedded packages).

use std::path::Path;

use sealkit::image::{self, ImageRef};
use sealkit::inspect::elf::{Inspection, Verdict};
use sealkit::inspect::scan::BinaryReport;
use sealkit::inspect::{Depth, Source, inspect};

use super::image::parse_ref;
use super::{Outcome, StoreArgs, json_error, print};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct ScanArgs {
    /// The image: a store name, a registry reference, oci:DIR[:TAG], docker-archive:FILE or dir:PATH
    /// (a folder is read in place, without importing it)
    #[arg(value_name = "IMAGE")]
    image: String,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: &ScanArgs) -> Outcome {
    let reference = parse_ref(&args.image)?;
    let (subject, facts) = match &reference {
        ImageRef::Dir { path } => {
            let facts = inspect(Source::Folder(path), Depth::Binaries)?;
            (serde_json::json!({"reference": args.image}), facts)
        }
        _ => {
            let (store, platform, _) = args.store.open()?;
            let image = image::resolve(&store, &reference, &platform, Path::new("."))?;
            let facts = inspect(
                Source::Image {
                    store: &store,
                    image: &image,
                },
                Depth::Binaries,
            )?;
            (
                serde_json::json!({"reference": image.reference, "manifest": image.manifest_digest.to_string()}),
                facts,
            )
        }
    };
    for note in &facts.notes {
        eprintln!("note: {note}");
    }
    let binaries = facts.binaries;
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "schema": "https://sealkit.dev/schemas/scan/v1",
                "image": subject,
                "binaries": binaries,
            });
            print(&serde_json::to_vec_pretty(&doc).map_err(json_error)?)
        }
        Format::Table => print(table(&binaries).as_bytes()),
    }
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "yes",
        Verdict::Fail => "NO",
        Verdict::Na => "-",
        Verdict::Unknown => "?",
    }
}

fn table(binaries: &[BinaryReport]) -> String {
    let mut out = format!(
        "{:<48} {:<13} {:<5} {:<7} {:<4} {:<6} {:<7} {}\n",
        "PATH", "KIND", "PIE", "RELRO", "NX", "CANARY", "FORTIFY", "NOTES"
    );
    let mut malformed = 0;
    for b in binaries {
        match &b.elf {
            Inspection::Elf(f) => {
                let h = &f.hardening;
                let mut notes = Vec::new();
                if b.file.setuid {
                    notes.push("setuid".to_owned());
                }
                if let Some(c) = &b.file.capabilities {
                    notes.push(format!("caps={}", c.permitted.join(",")));
                }
                if !f.rpath.is_empty() || !f.runpath.is_empty() {
                    notes.push("rpath".into());
                }
                if f.go.is_some() {
                    notes.push("go".into());
                }
                if f.rust.is_some() {
                    notes.push("rust-deps".into());
                }
                let relro = match (h.relro_check.result, h.relro) {
                    (Verdict::Na, _) => "-",
                    (_, sealkit::inspect::elf::Relro::Full) => "full",
                    (_, sealkit::inspect::elf::Relro::Partial) => "partial",
                    (_, sealkit::inspect::elf::Relro::None) => "NONE",
                };
                out.push_str(&format!(
                    "{:<48} {:<13} {:<5} {:<7} {:<4} {:<6} {:<7} {}\n",
                    b.path,
                    serde_json::to_value(f.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    mark(h.pie.result),
                    relro,
                    mark(h.nx.result),
                    mark(h.canary.result),
                    mark(h.fortify.result),
                    notes.join(" ")
                ));
            }
            Inspection::Malformed { reason } => {
                malformed += 1;
                out.push_str(&format!("{:<48} malformed: {reason}\n", b.path));
            }
        }
    }
    out.push_str(&format!("{} ELF files, {} malformed", binaries.len(), malformed));
    out
}
