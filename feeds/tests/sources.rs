//! The synthetic market and the CSV file as channel sources, and the bridge to a blocking
//! reader.

use std::time::Duration;

use maxx_agents::market_data::{SyntheticConfig, SyntheticMarket};
use maxx_events::{Producer, Tick};
use maxx_feeds::sources::{bridge, run_file, run_synthetic};
use maxx_feeds::Shutdown;
use tokio::sync::mpsc;

fn producer() -> Producer {
    Producer { agent: "market_data".into(), version: "test".into(), instance: "market_data-0".into() }
}

async fn collect(mut rx: mpsc::Receiver<Tick>) -> Vec<Tick> {
    let mut ticks = Vec::new();
    while let Some(tick) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("the source ends") {
        ticks.push(tick);
    }
    ticks
}

#[tokio::test]
async fn the_synthetic_source_paced_or_not_gives_the_seeds_ticks() {
    let config = SyntheticConfig { seed: 3, tick_interval_ms: 2, ..SyntheticConfig::default() };
    let expected: Vec<Tick> = SyntheticMarket::new(config.clone(), producer()).take(60).collect();
    for paced in [false, true] {
        let (_stop, shutdown) = Shutdown::new();
        let (out, rx) = mpsc::channel(8);
        let sent = tokio::spawn(run_synthetic(config.clone(), producer(), out, shutdown, paced, Some(60)));
        assert_eq!(collect(rx).await, expected, "paced: {paced}");
        assert_eq!(sent.await.expect("task"), 60);
    }
}

#[tokio::test]
async fn the_synthetic_source_stops_on_shutdown() {
    let (stop, shutdown) = Shutdown::new();
    let (out, mut rx) = mpsc::channel(8);
    let task = tokio::spawn(run_synthetic(SyntheticConfig { tick_interval_ms: 1, ..SyntheticConfig::default() }, producer(), out, shutdown, true, None));
    rx.recv().await.expect("a first tick");
    stop.send(true).expect("stop");
    let sent = tokio::time::timeout(Duration::from_secs(5), async {
        while rx.recv().await.is_some() {}
        task.await.expect("task")
    })
    .await
    .expect("stops on request");
    assert!(sent >= 1);
}

#[tokio::test]
async fn the_file_source_sends_good_rows_and_reports_bad_ones() {
    let path = std::env::temp_dir().join(format!("maxx-feeds-{}.csv", std::process::id()));
    std::fs::write(&path, "ts,symbol,price,volume,bid,ask,exchange\n2026-11-25T12:00:00Z,BTCUSD,94000,0.5,93999,94001,binance\nbad,row\n1795608001000000,EURUSD,1.05,0,,,oanda\n").expect("write");
    let (out, rx) = mpsc::channel(8);
    let report = run_file(&path, &producer(), &out).await.expect("read");
    drop(out);
    let ticks = collect(rx).await;
    assert_eq!(ticks.iter().map(|t| t.symbol.as_str()).collect::<Vec<_>>(), ["BTCUSD", "EURUSD"]);
    assert_eq!((report.ticks, report.errors.len(), report.errors[0].line), (2, 1, 3));
    assert!(run_file(&path.with_extension("missing"), &producer(), &out_closed()).await.is_err());
    let _ = std::fs::remove_file(path);
}

fn out_closed() -> mpsc::Sender<Tick> {
    mpsc::channel(1).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_hands_ticks_to_a_blocking_reader_and_closes_after_them() {
    let (out, rx) = mpsc::channel(8);
    let blocking = bridge(rx);
    let ticks: Vec<Tick> = SyntheticMarket::new(SyntheticConfig::default(), producer()).take(20).collect();
    for tick in &ticks {
        out.send(tick.clone()).await.expect("send");
    }
    drop(out);
    let received = tokio::task::spawn_blocking(move || blocking.iter().collect::<Vec<_>>()).await.expect("reader");
    assert_eq!(received, ticks);
}
