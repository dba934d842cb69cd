//! Replay of the log through the agents' own code: backtests that replay ticks through the
//! trading chain on the embedded runtime, the archive format that carries topics without a
//! broker, and the audit that rebuilds portfolio and risk state from the log and checks it
//! against the live agents' snapshots.
//!
//! The folding and the reports are pure ([`backtest`], [`audit`], [`metrics`],
//! [`backtest_report`], [`audit_report`], [`svg`]); reading a broker or files happens at the
//! edges ([`kafka`], [`archive`], the CLI).

pub mod archive;
pub mod audit;
pub mod audit_report;
pub mod backtest;
pub mod backtest_report;
pub mod error;
pub mod kafka;
pub mod metrics;
pub mod run_audit;
pub mod sample;
pub mod svg;
pub mod ticks_csv;
pub mod time;

pub use error::ReplayError;
