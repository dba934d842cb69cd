//! MetaGovernor tests: attribution through the agent, validation refusing a worse blend and
//! publishing a better one, the schedule across days, learning off, the Kelly clamp and its
//! release, refused inputs and the snapshot round trip.

use maxx_events::{BlendWeights, BusEvent, CommandKind, EventId, EventTime, FixedPoint, GovernorWeights, Pnl, Position, Signal, SignalComponents, SignalSide};

use super::backtest::{run as backtest, validate};
use super::govern::{propose_reweight, validate_weights, Proposal};
use super::learning::{self, StepParams};
use super::*;
use crate::alpha::{AlphaConfig, WeightsConfig};
use crate::contract::DynAgent;
use crate::portfolio::fixtures::{accept, command, fp, producer, run, tick, DAY_US};

const MINUTE_US: i64 = 60_000_000;
/// 2026-11-25 00:00 UTC (a Wednesday), as days since the epoch.
const DAY0: i64 = 20_417;

fn at(day: i64, hour: i64, minute: i64) -> i64 {
    (DAY0 + day) * DAY_US + (hour * 60 + minute) * MINUTE_US
}

fn id(time_us: i64, tag: u8) -> EventId {
    let mut entropy = [tag; 10];
    entropy[..8].copy_from_slice(&time_us.to_be_bytes());
    EventId::at(EventTime::from_micros(time_us), entropy)
}

fn weights(values: [&str; 4]) -> BlendWeights {
    learning::from_array(values.map(fp))
}

fn signal(time_us: i64, symbol: &str, components: [&str; 4], blend: [&str; 4]) -> BusEvent {
    let [momentum, mean_reversion, breakout, sentiment] = components.map(fp);
    Signal {
        event_id: id(time_us, 20),
        event_time: EventTime::from_micros(time_us),
        producer: producer("alpha"),
        symbol: symbol.into(),
        score: FixedPoint::ZERO,
        side: SignalSide::Flat,
        confidence: FixedPoint::ZERO,
        components: SignalComponents { momentum, mean_reversion, breakout, sentiment },
        weights: weights(blend),
    }
    .into()
}

fn pnl(time_us: i64, equity: &str, realized: &str, positions: &[(&str, &str)]) -> BusEvent {
    Pnl {
        event_id: id(time_us, 21),
        event_time: EventTime::from_micros(time_us),
        producer: producer("portfolio"),
        equity: fp(equity),
        cash: fp(equity),
        realized: fp(realized),
        unrealized: FixedPoint::ZERO,
        fees: FixedPoint::ZERO,
        lockbox: FixedPoint::ZERO,
        positions: positions
            .iter()
            .map(|(symbol, qty)| Position { symbol: (*symbol).into(), qty: fp(qty), avg_price: fp("100"), mark_price: fp("100"), unrealized: FixedPoint::ZERO })
            .collect(),
    }
    .into()
}

fn published(outputs: &[BusEvent]) -> Vec<&GovernorWeights> {
    outputs.iter().filter_map(|e| if let BusEvent::GovernorWeights(g) = e { Some(g) } else { None }).collect()
}

/// A configuration whose chain trades visibly on short series: short windows, a large
/// per-trade cap, learning each minute, validation from 20 ticks with no margin.
fn config() -> AgentConfig {
    let mut config = AgentConfig {
        alpha: AlphaConfig { min_ticks: 5, momentum_window: 3, mean_reversion_window: 4, breakout_window: 3, ..AlphaConfig::default() },
        ..AgentConfig::default()
    };
    config.risk.max_trade_risk_pct = fp("20");
    config.meta_governor.min_validation_ticks = 20;
    config.meta_governor.validation_margin_pct = FixedPoint::ZERO;
    config.meta_governor.reweight_cron = "10 0 * * *".into();
    config
}

/// A steady uptrend of `n` ticks from `start_us`, one a second: +0.2 % a tick, 1 cent either
/// side. Momentum and breakout say buy, mean reversion says sell: momentum clearly wins.
fn uptrend(start_us: i64, n: i64) -> Vec<BusEvent> {
    (0..n)
        .map(|i| {
            let cents = 10_000 + i * 20;
            let text = |c: i64| format!("{}.{:02}", c / 100, c % 100);
            tick(start_us + i * 1_000_000, "BTCUSD", &text(cents), Some((&text(cents - 1), &text(cents + 1))))
        })
        .collect()
}

