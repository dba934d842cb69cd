//! The tick file format of backtests: CSV with the header
//! `ts,symbol,price,volume,bid,ask,exchange`, one tick per line.
//!
//! - `ts`: RFC 3339 UTC (`2026-01-02T03:04:05.25Z`) or integer microseconds since the epoch;
//!   times must not go backwards.
//! - `symbol`, `exchange`: non-empty text without commas or quotes.
//! - `price`, `volume`: decimals with at most 8 fractional digits; price above 0, volume 0 or more.
//! - `bid`, `ask`: decimals above 0, or empty when the venue sends no quote.
//!
//! Blank lines and lines starting with `#` are comments. Every other line is a tick or an
//! error: a file with bad lines is refused whole, with each bad line's number and why — no
//! line is skipped silently. Each tick gets an id derived from its time and line number, so
//! the same file always gives the same events.

use std::fmt::Write as _;

use maxx_events::{EventId, EventTime, FixedPoint, Producer, Tick};

use crate::time::parse_micros;

/// The header line the format requires.
pub const HEADER: &str = "ts,symbol,price,volume,bid,ask,exchange";

/// One bad line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// A tick file that could not be read: every bad line found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.lines))]
pub struct CsvError {
    /// The bad lines, in file order.
    pub lines: Vec<BadLine>,
}

fn describe(lines: &[BadLine]) -> String {
    let mut text = format!("{} bad line(s) in the tick file:", lines.len());
    for bad in lines.iter().take(50) {
        let _ = write!(text, "\n  line {}: {}", bad.line, bad.reason);
    }
    if lines.len() > 50 {
        let _ = write!(text, "\n  ... and {} more", lines.len() - 50);
    }
    text
}

/// The producer stamped on ticks read from a file.
pub fn file_producer() -> Producer {
    Producer { agent: "market_data".into(), version: "file".into(), instance: "backtest".into() }
}

fn decimal(name: &str, text: &str) -> Result<FixedPoint, String> {
    text.trim().parse::<FixedPoint>().map_err(|e| format!("{name} {text:?}: {e}"))
}

fn parse_line(number: usize, line: &str, producer: &Producer) -> Result<Tick, String> {
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() != 7 {
        return Err(format!("{} fields, expected 7 ({HEADER})", fields.len()));
    }
    let micros = parse_micros(fields[0]).map_err(|e| format!("ts: {e}"))?;
    let symbol = fields[1].trim();
    let exchange = fields[6].trim();
    if symbol.is_empty() || exchange.is_empty() || symbol.contains('"') || exchange.contains('"') {
        return Err("symbol and exchange must be non-empty and unquoted".into());
    }
    let price = decimal("price", fields[2])?;
    let volume = decimal("volume", fields[3])?;
    if !price.is_positive() {
        return Err(format!("price {price} is not above 0"));
    }
    if volume.is_negative() {
        return Err(format!("volume {volume} is negative"));
    }
    let quote = |name: &str, text: &str| -> Result<Option<FixedPoint>, String> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let value = decimal(name, text)?;
        if !value.is_positive() {
            return Err(format!("{name} {value} is not above 0"));
        }
        Ok(Some(value))
    };
    let (bid, ask) = (quote("bid", fields[4])?, quote("ask", fields[5])?);
    if let (Some(b), Some(a)) = (bid, ask) {
        if b > a {
            return Err(format!("bid {b} is above ask {a}"));
        }
    }
    let time = EventTime::from_micros(micros);
    let seq = i64::try_from(number).unwrap_or(i64::MAX);
    Ok(Tick {
        event_id: EventId::derive(time, &[b"backtest/tick", &seq.to_be_bytes(), symbol.as_bytes()]),
        event_time: time,
        producer: producer.clone(),
        symbol: symbol.to_owned(),
        exchange: exchange.to_owned(),
        price,
        volume,
        bid,
        ask,
        venue_seq: Some(seq),
    })
}

