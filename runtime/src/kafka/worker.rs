//! The exactly-once loop: the one place where Kafka transaction semantics live.
//!
//! Per batch: begin → for each input: decode, let the agent handle it, produce its outputs
//! (or its dead letter) → produce the state snapshot → send the inputs' next offsets with the
//! consumer group's metadata → commit. A batch ends when no more input is waiting (group
//! commit), at `batch_size` inputs, or when it is `commit_interval` old.
//!
//! Failure handling (librdkafka's classification):
//! - retriable: call again (`send_offsets` with the same arguments);
//! - abortable: abort, restore the agent's state to the last committed snapshot, seek the
//!   consumer back to the committed offsets, go on;
//! - fenced or fatal: drop the producer — this instance never produces again — and return.
//!
//! Rebalances need no commit in the revoke callback: the offsets carry the group generation
//! (KIP-447), so a transaction of a member that lost its partitions is fenced, and a new owner
//! reading with `read_committed` waits for this member's pending offsets before it starts.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maxx_agents::{DynAgent, Emitter};
use maxx_events::{BusCodec, BusDecodeError, BusEvent, DeadLetterKind, Lifecycle, Producer, Registration, SchemaRegistry};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use opentelemetry::trace::Span as _; // tracing: `span_context()` of a handle span
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer as _};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use super::config::{KafkaConfig, PendingConfig};
use super::dead_letter::dead_letter;
use super::error::RuntimeError;
use super::lifecycle::{LifecyclePublisher, RestartHistory};
use super::snapshot::{self, Snapshot};
use super::stats::Stats;
use super::trace::{self, RuntimeTracer};
use super::txn::{classify, drain, retrying, send, TxnFailure};

/// Longest the loop blocks in `poll`, so shutdown and commit deadlines are noticed.
const MAX_POLL_WAIT: Duration = Duration::from_millis(100);

/// Runs one agent on a broker, restarting it after recoverable failures.
pub struct KafkaRuntime {
    config: KafkaConfig,
    registry: Arc<dyn SchemaRegistry>,
    registration: Registration,
    stats: Arc<Stats>,
    shutdown: Arc<AtomicBool>,
    pending_config: Arc<PendingConfig>,
}

impl std::fmt::Debug for KafkaRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaRuntime").field("config", &self.config).field("registration", &self.registration).finish()
    }
}

impl KafkaRuntime {
    /// A runtime with schema ids from `registry`, looked up only (production default).
    pub fn new(config: KafkaConfig, registry: Arc<dyn SchemaRegistry>) -> Self {
        Self { config, registry, registration: Registration::LookupOnly, stats: Arc::default(), shutdown: Arc::default(), pending_config: Arc::default() }
    }

    /// Registers missing schemas instead of refusing to start (development and tests).
    pub fn registering_schemas(mut self) -> Self {
        self.registration = Registration::Register;
        self
    }

    /// The counters of this runtime, for health and metrics.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    /// Put a new agent configuration in it to have the running agent reconfigured between two
    /// transactions (hot reload); `Stats::config_generation` tells when it was applied.
    pub fn pending_config(&self) -> Arc<PendingConfig> {
        Arc::clone(&self.pending_config)
    }

