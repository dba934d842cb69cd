//! `/healthz` while the broker is down: 500 with "broker unreachable" in the reason, and 200
//! again once the broker is back and the agent handles events. This test binary takes a
//! broker of its own, since it restarts it.

mod service_support;
mod support;

use std::time::Duration;

use maxx_testkit::DedicatedBroker;
use service_support::*;

#[test]
fn healthz_reports_an_unreachable_broker_and_recovers_when_it_returns() {
    let broker = DedicatedBroker::start();
    let namespace = namespace("svc-broker");
    let config = config_file("svc-broker", "service:\n  max_lag: 100000\n");
    let running = Running::start(&namespace, config, |s| s);
    support::produce_ticks(&namespace, &(0..50).map(support::tick).collect::<Vec<_>>());
    signals(&namespace, 50);
    running.wait_for("a statistics report", Duration::from_secs(30), || running.stats.broker_reported());
    assert_eq!(running.get("/healthz").0, 200);

    // Restart the broker on another thread, and watch /healthz meanwhile.
    let restart = std::thread::spawn(move || {
        broker.restart();
        broker
    });
    let mut seen = None;
    running.wait_for("/healthz to report the broker down", Duration::from_secs(60), || {
        let (status, health) = running.get_json("/healthz");
        let down = status == 500 && health["reason"].as_str().is_some_and(|r| r.contains("broker unreachable"));
        if down {
            seen = Some(health);
        }
        down
    });
    let health = seen.expect("seen");
    assert_eq!(health["healthy"], false, "{health}");
    let _broker = restart.join().expect("restart");

    // Back: events flow again and the instance is healthy.
    support::produce_ticks(&namespace, &(50..100).map(support::tick).collect::<Vec<_>>());
    assert_eq!(signals(&namespace, 100).len(), 100);
    running.wait_for("/healthz 200 after the restart", Duration::from_secs(120), || running.get("/healthz").0 == 200);
    running.stop();
}
