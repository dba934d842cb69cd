//! The fold and the plans, without Kafka: a `Vec` stands in for the log.

use super::*;

/// A log in memory: plans are applied by appending and folding, as the store does.
#[derive(Default)]
struct Log {
    records: Vec<LogRecord>,
    state: State,
}

impl Log {
    fn append<T>(&mut self, planned: Result<Planned<T>, Error>) -> Result<T, Error> {
        let planned = planned?;
        for record in planned.records {
            self.state.apply(&record.key, record.value.as_deref()).expect("own records fold");
            self.records.push(record);
        }
        Ok(planned.answer)
    }
    fn register(&mut self, subject: &str, text: &str) -> Result<u32, Error> {
        let parsed = schema::parse(text).expect("valid schema");
        let plan = self.state.plan_register(subject, &parsed);
        self.append(plan)
    }
    /// The state a fresh reader folds from the log, and from the log compacted (latest value
    /// per key, tombstones dropped).
    fn refold(&self) -> (State, State) {
        let mut full = State::default();
        for r in &self.records {
            full.apply(&r.key, r.value.as_deref()).expect("fold");
        }
        let mut latest: Vec<&LogRecord> = Vec::new();
        for (i, r) in self.records.iter().enumerate() {
            if !self.records[i + 1..].iter().any(|later| later.key == r.key) && r.value.is_some() {
                latest.push(r);
            }
        }
        let mut compacted = State::default();
        for r in latest {
            compacted.apply(&r.key, r.value.as_deref()).expect("fold");
        }
        (full, compacted)
    }
}

