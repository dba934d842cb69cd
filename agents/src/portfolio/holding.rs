//! One open position and the exact accounting of a fill against it: increase, partial
//! reduce, full close and flip, with realized PnL.
//!
//! A position keeps its *cost basis* (the signed money paid for the quantity still open:
//! positive for a long, negative for a short) rather than an average price. Every amount of
//! money is then a sum of rounded products that also moved cash, so the accounting identity
//! `cash + Σ cost = starting cash + realized − fees − lockbox` holds to the last 10⁻⁸ and
//! equity, realized and unrealized PnL never drift apart. Roundings, each half away from
//! zero to 8 decimals:
//! - the notional of a fill, `qty × price`, once per fill (it is what cash moves by);
//! - on a partial reduce, the cost removed: `cost × reduced ÷ open` (one `mul_div`);
//! - on a flip, the closing part `open × price`; the opening part is the rest of the
//!   fill's notional, so the two parts add up to what cash moved;
//! - the average price shown, `|cost| ÷ |qty|` (display only, never used for money).

use maxx_events::{FixedPoint, Side};
use serde::{Deserialize, Serialize};

/// Checked arithmetic overflowed: the input cannot be accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("arithmetic overflow while accounting")]
pub struct Overflow;

/// `a + b`.
pub(crate) fn add(a: FixedPoint, b: FixedPoint) -> Result<FixedPoint, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

/// `a - b`.
pub(crate) fn sub(a: FixedPoint, b: FixedPoint) -> Result<FixedPoint, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

/// `a × b`, rounded.
pub(crate) fn mul(a: FixedPoint, b: FixedPoint) -> Result<FixedPoint, Overflow> {
    a.checked_mul(b).ok_or(Overflow)
}

/// `-a`.
pub(crate) fn neg(a: FixedPoint) -> Result<FixedPoint, Overflow> {
    a.checked_neg().ok_or(Overflow)
}

/// An open position in one symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// Signed quantity: positive long, negative short; never zero (closed positions are
    /// removed).
    pub qty: FixedPoint,
    /// Signed money paid for the open quantity: positive for a long, negative (money
    /// received) for a short.
    pub cost: FixedPoint,
    /// Price the position is marked at: the latest tick's mid (or price), else the latest
    /// fill price when no tick of the symbol was seen yet.
    pub mark: FixedPoint,
}

impl Holding {
    /// `qty × mark`, rounded: what the position is worth (negative for a short).
    ///
    /// # Errors
    /// [`Overflow`].
    pub fn market_value(&self) -> Result<FixedPoint, Overflow> {
        mul(self.qty, self.mark)
    }

    /// Market value minus cost basis.
    ///
    /// # Errors
    /// [`Overflow`].
    pub fn unrealized(&self) -> Result<FixedPoint, Overflow> {
        sub(self.market_value()?, self.cost)
    }

    /// `|cost| ÷ |qty|`, rounded half away from zero (display only).
    pub fn avg_price(&self) -> FixedPoint {
        self.cost.abs().checked_div(self.qty.abs()).unwrap_or(FixedPoint::ZERO)
    }
}

/// What a fill did to a position and to cash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillEffect {
    /// The position afterwards; `None` when it is closed.
    pub holding: Option<Holding>,
    /// Realized PnL of the fill, before fees.
    pub realized: FixedPoint,
    /// What cash moves by, before fees: `-notional` for a buy, `+notional` for a sell.
    pub cash_flow: FixedPoint,
}

