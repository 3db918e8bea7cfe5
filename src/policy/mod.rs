//! The policy stage: Rego rules (regorus, Rego v1, conftest's conventions) judge the evidence
//! document; exceptions with an owner and an expiry turn a denial into an accepted risk; the
//! decision says pass or deny and carries every result. docs/policies.md describes the rules,
//! the exceptions file and the limits.
//!
//! Policy code is untrusted input: it is evaluated in a child process with bounded time and
//! memory (`sandbox`), and every way evaluation can fail is an error, never a pass.

pub mod baseline;
pub mod decision;
pub mod engine;
pub mod exceptions;
pub mod judge;
pub mod metadata;
pub mod sandbox;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

crate::error_codes! {
    PolicyRead = "policy-read": "A policy folder or file cannot be read, or holds no policy at all.",
    RegoSyntax = "rego-syntax": "A policy file is not valid Rego v1 (file:line:col says where).",
    BadMetadata = "rule-metadata": "A rule's METADATA annotation is not the YAML sealkit reads, or two rules declare one id.",
    BadData = "bad-data": "A data file (--data, or .json beside the policies) is not a JSON or YAML object, or clashes with another.",
    BadResult = "bad-result": "A deny or warn rule produced something other than a result object with an id and a message.",
    EvaluationFailed = "evaluation-failed": "A policy failed while it was evaluated (a builtin's error, conflicting values, a crash of the evaluator).",
    TimeLimit = "time-limit": "Evaluating the policy took longer than its time limit: it was stopped.",
    MemoryLimit = "memory-limit": "Evaluating the policy needed more memory than its limit: it was stopped.",
    BadExceptions = "bad-exceptions": "The exceptions file cannot be read, has an unknown field, a missing one, or a bad date or glob.",
    NoEvaluationDate = "no-evaluation-date": "Exceptions need an evaluation date, and neither --now nor SOURCE_DATE_EPOCH gives one (or --now is not YYYY-MM-DD).",
    EmptyPolicy = "empty-policy": "The policy set defines no deny or warn rule, so it could not deny anything (the gate passes on it only with --allow-empty-policy).",
}

/// Why the policy stage could not judge: the evidence was neither passed nor denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}\n  hint: {hint}")]
pub struct PolicyError {
    pub code: String,
    pub message: String,
    pub hint: String,
    /// The line of a file it is about (an exception's field), for people to be shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<crate::config::Place>,
}

impl PolicyError {
    pub fn new(code: Code, message: impl Into<String>, hint: impl Into<String>) -> Self {
        PolicyError {
            code: code.as_str().to_owned(),
            message: message.into(),
            hint: hint.into(),
            place: None,
        }
    }

    pub fn at(mut self, place: Option<crate::config::Place>) -> Self {
        self.place = place;
        self
    }
}

pub type Result<T> = std::result::Result<T, PolicyError>;

/// One file of a policy set: Rego, or data mounted at a path under `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFile {
    /// `baseline/privileges.rego` for the built-in baseline; the path as found for the others.
    pub name: String,
    pub text: String,
}

impl PolicyFile {
    pub fn is_rego(&self) -> bool {
        self.name.ends_with(".rego")
    }

    /// Where a `.json` file beside the policies is mounted, as OPA bundles do: its folders
    /// below the policy folder, then its name without `.json`, `-` read as `_`
    /// (`kernel-config.json` → `data.kernel_config`).
    fn mount(&self, root: &str) -> Vec<String> {
        let relative = self.name.strip_prefix(root).unwrap_or(&self.name);
        let relative = relative.trim_start_matches('/').trim_end_matches(".json");
        relative.split('/').map(|part| part.replace('-', "_")).collect()
    }
}

/// Files only `sealkit policy test` reads: Rego unit tests and their data.
fn test_only(relative: &str) -> bool {
    relative.ends_with("_test.rego") || relative.split('/').any(|part| part == "testdata")
}

/// The policies evaluated together: the built-in baseline (unless left out) and the files of
/// each `--policy` folder, with the data files found beside them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicySet {
    pub files: Vec<PolicyFile>,
    /// Data documents, already placed under `data` (each one merged at the root).
    pub data: Vec<serde_json::Value>,
}

/// Which files of a policy folder a command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `check`: the rules and their data, not the tests.
    Check,
    /// `policy test`: everything.
    Test,
}

impl PolicySet {
    /// The baseline (when `baseline`) and every `.rego` and `.json` file under each folder of
    /// `dirs`, in name order; refused when that is not one `.rego` file.
    pub fn load(baseline: bool, dirs: &[PathBuf], purpose: Purpose) -> Result<Self> {
        let set = Self::load_any(baseline, dirs, purpose)?;
        if !set.files.iter().any(PolicyFile::is_rego) {
            return Err(PolicyError::new(
                Code::PolicyRead,
                "no policy: there is not one .rego file to evaluate",
                "leave --no-baseline out, or name a folder of .rego files with --policy",
            ));
        }
        Ok(set)
    }

