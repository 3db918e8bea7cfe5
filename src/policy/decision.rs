//! The decision: what the rules found, with the exceptions applied, the verdict, and everything
//! it rests on (the policy files and their digest, the data, the exceptions file, the date). It
//! is the JSON report (`sealkit check --format json`), and the SARIF, JUnit and table outputs
//! are views of it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::DataFile;
use super::engine::{Finding, Level};
use super::exceptions::{Date, Exception, Exceptions};
use super::metadata::{RuleMeta, Severity};

/// The `schema` of the JSON decision; a breaking change gets a new version.
pub const SCHEMA: &str = "sealkit.dev/policy-decision/v1";

/// The rule id of an exception past its date: a denial of its own.
pub const EXPIRED: &str = "expired-exception";
/// The rule id of an exception that matched nothing: a warning.
pub const UNUSED: &str = "unused-exception";

/// The name results about the configuration's `files` section carry as their component.
pub const FILES_SECTION: &str = "files";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Denied,
    Excepted,
    Warned,
    Passed,
}

/// One result, as decided.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    pub status: Status,
    /// Which rule set it came from: `deny` or `warn`.
    pub level: Level,
    pub severity: Severity,
    pub msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    /// The Rego rule that produced it (`data.sealkit.baseline.privileges.deny`), or `exceptions`.
    pub rule: String,
    /// The exception that accepted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<Exception>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Rule and component pairs with no result at all.
    pub passed: usize,
    /// Results that deny (expired exceptions among them).
    pub denied: usize,
    pub warned: usize,
    /// Results an exception accepted.
    pub excepted: usize,
}

/// What the decision rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Basis {
    /// Where the policy set came from: `sealkit:baseline` for the built-in baseline, then each
    /// `--policy` folder as given. Attestations name the set by these, and by its digest.
    pub policy_sources: Vec<String>,
    /// Every policy file, with its SHA-256.
    pub policy_files: Vec<DataFile>,
    /// The digest of the whole set (`PolicySet::digest`).
    pub policy_digest: String,
    pub data_files: Vec<DataFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exceptions_file: Option<DataFile>,
    /// The day exceptions were judged on: `--now`, else SOURCE_DATE_EPOCH's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluated_on: Option<Date>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub schema: &'static str,
    pub verdict: Verdict,
    /// What was judged: a configuration file or an image reference.
    pub subject: String,
    pub counts: Counts,
    pub results: Vec<Outcome>,
    /// Every rule, by id: the ones the policies declare, and any a result names without one.
    pub rules: Vec<RuleMeta>,
    /// The evidence's components, in its order.
    pub components: Vec<String>,
    pub exceptions: Vec<Exception>,
    pub basis: Basis,
}

/// One rule judged on one component: a JUnit test case, and a `passed` when nothing was found.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    pub rule: &'a RuleMeta,
    pub component: &'a str,
    pub status: Status,
    /// Its results, in order.
    pub results: Vec<&'a Outcome>,
}

fn engine_rule(id: &str, title: &str, description: &str, severity: Severity, remediation: &str) -> RuleMeta {
    RuleMeta {
        id: id.to_owned(),
        title: title.to_owned(),
        description: description.to_owned(),
        severity,
        aliases: Vec::new(),
        remediation: remediation.to_owned(),
        declared: "sealkit".to_owned(),
    }
}

fn exception_rules() -> [RuleMeta; 2] {
    [
        engine_rule(
            EXPIRED,
            "No exception is past its date",
            "An exception whose expiry date has come accepts nothing any more, and is itself a denial: the risk \
             it accepted must be looked at again.",
            Severity::High,
            "Fix what the exception covered, or renew it with a new reason and date.",
        ),
        engine_rule(
            UNUSED,
            "Every exception is used",
            "An exception that matched no result accepts nothing: the problem is gone, or the exception names the \
             wrong rule, component or path.",
            Severity::Low,
            "Remove the exception, or correct its id, component or path.",
        ),
    ]
}

/// The inputs of a decision.
pub struct Judged<'a> {
    pub subject: &'a str,
    pub components: Vec<String>,
    pub findings: Vec<Finding>,
    pub rules: BTreeMap<String, RuleMeta>,
    pub exceptions: &'a Exceptions,
    pub basis: Basis,
}

