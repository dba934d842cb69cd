//! `maxx registry serve` over HTTP against a real broker answers like Confluent's registry:
//! routes, bodies, content type, error statuses and codes, deletes, config, and concurrent
//! registrations that never share an id.

mod registry_support;

use std::collections::{BTreeSet, HashMap};

use registry_support::{record, schema_body, Registry};
use serde_json::{json, Value};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

fn v1() -> String {
    record("Reading", r#"{"name":"sensor","type":"string"},{"name":"value","type":"long"}"#)
}

fn v2() -> String {
    record("Reading", r#"{"name":"sensor","type":"string"},{"name":"value","type":"long"},{"name":"unit","type":["null","string"],"default":null}"#)
}

#[test]
fn subjects_versions_ids_lookup_config_and_compatibility_answer_like_confluent() {
    let registry = Registry::start();
    let (status, ctype, body) = registry.http("GET", "/subjects", None);
    assert_eq!((status, ctype.as_str(), body), (200, CONTENT_TYPE, json!([])));

    let (status, ctype, body) = registry.http("POST", "/subjects/readings-value/versions", Some(&schema_body(&v1())));
    assert_eq!((status, ctype.as_str()), (200, CONTENT_TYPE));
    let id1 = body["id"].as_u64().expect("id");
    // The same schema again, reformatted: the same id, no new version.
    let reformatted = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&v1()).expect("json")).expect("pretty");
    assert_eq!(registry.http("POST", "/subjects/readings-value/versions", Some(&schema_body(&reformatted))).2["id"].as_u64(), Some(id1));
    let id2 = registry.http("POST", "/subjects/readings-value/versions", Some(&schema_body(&v2()))).2["id"].as_u64().expect("id");
    assert_ne!(id1, id2);
    // The same schema under another subject keeps its global id.
    assert_eq!(registry.http("POST", "/subjects/other-value/versions", Some(&schema_body(&v2()))).2["id"].as_u64(), Some(id2));

    assert_eq!(registry.http("GET", "/subjects", None).2, json!(["other-value", "readings-value"]));
    assert_eq!(registry.http("GET", "/subjects/readings-value/versions", None).2, json!([1, 2]));
    let latest = registry.http("GET", "/subjects/readings-value/versions/latest", None).2;
    assert_eq!((latest["subject"].as_str(), latest["version"].as_u64(), latest["id"].as_u64()), (Some("readings-value"), Some(2), Some(id2)));
    assert_eq!(latest["schema"].as_str(), Some(v2().as_str()));
    assert_eq!(registry.http("GET", "/subjects/readings-value/versions/-1", None).2, latest);
    assert_eq!(registry.http("GET", "/subjects/readings-value/versions/1", None).2["id"].as_u64(), Some(id1));
    assert_eq!(registry.http("GET", "/subjects/readings-value/versions/1/schema", None).2, serde_json::from_str::<Value>(&v1()).expect("json"));
    assert_eq!(registry.http("GET", &format!("/schemas/ids/{id1}"), None).2, json!({ "schema": v1() }));
    assert_eq!(registry.http("GET", &format!("/schemas/ids/{id2}/versions"), None).2, json!([{"subject":"other-value","version":1},{"subject":"readings-value","version":2}]));
    assert_eq!(registry.http("GET", &format!("/schemas/ids/{id2}/subjects"), None).2, json!(["other-value", "readings-value"]));
    assert_eq!(registry.http("GET", "/schemas/types", None).2, json!(["AVRO"]));

    // Lookup of a schema under a subject.
    let found = registry.http("POST", "/subjects/readings-value", Some(&schema_body(&reformatted))).2;
    assert_eq!((found["version"].as_u64(), found["id"].as_u64()), (Some(1), Some(id1)));

    // Config: global BACKWARD by default, per subject when set.
    assert_eq!(registry.http("GET", "/config", None).2, json!({"compatibilityLevel":"BACKWARD"}));
    assert_eq!(registry.http("PUT", "/config/readings-value", Some(r#"{"compatibility":"full_transitive"}"#)).2, json!({"compatibility":"FULL_TRANSITIVE"}));
    assert_eq!(registry.http("GET", "/config/readings-value", None).2, json!({"compatibilityLevel":"FULL_TRANSITIVE"}));
    let (status, _, body) = registry.http("GET", "/config/other-value", None);
    assert_eq!((status, body["error_code"].as_u64()), (404, Some(40408)));
    assert_eq!(registry.http("GET", "/config/other-value?defaultToGlobal=true", None).2, json!({"compatibilityLevel":"BACKWARD"}));
    assert_eq!(registry.http("PUT", "/config", Some(r#"{"compatibility":"FORWARD"}"#)).2, json!({"compatibility":"FORWARD"}));
    assert_eq!(registry.http("GET", "/config", None).2, json!({"compatibilityLevel":"FORWARD"}));
    assert_eq!(registry.http("DELETE", "/config/readings-value", None).2, json!({"compatibilityLevel":"FULL_TRANSITIVE"}));
    assert_eq!(registry.http("GET", "/config/readings-value?defaultToGlobal=true", None).2, json!({"compatibilityLevel":"FORWARD"}));
    assert_eq!(registry.http("GET", "/mode", None).2, json!({"mode":"READWRITE"}));

    // Compatibility tests, plain and verbose.
    let bad = record("Reading", r#"{"name":"sensor","type":"string"},{"name":"value","type":"string"}"#);
    assert_eq!(registry.http("POST", "/compatibility/subjects/readings-value/versions/latest", Some(&schema_body(&v2()))).2, json!({"is_compatible": true}));
    let verdict = registry.http("POST", "/compatibility/subjects/readings-value/versions/1?verbose=true", Some(&schema_body(&bad))).2;
    assert_eq!(verdict["is_compatible"], json!(false));
    let messages = verdict["messages"].to_string();
    assert!(messages.contains("Reading.value") && messages.contains("type change"), "{messages}");
    let (status, _, body) = registry.http("POST", "/compatibility/subjects/nope-value/versions/latest", Some(&schema_body(&v1())));
    assert_eq!((status, body["error_code"].as_u64()), (404, Some(40401)));
}

#[test]
fn soft_and_permanent_deletes_follow_confluent_rules() {
    let registry = Registry::start();
    let id1 = registry.client().register("d-value", &v1()).expect("v1");
    registry.client().register("d-value", &v2()).expect("v2");
    let code = |(status, _, body): (u16, String, Value)| (status, body["error_code"].as_u64().unwrap_or(0));

    assert_eq!(code(registry.http("DELETE", "/subjects/d-value/versions/1?permanent=true", None)), (404, 40407), "permanent needs a soft delete first");
    assert_eq!(registry.http("DELETE", "/subjects/d-value/versions/1", None).2, json!(1));
    assert_eq!(code(registry.http("DELETE", "/subjects/d-value/versions/1", None)), (404, 40406));
    assert_eq!(registry.http("GET", "/subjects/d-value/versions", None).2, json!([2]));
    assert_eq!(registry.http("GET", "/subjects/d-value/versions?deleted=true", None).2, json!([1, 2]));
    assert_eq!(code(registry.http("GET", "/subjects/d-value/versions/1", None)), (404, 40402));
    assert_eq!(registry.http("GET", "/subjects/d-value/versions/1?deleted=true", None).2["id"].as_u64(), Some(u64::from(id1)));
    // A soft-deleted version's id still resolves: records written with it stay readable.
    assert_eq!(registry.http("GET", &format!("/schemas/ids/{id1}"), None).0, 200);
    assert_eq!(registry.http("DELETE", "/subjects/d-value/versions/1?permanent=true", None).2, json!(1));
    assert_eq!(code(registry.http("GET", &format!("/schemas/ids/{id1}"), None)), (404, 40403));

    assert_eq!(code(registry.http("DELETE", "/subjects/d-value?permanent=true", None)), (404, 40405));
    assert_eq!(registry.http("DELETE", "/subjects/d-value", None).2, json!([2]));
    assert_eq!(code(registry.http("DELETE", "/subjects/d-value", None)), (404, 40404));
    assert_eq!(registry.http("GET", "/subjects", None).2, json!([]));
    assert_eq!(registry.http("GET", "/subjects?deleted=true", None).2, json!(["d-value"]));
    assert_eq!(code(registry.http("GET", "/subjects/d-value/versions", None)), (404, 40401));
    assert_eq!(registry.http("DELETE", "/subjects/d-value?permanent=true", None).2, json!([2]));
    assert_eq!(registry.http("GET", "/subjects?deleted=true", None).2, json!([]));
    assert_eq!(code(registry.http("DELETE", "/subjects/d-value", None)), (404, 40401));
    // Ids are not handed out again after a permanent delete.
    let id3 = registry.client().register("d-value", &record("Other", r#"{"name":"x","type":"int"}"#)).expect("new");
    assert!(id3 > id1 + 1, "id {id3} after {id1} and its successor");
}

#[test]
fn bad_input_gets_the_right_status_and_error_code() {
    let registry = Registry::start();
    registry.client().register("b-value", &v1()).expect("v1");
    let cases: Vec<(&str, String, Option<String>, u16, u64)> = vec![
        ("POST", "/subjects/b-value/versions".into(), Some("{not json".into()), 400, 400),
        ("POST", "/subjects/b-value/versions".into(), Some("[1,2]".into()), 422, 422),
        ("POST", "/subjects/b-value/versions".into(), Some(schema_body("{not json")), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(schema_body(r#"{"type":"record","name":"NoFields"}"#)), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(schema_body(r#"{"type":"nonsense"}"#)), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(schema_body(&record("D", r#"{"name":"a","type":"long","default":"text"}"#))), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(r#"{"schema":""}"#.into()), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(r#"{"schema":42}"#.into()), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(r#"{}"#.into()), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(json!({"schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF"}).to_string()), 422, 42201),
        ("POST", "/subjects/b-value/versions".into(), Some(json!({"schema": v1(), "references": [{"name":"x","subject":"y","version":1}]}).to_string()), 422, 42201),
        ("GET", "/subjects/unknown-value/versions".into(), None, 404, 40401),
        ("GET", "/subjects/unknown-value/versions/1".into(), None, 404, 40401),
        ("GET", "/subjects/b-value/versions/7".into(), None, 404, 40402),
        ("GET", "/subjects/b-value/versions/0".into(), None, 422, 42202),
        ("GET", "/subjects/b-value/versions/abc".into(), None, 422, 42202),
        ("GET", "/subjects/b-value/versions/99999999999".into(), None, 422, 42202),
        ("GET", "/schemas/ids/424242".into(), None, 404, 40403),
        ("GET", "/schemas/ids/-1".into(), None, 404, 40403),
        ("POST", "/subjects/unknown-value".into(), Some(schema_body(&v1())), 404, 40401),
        ("POST", "/subjects/b-value".into(), Some(schema_body(&v2())), 404, 40403),
        ("PUT", "/config".into(), Some(r#"{"compatibility":"SIDEWAYS"}"#.into()), 422, 42203),
        ("PUT", "/config/b-value".into(), Some(r#"{}"#.into()), 422, 42203),
        ("GET", "/no/such/route".into(), None, 404, 404),
        ("PUT", "/subjects".into(), Some("{}".into()), 405, 405),
    ];
    for (method, path, body, status, code) in cases {
        let (got_status, ctype, got) = registry.http(method, &path, body.as_deref());
        assert_eq!((got_status, got["error_code"].as_u64()), (status, Some(code)), "{method} {path} {body:?}: {got}");
        assert_eq!(ctype, CONTENT_TYPE, "{method} {path}");
        assert!(got["message"].as_str().is_some_and(|m| !m.is_empty()), "{method} {path}: a message");
    }
    // An oversized body is refused before it is read whole.
    let huge = schema_body(&record("Huge", &format!(r#"{{"name":"a","type":"string","doc":"{}"}}"#, "x".repeat(600 * 1024))));
    let (status, ctype, body) = registry.http("POST", "/subjects/b-value/versions", Some(&huge));
    assert_eq!((status, ctype.as_str(), body["error_code"].as_u64()), (413, CONTENT_TYPE, Some(413)));
    // After all that the registry still serves, unchanged.
    assert_eq!(registry.http("GET", "/subjects/b-value/versions", None).2, json!([1]));
}

/// Two registries on one topic, eight threads each: the same schema always gets one id,
/// different schemas always different ids, and a restarted registry agrees with all of it.
#[test]
fn concurrent_registrations_on_two_registries_get_unique_and_stable_ids() {
    let first = Registry::start();
    let second = Registry::on_topic(first.topic());
    let urls = [first.url().to_owned(), second.url().to_owned()];
    let threads: Vec<_> = (0..16)
        .map(|n| {
            let url = urls[n % 2].clone();
            std::thread::spawn(move || {
                let client = maxx_registry::client::RegistryClient::new(&url).expect("client");
                let same = client.register("shared-value", &v1()).expect("same schema");
                let own = client.register(&format!("own-{n}-value"), &record(&format!("Own{n}"), r#"{"name":"a","type":"long"}"#)).expect("own schema");
                (same, own)
            })
        })
        .collect();
    let results: Vec<(u32, u32)> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    let same: BTreeSet<u32> = results.iter().map(|(s, _)| *s).collect();
    assert_eq!(same.len(), 1, "one schema, one id: {results:?}");
    let own: BTreeSet<u32> = results.iter().map(|(_, o)| *o).collect();
    assert_eq!(own.len(), 16, "16 schemas, 16 ids: {results:?}");
    assert!(!own.contains(same.iter().next().expect("id")), "{results:?}");
    assert_eq!(first.http("GET", "/subjects/shared-value/versions", None).2, json!([1]), "one version for one schema");

    // Every registry, and a restarted one, serves the same ids for the same subjects.
    let expected: HashMap<String, u32> = (0..16).map(|n| (format!("own-{n}-value"), results[n].1)).collect();
    let topic = first.topic().to_owned();
    first.kill();
    let restarted = Registry::on_topic(&topic);
    for registry in [&second, &restarted] {
        for (subject, id) in &expected {
            assert_eq!(registry.client().version(subject, "latest").expect("version").id, *id, "{subject} at {}", registry.url());
        }
        assert_eq!(registry.client().version("shared-value", "1").expect("shared").id, *same.iter().next().expect("id"));
    }
}
