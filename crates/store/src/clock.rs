//! UTC instants as ISO-8601 text (the store's only clock).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds).
pub(crate) fn now_utc() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format_utc(since.as_secs() as i64, since.subsec_micros())
}

/// `seconds` from now (negative: before now), in the same format as [`now_utc`], so that
/// instants compare as text.
pub(crate) fn utc_in(seconds: i64) -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format_utc(since.as_secs() as i64 + seconds, since.subsec_micros())
}

/// Formats seconds since the Unix epoch (civil-from-days, H. Hinnant's algorithm).
pub(crate) fn format_utc(secs: i64, micros: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29T12:34:56Z = 951827696 (leap day of a century leap year).
        assert_eq!(format_utc(951_827_696, 7), "2000-02-29T12:34:56.000007Z");
        // 2026-11-28T08:40:45Z = 1795855245.
        assert_eq!(format_utc(1_795_855_245, 0), "2026-11-28T08:40:45.000000Z");
    }
}
