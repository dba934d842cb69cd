//! The paper venue: a pure, deterministic simulation of an exchange against the tick stream.
//!
//! - Market orders fill at once, in full, at the far touch (ask for a buy, bid for a sell;
//!   the last price when the tick has no quote) moved against the order by a slippage of
//!   `min(max_slippage_bps, slippage_bps_at_volume × qty ÷ tick volume)` bps (the maximum
//!   when the tick has no volume). They pay the taker fee.
//! - Limit orders: a post-only limit that would cross the touch is rejected (at or through
//!   the far touch; without a quote, strictly through the last price); any other limit
//!   that is marketable fills at once like a market order but never beyond its limit; the
//!   rest rest in the book. A resting limit fills only when a LATER tick trades through it
//!   (price strictly below a buy limit, strictly above a sell limit), at its limit price, for
//!   at most the tick's volume (shared by the resting orders of the symbol in arrival order),
//!   so large orders fill partially over several ticks. Resting fills pay the maker fee
//!   (negative = rebate).
//! - Fee = `price × qty × fee_bps ÷ 10 000`, rounded once to 8 decimals.
//! - Rejects: rule rejects (quantity ≤ 0 or below `min_qty`, a limit without a positive
//!   price, a post-only limit that would cross, a market order without market data) and
//!   simulated rejects: an order is rejected when a stable hash of (route, order id) mod
//!   10 000 is below the route's `reject_rate_bps` — deterministic, so a replay rejects the
//!   same orders.
//! - Fill ids are `EventId::derive(time, ["paper-fill", order id, n])` with `n` the order's
//!   fill count: the same order filled the same way gets the same fill ids.
//!
//! The book is part of Execution's state, so a restored snapshot resumes it.

use std::collections::BTreeMap;

use maxx_events::{EventId, EventTime, FixedPoint, Liquidity, OrderType, Side};
use serde::{Deserialize, Serialize};

use crate::execution::PaperVenueConfig;

/// The latest market of a symbol, from its latest tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    /// Last trade (or mid) price.
    pub price: FixedPoint,
    /// Best bid, when sent.
    pub bid: Option<FixedPoint>,
    /// Best ask, when sent.
    pub ask: Option<FixedPoint>,
    /// Traded quantity of the tick.
    pub volume: FixedPoint,
    /// Event time of the tick.
    pub time: EventTime,
}

impl Market {
    /// Where a taker of `side` trades before slippage: the ask for a buy, the bid for a sell.
    pub fn far_touch(&self, side: Side) -> FixedPoint {
        match side {
            Side::Buy => self.ask.unwrap_or(self.price),
            Side::Sell => self.bid.unwrap_or(self.price),
        }
    }

    /// Where a maker of `side` joins the book: the bid for a buy, the ask for a sell.
    pub fn near_touch(&self, side: Side) -> FixedPoint {
        match side {
            Side::Buy => self.bid.unwrap_or(self.price),
            Side::Sell => self.ask.unwrap_or(self.price),
        }
    }
}

/// An order as the venue receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueOrder {
    /// Our order id.
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Quantity, base units.
    pub qty: FixedPoint,
    /// Market or limit.
    pub order_type: OrderType,
    /// Limit price.
    pub limit_price: Option<FixedPoint>,
    /// Maker-only.
    pub post_only: bool,
    /// The route it came through.
    pub route: String,
}

impl From<&maxx_events::Order> for VenueOrder {
    /// What the venue sees of a published order: everything but the envelope, the signal and
    /// the audit annotations.
    fn from(order: &maxx_events::Order) -> Self {
        Self {
            order_id: order.order_id.clone(),
            symbol: order.symbol.clone(),
            side: order.side,
            qty: order.qty,
            order_type: order.order_type,
            limit_price: order.limit_price,
            post_only: order.post_only,
            route: order.route.clone(),
        }
    }
}

/// One execution reported by a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueFill {
    /// The venue's fill id (unique per venue).
    pub fill_id: String,
    /// Our order id.
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Execution price.
    pub price: FixedPoint,
    /// Executed quantity.
    pub qty: FixedPoint,
    /// Fee (negative = rebate).
    pub fee: FixedPoint,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// The route/venue.
    pub route: String,
}

