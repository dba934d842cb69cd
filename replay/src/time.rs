//! Event times as people write them: RFC 3339 in UTC (`2026-01-02T03:04:05Z`, with up to six
//! fractional digits) or integer microseconds since the Unix epoch, and back. Pure
//! arithmetic on the proleptic Gregorian calendar, no clock.

/// A time that is neither RFC 3339 UTC nor integer microseconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a time: use RFC 3339 in UTC (2026-01-02T03:04:05Z) or microseconds since the epoch")]
pub struct BadTime {
    /// The text given.
    pub text: String,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Parses a time into microseconds since the epoch.
///
/// # Errors
/// [`BadTime`] when the text is neither form, or a field is out of range.
pub fn parse_micros(text: &str) -> Result<i64, BadTime> {
    let bad = || BadTime { text: text.to_owned() };
    let t = text.trim();
    if !t.is_empty() && t.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-')) {
        return t.parse().map_err(|_| bad());
    }
    let t = t.strip_suffix('Z').or_else(|| t.strip_suffix("+00:00")).ok_or_else(bad)?;
    let (date, clock) = t.split_once(['T', ' ']).ok_or_else(bad)?;
    let num = |s: &str, len: usize| -> Result<i64, BadTime> {
        if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let mut d = date.split('-');
    let (year, month, day) = match (d.next(), d.next(), d.next(), d.next()) {
        (Some(y), Some(m), Some(dd), None) => (num(y, 4)?, num(m, 2)?, num(dd, 2)?),
        _ => return Err(bad()),
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) if !f.is_empty() && f.len() <= 6 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits: i64 = f.parse().map_err(|_| bad())?;
            (hms, digits * 10_i64.pow(6 - u32::try_from(f.len()).map_err(|_| bad())?))
        }
        Some(_) => return Err(bad()),
        None => (clock, 0),
    };
    let mut c = hms.split(':');
    let (hour, minute, second) = match (c.next(), c.next(), c.next(), c.next()) {
        (Some(h), Some(m), Some(s), None) => (num(h, 2)?, num(m, 2)?, num(s, 2)?),
        _ => return Err(bad()),
    };
    let days_in_month = [31, if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let month_ok = (1..=12).contains(&month);
    if !month_ok || day < 1 || day > days_in_month[usize::try_from(month - 1).map_err(|_| bad())?] || hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    Ok(seconds * 1_000_000 + fraction)
}

/// Formats microseconds since the epoch as RFC 3339 UTC with six fractional digits.
pub fn format_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z", rest / 3_600, rest % 3_600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_times_parse() {
        assert_eq!(parse_micros("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_micros("2026-01-02T03:04:05Z"), Ok(1_767_323_045_000_000));
        assert_eq!(parse_micros("2026-01-02T03:04:05.5Z"), Ok(1_767_323_045_500_000));
        assert_eq!(parse_micros("2024-02-29T00:00:00+00:00"), Ok(1_709_164_800_000_000));
        assert_eq!(parse_micros("1767323045000000"), Ok(1_767_323_045_000_000));
        for bad in ["", "2026-02-30T00:00:00Z", "2026-01-02T03:04:05", "2026-01-02T24:00:00Z", "yesterday", "2026-1-2T03:04:05Z", "2026-01-02T03:04:05.1234567Z"] {
            assert!(parse_micros(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn formatting_and_parsing_round_trip(micros in -2_000_000_000_000_000_i64..4_000_000_000_000_000) {
            prop_assert_eq!(parse_micros(&format_micros(micros)), Ok(micros));
        }
    }
}
