//! Avro schema compatibility: which readers can read which writers' data, and the
//! compatibility levels a subject can hold (NONE, BACKWARD, FORWARD, FULL and their
//! `_TRANSITIVE` forms).
//!
//! Written over [`apache_avro::Schema`] rather than on `apache_avro::schema_compatibility`,
//! which knows no levels, cannot say *why* a pair is incompatible, counts a partly
//! overlapping enum or union as a vague `Partial`, and ignores aliases. This engine follows
//! the schema-resolution rules of the Avro specification (as Confluent's registry applies
//! them through Java's `SchemaCompatibility`):
//!
//! - a reader field missing from the writer needs a default; a writer field missing from the
//!   reader is skipped;
//! - fields and named types match by name or by one of the *reader's* aliases; named types
//!   match on their unqualified name (a namespace change alone is compatible);
//! - the promotions int→long/float/double, long→float/double, float→double and
//!   string↔bytes;
//! - every writer enum symbol must be a reader symbol unless the reader's enum has a default;
//! - every branch a writer union can hold must be readable by the reader (a reader union
//!   reads a writer value when any of its branches does);
//! - fixed sizes must be equal.
//!
//! Logical types are read through their underlying type (changing `long` to
//! `timestamp-micros` is compatible, as in Java), with one stricter rule: a decimal may not
//! change its scale or lose precision, because the same bytes would then mean another number.
//!
//! Every finding is an [`Incompatibility`] that names the field, the rule and, once a level
//! is applied ([`check`]), which reader breaks — so `maxx schemas check` and the registry's
//! 409 answers tell a developer what to change.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use apache_avro::schema::{InnerDecimalSchema, Name, RecordSchema, UuidSchema};
use apache_avro::Schema;

/// A subject's compatibility level: which earlier versions a new version is checked against,
/// and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Level {
    /// No check.
    None,
    /// The new schema reads data written with the latest version (consumers upgrade first).
    #[default]
    Backward,
    /// The new schema reads data written with every earlier version.
    BackwardTransitive,
    /// The latest version reads data written with the new schema (producers upgrade first).
    Forward,
    /// Every earlier version reads data written with the new schema.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every earlier version.
    FullTransitive,
}

impl Level {
    /// Every level, in Confluent's order.
    pub const ALL: [Level; 7] = [
        Level::None,
        Level::Backward,
        Level::BackwardTransitive,
        Level::Forward,
        Level::ForwardTransitive,
        Level::Full,
        Level::FullTransitive,
    ];

    /// The name Confluent's API uses, e.g. `BACKWARD_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "NONE",
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether the new schema must read the data of earlier versions.
    pub fn backward(self) -> bool {
        matches!(self, Level::Backward | Level::BackwardTransitive | Level::Full | Level::FullTransitive)
    }

    /// Whether earlier versions must read the data of the new schema.
    pub fn forward(self) -> bool {
        matches!(self, Level::Forward | Level::ForwardTransitive | Level::Full | Level::FullTransitive)
    }

    /// Whether every earlier version counts, not only the latest.
    pub fn transitive(self) -> bool {
        matches!(self, Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a compatibility level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a compatibility level; use one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE")]
pub struct InvalidLevel(pub String);

impl FromStr for Level {
    type Err = InvalidLevel;

    /// Parses a level name; case-insensitive, as Confluent accepts it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL.into_iter().find(|level| level.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| InvalidLevel(s.to_owned()))
    }
}

/// The rule of Avro schema resolution an incompatibility breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The reader has a field the writer's data lacks, and the field has no default.
    FieldWithoutDefault,
    /// The types differ and Avro has no promotion from the writer's to the reader's.
    TypeChange,
    /// Two named types (record, enum, fixed) have different names and no alias joins them.
    NameChange,
    /// The writer's enum has symbols the reader's lacks, and the reader's has no default.
    EnumSymbolMissing,
    /// A writer union branch (or a writer type) has no branch in the reader's union.
    UnionBranchMissing,
    /// Two fixed types differ in size.
    FixedSizeChange,
    /// A decimal changes its scale or loses precision.
    DecimalChange,
}

impl Rule {
    /// A short name of the rule.
    pub fn name(self) -> &'static str {
        match self {
            Rule::FieldWithoutDefault => "field without default",
            Rule::TypeChange => "type change",
            Rule::NameChange => "name change",
            Rule::EnumSymbolMissing => "enum symbol missing",
            Rule::UnionBranchMissing => "union branch missing",
            Rule::FixedSizeChange => "fixed size change",
            Rule::DecimalChange => "decimal change",
        }
    }

