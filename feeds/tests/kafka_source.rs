//! From the venue to the broker: a Binance connector against its recorded-message server,
//! bridged into the Kafka source shell. A restart of both — a fresh connector that has
//! forgotten everything, which the venue replays the whole session to — publishes only what
//! is new, because the shell restores what it had committed.

mod support;

use std::sync::Arc;
use std::time::Duration;

use maxx_agents::market_data::{MarketData, MarketDataConfig, Venue};
use maxx_events::{BusCodec, BusEvent, InMemoryRegistry, Registration, SchemaRegistry, Tick};
use maxx_feeds::sources::bridge;
use maxx_runtime::kafka::source::{KafkaSource, SourceReport};
use maxx_runtime::KafkaConfig;
use maxx_testkit::{create_topic, read_committed, unique_name};
use support::{expected, fixture, is_marker, marker, After, Feed, Plan, VenueServer};

/// One incarnation: a connector and a source shell, until the connector has delivered the
/// marker of this connection; then both stop (the shell commits what it has).
async fn incarnation(server: &VenueServer, namespace: &str, registry: &Arc<InMemoryRegistry>) -> SourceReport {
    let mut config = KafkaConfig::new(maxx_testkit::bootstrap());
    config.namespace = namespace.to_owned();
    let source = KafkaSource::new(config, Arc::clone(registry) as Arc<dyn SchemaRegistry>).registering_schemas();
    let mut feed = Feed::start(server, Duration::from_secs(10), Duration::from_secs(3_600));
    // Take the feed's channel: the test reads nothing itself, the shell reads all.
    let (forward, ticks) = tokio::sync::mpsc::channel(1024);
    let mut from_feed = std::mem::replace(&mut feed.ticks, tokio::sync::mpsc::channel(1).1);
    let relay = tokio::spawn(async move {
        let mut markers = 0;
        while let Some(tick) = from_feed.recv().await {
            markers += usize::from(is_marker(&tick));
            if forward.send(tick).await.is_err() || markers == 1 {
                break;
            }
        }
        // Dropping `forward` closes the shell's input: it commits and returns.
    });
    let blocking = bridge(ticks);
    let shell = tokio::task::spawn_blocking(move || source.run(MarketData::new(&MarketDataConfig::default()), &blocking));
    relay.await.expect("relay");
    let report = tokio::time::timeout(Duration::from_secs(60), shell).await.expect("the shell ends").expect("join").expect("the shell runs");
    feed.stop().await;
    report
}

fn decode(registry: &Arc<InMemoryRegistry>, topic: &str, expected: usize) -> Vec<Tick> {
    let mut codec = BusCodec::new(Arc::clone(registry) as Arc<dyn SchemaRegistry>, &["ticks"], Registration::LookupOnly).expect("codec");
    read_committed(topic, expected, Duration::from_secs(60))
        .iter()
        .map(|record| match codec.decode("ticks", record.value.as_deref().expect("value")).expect("a tick") {
            BusEvent::Tick(tick) => tick,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_restarted_connector_and_shell_publish_only_what_is_new() {
    // The test kit's broker helpers block: they run outside the async part.
    let namespace = format!("{}.", unique_name("feed-to-kafka"));
    create_topic(&format!("{namespace}ticks"), 3);
    create_topic(&format!("{namespace}state.market_data"), 1);
    maxx_testkit::bootstrap();
    let registry = Arc::new(InMemoryRegistry::default());
    let venue = Venue::Binance;
    let session = expected(venue).len();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (first, second) = runtime.block_on(async {
        let lines = fixture(venue);
        let server = VenueServer::start(venue, move |n| Plan { lines: lines.iter().cloned().chain([marker(venue, n)]).collect(), after: After::Silent }).await;
        let first = incarnation(&server, &namespace, &registry).await;
        let second = incarnation(&server, &namespace, &registry).await;
        (first, second)
    });
    assert_eq!((first.published, first.duplicates), (session as u64 + 1, 0), "{first:?}");
    assert_eq!((second.published, second.duplicates), (1, session as u64), "only the new marker: {second:?}");

    let topic = format!("{namespace}ticks");
    let published = decode(&registry, &topic, session + 2);
    assert_eq!(published.len(), session + 2, "the session once and two markers");
    let mut seqs: Vec<(String, bool, Option<i64>)> = published.iter().map(|t| (t.symbol.clone(), t.volume.is_positive(), t.venue_seq)).collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), session + 2, "no venue message published twice");
}
