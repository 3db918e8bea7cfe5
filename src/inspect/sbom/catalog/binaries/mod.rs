//! Packages compiled into binaries: Go modules from build info, Rust crates from
//! cargo-auditable's `.dep-v0`, with purls as syft writes them.

use std::path::Path;

use super::{Cataloger, Input};
use crate::inspect::elf::Inspection;
use crate::inspect::sbom::{Ecosystem, Package, Problem, cpe};
use crate::inspect::scan::BinaryReport;

pub struct Binaries;

impl Cataloger for Binaries {
    fn name(&self) -> &'static str {
        "binaries"
    }

    /// No file is kept for it: every ELF file is inspected on the same pass anyway, and its
    /// facts (Go build info, cargo-auditable's dependencies) are this cataloger's input.
    fn wanted(&self, _path: &Path) -> bool {
        false
    }

    /// A build info that cannot be read is a fact of its binary (`malformed_parts`), reported
    /// with it rather than here.
    fn catalog(&self, input: &Input, _problems: &mut Vec<Problem>) -> Vec<Package> {
        catalog(input.binaries)
    }
}

fn purl(ty: &str, name: &str, version: &str) -> String {
    let build = || -> Result<String, packageurl::Error> {
        let mut p = match name.rsplit_once('/') {
            Some((namespace, base)) if ty == "golang" => {
                let mut p = packageurl::PackageUrl::new(ty, base.to_owned())?;
                p.with_namespace(namespace.to_owned())?;
                p
            }
            _ => packageurl::PackageUrl::new(ty, name.to_owned())?,
        };
        if !version.is_empty() {
            p.with_version(version.to_owned())?;
        }
        Ok(p.to_string())
    };
    build().unwrap_or_else(|_| format!("pkg:{ty}/{name}@{version}"))
}

fn catalog(binaries: &[BinaryReport]) -> Vec<Package> {
    let mut out = Vec::new();
    for b in binaries {
        let Inspection::Elf(facts) = &b.elf else { continue };
        let package = |ecosystem, ty: &str, name: &str, version: &str| Package {
            // Where the code is distributed from: a Go module's host and owner, or crates.io.
            supplier: Some(match ty {
                "golang" if name == "stdlib" => "The Go Authors".to_owned(),
                "golang" => name.split('/').take(2).collect::<Vec<_>>().join("/"),
                _ => "crates.io".to_owned(),
            }),
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            arch: None,
            source_name: None,
            source_version: None,
            licenses: Vec::new(),
            purl: purl(ty, name, version),
            cpes: vec![cpe(
                name.rsplit('/').next().unwrap_or(name),
                name.rsplit('/').next().unwrap_or(name),
                version,
            )],
            depends: Vec::new(),
            files: vec![b.path.clone()],
            found_in: b.path.clone(),
        };
        if let Some(go) = &facts.go {
            if let Some(main) = go.main.as_ref().filter(|m| !m.path.is_empty()) {
                out.push(package(Ecosystem::Golang, "golang", &main.path, &main.version));
            }
            for dep in &go.deps {
                let effective = dep.replaced_by.as_deref().unwrap_or(dep);
                out.push(package(
                    Ecosystem::Golang,
                    "golang",
                    &effective.path,
                    &effective.version,
                ));
            }
            // The toolchain itself, as syft records it (stdlib).
            out.push(package(
                Ecosystem::Golang,
                "golang",
                "stdlib",
                go.go_version.trim_start_matches("go"),
            ));
        }
        if let Some(rust) = &facts.rust {
            for crate_ in &rust.packages {
                out.push(package(Ecosystem::Cargo, "cargo", &crate_.name, &crate_.version));
            }
        }
    }
    out
}
