//! The shared model of MAXX: one Rust type per Avro schema under `schemas/`, and the codec
//! that puts them on the bus in the Confluent wire format.
//!
//! Every other crate points here. The `.avsc` files are the contract; the types mirror them
//! exactly (the `schema_agreement` test compares the two), and the codec refuses bad bytes
//! with a typed error instead of panicking.

pub mod bus;
pub mod bus_codec;
pub mod codec;
pub mod control;
pub mod event;
pub mod governance;
pub mod market;
pub mod operations;
pub mod portfolio;
pub mod primitives;
pub mod registry;
pub mod risk;
pub mod time_text;
pub mod trading;

pub use bus::{BusEvent, BusVariant};
pub use bus_codec::{BusCodec, BusCodecError, BusDecodeError, Registration};
pub use codec::{split_frame, Codec, DecodeError, EncodeError};
pub use control::{Command, CommandKind};
pub use event::{catalog, Event, EventSchema};
pub use governance::GovernorWeights;
pub use market::{SentimentScore, Session, SessionEvent, SessionEventKind, Tick};
pub use operations::{AgentState, DeadLetter, DeadLetterKind, Header, Lifecycle};
pub use portfolio::{Pnl, Position};
pub use registry::{InMemoryRegistry, RegistryError, SchemaRegistry};
pub use primitives::{EventId, EventTime, FixedPoint, ParseFixedPointError, Producer};
pub use risk::{RiskEvent, RiskEventKind, RiskLimits, RiskState, Severity};
pub use trading::{
    AckStatus, BlendWeights, Fill, Liquidity, Order, OrderAck, OrderType, Side, Signal,
    SignalComponents, SignalSide,
};
