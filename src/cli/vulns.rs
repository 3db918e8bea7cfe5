//! `sealkit vulns IMAGE|FILE.yml`: the known vulnerabilities of the packages an image (or every
//! image of a configuration) holds, matched against the local advisory database (`sealkit
//! vulndb import`). Offline: the result names the database's digest and newest entry.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sealkit::config;
use sealkit::image::ImageRef;
use sealkit::inspect::sbom::{Catalog, Distro};
use sealkit::inspect::{Source, inspect};
use sealkit::plan::PlanOptions;
use sealkit::vuln::db::Database;
use sealkit::vuln::matching::{Match, Status};
use sealkit::vuln::scan::{Component, scan};
use sealkit::vuln::vex::{self, Subject, VexStatus};

use super::image::parse_ref;
use super::vulndb::{VexArgs, VulndbArgs};
use super::{Outcome, StoreArgs, is_config, json_error, print};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct VulnsArgs {
    /// An image (store name, registry reference, oci:DIR[:TAG], docker-archive:FILE, dir:PATH — a
    /// folder is read in place), or a LinuxKit FILE.yml for every image of the OS image (through
    /// its lock)
    #[arg(value_name = "IMAGE|FILE.yml")]
    subject: String,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The distribution of images that have no os-release (ID-VERSION_ID, as in purls:
    /// debian-12, alpine-3.20): their OS packages cannot be matched without it
    #[arg(long, value_name = "ID-VERSION", value_parser = super::vulndb::parse_distro)]
    distro: Option<Distro>,
    #[command(flatten)]
    vex: VexArgs,
    #[command(flatten)]
    db: VulndbArgs,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: &VulnsArgs) -> Outcome {
    // Without a database there is nothing to match: said before anything is inspected.
    let dir = args.db.dir();
    Database::current(&dir)?;
    let distro = args.distro.clone();
    let documents = args.vex.read()?;
    // Every component's catalog first, so the database is read for their packages only.
    let mut catalogs: Vec<(String, String, Catalog)> = Vec::new();
    // What each component is known as, for statements about the image (in catalogs' order).
    let mut subjects: Vec<Subject> = Vec::new();
    let mut add = |name: String, prefix: String, facts: sealkit::inspect::ComponentFacts| {
        for p in &facts.catalog.problems {
            super::log::note(&format!("{name}: {prefix}{}:{}: {}", p.file, p.line, p.message));
        }
        // The image's own os-release wins; --distro only fills its absence.
        if let (None, Some(d)) = (&facts.catalog.distro, &distro) {
            super::log::note(&format!(
                "{name}: no os-release; its packages are matched as {}",
                d.qualifier()
            ));
        }
        catalogs.push((name, prefix, facts.catalog));
    };
    if is_config(&args.subject) {
        let file = PathBuf::from(&args.subject);
        let loaded = config::load(std::slice::from_ref(&file))?;
        let resolver = args.store.resolver(&file, false)?;
        let plan = super::plan_trusted(&args.store, &loaded, &resolver, &file, PlanOptions::default())?;
        for image in plan.images {
            subjects.push(Subject::resolved(&image.name, &image.image));
            let facts = inspect(Source::Image {
                store: &resolver.store,
                image: &image.image,
            })?;
            add(image.name, image.prefix, facts);
        }
    } else {
        match parse_ref(&args.subject)? {
            ImageRef::Dir { path } if !sealkit::image::skopeo::is_layout(&path) => {
                subjects.push(Subject::folder(&args.subject));
                let facts = inspect(Source::Folder(&path))?;
                add(args.subject.clone(), String::new(), facts);
            }
            reference => {
                let (store, platform, _) = args.store.open()?;
                let image = sealkit::image::resolve(&store, &reference, &platform, Path::new("."))?;
                subjects.push(Subject::resolved(&args.subject, &image));
                let facts = inspect(Source::Image {
                    store: &store,
                    image: &image,
                })?;
                add(args.subject.clone(), String::new(), facts);
            }
        }
    }
    let components: Vec<Component> = catalogs
        .iter()
        .map(|(name, prefix, catalog)| Component {
            name: name.clone(),
            prefix: prefix.clone(),
            packages: &catalog.packages,
            distro: catalog.distro.as_ref(),
        })
        .collect();
    let mut report = scan(&dir, &components, distro.as_ref())?;
    if !documents.is_empty() {
        vex::apply(&mut report, &documents, &subjects);
    }
    match args.format {
        Format::Json => {
            let mut doc = serde_json::json!({"subject": args.subject});
            if let (Some(doc), serde_json::Value::Object(fields)) =
                (doc.as_object_mut(), serde_json::to_value(&report).map_err(json_error)?)
            {
                doc.extend(fields);
            }
            print(&serde_json::to_vec_pretty(&doc).map_err(json_error)?)
        }
        Format::Table => {
            let mut out = format!(
                "{:<20} {:<28} {:<26} {:<20} {:<12} {:<26} {}\n",
                "COMPONENT", "PACKAGE", "INSTALLED", "VULNERABILITY", "STATUS", "FIXED", "SEVERITY"
            );
            for c in &report.components {
                for m in c.findings.matches.iter().filter(|m| m.suppressed_by.is_none()) {
                    // A statement that does not suppress (affected, under investigation) is
                    // still said, after the columns.
                    let said = m
                        .vex
                        .as_ref()
                        .map(|v| match v.status {
                            // CycloneDX's unjustified not_affected: said, not acted on.
                            VexStatus::NotAffected => "  [vex: not_affected without a justification]".to_owned(),
                            status => format!("  [vex: {}]", status.as_str()),
                        })
                        .unwrap_or_default();
                    let rating = &m.rating;
                    let severity = match rating.score {
                        Some(score) => format!("{} ({score})", rating.level),
                        None => rating.level.to_string(),
                    };
                    let _ = writeln!(
                        out,
                        "{:<20} {:<28} {:<26} {:<20} {:<12} {:<26} {}{said}",
                        c.name,
                        m.package.name,
                        m.package.version,
                        m.id,
                        match m.status {
                            Status::Affected => "affected",
                            Status::Undetermined => "undetermined",
                        },
                        m.fixed.as_deref().unwrap_or("-"),
                        severity
                    );
                }
                for n in &c.findings.not_evaluated {
                    let _ = writeln!(
                        out,
                        "{:<20} {:<28} {:<26} {:<20} not evaluated: {}",
                        c.name,
                        n.package.name,
                        n.package.version,
                        n.ids.join(","),
                        n.reason
                    );
                }
                for (kind, count) in &c.findings.not_covered {
                    let _ = writeln!(
                        out,
                        "{:<20} {count} {kind} packages: no advisory source covers them",
                        c.name
                    );
                }
            }
            // Suppressed matches stay in view, each with the statement that suppressed it.
            let suppressed: Vec<(&str, &Match)> = report
                .components
                .iter()
                .flat_map(|c| c.findings.matches.iter().map(move |m| (c.name.as_str(), m)))
                .filter(|(_, m)| m.suppressed_by.is_some())
                .collect();
            if !suppressed.is_empty() {
                let _ = writeln!(
                    out,
                    "\nSUPPRESSED BY VEX\n{:<20} {:<28} {:<26} {:<20} {:<12} WHY (STATEMENT)",
                    "COMPONENT", "PACKAGE", "INSTALLED", "VULNERABILITY", "VEX STATUS"
                );
                for (component, m) in suppressed {
                    let Some(v) = &m.suppressed_by else { continue };
                    let why = [v.justification.as_deref(), v.impact_statement.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ");
                    let _ = writeln!(
                        out,
                        "{:<20} {:<28} {:<26} {:<20} {:<12} {} ({} #{}{})",
                        component,
                        m.package.name,
                        m.package.version,
                        m.id,
                        v.state.as_deref().unwrap_or(v.status.as_str()),
                        if why.is_empty() { "-" } else { why.as_str() },
                        v.file,
                        v.statement,
                        if v.author.is_empty() {
                            String::new()
                        } else {
                            format!(", {}", v.author)
                        }
                    );
                }
            }
            let (summary, db) = (&report.summary, &report.database);
            let _ = write!(
                out,
                "{} vulnerabilities ({} with a fix){}, {} not evaluated, in {} packages\n\
                 database {} (newest entry {}, {} advisories)",
                summary.matches - summary.suppressed,
                summary.with_fix,
                if report.vex.is_empty() {
                    String::new()
                } else {
                    format!(", {} suppressed by VEX", summary.suppressed)
                },
                summary.not_evaluated,
                report.components.iter().map(|c| c.packages).sum::<usize>(),
                db.digest,
                db.newest.as_deref().unwrap_or("undated"),
                db.advisories
            );
            print(out.as_bytes())
        }
    }
}
