//! Evaluation in a child process with bounded time and memory, failing closed.
//!
//! Rego is Turing-complete enough to hang (a comprehension over a product of large lists) or to
//! exhaust memory (`numbers.range(1, 1e12)`). regorus stops itself at a wall-clock limit, but
//! its memory limits need a global allocator of its own, which would govern all of sealkit. So
//! sealkit runs the engine in a copy of itself (the hidden `__evaluate-policy` command): the
//! policy set goes in on stdin as one JSON line, the evidence after it; the child caps its own
//! address space (RLIMIT_AS) and CPU time (RLIMIT_CPU) before reading a byte, and answers one
//! JSON document on stdout. The parent kills it when it outlives its time limit. Whatever
//! happens to the child (its limit, a crash, a garbled answer) is an error that names the cause:
//! no path through here yields a decision that was not made.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::engine::{self, Finding, TestOutcome};
use super::{Code, PolicyError, PolicySet, Result};

/// The hidden command the child runs.
pub const COMMAND: &str = "__evaluate-policy";

/// What evaluation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for the whole evaluation.
    pub time: Duration,
    /// The evaluating process's address space, in MiB.
    pub memory_mib: u64,
}

impl Default for Limits {
    /// The baseline takes well under a second on the largest fixture (docs/policies.md); the
    /// memory covers an evidence document of hundreds of MiB held as Rego values.
    fn default() -> Self {
        Limits {
            time: Duration::from_secs(60),
            memory_mib: 4096,
        }
    }
}

/// Where the engine runs.
#[derive(Debug, Clone)]
pub enum Evaluator {
    /// A child process of this program (the `sealkit` binary): bounded time and memory.
    Child(PathBuf),
    /// In this process: the time limit holds, the memory limit does not. For library tests.
    InProcess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Every package's `deny` and `warn` over the input.
    Check,
    /// Every `test_` rule.
    Test,
}

#[derive(Serialize, Deserialize)]
struct Header {
    task: Task,
    set: PolicySet,
    time_limit_ms: u64,
}

/// What the engine says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// What the rules found, and which `deny` and `warn` rules were evaluated.
    Findings {
        findings: Vec<Finding>,
        rules: Vec<String>,
    },
    Tests(Vec<TestOutcome>),
}

fn run(header: Header, input: &[u8]) -> Result<Answer> {
    let mut loaded = engine::load(&header.set, Duration::from_millis(header.time_limit_ms))?;
    Ok(match header.task {
        Task::Check => {
            let input = std::str::from_utf8(input).map_err(|_| {
                PolicyError::new(
                    Code::EvaluationFailed,
                    "the evidence is not UTF-8",
                    "this is a bug: report it",
                )
            })?;
            Answer::Findings {
                findings: loaded.check(input)?,
                rules: loaded.rule_names(),
            }
        }
        Task::Test => Answer::Tests(loaded.test()),
    })
}

/// Evaluates `task` for `set` over `input` (the evidence document as JSON; empty for tests).
pub fn evaluate(evaluator: &Evaluator, task: Task, set: &PolicySet, input: &[u8], limits: Limits) -> Result<Answer> {
    let header = Header {
        task,
        set: set.clone(),
        time_limit_ms: u64::try_from(limits.time.as_millis()).unwrap_or(u64::MAX),
    };
    match evaluator {
        Evaluator::InProcess => run(header, input),
        Evaluator::Child(program) => in_child(program, &header, input, limits),
    }
}

/// Time the child gets beyond its own limit to notice it and answer, before it is killed.
const GRACE: Duration = Duration::from_secs(10);

