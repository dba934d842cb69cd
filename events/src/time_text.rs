//! [`EventTime`] as text: RFC 3339 (`2026-11-25T12:00:00.000001Z`), the one way MAXX writes
//! and reads times for people — logs, reports, venue timestamps, command-line flags. Pure
//! arithmetic on the proleptic Gregorian calendar (H. Hinnant's day algorithms), no clock
//! and no date library.

use crate::primitives::EventTime;

/// Days from 1970-01-01 to a civil date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl EventTime {
    /// RFC 3339 in UTC with microseconds: `2026-11-25T12:00:00.000001Z`.
    pub fn to_rfc3339(self) -> String {
        let micros = self.as_micros();
        let seconds = micros.div_euclid(1_000_000);
        let fraction = micros.rem_euclid(1_000_000);
        let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z", of_day / 3600, of_day % 3600 / 60, of_day % 60)
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`t` or a space may separate date
    /// and time); digits beyond microseconds are truncated. `None` when it is not such a
    /// time or a field is out of range (30 February, hour 24, ...).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') || bytes[13] != b':' || bytes[16] != b':' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok()).flatten()
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = text.get(19..)?;
        let mut micros = 0i64;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            for b in fraction.bytes().take(digits.min(6)) {
                micros = micros * 10 + i64::from(b - b'0');
            }
            for _ in digits.min(6)..6 {
                micros *= 10;
            }
            rest = fraction.get(digits..)?;
        }
        let offset_seconds = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return None,
                };
                if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                    return None;
                }
                let hours: i64 = rest.get(1..3)?.parse().ok()?;
                let minutes: i64 = rest.get(4..6)?.parse().ok()?;
                if hours > 23 || minutes > 59 {
                    return None;
                }
                sign * (hours * 3600 + minutes * 60)
            }
        };
        let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
        seconds.checked_mul(1_000_000)?.checked_add(micros).map(Self::from_micros)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_times_read_and_write() {
        let t = EventTime::parse_rfc3339("2026-01-02T03:04:05Z").expect("a time");
        assert_eq!(t.as_micros(), 1_767_323_045_000_000);
        assert_eq!(t.to_rfc3339(), "2026-01-02T03:04:05.000000Z");
        assert_eq!(EventTime::parse_rfc3339("2017-09-02T17:05:49.123456789Z").map(EventTime::as_micros), Some(1_504_371_949_123_456));
        assert_eq!(EventTime::parse_rfc3339("2026-03-29T02:30:00+01:00"), EventTime::parse_rfc3339("2026-03-29T01:30:00Z"));
        assert_eq!(EventTime::from_micros(-1).to_rfc3339(), "1969-12-31T23:59:59.999999Z");
        assert_eq!(EventTime::parse_rfc3339("2024-02-29T00:00:00Z").map(|t| t.to_rfc3339()), Some("2024-02-29T00:00:00.000000Z".into()));
    }

    #[test]
    fn impossible_times_are_refused() {
        for bad in ["2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+25:00", "not a time at all!!", "2026-01-01T00:00:00é"] {
            assert_eq!(EventTime::parse_rfc3339(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn writing_then_reading_gives_the_same_time(micros in -62_135_596_800_000_000_i64..253_402_300_799_999_999) {
            let time = EventTime::from_micros(micros);
            prop_assert_eq!(EventTime::parse_rfc3339(&time.to_rfc3339()), Some(time));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
            let _ = EventTime::parse_rfc3339(&text);
        }
    }
}
