//! Execution: turns signals into risk-sized orders, chooses maker or taker, routes them to a
//! venue (the paper venue by default) and publishes orders, acks/rejects and fills.
//!
//! Decisions, in the order they are taken:
//! - **Signal** (BUY/SELL; FLAT does nothing): the symbol's resting signal orders are canceled
//!   (a new signal replaces them), the style comes from [`routing::style_for`] (post-only
//!   limit at the near touch, maker, or market, taker), the target size from [`sizing`] with
//!   the latest risk state at the order's reference price (the limit, or the last price), and
//!   one order moves the exposure (position + open orders) toward `±target`, never beyond the
//!   per-trade cap.
//! - **Every order** passes [`crate::risk::gate::pre_trade`] with notional = qty × reference
//!   price (limit price, or the last price for market orders). A blocked order never reaches a
//!   venue and no `Order` event is published for it: Execution answers with an `OrderAck`
//!   REJECTED on route `risk_gate` whose reason is the rule (so a refused manual order is
//!   visible on `order_acks`). Refusals before the gate (no market data) use route `execution`.
//! - **Venue**: the active route takes it; a venue reject is retried once on the other route
//!   when `fallback_on_reject` (not for rule rejects, which every venue would repeat) as a new
//!   order whose id derives from the rejected one. Each venue ack feeds the rolling reject
//!   ratio; above the limit the active route switches and a RiskEvent ROUTE_SWITCH goes out.
//! - **Halt** (`risk_state.halted`): resting orders that would add exposure are canceled;
//!   the gate refuses new ones until the halt lifts.
//! - **Hard kill** (`risk_state.killed`): every open order is canceled and every position is
//!   flattened with reduce-only market orders (split into chunks within the per-trade cap,
//!   which applies even to reducing orders). While killed the gate refuses everything else.
//! - **Trim** (RiskEvent EXPOSURE_TRIM, `value` = fraction, symbol or all): each position is
//!   reduced by `fraction × |position|` (rounded down to `qty_step`) with reduce-only market
//!   orders.
//! - **Commands** (target `execution`): SUBMIT_ORDER (through the gate; a limit may rest or
//!   fill at once), CANCEL_ORDER (an order that is not open gets an ack REJECTED on route
//!   `execution`).
//!
//! Ids: order ids are `EventId::derive(time, ["execution/order", cause id, n])`, retries
//! `["execution/retry", rejected order id]`, fill ids come from the venue (the paper venue
//! derives them from the order id). The same inputs give the same outputs. `Order.meta` holds
//! one entry, `cause` (signal, manual, kill, trim, retry): a single key keeps its encoding
//! byte-identical (a `HashMap` with more keys has no stable order).

mod config;
pub mod paper_venue;
mod reconcile;
pub mod routing;
pub mod sizing;
pub mod views;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use maxx_events::{
    AckStatus, BusEvent, Command, CommandKind, EventId, EventTime, FixedPoint, Fill, Order, OrderAck, OrderType, RiskEvent, RiskEventKind, RiskState,
    Severity, Side, Signal, SignalSide, Tick,
};
use serde::{Deserialize, Serialize};

pub use config::{ExecConfig, PaperVenueConfig};
pub use reconcile::{reconcile, ReconcileReport, VenueOpenOrder};

use crate::config::AgentConfig;
use crate::contract::{Agent, Emitter, Invalid};
use crate::risk::gate;
use paper_venue::{Market, PaperVenue, Submitted, VenueFill, VenueOrder};
use routing::{RouteState, Style};

/// Route name on acks for orders the risk gate refused.
pub const RISK_GATE_ROUTE: &str = "risk_gate";
/// Route name on acks for requests Execution itself refused before any venue.
pub const EXECUTION_ROUTE: &str = "execution";

/// How many published fill ids [`ExecutionState::seen_fills`] keeps; past it, the smallest
/// ids are forgotten first (`pop_first`: deterministic, so replays and audits keep the same
/// set). Safe because the paper venue never issues a fill id twice (an id derives from its
/// order id and the fill's number on that order), so the set matters only to
/// [`reconcile`], which is given a venue's *recent* fills after a reconnect; and the paper
/// venue's ids are UUIDv7 of the fill time, so the smallest ids are the oldest fills. Without
/// a bound the set (and every snapshot of it) grows with every fill ever made. It keeps 4×
/// the id window Portfolio dedupes fills with ([`crate::portfolio::recent::WINDOW`]).
pub const SEEN_FILLS_KEPT: usize = 4 * crate::portfolio::recent::WINDOW;

