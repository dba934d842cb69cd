//! The Kafka shell of a *source* agent — MarketData (ticks from exchange feeds, a file, the
//! synthetic market) and Sentiment (news items posted over HTTP or read from a file): items
//! come from a channel, not from a topic, and what the agent makes of them is produced in
//! transactions, each carrying the agent's duplicate-detection state as a snapshot to
//! `state.<agent>`. [`SourceAgent`] is what a source must say: its state, and the events an
//! item gives; [`KafkaSource::run`] (MarketData → `ticks`) and [`KafkaSource::run_source`]
//! (any source, e.g. [`SentimentSource`] → `sentiment_scores`) run one.
//!
//! Per batch: begin → for each item: the agent admits it (its events, or none when it was
//! published before) and they are produced → the snapshot of what has been published →
//! commit. A batch ends when no more item is waiting (group commit), at `batch_size` items,
//! or when it is `commit_interval` old — as in the worker. On start the producer fences any
//! previous incarnation (aborting what it left open) and the last committed snapshot is
//! restored, so items a restarted feed delivers again (venues resend recent data on
//! subscribe; clients post a batch twice) are dropped: a restart neither loses nor
//! duplicates what was committed. An aborted batch is restored from the last committed state
//! and its items are sent again in the next transaction. Each item is *settled*
//! ([`SourceAgent::settled`]) once its events are committed, or at once when it gave none.
//!
//! Before each item the shell applies a configuration waiting in its [`PendingConfig`]
//! (hot reload: a source's configuration is no state, so it may change mid-batch), and, when asked to, publishes lifecycle transitions to
//! `agent_state` like the runtime does. The producer's statistics feed the broker
//! reachability of [`Stats`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maxx_agents::config::AgentConfig;
use maxx_agents::market_data::{Dedupe, MarketData};
use maxx_agents::sentiment::{self, Ingested, NewsItem, Sentiment, SentimentState};
use maxx_agents::{Agent, Emitter};
use maxx_events::{BusCodec, BusEvent, Lifecycle, Producer, Registration, SchemaRegistry, SentimentScore, Tick};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, ClientContext};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::config::{KafkaConfig, PendingConfig};
use super::error::RuntimeError;
use super::lifecycle::LifecyclePublisher;
use super::snapshot::{self, Snapshot};
use super::stats::Stats;
use super::txn::{classify, drain, retrying, send, TxnFailure};

/// Longest a wait for the next item blocks, so shutdown and commit deadlines are noticed.
const MAX_WAIT: Duration = Duration::from_millis(100);
/// One attempt at initializing the transactional producer.
const INIT_SLICE: Duration = Duration::from_secs(1);

/// A source agent as the shell runs it: pure, with a state that says what was published.
pub trait SourceAgent: Send {
    /// What arrives on the channel.
    type Item: Send;
    /// What the agent made of an item, handed back when the item is settled.
    type Outcome: Send;
    /// The duplicate-detection state, snapshotted with every commit.
    type State: Serialize + DeserializeOwned + Clone + Send;
    /// The agent's name: transactional id, state topic and lifecycle identity derive from it.
    const NAME: &'static str;
    /// Version stamped on the snapshot.
    const VERSION: &'static str;
    /// Topics its events go to.
    const OUTPUTS: &'static [&'static str];

    /// The state.
    fn state(&self) -> &Self::State;
    /// Replaces the state (a restored snapshot, or the committed state after an abort).
    fn restore(&mut self, state: Self::State);
    /// The events `item` gives (none: a duplicate, or nothing to publish), and its outcome.
    fn admit(&mut self, item: &Self::Item, out: &mut Vec<BusEvent>) -> Self::Outcome;
    /// `item`'s events are committed (or it had none): tell whoever waits for it.
    fn settled(&mut self, _item: Self::Item, _outcome: Self::Outcome, _published: &[BusEvent]) {}
    /// A new, validated configuration (hot reload), between two transactions.
    fn reconfigure(&mut self, _config: &AgentConfig) {}
}

