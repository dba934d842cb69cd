//! RiskSentinel: per-trade risk cap, daily drawdown halt, slippage limit, hard kill and Kelly
//! clamp; publishes risk state and risk events. [`gate`] is the pre-trade rule Execution
//! applies before routing any order.
//!
//! Singleton. The rules, each decided exactly (see [`rules`]):
//! - **Drawdown halt**: on a pnl whose drawdown from the day's start equity is *strictly*
//!   past `daily_drawdown_pct` (5 %: 4.99 % and exactly 5 % trade, 5.01 % halts) new trades
//!   halt (`DRAWDOWN_HALT`, critical). The day start is the equity of the first pnl of each
//!   UTC day (or at a reset). The halt lifts at the first session OPEN on a later UTC day
//!   than the last pnl that was past the limit (`HALT_RESET`), or on `RISK_RESET`. Limits
//!   are judged on each pnl (a reconfigured limit applies from the next pnl).
//! - **Hard kill**: drawdown strictly past `hard_kill_pct` sets `killed` (and halts):
//!   `HARD_KILL`, critical; Execution flattens. Only `RISK_RESET` lifts it.
//! - **Kelly clamp**: `kelly_fraction`, or `kelly_fraction_after_drawdown` for the rest of
//!   the UTC day once the drawdown is strictly past `kelly_clamp_drawdown_pct`; capped by
//!   the governor's `kelly_clamp` when one was given. Every tightening raises `KELLY_CLAMP`.
//! - **Slippage**: a fill whose *adverse* move from the last tick mid of its symbol seen
//!   before it is strictly over `slippage_limit_pct` raises `SLIPPAGE_BREACH` (warning). A
//!   fill of a symbol without any tick yet has no reference and is not judged.
//! - **Second line of defence**: an order seen on `orders` that fails [`gate::pre_trade`]
//!   against the risk state as last published raises `ORDER_BLOCKED` (critical). Its
//!   notional is priced as Execution prices it: `meta.reference_price` when present, else
//!   the limit price, else the last tick price; it reduces a position when it is opposite
//!   to the net position of the fills seen, not counting its own fills when they were read
//!   first (`orders` and `fills` are separate topics), and not larger than it. It is a
//!   detector, not a gate — the order was already routed — and an order Execution sent
//!   just before it read a new state can be reported although it passed the state it saw.
//! - **Trim**: `RISK_TRIM` with a fraction in `(0, 1]` raises `EXPOSURE_TRIM` for
//!   Execution; it does not change the risk state.
//!
//! `risk_state` is published once at the first pnl and then whenever one of its fields
//! changes, before the risk events of the same input.

mod config;
pub mod gate;
pub mod rules;
mod state;
pub mod views;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use maxx_events::{
    BusEvent, Command, CommandKind, Fill, FixedPoint, GovernorWeights, Order, Pnl, RiskEvent, RiskEventKind, SessionEvent, SessionEventKind,
    Severity, Side,
};

pub use config::RiskConfig;
pub use state::{RiskFields, RiskSentinelState};

use crate::config::AgentConfig;
use crate::contract::{Agent, Emitter, Invalid};
use crate::portfolio::{recent, tick_mark};

/// Order `meta` key under which Execution may record the reference price it sized the
/// order with; RiskSentinel then judges the order's notional with the same price.
pub const REFERENCE_PRICE_META: &str = "reference_price";

/// A risk event before its envelope is stamped.
#[derive(Debug, Clone, PartialEq)]
struct Raised {
    kind: RiskEventKind,
    severity: Severity,
    symbol: Option<String>,
    order_id: Option<String>,
    value: Option<FixedPoint>,
    limit: Option<FixedPoint>,
    message: String,
}

impl Raised {
    fn new(kind: RiskEventKind, severity: Severity, message: String) -> Self {
        Self { kind, severity, symbol: None, order_id: None, value: None, limit: None, message }
    }
}

/// The RiskSentinel agent.
#[derive(Debug, Clone)]
pub struct RiskSentinel {
    config: RiskConfig,
    state: RiskSentinelState,
}

impl RiskSentinel {
    /// A sentinel that has seen nothing yet: it publishes its first state at the first pnl.
    pub fn new(config: RiskConfig) -> Self {
        Self { config, state: RiskSentinelState::default() }
    }

