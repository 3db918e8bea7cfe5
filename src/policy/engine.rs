//! The Rego engine (regorus) behind one narrow interface: load a policy set, evaluate every
//! package's `deny` and `warn` over an input and check what they produce, or run every
//! `test_` rule. This runs inside the evaluating child (`sandbox`), so a policy that loops or
//! allocates without end takes the child down, not sealkit.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::time::Duration;

use regorus::unstable::{Parser, Rule, RuleHead};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde::{Deserialize, Serialize};

use super::metadata::Severity;
use super::{Code, PolicyError, PolicySet, Result};

/// Whether a result came from a `deny` or a `warn` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Deny,
    Warn,
}

impl Level {
    pub fn rule_name(self) -> &'static str {
        match self {
            Level::Deny => "deny",
            Level::Warn => "warn",
        }
    }
}

/// One object a `deny` or `warn` rule produced, checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    pub level: Level,
    pub id: String,
    pub msg: String,
    /// When the rule gives none, the rule's METADATA severity applies.
    pub severity: Option<Severity>,
    /// The component's name, as in the evidence (or `files` for the configuration's files).
    pub component: Option<String>,
    /// A path inside the component.
    pub path: Option<String>,
    /// The vulnerability a result is about (`CVE-2024-6387`): what an exception may name.
    pub vulnerability: Option<String>,
    pub remediation: Option<String>,
    /// The rule that produced it: `data.sealkit.baseline.privileges.deny`.
    pub rule: String,
}

/// What one `test_` rule gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// `data.pkg.test_name`.
    pub name: String,
    pub file: String,
    /// `None`: it passed; else why not (false or undefined, or an error).
    pub failure: Option<String>,
}

/// The rules each module defines: its package path and rule names.
struct ModuleRules {
    file: String,
    package: String,
    rules: BTreeSet<String>,
}

/// An engine with the set's policies and data loaded, and its time limit armed.
pub struct Loaded {
    engine: Engine,
    modules: Vec<ModuleRules>,
}

/// Work units between two looks at the clock: often enough to stop within milliseconds of the
/// limit, rarely enough that the clock costs nothing.
const CHECK_INTERVAL: NonZeroU32 = NonZeroU32::new(64).unwrap();

/// Loads the policies and data of `set`. A syntax error names the file, line and column.
pub fn load(set: &PolicySet, time_limit: Duration) -> Result<Loaded> {
    let mut engine = Engine::new();
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: time_limit,
        check_interval: CHECK_INTERVAL,
    });
    engine.set_strict_builtin_errors(true);
    let mut modules = Vec::new();
    for file in set.files.iter().filter(|f| f.is_rego()) {
        let package = engine.add_policy(file.name.clone(), file.text.clone()).map_err(|e| {
            PolicyError::new(
                Code::RegoSyntax,
                {
                    let said = first_lines(&e.to_string());
                    match said.starts_with(&format!("{}:", file.name)) {
                        true => said,
                        false => format!("{}: {said}", file.name),
                    }
                },
                "policies are Rego v1 (`deny contains r if { … }`); see docs/policies.md",
            )
        })?;
        modules.push(ModuleRules {
            file: file.name.clone(),
            package,
            rules: BTreeSet::new(),
        });
    }
    // Rule names come from the parsed modules, in the order they were added.
    for (module, parsed) in modules.iter_mut().zip(engine.get_modules().iter()) {
        for rule in &parsed.policy {
            if let Rule::Spec { head, .. } = rule.as_ref() {
                let refr = match head {
                    RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. } => refr,
                };
                if let Some(first) = Parser::get_path_ref_components(refr)
                    .ok()
                    .and_then(|parts| parts.first().map(|p| p.text().to_owned()))
                {
                    module.rules.insert(first);
                }
            }
        }
    }
    for data in &set.data {
        let value = Value::from_json_str(&data.to_string()).map_err(|e| internal(e.to_string()))?;
        engine.add_data(value).map_err(|e| {
            PolicyError::new(
                Code::BadData,
                format!("data: {e}"),
                "two data files set one key to different values: rename one of them",
            )
        })?;
    }
    Ok(Loaded { engine, modules })
}

/// regorus's messages are `--> FILE:LINE:COL`, the source line with a caret, then `KIND: MESSAGE`:
/// said here as `FILE:LINE:COL: KIND: MESSAGE` with the source line and caret under it. Other
/// messages keep their first lines.
fn first_lines(message: &str) -> String {
    let lines: Vec<&str> = message.lines().filter(|l| !l.trim().is_empty()).collect();
    let at = lines.iter().position(|l| l.trim_start().starts_with("--> "));
    if let Some(at) = at
        && let Some(what) = lines.last().filter(|_| lines.len() > at + 1)
    {
        let location = lines[at].trim_start().trim_start_matches("--> ");
        let source: Vec<&str> = lines[at + 1..lines.len() - 1]
            .iter()
            .copied()
            .filter(|l| l.trim() != "|")
            .collect();
        let mut out = format!("{location}: {}", what.trim());
        for line in source {
            out.push_str("\n  ");
            out.push_str(line);
        }
        return out;
    }
    lines.into_iter().take(4).collect::<Vec<_>>().join("\n  ")
}

