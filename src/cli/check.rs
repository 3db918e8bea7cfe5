//! `sealkit check FILE.yml|IMAGE`: the policy's decision on the evidence, without building.
//! Exit 0 pass, 1 denied, 2 when it cannot judge (bad input, a policy that fails or runs away).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sealkit::evidence;
use sealkit::image::rootfs::NoTap;
use sealkit::image::{self, ImageRef};
use sealkit::inspect::inspect_image;
use sealkit::policy::decision::{Decision, Status, Verdict};
use sealkit::policy::judge::{self, Judge};
use sealkit::report::{junit, sarif};

use super::image::parse_ref;
use super::policy::{JudgeArgs, LimitArgs, evaluator, policy_failure};
use super::vulndb::MatchArgs;
use super::{Failure, Outcome, StoreArgs, is_config, json_error, output_error, print, write_output};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Junit,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// A LinuxKit FILE.yml (the whole OS image, through its lock) or an image reference
    #[arg(value_name = "FILE.yml|IMAGE")]
    subject: String,
    #[command(flatten)]
    policy: JudgeArgs,
    /// `table` for people; `json` (the decision), `sarif` (2.1.0), `junit` (XML) for machines
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the report to FILE instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    vulns: MatchArgs,
}

pub fn run(args: &CheckArgs) -> Outcome {
    let evaluated_on =
        judge::evaluation_date(args.policy.now.as_deref(), sealkit::epoch::from_env()?).map_err(policy_failure)?;
    let config = is_config(&args.subject).then(|| PathBuf::from(&args.subject));
    let exceptions_file = judge::exceptions_file(args.policy.exceptions.as_deref(), config.as_deref());
    let judge = Judge::load(&judge::Options {
        baseline: !args.policy.no_baseline,
        policies: &args.policy.policies,
        data: &args.policy.data,
        exceptions: exceptions_file.as_deref(),
        evaluated_on,
        allow_empty: false,
    })
    .map_err(policy_failure)?;
    let (input, components) = evidence_of(args, config.as_deref(), sealkit::epoch::from_env()?)?;
    let decision = judge
        .judge(&evaluator()?, args.limits.limits(), &args.subject, components, &input)
        .map_err(policy_failure)?;
    let report = match args.format {
        Format::Table => table(&decision).into_bytes(),
        Format::Json => decision.to_json().map_err(json_error)?,
        Format::Sarif => serde_json::to_vec_pretty(&sarif::write(&decision)).map_err(json_error)?,
        Format::Junit => junit::write(&decision).into_bytes(),
    };
    match &args.output {
        Some(path) => write_output(path, |out| out.write_all(&report).map_err(output_error(path)))?,
        None => print(report.trim_ascii_end())?,
    }
    match decision.verdict {
        Verdict::Pass => Ok(()),
        Verdict::Deny => Err(Failure {
            message: format!("denied: {}", summary(&decision)),
            code: 1,
        }),
    }
}

/// The evidence document as JSON, with its packages' vulnerabilities as the gate matches them,
/// and its components' names.
fn evidence_of(
    args: &CheckArgs,
    config: Option<&Path>,
    source_date_epoch: Option<u64>,
) -> Result<(Vec<u8>, Vec<String>), Failure> {
    let names = |doc: &evidence::Evidence| doc.components.iter().map(|c| c.name.clone()).collect();
    let vex = args.vulns.vex()?;
    let options = args.vulns.options(&vex);
    let now = args.policy.now.as_deref();
    if config.is_some() {
        let gathered = super::scan::gather(&args.subject, &args.store)?;
        let mut doc = gathered
            .evidence()
            .map_err(|e| Failure::usage(format!("error: reading the configuration again: {e}")))?;
        let vulnerabilities = doc.scan_vulnerabilities(&options)?;
        doc.add_vulnerabilities(vulnerabilities.as_ref(), now, source_date_epoch, options.max_age_days);
        return Ok((serde_json::to_vec(&doc).map_err(json_error)?, names(&doc)));
    }
    let reference = parse_ref(&args.subject)?;
    if let ImageRef::Dir { path } = &reference
        && !sealkit::image::skopeo::is_layout(path)
    {
        return Err(Failure::usage(
            "error: check judges an image or a configuration; a dir: folder has no evidence document yet\n  hint: \
             import it first (sealkit image import)",
        ));
    }
    let (store, platform, _) = args.store.open()?;
    let resolved = image::resolve(&store, &reference, &platform, Path::new("."))?;
    let facts = inspect_image(&store, &resolved, &mut NoTap)?;
    let mut doc = evidence::of_image(&args.subject, &resolved, &facts);
    let vulnerabilities = doc.scan_vulnerabilities(&options)?;
    doc.add_vulnerabilities(vulnerabilities.as_ref(), now, source_date_epoch, options.max_age_days);
    Ok((serde_json::to_vec(&doc).map_err(json_error)?, names(&doc)))
}

pub fn summary(d: &Decision) -> String {
    let c = d.counts;
    format!(
        "{} passed · {} denied · {} warned · {} excepted",
        c.passed, c.denied, c.warned, c.excepted
    )
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Denied => "DENIED",
        Status::Excepted => "excepted",
        Status::Warned => "warning",
        Status::Passed => "passed",
    }
}

/// For people: the results grouped by component, most severe first, each exception's reason,
/// owner and expiry under the result it accepts; then one line with the counts and the verdict.
fn table(d: &Decision) -> String {
    let mut out = String::new();
    let b = &d.basis;
    let _ = writeln!(
        out,
        "sealkit check {}: {} policy files ({}), evaluated on {}",
        d.subject,
        b.policy_files.len(),
        b.policy_digest,
        b.evaluated_on
            .map_or_else(|| "no date (no exceptions)".to_owned(), |d| d.to_string())
    );
    let mut group: Option<Option<&str>> = None;
    for r in &d.results {
        if group != Some(r.component.as_deref()) {
            group = Some(r.component.as_deref());
            let _ = writeln!(out, "\n== {}", r.component.as_deref().unwrap_or("exceptions"));
        }
        let _ = write!(
            out,
            "  {:<8} {:<8} {:<18} {}",
            r.severity.as_str(),
            status_word(r.status),
            r.id,
            r.msg
        );
        if let Some(path) = r.path.as_deref().filter(|p| !r.msg.contains(*p)) {
            let _ = write!(out, " [{path}]");
        }
        out.push('\n');
        if r.status == Status::Excepted
            && let Some(e) = &r.exception
        {
            let _ = writeln!(
                out,
                "  {:<36} excepted: {} (owner {}, until {})",
                "", e.reason, e.owner, e.expires
            );
        }
    }
    if d.results.is_empty() {
        out.push_str("\nno rule found anything\n");
    }
    let verdict = match d.verdict {
        Verdict::Pass => "PASS",
        Verdict::Deny => "DENIED",
    };
    let _ = write!(out, "\n{verdict}: {}", summary(d));
    out
}
