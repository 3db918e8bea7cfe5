//! Debian packages: `/var/lib/dpkg/status` and `status.d/` (distroless), file ownership from
//! `info/PKG.list` or `info/PKG:ARCH.list`, licenses from machine-readable
//! `/usr/share/doc/PKG/copyright`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Cataloger, Input};
use crate::inspect::sbom::{Distro, Ecosystem, Files, Package, Problem, cpe};

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d";
const INFO: &str = "var/lib/dpkg/info";
const DOC: &str = "usr/share/doc";

/// One stanza: field → value (continuation lines joined with '\n'), and where it starts.
pub struct Stanza {
    pub line: usize,
    pub fields: BTreeMap<String, String>,
}

/// Parses a deb822 file, recording (and skipping) lines that are not fields.
pub fn parse_stanzas(text: &str, file: &str, problems: &mut Vec<Problem>) -> Vec<Stanza> {
    let mut stanzas = Vec::new();
    let mut current: Option<Stanza> = None;
    let mut last_key: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            stanzas.extend(current.take());
            last_key = None;
            continue;
        }
        let stanza = current.get_or_insert_with(|| Stanza {
            line: n + 1,
            fields: BTreeMap::new(),
        });
        if line.starts_with(' ') || line.starts_with('\t') {
            match last_key.as_ref().and_then(|k| stanza.fields.get_mut(k)) {
                Some(value) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => problems.push(Problem {
                    file: file.into(),
                    line: n + 1,
                    message: "continuation line without a field".into(),
                }),
            }
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') => {
                stanza.fields.insert(key.to_owned(), value.trim().to_owned());
                last_key = Some(key.to_owned());
            }
            _ => problems.push(Problem {
                file: file.into(),
                line: n + 1,
                message: format!("not a field: {:?}", truncate(line)),
            }),
        }
    }
    stanzas.extend(current);
    stanzas
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// `glibc (2.36-9)` → (`glibc`, Some(`2.36-9`)).
fn parse_source(source: &str) -> (String, Option<String>) {
    match source.split_once('(') {
        Some((name, version)) => (
            name.trim().to_owned(),
            Some(version.trim_end_matches(')').trim().to_owned()),
        ),
        None => (source.trim().to_owned(), None),
    }
}

/// The first alternative of each dependency, without version or architecture qualifier.
fn parse_depends(fields: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for key in ["Pre-Depends", "Depends"] {
        for dep in fields.get(key).map(String::as_str).unwrap_or_default().split(',') {
            let first = dep.split('|').next().unwrap_or_default();
            let name = first.split(['(', '[', '<']).next().unwrap_or_default().trim();
            let name = name.split(':').next().unwrap_or_default();
            if !name.is_empty() {
                out.insert(name.to_owned());
            }
        }
    }
    out.into_iter().collect()
}

/// License names from a machine-readable copyright file (`License:` lines), as written.
fn licenses_of(copyright: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(copyright);
    if !text.starts_with("Format:") {
        return Vec::new();
    }
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("License:") {
            let value = value.trim();
            if !value.is_empty() {
                out.insert(value.to_owned());
            }
        }
    }
    out.into_iter().collect()
}

pub fn purl(
    name: &str,
    version: &str,
    arch: Option<&str>,
    source: Option<(&str, Option<&str>)>,
    distro: Option<&Distro>,
) -> String {
    let namespace = distro.map_or("debian", |d| d.id.as_str());
    let build = || -> Result<String, packageurl::Error> {
        let mut p = packageurl::PackageUrl::new("deb", name)?;
        p.with_namespace(namespace)?.with_version(version)?;
        if let Some(arch) = arch {
            p.add_qualifier("arch", arch)?;
        }
        if let Some((src, src_version)) = source {
            let upstream = match src_version {
                Some(v) if v != version => format!("{src}@{v}"),
                _ => src.to_owned(),
            };
            p.add_qualifier("upstream", upstream)?;
        }
        if let Some(d) = distro {
            p.add_qualifier("distro", d.qualifier())?;
        }
        Ok(p.to_string())
    };
    build().unwrap_or_else(|_| format!("pkg:deb/{namespace}/{name}@{version}"))
}

pub struct Dpkg;

impl Cataloger for Dpkg {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn wanted(&self, path: &Path) -> bool {
        path == Path::new(STATUS)
            || path.parent() == Some(Path::new(STATUS_D))
            || (path.parent() == Some(Path::new(INFO)) && path.extension().is_some_and(|e| e == "list"))
            || (path.starts_with(DOC)
                && path.file_name().is_some_and(|n| n == "copyright")
                && path.components().count() == 5)
    }

    fn catalog(&self, input: &Input, problems: &mut Vec<Problem>) -> Vec<Package> {
        catalog(&input.files, input.distro, problems)
    }
}