impl SourceAgent for MarketData {
    type Item = Tick;
    type Outcome = bool;
    type State = Dedupe;
    const NAME: &'static str = <MarketData as Agent>::NAME;
    const VERSION: &'static str = <MarketData as Agent>::VERSION;
    const OUTPUTS: &'static [&'static str] = <MarketData as Agent>::OUTPUTS;

    fn state(&self) -> &Dedupe {
        Agent::state(self)
    }
    fn restore(&mut self, state: Dedupe) {
        Agent::restore(self, state);
    }
    fn admit(&mut self, tick: &Tick, out: &mut Vec<BusEvent>) -> bool {
        let new = MarketData::admit(self, tick);
        if new {
            out.push(BusEvent::from(tick.clone()));
        }
        new
    }
    fn reconfigure(&mut self, config: &AgentConfig) {
        Agent::reconfigure(self, config);
    }
}

/// Called with an item's outcome and the scores committed for it.
pub type Settle = Box<dyn FnOnce(&Ingested, &[SentimentScore]) + Send>;

/// A news item for [`SentimentSource`], with whoever waits for its outcome.
pub struct NewsRequest {
    /// The item.
    pub item: NewsItem,
    /// Called once its scores are committed (or at once when it gave none).
    pub settle: Option<Settle>,
}

impl std::fmt::Debug for NewsRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewsRequest").field("item", &self.item).finish()
    }
}

impl From<NewsItem> for NewsRequest {
    fn from(item: NewsItem) -> Self {
        Self { item, settle: None }
    }
}

/// Sentiment as a source: news items in, `SentimentScore`s to `sentiment_scores`, the
/// scorer's memory of recent items in `state.sentiment`.
pub struct SentimentSource {
    scorer: Sentiment,
    producer: Producer,
    published: Option<Published>,
}

/// Called with every score once it is committed.
pub type Published = Box<dyn Fn(&SentimentScore) + Send>;

impl std::fmt::Debug for SentimentSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentimentSource").field("producer", &self.producer).finish()
    }
}

impl SentimentSource {
    /// The scorer, stamping its scores with `producer`.
    pub fn new(scorer: Sentiment, producer: Producer) -> Self {
        Self { scorer, producer, published: None }
    }

    /// Calls `hook` with every score once it is committed (e.g. for a live stream).
    #[must_use]
    pub fn on_published(mut self, hook: impl Fn(&SentimentScore) + Send + 'static) -> Self {
        self.published = Some(Box::new(hook));
        self
    }
}

impl SourceAgent for SentimentSource {
    type Item = NewsRequest;
    type Outcome = Ingested;
    type State = SentimentState;
    const NAME: &'static str = sentiment::NAME;
    const VERSION: &'static str = <MarketData as Agent>::VERSION;
    const OUTPUTS: &'static [&'static str] = &["sentiment_scores"];

    fn state(&self) -> &SentimentState {
        self.scorer.state()
    }
    fn restore(&mut self, state: SentimentState) {
        self.scorer.restore(state);
    }
    fn admit(&mut self, request: &NewsRequest, out: &mut Vec<BusEvent>) -> Ingested {
        let (cause, at) = Sentiment::cause(&request.item);
        let mut emitter = Emitter::new(sentiment::NAME, &self.producer, cause, at, out);
        self.scorer.ingest(&request.item, &mut emitter)
    }
    fn settled(&mut self, request: NewsRequest, outcome: Ingested, published: &[BusEvent]) {
        let scores: Vec<SentimentScore> = published.iter().filter_map(|e| SentimentScore::try_from(e.clone()).ok()).collect();
        if let Some(hook) = &self.published {
            for score in &scores {
                hook(score);
            }
        }
        if let Some(settle) = request.settle {
            settle(&outcome, &scores);
        }
    }
    fn reconfigure(&mut self, config: &AgentConfig) {
        self.scorer.reconfigure(config.sentiment.clone());
    }
}

/// Publishes what a source agent makes of the items on a channel, exactly once.
pub struct KafkaSource {
    config: KafkaConfig,
    registry: Arc<dyn SchemaRegistry>,
    registration: Registration,
    stats: Arc<Stats>,
    shutdown: Arc<AtomicBool>,
    pending: Arc<PendingConfig>,
    lifecycle: bool,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource").field("config", &self.config).finish()
    }
}

/// What one run published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// Events produced and committed.
    pub published: u64,
    /// Items that gave nothing (already published, or nothing to publish).
    pub duplicates: u64,
    /// Transactions committed.
    pub commits: u64,
    /// Transactions aborted (their items were sent again).
    pub aborts: u64,
}

/// The producer's context: its statistics say whether a broker is reachable.
struct SourceContext {
    stats: Arc<Stats>,
}

