//! Alpha as an agent: warm-up, hand-computed signals, material-change emission, sentiment
//! decay, governor weights, refusals, determinism and snapshots.

use maxx_events::{BlendWeights, BusEvent, EventId, EventTime, FixedPoint, GovernorWeights, Producer, SentimentScore, Signal, SignalSide, Tick};

use super::*;
use crate::contract::DynAgent;

const HALF_LIFE_SEC: u64 = 600;

fn fp(text: &str) -> FixedPoint {
    text.parse().expect("a number")
}

fn producer() -> Producer {
    Producer { agent: "maxx-test".into(), version: "0".into(), instance: "t-0".into() }
}

fn config() -> AlphaConfig {
    AlphaConfig {
        weights: WeightsConfig { momentum: FixedPoint::ONE, mean_reversion: FixedPoint::ONE, breakout: FixedPoint::ONE, sentiment: FixedPoint::ONE },
        momentum_window: 2,
        momentum_full_scale_pct: FixedPoint::ONE,
        mean_reversion_window: 3,
        mean_reversion_full_z: FixedPoint::ONE,
        breakout_window: 2,
        sentiment_half_life_sec: HALF_LIFE_SEC,
        signal_threshold: fp("0.1"),
        min_ticks: 3,
        min_score_change: fp("0.05"),
        ..AlphaConfig::default()
    }
}

fn time(seconds: i64) -> EventTime {
    EventTime::from_micros(1_764_000_000_000_000 + seconds * 1_000_000)
}

fn tick(seconds: i64, price: &str) -> BusEvent {
    let t = time(seconds);
    BusEvent::Tick(Tick {
        event_id: EventId::derive(t, &[b"tick", price.as_bytes()]),
        event_time: t,
        producer: producer(),
        symbol: "BTCUSD".into(),
        exchange: "synthetic".into(),
        price: fp(price),
        volume: FixedPoint::ONE,
        bid: None,
        ask: None,
        venue_seq: None,
    })
}

fn sentiment(seconds: i64, score: &str) -> BusEvent {
    let t = time(seconds);
    BusEvent::SentimentScore(SentimentScore {
        event_id: EventId::derive(t, &[b"sentiment", score.as_bytes()]),
        event_time: t,
        producer: producer(),
        symbol: "BTCUSD".into(),
        score: fp(score),
        source: "file".into(),
        item_id: "1".into(),
        title: None,
    })
}

fn governor(seconds: i64, weights: [&str; 4]) -> BusEvent {
    let t = time(seconds);
    BusEvent::GovernorWeights(GovernorWeights {
        event_id: EventId::derive(t, &[b"governor"]),
        event_time: t,
        producer: producer(),
        weights: BlendWeights { momentum: fp(weights[0]), mean_reversion: fp(weights[1]), breakout: fp(weights[2]), sentiment: fp(weights[3]) },
        kelly_clamp: None,
        reason: "test".into(),
    })
}

/// Feeds `events` to `alpha`; returns the signals and whether each input was accepted.
fn feed(alpha: &mut Alpha, events: &[BusEvent]) -> (Vec<Signal>, Vec<bool>) {
    let producer = producer();
    let mut signals = Vec::new();
    let mut accepted = Vec::new();
    for event in events {
        let mut outputs = Vec::new();
        let mut out = Emitter::new("alpha", &producer, event.event_id(), event.event_time(), &mut outputs);
        accepted.push(DynAgent::handle(alpha, event, &mut out).is_ok());
        signals.extend(outputs.into_iter().map(|e| Signal::try_from(e).expect("alpha emits signals only")));
    }
    (signals, accepted)
}

