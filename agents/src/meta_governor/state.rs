//! The MetaGovernor's state: the blend it published, what it knows of positions and
//! signals for attribution, the attribution totals, the tick window for validation, the
//! reweight schedule, the day's start equity for the Kelly clamp, and the last verdicts.

use std::collections::{BTreeMap, VecDeque};

use maxx_events::{BlendWeights, EventId, EventTime, FixedPoint, Producer, Tick};
use serde::{Deserialize, Serialize};

use super::attribution::{Attribution, SignalRecord};
use super::backtest::Validation;

/// Everything the MetaGovernor's decisions depend on besides its configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetaGovernorState {
    /// The blend last published; `None` until the first publication (the configured
    /// `alpha.weights`, normalized to sum 1, are then in force).
    pub published: Option<BlendWeights>,
    /// Latest signal per symbol.
    pub latest_signals: BTreeMap<String, SignalRecord>,
    /// Per symbol with an open position: the signal in force when it was last opened or
    /// increased.
    pub entry_signals: BTreeMap<String, SignalRecord>,
    /// Net position per symbol at the last pnl.
    pub positions: BTreeMap<String, FixedPoint>,
    /// Realized PnL (before fees) at the last pnl; `None` before the first.
    pub realized: Option<FixedPoint>,
    /// Realized PnL attributed to each sub-signal since the start.
    pub attribution_totals: Attribution,
    /// Realized PnL attributed since the last reweight: the learning step's input.
    pub attribution_window: Attribution,
    /// Realized PnL that could not be tied to one signal, since the start.
    pub unattributed: FixedPoint,
    /// The newest ticks (all symbols), oldest first, for the validation backtest.
    pub ticks: VecDeque<RecentTick>,
    /// Event time of the latest input.
    pub last_input: Option<EventTime>,
    /// The reweight schedule `next_reweight` was computed for.
    pub schedule: String,
    /// The next reweight fire time; `None` before the first input or when the schedule never fires.
    pub next_reweight: Option<EventTime>,
    /// The latest reweight attempt and its outcome.
    pub last_reweight: Option<ReweightRecord>,
    /// The latest validation backtest.
    pub last_validation: Option<Validation>,
    /// The UTC day (days since the epoch) of the latest pnl.
    pub day: Option<i64>,
    /// Equity of the first pnl of that day.
    pub day_start_equity: FixedPoint,
    /// Equity of the latest pnl.
    pub equity: Option<FixedPoint>,
    /// The tighter Kelly clamp was ordered today.
    pub kelly_clamped: bool,
}

/// A reweight attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReweightRecord {
    /// Event time of the attempt.
    pub at: EventTime,
    /// What started it: `schedule` or `request`.
    pub trigger: String,
    /// A new blend was published.
    pub published: bool,
    /// What happened, in words.
    pub outcome: String,
}

/// A tick as kept for the validation backtest: only what the chain reads (the snapshot of
/// a window of a thousand ticks stays small).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentTick {
    /// The tick's event id (the backtest's output ids derive from it).
    pub event_id: EventId,
    /// Its event time.
    pub time: EventTime,
    /// Symbol.
    pub symbol: String,
    /// Last price.
    pub price: FixedPoint,
    /// Traded quantity.
    pub volume: FixedPoint,
    /// Best bid.
    pub bid: Option<FixedPoint>,
    /// Best ask.
    pub ask: Option<FixedPoint>,
}

impl RecentTick {
    /// Keeps what the backtest needs of `tick`.
    pub fn of(tick: &Tick) -> Self {
        Self { event_id: tick.event_id, time: tick.event_time, symbol: tick.symbol.clone(), price: tick.price, volume: tick.volume, bid: tick.bid, ask: tick.ask }
    }

    /// The tick replayed in a backtest (venue and producer are not kept: none of the chain
    /// reads them).
    pub fn to_tick(&self) -> Tick {
        Tick {
            event_id: self.event_id,
            event_time: self.time,
            producer: Producer { agent: "market_data".into(), version: String::new(), instance: "replay".into() },
            symbol: self.symbol.clone(),
            exchange: "replay".into(),
            price: self.price,
            volume: self.volume,
            bid: self.bid,
            ask: self.ask,
            venue_seq: None,
        }
    }
}
