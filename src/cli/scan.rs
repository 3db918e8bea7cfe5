//! `sealkit scan IMAGE|FILE.yml`: every fact sealkit finds, as the evidence document (JSON) or a
//! summary for people (table).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sealkit::config;
use sealkit::evidence::{self, ComponentEvidence, Evidence, Gathered};
use sealkit::image::rootfs::FileCounter;
use sealkit::image::{self, ImageRef, Platform};
use sealkit::inspect::elf::{Inspection, Relro, Verdict};
use sealkit::inspect::scan::BinaryReport;
use sealkit::inspect::secrets::Secrets;
use sealkit::inspect::{ComponentFacts, Source, inspect, inspect_image};

use super::image::parse_ref;
use super::vulndb::MatchArgs;
use super::{Failure, Outcome, StoreArgs, is_config, json_error, print};
use sealkit::vuln::vex::Document;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct ScanArgs {
    /// An image (store name, registry reference, oci:DIR[:TAG], docker-archive:FILE, dir:PATH — a
    /// folder is read in place), or a LinuxKit FILE.yml for the whole OS image (through its lock)
    #[arg(value_name = "IMAGE|FILE.yml")]
    subject: String,
    /// `json`: the evidence document (docs/evidence.md); `table`: a summary per component
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    vulns: MatchArgs,
}

pub fn run(args: &ScanArgs) -> Outcome {
    let vex = args.vulns.vex()?;
    let vex = vex.as_slice();
    if is_config(&args.subject) {
        return scan_config(args, vex);
    }
    let reference = parse_ref(&args.subject)?;
    if let ImageRef::Dir { path } = &reference
        && !sealkit::image::skopeo::is_layout(path)
    {
        return scan_folder(args, path, vex);
    }
    let (store, platform, _) = args.store.open()?;
    let resolved = image::resolve(&store, &reference, &platform, Path::new("."))?;
    let facts = super::log::one_stage("unpack", Some(1), "images", |progress| {
        let facts = inspect_image(&store, &resolved, &mut FileCounter(progress));
        progress.advance(1, 0, 0);
        facts.map_err(Failure::from)
    })?;
    let mut doc = evidence::of_image(&args.subject, &resolved, &facts);
    let vulnerabilities = doc.scan_vulnerabilities(&args.vulns.options(vex))?;
    add_vulnerabilities(args, &mut doc, vulnerabilities.as_ref())?;
    report(args.format, &facts, &doc)
}

/// The evidence's `vulnerabilities`, as the gate and `check` carry them: the database's age is
/// counted to SOURCE_DATE_EPOCH, the evaluation date without `--now`.
fn add_vulnerabilities<'a>(
    args: &ScanArgs,
    doc: &mut Evidence<'a>,
    report: Option<&'a sealkit::vuln::matching::Report>,
) -> Result<(), Failure> {
    doc.add_vulnerabilities(report, None, sealkit::epoch::from_env()?, args.vulns.max_db_age);
    Ok(())
}

fn scan_config(args: &ScanArgs, vex: &[Document]) -> Outcome {
    let gathered = gather(&args.subject, &args.store)?;
    let mut doc = gathered
        .evidence()
        .map_err(|e| Failure::usage(format!("error: reading the configuration again: {e}")))?;
    let vulnerabilities = doc.scan_vulnerabilities(&args.vulns.options(vex))?;
    add_vulnerabilities(args, &mut doc, vulnerabilities.as_ref())?;
    match args.format {
        Format::Json => print(&serde_json::to_vec_pretty(&doc).map_err(json_error)?),
        Format::Table => print(summary(&doc).trim_end().as_bytes()),
    }
}

/// Loads the configuration `subject`, plans it through its lock and inspects every image.
pub fn gather(subject: &str, store: &StoreArgs) -> Result<Gathered, Failure> {
    let file = PathBuf::from(subject);
    let loaded = config::load(std::slice::from_ref(&file))?;
    for w in &loaded.warnings {
        super::log::warning(&w.to_string());
    }
    let resolver = store.resolver(&file, false)?;
    let trust = store.trust(Some(&file))?;
    let lock = sealkit::image::lock::lock_path(&file);
    let mut inputs = vec![file];
    if lock.is_file() {
        inputs.push(lock);
    }
    if let Some(trust) = &trust {
        inputs.push(trust.file.clone());
    }
    let progress = super::log::Reporter::new();
    Ok(Gathered::of_config(
        subject,
        loaded,
        &resolver,
        trust.as_ref(),
        inputs,
        &progress,
    )?)
}

/// A folder is read in place, never imported: the same facts and document as an image's.
fn scan_folder(args: &ScanArgs, path: &Path, vex: &[Document]) -> Outcome {
    let platform: Platform = args
        .store
        .platform
        .parse()
        .map_err(|e| Failure::usage(format!("error: --platform: {e}")))?;
    let facts = inspect(Source::Folder(path))?;
    for note in &facts.notes {
        super::log::note(&note.to_string());
    }
    let mut doc = evidence::of_folder(&args.subject, &platform, &facts);
    let vulnerabilities = doc.scan_vulnerabilities(&args.vulns.options(vex))?;
    add_vulnerabilities(args, &mut doc, vulnerabilities.as_ref())?;
    report(args.format, &facts, &doc)
}

