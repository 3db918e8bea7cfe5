//! Alpine packages (LinuxKit's own images are Alpine-based): `/lib/apk/db/installed`, with the
//! files each package owns (`F:` folder, `R:` file).

use std::collections::BTreeMap;
use std::path::Path;

use super::{Cataloger, Input};
use crate::inspect::sbom::{Distro, Ecosystem, Files, Package, Problem, cpe};

const INSTALLED: &str = "lib/apk/db/installed";

pub struct Apk;

impl Cataloger for Apk {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn wanted(&self, path: &Path) -> bool {
        path == Path::new(INSTALLED)
    }

    fn catalog(&self, input: &Input, problems: &mut Vec<Problem>) -> Vec<Package> {
        catalog(&input.files, input.distro, problems)
    }
}

pub fn purl(name: &str, version: &str, arch: Option<&str>, origin: Option<&str>, distro: Option<&Distro>) -> String {
    let build = || -> Result<String, packageurl::Error> {
        let mut p = packageurl::PackageUrl::new("apk", name)?;
        p.with_namespace(distro.map_or("alpine", |d| d.id.as_str()))?
            .with_version(version)?;
        if let Some(a) = arch {
            p.add_qualifier("arch", a)?;
        }
        if let Some(o) = origin.filter(|o| *o != name) {
            p.add_qualifier("upstream", o)?;
        }
        if let Some(d) = distro {
            p.add_qualifier("distro", d.qualifier())?;
        }
        Ok(p.to_string())
    };
    build().unwrap_or_else(|_| format!("pkg:apk/alpine/{name}@{version}"))
}

type Block = Vec<(usize, char, String)>;

