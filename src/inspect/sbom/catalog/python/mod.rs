//! Python distributions: `*.dist-info/METADATA` (+ `RECORD` for the files they own) and
//! `*.egg-info/PKG-INFO`, wherever they are installed.

use std::path::{Component, Path, PathBuf};

use super::{Cataloger, Input};
use crate::inspect::sbom::{Ecosystem, Files, Package, Problem, cpe};

pub struct Python;

impl Cataloger for Python {
    fn name(&self) -> &'static str {
        "python"
    }

    fn wanted(&self, path: &Path) -> bool {
        let parent = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (parent.ends_with(".dist-info") && (name == "METADATA" || name == "RECORD"))
            || (parent.ends_with(".egg-info") && name == "PKG-INFO")
    }

    fn catalog(&self, input: &Input, problems: &mut Vec<Problem>) -> Vec<Package> {
        catalog(&input.files, problems)
    }
}

/// PEP 503 normalisation, as purls for PyPI use it.
fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c == '_' || c == '.' {
            '-'
        } else {
            c.to_ascii_lowercase()
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

/// Header fields of a METADATA/PKG-INFO file (RFC 822 style, up to the first blank line).
fn headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if (line.starts_with(' ') || line.starts_with('\t')) && !out.is_empty() {
            let last = out.len() - 1;
            out[last].1.push(' ');
            out[last].1.push_str(line.trim());
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

fn catalog(files: &Files, problems: &mut Vec<Problem>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, bytes) in files.contents.iter() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name != "METADATA" && name != "PKG-INFO" {
            continue;
        }
        let file = path.display().to_string();
        let text = String::from_utf8_lossy(bytes);
        let h = headers(&text);
        let get = |k: &str| {
            h.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let (Some(dist), Some(version)) = (get("Name"), get("Version")) else {
            problems.push(Problem {
                file,
                line: 0,
                message: "no Name or Version header: skipped".into(),
            });
            continue;
        };
        let info_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let site = info_dir.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut owned = Vec::new();
        if let Some(record) = files.contents.get(&info_dir.join("RECORD")) {
            for (n, line) in String::from_utf8_lossy(record).lines().enumerate() {
                let entry = line.split(',').next().unwrap_or_default();
                if entry.is_empty() {
                    continue;
                }
                match inside(&site, Path::new(entry)) {
                    Some(p) => owned.push(p.display().to_string()),
                    None => problems.push(Problem {
                        file: info_dir.join("RECORD").display().to_string(),
                        line: n + 1,
                        message: format!("{entry:?} points outside the image root: ignored"),
                    }),
                }
            }
        }
        owned.sort();
        owned.dedup();
        let licenses = get("License-Expression")
            .or_else(|| get("License"))
            .filter(|l| !l.is_empty() && l != "UNKNOWN")
            .map(|l| vec![l])
            .unwrap_or_default();
        let depends = h
            .iter()
            .filter(|(k, v)| k.eq_ignore_ascii_case("Requires-Dist") && !v.contains("extra =="))
            .map(|(_, v)| {
                normalise(
                    v.split([' ', ';', '(', '<', '>', '=', '!', '~', '['])
                        .next()
                        .unwrap_or(v),
                )
            })
            .collect();
        let norm = normalise(&dist);
        packages.push(Package {
            ecosystem: Ecosystem::Python,
            purl: packageurl::PackageUrl::new("pypi", norm.clone())
                .and_then(|mut p| p.with_version(version.clone()).map(|p| p.to_string()))
                .unwrap_or_else(|_| format!("pkg:pypi/{norm}@{version}")),
            cpes: vec![cpe(&norm, &norm, &version)],
            name: dist,
            version,
            arch: None,
            source_name: None,
            source_version: None,
            supplier: get("Author")
                .or_else(|| get("Maintainer"))
                .or_else(|| get("Author-email")),
            licenses,
            depends,
            files: owned,
            found_in: file,
        });
    }
    packages
}

/// `site/entry` as a path inside the image, or `None` if `..` climbs out of it.
fn inside(site: &Path, entry: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in site.join(entry).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sbom::catalog::testdata;

    const SITE: &str = "usr/lib/python3.11/site-packages";

    /// A wheel's dist-info as pip installs it, and a Debian egg-info without a RECORD.
    #[test]
    fn real_metadata() {
        let info = format!("{SITE}/typing_inspect-0.9.0.dist-info");
        let (p, problems) = testdata::run(
            &Python,
            None,
            &[
                ("typing_inspect.METADATA", &*format!("{info}/METADATA")),
                ("typing_inspect.RECORD", &*format!("{info}/RECORD")),
                (
                    "python_apt.PKG-INFO",
                    "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info/PKG-INFO",
                ),
            ],
        );
        assert_eq!(problems, []);
        assert_eq!(p.len(), 2);
        // In path order, folder by folder: `python3` before `python3.11`.
        let (apt, t) = (&p[0], &p[1]);
        assert_eq!((t.name.as_str(), t.version.as_str()), ("typing-inspect", "0.9.0"));
        assert_eq!(t.purl, "pkg:pypi/typing-inspect@0.9.0");
        assert_eq!(t.licenses, ["MIT"]);
        assert_eq!(t.supplier.as_deref(), Some("Ivan Levkivskyi"));
        // The `python_version < "3.5"` marker is not evaluated: only extras are left out.
        assert_eq!(t.depends, ["mypy-extensions", "typing-extensions", "typing"]);
        let files: Vec<String> = [
            "__pycache__/typing_inspect.cpython-311.pyc",
            "typing_inspect-0.9.0.dist-info/INSTALLER",
            "typing_inspect-0.9.0.dist-info/LICENSE",
            "typing_inspect-0.9.0.dist-info/METADATA",
            "typing_inspect-0.9.0.dist-info/RECORD",
            "typing_inspect-0.9.0.dist-info/WHEEL",
            "typing_inspect-0.9.0.dist-info/top_level.txt",
            "typing_inspect.py",
        ]
        .iter()
        .map(|f| format!("{SITE}/{f}"))
        .collect();
        assert_eq!(t.files, files);
        assert_eq!(t.found_in, format!("{info}/METADATA"));
        assert_eq!((apt.name.as_str(), apt.version.as_str()), ("python-apt", "2.6.0"));
        assert_eq!(apt.purl, "pkg:pypi/python-apt@2.6.0");
        assert_eq!(apt.licenses, ["GNU GPL"]);
        assert_eq!(apt.supplier.as_deref(), Some("APT Development Team"));
        assert!(apt.files.is_empty() && apt.depends.is_empty());
    }

    /// A METADATA without a name is skipped; RECORD entries outside the root are dropped, each
    /// with its line, and those inside kept.
    #[test]
    fn corrupt_metadata() {
        let info = format!("{SITE}/hostile-1.0.dist-info");
        let (p, problems) = testdata::run(
            &Python,
            None,
            &[
                ("hostile.METADATA", &*format!("{info}/METADATA")),
                ("hostile.RECORD", &*format!("{info}/RECORD")),
                ("no-name.METADATA", &*format!("{SITE}/no_name-1.0.dist-info/METADATA")),
            ],
        );
        assert_eq!(
            testdata::lines(&problems),
            [
                "3: \"../../../../../etc/shadow\" points outside the image root: ignored",
                "4: \"/etc/passwd\" points outside the image root: ignored",
                "0: no Name or Version header: skipped",
            ]
        );
        assert_eq!(problems[0].file, format!("{info}/RECORD"));
        assert_eq!(problems[2].file, format!("{SITE}/no_name-1.0.dist-info/METADATA"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].files, ["usr/bin/hostile", &format!("{SITE}/hostile.py")]);
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(normalise("Foo_Bar.baz"), "foo-bar-baz");
        let site = Path::new("usr/lib/python3/dist-packages");
        assert_eq!(
            inside(site, Path::new("../../../bin/tool")),
            Some(PathBuf::from("usr/bin/tool"))
        );
        assert_eq!(inside(site, Path::new("../../../../../etc/shadow")), None);
    }
}
