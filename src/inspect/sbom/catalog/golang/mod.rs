//! Go modules compiled into binaries, from their build information (`.go.buildinfo`, read by
//! [`crate::inspect::gobuild`] while each ELF file is inspected), with purls as syft writes them.

use std::path::Path;

use super::{Cataloger, Input, compiled_in, from_binaries};
use crate::inspect::gobuild::GoBuildInfo;
use crate::inspect::sbom::{Ecosystem, Package, Problem};

pub struct Golang;

impl Cataloger for Golang {
    fn name(&self) -> &'static str {
        "golang"
    }

    /// No file is kept for it: its input is each binary's Go build information.
    fn wanted(&self, _path: &Path) -> bool {
        false
    }

    /// One that cannot be read is a fact of its binary (`malformed_parts`), reported with it
    /// rather than here.
    fn catalog(&self, input: &Input, _problems: &mut Vec<Problem>) -> Vec<Package> {
        from_binaries(input, |path, facts| {
            facts.go.as_ref().map(|go| packages(path, go)).unwrap_or_default()
        })
    }
}

/// `pkg:golang/NAMESPACE/NAME@VERSION`, the module path's last segment as the name.
fn purl(path: &str, version: &str) -> String {
    let build = || -> Result<String, packageurl::Error> {
        let mut p = match path.rsplit_once('/') {
            Some((namespace, base)) => {
                let mut p = packageurl::PackageUrl::new("golang", base.to_owned())?;
                p.with_namespace(namespace.to_owned())?;
                p
            }
            None => packageurl::PackageUrl::new("golang", path.to_owned())?,
        };
        if !version.is_empty() {
            p.with_version(version.to_owned())?;
        }
        Ok(p.to_string())
    };
    build().unwrap_or_else(|_| format!("pkg:golang/{path}@{version}"))
}

/// The main module, every dependency (as replaced, when it is), and the toolchain itself as
/// syft records it (`stdlib`), of the binary at `binary`.
fn packages(binary: &str, go: &GoBuildInfo) -> Vec<Package> {
    let package = |path: &str, version: &str| {
        // Where the code is distributed from: a module's host and owner.
        let supplier = if path == "stdlib" {
            "The Go Authors".to_owned()
        } else {
            path.split('/').take(2).collect::<Vec<_>>().join("/")
        };
        compiled_in(Ecosystem::Golang, path, version, purl(path, version), supplier, binary)
    };
    let mut out = Vec::new();
    if let Some(main) = go.main.as_ref().filter(|m| !m.path.is_empty()) {
        out.push(package(&main.path, &main.version));
    }
    for dep in &go.deps {
        let effective = dep.replaced_by.as_deref().unwrap_or(dep);
        out.push(package(&effective.path, &effective.version));
    }
    out.push(package("stdlib", go.go_version.trim_start_matches("go")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::gobuild;
    use crate::inspect::sbom::catalog::testdata;

    const BIN: &str = "usr/local/bin/terraform";

    /// A release binary built with modules: its `(devel)` main module, 221 dependencies (nine
    /// replaced by local folders) and the toolchain, as `strings` shows its build info.
    #[test]
    fn a_module_build() {
        let go = gobuild::parse(&testdata::read(&Golang, "terraform.go.buildinfo")).unwrap();
        let p = packages(BIN, &go);
        assert_eq!(p.len(), 1 + 221 + 1);
        assert_eq!(
            (p[0].name.as_str(), p[0].version.as_str()),
            ("github.com/hashicorp/terraform", "(devel)")
        );
        assert_eq!(p[0].supplier.as_deref(), Some("github.com/hashicorp"));
        let first = &p[1];
        assert_eq!(
            (first.name.as_str(), first.version.as_str()),
            ("cloud.google.com/go", "v0.110.7")
        );
        assert_eq!(first.purl, "pkg:golang/cloud.google.com/go@v0.110.7");
        assert_eq!(first.cpes, ["cpe:2.3:a:go:go:v0.110.7:*:*:*:*:*:*:*"]);
        assert_eq!(first.supplier.as_deref(), Some("cloud.google.com/go"));
        let last = &p[221];
        assert_eq!(
            (last.name.as_str(), last.version.as_str()),
            ("software.sslmate.com/src/go-pkcs12", "v0.4.0")
        );
        assert_eq!(last.purl, "pkg:golang/software.sslmate.com/src/go-pkcs12@v0.4.0");
        // A replaced module is recorded as what replaced it: here a folder of the main module.
        let replaced: Vec<_> = p.iter().filter(|p| p.name.starts_with("./")).collect();
        assert_eq!(replaced.len(), 9);
        assert_eq!(
            (replaced[0].name.as_str(), replaced[0].version.as_str()),
            ("./internal/backend/remote-state/azure", "(devel)")
        );
        let stdlib = &p[222];
        assert_eq!((stdlib.name.as_str(), stdlib.version.as_str()), ("stdlib", "1.23.3"));
        assert_eq!(stdlib.purl, "pkg:golang/stdlib@1.23.3");
        assert_eq!(stdlib.supplier.as_deref(), Some("The Go Authors"));
        assert!(
            p.iter()
                .all(|p| p.ecosystem == Ecosystem::Golang && p.files == [BIN] && p.found_in == BIN)
        );
    }

    /// Debian builds Go programs from vendored sources (GOPATH mode): the build info names the
    /// program's path but no module, so the toolchain is the only package.
    #[test]
    fn a_vendored_build() {
        let go = gobuild::parse(&testdata::read(&Golang, "umoci.go.buildinfo")).unwrap();
        assert_eq!(go.path, "github.com/opencontainers/umoci/cmd/umoci");
        let p = packages("usr/bin/umoci", &go);
        let names: Vec<_> = p.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        assert_eq!(names, [("stdlib", "1.19.8")]);
    }

    /// A section cut short is an error of the parser, so no package is made of half a list.
    #[test]
    fn a_truncated_section() {
        let e = gobuild::parse(&testdata::read(&Golang, "truncated.go.buildinfo")).unwrap_err();
        assert!(e.contains("runs past the section's end"), "{e}");
    }
}
