//! npm packages: every `node_modules/**/package.json`.

use std::path::Path;

use super::{Cataloger, Input};
use crate::inspect::sbom::{self, Ecosystem, Files, Package, Problem, cpe};

pub struct Npm;

impl Cataloger for Npm {
    fn name(&self) -> &'static str {
        "npm"
    }

    fn wanted(&self, path: &Path) -> bool {
        wanted(path)
    }

    fn catalog(&self, input: &Input, problems: &mut Vec<Problem>) -> Vec<Package> {
        catalog(&input.files, problems)
    }
}

fn wanted(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "package.json") && path.components().any(|c| c.as_os_str() == "node_modules")
}

fn license(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Object(o) => o
            .get("type")
            .and_then(|t| t.as_str())
            .map(|t| vec![t.to_owned()])
            .unwrap_or_default(),
        serde_json::Value::Array(a) => a.iter().flat_map(license).collect(),
        _ => Vec::new(),
    }
}

fn catalog(files: &Files, problems: &mut Vec<Problem>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, bytes) in files.contents.iter().filter(|(p, _)| wanted(p)) {
        let file = path.display().to_string();
        let Some(doc) = sbom::parse_json(&file, bytes, "not JSON", problems) else {
            continue;
        };
        let (Some(name), Some(version)) = (doc["name"].as_str(), doc["version"].as_str()) else {
            // Nested package.json files (test fixtures, examples) often lack either: not a package.
            continue;
        };
        let (namespace, base) = match name.split_once('/') {
            Some((scope, base)) if scope.starts_with('@') => (Some(scope), base),
            _ => (None, name),
        };
        let purl = packageurl::PackageUrl::new("npm", base)
            .and_then(|mut p| {
                if let Some(ns) = namespace {
                    p.with_namespace(ns)?;
                }
                p.with_version(version).map(|p| p.to_string())
            })
            .unwrap_or_else(|_| format!("pkg:npm/{name}@{version}"));
        let dir = path.parent().map(|p| p.display().to_string()).unwrap_or_default();
        packages.push(Package {
            ecosystem: Ecosystem::Npm,
            name: name.to_owned(),
            version: version.to_owned(),
            arch: None,
            source_name: None,
            source_version: None,
            supplier: doc["author"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| doc["author"]["name"].as_str().map(str::to_owned)),
            licenses: license(&doc["license"]),
            purl,
            cpes: vec![cpe(base, base, version)],
            depends: doc["dependencies"]
                .as_object()
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default(),
            files: vec![file.clone()],
            found_in: if dir.is_empty() {
                file
            } else {
                format!("{dir}/package.json")
            },
        });
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sbom::catalog::testdata;

    const MODULES: &str = "usr/lib/node_modules/npm/node_modules";

    /// Two real manifests: a scoped name becomes the purl's namespace, and the author is read as
    /// a string or as an object's name.
    #[test]
    fn real_manifests() {
        let fs = format!("{MODULES}/@npmcli/fs/package.json");
        let env = format!("{MODULES}/env-paths/package.json");
        let (p, problems) = testdata::run(
            &Npm,
            None,
            &[("npmcli-fs.package.json", &*fs), ("env-paths.package.json", &*env)],
        );
        assert_eq!(problems, []);
        assert_eq!(p.len(), 2);
        let (npmcli, envp) = (&p[0], &p[1]);
        assert_eq!((npmcli.name.as_str(), npmcli.version.as_str()), ("@npmcli/fs", "5.0.0"));
        assert_eq!(npmcli.purl, "pkg:npm/%40npmcli/fs@5.0.0");
        assert_eq!(npmcli.cpes, ["cpe:2.3:a:fs:fs:5.0.0:*:*:*:*:*:*:*"]);
        assert_eq!(npmcli.supplier.as_deref(), Some("GitHub Inc."));
        assert_eq!(npmcli.licenses, ["ISC"]);
        // devDependencies are not installed beside it.
        assert_eq!(npmcli.depends, ["semver"]);
        assert_eq!(npmcli.files, [fs.as_str()]);
        assert_eq!(npmcli.found_in, fs);
        assert_eq!((envp.name.as_str(), envp.version.as_str()), ("env-paths", "2.2.1"));
        assert_eq!(envp.purl, "pkg:npm/env-paths@2.2.1");
        assert_eq!(envp.supplier.as_deref(), Some("Sindre Sorhus"));
        assert_eq!(envp.licenses, ["MIT"]);
        assert!(envp.depends.is_empty());
    }

    /// A manifest cut short is a problem with its line; one without a version is no package.
    #[test]
    fn corrupt_manifests() {
        let (p, problems) = testdata::run(
            &Npm,
            None,
            &[
                ("truncated.package.json", "app/node_modules/cut/package.json"),
                (
                    "no-version.package.json",
                    "app/node_modules/x/test/fixture/package.json",
                ),
            ],
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            testdata::lines(&problems),
            ["6: not JSON: EOF while parsing a value at line 6 column 0"]
        );
        assert_eq!(problems[0].file, "app/node_modules/cut/package.json");
    }
}
