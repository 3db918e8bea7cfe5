//! SOURCE_DATE_EPOCH, the one clock an output may read (reproducible-builds.org): every
//! timestamp sealkit writes comes from here, so the same inputs give the same bytes on any
//! machine at any time. A value that is not a number is an error, never silently replaced.

crate::error_codes! {
    BadSourceDateEpoch = "bad-source-date-epoch": "SOURCE_DATE_EPOCH is set but is not a whole number of seconds since 1970.",
}

/// LinuxKit's fixed build time (`defaultModTime`, 2017-04-18T16:30:00Z), used when
/// SOURCE_DATE_EPOCH is unset.
pub const LINUXKIT_BUILD_TIME: u64 = 1_492_533_000;

#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "SOURCE_DATE_EPOCH: {text:?} is not a number of seconds since 1970\n  hint: set it to an integer, e.g. \
     $(git log -1 --format=%ct), or unset it"
)]
pub struct EpochError {
    pub text: String,
}

impl EpochError {
    pub fn code(&self) -> Code {
        Code::BadSourceDateEpoch
    }
}

/// SOURCE_DATE_EPOCH when it is set.
pub fn from_env() -> Result<Option<u64>, EpochError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(text)) => Err(EpochError {
            text: text.to_string_lossy().into_owned(),
        }),
        Ok(text) => text.trim().parse::<u64>().map(Some).map_err(|_| EpochError { text }),
    }
}

/// SOURCE_DATE_EPOCH, or LinuxKit's fixed build time when it is unset.
pub fn source_date_epoch() -> Result<u64, EpochError> {
    Ok(from_env()?.unwrap_or(LINUXKIT_BUILD_TIME))
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(epoch: u64) -> String {
    let epoch = i64::try_from(epoch).unwrap_or(i64::MAX);
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

/// An RFC 3339 UTC time (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) as seconds since the epoch and
/// nanoseconds: what OSV, SLSA and Sigstore's trusted roots write. Offsets other than `Z` are
/// refused; fraction digits past the ninth are dropped.
pub fn parse_rfc3339(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hh, mm, ss) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction.find(|c: char| !c.is_ascii_digit()).unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        nanos = format!("{:0<9}", &fraction[..end.min(9)]).parse::<u32>().ok()?;
        rest = &fraction[end..];
    }
    if !matches!(rest, "Z" | "z") {
        return None;
    }
    // Howard Hinnant's days_from_civil, the inverse of [`rfc3339`].
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss, nanos))
}

/// [`parse_rfc3339`] in milliseconds since the epoch.
pub fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    parse_rfc3339(text).map(|(secs, nanos)| secs * 1000 + i64::from(nanos / 1_000_000))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_what_it_writes() {
        for t in [0, super::LINUXKIT_BUILD_TIME, 951_782_400, 1_893_456_000] {
            assert_eq!(super::parse_rfc3339_millis(&super::rfc3339(t)), Some(t as i64 * 1000));
        }
        assert_eq!(
            super::parse_rfc3339_millis("2022-12-31T23:59:59.999Z"),
            Some(1_672_531_199_999)
        );
        assert_eq!(
            super::parse_rfc3339_millis("2021-01-12T11:53:27.5Z"),
            Some(1_610_452_407_500)
        );
        for bad in [
            "",
            "2022-12-31",
            "2022-12-31T23:59:59+01:00",
            "2022-13-01T00:00:00Z",
            "2022-12-31T23:59:59.Z",
        ] {
            assert_eq!(super::parse_rfc3339_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(super::LINUXKIT_BUILD_TIME), "2017-04-18T16:30:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
