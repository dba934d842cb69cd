//! The seam between codecs and a schema registry: [`SchemaRegistry`] is what a codec needs
//! from one — the id of a schema under a subject, and the schema behind an id.
//!
//! A Confluent-compatible registry over HTTP (Redpanda's, Confluent's, `maxx registry serve`)
//! implements it for the Kafka runtime; [`InMemoryRegistry`] serves the embedded runtime and
//! unit tests, which need ids but no service.

use std::collections::HashMap;
use std::sync::Mutex;

/// Why a registry could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry could not be reached or answered garbage: retry later; never a reason to
    /// dead-letter a message.
    #[error("schema registry unavailable: {0}")]
    Unavailable(String),
    /// The registry refused the request (e.g. an incompatible schema): retrying will not help.
    #[error("schema registry refused: {message} (error code {code})")]
    Refused {
        /// Confluent error code, e.g. 409 or 42201.
        code: u32,
        /// The registry's message.
        message: String,
    },
}

/// What codecs need from a schema registry. Calls may block (HTTP); callers cache the answers.
pub trait SchemaRegistry: Send + Sync {
    /// Registers `schema` under `subject` (idempotent) and returns its global id.
    ///
    /// # Errors
    /// [`RegistryError::Refused`] when the subject's compatibility level forbids it.
    fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError>;

    /// The id of `schema` when it is registered under `subject`, without registering it.
    ///
    /// # Errors
    /// [`RegistryError::Unavailable`] when the registry cannot answer.
    fn lookup(&self, subject: &str, schema: &str) -> Result<Option<u32>, RegistryError>;

    /// The schema text registered under `id`, or `None` when no schema has that id.
    ///
    /// # Errors
    /// [`RegistryError::Unavailable`] when the registry cannot answer.
    fn schema_by_id(&self, id: u32) -> Result<Option<String>, RegistryError>;
}

/// A registry in memory: ids from 1 in registration order, the same schema text (as JSON)
/// getting the same id. No compatibility checks.
#[derive(Debug, Default)]
pub struct InMemoryRegistry {
    inner: Mutex<Registered>,
}

#[derive(Debug, Default)]
struct Registered {
    by_id: Vec<String>,
    ids: HashMap<(String, serde_json::Value), u32>,
}

fn normalized(schema: &str) -> Result<serde_json::Value, RegistryError> {
    serde_json::from_str(schema).map_err(|e| RegistryError::Refused { code: 42201, message: format!("invalid schema: {e}") })
}

impl InMemoryRegistry {
    fn registered(&self) -> std::sync::MutexGuard<'_, Registered> {
        // A poisoned lock only means another thread panicked mid-insert of a whole entry.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SchemaRegistry for InMemoryRegistry {
    fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let key = (subject.to_owned(), normalized(schema)?);
        let mut registered = self.registered();
        if let Some(id) = registered.ids.get(&key) {
            return Ok(*id);
        }
        let existing = registered.by_id.iter().position(|s| normalized(s).ok().as_ref() == Some(&key.1));
        let id = match existing {
            Some(index) => u32::try_from(index + 1).unwrap_or(u32::MAX),
            None => {
                registered.by_id.push(schema.to_owned());
                u32::try_from(registered.by_id.len()).unwrap_or(u32::MAX)
            }
        };
        registered.ids.insert(key, id);
        Ok(id)
    }

    fn lookup(&self, subject: &str, schema: &str) -> Result<Option<u32>, RegistryError> {
        let key = (subject.to_owned(), normalized(schema)?);
        Ok(self.registered().ids.get(&key).copied())
    }

    fn schema_by_id(&self, id: u32) -> Result<Option<String>, RegistryError> {
        let index = usize::try_from(id).ok().and_then(|id| id.checked_sub(1));
        Ok(index.and_then(|i| self.registered().by_id.get(i).cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_schema_gets_the_same_id_across_subjects_and_spacing() {
        let registry = InMemoryRegistry::default();
        let a = registry.register("a-value", r#"{"type":"string"}"#).expect("register");
        assert_eq!(registry.register("a-value", r#"{ "type" : "string" }"#), Ok(a));
        assert_eq!(registry.register("b-value", r#"{"type":"string"}"#), Ok(a), "ids are global per schema");
        let b = registry.register("a-value", r#"{"type":"long"}"#).expect("register");
        assert_ne!(a, b);
        assert_eq!(registry.schema_by_id(b).expect("answer").as_deref(), Some(r#"{"type":"long"}"#));
        assert_eq!(registry.schema_by_id(99), Ok(None));
        assert_eq!(registry.schema_by_id(0), Ok(None));
        assert_eq!(registry.lookup("c-value", r#"{"type":"long"}"#), Ok(None));
        assert!(matches!(registry.register("a-value", "{not json"), Err(RegistryError::Refused { code: 42201, .. })));
    }
}
