//! The Kafka shell of a *source* agent (MarketData): ticks come from a channel — exchange
//! feeds, a file, the synthetic market — not from a topic, and are produced to `ticks` in
//! transactions, each carrying the agent's duplicate-detection state as a snapshot to
//! `state.market_data`.
//!
//! Per batch: begin → for each tick the agent has not published before: produce it → the
//! snapshot of what has been published → commit. A batch ends when no more tick is waiting
//! (group commit), at `batch_size` ticks, or when it is `commit_interval` old — as in the
//! worker. On start the producer fences any previous incarnation (aborting what it left
//! open) and the last committed snapshot is restored, so ticks a restarted feed delivers
//! again (venues resend recent data on subscribe) are dropped: a restart neither loses nor
//! duplicates what was committed. An aborted batch is restored from the last committed state
//! and its ticks are sent again in the next transaction.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maxx_agents::market_data::{Dedupe, MarketData};
use maxx_agents::Agent;
use maxx_events::{BusCodec, BusEvent, Registration, SchemaRegistry, Tick};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer as _};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use rdkafka::ClientConfig;

use super::config::KafkaConfig;
use super::error::{is_fencing, is_fencing_code, RuntimeError};
use super::snapshot::{self, Snapshot};
use super::stats::Stats;

/// Longest a wait for the next tick blocks, so shutdown and commit deadlines are noticed.
const MAX_WAIT: Duration = Duration::from_millis(100);

/// Publishes ticks from a channel to `ticks`, exactly once per venue message.
pub struct KafkaSource {
    config: KafkaConfig,
    registry: Arc<dyn SchemaRegistry>,
    registration: Registration,
    stats: Arc<Stats>,
    shutdown: Arc<AtomicBool>,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource").field("config", &self.config).finish()
    }
}

/// What one run published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// Ticks produced and committed.
    pub published: u64,
    /// Ticks dropped as already published.
    pub duplicates: u64,
    /// Transactions committed.
    pub commits: u64,
    /// Transactions aborted (their ticks were sent again).
    pub aborts: u64,
}

/// A failure inside a transaction.
enum Failure {
    Abortable(String),
    Fatal(RuntimeError),
}

impl KafkaSource {
    /// A source shell with schema ids from `registry`, looked up only.
    pub fn new(config: KafkaConfig, registry: Arc<dyn SchemaRegistry>) -> Self {
        Self { config, registry, registration: Registration::LookupOnly, stats: Arc::default(), shutdown: Arc::default() }
    }

    /// Registers missing schemas instead of refusing to start (development and tests).
    pub fn registering_schemas(mut self) -> Self {
        self.registration = Registration::Register;
        self
    }

