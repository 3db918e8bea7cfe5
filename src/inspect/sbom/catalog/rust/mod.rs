//! Rust crates compiled into binaries, from cargo-auditable's `.dep-v0` section (read by
//! [`crate::inspect::rustdeps`] while each ELF file is inspected), with purls as syft writes them.

use std::path::Path;

use super::{Cataloger, Input, compiled_in, from_binaries};
use crate::inspect::rustdeps::RustDependencies;
use crate::inspect::sbom::{Ecosystem, Package, Problem};

pub struct Rust;

impl Cataloger for Rust {
    fn name(&self) -> &'static str {
        "rust"
    }

    /// No file is kept for it: its input is each binary's `.dep-v0` section.
    fn wanted(&self, _path: &Path) -> bool {
        false
    }

    /// One that cannot be read is a fact of its binary (`malformed_parts`), reported with it
    /// rather than here.
    fn catalog(&self, input: &Input, _problems: &mut Vec<Problem>) -> Vec<Package> {
        from_binaries(input, |path, facts| {
            facts.rust.as_ref().map(|rust| packages(path, rust)).unwrap_or_default()
        })
    }
}

/// Every crate the section lists, the binary's own included, of the binary at `binary`.
fn packages(binary: &str, rust: &RustDependencies) -> Vec<Package> {
    rust.packages
        .iter()
        .map(|c| {
            let build = || -> Result<String, packageurl::Error> {
                let mut p = packageurl::PackageUrl::new("cargo", c.name.as_str())?;
                if !c.version.is_empty() {
                    p.with_version(c.version.as_str())?;
                }
                Ok(p.to_string())
            };
            let purl = build().unwrap_or_else(|_| format!("pkg:cargo/{}@{}", c.name, c.version));
            compiled_in(
                Ecosystem::Cargo,
                &c.name,
                &c.version,
                purl,
                "crates.io".to_owned(),
                binary,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rustdeps;
    use crate::inspect::sbom::catalog::testdata;

    /// tests/data/auditable-hello as `cargo auditable build` writes it: the binary's own crate
    /// and itoa.
    #[test]
    fn an_auditable_binary() {
        let deps = rustdeps::parse(&testdata::read(&Rust, "auditable-hello.dep-v0")).unwrap();
        let p = packages("usr/bin/auditable-hello", &deps);
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("auditable-hello", "0.1.0", "pkg:cargo/auditable-hello@0.1.0"),
                ("itoa", "1.0.11", "pkg:cargo/itoa@1.0.11"),
            ]
        );
        assert_eq!(p[1].cpes, ["cpe:2.3:a:itoa:itoa:1.0.11:*:*:*:*:*:*:*"]);
        assert!(
            p.iter()
                .all(|p| p.ecosystem == Ecosystem::Cargo && p.found_in == "usr/bin/auditable-hello")
        );
    }

    /// A section cut short does not inflate: an error of the parser, no package.
    #[test]
    fn a_truncated_section() {
        let e = rustdeps::parse(&testdata::read(&Rust, "truncated.dep-v0")).unwrap_err();
        assert!(e.starts_with("not zlib data"), "{e}");
    }
}