fn internal(message: String) -> PolicyError {
    PolicyError::new(
        Code::EvaluationFailed,
        message,
        "this is a bug in sealkit's policy engine: report it",
    )
}

/// Why evaluation stopped, in sealkit's words: the time limit, or the policy's own error.
fn evaluation_error(rule: &str, e: &dyn std::fmt::Display) -> PolicyError {
    let text = e.to_string();
    if text.contains("execution exceeded time limit") || text.contains("time limit") {
        return PolicyError::new(
            Code::TimeLimit,
            format!("{rule}: evaluation was stopped at its time limit"),
            "a rule loops over too much (a comprehension over a product of lists?): simplify it, or raise --time-limit",
        );
    }
    PolicyError::new(
        Code::EvaluationFailed,
        format!("{rule}: {}", first_lines(&text)),
        "fix the rule: the policy failed, so the evidence was neither passed nor denied",
    )
}

impl Loaded {
    /// The `deny` and `warn` rules the set defines (`data.pkg.deny`), in order: none means the
    /// set cannot deny anything, which the gate refuses to call a pass.
    pub fn rule_names(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        for m in &self.modules {
            for level in [Level::Deny, Level::Warn] {
                if m.rules.contains(level.rule_name()) {
                    names.insert(format!("{}.{}", m.package, level.rule_name()));
                }
            }
        }
        names.into_iter().collect()
    }

    /// Evaluates every package's `deny` and `warn` over `input` (the evidence document, JSON).
    pub fn check(&mut self, input: &str) -> Result<Vec<Finding>> {
        let input = Value::from_json_str(input).map_err(|e| internal(format!("the evidence is not JSON: {e}")))?;
        self.engine.set_input(input);
        let mut wanted = BTreeSet::new();
        for m in &self.modules {
            for level in [Level::Deny, Level::Warn] {
                if m.rules.contains(level.rule_name()) {
                    wanted.insert((m.package.clone(), level));
                }
            }
        }
        let mut findings = Vec::new();
        for (package, level) in wanted {
            let rule = format!("{package}.{}", level.rule_name());
            let value = self
                .engine
                .eval_rule(rule.clone())
                .map_err(|e| evaluation_error(&rule, &e))?;
            let files = self.files_defining(&package, level.rule_name());
            let items = match value {
                Value::Undefined => continue,
                Value::Set(items) => items.iter().cloned().collect::<Vec<_>>(),
                other => {
                    return Err(bad_result(
                        &rule,
                        &files,
                        &format!("the rule is {}, not a set", shown(&other)),
                    ));
                }
            };
            for item in items {
                findings.push(finding(level, &rule, &files, &item)?);
            }
        }
        findings.sort();
        findings.dedup();
        Ok(findings)
    }

    fn files_defining(&self, package: &str, rule: &str) -> String {
        let files: Vec<&str> = self
            .modules
            .iter()
            .filter(|m| m.package == package && m.rules.contains(rule))
            .map(|m| m.file.as_str())
            .collect();
        files.join(", ")
    }

    /// Runs every `test_` rule of every package, as `opa test` does: a test passes when it is
    /// true.
    pub fn test(&mut self) -> Vec<TestOutcome> {
        let mut tests = BTreeSet::new();
        for m in &self.modules {
            for name in m.rules.iter().filter(|n| n.starts_with("test_")) {
                tests.insert((format!("{}.{name}", m.package), m.file.clone()));
            }
        }
        let mut out = Vec::new();
        for (name, file) in tests {
            self.engine.set_input(Value::Undefined);
            let failure = match self.engine.eval_rule(name.clone()) {
                Ok(Value::Bool(true)) => None,
                Ok(Value::Undefined) => Some("undefined: a condition did not hold".to_owned()),
                Ok(other) => Some(format!("gave {}", shown(&other))),
                Err(e) => Some(evaluation_error(&name, &e).message),
            };
            out.push(TestOutcome { name, file, failure });
        }
        out
    }
}