    /// Set it to stop: the open transaction is committed (or aborted), the group left.
    pub fn shutdown_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shutdown)
    }

    /// Makes SIGTERM and SIGINT request shutdown: the open transaction is committed (or
    /// aborted), the group left, and [`KafkaRuntime::run`] returns.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&self.shutdown))?;
        }
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    fn client(&self) -> ClientConfig {
        let mut client = ClientConfig::new();
        client.set("bootstrap.servers", &self.config.bootstrap);
        for (key, value) in &self.config.overrides {
            client.set(key, value);
        }
        client
    }

    /// Runs the agent made by `make_agent` until shutdown is requested.
    ///
    /// After a recoverable failure the instance recycles: a new agent from `make_agent`,
    /// restored from the last snapshot, with a new consumer and producer. Three recycles
    /// within 15 minutes are a crash loop, and the instance gives up.
    ///
    /// # Errors
    /// When fenced, on an unrecoverable error, or in a crash loop.
    pub fn run(&self, mut make_agent: impl FnMut() -> Box<dyn DynAgent>) -> Result<(), RuntimeError> {
        let agent = make_agent();
        let identity = Producer {
            agent: agent.name().to_owned(),
            version: agent.version().to_owned(),
            instance: self.config.instance_name(agent.name()),
        };
        let mut lifecycle = LifecyclePublisher::new(
            &self.client(),
            Arc::clone(&self.registry),
            self.registration,
            self.config.topic("agent_state"),
            identity.clone(),
            self.stats(),
        )?;
        lifecycle.transition(Lifecycle::Init, "starting");
        let mut agent = Some(agent);
        let mut restarts = RestartHistory::default();
        loop {
            let current = agent.take().unwrap_or_else(&mut make_agent);
            let result = Worker::start(self, current, identity.clone(), &mut lifecycle).and_then(|mut worker| worker.run());
            match result {
                Ok(()) => {
                    lifecycle.transition(Lifecycle::Shutdown, "stopped on request");
                    return Ok(());
                }
                Err(error) if !error.is_recoverable() || self.shutdown.load(Ordering::SeqCst) => {
                    lifecycle.transition(Lifecycle::Shutdown, &error.to_string());
                    return Err(error);
                }
                Err(error) => {
                    if restarts.record(Instant::now()) {
                        lifecycle.transition(Lifecycle::CrashLoop, &format!("{} restarts within 15 minutes; last: {error}", restarts.recent()));
                        lifecycle.transition(Lifecycle::Shutdown, "crash loop");
                        return Err(error);
                    }
                    if lifecycle.current() == Some(Lifecycle::Init) {
                        // Failed before it ever ran: nothing to recycle, still a restart.
                        lifecycle.transition(Lifecycle::Running, "started");
                    }
                    lifecycle.transition(Lifecycle::Recycling, &error.to_string());
                    self.pause(Duration::from_secs(1 << restarts.recent().min(5)));
                }
            }
        }
    }

    /// Sleeps up to `duration`, waking early on shutdown.
    fn pause(&self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while Instant::now() < deadline && !self.shutdown.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Counts rebalances; see the module doc for why revocation needs no commit here.
struct RuntimeContext {
    stats: Arc<Stats>,
}

impl ClientContext for RuntimeContext {
    fn stats(&self, statistics: rdkafka::statistics::Statistics) {
        self.stats.consumer_statistics(&statistics);
    }
}

impl ConsumerContext for RuntimeContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.stats.rebalanced();
        match rebalance {
            Rebalance::Assign(partitions) => tracing::info!(partitions = partitions.count(), "partitions assigned"),
            Rebalance::Revoke(partitions) => tracing::info!(partitions = partitions.count(), "partitions revoked"),
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
        }
    }
}

/// The transaction being built.
#[derive(Default)]
struct Batch {
    open: bool,
    started: Option<Instant>,
    inputs: usize,
    /// Next offset per broker topic and partition.
    offsets: BTreeMap<(String, i32), i64>,
    /// Outputs per bus topic, counted into the stats once committed.
    outputs: BTreeMap<String, u64>,
    dead_letters: u64,
    /// Tracing: the transaction's span, ended at commit or abort (see trace.rs).
    trace: Option<opentelemetry::global::BoxedSpan>,
}

/// One incarnation of an agent instance: a consumer, a transactional producer, the agent.
struct Worker<'r> {
    runtime: &'r KafkaRuntime,
    consumer: BaseConsumer<RuntimeContext>,
    processor: Processor<'r>,
}

/// Everything but the consumer, so that a message borrowed from the consumer can be handled
/// while the processor is borrowed mutably.
struct Processor<'r> {
    config: &'r KafkaConfig,
    stats: Arc<Stats>,
    agent: Box<dyn DynAgent>,
    identity: Producer,
    codec: BusCodec,
    producer: BaseProducer<DefaultProducerContext>,
    /// Broker topic of every bus topic this instance writes.
    topics: HashMap<&'static str, String>,
    state_topic: String,
    /// The agent's state as of the last commit: restored on abort.
    committed_state: Vec<u8>,
    /// Input offsets as of the last commit, by bus topic (recorded in snapshots).
    committed_offsets: BTreeMap<(String, i32), i64>,
    batch: Batch,
    scratch: Vec<BusEvent>,
    /// Tracing: makes the transaction, handle and commit spans (see trace.rs).
    tracer: RuntimeTracer,
}

