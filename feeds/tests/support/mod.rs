//! Local venue servers for the connector tests: they play the recorded messages of
//! `fixtures/<venue>/session.jsonl` in the venue's own protocol — a WebSocket server
//! (tokio-tungstenite) for Binance, Coinbase and Bybit, an HTTP server with a chunked body
//! (axum) for OANDA — following a per-connection plan, and record what clients ask for.

#![allow(dead_code)] // each test file uses a part of this module

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use maxx_agents::market_data::{MarketDataConfig, Normalizer, Venue};
use maxx_events::{EventTime, Producer, Tick};
use maxx_feeds::{run_feed, FeedHealth, FeedSettings, Shutdown};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// 2026-11-25T12:00:00Z in milliseconds: the recorded sessions start there.
pub const BASE_MS: i64 = 1_795_608_000_000;

/// The recorded session of a venue, one message per line.
pub fn fixture(venue: Venue) -> Vec<String> {
    let path = format!("{}/fixtures/{venue}/session.jsonl", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).expect("fixture").lines().map(str::to_owned).collect()
}

/// A message in the venue's format that yields exactly one new tick, different for every
/// connection: sent last, it tells the test that everything before it was processed.
pub fn marker(venue: Venue, connection: usize) -> String {
    let n = connection as i64;
    match venue {
        Venue::Binance => format!(r#"{{"e":"trade","E":{e},"s":"BTCUSDT","t":{t},"p":"94300.00000000","q":"1.00000000","T":{e},"m":true,"M":true}}"#, e = BASE_MS + 60_000 + n, t = 9_000_000 + n),
        Venue::Coinbase => format!(
            r#"{{"type":"ticker","sequence":{s},"product_id":"BTC-USD","price":"94300.00","best_bid":"94299.99","best_ask":"94300.00","side":"buy","time":"2026-11-25T12:01:00.{n:06}Z","trade_id":{t},"last_size":"1"}}"#,
            s = 90_000_000_000 + n,
            t = 700_000_000 + n
        ),
        Venue::Bybit => format!(
            r#"{{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":{ts},"data":[{{"T":{ts},"s":"BTCUSDT","S":"Buy","v":"1","p":"94300.00","L":"PlusTick","i":"marker-{n}","BT":false}}]}}"#,
            ts = BASE_MS + 60_000 + n
        ),
        Venue::Oanda => format!(
            r#"{{"type":"PRICE","time":"2026-11-25T12:01:00.{n:06}Z","bids":[{{"price":"1.06000","liquidity":1000000}}],"asks":[{{"price":"1.06010","liquidity":1000000}}],"status":"tradeable","tradeable":true,"instrument":"EUR_USD"}}"#
        ),
    }
}

/// Whether a tick is one of the markers.
pub fn is_marker(tick: &Tick) -> bool {
    tick.price == "94300".parse().expect("price") || tick.bid == Some("1.06".parse().expect("price"))
}

/// What the server does after its lines on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Close the connection (the body ends, for OANDA).
    Close,
    /// Keep it open and send nothing more.
    Silent,
}

/// What the server sends on one connection.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Messages, in order.
    pub lines: Vec<String>,
    /// Then.
    pub after: After,
}

type Planner = Arc<dyn Fn(usize) -> Plan + Send + Sync>;

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Connections accepted (OANDA: stream requests).
    pub connections: usize,
    /// Subscription requests by connection (OANDA: the request's query and authorization).
    pub requests: Vec<(usize, String)>,
}

/// A local venue server.
pub struct VenueServer {
    pub venue: Venue,
    pub address: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    changed: watch::Receiver<u64>,
}

impl VenueServer {
    /// Starts the server of `venue`; `plan(n)` says what connection `n` (from 0) gets.
    pub async fn start(venue: Venue, plan: impl Fn(usize) -> Plan + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (notify, changed) = watch::channel(0u64);
        let shared = Shared { seen: Arc::clone(&seen), notify: Arc::new(notify), plan: Arc::new(plan) };
        if venue == Venue::Oanda {
            let app = Router::new().route("/v3/accounts/{account}/pricing/stream", get(oanda_stream)).with_state(shared);
            tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        } else {
            tokio::spawn(accept_websockets(listener, shared));
        }
        Self { venue, address, seen, changed }
    }

    /// The endpoint a connector is configured with.
    pub fn endpoint(&self) -> String {
        match self.venue {
            Venue::Oanda => format!("http://{}", self.address),
            _ => format!("ws://{}/ws", self.address),
        }
    }

    /// Waits until `condition` holds on what the server saw, or fails after `limit`.
    pub async fn wait_for(&mut self, what: &str, limit: Duration, condition: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if condition(&self.seen.lock().expect("seen")) {
                return;
            }
            if tokio::time::timeout_at(deadline, self.changed.changed()).await.is_err() {
                panic!("{what}: not within {limit:?}; the server saw {:?}", self.seen.lock().expect("seen"));
            }
        }
    }

    /// A copy of what the server saw.
    pub fn requests(&self) -> Vec<(usize, String)> {
        self.seen.lock().expect("seen").requests.clone()
    }

    pub fn connections(&self) -> usize {
        self.seen.lock().expect("seen").connections
    }
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Seen>>,
    notify: Arc<watch::Sender<u64>>,
    plan: Planner,
}

