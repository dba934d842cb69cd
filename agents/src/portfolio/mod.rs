//! Portfolio: positions, average prices, realized and unrealized PnL marked to the latest
//! tick, fees, equity and the lockbox; publishes pnl.
//!
//! Singleton. Inputs: fills (booked once: a fill id among the last 1024 booked is refused
//! as a duplicate), ticks (marks), session events (a CLOSE sweeps the lockbox) and
//! commands (`SWEEP` targeted at `portfolio`). A pnl is published on every
//! change a fill, a sweep or a mark of a held symbol causes, and otherwise whenever the
//! event-time cadence `pnl_interval_ms` is due (checked on every input: the agent has no
//! clock, so "every second" means "on the first input at or after the next whole interval").
//!
//! - **Marks**: a position is marked at the latest tick of its symbol — the mid of bid and
//!   ask when both are present, else the tick's price — or at its latest fill price while no
//!   tick of the symbol has been seen. A taker buy therefore shows the half spread as an
//!   unrealized loss at once.
//! - **Accounting**: exact, by cost basis (`holding.rs` states every rounding). Fees come out
//!   of cash (a maker rebate is a negative fee); `realized` is before fees.
//! - **Lockbox**: at every session CLOSE and on a `SWEEP` command, `lockbox_pct` % of the
//!   profit realized net of fees since the last sweep that moved money goes from cash to
//!   the lockbox, which equity excludes. A loss carries forward: it is earned back before
//!   anything is swept again.
//! - **Refused inputs** (dead letters, state untouched): fills with an empty id or symbol,
//!   qty or price not above 0, or already booked; ticks with a price, bid or ask not above 0;
//!   commands for the portfolio other than `SWEEP`; anything that would overflow.

mod config;
mod holding;
pub(crate) mod recent;
mod state;
pub mod views;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use maxx_events::{BusEvent, Command, CommandKind, Fill, FixedPoint, Pnl, SessionEventKind, Tick};

pub use config::PortfolioConfig;
pub use holding::{apply_fill, FillEffect, Holding, Overflow};
pub use state::{PortfolioState, Valuation};
use state::Undo;

use crate::config::AgentConfig;
use crate::contract::{Agent, Emitter, Invalid};

/// The Portfolio agent.
#[derive(Debug, Clone)]
pub struct Portfolio {
    config: PortfolioConfig,
    state: PortfolioState,
}

impl Portfolio {
    /// A portfolio starting with `config.starting_cash` and nothing else.
    pub fn new(config: PortfolioConfig) -> Self {
        let state = PortfolioState::new(config.starting_cash);
        Self { config, state }
    }

    /// Books one input on the state, in place; returns whether it changed what pnl reports,
    /// the fill id to remember once the input is accepted, and how to take the change back.
    /// On `Err` the state is as it was: every check that can refuse the input runs before
    /// the first change, and an overflow half-way restores the copy taken before it.
    fn apply<'e>(&mut self, event: &'e BusEvent) -> Result<(bool, Option<&'e str>, Undo<'e>), Invalid> {
        match event {
            BusEvent::Fill(fill) => {
                validate_fill(fill)?;
                if self.state.recent_fills.contains(&fill.fill_id) {
                    return Err(Invalid::new(format!("fill {:?} was already booked (duplicate delivery)", fill.fill_id)));
                }
                let copy = self.state.without_fill_window();
                if let Err(e) = self.state.apply_fill(fill) {
                    Undo::Copy(copy).undo(&mut self.state);
                    return Err(Invalid::new(format!("fill {}: {e}", fill.fill_id)));
                }
                Ok((true, Some(fill.fill_id.as_str()), Undo::Copy(copy)))
            }
            BusEvent::Tick(tick) => {
                // The bulk of every stream: no copy, only what the mark replaces.
                let mark = tick_mark(tick)?;
                let (changed, undo) = self.state.mark_undoable(&tick.symbol, mark);
                Ok((changed, None, Undo::Mark(undo)))
            }
            BusEvent::SessionEvent(session) if session.event == SessionEventKind::Close => self.sweep(),
            BusEvent::Command(command) if command.target == <Self as Agent>::NAME => {
                validate_command(command)?;
                self.sweep()
            }
            _ => Ok((false, None, Undo::Nothing)),
        }
    }

    fn sweep(&mut self) -> Result<(bool, Option<&'static str>, Undo<'static>), Invalid> {
        let copy = self.state.without_fill_window();
        match self.state.sweep(self.config.lockbox_pct) {
            Ok(moved) => Ok((moved.is_positive(), None, Undo::Copy(copy))),
            Err(e) => {
                Undo::Copy(copy).undo(&mut self.state);
                Err(Invalid::new(format!("sweep: {e}")))
            }
        }
    }

    /// The first multiple of the cadence strictly after `now_us`.
    fn next_due(&self, now_us: i64) -> Option<i64> {
        let interval = i64::try_from(self.config.pnl_interval_ms).ok()?.checked_mul(1000)?;
        now_us.div_euclid(interval).checked_add(1)?.checked_mul(interval)
    }
}