impl<'r> Worker<'r> {
    /// Restores the agent from its last snapshot, fences any predecessor, joins the group.
    fn start(runtime: &'r KafkaRuntime, mut agent: Box<dyn DynAgent>, identity: Producer, lifecycle: &mut LifecyclePublisher) -> Result<Self, RuntimeError> {
        let config = &runtime.config;
        let name = agent.name();
        let mut topics: Vec<&str> = agent.inputs().iter().chain(agent.outputs()).copied().collect();
        topics.push("dead_letters");
        let codec = BusCodec::new(Arc::clone(&runtime.registry), &topics, runtime.registration)?;

        let producer: BaseProducer<DefaultProducerContext> = runtime
            .client()
            .set("transactional.id", config.transactional_id(name))
            .set("transaction.timeout.ms", config.transaction_timeout.as_millis().to_string())
            .set("message.timeout.ms", (config.transaction_timeout.as_millis() * 2 / 3).to_string())
            .set("enable.idempotence", "true")
            // A transaction begun right after a commit meets CONCURRENT_TRANSACTIONS until
            // the coordinator has written the markers; with the default 100 ms backoff every
            // back-to-back commit cost ~90 ms (BENCHMARKS.md).
            .set("retry.backoff.ms", "5")
            .set("retry.backoff.max.ms", "20")
            .create()
            .map_err(|e| RuntimeError::kafka("create the transactional producer", e))?;
        // Fences the previous incarnation and aborts whatever transaction it left open, so
        // the snapshot read next is the last committed one.
        retrying(&producer, "init transactions", config.transaction_timeout * 2, || producer.init_transactions(config.transaction_timeout))
            .map_err(|failure| match failure {
                TxnFailure::Fatal(error) => error,
                TxnFailure::Abortable(reason) => RuntimeError::Fatal(reason),
            })?;

        let state_topic = config.state_topic(name);
        let restored = snapshot::read_latest(&runtime.client(), &state_topic, name, config.transaction_timeout)?;
        let committed_offsets = match restored {
            Some(snapshot) => {
                let bytes = serde_json::to_vec(&snapshot.state).map_err(|e| RuntimeError::Fatal(format!("snapshot state: {e}")))?;
                agent.restore_snapshot(&bytes)?;
                tracing::info!(agent = name, offsets = ?snapshot.offsets, "restored from snapshot");
                snapshot.offset_map()
            }
            None => BTreeMap::new(),
        };
        let committed_state = agent.snapshot()?;
        runtime.stats.set_committed_state(&committed_state);

        let mut consumer_config = runtime.client();
        consumer_config
            .set("group.id", config.group(name))
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("session.timeout.ms", config.session_timeout.as_millis().to_string())
            .set("statistics.interval.ms", config.statistics_interval.as_millis().to_string());
        if config.static_membership {
            consumer_config.set("group.instance.id", config.transactional_id(name));
        }
        let consumer: BaseConsumer<RuntimeContext> = consumer_config
            .create_with_context(RuntimeContext { stats: runtime.stats() })
            .map_err(|e| RuntimeError::kafka("create the consumer", e))?;
        let inputs: Vec<String> = agent.inputs().iter().map(|t| config.topic(t)).collect();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        consumer.subscribe(&inputs).map_err(|e| RuntimeError::kafka("subscribe to the inputs", e))?;

        let topics = agent.outputs().iter().chain(["dead_letters"].iter()).map(|t| (*t, config.topic(t))).collect();
        let tracer = RuntimeTracer::new(name, &identity.instance);
        lifecycle.transition(Lifecycle::Running, "consuming");
        Ok(Self {
            runtime,
            consumer,
            processor: Processor {
                config,
                stats: runtime.stats(),
                agent,
                identity,
                codec,
                producer,
                topics,
                state_topic,
                committed_state,
                committed_offsets,
                batch: Batch::default(),
                scratch: Vec::new(),
                tracer,
            },
        })
    }

    /// Consumes, handles and commits until shutdown (Ok) or a failure this incarnation cannot
    /// get past (Err).
    fn run(&mut self) -> Result<(), RuntimeError> {
        let result = self.consume_until_shutdown();
        // Leaving the group promptly lets another member take the partitions at once.
        self.consumer.unsubscribe();
        result
    }

