//! `maxx agent sentiment`: news and social items scored and published to
//! `sentiment_scores`, exactly once, by the source shell. Items arrive over HTTP
//! (`POST /news`, bearer token: a newsapi, reddit or twitter document, or JSON Lines of them),
//! from a file at start (`--news-file`, JSON Lines), or from the seeded synthetic news feed
//! (`--synthetic`). `POST /news` answers once the batch is committed, with one outcome per
//! item — scored (symbols, score), duplicate, no symbol, source off, or refused with the
//! parser's reason — so a bad item never spoils the others. `POST /score` scores a text
//! (read-only, open), `GET /stream` streams scores as server-sent events as they are
//! committed. `/metrics` adds `maxx_sentiment_items_total{outcome}` and
//! `maxx_sentiment_items_per_second` (the autoscaler's signal).

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use maxx_agents::sentiment::synthetic::SyntheticNews;
use maxx_agents::sentiment::{self, Ingested, ItemError, NewsItem, Sentiment};
use maxx_events::{EventTime, Producer, SentimentScore};
use maxx_runtime::kafka::source::{NewsRequest, SentimentSource, SourceReport};
use serde_json::{json, Value};
use tokio::sync::{broadcast, oneshot};

use super::SourceService;
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::Sample;
use crate::reload::ConfigStore;
use crate::run::ServiceError;

/// Where items come from besides `POST /news`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsOptions {
    /// A JSON Lines file of news documents, published at start.
    pub news_file: Option<PathBuf>,
    /// The seeded synthetic news feed, one item per `synthetic_interval`.
    pub synthetic: bool,
    /// Wall-clock time between two synthetic items.
    pub synthetic_interval: Duration,
}

/// How long `POST /news` waits for its batch to be committed.
const COMMIT_WAIT: Duration = Duration::from_secs(60);
/// How often an idle `/stream` checks whether the process stops.
const STREAM_POLL: Duration = Duration::from_millis(250);
/// The window `maxx_sentiment_items_per_second` is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Items by outcome, and when the recent ones were settled.
struct Counters {
    by_outcome: BTreeMap<&'static str, u64>,
    scores: u64,
    recent: VecDeque<Instant>,
    started: Instant,
}

impl Counters {
    fn count(&mut self, outcome: &'static str, scores: usize) {
        *self.by_outcome.entry(outcome).or_default() += 1;
        self.scores += scores as u64;
        let now = Instant::now();
        self.recent.push_back(now);
        while self.recent.front().is_some_and(|at| now.duration_since(*at) > RATE_WINDOW) {
            self.recent.pop_front();
        }
    }

    #[allow(clippy::cast_precision_loss)] // rates and counters as Prometheus floats
    fn samples(&mut self) -> Vec<Sample> {
        let now = Instant::now();
        while self.recent.front().is_some_and(|at| now.duration_since(*at) > RATE_WINDOW) {
            self.recent.pop_front();
        }
        let window = now.duration_since(self.started).min(RATE_WINDOW).as_secs_f64().max(1.0);
        let mut samples: Vec<Sample> = ["scored", "duplicate", "no_symbol", "source_off", "refused"]
            .into_iter()
            .map(|outcome| {
                let n = self.by_outcome.get(outcome).copied().unwrap_or(0);
                Sample::counter("maxx_sentiment_items_total", "News items handled, by outcome.", n as f64).label("outcome", outcome)
            })
            .collect();
        samples.push(Sample::counter("maxx_sentiment_scores_total", "Sentiment scores committed to sentiment_scores.", self.scores as f64));
        samples.push(Sample::gauge("maxx_sentiment_items_per_second", "News items handled per second over the last minute.", self.recent.len() as f64 / window));
        samples
    }
}

/// What the routes reach.
#[derive(Clone)]
struct News {
    items: Sender<NewsRequest>,
    stream: broadcast::Sender<SentimentScore>,
    counters: Arc<Mutex<Counters>>,
    config: Arc<ConfigStore>,
    /// Set when the process stops: open streams end, so the server can close.
    shutdown: Arc<AtomicBool>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn outcome_name(outcome: &Ingested) -> &'static str {
    match outcome {
        Ingested::Scored { .. } => "scored",
        Ingested::Duplicate => "duplicate",
        Ingested::NoSymbol => "no_symbol",
        Ingested::SourceOff => "source_off",
    }
}

