//! The MarketData source shell on a real broker: ticks from a channel are produced to
//! `ticks` in transactions with the duplicate-detection state snapshotted alongside; a
//! restart that is fed the last ticks again (as venues resend recent data after a
//! reconnect) continues without publishing any of them twice, and loses none.

mod support;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use maxx_agents::market_data::{MarketData, MarketDataConfig, SyntheticConfig, SyntheticMarket};
use maxx_events::{BusEvent, Producer, Tick};
use maxx_runtime::kafka::source::{KafkaSource, SourceReport};
use maxx_testkit::{create_topic, unique_name};
use support::{decode, kafka_config, read_committed, registry};

fn ticks(count: usize) -> Vec<Tick> {
    let producer = Producer { agent: "market_data".into(), version: "test".into(), instance: "market_data-0".into() };
    SyntheticMarket::new(SyntheticConfig { seed: 11, ..SyntheticConfig::default() }, producer).take(count).collect()
}

/// Runs an incarnation of the source over `ticks` (the channel closes after the last).
fn run_source(namespace: &str, ticks: &[Tick]) -> SourceReport {
    let mut config = kafka_config(namespace);
    config.batch_size = 40;
    let source = KafkaSource::new(config, registry());
    let (sender, receiver) = mpsc::channel();
    for tick in ticks {
        sender.send(tick.clone()).expect("queue a tick");
    }
    drop(sender);
    source.run(MarketData::new(&MarketDataConfig::default()), &receiver).expect("the source runs to the end of its input")
}

fn published(namespace: &str, expected: usize) -> Vec<Tick> {
    decode("ticks", &read_committed(namespace, "ticks", expected, Duration::from_secs(60)))
        .into_iter()
        .map(|event| match event {
            BusEvent::Tick(tick) => tick,
            other => panic!("not a tick on ticks: {other:?}"),
        })
        .collect()
}

/// Per symbol, in the order given (the topic is keyed by symbol, so that order is kept).
fn by_symbol(ticks: &[Tick]) -> BTreeMap<String, Vec<Tick>> {
    let mut map: BTreeMap<String, Vec<Tick>> = BTreeMap::new();
    for tick in ticks {
        map.entry(tick.symbol.clone()).or_default().push(tick.clone());
    }
    map
}

#[test]
fn ticks_are_published_exactly_once_across_a_restart() {
    let namespace = format!("{}.", unique_name("md-source"));
    create_topic(&format!("{namespace}ticks"), 3);
    create_topic(&format!("{namespace}state.market_data"), 1);
    let all = ticks(300);

    let first = run_source(&namespace, &all[..200]);
    assert_eq!((first.published, first.duplicates, first.aborts), (200, 0, 0), "{first:?}");
    assert!(first.commits >= 5, "batches of at most 40: {first:?}");
    let after_first = published(&namespace, 200);
    assert_eq!(after_first.len(), 200, "exactly the ticks given");
    assert_eq!(by_symbol(&after_first), by_symbol(&all[..200]));

    // The restarted source restores what was published and is fed the last 100 again.
    let second = run_source(&namespace, &all[100..]);
    assert_eq!((second.published, second.duplicates), (100, 100), "{second:?}");
    let after_second = published(&namespace, 300);
    assert_eq!(after_second.len(), 300, "nothing published twice");
    assert_eq!(by_symbol(&after_second), by_symbol(&all), "nothing lost, in order per symbol");

    // A third incarnation fed everything again publishes nothing.
    let third = run_source(&namespace, &all);
    assert_eq!((third.published, third.duplicates), (0, 300), "{third:?}");
    assert_eq!(published(&namespace, 300).len(), 300);
}

#[test]
fn shutdown_commits_what_was_received() {
    let namespace = format!("{}.", unique_name("md-source-stop"));
    create_topic(&format!("{namespace}ticks"), 3);
    create_topic(&format!("{namespace}state.market_data"), 1);
    let all = ticks(50);
    let source = KafkaSource::new(kafka_config(&namespace), registry());
    let stop = source.shutdown_handle();
    let (sender, receiver) = mpsc::channel();
    let feeder = std::thread::spawn(move || {
        for tick in &all {
            sender.send(tick.clone()).expect("queue");
        }
        // Keep the channel open: only the shutdown ends the run.
        let published = read_committed(&namespace, "ticks", 50, Duration::from_secs(60)).len();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (published, sender)
    });
    let report = source.run(MarketData::new(&MarketDataConfig::default()), &receiver).expect("runs until shutdown");
    let (published, _sender) = feeder.join().expect("feeder");
    assert_eq!((report.published, published), (50, 50), "{report:?}");
}
