//! The validation backtest: recent ticks replayed through the real agent code — Alpha (with
//! the blend under test), RiskSentinel, Execution (paper venue) and Portfolio, all fresh from
//! the configuration — and a verdict comparing a candidate blend with the current one.
//!
//! The chain is driven like the embedded runtime: first in, first out; each event goes to
//! every agent of the chain that consumes its topic, in chain order; outputs join the back
//! of the queue. Each tick is run to quiescence before the next one, as a live system keeps
//! up with its market. Inputs an agent refuses are counted and dropped (no dead-letter
//! topic here). Everything is deterministic: event ids derive from the ticks' ids.
//!
//! Sentiment scores are not replayed (the governor does not keep them), so the sentiment
//! component is 0 in a backtest.
//!
//! A candidate passes when its final equity is not below the current blend's by more than
//! `validation_margin_pct` % of the starting equity, and its run raised no drawdown halt or
//! hard kill.

use std::collections::VecDeque;

use maxx_events::{BlendWeights, BusEvent, EventTime, FixedPoint, Producer, RiskEventKind, Tick};
use serde::{Deserialize, Serialize};

use super::state::RecentTick;
use crate::alpha::{check_weights, Alpha, AlphaConfig, WeightsConfig};
use crate::config::AgentConfig;
use crate::contract::{DynAgent, Emitter};
use crate::execution::Execution;
use crate::portfolio::Portfolio;
use crate::risk::RiskSentinel;

/// Events one tick may cause before the chain is judged to run away.
const MAX_EVENTS_PER_TICK: usize = 10_000;

/// What one backtest run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacktestResult {
    /// Equity before the first tick (the portfolio's starting cash).
    pub start_equity: FixedPoint,
    /// Equity of the last pnl (marked to the last tick).
    pub end_equity: FixedPoint,
    /// Signals Alpha emitted.
    pub signals: u64,
    /// Fills the paper venue produced.
    pub fills: u64,
    /// Inputs an agent of the chain refused.
    pub refused: u64,
    /// A drawdown halt or hard kill was raised.
    pub breached: bool,
}

/// A backtest that could not run to the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacktestError {
    /// The weights cannot be blended.
    #[error("weights: {0}")]
    Weights(String),
    /// The agents kept feeding each other.
    #[error("tick {index} caused more than {MAX_EVENTS_PER_TICK} events")]
    Runaway {
        /// Position of the tick in the window.
        index: usize,
    },
}

/// An agent of the chain and the producer its outputs carry.
struct Link {
    agent: Box<dyn DynAgent>,
    producer: Producer,
}

/// Replays `ticks` through a fresh chain whose Alpha blends with `weights`.
///
/// # Errors
/// [`BacktestError`] for unusable weights or a chain that runs away.
pub fn run(config: &AgentConfig, weights: &BlendWeights, ticks: &[Tick]) -> Result<BacktestResult, BacktestError> {
    check_weights(weights).map_err(BacktestError::Weights)?;
    let alpha = AlphaConfig {
        weights: WeightsConfig { momentum: weights.momentum, mean_reversion: weights.mean_reversion, breakout: weights.breakout, sentiment: weights.sentiment },
        ..config.alpha.clone()
    };
    let agents: [Box<dyn DynAgent>; 4] = [
        Box::new(Alpha::new(alpha)),
        Box::new(RiskSentinel::new(config.risk.clone())),
        Box::new(Execution::new(config.exec.clone())),
        Box::new(Portfolio::new(config.portfolio.clone())),
    ];
    let mut chain: Vec<Link> = agents
        .into_iter()
        .map(|agent| {
            let producer = Producer { agent: agent.name().into(), version: agent.version().into(), instance: "backtest".into() };
            Link { agent, producer }
        })
        .collect();
    let start = config.portfolio.starting_cash;
    let mut result = BacktestResult { start_equity: start, end_equity: start, signals: 0, fills: 0, refused: 0, breached: false };
    let mut queue = VecDeque::new();
    for (index, tick) in ticks.iter().enumerate() {
        queue.push_back(BusEvent::from(tick.clone()));
        let mut handled = 0usize;
        while let Some(event) = queue.pop_front() {
            handled += 1;
            if handled > MAX_EVENTS_PER_TICK {
                return Err(BacktestError::Runaway { index });
            }
            let mut caused = Vec::new();
            for link in &mut chain {
                if !link.agent.inputs().contains(&event.topic()) {
                    continue;
                }
                let mut out = Emitter::new(link.agent.name(), &link.producer, event.event_id(), event.event_time(), &mut caused);
                if link.agent.handle(&event, &mut out).is_err() {
                    result.refused += 1;
                }
            }
            for output in &caused {
                match output {
                    BusEvent::Signal(_) => result.signals += 1,
                    BusEvent::Fill(_) => result.fills += 1,
                    BusEvent::Pnl(pnl) => result.end_equity = pnl.equity,
                    BusEvent::RiskEvent(event) if matches!(event.kind, RiskEventKind::DrawdownHalt | RiskEventKind::HardKill) => result.breached = true,
                    _ => {}
                }
            }
            queue.extend(caused);
        }
    }
    Ok(result)
}