fn ticks_of(events: &[BusEvent]) -> std::collections::VecDeque<RecentTick> {
    events.iter().filter_map(|e| if let BusEvent::Tick(t) = e { Some(RecentTick::of(t)) } else { None }).collect()
}

fn feed(governor: &mut MetaGovernor, events: &[BusEvent]) -> Vec<BusEvent> {
    events.iter().flat_map(|e| accept(governor, e)).collect()
}

#[test]
fn realized_pnl_is_credited_to_the_entry_signal_of_the_reduced_position() {
    let mut governor = MetaGovernor::new(&config());
    let blend = ["0.5", "0.3", "0.2", "0"];
    let outputs = feed(
        &mut governor,
        &[
            pnl(at(0, 1, 0), "100000", "0", &[]),
            // The long is entered on this signal: w·s = 0.4, −0.12, 0.1, 0 (Σ|w·s| = 0.62).
            signal(at(0, 1, 1), "BTCUSD", ["0.8", "-0.4", "0.5", "0"], blend),
            pnl(at(0, 1, 2), "100000", "0", &[("BTCUSD", "2")]),
            // A later, opposite signal does not change the entry.
            signal(at(0, 1, 3), "BTCUSD", ["-1", "1", "0", "0"], blend),
            // Half closed for +62: momentum 62×0.4/0.62 = 40, reversion −12, breakout 10.
            pnl(at(0, 1, 4), "100062", "62", &[("BTCUSD", "1")]),
            // The rest closed for −31: momentum −20, reversion +6, breakout −5.
            pnl(at(0, 1, 5), "100031", "31", &[]),
            // Realized moves without any position reduced: unattributed.
            pnl(at(0, 1, 6), "100038", "38", &[]),
        ],
    );
    assert!(outputs.is_empty(), "attribution publishes nothing by itself");
    let state = governor.state();
    assert_eq!(state.attribution_totals.as_array(), [fp("20"), fp("-6"), fp("5"), FixedPoint::ZERO]);
    assert_eq!(state.attribution_window, state.attribution_totals);
    assert_eq!(state.unattributed, fp("7"));
    assert!(state.entry_signals.is_empty(), "closed positions forget their entry");
    let view = views::governor(governor.config(), state);
    assert_eq!((view.attribution_totals.momentum.as_str(), view.unattributed.as_str()), ("20", "7"));
}

#[test]
fn a_better_candidate_is_accepted_and_a_worse_one_refused() {
    let config = config();
    let ticks = ticks_of(&uptrend(at(0, 0, 0), 60));
    let replayed: Vec<_> = ticks.iter().map(RecentTick::to_tick).collect();
    let momentum = weights(["0.85", "0.05", "0.05", "0.05"]);
    let reversion = weights(["0.05", "0.85", "0.05", "0.05"]);
    let trend = backtest(&config, &momentum, &replayed).expect("runs");
    let fade = backtest(&config, &reversion, &replayed).expect("runs");
    assert!(trend.fills > 0 && fade.fills > 0, "both trade: {trend:?} {fade:?}");
    assert!(trend.end_equity > trend.start_equity, "riding the trend earns: {trend:?}");
    assert!(fade.end_equity < trend.end_equity, "fading it does worse: {fade:?}");
    let at_time = EventTime::from_micros(at(0, 2, 0));
    let better = validate(&config, &reversion, &momentum, &ticks, at_time);
    assert!(better.accepted, "{}", better.reason);
    assert_eq!(better.candidate_result, Some(trend));
    let worse = validate(&config, &momentum, &reversion, &ticks, at_time);
    assert!(!worse.accepted);
    assert!(worse.reason.starts_with("refused: candidate equity"), "{}", worse.reason);
    // A margin as large as the gap lets the worse one through; one raw unit less does not.
    let gap = trend.end_equity.checked_sub(fade.end_equity).expect("small");
    let percent = |money: FixedPoint| money.checked_mul_div(fp("100"), trend.start_equity).expect("small");
    let mut lenient = config.clone();
    // The margin in money is start × pct ÷ 100, rounded: pick the pct that rounds to ≥ gap.
    lenient.meta_governor.validation_margin_pct = FixedPoint::from_raw(percent(gap).raw() + 1);
    assert!(validate(&lenient, &momentum, &reversion, &ticks, at_time).accepted);
    lenient.meta_governor.validation_margin_pct = FixedPoint::from_raw(percent(gap).raw() - 1);
    assert!(!validate(&lenient, &momentum, &reversion, &ticks, at_time).accepted);
    // Too few ticks: nothing is validated.
    let few: std::collections::VecDeque<_> = ticks.iter().take(19).cloned().collect();
    let refused = validate(&config, &reversion, &momentum, &few, at_time);
    assert!(!refused.accepted && refused.current_result.is_none(), "{}", refused.reason);
}

