//! MetaGovernor: attributes realized PnL to the four alpha sub-signals, reweights the blend
//! on `reweight_cron` with an online learning rule, publishes a new blend only after a
//! validation backtest, and tightens the Kelly clamp after an intraday drawdown.
//!
//! Singleton. Inputs: `signals` (the latest per symbol, for attribution), `pnl` (realized
//! changes, equity), `ticks` (a bounded window for the backtest) and `commands` (none is
//! accepted yet, see below). Output: `governor_weights`.
//!
//! - **Attribution** ([`attribution`]): each realized change is credited to the sub-signals
//!   of the signal the reduced position was entered on, by weighted share, signed by
//!   whether each pointed the right way; exact fixed-point totals.
//! - **Reweight** on `reweight_cron` (five fields, UTC, evaluated in event time: a reweight
//!   runs on the first input at or after a fire time — [`cron`]): one step of the rule in
//!   [`learning`] from the attribution since the last reweight (weights non-negative, sum
//!   exactly 1, each moves at most `max_step`); `enable_rl: false` turns it off and the
//!   configured blend stays. The window is cleared after every attempt.
//! - **Validation** ([`backtest`]): the candidate and the current blend are replayed over the
//!   kept ticks through Alpha → RiskSentinel → Execution → Portfolio; the candidate is
//!   published only when it does not end below the current blend by more than
//!   `validation_margin_pct` % of the starting equity and raised no drawdown halt or kill.
//!   A refused candidate publishes nothing; the verdict stays in `last_validation`.
//! - **Kelly**: the day's start equity is the equity of the first pnl of each UTC day; a
//!   drawdown strictly past `risk.daily_drawdown_pct` publishes the blend in force with
//!   `kelly_clamp` = `meta_governor.kelly_clamp` (once a day); the first pnl of a later day
//!   releases it by publishing `kelly_clamp` = 1 (RiskSentinel caps by the clamp, so 1 caps
//!   nothing; `None` would leave the old clamp in force).
//! - **Requests**: `POST /govern/reweight` publishes a `GOVERN_REWEIGHT` command (`commands`
//!   v2), and the governor reweights when it reads it — [`MetaGovernor::reweight_now`], the
//!   same step as the schedule's, at the same place in the log for a replay.
//!   `POST /govern/validate` only computes ([`govern`]): it changes nothing.
//!
//! Refused inputs (dead letters, state untouched): signals with a component or score outside
//! [-1, 1] or unusable weights, ticks with a price, bid or ask not above 0, commands for
//! `meta_governor` other than `GOVERN_REWEIGHT`, pnls whose attribution would overflow.

pub mod attribution;
pub mod backtest;
mod config;
pub mod cron;
pub mod govern;
pub mod learning;
mod state;
pub mod views;

#[cfg(test)]
mod tests;

use maxx_events::{BlendWeights, BusEvent, CommandKind, FixedPoint, GovernorWeights, Pnl, Signal, Tick};

pub use config::MetaGovernorConfig;
pub use state::{MetaGovernorState, RecentTick, ReweightRecord};

use crate::alpha::check_weights;
use crate::config::AgentConfig;
use crate::contract::{Agent, Emitter, Invalid};
use crate::portfolio::tick_mark;
use crate::risk::rules;
use attribution::{Attribution, Booking, SignalRecord};
use cron::Schedule;
use govern::{current_weights, propose_reweight, Proposal};

/// The MetaGovernor agent.
#[derive(Debug, Clone)]
pub struct MetaGovernor {
    /// The whole configuration: the backtest builds Alpha, RiskSentinel, Execution and
    /// Portfolio from their sections, and the Kelly rule reads `risk.daily_drawdown_pct`.
    config: AgentConfig,
    /// `meta_governor.reweight_cron`, parsed (`None` when it does not parse: never fires).
    schedule: Option<Schedule>,
    state: MetaGovernorState,
}

impl MetaGovernor {
    /// A governor with `config` that has seen nothing yet.
    pub fn new(config: &AgentConfig) -> Self {
        Self { config: config.clone(), schedule: Schedule::parse(&config.meta_governor.reweight_cron).ok(), state: MetaGovernorState::default() }
    }

