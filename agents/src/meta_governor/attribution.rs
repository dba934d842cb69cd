//! Attribution of realized PnL to the four alpha sub-signals.
//!
//! The rule, decided on every pnl (exact fixed point, one rounding per credit):
//! - **Which signal**: per symbol, the signal in force when the position was last opened or
//!   increased (the latest signal of the symbol at the first pnl showing the larger
//!   position — the fill that grew it was caused by that signal). A position opened while
//!   no signal of its symbol was seen has no entry signal.
//! - **Which symbol**: realized PnL only moves when a position is reduced, closed or
//!   flipped, so a change of `realized` between two consecutive pnls belongs to the symbol
//!   whose position shrank between them. When not exactly one symbol shrank, or that
//!   symbol has no entry signal, or its weighted components are all zero, the change is
//!   booked as *unattributed*.
//! - **The split**: with `d = +1` for a long position and `−1` for a short one, sub-signal
//!   `i` is credited `ΔR × d × wᵢ·sᵢ ÷ Σⱼ|wⱼ·sⱼ|`: its share of the weighted contribution,
//!   positive when it pointed the way that made money (or away from a loss), negative when
//!   it pointed the losing way. The credits sum to `ΔR` only when every component agreed;
//!   components that disagreed with the position cancel part of it.
//!
//! Realized PnL is taken before fees (fees are execution's cost, not a signal's).

use std::collections::BTreeMap;

use maxx_events::{BlendWeights, EventId, EventTime, FixedPoint, SignalComponents};
use serde::{Deserialize, Serialize};

/// One amount per sub-signal (money for attributions, unitless for rewards).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// Momentum.
    pub momentum: FixedPoint,
    /// Mean reversion.
    pub mean_reversion: FixedPoint,
    /// Breakout.
    pub breakout: FixedPoint,
    /// Sentiment.
    pub sentiment: FixedPoint,
}

impl Attribution {
    /// The four amounts in blend order (momentum, mean reversion, breakout, sentiment).
    pub fn as_array(&self) -> [FixedPoint; 4] {
        [self.momentum, self.mean_reversion, self.breakout, self.sentiment]
    }

    /// From four amounts in blend order.
    pub fn from_array([momentum, mean_reversion, breakout, sentiment]: [FixedPoint; 4]) -> Self {
        Self { momentum, mean_reversion, breakout, sentiment }
    }

    /// The sum per sub-signal; `None` on overflow.
    pub fn checked_add(&self, other: &Self) -> Option<Self> {
        let (a, b) = (self.as_array(), other.as_array());
        Some(Self::from_array([a[0].checked_add(b[0])?, a[1].checked_add(b[1])?, a[2].checked_add(b[2])?, a[3].checked_add(b[3])?]))
    }

    /// True when every amount is zero.
    pub fn is_zero(&self) -> bool {
        self.as_array().iter().all(|a| *a == FixedPoint::ZERO)
    }
}

/// The parts of a signal attribution needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// The signal's event id.
    pub signal_id: EventId,
    /// Its event time.
    pub time: EventTime,
    /// Each sub-signal's score.
    pub components: SignalComponents,
    /// The weights it was blended with.
    pub weights: BlendWeights,
}

/// Weights and components in blend order.
fn pairs(components: &SignalComponents, weights: &BlendWeights) -> [(i128, i128); 4] {
    let raw = |w: FixedPoint, s: FixedPoint| (i128::from(w.raw()), i128::from(s.raw()));
    [
        raw(weights.momentum, components.momentum),
        raw(weights.mean_reversion, components.mean_reversion),
        raw(weights.breakout, components.breakout),
        raw(weights.sentiment, components.sentiment),
    ]
}

/// `n ÷ d` rounded to the nearest integer, ties away from zero (`d > 0`).
fn round_div(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if r.abs() * 2 >= d {
        q + n.signum()
    } else {
        q
    }
}

/// Splits a realized change `pnl` of a position (`long` or short) among the sub-signals of
/// the signal it was entered on; `None` when all weighted components are zero.
pub fn credit(pnl: FixedPoint, long: bool, signal: &SignalRecord) -> Option<Attribution> {
    let pairs = pairs(&signal.components, &signal.weights);
    let base: i128 = pairs.iter().map(|(w, s)| (w * s).abs()).sum();
    if base == 0 {
        return None;
    }
    let direction = if long { 1 } else { -1 };
    let share = |(w, s): (i128, i128)| {
        // |pnl| < 2^63 and |w·s| ≤ base: the product fits i128 and the quotient fits i64.
        let raw = round_div(i128::from(pnl.raw()) * direction * w * s, base);
        FixedPoint::from_raw(i64::try_from(raw).unwrap_or(0))
    };
    Some(Attribution::from_array(pairs.map(share)))
}

/// Where a realized change goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booking {
    /// To the sub-signals of a symbol's entry signal.
    Credited(Attribution),
    /// Could not be tied to one signal.
    Unattributed(FixedPoint),
}

/// The symbols whose position shrank (reduced, closed or flipped) from `before` to `after`,
/// with the direction of the position before (`true` = long).
pub fn reduced(before: &BTreeMap<String, FixedPoint>, after: &BTreeMap<String, FixedPoint>) -> Vec<(String, bool)> {
    before
        .iter()
        .filter(|(_, q0)| **q0 != FixedPoint::ZERO)
        .filter_map(|(symbol, q0)| {
            let q1 = after.get(symbol).copied().unwrap_or(FixedPoint::ZERO);
            let shrank = q1.is_negative() != q0.is_negative() || q1 == FixedPoint::ZERO || q1.abs() < q0.abs();
            shrank.then(|| (symbol.clone(), q0.is_positive()))
        })
        .collect()
}