#[test]
fn a_candidate_that_breaches_the_drawdown_limit_is_refused_even_when_better() {
    let mut config = config();
    // Any trade's spread and fee alone are past a 0.001 % daily drawdown.
    config.risk.daily_drawdown_pct = fp("0.001");
    config.risk.max_trade_risk_pct = fp("50");
    let ticks = ticks_of(&uptrend(at(0, 0, 0), 60));
    let verdict = validate(&config, &weights(["0.05", "0.85", "0.05", "0.05"]), &weights(["0.85", "0.05", "0.05", "0.05"]), &ticks, EventTime::from_micros(0));
    assert!(verdict.candidate_result.is_some_and(|r| r.breached));
    assert!(!verdict.accepted);
    assert!(verdict.reason.contains("breached the drawdown limit"), "{}", verdict.reason);
}

/// The governor after a morning of trend ticks, with `attributed` realized on the BTC long.
fn trained(config: &AgentConfig, components: [&str; 4], realized: &str) -> (MetaGovernor, Vec<BusEvent>) {
    let mut governor = MetaGovernor::new(config);
    let mut events = uptrend(at(0, 0, 0) + 1, 60);
    events.push(signal(at(0, 0, 5), "BTCUSD", components, ["0.25", "0.25", "0.25", "0.25"]));
    events.push(pnl(at(0, 0, 6), "100000", "0", &[("BTCUSD", "1")]));
    events.push(pnl(at(0, 0, 7), "100010", realized, &[]));
    let outputs = feed(&mut governor, &events);
    (governor, outputs)
}

#[test]
fn the_schedule_reweights_and_publishes_a_validated_step_toward_the_winner() {
    let mut config = config();
    config.alpha.weights = WeightsConfig { momentum: fp("0.1"), mean_reversion: fp("0.7"), breakout: fp("0.1"), sentiment: fp("0.1") };
    // Momentum pointed up on a long that made money; reversion pointed down.
    let (mut governor, before) = trained(&config, ["1", "-1", "0", "0"], "10");
    assert!(published(&before).is_empty(), "nothing before the fire time");
    assert_eq!(governor.state().next_reweight, Some(EventTime::from_micros(at(0, 0, 10))));
    let outputs = accept(&mut governor, &pnl(at(0, 0, 10), "100010", "10", &[]));
    // r = (0.5, −0.5, 0, 0), η 0.5: u = (0.125, 0.525, 0.1, 0.1) ÷ 0.85, floored at 0.02 and
    // bounded by 0.1: reversion −0.1 is the largest move; every move is scaled to it.
    let expected = learning::step(&weights(["0.1", "0.7", "0.1", "0.1"]), &governor_window(["1", "-1", "0", "0"]), &StepParams { learning_rate: fp("0.5"), max_step: fp("0.1"), min_weight: fp("0.02") }).expect("a step");
    assert_eq!(expected.mean_reversion, fp("0.6"), "the bound applies: {expected:?}");
    let out = published(&outputs);
    assert_eq!(out.len(), 1, "{:?}", governor.state().last_reweight);
    assert_eq!((out[0].weights, out[0].kelly_clamp), (expected, None));
    assert!(out[0].reason.contains("accepted"), "{}", out[0].reason);
    let state = governor.state();
    assert_eq!(state.published, Some(expected));
    assert!(state.attribution_window.is_zero(), "the window restarts after a reweight");
    assert_eq!(state.attribution_totals.momentum, fp("5"));
    assert_eq!(state.next_reweight, Some(EventTime::from_micros(at(1, 0, 10))), "next fire the next day");
    assert!(state.last_validation.as_ref().is_some_and(|v| v.accepted && v.ticks == 60));
}

/// The attribution of a +10 long entered on equal weights with `components`.
fn governor_window(components: [&str; 4]) -> super::attribution::Attribution {
    let record = super::attribution::SignalRecord {
        signal_id: id(0, 0),
        time: EventTime::from_micros(0),
        components: { let [m, r, b, s] = components.map(fp); SignalComponents { momentum: m, mean_reversion: r, breakout: b, sentiment: s } },
        weights: weights(["0.25", "0.25", "0.25", "0.25"]),
    };
    super::attribution::credit(fp("10"), true, &record).expect("weighted")
}