impl ClientContext for SourceContext {
    fn stats(&self, statistics: rdkafka::statistics::Statistics) {
        self.stats.consumer_statistics(&statistics);
    }
}

impl ProducerContext for SourceContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _result: &DeliveryResult<'_>, _opaque: ()) {}
}

type SourceProducer = BaseProducer<SourceContext>;

impl KafkaSource {
    /// A source shell with schema ids from `registry`, looked up only.
    pub fn new(config: KafkaConfig, registry: Arc<dyn SchemaRegistry>) -> Self {
        Self {
            config,
            registry,
            registration: Registration::LookupOnly,
            stats: Arc::default(),
            shutdown: Arc::default(),
            pending: Arc::default(),
            lifecycle: false,
        }
    }

    /// Registers missing schemas instead of refusing to start (development and tests).
    #[must_use]
    pub fn registering_schemas(mut self) -> Self {
        self.registration = Registration::Register;
        self
    }

    /// Publishes lifecycle transitions (INIT, RUNNING, SHUTDOWN) to `agent_state`, best effort.
    #[must_use]
    pub fn publishing_lifecycle(mut self) -> Self {
        self.lifecycle = true;
        self
    }

    /// Counters (commits, aborts, outputs, committed state, broker) for health and metrics.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    /// Where a reloaded configuration goes; applied between two transactions.
    pub fn pending_config(&self) -> Arc<PendingConfig> {
        Arc::clone(&self.pending)
    }

