//! Proves that every Rust event type and its `.avsc` file agree, and that the schema files
//! keep the bus's rules (envelope, exact numbers, documented fields, versioned files).
//!
//! Two independent checks per type: the schema derived from the Rust type must equal the
//! `.avsc` structurally (names, field order, types, logical types, defaults, symbols), and
//! random values generated from the `.avsc` must survive a trip through the typed codec.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, RecordField, ResolvedSchema, UuidSchema};
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use maxx_events::{catalog, for_each_event, Codec, Event};
use proptest::prelude::*;

type Names<'a> = HashMap<Name, &'a Schema>;

fn names(schema: &Schema) -> Names<'_> {
    ResolvedSchema::try_from(schema).expect("schema resolves").get_names().clone()
}

fn deref<'a>(schema: &'a Schema, names: &Names<'a>) -> &'a Schema {
    match schema {
        Schema::Ref { name } => names.get(name).copied().unwrap_or(schema),
        other => other,
    }
}

/// Every structural difference between `file` (the `.avsc`) and `derived` (the Rust type).
fn differences(path: &str, file: &Schema, fnames: &Names, derived: &Schema, dnames: &Names, out: &mut Vec<String>) {
    let (file, derived) = (deref(file, fnames), deref(derived, dnames));
    let mut differ = |what: String| out.push(format!("{path}: {what}"));
    match (file, derived) {
        (Schema::Record(f), Schema::Record(d)) => {
            if f.name != d.name {
                differ(format!("record name {} in the file, {} in Rust", f.name, d.name));
            }
            let fields = |r: &[RecordField]| r.iter().map(|x| x.name.clone()).collect::<Vec<_>>();
            if fields(&f.fields) != fields(&d.fields) {
                differ(format!("fields {:?} in the file, {:?} in Rust", fields(&f.fields), fields(&d.fields)));
                return;
            }
            for (ff, df) in f.fields.iter().zip(&d.fields) {
                let here = format!("{path}.{}", ff.name);
                if ff.default != df.default {
                    out.push(format!("{here}: default {:?} in the file, {:?} in Rust", ff.default, df.default));
                }
                differences(&here, &ff.schema, fnames, &df.schema, dnames, out);
            }
        }
        (Schema::Enum(f), Schema::Enum(d)) => {
            if f.name != d.name || f.symbols != d.symbols {
                differ(format!("enum {} {:?} in the file, {} {:?} in Rust", f.name, f.symbols, d.name, d.symbols));
            }
        }
        (Schema::Union(f), Schema::Union(d)) => {
            if f.variants().len() != d.variants().len() {
                differ(format!("{} union branches in the file, {} in Rust", f.variants().len(), d.variants().len()));
                return;
            }
            for (i, (fv, dv)) in f.variants().iter().zip(d.variants()).enumerate() {
                differences(&format!("{path}[branch {i}]"), fv, fnames, dv, dnames, out);
            }
        }
        (Schema::Array(f), Schema::Array(d)) => differences(&format!("{path}[]"), &f.items, fnames, &d.items, dnames, out),
        (Schema::Map(f), Schema::Map(d)) => differences(&format!("{path}{{}}"), &f.types, fnames, &d.types, dnames, out),
        (Schema::Uuid(f), Schema::Uuid(d)) => {
            if std::mem::discriminant(f) != std::mem::discriminant(d) {
                differ(format!("uuid as {f:?} in the file, {d:?} in Rust"));
            }
        }
        (f, d) => {
            let kind = |s: &Schema| apache_avro::schema::SchemaKind::from(s);
            if kind(f) != kind(d) {
                differ(format!("{:?} in the file, {:?} in Rust", kind(f), kind(d)));
            }
        }
    }
}

fn disagreements<T: Event>() -> Vec<String> {
    let (file, derived) = (T::schema(), T::get_schema());
    let mut out = Vec::new();
    differences(T::TOPIC, file, &names(file), &derived, &names(&derived), &mut out);
    out
}

#[test]
fn every_rust_type_matches_its_avsc() {
    let mut all = Vec::new();
    macro_rules! check {
        ($t:ty) => {
            all.extend(disagreements::<$t>())
        };
    }
    for_each_event!(check);
    assert!(all.is_empty(), "Rust types and .avsc files disagree:\n{}", all.join("\n"));
}

