//! The registry's state lives in its topic: a restarted `maxx registry serve` (killed, not
//! shut down) serves exactly the ids, versions, levels and deletions it served before, and
//! two registries on one topic see each other's changes at once.

mod registry_support;

use registry_support::{record, schema_body, Registry};
use serde_json::{json, Value};

/// Everything a client can see of a registry holding subjects `a-value` and `b-value`.
fn snapshot(registry: &Registry) -> Vec<(String, Value)> {
    let mut paths: Vec<String> = [
        "/subjects",
        "/subjects?deleted=true",
        "/subjects/a-value/versions",
        "/subjects/a-value/versions?deleted=true",
        "/subjects/a-value/versions/1?deleted=true",
        "/subjects/a-value/versions/latest",
        "/subjects/b-value/versions/latest",
        "/config",
        "/config/b-value",
        "/config/a-value",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    paths.extend((1..=4).map(|id| format!("/schemas/ids/{id}")));
    paths.into_iter().map(|p| (p.clone(), registry.http("GET", &p, None).2)).collect()
}

#[test]
fn a_restarted_registry_serves_the_same_ids_versions_levels_and_deletions() {
    let first = Registry::start();
    let client = first.client();
    let a1 = record("A", r#"{"name":"x","type":"long"}"#);
    let a2 = record("A", r#"{"name":"x","type":"long"},{"name":"y","type":["null","string"],"default":null}"#);
    let b1 = record("B", r#"{"name":"z","type":"string"}"#);
    let ids = [client.register("a-value", &a1).expect("a1"), client.register("a-value", &a2).expect("a2"), client.register("b-value", &b1).expect("b1")];
    client.set_level(Some("b-value"), "FULL".parse().expect("level")).expect("level");
    client.set_level(None, "FORWARD_TRANSITIVE".parse().expect("level")).expect("global");
    assert_eq!(first.http("DELETE", "/subjects/a-value/versions/1", None).0, 200);
    let before = snapshot(&first);
    assert_eq!(before[0].1, json!(["a-value", "b-value"]));
    let topic = first.topic().to_owned();
    first.kill();

    let restarted = Registry::on_topic(&topic);
    assert_eq!(snapshot(&restarted), before);
    // The same schema keeps its id; a new one gets the next id, never a used one.
    assert_eq!(restarted.http("POST", "/subjects/a-value/versions", Some(&schema_body(&a2))).2, json!({"id": ids[1]}));
    let next = restarted.client().register("c-value", &record("C", r#"{"name":"w","type":"int"}"#)).expect("c");
    assert_eq!(next, ids.iter().max().expect("ids") + 1);
}

#[test]
fn two_registries_on_one_topic_see_each_others_changes_at_once() {
    let one = Registry::start();
    let two = Registry::on_topic(one.topic());
    let a1 = record("A", r#"{"name":"x","type":"long"}"#);
    let id = one.client().register("a-value", &a1).expect("register on one");
    // No waiting: a read catches up with the topic before it answers.
    assert_eq!(two.http("GET", "/subjects/a-value/versions/1", None).2["id"], json!(id));
    assert_eq!(two.http("GET", &format!("/schemas/ids/{id}"), None).2, json!({"schema": a1}));
    two.client().set_level(Some("a-value"), "NONE".parse().expect("level")).expect("level on two");
    assert_eq!(one.http("GET", "/config/a-value", None).2, json!({"compatibilityLevel": "NONE"}));
    // A change made on one registry governs registrations on the other.
    let incompatible = record("A", r#"{"name":"x","type":"string"}"#);
    assert!(one.client().register("a-value", &incompatible).is_ok(), "NONE set on the other registry applies");
    assert_eq!(one.http("DELETE", "/subjects/a-value", None).2, json!([1, 2]));
    assert_eq!(two.http("GET", "/subjects", None).2, json!([]));
}