fn catalog(files: &Files, distro: Option<&Distro>, problems: &mut Vec<Problem>) -> Vec<Package> {
    let mut sources: Vec<(&PathBuf, &Vec<u8>)> = files
        .contents
        .iter()
        .filter(|(p, _)| p.as_path() == Path::new(STATUS) || p.parent() == Some(Path::new(STATUS_D)))
        .collect();
    sources.sort_by(|a, b| a.0.cmp(b.0));
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut packages = Vec::new();
    for (path, bytes) in sources {
        let file = path.display().to_string();
        if std::str::from_utf8(bytes).is_err() {
            problems.push(Problem {
                file: file.clone(),
                line: 0,
                message: "not UTF-8: invalid bytes were replaced".into(),
            });
        }
        let text = String::from_utf8_lossy(bytes);
        for stanza in parse_stanzas(&text, &file, problems) {
            let f = &stanza.fields;
            let (Some(name), Some(version)) = (f.get("Package"), f.get("Version")) else {
                problems.push(Problem {
                    file: file.clone(),
                    line: stanza.line,
                    message: "stanza without Package or Version: skipped".into(),
                });
                continue;
            };
            // status.d entries carry no Status field: they are installed by construction.
            if let Some(status) = f.get("Status")
                && status.split_whitespace().nth(2) != Some("installed")
            {
                continue;
            }
            let arch = f.get("Architecture").cloned();
            let key = (name.clone(), arch.clone().unwrap_or_default());
            if let Some(first) = seen.insert(key, format!("{file}:{}", stanza.line)) {
                problems.push(Problem {
                    file: file.clone(),
                    line: stanza.line,
                    message: format!("package {name} is listed again (first at {first}): both kept"),
                });
            }
            let (source_name, source_version) = match f.get("Source") {
                Some(s) => {
                    let (n, v) = parse_source(s);
                    (Some(n), Some(v.unwrap_or_else(|| version.clone())))
                }
                None => (None, None),
            };
            let source = source_name
                .as_deref()
                .filter(|s| s != name)
                .map(|s| (s, source_version.as_deref()));
            let owned = owned_files(files, name, arch.as_deref());
            let copyright = files.get(&PathBuf::from(DOC).join(name).join("copyright"));
            packages.push(Package {
                ecosystem: Ecosystem::Deb,
                purl: purl(name, version, arch.as_deref(), source, distro),
                cpes: vec![cpe(name, name, version)],
                name: name.clone(),
                version: version.clone(),
                arch,
                source_name: source_name.clone().or_else(|| Some(name.clone())),
                source_version: source_version.clone().or_else(|| Some(version.clone())),
                supplier: f.get("Maintainer").cloned(),
                licenses: copyright.map(|c| licenses_of(c)).unwrap_or_default(),
                depends: parse_depends(f),
                files: owned,
                found_in: file.clone(),
            });
        }
    }
    packages
}

