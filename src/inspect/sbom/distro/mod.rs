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
    /// Reads a purl `distro` qualifier (`debian-12`, `alpine-3.20`), the form a user names a
    /// distribution in (`--distro`).
    pub fn from_qualifier(text: &str) -> Option<Distro> {
        let (id, version) = text.split_once('-')?;
        (!id.is_empty() && !version.is_empty()).then(|| Distro {
            id: id.to_owned(),
            version_id: version.to_owned(),
            pretty_name: String::new(),
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/inspect/sbom/distro/testdata")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Debian's own file, found at the fallback path: quotes are taken off the values.
    #[test]
    fn a_real_os_release() {
        let files: BTreeMap<PathBuf, Vec<u8>> = [(PathBuf::from(PATHS[1]), sample("debian-12.os-release"))].into();
        assert!(PATHS.iter().all(|p| wanted(Path::new(p))));
        let mut problems = Vec::new();
        let d = read(&files, &mut problems).unwrap();
        assert_eq!(problems, []);
        assert_eq!(
            d,
            Distro {
                id: "debian".into(),
                version_id: "12".into(),
                pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
            }
        );
        assert_eq!(d.qualifier(), "debian-12");
    }

    /// Without an ID there is no distribution to name; the broken line is a problem of its own.
    #[test]
    fn an_os_release_without_id() {
        let files: BTreeMap<PathBuf, Vec<u8>> = [(PathBuf::from(PATHS[0]), sample("no-id.os-release"))].into();
        let mut problems = Vec::new();
        assert_eq!(read(&files, &mut problems), None);
        assert_eq!(
            problems,
            [Problem {
                file: PATHS[0].into(),
                line: 3,
                message: "not KEY=VALUE: \"this line has no equals sign\"".into(),
            }]
        );
    }
}