/// The Execution agent.
#[derive(Debug, Clone)]
pub struct Execution {
    config: ExecConfig,
    state: ExecutionState,
    /// Orders created while handling the current input (numbers their ids); not state.
    created: u32,
}

/// Everything Execution's decisions depend on besides its configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecutionState {
    /// The latest risk state.
    pub risk: Option<RiskState>,
    /// The latest market per symbol.
    pub markets: BTreeMap<String, Market>,
    /// Net position per symbol from our fills (base units; negative = short).
    pub positions: BTreeMap<String, FixedPoint>,
    /// Our open orders by order id.
    pub open_orders: BTreeMap<String, OpenOrder>,
    /// The paper venue's book.
    pub venue: PaperVenue,
    /// Active route and recent acks.
    pub routes: RouteState,
    /// Ids of the fills already published (reconciliation never publishes one twice): the
    /// [`SEEN_FILLS_KEPT`] greatest ids, see there for why forgetting the others is safe.
    pub seen_fills: BTreeSet<String>,
    /// Order acks published since the start, by status (`ACCEPTED`, `REJECTED`, `CANCELED`):
    /// the counters behind the `maxx_execution_order_acks_total` metric. Absent in older
    /// snapshots, which restore with zero counts.
    #[serde(default)]
    pub ack_counts: BTreeMap<String, u64>,
}

/// An order accepted by a venue and not yet filled or canceled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenOrder {
    /// Order id.
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Original quantity.
    pub qty: FixedPoint,
    /// Quantity not yet filled.
    pub remaining: FixedPoint,
    /// Market or limit.
    pub order_type: OrderType,
    /// Limit price.
    pub limit_price: Option<FixedPoint>,
    /// Route it rests on.
    pub route: String,
    /// Why it was created (signal, manual, kill, trim, retry).
    pub cause: String,
}

/// What to send, before ids, the gate and the venue.
#[derive(Debug, Clone)]
struct Request {
    symbol: String,
    side: Side,
    qty: FixedPoint,
    order_type: OrderType,
    limit_price: Option<FixedPoint>,
    post_only: bool,
    signal_id: Option<EventId>,
    cause: &'static str,
}

/// The id of the `n`-th order created while handling the input `cause` at `time`.
fn order_id(time: EventTime, cause: EventId, n: u32) -> String {
    EventId::derive(time, &[b"execution/order", cause.as_uuid().as_bytes(), &n.to_be_bytes()]).to_string()
}

/// The id of the order a SUBMIT_ORDER command creates (its first and only order), so the
/// route that published the command can name the order before the agent handled it.
pub fn manual_order_id(command: &Command) -> String {
    order_id(command.event_time, command.event_id, 0)
}

fn signed(side: Side, qty: FixedPoint) -> FixedPoint {
    match side {
        Side::Buy => qty,
        Side::Sell => FixedPoint::from_raw(qty.raw().saturating_neg()),
    }
}

impl Execution {
    /// An Execution with `config` and an empty state.
    pub fn new(config: ExecConfig) -> Self {
        let mut state = ExecutionState::default();
        state.routes.active = config.primary_route.clone();
        Self { config, state, created: 0 }
    }

    /// Position plus open orders of `symbol`, signed.
    fn exposure(&self, symbol: &str) -> FixedPoint {
        let position = self.state.positions.get(symbol).copied().unwrap_or_default();
        self.state.open_orders.values().filter(|o| o.symbol == symbol).fold(position, |sum, o| {
            sum.checked_add(signed(o.side, o.remaining)).unwrap_or(sum)
        })
    }

    /// Whether an order of `side` and `qty` only reduces the position in `symbol`.
    fn reduces(&self, symbol: &str, side: Side, qty: FixedPoint) -> bool {
        let position = self.state.positions.get(symbol).copied().unwrap_or_default();
        match side {
            Side::Buy => position.is_negative() && qty <= position.abs(),
            Side::Sell => position.is_positive() && qty <= position,
        }
    }

