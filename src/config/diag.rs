//! Errors and warnings about a configuration, each pinned to a file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

crate::error_codes! {
    Unreadable = "unreadable-config": "The configuration file cannot be read, is too large or is not UTF-8 text.",
    YamlSyntax = "yaml-syntax": "The text is not valid YAML, or nests or repeats beyond the parser's budget.",
    UnknownField = "unknown-field": "A key LinuxKit's schema does not have (often a misspelling).",
    DuplicateKey = "duplicate-key": "A mapping names one key twice.",
    WrongType = "wrong-type": "A value has the wrong YAML type (a number where a string goes, a list where a mapping goes).",
    MissingField = "missing-field": "A required field is absent.",
    BadValue = "bad-value": "A value has the right type but cannot be used (a malformed bind, mode, capability, path…).",
    DuplicateName = "duplicate-name": "Two services or volumes share a name.",
    DanglingName = "dangling-name": "A uid, gid or volume refers to a container or volume that does not exist, or to several.",
    Template = "template": "An @pkg: template cannot be resolved.",
    TrustIgnored = "trust-ignored": "The deprecated `trust` block is present; LinuxKit and sealkit ignore it.",
}

/// One finding about a configuration: what is wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub code: Code,
    pub file: PathBuf,
    /// 1-based; 0 when the finding concerns the file as a whole.
    pub line: u64,
    pub column: u64,
    /// Where in the document, e.g. `services[2].binds[0]`.
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &Path, at: Location, field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code: Code::BadValue,
            file: file.to_path_buf(),
            line: at.line(),
            column: at.column(),
            field: field.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Where it points, when at a line (not the file as a whole).
    pub fn place(&self) -> Option<Place> {
        (self.line > 0).then(|| Place {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
        })
    }
}

/// A point in a YAML file an error is about, for people to be shown the line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
}

impl Place {
    pub fn new(file: &Path, at: Location) -> Self {
        Place {
            file: file.to_path_buf(),
            line: at.line(),
            column: at.column(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": {}: {}", self.field, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}", render(.0))]
    Invalid(Vec<Diagnostic>),
}

impl ConfigError {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Invalid(d) => d,
            ConfigError::Read { .. } => &[],
        }
    }
}

fn render(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    out
}

/// Collects findings while a document is checked, so one run reports every problem.
#[derive(Debug, Default)]
pub struct Findings {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Findings {
    pub fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    pub fn warn(&mut self, d: Diagnostic) {
        self.warnings.push(d);
    }

    pub fn into_result(mut self) -> Result<Vec<Diagnostic>, ConfigError> {
        if self.errors.is_empty() {
            self.warnings.sort();
            Ok(self.warnings)
        } else {
            self.errors.sort();
            self.errors.dedup();
            Err(ConfigError::Invalid(self.errors))
        }
    }
}
