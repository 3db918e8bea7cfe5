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

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(super::LINUXKIT_BUILD_TIME), "2017-04-18T16:30:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