fn in_child(program: &std::path::Path, header: &Header, input: &[u8], limits: Limits) -> Result<Answer> {
    let failed = |why: String| {
        PolicyError::new(
            Code::EvaluationFailed,
            format!("the policy evaluator ({}) {why}", program.display()),
            "the evidence was neither passed nor denied; run the command again, and report the error if it stays",
        )
    };
    let mut line = serde_json::to_vec(header).map_err(|e| failed(format!("cannot be given its policies: {e}")))?;
    line.push(b'\n');
    let mut child = Command::new(program)
        .arg(COMMAND)
        .arg(limits.time.as_millis().to_string())
        .arg(limits.memory_mib.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot be started: {e}")))?;
    let (Some(mut stdin), Some(mut stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(failed("has no pipes".into()));
    };
    let answer = std::thread::scope(|scope| {
        // A child that dies early closes its stdin: the write fails, and its status says why.
        scope.spawn(move || {
            let _ = stdin.write_all(&line).and_then(|()| stdin.write_all(input));
        });
        let out = scope.spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.read_to_end(&mut bytes);
            bytes
        });
        let err = scope.spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.take(64 << 10).read_to_end(&mut bytes);
            bytes
        });
        let deadline = Instant::now() + limits.time + GRACE;
        let mut killed = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() >= deadline && !killed => {
                    let _ = child.kill();
                    killed = true;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => break Err(e),
            }
        };
        (
            status,
            killed,
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default(),
        )
    });
    let (status, killed, out, err) = answer;
    let status = status.map_err(|e| failed(format!("could not be waited for: {e}")))?;
    let stderr = String::from_utf8_lossy(&err);
    if killed {
        return Err(time_limit(limits));
    }
    if status.success() {
        let answer: std::result::Result<Answer, PolicyError> =
            serde_json::from_slice(&out).map_err(|e| failed(format!("gave an answer that is not one: {e}")))?;
        return answer;
    }
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(libc::SIGXCPU) => return Err(time_limit(limits)),
        _ if stderr.contains("memory allocation of") || stderr.contains("capacity overflow") => {
            return Err(PolicyError::new(
                Code::MemoryLimit,
                format!(
                    "evaluation needed more than its {} MiB of memory and was stopped",
                    limits.memory_mib
                ),
                "a rule builds a huge value (numbers.range over a wide span, a product of lists): fix it, or \
                 raise --memory-limit",
            ));
        }
        _ => {}
    }
    let tail: Vec<&str> = stderr
        .lines()
        .rev()
        .take(5)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Err(failed(format!("stopped ({status}): {}", tail.join(" / "))))
}

fn time_limit(limits: Limits) -> PolicyError {
    PolicyError::new(
        Code::TimeLimit,
        format!("evaluation took longer than its {:?} and was stopped", limits.time),
        "a rule loops over too much (a comprehension over a product of lists?): simplify it, or raise --time-limit",
    )
}

/// The child's side: caps its own memory and CPU time, reads the request from stdin, answers on
/// stdout. Returns whether it answered.
pub fn serve(time_limit_ms: u64, memory_mib: u64) -> bool {
    let memory = memory_mib.saturating_mul(1 << 20);
    // CPU time is a backstop for a builtin that never checks the wall clock.
    let cpu = time_limit_ms.div_ceil(1000) + GRACE.as_secs();
    let capped = set_limit(libc::RLIMIT_AS, memory) && set_limit(libc::RLIMIT_CPU, cpu);
    let answer = if capped {
        let mut request = Vec::new();
        match std::io::stdin().lock().read_to_end(&mut request) {
            Ok(_) => answer(&request),
            Err(e) => Err(PolicyError::new(
                Code::EvaluationFailed,
                format!("reading the request: {e}"),
                "this is a bug: report it",
            )),
        }
    } else {
        Err(PolicyError::new(
            Code::EvaluationFailed,
            format!(
                "the evaluator cannot limit its own memory: {}",
                std::io::Error::last_os_error()
            ),
            "sealkit evaluates policies only with their limits in force",
        ))
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &answer).is_ok() && out.flush().is_ok()
}

fn answer(request: &[u8]) -> Result<Answer> {
    let split = request.iter().position(|&b| b == b'\n').unwrap_or(request.len());
    let header: Header = serde_json::from_slice(&request[..split]).map_err(|e| {
        PolicyError::new(
            Code::EvaluationFailed,
            format!("the request is not one: {e}"),
            "this command is sealkit's own: run `sealkit check`",
        )
    })?;
    run(header, request.get(split + 1..).unwrap_or_default())
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> bool {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads the struct it is given and changes only this process's limits.
    unsafe { libc::setrlimit(resource, &limit) == 0 }
}
