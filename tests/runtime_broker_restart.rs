//! A broker restart mid-stream: the pipeline waits out the outage and resumes, with nothing
//! lost or duplicated. This test binary takes a broker of its own, since it restarts it.

mod support;

use std::time::Duration;

use maxx_runtime::KafkaRuntime;
use maxx_testkit::DedicatedBroker;
use support::*;

#[test]
fn the_pipeline_resumes_after_a_broker_restart_without_loss_or_duplicates() {
    let broker = DedicatedBroker::start();
    let namespace = namespace("broker-restart");
    let ticks: Vec<_> = (0..6_000).map(tick).collect();
    let expected = expected(&ticks);
    let stages: Vec<_> = [true, false]
        .into_iter()
        .map(|first| {
            let runtime = KafkaRuntime::new(kafka_config(&namespace), registry());
            let shutdown = runtime.shutdown_handle();
            let thread = std::thread::spawn(move || {
                if first {
                    runtime.run(|| Box::new(Sequencer::default()))
                } else {
                    runtime.run(|| Box::new(Ledger::default()))
                }
            });
            (shutdown, thread)
        })
        .collect();

    produce_ticks(&namespace, &ticks[..3_000]);
    read_committed(&namespace, "signals", 1_000, Duration::from_secs(120));
    broker.restart();
    produce_ticks(&namespace, &ticks[3_000..]);

    let risk_events = decode("risk_events", &read_committed(&namespace, "risk_events", ticks.len(), Duration::from_secs(300)));
    for (shutdown, thread) in stages {
        shutdown.store(true, std::sync::atomic::Ordering::SeqCst);
        thread.join().expect("runtime thread").expect("clean shutdown");
    }
    assert_exactly_once("risk_events", &risk_events, &expected.risk_events);
    assert_eq!(last_snapshot_state(&namespace, "ledger"), expected.ledger_state);
}
