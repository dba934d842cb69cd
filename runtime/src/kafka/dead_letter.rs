//! Inputs an agent cannot process become [`DeadLetter`]s: the original key, value and
//! headers byte for byte, where they were read, which agent gave up and why. Written in the
//! same transaction as the input's offset, so nothing is dropped and nothing is filed twice.

use maxx_events::{DeadLetter, DeadLetterKind, EventId, EventTime, Header, Producer};
use rdkafka::message::{BorrowedMessage, Headers, Message};

/// The dead letter of `message`, read from bus topic `topic` by `producer`'s agent.
///
/// Its time is the message's Kafka timestamp and its id derives from where the message was
/// read, so filing the same input again (after an abort) gives the same record.
pub fn dead_letter(message: &BorrowedMessage<'_>, topic: &str, producer: &Producer, kind: DeadLetterKind, reason: String) -> DeadLetter {
    let timestamp = message.timestamp().to_millis().map(|ms| EventTime::from_micros(ms.saturating_mul(1000)));
    let time = timestamp.unwrap_or(EventTime::from_micros(0));
    let event_id = EventId::derive(
        time,
        &[producer.agent.as_bytes(), topic.as_bytes(), &message.partition().to_be_bytes(), &message.offset().to_be_bytes()],
    );
    let headers = message
        .headers()
        .map(|headers| headers.iter().map(|h| Header { key: h.key.to_owned(), value: h.value.map(<[u8]>::to_vec) }).collect())
        .unwrap_or_default();
    DeadLetter {
        event_id,
        event_time: time,
        producer: producer.clone(),
        source_topic: topic.to_owned(),
        source_partition: message.partition(),
        source_offset: message.offset(),
        source_timestamp: timestamp,
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers,
        error_kind: kind,
        reason,
    }
}
