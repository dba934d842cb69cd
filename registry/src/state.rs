//! The registry's state as a pure fold of its log, and the records each change appends.
//!
//! The log is the `_schemas` topic in Confluent's format: JSON keys and values, where a key
//! names what the record is about and the latest value per key is the truth, so the topic
//! can be compacted:
//!
//! | key | value |
//! |---|---|
//! | `{"keytype":"SCHEMA","subject":s,"version":v,"magic":1}` | `{"subject","version","id","schema","deleted"}`, or a tombstone (permanently deleted) |
//! | `{"keytype":"CONFIG","subject":s or null,"magic":0}` | `{"compatibilityLevel":"FULL"}`, or a tombstone (level removed) |
//!
//! Other key types (Confluent's `NOOP`, `DELETE_SUBJECT`, `MODE`, ...) are read and ignored;
//! a record that is not JSON is skipped with a warning, never a panic. [`State::apply`] is
//! deterministic, so every registry that folds the same topic holds the same ids and versions.
//!
//! Changes are *planned* here against the current state ([`State::plan_register`] and
//! friends return the records to append and the answer to give); the store appends them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use apache_avro::Schema;
use serde::{Deserialize, Serialize};

use crate::compat::{self, Level, Violation};
use crate::error::Error;
use crate::schema::{self, ParsedSchema};

/// A record to append to the log: a key and a value, or a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The JSON key.
    pub key: Vec<u8>,
    /// The JSON value; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
}

/// The records a change appends, and what the change answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned<T> {
    /// Records to append (empty when nothing changes).
    pub records: Vec<LogRecord>,
    /// The answer once they are appended.
    pub answer: T,
}

impl<T> Planned<T> {
    fn nothing(answer: T) -> Self {
        Self { records: Vec::new(), answer }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Key {
    keytype: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    magic: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct SchemaValue {
    subject: String,
    version: u32,
    id: u32,
    schema: String,
    #[serde(default)]
    deleted: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigValue {
    compatibility_level: String,
}

fn json(value: &impl Serialize) -> Vec<u8> {
    // Serializing these plain structs cannot fail; an empty value would be skipped on read.
    serde_json::to_vec(value).unwrap_or_default()
}

fn schema_record(subject: &str, version: u32, id: u32, text: &str, deleted: bool) -> LogRecord {
    LogRecord {
        key: json(&Key { keytype: "SCHEMA".into(), subject: Some(subject.into()), version: Some(version), magic: 1 }),
        value: Some(json(&SchemaValue { subject: subject.into(), version, id, schema: text.into(), deleted })),
    }
}

fn schema_tombstone(subject: &str, version: u32) -> LogRecord {
    LogRecord { key: json(&Key { keytype: "SCHEMA".into(), subject: Some(subject.into()), version: Some(version), magic: 1 }), value: None }
}

fn config_record(subject: Option<&str>, level: Option<Level>) -> LogRecord {
    LogRecord {
        key: json(&Key { keytype: "CONFIG".into(), subject: subject.map(Into::into), version: None, magic: 0 }),
        value: level.map(|level| json(&ConfigValue { compatibility_level: level.as_str().into() })),
    }
}

/// A version of a subject: `latest` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    /// The highest live version (`latest` or `-1`).
    Latest,
    /// A version number.
    Number(u32),
}

impl VersionSpec {
    /// Parses a version path segment.
    ///
    /// # Errors
    /// [`Error::InvalidVersion`] unless it is `latest`, `-1` or a number in 1..=2^31-1.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "latest" | "-1" => Ok(Self::Latest),
            _ => match s.parse::<u32>() {
                Ok(n) if (1..=i32::MAX as u32).contains(&n) => Ok(Self::Number(n)),
                _ => Err(Error::InvalidVersion(s.to_owned())),
            },
        }
    }
}

/// A schema registered under some id.
#[derive(Debug, Clone)]
pub struct StoredSchema {
    /// Its text as first registered.
    pub text: String,
    /// Parsed, unless the log held something unparsable.
    pub parsed: Option<Arc<Schema>>,
    /// Its identity (see [`crate::schema`]).
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct VersionEntry {
    id: u32,
    deleted: bool,
}

#[derive(Debug, Clone, Default)]
struct Subject {
    versions: BTreeMap<u32, VersionEntry>,
    level: Option<Level>,
}

impl Subject {
    fn live(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.versions.iter().filter(|(_, e)| !e.deleted).map(|(v, e)| (*v, e.id))
    }
    fn has_live(&self) -> bool {
        self.live().next().is_some()
    }
}

/// One version of a subject, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaVersion {
    /// The subject.
    pub subject: String,
    /// The version.
    pub version: u32,
    /// The global schema id.
    pub id: u32,
    /// The schema text.
    pub schema: String,
}

/// Everything a registry knows, folded from its log.
#[derive(Debug, Clone, Default)]
pub struct State {
    schemas: BTreeMap<u32, StoredSchema>,
    by_fingerprint: HashMap<String, u32>,
    subjects: BTreeMap<String, Subject>,
    global_level: Option<Level>,
    /// The highest id ever seen: ids are never handed out twice while it is remembered.
    max_id: u32,
    /// Records skipped because they were not understood.
    skipped: u64,
}

impl State {
    /// Folds one log record into the state. Records that are not understood are counted
    /// and skipped; the returned message says why, for the log.
    pub fn apply(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), String> {
        let result = self.try_apply(key, value);
        if result.is_err() {
            self.skipped += 1;
        }
        result
    }