    /// The blend in force.
    pub fn weights(&self) -> Option<BlendWeights> {
        current_weights(&self.config, &self.state)
    }

    /// The configuration in force.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// Reweights now (the schedule's fire, or a request): the learning step, the validation
    /// and, when accepted, the publication of the new blend through `out`. Returns the record
    /// kept as `last_reweight`.
    pub fn reweight_now(&mut self, trigger: &str, out: &mut Emitter<'_>) -> ReweightRecord {
        let now = out.now();
        let proposal = propose_reweight(&self.config, &self.state, now);
        self.state.attribution_window = Attribution::default();
        let record = match proposal {
            Proposal::Skipped { reason } => ReweightRecord { at: now, trigger: trigger.into(), published: false, outcome: reason },
            Proposal::Validated(validation) => {
                let record = ReweightRecord { at: now, trigger: trigger.into(), published: validation.accepted, outcome: validation.reason.clone() };
                if validation.accepted {
                    self.state.published = Some(validation.candidate);
                    publish(out, validation.candidate, None, format!("reweight ({trigger}): {}", validation.reason));
                }
                self.state.last_validation = Some(validation);
                record
            }
        };
        self.state.last_reweight = Some(record.clone());
        record
    }

    fn on_tick(&mut self, tick: &Tick) -> Result<(), Invalid> {
        tick_mark(tick)?;
        let keep = self.config.meta_governor.validation_ticks.max(1);
        self.state.ticks.push_back(RecentTick::of(tick));
        while self.state.ticks.len() > keep {
            self.state.ticks.pop_front();
        }
        Ok(())
    }

    fn on_signal(&mut self, signal: &Signal) -> Result<(), Invalid> {
        let c = &signal.components;
        let in_range = |v: FixedPoint| v.abs() <= FixedPoint::ONE;
        if signal.symbol.is_empty() || ![signal.score, c.momentum, c.mean_reversion, c.breakout, c.sentiment].into_iter().all(in_range) {
            return Err(Invalid::new(format!("signal {}: needs a symbol and score and components in [-1, 1]", signal.event_id)));
        }
        check_weights(&signal.weights).map_err(|problem| Invalid::new(format!("signal {}: {problem}", signal.event_id)))?;
        let record = SignalRecord { signal_id: signal.event_id, time: signal.event_time, components: signal.components, weights: signal.weights };
        self.state.latest_signals.insert(signal.symbol.clone(), record);
        Ok(())
    }

    fn on_pnl(&mut self, pnl: &Pnl, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        let positions = pnl.positions.iter().filter(|p| p.qty != FixedPoint::ZERO).map(|p| (p.symbol.clone(), p.qty)).collect();
        // Attribution, computed before anything changes (an overflow refuses the pnl).
        let overflow = || Invalid::new(format!("pnl {}: attribution overflows", pnl.event_id));
        let mut totals = self.state.attribution_totals;
        let mut window = self.state.attribution_window;
        let mut unattributed = self.state.unattributed;
        if let Some(before) = self.state.realized {
            let delta = pnl.realized.checked_sub(before).ok_or_else(overflow)?;
            if delta != FixedPoint::ZERO {
                match attribution::book(delta, &self.state.positions, &positions, &self.state.entry_signals) {
                    Booking::Credited(credit) => {
                        totals = totals.checked_add(&credit).ok_or_else(overflow)?;
                        window = window.checked_add(&credit).ok_or_else(overflow)?;
                    }
                    Booking::Unattributed(amount) => unattributed = unattributed.checked_add(amount).ok_or_else(overflow)?,
                }
            }
        }
        for symbol in attribution::grown(&self.state.positions, &positions) {
            match self.state.latest_signals.get(&symbol) {
                Some(signal) => self.state.entry_signals.insert(symbol, *signal),
                None => self.state.entry_signals.remove(&symbol),
            };
        }
        self.state.entry_signals.retain(|symbol, _| positions.contains_key(symbol));
        (self.state.attribution_totals, self.state.attribution_window, self.state.unattributed) = (totals, window, unattributed);
        self.state.positions = positions;
        self.state.realized = Some(pnl.realized);
        self.kelly(pnl, out);
        Ok(())
    }

