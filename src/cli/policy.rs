//! `sealkit policy test DIR…`: the Rego unit tests of policy folders, as `opa test` runs them;
//! and the hidden evaluator `check` and `policy test` start (`sandbox`).

use std::path::PathBuf;
use std::time::Duration;

use sealkit::policy::sandbox::{self, Answer, Evaluator, Limits, Task};
use sealkit::policy::{PolicyError, PolicySet, Purpose};

use super::{Failure, Outcome, print};

/// The policy to judge by, as `check` and `gate` take it.
#[derive(clap::Args)]
pub struct JudgeArgs {
    /// A folder of .rego policies (and .json data) to add to the baseline; may be repeated
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Leave the built-in baseline out (then --policy must give the rules)
    #[arg(long)]
    pub no_baseline: bool,
    /// A JSON or YAML data file, merged into `data` (allow-lists); may be repeated
    #[arg(long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// The exceptions file [default: NAME.exceptions.yaml beside NAME.yml, when there is one]
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// The day exceptions are judged on [default: SOURCE_DATE_EPOCH's; never the clock]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub now: Option<String>,
}

/// How long and how large policy evaluation may grow before it is stopped (and the command
/// fails: a policy that cannot finish never passes).
#[derive(clap::Args)]
pub struct LimitArgs {
    /// Wall-clock seconds evaluation may take
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().time.as_secs())]
    time_limit: u64,
    /// Memory (address space, MiB) the evaluating process may use
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().memory_mib)]
    memory_limit: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            time: Duration::from_secs(self.time_limit),
            memory_mib: self.memory_limit,
        }
    }
}

#[derive(clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(clap::Subcommand)]
enum PolicyCommand {
    /// Run every `test_` rule of the policy folders (and their data); exit 1 when one fails
    Test(TestArgs),
}

#[derive(clap::Args)]
struct TestArgs {
    /// Folders of .rego files (tests are the *_test.rego files, data the .json files)
    #[arg(value_name = "DIR", required = true)]
    dirs: Vec<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(args: &PolicyArgs) -> Outcome {
    let PolicyCommand::Test(args) = &args.command;
    let set = PolicySet::load(false, &args.dirs, Purpose::Test).map_err(policy_failure)?;
    let answer =
        sandbox::evaluate(&evaluator()?, Task::Test, &set, &[], args.limits.limits()).map_err(policy_failure)?;
    let Answer::Tests(outcomes) = answer else {
        return Err(Failure::usage(
            "error: the evaluator answered something else than test results",
        ));
    };
    if outcomes.is_empty() {
        return Err(Failure::usage(
            "error[policy-read]: no test_ rule in these folders\n  hint: tests are rules named test_… in *_test.rego files",
        ));
    }
    let mut out = String::new();
    let mut failed = 0;
    for t in &outcomes {
        match &t.failure {
            None => out.push_str(&format!("PASS {} ({})\n", t.name, t.file)),
            Some(why) => {
                failed += 1;
                out.push_str(&format!("FAIL {} ({}): {why}\n", t.name, t.file));
            }
        }
    }
    out.push_str(&format!("{} passed, {failed} failed", outcomes.len() - failed));
    print(out.as_bytes())?;
    if failed > 0 {
        return Err(Failure {
            message: format!("{failed} policy test{} failed", if failed == 1 { "" } else { "s" }),
            code: 1,
        });
    }
    Ok(())
}

/// This program, run again as the evaluator.
pub fn evaluator() -> Result<Evaluator, Failure> {
    std::env::current_exe().map(Evaluator::Child).map_err(|e| {
        Failure::usage(format!(
            "error: cannot find sealkit's own program to evaluate policies: {e}"
        ))
    })
}

pub fn policy_failure(e: PolicyError) -> Failure {
    let snippet = e.place.as_ref().and_then(super::snippet);
    let mut failure = Failure::input(&e.code.clone(), e);
    if let Some(snippet) = snippet {
        failure.message = format!("{}\n{snippet}", failure.message);
    }
    failure
}

#[derive(clap::Args)]
pub struct ServeArgs {
    time_limit_ms: u64,
    memory_mib: u64,
}

pub fn serve(args: &ServeArgs) -> Outcome {
    if sandbox::serve(args.time_limit_ms, args.memory_mib) {
        Ok(())
    } else {
        Err(Failure::usage("error: the policy evaluator could not answer"))
    }
}
