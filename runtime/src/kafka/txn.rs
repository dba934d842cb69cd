//! The transactional producer's calls, shared by the consume-transform-produce worker and the
//! source shell: sending with back-pressure, draining deliveries before a commit, retrying
//! what librdkafka says is retriable, and classifying failures into "abort and go on" and
//! "stop this incarnation" (fenced or fatal).

use std::time::{Duration, Instant};

use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use super::error::{is_fencing, is_fencing_code, RuntimeError};

/// What went wrong inside a transaction.
pub(crate) enum TxnFailure {
    /// Abort, rewind, go on.
    Abortable(String),
    /// Stop this incarnation.
    Fatal(RuntimeError),
}

impl From<RuntimeError> for TxnFailure {
    fn from(error: RuntimeError) -> Self {
        Self::Fatal(error)
    }
}

impl TxnFailure {
    /// The failure as a reason to stop, when there is no transaction left to abort.
    pub(crate) fn into_fatal(self) -> RuntimeError {
        match self {
            Self::Fatal(error) => error,
            Self::Abortable(reason) => RuntimeError::Fatal(reason),
        }
    }
}

/// librdkafka's classification of a transactional error.
pub(crate) fn classify<C: ProducerContext>(producer: &BaseProducer<C>, context: &'static str, error: KafkaError) -> TxnFailure {
    // Once the producer has a fatal error, every call fails with a generic "fatal": the
    // cause (fenced by a newer instance, or something else) is kept aside by librdkafka.
    if let Some((code, reason)) = producer.client().fatal_error() {
        return TxnFailure::Fatal(if is_fencing_code(code) {
            RuntimeError::Fenced(format!("{context}: {reason}"))
        } else {
            RuntimeError::Fatal(format!("{context}: producer failed: {code}: {reason}"))
        });
    }
    if is_fencing(&error) {
        return TxnFailure::Fatal(RuntimeError::kafka(context, error));
    }
    match &error {
        KafkaError::Transaction(e) if e.is_fatal() => TxnFailure::Fatal(RuntimeError::kafka(context, error)),
        KafkaError::Transaction(e) if e.txn_requires_abort() => TxnFailure::Abortable(format!("{context}: {error}")),
        KafkaError::Transaction(_) => TxnFailure::Fatal(RuntimeError::kafka(context, error)),
        _ => TxnFailure::Abortable(format!("{context}: {error}")),
    }
}

/// Calls a transactional operation until it succeeds or fails for a reason other than
/// "retriable" (librdkafka says when the same call may simply be repeated).
pub(crate) fn retrying<C: ProducerContext, T>(
    producer: &BaseProducer<C>,
    context: &'static str,
    deadline: Duration,
    mut call: impl FnMut() -> Result<T, KafkaError>,
) -> Result<T, TxnFailure> {
    let give_up = Instant::now() + deadline;
    loop {
        match call() {
            Ok(value) => return Ok(value),
            Err(KafkaError::Transaction(e)) if e.is_retriable() && Instant::now() < give_up => {
                tracing::debug!(error = %e, context, "retrying");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => return Err(classify(producer, context, error)),
        }
    }
}

/// Waits until every produced record is delivered, serving delivery reports in 1 ms steps.
///
/// `commit_transaction` flushes by itself, but through rust-rdkafka's event API a flush only
/// ends when someone polls, and its `poll(timeout)` serves events until the timeout is over:
/// with a background poller that cost a fixed 100 ms per commit. Draining here first leaves
/// the commit nothing to wait for.
pub(crate) fn drain<C: ProducerContext>(producer: &BaseProducer<C>, deadline: Duration) -> Result<(), TxnFailure> {
    let give_up = Instant::now() + deadline;
    while producer.in_flight_count() > 0 {
        if Instant::now() > give_up {
            return Err(TxnFailure::Abortable(format!("{} records not delivered within {deadline:?}", producer.in_flight_count())));
        }
        producer.poll(Duration::from_millis(1));
    }
    Ok(())
}

/// Enqueues a record, serving delivery reports while the local queue is full.
pub(crate) fn send<C: ProducerContext<DeliveryOpaque = ()>>(producer: &BaseProducer<C>, mut record: BaseRecord<'_, str, [u8]>) -> Result<(), TxnFailure> {
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
