//! `maxx agent market_data` as a process on a real broker: the synthetic market's ticks are
//! published exactly once — decodable, every venue sequence once and in order per symbol —
//! `/healthz` reports the feed's staleness, SIGTERM exits 0 with lifecycle transitions on
//! `agent_state`, and a restart (which replays the market from its seed) continues without a
//! duplicate or a gap; a CSV file is published once and ends the process; without a broker
//! `/healthz` says so. Against a local OANDA pricing stream that stalls, `/healthz` turns 500
//! naming the feed, and 200 again once the reconnected stream delivers.

mod source_support;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maxx_events::{AgentState, Lifecycle, Tick};
use source_support::{apply_topology, config_file, wait_until, Agent};

fn ticks(namespace: &str) -> Vec<Tick> {
    let read = support::read_committed(namespace, "ticks", 1, Duration::from_secs(60));
    support::decode("ticks", &read).into_iter().map(|e| Tick::try_from(e).expect("only ticks on ticks")).collect()
}

/// Every venue sequence from 0 exactly once, increasing within each symbol (the topic is
/// keyed by symbol, so per-symbol order is the publication order).
fn assert_consecutive(ticks: &[Tick]) {
    let mut by_symbol: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for tick in ticks {
        by_symbol.entry(tick.symbol.as_str()).or_default().push(tick.venue_seq.expect("synthetic ticks carry a sequence"));
    }
    for (symbol, seqs) in &by_symbol {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{symbol}: sequences out of order or repeated: {seqs:?}");
    }
    let all: BTreeSet<i64> = by_symbol.values().flatten().copied().collect();
    assert_eq!(all.len(), ticks.len(), "a sequence published twice");
    let expected: BTreeSet<i64> = (0..i64::try_from(ticks.len()).expect("count")).collect();
    assert_eq!(all, expected, "sequences 0..{} without a gap", ticks.len());
}

fn lifecycle(namespace: &str) -> Vec<Lifecycle> {
    let read = support::read_committed(namespace, "agent_state", 1, Duration::from_secs(60));
    support::decode("agent_state", &read)
        .into_iter()
        .filter_map(|e| AgentState::try_from(e).ok())
        .filter(|s| s.producer.agent == "market_data")
        .map(|s| s.state)
        .collect()
}

#[test]
fn the_synthetic_market_is_published_exactly_once_across_a_restart() {
    let namespace = apply_topology("md-process");
    let config = config_file("md-process", "market_data:\n  feeds: [binance]\n");
    let args = ["market_data", "--source", "synthetic", "--speed", "20"];

    let first = Agent::start(&namespace, &config, &args);
    let health = first.wait_for_health("the first incarnation healthy", Duration::from_secs(90), |status, _| status == 200);
    assert_eq!(health["state"], "RUNNING", "{health}");
    let feed = &health["feeds"][0];
    assert_eq!((feed["feed"].as_str(), feed["healthy"].as_bool()), (Some("synthetic"), Some(true)), "{health}");
    assert!(feed["staleness_ms"].as_u64().is_some_and(|ms| ms <= feed["stall_timeout_ms"].as_u64().unwrap_or(0)), "{health}");
    wait_until("100 ticks committed", Duration::from_secs(60), || first.metric("maxx_events_out_total", &[("topic", "ticks")]).is_some_and(|n| n >= 100.0));
    let staleness = first.metric("maxx_market_data_feed_staleness_seconds", &[("feed", "synthetic")]).expect("feed staleness on /metrics");
    assert!((0.0..5.0).contains(&staleness), "{staleness}");
    assert!(first.metric("maxx_transactions_committed_total", &[]).is_some_and(|n| n >= 1.0));
    wait_until("the producer's statistics to report the broker", Duration::from_secs(30), || first.metric("maxx_broker_reachable", &[]) == Some(1.0));
    let status = first.terminate();
    assert!(status.success(), "SIGTERM exits 0: {status:?}");

    let before = ticks(&namespace);
    assert!(before.len() >= 100, "{} ticks", before.len());
    assert_consecutive(&before);
    assert!(before.iter().all(|t| t.exchange == "synthetic" && t.producer.agent == "market_data"));
    assert_eq!(lifecycle(&namespace), [Lifecycle::Init, Lifecycle::Running, Lifecycle::Shutdown]);

    // The restart replays the market from its seed: what was published is dropped, the rest
    // follows without a gap.
    let second = Agent::start(&namespace, &config, &args);
    second.wait_for_health("the second incarnation healthy", Duration::from_secs(90), |status, _| status == 200);
    wait_until("the restart to publish new ticks", Duration::from_secs(90), || second.metric("maxx_events_out_total", &[("topic", "ticks")]).is_some_and(|n| n >= 50.0));
    let dropped = second.metric("maxx_market_data_republished_dropped_total", &[]).expect("dropped ticks on /metrics");
    assert!(dropped >= before.len() as f64, "the replayed {} ticks were dropped, not republished: {dropped}", before.len());
    assert!(second.terminate().success());
    let after = ticks(&namespace);
    assert!(after.len() >= before.len() + 50, "{} then {}", before.len(), after.len());
    assert_consecutive(&after);
    assert_eq!(&after.iter().filter(|t| t.venue_seq < Some(before.len() as i64)).map(|t| t.event_id).collect::<BTreeSet<_>>(), &before.iter().map(|t| t.event_id).collect::<BTreeSet<_>>(), "the first run's ticks, unchanged");
}

