//! [`KafkaStore`]: the registry's state kept in a compacted, single-partition Kafka topic
//! (`_schemas` by default) and folded into memory ([`crate::state`]).
//!
//! **Reading.** One `read_committed` consumer, assigned to the topic's only partition from
//! the start. [`KafkaStore::sync`] reads up to the high watermark taken when it is called,
//! so an answer given after a sync reflects every change committed before it — by this
//! registry or by any other one on the same topic. (librdkafka moves the consumer position
//! past transaction markers, so "position ≥ high watermark" is reachable and exact.)
//!
//! **Writing: one writer at a time, decided by Kafka.** Every registry on a topic uses the
//! same transactional id, `maxx-registry-<topic>`. A change runs as: make sure this
//! registry's producer holds the transactional id (`init_transactions`, which fences any
//! other holder and aborts its open transaction) → sync → plan the change against the
//! state → append the planned records in one transaction → commit → sync again. If another
//! registry took the id in between, our commit fails (fenced) and the change is planned
//! again from the newer state. Hence no two registries hand out the same id or version:
//! a committed plan was made on a state no other commit could have changed. A registry
//! that only serves reads never takes the id.
//!
//! All calls block (rdkafka's transaction API is synchronous); the API runs them on
//! tokio's blocking threads.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::Error;
use crate::state::{LogRecord, Planned, State};

/// Where and how the store keeps its topic.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Kafka bootstrap servers.
    pub bootstrap: String,
    /// The storage topic (`_schemas` unless told otherwise).
    pub topic: String,
    /// Replication factor when the topic is created; `-1` takes the broker's default.
    pub replication_factor: i32,
    /// How long opening may take (creating the topic and reading it whole).
    pub startup_timeout: Duration,
    /// How long a change may take, retries included.
    pub write_timeout: Duration,
    /// How long a read waits to catch up with the topic before answering from what it has.
    pub read_sync_timeout: Duration,
}

impl StoreConfig {
    /// Defaults for `bootstrap` and `topic`.
    pub fn new(bootstrap: impl Into<String>, topic: impl Into<String>) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            topic: topic.into(),
            replication_factor: -1,
            startup_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            read_sync_timeout: Duration::from_secs(2),
        }
    }
}

/// The registry state in a Kafka topic.
pub struct KafkaStore {
    config: StoreConfig,
    /// The consumer, behind a lock: one sync at a time reads the topic.
    reader: Mutex<BaseConsumer>,
    /// The folded state: many readers, one writer (the sync applying records).
    state: RwLock<State>,
    /// The transactional producer while this registry holds the transactional id. The
    /// lock also serializes this registry's changes.
    writer: Mutex<Option<ThreadedProducer<DefaultProducerContext>>>,
}

impl std::fmt::Debug for KafkaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaStore").field("topic", &self.config.topic).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere mid-call; the consumer and producer remain
    // usable (librdkafka owns their state), so carry on rather than fail every request.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn store_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Store(format!("{what}: {e}"))
}

impl KafkaStore {
    /// Opens the store: creates the topic if missing (one partition, compacted), checks it
    /// has one partition, and reads it whole.
    ///
    /// # Errors
    /// [`Error::Store`] when the broker cannot be reached or the topic is unusable,
    /// [`Error::Timeout`] when it cannot be read in time.
    pub async fn open(config: StoreConfig) -> Result<Self, Error> {
        create_topic(&config).await?;
        tokio::task::spawn_blocking(move || Self::open_blocking(config))
            .await
            .map_err(|e| store_error("opening the store", e))?
    }