/// The symbols whose position was opened, increased or flipped from `before` to `after`.
pub fn grown(before: &BTreeMap<String, FixedPoint>, after: &BTreeMap<String, FixedPoint>) -> Vec<String> {
    after
        .iter()
        .filter(|(_, q1)| **q1 != FixedPoint::ZERO)
        .filter(|(symbol, q1)| {
            let q0 = before.get(*symbol).copied().unwrap_or(FixedPoint::ZERO);
            q0 == FixedPoint::ZERO || q0.is_negative() != q1.is_negative() || q1.abs() > q0.abs()
        })
        .map(|(symbol, _)| symbol.clone())
        .collect()
}

/// Where the realized change `delta` between two pnls with positions `before` and `after`
/// goes, given the entry signal of each symbol.
pub fn book(
    delta: FixedPoint,
    before: &BTreeMap<String, FixedPoint>,
    after: &BTreeMap<String, FixedPoint>,
    entries: &BTreeMap<String, SignalRecord>,
) -> Booking {
    match reduced(before, after).as_slice() {
        [(symbol, long)] => match entries.get(symbol).and_then(|signal| credit(delta, *long, signal)) {
            Some(credited) => Booking::Credited(credited),
            None => Booking::Unattributed(delta),
        },
        _ => Booking::Unattributed(delta),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    fn record(m: &str, r: &str, b: &str, s: &str, weights: [&str; 4]) -> SignalRecord {
        SignalRecord {
            signal_id: EventId::at(EventTime::from_micros(1), [0; 10]),
            time: EventTime::from_micros(1),
            components: SignalComponents { momentum: fp(m), mean_reversion: fp(r), breakout: fp(b), sentiment: fp(s) },
            weights: BlendWeights { momentum: fp(weights[0]), mean_reversion: fp(weights[1]), breakout: fp(weights[2]), sentiment: fp(weights[3]) },
        }
    }

    fn positions(items: &[(&str, &str)]) -> BTreeMap<String, FixedPoint> {
        items.iter().map(|(s, q)| (s.to_string(), fp(q))).collect()
    }

    #[test]
    fn credits_are_weighted_shares_signed_by_the_right_direction() {
        // w·s = 0.5×0.8 = 0.4, 0.3×(−0.4) = −0.12, 0.2×0 = 0, 0.1×0.8 = 0.08; Σ|w·s| = 0.6.
        let signal = record("0.8", "-0.4", "0", "0.8", ["0.5", "0.3", "0.2", "0.1"]);
        // A long that made 60: momentum 60×0.4/0.6 = 40, reversion 60×(−0.12)/0.6 = −12, sentiment 8.
        let gain = credit(fp("60"), true, &signal).expect("weighted components");
        assert_eq!(gain.as_array(), [fp("40"), fp("-12"), FixedPoint::ZERO, fp("8")]);
        // The same long losing 60: momentum pointed the losing way, reversion warned.
        let loss = credit(fp("-60"), true, &signal).expect("weighted components");
        assert_eq!(loss.as_array(), [fp("-40"), fp("12"), FixedPoint::ZERO, fp("-8")]);
        // A short that made 60: the components that pointed down earn.
        let short = credit(fp("60"), false, &signal).expect("weighted components");
        assert_eq!(short.as_array(), [fp("-40"), fp("12"), FixedPoint::ZERO, fp("-8")]);
        // Rounding: 1e-8 split 0.4/0.6 and 0.2/0.6 -> 0.67e-8 and 0.33e-8 -> 1 and 0 raw units.
        let tiny = credit(FixedPoint::from_raw(1), true, &record("0.8", "0", "0", "0.4", ["0.5", "0", "0", "0.5"])).expect("weighted");
        assert_eq!(tiny.as_array(), [FixedPoint::from_raw(1), FixedPoint::ZERO, FixedPoint::ZERO, FixedPoint::ZERO]);
        assert_eq!(credit(fp("5"), true, &record("0", "0", "0", "0", ["0.5", "0.3", "0.2", "0.1"])), None);
    }

    #[test]
    fn only_one_shrinking_symbol_with_an_entry_signal_is_credited() {
        let entries: BTreeMap<String, SignalRecord> = [("BTCUSD".to_string(), record("1", "0", "0", "0", ["1", "0", "0", "0"]))].into();
        let before = positions(&[("BTCUSD", "2"), ("ETHUSD", "-3")]);
        // BTC reduced from 2 to 1: its entry signal is credited.
        let booked = book(fp("10"), &before, &positions(&[("BTCUSD", "1"), ("ETHUSD", "-3")]), &entries);
        assert_eq!(booked, Booking::Credited(Attribution { momentum: fp("10"), ..Attribution::default() }));
        // ETH closed: no entry signal for it.
        assert_eq!(book(fp("10"), &before, &positions(&[("BTCUSD", "2")]), &entries), Booking::Unattributed(fp("10")));
        // Both shrank: ambiguous.
        assert_eq!(book(fp("10"), &before, &positions(&[("BTCUSD", "1"), ("ETHUSD", "-1")]), &entries), Booking::Unattributed(fp("10")));
        // A flip counts as shrinking the old position (long: momentum credited) and growing a new one.
        let flipped = positions(&[("BTCUSD", "-1"), ("ETHUSD", "-3")]);
        assert_eq!(reduced(&before, &flipped), vec![("BTCUSD".to_string(), true)]);
        assert_eq!(grown(&before, &flipped), vec!["BTCUSD".to_string()]);
        assert_eq!(grown(&before, &positions(&[("BTCUSD", "2"), ("ETHUSD", "-4"), ("SOLUSD", "1")])), vec!["ETHUSD".to_string(), "SOLUSD".to_string()]);
    }
}