impl Shared {
    fn record(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.seen.lock().expect("seen"));
        self.notify.send_modify(|n| *n += 1);
    }
    fn connect(&self) -> usize {
        let mut index = 0;
        self.record(|seen| {
            index = seen.connections;
            seen.connections += 1;
        });
        index
    }
}

async fn accept_websockets(listener: TcpListener, shared: Shared) {
    while let Ok((tcp, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(socket) = tokio_tungstenite::accept_async(tcp).await else { return };
            let connection = shared.connect();
            let (mut sink, mut source) = socket.split();
            // Wait for the subscription before playing, as a venue does.
            loop {
                match source.next().await {
                    Some(Ok(Message::Text(text))) => {
                        shared.record(|seen| seen.requests.push((connection, text.to_string())));
                        break;
                    }
                    Some(Ok(_)) => continue,
                    _ => return,
                }
            }
            let plan = (shared.plan)(connection);
            for line in plan.lines {
                if sink.send(Message::text(line)).await.is_err() {
                    return;
                }
            }
            if plan.after == After::Close {
                // Drop the socket mid-stream: no close handshake.
                return;
            }
            // Stay connected and silent; record resubscriptions until the client leaves.
            while let Some(Ok(message)) = source.next().await {
                if let Message::Text(text) = message {
                    shared.record(|seen| seen.requests.push((connection, text.to_string())));
                }
            }
        });
    }
}

async fn oanda_stream(State(shared): State<Shared>, Path(account): Path<String>, RawQuery(query): RawQuery, headers: HeaderMap) -> Body {
    let connection = shared.connect();
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    shared.record(|seen| seen.requests.push((connection, format!("{account}?{} {authorization}", query.unwrap_or_default()))));
    let plan = (shared.plan)(connection);
    let lines = futures_util::stream::iter(plan.lines.into_iter().map(|line| Ok::<_, std::io::Error>(format!("{line}\n"))));
    match plan.after {
        After::Close => Body::from_stream(lines),
        After::Silent => Body::from_stream(lines.chain(futures_util::stream::pending())),
    }
}

/// A connector under test.
pub struct Feed {
    pub ticks: mpsc::Receiver<Tick>,
    pub health: Arc<FeedHealth>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Feed {
    /// Starts the connector of `server`'s venue with short timings for tests.
    pub fn start(server: &VenueServer, stall_timeout: Duration, resubscribe: Duration) -> Self {
        let venue = server.venue;
        let config = MarketDataConfig::default();
        let settings = FeedSettings {
            endpoint: server.endpoint(),
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(400),
            resubscribe,
            stall_timeout,
            oanda_account: "101-001-0000001-001".into(),
            ..FeedSettings::from_config(&config, venue, producer(), Some("test-token".into()))
        };
        let (out, ticks) = mpsc::channel(1024);
        let health = Arc::new(FeedHealth::new(venue));
        let (stop, shutdown) = Shutdown::new();
        let task_health = Arc::clone(&health);
        let task = tokio::spawn(async move {
            run_feed(settings, out, task_health, shutdown).await.expect("the feed starts");
        });
        Self { ticks, health, stop, task }
    }

    /// Receives ticks until `marker_count` markers have arrived, or fails after `limit`.
    pub async fn until_markers(&mut self, marker_count: usize, limit: Duration) -> Vec<Tick> {
        let deadline = Instant::now() + limit;
        let mut ticks = Vec::new();
        while ticks.iter().filter(|t| is_marker(t)).count() < marker_count {
            match tokio::time::timeout_at(deadline, self.ticks.recv()).await {
                Ok(Some(tick)) => ticks.push(tick),
                Ok(None) => panic!("the feed stopped; got {ticks:?}"),
                Err(_) => panic!("{marker_count} markers not within {limit:?}; got {} ticks, health {:?}", ticks.len(), self.health.status()),
            }
        }
        ticks
    }

    /// Stops the connector and waits for it to return.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(5), self.task).await.expect("the feed stops on request").expect("the feed task ends cleanly");
    }
}

pub fn producer() -> Producer {
    Producer { agent: "market_data".into(), version: "test".into(), instance: "market_data-0".into() }
}

/// The comparable content of a tick (receipt times differ between runs).
pub type Content = (String, String, String, String, Option<String>, Option<String>, Option<i64>);

pub fn content(tick: &Tick) -> Content {
    (tick.exchange.clone(), tick.symbol.clone(), tick.price.to_string(), tick.volume.to_string(), tick.bid.map(|b| b.to_string()), tick.ask.map(|a| a.to_string()), tick.venue_seq)
}

/// What the pure normalizer makes of the recorded session: what a feed must emit, once.
pub fn expected(venue: Venue) -> Vec<Content> {
    let config = MarketDataConfig::default();
    let mut normalizer = Normalizer::new(venue, config.symbols(venue).clone(), config.dedupe_window, producer());
    let received = EventTime::from_micros(BASE_MS * 1_000);
    fixture(venue).iter().filter_map(|line| normalizer.ingest(line, received).ok()).flat_map(|i| i.ticks).map(|t| content(&t)).collect()
}

/// Ticks without the markers, as content, and a check that no venue message was emitted
/// twice (by id).
pub fn without_markers(ticks: &[Tick]) -> Vec<Content> {
    let mut ids = BTreeMap::new();
    for tick in ticks {
        if let Some(previous) = ids.insert(tick.event_id, tick) {
            panic!("emitted twice: {previous:?} and {tick:?}");
        }
    }
    ticks.iter().filter(|t| !is_marker(t)).map(content).collect()
}