#[test]
fn a_step_toward_the_losing_blend_is_validated_and_refused() {
    let mut config = config();
    config.alpha.weights = WeightsConfig { momentum: fp("0.7"), mean_reversion: fp("0.1"), breakout: fp("0.1"), sentiment: fp("0.1") };
    // Reversion gets the credit (it pointed up on a long that made money), so the step moves
    // weight from momentum to reversion — worse on the trend the governor kept.
    let (mut governor, _) = trained(&config, ["-1", "1", "0", "0"], "10");
    let outputs = accept(&mut governor, &pnl(at(0, 0, 10), "100010", "10", &[]));
    assert!(published(&outputs).is_empty());
    let state = governor.state();
    assert_eq!(state.published, None, "the configured blend stays");
    let validation = state.last_validation.as_ref().expect("validated");
    assert!(!validation.accepted && validation.reason.starts_with("refused"), "{}", validation.reason);
    assert!(validation.candidate.mean_reversion > validation.current.mean_reversion);
    assert_eq!(state.last_reweight.as_ref().map(|r| (r.published, r.trigger.as_str())), Some((false, "schedule")));
    assert!(views::governor(&config, state).last_validation.is_some_and(|v| !v.accepted && v.candidate_run.is_some()));
}

#[test]
fn the_schedule_fires_once_per_fire_time_across_day_boundaries() {
    let mut config = config();
    config.meta_governor.reweight_cron = "10 0 * * *".into();
    let mut governor = MetaGovernor::new(&config);
    let reweights = |g: &MetaGovernor| g.state().last_reweight.as_ref().map(|r| r.at.as_micros());
    accept(&mut governor, &tick(at(0, 23, 59), "BTCUSD", "100", None));
    assert_eq!(governor.state().next_reweight, Some(EventTime::from_micros(at(1, 0, 10))));
    accept(&mut governor, &tick(at(1, 0, 9), "BTCUSD", "100", None));
    assert_eq!(reweights(&governor), None, "00:09 is before the fire time");
    accept(&mut governor, &tick(at(1, 0, 11), "BTCUSD", "100", None));
    assert_eq!(reweights(&governor), Some(at(1, 0, 11)), "the first input after 00:10 reweights");
    accept(&mut governor, &tick(at(1, 0, 12), "BTCUSD", "100", None));
    assert_eq!(reweights(&governor), Some(at(1, 0, 11)), "once per fire time");
    // A gap of three days: one reweight at the first input after it, next fire tomorrow.
    accept(&mut governor, &tick(at(4, 12, 0), "BTCUSD", "100", None));
    assert_eq!(reweights(&governor), Some(at(4, 12, 0)));
    assert_eq!(governor.state().next_reweight, Some(EventTime::from_micros(at(5, 0, 10))));
    assert_eq!(governor.state().last_reweight.as_ref().map(|r| r.outcome.as_str()), Some("no realized PnL attributed since the last reweight"));
    // A new schedule counts from the previous input: 12:30 passed between 12:00 and 13:00.
    config.meta_governor.reweight_cron = "30 12 * * *".into();
    Agent::reconfigure(&mut governor, &config);
    accept(&mut governor, &tick(at(4, 13, 0), "BTCUSD", "100", None));
    assert_eq!(reweights(&governor), Some(at(4, 13, 0)));
}

#[test]
fn with_learning_off_the_configured_blend_stays() {
    let mut config = config();
    config.meta_governor.enable_rl = false;
    let (mut governor, _) = trained(&config, ["1", "-1", "0", "0"], "10");
    let outputs = accept(&mut governor, &pnl(at(0, 0, 10), "100010", "10", &[]));
    assert!(published(&outputs).is_empty());
    let state = governor.state();
    assert_eq!((state.published, state.last_validation.is_none()), (None, true));
    assert_eq!(state.last_reweight.as_ref().map(|r| r.outcome.as_str()), Some("learning is off (meta_governor.enable_rl: false)"));
    assert_eq!(state.attribution_totals.momentum, fp("5"), "attribution still runs for the view");
    assert_eq!(governor.weights(), learning::normalized(&config.alpha.weights.into()));
    assert!(matches!(propose_reweight(&config, state, EventTime::from_micros(0)), Proposal::Skipped { .. }));
}