/// One item's answer.
fn describe(item: &NewsItem, outcome: &Ingested, scores: &[SentimentScore]) -> Value {
    let mut answer = json!({ "source": item.source.as_str(), "id": item.id, "outcome": outcome_name(outcome) });
    match outcome {
        Ingested::Scored { symbols, score } => {
            answer["symbols"] = json!(symbols);
            answer["score"] = json!(score.to_string());
            answer["event_ids"] = json!(scores.iter().map(|s| s.event_id.to_string()).collect::<Vec<_>>());
        }
        Ingested::Duplicate => answer["reason"] = json!("seen before: already published"),
        Ingested::NoSymbol => answer["reason"] = json!("names no configured symbol (sentiment.symbols)"),
        Ingested::SourceOff => answer["reason"] = json!("its source is not in sentiment.news_apis"),
    }
    answer
}

fn refused(error: &ItemError) -> Value {
    json!({ "source": error.shape, "id": error.id, "index": error.index, "outcome": "refused", "reason": error.to_string() })
}

/// Reads a `POST /news` body: one document, or JSON Lines of them.
fn read_batch(body: &str) -> Result<sentiment::Batch, String> {
    match sentiment::parse(body) {
        Ok(batch) => Ok(batch),
        Err(error) => {
            let lines = body.lines().filter(|l| !l.trim().is_empty()).count();
            if lines > 1 {
                Ok(sentiment::parse_lines(body))
            } else {
                Err(error.to_string())
            }
        }
    }
}

impl News {
    /// Queues `item`; the receiver gets its outcome once committed.
    fn submit(&self, item: NewsItem) -> oneshot::Receiver<(Ingested, Vec<SentimentScore>)> {
        let (reply, answer) = oneshot::channel();
        let settle: maxx_runtime::kafka::source::Settle = Box::new(move |outcome: &Ingested, scores: &[SentimentScore]| {
            let _ = reply.send((outcome.clone(), scores.to_vec()));
        });
        // A closed channel drops the request, and so the reply: the caller hears "stopping".
        let _ = self.items.send(NewsRequest { item, settle: Some(settle) });
        answer
    }
}

/// `POST /news`: 200 with per-item outcomes once committed; 400 when the body is no news
/// document at all.
async fn post_news(State(news): State<News>, body: String) -> Response {
    let batch = match read_batch(&body) {
        Ok(batch) => batch,
        Err(reason) => return (StatusCode::BAD_REQUEST, Json(json!({ "error": reason }))).into_response(),
    };
    let waiting: Vec<(NewsItem, _)> = batch.items.into_iter().map(|item| (item.clone(), news.submit(item))).collect();
    let mut answers = Vec::new();
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (item, answer) in waiting {
        match tokio::time::timeout(COMMIT_WAIT, answer).await {
            Ok(Ok((outcome, scores))) => {
                *totals.entry(outcome_name(&outcome)).or_default() += 1;
                answers.push(describe(&item, &outcome, &scores));
            }
            Ok(Err(_)) => {
                *totals.entry("not_published").or_default() += 1;
                answers.push(json!({ "source": item.source.as_str(), "id": item.id, "outcome": "not_published", "reason": "the agent is stopping; post it again" }));
            }
            Err(_) => {
                *totals.entry("pending").or_default() += 1;
                answers.push(json!({ "source": item.source.as_str(), "id": item.id, "outcome": "pending", "reason": format!("not committed within {COMMIT_WAIT:?}; it will be, once") }));
            }
        }
    }
    {
        let mut counters = lock(&news.counters);
        for error in &batch.errors {
            counters.count("refused", 0);
            tracing::warn!(%error, "news item refused");
        }
    }
    *totals.entry("refused").or_default() += batch.errors.len() as u64;
    answers.extend(batch.errors.iter().map(refused));
    (StatusCode::OK, Json(json!({ "items": answers, "totals": totals }))).into_response()
}

/// `POST /score`: `{"text": ...}` (or the raw text) → score, symbols, lexicon hits.
async fn post_score(State(news): State<News>, body: String) -> Response {
    let text = match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(map)) => match map.get("text").and_then(Value::as_str) {
            Some(text) => text.to_owned(),
            None => return (StatusCode::BAD_REQUEST, Json(json!({ "error": "expected {\"text\": \"...\"} or a plain text body" }))).into_response(),
        },
        _ => body,
    };
    let scorer = Sentiment::new(news.config.current().sentiment.clone());
    let scored = scorer.score_text(&text);
    let symbols: Vec<String> = scorer.symbols_in(&text).into_iter().collect();
    let hits: Vec<Value> = scored
        .hits
        .iter()
        .map(|hit| json!({ "term": hit.term, "valence": hit.valence.to_string(), "intensity": hit.intensity, "negated": hit.negated, "weight": hit.weight.to_string() }))
        .collect();
    Json(json!({ "score": scored.score.to_string(), "sum": scored.sum.to_string(), "symbols": symbols, "hits": hits })).into_response()
}

