//! The one severity a match is judged by. An advisory can carry CVSS vectors (v2, v3.x, v4), a
//! word (GHSA's `MODERATE`) and, for Debian, the security team's urgency; rules need a single
//! level to compare with their thresholds, and a reader needs to see where it came from.
//!
//! The distribution's urgency wins for its own packages, as trivy ranks a vendor's severity
//! above NVD's: Debian rates how a flaw affects Debian's build of the package (`unimportant`
//! for code it does not compile in), which a CVSS base score written for upstream cannot know.
//! Then the highest base score of the vectors (scored by RustSec's `cvss`), then the word.

use std::str::FromStr as _;

use serde::{Serialize, Serializer};

use super::advisory::Severity;

/// Ordered from least to most severe, so thresholds compare with `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    /// No source rates it.
    Unknown,
    /// Debian's `unimportant`: the flaw does not reach Debian's build, or is not a security
    /// problem there.
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// As the evidence writes it (`HIGH`), which is how rules and reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Unknown => "UNKNOWN",
            Level::Negligible => "NEGLIGIBLE",
            Level::Low => "LOW",
            Level::Medium => "MEDIUM",
            Level::High => "HIGH",
            Level::Critical => "CRITICAL",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rating came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The distribution's urgency for its package (Debian's security tracker).
    Urgency,
    /// A CVSS vector's base score.
    Cvss,
    /// A severity word of the advisory (GHSA's `database_specific.severity`).
    Label,
    None,
}

/// A CVSS base score in tenths, so that a rating compares and hashes exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score(u8);

impl Score {
    pub fn tenths(self) -> u8 {
        self.0
    }
}

impl Serialize for Score {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(f64::from(self.0) / 10.0)
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rating {
    pub level: Level,
    pub basis: Basis,
    /// The highest CVSS base score among the vectors, and that vector (whichever decided the
    /// level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

impl Default for Rating {
    fn default() -> Self {
        Rating {
            level: Level::Unknown,
            basis: Basis::None,
            score: None,
            vector: None,
        }
    }
}

/// Rates a match from everything its advisories say. Vectors that do not parse are skipped:
/// they are still shown as given, and another source may rate the match.
pub fn rate(vectors: &[Severity], label: Option<&str>, urgency: Option<&str>) -> Rating {
    let best = vectors
        .iter()
        .filter_map(|v| Some((cvss_score(&v.score)?, &v.score)))
        .max_by_key(|(score, _)| *score);
    let (score, vector) = match best {
        Some((score, vector)) => (Some(score), Some(vector.clone())),
        None => (None, None),
    };
    let rated = |level: Level, basis: Basis| Rating {
        level,
        basis,
        score,
        vector: vector.clone(),
    };
    if let Some(level) = urgency.and_then(urgency_level) {
        return rated(level, Basis::Urgency);
    }
    if let Some(score) = score {
        return rated(level_of_score(score), Basis::Cvss);
    }
    if let Some(level) = label.and_then(label_level) {
        return rated(level, Basis::Label);
    }
    Rating::default()
}

fn cvss_score(vector: &str) -> Option<Score> {
    let cvss = cvss::Cvss::from_str(vector.trim()).ok()?;
    let tenths = (cvss.score() * 10.0).round();
    (0.0..=100.0).contains(&tenths).then_some(Score(tenths as u8))
}

/// CVSS v3 and v4's qualitative scale (v2 has none; the same bands are used for it, as NVD
/// and grype do).
fn level_of_score(score: Score) -> Level {
    match score.0 {
        90.. => Level::Critical,
        70.. => Level::High,
        40.. => Level::Medium,
        1.. => Level::Low,
        0 => Level::Negligible,
    }
}

/// Debian's urgencies (the tracker's `urgency`, OSV's `ecosystem_specific.urgency`); a `**`
/// suffix marks one the team set before NVD scored it, and is the same level. `not yet
/// assigned` and `end-of-life` rate nothing.
fn urgency_level(urgency: &str) -> Option<Level> {
    match urgency.trim().trim_end_matches('*').trim() {
        "unimportant" => Some(Level::Negligible),
        "low" => Some(Level::Low),
        "medium" => Some(Level::Medium),
        "high" => Some(Level::High),
        _ => None,
    }
}

fn label_level(label: &str) -> Option<Level> {
    match label.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(Level::Critical),
        "HIGH" | "IMPORTANT" => Some(Level::High),
        "MODERATE" | "MEDIUM" => Some(Level::Medium),
        "LOW" => Some(Level::Low),
        "NEGLIGIBLE" => Some(Level::Negligible),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(text: &str) -> Severity {
        Severity {
            kind: "CVSS_V3".into(),
            score: text.into(),
        }
    }

    #[test]
    fn base_scores_are_the_specifications() {
        // NVD's scores for CVE-2024-6387 (8.1), CVE-2023-4911 (7.8) and CVE-2024-3094 (10.0).
        for (text, tenths, level) in [
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 81, Level::High),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78, Level::High),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100, Level::Critical),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 53, Level::Medium),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, Level::Negligible),
            // FIRST's v4.0 calculator: 9.3 for the all-high network vector.
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                93,
                Level::Critical,
            ),
            // A v2 vector (no prefix): 10.0.
            ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 100, Level::Critical),
        ] {
            let r = rate(&[vector(text)], None, None);
            assert_eq!(r.score.map(Score::tenths), Some(tenths), "{text}");
            assert_eq!((r.level, r.basis), (level, Basis::Cvss), "{text}");
        }
    }

    #[test]
    fn the_highest_vector_decides_and_broken_ones_are_skipped() {
        let r = rate(
            &[
                vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"),
                vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/garbage"),
                vector("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            ],
            Some("LOW"),
            None,
        );
        assert_eq!(r.level, Level::High);
        assert_eq!(
            r.vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H")
        );
        assert_eq!(serde_json::to_value(&r).unwrap()["score"], serde_json::json!(8.1));
    }

    #[test]
    fn debians_urgency_wins_then_cvss_then_the_word() {
        let high = [vector("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H")];
        let r = rate(&high, Some("CRITICAL"), Some("unimportant"));
        assert_eq!((r.level, r.basis), (Level::Negligible, Basis::Urgency));
        assert_eq!(r.score.map(Score::tenths), Some(81), "the score is still shown");
        assert_eq!(rate(&high, None, Some("not yet assigned")).basis, Basis::Cvss);
        assert_eq!(rate(&[], None, Some("low**")).level, Level::Low);
        assert_eq!(rate(&[], Some("MODERATE"), None).level, Level::Medium);
        assert_eq!(rate(&[], Some("whatever"), Some("end-of-life")), Rating::default());
        assert!(Level::Critical > Level::High && Level::Negligible > Level::Unknown);
        for level in [
            Level::Unknown,
            Level::Negligible,
            Level::Low,
            Level::Medium,
            Level::High,
            Level::Critical,
        ] {
            assert_eq!(serde_json::to_value(level).unwrap(), level.as_str(), "one spelling");
        }
    }
}
