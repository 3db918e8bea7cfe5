//! `sealkit gate FILE.yml… --key KEY`: the whole pipeline (docs/gate.md). Exit 0 when the image
//! passed and its signed folder is in place, 1 when the policy denied it (the reports are
//! written, nothing is signed), 2 when the input cannot be judged.

use std::fmt::Write as _;
use std::path::PathBuf;

use sealkit::build::Format;
use sealkit::gate::{self, GateError, Gated, PolicyOptions};
use sealkit::keys::PublicKey;
use sealkit::policy::decision::{Status, Verdict};

use super::check::summary;
use super::policy::{JudgeArgs, LimitArgs, evaluator, policy_failure};
use super::sbom::AuthorshipArgs;
use super::sign::KeyArgs;
use super::vulndb::MatchArgs;
use super::{Failure, Outcome, StoreArgs, json_error, print};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    /// A short summary for people
    Table,
    /// The summary as JSON: name, verdict, counts, components, output folder and files
    Json,
}

#[derive(clap::Args)]
pub struct GateArgs {
    /// LinuxKit YAML files, merged in order; images are pinned by the first file's lock, if any
    #[arg(required = true, value_name = "FILE.yml")]
    files: Vec<PathBuf>,
    /// The signing key, and its password (--password-file or $SEALKIT_PASSWORD)
    #[command(flatten)]
    key: KeyArgs,
    /// Refuse to sign unless --key's public half is this public key
    #[arg(long, value_name = "PUB")]
    expect_key: Option<PathBuf>,
    #[command(flatten)]
    policy: JudgeArgs,
    /// Pass on a policy set with no deny or warn rule at all (refused otherwise: it could not
    /// deny anything)
    #[arg(long)]
    allow_empty_policy: bool,
    /// The output folder: new, empty, or an earlier gate's of this image (replaced whole)
    #[arg(short, long, value_name = "DIR", default_value = "out")]
    output: PathBuf,
    /// How to print the summary
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// The image's formats, as `sealkit build --format` takes them (several may be given); a
    /// UKI is signed for Secure Boot (--sign-uki) only once the policy passed
    #[arg(long, value_enum, default_value = "kernel+initrd", value_name = "FORMAT")]
    image_format: Vec<Format>,
    #[command(flatten)]
    uki: super::build::UkiArgs,
    #[command(flatten)]
    authorship: AuthorshipArgs,
    /// Pull registry images missing from the store (each must match the lock's digest)
    #[arg(long)]
    pull: bool,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    vulns: MatchArgs,
    /// Once the signed folder is in place, publish it to HOST[:PORT]/NAME[:TAG] as
    /// `sealkit push` does (docs/registry.md); a denied image is never pushed
    #[arg(long, value_name = "REF")]
    push: Option<String>,
    /// Print each stage's wall time and the total on stderr (`timing: STAGE SECONDS`); never
    /// written into the output folder
    #[arg(long)]
    timings: bool,
}

fn failure(e: GateError) -> Failure {
    match e {
        GateError::Config(e) => e.into(),
        GateError::Policy(e) => policy_failure(e),
        GateError::Publish(e) => e.into(),
        GateError::Untrusted(refused) => super::untrusted(&refused),
        other => Failure::input(other.code(), other),
    }
}

pub fn run(args: &GateArgs) -> Outcome {
    if args.output == std::path::Path::new("-") {
        return Err(Failure::usage(
            "error: -o -: the gate writes a folder, not one stream to stdout\n  hint: name a folder (-o DIR)",
        ));
    }
    // A bad reference is refused before anything is built.
    let push = args
        .push
        .as_deref()
        .map(sealkit::publish::parse_reference)
        .transpose()?;
    // The same plain-HTTP allowances as for pulling (--insecure-registry).
    let registry = sealkit::image::registry::RegistryOptions {
        insecure: args.store.insecure_registry.clone(),
        timeout: None,
    };
    let key = args.key.load()?;
    let uki_signer = args.uki.signer()?;
    let expect_key = match &args.expect_key {
        Some(path) => Some(PublicKey::load(path)?),
        None => None,
    };
    let source_date_epoch = sealkit::epoch::from_env()?;
    let epoch = sealkit::epoch::source_date_epoch()?;
    let resolver = args.store.resolver(&args.files[0], args.pull)?;
    let trust = args.store.trust(Some(&args.files[0]))?;
    let authorship = args.authorship.over(resolver.lock.as_ref().map(|l| &l.sbom))?;
    let vex = args.vulns.vex()?;
    let progress = super::log::Reporter::new();
    let gated = gate::run(&gate::Options {
        configs: &args.files,
        resolver: &resolver,
        trust: trust.as_ref(),
        output: &args.output,
        formats: &args.image_format,
        uki_stub: args.uki.uki_stub.as_deref(),
        uki_signer: uki_signer.as_ref(),
        verity: args.uki.verity,
        key: &key,
        expect_key: expect_key.as_ref(),
        policy: PolicyOptions {
            baseline: !args.policy.no_baseline,
            policies: &args.policy.policies,
            data: &args.policy.data,
            exceptions: args.policy.exceptions.as_deref(),
            now: args.policy.now.as_deref(),
            allow_empty: args.allow_empty_policy,
            evaluator: evaluator()?,
            limits: args.limits.limits(),
        },
        authorship,
        epoch,
        source_date_epoch,
        push: push.as_ref().map(|reference| (reference, &registry)),
        vulnerabilities: args.vulns.options(&vex),
        progress: &progress,
    })
    .map_err(failure)?;
    if args.timings {
        eprint!("{}", timings(&gated.timings));
    }
    for w in &gated.warnings {
        super::log::warning(w);
    }
    if !gated.without_supplier.is_empty() {
        super::log::warning(&format!(
            "the SBOM names no supplier for {}, which the NTIA minimum elements require\n  hint: record one: \
             sealkit lock {} --supplier …",
            gated.without_supplier.join(", "),
            args.files[0].display()
        ));
    }
    match args.format {
        OutputFormat::Table => super::print_styled(&table(&gated))?,
        OutputFormat::Json => print(&serde_json::to_vec_pretty(&json(&gated)).map_err(json_error)?)?,
    }
    match gated.decision.verdict {
        Verdict::Pass => Ok(()),
        Verdict::Deny => Err(Failure {
            message: format!(
                "denied: {}; nothing was signed (the reports are in {})",
                summary(&gated.decision),
                gated.output.display()
            ),
            code: 1,
        }),
    }
}