/// `GET /stream`: a `ready` event, then every score committed from now on, as an SSE
/// `score` event of JSON.
async fn get_stream(State(news): State<News>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = news.stream.subscribe();
    // A `ready` event first: the client knows it is subscribed from then on.
    let stream = futures_util::stream::unfold((receiver, news.shutdown, false), |(mut receiver, shutdown, ready)| async move {
        if !ready {
            return Some((Ok(Event::default().event("ready").data("subscribed")), (receiver, shutdown, true)));
        }
        let event = loop {
            if shutdown.load(Ordering::SeqCst) {
                return None;
            }
            match tokio::time::timeout(STREAM_POLL, receiver.recv()).await {
                Err(_) => {}
                Ok(Ok(score)) => {
                    let data = json!({
                        "event_id": score.event_id.to_string(),
                        "event_time": score.event_time.as_micros(),
                        "symbol": score.symbol,
                        "score": score.score.to_string(),
                        "source": score.source,
                        "item_id": score.item_id,
                        "title": score.title,
                    });
                    break Event::default().event("score").data(data.to_string());
                }
                Ok(Err(broadcast::error::RecvError::Lagged(missed))) => break Event::default().event("lagged").data(missed.to_string()),
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
            }
        };
        Some((Ok(event), (receiver, shutdown, true)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// The routes, on the shell's server: `/news` behind the token, `/score` and `/stream` open.
fn routes(news: News) -> AgentRoutes {
    let open: Router<ServiceState> = Router::new().route("/score", post(post_score)).route("/stream", get(get_stream)).with_state(news.clone());
    let mutating: Router<ServiceState> = Router::new().route("/news", post(post_news)).with_state(news);
    AgentRoutes::new().read_only(open).mutating(mutating)
}

/// Runs Sentiment until SIGTERM.
///
/// # Errors
/// When the news file cannot be read, or the server or the source shell fail.
pub fn run(service: SourceService, listener: std::net::TcpListener, options: NewsOptions) -> Result<SourceReport, ServiceError> {
    let store = service.config();
    let config = store.current();
    let producer = Producer { agent: sentiment::NAME.into(), version: env!("CARGO_PKG_VERSION").into(), instance: service.identity().instance.clone() };
    let (items, receiver) = channel::<NewsRequest>();
    let (stream, _) = broadcast::channel(1_024);
    let counters = Arc::new(Mutex::new(Counters { by_outcome: BTreeMap::new(), scores: 0, recent: VecDeque::new(), started: Instant::now() }));
    let shutdown = service.shutdown_handle();
    let news = News { items: items.clone(), stream: stream.clone(), counters: Arc::clone(&counters), config: Arc::clone(&store), shutdown: Arc::clone(&shutdown) };

    if let Some(path) = &options.news_file {
        let text = std::fs::read_to_string(path).map_err(|e| ServiceError::Http(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))?;
        let batch = sentiment::parse_lines(&text);
        tracing::info!(file = %path.display(), items = batch.items.len(), refused = batch.errors.len(), "news file read");
        for error in &batch.errors {
            lock(&counters).count("refused", 0);
            tracing::warn!(file = %path.display(), %error, "news item refused");
        }
        for item in batch.items {
            let _ = items.send(NewsRequest::from(item));
        }
    }
    if options.synthetic {
        let (items, shutdown) = (items.clone(), Arc::clone(&shutdown));
        let interval = options.synthetic_interval.max(Duration::from_millis(1));
        let seed = config.market_data.synthetic.seed;
        std::thread::Builder::new().name("maxx-synthetic-news".into()).spawn(move || synthetic_news(seed, interval, &items, &shutdown)).map_err(ServiceError::Http)?;
    }
    drop(items);

    let kpi_counters = Arc::clone(&counters);
    let service = service.with_kpis(Arc::new(move || lock(&kpi_counters).samples()));
    let settled_counters = Arc::clone(&counters);
    let agent = CountingSentiment {
        inner: SentimentSource::new(Sentiment::new(config.sentiment.clone()), producer).on_published(move |score| {
            let _ = stream.send(score.clone());
        }),
        counters: settled_counters,
    };
    let routes = routes(news);
    service.serve(listener, routes, None, move |_, shell| shell.run_source(agent, &receiver))
}

/// [`SentimentSource`] counting outcomes for `/metrics`.
struct CountingSentiment {
    inner: SentimentSource,
    counters: Arc<Mutex<Counters>>,
}

impl maxx_runtime::kafka::source::SourceAgent for CountingSentiment {
    type Item = NewsRequest;
    type Outcome = Ingested;
    type State = <SentimentSource as maxx_runtime::kafka::source::SourceAgent>::State;
    const NAME: &'static str = <SentimentSource as maxx_runtime::kafka::source::SourceAgent>::NAME;
    const VERSION: &'static str = <SentimentSource as maxx_runtime::kafka::source::SourceAgent>::VERSION;
    const OUTPUTS: &'static [&'static str] = <SentimentSource as maxx_runtime::kafka::source::SourceAgent>::OUTPUTS;

    fn state(&self) -> &Self::State {
        self.inner.state()
    }
    fn restore(&mut self, state: Self::State) {
        self.inner.restore(state);
    }
    fn admit(&mut self, item: &NewsRequest, out: &mut Vec<maxx_events::BusEvent>) -> Ingested {
        self.inner.admit(item, out)
    }
    fn settled(&mut self, item: NewsRequest, outcome: Ingested, published: &[maxx_events::BusEvent]) {
        lock(&self.counters).count(outcome_name(&outcome), published.len());
        self.inner.settled(item, outcome, published);
    }
    fn reconfigure(&mut self, config: &maxx_agents::config::AgentConfig) {
        self.inner.reconfigure(config);
    }
}

/// The synthetic news feed: an item every `interval`, stamped with the wall clock, with ids
/// unique to this run (so a restart's items are new news, not duplicates).
fn synthetic_news(seed: u64, interval: Duration, items: &Sender<NewsRequest>, shutdown: &AtomicBool) {
    let mut feed = SyntheticNews::new(seed);
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    while !shutdown.load(Ordering::SeqCst) {
        std::thread::sleep(interval);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let mut item = feed.next_item(EventTime::from_micros(now));
        item.id = format!("{run}-{}", item.id);
        if items.send(NewsRequest::from(item)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_one_document_or_json_lines_and_bad_lines_are_items_not_failures() {
        let one = r#"{"data": [{"id": "1", "text": "Bitcoin soars", "created_at": "2026-11-25T10:00:00Z"}]}"#;
        let batch = read_batch(one).expect("one twitter document");
        assert_eq!((batch.items.len(), batch.errors.len()), (1, 0));
        let lines = format!("{one}\nnot json\n\n{one}\n");
        let batch = read_batch(&lines).expect("JSON lines");
        assert_eq!((batch.items.len(), batch.errors.len()), (2, 1), "the bad line is one refused item");
        assert!(read_batch("not json").is_err(), "a single line that is no document is refused whole");
        assert!(read_batch(r#"{"hello": 1}"#).err().is_some_and(|e| e.contains("not a newsapi, reddit or twitter document")));
    }

    #[test]
    fn every_outcome_is_described_with_its_reason() {
        let item = NewsItem {
            source: sentiment::Source::Reddit,
            id: "abc".into(),
            title: Some("Bitcoin".into()),
            body: None,
            published: EventTime::from_micros(0),
            url: None,
            channel: None,
        };
        let scored = describe(&item, &Ingested::Scored { symbols: vec!["BTCUSD".into()], score: maxx_events::FixedPoint::from_raw(25_000_000) }, &[]);
        assert_eq!((scored["outcome"].as_str(), scored["score"].as_str(), scored["source"].as_str()), (Some("scored"), Some("0.25"), Some("reddit")));
        for (outcome, name) in [(Ingested::Duplicate, "duplicate"), (Ingested::NoSymbol, "no_symbol"), (Ingested::SourceOff, "source_off")] {
            let answer = describe(&item, &outcome, &[]);
            assert_eq!(answer["outcome"], name);
            assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()), "{answer}");
        }
    }

    #[test]
    fn the_rate_counts_the_last_minute_only() {
        let started = Instant::now().checked_sub(Duration::from_secs(120)).unwrap_or_else(Instant::now);
        let mut counters = Counters { by_outcome: BTreeMap::new(), scores: 0, recent: VecDeque::new(), started };
        if let Some(old) = Instant::now().checked_sub(Duration::from_secs(90)) {
            counters.recent.push_back(old);
        }
        for _ in 0..30 {
            counters.count("scored", 2);
        }
        counters.count("refused", 0);
        let samples = counters.samples();
        let value = |name: &str, outcome: Option<&str>| {
            samples
                .iter()
                .find(|s| s.name == name && outcome.is_none_or(|o| s.labels.iter().any(|(k, v)| k == "outcome" && v == o)))
                .map(|s| s.value)
        };
        assert_eq!(value("maxx_sentiment_items_total", Some("scored")), Some(30.0));
        assert_eq!(value("maxx_sentiment_items_total", Some("duplicate")), Some(0.0), "every outcome is exported, zero or not");
        assert_eq!(value("maxx_sentiment_scores_total", None), Some(60.0));
        assert_eq!(value("maxx_sentiment_items_per_second", None), Some(31.0 / 60.0), "31 items in the last minute; the one 90 s ago is out");
    }

    proptest::proptest! {
        #[test]
        fn any_body_is_read_or_refused_without_a_panic(body in ".{0,200}") {
            let _ = read_batch(&body);
        }
    }
}
