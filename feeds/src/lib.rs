//! MAXX exchange feeds: the I/O around the pure normalizers of
//! `maxx_agents::market_data`.
//!
//! One task per venue ([`run_feed`]) connects to the endpoint from configuration —
//! WebSocket for Binance, Coinbase Exchange and Bybit v5, a chunked HTTP stream of
//! newline-delimited JSON for OANDA v20 — subscribes, resubscribes every
//! `resubscribe_sec`, and sends normalized [`maxx_events::Tick`]s into a channel. A feed
//! silent for the stall timeout (5 s by default) is dropped and reconnected with capped
//! exponential backoff, with an incident logged; duplicates across reconnects are dropped by
//! the normalizer's state, which lives as long as the task. Each feed's [`FeedHealth`] says
//! how stale it is, and a [`FeedBoard`] gathers them for `/healthz`. [`sources`] has the
//! synthetic market and CSV file as channel sources, and the bridge to the blocking Kafka
//! source shell (`maxx_runtime::kafka::source`).

pub mod backoff;
pub mod health;
pub mod oanda;
pub mod runner;
pub mod settings;
pub mod sources;
pub mod tls;
pub mod ws;

pub use health::{FeedBoard, FeedHealth, FeedStatus};
pub use runner::{run_feed, spawn_feeds, RunningFeed, Shutdown, StartError};
pub use settings::FeedSettings;