#[test]
fn no_signal_before_warm_up_then_hand_computed_components() {
    let mut alpha = Alpha::new(config());
    let (signals, _) = feed(&mut alpha, &[tick(0, "100"), tick(1, "101")]);
    assert!(signals.is_empty(), "two ticks < min_ticks 3");
    let (signals, _) = feed(&mut alpha, &[tick(2, "102")]);
    assert_eq!(signals.len(), 1);
    let s = &signals[0];
    // Prices [100, 101, 102]. Momentum: base 2 ticks back = 100, r = 0.02, / 0.01 = 2 -> 1.
    // Mean reversion (window 3): mean 101, variance (1 + 0 + 1) / 3, sd 0.8165, z = 1.2247,
    // −z / 1 -> clamped −1. Breakout: channel [100, 101], 102 > 101 -> 1. No sentiment: 0.
    assert_eq!(s.components.momentum, FixedPoint::ONE);
    assert_eq!(s.components.mean_reversion, fp("-1"));
    assert_eq!(s.components.breakout, FixedPoint::ONE);
    assert_eq!(s.components.sentiment, FixedPoint::ZERO);
    // Score (1 − 1 + 1 + 0) / 4 = 0.25; confidence |1| / (1 + 1 + 1) = 0.33333333.
    assert_eq!((s.score, s.confidence, s.side), (fp("0.25"), fp("0.33333333"), SignalSide::Buy));
    assert_eq!(s.weights, BlendWeights { momentum: FixedPoint::ONE, mean_reversion: FixedPoint::ONE, breakout: FixedPoint::ONE, sentiment: FixedPoint::ONE });
    let view = views::latest_signal(alpha.state(), "BTCUSD").expect("a signal");
    assert_eq!((view.score.as_str(), view.confidence.as_str(), view.side), ("0.25", "0.33333333", SignalSide::Buy));
    assert_eq!((view.components.mean_reversion.as_str(), view.weights.sentiment.as_str()), ("-1", "1"));
    let json = serde_json::to_value(&view).expect("serializes");
    assert_eq!(json["components"]["breakout"], "1");
    assert_eq!(views::latest_signal(alpha.state(), "ETHUSD"), None);
}

#[test]
fn sentiment_decays_by_event_time_inside_the_blend() {
    let mut alpha = Alpha::new(config());
    // Sentiment 0.8 at t=3; the tick at t = 3 + 600 (one half-life) sees 0.4.
    let (signals, _) = feed(&mut alpha, &[tick(0, "100"), tick(1, "101"), tick(2, "102"), sentiment(3, "0.8"), tick(3 + 600, "102")]);
    assert_eq!(signals.len(), 2);
    let s = &signals[1];
    // Prices [101, 102, 102] (history keeps 3). Momentum: (102 − 101) / 101 / 0.01 = 0.99009901.
    // Mean reversion: mean 101.6667, sd 0.4714045, z = 0.7071068 -> −0.70710678.
    // Breakout: channel [101, 102], 102 at the high: (102 − 101.5) / 0.5 = 1. Sentiment 0.4.
    assert_eq!(s.components.momentum, fp("0.99009901"));
    assert_eq!(s.components.mean_reversion, fp("-0.70710678"));
    assert_eq!(s.components.breakout, FixedPoint::ONE);
    assert_eq!(s.components.sentiment, fp("0.4"));
    // Score 1.68299223 / 4 = 0.42074805(75) -> 0.42074806;
    // confidence 1.68299223 / 3.09720579 = 0.54339050(88) -> 0.54339051.
    assert_eq!((s.score, s.confidence), (fp("0.42074806"), fp("0.54339051")));
}

#[test]
fn signals_are_emitted_only_on_material_change() {
    let mut alpha = Alpha::new(AlphaConfig { mean_reversion_window: 2, min_score_change: fp("0.5"), ..config() });
    // Constant prices: every component 0, FLAT; only the first signal after warm-up goes out.
    let (signals, _) = feed(&mut alpha, &[tick(0, "100"), tick(1, "100"), tick(2, "100"), tick(3, "100"), tick(4, "100")]);
    assert_eq!(signals.iter().map(|s| (s.side, s.score)).collect::<Vec<_>>(), vec![(SignalSide::Flat, FixedPoint::ZERO)]);
    // 100.1: momentum 0.001 / 0.01 = 0.1, breakout 1, mean reversion (window 2 [100, 100.1]):
    // z = 1 -> −1: score 0.1 / 4 = 0.025 — FLAT still and moved < 0.5: nothing.
    let (signals, _) = feed(&mut alpha, &[tick(5, "100.1")]);
    assert!(signals.is_empty(), "{signals:?}");
    // Governor weights (breakout only) change the weights in force: a new signal, score 1.
    let (signals, _) = feed(&mut alpha, &[governor(6, ["0", "0", "1", "0"]), tick(7, "100.2")]);
    assert_eq!(signals.len(), 1);
    assert_eq!((signals[0].score, signals[0].side, signals[0].weights.breakout), (FixedPoint::ONE, SignalSide::Buy, FixedPoint::ONE));
}