    fn open_blocking(config: StoreConfig) -> Result<Self, Error> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &config.bootstrap)
            .set("group.id", format!("maxx-registry-{}", config.topic))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "false")
            // A read_committed fetch parked at the broker is not woken when a transaction
            // commits, so the wait bounds how late a sync sees a commit (librdkafka's 500 ms
            // default made every change take half a second).
            .set("fetch.wait.max.ms", "20")
            .create()
            .map_err(|e| store_error("creating the consumer", e))?;
        let metadata = consumer
            .fetch_metadata(Some(&config.topic), Timeout::After(config.startup_timeout))
            .map_err(|e| store_error(&format!("reading the metadata of topic {}", config.topic), e))?;
        let partitions = metadata.topics().first().map_or(0, |t| t.partitions().len());
        if partitions != 1 {
            return Err(Error::Store(format!(
                "topic {} has {partitions} partitions; the registry needs exactly one (a single order of changes)",
                config.topic
            )));
        }
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(&config.topic, 0, Offset::Beginning)
            .map_err(|e| store_error("assigning the partition", e))?;
        consumer.assign(&assignment).map_err(|e| store_error("assigning the partition", e))?;
        let store = Self { reader: Mutex::new(consumer), state: RwLock::new(State::default()), writer: Mutex::new(None), config };
        store.sync(store.config.startup_timeout)?;
        Ok(store)
    }

    /// The storage topic.
    pub fn topic(&self) -> &str {
        &self.config.topic
    }

    /// Reads the topic up to its current end (the high watermark now) into the state.
    ///
    /// # Errors
    /// [`Error::Store`] when the broker cannot be asked, [`Error::Timeout`] when the end is
    /// not reached within `timeout`.
    pub fn sync(&self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        let consumer = lock(&self.reader);
        let topic = self.config.topic.as_str();
        let (low, high) = consumer.fetch_watermarks(topic, 0, Timeout::After(timeout)).map_err(|e| store_error("reading the end of the topic", e))?;
        loop {
            let position = consumer
                .position()
                .ok()
                .and_then(|list| list.find_partition(topic, 0).map(|p| p.offset()))
                .and_then(|offset| offset.to_raw())
                .filter(|offset| *offset >= 0);
            if high <= low || position.is_some_and(|p| p >= high) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(format!("reading topic {topic} up to offset {high} (at {position:?})")));
            }
            match consumer.poll(left.min(Duration::from_millis(100))) {
                None => {}
                Some(Ok(message)) => {
                    let key = message.key().unwrap_or_default();
                    let result = self.state.write().unwrap_or_else(PoisonError::into_inner).apply(key, message.payload());
                    if let Err(why) = result {
                        tracing::warn!(topic, offset = message.offset(), "skipping a record the registry does not understand: {why}");
                    }
                }
                Some(Err(e)) => return Err(store_error("reading the topic", e)),
            }
        }
    }

    /// Answers from the state after catching up with the topic. When the topic cannot be
    /// reached in time the answer comes from what was read so far (a registry keeps
    /// serving reads while the broker is away, like Confluent's).
    pub fn read<T>(&self, query: impl FnOnce(&State) -> T) -> T {
        if let Err(e) = self.sync(self.config.read_sync_timeout) {
            tracing::warn!(topic = self.config.topic, "answering from the registry's last known state: {e}");
        }
        query(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Answers from the state as read so far, without asking the broker.
    pub fn read_local<T>(&self, query: impl FnOnce(&State) -> T) -> T {
        query(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Makes a change: plans it on the latest state while holding the topic's
    /// transactional id, appends its records in one transaction, and returns its answer
    /// once this registry's state includes them. Planned again if another registry
    /// committed in between.
    ///
    /// # Errors
    /// What the plan refuses, or [`Error::Store`]/[`Error::Timeout`] from Kafka.
    pub fn change<T>(&self, plan: impl Fn(&State) -> Result<Planned<T>, Error>) -> Result<T, Error> {
        let deadline = Instant::now() + self.config.write_timeout;
        let mut writer = lock(&self.writer);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let result = self.try_change(&mut writer, &plan, left);
            match result {
                Ok(answer) => return Ok(answer),
                Err(Attempt::Refused(e)) => return Err(e),
                Err(Attempt::Retry(why)) => {
                    if Instant::now() >= deadline {
                        return Err(Error::Timeout(format!("writing to topic {} after {attempt} attempts: {why}", self.config.topic)));
                    }
                    tracing::info!(topic = self.config.topic, attempt, "retrying a registry change: {why}");
                    std::thread::sleep(backoff(attempt));
                }
            }
        }
    }

    fn try_change<T>(
        &self,
        writer: &mut Option<ThreadedProducer<DefaultProducerContext>>,
        plan: &impl Fn(&State) -> Result<Planned<T>, Error>,
        left: Duration,
    ) -> Result<T, Attempt> {
        if writer.is_none() {
            *writer = Some(self.transactional_producer(left)?);
        }
        self.sync(left).map_err(retry)?;
        let planned = plan(&self.state.read().unwrap_or_else(PoisonError::into_inner)).map_err(Attempt::Refused)?;
        if planned.records.is_empty() {
            return Ok(planned.answer);
        }
        let Some(producer) = writer.as_ref() else { return Err(Attempt::Retry("no producer".into())) };
        if let Err(e) = self.transact(producer, &planned.records, left) {
            // Abort what can be aborted; a producer that cannot abort (fenced, fatal) is
            // dropped and a new one takes the transactional id on the next attempt.
            if producer.abort_transaction(Timeout::After(left)).is_err() {
                *writer = None;
            }
            return Err(Attempt::Retry(e.to_string()));
        }
        self.sync(left).map_err(retry)?;
        Ok(planned.answer)
    }

    fn transactional_producer(&self, left: Duration) -> Result<ThreadedProducer<DefaultProducerContext>, Attempt> {
        let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.config.bootstrap)
            .set("transactional.id", format!("maxx-registry-{}", self.config.topic))
            .set("transaction.timeout.ms", "10000")
            .set("message.timeout.ms", "9000")
            .create()
            .map_err(|e| Attempt::Refused(store_error("creating the producer", e)))?;
        producer.init_transactions(Timeout::After(left)).map_err(|e| Attempt::Retry(format!("taking the transactional id: {e}")))?;
        Ok(producer)
    }

    fn transact(&self, producer: &ThreadedProducer<DefaultProducerContext>, records: &[LogRecord], left: Duration) -> Result<(), KafkaError> {
        producer.begin_transaction()?;
        for record in records {
            let mut base: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&self.config.topic).key(&record.key[..]);
            if let Some(value) = &record.value {
                base = base.payload(&value[..]);
            }
            let deadline = Instant::now() + left;
            loop {
                match producer.send(base) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) if Instant::now() < deadline => {
                        base = back;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err((e, _)) => return Err(e),
                }
            }
        }
        producer.commit_transaction(Timeout::After(left))
    }
}

