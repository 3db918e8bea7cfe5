//! Output formats other tools read: SPDX 2.3 and CycloneDX 1.6 JSON (more to come: SARIF).

pub mod cyclonedx;
pub mod spdx;

use std::path::PathBuf;

use crate::image::{Digest, Rootfs};
use crate::inspect::sbom::Catalog;

/// Everything an SBOM of one image says, gathered once and written in either format.
pub struct SbomInput<'a> {
    /// The image as the user named it.
    pub name: &'a str,
    pub manifest: &'a Digest,
    pub catalog: &'a Catalog,
    pub rootfs: &'a Rootfs,
    /// SHA-1 of every regular file (SPDX requires it).
    pub sha1: &'a std::collections::BTreeMap<PathBuf, String>,
    /// `created` timestamp, from SOURCE_DATE_EPOCH: an SBOM is reproducible.
    pub created: String,
    /// Who supplies the image: its `org.opencontainers.image.vendor` label, else the namespace
    /// of its name (`sealkit-fixtures` of `sealkit-fixtures/sshd:1`).
    pub supplier: Option<String>,
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
