//! Decoding bytes that are not a valid message returns a typed error and never panics:
//! wrong magic byte, unknown schema id, truncated or garbage payloads, a payload of another
//! schema, trailing bytes. Specific cases first, then property tests over arbitrary bytes
//! for every event type.

use std::sync::Arc;

use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use maxx_events::{
    for_each_event, Codec, DeadLetterKind, DecodeError, Event, EventId, EventTime, Fill, FixedPoint, Liquidity,
    Producer, Side, Tick,
};
use proptest::prelude::*;

const TICK_ID: u32 = 11;
const FILL_ID: u32 = 12;

fn producer() -> Producer {
    Producer { agent: "maxx-test".into(), version: "0.1.0".into(), instance: "test-0".into() }
}

fn tick() -> Tick {
    let time = EventTime::from_micros(1_752_432_132_000_000);
    Tick {
        event_id: EventId::at(time, [1; 10]),
        event_time: time,
        producer: producer(),
        symbol: "BTCUSD".into(),
        exchange: "binance".into(),
        price: "62650.2".parse().expect("price"),
        volume: "0.004".parse().expect("volume"),
        bid: Some("62650.1".parse().expect("bid")),
        ask: None,
        venue_seq: Some(42),
    }
}

fn fill() -> Fill {
    let time = EventTime::from_micros(1_752_432_133_000_000);
    Fill {
        event_id: EventId::at(time, [2; 10]),
        event_time: time,
        producer: producer(),
        fill_id: "o-1:1".into(),
        order_id: "o-1".into(),
        symbol: "BTCUSD".into(),
        side: Side::Buy,
        price: "62650.2".parse().expect("price"),
        qty: "0.004".parse().expect("qty"),
        fee: FixedPoint::from_raw(-25),
        liquidity: Liquidity::Maker,
        venue: "paper".into(),
    }
}

fn tick_codec() -> Codec<Tick> {
    Codec::new(TICK_ID).expect("codec")
}

#[test]
fn valid_messages_round_trip_with_the_confluent_header() {
    let bytes = tick_codec().encode(&tick()).expect("encode");
    assert_eq!(bytes[..5], [0, 0, 0, 0, TICK_ID as u8], "magic byte then big-endian schema id");
    assert_eq!(tick_codec().decode(&bytes), Ok(tick()));
}

#[test]
fn short_messages_are_truncated() {
    for len in 0..5 {
        assert_eq!(tick_codec().decode(&[0; 5][..len]), Err(DecodeError::Truncated { len }));
    }
}

#[test]
fn a_wrong_magic_byte_is_refused() {
    let mut bytes = tick_codec().encode(&tick()).expect("encode");
    bytes[0] = 1;
    assert_eq!(tick_codec().decode(&bytes), Err(DecodeError::BadMagic { found: 1 }));
    assert_eq!(tick_codec().decode(b"{\"json\": true}"), Err(DecodeError::BadMagic { found: b'{' }));
}

#[test]
fn an_unknown_schema_id_is_refused() {
    let mut bytes = tick_codec().encode(&tick()).expect("encode");
    bytes[1..5].copy_from_slice(&999_u32.to_be_bytes());
    let err = tick_codec().decode(&bytes).expect_err("unknown id");
    assert_eq!(err, DecodeError::UnknownSchemaId { id: 999, expected: "maxx.events.Tick".into() });
    assert_eq!(err.dead_letter_kind(), DeadLetterKind::UnknownSchema);
}

#[test]
fn a_message_of_another_schema_is_refused() {
    let fill_bytes = Codec::<Fill>::new(FILL_ID).expect("codec").encode(&fill()).expect("encode");
    // The reader knows the id belongs to fills: told apart by name.
    let mut codec = tick_codec();
    codec.accept_writer(FILL_ID, Arc::new(Fill::schema().clone()));
    let err = codec.decode(&fill_bytes).expect_err("a fill is not a tick");
    assert!(matches!(&err, DecodeError::WrongSchema { id: FILL_ID, found, .. } if found == "maxx.events.Fill"), "{err}");
    assert_eq!(err.dead_letter_kind(), DeadLetterKind::WrongSchema);
    // The frame lies (a fill payload under the tick id): the payload does not decode as a tick.
    let mut lying = fill_bytes.clone();
    lying[1..5].copy_from_slice(&TICK_ID.to_be_bytes());
    let err = tick_codec().decode(&lying).expect_err("fill payload is not a tick");
    assert!(matches!(err, DecodeError::Malformed { .. } | DecodeError::TrailingBytes { .. }), "{err}");
    assert_eq!(err.dead_letter_kind(), DeadLetterKind::Undecodable);
}