/// Applies a fill of `qty` (> 0) at `price` on `side` to `holding` (`None` when flat),
/// marking the result at `mark`.
///
/// # Errors
/// [`Overflow`].
pub fn apply_fill(holding: Option<&Holding>, side: Side, qty: FixedPoint, price: FixedPoint, mark: FixedPoint) -> Result<FillEffect, Overflow> {
    let notional = mul(qty, price)?;
    let (signed_qty, cash_flow) = match side {
        Side::Buy => (qty, neg(notional)?),
        Side::Sell => (neg(qty)?, notional),
    };
    let (open_qty, open_cost) = holding.map_or((FixedPoint::ZERO, FixedPoint::ZERO), |h| (h.qty, h.cost));
    let new_qty = add(open_qty, signed_qty)?;
    let increases = open_qty == FixedPoint::ZERO || open_qty.is_negative() == signed_qty.is_negative();
    let (new_cost, realized) = if increases {
        // Opening or adding: the money paid joins the cost basis.
        (sub(open_cost, cash_flow)?, FixedPoint::ZERO)
    } else if qty < open_qty.abs() {
        // Partial reduce: the reduced share of the cost basis leaves it.
        let removed = open_cost.checked_mul_div(qty, open_qty.abs()).ok_or(Overflow)?;
        (sub(open_cost, removed)?, sub(cash_flow, removed)?)
    } else if qty == open_qty.abs() {
        // Full close.
        (FixedPoint::ZERO, sub(cash_flow, open_cost)?)
    } else {
        // Flip: close the whole open quantity, open the rest the other way.
        let close_notional = mul(open_qty.abs(), price)?;
        let close_flow = if cash_flow.is_negative() { neg(close_notional)? } else { close_notional };
        let open_flow = sub(cash_flow, close_flow)?;
        (neg(open_flow)?, sub(close_flow, open_cost)?)
    };
    let holding = (new_qty != FixedPoint::ZERO).then_some(Holding { qty: new_qty, cost: new_cost, mark });
    Ok(FillEffect { holding, realized, cash_flow })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    fn fill(h: Option<&Holding>, side: Side, qty: &str, price: &str) -> FillEffect {
        apply_fill(h, side, fp(qty), fp(price), fp(price)).expect("no overflow")
    }

    #[test]
    fn buy_add_partial_sell_close_by_hand() {
        // Buy 1 @ 100, add 1 @ 110: cost 210, average 105.
        let a = fill(None, Side::Buy, "1", "100");
        assert_eq!((a.cash_flow, a.realized), (fp("-100"), FixedPoint::ZERO));
        let b = fill(a.holding.as_ref(), Side::Buy, "1", "110");
        let h = b.holding.clone().expect("open");
        assert_eq!((h.qty, h.cost, h.avg_price()), (fp("2"), fp("210"), fp("105")));
        // Sell 0.5 @ 120: removes 210 × 0.5 / 2 = 52.5 of cost, realizes 60 − 52.5 = 7.5.
        let c = fill(Some(&h), Side::Sell, "0.5", "120");
        let h = c.holding.clone().expect("open");
        assert_eq!((c.cash_flow, c.realized), (fp("60"), fp("7.5")));
        assert_eq!((h.qty, h.cost, h.avg_price()), (fp("1.5"), fp("157.5"), fp("105")));
        // Sell the remaining 1.5 @ 90: realizes 135 − 157.5 = −22.5 and closes.
        let d = fill(Some(&h), Side::Sell, "1.5", "90");
        assert_eq!((d.cash_flow, d.realized, d.holding), (fp("135"), fp("-22.5"), None));
    }

    #[test]
    fn a_flip_realizes_the_closed_part_and_opens_the_rest_at_the_fill_price() {
        let long = fill(None, Side::Buy, "2", "100").holding;
        // Sell 5 @ 120: closes 2 (realizes 240 − 200 = 40), opens 3 short at 120 (cost −360).
        let flip = fill(long.as_ref(), Side::Sell, "5", "120");
        let short = flip.holding.clone().expect("short");
        assert_eq!((flip.cash_flow, flip.realized), (fp("600"), fp("40")));
        assert_eq!((short.qty, short.cost, short.avg_price()), (fp("-3"), fp("-360"), fp("120")));
        // Short marked at 110 gains 3 × 10 = 30.
        let marked = Holding { mark: fp("110"), ..short.clone() };
        assert_eq!(marked.unrealized(), Ok(fp("30")));
        // Buy 4 @ 100 flips back: closes 3 (realizes −300 + 360 = 60), opens 1 long at 100.
        let back = fill(Some(&short), Side::Buy, "4", "100");
        let long = back.holding.expect("long");
        assert_eq!((back.realized, long.qty, long.cost), (fp("60"), fp("1"), fp("100")));
    }

    #[test]
    fn a_partial_reduce_rounds_the_removed_cost_once_half_away_from_zero() {
        // 3 bought for 100 in total: average 33.33333333 (display), cost stays exactly 100.
        let h = Holding { qty: fp("3"), cost: fp("100"), mark: fp("40") };
        assert_eq!(h.avg_price(), fp("33.33333333"));
        // Selling 1 removes 100 / 3 = 33.333333333… → 33.33333333 of cost.
        let e = apply_fill(Some(&h), Side::Sell, fp("1"), fp("40"), fp("40")).expect("no overflow");
        assert_eq!(e.realized, fp("6.66666667"));
        assert_eq!(e.holding.expect("open").cost, fp("66.66666667"));
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        assert_eq!(apply_fill(None, Side::Buy, fp("90000000000"), fp("2"), fp("2")), Err(Overflow));
    }
}
