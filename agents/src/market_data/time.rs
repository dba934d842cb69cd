//! Venue timestamps to [`EventTime`]: RFC 3339 strings (Coinbase, OANDA) and epoch
//! milliseconds (Binance, Bybit), with no clock and no date library.

use maxx_events::EventTime;

/// Parses an RFC 3339 time (see [`EventTime::parse_rfc3339`]); `None` when it is not one.
pub fn parse_rfc3339(text: &str) -> Option<EventTime> {
    EventTime::parse_rfc3339(text)
}

/// Epoch milliseconds to an event time.
pub fn from_millis(millis: i64) -> Option<EventTime> {
    millis.checked_mul(1_000).map(EventTime::from_micros)
}

/// Writes an event time as RFC 3339 with microseconds (`2026-11-25T12:00:00.000001Z`).
pub fn to_rfc3339(time: EventTime) -> String {
    time.to_rfc3339()
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
