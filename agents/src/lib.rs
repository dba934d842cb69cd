//! Pure, deterministic agent logic: for each of the eight agents, its state and a function
//! from (state, input event) to output events, with a snapshot of its state.
//!
//! Nothing here sees Kafka, a clock or any I/O: time comes from event timestamps and
//! randomness from seeds. That is what lets the same code run live on the Kafka runtime, in
//! one process on the embedded runtime, and in replay and backtests (`DESIGN.md`, principle
//! 1). [`contract`] is the one way to write an agent.

pub mod alpha;
pub mod catalog;
pub mod config;
pub mod contract;
pub mod execution;
pub mod market_data;
pub mod meta_governor;
pub mod portfolio;
pub mod risk;
pub mod sentiment;
pub mod session_clock;

pub use contract::{Agent, DynAgent, Emitter, Envelope, Invalid, SnapshotError};
