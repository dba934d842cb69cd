//! Singletons with a standby, as Kubernetes runs them: two `maxx agent portfolio
//! --leader-election kafka` processes on a real broker. One leads and books fills, the other
//! waits and says so on `/healthz` (200, STANDBY); when the leader is killed, the standby
//! takes over from the leader's last snapshot and goes on booking, nothing lost or doubled.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use maxx_events::{BusCodec, BusEvent, EventId, EventTime, Fill, FixedPoint, Liquidity, Pnl, Producer, Registration, Side};
use serde_json::Value;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    fn start(namespace: &str, config: &std::path::Path) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_maxx"))
            .args(["agent", "portfolio", "--leader-election", "kafka", "--http", &format!("127.0.0.1:{port}")])
            .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
            .env("MAXX_SCHEMA_REGISTRY", support::registry_url())
            .env("MAXX_NAMESPACE", namespace)
            .env("MAXX_CONFIG", config)
            .env("MAXX_LOG_FORMAT", "json")
            .env("OTEL_SDK_DISABLED", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start maxx agent");
        Self { child, url: format!("http://127.0.0.1:{port}") }
    }

    /// `/healthz` status and state, or `None` while the server is not up.
    fn health(&self) -> Option<(u16, String)> {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(2))).build().new_agent();
        let mut response = agent.get(&format!("{}/healthz", self.url)).call().ok()?;
        let status = response.status().as_u16();
        let body: Value = serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()?;
        Some((status, body["state"].as_str().unwrap_or_default().to_owned()))
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn fill(n: i64) -> Fill {
    let time = EventTime::from_micros(1_764_000_000_000_000 + n * 1_000_000);
    Fill {
        event_id: EventId::derive(time, &[b"leader-test", &n.to_be_bytes()]),
        event_time: time,
        producer: Producer { agent: "test".into(), version: "0".into(), instance: "test-0".into() },
        fill_id: format!("fill-{n}"),
        order_id: format!("order-{n}"),
        symbol: "BTCUSD".into(),
        side: Side::Buy,
        price: FixedPoint::from_int(100).expect("price"),
        qty: FixedPoint::ONE,
        fee: FixedPoint::ZERO,
        liquidity: Liquidity::Taker,
        venue: "paper".into(),
    }
}

fn produce_fill(namespace: &str, fill: &Fill) {
    let codec = BusCodec::new(support::registry(), &["fills"], Registration::LookupOnly).expect("codec");
    let bytes = codec.encode(&BusEvent::from(fill.clone())).expect("encode");
    support::produce_raw(namespace, "fills", &[(Some(fill.order_id.as_bytes()), Some(bytes.as_slice()))]);
}

/// The quantity of BTCUSD in the latest of `expected` pnl events.
fn position_after(namespace: &str, expected: usize) -> FixedPoint {
    let read = support::read_committed(namespace, "pnl", expected, Duration::from_secs(60));
    let last = support::decode("pnl", &read).into_iter().filter_map(|e| Pnl::try_from(e).ok()).next_back().expect("a pnl");
    last.positions.iter().find(|p| p.symbol == "BTCUSD").map_or(FixedPoint::ZERO, |p| p.qty)
}

#[test]
fn the_standby_waits_healthy_and_takes_over_from_a_killed_leader() {
    let namespace = format!("{}.", maxx_testkit::unique_name("leader"));
    let applied = Command::new(env!("CARGO_BIN_EXE_maxx"))
        .args(["topology", "apply", "--replication", "1"])
        .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
        .env("MAXX_NAMESPACE", &namespace)
        .output()
        .expect("maxx topology apply");
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    let config = std::env::temp_dir().join(format!("{}.yaml", maxx_testkit::unique_name("leader-config")));
    std::fs::write(&config, "market_data:\n  feeds: [binance]\nportfolio:\n  pnl_interval_ms: 3600000\n").expect("config");

    let mut replicas = vec![Replica::start(&namespace, &config), Replica::start(&namespace, &config)];
    let states = |replicas: &[Replica]| replicas.iter().map(Replica::health).collect::<Vec<_>>();
    wait_until("one leader and one standby", Duration::from_secs(60), || {
        let mut seen: Vec<_> = states(&replicas).into_iter().flatten().collect();
        seen.sort();
        seen == [(200, "RUNNING".to_owned()), (200, "STANDBY".to_owned())]
    });

    produce_fill(&namespace, &fill(1));
    assert_eq!(position_after(&namespace, 1), FixedPoint::ONE, "the leader booked the first fill");

    let leader = replicas.iter().position(|r| r.health().is_some_and(|(_, state)| state == "RUNNING")).expect("a leader");
    let mut killed = replicas.remove(leader);
    killed.child.kill().expect("SIGKILL the leader");
    let _ = killed.child.wait();
    let standby = &replicas[0];
    wait_until("the standby to take over", Duration::from_secs(90), || standby.health().is_some_and(|(code, state)| code == 200 && state == "RUNNING"));

    produce_fill(&namespace, &fill(2));
    let two = FixedPoint::from_int(2).expect("2");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // The new leader restored the first fill from the snapshot and adds the second.
        if position_after(&namespace, 2) == two {
            break;
        }
        assert!(Instant::now() < deadline, "the new leader did not continue from the old one's state");
    }
    let _ = std::fs::remove_file(config);
}
