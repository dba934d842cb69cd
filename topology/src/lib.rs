//! The topology of the MAXX bus: every topic, how it is stored, its schema subject, and which
//! agents produce and consume it, declared once in `topology/topics.yaml`.
//!
//! - [`model`] reads and validates the file;
//! - [`check`] finds what is inconsistent in it (a consumed topic nobody produces, a topic
//!   without a schema, agents whose wiring disagrees with it);
//! - [`graph`] draws the data flow (Mermaid, Graphviz DOT);
//! - [`broker`] compares it with a broker and plans and applies the changes, never deleting
//!   data unless asked to.

pub mod broker;
pub mod check;
pub mod graph;
pub mod model;

pub use model::{Cleanup, Format, TopicSpec, Topology, TopologyError};

/// The topology file of this source tree, compiled in: what `maxx topology` uses when no
/// `--file` is given.
pub const TOPICS_YAML: &str = include_str!("../topics.yaml");