/// The paths `info/NAME.list` or `info/NAME:ARCH.list` names, folders too (the writers keep
/// those that are files of the image).
fn owned_files(files: &Files, name: &str, arch: Option<&str>) -> Vec<String> {
    let candidates = [Some(format!("{name}.list")), arch.map(|a| format!("{name}:{a}.list"))];
    let Some(list) = candidates
        .iter()
        .flatten()
        .find_map(|c| files.get(&PathBuf::from(INFO).join(c)))
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = String::from_utf8_lossy(list)
        .lines()
        .map(|l| l.trim().trim_start_matches('/').to_owned())
        .filter(|l| !l.is_empty() && l != ".")
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sbom::catalog::testdata;

    /// Two packages of a real Debian 12 status file, one with its file list, both with their
    /// machine-readable copyright files; the expected values are what dpkg-query says of them.
    #[test]
    fn a_real_status_database() {
        let debian = testdata::distro("debian", "12");
        let (p, problems) = testdata::run(
            &Dpkg,
            Some(&debian),
            &[
                ("status", STATUS),
                ("libcap-ng0:amd64.list", "var/lib/dpkg/info/libcap-ng0:amd64.list"),
                ("libcap-ng0.copyright", "usr/share/doc/libcap-ng0/copyright"),
                ("zlib1g.copyright", "usr/share/doc/zlib1g/copyright"),
            ],
        );
        assert_eq!(problems, []);
        assert_eq!(p.len(), 2);
        let cap = &p[0];
        // `Source: libcap-ng (0.8.3-1)`: a binNMU (+b3) of an older source version.
        assert_eq!(
            testdata::identity(cap),
            (
                "libcap-ng0",
                "0.8.3-1+b3",
                Some("amd64"),
                Some("libcap-ng"),
                Some("0.8.3-1"),
                "pkg:deb/debian/libcap-ng0@0.8.3-1%2Bb3?arch=amd64&distro=debian-12&upstream=libcap-ng%400.8.3-1"
            )
        );
        assert_eq!(cap.cpes, ["cpe:2.3:a:libcap-ng0:libcap-ng0:0.8.3-1\\+b3:*:*:*:*:*:*:*"]);
        assert_eq!(
            cap.supplier.as_deref(),
            Some("Håvard F. Aasen <havard.f.aasen@pfft.no>")
        );
        assert_eq!(cap.licenses, ["GPL-2+", "GPL-3", "LGPL-2.1+"]);
        assert_eq!(cap.depends, ["libc6"]);
        assert_eq!(
            cap.files,
            [
                "lib",
                "lib/x86_64-linux-gnu",
                "lib/x86_64-linux-gnu/libcap-ng.so.0",
                "lib/x86_64-linux-gnu/libcap-ng.so.0.0.0",
                "lib/x86_64-linux-gnu/libdrop_ambient.so.0",
                "lib/x86_64-linux-gnu/libdrop_ambient.so.0.0.0",
                "usr",
                "usr/share",
                "usr/share/doc",
                "usr/share/doc/libcap-ng0",
                "usr/share/doc/libcap-ng0/changelog.Debian.amd64.gz",
                "usr/share/doc/libcap-ng0/changelog.Debian.gz",
                "usr/share/doc/libcap-ng0/changelog.gz",
                "usr/share/doc/libcap-ng0/copyright",
            ]
        );
        assert_eq!(cap.found_in, STATUS);
        let z = &p[1];
        // `Source: zlib` without a version: the source version is the package's.
        assert_eq!(
            testdata::identity(z),
            (
                "zlib1g",
                "1:1.2.13.dfsg-1",
                Some("amd64"),
                Some("zlib"),
                Some("1:1.2.13.dfsg-1"),
                "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"
            )
        );
        assert_eq!(z.licenses, ["Zlib"]);
        assert_eq!(z.depends, ["libc6"]);
        assert!(z.files.is_empty(), "no info/zlib1g*.list in the input");
    }

    /// Every kind of damage is a problem with its line, and the readable stanzas are kept.
    #[test]
    fn a_corrupt_status_database() {
        let (p, problems) = testdata::run(&Dpkg, None, &[("status-corrupt", STATUS)]);
        assert_eq!(
            testdata::lines(&problems),
            [
                "0: not UTF-8: invalid bytes were replaced",
                "1: continuation line without a field",
                "11: stanza without Package or Version: skipped",
                "14: not a field: \"garbage line without a colon\"",
                "14: package libcap-ng0 is listed again (first at var/lib/dpkg/status:1): both kept",
            ]
        );
        let names: Vec<_> = p.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        assert_eq!(names, [("libcap-ng0", "0.8.3-1+b3"), ("libcap-ng0", "0.8.3-1+b3")]);
        assert_eq!(p[1].supplier.as_deref(), Some("J\u{fffd}r\u{fffd}me"));
        // Without os-release the namespace is Debian's and no distro qualifier is claimed.
        assert_eq!(p[0].purl, "pkg:deb/debian/libcap-ng0@0.8.3-1%2Bb3?arch=amd64");
    }

    #[test]
    fn stanzas_with_continuations_and_garbage() {
        let mut problems = Vec::new();
        let stanzas = parse_stanzas(
            "Package: a\nVersion: 1\nDescription: x\n more\n\ngarbage line\nPackage: b\n\n continuation\n",
            "status",
            &mut problems,
        );
        assert_eq!(stanzas.len(), 3);
        assert_eq!(stanzas[0].fields["Description"], "x\nmore");
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].line, 6);
    }

    #[test]
    fn purls_follow_syft() {
        let d = Distro {
            id: "debian".into(),
            version_id: "12".into(),
            pretty_name: String::new(),
        };
        assert_eq!(
            purl(
                "libc6",
                "2.36-9+deb12u14",
                Some("amd64"),
                Some(("glibc", None)),
                Some(&d)
            ),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc"
        );
        assert_eq!(
            purl(
                "openssh-server",
                "1:9.2p1-2",
                Some("amd64"),
                Some(("openssh", Some("1:9.2p1-1"))),
                None
            ),
            "pkg:deb/debian/openssh-server@1:9.2p1-2?arch=amd64&upstream=openssh%401:9.2p1-1"
        );
    }

    #[test]
    fn sources_and_depends() {
        assert_eq!(parse_source("glibc (2.36-9)"), ("glibc".into(), Some("2.36-9".into())));
        let mut f = BTreeMap::new();
        f.insert(
            "Depends".to_owned(),
            "libc6 (>= 2.34), libssl3 | libssl1.1, python3:any".to_owned(),
        );
        f.insert("Pre-Depends".to_owned(), "init-system-helpers (>= 1.54~)".to_owned());
        assert_eq!(
            parse_depends(&f),
            ["init-system-helpers", "libc6", "libssl3", "python3"]
        );
        assert_eq!(licenses_of(b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nLicense: BSD-3-clause\n"), ["BSD-3-clause", "GPL-2+"]);
        assert!(licenses_of(b"This is free software.\nLicense: whatever").is_empty());
    }
}