/// The verdict on a candidate blend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Event time of the validation.
    pub at: EventTime,
    /// Ticks replayed.
    pub ticks: usize,
    /// The blend in force.
    pub current: BlendWeights,
    /// The blend proposed.
    pub candidate: BlendWeights,
    /// The current blend's run, when it ran.
    pub current_result: Option<BacktestResult>,
    /// The candidate's run, when it ran.
    pub candidate_result: Option<BacktestResult>,
    /// The candidate may be published.
    pub accepted: bool,
    /// Why, in words.
    pub reason: String,
}

/// Backtests `candidate` against `current` on `ticks` and judges it.
pub fn validate(config: &AgentConfig, current: &BlendWeights, candidate: &BlendWeights, recent: &VecDeque<RecentTick>, at: EventTime) -> Validation {
    let mut verdict = Validation {
        at,
        ticks: recent.len(),
        current: *current,
        candidate: *candidate,
        current_result: None,
        candidate_result: None,
        accepted: false,
        reason: String::new(),
    };
    let governor = &config.meta_governor;
    if recent.len() < governor.min_validation_ticks {
        verdict.reason = format!("refused: {} ticks kept, validation needs {}", recent.len(), governor.min_validation_ticks);
        return verdict;
    }
    let ticks: Vec<Tick> = recent.iter().map(RecentTick::to_tick).collect();
    let (current_run, candidate_run) = (run(config, current, &ticks), run(config, candidate, &ticks));
    verdict.current_result = current_run.as_ref().ok().copied();
    verdict.candidate_result = candidate_run.as_ref().ok().copied();
    let (current_run, candidate_run) = match (current_run, candidate_run) {
        (_, Err(e)) => {
            verdict.reason = format!("refused: the candidate's backtest failed: {e}");
            return verdict;
        }
        (Err(e), _) => {
            verdict.reason = format!("refused: the current blend's backtest failed: {e}");
            return verdict;
        }
        (Ok(current), Ok(candidate)) => (current, candidate),
    };
    let hundred = FixedPoint::from_raw(100 * FixedPoint::SCALE);
    let margin = candidate_run.start_equity.checked_mul_div(governor.validation_margin_pct, hundred).unwrap_or(FixedPoint::ZERO);
    let floor = current_run.end_equity.checked_sub(margin).unwrap_or(current_run.end_equity);
    let (cand, cur) = (candidate_run.end_equity, current_run.end_equity);
    if candidate_run.breached {
        verdict.reason = format!("refused: the candidate breached the drawdown limit (equity {cand} vs {cur})");
    } else if cand < floor {
        verdict.reason = format!("refused: candidate equity {cand} is below the current blend's {cur} by more than the margin {margin}");
    } else {
        verdict.accepted = true;
        verdict.reason = format!("accepted: candidate equity {cand} vs the current blend's {cur} (margin {margin}) over {} ticks", ticks.len());
    }
    verdict
}
