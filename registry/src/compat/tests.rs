//! The Avro rules one by one, and every level applied to them.

use super::*;

fn schema(text: &str) -> Schema {
    Schema::parse_str(text).unwrap_or_else(|e| panic!("test schema {text}: {e}"))
}

/// A record `maxx.test.R` with the given fields (JSON).
fn record(fields: &str) -> Schema {
    schema(&format!(r#"{{"type":"record","name":"R","namespace":"maxx.test","fields":[{fields}]}}"#))
}

const A: &str = r#"{"name":"a","type":"long"}"#;

fn ok(level: Level, new: &Schema, old: &[&Schema]) -> bool {
    let previous: Vec<(u32, &Schema)> = old.iter().enumerate().map(|(i, s)| (i as u32 + 1, *s)).collect();
    check(level, new, &previous).is_empty()
}

/// The levels under which `new` may follow `old` (single previous version).
fn allowed(new: &Schema, old: &Schema) -> Vec<Level> {
    Level::ALL.into_iter().filter(|level| ok(*level, new, &[old])).collect()
}

use Level::*;

#[test]
fn levels_parse_case_insensitively_and_print_as_confluent_names() {
    for level in Level::ALL {
        assert_eq!(level.as_str().parse::<Level>(), Ok(level));
        assert_eq!(level.as_str().to_lowercase().parse::<Level>(), Ok(level));
    }
    assert!("BACKWARDS".parse::<Level>().is_err());
    assert_eq!(Level::default(), Backward);
}

#[test]
fn adding_a_field_with_a_default_is_allowed_at_every_level() {
    let v1 = record(A);
    let v2 = record(&format!(r#"{A},{{"name":"b","type":["null","string"],"default":null}}"#));
    assert_eq!(allowed(&v2, &v1), Level::ALL.to_vec());
}

#[test]
fn adding_a_field_without_default_breaks_new_readers_of_old_data() {
    let v1 = record(A);
    let v2 = record(&format!(r#"{A},{{"name":"b","type":"string"}}"#));
    assert_eq!(allowed(&v2, &v1), vec![None, Forward, ForwardTransitive]);
    let violations = check(Backward, &v2, &[(1, &v1)]);
    assert_eq!(violations.len(), 1);
    let v = &violations[0];
    assert_eq!((v.direction, v.incompatibility.rule, v.incompatibility.location.as_str()), (Direction::NewReadsOld, Rule::FieldWithoutDefault, "R.b"));
    let text = v.to_string();
    assert!(text.contains("`b`") && text.contains("no default") && text.contains("consumers on the new schema could not read records written with version 1") && text.contains("Fix:"), "{text}");
}

#[test]
fn removing_a_field_without_default_breaks_old_readers_of_new_data() {
    let v1 = record(&format!(r#"{A},{{"name":"b","type":"string"}}"#));
    let v2 = record(A);
    assert_eq!(allowed(&v2, &v1), vec![None, Backward, BackwardTransitive]);
    let violations = check(Full, &v2, &[(1, &v1)]);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].direction, Direction::OldReadsNew);
    assert!(violations[0].to_string().contains("consumers still on version 1 could not read records written with the new schema"), "{}", violations[0]);
}

#[test]
fn removing_a_field_with_a_default_is_allowed_at_every_level() {
    let v1 = record(&format!(r#"{A},{{"name":"b","type":"string","default":"x"}}"#));
    let v2 = record(A);
    assert_eq!(allowed(&v2, &v1), Level::ALL.to_vec());
}

#[test]
fn promotions_widen_one_way_only() {
    let int = record(r#"{"name":"a","type":"int"}"#);
    let long = record(A);
    let float = record(r#"{"name":"a","type":"float"}"#);
    let double = record(r#"{"name":"a","type":"double"}"#);
    assert_eq!(allowed(&long, &int), vec![None, Backward, BackwardTransitive], "int -> long");
    assert_eq!(allowed(&double, &float), vec![None, Backward, BackwardTransitive], "float -> double");
    assert_eq!(allowed(&float, &long), vec![None, Backward, BackwardTransitive], "long -> float");
    assert_eq!(allowed(&int, &long), vec![None, Forward, ForwardTransitive], "long -> int narrows");
    let v = check(Backward, &int, &[(1, &long)]);
    assert_eq!(v[0].incompatibility.rule, Rule::TypeChange);
    assert!(v[0].incompatibility.detail.contains("long cannot be read as int"), "{}", v[0]);
}

#[test]
fn string_and_bytes_promote_both_ways() {
    let s = record(r#"{"name":"a","type":"string"}"#);
    let b = record(r#"{"name":"a","type":"bytes"}"#);
    assert_eq!(allowed(&b, &s), Level::ALL.to_vec());
}

#[test]
fn an_incompatible_type_change_breaks_both_ways() {
    let v1 = record(A);
    let v2 = record(r#"{"name":"a","type":"string"}"#);
    assert_eq!(allowed(&v2, &v1), vec![None]);
    let v = check(FullTransitive, &v2, &[(1, &v1)]);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v.iter().all(|v| v.incompatibility.rule == Rule::TypeChange && v.incompatibility.location == "R.a"));
}

#[test]
fn logical_types_read_through_their_underlying_type() {
    let plain = record(A);
    let micros = record(r#"{"name":"a","type":{"type":"long","logicalType":"timestamp-micros"}}"#);
    assert_eq!(allowed(&micros, &plain), Level::ALL.to_vec());
}

#[test]
fn a_decimal_keeps_its_scale() {
    let d = |p: u32, s: u32| record(&format!(r#"{{"name":"a","type":{{"type":"bytes","logicalType":"decimal","precision":{p},"scale":{s}}}}}"#));
    assert_eq!(allowed(&d(12, 2), &d(10, 2)), vec![None, Backward, BackwardTransitive], "more precision reads old data");
    let v = check(Backward, &d(10, 3), &[(1, &d(10, 2))]);
    assert_eq!(v[0].incompatibility.rule, Rule::DecimalChange);
}

#[test]
fn enum_symbols_added_break_old_readers_unless_they_have_a_default() {
    let e = |symbols: &str, default: &str| record(&format!(r#"{{"name":"side","type":{{"type":"enum","name":"Side","symbols":[{symbols}]{default}}}}}"#));
    let v1 = e(r#""BUY","SELL""#, "");
    let v2 = e(r#""BUY","SELL","HOLD""#, "");
    assert_eq!(allowed(&v2, &v1), vec![None, Backward, BackwardTransitive]);
    let v = check(Forward, &v2, &[(1, &v1)]);
    assert_eq!(v[0].incompatibility.rule, Rule::EnumSymbolMissing);
    assert!(v[0].incompatibility.detail.contains("`HOLD`"), "{}", v[0]);
    // With a default symbol in the old reader, unknown symbols read as the default.
    let v1_default = e(r#""BUY","SELL""#, r#","default":"BUY""#);
    let v2_default = e(r#""BUY","SELL","HOLD""#, r#","default":"BUY""#);
    assert_eq!(allowed(&v2_default, &v1_default), Level::ALL.to_vec());
    // Removing a symbol breaks new readers of old data.
    assert_eq!(allowed(&v1, &v2), vec![None, Forward, ForwardTransitive]);
}

#[test]
fn unions_widen_for_readers_and_narrow_for_writers() {
    let required = record(A);
    let optional = record(r#"{"name":"a","type":["null","long"],"default":null}"#);
    // long -> [null, long]: new readers read old longs; old readers cannot read a null.
    assert_eq!(allowed(&optional, &required), vec![None, Backward, BackwardTransitive]);
    let v = check(Forward, &optional, &[(1, &required)]);
    assert_eq!(v[0].incompatibility.rule, Rule::UnionBranchMissing);
    assert!(v[0].incompatibility.detail.contains("null"), "{}", v[0]);
    // Adding a branch to a union.
    let two = record(r#"{"name":"a","type":["null","long","string"],"default":null}"#);
    assert_eq!(allowed(&two, &optional), vec![None, Backward, BackwardTransitive]);
    // A branch promoted inside a union.
    let int_union = record(r#"{"name":"a","type":["null","int"],"default":null}"#);
    assert_eq!(allowed(&optional, &int_union), vec![None, Backward, BackwardTransitive]);
}

#[test]
fn a_changed_type_inside_a_union_is_explained_at_the_field() {
    let v1 = record(r#"{"name":"inner","type":["null",{"type":"record","name":"Inner","fields":[{"name":"x","type":"long"}]}],"default":null}"#);
    let v2 = record(r#"{"name":"inner","type":["null",{"type":"record","name":"Inner","fields":[{"name":"x","type":"long"},{"name":"y","type":"string"}]}],"default":null}"#);
    let v = check(Backward, &v2, &[(1, &v1)]);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!((v[0].incompatibility.rule, v[0].incompatibility.location.as_str()), (Rule::FieldWithoutDefault, "R.inner.y"));
}

#[test]
fn field_aliases_let_a_new_reader_find_a_renamed_field() {
    let v1 = record(r#"{"name":"qty","type":"long"}"#);
    let v2 = record(r#"{"name":"quantity","type":"long","aliases":["qty"]}"#);
    // The new reader finds `qty` through its alias; an old reader looks for `qty` in vain.
    assert_eq!(allowed(&v2, &v1), vec![None, Backward, BackwardTransitive]);
    // Without the alias the rename is a new field without default.
    let no_alias = record(r#"{"name":"quantity","type":"long"}"#);
    assert_eq!(check(Backward, &no_alias, &[(1, &v1)])[0].incompatibility.rule, Rule::FieldWithoutDefault);
}

#[test]
fn named_types_match_by_unqualified_name_or_reader_alias() {
    let v1 = schema(r#"{"type":"record","name":"Old","namespace":"maxx.a","fields":[{"name":"a","type":"long"}]}"#);
    let renamed = schema(r#"{"type":"record","name":"New","namespace":"maxx.a","fields":[{"name":"a","type":"long"}]}"#);
    let aliased = schema(r#"{"type":"record","name":"New","namespace":"maxx.a","aliases":["Old"],"fields":[{"name":"a","type":"long"}]}"#);
    let moved = schema(r#"{"type":"record","name":"Old","namespace":"maxx.b","fields":[{"name":"a","type":"long"}]}"#);
    assert_eq!(allowed(&renamed, &v1), vec![None]);
    assert_eq!(check(Backward, &renamed, &[(1, &v1)])[0].incompatibility.rule, Rule::NameChange);
    assert_eq!(allowed(&aliased, &v1), vec![None, Backward, BackwardTransitive], "the alias (relative to the namespace) names the old record");
    assert_eq!(allowed(&moved, &v1), Level::ALL.to_vec(), "a namespace change alone is compatible");
}

#[test]
fn fixed_sizes_must_match() {
    let f = |size: u32| record(&format!(r#"{{"name":"h","type":{{"type":"fixed","name":"Hash","size":{size}}}}}"#));
    assert_eq!(allowed(&f(32), &f(16)), vec![None]);
    assert_eq!(check(Backward, &f(32), &[(1, &f(16))])[0].incompatibility.rule, Rule::FixedSizeChange);
}

#[test]
fn arrays_and_maps_are_checked_item_by_item() {
    let v1 = record(r#"{"name":"xs","type":{"type":"array","items":"int"}},{"name":"m","type":{"type":"map","values":"int"}}"#);
    let v2 = record(r#"{"name":"xs","type":{"type":"array","items":"long"}},{"name":"m","type":{"type":"map","values":"string"}}"#);
    let v = check(Backward, &v2, &[(1, &v1)]);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].incompatibility.location, "R.m{}");
}

#[test]
fn recursive_types_are_compared_without_looping() {
    let list = |extra: &str| schema(&format!(r#"{{"type":"record","name":"Node","fields":[{{"name":"value","type":"long"}},{{"name":"next","type":["null","Node"],"default":null}}{extra}]}}"#));
    let v1 = list("");
    let v2 = list(r#",{"name":"label","type":"string","default":""}"#);
    assert_eq!(allowed(&v2, &v1), Level::ALL.to_vec());
    let v3 = list(r#",{"name":"label","type":"string"}"#);
    assert_eq!(allowed(&v3, &v1), vec![None, Forward, ForwardTransitive]);
}

#[test]
fn nested_records_report_the_full_path() {
    let v1 = record(r#"{"name":"producer","type":{"type":"record","name":"P","fields":[{"name":"agent","type":"string"}]}}"#);
    let v2 = record(r#"{"name":"producer","type":{"type":"record","name":"P","fields":[{"name":"agent","type":"long"}]}}"#);
    let v = check(Backward, &v2, &[(1, &v1)]);
    assert_eq!(v[0].incompatibility.location, "R.producer.agent");
}

/// v1 {a}, v2 {a, b default "x"}, v3 {a, b without default}: v3 reads v2's data but not v1's.
#[test]
fn backward_transitive_checks_every_earlier_version() {
    let v1 = record(A);
    let v2 = record(&format!(r#"{A},{{"name":"b","type":"string","default":"x"}}"#));
    let v3 = record(&format!(r#"{A},{{"name":"b","type":"string"}}"#));
    assert!(ok(Backward, &v3, &[&v1, &v2]));
    assert!(!ok(BackwardTransitive, &v3, &[&v1, &v2]));
    let v = check(BackwardTransitive, &v3, &[(1, &v1), (2, &v2)]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].version, 1, "version 1 is the one the new reader cannot read");
    assert!(ok(Full, &v3, &[&v1, &v2]));
    assert!(!ok(FullTransitive, &v3, &[&v1, &v2]));
}

/// v1 {a, b}, v2 {a, b default}, v3 {a}: v2 reads v3's data, v1 does not.
#[test]
fn forward_transitive_checks_every_earlier_version() {
    let v1 = record(&format!(r#"{A},{{"name":"b","type":"string"}}"#));
    let v2 = record(&format!(r#"{A},{{"name":"b","type":"string","default":"x"}}"#));
    let v3 = record(A);
    assert!(ok(Forward, &v3, &[&v1, &v2]));
    assert!(!ok(ForwardTransitive, &v3, &[&v1, &v2]));
    assert!(ok(Full, &v3, &[&v1, &v2]));
    assert!(!ok(FullTransitive, &v3, &[&v1, &v2]));
    assert_eq!(check(FullTransitive, &v3, &[(1, &v1), (2, &v2)]).iter().map(|v| (v.version, v.direction)).collect::<Vec<_>>(), vec![(1, Direction::OldReadsNew)]);
}

#[test]
fn none_allows_anything_and_a_first_version_needs_no_check() {
    let v1 = record(A);
    let other = schema(r#""string""#);
    assert!(ok(None, &other, &[&v1]));
    for level in Level::ALL {
        assert!(ok(level, &v1, &[]), "{level}");
    }
}

#[test]
fn every_event_schema_of_the_bus_is_compatible_with_itself_at_every_level() {
    for entry in maxx_events::catalog() {
        let s = (entry.schema)();
        for level in Level::ALL {
            assert!(ok(level, s, &[s]), "{} at {level}: {:?}", entry.topic, check(level, s, &[(1, s)]));
        }
    }
}