    /// What a developer usually does about it.
    pub fn advice(self) -> &'static str {
        match self {
            Rule::FieldWithoutDefault => "give the field a default (an optional field is `[\"null\", T]` with `\"default\": null`), or keep the field in the schema",
            Rule::TypeChange => "keep the old type, or add a new field with the new type (with a default) and stop writing the old one",
            Rule::NameChange => "keep the name, or list the old full name in the new type's `aliases`",
            Rule::EnumSymbolMissing => "keep the symbols, or give the reader's enum a `default` symbol",
            Rule::UnionBranchMissing => "keep the branch in the union, or add it back",
            Rule::FixedSizeChange => "keep the size, or add a new field of the new size",
            Rule::DecimalChange => "keep the scale and do not lower the precision, or add a new field",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a reader schema cannot read data written with a writer schema, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// Where: a path from the root type, e.g. `Tick.producer.agent`, `Order.legs[]`,
    /// `Pnl.positions{}`.
    pub location: String,
    /// The rule broken.
    pub rule: Rule,
    /// The specifics, in words.
    pub detail: String,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} — {}", self.location, self.rule, self.detail)
    }
}

/// Which way a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The new schema reading data of an earlier version (the BACKWARD half).
    NewReadsOld,
    /// An earlier version reading data of the new schema (the FORWARD half).
    OldReadsNew,
}

/// An incompatibility between a new schema and one earlier version, under a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The earlier version (subject version, or file version offline).
    pub version: u32,
    /// Which reader breaks.
    pub direction: Direction,
    /// Where and why.
    pub incompatibility: Incompatibility,
}

impl Violation {
    /// Which reader breaks, in words.
    pub fn who_breaks(&self) -> String {
        match self.direction {
            Direction::NewReadsOld => format!("consumers on the new schema could not read records written with version {}", self.version),
            Direction::OldReadsNew => format!("consumers still on version {} could not read records written with the new schema", self.version),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.incompatibility;
        write!(f, "{}: {} — {}; {}. Fix: {}.", i.location, i.rule, i.detail, self.who_breaks(), i.rule.advice())
    }
}

/// Checks `candidate` against the earlier versions `previous` (oldest first, as
/// `(version, schema)`) under `level`. Empty when the candidate may be registered.
pub fn check(level: Level, candidate: &Schema, previous: &[(u32, &Schema)]) -> Vec<Violation> {
    let against = if level.transitive() { previous } else { previous.last().map_or(&[][..], std::slice::from_ref) };
    let mut violations = Vec::new();
    for (version, old) in against {
        if level.backward() {
            violations.extend(reader_breaks(old, candidate).into_iter().map(|incompatibility| Violation {
                version: *version,
                direction: Direction::NewReadsOld,
                incompatibility,
            }));
        }
        if level.forward() {
            violations.extend(reader_breaks(candidate, old).into_iter().map(|incompatibility| Violation {
                version: *version,
                direction: Direction::OldReadsNew,
                incompatibility,
            }));
        }
    }
    violations
}

/// Everything that keeps `reader` from reading data written with `writer`; empty when it can.
pub fn reader_breaks(writer: &Schema, reader: &Schema) -> Vec<Incompatibility> {
    let mut checker = Checker { writer_names: HashMap::new(), reader_names: HashMap::new(), in_progress: HashSet::new() };
    collect_names(writer, &mut checker.writer_names);
    collect_names(reader, &mut checker.reader_names);
    let mut found = Vec::new();
    checker.compare(writer, reader, &mut root_path(reader), &mut found);
    found
}

fn root_path(schema: &Schema) -> Vec<String> {
    vec![named(schema).map_or_else(|| type_label(schema), |name| name.name().to_owned())]
}

/// Named types by full name, to resolve `Schema::Ref`.
type Names<'a> = HashMap<String, &'a Schema>;

fn collect_names<'a>(schema: &'a Schema, names: &mut Names<'a>) {
    if let Some(name) = named(schema) {
        if names.insert(name.fullname(None), schema).is_some() {
            return;
        }
    }
    match schema {
        Schema::Record(record) => record.fields.iter().for_each(|field| collect_names(&field.schema, names)),
        Schema::Array(array) => collect_names(&array.items, names),
        Schema::Map(map) => collect_names(&map.types, names),
        Schema::Union(union) => union.variants().iter().for_each(|v| collect_names(v, names)),
        _ => {}
    }
}

