//! The demo's market: all agents on the embedded runtime, fed by the seeded synthetic market
//! and news feed, and a [`Tally`] of what happened. Deterministic: the same seed and
//! duration give the same events, the same tally and the same summary.

use std::collections::BTreeMap;

use maxx_agents::alpha::Alpha;
use maxx_agents::config::AgentConfig;
use maxx_agents::execution::Execution;
use maxx_agents::market_data::synthetic::{SyntheticConfig, SyntheticMarket};
use maxx_agents::meta_governor::MetaGovernor;
use maxx_agents::portfolio::Portfolio;
use maxx_agents::risk::RiskSentinel;
use maxx_agents::sentiment::synthetic::SyntheticNews;
use maxx_agents::sentiment::Sentiment;
use maxx_agents::session_clock::SessionClock;
use maxx_agents::Emitter;
use maxx_events::{AckStatus, BusEvent, EventTime, FixedPoint, Pnl, Producer, RiskState, SessionEventKind, Signal};
use maxx_runtime::{EmbeddedRuntime, Runaway};

/// A news item every this many ticks.
const TICKS_PER_NEWS_ITEM: u64 = 25;
/// Most events one tick may cause before the agents are deemed to run away.
const EVENTS_PER_TICK_LIMIT: usize = 100_000;

/// What the demo has seen so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Ticks fed.
    pub ticks: u64,
    /// News items fed.
    pub news: u64,
    /// Signals, orders, fills, rejected acks, dead letters, governor updates.
    pub signals: u64,
    /// See `signals`.
    pub orders: u64,
    /// See `signals`.
    pub fills: u64,
    /// See `signals`.
    pub rejects: u64,
    /// See `signals`.
    pub dead_letters: u64,
    /// See `signals`.
    pub governor_updates: u64,
    /// Risk events by kind.
    pub risk_events: BTreeMap<String, u64>,
    /// Session opens seen, by session.
    pub session_opens: BTreeMap<String, u64>,
    /// Sessions open now.
    pub open_sessions: Vec<String>,
    /// Last price per symbol.
    pub prices: BTreeMap<String, FixedPoint>,
    /// Last signal per symbol.
    pub signals_by_symbol: BTreeMap<String, Signal>,
    /// The latest pnl and risk state.
    pub pnl: Option<Pnl>,
    /// See `pnl`.
    pub risk: Option<RiskState>,
    /// Highest total equity (equity + lockbox) seen, and the largest fall from it (%).
    pub peak: FixedPoint,
    /// See `peak`.
    pub max_drawdown_pct: FixedPoint,
    /// Event time of the first and the latest tick.
    pub first_time: Option<EventTime>,
    /// See `first_time`.
    pub now: Option<EventTime>,
}

impl Tally {
    fn observe(&mut self, event: &BusEvent) {
        match event {
            BusEvent::Tick(tick) => {
                self.ticks += 1;
                self.prices.insert(tick.symbol.clone(), tick.price);
                self.first_time.get_or_insert(tick.event_time);
                self.now = Some(tick.event_time);
            }
            BusEvent::Signal(signal) => {
                self.signals += 1;
                self.signals_by_symbol.insert(signal.symbol.clone(), signal.clone());
            }
            BusEvent::Order(_) => self.orders += 1,
            BusEvent::Fill(_) => self.fills += 1,
            BusEvent::OrderAck(ack) if ack.status == AckStatus::Rejected => self.rejects += 1,
            BusEvent::DeadLetter(_) => self.dead_letters += 1,
            BusEvent::GovernorWeights(_) => self.governor_updates += 1,
            BusEvent::RiskEvent(risk) => *self.risk_events.entry(format!("{:?}", risk.kind)).or_default() += 1,
            BusEvent::RiskState(risk) => self.risk = Some(risk.clone()),
            BusEvent::SessionEvent(session) => {
                let name = session.session.as_str().to_owned();
                self.open_sessions.retain(|s| *s != name);
                if session.event == SessionEventKind::Open {
                    *self.session_opens.entry(name.clone()).or_default() += 1;
                    self.open_sessions.push(name);
                    self.open_sessions.sort();
                }
            }
            BusEvent::Pnl(pnl) => {
                let total = pnl.equity.checked_add(pnl.lockbox).unwrap_or(pnl.equity);
                self.peak = self.peak.max(total);
                if self.peak.is_positive() {
                    let fall = self.peak.checked_sub(total).unwrap_or(FixedPoint::ZERO);
                    let pct = fall.checked_mul_div(FixedPoint::from_raw(100 * FixedPoint::SCALE), self.peak).unwrap_or(FixedPoint::ZERO);
                    self.max_drawdown_pct = self.max_drawdown_pct.max(pct);
                }
                self.pnl = Some(pnl.clone());
            }
            _ => {}
        }
    }
}

