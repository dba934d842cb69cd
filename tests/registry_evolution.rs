//! Schema evolution end to end, with a real broker and a running `maxx registry serve`:
//!
//! - a `ticks` v2 that adds an optional field with a default is accepted under BACKWARD; a
//!   topic then holds v1 and v2 records, and a consumer on v1 (the event codec, unchanged,
//!   learning the v2 id from the registry) and a consumer on v2 both read all of them;
//! - a v2 that removes a field without a default, or changes a type incompatibly, is refused
//!   with 409 and a message naming the field, the rule and the reader that would break;
//! - every compatibility level accepts and refuses what its rules say, over HTTP.

mod registry_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use maxx_events::{BusCodec, BusEvent, Event, EventId, EventTime, FixedPoint, Producer, Registration, SchemaRegistry, Tick};
use maxx_registry::client::HttpRegistry;
use maxx_registry::compat::Level;
use maxx_testkit::{client_config, create_topic, unique_name};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};
use rdkafka::util::Timeout;
use registry_support::{record, schema_body, Registry};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// `ticks` v1 with one more field appended.
fn tick_schema_with(field: Value) -> String {
    let mut schema: Value = serde_json::from_str(Tick::SCHEMA_TEXT).expect("tick schema");
    schema["fields"].as_array_mut().expect("fields").push(field);
    schema.to_string()
}

/// `ticks` v1 with a field changed or removed.
fn tick_schema_editing(name: &str, edit: impl Fn(&mut Vec<Value>, usize)) -> String {
    let mut schema: Value = serde_json::from_str(Tick::SCHEMA_TEXT).expect("tick schema");
    let fields = schema["fields"].as_array_mut().expect("fields");
    let at = fields.iter().position(|f| f["name"] == name).expect("field");
    edit(fields, at);
    schema.to_string()
}

