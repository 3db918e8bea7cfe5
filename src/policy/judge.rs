//! Judging an evidence document: the policy set, its data and the exceptions loaded, the
//! evidence evaluated in the sandbox, the decision made. `sealkit check` and the gate both
//! judge here, so the decision one prints is byte for byte the one the other attests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::decision::{Basis, Decision, Judged};
use super::exceptions::{self, Date, Exceptions};
use super::metadata::{self, RuleMeta};
use super::sandbox::{self, Answer, Evaluator, Limits, Task};
use super::{Code, DataFile, PolicyError, PolicySet, Purpose, Result};

/// What to judge with.
pub struct Options<'a> {
    /// Include the built-in baseline.
    pub baseline: bool,
    /// Folders of `.rego` files (and their `.json` data).
    pub policies: &'a [PathBuf],
    /// `--data` files, merged at the root of `data`.
    pub data: &'a [PathBuf],
    /// The exceptions file, when there is one ([`exceptions_file`]).
    pub exceptions: Option<&'a Path>,
    /// The day exceptions are judged on ([`evaluation_date`]).
    pub evaluated_on: Option<Date>,
    /// Accept a set that has no `deny` or `warn` rule at all: it can only pass.
    pub allow_empty: bool,
}

/// The policy side of a decision, loaded and checked before any evidence is gathered, so that
/// a bad policy or exceptions file fails fast.
pub struct Judge {
    set: PolicySet,
    data_files: Vec<DataFile>,
    rules: BTreeMap<String, RuleMeta>,
    exceptions: Exceptions,
    evaluated_on: Option<Date>,
    allow_empty: bool,
    sources: Vec<String>,
}

/// How a decision names the built-in baseline among its policy sources.
pub const BASELINE_SOURCE: &str = "sealkit:baseline";

/// The exceptions file of a judgement: the one given, else `NAME.exceptions.yaml` beside the
/// configuration `NAME.yml` when there is one.
pub fn exceptions_file(given: Option<&Path>, config: Option<&Path>) -> Option<PathBuf> {
    given
        .map(Path::to_path_buf)
        .or_else(|| config.map(exceptions::beside).filter(|p| p.is_file()))
}

/// The day exceptions are judged on: `now` (`YYYY-MM-DD`), else the day of `epoch`
/// (SOURCE_DATE_EPOCH), else none: the clock is never read, so a decision can be reproduced.
pub fn evaluation_date(now: Option<&str>, epoch: Option<u64>) -> Result<Option<Date>> {
    match now {
        Some(text) => Date::parse(text).map(Some).ok_or_else(|| {
            PolicyError::new(
                Code::NoEvaluationDate,
                format!("--now {text:?} is not a date"),
                "write it YYYY-MM-DD, e.g. --now 2026-12-01",
            )
        }),
        None => Ok(epoch.map(Date::of_epoch)),
    }
}

impl Judge {
    pub fn load(options: &Options) -> Result<Judge> {
        let mut set = match options.allow_empty {
            true => PolicySet::load_any(options.baseline, options.policies, Purpose::Check)?,
            false => PolicySet::load(options.baseline, options.policies, Purpose::Check)?,
        };
        let mut data_files = Vec::new();
        for file in options.data {
            data_files.push(set.add_data_file(file)?);
        }
        let rules = metadata::rules(&set.files)?;
        let exceptions = match options.exceptions {
            Some(path) => Exceptions::load(path)?,
            None => Exceptions::default(),
        };
        if !exceptions.list.is_empty() && options.evaluated_on.is_none() {
            return Err(PolicyError::new(
                Code::NoEvaluationDate,
                format!(
                    "{}: exceptions expire, and there is no date to judge them on",
                    options.exceptions.unwrap_or(Path::new("")).display()
                ),
                "pass --now YYYY-MM-DD or set SOURCE_DATE_EPOCH (sealkit never reads the clock: a decision must be \
                 reproducible)",
            ));
        }
        Ok(Judge {
            set,
            data_files,
            rules,
            exceptions,
            evaluated_on: options.evaluated_on,
            allow_empty: options.allow_empty,
            sources: options
                .baseline
                .then(|| BASELINE_SOURCE.to_owned())
                .into_iter()
                .chain(options.policies.iter().map(|p| p.display().to_string()))
                .collect(),
        })
    }

    /// Evaluates the set over `evidence` (the evidence document as JSON) and decides, with the
    /// exceptions applied. `subject` names what was judged; `components` are the evidence's.
    pub fn judge(
        &self,
        evaluator: &Evaluator,
        limits: Limits,
        subject: &str,
        components: Vec<String>,
        evidence: &[u8],
    ) -> Result<Decision> {
        let answer = sandbox::evaluate(evaluator, Task::Check, &self.set, evidence, limits)?;
        let Answer::Findings { findings, rules } = answer else {
            return Err(PolicyError::new(
                Code::EvaluationFailed,
                "the evaluator answered something else than findings",
                "this is a bug in sealkit: report it",
            ));
        };
        if rules.is_empty() && !self.allow_empty {
            return Err(PolicyError::new(
                Code::EmptyPolicy,
                format!(
                    "no deny or warn rule in the policy set ({} files): it could not deny anything",
                    self.set.files.len()
                ),
                "leave --no-baseline out, or name a folder whose .rego files define deny or warn rules with --policy \
                 (the gate takes --allow-empty-policy to pass on no rules at all)",
            ));
        }
        let exceptions_file = match (&self.exceptions.file, &self.exceptions.sha256) {
            (Some(path), Some(sha256)) => Some(DataFile {
                path: path.display().to_string(),
                sha256: sha256.clone(),
            }),
            _ => None,
        };
        let basis = Basis {
            policy_sources: self.sources.clone(),
            policy_files: self.set.listing(),
            policy_digest: self.set.digest(),
            data_files: self.data_files.clone(),
            exceptions_file,
            evaluated_on: self.evaluated_on,
        };
        Ok(Decision::new(Judged {
            subject,
            components,
            findings,
            rules: self.rules.clone(),
            exceptions: &self.exceptions,
            basis,
        }))
    }
}
