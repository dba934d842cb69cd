//! Backtests: ticks through Alpha → RiskSentinel → Execution (paper venue) → Portfolio (and,
//! when asked, the MetaGovernor) on the embedded runtime — the agents' own code, in one deterministic order — and what a report
//! needs collected on the way (fills, the equity curve on a fixed event-time grid, realized
//! PnL per closing fill, risk events).
//!
//! No bootstrap is needed: the first tick reaches Portfolio, whose first input always
//! publishes a pnl; RiskSentinel publishes its first risk state on that pnl, and Execution
//! sizes orders from it. Until then Execution refuses to size (no risk state): the first
//! signals of a run cannot come before the first tick, so nothing is lost.

use std::collections::BTreeMap;

use maxx_agents::alpha::Alpha;
use maxx_agents::config::AgentConfig;
use maxx_agents::execution::Execution;
use maxx_agents::portfolio::Portfolio;
use maxx_agents::risk::RiskSentinel;
use maxx_events::{BusEvent, FixedPoint, Liquidity, Side, Tick};
use maxx_runtime::EmbeddedRuntime;

/// Events one tick may cause at most before the run is declared runaway.
pub const MAX_EVENTS_PER_TICK: usize = 100_000;

/// Settings of a backtest besides the agents' configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestSettings {
    /// Ticks before this time (µs) are left out.
    pub from_micros: Option<i64>,
    /// Ticks at or after this time (µs) are left out.
    pub to_micros: Option<i64>,
    /// Period of the equity grid the Sharpe ratio and the charts sample (seconds).
    pub grid_secs: i64,
    /// Also run the MetaGovernor, whose reweights (validated by its own backtest) and Kelly
    /// clamps feed back into Alpha and RiskSentinel.
    pub governor: bool,
}

impl Default for BacktestSettings {
    fn default() -> Self {
        Self { from_micros: None, to_micros: None, grid_secs: 60, governor: false }
    }
}

/// Why a backtest stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacktestError {
    /// The agents kept feeding each other after a tick.
    #[error("tick {tick}: the agents produced more than {MAX_EVENTS_PER_TICK} events without settling")]
    Runaway {
        /// Index of the tick.
        tick: u64,
    },
    /// Money overflowed while the report was being summed.
    #[error("overflow while summing {0}")]
    Overflow(&'static str),
    /// The grid period is not positive.
    #[error("the equity grid period must be at least 1 second")]
    BadGrid,
}

/// One fill of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeRecord {
    /// Event time (µs).
    pub time: i64,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Price.
    pub price: FixedPoint,
    /// Quantity.
    pub qty: FixedPoint,
    /// Fee (negative: rebate).
    pub fee: FixedPoint,
    /// Maker or taker.
    pub liquidity: Liquidity,
}

/// Everything collected during a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observations {
    /// Starting cash of the portfolio.
    pub starting_cash: FixedPoint,
    /// Ticks fed (after the time range).
    pub ticks: u64,
    /// Ticks left out by the time range.
    pub ticks_outside_range: u64,
    /// Events handled by the runtime in all (ticks included).
    pub events: u64,
    /// Time of the first and last tick fed (µs).
    pub first_time: Option<i64>,
    /// See `first_time`.
    pub last_time: Option<i64>,
    /// Every fill.
    pub trades: Vec<TradeRecord>,
    /// Sum of |price × qty| over fills.
    pub turnover: FixedPoint,
    /// Orders published, acks rejected.
    pub orders: u64,
    /// Acks with status REJECTED.
    pub rejects: u64,
    /// Closing fills (realized PnL moved) that made money, and that lost.
    pub wins: u64,
    /// See `wins`.
    pub losses: u64,
    /// Risk events by kind.
    pub risk_events: BTreeMap<String, u64>,
    /// Dead letters (inputs an agent refused).
    pub dead_letters: u64,
    /// Total equity (equity + lockbox) sampled at each grid point: the last pnl at or before it.
    pub grid: Vec<(i64, FixedPoint)>,
    /// Largest fall of total equity from its running peak, as a percentage of the peak, over
    /// every pnl (not only grid points).
    pub max_drawdown_pct: FixedPoint,
    /// The last pnl's figures.
    pub last_pnl: Option<maxx_events::Pnl>,
}

/// Folds the handled events of a run into [`Observations`].
#[derive(Debug)]
struct Collector {
    obs: Observations,
    grid_micros: i64,
    next_grid: Option<i64>,
    last_total: Option<FixedPoint>,
    peak: FixedPoint,
    last_realized: Option<FixedPoint>,
}

impl Collector {
    fn observe(&mut self, event: &BusEvent) -> Result<(), BacktestError> {
        self.obs.events += 1;
        match event {
            BusEvent::Fill(fill) => {
                let notional = fill.price.checked_mul(fill.qty).ok_or(BacktestError::Overflow("turnover"))?;
                self.obs.turnover = self.obs.turnover.checked_add(notional.abs()).ok_or(BacktestError::Overflow("turnover"))?;
                self.obs.trades.push(TradeRecord {
                    time: fill.event_time.as_micros(),
                    symbol: fill.symbol.clone(),
                    side: fill.side,
                    price: fill.price,
                    qty: fill.qty,
                    fee: fill.fee,
                    liquidity: fill.liquidity,
                });
            }
            BusEvent::Order(_) => self.obs.orders += 1,
            BusEvent::OrderAck(ack) if ack.status == maxx_events::AckStatus::Rejected => self.obs.rejects += 1,
            BusEvent::RiskEvent(risk) => *self.obs.risk_events.entry(format!("{:?}", risk.kind)).or_default() += 1,
            BusEvent::DeadLetter(_) => self.obs.dead_letters += 1,
            BusEvent::Pnl(pnl) => self.on_pnl(pnl)?,
            _ => {}
        }
        Ok(())
    }

