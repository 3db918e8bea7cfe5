//! Debian version order, as dpkg compares versions (`dpkg --compare-versions`, deb-version(7)):
//! `[EPOCH:]UPSTREAM[-REVISION]`, epochs numerically, then upstream and revision each by dpkg's
//! `verrevcmp`: runs of non-digits compare character by character with `~` before everything
//! (even the end), letters before other characters; runs of digits compare numerically.

use std::cmp::Ordering;

/// A parsed Debian version. Equality is dpkg's (`1.0` = `1.0-0` = `0:1.0`), not textual.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: u32,
    upstream: String,
    revision: String,
}

impl Version {
    /// Parses as dpkg's `parseversion` does: what it rejects is an error here; what it only
    /// warns about (an upstream part not starting with a digit, unusual characters) is compared
    /// the way dpkg compares it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if text.is_empty() {
            return Err("version string is empty".into());
        }
        if text.contains(|c: char| c.is_ascii_whitespace()) {
            return Err("version string has embedded spaces".into());
        }
        let (epoch, rest) = match text.split_once(':') {
            Some((epoch, rest)) => {
                if epoch.is_empty() {
                    return Err("epoch in version is empty".into());
                }
                if !epoch.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("epoch in version is not number".into());
                }
                let epoch: u32 = epoch
                    .parse()
                    .ok()
                    .filter(|e| *e <= i32::MAX as u32)
                    .ok_or("epoch in version is too big")?;
                if rest.is_empty() {
                    return Err("nothing after colon in version number".into());
                }
                (epoch, rest)
            }
            None => (0, text),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err("revision number is empty".into()),
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err("version number is empty".into());
        }
        Ok(Version {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }
}

/// The weight dpkg gives one character of a non-digit run; `None` (the end) weighs as a digit.
fn weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        // dpkg reads `char`, signed on the platforms Debian builds for: bytes over 0x7f weigh
        // below the ASCII punctuation, above the letters.
        Some(c) => i32::from(c as i8) + 256,
    }
}

/// dpkg's `verrevcmp` over one part (upstream or revision).
fn compare_part(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit()) || b.get(j).is_some_and(|c| !c.is_ascii_digit()) {
            let (wa, wb) = (weight(a.get(i).copied()), weight(b.get(j).copied()));
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        // Equal-length digit runs compare by their first differing digit; a longer run (without
        // leading zeros) is the larger number.
        let mut first_difference = Ordering::Equal;
        while let (Some(x), Some(y)) = (
            a.get(i).filter(|c| c.is_ascii_digit()),
            b.get(j).filter(|c| c.is_ascii_digit()),
        ) {
            if first_difference == Ordering::Equal {
                first_difference = x.cmp(y);
            }
            i += 1;
            j += 1;
        }
        if a.get(i).is_some_and(u8::is_ascii_digit) {
            return Ordering::Greater;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            return Ordering::Less;
        }
        if first_difference != Ordering::Equal {
            return first_difference;
        }
    }
    Ordering::Equal
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| compare_part(self.revision.as_bytes(), other.revision.as_bytes()))
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

    fn cmp(a: &str, b: &str) -> Ordering {
        Version::parse(a).unwrap().cmp(&Version::parse(b).unwrap())
    }

    /// Cases deb-version(7) and Debian policy §5.6.12 spell out.
    #[test]
    fn the_documented_cases() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0~rc1-1", "1.0-1"), Ordering::Less);
        assert_eq!(cmp("1.0~~", "1.0~~a"), Ordering::Less);
        assert_eq!(cmp("1.0~", "1.0"), Ordering::Less);
        assert_eq!(cmp("1:0", "99999"), Ordering::Greater);
        assert_eq!(cmp("1:2.5.1-4", "2.5.1-5"), Ordering::Greater);
        assert_eq!(cmp("1.0", "1.0-0"), Ordering::Equal);
        assert_eq!(cmp("0:1.0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1.0-1", "1.0-1+b1"), Ordering::Less);
        assert_eq!(cmp("2.36-9+deb12u9", "2.36-9+deb12u10"), Ordering::Less);
        assert_eq!(cmp("1.2.3-1~bpo12+1", "1.2.3-1"), Ordering::Less);
        assert_eq!(cmp("1.01", "1.1"), Ordering::Equal);
        assert_eq!(cmp("1.0a", "1.0+"), Ordering::Less);
        assert_eq!(cmp("1.0-a-b", "1.0-a-c"), Ordering::Less);
    }

    #[test]
    fn what_dpkg_rejects_is_an_error() {
        for bad in ["", " ", ":1.0", "a:1.0", "1:", "1.0-", "-1", "1 0", "99999999999:1"] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        // Warnings only, for dpkg: compared all the same.
        assert!(Version::parse("a1.0").is_ok());
        assert!(Version::parse("1.0_x").is_ok());
    }
}
