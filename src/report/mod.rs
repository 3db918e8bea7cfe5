//! Output formats other tools read: SPDX 2.3 and CycloneDX 1.6 JSON (more to come: SARIF).

pub mod cyclonedx;
pub mod spdx;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::image::{Digest, Rootfs};
use crate::inspect::sbom::Catalog;

/// One component image of an SBOM: what was found in it, and where its files land in the
/// final OS image (`containers/services/sshd/lower/`, or nothing for init images).
pub struct ComponentSbom {
    /// A name for people: the image reference, or `services/sshd`.
    pub name: String,
    pub manifest: Digest,
    pub catalog: Catalog,
    pub rootfs: Rootfs,
    /// SHA-1 of every regular file (SPDX requires it).
    pub sha1: BTreeMap<PathBuf, String>,
    /// Prepended to every path of this component.
    pub prefix: String,
    /// Who supplies the image: its `org.opencontainers.image.vendor` label, else the namespace
    /// of its name (`sealkit-fixtures` of `sealkit-fixtures/sshd:1`).
    pub supplier: Option<String>,
}

/// Files larger than this are not read by the catalogers (a status file is a few MiB).
pub const CATALOG_FILE_LIMIT: u64 = 64 << 20;

impl ComponentSbom {
    /// Catalogs one resolved image: flattens it, reads the catalogers' files and every file's
    /// SHA-1 in one more pass, and scans its binaries for embedded packages.
    pub fn of(
        store: &crate::image::Store,
        image: &crate::image::ResolvedImage,
        name: String,
        prefix: String,
        supplier: Option<String>,
    ) -> Result<Self, crate::image::ImageError> {
        Self::of_tapped(store, image, name, prefix, supplier, &mut crate::image::rootfs::NoTap)
    }

    /// As [`ComponentSbom::of`], also showing every file to `extra` (the build keeps their bytes)
    /// in the same pass.
    pub fn of_tapped(
        store: &crate::image::Store,
        image: &crate::image::ResolvedImage,
        name: String,
        prefix: String,
        supplier: Option<String>,
        extra: &mut dyn crate::image::rootfs::Tap,
    ) -> Result<Self, crate::image::ImageError> {
        use crate::image::attestation;
        use crate::inspect::{sbom, scan};
        // One pass over each layer: flatten, hash every file with SHA-1, keep the catalogers'
        // files and inspect every ELF file on the way.
        let mut gather = sbom::gather::Gather::new(&sbom::wanted, CATALOG_FILE_LIMIT);
        let rootfs = Rootfs::flatten_tapped(store, image, &mut crate::image::rootfs::Tee::new(&mut gather, extra))?;
        gather.finish();
        let mut files = BTreeMap::new();
        let mut sha1 = BTreeMap::new();
        let mut binaries = Vec::new();
        let mut problems = Vec::new();
        for (path, entry) in rootfs.files() {
            let Some(at) = entry.content else { continue };
            if let Some(s) = gather.sha1.get(&at) {
                sha1.insert(path.clone(), s.clone());
            }
            if let Some(bytes) = gather.kept.get(&at).filter(|_| sbom::wanted(path)) {
                files.insert(path.clone(), bytes.clone());
            }
            if let Some(reason) = gather.not_read.get(&at).filter(|_| sbom::wanted(path)) {
                problems.push(sbom::Problem {
                    file: path.display().to_string(),
                    line: 0,
                    message: reason.clone(),
                });
            }
            if let Some(inspection) = gather.elf.get(&at) {
                binaries.push(scan::binary_report(path, entry, inspection.clone()));
            }
        }
        let mut catalog = sbom::catalog(&files, &rootfs, &binaries);
        // SBOMs attached to the image's index, beside those shipped inside it.
        let statements = attestation::statements(store, image, &sbom::attached::is_sbom_predicate);
        let attested = sbom::attached::attested(
            &statements,
            &attestation::subjects(image),
            &catalog.packages,
            &mut problems,
        );
        catalog.attached.extend(attested);
        catalog.problems.extend(problems);
        catalog.problems.sort();
        let supplier = supplier.or_else(|| image.labels().get("org.opencontainers.image.vendor").cloned());
        Ok(ComponentSbom {
            name,
            manifest: image.manifest_digest.clone(),
            catalog,
            rootfs,
            sha1,
            prefix,
            supplier,
        })
    }
}

/// Who supplies an image, as far as its name tells: the namespace of a registry name
/// (`sealkit-fixtures` of `sealkit-fixtures/sshd:1`).
pub fn supplier_of(reference: &str) -> Option<String> {
    match reference.parse::<crate::image::ImageRef>().ok()? {
        crate::image::ImageRef::Registry(r) => r.repository().rsplit_once('/').map(|(ns, _)| ns.to_owned()),
        _ => None,
    }
}

/// Everything an SBOM says: one image, or the components of a whole OS image.
pub struct SbomInput<'a> {
    /// The document's subject: an image reference or a configuration file.
    pub name: &'a str,
    pub components: &'a [ComponentSbom],
    /// `created` timestamp, from SOURCE_DATE_EPOCH: an SBOM is reproducible.
    pub created: String,
}

impl SbomInput<'_> {
    /// A single image described directly, rather than an OS image made of components.
    pub fn single(&self) -> Option<&ComponentSbom> {
        match self.components {
            [only] if only.prefix.is_empty() => Some(only),
            _ => None,
        }
    }
}

/// SOURCE_DATE_EPOCH as RFC 3339, or LinuxKit's fixed build time when it is unset.
pub fn creation_time() -> String {
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(1_492_533_000);
    rfc3339(epoch)
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_492_533_000), "2017-04-18T16:30:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
