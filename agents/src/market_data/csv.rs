//! The file source: ticks from CSV with the header `ts,symbol,price,volume,bid,ask,exchange`
//! (the same header the replay tool reads and writes for backtests).
//!
//! `ts` is RFC 3339 (`2026-11-25T12:00:00.25Z`) or integer epoch microseconds; prices and
//! sizes are plain decimals; `bid`/`ask` may be empty. Blank lines and lines starting with
//! `#` are comments. A row's `venue_seq` is its line number in the file (as in the replay
//! tool's reader), so a file read twice gives the same ticks, ids included. As a live source,
//! bad rows are reported with their line and skipped; they never stop the file (a backtest,
//! which must not run on a partial file, refuses it whole instead).

use maxx_events::{EventId, EventTime, FixedPoint, Producer, Tick};

use super::time::{parse_rfc3339, to_rfc3339};

/// The header every tick CSV starts with.
pub const HEADER: &str = "ts,symbol,price,volume,bid,ask,exchange";

/// A row (or the header) that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct CsvError {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// Reads a whole CSV text: the ticks of the good rows, and an error per bad row.
///
/// # Errors
/// A header other than [`HEADER`] is reported as the only error (no row is read).
pub fn parse(text: &str, producer: &Producer) -> (Vec<Tick>, Vec<CsvError>) {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim().trim_start_matches('\u{feff}') == HEADER => {}
        Some((_, header)) => return (Vec::new(), vec![CsvError { line: 1, problem: format!("header {header:?} is not {HEADER:?}") }]),
        None => return (Vec::new(), Vec::new()),
    }
    let mut ticks = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let row = i64::try_from(index + 1).unwrap_or(i64::MAX);
        match parse_row(line, row, producer) {
            Ok(tick) => ticks.push(tick),
            Err(problem) => errors.push(CsvError { line: index + 1, problem }),
        }
    }
    (ticks, errors)
}

/// Reads one data row; `row` (its line number) becomes its `venue_seq`.
///
/// # Errors
/// What is wrong with the row, in words.
pub fn parse_row(line: &str, row: i64, producer: &Producer) -> Result<Tick, String> {
    let cells: Vec<&str> = line.trim_end_matches('\r').split(',').map(str::trim).collect();
    let [ts, symbol, price, volume, bid, ask, exchange] = cells.as_slice() else {
        return Err(format!("{} cells; the header has 7", cells.len()));
    };
    let time = parse_ts(ts).ok_or_else(|| format!("ts {ts:?} is neither RFC 3339 nor epoch microseconds"))?;
    let decimal = |name: &str, text: &str| text.parse::<FixedPoint>().map_err(|e| format!("{name}: {e}"));
    let optional = |name: &str, text: &str| if text.is_empty() { Ok(None) } else { decimal(name, text).map(Some) };
    if symbol.is_empty() || exchange.is_empty() {
        return Err("symbol and exchange must not be empty".into());
    }
    let price = decimal("price", price)?;
    if !price.is_positive() {
        return Err(format!("price {price} is not positive"));
    }
    let volume = decimal("volume", volume)?;
    if volume.is_negative() {
        return Err(format!("volume {volume} is negative"));
    }
    let (bid, ask) = (optional("bid", bid)?, optional("ask", ask)?);
    if [bid, ask].into_iter().flatten().any(|q| !q.is_positive()) {
        return Err("bid and ask must be above 0 when given".into());
    }
    if let (Some(b), Some(a)) = (bid, ask) {
        if b > a {
            return Err(format!("bid {b} is above ask {a}"));
        }
    }
    Ok(Tick {
        event_id: EventId::derive(time, &[b"csv", exchange.as_bytes(), symbol.as_bytes(), &row.to_be_bytes()]),
        event_time: time,
        producer: producer.clone(),
        symbol: (*symbol).to_owned(),
        exchange: (*exchange).to_owned(),
        price,
        volume,
        bid,
        ask,
        venue_seq: Some(row),
    })
}

fn parse_ts(text: &str) -> Option<EventTime> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return text.parse().ok().map(EventTime::from_micros);
    }
    parse_rfc3339(text)
}

/// Writes a tick as a CSV row (RFC 3339 time), the inverse of [`parse_row`].
pub fn to_row(tick: &Tick) -> String {
    let optional = |v: Option<FixedPoint>| v.map(|v| v.to_string()).unwrap_or_default();
    format!("{},{},{},{},{},{},{}", to_rfc3339(tick.event_time), tick.symbol, tick.price, tick.volume, optional(tick.bid), optional(tick.ask), tick.exchange)
}