#[test]
fn governor_weights_replace_the_blend_and_bad_ones_are_refused() {
    let mut alpha = Alpha::new(config());
    let (_, accepted) = feed(&mut alpha, &[governor(0, ["0.5", "-0.1", "0", "0"]), governor(0, ["0", "0", "0", "0"])]);
    assert_eq!(accepted, vec![false, false]);
    assert_eq!(alpha.state().governor_weights, None, "refused weights leave the state as it was");
    let (signals, accepted) = feed(&mut alpha, &[governor(0, ["2", "0", "0", "0"]), tick(1, "100"), tick(2, "100.5"), tick(3, "100.25")]);
    assert_eq!(accepted, vec![true; 4]);
    // Momentum only (weight 2, normalized by 2): base 100, r = 0.0025 / 0.01 = 0.25.
    assert_eq!(signals[0].score, fp("0.25"));
    assert_eq!(signals[0].weights.momentum, fp("2"));
    assert_eq!(alpha.state().governor_weights.map(|w| w.momentum), Some(fp("2")));
}

#[test]
fn invalid_ticks_and_sentiment_are_refused_without_changing_state() {
    let mut alpha = Alpha::new(config());
    let (_, accepted) = feed(&mut alpha, &[tick(0, "0"), tick(1, "-5"), sentiment(2, "1.5")]);
    assert_eq!(accepted, vec![false, false, false]);
    assert_eq!(alpha.state(), &AlphaState::default());
}

#[test]
fn same_inputs_same_signals_and_a_restored_snapshot_continues_identically() {
    let events: Vec<BusEvent> = (0..40)
        .map(|i| {
            let price = 100 + (i * 7919 % 13) - 6;
            if i % 9 == 4 {
                sentiment(i, if i % 2 == 0 { "0.6" } else { "-0.7" })
            } else {
                tick(i * 60, &price.to_string())
            }
        })
        .collect();
    let mut whole = Alpha::new(config());
    let (all, _) = feed(&mut whole, &events);
    assert!(all.len() > 3, "the series moves enough to signal several times");
    let mut again = Alpha::new(config());
    assert_eq!(feed(&mut again, &events).0, all, "deterministic");

    let mut first = Alpha::new(config());
    let (mut split, _) = feed(&mut first, &events[..20]);
    let snapshot = DynAgent::snapshot(&first).expect("snapshot");
    let mut resumed = Alpha::new(config());
    DynAgent::restore_snapshot(&mut resumed, &snapshot).expect("restore");
    assert_eq!(resumed.state(), first.state());
    split.extend(feed(&mut resumed, &events[20..]).0);
    assert_eq!(split, all, "restored run continues identically");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn every_signal_stays_in_range(prices in proptest::collection::vec(1i64..1_000_000, 1..60), sentiment_score in -100i64..=100) {
            let mut alpha = Alpha::new(AlphaConfig { min_score_change: FixedPoint::ZERO, ..config() });
            let mut events = vec![sentiment(0, &format!("{}", sentiment_score as f64 / 100.0))];
            events.extend(prices.iter().enumerate().map(|(i, p)| tick(i as i64, &format!("{}.{:02}", p / 100, p % 100))));
            let (signals, accepted) = feed(&mut alpha, &events);
            prop_assert!(accepted.iter().all(|a| *a));
            let unit = |v: FixedPoint| v.abs() <= FixedPoint::ONE;
            for s in signals {
                let c = s.components;
                prop_assert!(unit(c.momentum) && unit(c.mean_reversion) && unit(c.breakout) && unit(c.sentiment), "{:?}", c);
                prop_assert!(unit(s.score));
                prop_assert!(!s.confidence.is_negative() && s.confidence <= FixedPoint::ONE);
                prop_assert_eq!(s.side == SignalSide::Flat, s.score.abs() < fp("0.1"));
            }
        }
    }
}
