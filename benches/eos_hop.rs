//! One hop (ticks → signals, the `Sequencer` agent of the runtime tests) on a real broker,
//! exactly-once through `KafkaRuntime` and at-least-once through a plain consume → produce →
//! async offset commit loop, in the same run on the same broker:
//!
//! - throughput: N ticks waiting in the input topic, events/s until all N outputs are out;
//! - latency: a steady load, each tick stamped with its send time; a `read_committed`
//!   reader measures when the signal it caused becomes visible (p50/p99 per hop), over
//!   `EOS_BENCH_SECONDS` after one second of warm-up load that is not measured;
//! - a sweep of batch size and commit interval for the exactly-once hop.
//!
//! Run: `scripts/kafka.sh start` then `MAXX_BOOTSTRAP=127.0.0.1:9092 cargo bench --bench eos_hop`
//! (`EOS_BENCH_EVENTS`, `EOS_BENCH_RATE`, `EOS_BENCH_SECONDS` tune the sizes).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use maxx_agents::{DynAgent, Emitter};
use maxx_events::{BusCodec, BusEvent, EventTime, Producer, Registration};
use maxx_runtime::{KafkaConfig, KafkaRuntime};
use maxx_testkit::{client_config, send_waiting, unique_name};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::{Offset, TopicPartitionList};
use support::{kafka_config, namespace, registry, tick, Sequencer};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// Fills the namespace's ticks topic with `n` ticks, fast (idempotent, not transactional).
/// With `stamp`, each tick's event time is its send time (for latency).
fn fill(namespace: &str, ticks: impl Iterator<Item = maxx_events::Tick>, stamp: bool, pace: Option<u64>) {
    let codec = BusCodec::new(registry(), &["ticks"], Registration::LookupOnly).expect("codec");
    let producer: BaseProducer = client_config().set("enable.idempotence", "true").set("linger.ms", if pace.is_some() { "0" } else { "5" }).create().expect("producer");
    let topic = format!("{namespace}ticks");
    let started = Instant::now();
    for (i, mut t) in ticks.enumerate() {
        if let Some(rate) = pace {
            let due = started + Duration::from_micros(i as u64 * 1_000_000 / rate);
            while Instant::now() < due {
                producer.poll(Duration::ZERO);
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        if stamp {
            t.event_time = EventTime::from_micros(now_micros());
        }
        let bytes = codec.encode(&BusEvent::from(t.clone())).expect("encode");
        send_waiting(&producer, BaseRecord::to(&topic).key(t.symbol.as_str()).payload(bytes.as_slice()));
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

/// Runs the exactly-once hop until `n` outputs are committed; returns events/s.
fn eos_throughput(config: KafkaConfig, n: u64) -> f64 {
    let runtime = KafkaRuntime::new(config, registry());
    let (stats, shutdown) = (runtime.stats(), runtime.shutdown_handle());
    let thread = std::thread::spawn(move || runtime.run(|| Box::new(Sequencer::default())));
    let mut started = None;
    loop {
        let inputs = stats.events_in().get("ticks").copied().unwrap_or(0);
        if started.is_none() && inputs > 0 {
            started = Some(Instant::now());
        }
        if stats.events_out().get("signals").copied().unwrap_or(0) >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.map_or(Duration::ZERO, |s| s.elapsed());
    shutdown.store(true, Ordering::SeqCst);
    thread.join().expect("thread").expect("clean stop");
    n as f64 / elapsed.as_secs_f64()
}

/// The same hop at-least-once: outputs produced idempotently, input offsets committed
/// asynchronously every `commit_interval`, no transaction, no snapshot.
fn alo_hop(config: &KafkaConfig, stop: &AtomicBool, assigned: &AtomicBool, n: Option<u64>) -> (u64, Duration) {
    let codec_in = BusCodec::new(registry(), &["ticks"], Registration::LookupOnly).expect("codec");
    let mut codec_in = codec_in;
    let codec_out = BusCodec::new(registry(), &["signals"], Registration::LookupOnly).expect("codec");
    let mut consumer_config = client_config();
    for (key, value) in &config.overrides {
        consumer_config.set(key, value);
    }
    let consumer: BaseConsumer = consumer_config
        .set("group.id", format!("{}alo", config.namespace))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&config.topic("ticks")]).expect("subscribe");
    let producer: BaseProducer = client_config().set("enable.idempotence", "true").create().expect("producer");
    let mut agent: Box<dyn DynAgent> = Box::new(Sequencer::default());
    let identity = Producer { agent: "sequencer".into(), version: "bench".into(), instance: "sequencer-0".into() };
    let out_topic = config.topic("signals");
    let mut offsets: HashMap<(String, i32), i64> = HashMap::new();
    let mut last_commit = Instant::now();
    let mut outputs = Vec::new();
    let (mut produced, mut started) = (0_u64, None);
    while !stop.load(Ordering::SeqCst) && n.is_none_or(|n| produced < n) {
        let polled = consumer.poll(Duration::from_millis(1));
        if !assigned.load(Ordering::Relaxed) && consumer.assignment().is_ok_and(|a| a.count() > 0) {
            assigned.store(true, Ordering::SeqCst);
        }
        if let Some(Ok(message)) = polled {
            started.get_or_insert_with(Instant::now);
            let event = codec_in.decode("ticks", message.payload().unwrap_or_default()).expect("decode");
            outputs.clear();
            let mut out = Emitter::new("sequencer", &identity, event.event_id(), event.event_time(), &mut outputs);
            agent.handle(&event, &mut out).expect("handle");
            for output in &outputs {
                let bytes = codec_out.encode(output).expect("encode");
                send_waiting(&producer, BaseRecord::to(&out_topic).key(output.key()).payload(bytes.as_slice()));
                produced += 1;
            }
            offsets.insert((message.topic().to_owned(), message.partition()), message.offset() + 1);
        }
        producer.poll(Duration::ZERO);
        if last_commit.elapsed() >= config.commit_interval && !offsets.is_empty() {
            let mut list = TopicPartitionList::new();
            for ((topic, partition), next) in offsets.drain() {
                list.add_partition_offset(&topic, partition, Offset::Offset(next)).expect("offset");
            }
            consumer.commit(&list, CommitMode::Async).expect("commit");
            last_commit = Instant::now();
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
    (produced, started.map_or(Duration::ZERO, |s| s.elapsed()))
}

/// Hop latencies (µs) of the signals visible to a `read_committed` reader while `rate`
/// ticks/s are sent for `seconds`.
fn latencies(namespace: &str, rate: u64, seconds: u64) -> Vec<i64> {
    let reader: BaseConsumer = client_config()
        .set("group.id", unique_name("latency"))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "latest")
        .set("fetch.wait.max.ms", "1")
        .create()
        .expect("reader");
    reader.subscribe(&[&format!("{namespace}signals")]).expect("subscribe");
    // Wait for the assignment before sending, so nothing is missed.
    let deadline = Instant::now() + Duration::from_secs(30);
    while reader.assignment().map_or(0, |a| a.count()) == 0 && Instant::now() < deadline {
        reader.poll(Duration::from_millis(50));
    }
    let total = rate * (seconds + 1);
    let ns = namespace.to_owned();
    let sender = std::thread::spawn(move || fill(&ns, (1_000_000..1_000_000 + total as i64).map(tick), true, Some(rate)));
    let mut codec = BusCodec::new(registry(), &["signals"], Registration::LookupOnly).expect("codec");
    // Steady state: the first second of load warms up fetch sessions and is not measured.
    let steady_from = now_micros() + 1_000_000;
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    while (seen.len() as u64) < rate * seconds && Instant::now() < deadline {
        if let Some(Ok(message)) = reader.poll(Duration::from_millis(5)) {
            let received = now_micros();
            if let Ok(event) = codec.decode("signals", message.payload().unwrap_or_default()) {
                if event.event_time().as_micros() >= steady_from {
                    seen.push(received - event.event_time().as_micros());
                }
            }
        }
    }
    sender.join().expect("sender");
    if std::env::var_os("EOS_BENCH_DEBUG").is_some() {
        let slow: Vec<(usize, i64)> = seen.iter().copied().enumerate().filter(|(_, l)| *l > 50_000).collect();
        eprintln!("slow samples (index, µs): {} of {}: first {:?} last {:?}", slow.len(), seen.len(), slow.first(), slow.last());
    }
    seen.sort_unstable();
    seen
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

fn main() {
    let n = env_or("EOS_BENCH_EVENTS", 100_000);
    let rate = env_or("EOS_BENCH_RATE", 1_000);
    let seconds = env_or("EOS_BENCH_SECONDS", 10);
    println!("broker {} · {n} events per throughput run · latency at {rate} ticks/s for {seconds} s", maxx_testkit::bootstrap());

    // Throughput, same data, same broker: at-least-once first, then exactly-once.
    let ns = namespace("bench-alo");
    fill(&ns, (0..n as i64).map(tick), false, None);
    let config = kafka_config(&ns);
    let (produced, took) = alo_hop(&config, &AtomicBool::new(false), &AtomicBool::new(false), Some(n));
    let alo = produced as f64 / took.as_secs_f64();
    println!("at-least-once   batch -      interval {:>4} ms: {alo:>9.0} events/s", config.commit_interval.as_millis());

    let sweep: Vec<(usize, u64)> = std::env::var("EOS_BENCH_SWEEP")
        .ok()
        .map(|s| s.split(',').filter_map(|p| p.split_once('x')).filter_map(|(b, i)| Some((b.parse().ok()?, i.parse().ok()?))).collect())
        .unwrap_or_else(|| vec![(500, 5), (500, 20), (2_000, 20), (5_000, 20), (5_000, 100)]);
    let mut results = Vec::new();
    for (batch, interval) in sweep.iter().copied() {
        let ns = namespace("bench-eos");
        fill(&ns, (0..n as i64).map(tick), false, None);
        let mut config = kafka_config(&ns);
        config.batch_size = batch;
        config.commit_interval = Duration::from_millis(interval);
        let eos = eos_throughput(config, n);
        results.push((batch, interval, eos));
        println!("exactly-once    batch {batch:>5} interval {interval:>4} ms: {eos:>9.0} events/s  ({:.2}x at-least-once)", eos / alo);
    }

    // Latency at a steady load, for the same settings.
    println!("hop latency at {rate} ticks/s (send → visible to a read_committed reader):");
    {
        let ns = namespace("bench-alo-lat");
        let config = kafka_config(&ns);
        let (stop, assigned) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let (stop2, assigned2, config2) = (Arc::clone(&stop), Arc::clone(&assigned), config.clone());
        let hop = std::thread::spawn(move || alo_hop(&config2, &stop2, &assigned2, None));
        while !assigned.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let seen = latencies(&ns, rate, seconds);
        stop.store(true, Ordering::SeqCst);
        hop.join().expect("hop");
        println!("at-least-once   batch -      interval {:>4} ms: p50 {:>6.1} ms  p99 {:>6.1} ms  ({} samples)", config.commit_interval.as_millis(), percentile(&seen, 0.5), percentile(&seen, 0.99), seen.len());
    }
    for (batch, interval, _) in &results {
        let ns = namespace("bench-eos-lat");
        let mut config = kafka_config(&ns);
        config.batch_size = *batch;
        config.commit_interval = Duration::from_millis(*interval);
        let runtime = KafkaRuntime::new(config, registry());
        let (shutdown, stats) = (runtime.shutdown_handle(), runtime.stats());
        let hop = std::thread::spawn(move || runtime.run(|| Box::new(Sequencer::default())));
        // Running, and the first rebalance (the assignment) done: the hop holds its partitions.
        while stats.lifecycle().map(|(s, _)| s) != Some(maxx_events::Lifecycle::Running) || stats.rebalances() == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        let seen = latencies(&ns, rate, seconds);
        shutdown.store(true, Ordering::SeqCst);
        hop.join().expect("hop").expect("clean stop");
        let commits = stats.take_commit_durations();
        let mut commits: Vec<i64> = commits.into_iter().map(|c| c as i64).collect();
        commits.sort_unstable();
        println!(
            "exactly-once    batch {batch:>5} interval {interval:>4} ms: p50 {:>6.1} ms  p99 {:>6.1} ms  ({} samples; commit p50 {:.1} ms p99 {:.1} ms)",
            percentile(&seen, 0.5),
            percentile(&seen, 0.99),
            seen.len(),
            percentile(&commits, 0.5),
            percentile(&commits, 0.99)
        );
    }
}
