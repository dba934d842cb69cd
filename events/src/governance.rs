//! The MetaGovernor's output: validated alpha blend weights and Kelly clamps.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::primitives::{EventId, EventTime, FixedPoint, Producer};
use crate::trading::BlendWeights;

/// A validated alpha blend (`governor_weights`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct GovernorWeights {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Time of the PnL that triggered the reweight.
    pub event_time: EventTime,
    /// The MetaGovernor instance.
    pub producer: Producer,
    /// The new blend.
    pub weights: BlendWeights,
    /// Kelly fraction cap ordered after a drawdown; `None` leaves it unchanged.
    pub kelly_clamp: Option<FixedPoint>,
    /// Why this blend was published.
    pub reason: String,
}
impl_event!(GovernorWeights, topic = "governor_weights", version = 1, key = |_| "governor");
