//! Reconciliation with an external venue after a restart: what the venue says happened is
//! folded into the state so that nothing is lost and nothing is doubled.
//!
//! - Every venue fill whose id was never published is published now (and books position and
//!   the order's remaining quantity); fills already published are skipped, so running the
//!   reconciliation twice, or with overlapping reports, publishes each fill exactly once.
//! - Every order we hold open that the venue no longer lists (and that the fills did not
//!   complete) is canceled with an ack CANCELED, and leaves the paper book too.
//! - Orders the venue lists that we do not know are reported, not invented: no `Order`
//!   event can be published for them after the fact.
//!
//! The paper venue needs none of this (its book is in the snapshot); an external venue
//! adapter calls [`reconcile`] with its open orders and recent fills on start.

use maxx_events::{AckStatus, FixedPoint, OrderAck};

use crate::contract::Emitter;
use crate::execution::paper_venue::VenueFill;
use crate::execution::{apply_fill, ExecutionState};

/// One order the venue reports open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueOpenOrder {
    /// Our order id.
    pub order_id: String,
    /// Quantity the venue still has open.
    pub remaining: FixedPoint,
}

/// What a reconciliation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Fill ids published now (they had been missed).
    pub fills_added: Vec<String>,
    /// Orders canceled because the venue no longer knows them.
    pub orders_canceled: Vec<String>,
    /// Orders the venue lists that we do not know.
    pub unknown_venue_orders: Vec<String>,
}

/// Folds the venue's view (`venue_open_orders`, `venue_fills`) into `state`, emitting the
/// missing fills and the cancels through `out`.
pub fn reconcile(state: &mut ExecutionState, venue_open_orders: &[VenueOpenOrder], venue_fills: &[VenueFill], out: &mut Emitter<'_>) -> ReconcileReport {
    let mut report = ReconcileReport::default();
    for fill in venue_fills {
        if apply_fill(state, fill, out) {
            report.fills_added.push(fill.fill_id.clone());
        }
    }
    for venue_order in venue_open_orders {
        match state.open_orders.get_mut(&venue_order.order_id) {
            // The venue is the truth for what is still open.
            Some(order) => order.remaining = venue_order.remaining.min(order.remaining),
            None => report.unknown_venue_orders.push(venue_order.order_id.clone()),
        }
    }
    let gone: Vec<String> = state.open_orders.keys().filter(|id| !venue_open_orders.iter().any(|v| &v.order_id == *id)).cloned().collect();
    for order_id in gone {
        let Some(order) = state.open_orders.remove(&order_id) else { continue };
        state.venue.cancel(&order_id);
        let envelope = out.envelope();
        out.emit(OrderAck {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            order_id: order_id.clone(),
            status: AckStatus::Canceled,
            route: order.route,
            venue_order_id: None,
            reason: Some("the venue no longer knows the order (reconciliation)".into()),
        });
        report.orders_canceled.push(order_id);
    }
    report
}