/// The comparison itself must see a drift: a type that lost a field, renamed one, changed a
/// type or a logical type is reported.
#[test]
fn a_drifted_type_is_reported() {
    let file = maxx_events::Fill::schema();
    let drifted = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut json: serde_json::Value = serde_json::from_str(maxx_events::Fill::SCHEMA_TEXT).expect("json");
        edit(&mut json);
        let derived = Schema::parse(&json).expect("still valid avro");
        let mut out = Vec::new();
        differences("fills", file, &names(file), &derived, &names(&derived), &mut out);
        out
    };
    let fields = |j: &mut serde_json::Value| j["fields"].as_array_mut().expect("fields").clone();
    let set_fields = |j: &mut serde_json::Value, f: Vec<serde_json::Value>| j["fields"] = f.into();
    assert!(!drifted(&|j| { let mut f = fields(j); f.pop(); set_fields(j, f) }).is_empty(), "dropped field");
    assert!(!drifted(&|j| j["fields"][4]["name"] = "order".into()).is_empty(), "renamed field");
    assert!(!drifted(&|j| j["fields"][7]["type"] = "double".into()).is_empty(), "long became double");
    assert!(!drifted(&|j| j["fields"][1]["type"] = "long".into()).is_empty(), "lost timestamp logical type");
    assert!(!drifted(&|j| j["fields"][0]["type"] = serde_json::json!({"type": "fixed", "size": 16, "name": "U", "logicalType": "uuid"})).is_empty(), "uuid as fixed");
    assert!(!drifted(&|j| j["fields"][6]["type"]["symbols"] = serde_json::json!(["BUY", "SELL", "HOLD"])).is_empty(), "enum symbol");
    assert!(drifted(&|_| {}).is_empty(), "an unchanged schema agrees with itself");
}

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// `schemas/<topic>/v<N>.avsc` files by topic, with their versions sorted.
fn schema_files() -> BTreeMap<String, Vec<u32>> {
    let mut topics = BTreeMap::new();
    for dir in std::fs::read_dir(schemas_dir()).expect("schemas/ exists") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let topic = dir.file_name().and_then(|n| n.to_str()).expect("utf-8 name").to_owned();
        let mut versions: Vec<u32> = std::fs::read_dir(&dir)
            .expect("topic dir")
            .map(|f| f.expect("entry").file_name().to_string_lossy().into_owned())
            .map(|f| {
                f.strip_prefix('v')
                    .and_then(|v| v.strip_suffix(".avsc"))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("schemas/{topic}/{f} is not named v<N>.avsc"))
            })
            .collect();
        versions.sort_unstable();
        topics.insert(topic, versions);
    }
    topics
}

#[test]
fn every_topic_has_a_type_bound_to_its_latest_schema_version() {
    let files = schema_files();
    let bound: BTreeMap<String, u32> = catalog().iter().map(|e| (e.topic.to_owned(), e.version)).collect();
    assert_eq!(files.keys().collect::<Vec<_>>(), bound.keys().collect::<Vec<_>>(), "topics with schemas vs topics with Rust types");
    for (topic, versions) in &files {
        let expected: Vec<u32> = (1..=versions.len() as u32).collect();
        assert_eq!(versions, &expected, "schemas/{topic}: versions must run v1, v2, ... with none removed");
        assert_eq!(Some(&bound[topic]), versions.last(), "{topic}: the Rust type must read and write the latest version");
    }
}

