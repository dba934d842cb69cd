//! Hot reload while events flow, on a real broker over real HTTP: a valid file through
//! `POST /reload` and another through SIGHUP take effect without a restart (outputs of inputs
//! produced after the reload show the new value), an invalid one is refused (422 with every
//! problem, the reason on `/healthz` as a 500, the old configuration still in force), and
//! across all three no input is lost or handled twice, and no output ever goes back to an
//! older configuration.

mod service_support;
mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maxx_events::FixedPoint;
use service_support::*;

/// `service.max_commit_latency_ms` (the scaler's output) of each generation.
const VALUES: [i64; 3] = [10_000, 25_000, 30_000];

fn file(value: i64) -> String {
    format!("{BASE}service:\n  max_commit_latency_ms: {value}\n")
}

/// Produces ticks in small transactions until stopped, recording for each tick the
/// configuration generation already applied when it was produced.
struct Feeder {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicU64>,
    batches: Arc<AtomicUsize>,
    phases: Arc<Mutex<BTreeMap<i64, u64>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Feeder {
    fn start(namespace: &str) -> Self {
        let (stop, phase, batches) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicUsize::new(0)));
        let phases = Arc::new(Mutex::new(BTreeMap::new()));
        let namespace = namespace.to_owned();
        let (s, p, b, ph) = (Arc::clone(&stop), Arc::clone(&phase), Arc::clone(&batches), Arc::clone(&phases));
        let thread = std::thread::spawn(move || {
            let mut next = 0i64;
            while !s.load(Ordering::SeqCst) {
                let phase = p.load(Ordering::SeqCst);
                let ticks: Vec<_> = (next..next + 25).map(support::tick).collect();
                support::produce_ticks(&namespace, &ticks);
                ph.lock().expect("phases").extend((next..next + 25).map(|n| (n, phase)));
                next += 25;
                b.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { stop, phase, batches, phases, thread }
    }

    /// Waits until `n` more batches were committed.
    fn wait_batches(&self, running: &Running, n: usize) {
        let target = self.batches.load(Ordering::SeqCst) + n;
        running.wait_for("the feeder to produce more ticks", Duration::from_secs(60), || self.batches.load(Ordering::SeqCst) >= target);
    }

    fn finish(self) -> BTreeMap<i64, u64> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("feeder");
        Arc::try_unwrap(self.phases).expect("feeder done").into_inner().expect("phases")
    }
}

#[test]
fn reloads_apply_between_transactions_while_events_flow_and_invalid_files_are_refused() {
    let namespace = namespace("svc-reload");
    let path = config_file("svc-reload", &file(VALUES[0])[BASE.len()..]);
    let running = Running::start(&namespace, path.clone(), |s| s.handling_signals());
    let feeder = Feeder::start(&namespace);
    feeder.wait_batches(&running, 3);

    // A valid file through POST /reload.
    std::fs::write(&path, file(VALUES[1])).expect("write");
    let (status, body) = running.post_json("/reload", Some(TOKEN));
    assert_eq!((status, body["generation"].as_u64()), (200, Some(1)), "{body}");
    running.wait_for("generation 1 applied", Duration::from_secs(30), || running.stats.config_generation() == 1);
    feeder.phase.store(1, Ordering::SeqCst);
    feeder.wait_batches(&running, 3);

    // An invalid file: refused with every problem, the old configuration stays.
    std::fs::write(&path, format!("{BASE}service:\n  max_commit_latency_ms: 0\n  log_format: xml\n")).expect("write");
    let (status, body) = running.post_json("/reload", Some(TOKEN));
    assert_eq!(status, 422, "{body}");
    let problems: Vec<&str> = body["problems"].as_array().expect("problems").iter().filter_map(|p| p.as_str()).collect();
    assert_eq!(problems.len(), 2, "{body}");
    assert!(problems[0].starts_with("service.max_commit_latency_ms") && problems[1].starts_with("service.log_format"), "{problems:?}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("previous one stays")), "{body}");
    let (status, health) = running.get_json("/healthz");
    assert_eq!(status, 500, "{health}");
    assert!(health["reason"].as_str().is_some_and(|r| r.contains("reload refused") && r.contains("service.max_commit_latency_ms")), "{health}");
    assert_eq!((running.config.generation(), running.config.current().service.max_commit_latency_ms), (1, 25_000));
    feeder.wait_batches(&running, 3);
    assert_eq!(running.stats.config_generation(), 1, "nothing reached the agent");

    // A valid file through SIGHUP: applied, and the refusal no longer makes it unhealthy.
    std::fs::write(&path, file(VALUES[2])).expect("write");
    let sent = std::process::Command::new("kill").args(["-HUP", &std::process::id().to_string()]).status().expect("kill");
    assert!(sent.success());
    running.wait_for("generation 2 applied", Duration::from_secs(30), || running.stats.config_generation() == 2);
    feeder.phase.store(2, Ordering::SeqCst);
    running.wait_for("/healthz 200 again", Duration::from_secs(30), || running.get("/healthz").0 == 200);
    feeder.wait_batches(&running, 3);
    let phases = feeder.finish();

    // Every tick has exactly one signal.
    let signals = signals(&namespace, phases.len());
    let first = support::tick(0).event_time.as_micros();
    let mut by_tick: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for signal in &signals {
        let n = (signal.event_time.as_micros() - first) / 1_000;
        by_tick.entry(n).or_default().push(signal.confidence.raw() / FixedPoint::SCALE);
    }
    assert_eq!(by_tick.len(), phases.len(), "a signal for every tick");
    assert!(by_tick.values().all(|v| v.len() == 1), "none twice");
    assert!(by_tick.keys().eq(phases.keys()), "no signal of an unknown tick");
    // Ticks produced after a generation was applied show it (or a later one), never an older.
    for (n, phase) in &phases {
        let value = by_tick[n][0];
        assert!(VALUES.contains(&value), "tick {n}: {value} is no configuration's value (the refused file's would be 0)");
        assert!(value >= VALUES[*phase as usize], "tick {n}, produced with generation {phase} applied, handled with {value}");
    }
    for (generation, value) in VALUES.iter().enumerate().skip(1) {
        assert!(by_tick.values().any(|v| v[0] == *value), "generation {generation} visible in outputs");
    }
    // Per symbol, in handling order, the configuration only moves forward.
    let mut per_symbol: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for signal in &signals {
        per_symbol.entry(signal.symbol.as_str()).or_default().push((signal.score.raw(), signal.confidence.raw()));
    }
    for (symbol, mut seen) in per_symbol {
        seen.sort_unstable();
        assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "{symbol}: an output went back to an older configuration");
    }
    running.stop();
    std::fs::remove_file(&path).expect("clean up");
}