    fn on_pnl(config: &RiskConfig, state: &mut RiskSentinelState, pnl: &Pnl, raised: &mut Vec<Raised>) {
        let today = rules::utc_day(pnl.event_time);
        if state.day.is_none_or(|day| today > day) {
            state.day = Some(today);
            state.day_start_equity = pnl.equity;
            state.kelly_tightened = false;
        }
        state.equity = Some(pnl.equity);
        let (start, equity) = (state.day_start_equity, pnl.equity);
        let drawdown = rules::drawdown_pct(start, equity);
        let past_daily = rules::drawdown_past(start, equity, config.daily_drawdown_pct);
        if state.halted && past_daily {
            // Still past the limit today: the halt now lasts at least until a later day.
            state.halted_day = state.halted_day.map(|day| day.max(today));
        }
        if !state.halted && past_daily {
            state.halted = true;
            state.halted_day = Some(today);
            let reason = format!("daily drawdown {drawdown} % past {} %", config.daily_drawdown_pct);
            state.halt_reason = Some(reason.clone());
            raised.push(Raised { value: Some(drawdown), limit: Some(config.daily_drawdown_pct), ..Raised::new(RiskEventKind::DrawdownHalt, Severity::Critical, reason) });
        }
        if !state.killed && rules::drawdown_past(start, equity, config.hard_kill_pct) {
            state.killed = true;
            let reason = format!("drawdown {drawdown} % past the hard kill at {} %: flatten and stop", config.hard_kill_pct);
            state.halted = true;
            state.halted_day = state.halted_day.or(Some(today));
            state.halt_reason = Some(reason.clone());
            raised.push(Raised { value: Some(drawdown), limit: Some(config.hard_kill_pct), ..Raised::new(RiskEventKind::HardKill, Severity::Critical, reason) });
        }
        if !state.kelly_tightened && rules::drawdown_past(start, equity, config.kelly_clamp_drawdown_pct) {
            state.kelly_tightened = true;
        }
    }

    fn on_fill(config: &RiskConfig, state: &mut RiskSentinelState, fill: &Fill, raised: &mut Vec<Raised>) -> Result<(), Invalid> {
        if fill.symbol.is_empty() || !fill.qty.is_positive() || !fill.price.is_positive() {
            return Err(Invalid::new(format!("fill {:?}: needs a symbol, qty > 0 and price > 0", fill.fill_id)));
        }
        let signed = match fill.side {
            Side::Buy => fill.qty,
            Side::Sell => fill.qty.checked_neg().ok_or_else(|| Invalid::new("fill qty out of range"))?,
        };
        let position = state.positions.get(&fill.symbol).copied().unwrap_or(FixedPoint::ZERO);
        let position = position.checked_add(signed).ok_or_else(|| Invalid::new(format!("fill {:?}: position overflows", fill.fill_id)))?;
        // Everything that can refuse the fill is checked before the first change.
        let ahead = if state.judged_orders.contains(&fill.order_id) {
            None
        } else {
            let ahead = state.fills_ahead_of_order.get(&fill.order_id).copied().unwrap_or(FixedPoint::ZERO);
            Some(ahead.checked_add(signed).ok_or_else(|| Invalid::new(format!("fill {:?}: quantity overflows", fill.fill_id)))?)
        };
        if position == FixedPoint::ZERO {
            state.positions.remove(&fill.symbol);
        } else {
            state.positions.insert(fill.symbol.clone(), position);
        }
        if let Some(ahead) = ahead {
            state.fills_ahead_of_order.insert(fill.order_id.clone(), ahead);
            if state.fills_ahead_of_order.len() > recent::WINDOW {
                // Orders that never showed up (from before this sentinel's history): forget one.
                state.fills_ahead_of_order.pop_first();
            }
        }
        let Some(&mid) = state.mids.get(&fill.symbol) else { return Ok(()) };
        let adverse = rules::adverse_slippage(fill.side, fill.price, mid);
        let limit = config.slippage_limit_pct;
        if rules::exceeds_pct(adverse, mid, limit) {
            let slippage = rules::percent_of(adverse, mid).unwrap_or(FixedPoint::ZERO);
            raised.push(Raised {
                symbol: Some(fill.symbol.clone()),
                order_id: Some(fill.order_id.clone()),
                value: Some(slippage),
                limit: Some(limit),
                ..Raised::new(
                    RiskEventKind::SlippageBreach,
                    Severity::Warning,
                    format!("fill {} at {} slipped {slippage} % from mid {mid} (limit {limit} %)", fill.fill_id, fill.price),
                )
            });
        }
        Ok(())
    }

