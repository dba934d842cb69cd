//! Venue timestamps to [`EventTime`]: RFC 3339 strings (Coinbase, OANDA) and epoch
//! milliseconds (Binance, Bybit), with no clock and no date library.

use maxx_events::EventTime;

/// Days from 1970-01-01 to the civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; fractions beyond microseconds are
/// truncated. `None` when it is not such a time.
pub fn parse_rfc3339(text: &str) -> Option<EventTime> {
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
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
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
        rest = &fraction[digits..];
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
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds.checked_mul(1_000_000)?.checked_add(micros).map(EventTime::from_micros)
}

/// Epoch milliseconds to an event time.
pub fn from_millis(millis: i64) -> Option<EventTime> {
    millis.checked_mul(1_000).map(EventTime::from_micros)
}

/// Writes an event time as RFC 3339 with microseconds (`2026-11-25T12:00:00.000001Z`).
pub fn to_rfc3339(time: EventTime) -> String {
    let micros = time.as_micros();
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z", of_day / 3600, of_day % 3600 / 60, of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn venue_times_read_to_the_microsecond() {
        // 2017-09-02T17:05:49Z is 1504371949 s after the epoch.
        assert_eq!(parse_rfc3339("2017-09-02T17:05:49.250000Z"), Some(EventTime::from_micros(1_504_371_949_250_000)));
        assert_eq!(parse_rfc3339("2017-09-02T17:05:49Z"), Some(EventTime::from_micros(1_504_371_949_000_000)));
        // Nanoseconds (OANDA) are truncated to microseconds.
        assert_eq!(parse_rfc3339("2017-09-02T17:05:49.123456789Z"), Some(EventTime::from_micros(1_504_371_949_123_456)));
        assert_eq!(parse_rfc3339("2017-09-02T19:05:49.5+02:00"), Some(EventTime::from_micros(1_504_371_949_500_000)));
        for bad in ["", "2017-09-02", "2017-13-02T17:05:49Z", "2017-09-02T17:05:49", "2017-09-02T17:05:49.Z", "x017-09-02T17:05:49Z", "2017-09-02T17:05:49+0200"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn written_times_read_back(micros in -2_000_000_000_000_000i64..8_000_000_000_000_000) {
            let time = EventTime::from_micros(micros);
            prop_assert_eq!(parse_rfc3339(&to_rfc3339(time)), Some(time));
        }
    }
}
