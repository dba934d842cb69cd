//! The Portfolio's state — cash, positions, marks, realized PnL, fees, lockbox — and the pure
//! operations on it: a fill, a mark, a sweep, and the valuation published as pnl.
//!
//! Identity kept exactly (proved by the property tests), with `equity = cash + Σ qty × mark`:
//! `realized + unrealized − fees = equity − starting_cash + lockbox`.
//! It holds because cash moves by exactly the rounded amounts the cost bases and realized
//! PnL are built from (see `holding.rs`).

use std::collections::BTreeMap;

use maxx_events::{Fill, FixedPoint, Position};
use serde::{Deserialize, Serialize};

use super::holding::{add, apply_fill, sub, Holding, Overflow};
use super::recent::RecentIds;

/// Everything the Portfolio's decisions depend on; snapshotted as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioState {
    /// Cash the portfolio started with (kept for the accounting identity and views).
    pub starting_cash: FixedPoint,
    /// Cash after trades, fees and sweeps.
    pub cash: FixedPoint,
    /// Open positions by symbol (closed ones are removed).
    pub holdings: BTreeMap<String, Holding>,
    /// Latest tick mark per symbol seen, held or not.
    pub marks: BTreeMap<String, FixedPoint>,
    /// Realized PnL before fees, since the start.
    pub realized: FixedPoint,
    /// Fees paid since the start (rebates subtract).
    pub fees: FixedPoint,
    /// Profit swept out of trading equity.
    pub lockbox: FixedPoint,
    /// Realized PnL net of fees since the last sweep that moved money; a loss carries
    /// forward and must be earned back before anything is swept again.
    pub unswept_profit: FixedPoint,
    /// Ids of the latest fills booked, to refuse a fill delivered twice.
    pub recent_fills: RecentIds,
    /// Event time (µs) at or after which the next cadence pnl is due; `None` before the
    /// first publication.
    pub next_pnl_due_us: Option<i64>,
}

impl PortfolioState {
    /// A fresh portfolio holding `starting_cash`.
    pub fn new(starting_cash: FixedPoint) -> Self {
        Self {
            starting_cash,
            cash: starting_cash,
            holdings: BTreeMap::new(),
            marks: BTreeMap::new(),
            realized: FixedPoint::ZERO,
            fees: FixedPoint::ZERO,
            lockbox: FixedPoint::ZERO,
            unswept_profit: FixedPoint::ZERO,
            recent_fills: RecentIds::default(),
            next_pnl_due_us: None,
        }
    }

    /// Books a (validated) fill: position, cash, realized PnL, fees.
    ///
    /// # Errors
    /// [`Overflow`]; `self` may then be partly changed, so callers work on a copy.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<(), Overflow> {
        let mark = self.marks.get(&fill.symbol).copied().unwrap_or(fill.price);
        let effect = apply_fill(self.holdings.get(&fill.symbol), fill.side, fill.qty, fill.price, mark)?;
        self.cash = sub(add(self.cash, effect.cash_flow)?, fill.fee)?;
        self.realized = add(self.realized, effect.realized)?;
        self.fees = add(self.fees, fill.fee)?;
        self.unswept_profit = sub(add(self.unswept_profit, effect.realized)?, fill.fee)?;
        match effect.holding {
            Some(holding) => self.holdings.insert(fill.symbol.clone(), holding),
            None => self.holdings.remove(&fill.symbol),
        };
        Ok(())
    }

    /// Records the latest mark of `symbol`; true when it changed the mark of a held position.
    pub fn mark(&mut self, symbol: &str, price: FixedPoint) -> bool {
        self.marks.insert(symbol.to_owned(), price);
        match self.holdings.get_mut(symbol) {
            Some(holding) if holding.mark != price => {
                holding.mark = price;
                true
            }
            _ => false,
        }
    }

    /// Moves `pct` % of the profit realized since the last sweep from cash to the lockbox
    /// (rounded half away from zero), when that profit is positive; returns the amount
    /// moved (zero when nothing was).
    ///
    /// # Errors
    /// [`Overflow`].
    pub fn sweep(&mut self, pct: FixedPoint) -> Result<FixedPoint, Overflow> {
        if !self.unswept_profit.is_positive() {
            return Ok(FixedPoint::ZERO);
        }
        let hundred = FixedPoint::from_raw(100 * FixedPoint::SCALE);
        let amount = self.unswept_profit.checked_mul_div(pct, hundred).ok_or(Overflow)?;
        if amount.is_positive() {
            self.cash = sub(self.cash, amount)?;
            self.lockbox = add(self.lockbox, amount)?;
            self.unswept_profit = FixedPoint::ZERO;
        }
        Ok(amount.max(FixedPoint::ZERO))
    }

    /// Equity, unrealized PnL and the positions, as published.
    ///
    /// # Errors
    /// [`Overflow`].
    pub fn valuation(&self) -> Result<Valuation, Overflow> {
        let mut equity = self.cash;
        let mut unrealized = FixedPoint::ZERO;
        let mut positions = Vec::with_capacity(self.holdings.len());
        for (symbol, holding) in &self.holdings {
            let position_unrealized = holding.unrealized()?;
            equity = add(equity, holding.market_value()?)?;
            unrealized = add(unrealized, position_unrealized)?;
            positions.push(Position {
                symbol: symbol.clone(),
                qty: holding.qty,
                avg_price: holding.avg_price(),
                mark_price: holding.mark,
                unrealized: position_unrealized,
            });
        }
        Ok(Valuation { equity, unrealized, positions })
    }
}

/// The marked-to-market side of the portfolio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valuation {
    /// Cash plus Σ qty × mark (lockbox excluded).
    pub equity: FixedPoint,
    /// Σ unrealized PnL of open positions.
    pub unrealized: FixedPoint,
    /// Open positions sorted by symbol.
    pub positions: Vec<Position>,
}