    fn try_apply(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), String> {
        let key: Key = serde_json::from_slice(key).map_err(|e| format!("key is not a registry key: {e}"))?;
        match key.keytype.as_str() {
            "SCHEMA" => {
                let subject = key.subject.ok_or("SCHEMA key without subject")?;
                let version = key.version.ok_or("SCHEMA key without version")?;
                match value {
                    None => self.remove_version(&subject, version),
                    Some(value) => {
                        let value: SchemaValue = serde_json::from_slice(value).map_err(|e| format!("SCHEMA value: {e}"))?;
                        self.put_version(&subject, version, value.id, &value.schema, value.deleted);
                    }
                }
            }
            "CONFIG" => {
                let level = match value {
                    None => None,
                    Some(value) => {
                        let value: ConfigValue = serde_json::from_slice(value).map_err(|e| format!("CONFIG value: {e}"))?;
                        Some(value.compatibility_level.parse::<Level>().map_err(|e| e.to_string())?)
                    }
                };
                match key.subject {
                    None => self.global_level = level,
                    Some(subject) => {
                        let entry = self.subjects.entry(subject.clone()).or_default();
                        entry.level = level;
                        if entry.versions.is_empty() && entry.level.is_none() {
                            self.subjects.remove(&subject);
                        }
                    }
                }
            }
            // Confluent's other record types carry nothing this registry serves.
            _ => {}
        }
        Ok(())
    }

    fn put_version(&mut self, subject: &str, version: u32, id: u32, text: &str, deleted: bool) {
        if !self.schemas.contains_key(&id) {
            let (parsed, fingerprint) = match schema::parse(text) {
                Ok(p) => (Some(Arc::new(p.schema)), p.fingerprint),
                Err(_) => (None, text.trim().to_owned()),
            };
            self.by_fingerprint.entry(fingerprint.clone()).or_insert(id);
            self.schemas.insert(id, StoredSchema { text: text.to_owned(), parsed, fingerprint });
        }
        self.max_id = self.max_id.max(id);
        let replaced = self.subjects.entry(subject.to_owned()).or_default().versions.insert(version, VersionEntry { id, deleted });
        if let Some(old) = replaced.filter(|old| old.id != id) {
            self.forget_if_unused(old.id);
        }
    }

    fn remove_version(&mut self, subject: &str, version: u32) {
        let Some(entry) = self.subjects.get_mut(subject) else { return };
        let removed = entry.versions.remove(&version);
        if entry.versions.is_empty() && entry.level.is_none() {
            self.subjects.remove(subject);
        }
        if let Some(removed) = removed {
            self.forget_if_unused(removed.id);
        }
    }