/// The names of a `D:` or `p:` line, without their version constraints.
fn names_of(line: Option<String>) -> impl Iterator<Item = String> {
    let line = line.unwrap_or_default();
    let names: Vec<String> = line
        .split_whitespace()
        .map(|item| item.split(['=', '<', '>', '~']).next().unwrap_or(item).to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    names.into_iter()
}

/// Replaces each dependency by the package that provides it (a shared library, a command, a
/// pkg-config name or the package's own name), as apk resolves them; one nothing installed
/// provides is left out, since it names no package of this image.
fn resolve_dependencies(packages: &mut [Package], provides: &[Vec<String>]) {
    let mut provider: BTreeMap<&str, &str> = BTreeMap::new();
    for (package, provided) in packages.iter().zip(provides) {
        provider.entry(package.name.as_str()).or_insert(package.name.as_str());
        for name in provided {
            provider.entry(name.as_str()).or_insert(package.name.as_str());
        }
    }
    let resolved: Vec<Vec<String>> = packages
        .iter()
        .map(|package| {
            let mut names: Vec<String> = package
                .depends
                .iter()
                .filter_map(|dep| provider.get(dep.as_str()))
                .filter(|name| **name != package.name)
                .map(|name| (*name).to_owned())
                .collect();
            names.sort();
            names.dedup();
            names
        })
        .collect();
    for (package, depends) in packages.iter_mut().zip(resolved) {
        package.depends = depends;
    }
}

fn package_of(block: &Block, distro: Option<&Distro>) -> Result<(Package, Vec<String>), Problem> {
    let get = |k: char| block.iter().find(|(_, key, _)| *key == k).map(|(_, _, v)| v.clone());
    let line = block.first().map_or(0, |b| b.0);
    let (Some(name), Some(version)) = (get('P'), get('V')) else {
        return Err(Problem {
            file: INSTALLED.into(),
            line,
            message: "package block without P: or V: skipped".into(),
        });
    };
    let mut owned = Vec::new();
    let mut folder = String::new();
    for (_, key, value) in block {
        match key {
            'F' => folder = value.clone(),
            'R' if folder.is_empty() => owned.push(value.clone()),
            'R' => owned.push(format!("{folder}/{value}")),
            _ => {}
        }
    }
    owned.sort();
    let arch = get('A');
    let origin = get('o');
    // Dependencies stay as apk wrote them (`so:libc.musl-x86_64.so.1`, `musl`) until every
    // package's provides are known: `catalog` then names the package behind each.
    let depends = names_of(get('D')).filter(|dep| !dep.starts_with('!')).collect();
    let provides = names_of(get('p')).collect();
    let package = Package {
        ecosystem: Ecosystem::Apk,
        purl: purl(&name, &version, arch.as_deref(), origin.as_deref(), distro),
        cpes: vec![cpe(&name, &name, &version)],
        source_name: origin.clone().or_else(|| Some(name.clone())),
        source_version: Some(version.clone()),
        supplier: get('m'),
        licenses: get('L').map(|l| vec![l]).unwrap_or_default(),
        depends,
        files: owned,
        found_in: INSTALLED.into(),
        name,
        version,
        arch,
    };
    Ok((package, provides))
}

fn catalog(files: &Files, distro: Option<&Distro>, problems: &mut Vec<Problem>) -> Vec<Package> {
    let Some(bytes) = files.get(Path::new(INSTALLED)) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(bytes);
    let mut packages = Vec::new();
    let mut provides = Vec::new();
    let mut block: Block = Vec::new();
    let mut flush = |block: &mut Block, packages: &mut Vec<Package>, problems: &mut Vec<Problem>| {
        if !block.is_empty() {
            match package_of(block, distro) {
                Ok((package, provided)) => {
                    packages.push(package);
                    provides.push(provided);
                }
                Err(e) => problems.push(e),
            }
            block.clear();
        }
    };
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            flush(&mut block, &mut packages, problems);
            continue;
        }
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(key), Some(':')) => block.push((n + 1, key, line[key.len_utf8() + 1..].to_owned())),
            _ => problems.push(Problem {
                file: INSTALLED.into(),
                line: n + 1,
                message: format!("not KEY:VALUE: {:?}", line.chars().take(60).collect::<String>()),
            }),
        }
    }
    flush(&mut block, &mut packages, problems);
    resolve_dependencies(&mut packages, &provides);
    packages
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use crate::inspect::sbom::catalog::testdata;

    /// Two entries in apk's format: busybox needs musl's shared library, which musl provides.
    #[test]
    fn an_installed_database() {
        let alpine = testdata::distro("alpine", "3.20.0");
        let (p, problems) = testdata::run(&Apk, Some(&alpine), &[("installed", INSTALLED)]);
        assert_eq!(problems, []);
        assert_eq!(p.len(), 2);
        let (musl, busybox) = (&p[0], &p[1]);
        assert_eq!(
            testdata::identity(musl),
            (
                "musl",
                "1.2.5-r0",
                Some("x86_64"),
                Some("musl"),
                Some("1.2.5-r0"),
                "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.0"
            )
        );
        assert_eq!(musl.supplier.as_deref(), Some("Natanael Copa <ncopa@alpinelinux.org>"));
        assert_eq!(musl.licenses, ["MIT"]);
        assert!(musl.depends.is_empty(), "an empty D: line: {:?}", musl.depends);
        assert_eq!(musl.files, ["lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"]);
        assert_eq!(busybox.depends, ["musl"], "so:libc.musl-x86_64.so.1 is musl's");
        assert_eq!(busybox.files, ["bin/busybox", "etc/securetty"]);
        assert_eq!(
            busybox.supplier.as_deref(),
            Some("Sören Tempel <soeren+alpine@soeren-tempel.net>")
        );
    }

    /// A line that is not `KEY:VALUE` is a problem; the entries after it are still read.
    #[test]
    fn a_corrupt_installed_database() {
        let (p, problems) = testdata::run(&Apk, None, &[("installed-corrupt", INSTALLED)]);
        assert_eq!(
            testdata::lines(&problems),
            ["1: not KEY:VALUE: \"this line is not KEY:VALUE\""]
        );
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].name.as_str(), p[0].version.as_str()), ("musl", "1.2.5-r0"));
        assert!(p[0].licenses.is_empty(), "the entry has no L: line");
        assert_eq!(p[0].purl, "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64");
        assert_eq!(p[1].files, ["usr/lib/libcut.so.1"]);
    }

    #[test]
    fn installed_database() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nm:Timo <t@example.org>\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nD:so:libc.musl-x86_64.so.1 musl>=1.2\nF:bin\nR:busybox\n\nV:orphan\ngarbage\n";
        let contents: BTreeMap<PathBuf, Vec<u8>> = [(PathBuf::from(INSTALLED), db.as_bytes().to_vec())].into();
        let rootfs = crate::image::Rootfs::default();
        let files = Files {
            contents: &contents,
            rootfs: &rootfs,
        };
        let distro = Distro {
            id: "alpine".into(),
            version_id: "3.18.4".into(),
            pretty_name: String::new(),
        };
        let mut problems = Vec::new();
        let p = catalog(&files, Some(&distro), &mut problems);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].files, ["lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"]);
        assert_eq!(
            p[0].purl,
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4"
        );
        assert_eq!(p[1].depends, ["musl"]);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
