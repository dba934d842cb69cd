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
        self.mark_undoable(symbol, price).0
    }

    /// [`Self::mark`], also returning what it replaced so that it can be taken back.
    pub(crate) fn mark_undoable<'s>(&mut self, symbol: &'s str, price: FixedPoint) -> (bool, MarkUndo<'s>) {
        let previous = match self.marks.get_mut(symbol) {
            Some(mark) => Some(std::mem::replace(mark, price)),
            None => {
                self.marks.insert(symbol.to_owned(), price);
                None
            }
        };
        let held = match self.holdings.get_mut(symbol) {
            Some(holding) if holding.mark != price => Some(std::mem::replace(&mut holding.mark, price)),
            _ => None,
        };
        (held.is_some(), MarkUndo { symbol, previous, held })
    }

    /// A copy of everything but the fill id window (which the caller changes only once the
    /// input is accepted): a few fields and one entry per symbol, whatever the history.
    pub(crate) fn without_fill_window(&self) -> PortfolioState {
        PortfolioState {
            starting_cash: self.starting_cash,
            cash: self.cash,
            holdings: self.holdings.clone(),
            marks: self.marks.clone(),
            realized: self.realized,
            fees: self.fees,
            lockbox: self.lockbox,
            unswept_profit: self.unswept_profit,
            recent_fills: RecentIds::default(),
            next_pnl_due_us: self.next_pnl_due_us,
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

/// What a mark replaced: the symbol's previous mark (`None`: it had none) and the previous
/// mark of its holding (`None`: unchanged or not held).
#[derive(Debug)]
pub(crate) struct MarkUndo<'s> {
    symbol: &'s str,
    previous: Option<FixedPoint>,
    held: Option<FixedPoint>,
}

/// How to take back the change an accepted-so-far input made, should a later step refuse it.
#[derive(Debug)]
pub(crate) enum Undo<'s> {
    /// Nothing was changed.
    Nothing,
    /// A tick's mark.
    Mark(MarkUndo<'s>),
    /// The state before the change, without the fill id window (left untouched until the
    /// input is accepted).
    Copy(PortfolioState),
}

impl Undo<'_> {
    /// Puts `state` back as it was before the change.
    pub(crate) fn undo(self, state: &mut PortfolioState) {
        match self {
            Undo::Nothing => {}
            Undo::Mark(mark) => {
                if let (Some(previous), Some(holding)) = (mark.held, state.holdings.get_mut(mark.symbol)) {
                    holding.mark = previous;
                }
                match mark.previous {
                    Some(previous) => {
                        if let Some(slot) = state.marks.get_mut(mark.symbol) {
                            *slot = previous;
                        }
                    }
                    None => {
                        state.marks.remove(mark.symbol);
                    }
                }
            }
            Undo::Copy(mut copy) => {
                copy.recent_fills = std::mem::take(&mut state.recent_fills);
                *state = copy;
            }
        }
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