    /// As [`PolicySet::load`], accepting a set with no `.rego` file (it can only pass: the
    /// gate's `--allow-empty-policy`).
    pub fn load_any(baseline: bool, dirs: &[PathBuf], purpose: Purpose) -> Result<Self> {
        let mut set = PolicySet {
            files: Vec::new(),
            data: Vec::new(),
        };
        if baseline {
            for (name, text) in baseline::FILES {
                set.add(
                    format!("{}{name}", baseline::PREFIX),
                    (*text).to_owned(),
                    baseline::PREFIX,
                )?;
            }
        }
        for dir in dirs {
            let root = dir.display().to_string();
            let mut found = Vec::new();
            walk(dir, &mut found)?;
            found.sort();
            for path in found {
                let name = path.display().to_string();
                let relative = name.strip_prefix(&root).unwrap_or(&name).trim_start_matches('/');
                if purpose == Purpose::Check && test_only(relative) {
                    continue;
                }
                let text = read_text(&path)?;
                set.add(name, text, &root)?;
            }
        }
        Ok(set)
    }

    fn add(&mut self, name: String, text: String, root: &str) -> Result<()> {
        let file = PolicyFile { name, text };
        if !file.is_rego() {
            let value = parse_data(&file.text, Path::new(&file.name))?;
            let mut mounted = value;
            for part in file.mount(root).into_iter().rev() {
                mounted = serde_json::Value::Object(serde_json::Map::from_iter([(part, mounted)]));
            }
            self.data.push(mounted);
        }
        self.files.push(file);
        Ok(())
    }

    /// Adds a `--data` file: JSON or YAML, merged at the root of `data` as OPA does.
    pub fn add_data_file(&mut self, path: &Path) -> Result<DataFile> {
        let text = read_text(path)?;
        let value = parse_data(&text, path)?;
        self.data.push(value);
        Ok(DataFile {
            path: path.display().to_string(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        })
    }

    /// The SHA-256 of the whole set, over its files sorted by name: for each, the name, a NUL,
    /// the length of the text in decimal, a NUL, then the text. Any change to any file, or a
    /// file more or less, changes it.
    pub fn digest(&self) -> String {
        let mut files: Vec<&PolicyFile> = self.files.iter().collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let mut hasher = Sha256::new();
        for f in files {
            hasher.update(f.name.as_bytes());
            hasher.update([0]);
            hasher.update(f.text.len().to_string().as_bytes());
            hasher.update([0]);
            hasher.update(f.text.as_bytes());
        }
        format!("sha256:{}", hex::encode(hasher.finalize()))
    }

    /// Every file with its own SHA-256, in name order: what the report lists.
    pub fn listing(&self) -> Vec<DataFile> {
        let mut out: Vec<DataFile> = self
            .files
            .iter()
            .map(|f| DataFile {
                path: f.name.clone(),
                sha256: hex::encode(Sha256::digest(f.text.as_bytes())),
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

/// A file the decision rests on, with its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataFile {
    pub path: String,
    pub sha256: String,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let unreadable = |e: std::io::Error| {
        PolicyError::new(
            Code::PolicyRead,
            format!("{}: {e}", dir.display()),
            "--policy names a folder of .rego files",
        )
    };
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rego" || e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Policy and data files are text, and small: a bound keeps a stray large file from filling
/// memory before evaluation starts.
const MAX_FILE: u64 = 16 << 20;

fn read_text(path: &Path) -> Result<String> {
    let unreadable = |why: String| {
        PolicyError::new(
            Code::PolicyRead,
            format!("{}: {why}", path.display()),
            "policy and data files are UTF-8 text of at most 16 MiB",
        )
    };
    let size = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?.len();
    if size > MAX_FILE {
        return Err(unreadable(format!("{size} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))
}

/// A data document: a JSON object, or (for `.yaml`/`.yml` files) a YAML mapping.
fn parse_data(text: &str, path: &Path) -> Result<serde_json::Value> {
    let bad = |why: String| {
        PolicyError::new(
            Code::BadData,
            format!("{}: {why}", path.display()),
            "a data file holds one JSON object (or YAML mapping) whose keys become data.KEY",
        )
    };
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let value: serde_json::Value = if yaml {
        crate::config::parse_yaml(text, path, crate::config::Typing::GoStruct).map_err(|e| bad(e.to_string()))?
    } else {
        serde_json::from_str(text).map_err(|e| bad(format!("line {}, column {}: {e}", e.line(), e.column())))?
    };
    if !value.is_object() {
        return Err(bad("not an object".into()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_beside_policies_is_mounted_by_its_path() {
        let file = PolicyFile {
            name: "p/testdata/kernel-config.json".into(),
            text: String::new(),
        };
        assert_eq!(file.mount("p"), ["testdata", "kernel_config"]);
    }

    #[test]
    fn the_digest_covers_names_and_contents() {
        let set = |files: &[(&str, &str)]| PolicySet {
            files: files
                .iter()
                .map(|(n, t)| PolicyFile {
                    name: (*n).into(),
                    text: (*t).into(),
                })
                .collect(),
            data: Vec::new(),
        };
        let base = set(&[("a.rego", "x"), ("b.rego", "y")]).digest();
        assert_eq!(
            base,
            set(&[("b.rego", "y"), ("a.rego", "x")]).digest(),
            "order of loading"
        );
        assert_ne!(
            base,
            set(&[("a.rego", "x"), ("c.rego", "y")]).digest(),
            "a renamed file"
        );
        assert_ne!(
            base,
            set(&[("a.rego", "xy"), ("b.rego", "")]).digest(),
            "text moved across files"
        );
        assert_ne!(base, set(&[("a.rego", "x")]).digest(), "a file less");
    }
}
