//! Shared support of the service shell's integration tests: a test agent whose outputs show
//! the configuration in force (`Scaler`), an agent process started in this test process on
//! the real broker with a real HTTP server on loopback, and a small HTTP client.

#![allow(dead_code)] // each test file uses a part of this module

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use maxx_agents::config::AgentConfig;
use maxx_agents::{Agent, DynAgent, Emitter, Invalid};
use maxx_events::{BlendWeights, BusEvent, FixedPoint, Signal, SignalComponents, SignalSide};
use maxx_runtime::kafka::Stats;
use maxx_service::agents::AgentFactory;
use maxx_service::auth::Tokens;
use maxx_service::config::ConfigSource;
use maxx_service::reload::ConfigStore;
use maxx_service::{AgentService, ServiceError};
use serde_json::Value;

use crate::support;

/// The token of the test operator `ops`.
pub const TOKEN: &str = "test-token-0123456789";

/// Per tick, a signal whose `score` counts the symbol's ticks and whose `confidence` is the
/// configuration's `service.max_commit_latency_ms` when the tick was handled: the outputs show
/// which configuration was in force for each input.
///
/// A slow scaler takes `delay` per tick, so a backlog builds up lag.
pub struct Scaler {
    factor: u64,
    delay: Duration,
    counts: BTreeMap<String, i64>,
}

impl Scaler {
    pub fn new(config: &AgentConfig) -> Self {
        Self { factor: config.service.max_commit_latency_ms, delay: Duration::ZERO, counts: BTreeMap::new() }
    }
}

impl Agent for Scaler {
    type State = BTreeMap<String, i64>;
    const NAME: &'static str = "scaler";
    const INPUTS: &'static [&'static str] = &["ticks"];
    const OUTPUTS: &'static [&'static str] = &["signals"];

    fn state(&self) -> &Self::State {
        &self.counts
    }
    fn restore(&mut self, state: Self::State) {
        self.counts = state;
    }
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        let BusEvent::Tick(tick) = event else { return Ok(()) };
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let count = self.counts.entry(tick.symbol.clone()).or_default();
        *count += 1;
        let score = FixedPoint::from_raw(*count);
        let confidence = FixedPoint::from_int(i64::try_from(self.factor).map_err(|_| Invalid::new("factor"))?).ok_or_else(|| Invalid::new("factor"))?;
        let envelope = out.envelope();
        let zero = FixedPoint::ZERO;
        out.emit(Signal {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            symbol: tick.symbol.clone(),
            score,
            side: SignalSide::Buy,
            confidence,
            components: SignalComponents { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: zero },
            weights: BlendWeights { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: zero },
        });
        Ok(())
    }
    fn reconfigure(&mut self, config: &AgentConfig) {
        self.factor = config.service.max_commit_latency_ms;
    }
}

pub fn scaler(config: &AgentConfig) -> Box<dyn DynAgent> {
    Box::new(Scaler::new(config))
}

/// A scaler taking 5 ms per tick.
pub fn slow_scaler(config: &AgentConfig) -> Box<dyn DynAgent> {
    Box::new(Scaler { delay: Duration::from_millis(5), ..Scaler::new(config) })
}

/// A namespace with the topics of the pipeline plus the scaler's and `commands`.
pub fn namespace(test: &str) -> String {
    let namespace = support::namespace(test);
    maxx_testkit::create_topic(&format!("{namespace}state.scaler"), 1);
    maxx_testkit::create_topic(&format!("{namespace}commands"), 1);
    namespace
}

/// What every test file starts with: only feeds that need no credentials, so the file is
/// valid without secrets.
pub const BASE: &str = "market_data:\n  feeds: [binance]\n";

/// A config file of the test: [`BASE`] then `text`.
pub fn config_file(test: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}.yaml", maxx_testkit::unique_name(test)));
    std::fs::write(&path, format!("{BASE}{text}")).expect("write the config file");
    path
}

/// An agent process running in this test process.
pub struct Running {
    pub url: String,
    pub stats: Arc<Stats>,
    pub config: Arc<ConfigStore>,
    shutdown: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), ServiceError>>>,
}

impl Running {
    /// Starts the scaler with `config` in `namespace`, configured further by `setup`, and
    /// waits until `/healthz` answers 200.
    pub fn start(namespace: &str, config: PathBuf, setup: impl FnOnce(AgentService) -> AgentService) -> Self {
        Self::start_agent(namespace, config, scaler, setup)
    }

    /// [`Running::start`] with another agent.
    pub fn start_agent(namespace: &str, config: PathBuf, factory: AgentFactory, setup: impl FnOnce(AgentService) -> AgentService) -> Self {
        let service = AgentService::new(support::kafka_config(namespace), support::registry(), factory, ConfigSource { path: config, explicit: true }, Vec::new())
            .expect("a valid configuration");
        let tokens = Tokens::parse(&format!("ops:{TOKEN}\nreader:other-token-9876543210")).expect("tokens");
        let service = setup(service.registering_schemas().with_tokens(tokens));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stats, config, shutdown) = (service.stats(), service.config(), service.shutdown_handle());
        let thread = std::thread::spawn(move || service.run(listener));
        let running = Self { url, stats, config, shutdown, thread: Some(thread) };
        running.wait_for("/healthz to answer 200", Duration::from_secs(60), || running.get("/healthz").0 == 200);
        running
    }

    /// `GET path`: status, content type, body.
    pub fn get(&self, path: &str) -> (u16, String, String) {
        http("GET", &format!("{}{path}", self.url), None)
    }

    /// `GET path` as JSON.
    pub fn get_json(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.get(path);
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}")))
    }

    /// `POST path` with an optional bearer token, as JSON.
    pub fn post_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let (status, _, body) = http("POST", &format!("{}{path}", self.url), token);
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {body}")))
    }

    /// Polls `done` every 20 ms until it holds, failing the test after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !done() {
            assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the process and checks it stopped cleanly.
    pub fn stop(mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        let thread = self.thread.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !thread.is_finished() {
            assert!(Instant::now() < deadline, "the agent process did not stop within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        thread.join().expect("service thread").expect("clean stop");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
    }
}

/// One HTTP request: status, content type, body (any status; transport errors fail the test).
pub fn http(method: &str, url: &str, token: Option<&str>) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
    let response = match method {
        "GET" => agent.get(url).call(),
        "POST" => {
            let mut request = agent.post(url);
            if let Some(token) = token {
                request = request.header("Authorization", &format!("Bearer {token}"));
            }
            request.send_empty()
        }
        other => panic!("method {other}"),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, content_type, body)
}

/// The signals in `namespace` (committed), decoded.
pub fn signals(namespace: &str, expected: usize) -> Vec<Signal> {
    support::decode("signals", &support::read_committed(namespace, "signals", expected, Duration::from_secs(120)))
        .into_iter()
        .map(|e| match e {
            BusEvent::Signal(s) => s,
            other => panic!("not a signal: {other:?}"),
        })
        .collect()
}