/// The name of a named type (record, enum, fixed, and logical types over a fixed).
fn named(schema: &Schema) -> Option<&Name> {
    match schema {
        Schema::Record(record) => Some(&record.name),
        Schema::Enum(e) => Some(&e.name),
        Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f)) => Some(&f.name),
        Schema::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Fixed(f) => Some(&f.name),
            InnerDecimalSchema::Bytes => None,
        },
        _ => None,
    }
}

/// The aliases of a named type, as full names.
fn aliases_of(schema: &Schema) -> Vec<String> {
    let aliases = match schema {
        Schema::Record(record) => &record.aliases,
        Schema::Enum(e) => &e.aliases,
        Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f)) => &f.aliases,
        Schema::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Fixed(f) => &f.aliases,
            InnerDecimalSchema::Bytes => &None,
        },
        _ => &None,
    };
    aliases.iter().flatten().map(|alias| alias.fullname(None)).collect()
}

/// The binary shape under a logical type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array,
    Map,
    Union,
    Record,
    Enum,
    Fixed(usize),
}

fn base(schema: &Schema) -> Base {
    match schema {
        Schema::Null => Base::Null,
        Schema::Boolean => Base::Boolean,
        Schema::Int | Schema::Date | Schema::TimeMillis => Base::Int,
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => Base::Long,
        Schema::Float => Base::Float,
        Schema::Double => Base::Double,
        Schema::Bytes | Schema::BigDecimal | Schema::Uuid(UuidSchema::Bytes) => Base::Bytes,
        Schema::String | Schema::Uuid(UuidSchema::String) => Base::String,
        Schema::Array(_) => Base::Array,
        Schema::Map(_) => Base::Map,
        Schema::Union(_) => Base::Union,
        Schema::Record(_) => Base::Record,
        Schema::Enum(_) => Base::Enum,
        Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f)) => Base::Fixed(f.size),
        Schema::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Fixed(f) => Base::Fixed(f.size),
            InnerDecimalSchema::Bytes => Base::Bytes,
        },
        // Unresolved references are resolved before `base` is asked; a dangling one reads
        // as a record so that the name rule reports it.
        Schema::Ref { .. } => Base::Record,
    }
}

/// Whether Avro promotes a writer value of `writer` to the reader's `reader`.
fn promotes(writer: Base, reader: Base) -> bool {
    matches!(
        (writer, reader),
        (Base::Int, Base::Long | Base::Float | Base::Double)
            | (Base::Long, Base::Float | Base::Double)
            | (Base::Float, Base::Double)
            | (Base::String, Base::Bytes)
            | (Base::Bytes, Base::String)
    )
}

/// A short human label of a type: `long`, `string (uuid)`, `record maxx.events.Tick`, ...
pub fn type_label(schema: &Schema) -> String {
    match schema {
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int => "int".into(),
        Schema::Long => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes => "bytes".into(),
        Schema::String => "string".into(),
        Schema::Array(a) => format!("array<{}>", type_label(&a.items)),
        Schema::Map(m) => format!("map<{}>", type_label(&m.types)),
        Schema::Union(u) => format!("union [{}]", u.variants().iter().map(type_label).collect::<Vec<_>>().join(", ")),
        Schema::Record(r) => format!("record {}", r.name.fullname(None)),
        Schema::Enum(e) => format!("enum {}", e.name.fullname(None)),
        Schema::Fixed(f) => format!("fixed {} ({} bytes)", f.name.fullname(None), f.size),
        Schema::Decimal(d) => format!("decimal({}, {})", d.precision, d.scale),
        Schema::BigDecimal => "big-decimal".into(),
        Schema::Uuid(UuidSchema::String) => "string (uuid)".into(),
        Schema::Uuid(UuidSchema::Bytes) => "bytes (uuid)".into(),
        Schema::Uuid(UuidSchema::Fixed(f)) => format!("fixed {} (uuid)", f.name.fullname(None)),
        Schema::Date => "int (date)".into(),
        Schema::TimeMillis => "int (time-millis)".into(),
        Schema::TimeMicros => "long (time-micros)".into(),
        Schema::TimestampMillis => "long (timestamp-millis)".into(),
        Schema::TimestampMicros => "long (timestamp-micros)".into(),
        Schema::TimestampNanos => "long (timestamp-nanos)".into(),
        Schema::LocalTimestampMillis => "long (local-timestamp-millis)".into(),
        Schema::LocalTimestampMicros => "long (local-timestamp-micros)".into(),
        Schema::LocalTimestampNanos => "long (local-timestamp-nanos)".into(),
        Schema::Duration(_) => "fixed (duration)".into(),
        Schema::Ref { name } => name.fullname(None),
    }
}

