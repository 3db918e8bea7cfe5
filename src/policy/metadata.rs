//! Rule metadata from OPA's `# METADATA` annotations: a comment block starting with the line
//! `# METADATA`, whose text (each line less its `# `) is YAML. sealkit reads `title`,
//! `description` and, under `custom`, the rule's `id`, `severity`, `aliases` (the upstream ids
//! it corresponds to) and `remediation`; SARIF's rule descriptions come from them. regorus does
//! not read annotations (`rego.metadata` is not among its builtins), so they are read here from
//! the text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Code, PolicyError, PolicyFile, Result};

/// How bad a result is, in trivy's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Info => "INFO",
        }
    }

    /// Any case: `high`, `HIGH`.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule is, for people and for SARIF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    /// The default severity of its results.
    pub severity: Severity,
    /// The well-known ids it corresponds to (trivy's KSV-…, dockle's CIS-DI-…, trivy's secret
    /// rule ids).
    pub aliases: Vec<String>,
    pub remediation: String,
    /// Where it is declared: `baseline/privileges.rego:7`.
    pub declared: String,
}

#[derive(Deserialize)]
struct Annotation {
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    custom: Option<Custom>,
}

#[derive(Deserialize)]
struct Custom {
    id: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    remediation: Option<String>,
}

/// The metadata of every rule the files declare, by id. An annotation without `custom.id` is
/// not about a sealkit rule and is left alone; one id declared twice is an error.
pub fn rules(files: &[PolicyFile]) -> Result<BTreeMap<String, RuleMeta>> {
    let mut out: BTreeMap<String, RuleMeta> = BTreeMap::new();
    for file in files.iter().filter(|f| f.is_rego()) {
        for (line, yaml) in annotations(&file.text) {
            let declared = format!("{}:{line}", file.name);
            let bad = |why: String| {
                PolicyError::new(
                    Code::BadMetadata,
                    format!("{declared}: METADATA: {why}"),
                    "the lines after `# METADATA` are YAML, each behind `# `; custom.id names the rule",
                )
            };
            let annotation: Annotation = serde_saphyr::from_str(&yaml).map_err(|e| bad(e.to_string()))?;
            let Some(custom) = annotation.custom else {
                continue;
            };
            let Some(id) = custom.id else {
                continue;
            };
            let severity = match &custom.severity {
                None => Severity::Medium,
                Some(text) => Severity::parse(text)
                    .ok_or_else(|| bad(format!("severity {text:?} is not CRITICAL, HIGH, MEDIUM, LOW or INFO")))?,
            };
            let meta = RuleMeta {
                title: annotation.title.unwrap_or_else(|| id.clone()),
                description: annotation.description.unwrap_or_default().trim().to_owned(),
                severity,
                aliases: custom.aliases,
                remediation: custom.remediation.unwrap_or_default().trim().to_owned(),
                declared: declared.clone(),
                id: id.clone(),
            };
            if let Some(first) = out.get(&id) {
                return Err(bad(format!("rule {id} is already declared at {}", first.declared)));
            }
            out.insert(id, meta);
        }
    }
    Ok(out)
}

/// Each `# METADATA` block: the line it starts on (1-based) and its YAML.
fn annotations(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        if line.trim() != "# METADATA" {
            continue;
        }
        let mut yaml = String::new();
        while let Some((_, next)) = lines.peek() {
            let Some(rest) = next.trim_start().strip_prefix('#') else {
                break;
            };
            yaml.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            yaml.push('\n');
            lines.next();
        }
        out.push((i + 1, yaml));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Vec<PolicyFile> {
        vec![PolicyFile {
            name: "p.rego".into(),
            text: text.into(),
        }]
    }

    #[test]
    fn an_annotation_names_the_rule_it_describes() {
        let rules = rules(&file(
            "package p\n\n# METADATA\n# title: No root\n# description: >-\n#   Root is\n#   bad.\n# custom:\n#   id: \
             X-1\n#   severity: high\n#   aliases: [KSV-0012]\ndeny contains r if { r := 1 }\n# METADATA\n# title: \
             not ours\ndeny contains 2 if true\n",
        ))
        .unwrap();
        assert_eq!(rules.len(), 1);
        let x = &rules["X-1"];
        assert_eq!(
            (
                x.title.as_str(),
                x.description.as_str(),
                x.severity,
                x.declared.as_str()
            ),
            ("No root", "Root is bad.", Severity::High, "p.rego:3")
        );
        assert_eq!(x.aliases, ["KSV-0012"]);
    }

    #[test]
    fn bad_annotations_are_refused() {
        let twice = "# METADATA\n# custom: {id: A}\nx := 1\n# METADATA\n# custom: {id: A}\ny := 1\n";
        let e = rules(&file(twice)).unwrap_err();
        assert!(e.message.contains("p.rego:4") && e.message.contains("p.rego:1"), "{e}");
        let e = rules(&file("# METADATA\n# custom: {id: A, severity: dire}\n")).unwrap_err();
        assert!(e.message.contains("\"dire\""), "{e}");
        let e = rules(&file("# METADATA\n# title: [unclosed\n")).unwrap_err();
        assert_eq!(e.code, "rule-metadata");
    }
}
