//! UTC instants as ISO-8601 text: the system clock, or a simulated one.
//!
//! Every audit entry and migration carries the instant of its transaction. A live trial uses the
//! system clock; a synthetic trial (`cryoseed demo`) sets a [`SimulatedClock`] so that its
//! records, audit trail included, are the same bytes on every run.

use cryoseed_response::Date;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a [`crate::Store`] reads the time of its transactions.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The system clock (UTC, microseconds).
    #[default]
    System,
    /// A simulated clock, moved forward by its owner.
    Simulated(SimulatedClock),
}

impl Clock {
    /// Now, as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub(crate) fn now(&self) -> String {
        match self {
            Clock::System => now_utc(),
            Clock::Simulated(clock) => clock.tick(),
        }
    }
}

/// A clock for simulated trials: it stands at a working-day instant its owner chooses, and each
/// reading advances it by one second, so transactions are strictly ordered and never share an
/// instant. It never goes backwards: [`SimulatedClock::advance_to`] an earlier day is ignored.
#[derive(Clone, Debug)]
pub struct SimulatedClock(Arc<Mutex<i64>>);

/// Simulated days start at 08:00 UTC.
const DAY_START_SECONDS: i64 = 8 * 3600;

impl SimulatedClock {
    /// A clock standing at 08:00 UTC on `date`.
    pub fn starting_on(date: Date) -> SimulatedClock {
        SimulatedClock(Arc::new(Mutex::new(i64::from(date.day_number()) * 86_400 + DAY_START_SECONDS)))
    }

    /// Moves the clock to 08:00 UTC on `date` when that is later than its current reading.
    pub fn advance_to(&self, date: Date) {
        let target = i64::from(date.day_number()) * 86_400 + DAY_START_SECONDS;
        let mut now = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now = (*now).max(target);
    }

    /// The current reading; the clock then advances by one second.
    fn tick(&self) -> String {
        let mut now = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = *now;
        *now += 1;
        format_utc(at, 0)
    }
}

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
    use super::{Date, SimulatedClock, format_utc};

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29T12:34:56Z = 951827696 (leap day of a century leap year).
        assert_eq!(format_utc(951_827_696, 7), "2000-02-29T12:34:56.000007Z");
        // 2026-11-28T08:40:45Z = 1795855245.
        assert_eq!(format_utc(1_795_855_245, 0), "2026-11-28T08:40:45.000000Z");
    }

    #[test]
    fn the_simulated_clock_ticks_by_seconds_and_never_goes_back() {
        let day = |t: &str| Date::parse(t).unwrap();
        let clock = SimulatedClock::starting_on(day("2024-02-28"));
        assert_eq!(clock.tick(), "2024-02-28T08:00:00.000000Z");
        assert_eq!(clock.tick(), "2024-02-28T08:00:01.000000Z");
        clock.advance_to(day("2024-03-01"));
        assert_eq!(clock.tick(), "2024-03-01T08:00:00.000000Z");
        clock.advance_to(day("2024-02-29"));
        assert_eq!(clock.tick(), "2024-03-01T08:00:01.000000Z");
    }
}
