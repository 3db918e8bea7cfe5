//! Go versions: module versions (`v1.2.3`, pseudo-versions `v0.0.0-20230101120000-abcdef123456`,
//! `+incompatible`) and toolchain versions (`go1.21.3`, `go1.21rc2`, `go1.9beta1`), both as OSV's
//! `Go` ecosystem writes them: semver without the `v`, the toolchain's `1.21rc2` as `1.21.0-rc.2`.
//! Order is semver precedence (golang.org/x/mod/semver ignores build metadata too), so a
//! pseudo-version sorts before the release it precedes, as Go intends.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct Version(semver::Version);

impl Version {
    pub fn parse(text: &str) -> Result<Self, String> {
        // Build info may carry experiments after the toolchain version: `go1.21.3 X:boringcrypto`.
        let text = text.split_whitespace().next().unwrap_or("");
        let bare = text
            .strip_prefix("go")
            .or_else(|| text.strip_prefix('v'))
            .unwrap_or(text);
        if bare.is_empty() || !bare.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("not a Go version".into());
        }
        // The numeric core, then what follows it (a semver pre-release or build, or the
        // toolchain's own `rc2`/`beta1`).
        let core_end = bare
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(bare.len());
        let (core, tail) = bare.split_at(core_end);
        let mut parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err("not a Go version: the numeric part is not MAJOR[.MINOR[.PATCH]]".into());
        }
        while parts.len() < 3 {
            parts.push("0");
        }
        let tail = match tail.find(|c: char| c.is_ascii_digit()) {
            // `rc2` → `-rc.2`: Go's own toolchain pre-releases.
            Some(at) if tail.starts_with("rc") || tail.starts_with("beta") => {
                let (word, number) = tail.split_at(at);
                if !number.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("not a Go version: bad pre-release".into());
                }
                format!("-{word}.{number}")
            }
            _ => tail.to_owned(),
        };
        semver::Version::parse(&format!("{}{tail}", parts.join(".")))
            .map(Version)
            .map_err(|e| format!("not a Go version: {e}"))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp_precedence(&other.0)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn toolchain_versions_as_osv_writes_them() {
        assert_eq!(v("go1.21.3"), v("1.21.3"));
        assert_eq!(v("1.21"), v("1.21.0"));
        assert_eq!(v("go1.21.3 X:boringcrypto"), v("1.21.3"));
        assert!(v("go1.21rc2") < v("1.21.0"));
        assert!(
            v("go1.21rc2") > v("1.21.0-0"),
            "OSV's `introduced: 1.21.0-0` covers the release candidates"
        );
        assert!(v("go1.9beta1") < v("go1.9rc1"));
        assert!(v("1.20.12") < v("1.21.0-0"));
    }

    #[test]
    fn module_versions() {
        assert_eq!(v("v0.17.0"), v("0.17.0"));
        let pseudo = v("v0.0.0-20230101120000-abcdef123456");
        assert!(pseudo < v("v0.0.1"));
        assert!(pseudo > v("v0.0.0-20221231000000-000000000000"));
        assert!(v("v1.2.4-0.20230101120000-abcdef123456") > v("v1.2.3"));
        assert!(v("v1.2.4-0.20230101120000-abcdef123456") < v("v1.2.4"));
        assert_eq!(v("v2.0.0+incompatible"), v("2.0.0"));
    }

    #[test]
    fn what_is_not_a_go_version() {
        for bad in [
            "",
            "devel go1.22-abc",
            "(devel)",
            "v1.2.3.4",
            "1..2",
            "go1.21rcx",
            "latest",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
    }
}