/// The venue's answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Taken; immediate fills (market and marketable orders) included.
    Accepted {
        /// The venue's id of the order.
        venue_order_id: String,
        /// What filled at once.
        fills: Vec<VenueFill>,
    },
    /// Refused.
    Rejected {
        /// Why.
        reason: String,
        /// A rule of the order itself (another route would refuse it too): not retried.
        rule: bool,
    },
}

/// A limit order resting in the book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resting {
    /// Our order id.
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Limit price.
    pub limit_price: FixedPoint,
    /// Quantity still open.
    pub remaining: FixedPoint,
    /// The route.
    pub route: String,
    /// Fills so far (numbers the fill ids).
    pub fills: u32,
}

/// The simulated venue's book.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperVenue {
    /// Resting orders by arrival number (time priority).
    pub book: BTreeMap<u64, Resting>,
    /// Arrival number of the next order.
    pub next_seq: u64,
}

/// FNV-1a 64 of the parts (length-prefixed): a stable hash for simulated rejects.
fn stable_hash(parts: &[&[u8]]) -> u64 {
    let step = |hash: u64, byte: &u8| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    parts.iter().fold(0xcbf2_9ce4_8422_2325, |hash, part| {
        let hash = (part.len() as u64).to_be_bytes().iter().fold(hash, step);
        part.iter().fold(hash, step)
    })
}

/// Whether the simulated venue rejects `order_id` on `route` at `rate_bps`.
pub fn simulated_reject(route: &str, order_id: &str, rate_bps: u32) -> bool {
    stable_hash(&[route.as_bytes(), order_id.as_bytes()]) % 10_000 < u64::from(rate_bps)
}

const BPS: FixedPoint = FixedPoint::from_raw(10_000 * FixedPoint::SCALE);

/// `price × qty × fee_bps ÷ 10 000`, rounded once.
pub fn fee(price: FixedPoint, qty: FixedPoint, fee_bps: FixedPoint) -> FixedPoint {
    let notional = i128::from(price.raw()) * i128::from(qty.raw());
    let scaled = notional * i128::from(fee_bps.raw());
    // notional has 16 decimals, fee_bps 8, ÷ 10 000: divide by 10^16 × 10^4 to get 8 decimals.
    let divisor = i128::from(FixedPoint::SCALE) * i128::from(FixedPoint::SCALE) * 10_000;
    let (q, r) = (scaled / divisor, scaled % divisor);
    let rounded = if r.abs() * 2 >= divisor { q + scaled.signum() } else { q };
    FixedPoint::from_raw(i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX }))
}

/// Slippage in bps of a market order of `qty` against a tick of `volume`.
pub fn slippage_bps(qty: FixedPoint, volume: FixedPoint, config: &PaperVenueConfig) -> FixedPoint {
    if !volume.is_positive() {
        return config.max_slippage_bps;
    }
    config.slippage_bps_at_volume.checked_mul_div(qty, volume).map_or(config.max_slippage_bps, |s| s.min(config.max_slippage_bps))
}

/// The price a market order of `side` and `qty` gets: far touch moved against it by the
/// slippage.
pub fn market_price(market: &Market, side: Side, qty: FixedPoint, config: &PaperVenueConfig) -> Option<FixedPoint> {
    let base = market.far_touch(side);
    let slip = slippage_bps(qty, market.volume, config);
    let factor = match side {
        Side::Buy => BPS.checked_add(slip)?,
        Side::Sell => BPS.checked_sub(slip)?,
    };
    base.checked_mul_div(factor, BPS)
}

fn fill_id(time: EventTime, order_id: &str, n: u32) -> String {
    EventId::derive(time, &[b"paper-fill", order_id.as_bytes(), &n.to_be_bytes()]).to_string()
}

