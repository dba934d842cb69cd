//! Read views of the Portfolio's state for `GET /pnl` and `GET /balance`: pure functions of
//! the state, serde-serializable, computed the same way as the published pnl.

use maxx_events::{FixedPoint, Position};
use serde::{Deserialize, Serialize};

use super::holding::{add, Overflow};
use super::state::PortfolioState;

/// `GET /pnl`: equity and its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PnlView {
    /// Cash plus marked positions (lockbox excluded).
    pub equity: FixedPoint,
    /// Cash after trades, fees and sweeps.
    pub cash: FixedPoint,
    /// Realized PnL before fees.
    pub realized: FixedPoint,
    /// Unrealized PnL of open positions.
    pub unrealized: FixedPoint,
    /// Fees paid (rebates subtract).
    pub fees: FixedPoint,
    /// Open positions sorted by symbol.
    pub positions: Vec<Position>,
}

/// `GET /balance`: trading equity versus the lockbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceView {
    /// Equity available to trading (cash plus marked positions).
    pub trading_equity: FixedPoint,
    /// Profit swept out of trading.
    pub lockbox: FixedPoint,
    /// Both together.
    pub total: FixedPoint,
    /// Realized profit net of fees not swept yet (negative: a loss to earn back first).
    pub unswept_profit: FixedPoint,
}

/// The pnl view of `state`.
///
/// # Errors
/// [`Overflow`] when the positions cannot be valued (a state no input could produce).
pub fn pnl(state: &PortfolioState) -> Result<PnlView, Overflow> {
    let valuation = state.valuation()?;
    Ok(PnlView {
        equity: valuation.equity,
        cash: state.cash,
        realized: state.realized,
        unrealized: valuation.unrealized,
        fees: state.fees,
        positions: valuation.positions,
    })
}

/// The balance view of `state`.
///
/// # Errors
/// [`Overflow`] when the positions cannot be valued.
pub fn balance(state: &PortfolioState) -> Result<BalanceView, Overflow> {
    let trading_equity = state.valuation()?.equity;
    Ok(BalanceView { trading_equity, lockbox: state.lockbox, total: add(trading_equity, state.lockbox)?, unswept_profit: state.unswept_profit })
}
