//! Portfolio: positions, average prices, realized and unrealized PnL, fees, equity and the
//! lockbox; publishes pnl.

mod config;

pub use config::PortfolioConfig;
