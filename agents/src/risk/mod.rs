//! RiskSentinel: per-trade risk cap, daily drawdown halt, slippage limit, hard kill and Kelly
//! clamp; publishes risk state and risk events. [`gate`] is the pre-trade rule Execution
//! applies before routing any order.

mod config;
pub mod gate;

pub use config::RiskConfig;
