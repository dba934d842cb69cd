//! [`BusEvent`]: any event of the bus, one variant per event type. It is what agents consume
//! and emit, so that an agent reading several topics (Alpha reads ticks, sentiment and
//! governor weights) handles them in one place, in log order.

use crate::event::Event;
use crate::primitives::{EventId, EventTime, Producer};
use crate::{
    AgentState, Command, DeadLetter, Fill, GovernorWeights, Order, OrderAck, Pnl, RiskEvent, RiskState, SentimentScore,
    SessionEvent, Signal, Tick,
};

/// An event type that is a variant of [`BusEvent`].
pub trait BusVariant: Event + Into<BusEvent> {
    /// The event inside `event` when it is of this type.
    fn from_bus(event: &BusEvent) -> Option<&Self>;
}

macro_rules! bus_event {
    ($($t:ident),* $(,)?) => {
        /// Any event of the bus. Its topic follows from its variant.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs)] // each variant is the event type of the same name
        pub enum BusEvent {
            $($t($t),)*
        }

        $(impl From<$t> for BusEvent {
            fn from(event: $t) -> Self {
                Self::$t(event)
            }
        }

        impl BusVariant for $t {
            fn from_bus(event: &BusEvent) -> Option<&Self> {
                match event {
                    BusEvent::$t(inner) => Some(inner),
                    _ => None,
                }
            }
        }

        impl TryFrom<BusEvent> for $t {
            type Error = BusEvent;
            fn try_from(event: BusEvent) -> Result<Self, BusEvent> {
                match event {
                    BusEvent::$t(inner) => Ok(inner),
                    other => Err(other),
                }
            }
        })*

        impl BusEvent {
            /// Every topic a bus event can be on.
            pub const TOPICS: &'static [&'static str] = &[$(<$t as Event>::TOPIC),*];

            /// The topic this event is published on.
            pub fn topic(&self) -> &'static str {
                match self {
                    $(Self::$t(_) => <$t as Event>::TOPIC,)*
                }
            }

            /// The Kafka message key.
            pub fn key(&self) -> &str {
                match self {
                    $(Self::$t(e) => e.key(),)*
                }
            }

            /// The event's UUIDv7.
            pub fn event_id(&self) -> EventId {
                match self {
                    $(Self::$t(e) => e.event_id(),)*
                }
            }

            /// When the event happened.
            pub fn event_time(&self) -> EventTime {
                match self {
                    $(Self::$t(e) => e.event_time(),)*
                }
            }

            /// The agent that produced it.
            pub fn producer(&self) -> &Producer {
                match self {
                    $(Self::$t(e) => e.producer(),)*
                }
            }
        }
    };
}

bus_event!(
    Tick,
    SentimentScore,
    SessionEvent,
    Signal,
    Order,
    OrderAck,
    Fill,
    Pnl,
    RiskState,
    RiskEvent,
    GovernorWeights,
    Command,
    AgentState,
    DeadLetter,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_events_cover_every_event_type_of_the_catalog() {
        let catalog: Vec<&str> = crate::catalog().iter().map(|e| e.topic).collect();
        assert_eq!(BusEvent::TOPICS, catalog.as_slice());
    }
}