impl Decision {
    /// Applies the exceptions to the findings on `basis.evaluated_on`. Exceptions need a date:
    /// the caller refuses to judge them without one.
    pub fn new(judged: Judged) -> Decision {
        let Judged {
            subject,
            components,
            findings,
            mut rules,
            exceptions,
            basis,
        } = judged;
        let live = |e: &Exception| basis.evaluated_on.is_some_and(|d| e.live_on(d));
        let mut used = vec![false; exceptions.list.len()];
        let mut results = Vec::new();
        for f in findings {
            let meta = rules.get(&f.id);
            let severity = f.severity.or(meta.map(|m| m.severity)).unwrap_or(Severity::Medium);
            let remediation = f
                .remediation
                .clone()
                .or_else(|| meta.map(|m| m.remediation.clone()))
                .unwrap_or_default();
            let accepted = exceptions.list.iter().position(|e| {
                live(e)
                    && e.covers(
                        &f.id,
                        f.component.as_deref(),
                        f.path.as_deref(),
                        f.vulnerability.as_deref(),
                    )
            });
            if let Some(i) = accepted {
                used[i] = true;
            }
            let status = match (accepted, f.level) {
                (Some(_), _) => Status::Excepted,
                (None, Level::Deny) => Status::Denied,
                (None, Level::Warn) => Status::Warned,
            };
            results.push(Outcome {
                id: f.id,
                status,
                level: f.level,
                severity,
                msg: f.msg,
                component: f.component,
                path: f.path,
                vulnerability: f.vulnerability,
                remediation,
                rule: f.rule,
                exception: accepted.map(|i| exceptions.list[i].clone()),
            });
        }
        for (e, used) in exceptions.list.iter().zip(&used) {
            let scope = scope_of(e);
            let (id, level, msg) = if !live(e) {
                (
                    EXPIRED,
                    Level::Deny,
                    format!(
                        "the exception for {}{scope} ({}, owner {}) expired on {}: it accepts nothing any more",
                        e.id, e.at, e.owner, e.expires
                    ),
                )
            } else if !used {
                (
                    UNUSED,
                    Level::Warn,
                    format!("the exception for {}{scope} ({}) matched no result", e.id, e.at),
                )
            } else {
                continue;
            };
            results.push(Outcome {
                id: id.to_owned(),
                status: if level == Level::Deny {
                    Status::Denied
                } else {
                    Status::Warned
                },
                level,
                severity: if level == Level::Deny {
                    Severity::High
                } else {
                    Severity::Low
                },
                msg,
                component: None,
                path: exceptions.file.as_ref().map(|p| p.display().to_string()),
                vulnerability: None,
                remediation: String::new(),
                rule: "exceptions".to_owned(),
                exception: Some(e.clone()),
            });
        }
        if !exceptions.list.is_empty() {
            for meta in exception_rules() {
                rules.insert(meta.id.clone(), meta);
            }
        }
        for r in &results {
            rules.entry(r.id.clone()).or_insert_with(|| RuleMeta {
                id: r.id.clone(),
                title: r.id.clone(),
                description: String::new(),
                severity: r.severity,
                aliases: Vec::new(),
                remediation: String::new(),
                declared: r.rule.clone(),
            });
        }
        results.sort_by(|a, b| {
            (&a.component, a.severity, &a.id, &a.path, &a.msg).cmp(&(&b.component, b.severity, &b.id, &b.path, &b.msg))
        });
        let mut decision = Decision {
            schema: SCHEMA,
            verdict: Verdict::Pass,
            subject: subject.to_owned(),
            counts: Counts::default(),
            results,
            rules: rules.into_values().collect(),
            components,
            exceptions: exceptions.list.clone(),
            basis,
        };
        let passed = decision.cases().iter().filter(|c| c.status == Status::Passed).count();
        let count = |s: Status| decision.results.iter().filter(|r| r.status == s).count();
        decision.counts = Counts {
            passed,
            denied: count(Status::Denied),
            warned: count(Status::Warned),
            excepted: count(Status::Excepted),
        };
        if decision.counts.denied > 0 {
            decision.verdict = Verdict::Deny;
        }
        decision
    }

    /// The JSON report, as `sealkit check --format json` prints it and the gate writes and
    /// attests it (report.json): pretty, ending in a newline. One writer, so the two agree.
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Every policy rule on every component (and on the configuration's files section when a
    /// result names it), with what was found: exceptions' own results are not cases.
    pub fn cases(&self) -> Vec<Case<'_>> {
        let mut components: Vec<&str> = self.components.iter().map(String::as_str).collect();
        let mut seen: BTreeSet<&str> = components.iter().copied().collect();
        for r in &self.results {
            if let Some(c) = r.component.as_deref()
                && seen.insert(c)
            {
                components.push(c);
            }
        }
        let mut cases = Vec::new();
        for component in components {
            for rule in self.rules.iter().filter(|r| r.id != EXPIRED && r.id != UNUSED) {
                let results: Vec<&Outcome> = self
                    .results
                    .iter()
                    .filter(|r| r.id == rule.id && r.component.as_deref() == Some(component))
                    .collect();
                let status = results.iter().map(|r| r.status).min().unwrap_or(Status::Passed);
                cases.push(Case {
                    rule,
                    component,
                    status,
                    results,
                });
            }
        }
        cases
    }
}

