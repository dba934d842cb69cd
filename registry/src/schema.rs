//! Schema text in, a checked Avro schema and its identity out.
//!
//! Two registrations are "the same schema" (and get the same id) when their
//! [`ParsedSchema::fingerprint`]s are equal. The fingerprint is the schema's JSON with
//! formatting, key order and the spelling of names normalized (full names everywhere, no
//! `namespace` keys, `{"type":"long"}` written `"long"`), and everything else kept.
//!
//! It is deliberately *not* Avro's Parsing Canonical Form: that form drops `logicalType`,
//! defaults, aliases and docs, so it would merge a `long` with a `timestamp-micros`, or two
//! schemas that differ only in a field default — which resolve data differently. Keeping
//! docs too is what Confluent does (it compares the schema's full text form), so a changed
//! doc is a new version there and here.

use std::fmt::Write as _;

use apache_avro::Schema;
use serde_json::Value;

/// Why a text is not a schema this registry accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// Not JSON at all.
    #[error("invalid schema: not JSON: {0}")]
    Json(String),
    /// JSON, but not a valid Avro schema.
    #[error("invalid schema: not a valid Avro schema: {0}")]
    Avro(String),
}

/// A schema accepted by the registry: its text, the parsed form and its identity.
#[derive(Debug, Clone)]
pub struct ParsedSchema {
    /// The text as registered (leading and trailing whitespace trimmed).
    pub text: String,
    /// The parsed schema.
    pub schema: Schema,
    /// The normalized form two registrations are compared by.
    pub fingerprint: String,
}

/// Parses and checks `text` as an Avro schema.
///
/// # Errors
/// [`SchemaError::Json`] when it is not JSON, [`SchemaError::Avro`] when it is JSON but not
/// a valid Avro schema (unknown type, missing name, a default that does not fit, ...).
pub fn parse(text: &str) -> Result<ParsedSchema, SchemaError> {
    let json: Value = serde_json::from_str(text).map_err(|e| SchemaError::Json(e.to_string()))?;
    // apache-avro means its parser to return errors, not panic, on bad input; the text comes
    // from any HTTP client, so a parser bug still must not become a crash.
    let schema = std::panic::catch_unwind(|| Schema::parse(&json))
        .map_err(|_| SchemaError::Avro("the Avro parser failed on this schema".into()))?
        .map_err(|e| SchemaError::Avro(e.to_string()))?;
    let mut fingerprint = String::with_capacity(text.len());
    write_normalized(&json, None, &mut fingerprint);
    Ok(ParsedSchema { text: text.trim().to_owned(), schema, fingerprint })
}

/// The fingerprint of a schema text, or the trimmed text itself when it does not parse
/// (stored records are compared this way, whatever they hold).
pub fn fingerprint_of(text: &str) -> String {
    parse(text).map(|p| p.fingerprint).unwrap_or_else(|_| text.trim().to_owned())
}

const PRIMITIVES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

/// `name` as a full name in `namespace`.
fn qualify(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') && !ns.is_empty() && !PRIMITIVES.contains(&name) => format!("{ns}.{name}"),
        _ => name.to_owned(),
    }
}

/// Writes the normalized form of a schema (`json`) whose enclosing namespace is `namespace`.
fn write_normalized(json: &Value, namespace: Option<&str>, out: &mut String) {
    match json {
        Value::String(name) => write_json_string(&qualify(name, namespace), out),
        Value::Array(branches) => {
            out.push('[');
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_normalized(branch, namespace, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // `{"type":"long"}` is `"long"`.
            if map.len() == 1 {
                if let Some(Value::String(t)) = map.get("type") {
                    if PRIMITIVES.contains(&t.as_str()) {
                        return write_json_string(t, out);
                    }
                }
            }
            let named = matches!(map.get("type"), Some(Value::String(t)) if matches!(t.as_str(), "record" | "error" | "enum" | "fixed"));
            let (full_name, own_namespace) = if named {
                let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
                let declared = map.get("namespace").and_then(Value::as_str).or(namespace);
                let full = qualify(name, declared);
                let ns = full.rsplit_once('.').map(|(ns, _)| ns.to_owned());
                (Some(full), ns)
            } else {
                (None, namespace.map(str::to_owned))
            };
            let mut keys: Vec<&String> = map.keys().filter(|k| !(named && k.as_str() == "namespace")).collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                let value = &map[key];
                match key.as_str() {
                    "name" if named => write_json_string(full_name.as_deref().unwrap_or_default(), out),
                    "aliases" if named => match value {
                        Value::Array(aliases) => {
                            let qualified: Vec<Value> = aliases
                                .iter()
                                .map(|a| a.as_str().map_or_else(|| a.clone(), |a| Value::String(qualify(a, own_namespace.as_deref()))))
                                .collect();
                            out.push_str(&Value::Array(qualified).to_string());
                        }
                        other => out.push_str(&other.to_string()),
                    },
                    "type" | "items" | "values" => write_normalized(value, own_namespace.as_deref(), out),
                    "fields" => match value {
                        Value::Array(fields) => {
                            out.push('[');
                            for (i, field) in fields.iter().enumerate() {
                                if i > 0 {
                                    out.push(',');
                                }
                                write_field(field, own_namespace.as_deref(), out);
                            }
                            out.push(']');
                        }
                        other => out.push_str(&other.to_string()),
                    },
                    _ => write_sorted(value, out),
                }
            }
            out.push('}');
        }
        other => write_sorted(other, out),
    }
}