impl Agent for Portfolio {
    type State = PortfolioState;
    const NAME: &'static str = "portfolio";
    const INPUTS: &'static [&'static str] = &["fills", "ticks", "session_events", "commands"];
    const OUTPUTS: &'static [&'static str] = &["pnl"];

    fn state(&self) -> &PortfolioState {
        &self.state
    }

    fn restore(&mut self, state: PortfolioState) {
        self.state = state;
    }

    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        // In place, without copying the state: `apply` refuses before changing anything, and
        // the one later failure (a valuation overflow) takes the change back with its undo.
        let (changed, fill_id, undo) = self.apply(event)?;
        let now = out.now().as_micros();
        let due = self.state.next_pnl_due_us.is_none_or(|due| now >= due);
        if changed || due {
            let valuation = match self.state.valuation() {
                Ok(valuation) => valuation,
                Err(e) => {
                    undo.undo(&mut self.state);
                    return Err(Invalid::new(format!("valuation: {e}")));
                }
            };
            let next_due = self.next_due(now);
            let state = &mut self.state;
            state.next_pnl_due_us = next_due;
            let envelope = out.envelope();
            out.emit(Pnl {
                event_id: envelope.event_id,
                event_time: envelope.event_time,
                producer: envelope.producer,
                equity: valuation.equity,
                cash: state.cash,
                realized: state.realized,
                unrealized: valuation.unrealized,
                fees: state.fees,
                lockbox: state.lockbox,
                positions: valuation.positions,
            });
        }
        if let Some(fill_id) = fill_id {
            self.state.recent_fills.insert(fill_id);
        }
        Ok(())
    }

    fn reconfigure(&mut self, config: &AgentConfig) {
        self.config = config.portfolio.clone();
    }
}

/// The price a tick marks its symbol at: the mid `(bid + ask) ÷ 2` (rounded half away from
/// zero) when both sides are present, else the tick's price.
///
/// # Errors
/// [`Invalid`] for an empty symbol or a price, bid or ask that is not above zero.
pub fn tick_mark(tick: &Tick) -> Result<FixedPoint, Invalid> {
    if tick.symbol.is_empty() {
        return Err(Invalid::new("tick without a symbol"));
    }
    for (name, value) in [("price", Some(tick.price)), ("bid", tick.bid), ("ask", tick.ask)] {
        if let Some(value) = value.filter(|v| !v.is_positive()) {
            return Err(Invalid::new(format!("tick {}: {name} {value} is not above 0", tick.symbol)));
        }
    }
    match (tick.bid, tick.ask) {
        (Some(bid), Some(ask)) => bid
            .checked_add(ask)
            .and_then(|sum| sum.checked_div(FixedPoint::from_raw(2 * FixedPoint::SCALE)))
            .ok_or_else(|| Invalid::new(format!("tick {}: mid of {bid} and {ask} overflows", tick.symbol))),
        _ => Ok(tick.price),
    }
}

/// Refuses fills that cannot be booked: empty ids or symbol, quantity or price not above 0.
fn validate_fill(fill: &Fill) -> Result<(), Invalid> {
    let refuse = |what: String| Err(Invalid::new(format!("fill {:?}: {what}", fill.fill_id)));
    if fill.fill_id.is_empty() || fill.order_id.is_empty() || fill.symbol.is_empty() {
        return refuse("fill_id, order_id and symbol must not be empty".into());
    }
    if !fill.qty.is_positive() {
        return refuse(format!("qty {} is not above 0", fill.qty));
    }
    if !fill.price.is_positive() {
        return refuse(format!("price {} is not above 0", fill.price));
    }
    Ok(())
}

/// The Portfolio accepts one command: `SWEEP`.
fn validate_command(command: &Command) -> Result<(), Invalid> {
    match command.kind {
        CommandKind::Sweep => Ok(()),
        other => Err(Invalid::new(format!("portfolio does not take {other:?} commands (only SWEEP)"))),
    }
}