    /// The Kelly clamp: ordered after a drawdown past the daily limit, released the next day.
    fn kelly(&mut self, pnl: &Pnl, out: &mut Emitter<'_>) {
        let today = rules::utc_day(pnl.event_time);
        let state = &mut self.state;
        let weights = current_weights(&self.config, state);
        if state.day.is_none_or(|day| today > day) {
            state.day = Some(today);
            state.day_start_equity = pnl.equity;
            if state.kelly_clamped {
                state.kelly_clamped = false;
                if let Some(weights) = weights {
                    publish(out, weights, Some(FixedPoint::ONE), "new UTC day: Kelly clamp released".into());
                }
            }
        }
        state.equity = Some(pnl.equity);
        let limit = self.config.risk.daily_drawdown_pct;
        if !state.kelly_clamped && rules::drawdown_past(state.day_start_equity, pnl.equity, limit) {
            if let Some(weights) = weights {
                state.kelly_clamped = true;
                let drawdown = rules::drawdown_pct(state.day_start_equity, pnl.equity);
                let clamp = self.config.meta_governor.kelly_clamp;
                publish(out, weights, Some(clamp), format!("intraday drawdown {drawdown} % past {limit} %: Kelly clamped to {clamp} for the rest of the UTC day"));
            }
        }
    }

    /// Runs the reweight when a fire time of the schedule passed since the previous input.
    fn on_schedule(&mut self, out: &mut Emitter<'_>) {
        let now = out.now();
        let cron = &self.config.meta_governor.reweight_cron;
        if self.state.schedule != *cron {
            // First input, or a new schedule: count fire times from the previous input on.
            self.state.schedule.clone_from(cron);
            let from = self.state.last_input.unwrap_or(now).min(now);
            self.state.next_reweight = self.schedule.and_then(|s| s.next_after(from));
        }
        self.state.last_input = Some(self.state.last_input.map_or(now, |last| last.max(now)));
        if self.state.next_reweight.is_some_and(|next| now >= next) {
            self.reweight_now("schedule", out);
            self.state.next_reweight = self.schedule.and_then(|s| s.next_after(now));
        }
    }
}

/// Emits a GovernorWeights.
fn publish(out: &mut Emitter<'_>, weights: BlendWeights, kelly_clamp: Option<FixedPoint>, reason: String) {
    let envelope = out.envelope();
    out.emit(GovernorWeights { event_id: envelope.event_id, event_time: envelope.event_time, producer: envelope.producer, weights, kelly_clamp, reason });
}

impl Agent for MetaGovernor {
    type State = MetaGovernorState;
    const NAME: &'static str = "meta_governor";
    const INPUTS: &'static [&'static str] = &["signals", "pnl", "ticks", "commands"];
    const OUTPUTS: &'static [&'static str] = &["governor_weights"];

    fn state(&self) -> &MetaGovernorState {
        &self.state
    }

    fn restore(&mut self, state: MetaGovernorState) {
        self.state = state;
    }

    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        // Each handler validates before it changes anything, so a refused input leaves the
        // state as it was (the tick window is too large to copy for every input).
        match event {
            BusEvent::Tick(tick) => self.on_tick(tick)?,
            BusEvent::Signal(signal) => self.on_signal(signal)?,
            BusEvent::Pnl(pnl) => self.on_pnl(pnl, out)?,
            BusEvent::Command(command) if command.target == Self::NAME => {
                if command.kind != CommandKind::GovernReweight {
                    return Err(Invalid::new(format!("meta_governor takes only GOVERN_REWEIGHT commands, not {:?}", command.kind)));
                }
                // The operator's reweight: the same step as the schedule's, now, from the log.
                self.reweight_now(&format!("requested by {}", command.requested_by), out);
                return Ok(());
            }
            _ => {}
        }
        self.on_schedule(out);
        Ok(())
    }

    fn reconfigure(&mut self, config: &AgentConfig) {
        self.schedule = Schedule::parse(&config.meta_governor.reweight_cron).ok();
        self.config = config.clone();
        let keep = self.config.meta_governor.validation_ticks.max(1);
        while self.state.ticks.len() > keep {
            self.state.ticks.pop_front();
        }
    }
}

