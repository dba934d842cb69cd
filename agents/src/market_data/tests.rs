//! Normalizer tests per venue, from the recorded sessions in `feeds/fixtures/<venue>/` (the
//! same files the connector tests replay over the wire): ticks, duplicates, malformed
//! messages, control messages; plus the file source and the synthetic market.

use std::collections::BTreeMap;

use maxx_events::{EventTime, FixedPoint, Producer, Tick};

use super::*;

const BINANCE: &str = include_str!("../../../feeds/fixtures/binance/session.jsonl");
const COINBASE: &str = include_str!("../../../feeds/fixtures/coinbase/session.jsonl");
const BYBIT: &str = include_str!("../../../feeds/fixtures/bybit/session.jsonl");
const OANDA: &str = include_str!("../../../feeds/fixtures/oanda/session.jsonl");

/// 2026-11-25T12:00:00Z, the start of every recorded session.
const BASE_MICROS: i64 = 1_795_608_000_000_000;
const RECEIVED: EventTime = EventTime::from_micros(BASE_MICROS + 999_000);

fn producer() -> Producer {
    Producer { agent: "market_data".into(), version: "test".into(), instance: "market_data-0".into() }
}

fn p(text: &str) -> FixedPoint {
    text.parse().expect("a decimal")
}

fn normalizer(venue: Venue) -> Normalizer {
    let config = MarketDataConfig::default();
    Normalizer::new(venue, config.symbols(venue).clone(), config.dedupe_window, producer())
}

/// Feeds every line; returns the ticks and the errors by line number (1-based).
fn replay(normalizer: &mut Normalizer, session: &str) -> (Vec<Tick>, Vec<(usize, FeedError)>) {
    let mut ticks = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in session.lines().enumerate() {
        match normalizer.ingest(line, RECEIVED) {
            Ok(ingested) => ticks.extend(ingested.ticks),
            Err(error) => errors.push((i + 1, error)),
        }
    }
    (ticks, errors)
}

/// (symbol, `price x volume`, bid, ask, venue_seq).
type Row = (String, String, Option<String>, Option<String>, Option<i64>);

fn summary(ticks: &[Tick]) -> Vec<Row> {
    ticks
        .iter()
        .map(|t| (t.symbol.clone(), format!("{}x{}", t.price, t.volume), t.bid.map(|b| b.to_string()), t.ask.map(|a| a.to_string()), t.venue_seq))
        .collect()
}

fn s(text: &str) -> String {
    text.to_owned()
}

