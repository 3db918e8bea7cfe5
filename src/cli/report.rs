//! `sealkit report EVIDENCE.json [--decision REPORT.json] [-o report.html]`: the HTML report of
//! a saved evidence document, judged by a saved decision (docs/report.md).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use sealkit::report::html::{self, ReportError};

use super::{Failure, Outcome, output_error, output_name, write_output};

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The evidence: a gate's evidence.json, or `sealkit scan FILE.yml --format json`'s output
    #[arg(value_name = "EVIDENCE.json")]
    evidence: PathBuf,
    /// The policy decision about it (a gate's report.json, `sealkit check --format json`);
    /// default: report.json beside the evidence, if there is one
    #[arg(long, value_name = "REPORT.json")]
    decision: Option<PathBuf>,
    /// Show the evidence alone, even when a report.json lies beside it
    #[arg(long, conflicts_with = "decision")]
    no_decision: bool,
    /// Where to write the page (`-` for stdout)
    #[arg(short, long, value_name = "FILE", default_value = "report.html")]
    output: PathBuf,
}

/// Larger than any evidence sealkit writes (the mmdebstrap rootfs's is a few MB), small enough
/// that a wrong file given by mistake is refused rather than read into memory.
const MAX_INPUT: u64 = 1 << 30;

pub fn run(args: &ReportArgs) -> Outcome {
    let evidence = read_json(&args.evidence).map_err(|why| bad_evidence(&args.evidence, why))?;
    let beside = args.evidence.with_file_name(sealkit::gate::REPORT);
    let decision_path = match &args.decision {
        Some(path) => Some(path.clone()),
        None if !args.no_decision && beside.is_file() => Some(beside),
        None => None,
    };
    let decision = match &decision_path {
        Some(path) => Some(read_json(path).map_err(|why| {
            let e = ReportError::BadDecision {
                what: path.display().to_string(),
                why,
            };
            Failure::input(e.code().as_str(), e)
        })?),
        None => None,
    };
    let evidence_name = args.evidence.display().to_string();
    let decision_name = decision_path.as_ref().map(|p| p.display().to_string());
    html::check_inputs(
        &evidence,
        &evidence_name,
        decision.as_ref().zip(decision_name.as_deref()),
    )
    .map_err(|e| Failure::input(e.code().as_str(), e))?;
    let page = html::write(&evidence, decision.as_ref());
    write_output(&args.output, |out| {
        out.write_all(page.as_bytes()).map_err(output_error(&args.output))
    })?;
    super::log::info(&format!(
        "wrote {} ({}{})",
        output_name(&args.output),
        evidence_name,
        decision_name.map(|d| format!(", judged by {d}")).unwrap_or_default()
    ));
    Ok(())
}

fn bad_evidence(path: &Path, why: String) -> Failure {
    let e = ReportError::BadEvidence {
        what: path.display().to_string(),
        why,
    };
    Failure::input(e.code().as_str(), e)
}

/// A JSON document from a file, or why it is not one.
fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("it cannot be read ({e})"))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("it cannot be read ({e})"))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(format!("it is larger than {} MiB", MAX_INPUT >> 20));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("it is not JSON ({e})"))
}
