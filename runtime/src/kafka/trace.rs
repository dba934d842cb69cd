//! W3C trace context on Kafka messages: the `traceparent` header of an input is carried onto
//! every output it caused, so a tick → signal → order → fill → pnl chain stays one trace.

use rdkafka::message::{BorrowedHeaders, Headers};

/// The header name (W3C Trace Context, lower case as the spec writes it).
pub const TRACEPARENT: &str = "traceparent";

/// The input's `traceparent`, when it has a well-formed one (`00-<32 hex>-<16 hex>-<2 hex>`).
/// A malformed value is not propagated, as the W3C spec asks.
pub fn traceparent(headers: Option<&BorrowedHeaders>) -> Option<Vec<u8>> {
    let headers = headers?;
    let value = headers.iter().find(|h| h.key.eq_ignore_ascii_case(TRACEPARENT))?.value?;
    is_valid(value).then(|| value.to_vec())
}

fn is_valid(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else { return false };
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    parts.len() >= 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && parts[1] != "0".repeat(32)
        && hex(parts[2], 16)
        && parts[2] != "0".repeat(16)
        && hex(parts[3], 2)
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn only_well_formed_traceparents_are_carried() {
        assert!(is_valid(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert!(!is_valid(b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), "upper case");
        assert!(!is_valid(b"00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "zero trace id");
        assert!(!is_valid(b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), "zero span id");
        assert!(!is_valid(b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "version ff");
        assert!(!is_valid(b"garbage"));
        assert!(!is_valid(&[0xff, 0xfe]));
    }
}
