//! The other tick sources, shaped like the feeds (ticks into a channel until shutdown): the
//! seeded synthetic market, paced in wall-clock time or as fast as the reader takes them, and
//! a CSV file. Plus [`bridge`], which hands a feed channel to a blocking reader such as the
//! Kafka source shell.

use std::path::Path;
use std::time::Duration;

use maxx_agents::market_data::csv::{self, CsvError};
use maxx_agents::market_data::{SyntheticConfig, SyntheticMarket};
use maxx_events::{Producer, Tick};
use tokio::sync::mpsc;

use crate::runner::Shutdown;

/// Sends synthetic ticks until shutdown, the reader is gone, or `limit` ticks were sent.
/// With `paced`, one tick every `tick_interval_ms` of wall-clock time (demos); without, as
/// fast as they are taken (tests, backtests). Same seed, same ticks, either way.
pub async fn run_synthetic(config: SyntheticConfig, producer: Producer, out: mpsc::Sender<Tick>, mut shutdown: Shutdown, paced: bool, limit: Option<u64>) -> u64 {
    let interval = Duration::from_millis(config.tick_interval_ms.max(1));
    let mut market = SyntheticMarket::new(config, producer);
    let mut clock = tokio::time::interval(interval);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent = 0u64;
    while limit.is_none_or(|limit| sent < limit) {
        if paced {
            tokio::select! {
                _ = clock.tick() => {}
                () = shutdown.wait() => break,
            }
        } else if shutdown.requested() {
            break;
        }
        let Some(tick) = market.next_tick() else { break };
        if out.send(tick).await.is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

/// What a file gave.
#[derive(Debug, Default)]
pub struct FileReport {
    /// Ticks sent.
    pub ticks: u64,
    /// Rows refused, with their line.
    pub errors: Vec<CsvError>,
}

/// Sends the ticks of a CSV file (`ts,symbol,price,volume,bid,ask,exchange`); bad rows are
/// logged and skipped.
///
/// # Errors
/// When the file cannot be read.
pub async fn run_file(path: &Path, producer: &Producer, out: &mpsc::Sender<Tick>) -> std::io::Result<FileReport> {
    let text = tokio::fs::read_to_string(path).await?;
    let (ticks, errors) = csv::parse(&text, producer);
    for error in &errors {
        tracing::warn!(file = %path.display(), %error, "tick row refused");
    }
    let mut report = FileReport { ticks: 0, errors };
    for tick in ticks {
        if out.send(tick).await.is_err() {
            break;
        }
        report.ticks += 1;
    }
    Ok(report)
}

/// Forwards a feed channel to a `std` channel for a blocking reader (the Kafka source
/// shell); the `std` side closes when the feeds' senders are all gone.
pub fn bridge(mut ticks: mpsc::Receiver<Tick>) -> std::sync::mpsc::Receiver<Tick> {
    let (sender, receiver) = std::sync::mpsc::channel();
    tokio::spawn(async move {
        while let Some(tick) = ticks.recv().await {
            if sender.send(tick).is_err() {
                break;
            }
        }
    });
    receiver
}