    fn on_pnl(&mut self, pnl: &maxx_events::Pnl) -> Result<(), BacktestError> {
        let time = pnl.event_time.as_micros();
        let total = pnl.equity.checked_add(pnl.lockbox).ok_or(BacktestError::Overflow("equity"))?;
        if let Some(previous) = self.last_realized {
            match pnl.realized.cmp(&previous) {
                std::cmp::Ordering::Greater => self.obs.wins += 1,
                std::cmp::Ordering::Less => self.obs.losses += 1,
                std::cmp::Ordering::Equal => {}
            }
        }
        self.last_realized = Some(pnl.realized);
        match (self.next_grid, self.last_total) {
            (Some(mut next), Some(last)) => {
                while next < time {
                    self.obs.grid.push((next, last));
                    next += self.grid_micros;
                }
                self.next_grid = Some(next);
            }
            _ => self.next_grid = Some(ceil_to(time, self.grid_micros)),
        }
        self.last_total = Some(total);
        self.peak = self.peak.max(total);
        if self.peak.is_positive() {
            let fall = self.peak.checked_sub(total).ok_or(BacktestError::Overflow("drawdown"))?;
            let pct = fall.checked_mul_div(FixedPoint::from_raw(100 * FixedPoint::SCALE), self.peak).ok_or(BacktestError::Overflow("drawdown"))?;
            self.obs.max_drawdown_pct = self.obs.max_drawdown_pct.max(pct);
        }
        self.obs.last_pnl = Some(pnl.clone());
        Ok(())
    }

    fn finish(mut self) -> Observations {
        if let (Some(mut next), Some(last), Some(end)) = (self.next_grid, self.last_total, self.obs.last_time) {
            while next <= end {
                self.obs.grid.push((next, last));
                next += self.grid_micros;
            }
        }
        self.obs
    }
}

fn ceil_to(time: i64, period: i64) -> i64 {
    time.div_euclid(period).saturating_add(i64::from(time.rem_euclid(period) != 0)).saturating_mul(period)
}

/// The chain of a backtest with the MetaGovernor added after Portfolio.
pub fn chain_with_governor(config: &AgentConfig) -> EmbeddedRuntime {
    let mut runtime = chain(config);
    runtime.add(maxx_agents::meta_governor::MetaGovernor::new(config), "meta_governor-backtest");
    runtime
}

/// The chain of a backtest on an embedded runtime, in delivery order.
pub fn chain(config: &AgentConfig) -> EmbeddedRuntime {
    let mut runtime = EmbeddedRuntime::new();
    runtime
        .add(Alpha::new(config.alpha.clone()), "alpha-backtest")
        .add(RiskSentinel::new(config.risk.clone()), "risk_sentinel-backtest")
        .add(Execution::new(config.exec.clone()), "execution-backtest")
        .add(Portfolio::new(config.portfolio.clone()), "portfolio-backtest");
    runtime
}

/// Runs `ticks` (in time order) through the chain; `progress` is called with the number of
/// ticks read so far every 4096 ticks and at the end.
///
/// # Errors
/// [`BacktestError`] when the agents run away or a sum overflows.
pub fn run(
    ticks: impl IntoIterator<Item = Tick>,
    config: &AgentConfig,
    settings: &BacktestSettings,
    progress: &mut dyn FnMut(u64),
) -> Result<Observations, BacktestError> {
    if settings.grid_secs < 1 {
        return Err(BacktestError::BadGrid);
    }
    let mut runtime = if settings.governor { chain_with_governor(config) } else { chain(config) };
    let mut collector = Collector {
        obs: Observations {
            starting_cash: config.portfolio.starting_cash,
            ticks: 0,
            ticks_outside_range: 0,
            events: 0,
            first_time: None,
            last_time: None,
            trades: Vec::new(),
            turnover: FixedPoint::ZERO,
            orders: 0,
            rejects: 0,
            wins: 0,
            losses: 0,
            risk_events: BTreeMap::new(),
            dead_letters: 0,
            grid: Vec::new(),
            max_drawdown_pct: FixedPoint::ZERO,
            last_pnl: None,
        },
        grid_micros: settings.grid_secs.saturating_mul(1_000_000),
        next_grid: None,
        last_total: None,
        peak: FixedPoint::ZERO,
        last_realized: None,
    };
    let mut read = 0_u64;
    for tick in ticks {
        read += 1;
        if read.is_multiple_of(4096) {
            progress(read);
        }
        let time = tick.event_time.as_micros();
        if settings.from_micros.is_some_and(|from| time < from) || settings.to_micros.is_some_and(|to| time >= to) {
            collector.obs.ticks_outside_range += 1;
            continue;
        }
        collector.obs.first_time.get_or_insert(time);
        collector.obs.last_time = Some(time);
        collector.obs.ticks += 1;
        runtime.publish(tick);
        let mut handled = 0;
        while let Some((event, _)) = runtime.step() {
            collector.observe(&event)?;
            handled += 1;
            if handled > MAX_EVENTS_PER_TICK {
                return Err(BacktestError::Runaway { tick: read });
            }
        }
    }
    progress(read);
    Ok(collector.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_round_up_to_the_period() {
        assert_eq!(ceil_to(0, 60), 0);
        assert_eq!(ceil_to(1, 60), 60);
        assert_eq!(ceil_to(60, 60), 60);
        assert_eq!(ceil_to(-1, 60), 0);
    }
}