#[test]
fn every_truncation_of_a_valid_message_is_an_error() {
    let bytes = tick_codec().encode(&tick()).expect("encode");
    for len in 5..bytes.len() {
        let err = tick_codec().decode(&bytes[..len]).expect_err("truncated");
        assert!(matches!(err, DecodeError::Malformed { .. }), "at {len}: {err}");
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut bytes = tick_codec().encode(&tick()).expect("encode");
    bytes.extend_from_slice(&[0, 1, 2]);
    assert_eq!(
        tick_codec().decode(&bytes),
        Err(DecodeError::TrailingBytes { id: TICK_ID, schema: "maxx.events.Tick".into(), count: 3 })
    );
}

#[test]
fn a_huge_length_prefix_is_refused_without_allocating_it() {
    // event_id is a string: claim it is ~4.6e18 bytes long.
    let mut bytes = vec![0, 0, 0, 0, TICK_ID as u8];
    bytes.extend_from_slice(&[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert!(matches!(tick_codec().decode(&bytes), Err(DecodeError::Malformed { .. })));
}

#[test]
fn an_older_version_of_the_same_record_is_resolved() {
    // A "v0" of ticks without venue_seq: v1 readers fill in its default (null).
    let mut json: serde_json::Value = serde_json::from_str(Tick::SCHEMA_TEXT).expect("json");
    json["fields"].as_array_mut().expect("fields").retain(|f| f["name"] != "venue_seq");
    let v0 = Schema::parse(&json).expect("v0 is valid");
    let mut old = tick();
    old.venue_seq = None;
    let value = apache_avro::to_value(&old).expect("value");
    let apache_avro::types::Value::Record(mut fields) = value else { panic!("a record") };
    fields.retain(|(name, _)| name != "venue_seq");
    let payload = GenericDatumWriter::builder(&v0)
        .build()
        .expect("writer")
        .write_value_to_vec(apache_avro::types::Value::Record(fields))
        .expect("v0 encodes");
    let framed = [&[0, 0, 0, 0, 3][..], &payload].concat();
    let mut codec = tick_codec();
    codec.accept_writer(3, Arc::new(v0));
    assert_eq!(codec.decode(&framed), Ok(old));
}

/// Decodes `bytes` with every event type's codec: any outcome but a panic is fine.
fn decode_with_every_codec(bytes: &[u8]) {
    macro_rules! decode {
        ($t:ty) => {
            let _ = Codec::<$t>::new(1).expect("codec").decode(bytes);
        };
    }
    for_each_event!(decode);
}

/// A valid message of every type, framed with schema id 1.
fn valid_messages() -> Vec<Vec<u8>> {
    vec![
        Codec::<Tick>::new(1).expect("codec").encode(&tick()).expect("encode"),
        Codec::<Fill>::new(1).expect("codec").encode(&fill()).expect("encode"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        decode_with_every_codec(&bytes);
    }

    #[test]
    fn arbitrary_payloads_behind_a_valid_header_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        decode_with_every_codec(&[&[0, 0, 0, 0, 1][..], &payload].concat());
    }

    #[test]
    fn corrupted_valid_messages_never_panic(which in 0usize..2, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let mut bytes = valid_messages().swap_remove(which);
        for (at, xor) in flips {
            let at = 5 + at % (bytes.len() - 5);
            bytes[at] ^= xor;
        }
        decode_with_every_codec(&bytes);
        decode_with_every_codec(&bytes[..5 + cut % (bytes.len() - 4)]);
    }
}