/// Every `.avsc` parses, and its text on disk is the text compiled into the binary.
#[test]
fn every_schema_file_parses_and_is_the_embedded_one() {
    for entry in catalog() {
        let path = schemas_dir().join(entry.topic).join(format!("v{}.avsc", entry.version));
        let on_disk = std::fs::read_to_string(&path).expect("schema file");
        assert_eq!(on_disk, entry.text, "{}", path.display());
        Schema::parse_str(entry.text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

fn walk_fields(json: &serde_json::Value, path: &str, visit: &mut dyn FnMut(&str, &serde_json::Value)) {
    match json {
        serde_json::Value::Object(map) => {
            if let Some(fields) = map.get("fields").and_then(|f| f.as_array()) {
                for field in fields {
                    let name = field["name"].as_str().unwrap_or("?");
                    visit(&format!("{path}.{name}"), field);
                    walk_fields(&field["type"], &format!("{path}.{name}"), visit);
                }
            }
            for key in ["items", "values"] {
                if let Some(inner) = map.get(key) {
                    walk_fields(inner, path, visit);
                }
            }
        }
        serde_json::Value::Array(branches) => branches.iter().for_each(|b| walk_fields(b, path, visit)),
        _ => {}
    }
}

/// The bus's rules for every version of every schema (released versions included).
#[test]
fn every_schema_keeps_the_envelope_exact_numbers_and_field_docs() {
    let mut problems = Vec::new();
    for (topic, versions) in schema_files() {
        for version in versions {
            let path = schemas_dir().join(&topic).join(format!("v{version}.avsc"));
            let text = std::fs::read_to_string(&path).expect("schema file");
            let json: serde_json::Value = serde_json::from_str(&text).expect("json");
            let at = format!("{topic}/v{version}");
            let field = |i: usize| json["fields"][i].clone();
            if field(0)["name"] != "event_id" || field(0)["type"] != serde_json::json!({"type": "string", "logicalType": "uuid"}) {
                problems.push(format!("{at}: first field must be event_id, a uuid string"));
            }
            if field(1)["name"] != "event_time" || field(1)["type"]["logicalType"] != "timestamp-micros" {
                problems.push(format!("{at}: second field must be event_time, timestamp-micros"));
            }
            if field(2)["name"] != "producer" || field(2)["type"]["name"] != "Producer" {
                problems.push(format!("{at}: third field must be producer"));
            }
            if text.contains("\"double\"") || text.contains("\"float\"") {
                problems.push(format!("{at}: binary floating point on the wire; use fixed-point longs"));
            }
            walk_fields(&json, &at, &mut |path, field| {
                if field["doc"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("{path}: field has no doc (say its unit)"));
                }
            });
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A small deterministic generator (SplitMix64), seeded by proptest.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn text(&mut self) -> String {
        const CHARS: &[char] = &['a', 'Z', '0', '-', ' ', 'é', '€', '日', '🚀', '"', '\\'];
        (0..self.below(12)).map(|_| CHARS[self.below(CHARS.len())]).collect()
    }
}

/// A random value of `schema`, covering every branch and extreme the schema allows.
fn random_value(schema: &Schema, names: &Names, rng: &mut Rng) -> Value {
    match deref(schema, names) {
        Schema::Null => Value::Null,
        Schema::Boolean => Value::Boolean(rng.next().is_multiple_of(2)),
        Schema::Int => Value::Int(rng.next() as i32),
        Schema::Long => Value::Long([i64::MIN, i64::MAX, 0, -1, rng.next() as i64][rng.below(5)]),
        Schema::TimestampMicros => Value::TimestampMicros(rng.next() as i64),
        Schema::String => Value::String(rng.text()),
        Schema::Bytes => Value::Bytes((0..rng.below(16)).map(|_| rng.next() as u8).collect()),
        Schema::Uuid(UuidSchema::String) => Value::Uuid(uuid::Uuid::from_u128(u128::from(rng.next()) << 64 | u128::from(rng.next()))),
        Schema::Record(record) => Value::Record(
            record.fields.iter().map(|f| (f.name.clone(), random_value(&f.schema, names, rng))).collect(),
        ),
        Schema::Enum(e) => {
            let i = rng.below(e.symbols.len());
            Value::Enum(i as u32, e.symbols[i].clone())
        }
        Schema::Union(u) => {
            let i = rng.below(u.variants().len());
            Value::Union(i as u32, Box::new(random_value(&u.variants()[i], names, rng)))
        }
        Schema::Array(a) => Value::Array((0..rng.below(4)).map(|_| random_value(&a.items, names, rng)).collect()),
        Schema::Map(m) => Value::Map((0..rng.below(4)).map(|_| (rng.text(), random_value(&m.types, names, rng))).collect()),
        other => panic!("the generator does not know {other:?}: extend it for the new schema"),
    }
}

/// Encodes a random value with the generic Avro writer, decodes it as `T` with the codec,
/// re-encodes `T`, and checks the generic reader gets the same value back.
fn round_trips<T: Event>(seed: u64) -> Result<(), TestCaseError> {
    let schema = T::schema();
    let names = names(schema);
    let value = random_value(schema, &names, &mut Rng(seed));
    let payload = GenericDatumWriter::builder(schema).build().expect("writer").write_value_to_vec(value.clone()).expect("generated value fits its schema");
    let codec = Codec::<T>::new(7).expect("codec");
    let framed = [&[0, 0, 0, 0, 7][..], &payload].concat();
    let typed = codec.decode(&framed).map_err(|e| TestCaseError::fail(format!("{}: {e}", T::TOPIC)))?;
    let again = codec.encode(&typed).map_err(|e| TestCaseError::fail(format!("{}: {e}", T::TOPIC)))?;
    let mut rest = &again[5..];
    let back = GenericDatumReader::builder(schema).build().expect("reader").read_value(&mut rest).expect("re-encoded bytes decode");
    prop_assert_eq!(back, value, "{} changed on the way through its Rust type", T::TOPIC);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_values_of_every_schema_survive_their_rust_type(seed in any::<u64>()) {
        macro_rules! trip { ($t:ty) => { round_trips::<$t>(seed)? }; }
        for_each_event!(trip);
    }
}