fn shown(value: &Value) -> String {
    let text = value.to_json_str().unwrap_or_else(|_| "a value".into());
    let mut short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn bad_result(rule: &str, files: &str, why: &str) -> PolicyError {
    PolicyError::new(
        Code::BadResult,
        format!("{rule} ({files}): {why}"),
        "deny and warn rules produce objects: {\"id\": …, \"msg\": …, \"severity\": …, \"component\": …, \"path\": …, \
         \"vulnerability\": …, \"remediation\": …}",
    )
}

/// The fields a result object may have: conftest's, and sealkit's `component`, `path`,
/// `vulnerability` and `remediation`. Anything else is refused, so that a misspelt `componnet`
/// is not lost.
const RESULT_FIELDS: [&str; 7] = [
    "id",
    "msg",
    "severity",
    "component",
    "path",
    "vulnerability",
    "remediation",
];

fn finding(level: Level, rule: &str, files: &str, item: &Value) -> Result<Finding> {
    let Value::Object(fields) = item else {
        return Err(bad_result(
            rule,
            files,
            &format!("it produced {}, which is not an object", shown(item)),
        ));
    };
    for key in fields.keys() {
        let known = key.as_string().is_ok_and(|k| RESULT_FIELDS.contains(&k.as_ref()));
        if !known {
            return Err(bad_result(
                rule,
                files,
                &format!("{} has the unknown field {}", shown(item), shown(key)),
            ));
        }
    }
    let text = |name: &str| -> Result<Option<String>> {
        match fields.get(&Value::from(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.to_string())),
            Some(other) => Err(bad_result(
                rule,
                files,
                &format!("{}: `{name}` is {}, not a string", shown(item), shown(other)),
            )),
        }
    };
    let required = |name: &str| -> Result<String> {
        text(name)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad_result(rule, files, &format!("{} has no `{name}`", shown(item))))
    };
    let severity = match text("severity")? {
        None => None,
        Some(s) => Some(Severity::parse(&s).ok_or_else(|| {
            bad_result(
                rule,
                files,
                &format!("severity {s:?} is not CRITICAL, HIGH, MEDIUM, LOW or INFO"),
            )
        })?),
    };
    Ok(Finding {
        level,
        id: required("id")?,
        msg: required("msg")?,
        severity,
        component: text("component")?,
        path: text("path")?,
        vulnerability: text("vulnerability")?,
        remediation: text("remediation")?,
        rule: rule.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyFile;

    fn set(text: &str) -> PolicySet {
        PolicySet {
            files: vec![PolicyFile {
                name: "p.rego".into(),
                text: text.into(),
            }],
            data: Vec::new(),
        }
    }

    fn check(text: &str) -> Result<Vec<Finding>> {
        load(&set(text), Duration::from_secs(30))?.check("{\"n\": 3}")
    }

    #[test]
    fn deny_and_warn_objects_become_findings() {
        let found = check(
            "package p\ndeny contains {\"id\": \"A\", \"msg\": sprintf(\"n is %d\", [input.n]), \"severity\": \
             \"high\"} if input.n > 2\nwarn contains {\"id\": \"B\", \"msg\": \"m\", \"path\": \"x\"} if true\n",
        )
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].level, found[0].msg.as_str(), found[0].severity),
            (Level::Deny, "n is 3", Some(Severity::High))
        );
        assert_eq!((found[1].level, found[1].path.as_deref()), (Level::Warn, Some("x")));
        assert_eq!(found[1].rule, "data.p.warn");
    }

    #[test]
    fn a_syntax_error_names_file_line_and_column() {
        let e = check("package p\n\ndeny contains r if {\n  r := \n}\n").unwrap_err();
        assert_eq!(e.code, "rego-syntax");
        assert!(e.message.starts_with("p.rego:"), "{e}");
        assert!(e.message.contains(":4:") || e.message.contains(":5:"), "{e}");
    }

    #[test]
    fn results_that_are_not_objects_are_refused() {
        for (rule, why) in [
            ("deny contains \"plain string\" if true", "not an object"),
            ("deny contains {\"msg\": \"m\"} if true", "no `id`"),
            (
                "deny contains {\"id\": \"A\", \"msg\": \"m\", \"componnet\": \"x\"} if true",
                "unknown field",
            ),
            (
                "deny contains {\"id\": \"A\", \"msg\": \"m\", \"severity\": \"dire\"} if true",
                "\"dire\"",
            ),
            ("deny := 3", "not a set"),
        ] {
            let e = check(&format!("package p\n{rule}\n")).unwrap_err();
            assert_eq!(e.code, "bad-result", "{rule}: {e}");
            assert!(
                e.message.contains(why) && e.message.contains("data.p.deny (p.rego)"),
                "{rule}: {e}"
            );
        }
    }

    #[test]
    fn a_runtime_error_is_an_error_not_an_empty_set() {
        let e = check("package p\ndeny contains {\"id\": \"A\", \"msg\": m} if m := sprintf(\"%d\", 3)\n").unwrap_err();
        assert_eq!(e.code, "evaluation-failed", "{e}");
    }

    #[test]
    fn tests_pass_fail_and_error() {
        let mut loaded = load(
            &set("package p\ntest_yes if true\ntest_no if false\ntest_odd := 3\ntest_broken if 1 / 0 == 1\n"),
            Duration::from_secs(30),
        )
        .unwrap();
        let outcomes = loaded.test();
        let failed: Vec<(&str, bool)> = outcomes
            .iter()
            .map(|t| (t.name.as_str(), t.failure.is_some()))
            .collect();
        assert_eq!(
            failed,
            [
                ("data.p.test_broken", true),
                ("data.p.test_no", true),
                ("data.p.test_odd", true),
                ("data.p.test_yes", false)
            ]
        );
    }
}
