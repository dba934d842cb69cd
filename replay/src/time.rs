//! Event times as people write them on the command line: RFC 3339 (`2026-01-02T03:04:05Z`;
//! [`EventTime::parse_rfc3339`]) or integer microseconds since the Unix epoch, and back.

use maxx_events::EventTime;

/// A time that is neither RFC 3339 nor integer microseconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a time: use RFC 3339 in UTC (2026-01-02T03:04:05Z) or microseconds since the epoch")]
pub struct BadTime {
    /// The text given.
    pub text: String,
}

/// Parses a time into microseconds since the epoch.
///
/// # Errors
/// [`BadTime`] when the text is neither form, or a field is out of range.
pub fn parse_micros(text: &str) -> Result<i64, BadTime> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-')) {
        return t.parse().map_err(|_| BadTime { text: text.to_owned() });
    }
    EventTime::parse_rfc3339(t).map(EventTime::as_micros).ok_or_else(|| BadTime { text: text.to_owned() })
}

/// Formats microseconds since the epoch as RFC 3339 UTC with six fractional digits.
pub fn format_micros(micros: i64) -> String {
    EventTime::from_micros(micros).to_rfc3339()
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
        assert_eq!(parse_micros("2026-01-02T04:04:05.1234567+01:00"), Ok(1_767_323_045_123_456), "any offset; below a microsecond is cut");
        for bad in ["", "2026-02-30T00:00:00Z", "2026-01-02T03:04:05", "2026-01-02T24:00:00Z", "yesterday", "2026-1-2T03:04:05Z"] {
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