/// One line per stage, then the total: `timing: unpack 3.214`.
fn timings(stages: &[(&str, std::time::Duration)]) -> String {
    let mut out = String::new();
    for (stage, took) in stages {
        let _ = writeln!(out, "timing: {stage} {:.3}", took.as_secs_f64());
    }
    let total: std::time::Duration = stages.iter().map(|(_, t)| *t).sum();
    let _ = writeln!(out, "timing: total {:.3}", total.as_secs_f64());
    out
}

fn table(g: &Gated) -> String {
    use anstyle::{AnsiColor, Style};
    let d = &g.decision;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sealkit gate {}: {} components ({})",
        d.subject,
        d.components.len(),
        d.components.join(", ")
    );
    let _ = write!(out, "{}", components_table(g));
    let (verdict, colour) = match d.verdict {
        Verdict::Pass => ("PASS", AnsiColor::Green),
        Verdict::Deny => ("DENIED", AnsiColor::Red),
    };
    let bold = Style::new().bold().fg_color(Some(colour.into()));
    let _ = writeln!(out, "{bold}{verdict}{bold:#}: {}", summary(d));
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    for r in d.results.iter().filter(|r| r.status == Status::Denied) {
        let _ = writeln!(
            out,
            "  {red}denied{red:#} {} on {}: {}",
            r.id,
            r.component.as_deref().unwrap_or("the exceptions"),
            r.msg
        );
        if !r.remediation.is_empty() {
            let _ = writeln!(out, "    fix: {}", r.remediation);
        }
    }
    match d.verdict {
        Verdict::Pass => {
            let _ = writeln!(
                out,
                "signed and verified ({} checks); in {}:",
                g.verified_checks,
                g.output.display()
            );
        }
        Verdict::Deny => {
            let _ = writeln!(
                out,
                "nothing was built or signed; the reports are in {}:",
                g.output.display()
            );
        }
    }
    let _ = write!(out, "  {}", g.files.join("\n  "));
    if let Some(p) = &g.pushed {
        let _ = write!(
            out,
            "\npushed to {} ({} files, {} bundles; {} blobs sent, {} already there)",
            p.reference, p.files, p.bundles, p.uploaded, p.present
        );
    }
    out
}

/// One row per component: what it holds, how hardened its binaries are, what it may do, and
/// what the policy said of it.
fn components_table(g: &Gated) -> String {
    let count = |name: &str, status: Status| {
        g.decision
            .results
            .iter()
            .filter(|r| r.status == status && r.component.as_deref() == Some(name))
            .count()
    };
    let mut rows = vec![[
        "COMPONENT".to_owned(),
        "PACKAGES".into(),
        "BINARIES".into(),
        "HARDENED".into(),
        "DENIED".into(),
        "WARNED".into(),
        "EXCEPTED".into(),
        "PRIVILEGES".into(),
    ]];
    for c in &g.summary.components {
        let privileges = match &c.privileges {
            None => "the system's own".to_owned(),
            Some(p) if p.all_capabilities => "all capabilities".into(),
            Some(p) => {
                let mut said = format!(
                    "{} capabilit{}",
                    p.capabilities,
                    if p.capabilities == 1 { "y" } else { "ies" }
                );
                if !p.host_namespaces.is_empty() {
                    said.push_str(&format!(", host {}", p.host_namespaces.join(",")));
                }
                said
            }
        };
        rows.push([
            format!("{} {}", c.role, c.name),
            c.packages.to_string(),
            c.binaries.to_string(),
            c.hardening
                .percent()
                .map_or_else(|| "-".to_owned(), |p| format!("{p}%")),
            count(&c.name, Status::Denied).to_string(),
            count(&c.name, Status::Warned).to_string(),
            count(&c.name, Status::Excepted).to_string(),
            privileges,
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = String::from("  ");
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            match i {
                // Names and privileges read left to right; counts line up on the right.
                0 | 7 => line.push_str(&format!("{cell}{}", " ".repeat(pad))),
                _ => line.push_str(&format!("{}{cell}", " ".repeat(pad))),
            }
            line.push_str("  ");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

fn json(g: &Gated) -> serde_json::Value {
    let d = &g.decision;
    serde_json::json!({
        "name": g.name,
        "subject": d.subject,
        "verdict": d.verdict,
        "counts": d.counts,
        "components": d.components,
        "output": g.output.display().to_string(),
        "files": g.files,
        "pushed": g.pushed.as_ref().map(|p| &p.reference),
    })
}