struct Checker<'a> {
    writer_names: Names<'a>,
    reader_names: Names<'a>,
    /// Named pairs being compared further up: a recursive type is compatible with itself
    /// unless something else says otherwise.
    in_progress: HashSet<(String, String)>,
}

impl<'a> Checker<'a> {
    fn resolve(names: &Names<'a>, schema: &'a Schema) -> &'a Schema {
        match schema {
            Schema::Ref { name } => names.get(&name.fullname(None)).copied().unwrap_or(schema),
            other => other,
        }
    }

    fn compare(&mut self, writer: &'a Schema, reader: &'a Schema, path: &mut Vec<String>, found: &mut Vec<Incompatibility>) {
        let writer = Self::resolve(&self.writer_names, writer);
        let reader = Self::resolve(&self.reader_names, reader);
        let location = |path: &Vec<String>| path.join(".");

        if let Schema::Union(writer_union) = writer {
            // Every branch the writer may have written must be readable.
            for branch in writer_union.variants() {
                let branch = Self::resolve(&self.writer_names, branch);
                if let Schema::Union(_) = reader {
                    self.compare_into_union(branch, reader, path, found, true);
                } else {
                    let mut inner = Vec::new();
                    self.compare(branch, reader, path, &mut inner);
                    if !inner.is_empty() {
                        if base(branch) == Base::Null || !same_shape(branch, reader) {
                            found.push(Incompatibility {
                                location: location(path),
                                rule: Rule::UnionBranchMissing,
                                detail: format!(
                                    "the writer's {} may hold a {}, which the reader's {} cannot read",
                                    type_label(writer),
                                    type_label(branch),
                                    type_label(reader)
                                ),
                            });
                        } else {
                            found.extend(inner);
                        }
                    }
                }
            }
            return;
        }
        if let Schema::Union(_) = reader {
            self.compare_into_union(writer, reader, path, found, false);
            return;
        }

        let (w, r) = (base(writer), base(reader));
        if w != r && !promotes(w, r) {
            let detail = match (w, r) {
                (Base::Fixed(a), Base::Fixed(b)) => {
                    return self.push_fixed_size(writer, reader, a, b, path, found);
                }
                _ => format!("the writer's {} cannot be read as {} (no Avro promotion from one to the other)", type_label(writer), type_label(reader)),
            };
            found.push(Incompatibility { location: location(path), rule: Rule::TypeChange, detail });
            return;
        }
        if let (Schema::Decimal(wd), Schema::Decimal(rd)) = (writer, reader) {
            if wd.scale != rd.scale || rd.precision < wd.precision {
                found.push(Incompatibility {
                    location: location(path),
                    rule: Rule::DecimalChange,
                    detail: format!("the writer's decimal({}, {}) would be read as decimal({}, {})", wd.precision, wd.scale, rd.precision, rd.scale),
                });
            }
        }
        if named(writer).is_some() && named(reader).is_some() && !self.names_match(writer, reader) {
            found.push(Incompatibility {
                location: location(path),
                rule: Rule::NameChange,
                detail: format!(
                    "the writer's {} is not the reader's {} (named types match by name or by one of the reader's aliases)",
                    type_label(writer),
                    type_label(reader)
                ),
            });
            return;
        }
        match (writer, reader) {
            (Schema::Record(wr), Schema::Record(rr)) => self.compare_records(wr, rr, path, found),
            (Schema::Enum(we), Schema::Enum(re)) => {
                let missing: Vec<&String> = we.symbols.iter().filter(|s| !re.symbols.contains(s)).collect();
                if !missing.is_empty() && re.default.is_none() {
                    found.push(Incompatibility {
                        location: location(path),
                        rule: Rule::EnumSymbolMissing,
                        detail: format!(
                            "the writer's enum {} has symbol{} {} that the reader's lacks, and the reader's enum has no default",
                            we.name.name(),
                            if missing.len() == 1 { "" } else { "s" },
                            missing.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
            }
            (Schema::Array(wa), Schema::Array(ra)) => {
                push_segment(path, "[]");
                self.compare(&wa.items, &ra.items, path, found);
                pop_segment(path, "[]");
            }
            (Schema::Map(wm), Schema::Map(rm)) => {
                push_segment(path, "{}");
                self.compare(&wm.types, &rm.types, path, found);
                pop_segment(path, "{}");
            }
            _ => {}
        }
    }

    fn push_fixed_size(&self, writer: &Schema, reader: &Schema, a: usize, b: usize, path: &[String], found: &mut Vec<Incompatibility>) {
        found.push(Incompatibility {
            location: path.join("."),
            rule: Rule::FixedSizeChange,
            detail: format!("the writer's {} holds {a} bytes, the reader's {} {b}", type_label(writer), type_label(reader)),
        });
    }

    /// A writer value (not a union) read by a reader union: some branch must read it.
    fn compare_into_union(&mut self, writer: &'a Schema, reader: &'a Schema, path: &mut Vec<String>, found: &mut Vec<Incompatibility>, writer_in_union: bool) {
        let Schema::Union(reader_union) = reader else { return };
        let mut closest: Option<Vec<Incompatibility>> = None;
        for branch in reader_union.variants() {
            let branch = Self::resolve(&self.reader_names, branch);
            let mut inner = Vec::new();
            self.compare(writer, branch, path, &mut inner);
            if inner.is_empty() {
                return;
            }
            if closest.is_none() && same_shape(writer, branch) && (named(writer).is_none() || self.names_match(writer, branch)) {
                closest = Some(inner);
            }
        }
        match closest {
            // The reader has the writer's type, but that type itself changed: say how.
            Some(inner) => found.extend(inner),
            None => found.push(Incompatibility {
                location: path.join("."),
                rule: Rule::UnionBranchMissing,
                detail: if writer_in_union {
                    format!("the writer's union may hold a {}, and the reader's {} has no branch for it", type_label(writer), type_label(reader))
                } else {
                    format!("the writer's {} has no branch in the reader's {}", type_label(writer), type_label(reader))
                },
            }),
        }
    }

    fn names_match(&self, writer: &Schema, reader: &Schema) -> bool {
        match (named(writer), named(reader)) {
            (Some(w), Some(r)) => w.name() == r.name() || aliases_of(reader).contains(&w.fullname(None)),
            _ => true,
        }
    }

    fn compare_records(&mut self, writer: &'a RecordSchema, reader: &'a RecordSchema, path: &mut Vec<String>, found: &mut Vec<Incompatibility>) {
        let key = (writer.name.fullname(None), reader.name.fullname(None));
        if !self.in_progress.insert(key.clone()) {
            return;
        }
        for field in &reader.fields {
            let in_writer = writer
                .fields
                .iter()
                .find(|w| w.name == field.name)
                .or_else(|| writer.fields.iter().find(|w| field.aliases.contains(&w.name)));
            path.push(field.name.clone());
            match in_writer {
                Some(writer_field) => self.compare(&writer_field.schema, &field.schema, path, found),
                None if field.default.is_none() => found.push(Incompatibility {
                    location: path.join("."),
                    rule: Rule::FieldWithoutDefault,
                    detail: format!(
                        "the reader's field `{}` ({}) is not in the writer's record {} and has no default to fill it with",
                        field.name,
                        type_label(&field.schema),
                        writer.name.name()
                    ),
                }),
                None => {}
            }
            path.pop();
        }
        self.in_progress.remove(&key);
    }
}

fn push_segment(path: &mut [String], suffix: &str) {
    if let Some(last) = path.last_mut() {
        last.push_str(suffix);
    }
}

fn pop_segment(path: &mut [String], suffix: &str) {
    if let Some(last) = path.last_mut() {
        if last.ends_with(suffix) {
            last.truncate(last.len() - suffix.len());
        }
    }
}

/// Whether two types have the same shape (kind, ignoring promotions), to pick the branch
/// whose inner differences explain a union mismatch best.
fn same_shape(a: &Schema, b: &Schema) -> bool {
    match (base(a), base(b)) {
        (Base::Fixed(_), Base::Fixed(_)) => true,
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests;