/// The document as JSON, or the binaries' table and the summary.
fn report(format: Format, facts: &ComponentFacts, doc: &Evidence) -> Outcome {
    match format {
        Format::Json => print(&serde_json::to_vec_pretty(doc).map_err(json_error)?),
        Format::Table => {
            let mut out = binaries_table(&facts.binaries);
            out.push_str("\n\n");
            out.push_str(&summary(doc));
            print(out.trim_end().as_bytes())
        }
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

fn binaries_table(binaries: &[BinaryReport]) -> String {
    let mut out = format!(
        "{:<48} {:<13} {:<5} {:<7} {:<4} {:<6} {:<7} {}\n",
        "PATH", "KIND", "PIE", "RELRO", "NX", "CANARY", "FORTIFY", "NOTES"
    );
    let mut malformed = 0;
    let mut skipped = 0;
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
                    (_, Relro::Full) => "full",
                    (_, Relro::Partial) => "partial",
                    (_, Relro::None) => "NONE",
                };
                let _ = writeln!(
                    out,
                    "{:<48} {:<13} {:<5} {:<7} {:<4} {:<6} {:<7} {}",
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
                );
            }
            Inspection::Malformed { reason } => {
                malformed += 1;
                let _ = writeln!(out, "{:<48} malformed: {reason}", b.path);
            }
            Inspection::NotInspected { reason } => {
                skipped += 1;
                let _ = writeln!(out, "{:<48} not inspected: {reason}", b.path);
            }
        }
    }
    let _ = write!(
        out,
        "{} ELF files, {malformed} malformed, {skipped} not inspected",
        binaries.len()
    );
    out
}

/// One paragraph per component: what it may do, what its files allow, what it holds.
fn summary(doc: &Evidence) -> String {
    let mut out = String::new();
    for c in &doc.components {
        let _ = writeln!(
            out,
            "== {} {} ({}, {})",
            c.role,
            c.name,
            c.image.reference,
            c.image
                .manifest
                .as_deref()
                .or(c.image.listing.as_deref())
                .unwrap_or_default()
        );
        if let Some(p) = &c.privileges {
            let mut parts = vec![format!(
                "{} capabilities{}",
                p.capabilities.len(),
                if p.all_capabilities { " (all)" } else { "" }
            )];
            if !p.root_equivalent.is_empty() {
                let names: Vec<&str> = p.root_equivalent.iter().map(|f| f.name.as_str()).collect();
                parts.push(format!("root-equivalent: {}", names.join(", ")));
            }
            if !p.host_namespaces.is_empty() {
                parts.push(format!("host namespaces: {}", p.host_namespaces.join(", ")));
            }
            let sensitive: Vec<String> = p
                .binds
                .iter()
                .filter(|b| b.sensitive.is_some())
                .map(|b| format!("{}{}", b.source, if b.writable { " (rw)" } else { "" }))
                .collect();
            if !sensitive.is_empty() {
                parts.push(format!("sensitive binds: {}", sensitive.join(", ")));
            }
            if p.all_devices {
                parts.push("all devices".into());
            }
            parts.push(format!("noNewPrivileges {}", yes_no(p.no_new_privileges)));
            parts.push(format!("readonly root {}", yes_no(p.readonly_rootfs)));
            parts.push(format!("uid {}", p.uid));
            for e in &p.env {
                parts.push(match &e.value {
                    Some(v) => format!("env {}={v} ({})", e.name, e.kind),
                    None => format!("env {} ({})", e.name, e.kind),
                });
            }
            let _ = writeln!(out, "  privileges: {}", parts.join(" · "));
        }
        let _ = writeln!(out, "  files: {}", files_summary(c));
        let _ = writeln!(out, "  secrets: {}", secrets_summary(c.secrets));
        let _ = writeln!(
            out,
            "  packages: {}{} · binaries: {}",
            c.packages.len(),
            if c.package_problems.is_empty() {
                String::new()
            } else {
                format!(" ({} problems)", c.package_problems.len())
            },
            binaries_summary(c.binaries)
        );
        if let Some(v) = &doc.vulnerabilities
            && let Some(found) = v.report.components.iter().find(|f| f.name == c.name)
        {
            let matches = &found.findings.matches;
            let _ = writeln!(
                out,
                "  vulnerabilities: {} ({} with a fix) · not evaluated {} · not covered {}",
                matches.len(),
                matches.iter().filter(|m| m.fixed.is_some()).count(),
                found.findings.not_evaluated.len(),
                found.findings.not_covered.values().sum::<usize>(),
            );
        }
        // A summary count alone would leave people hunting for which files were not judged.
        for b in c.binaries {
            match &b.elf {
                Inspection::Malformed { reason } => {
                    let _ = writeln!(out, "    {}: malformed: {reason}", b.path);
                }
                Inspection::NotInspected { reason } => {
                    let _ = writeln!(out, "    {}: not inspected: {reason}", b.path);
                }
                Inspection::Elf(_) => {}
            }
        }
    }
    match &doc.vulnerabilities {
        Some(v) => {
            let _ = writeln!(
                out,
                "== vulnerabilities: database {} (newest entry {})",
                v.report.database.digest,
                v.report.database.newest.as_deref().unwrap_or("undated")
            );
        }
        None => {
            let _ = writeln!(
                out,
                "== vulnerabilities: not checked (no advisory database: sealkit vulndb import, or --vulndb DIR)"
            );
        }
    }
    if let Some(secrets) = doc.files_secrets
        && !doc.files_section.is_empty()
    {
        let _ = writeln!(out, "== files section ({} entries)", doc.files_section.len());
        let _ = writeln!(out, "  secrets: {}", secrets_summary(secrets));
    }
    if let Some(k) = &doc.kernel {
        let _ = writeln!(out, "== kernel {}", k.image);
        if let (Some(line), Some(parsed)) = (&k.cmdline, &k.cmdline_parsed) {
            let _ = writeln!(
                out,
                "  cmdline: {line:?} ({} parameters{})",
                parsed.options.len(),
                if parsed.init_args.is_empty() {
                    String::new()
                } else {
                    format!(", {} for init", parsed.init_args.len())
                }
            );
        }
        match k.config {
            Some(config) => {
                let _ = writeln!(
                    out,
                    "  config: {} ({}{}, {} options{})",
                    config.source,
                    config.version.map_or("version unknown".into(), |v| v.to_string()),
                    config.arch.as_deref().map(|a| format!(" {a}")).unwrap_or_default(),
                    config.options.len(),
                    if config.problems.is_empty() {
                        String::new()
                    } else {
                        format!(", {} lines not read", config.problems.len())
                    }
                );
            }
            None => {
                let _ = writeln!(out, "  config: NOT FOUND");
            }
        }
        for u in &k.config_unread {
            let _ = writeln!(out, "  not read: {}: {}", u.source, u.reason);
        }
    }
    out
}