/// The agents, the synthetic sources, and the tally.
pub struct Engine {
    runtime: EmbeddedRuntime,
    market: SyntheticMarket,
    news: SyntheticNews,
    sentiment: Sentiment,
    producer: Producer,
    tally: Tally,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("tally", &self.tally).finish_non_exhaustive()
    }
}

impl Engine {
    /// Every agent of MAXX in one process, on the market of `seed`.
    ///
    /// # Errors
    /// When the session calendar of `config` does not compile.
    pub fn new(config: &AgentConfig, seed: u64) -> anyhow::Result<Self> {
        let clock = SessionClock::new(&config.session_clock).map_err(|problems| anyhow::anyhow!("session_clock: {problems:?}"))?;
        let mut runtime = EmbeddedRuntime::new();
        runtime
            .add(clock, "session_clock-demo")
            .add(Alpha::new(config.alpha.clone()), "alpha-demo")
            .add(RiskSentinel::new(config.risk.clone()), "risk_sentinel-demo")
            .add(Execution::new(config.exec.clone()), "execution-demo")
            .add(Portfolio::new(config.portfolio.clone()), "portfolio-demo")
            .add(MetaGovernor::new(config), "meta_governor-demo");
        let synthetic = SyntheticConfig { seed, ..config.market_data.synthetic.clone() };
        let market_producer = Producer { agent: "market_data".into(), version: env!("CARGO_PKG_VERSION").into(), instance: "market_data-demo".into() };
        Ok(Self {
            runtime,
            market: SyntheticMarket::new(synthetic, market_producer),
            news: SyntheticNews::new(seed),
            sentiment: Sentiment::new(config.sentiment.clone()),
            producer: Producer { agent: "sentiment".into(), version: env!("CARGO_PKG_VERSION").into(), instance: "sentiment-demo".into() },
            tally: Tally::default(),
        })
    }

    /// What happened so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Feeds the next tick (and, every few ticks, a news item) and runs every agent until
    /// nothing is left to handle. Returns the tick's event time.
    ///
    /// # Errors
    /// [`Runaway`] when the agents keep feeding each other.
    pub fn step(&mut self) -> Result<Option<EventTime>, Runaway> {
        let Some(tick) = self.market.next_tick() else { return Ok(None) };
        let time = tick.event_time;
        self.runtime.publish(tick);
        if (self.tally.ticks + 1).is_multiple_of(TICKS_PER_NEWS_ITEM) {
            let item = self.news.next_item(time);
            let (cause, at) = Sentiment::cause(&item);
            let mut scores = Vec::new();
            let mut out = Emitter::new("sentiment", &self.producer, cause, at, &mut scores);
            self.sentiment.ingest(&item, &mut out);
            self.tally.news += 1;
            for score in scores {
                self.runtime.publish(score);
            }
        }
        for event in self.runtime.run_until_idle(EVENTS_PER_TICK_LIMIT)? {
            self.tally.observe(&event);
        }
        Ok(Some(time))
    }
}