    fn consume_until_shutdown(&mut self) -> Result<(), RuntimeError> {
        let config = self.processor.config;
        loop {
            if self.runtime.shutdown.load(Ordering::SeqCst) {
                return self.finish();
            }
            if !self.processor.batch.open {
                // Between transactions: the only place a new configuration takes effect.
                if let Some((generation, agent_config)) = self.runtime.pending_config.take() {
                    self.processor.agent.reconfigure(&agent_config);
                    self.processor.stats.set_config_generation(generation);
                    tracing::info!(generation, "agent reconfigured");
                }
            }
            // Group commit: while a transaction is open, only look for input already here;
            // once none is, commit. Under a backlog batches grow up to `batch_size`; at a
            // light load each commit carries what arrived during the previous one.
            let wait = if self.processor.batch.open { Duration::ZERO } else { MAX_POLL_WAIT };
            let polled = self.consumer.poll(wait);
            let drained = polled.is_none();
            let outcome = match polled {
                None => Ok(()),
                Some(Ok(message)) => self.processor.handle(&message),
                Some(Err(error)) => consumer_error(&self.consumer, error),
            };
            if let Err(failure) = outcome {
                self.recover(failure)?;
                continue;
            }
            let batch = &self.processor.batch;
            let full = batch.inputs >= config.batch_size;
            let old = batch.started.is_some_and(|started| started.elapsed() >= config.commit_interval);
            if batch.open && (drained || full || old) {
                if let Err(failure) = self.processor.commit(&self.consumer) {
                    self.recover(failure)?;
                }
            }
        }
    }

    /// On shutdown: commit what was handled (abort it if the commit fails).
    fn finish(&mut self) -> Result<(), RuntimeError> {
        if self.processor.batch.open {
            if let Err(failure) = self.processor.commit(&self.consumer) {
                self.recover(failure)?;
            }
        }
        Ok(())
    }

    /// Aborts the open transaction, restores the agent to its committed state and rewinds
    /// the consumer to the committed offsets; or gives up when the failure is fatal.
    fn recover(&mut self, failure: TxnFailure) -> Result<(), RuntimeError> {
        let reason = match failure {
            TxnFailure::Fatal(error) => return Err(error),
            TxnFailure::Abortable(reason) => reason,
        };
        tracing::warn!(%reason, "aborting the transaction");
        let processor = &mut self.processor;
        if processor.batch.open {
            let producer = &processor.producer;
            retrying(producer, "abort", processor.config.transaction_timeout, || producer.abort_transaction(Timeout::Never)).map_err(|failure| match failure {
                TxnFailure::Fatal(error) => error,
                TxnFailure::Abortable(reason) => RuntimeError::Fatal(format!("abort failed: {reason}")),
            })?;
        }
        processor.stats.aborted();
        if let Some(span) = processor.batch.trace.take() {
            trace::end_failed(span, &reason); // tracing: the transaction span records the abort
        }
        processor.agent.restore_snapshot(&processor.committed_state)?;
        processor.batch = Batch::default();
        rewind(&self.consumer)
    }
}

/// A consumer error: most are informational (librdkafka retries by itself); a fatal one
/// ends the incarnation — as fenced when a newer instance took over the static membership.
fn consumer_error(consumer: &BaseConsumer<RuntimeContext>, error: KafkaError) -> Result<(), TxnFailure> {
    let fatal = matches!(error, KafkaError::MessageConsumptionFatal(_)) || error.rdkafka_error_code() == Some(RDKafkaErrorCode::Fatal);
    if !fatal {
        tracing::warn!(%error, "consumer");
        return Ok(());
    }
    // librdkafka reports the original cause of a fatal error separately.
    let (code, reason) = consumer
        .client()
        .fatal_error()
        .unwrap_or_else(|| (error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fatal), error.to_string()));
    Err(TxnFailure::Fatal(match code {
        RDKafkaErrorCode::FencedInstanceId => RuntimeError::Fenced(format!("consumer: {reason}")),
        code => RuntimeError::Fatal(format!("consumer failed: {code}: {reason}")),
    }))
}