    /// The configuration.
    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    /// Set it to stop: the open transaction is committed, and the run returns.
    pub fn shutdown_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shutdown)
    }

    fn client(&self) -> ClientConfig {
        let mut client = ClientConfig::new();
        client.set("bootstrap.servers", &self.config.bootstrap);
        for (key, value) in &self.config.overrides {
            client.set(key, value);
        }
        client
    }

    /// Publishes the ticks received on `ticks` until shutdown is requested or every sender
    /// is gone; what was received before is committed first.
    ///
    /// # Errors
    /// As [`KafkaSource::run_source`].
    pub fn run(&self, agent: MarketData, ticks: &Receiver<Tick>) -> Result<SourceReport, RuntimeError> {
        self.run_source(agent, ticks)
    }

    /// Runs the source `agent` over the items received on `items` until shutdown is
    /// requested or every sender is gone; what was received before is committed first.
    ///
    /// # Errors
    /// When fenced by a newer instance, when a topic is missing, or on a failure that a
    /// transaction retry cannot get past.
    pub fn run_source<A: SourceAgent>(&self, agent: A, items: &Receiver<A::Item>) -> Result<SourceReport, RuntimeError> {
        let mut lifecycle = if self.lifecycle {
            let identity = Producer { agent: A::NAME.to_owned(), version: A::VERSION.to_owned(), instance: self.config.instance_name(A::NAME) };
            let mut publisher =
                LifecyclePublisher::new(&self.client(), Arc::clone(&self.registry), self.registration, self.config.topic("agent_state"), identity, self.stats())?;
            publisher.transition(Lifecycle::Init, "starting");
            Some(publisher)
        } else {
            self.stats.set_lifecycle(Lifecycle::Init, "starting");
            None
        };
        let result = self.publish_all(agent, items, &mut lifecycle);
        let reason = match &result {
            Ok(_) => "stopped on request".to_owned(),
            Err(error) => error.to_string(),
        };
        match lifecycle.as_mut() {
            Some(publisher) => publisher.transition(Lifecycle::Shutdown, &reason),
            None => self.stats.set_lifecycle(Lifecycle::Shutdown, &reason),
        }
        result
    }

    fn publish_all<A: SourceAgent>(&self, mut agent: A, items: &Receiver<A::Item>, lifecycle: &mut Option<LifecyclePublisher>) -> Result<SourceReport, RuntimeError> {
        let name = A::NAME;
        let config = &self.config;
        let codec = BusCodec::new(Arc::clone(&self.registry), A::OUTPUTS, self.registration)?;
        let producer: SourceProducer = self
            .client()
            .set("transactional.id", config.transactional_id(name))
            .set("transaction.timeout.ms", config.transaction_timeout.as_millis().to_string())
            .set("message.timeout.ms", (config.transaction_timeout.as_millis() * 2 / 3).to_string())
            .set("enable.idempotence", "true")
            .set("retry.backoff.ms", "5")
            .set("retry.backoff.max.ms", "20")
            .set("statistics.interval.ms", config.statistics_interval.as_millis().to_string())
            .create_with_context(SourceContext { stats: Arc::clone(&self.stats) })
            .map_err(|e| RuntimeError::kafka("create the transactional producer", e))?;
        // Fences the previous incarnation and aborts what it left open, so the snapshot read
        // next is the last committed one.
        // In short slices, serving the statistics between them (so `/healthz` can say that
        // no broker is reachable) and giving up early on shutdown.
        let give_up = Instant::now() + config.transaction_timeout * 2;
        loop {
            match producer.init_transactions(INIT_SLICE) {
                Ok(()) => break,
                Err(KafkaError::Transaction(e)) if e.is_retriable() && Instant::now() < give_up => {
                    if self.shutdown.load(Ordering::SeqCst) {
                        tracing::info!(agent = name, "stopped before the producer was initialized");
                        return Ok(SourceReport::default());
                    }
                    producer.poll(Duration::from_millis(100));
                }
                Err(error) => return Err(classify(&producer, "init transactions", error).into_fatal()),
            }
        }
        let state_topic = config.state_topic(name);
        if let Some(snapshot) = snapshot::read_latest(&self.client(), &state_topic, name, config.transaction_timeout)? {
            let state: A::State = serde_json::from_value(snapshot.state).map_err(|e| RuntimeError::Fatal(format!("the last snapshot in {state_topic} is not {name} state: {e}")))?;
            agent.restore(state);
            tracing::info!(agent = name, "restored from snapshot");
        }
        let mut run = Run {
            config,
            stats: &self.stats,
            codec,
            producer,
            state_topic,
            instance: config.instance_name(name),
            committed: agent.state().clone(),
            agent,
            batch: Vec::new(),
            started: None,
            redo: VecDeque::new(),
            report: SourceReport::default(),
        };
        run.stats.set_committed_state(&serde_json::to_vec(&run.committed).map_err(|e| RuntimeError::Fatal(format!("state: {e}")))?);
        match lifecycle.as_mut() {
            Some(publisher) => publisher.transition(Lifecycle::Running, "publishing"),
            None => self.stats.set_lifecycle(Lifecycle::Running, "publishing"),
        }
        let mut closed = false;
        loop {
            if self.shutdown.load(Ordering::SeqCst) || (closed && run.redo.is_empty()) {
                run.finish()?;
                return Ok(run.report);
            }
            let open = run.started.is_some();
            let next = match run.redo.pop_front() {
                Some(item) => Ok(item),
                None if closed => Err(RecvTimeoutError::Disconnected),
                None if open => items.try_recv().map_err(|e| match e {
                    std::sync::mpsc::TryRecvError::Empty => RecvTimeoutError::Timeout,
                    std::sync::mpsc::TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                }),
                None => items.recv_timeout(MAX_WAIT),
            };
            let drained = match next {
                Ok(item) => {
                    // A configuration accepted before the item arrived applies to it.
                    if let Some((generation, config)) = self.pending.take() {
                        run.agent.reconfigure(&config);
                        self.stats.set_config_generation(generation);
                        tracing::info!(generation, "configuration applied");
                    }
                    if let Err(failure) = run.publish(item) {
                        run.recover(failure)?;
                        continue;
                    }
                    false
                }
                Err(RecvTimeoutError::Timeout) => true,
                Err(RecvTimeoutError::Disconnected) => {
                    closed = true;
                    true
                }
            };
            let full = run.batch.len() >= config.batch_size;
            let old = run.started.is_some_and(|at| at.elapsed() >= config.commit_interval);
            if run.started.is_some() && (drained || full || old) {
                if let Err(failure) = run.commit() {
                    run.recover(failure)?;
                }
            } else if run.started.is_none() {
                // Keep the statistics callback served while idle.
                run.producer.poll(Duration::ZERO);
            }
        }
    }
}

/// An admitted item of the open transaction: the item, its outcome, its events.
type Pending<A> = (<A as SourceAgent>::Item, <A as SourceAgent>::Outcome, Vec<BusEvent>);