impl PaperVenue {
    /// Takes an order at `time` with the symbol's latest `market`.
    pub fn submit(&mut self, order: &VenueOrder, market: Option<&Market>, time: EventTime, config: &PaperVenueConfig) -> Submitted {
        let reject = |reason: String, rule: bool| Submitted::Rejected { reason, rule };
        if !order.qty.is_positive() || order.qty < config.min_qty {
            return reject(format!("quantity {} is below the minimum {}", order.qty, config.min_qty), true);
        }
        if simulated_reject(&order.route, &order.order_id, config.reject_rate_for(&order.route)) {
            return reject(format!("rejected by route {} (simulated)", order.route), false);
        }
        let venue_order_id = format!("paper-{}", self.next_seq);
        let taker = |price: FixedPoint| {
            let fee = fee(price, order.qty, config.taker_fee_bps);
            vec![VenueFill {
                fill_id: fill_id(time, &order.order_id, 0),
                order_id: order.order_id.clone(),
                symbol: order.symbol.clone(),
                side: order.side,
                price,
                qty: order.qty,
                fee,
                liquidity: Liquidity::Taker,
                route: order.route.clone(),
            }]
        };
        match order.order_type {
            OrderType::Market => {
                let Some(price) = market.and_then(|m| market_price(m, order.side, order.qty, config)) else {
                    return reject(format!("no market data for {}", order.symbol), true);
                };
                self.next_seq += 1;
                Submitted::Accepted { venue_order_id, fills: taker(price) }
            }
            OrderType::Limit => {
                let Some(limit) = order.limit_price.filter(|p| p.is_positive()) else {
                    return reject("a limit order needs a positive limit price".into(), true);
                };
                // With a quote, a limit at or through the far touch takes liquidity; with only a
                // last price, a limit at that price joins the book and only a better one takes.
                let marketable = market.is_some_and(|m| match order.side {
                    Side::Buy => m.ask.map_or(limit > m.price, |ask| limit >= ask),
                    Side::Sell => m.bid.map_or(limit < m.price, |bid| limit <= bid),
                });
                if marketable && order.post_only {
                    return reject(format!("post-only limit {limit} would cross the touch"), true);
                }
                self.next_seq += 1;
                if let (true, Some(m)) = (marketable, market) {
                    let price = market_price(m, order.side, order.qty, config).map_or(limit, |p| match order.side {
                        Side::Buy => p.min(limit),
                        Side::Sell => p.max(limit),
                    });
                    return Submitted::Accepted { venue_order_id, fills: taker(price) };
                }
                self.book.insert(
                    self.next_seq - 1,
                    Resting {
                        order_id: order.order_id.clone(),
                        symbol: order.symbol.clone(),
                        side: order.side,
                        limit_price: limit,
                        remaining: order.qty,
                        route: order.route.clone(),
                        fills: 0,
                    },
                );
                Submitted::Accepted { venue_order_id, fills: Vec::new() }
            }
        }
    }

    /// Removes the resting order `order_id`; `None` when it is not in the book.
    pub fn cancel(&mut self, order_id: &str) -> Option<Resting> {
        let seq = self.book.iter().find(|(_, r)| r.order_id == order_id).map(|(seq, _)| *seq)?;
        self.book.remove(&seq)
    }