/// ` on getty, at usr/bin/*` — what an exception's scope says, for messages.
fn scope_of(e: &Exception) -> String {
    let mut out = String::new();
    if let Some(c) = &e.component {
        out.push_str(&format!(" on {c}"));
    }
    if let Some(p) = &e.path {
        out.push_str(&format!(" at {p}"));
    }
    if let Some(v) = &e.vulnerability {
        out.push_str(&format!(" for {v}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(level: Level, id: &str, component: &str, path: Option<&str>) -> Finding {
        Finding {
            level,
            id: id.into(),
            msg: format!("{id} on {component}"),
            severity: None,
            component: Some(component.into()),
            path: path.map(Into::into),
            vulnerability: None,
            remediation: None,
            rule: "data.t.deny".into(),
        }
    }

    fn meta(id: &str, severity: Severity) -> (String, RuleMeta) {
        (
            id.into(),
            RuleMeta {
                id: id.into(),
                title: id.into(),
                description: String::new(),
                severity,
                aliases: Vec::new(),
                remediation: "fix it".into(),
                declared: "t.rego:1".into(),
            },
        )
    }

    fn exceptions(text: &str) -> Exceptions {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("e.yaml");
        std::fs::write(&file, text).unwrap();
        Exceptions::load(&file).unwrap()
    }

    fn decide(findings: Vec<Finding>, exceptions: &Exceptions, on: &str) -> Decision {
        Decision::new(Judged {
            subject: "x.yml",
            components: vec!["getty".into(), "sshd".into()],
            findings,
            rules: BTreeMap::from([meta("A", Severity::High), meta("B", Severity::Low)]),
            exceptions,
            basis: Basis {
                policy_sources: Vec::new(),
                policy_files: Vec::new(),
                policy_digest: String::new(),
                data_files: Vec::new(),
                exceptions_file: None,
                evaluated_on: Date::parse(on),
            },
        })
    }

    const EXCEPTIONS: &str = "exceptions:\n  - {id: A, component: getty, reason: console, owner: ops, expires: \
                              2030-01-01}\n  - {id: B, component: nothing, reason: old, owner: ops, expires: \
                              2031-01-01}\n";

    #[test]
    fn a_live_exception_accepts_and_an_unused_one_warns() {
        let x = exceptions(EXCEPTIONS);
        let d = decide(
            vec![
                finding(Level::Deny, "A", "getty", None),
                finding(Level::Warn, "B", "sshd", Some("etc/ssh")),
            ],
            &x,
            "2029-06-01",
        );
        assert_eq!(d.verdict, Verdict::Pass);
        assert_eq!(
            d.counts,
            Counts {
                passed: 2,
                denied: 0,
                warned: 2,
                excepted: 1
            }
        );
        let excepted = d.results.iter().find(|r| r.status == Status::Excepted).unwrap();
        assert_eq!(
            (excepted.severity, excepted.remediation.as_str()),
            (Severity::High, "fix it"),
            "metadata fills them"
        );
        assert_eq!(excepted.exception.as_ref().unwrap().reason, "console");
        assert!(
            d.results
                .iter()
                .any(|r| r.id == UNUSED && r.msg.contains("B on nothing"))
        );
    }

    #[test]
    fn an_expired_exception_denies_and_accepts_nothing() {
        let x = exceptions(EXCEPTIONS);
        let d = decide(vec![finding(Level::Deny, "A", "getty", None)], &x, "2030-01-01");
        assert_eq!(d.verdict, Verdict::Deny);
        let statuses: Vec<(&str, Status)> = d.results.iter().map(|r| (r.id.as_str(), r.status)).collect();
        assert!(statuses.contains(&("A", Status::Denied)), "{statuses:?}");
        assert!(statuses.contains(&(EXPIRED, Status::Denied)), "{statuses:?}");
        assert!(statuses.contains(&(UNUSED, Status::Warned)), "{statuses:?}");
    }

    #[test]
    fn no_date_means_no_exception_applies() {
        let x = exceptions(EXCEPTIONS);
        let d = decide(vec![finding(Level::Deny, "A", "getty", None)], &x, "");
        assert_eq!(d.verdict, Verdict::Deny);
    }

    #[test]
    fn every_rule_is_a_case_on_every_component() {
        let d = decide(
            vec![finding(Level::Deny, "C", "files", Some("etc/x"))],
            &Exceptions::default(),
            "2029-01-01",
        );
        let cases: Vec<(&str, &str, Status)> = d
            .cases()
            .iter()
            .map(|c| (c.rule.id.as_str(), c.component, c.status))
            .collect();
        assert_eq!(
            cases.len(),
            9,
            "rules A, B and C (named by a result) on getty, sshd and files: {cases:?}"
        );
        assert!(cases.contains(&("C", "files", Status::Denied)));
        assert_eq!(d.counts.passed, 8);
    }
}