/// How many findings of each rule, the files they are in, and what was not read.
fn secrets_summary(s: &Secrets) -> String {
    if s.findings.is_empty() && s.notes.is_empty() {
        return format!("none in {} files", s.files);
    }
    let mut by_rule: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for f in &s.findings {
        by_rule.entry(f.rule).or_default().push(&f.path);
    }
    let mut parts: Vec<String> = by_rule
        .iter()
        .map(|(rule, paths)| {
            let mut unique = paths.clone();
            unique.dedup();
            let shown = unique.iter().take(3).copied().collect::<Vec<_>>().join(", ");
            let more = unique.len().saturating_sub(3);
            format!(
                "{} {rule} ({shown}{})",
                paths.len(),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    if !s.notes.is_empty() {
        parts.push(format!("{} files not fully read", s.notes.len()));
    }
    parts.join(" · ")
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn files_summary(c: &ComponentEvidence) -> String {
    let f = c.files;
    let mut parts = vec![
        format!("{} setuid/setgid", f.setuid_setgid.len()),
        format!("{} world-writable", f.world_writable.len()),
    ];
    let unknown: usize = f.unknown_owners.iter().map(|o| o.files).sum();
    if unknown > 0 {
        parts.push(format!("{unknown} with unknown owners"));
    }
    if !f.accounts.uid0.is_empty() {
        parts.push(format!("uid-0 accounts: {}", f.accounts.uid0.join(", ")));
    }
    if !f.accounts.empty_passwords.is_empty() {
        parts.push(format!("EMPTY PASSWORDS: {}", f.accounts.empty_passwords.join(", ")));
    }
    if let Some(s) = &f.sshd {
        parts.push(format!(
            "sshd PermitRootLogin {} PasswordAuthentication {} PermitEmptyPasswords {}",
            s.permit_root_login.value, s.password_authentication.value, s.permit_empty_passwords.value
        ));
    }
    if !f.sudo_nopasswd.is_empty() {
        parts.push(format!("{} sudo NOPASSWD rules", f.sudo_nopasswd.len()));
    }
    if !f.ssh_host_keys.is_empty() {
        parts.push(format!("{} baked ssh host keys", f.ssh_host_keys.len()));
    }
    if !f.shells.is_empty() {
        parts.push(format!("shells: {}", f.shells.join(", ")));
    }
    if !f.package_managers.is_empty() {
        parts.push(format!("package managers: {}", f.package_managers.join(", ")));
    }
    parts.join(" · ")
}

fn binaries_summary(binaries: &[BinaryReport]) -> String {
    let mut elf = 0;
    let (mut pie, mut relro, mut nx) = (0, 0, 0);
    for b in binaries {
        if let Inspection::Elf(f) = &b.elf {
            elf += 1;
            let h = &f.hardening;
            pie += usize::from(h.pie.result != Verdict::Fail);
            relro += usize::from(h.relro_check.result == Verdict::Na || h.relro == Relro::Full);
            nx += usize::from(h.nx.result != Verdict::Fail);
        }
    }
    format!(
        "{elf} ELF ({pie} PIE or n/a, {relro} full RELRO or n/a, {nx} NX), {} malformed or not inspected",
        binaries.len() - elf
    )
}