    fn next_order_id(&mut self, out: &Emitter<'_>, cause: EventId) -> String {
        let n = self.created;
        self.created += 1;
        order_id(out.now(), cause, n)
    }

    fn ack(counts: &mut BTreeMap<String, u64>, out: &mut Emitter<'_>, order_id: &str, status: AckStatus, route: &str, venue_order_id: Option<String>, reason: Option<String>) {
        *counts.entry(ack_status_name(status).to_string()).or_default() += 1;
        let envelope = out.envelope();
        out.emit(OrderAck {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            order_id: order_id.to_string(),
            status,
            route: route.to_string(),
            venue_order_id,
            reason,
        });
    }

    /// Gate, publish, submit, retry: one request from start to end.
    fn place(&mut self, request: Request, cause: EventId, out: &mut Emitter<'_>) {
        let order_id = self.next_order_id(out, cause);
        let market = self.state.markets.get(&request.symbol).copied();
        let Some(reference) = request.limit_price.or(market.map(|m| m.price)) else {
            let reason = format!("no market data for {}", request.symbol);
            Self::ack(&mut self.state.ack_counts, out, &order_id, AckStatus::Rejected, EXECUTION_ROUTE, None, Some(reason));
            return;
        };
        let notional = request.qty.checked_mul(reference).unwrap_or(FixedPoint::from_raw(i64::MAX));
        let reduces = self.reduces(&request.symbol, request.side, request.qty);
        if let Err(blocked) = gate::pre_trade(self.state.risk.as_ref(), notional, reduces) {
            Self::ack(&mut self.state.ack_counts, out, &order_id, AckStatus::Rejected, RISK_GATE_ROUTE, None, Some(format!("risk gate: {blocked}")));
            return;
        }
        let route = self.state.routes.active(&self.config).to_string();
        let rejected = self.submit(&request, &order_id, &route, request.cause, out);
        if rejected && self.config.fallback_on_reject {
            let retry_id = EventId::derive(out.now(), &[b"execution/retry", order_id.as_bytes()]).to_string();
            let fallback = routing::other_route(&route, &self.config).to_string();
            self.submit(&request, &retry_id, &fallback, "retry", out);
        }
    }

    /// Publishes the order and sends it to `route`; true when the venue rejected it (not by
    /// rule), i.e. when a retry elsewhere may help.
    fn submit(&mut self, request: &Request, order_id: &str, route: &str, cause: &str, out: &mut Emitter<'_>) -> bool {
        let envelope = out.envelope();
        let order = Order {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            order_id: order_id.to_string(),
            symbol: request.symbol.clone(),
            side: request.side,
            qty: request.qty,
            order_type: request.order_type,
            limit_price: request.limit_price,
            post_only: request.post_only,
            route: route.to_string(),
            signal_id: request.signal_id,
            meta: HashMap::from([("cause".to_string(), cause.to_string())]),
        };
        let venue_order = VenueOrder::from(&order);
        out.emit(order);
        let market = self.state.markets.get(&request.symbol).copied();
        let result = self.state.venue.submit(&venue_order, market.as_ref(), out.now(), &self.config.paper);
        let switch = self.state.routes.record(matches!(result, Submitted::Rejected { .. }), &self.config);
        let retry = match result {
            Submitted::Rejected { reason, rule } => {
                Self::ack(&mut self.state.ack_counts, out, order_id, AckStatus::Rejected, route, None, Some(reason));
                !rule
            }
            Submitted::Accepted { venue_order_id, fills } => {
                Self::ack(&mut self.state.ack_counts, out, order_id, AckStatus::Accepted, route, Some(venue_order_id), None);
                self.state.open_orders.insert(
                    order_id.to_string(),
                    OpenOrder {
                        order_id: order_id.to_string(),
                        symbol: request.symbol.clone(),
                        side: request.side,
                        qty: request.qty,
                        remaining: request.qty,
                        order_type: request.order_type,
                        limit_price: request.limit_price,
                        route: route.to_string(),
                        cause: cause.to_string(),
                    },
                );
                for fill in fills {
                    apply_fill(&mut self.state, &fill, out);
                }
                false
            }
        };
        if let Some(switch) = switch {
            let envelope = out.envelope();
            out.emit(RiskEvent {
                event_id: envelope.event_id,
                event_time: envelope.event_time,
                producer: envelope.producer,
                kind: RiskEventKind::RouteSwitch,
                severity: Severity::Warning,
                symbol: None,
                order_id: Some(order_id.to_string()),
                value: Some(switch.ratio_pct),
                limit: Some(self.config.reject_ratio_limit_pct),
                message: format!("reject ratio {}% over the last {} acks exceeds {}%: route {} -> {}", switch.ratio_pct, self.config.reject_window, self.config.reject_ratio_limit_pct, switch.from, switch.to),
            });
        }
        retry
    }