    /// Matches the symbol's resting orders against a new tick; returns the fills.
    pub fn on_tick(&mut self, symbol: &str, market: &Market, config: &PaperVenueConfig) -> Vec<VenueFill> {
        let mut available = market.volume;
        let mut fills = Vec::new();
        let mut done = Vec::new();
        for (seq, resting) in self.book.iter_mut().filter(|(_, r)| r.symbol == symbol) {
            if !available.is_positive() {
                break;
            }
            let crossed = match resting.side {
                Side::Buy => market.price < resting.limit_price,
                Side::Sell => market.price > resting.limit_price,
            };
            if !crossed {
                continue;
            }
            let qty = resting.remaining.min(available);
            available = FixedPoint::from_raw(available.raw() - qty.raw());
            resting.remaining = FixedPoint::from_raw(resting.remaining.raw() - qty.raw());
            fills.push(VenueFill {
                fill_id: fill_id(market.time, &resting.order_id, resting.fills),
                order_id: resting.order_id.clone(),
                symbol: resting.symbol.clone(),
                side: resting.side,
                price: resting.limit_price,
                qty,
                fee: fee(resting.limit_price, qty, config.maker_fee_bps),
                liquidity: Liquidity::Maker,
                route: resting.route.clone(),
            });
            resting.fills += 1;
            if !resting.remaining.is_positive() {
                done.push(*seq);
            }
        }
        for seq in done {
            self.book.remove(&seq);
        }
        fills
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    fn market(price: &str, bid: &str, ask: &str, volume: &str) -> Market {
        Market { price: fp(price), bid: Some(fp(bid)), ask: Some(fp(ask)), volume: fp(volume), time: EventTime::from_micros(1_000) }
    }

    fn order(id: &str, side: Side, qty: &str, order_type: OrderType, limit: Option<&str>, post_only: bool) -> VenueOrder {
        VenueOrder { order_id: id.into(), symbol: "BTCUSD".into(), side, qty: fp(qty), order_type, limit_price: limit.map(fp), post_only, route: "paper".into() }
    }

    fn fills(result: Submitted) -> Vec<VenueFill> {
        match result {
            Submitted::Accepted { fills, .. } => fills,
            Submitted::Rejected { reason, .. } => panic!("rejected: {reason}"),
        }
    }

    #[test]
    fn fees_and_rebates_are_exact() {
        // 62650.2 × 0.004 = 250.6008; × 5 bps = 0.12530040; × −1 bp = −0.02506008.
        assert_eq!(fee(fp("62650.2"), fp("0.004"), fp("5")), fp("0.1253004"));
        assert_eq!(fee(fp("62650.2"), fp("0.004"), fp("-1")), fp("-0.02506008"));
        // 100 × 0.0000001 × 5 bps = 0.000000005: a tie, rounds away from zero to ±0.00000001;
        // 100 × 0.00000001 × 5 bps = 0.0000000005 rounds to 0.
        assert_eq!(fee(fp("100"), fp("0.0000001"), fp("5")), fp("0.00000001"));
        assert_eq!(fee(fp("100"), fp("0.0000001"), fp("-5")), fp("-0.00000001"));
        assert_eq!(fee(fp("100"), fp("0.00000001"), fp("5")), FixedPoint::ZERO);
    }

    #[test]
    fn market_orders_pay_the_far_touch_plus_slippage_capped() {
        let config = PaperVenueConfig::default(); // 10 bps at full volume, max 20, taker 5 bps
        let mut venue = PaperVenue::default();
        // Buy 0.5 against a tick of volume 2: slippage 10 × 0.5 / 2 = 2.5 bps on the ask 100.1:
        // 100.1 × 1.00025 = 100.12502500 (exactly). Fee 100.125025 × 0.5 × 5 bps = 0.02503126 (0.025031256).
        let f = fills(venue.submit(&order("a", Side::Buy, "0.5", OrderType::Market, None, false), Some(&market("100", "99.9", "100.1", "2")), EventTime::from_micros(5), &config));
        assert_eq!((f[0].price, f[0].qty, f[0].fee, f[0].liquidity), (fp("100.125025"), fp("0.5"), fp("0.02503126"), Liquidity::Taker));
        // Sell 10 against volume 2: 50 bps capped at 20 on the bid 99.9: 99.9 × 0.998 = 99.7002.
        let f = fills(venue.submit(&order("b", Side::Sell, "10", OrderType::Market, None, false), Some(&market("100", "99.9", "100.1", "2")), EventTime::from_micros(5), &config));
        assert_eq!(f[0].price, fp("99.7002"));
        // No volume: the cap too. No quote: the last price is the touch.
        let bare = Market { bid: None, ask: None, ..market("100", "0", "0", "0") };
        let f = fills(venue.submit(&order("c", Side::Buy, "1", OrderType::Market, None, false), Some(&bare), EventTime::from_micros(5), &config));
        assert_eq!(f[0].price, fp("100.2"));
        assert!(matches!(venue.submit(&order("d", Side::Buy, "1", OrderType::Market, None, false), None, EventTime::from_micros(5), &config), Submitted::Rejected { rule: true, .. }));
        assert!(venue.book.is_empty());
    }

    #[test]
    fn resting_limits_fill_only_when_a_later_tick_trades_through_them_partially_by_volume() {
        let config = PaperVenueConfig::default(); // maker −1 bp
        let mut venue = PaperVenue::default();
        let now = market("100", "99.9", "100.1", "1");
        let f = fills(venue.submit(&order("buy", Side::Buy, "3", OrderType::Limit, Some("99.9"), true), Some(&now), EventTime::from_micros(5), &config));
        assert!(f.is_empty(), "rests at the bid");
        // A trade AT the limit does not cross it; above it neither.
        assert!(venue.on_tick("BTCUSD", &market("99.9", "99.8", "100", "5"), &config).is_empty());
        assert!(venue.on_tick("BTCUSD", &market("100.5", "100.4", "100.6", "5"), &config).is_empty());
        assert!(venue.on_tick("ETHUSD", &market("1", "1", "1", "5"), &config).is_empty(), "other symbols never touch it");
        // 99.8 < 99.9 with volume 1.25: partial fill 1.25 at 99.9, rebate 99.9 × 1.25 × −1 bp = −0.01248750.
        let f = venue.on_tick("BTCUSD", &market("99.8", "99.7", "99.9", "1.25"), &config);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].price, f[0].qty, f[0].fee, f[0].liquidity), (fp("99.9"), fp("1.25"), fp("-0.0124875"), Liquidity::Maker));
        assert_eq!(venue.book.values().next().map(|r| r.remaining), Some(fp("1.75")));
        // Volume 0 (a quote update) fills nothing; the next trade through fills the rest.
        assert!(venue.on_tick("BTCUSD", &market("99", "98.9", "99.1", "0"), &config).is_empty());
        let f = venue.on_tick("BTCUSD", &market("99", "98.9", "99.1", "10"), &config);
        assert_eq!(f[0].qty, fp("1.75"));
        assert_ne!(f[0].fill_id, venue_fill_id_first(), "second fill, new id");
        assert!(venue.book.is_empty(), "filled orders leave the book");
    }

    fn venue_fill_id_first() -> String {
        fill_id(EventTime::from_micros(1_000), "buy", 0)
    }

    #[test]
    fn resting_orders_share_a_tick_volume_in_time_priority() {
        let config = PaperVenueConfig::default();
        let mut venue = PaperVenue::default();
        let now = market("100", "99.9", "100.1", "1");
        for id in ["first", "second"] {
            fills(venue.submit(&order(id, Side::Sell, "1", OrderType::Limit, Some("100.1"), true), Some(&now), EventTime::from_micros(5), &config));
        }
        let f = venue.on_tick("BTCUSD", &market("100.2", "100.1", "100.3", "1.5"), &config);
        let got: Vec<(&str, FixedPoint)> = f.iter().map(|f| (f.order_id.as_str(), f.qty)).collect();
        assert_eq!(got, vec![("first", fp("1")), ("second", fp("0.5"))]);
    }

    #[test]
    fn rule_and_simulated_rejects() {
        let mut config = PaperVenueConfig::default();
        let mut venue = PaperVenue::default();
        let now = market("100", "99.9", "100.1", "1");
        let at = EventTime::from_micros(5);
        let rejected = |r: Submitted| matches!(r, Submitted::Rejected { rule: true, .. });
        assert!(rejected(venue.submit(&order("q", Side::Buy, "0.00009999", OrderType::Market, None, false), Some(&now), at, &config)), "below min_qty");
        assert!(rejected(venue.submit(&order("p", Side::Buy, "1", OrderType::Limit, Some("100.1"), true), Some(&now), at, &config)), "post-only crossing");
        assert!(rejected(venue.submit(&order("l", Side::Buy, "1", OrderType::Limit, None, false), Some(&now), at, &config)), "no limit price");
        // Without a quote, a post-only at the last price rests; one through it crosses.
        let last_only = Market { bid: None, ask: None, ..now };
        assert!(fills(venue.submit(&order("j", Side::Sell, "1", OrderType::Limit, Some("100"), true), Some(&last_only), at, &config)).is_empty());
        assert!(rejected(venue.submit(&order("k", Side::Sell, "1", OrderType::Limit, Some("99.99"), true), Some(&last_only), at, &config)));
        venue.cancel("j");
        // A marketable plain limit fills at once as taker, never beyond its limit:
        // far touch 100.1 × (1 + 10 bps) = 100.2001, capped at the limit 100.15.
        let f = fills(venue.submit(&order("m", Side::Buy, "1", OrderType::Limit, Some("100.15"), false), Some(&now), at, &config));
        assert_eq!((f[0].price, f[0].liquidity), (fp("100.15"), Liquidity::Taker));
        // Simulated rejects: exactly the ids whose hash falls under the rate, on that route only.
        config.route_reject_rate_bps.insert("paper".into(), 5_000);
        let ids: Vec<String> = (0..200).map(|i| format!("order-{i}")).collect();
        let outcome: Vec<bool> = ids
            .iter()
            .map(|id| matches!(venue.submit(&order(id, Side::Buy, "1", OrderType::Market, None, false), Some(&now), at, &config), Submitted::Rejected { rule: false, .. }))
            .collect();
        let expected: Vec<bool> = ids.iter().map(|id| stable_hash(&[b"paper", id.as_bytes()]) % 10_000 < 5_000).collect();
        assert_eq!(outcome, expected);
        let count = outcome.iter().filter(|r| **r).count();
        assert!((70..130).contains(&count), "about half of 200: {count}");
        assert!(!simulated_reject("paper-fallback", "order-1", 0));
        assert!(simulated_reject("x", "order-1", 10_000));
    }
}