    fn on_order(state: &mut RiskSentinelState, order: &Order, raised: &mut Vec<Raised>) -> Result<(), Invalid> {
        if order.order_id.is_empty() || order.symbol.is_empty() || !order.qty.is_positive() || order.limit_price.is_some_and(|p| !p.is_positive()) {
            return Err(Invalid::new(format!("order {:?}: needs an id, a symbol, qty > 0 and a limit price > 0 if any", order.order_id)));
        }
        if state.judged_orders.contains(&order.order_id) {
            return Ok(()); // delivered twice: judged already
        }
        let reference = match order.meta.get(REFERENCE_PRICE_META) {
            Some(text) => Some(text.parse::<FixedPoint>().map_err(|e| Invalid::new(format!("order {:?}: {REFERENCE_PRICE_META}: {e}", order.order_id)))?),
            None => order.limit_price.or_else(|| state.last_prices.get(&order.symbol).copied()),
        };
        // Without any reference price the cap cannot be judged; halts and kills still can.
        let notional = match reference {
            Some(price) => order.qty.checked_mul(price).ok_or_else(|| Invalid::new(format!("order {:?}: notional overflows", order.order_id)))?,
            None => FixedPoint::ZERO,
        };
        let position = state.positions.get(&order.symbol).copied().unwrap_or(FixedPoint::ZERO);
        let own_fills = state.fills_ahead_of_order.get(&order.order_id).copied().unwrap_or(FixedPoint::ZERO);
        let position = position.checked_sub(own_fills).ok_or_else(|| Invalid::new(format!("order {:?}: position overflows", order.order_id)))?;
        state.fills_ahead_of_order.remove(&order.order_id);
        state.judged_orders.insert(&order.order_id);
        let reduces = match order.side {
            Side::Buy => position.is_negative() && order.qty <= position.abs(),
            Side::Sell => position.is_positive() && order.qty <= position,
        };
        let risk = state.published.as_ref().map(|f| f.to_event(order.event_id, order.event_time, order.producer.clone()));
        if let Err(blocked) = gate::pre_trade(risk.as_ref(), notional, reduces) {
            let limit = match blocked {
                gate::Blocked::OverCap { cap, .. } => Some(cap),
                _ => None,
            };
            raised.push(Raised {
                symbol: Some(order.symbol.clone()),
                order_id: Some(order.order_id.clone()),
                value: Some(notional),
                limit,
                ..Raised::new(RiskEventKind::OrderBlocked, Severity::Critical, format!("order {} was routed but fails the gate: {blocked}", order.order_id))
            });
        }
        Ok(())
    }

    fn on_session(state: &mut RiskSentinelState, session: &SessionEvent, raised: &mut Vec<Raised>) {
        let later_day = state.halted_day.is_some_and(|day| rules::utc_day(session.event_time) > day);
        if session.event == SessionEventKind::Open && state.halted && !state.killed && later_day {
            state.halted = false;
            state.halted_day = None;
            let reason = state.halt_reason.take().unwrap_or_default();
            raised.push(Raised::new(
                RiskEventKind::HaltReset,
                Severity::Info,
                format!("{} session opened on a later day: halt lifted ({reason})", session.session.as_str()),
            ));
        }
    }

    fn on_command(state: &mut RiskSentinelState, command: &Command, raised: &mut Vec<Raised>) -> Result<(), Invalid> {
        match command.kind {
            CommandKind::RiskReset => {
                if state.halted || state.killed {
                    let what = if state.killed { "hard kill" } else { "halt" };
                    raised.push(Raised::new(RiskEventKind::HaltReset, Severity::Info, format!("{what} lifted by RISK_RESET from {}", command.requested_by)));
                }
                state.halted = false;
                state.killed = false;
                state.halt_reason = None;
                state.halted_day = None;
                state.kelly_tightened = false;
                if let Some(equity) = state.equity {
                    state.day_start_equity = equity;
                    let today = rules::utc_day(command.event_time);
                    state.day = Some(state.day.map_or(today, |day| day.max(today)));
                }
                Ok(())
            }
            CommandKind::RiskTrim => {
                let fraction = command.fraction.filter(|f| f.is_positive() && *f <= FixedPoint::ONE);
                let fraction = fraction.ok_or_else(|| Invalid::new(format!("RISK_TRIM needs a fraction in (0, 1], got {:?}", command.fraction)))?;
                let scope = command.symbol.clone().unwrap_or_else(|| "all positions".into());
                raised.push(Raised {
                    symbol: command.symbol.clone(),
                    value: Some(fraction),
                    ..Raised::new(RiskEventKind::ExposureTrim, Severity::Warning, format!("trim {scope} by {fraction}, requested by {}", command.requested_by))
                });
                Ok(())
            }
            other => Err(Invalid::new(format!("risk_sentinel does not take {other:?} commands (RISK_RESET, RISK_TRIM)"))),
        }
    }