    /// Cancels an open order; false when it is not open.
    fn cancel(&mut self, order_id: &str, reason: String, out: &mut Emitter<'_>) -> bool {
        let Some(order) = self.state.open_orders.remove(order_id) else { return false };
        self.state.venue.cancel(order_id);
        Self::ack(&mut self.state.ack_counts, out, order_id, AckStatus::Canceled, &order.route, None, Some(reason));
        true
    }

    /// Reduce-only market orders taking `qty` off the position of `symbol`, each within the cap.
    fn reduce(&mut self, symbol: &str, qty: FixedPoint, cause: &'static str, cause_id: EventId, out: &mut Emitter<'_>) {
        let position = self.state.positions.get(symbol).copied().unwrap_or_default();
        let side = if position.is_positive() { Side::Sell } else { Side::Buy };
        let mut left = qty.min(position.abs());
        let price = self.state.markets.get(symbol).map(|m| m.price);
        let chunk = match (&self.state.risk, price) {
            (Some(risk), Some(price)) => sizing::cap_qty(risk, price, self.config.qty_step),
            _ => left,
        };
        for _ in 0..1_000 {
            if !left.is_positive() {
                break;
            }
            let this = if chunk.is_positive() { left.min(chunk) } else { left };
            let before = self.state.positions.get(symbol).copied().unwrap_or_default();
            let request = Request { symbol: symbol.to_string(), side, qty: this, order_type: OrderType::Market, limit_price: None, post_only: false, signal_id: None, cause };
            self.place(request, cause_id, out);
            let after = self.state.positions.get(symbol).copied().unwrap_or_default();
            if after == before {
                break; // refused or unfilled: do not loop on it
            }
            left = FixedPoint::from_raw(left.raw() - this.raw());
        }
    }

    fn on_signal(&mut self, signal: &Signal, out: &mut Emitter<'_>) {
        let side = match signal.side {
            SignalSide::Buy => Side::Buy,
            SignalSide::Sell => Side::Sell,
            SignalSide::Flat => return,
        };
        let replaced: Vec<String> =
            self.state.open_orders.values().filter(|o| o.symbol == signal.symbol && o.cause == "signal").map(|o| o.order_id.clone()).collect();
        for order_id in replaced {
            self.cancel(&order_id, format!("replaced by signal {}", signal.event_id), out);
        }
        let Some(market) = self.state.markets.get(&signal.symbol).copied() else {
            let order_id = self.next_order_id(out, signal.event_id);
            Self::ack(&mut self.state.ack_counts, out, &order_id, AckStatus::Rejected, EXECUTION_ROUTE, None, Some(format!("no market data for {}", signal.symbol)));
            return;
        };
        let Some(risk) = self.state.risk.clone() else {
            let order_id = self.next_order_id(out, signal.event_id);
            Self::ack(&mut self.state.ack_counts, out, &order_id, AckStatus::Rejected, RISK_GATE_ROUTE, None, Some(format!("risk gate: {}", gate::Blocked::NoRiskState)));
            return;
        };
        let (order_type, limit_price, post_only) = match routing::style_for(signal.score, &self.config) {
            Style::Maker => (OrderType::Limit, Some(market.near_touch(side)), true),
            Style::Taker => (OrderType::Market, None, false),
        };
        // Sized at the price the gate judges the order at (the limit of a maker order, the
        // last price of a market order), so a full-size order stays within the cap: a maker
        // sell rests at the ask, above the last price.
        let reference = limit_price.unwrap_or(market.price);
        let step = self.config.qty_step;
        let target = signed(side, sizing::target_qty(&risk, signal.confidence, reference, step));
        let cap = sizing::cap_qty(&risk, reference, step);
        let Some(qty) = sizing::order_toward(side, target, self.exposure(&signal.symbol), cap, step) else { return };
        let request = Request { symbol: signal.symbol.clone(), side, qty, order_type, limit_price, post_only, signal_id: Some(signal.event_id), cause: "signal" };
        self.place(request, signal.event_id, out);
    }