    /// Drops a schema no version refers to any more (permanently deleted everywhere).
    fn forget_if_unused(&mut self, id: u32) {
        let used = self.subjects.values().any(|s| s.versions.values().any(|e| e.id == id));
        if !used {
            if let Some(stored) = self.schemas.remove(&id) {
                if self.by_fingerprint.get(&stored.fingerprint) == Some(&id) {
                    self.by_fingerprint.remove(&stored.fingerprint);
                }
            }
        }
    }

    /// How many log records were skipped as not understood.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Subjects with a live version (and with only soft-deleted ones when `deleted`).
    pub fn subjects(&self, deleted: bool) -> Vec<String> {
        self.subjects
            .iter()
            .filter(|(_, s)| if deleted { !s.versions.is_empty() } else { s.has_live() })
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn subject(&self, subject: &str, deleted: bool) -> Result<&Subject, Error> {
        match self.subjects.get(subject) {
            Some(s) if s.has_live() || (deleted && !s.versions.is_empty()) => Ok(s),
            _ => Err(Error::SubjectNotFound(subject.to_owned())),
        }
    }

    /// The versions of `subject`, ascending.
    ///
    /// # Errors
    /// [`Error::SubjectNotFound`].
    pub fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<u32>, Error> {
        let s = self.subject(subject, deleted)?;
        Ok(s.versions.iter().filter(|(_, e)| deleted || !e.deleted).map(|(v, _)| *v).collect())
    }

    /// One version of `subject`.
    ///
    /// # Errors
    /// [`Error::SubjectNotFound`], [`Error::VersionNotFound`].
    pub fn version(&self, subject: &str, spec: VersionSpec, deleted: bool) -> Result<SchemaVersion, Error> {
        let s = self.subject(subject, deleted)?;
        let found = match spec {
            VersionSpec::Latest => s.versions.iter().rev().find(|(_, e)| deleted || !e.deleted),
            VersionSpec::Number(n) => s.versions.get_key_value(&n).filter(|(_, e)| deleted || !e.deleted),
        };
        let (version, entry) = found.ok_or_else(|| Error::VersionNotFound {
            subject: subject.to_owned(),
            version: match spec {
                VersionSpec::Latest => "latest".into(),
                VersionSpec::Number(n) => n.to_string(),
            },
        })?;
        Ok(self.show(subject, *version, entry.id))
    }

    fn show(&self, subject: &str, version: u32, id: u32) -> SchemaVersion {
        let schema = self.schemas.get(&id).map(|s| s.text.clone()).unwrap_or_default();
        SchemaVersion { subject: subject.to_owned(), version, id, schema }
    }

    /// The schema registered under `id`.
    pub fn schema_by_id(&self, id: u32) -> Option<&StoredSchema> {
        self.schemas.get(&id)
    }

    /// Where `id` is registered: `(subject, version)` pairs.
    pub fn usages(&self, id: u32, deleted: bool) -> Vec<(String, u32)> {
        let mut out = Vec::new();
        for (name, s) in &self.subjects {
            for (version, entry) in &s.versions {
                if entry.id == id && (deleted || !entry.deleted) {
                    out.push((name.clone(), *version));
                }
            }
        }
        out
    }

    /// The highest schema id handed out.
    pub fn max_id(&self) -> u32 {
        self.max_id
    }

    /// The version of `subject` that holds the same schema as `candidate`.
    ///
    /// # Errors
    /// [`Error::SubjectNotFound`], or [`Error::SchemaNotFound`] when no version holds it.
    pub fn lookup(&self, subject: &str, candidate: &ParsedSchema, deleted: bool) -> Result<SchemaVersion, Error> {
        let s = self.subject(subject, deleted)?;
        s.versions
            .iter()
            .rev()
            .filter(|(_, e)| deleted || !e.deleted)
            .find(|(_, e)| self.schemas.get(&e.id).is_some_and(|stored| stored.fingerprint == candidate.fingerprint))
            .map(|(version, e)| self.show(subject, *version, e.id))
            .ok_or_else(|| Error::SchemaNotFound("Schema not found".into()))
    }

    /// The level set on `subject` (or globally, for `None`), if any.
    pub fn level(&self, subject: Option<&str>) -> Option<Level> {
        match subject {
            None => self.global_level,
            Some(subject) => self.subjects.get(subject).and_then(|s| s.level),
        }
    }

    /// The level that governs `subject`: its own, else the global one, else BACKWARD.
    pub fn effective_level(&self, subject: &str) -> Level {
        self.level(Some(subject)).or(self.global_level).unwrap_or_default()
    }

    /// The live versions of `subject` with their parsed schemas, oldest first.
    fn previous(&self, subject: &str) -> Vec<(u32, &Schema)> {
        let Some(s) = self.subjects.get(subject) else { return Vec::new() };
        s.live().filter_map(|(version, id)| self.schemas.get(&id).and_then(|st| st.parsed.as_deref()).map(|schema| (version, schema))).collect()
    }

    /// What keeps `candidate` from being registered under `subject` at its level.
    pub fn violations(&self, subject: &str, candidate: &ParsedSchema) -> Vec<Violation> {
        compat::check(self.effective_level(subject), &candidate.schema, &self.previous(subject))
    }

    /// The compatibility test of the API: against one version (`Some(Number)`), against
    /// what registration checks (`Some(Latest)`, or `None` which also accepts a subject with
    /// no versions).
    ///
    /// # Errors
    /// [`Error::SubjectNotFound`], [`Error::VersionNotFound`].
    pub fn test_compatibility(&self, subject: &str, spec: Option<VersionSpec>, candidate: &ParsedSchema) -> Result<Vec<Violation>, Error> {
        match spec {
            None => Ok(self.violations(subject, candidate)),
            Some(VersionSpec::Latest) => {
                self.subject(subject, false)?;
                Ok(self.violations(subject, candidate))
            }
            Some(VersionSpec::Number(n)) => {
                let shown = self.version(subject, VersionSpec::Number(n), false)?;
                let Some(old) = self.schemas.get(&shown.id).and_then(|s| s.parsed.as_deref()) else { return Ok(Vec::new()) };
                let level = match self.effective_level(subject) {
                    Level::BackwardTransitive => Level::Backward,
                    Level::ForwardTransitive => Level::Forward,
                    Level::FullTransitive => Level::Full,
                    other => other,
                };
                Ok(compat::check(level, &candidate.schema, &[(n, old)]))
            }
        }
    }

    /// Registers `candidate` under `subject`: the id of the same schema when the subject has
    /// it live already (nothing written), else a new version after the compatibility check.
    /// A schema registered anywhere before keeps its id.
    ///
    /// # Errors
    /// [`Error::Incompatible`] when the subject's level refuses it.
    pub fn plan_register(&self, subject: &str, candidate: &ParsedSchema) -> Result<Planned<u32>, Error> {
        if let Some(s) = self.subjects.get(subject) {
            let same = s.live().find(|(_, id)| self.schemas.get(id).is_some_and(|st| st.fingerprint == candidate.fingerprint));
            if let Some((_, id)) = same {
                return Ok(Planned::nothing(id));
            }
        }
        let violations = self.violations(subject, candidate);
        if !violations.is_empty() {
            return Err(Error::Incompatible { subject: subject.to_owned(), level: self.effective_level(subject).to_string(), violations });
        }
        let (id, text) = match self.by_fingerprint.get(&candidate.fingerprint).and_then(|id| self.schemas.get(id).map(|s| (*id, s.text.as_str()))) {
            Some(existing) => existing,
            None => (self.max_id.saturating_add(1), candidate.text.as_str()),
        };
        let version = self.subjects.get(subject).and_then(|s| s.versions.keys().next_back()).map_or(1, |v| v.saturating_add(1));
        Ok(Planned { records: vec![schema_record(subject, version, id, text, false)], answer: id })
    }

    /// Sets the level of `subject`, or the global level.
    pub fn plan_set_level(&self, subject: Option<&str>, level: Level) -> Planned<Level> {
        if self.level(subject) == Some(level) {
            return Planned::nothing(level);
        }
        Planned { records: vec![config_record(subject, Some(level))], answer: level }
    }

    /// Removes the level of `subject` (or the global one); answers the level it had.
    ///
    /// # Errors
    /// [`Error::SubjectLevelNotConfigured`] when the subject has none.
    pub fn plan_delete_level(&self, subject: Option<&str>) -> Result<Planned<Level>, Error> {
        match (subject, self.level(subject)) {
            (_, Some(level)) => Ok(Planned { records: vec![config_record(subject, None)], answer: level }),
            (Some(subject), None) => Err(Error::SubjectLevelNotConfigured(subject.to_owned())),
            (None, None) => Ok(Planned::nothing(Level::default())),
        }
    }

    /// Deletes a subject: soft (its versions marked deleted) or permanent (its soft-deleted
    /// versions removed). Answers the versions deleted.
    ///
    /// # Errors
    /// [`Error::SubjectNotFound`], [`Error::SubjectSoftDeleted`] (soft delete twice),
    /// [`Error::SubjectNotSoftDeleted`] (permanent delete without a soft one first).
    pub fn plan_delete_subject(&self, subject: &str, permanent: bool) -> Result<Planned<Vec<u32>>, Error> {
        let s = match self.subjects.get(subject) {
            Some(s) if !s.versions.is_empty() => s,
            _ => return Err(Error::SubjectNotFound(subject.to_owned())),
        };
        if permanent {
            if s.has_live() {
                return Err(Error::SubjectNotSoftDeleted(subject.to_owned()));
            }
            let mut records: Vec<LogRecord> = s.versions.keys().map(|v| schema_tombstone(subject, *v)).collect();
            if s.level.is_some() {
                records.push(config_record(Some(subject), None));
            }
            return Ok(Planned { records, answer: s.versions.keys().copied().collect() });
        }
        if !s.has_live() {
            return Err(Error::SubjectSoftDeleted(subject.to_owned()));
        }
        let live: Vec<(u32, u32)> = s.live().collect();
        let records = live
            .iter()
            .map(|(v, id)| schema_record(subject, *v, *id, self.schemas.get(id).map_or("", |st| st.text.as_str()), true))
            .collect();
        Ok(Planned { records, answer: live.into_iter().map(|(v, _)| v).collect() })
    }

    /// Deletes one version: soft, or permanent after a soft delete. Answers the version.
    ///
    /// # Errors
    /// [`Error::SubjectNotFound`], [`Error::VersionNotFound`], [`Error::VersionSoftDeleted`],
    /// [`Error::VersionNotSoftDeleted`].
    pub fn plan_delete_version(&self, subject: &str, spec: VersionSpec, permanent: bool) -> Result<Planned<u32>, Error> {
        let s = match self.subjects.get(subject) {
            Some(s) if !s.versions.is_empty() => s,
            _ => return Err(Error::SubjectNotFound(subject.to_owned())),
        };
        let not_found = |v: String| Error::VersionNotFound { subject: subject.to_owned(), version: v };
        let (version, entry) = match spec {
            VersionSpec::Latest if permanent => s.versions.iter().next_back(),
            VersionSpec::Latest => s.versions.iter().rev().find(|(_, e)| !e.deleted),
            VersionSpec::Number(n) => s.versions.get_key_value(&n),
        }
        .map(|(v, e)| (*v, *e))
        .ok_or_else(|| not_found(match spec {
            VersionSpec::Latest => "latest".into(),
            VersionSpec::Number(n) => n.to_string(),
        }))?;
        match (permanent, entry.deleted) {
            (true, true) => Ok(Planned { records: vec![schema_tombstone(subject, version)], answer: version }),
            (true, false) => Err(Error::VersionNotSoftDeleted { subject: subject.to_owned(), version }),
            (false, true) => Err(Error::VersionSoftDeleted { subject: subject.to_owned(), version }),
            (false, false) => {
                let text = self.schemas.get(&entry.id).map_or("", |st| st.text.as_str());
                Ok(Planned { records: vec![schema_record(subject, version, entry.id, text, true)], answer: version })
            }
        }
    }
}

#[cfg(test)]
mod tests;