#[test]
fn binance_trades_and_book_tickers_normalize_with_duplicates_and_bad_prices_refused() {
    let mut n = normalizer(Venue::Binance);
    let (ticks, errors) = replay(&mut n, BINANCE);
    assert_eq!(
        summary(&ticks),
        vec![
            (s("BTCUSD"), s("94250.1x0.012"), None, None, Some(3_003_001)),
            // The book ticker has no price: the last trade's, with the book.
            (s("BTCUSD"), s("94250.1x0"), Some(s("94250")), Some(s("94250.2")), Some(71_000_001)),
            // No ETH trade had a book yet.
            (s("ETHUSD"), s("3050.55x0.5"), None, None, Some(1_500_001)),
            (s("BTCUSD"), s("94250.2x0.003"), Some(s("94250")), Some(s("94250.2")), Some(3_003_002)),
            (s("ETHUSD"), s("3050.55x0"), Some(s("3050.5")), Some(s("3050.6")), Some(52_000_001)),
            (s("BTCUSD"), s("94251x0.25"), Some(s("94250")), Some(s("94250.2")), Some(3_003_004)),
        ]
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 8);
    assert!(matches!(&errors[0].1, FeedError::BadNumber { field: "p", value, .. } if value == "not-a-price"), "{:?}", errors[0]);
    let counters = &n.state().counters;
    assert_eq!((counters.messages, counters.ticks, counters.duplicates, counters.malformed), (9, 6, 1, 1));
    // Trade time is the venue's `T`; a spot book ticker carries none, so receipt time.
    assert_eq!(ticks[0].event_time, EventTime::from_micros(BASE_MICROS + 123_000));
    assert_eq!(ticks[1].event_time, RECEIVED);
    assert!(ticks.iter().all(|t| t.exchange == "binance"));
    // Combined-stream wrappers are unwrapped; a shutdown notice is control, not an error.
    let wrapped = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1795608000901,"s":"BTCUSDT","t":3003009,"p":"94260.00000000","q":"0.10000000","T":1795608000900,"m":false,"M":true}}"#;
    assert_eq!(n.ingest(wrapped, RECEIVED).expect("wrapped trade").ticks[0].venue_seq, Some(3_003_009));
    assert!(n.ingest(r#"{"e":"serverShutdown","E":1795608001000}"#, RECEIVED).expect("notice").control);
    let refused = n.ingest(r#"{"code":2,"msg":"Invalid request: unknown variant"}"#, RECEIVED);
    assert!(matches!(refused, Err(FeedError::Venue { .. })), "{refused:?}");
    let wrapped_error = n.ingest(r#"{"error":{"code":2,"msg":"Invalid request"},"id":4}"#, RECEIVED);
    assert!(matches!(wrapped_error, Err(FeedError::Venue { ref message, .. }) if message.contains("Invalid request")), "{wrapped_error:?}");
}

#[test]
fn coinbase_tickers_normalize_and_heartbeats_are_control() {
    let mut n = normalizer(Venue::Coinbase);
    let (ticks, errors) = replay(&mut n, COINBASE);
    assert_eq!(
        summary(&ticks),
        vec![
            (s("BTCUSD"), s("94251.37x0.0042"), Some(s("94251.36")), Some(s("94251.37")), Some(81_000_000_001)),
            (s("ETHUSD"), s("3050.61x1.2"), Some(s("3050.6")), Some(s("3050.61")), Some(52_000_000_001)),
            (s("BTCUSD"), s("94251.1x0.015"), Some(s("94251.1")), Some(s("94251.11")), Some(81_000_000_005)),
            (s("BTCUSD"), s("94252.4x0.1"), Some(s("94252.39")), Some(s("94252.4")), Some(81_000_000_009)),
        ]
    );
    assert_eq!(ticks[0].event_time, EventTime::from_micros(BASE_MICROS + 123_000));
    assert_eq!(errors.iter().map(|(line, e)| (*line, e.kind())).collect::<Vec<_>>(), vec![(7, "bad_number")]);
    assert_eq!(n.state().counters.duplicates, 1);
    assert!(n.ingest(r#"{"type":"heartbeat","sequence":1,"last_trade_id":1,"product_id":"BTC-USD","time":"2026-11-25T12:00:00Z"}"#, RECEIVED).expect("heartbeat").control);
    let refused = n.ingest(r#"{"type":"error","message":"Failed to subscribe","reason":"XYZ-USD is not a valid product"}"#, RECEIVED);
    assert!(matches!(refused, Err(FeedError::Venue { ref message, .. }) if message.contains("XYZ-USD")), "{refused:?}");
}

#[test]
fn bybit_trades_and_ticker_deltas_merge_into_the_last_known_book() {
    let mut n = normalizer(Venue::Bybit);
    let (ticks, errors) = replay(&mut n, BYBIT);
    assert_eq!(
        summary(&ticks)
            .into_iter()
            .map(|(sym, px, bid, ask, seq)| (sym, px, bid, ask, seq.is_some()))
            .collect::<Vec<_>>(),
        vec![
            (s("BTCUSD"), s("94248.5x0"), Some(s("94248.4")), Some(s("94248.6")), true),
            (s("BTCUSD"), s("94248.6x0.01"), Some(s("94248.4")), Some(s("94248.6")), true),
            (s("BTCUSD"), s("94248.7x0.25"), Some(s("94248.4")), Some(s("94248.6")), true),
            // A delta with only the bid: last price and ask from before.
            (s("BTCUSD"), s("94248.7x0"), Some(s("94249")), Some(s("94248.6")), true),
            (s("ETHUSD"), s("3050.7x2.5"), None, None, true),
            (s("BTCUSD"), s("94250.1x0"), Some(s("94249")), Some(s("94250.2")), true),
        ]
    );
    assert_eq!(ticks[0].venue_seq, Some(4_410_000_001), "tickers are ordered by cross sequence");
    assert_ne!(ticks[1].venue_seq, ticks[2].venue_seq, "trade ids differ");
    assert_eq!(errors.iter().map(|(line, e)| (*line, e.kind())).collect::<Vec<_>>(), vec![(8, "malformed")]);
    assert_eq!(n.state().counters.duplicates, 2, "the resent trade batch");
    let refused = n.ingest(r#"{"success":false,"ret_msg":"error:handler not found","conn_id":"x","op":"subscribe"}"#, RECEIVED);
    assert!(matches!(refused, Err(FeedError::Venue { .. })), "{refused:?}");
}

#[test]
fn oanda_prices_normalize_to_mid_quotes_and_heartbeats_are_control() {
    let mut n = normalizer(Venue::Oanda);
    let (ticks, errors) = replay(&mut n, OANDA);
    assert_eq!(
        summary(&ticks),
        vec![
            (s("EURUSD"), s("1.05416x0"), Some(s("1.05412")), Some(s("1.0542")), Some(BASE_MICROS + 123_456)),
            (s("GBPUSD"), s("1.26809x0"), Some(s("1.26803")), Some(s("1.26815")), Some(BASE_MICROS + 1_250_000)),
            (s("EURUSD"), s("1.05419x0"), Some(s("1.05415")), Some(s("1.05423")), Some(BASE_MICROS + 1_500_000)),
            (s("USDJPY"), s("155.129x0"), Some(s("155.123")), Some(s("155.135")), Some(BASE_MICROS + 2_000_000)),
        ]
    );
    assert_eq!(errors.iter().map(|(line, e)| (*line, e.kind())).collect::<Vec<_>>(), vec![(6, "bad_time")]);
    assert_eq!(n.state().counters.duplicates, 1);
    // UNIX time format, and an error reply.
    let unix = n.ingest(r#"{"type":"PRICE","time":"1795608003.250000","bids":[{"price":"1.05500","liquidity":1}],"asks":[{"price":"1.05510","liquidity":1}],"instrument":"EUR_USD"}"#, RECEIVED);
    assert_eq!(unix.expect("unix time").ticks[0].event_time, EventTime::from_micros(BASE_MICROS + 3_250_000));
    assert!(matches!(n.ingest(r#"{"errorMessage":"Invalid value specified for 'instruments'"}"#, RECEIVED), Err(FeedError::Venue { .. })));
}

#[test]
fn garbage_never_panics_and_is_counted() {
    for venue in Venue::ALL {
        let mut n = normalizer(venue);
        for junk in ["", "{", "null", "[]", "42", "\"text\"", "{}", r#"{"type":7}"#, r#"{"e":"trade"}"#, r#"{"topic":"publicTrade.X","data":[{}]}"#, "\u{0}\u{ffff}"] {
            assert!(n.ingest(junk, RECEIVED).is_err(), "{venue}: {junk:?} accepted");
        }
        assert_eq!(n.state().counters.malformed, 11, "{venue}");
        assert!(n.state().dedupe.streams.is_empty() && n.state().books.is_empty(), "refused messages leave no trace");
    }
}

#[test]
fn non_positive_prices_are_refused() {
    let mut n = normalizer(Venue::Binance);
    let zero = r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"0.00000000","q":"1","T":1}"#;
    assert!(matches!(n.ingest(zero, RECEIVED), Err(FeedError::Implausible { .. })));
}

#[test]
fn unmapped_instruments_are_counted_not_published() {
    let mut n = Normalizer::new(Venue::Binance, BTreeMap::from([(s("BTCUSDT"), s("BTCUSD"))]), 16, producer());
    let (ticks, _) = replay(&mut n, BINANCE);
    assert!(ticks.iter().all(|t| t.symbol == "BTCUSD"));
    assert_eq!(n.state().counters.unmapped, 2);
}

#[test]
fn a_restored_normalizer_drops_what_it_had_already_published() {
    for (venue, session) in [(Venue::Binance, BINANCE), (Venue::Coinbase, COINBASE), (Venue::Bybit, BYBIT), (Venue::Oanda, OANDA)] {
        let mut first = normalizer(venue);
        let (ticks, _) = replay(&mut first, session);
        assert!(!ticks.is_empty());
        let snapshot = serde_json::to_string(first.state()).expect("state serializes");
        let mut second = normalizer(venue);
        second.restore(serde_json::from_str(&snapshot).expect("state deserializes"));
        let (again, _) = replay(&mut second, session);
        assert_eq!(again, Vec::new(), "{venue}: a replay after restart publishes nothing twice");
        // Ids are deterministic: a fresh normalizer gives the same ticks byte for byte.
        assert_eq!(replay(&mut normalizer(venue), session).0, ticks, "{venue}");
    }
}

#[test]
fn subscriptions_name_every_stream() {
    assert_eq!(binance::subscribe(&["BTCUSDT"], 3), r#"{"id":3,"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@bookTicker"]}"#);
    let coinbase: serde_json::Value = serde_json::from_str(&coinbase::subscribe(&["BTC-USD"])).expect("json");
    assert_eq!(coinbase["channels"], serde_json::json!(["ticker", "heartbeat"]));
    let bybit: serde_json::Value = serde_json::from_str(&bybit::subscribe(&["BTCUSDT"], 1)).expect("json");
    assert_eq!(bybit["args"], serde_json::json!(["publicTrade.BTCUSDT", "tickers.BTCUSDT"]));
    assert_eq!(oanda::stream_path("101-1", &["EUR_USD", "USD_JPY"]), "/v3/accounts/101-1/pricing/stream?instruments=EUR_USD%2CUSD_JPY");
}

#[test]
fn the_source_shell_dedupe_keys_ticks_by_exchange_symbol_and_kind() {
    let mut agent = MarketData::new(&MarketDataConfig::default());
    let (ticks, _) = replay(&mut normalizer(Venue::Binance), BINANCE);
    assert!(ticks.iter().all(|t| agent.admit(t)), "distinct ticks all pass");
    assert!(ticks.iter().all(|t| !agent.admit(t)), "and pass once");
}

#[test]
fn csv_rows_read_back_and_bad_rows_are_reported_with_their_line() {
    let text = format!(
        "{}\n2026-11-25T12:00:00.25Z,BTCUSD,94250.1,0.5,94250,94250.2,binance\n1795608001000000,EURUSD,1.0541,0,,,oanda\n\n# a comment\nnot-a-time,BTCUSD,1,1,,,x\n2026-11-25T12:00:02Z,BTCUSD,-3,1,,,binance\n2026-11-25T12:00:03Z,BTCUSD,3,1,4,2,binance\n2026-11-25T12:00:03Z,BTCUSD,3\n",
        csv::HEADER
    );
    let (ticks, errors) = csv::parse(&text, &producer());
    assert_eq!(ticks.len(), 2);
    assert_eq!(ticks[0].event_time, EventTime::from_micros(BASE_MICROS + 250_000));
    assert_eq!((ticks[0].bid, ticks[1].bid, ticks[1].venue_seq), (Some(p("94250")), None, Some(3)), "venue_seq is the line number");
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![6, 7, 8, 9]);
    let rows: Vec<String> = ticks.iter().map(csv::to_row).collect();
    let (again, none) = csv::parse(&format!("{}\n{}\n", csv::HEADER, rows.join("\n")), &producer());
    assert!(none.is_empty());
    let content = |t: &Tick| (t.event_time, t.symbol.clone(), t.price, t.volume, t.bid, t.ask, t.exchange.clone());
    assert_eq!(again.iter().map(content).collect::<Vec<_>>(), ticks.iter().map(content).collect::<Vec<_>>(), "written rows read back");
    let (nothing, header) = csv::parse("time,symbol\n1,2\n", &producer());
    assert!(nothing.is_empty() && header.len() == 1 && header[0].line == 1);
}

#[test]
fn the_synthetic_market_is_deterministic_per_seed_with_positive_spreads() {
    let config = SyntheticConfig::default();
    let run = |seed: u64| SyntheticMarket::new(SyntheticConfig { seed, ..config.clone() }, producer()).take(20_000).collect::<Vec<_>>();
    let first = run(7);
    assert_eq!(first, run(7), "same seed, same market");
    assert_ne!(first, run(8), "another seed, another market");
    let mut regimes = std::collections::BTreeSet::new();
    let mut market = SyntheticMarket::new(SyntheticConfig { seed: 7, ..config.clone() }, producer());
    for tick in first.iter() {
        let (bid, ask) = (tick.bid.expect("bid"), tick.ask.expect("ask"));
        assert!(bid.is_positive() && ask > bid, "spread positive: {tick:?}");
        assert!(tick.price == bid || tick.price == ask, "trades at the touch");
        assert!(tick.volume.is_positive());
        let next = market.next_tick().expect("tick");
        regimes.insert(format!("{:?}", market.regime(&next.symbol).expect("regime")).chars().take(4).collect::<String>());
    }
    assert_eq!(regimes.len(), 3, "calm, trending and volatile all occur: {regimes:?}");
    // Spreads are realistic: a few basis points of the price, not a percent.
    for tick in &first {
        let (bid, ask) = (tick.bid.expect("bid"), tick.ask.expect("ask"));
        let spread_bps = (ask.raw() - bid.raw()) as f64 / tick.price.raw() as f64 * 10_000.0;
        assert!(spread_bps < 10.0, "{spread_bps} bps for {tick:?}");
    }
    // Restoring the state continues the same series.
    let mut a = SyntheticMarket::new(config.clone(), producer());
    let _ = a.by_ref().take(100).count();
    let mut b = SyntheticMarket::new(config, producer());
    b.restore(a.state().clone());
    assert_eq!(a.take(50).collect::<Vec<_>>(), b.take(50).collect::<Vec<_>>());
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn sessions() -> Vec<(Venue, Vec<String>)> {
        [(Venue::Binance, BINANCE), (Venue::Coinbase, COINBASE), (Venue::Bybit, BYBIT), (Venue::Oanda, OANDA)]
            .into_iter()
            .map(|(venue, session)| (venue, session.lines().map(str::to_owned).collect()))
            .collect()
    }

    proptest! {
        /// Recorded messages cut short or with bytes overwritten never panic the parser:
        /// each is a tick, a control message or a typed error, and counted as such.
        #[test]
        fn damaged_messages_never_panic(venue in 0usize..4, line in 0usize..9, cut in 0usize..400, at in 0usize..400, byte in any::<u8>()) {
            let (venue, lines) = sessions().swap_remove(venue);
            let mut bytes = lines[line % lines.len()].clone().into_bytes();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            bytes.truncate(cut.max(1));
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let mut n = normalizer(venue);
            let result = n.ingest(&text, RECEIVED);
            let counters = &n.state().counters;
            prop_assert_eq!(counters.malformed, u64::from(result.is_err()));
            if let Ok(ingested) = result {
                prop_assert!(ingested.ticks.iter().all(|t| t.price.is_positive()));
            }
        }
    }
}