/// A record field: its `type` is a schema, everything else is data.
fn write_field(field: &Value, namespace: Option<&str>, out: &mut String) {
    let Value::Object(map) = field else { return write_sorted(field, out) };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(key, out);
        out.push(':');
        if key == "type" {
            write_normalized(&map[key], namespace, out);
        } else {
            write_sorted(&map[key], out);
        }
    }
    out.push('}');
}

/// JSON data (defaults, docs, custom properties) with object keys sorted.
fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_sorted(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push_str(&Value::String(s.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use maxx_events::Event as _;

    use super::*;

    fn fp(text: &str) -> String {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).fingerprint
    }

    #[test]
    fn formatting_key_order_and_name_spelling_do_not_matter() {
        let a = r#"{"type":"record","name":"T","namespace":"maxx.x","fields":[{"name":"a","type":"long"},{"name":"n","type":{"type":"record","name":"N","fields":[{"name":"b","type":{"type":"string"}}]}},{"name":"m","type":"N"}]}"#;
        let b = r#"{
            "fields": [ {"type": "long", "name": "a"},
                        {"name": "n", "type": {"name": "maxx.x.N", "type": "record", "fields": [{"name": "b", "type": "string"}]}},
                        {"name": "m", "type": "maxx.x.N"} ],
            "name": "maxx.x.T", "type": "record" }"#;
        assert_eq!(fp(a), fp(b));
    }

    #[test]
    fn logical_types_defaults_aliases_and_field_order_make_a_different_schema() {
        let base = r#"{"type":"record","name":"T","fields":[{"name":"a","type":"long"},{"name":"b","type":"int","default":1}]}"#;
        let variants = [
            r#"{"type":"record","name":"T","fields":[{"name":"a","type":{"type":"long","logicalType":"timestamp-micros"}},{"name":"b","type":"int","default":1}]}"#,
            r#"{"type":"record","name":"T","fields":[{"name":"a","type":"long"},{"name":"b","type":"int","default":2}]}"#,
            r#"{"type":"record","name":"T","fields":[{"name":"a","type":"long","aliases":["x"]},{"name":"b","type":"int","default":1}]}"#,
            r#"{"type":"record","name":"T","fields":[{"name":"b","type":"int","default":1},{"name":"a","type":"long"}]}"#,
        ];
        for variant in variants {
            assert_ne!(fp(base), fp(variant), "{variant}");
        }
    }

    #[test]
    fn bad_text_is_told_apart_from_bad_avro() {
        assert!(matches!(parse("{not json"), Err(SchemaError::Json(_))));
        assert!(matches!(parse(r#"{"type":"record","name":"T"}"#), Err(SchemaError::Avro(_))));
        assert!(matches!(parse(r#"{"type":"nonsense"}"#), Err(SchemaError::Avro(_))));
        assert!(matches!(parse(r#"{"type":"record","name":"T","fields":[{"name":"a","type":"long","default":"x"}]}"#), Err(SchemaError::Avro(_))));
        assert!(matches!(parse("42"), Err(SchemaError::Avro(_))));
        assert!(parse(r#""string""#).is_ok());
    }

    proptest::proptest! {
        /// Any text, and any single-byte corruption of a real schema, gives an answer, never a
        /// panic.
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}", at in 0usize..2000, byte in 0u8..128) {
            let _ = parse(&text);
            let mut corrupted = maxx_events::Tick::SCHEMA_TEXT.as_bytes().to_vec();
            let at = at % corrupted.len();
            corrupted[at] = byte;
            let _ = parse(&String::from_utf8_lossy(&corrupted));
        }
    }

    #[test]
    fn every_event_schema_parses() {
        for entry in maxx_events::catalog() {
            parse(entry.text).unwrap_or_else(|e| panic!("{}: {e}", entry.topic));
        }
    }
}
