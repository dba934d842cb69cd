//! Execution: turns signals into risk-sized orders, chooses maker or taker, routes them to a
//! venue (the paper venue by default) and publishes orders, acks/rejects and fills.

mod config;

pub use config::ExecConfig;