/// How an attempt at a change ended without an answer.
enum Attempt {
    /// The change itself is refused: answer with this.
    Refused(Error),
    /// Kafka got in the way (fenced, busy, away): plan again.
    Retry(String),
}

fn retry(e: Error) -> Attempt {
    Attempt::Retry(e.to_string())
}

/// Growing, jittered pauses between attempts, so two registries competing for the
/// transactional id do not keep fencing each other in step.
fn backoff(attempt: u32) -> Duration {
    let jitter = u64::from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()) % 50);
    Duration::from_millis((20 * u64::from(attempt.min(10))) + jitter)
}

async fn create_topic(config: &StoreConfig) -> Result<(), Error> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &config.bootstrap)
        .create()
        .map_err(|e| store_error("creating the admin client", e))?;
    let topic = NewTopic::new(&config.topic, 1, TopicReplication::Fixed(config.replication_factor)).set("cleanup.policy", "compact");
    let options = AdminOptions::new().operation_timeout(Some(config.startup_timeout)).request_timeout(Some(config.startup_timeout));
    let results = tokio::time::timeout(config.startup_timeout, admin.create_topics([&topic], &options))
        .await
        .map_err(|_| Error::Timeout(format!("creating topic {} at {}", config.topic, config.bootstrap)))?
        .map_err(|e| store_error(&format!("creating topic {} at {}", config.topic, config.bootstrap), e))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(Error::Store(format!("creating topic {topic}: {code}"))),
        }
    }
    Ok(())
}
