//! Producing from tests and benchmarks: enqueue without waiting per record, and wait only
//! when the local queue is full.

use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::message::ToBytes;

/// A producer a test can enqueue on and, when its queue is full, wait for.
pub trait Enqueue {
    /// Enqueues `record`, or hands it back with the error.
    ///
    /// # Errors
    /// The producer's error and the record.
    #[allow(clippy::result_large_err)] // rdkafka's own `send` hands the record back the same way
    fn enqueue<'a, K: ToBytes + ?Sized, P: ToBytes + ?Sized>(&self, record: BaseRecord<'a, K, P>) -> Result<(), (KafkaError, BaseRecord<'a, K, P>)>;
    /// Lets deliveries progress for a moment.
    fn make_room(&self);
}

impl Enqueue for BaseProducer<DefaultProducerContext> {
    fn enqueue<'a, K: ToBytes + ?Sized, P: ToBytes + ?Sized>(&self, record: BaseRecord<'a, K, P>) -> Result<(), (KafkaError, BaseRecord<'a, K, P>)> {
        self.send(record)
    }
    fn make_room(&self) {
        self.poll(Duration::from_millis(1));
    }
}

impl Enqueue for ThreadedProducer<DefaultProducerContext> {
    fn enqueue<'a, K: ToBytes + ?Sized, P: ToBytes + ?Sized>(&self, record: BaseRecord<'a, K, P>) -> Result<(), (KafkaError, BaseRecord<'a, K, P>)> {
        self.send(record)
    }
    fn make_room(&self) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Enqueues `record`, waiting while the producer's queue is full.
///
/// # Panics
/// On any other error: the test cannot go on without its input.
pub fn send_waiting<K: ToBytes + ?Sized, P: ToBytes + ?Sized>(producer: &impl Enqueue, mut record: BaseRecord<'_, K, P>) {
    loop {
        match producer.enqueue(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                record = returned;
                producer.make_room();
            }
            Err((error, _)) => panic!("produce: {error}"),
        }
    }
}