fn record(fields: &str) -> String {
    format!(r#"{{"type":"record","name":"R","fields":[{fields}]}}"#)
}

/// Per subject: `(version, id, schema)` of every version.
type Summary = Vec<(String, Vec<(u32, u32, String)>)>;

fn summary(state: &State) -> Summary {
    state
        .subjects(true)
        .into_iter()
        .map(|s| {
            let versions = state
                .versions(&s, true)
                .expect("subject")
                .into_iter()
                .map(|v| {
                    let shown = state.version(&s, VersionSpec::Number(v), true).expect("version");
                    (v, shown.id, shown.schema)
                })
                .collect();
            (s, versions)
        })
        .collect()
}

#[test]
fn ids_are_global_and_stable_versions_count_per_subject() {
    let mut log = Log::default();
    let v1 = record(r#"{"name":"a","type":"long"}"#);
    let v2 = record(r#"{"name":"a","type":"long"},{"name":"b","type":["null","string"],"default":null}"#);
    assert_eq!(log.register("a-value", &v1), Ok(1));
    assert_eq!(log.register("a-value", &v1), Ok(1), "the same schema again: same id, no new version");
    assert_eq!(log.register("a-value", &format!("  {v1}\n")), Ok(1), "whitespace does not make a new schema");
    assert_eq!(log.register("a-value", &v2), Ok(2));
    assert_eq!(log.register("b-value", &v2), Ok(2), "the same schema under another subject keeps its id");
    assert_eq!(log.state.versions("a-value", false), Ok(vec![1, 2]));
    assert_eq!(log.state.versions("b-value", false), Ok(vec![1]));
    assert_eq!(log.state.version("a-value", VersionSpec::Latest, false).map(|v| v.id), Ok(2));
    assert_eq!(log.state.usages(2, false), vec![("a-value".into(), 2), ("b-value".into(), 1)]);
    assert_eq!(log.records.len(), 3, "only new versions are written");
}

#[test]
fn a_refold_and_a_compacted_refold_agree_with_the_live_state() {
    let mut log = Log::default();
    log.register("a-value", &record(r#"{"name":"a","type":"long"}"#)).expect("v1");
    log.register("a-value", &record(r#"{"name":"a","type":"long"},{"name":"b","type":"int","default":0}"#)).expect("v2");
    log.register("b-value", &record(r#"{"name":"x","type":"string"}"#)).expect("b");
    let set = log.state.plan_set_level(Some("a-value"), Level::Full);
    log.append(Ok(set)).expect("level");
    let soft = log.state.plan_delete_version("a-value", VersionSpec::Number(1), false);
    log.append(soft).expect("soft delete");
    let soft = log.state.plan_delete_subject("b-value", false);
    log.append(soft).expect("soft delete subject");
    let hard = log.state.plan_delete_subject("b-value", true);
    log.append(hard).expect("hard delete subject");
    let (full, compacted) = log.refold();
    assert_eq!(summary(&full), summary(&log.state));
    assert_eq!(summary(&compacted), summary(&log.state));
    assert_eq!(compacted.level(Some("a-value")), Some(Level::Full));
    assert_eq!(log.state.subjects(false), vec!["a-value".to_string()]);
    assert_eq!(log.state.versions("a-value", false), Ok(vec![2]));
    assert_eq!(log.state.versions("a-value", true), Ok(vec![1, 2]));
}

#[test]
fn incompatible_schemas_are_refused_with_the_reason() {
    let mut log = Log::default();
    log.register("a-value", &record(r#"{"name":"a","type":"long"}"#)).expect("v1");
    let err = log.register("a-value", &record(r#"{"name":"a","type":"string"}"#)).expect_err("type change");
    assert_eq!(err.code(), 409);
    let message = err.to_string();
    assert!(message.contains("R.a") && message.contains("type change") && message.contains("BACKWARD"), "{message}");
    // NONE lets it through, as a new version with a new id.
    let none = log.state.plan_set_level(Some("a-value"), Level::None);
    log.append(Ok(none)).expect("level");
    assert_eq!(log.register("a-value", &record(r#"{"name":"a","type":"string"}"#)), Ok(2));
    // The global level governs subjects without their own.
    let global = log.state.plan_set_level(None, Level::Forward);
    log.append(Ok(global)).expect("global");
    assert_eq!(log.state.effective_level("other-value"), Level::Forward);
    assert_eq!(log.state.effective_level("a-value"), Level::None);
}

#[test]
fn deletion_rules_follow_confluent() {
    let mut log = Log::default();
    let v1 = record(r#"{"name":"a","type":"long"}"#);
    log.register("a-value", &v1).expect("v1");
    let code = |r: Result<Planned<u32>, Error>| r.map(|p| p.answer).map_err(|e| e.code());
    assert_eq!(code(log.state.plan_delete_version("a-value", VersionSpec::Number(1), true)), Err(40407), "permanent needs soft first");
    assert_eq!(code(log.state.plan_delete_version("a-value", VersionSpec::Number(9), false)), Err(40402));
    assert_eq!(code(log.state.plan_delete_version("nope", VersionSpec::Latest, false)), Err(40401));
    let soft = log.state.plan_delete_version("a-value", VersionSpec::Latest, false);
    assert_eq!(log.append(soft), Ok(1));
    assert_eq!(code(log.state.plan_delete_version("a-value", VersionSpec::Number(1), false)), Err(40406));
    assert_eq!(log.state.versions("a-value", false).map_err(|e| e.code()), Err(40401), "no live version left");
    assert_eq!(log.state.plan_delete_subject("a-value", false).map_err(|e| e.code()), Err(40404));
    // The id still resolves while a soft-deleted version holds it: old records stay readable.
    assert!(log.state.schema_by_id(1).is_some());
    // Re-registering after a soft delete makes a new version with the same id.
    assert_eq!(log.register("a-value", &v1), Ok(1));
    assert_eq!(log.state.versions("a-value", false), Ok(vec![2]));
    let soft = log.state.plan_delete_subject("a-value", false);
    assert_eq!(log.append(soft), Ok(vec![2]));
    let hard = log.state.plan_delete_subject("a-value", true);
    assert_eq!(log.append(hard), Ok(vec![1, 2]));
    assert!(log.state.schema_by_id(1).is_none(), "permanently deleted everywhere");
    assert_eq!(log.state.subjects(true), Vec::<String>::new());
    // Ids are not reused while the fold remembers them.
    assert_eq!(log.register("a-value", &record(r#"{"name":"z","type":"long"}"#)), Ok(2));
}

#[test]
fn subject_levels_are_set_read_and_removed() {
    let mut log = Log::default();
    assert_eq!(log.state.plan_delete_level(Some("a-value")).map_err(|e| e.code()), Err(40408));
    let set = log.state.plan_set_level(Some("a-value"), Level::FullTransitive);
    log.append(Ok(set)).expect("set");
    assert_eq!(log.state.plan_set_level(Some("a-value"), Level::FullTransitive).records.len(), 0, "idempotent");
    assert_eq!(log.state.level(Some("a-value")), Some(Level::FullTransitive));
    let removed = log.state.plan_delete_level(Some("a-value"));
    assert_eq!(log.append(removed), Ok(Level::FullTransitive));
    assert_eq!(log.state.level(Some("a-value")), None);
}

#[test]
fn lookup_and_compatibility_tests() {
    let mut log = Log::default();
    let v1 = record(r#"{"name":"a","type":"long"}"#);
    log.register("a-value", &v1).expect("v1");
    let parsed = schema::parse(&v1).expect("parse");
    assert_eq!(log.state.lookup("a-value", &parsed, false).map(|v| (v.version, v.id)), Ok((1, 1)));
    assert_eq!(log.state.lookup("b-value", &parsed, false).map_err(|e| e.code()), Err(40401));
    let other = schema::parse(&record(r#"{"name":"b","type":"long"}"#)).expect("parse");
    assert_eq!(log.state.lookup("a-value", &other, false).map_err(|e| e.code()), Err(40403));
    assert_eq!(log.state.test_compatibility("a-value", Some(VersionSpec::Number(1)), &other).map(|v| v.len()), Ok(1));
    assert_eq!(log.state.test_compatibility("a-value", Some(VersionSpec::Number(2)), &other).map_err(|e| e.code()), Err(40402));
    assert_eq!(log.state.test_compatibility("b-value", Some(VersionSpec::Latest), &other).map_err(|e| e.code()), Err(40401));
    assert_eq!(log.state.test_compatibility("b-value", None, &other), Ok(Vec::new()));
}

#[test]
fn records_it_does_not_understand_are_skipped_not_fatal() {
    let mut state = State::default();
    assert!(state.apply(b"not json", Some(b"x")).is_err());
    assert!(state.apply(br#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#, Some(b"{bad")).is_err());
    assert!(state.apply(br#"{"keytype":"NOOP","magic":0}"#, None).is_ok());
    assert!(state.apply(br#"{"keytype":"CONFIG","subject":null,"magic":0}"#, Some(br#"{"compatibilityLevel":"SIDEWAYS"}"#)).is_err());
    // A schema record whose text is not Avro is kept (served by id) but never compared.
    state
        .apply(br#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#, Some(br#"{"subject":"s","version":1,"id":7,"schema":"{oops","deleted":false}"#))
        .expect("stored");
    assert_eq!(state.skipped(), 3);
    assert_eq!(state.max_id(), 7);
    assert_eq!(state.schema_by_id(7).map(|s| s.text.as_str()), Some("{oops"));
}

#[test]
fn versions_parse_like_confluent() {
    assert_eq!(VersionSpec::parse("latest"), Ok(VersionSpec::Latest));
    assert_eq!(VersionSpec::parse("-1"), Ok(VersionSpec::Latest));
    assert_eq!(VersionSpec::parse("3"), Ok(VersionSpec::Number(3)));
    for bad in ["0", "-2", "abc", "2147483648", ""] {
        assert_eq!(VersionSpec::parse(bad).map_err(|e| e.code()), Err(42202), "{bad}");
    }
}
