//! The distribution, from `/etc/os-release` (or `/usr/lib/os-release`): used for purl `distro`
//! qualifiers and namespaces. Not a cataloger: it finds no package, and the OS catalogers need
//! its answer before they run, so it is read first and handed to them (`catalog::Input`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Problem;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Distro {
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
}

impl Distro {
    /// The purl `distro` qualifier: `debian-12`.
    pub fn qualifier(&self) -> String {
        if self.version_id.is_empty() {
            self.id.clone()
        } else {
            format!("{}-{}", self.id, self.version_id)
        }
    }
}

const PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

pub fn wanted(path: &Path) -> bool {
    PATHS.iter().any(|p| path == Path::new(p))
}

pub fn read(files: &BTreeMap<PathBuf, Vec<u8>>, problems: &mut Vec<Problem>) -> Option<Distro> {
    let (path, bytes) = PATHS.iter().find_map(|p| files.get(Path::new(p)).map(|b| (*p, b)))?;
    let text = String::from_utf8_lossy(bytes);
    let mut fields = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => {
                fields.insert(k.to_owned(), v.trim_matches(|c| c == '"' || c == '\'').to_owned());
            }
            None => problems.push(Problem {
                file: path.into(),
                line: n + 1,
                message: format!("not KEY=VALUE: {line:?}"),
            }),
        }
    }
    let id = fields.remove("ID")?;
    Some(Distro {
        id,
        version_id: fields.remove("VERSION_ID").unwrap_or_default(),
        pretty_name: fields.remove("PRETTY_NAME").unwrap_or_default(),
    })
}
