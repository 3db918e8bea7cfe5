//! Alpine version order, as apk-tools compares versions (`apk version -t`): Gentoo-style
//! `DIGITS{.DIGITS}[LETTER]{_SUFFIX[N]}[-rN]`, read as a sequence of typed tokens. Where two
//! versions' tokens first differ in value the smaller value is older; where one runs out or
//! changes kind first, the kinds decide (a pre-release suffix — `_alpha`, `_beta`, `_pre`, `_rc`
//! — makes a version older, anything else that continues makes it newer). apk compares versions
//! that break these rules too (its `apk version -c` reports them as invalid); so does this, and
//! [`Version::parse`] refuses them for matching.

use std::cmp::Ordering;

/// The kind of a token, in the order apk ranks them when two versions part ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invalid,
    /// Digits after a `.`: leading zeros make it a fraction-like part.
    DottedNumber,
    Number,
    Letter,
    Suffix,
    SuffixNumber,
    Revision,
    End,
}

const PRE_RELEASE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_RELEASE: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// Numbers of this many digits or more make a version invalid (apk's own bound, which keeps
/// values within 64 bits).
const MAX_DIGITS: usize = 18;

/// The tokens of a version, each with the kind it was read as and its value, and the kind
/// after the last one (`End`, or `Invalid` where reading stopped).
fn tokens(text: &str) -> (Vec<(Kind, i64)>, Kind) {
    let bytes = text.as_bytes();
    let mut rest = &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len())];
    let mut out = Vec::new();
    let mut kind = Kind::Number;
    if rest.is_empty() {
        return (out, Kind::End);
    }
    loop {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut forced = None;
        let (value, used) = match kind {
            // Leading zeros after a dot: all but the last make a negative part, so `1.05`
            // sorts before `1.5` (apk-tools 2.14's rule since "version: fix leading zero
            // stripping"); the last zero starts the number that follows.
            Kind::DottedNumber if rest[0] == b'0' => {
                let extra = rest.iter().take_while(|&&b| b == b'0').count() - 1;
                forced = Some(Kind::Number);
                (-(extra as i64), extra)
            }
            Kind::DottedNumber | Kind::Number | Kind::SuffixNumber | Kind::Revision => {
                if digits >= MAX_DIGITS {
                    out.push((kind, -1));
                    return (out, Kind::Invalid);
                }
                let value = rest[..digits].iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
                (value, digits)
            }
            Kind::Letter => (i64::from(rest[0]), 1),
            Kind::Suffix => {
                let pre = PRE_RELEASE.iter().position(|s| rest.starts_with(s.as_bytes()));
                let post = POST_RELEASE.iter().position(|s| rest.starts_with(s.as_bytes()));
                match (pre, post) {
                    (Some(i), _) => (i as i64 - PRE_RELEASE.len() as i64, PRE_RELEASE[i].len()),
                    (None, Some(i)) => (i as i64, POST_RELEASE[i].len()),
                    (None, None) => {
                        out.push((kind, -1));
                        return (out, Kind::Invalid);
                    }
                }
            }
            Kind::Invalid | Kind::End => return (out, kind),
        };
        out.push((kind, value));
        rest = &rest[used..];
        if rest.is_empty() {
            return (out, Kind::End);
        }
        kind = match forced {
            Some(next) => next,
            None => {
                let (next, consumed) = next_kind(kind, rest);
                rest = &rest[consumed..];
                next
            }
        };
        if kind == Kind::Invalid {
            return (out, kind);
        }
    }
}