    /// Counters (commits, aborts, outputs, committed state) for health and metrics.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    /// Set it to stop: the open transaction is committed, and [`KafkaSource::run`] returns.
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
    /// When fenced by a newer instance, when a topic is missing, or on a failure that a
    /// transaction retry cannot get past.
    pub fn run(&self, mut agent: MarketData, ticks: &Receiver<Tick>) -> Result<SourceReport, RuntimeError> {
        let name = <MarketData as Agent>::NAME;
        let config = &self.config;
        let codec = BusCodec::new(Arc::clone(&self.registry), &["ticks"], self.registration)?;
        let producer: BaseProducer<DefaultProducerContext> = self
            .client()
            .set("transactional.id", config.transactional_id(name))
            .set("transaction.timeout.ms", config.transaction_timeout.as_millis().to_string())
            .set("message.timeout.ms", (config.transaction_timeout.as_millis() * 2 / 3).to_string())
            .set("enable.idempotence", "true")
            .set("retry.backoff.ms", "5")
            .set("retry.backoff.max.ms", "20")
            .create()
            .map_err(|e| RuntimeError::kafka("create the transactional producer", e))?;
        // Fences the previous incarnation and aborts what it left open, so the snapshot read
        // next is the last committed one.
        retrying(&producer, "init transactions", config.transaction_timeout * 2, || producer.init_transactions(config.transaction_timeout)).map_err(fatal)?;
        let state_topic = config.state_topic(name);
        if let Some(snapshot) = snapshot::read_latest(&self.client(), &state_topic, name, config.transaction_timeout)? {
            let state: Dedupe = serde_json::from_value(snapshot.state).map_err(|e| RuntimeError::Fatal(format!("the last snapshot in {state_topic} is not MarketData state: {e}")))?;
            agent.restore(state);
            tracing::info!(agent = name, "restored from snapshot");
        }
        let mut run = Run {
            config,
            stats: &self.stats,
            codec,
            producer,
            ticks_topic: config.topic("ticks"),
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
        let mut closed = false;
        loop {
            if self.shutdown.load(Ordering::SeqCst) || (closed && run.redo.is_empty()) {
                run.finish()?;
                return Ok(run.report);
            }
            let open = run.started.is_some();
            let next = match run.redo.pop_front() {
                Some(tick) => Ok(tick),
                None if closed => Err(RecvTimeoutError::Disconnected),
                None if open => ticks.try_recv().map_err(|e| match e {
                    std::sync::mpsc::TryRecvError::Empty => RecvTimeoutError::Timeout,
                    std::sync::mpsc::TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                }),
                None => ticks.recv_timeout(MAX_WAIT),
            };
            let drained = match next {
                Ok(tick) => {
                    if let Err(failure) = run.publish(tick) {
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
            }
        }
    }
}

/// One incarnation's producer and the transaction being built.
struct Run<'r> {
    config: &'r KafkaConfig,
    stats: &'r Stats,
    codec: BusCodec,
    producer: BaseProducer<DefaultProducerContext>,
    ticks_topic: String,
    state_topic: String,
    instance: String,
    agent: MarketData,
    /// The agent's state as of the last commit: restored on abort.
    committed: Dedupe,
    /// Ticks in the open transaction (sent again if it aborts).
    batch: Vec<Tick>,
    /// When the open transaction began; `None`: none is open.
    started: Option<Instant>,
    /// Ticks of an aborted transaction, to publish before new ones.
    redo: VecDeque<Tick>,
    report: SourceReport,
}

impl Run<'_> {
    fn publish(&mut self, tick: Tick) -> Result<(), Failure> {
        if !self.agent.admit(&tick) {
            self.report.duplicates += 1;
            return Ok(());
        }
        if self.started.is_none() {
            self.producer.begin_transaction().map_err(|e| classify(&self.producer, "begin the transaction", e))?;
            self.started = Some(Instant::now());
        }
        let event = BusEvent::from(tick.clone());
        let bytes = self.codec.encode(&event).map_err(|e| Failure::Fatal(RuntimeError::Fatal(e.to_string())))?;
        send(&self.producer, BaseRecord::to(self.ticks_topic.as_str()).key(tick.symbol.as_str()).payload(bytes.as_slice()))?;
        self.batch.push(tick);
        Ok(())
    }

    /// Snapshot, commit.
    fn commit(&mut self) -> Result<(), Failure> {
        let began = Instant::now();
        let state = serde_json::to_value(self.agent.state()).map_err(|e| Failure::Fatal(RuntimeError::Fatal(format!("state: {e}"))))?;
        let name = <MarketData as Agent>::NAME;
        let snapshot = Snapshot::new(name, <MarketData as Agent>::VERSION, &self.instance, &BTreeMap::new(), state);
        let value = serde_json::to_vec(&snapshot).map_err(|e| Failure::Fatal(RuntimeError::Fatal(format!("encode the snapshot: {e}"))))?;
        send(&self.producer, BaseRecord::to(self.state_topic.as_str()).key(name).payload(value.as_slice()))?;
        let timeout = self.config.transaction_timeout;
        drain(&self.producer, timeout)?;
        let producer = &self.producer;
        retrying(producer, "commit", timeout, || producer.commit_transaction(Timeout::Never))?;
        let published = self.batch.len() as u64;
        self.stats.committed(began.elapsed());
        self.stats.outputs(&BTreeMap::from([("ticks".to_owned(), published)]));
        self.stats.set_committed_state(&serde_json::to_vec(self.agent.state()).unwrap_or_default());
        self.committed = self.agent.state().clone();
        self.report.published += published;
        self.report.commits += 1;
        self.batch.clear();
        self.started = None;
        tracing::debug!(published, took = ?began.elapsed(), "committed");
        Ok(())
    }

    /// On shutdown or end of input: commit what is open, and what an abort left to redo
    /// (a few attempts).
    fn finish(&mut self) -> Result<(), RuntimeError> {
        for _ in 0..3 {
            let mut failed = None;
            while let Some(tick) = self.redo.pop_front() {
                if let Err(failure) = self.publish(tick) {
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
        Err(RuntimeError::Fatal(format!("{} ticks could not be committed at shutdown", self.redo.len())))
    }

    /// Aborts the open transaction, restores the committed state and queues the batch's
    /// ticks to be sent again; or gives up when the failure is fatal.
    fn recover(&mut self, failure: Failure) -> Result<(), RuntimeError> {
        let reason = match failure {
            Failure::Fatal(error) => return Err(error),
            Failure::Abortable(reason) => reason,
        };
        tracing::warn!(%reason, "aborting the transaction");
        if self.started.is_some() {
            let producer = &self.producer;
            retrying(producer, "abort", self.config.transaction_timeout, || producer.abort_transaction(Timeout::Never)).map_err(fatal)?;
        }
        self.stats.aborted();
        self.report.aborts += 1;
        self.agent.restore(self.committed.clone());
        for tick in self.batch.drain(..).rev() {
            self.redo.push_front(tick);
        }
        self.started = None;
        Ok(())
    }
}

fn fatal(failure: Failure) -> RuntimeError {
    match failure {
        Failure::Fatal(error) => error,
        Failure::Abortable(reason) => RuntimeError::Fatal(reason),
    }
}

impl From<RuntimeError> for Failure {
    fn from(error: RuntimeError) -> Self {
        Failure::Fatal(error)
    }
}

/// librdkafka's classification of a transactional error: fenced and fatal stop the
/// incarnation, abortable ones abort and retry.
fn classify(producer: &BaseProducer<DefaultProducerContext>, context: &'static str, error: KafkaError) -> Failure {
    if let Some((code, reason)) = producer.client().fatal_error() {
        return Failure::Fatal(if is_fencing_code(code) {
            RuntimeError::Fenced(format!("{context}: {reason}"))
        } else {
            RuntimeError::Fatal(format!("{context}: producer failed: {code}: {reason}"))
        });
    }
    if is_fencing(&error) {
        return Failure::Fatal(RuntimeError::kafka(context, error));
    }
    match &error {
        KafkaError::Transaction(e) if e.is_fatal() => Failure::Fatal(RuntimeError::kafka(context, error)),
        KafkaError::Transaction(e) if e.txn_requires_abort() => Failure::Abortable(format!("{context}: {error}")),
        KafkaError::Transaction(_) => Failure::Fatal(RuntimeError::kafka(context, error)),
        _ => Failure::Abortable(format!("{context}: {error}")),
    }
}

/// Repeats a transactional call while librdkafka says it is retriable.
fn retrying<T>(producer: &BaseProducer<DefaultProducerContext>, context: &'static str, deadline: Duration, mut call: impl FnMut() -> Result<T, KafkaError>) -> Result<T, Failure> {
    let give_up = Instant::now() + deadline;
    loop {
        match call() {
            Ok(value) => return Ok(value),
            Err(KafkaError::Transaction(e)) if e.is_retriable() && Instant::now() < give_up => std::thread::sleep(Duration::from_millis(100)),
            Err(error) => return Err(classify(producer, context, error)),
        }
    }
}

/// Waits until every produced record is delivered (see the worker's `drain`).
fn drain(producer: &BaseProducer<DefaultProducerContext>, deadline: Duration) -> Result<(), Failure> {
    let give_up = Instant::now() + deadline;
    while producer.in_flight_count() > 0 {
        if Instant::now() > give_up {
            return Err(Failure::Abortable(format!("{} records not delivered within {deadline:?}", producer.in_flight_count())));
        }
        producer.poll(Duration::from_millis(1));
    }
    Ok(())
}

/// Enqueues a record, serving delivery reports while the local queue is full.
fn send(producer: &BaseProducer<DefaultProducerContext>, mut record: BaseRecord<'_, str, [u8]>) -> Result<(), Failure> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                record = returned;
                producer.poll(Duration::from_millis(1));
            }
            Err((error, _)) => return Err(classify(producer, "produce", error)),
        }
    }
}