    fn on_tick(&mut self, tick: &Tick, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        if !tick.price.is_positive() || tick.volume.is_negative() {
            return Err(Invalid::new(format!("tick {} for {}: price {} volume {}", tick.event_id, tick.symbol, tick.price, tick.volume)));
        }
        let market = Market { price: tick.price, bid: tick.bid, ask: tick.ask, volume: tick.volume, time: tick.event_time };
        self.state.markets.insert(tick.symbol.clone(), market);
        let fills = self.state.venue.on_tick(&tick.symbol, &market, &self.config.paper);
        for fill in fills {
            apply_fill(&mut self.state, &fill, out);
        }
        Ok(())
    }

    fn on_risk_state(&mut self, risk: &RiskState, out: &mut Emitter<'_>) {
        self.state.risk = Some(risk.clone());
        if risk.halted && !risk.killed {
            // Resting orders that would add exposure must not fill during a halt.
            let adding: Vec<String> = self.state.open_orders.values().filter(|o| !self.reduces(&o.symbol, o.side, o.remaining)).map(|o| o.order_id.clone()).collect();
            for order_id in adding {
                self.cancel(&order_id, format!("trading halted: {}", risk.halt_reason.as_deref().unwrap_or("daily drawdown")), out);
            }
        }
        if !risk.killed {
            return;
        }
        let open: Vec<String> = self.state.open_orders.keys().cloned().collect();
        for order_id in open {
            self.cancel(&order_id, "hard kill".into(), out);
        }
        let positions: Vec<(String, FixedPoint)> = self.state.positions.iter().filter(|(_, q)| **q != FixedPoint::ZERO).map(|(s, q)| (s.clone(), q.abs())).collect();
        for (symbol, qty) in positions {
            self.reduce(&symbol, qty, "kill", risk.event_id, out);
        }
    }

    fn on_risk_event(&mut self, event: &RiskEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        if event.kind != RiskEventKind::ExposureTrim {
            return Ok(());
        }
        let fraction = event.value.filter(|f| f.is_positive() && *f <= FixedPoint::ONE).ok_or_else(|| {
            Invalid::new(format!("exposure trim {}: fraction {:?} is not in (0, 1]", event.event_id, event.value.map(|v| v.to_string())))
        })?;
        let positions: Vec<(String, FixedPoint)> = self
            .state
            .positions
            .iter()
            .filter(|(symbol, qty)| **qty != FixedPoint::ZERO && event.symbol.as_ref().is_none_or(|s| s == *symbol))
            .map(|(s, q)| (s.clone(), q.abs()))
            .collect();
        for (symbol, size) in positions {
            let qty = if fraction == FixedPoint::ONE {
                size
            } else {
                sizing::floor_fraction(size, fraction, self.config.qty_step)
            };
            if qty.is_positive() {
                self.reduce(&symbol, qty, "trim", event.event_id, out);
            }
        }
        Ok(())
    }