/// The kind of the token that starts `rest`, following a token of kind `after`, and how many
/// separator bytes it takes.
fn next_kind(after: Kind, rest: &[u8]) -> (Kind, usize) {
    let c = rest[0];
    let (next, consumed) = if matches!(after, Kind::Number | Kind::DottedNumber) && c.is_ascii_lowercase() {
        (Kind::Letter, 0)
    } else if after == Kind::Letter && c.is_ascii_digit() {
        (Kind::Number, 0)
    } else if after == Kind::Suffix && c.is_ascii_digit() {
        (Kind::SuffixNumber, 0)
    } else {
        match c {
            b'.' => (Kind::DottedNumber, 1),
            b'_' => (Kind::Suffix, 1),
            b'-' if rest.get(1) == Some(&b'r') => (Kind::Revision, 2),
            _ => (Kind::Invalid, 1),
        }
    };
    // Parts come in a fixed order; going back is invalid, except to another number, another
    // suffix, or a number after a letter.
    let allowed_back = matches!(
        (after, next),
        (Kind::Number, Kind::DottedNumber) | (Kind::SuffixNumber, Kind::Suffix) | (Kind::Letter, Kind::Number)
    );
    if next < after && !allowed_back {
        return (Kind::Invalid, consumed);
    }
    (next, consumed)
}

/// An Alpine package version.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
}

impl Version {
    /// Refuses what `apk version -c` calls invalid: matching on such a version could say
    /// "affected" or "safe" by accident.
    pub fn parse(text: &str) -> Result<Self, String> {
        match tokens(text) {
            (_, Kind::End) if !text.is_empty() => Ok(Version { text: text.to_owned() }),
            _ => Err("not a valid apk version (DIGITS{.DIGITS}[a-z]{_SUFFIX[N]}[-rN])".into()),
        }
    }
}

/// apk's comparison of any two strings, valid versions or not.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ta, end_a) = tokens(a);
    let (tb, end_b) = tokens(b);
    let kind_at = |t: &[(Kind, i64)], end: Kind, i: usize| t.get(i).map_or(end, |t| t.0);
    let (mut av, mut bv) = (0, 0);
    let mut i = 0;
    let (ka, kb) = loop {
        let (ka, kb) = (kind_at(&ta, end_a, i), kind_at(&tb, end_b, i));
        if ka != kb || matches!(ka, Kind::End | Kind::Invalid) || av != bv {
            break (ka, kb);
        }
        (av, bv) = (ta[i].1, tb[i].1);
        i += 1;
    };
    if av != bv {
        return av.cmp(&bv);
    }
    if ka == kb {
        return Ordering::Equal;
    }
    // One goes on where the other stops or changes kind: a pre-release suffix is older.
    if ka == Kind::Suffix && ta[i].1 < 0 {
        return Ordering::Less;
    }
    if kb == Kind::Suffix && tb[i].1 < 0 {
        return Ordering::Greater;
    }
    kb.cmp(&ka)
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.text, &other.text)
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

    /// apk-tools' own test vectors (testdata/apk-version.data, see its README): every line
    /// `A OP B` holds.
    #[test]
    fn apk_tools_test_vectors() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/vuln/version/testdata/apk-version.data");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut checked = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap().trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [a, op, b] = fields[..] else {
                panic!("line {}: {line:?}", n + 1)
            };
            let want = match op {
                "<" => Ordering::Less,
                ">" => Ordering::Greater,
                "=" => Ordering::Equal,
                _ => panic!("line {}: operator {op:?}", n + 1),
            };
            assert_eq!(compare(a, b), want, "line {}: {line}", n + 1);
            assert_eq!(compare(b, a), want.reverse(), "line {} reversed: {line}", n + 1);
            checked += 1;
        }
        assert!(checked > 500, "{checked} vectors");
    }

    #[test]
    fn invalid_versions_are_refused_for_matching() {
        for bad in [
            "",
            "1.0bc",
            "1.2a.3",
            "1.0_foo",
            "1.0-x",
            "1.0-r1.2",
            "1234567890123456789",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["1.0", "1.0a", "1.0_alpha1_pre2-r3", "3.1.4_p16-r0", "0.20070207_rc1"] {
            assert!(Version::parse(good).is_ok(), "{good:?}");
        }
    }
}