#[test]
fn the_kelly_clamp_follows_a_drawdown_past_the_limit_and_is_released_the_next_day() {
    let config = config(); // risk.daily_drawdown_pct 5
    let mut governor = MetaGovernor::new(&config);
    let configured = learning::normalized(&config.alpha.weights.into()).expect("usable");
    assert!(feed(&mut governor, &[pnl(at(0, 9, 0), "100000", "0", &[]), pnl(at(0, 10, 0), "95000", "0", &[])]).is_empty(), "exactly 5 % is not past");
    let clamped = accept(&mut governor, &pnl(at(0, 11, 0), "94990", "0", &[]));
    let out = published(&clamped);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].kelly_clamp, out[0].weights), (Some(fp("0.25")), configured));
    assert!(out[0].reason.contains("5.01 %"), "{}", out[0].reason);
    assert!(feed(&mut governor, &[pnl(at(0, 12, 0), "90000", "0", &[])]).is_empty(), "once a day");
    assert_eq!(views::governor(&config, governor.state()).kelly_clamp.as_deref(), Some("0.25"));
    // The next UTC day: released at its first pnl, whose equity starts the day.
    let released = accept(&mut governor, &pnl(at(1, 0, 0), "90000", "0", &[]));
    let out = published(&released);
    assert_eq!((out.len(), out[0].kelly_clamp), (1, Some(FixedPoint::ONE)));
    assert_eq!(governor.state().day_start_equity, fp("90000"));
    assert!(feed(&mut governor, &[pnl(at(1, 1, 0), "86000", "0", &[])]).is_empty(), "4.44 % of the new day's start");
    // A RiskSentinel reading the clamp and the release: its Kelly fraction follows.
    let mut sentinel = crate::risk::RiskSentinel::new(config.risk.clone());
    accept(&mut sentinel, &pnl(at(1, 1, 0), "86000", "0", &[]));
    accept(&mut sentinel, &BusEvent::GovernorWeights(published(&clamped)[0].clone()));
    assert_eq!(sentinel.state().fields(&config.risk).map(|f| f.kelly_fraction), Some(fp("0.25")));
    accept(&mut sentinel, &BusEvent::GovernorWeights(published(&released)[0].clone()));
    assert_eq!(sentinel.state().fields(&config.risk).map(|f| f.kelly_fraction), Some(config.risk.kelly_fraction));
}

#[test]
fn commands_and_malformed_inputs_are_refused_and_leave_the_state_as_it_was() {
    let (mut governor, _) = trained(&config(), ["1", "-1", "0", "0"], "10");
    let before = governor.state().clone();
    let error = run(&mut governor, &command(at(0, 0, 8), "meta_governor", CommandKind::Sweep, None)).expect_err("not a governor command");
    assert!(error.reason.contains("only GOVERN_REWEIGHT"), "{}", error.reason);
    assert!(run(&mut governor, &command(at(0, 0, 8), "portfolio", CommandKind::Sweep, None)).is_ok(), "others' commands are ignored");
    assert!(run(&mut governor, &signal(at(0, 0, 8), "BTCUSD", ["1.5", "0", "0", "0"], ["1", "0", "0", "0"])).is_err());
    assert!(run(&mut governor, &signal(at(0, 0, 8), "BTCUSD", ["1", "0", "0", "0"], ["0", "0", "0", "0"])).is_err());
    assert!(run(&mut governor, &tick(at(0, 0, 8), "BTCUSD", "0", None)).is_err());
    let mut without_schedule = governor.state().clone();
    without_schedule.last_input = before.last_input;
    assert_eq!(without_schedule, before);
}

#[test]
fn the_validate_route_normalizes_weights_and_refuses_unusable_ones() {
    let (governor, _) = trained(&config(), ["1", "-1", "0", "0"], "10");
    let now = EventTime::from_micros(at(0, 0, 8));
    let verdict = validate_weights(governor.config(), governor.state(), &weights(["17", "1", "1", "1"]), now);
    assert_eq!(verdict.candidate, weights(["0.85", "0.05", "0.05", "0.05"]));
    assert!(verdict.candidate_result.is_some() && verdict.current_result.is_some());
    let unusable = validate_weights(governor.config(), governor.state(), &weights(["0", "0", "0", "0"]), now);
    assert!(!unusable.accepted && unusable.reason.contains("not all zero"));
    let view = views::validation(&verdict);
    assert_eq!(view.candidate.momentum, "0.85");
    assert!(serde_json::to_string(&view).expect("serializes").contains("\"accepted\""));
}