/// Seeks every assigned partition back to its committed offset (or the beginning when the
/// group never committed one).
fn rewind(consumer: &BaseConsumer<RuntimeContext>) -> Result<(), RuntimeError> {
    let assignment = consumer.assignment().map_err(|e| RuntimeError::kafka("read the assignment", e))?;
    if assignment.count() == 0 {
        return Ok(());
    }
    let committed = consumer
        .committed_offsets(assignment, Duration::from_secs(10))
        .map_err(|e| RuntimeError::kafka("read the committed offsets", e))?;
    let mut targets = TopicPartitionList::new();
    for element in committed.elements() {
        let offset = match element.offset() {
            Offset::Offset(offset) => Offset::Offset(offset),
            _ => Offset::Beginning,
        };
        targets
            .add_partition_offset(element.topic(), element.partition(), offset)
            .map_err(|e| RuntimeError::kafka("rewind", e))?;
    }
    let result = consumer.seek_partitions(targets, Duration::from_secs(10)).map_err(|e| RuntimeError::kafka("rewind", e))?;
    for element in result.elements() {
        if let Err(e) = element.error() {
            return Err(RuntimeError::kafka("rewind a partition", e));
        }
    }
    Ok(())
}

impl Processor<'_> {
    /// Handles one input inside the open transaction (opening one if needed).
    fn handle(&mut self, message: &BorrowedMessage<'_>) -> Result<(), TxnFailure> {
        if !self.batch.open {
            self.producer.begin_transaction().map_err(|e| classify(&self.producer, "begin the transaction", e))?;
            self.batch.open = true;
            self.batch.started = Some(Instant::now());
            self.batch.trace = Some(self.tracer.transaction());
        }
        let topic = self.config.logical(message.topic()).unwrap_or(message.topic()).to_owned();
        self.stats.input(&topic);
        // Tracing: a `handle` span per input, child of the input's traceparent; what the input
        // causes carries this span's context as its traceparent.
        let parent = trace::remote_parent(message.headers());
        let mut span = self.tracer.handle(&parent, self.batch.trace.as_ref(), &topic, message.partition(), message.offset());
        let decoded = match message.payload() {
            None => Err((DeadLetterKind::Undecodable, "the message has no value (a tombstone on an event topic)".to_owned())),
            Some(bytes) => match self.codec.decode(&topic, bytes) {
                Ok(event) => Ok(event),
                Err(BusDecodeError::Message(error)) => Err((error.dead_letter_kind(), error.to_string())),
                // Not the message's fault: abort, and read it again once the registry answers.
                Err(BusDecodeError::Registry(error)) => return Err(TxnFailure::Abortable(error.to_string())),
                Err(BusDecodeError::UnknownTopic(t)) => return Err(TxnFailure::Fatal(RuntimeError::Fatal(format!("subscribed to {t}, which carries no event type")))),
            },
        };
        match decoded {
            Ok(event) => {
                trace::annotate(&mut span, &event);
                self.scratch.clear();
                let mut out = Emitter::new(self.agent.name(), &self.identity, event.event_id(), event.event_time(), &mut self.scratch);
                if let Err(invalid) = self.agent.handle(&event, &mut out) {
                    self.file_dead_letter(message, &topic, DeadLetterKind::Invalid, invalid.reason, span)?;
                } else {
                    let outputs = std::mem::take(&mut self.scratch);
                    for output in &outputs {
                        self.produce(output, span.span_context())?;
                    }
                    trace::end_counted(span, trace::ATTR_OUTPUTS, outputs.len() as u64);
                    self.scratch = outputs;
                }
            }
            Err((kind, reason)) => self.file_dead_letter(message, &topic, kind, reason, span)?,
        }
        self.batch.offsets.insert((message.topic().to_owned(), message.partition()), message.offset() + 1);
        self.batch.inputs += 1;
        Ok(())
    }

    fn file_dead_letter(&mut self, message: &BorrowedMessage<'_>, topic: &str, kind: DeadLetterKind, reason: String, span: opentelemetry::global::BoxedSpan) -> Result<(), TxnFailure> {
        let trace_id = span.span_context().is_valid().then(|| span.span_context().trace_id().to_string()); // tracing: for log correlation
        tracing::warn!(topic, partition = message.partition(), offset = message.offset(), ?kind, %reason, trace_id, "dead letter");
        let letter = BusEvent::from(dead_letter(message, topic, &self.identity, kind, reason.clone()));
        self.produce(&letter, span.span_context())?;
        trace::end_failed(span, &reason);
        self.batch.dead_letters += 1;
        Ok(())
    }

    /// Enqueues one output in the open transaction, with the trace context of the span that
    /// caused it (the input's `handle` span).
    fn produce(&mut self, event: &BusEvent, trace: &opentelemetry::trace::SpanContext) -> Result<(), TxnFailure> {
        let bytes = self.codec.encode(event).map_err(|e| TxnFailure::Fatal(RuntimeError::Fatal(e.to_string())))?;
        let Some(topic) = self.topics.get(event.topic()) else {
            return Err(TxnFailure::Fatal(RuntimeError::Fatal(format!("{} emitted to {}, which is not among its outputs", self.agent.name(), event.topic()))));
        };
        let mut record = BaseRecord::to(topic).key(event.key()).payload(bytes.as_slice());
        if let Some(headers) = trace::output_headers(trace) {
            record = record.headers(headers);
        }
        send(&self.producer, record)?;
        *self.batch.outputs.entry(event.topic().to_owned()).or_default() += 1;
        Ok(())
    }

    /// Snapshot, offsets, commit.
    fn commit(&mut self, consumer: &BaseConsumer<RuntimeContext>) -> Result<(), TxnFailure> {
        let began = Instant::now();
        let commit_span = self.tracer.commit(self.batch.trace.as_ref()); // tracing; ended below or dropped on failure
        let state = self.agent.snapshot().map_err(RuntimeError::from)?;
        let mut offsets = self.committed_offsets.clone();
        let mut partitions = TopicPartitionList::new();
        for ((topic, partition), next) in &self.batch.offsets {
            let logical = self.config.logical(topic).unwrap_or(topic);
            offsets.insert((logical.to_owned(), *partition), *next);
            partitions
                .add_partition_offset(topic, *partition, Offset::Offset(*next))
                .map_err(|e| classify(&self.producer, "build the offsets", e))?;
        }
        if state != self.committed_state {
            let state_json: serde_json::Value = serde_json::from_slice(&state).map_err(|e| RuntimeError::Fatal(format!("snapshot is not JSON: {e}")))?;
            let snapshot = Snapshot::new(self.agent.name(), self.agent.version(), &self.identity.instance, &offsets, state_json);
            let value = serde_json::to_vec(&snapshot).map_err(|e| RuntimeError::Fatal(format!("encode the snapshot: {e}")))?;
            let record = BaseRecord::to(self.state_topic.as_str()).key(self.agent.name()).payload(value.as_slice());
            send(&self.producer, record)?;
        }
        let group = consumer.group_metadata().ok_or_else(|| TxnFailure::Abortable("no consumer group metadata yet".into()))?;
        let timeout = self.config.transaction_timeout;
        let producer = &self.producer;
        let before_offsets = Instant::now();
        retrying(producer, "send offsets to the transaction", timeout, || producer.send_offsets_to_transaction(&partitions, &group, timeout))?;
        let before_commit = Instant::now();
        drain(producer, timeout)?;
        retrying(producer, "commit", timeout, || producer.commit_transaction(Timeout::Never))?;
        tracing::trace!(prepare = ?before_offsets.duration_since(began), offsets = ?before_commit.duration_since(before_offsets), commit = ?before_commit.elapsed(), "commit phases");

        tracing::debug!(inputs = self.batch.inputs, outputs = ?self.batch.outputs, took = ?began.elapsed(), "committed");
        self.stats.committed(began.elapsed());
        self.stats.outputs(&self.batch.outputs);
        if state != self.committed_state {
            self.stats.set_committed_state(&state);
        }
        for _ in 0..self.batch.dead_letters {
            self.stats.dead_letter();
        }
        self.committed_state = state;
        self.committed_offsets = offsets;
        trace::end_counted(commit_span, trace::ATTR_OUTPUTS, self.batch.outputs.values().sum::<u64>() + self.batch.dead_letters);
        if let Some(span) = self.batch.trace.take() {
            trace::end_counted(span, trace::ATTR_INPUTS, self.batch.inputs as u64);
        }
        self.batch = Batch::default();
        Ok(())
    }
}