/// A local OANDA v20 pricing stream (chunked NDJSON over HTTP/1.1): connection 0 plays the
/// recorded session and then stays silent (a stall); later connections play it again and
/// send a heartbeat every 300 ms until the client leaves.
fn oanda_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let connections = Arc::new(AtomicUsize::new(0));
    let session = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/feeds/fixtures/oanda/session.jsonl")).expect("the recorded OANDA session");
    let counter = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let connection = counter.fetch_add(1, Ordering::SeqCst);
            let session = session.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => return,
                    }
                }
                let chunk = |line: &str| format!("{:x}\r\n{line}\n\r\n", line.len() + 1);
                let mut out = String::from("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
                for line in session.lines().filter(|l| !l.trim().is_empty()) {
                    out.push_str(&chunk(line));
                }
                if stream.write_all(out.as_bytes()).is_err() {
                    return;
                }
                if connection == 0 {
                    // Silent until the client gives up on the stall and closes.
                    let _ = stream.read(&mut [0u8; 64]);
                    return;
                }
                loop {
                    std::thread::sleep(Duration::from_millis(300));
                    if stream.write_all(chunk(r#"{"type":"HEARTBEAT","time":"2026-11-25T12:00:05.000000000Z"}"#).as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (endpoint, connections)
}

/// The reconnect waits 3 s (`retry_backoff_ms`): the window in which `/healthz` must see
/// the stalled, disconnected feed.
#[test]
fn a_stalled_feed_turns_healthz_500_naming_it_and_recovers() {
    let namespace = apply_topology("md-stall");
    let (endpoint, connections) = oanda_server();
    let config = config_file(
        "md-stall",
        &format!(
            "market_data:\n  feeds: [oanda]\n  retry_backoff_ms: 3000\n  oanda:\n    endpoint: {endpoint}\n    account_id: 101-001-1-001\n    token_env: MAXX_TEST_NO_OANDA_TOKEN\n    stall_timeout_ms: 5001\n"
        ),
    );
    let agent = Agent::start(&namespace, &config, &["market_data", "--source", "live"]);
    let healthy = agent.wait_for_health("the feed delivering", Duration::from_secs(90), |status, _| status == 200);
    assert_eq!(healthy["feeds"][0]["feed"], "oanda", "{healthy}");
    assert_eq!(connections.load(Ordering::SeqCst), 1);

    let stalled = agent.wait_for_health("/healthz 500 for the stalled feed", Duration::from_secs(30), |status, _| status == 500);
    let reason = stalled["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("feed oanda") && reason.contains("stall timeout 5001 ms"), "{stalled}");
    assert_eq!(stalled["feeds"][0]["healthy"], false, "{stalled}");

    let recovered = agent.wait_for_health("/healthz 200 after the reconnect", Duration::from_secs(30), |status, _| status == 200);
    assert!(connections.load(Ordering::SeqCst) >= 2, "reconnected");
    assert!(recovered["feeds"][0]["stalls"].as_u64().is_some_and(|n| n >= 1), "{recovered}");
    assert!(agent.metric("maxx_market_data_feed_reconnects_total", &[("feed", "oanda")]).is_some_and(|n| n >= 1.0));
    assert!(agent.metric("maxx_market_data_malformed_total", &[("feed", "oanda")]).is_some_and(|n| n >= 1.0), "the recorded session has a malformed price");
    assert!(agent.metric("maxx_market_data_feed_staleness_seconds", &[("feed", "oanda")]).is_some_and(|s| s < 5.0));
    assert!(agent.terminate().success());

    // The session played twice: its ticks published once.
    let published = ticks(&namespace);
    assert!(!published.is_empty() && published.iter().all(|t| t.exchange == "oanda"));
    let ids: BTreeSet<_> = published.iter().map(|t| t.event_id).collect();
    assert_eq!(ids.len(), published.len(), "no tick published twice across the reconnect");
}

/// Waits for the child to exit by itself.
fn wait_for_exit(agent: &mut Agent, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = agent.try_wait() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "no exit within {timeout:?}\n{}", agent.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_csv_file_and_an_archive_are_published_once_and_the_process_ends() {
    let namespace = apply_topology("md-file");
    let config = config_file("md-file", "market_data:\n  feeds: [binance]\n");
    let csv = std::env::temp_dir().join(format!("{}.csv", maxx_testkit::unique_name("md-file-ticks")));
    std::fs::write(
        &csv,
        "ts,symbol,price,volume,bid,ask,exchange\n\
         2026-11-25T12:00:00Z,BTCUSD,94000.5,0.01,94000,94001,binance\n\
         2026-11-25T12:00:01Z,ETHUSD,3050.25,0.5,,,coinbase\n\
         not-a-time,BTCUSD,1,1,,,binance\n\
         2026-11-25T12:00:02Z,BTCUSD,94001,0.02,94000.5,94001.5,binance\n",
    )
    .expect("write the CSV");
    let source = format!("file:{}", csv.display());
    for run in 0..2 {
        let mut agent = Agent::start(&namespace, &config, &["market_data", "--source", &source]);
        let status = wait_for_exit(&mut agent, Duration::from_secs(90));
        assert!(status.success(), "run {run}: the file published, exit 0: {status:?}\n{}", agent.logs());
    }
    let published = ticks(&namespace);
    let rows: Vec<(String, String)> = published.iter().map(|t| (t.symbol.clone(), t.price.to_string())).collect();
    assert_eq!(published.len(), 3, "three good rows, once, though the file was read twice: {rows:?}");
    assert!(rows.contains(&("ETHUSD".to_owned(), "3050.25".to_owned())), "{rows:?}");

    // The same ticks as an archive (`maxx archive export`) are a file source too.
    let archive = std::env::temp_dir().join(maxx_testkit::unique_name("md-archive"));
    let exported = std::process::Command::new(env!("CARGO_BIN_EXE_maxx"))
        .args(["archive", "export", "--topics", "ticks", "--out", archive.to_str().expect("utf-8")])
        .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
        .env("MAXX_NAMESPACE", &namespace)
        .env("MAXX_SCHEMA_REGISTRY", support::registry_url())
        .output()
        .expect("maxx archive export");
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let replayed_into = apply_topology("md-archive");
    let source = format!("file:{}", archive.join("ticks.avro").display());
    let mut agent = Agent::start(&replayed_into, &config, &["market_data", "--source", &source]);
    let status = wait_for_exit(&mut agent, Duration::from_secs(90));
    assert!(status.success(), "the archive published, exit 0: {status:?}\n{}", agent.logs());
    let mut again: Vec<(String, String)> = ticks(&replayed_into).iter().map(|t| (t.symbol.clone(), t.price.to_string())).collect();
    let mut rows = rows;
    again.sort();
    rows.sort();
    assert_eq!(again, rows, "the archive's ticks, once each");
    let _ = std::fs::remove_dir_all(archive);
}

#[test]
fn healthz_says_when_the_broker_is_unreachable() {
    let namespace = apply_topology("md-no-broker");
    let config = config_file("md-no-broker", "market_data:\n  feeds: [binance]\n");
    let nowhere = format!("127.0.0.1:{}", TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port());
    let agent = Agent::start_with(&namespace, &config, &["market_data", "--source", "synthetic"], &[("MAXX_BOOTSTRAP", &nowhere)]);
    let body = agent.wait_for_health("/healthz to name the unreachable broker", Duration::from_secs(60), |status, body| {
        status == 500 && body["reason"].as_str().is_some_and(|r| r.contains("broker unreachable"))
    });
    assert_ne!(body["state"], "RUNNING", "{body}");
    assert_eq!(agent.metric("maxx_broker_reachable", &[]), Some(0.0));
    let status = agent.terminate();
    assert!(status.success(), "SIGTERM while waiting for a broker exits 0: {status:?}");
}