#[test]
fn a_restored_snapshot_continues_identically() {
    let config = config();
    let mut events = uptrend(at(0, 0, 0) + 1, 60);
    events.push(signal(at(0, 0, 5), "BTCUSD", ["1", "-1", "0", "0"], ["0.25", "0.25", "0.25", "0.25"]));
    events.push(pnl(at(0, 0, 6), "100000", "0", &[("BTCUSD", "1")]));
    events.push(pnl(at(0, 0, 7), "100010", "10", &[]));
    events.push(pnl(at(0, 0, 10), "100010", "10", &[]));
    events.push(pnl(at(0, 9, 0), "94000", "10", &[]));
    events.push(pnl(at(1, 0, 0), "94000", "10", &[]));
    let mut whole = MetaGovernor::new(&config);
    let expected = feed(&mut whole, &events);
    assert!(published(&expected).len() >= 2, "a clamp and a release: {expected:?}");
    assert!(whole.state().last_validation.is_some(), "and a validated reweight");
    for split in [1, 30, 61, 63, 64] {
        let mut first = MetaGovernor::new(&config);
        let mut outputs = feed(&mut first, &events[..split]);
        let snapshot = DynAgent::snapshot(&first).expect("serializes");
        let mut second = MetaGovernor::new(&config);
        DynAgent::restore_snapshot(&mut second, &snapshot).expect("restores");
        assert_eq!(second.state(), first.state());
        outputs.extend(feed(&mut second, &events[split..]));
        assert_eq!(outputs, expected, "split at {split}");
        assert_eq!(second.state(), whole.state());
    }
}

#[test]
fn the_tick_window_keeps_the_newest_ticks_within_its_bound() {
    let mut config = config();
    config.meta_governor.validation_ticks = 25;
    let mut governor = MetaGovernor::new(&config);
    let events = uptrend(at(0, 0, 0), 40);
    feed(&mut governor, &events);
    assert_eq!(governor.state().ticks, ticks_of(&events[15..]));
    config.meta_governor.validation_ticks = 10;
    Agent::reconfigure(&mut governor, &config);
    assert_eq!(governor.state().ticks, ticks_of(&events[30..]), "a smaller bound applies at once");
}

#[test]
fn a_requested_reweight_runs_at_once_with_the_same_rule() {
    let mut config = config();
    config.alpha.weights = WeightsConfig { momentum: fp("0.1"), mean_reversion: fp("0.7"), breakout: fp("0.1"), sentiment: fp("0.1") };
    let (mut scheduled, _) = trained(&config, ["1", "-1", "0", "0"], "10");
    let (mut requested, _) = trained(&config, ["1", "-1", "0", "0"], "10");
    let now = at(0, 0, 8);
    let proposal = propose_reweight(&config, requested.state(), EventTime::from_micros(now));
    let producer = producer("meta_governor");
    let mut outputs = Vec::new();
    let mut out = Emitter::new("meta_governor", &producer, id(now, 30), EventTime::from_micros(now), &mut outputs);
    let record = requested.reweight_now("request", &mut out);
    assert_eq!((record.trigger.as_str(), record.published), ("request", true), "{}", record.outcome);
    let Proposal::Validated(validation) = proposal else { panic!("a candidate was proposed") };
    assert_eq!(published(&outputs).first().map(|g| g.weights), Some(validation.candidate), "the route's proposal is what gets published");
    // The schedule's reweight two minutes later arrives at the same blend.
    accept(&mut scheduled, &pnl(at(0, 0, 10), "100010", "10", &[]));
    assert_eq!(scheduled.state().published, requested.state().published);
    assert!(requested.state().attribution_window.is_zero());
    assert_eq!(requested.state().next_reweight, Some(EventTime::from_micros(at(0, 0, 10))), "a request leaves the schedule alone");

    // The same request through the log: a GOVERN_REWEIGHT command publishes the same blend.
    let (mut commanded, _) = trained(&config, ["1", "-1", "0", "0"], "10");
    let outputs = accept(&mut commanded, &command(now, "meta_governor", CommandKind::GovernReweight, None));
    assert_eq!(published(&outputs).first().map(|g| g.weights), Some(validation.candidate));
    assert_eq!(commanded.state().published, requested.state().published);
    assert!(commanded.state().last_reweight.as_ref().is_some_and(|r| r.trigger.starts_with("requested by")));
}