    fn on_command(&mut self, command: &Command, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        if command.target != <Self as Agent>::NAME {
            return Ok(());
        }
        let invalid = |what: &str| Invalid::new(format!("command {} ({:?}): {what}", command.event_id, command.kind));
        match command.kind {
            CommandKind::SubmitOrder => {
                let symbol = command.symbol.clone().filter(|s| !s.is_empty()).ok_or_else(|| invalid("no symbol"))?;
                let side = command.side.ok_or_else(|| invalid("no side"))?;
                let qty = command.qty.filter(|q| q.is_positive()).ok_or_else(|| invalid("quantity must be positive"))?;
                let order_type = command.order_type.unwrap_or(OrderType::Market);
                let limit_price = match order_type {
                    OrderType::Limit => Some(command.limit_price.filter(|p| p.is_positive()).ok_or_else(|| invalid("a limit order needs a positive limit price"))?),
                    OrderType::Market => None,
                };
                let request = Request { symbol, side, qty, order_type, limit_price, post_only: false, signal_id: None, cause: "manual" };
                self.place(request, command.event_id, out);
            }
            CommandKind::CancelOrder => {
                let order_id = command.order_id.clone().ok_or_else(|| invalid("no order id"))?;
                let reason = command.reason.clone().unwrap_or_else(|| format!("canceled by {}", command.requested_by));
                if !self.cancel(&order_id, reason, out) {
                    Self::ack(&mut self.state.ack_counts, out, &order_id, AckStatus::Rejected, EXECUTION_ROUTE, None, Some(format!("order {order_id} is not open")));
                }
            }
            CommandKind::Sweep | CommandKind::RiskTrim | CommandKind::RiskReset | CommandKind::GovernReweight => {}
        }
        Ok(())
    }
}

/// The wire name of an ack status (`ACCEPTED`, `REJECTED`, `CANCELED`), the key of
/// [`ExecutionState::ack_counts`].
pub fn ack_status_name(status: AckStatus) -> &'static str {
    match status {
        AckStatus::Accepted => "ACCEPTED",
        AckStatus::Rejected => "REJECTED",
        AckStatus::Canceled => "CANCELED",
    }
}

/// Publishes a venue fill once and books it: position, the order's remaining quantity.
/// A fill id seen before is ignored (that is what makes reconciliation idempotent).
fn apply_fill(state: &mut ExecutionState, fill: &VenueFill, out: &mut Emitter<'_>) -> bool {
    if !state.seen_fills.insert(fill.fill_id.clone()) {
        return false;
    }
    while state.seen_fills.len() > SEEN_FILLS_KEPT {
        state.seen_fills.pop_first();
    }
    let position = state.positions.entry(fill.symbol.clone()).or_default();
    *position = position.checked_add(signed(fill.side, fill.qty)).unwrap_or(*position);
    if let Some(order) = state.open_orders.get_mut(&fill.order_id) {
        order.remaining = FixedPoint::from_raw(order.remaining.raw().saturating_sub(fill.qty.raw()).max(0));
        if !order.remaining.is_positive() {
            state.open_orders.remove(&fill.order_id);
        }
    }
    let envelope = out.envelope();
    out.emit(Fill {
        event_id: envelope.event_id,
        event_time: envelope.event_time,
        producer: envelope.producer,
        fill_id: fill.fill_id.clone(),
        order_id: fill.order_id.clone(),
        symbol: fill.symbol.clone(),
        side: fill.side,
        price: fill.price,
        qty: fill.qty,
        fee: fill.fee,
        liquidity: fill.liquidity,
        venue: fill.route.clone(),
    });
    true
}

impl Agent for Execution {
    type State = ExecutionState;
    const NAME: &'static str = "execution";
    const INPUTS: &'static [&'static str] = &["signals", "risk_state", "risk_events", "ticks", "commands"];
    const OUTPUTS: &'static [&'static str] = &["orders", "order_acks", "fills", "risk_events"];

    fn state(&self) -> &ExecutionState {
        &self.state
    }

    fn restore(&mut self, state: ExecutionState) {
        self.state = state;
    }

    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        self.created = 0;
        // Refusals are decided before any change, so a refused input leaves the state as it was.
        match event {
            BusEvent::Signal(signal) => {
                self.on_signal(signal, out);
                Ok(())
            }
            BusEvent::Tick(tick) => self.on_tick(tick, out),
            BusEvent::RiskState(risk) => {
                self.on_risk_state(risk, out);
                Ok(())
            }
            BusEvent::RiskEvent(event) => self.on_risk_event(event, out),
            BusEvent::Command(command) => self.on_command(command, out),
            _ => Ok(()),
        }
    }

    fn reconfigure(&mut self, config: &AgentConfig) {
        self.config = config.exec.clone();
    }
}

#[cfg(test)]
mod tests;