    fn on_governor(state: &mut RiskSentinelState, weights: &GovernorWeights) -> Result<(), Invalid> {
        if let Some(clamp) = weights.kelly_clamp {
            if clamp.is_negative() || clamp > FixedPoint::ONE {
                return Err(Invalid::new(format!("governor kelly_clamp {clamp} is outside 0..=1")));
            }
            state.governor_kelly_clamp = Some(clamp);
        }
        Ok(())
    }
}

/// Sets the price of `symbol`, allocating its key only the first time.
fn set_price(prices: &mut BTreeMap<String, FixedPoint>, symbol: &str, price: FixedPoint) {
    match prices.get_mut(symbol) {
        Some(slot) => *slot = price,
        None => {
            prices.insert(symbol.to_owned(), price);
        }
    }
}

impl Agent for RiskSentinel {
    type State = RiskSentinelState;
    const NAME: &'static str = "risk_sentinel";
    const INPUTS: &'static [&'static str] = &["pnl", "fills", "orders", "ticks", "session_events", "governor_weights", "commands"];
    const OUTPUTS: &'static [&'static str] = &["risk_state", "risk_events"];

    fn state(&self) -> &RiskSentinelState {
        &self.state
    }

    fn restore(&mut self, state: RiskSentinelState) {
        self.state = state;
    }

    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        // In place, without copying the state: every handler checks all that can refuse its
        // input before its first change, so a refused input leaves the state as it was.
        let next = &mut self.state;
        let mut raised = Vec::new();
        match event {
            BusEvent::Pnl(pnl) => Self::on_pnl(&self.config, next, pnl, &mut raised),
            BusEvent::Fill(fill) => Self::on_fill(&self.config, next, fill, &mut raised)?,
            BusEvent::Order(order) => Self::on_order(next, order, &mut raised)?,
            BusEvent::Tick(tick) => {
                let mid = tick_mark(tick)?;
                set_price(&mut next.mids, &tick.symbol, mid);
                set_price(&mut next.last_prices, &tick.symbol, tick.price);
            }
            BusEvent::SessionEvent(session) => Self::on_session(next, session, &mut raised),
            BusEvent::GovernorWeights(weights) => Self::on_governor(next, weights)?,
            BusEvent::Command(command) if command.target == Self::NAME => Self::on_command(next, command, &mut raised)?,
            _ => {}
        }
        let fields = next.fields(&self.config);
        if fields != next.published {
            if let (Some(before), Some(after)) = (&next.published, &fields) {
                if after.kelly_fraction < before.kelly_fraction {
                    raised.push(Raised {
                        value: Some(after.kelly_fraction),
                        limit: Some(before.kelly_fraction),
                        ..Raised::new(
                            RiskEventKind::KellyClamp,
                            Severity::Warning,
                            format!("Kelly fraction tightened from {} to {} (drawdown {} %)", before.kelly_fraction, after.kelly_fraction, after.drawdown_pct),
                        )
                    });
                }
            }
            if let Some(fields) = &fields {
                let envelope = out.envelope();
                out.emit(fields.to_event(envelope.event_id, envelope.event_time, envelope.producer));
            }
            next.published = fields;
        }
        for r in raised {
            let envelope = out.envelope();
            out.emit(RiskEvent {
                event_id: envelope.event_id,
                event_time: envelope.event_time,
                producer: envelope.producer,
                kind: r.kind,
                severity: r.severity,
                symbol: r.symbol,
                order_id: r.order_id,
                value: r.value,
                limit: r.limit,
                message: r.message,
            });
        }
        Ok(())
    }

    fn reconfigure(&mut self, config: &AgentConfig) {
        self.config = config.risk.clone();
    }
}