#[cfg(test)]
mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Resting orders never fill beyond their quantity, a tick never fills more than its
        /// volume, and fills happen only at the limit of an order the tick traded through.
        #[test]
        fn resting_fills_respect_quantity_volume_and_crossing(
            orders in proptest::collection::vec((any::<bool>(), 90i64..110, 1i64..500), 1..8),
            ticks in proptest::collection::vec((85i64..115, 0i64..400), 1..30),
        ) {
            let config = PaperVenueConfig::default();
            let mut venue = PaperVenue::default();
            let at = EventTime::from_micros(0);
            let quote = Market { price: FixedPoint::from_raw(100 * FixedPoint::SCALE), bid: None, ask: None, volume: FixedPoint::ZERO, time: at };
            let mut wanted = BTreeMap::new();
            for (i, (buy, price, qty)) in orders.iter().enumerate() {
                let side = if *buy { Side::Buy } else { Side::Sell };
                let order = VenueOrder {
                    order_id: format!("o{i}"),
                    symbol: "S".into(),
                    side,
                    qty: FixedPoint::from_raw(qty * FixedPoint::SCALE / 100),
                    order_type: OrderType::Limit,
                    limit_price: Some(FixedPoint::from_raw(price * FixedPoint::SCALE)),
                    post_only: false,
                    route: "paper".into(),
                };
                if let Submitted::Accepted { fills, .. } = venue.submit(&order, Some(&quote), at, &config) {
                    let done: FixedPoint = fills.iter().fold(FixedPoint::ZERO, |s, f| s.checked_add(f.qty).expect("small"));
                    wanted.insert(order.order_id.clone(), (order.qty, done, side, order.limit_price));
                }
            }
            for (n, (price, volume)) in ticks.iter().enumerate() {
                let market = Market {
                    price: FixedPoint::from_raw(price * FixedPoint::SCALE),
                    bid: None,
                    ask: None,
                    volume: FixedPoint::from_raw(volume * FixedPoint::SCALE / 100),
                    time: EventTime::from_micros(n as i64 + 1),
                };
                let fills = venue.on_tick("S", &market, &config);
                let total = fills.iter().fold(FixedPoint::ZERO, |s, f| s.checked_add(f.qty).expect("small"));
                prop_assert!(total <= market.volume);
                for fill in fills {
                    let entry = wanted.get_mut(&fill.order_id).expect("known order");
                    entry.1 = entry.1.checked_add(fill.qty).expect("small");
                    prop_assert!(entry.1 <= entry.0, "overfilled {}", fill.order_id);
                    prop_assert_eq!(Some(fill.price), entry.3);
                    let crossed = match entry.2 {
                        Side::Buy => market.price < fill.price,
                        Side::Sell => market.price > fill.price,
                    };
                    prop_assert!(crossed);
                    prop_assert_eq!(fill.liquidity, Liquidity::Maker);
                }
            }
            for resting in venue.book.values() {
                let (qty, done, _, _) = wanted[&resting.order_id];
                prop_assert_eq!(resting.remaining.checked_add(done), Some(qty), "book and fills agree");
            }
        }
    }
}
