//! Alpha: per symbol, four sub-signals (momentum, mean reversion, breakout, sentiment) from
//! ticks and sentiment scores, blended by weights into signals.

mod config;

pub use config::AlphaConfig;
