//! `maxx-registry`: schema governance for MAXX.
//!
//! - [`compat`]: the Avro compatibility rules and levels, with explanations;
//! - [`schema`]: parsing schema text and the identity registrations are deduplicated by;
//! - [`state`]: the registry as a deterministic fold of its log, and the records changes append;
//! - [`error`]: every failure with its HTTP status and Confluent error code;
//! - [`store`]: the state kept in a compacted Kafka topic, one writer at a time;
//! - [`api`]: the Confluent-compatible REST API (`maxx registry serve`);
//! - [`client`]: a blocking client of any Confluent-compatible registry, and the codec's
//!   [`maxx_events::SchemaRegistry`] over it;
//! - [`governance`]: `maxx schemas check|register|list` over the `schemas/` tree.
pub mod api;
pub mod client;
pub mod compat;
pub mod error;
pub mod governance;
pub mod schema;
pub mod state;
pub mod store;