/// Parses a whole tick file.
///
/// # Errors
/// [`CsvError`] listing every bad line (a missing or wrong header is line 1).
pub fn parse(text: &str) -> Result<Vec<Tick>, CsvError> {
    let producer = file_producer();
    let mut ticks = Vec::new();
    let mut bad = Vec::new();
    let mut header_seen = false;
    let mut last_time = i64::MIN;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if line.trim() != HEADER {
                bad.push(BadLine { line: number, reason: format!("header {line:?}, expected {HEADER:?}") });
            }
            continue;
        }
        match parse_line(number, line, &producer) {
            Ok(tick) if tick.event_time.as_micros() < last_time => {
                bad.push(BadLine { line: number, reason: "time goes backwards (ticks must be in time order)".into() });
            }
            Ok(tick) => {
                last_time = tick.event_time.as_micros();
                ticks.push(tick);
            }
            Err(reason) => bad.push(BadLine { line: number, reason }),
        }
    }
    if !header_seen {
        bad.push(BadLine { line: 1, reason: format!("empty file: expected the header {HEADER:?}") });
    }
    if bad.is_empty() {
        Ok(ticks)
    } else {
        Err(CsvError { lines: bad })
    }
}

/// Writes ticks in this format (the inverse of [`parse`] up to event ids).
pub fn write(ticks: &[Tick]) -> String {
    let mut text = String::with_capacity(ticks.len() * 80);
    text.push_str(HEADER);
    text.push('\n');
    let opt = |v: Option<FixedPoint>| v.map(|v| v.to_string()).unwrap_or_default();
    for t in ticks {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{}",
            crate::time::format_micros(t.event_time.as_micros()),
            t.symbol,
            t.price,
            t.volume,
            opt(t.bid),
            opt(t.ask),
            t.exchange
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_lines_become_ticks_with_stable_ids() {
        let text = "# comment\nts,symbol,price,volume,bid,ask,exchange\n2026-01-02T00:00:00Z,BTCUSD,100.5,2,100,101,paper\n1767312000000001,ETHUSD,10,0,,,paper\n";
        let ticks = parse(text).expect("parses");
        assert_eq!(ticks.len(), 2);
        assert_eq!(ticks[0].price, "100.5".parse().expect("fp"));
        assert_eq!(ticks[0].bid, Some("100".parse().expect("fp")));
        assert_eq!(ticks[1].bid, None);
        assert_eq!(ticks[1].event_time.as_micros(), 1_767_312_000_000_001);
        assert_eq!(parse(text).expect("parses"), ticks, "same file, same events");
        assert_eq!(parse(&write(&ticks)).expect("round trip").iter().map(|t| (t.price, t.bid, t.event_time)).collect::<Vec<_>>(),
            ticks.iter().map(|t| (t.price, t.bid, t.event_time)).collect::<Vec<_>>());
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = "ts,symbol,price,volume,bid,ask,exchange\n\
            2026-01-02T00:00:01Z,BTCUSD,100,1,,,paper\n\
            2026-01-02T00:00:02Z,BTCUSD,-1,1,,,paper\n\
            2026-01-02T00:00:03Z,BTCUSD,100,1,,paper\n\
            not-a-time,BTCUSD,100,1,,,paper\n\
            2026-01-02T00:00:00Z,BTCUSD,100,1,,,paper\n\
            2026-01-02T00:00:04Z,BTCUSD,100,1,102,101,paper\n\
            2026-01-02T00:00:05Z,,100,1,,,paper\n";
        let error = parse(text).expect_err("bad lines");
        let lines: Vec<usize> = error.lines.iter().map(|b| b.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8]);
        assert!(error.to_string().contains("line 3: price -1 is not above 0"), "{error}");
        assert!(error.lines[3].reason.contains("backwards"));
        let header = parse("time,sym\n").expect_err("wrong header");
        assert_eq!(header.lines[0].line, 1);
        assert!(parse("").is_err(), "an empty file is not an empty backtest");
    }
}