fn v2_schema() -> String {
    tick_schema_with(json!({"name": "venue_time", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": null, "doc": "When the venue stamped the tick, if it does."}))
}

/// What a consumer built against v2 decodes into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TickV2 {
    event_id: EventId,
    event_time: EventTime,
    producer: Producer,
    symbol: String,
    exchange: String,
    price: FixedPoint,
    volume: FixedPoint,
    bid: Option<FixedPoint>,
    ask: Option<FixedPoint>,
    venue_seq: Option<i64>,
    venue_time: Option<i64>,
}

impl TickV2 {
    fn from_v1(t: &Tick, venue_time: Option<i64>) -> Self {
        Self {
            event_id: t.event_id,
            event_time: t.event_time,
            producer: t.producer.clone(),
            symbol: t.symbol.clone(),
            exchange: t.exchange.clone(),
            price: t.price,
            volume: t.volume,
            bid: t.bid,
            ask: t.ask,
            venue_seq: t.venue_seq,
            venue_time,
        }
    }
    fn to_v1(&self) -> Tick {
        Tick {
            event_id: self.event_id,
            event_time: self.event_time,
            producer: self.producer.clone(),
            symbol: self.symbol.clone(),
            exchange: self.exchange.clone(),
            price: self.price,
            volume: self.volume,
            bid: self.bid,
            ask: self.ask,
            venue_seq: self.venue_seq,
        }
    }
}

fn tick(n: i64) -> Tick {
    let time = EventTime::from_micros(1_752_432_000_000_000 + n);
    let mut entropy = [7; 10];
    entropy[..8].copy_from_slice(&n.to_be_bytes());
    Tick {
        event_id: EventId::at(time, entropy),
        event_time: time,
        producer: Producer { agent: "maxx-test".into(), version: env!("CARGO_PKG_VERSION").into(), instance: "test-0".into() },
        symbol: "BTCUSD".into(),
        exchange: "synthetic".into(),
        price: FixedPoint::from_raw(6_000_000_000_000 + n),
        volume: FixedPoint::from_raw(100_000),
        bid: Some(FixedPoint::from_raw(5_999_000_000_000)),
        ask: None,
        venue_seq: Some(n),
    }
}

/// Every payload of `topic` (one partition), in order.
fn read_all(topic: &str, expected: usize) -> Vec<Vec<u8>> {
    let consumer: BaseConsumer = client_config()
        .set("group.id", unique_name("maxx-test-evolution"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut payloads = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while payloads.len() < expected {
        assert!(Instant::now() < deadline, "read {} of {expected} records of {topic} within 60 s", payloads.len());
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            payloads.push(message.expect("consume").payload().expect("payload").to_vec());
        }
    }
    payloads
}

#[test]
fn a_v2_with_an_optional_field_is_accepted_and_v1_and_v2_consumers_read_a_mixed_topic() {
    let registry = Registry::start();
    // The producer side: the event codec registers v1 through the HTTP registry.
    let writer_registry: Arc<dyn SchemaRegistry> = Arc::new(HttpRegistry::new(registry.url()).expect("url"));
    let v1_writer = BusCodec::new(writer_registry.clone(), &["ticks"], Registration::Register).expect("v1 codec");
    let v2_text = v2_schema();
    let v2_id = writer_registry.register("ticks-value", &v2_text).expect("v2 is accepted under BACKWARD");
    assert_eq!(registry.http("GET", "/config/ticks-value?defaultToGlobal=true", None).2, json!({"compatibilityLevel":"BACKWARD"}));
    assert_eq!(registry.http("GET", "/subjects/ticks-value/versions", None).2, json!([1, 2]));

    // A topic holding v1 and v2 records, interleaved.
    let topic = unique_name("maxx-test-evolving-ticks");
    create_topic(&topic, 1);
    let v2_schema = Schema::parse_str(&v2_text).expect("v2 parses");
    let v2_writer = GenericDatumWriter::builder(&v2_schema).build().expect("v2 writer");
    let producer: ThreadedProducer<DefaultProducerContext> = client_config().create().expect("producer");
    let mut sent: Vec<TickV2> = Vec::new();
    for n in 0..6 {
        let t = tick(n);
        let payload = if n % 2 == 0 {
            sent.push(TickV2::from_v1(&t, None));
            v1_writer.encode(&BusEvent::from(t)).expect("encode v1")
        } else {
            let v2 = TickV2::from_v1(&t, Some(1_752_432_000_000_000 - n));
            let mut framed = vec![0];
            framed.extend_from_slice(&v2_id.to_be_bytes());
            v2_writer.write_ser(&mut framed, &v2).expect("encode v2");
            sent.push(v2);
            framed
        };
        producer.send(BaseRecord::to(&topic).key("BTCUSD").payload(&payload)).map_err(|(e, _)| e).expect("send");
    }
    producer.flush(Timeout::After(Duration::from_secs(30))).expect("flush");
    let payloads = read_all(&topic, sent.len());
    let ids: HashSet<u32> = payloads.iter().filter_map(|p| BusCodec::schema_id_of(p)).collect();
    assert_eq!(ids.len(), 2, "the topic holds records of two schema ids");

    // A consumer on v1: the event codec, with a registry client of its own (cold cache).
    let reader_registry: Arc<dyn SchemaRegistry> = Arc::new(HttpRegistry::new(registry.url()).expect("url"));
    let mut v1_reader = BusCodec::new(reader_registry, &["ticks"], Registration::LookupOnly).expect("v1 reader");
    for (payload, expected) in payloads.iter().zip(&sent) {
        assert_eq!(v1_reader.decode("ticks", payload).expect("a v1 consumer reads v1 and v2"), BusEvent::from(expected.to_v1()));
    }

    // A consumer on v2: resolves each writer schema, fetched by id, against v2.
    let by_id = HttpRegistry::new(registry.url()).expect("url");
    for (payload, expected) in payloads.iter().zip(&sent) {
        let (id, mut body) = maxx_events::split_frame(payload).expect("framed");
        let writer_schema = Schema::parse_str(&by_id.schema_by_id(id).expect("registry answers").expect("id is registered")).expect("writer schema");
        let reader = GenericDatumReader::builder(&writer_schema).reader_schema(&v2_schema).build().expect("resolving reader");
        let value = reader.read_value(&mut body).expect("a v2 consumer reads v1 and v2");
        assert_eq!(&apache_avro::from_value::<TickV2>(&value).expect("v2 value"), expected);
        assert!(body.is_empty());
    }
}

fn refusal(registry: &Registry, subject: &str, schema: &str) -> String {
    let (status, _, body) = registry.http("POST", &format!("/subjects/{subject}/versions"), Some(&schema_body(schema)));
    assert_eq!((status, body["error_code"].as_u64()), (409, Some(409)), "{body}");
    body["message"].as_str().expect("message").to_owned()
}

#[test]
fn a_v2_that_changes_a_type_incompatibly_is_refused_with_409_and_says_why() {
    let registry = Registry::start();
    registry.client().register("ticks-value", Tick::SCHEMA_TEXT).expect("v1");
    let price_as_string = tick_schema_editing("price", |fields, at| fields[at]["type"] = json!("string"));
    let message = refusal(&registry, "ticks-value", &price_as_string);
    assert!(message.contains("Tick.price") && message.contains("type change") && message.contains("long cannot be read as string"), "{message}");
    assert!(message.contains("consumers on the new schema could not read records written with version 1"), "{message}");
    assert_eq!(registry.http("GET", "/subjects/ticks-value/versions", None).2, json!([1]), "nothing registered");
}

#[test]
fn a_v2_that_removes_a_field_without_default_is_refused_with_409_where_old_readers_must_read_it() {
    let registry = Registry::start();
    let without_exchange = tick_schema_editing("exchange", |fields, at| {
        fields.remove(at);
    });
    // Under FORWARD and FULL consumers still on v1 must read v2 records, which lack the field.
    for (subject, level) in [("forward-value", "FORWARD"), ("full-value", "FULL")] {
        registry.client().register(subject, Tick::SCHEMA_TEXT).expect("v1");
        registry.client().set_level(Some(subject), level.parse().expect("level")).expect("level");
        let message = refusal(&registry, subject, &without_exchange);
        assert!(message.contains("Tick.exchange") && message.contains("field without default") && message.contains("consumers still on version 1"), "{message}");
    }
    // Under BACKWARD (readers upgrade first) removing a field is allowed: the new reader skips it.
    registry.client().register("backward-value", Tick::SCHEMA_TEXT).expect("v1");
    registry.client().register("backward-value", &without_exchange).expect("removal is backward compatible");
    // Adding a field without a default is what BACKWARD refuses.
    let with_required = tick_schema_with(json!({"name": "venue", "type": "string"}));
    let message = refusal(&registry, "backward-value", &with_required);
    assert!(message.contains("Tick.venue") && message.contains("no default"), "{message}");
}

/// Each level over HTTP: a subject at v1 {a}, then candidates whose fate each level decides.
#[test]
fn every_level_accepts_and_refuses_what_its_rules_say() {
    let registry = Registry::start();
    let client = registry.client();
    let a = r#"{"name":"a","type":"long"}"#;
    let v1 = record("R", a);
    let added_with_default = record("R", &format!(r#"{a},{{"name":"b","type":"string","default":"x"}}"#));
    let added_required = record("R", &format!(r#"{a},{{"name":"b","type":"string"}}"#));
    let v1_with_b = record("R", &format!(r#"{a},{{"name":"b","type":"string"}}"#));
    let removed_b = record("R", a);
    for level in Level::ALL {
        let name = level.as_str().to_lowercase();
        let accepted = |subject: &str, first: &str, second: &str| {
            client.register(subject, first).expect("first version");
            client.set_level(Some(subject), level).expect("level");
            match client.register(subject, second) {
                Ok(_) => true,
                Err(e) if e.code() == Some(409) => false,
                Err(e) => panic!("{subject}: {e}"),
            }
        };
        assert!(accepted(&format!("{name}-add-default-value"), &v1, &added_with_default), "{level}: a field with a default");
        assert_eq!(accepted(&format!("{name}-add-required-value"), &v1, &added_required), !level.backward(), "{level}: a new field without default");
        assert_eq!(accepted(&format!("{name}-remove-required-value"), &v1_with_b, &removed_b), !level.forward(), "{level}: a removed field without default");
        // Transitivity: v1 {a}, v2 {a, b = "x"}, v3 {a, b required}: v3 reads v2 data, not v1's.
        let subject = format!("{name}-transitive-value");
        client.register(&subject, &v1).expect("v1");
        client.register(&subject, &added_with_default).expect("v2 is fine at any level");
        client.set_level(Some(&subject), level).expect("level");
        let v3 = client.register(&subject, &added_required);
        let refused = matches!(&v3, Err(e) if e.code() == Some(409));
        assert_eq!(refused, level.backward() && level.transitive(), "{level}: v3 against v1 {v3:?}");
    }
}