/// One incarnation's producer and the transaction being built.
struct Run<'r, A: SourceAgent> {
    config: &'r KafkaConfig,
    stats: &'r Stats,
    codec: BusCodec,
    producer: SourceProducer,
    state_topic: String,
    instance: String,
    agent: A,
    /// The agent's state as of the last commit: restored on abort.
    committed: A::State,
    /// Items in the open transaction (sent again if it aborts).
    batch: Vec<Pending<A>>,
    /// When the open transaction began; `None`: none is open.
    started: Option<Instant>,
    /// Items of an aborted transaction, to publish before new ones.
    redo: VecDeque<A::Item>,
    report: SourceReport,
}

impl<A: SourceAgent> Run<'_, A> {
    fn publish(&mut self, item: A::Item) -> Result<(), TxnFailure> {
        let mut events = Vec::new();
        let outcome = self.agent.admit(&item, &mut events);
        if events.is_empty() {
            self.report.duplicates += 1;
            self.agent.settled(item, outcome, &[]);
            return Ok(());
        }
        if self.started.is_none() {
            self.producer.begin_transaction().map_err(|e| classify(&self.producer, "begin the transaction", e))?;
            self.started = Some(Instant::now());
        }
        // Queued first, so an abort in the middle sends the whole item again.
        self.batch.push((item, outcome, Vec::new()));
        for event in &events {
            let topic = self.config.topic(event.topic());
            let bytes = self.codec.encode(event).map_err(|e| TxnFailure::Fatal(RuntimeError::Fatal(e.to_string())))?;
            send(&self.producer, BaseRecord::to(topic.as_str()).key(event.key()).payload(bytes.as_slice()))?;
        }
        if let Some(last) = self.batch.last_mut() {
            last.2 = events;
        }
        Ok(())
    }

    /// Snapshot, commit, settle.
    fn commit(&mut self) -> Result<(), TxnFailure> {
        let began = Instant::now();
        let state = serde_json::to_value(self.agent.state()).map_err(|e| TxnFailure::Fatal(RuntimeError::Fatal(format!("state: {e}"))))?;
        let name = A::NAME;
        let snapshot = Snapshot::new(name, A::VERSION, &self.instance, &BTreeMap::new(), state);
        let value = serde_json::to_vec(&snapshot).map_err(|e| TxnFailure::Fatal(RuntimeError::Fatal(format!("encode the snapshot: {e}"))))?;
        send(&self.producer, BaseRecord::to(self.state_topic.as_str()).key(name).payload(value.as_slice()))?;
        let timeout = self.config.transaction_timeout;
        drain(&self.producer, timeout)?;
        let producer = &self.producer;
        retrying(producer, "commit", timeout, || producer.commit_transaction(Timeout::Never))?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (_, _, events) in &self.batch {
            for event in events {
                *counts.entry(event.topic().to_owned()).or_default() += 1;
            }
        }
        let published: u64 = counts.values().sum();
        self.stats.committed(began.elapsed());
        self.stats.outputs(&counts);
        self.stats.set_committed_state(&serde_json::to_vec(self.agent.state()).unwrap_or_default());
        self.committed = self.agent.state().clone();
        self.report.published += published;
        self.report.commits += 1;
        for (item, outcome, events) in std::mem::take(&mut self.batch) {
            self.agent.settled(item, outcome, &events);
        }
        self.started = None;
        tracing::debug!(published, took = ?began.elapsed(), "committed");
        Ok(())
    }

    /// On shutdown or end of input: commit what is open, and what an abort left to redo
    /// (a few attempts).
    fn finish(&mut self) -> Result<(), RuntimeError> {
        for _ in 0..3 {
            let mut failed = None;
            while let Some(item) = self.redo.pop_front() {
                if let Err(failure) = self.publish(item) {
                    failed = Some(failure);
                    break;
                }
            }
            if failed.is_none() && self.started.is_some() {
                failed = self.commit().err();
            }
            match failed {
                None => return Ok(()),
                Some(failure) => self.recover(failure)?,
            }
        }
        Err(RuntimeError::Fatal(format!("{} items could not be committed at shutdown", self.redo.len())))
    }

    /// Aborts the open transaction, restores the committed state and queues the batch's
    /// items to be sent again; or gives up when the failure is fatal.
    fn recover(&mut self, failure: TxnFailure) -> Result<(), RuntimeError> {
        let reason = match failure {
            TxnFailure::Fatal(error) => return Err(error),
            TxnFailure::Abortable(reason) => reason,
        };
        tracing::warn!(%reason, "aborting the transaction");
        if self.started.is_some() {
            let producer = &self.producer;
            retrying(producer, "abort", self.config.transaction_timeout, || producer.abort_transaction(Timeout::Never)).map_err(TxnFailure::into_fatal)?;
        }
        self.stats.aborted();
        self.report.aborts += 1;
        self.agent.restore(self.committed.clone());
        for (item, _, _) in self.batch.drain(..).rev() {
            self.redo.push_front(item);
        }
        self.started = None;
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use maxx_agents::sentiment::{SentimentConfig, Source};
    use maxx_events::EventTime;

    use super::*;

    fn item(id: &str, title: &str) -> NewsItem {
        NewsItem { source: Source::NewsApi, id: id.into(), title: Some(title.into()), body: None, published: EventTime::from_micros(1_764_000_000_000_000), url: None, channel: None }
    }

    fn producer() -> Producer {
        Producer { agent: "sentiment".into(), version: "test".into(), instance: "sentiment-0".into() }
    }

    #[test]
    fn sentiment_admits_an_item_once_and_settles_it_with_its_scores() {
        let streamed = Arc::new(Mutex::new(Vec::new()));
        let hook = Arc::clone(&streamed);
        let mut source = SentimentSource::new(Sentiment::new(SentimentConfig::default()), producer()).on_published(move |score| hook.lock().expect("lock").push(score.symbol.clone()));
        let settled = Arc::new(Mutex::new(None));
        let answer = Arc::clone(&settled);
        let request = NewsRequest {
            item: item("a", "Bitcoin and Ethereum rally"),
            settle: Some(Box::new(move |outcome: &Ingested, scores: &[SentimentScore]| *answer.lock().expect("lock") = Some((outcome.clone(), scores.len())))),
        };
        let mut events = Vec::new();
        let outcome = source.admit(&request, &mut events);
        assert!(matches!(&outcome, Ingested::Scored { symbols, .. } if symbols == &["BTCUSD", "ETHUSD"]), "{outcome:?}");
        assert_eq!(events.iter().map(BusEvent::topic).collect::<Vec<_>>(), ["sentiment_scores", "sentiment_scores"]);
        assert!(settled.lock().expect("lock").is_none(), "not settled before the commit");
        let committed = source.state().clone();
        source.settled(request, outcome, &events);
        assert!(matches!(settled.lock().expect("lock").as_ref(), Some((Ingested::Scored { .. }, 2))));
        assert_eq!(*streamed.lock().expect("lock"), ["BTCUSD", "ETHUSD"], "streamed once committed");

        // Again: nothing to publish. After a restore of the committed state: still nothing.
        let mut again = Vec::new();
        assert_eq!(source.admit(&NewsRequest::from(item("a", "Bitcoin and Ethereum rally")), &mut again), Ingested::Duplicate);
        source.restore(committed);
        assert_eq!(source.admit(&NewsRequest::from(item("a", "Bitcoin and Ethereum rally")), &mut again), Ingested::Duplicate);
        assert!(again.is_empty());
        // The same item scored anywhere gets the same ids.
        let mut elsewhere = SentimentSource::new(Sentiment::new(SentimentConfig::default()), producer());
        let mut copy = Vec::new();
        elsewhere.admit(&NewsRequest::from(item("a", "Bitcoin and Ethereum rally")), &mut copy);
        assert_eq!(copy.iter().map(BusEvent::event_id).collect::<Vec<_>>(), events.iter().map(BusEvent::event_id).collect::<Vec<_>>());
    }

    #[test]
    fn market_data_publishes_a_tick_once() {
        let producer = Producer { agent: "market_data".into(), version: "test".into(), instance: "market_data-0".into() };
        let ticks: Vec<Tick> = maxx_agents::market_data::SyntheticMarket::new(maxx_agents::market_data::SyntheticConfig::default(), producer).take(5).collect();
        let mut agent = MarketData::new(&maxx_agents::market_data::MarketDataConfig::default());
        let mut out = Vec::new();
        assert!(ticks.iter().all(|t| SourceAgent::admit(&mut agent, t, &mut out)));
        assert_eq!(out.len(), 5);
        assert!(!SourceAgent::admit(&mut agent, &ticks[2], &mut out), "seen");
        assert_eq!(out.len(), 5);
    }
}
