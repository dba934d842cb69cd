//! The Confluent wire format: a magic byte `0`, the writer schema's registry id as a 4-byte
//! big-endian integer, then the Avro binary encoding of one event.
//!
//! Decoding is the hot path of every agent and the first thing bad input meets, so its errors
//! are a typed [`DecodeError`] that says what is wrong with the bytes (and, through
//! [`DecodeError::dead_letter_kind`], how to file them) — never a panic.

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;

use crate::event::{schema_name, Event};
use crate::operations::DeadLetterKind;

/// The byte every Confluent-framed message starts with.
pub const MAGIC_BYTE: u8 = 0;
/// Length of the frame header: magic byte and schema id.
pub const HEADER_LEN: usize = 5;
/// The most a single decode may allocate for one length-prefixed value.
///
/// Garbage bytes can claim a string or array of any length; without this bound a decoder
/// would try to allocate it. Kafka's default message limit is 1 MiB, so 16 MiB is generous.
/// `apache-avro` keeps this limit per process; the first codec built sets it.
pub const MAX_DECODE_ALLOCATION: usize = 16 * 1024 * 1024;

/// Why bytes are not a valid message of the expected event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than the 5-byte frame header.
    #[error("message is {len} bytes long; a framed Avro message needs at least {HEADER_LEN} (magic byte and schema id)")]
    Truncated {
        /// Length of the message.
        len: usize,
    },
    /// First byte is not the magic byte.
    #[error("first byte is {found:#04x}, not the magic byte 0x00: not a Confluent-framed Avro message")]
    BadMagic {
        /// The byte found.
        found: u8,
    },
    /// The schema id is not one this codec knows.
    #[error("schema id {id} is unknown to this reader of {expected}")]
    UnknownSchemaId {
        /// The id in the frame.
        id: u32,
        /// The record the reader expects.
        expected: String,
    },
    /// The schema id belongs to another event type.
    #[error("schema id {id} is {found}, but this reader expects {expected}")]
    WrongSchema {
        /// The id in the frame.
        id: u32,
        /// The record the reader expects.
        expected: String,
        /// The record the id stands for.
        found: String,
    },
    /// The payload is not a valid encoding under the writer schema.
    #[error("payload is not a valid {schema} (schema id {id}): {reason}")]
    Malformed {
        /// The id in the frame.
        id: u32,
        /// The writer schema's record name.
        schema: String,
        /// What the Avro decoder reported.
        reason: String,
    },
    /// The payload decoded but bytes were left over.
    #[error("{count} bytes left over after a {schema} (schema id {id}): not a single valid message")]
    TrailingBytes {
        /// The id in the frame.
        id: u32,
        /// The writer schema's record name.
        schema: String,
        /// Bytes left.
        count: usize,
    },
}

impl DecodeError {
    /// How a message that failed this way is classified in the dead-letter topic.
    pub fn dead_letter_kind(&self) -> DeadLetterKind {
        match self {
            Self::UnknownSchemaId { .. } => DeadLetterKind::UnknownSchema,
            Self::WrongSchema { .. } => DeadLetterKind::WrongSchema,
            Self::Truncated { .. }
            | Self::BadMagic { .. }
            | Self::Malformed { .. }
            | Self::TrailingBytes { .. } => DeadLetterKind::Undecodable,
        }
    }
}

/// Why an event could not be encoded. With the schema tests passing this does not happen;
/// it exists so that a type drifting from its schema is an error, not a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode a {schema}: {reason}")]
pub struct EncodeError {
    /// The schema's record name.
    pub schema: String,
    /// What the Avro encoder reported.
    pub reason: String,
}

/// Splits a framed message into its schema id and Avro payload.
///
/// # Errors
/// [`DecodeError::Truncated`] or [`DecodeError::BadMagic`] when `bytes` is not framed.
pub fn split_frame(bytes: &[u8]) -> Result<(u32, &[u8]), DecodeError> {
    let Some((header, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::Truncated { len: bytes.len() });
    };
    let [magic, id @ ..] = *header;
    if magic != MAGIC_BYTE {
        return Err(DecodeError::BadMagic { found: magic });
    }
    Ok((u32::from_be_bytes(id), payload))
}

/// Encodes and decodes one event type `T` in the Confluent wire format.
///
/// Built once per type and reused: it holds the Avro reader and writer for `T`'s schema,
/// whose construction is the expensive part. Messages written with `T`'s own schema id take a
/// direct path; messages written with another known version of the same record are resolved
/// against `T`'s schema by Avro's schema resolution rules.
pub struct Codec<T: Event> {
    /// Registry id of `T`'s schema: written into every encoded message.
    schema_id: u32,
    writer: GenericDatumWriter<'static>,
    reader: GenericDatumReader<'static>,
    /// Other writer schemas this codec accepts, by registry id (e.g. older versions).
    other_writers: HashMap<u32, Arc<Schema>>,
    name: String,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T: Event> std::fmt::Debug for Codec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("record", &self.name)
            .field("schema_id", &self.schema_id)
            .field("other_writer_ids", &self.other_writers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<T: Event> Codec<T> {
    /// A codec for `T` whose schema is registered under `schema_id`.
    ///
    /// # Errors
    /// When `T`'s embedded schema cannot be prepared for reading and writing — a build defect
    /// that the schema tests catch.
    pub fn new(schema_id: u32) -> Result<Self, EncodeError> {
        apache_avro::util::max_allocation_bytes(MAX_DECODE_ALLOCATION);
        let schema = T::schema();
        let name = schema_name(schema);
        let prepare_failed = |e: apache_avro::Error| EncodeError { schema: name.clone(), reason: e.to_string() };
        let writer = GenericDatumWriter::builder(schema).build().map_err(prepare_failed)?;
        let reader = GenericDatumReader::builder(schema).build().map_err(prepare_failed)?;
        Ok(Self {
            schema_id,
            writer,
            reader,
            other_writers: HashMap::new(),
            name,
            _type: std::marker::PhantomData,
        })
    }

    /// Also accept messages written with `schema` under registry id `id` (another version of
    /// `T`'s record, or — to be reported as [`DecodeError::WrongSchema`] — another record).
    pub fn accept_writer(&mut self, id: u32, schema: Arc<Schema>) {
        if id != self.schema_id {
            self.other_writers.insert(id, schema);
        }
    }

    /// The registry id written into encoded messages.
    pub fn schema_id(&self) -> u32 {
        self.schema_id
    }

    /// Encodes `event` as a framed message.
    ///
    /// # Errors
    /// [`EncodeError`] when the value does not fit the schema (a type/schema drift).
    pub fn encode(&self, event: &T) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(128);
        self.encode_into(event, &mut out)?;
        Ok(out)
    }

    /// Appends `event` as a framed message to `out`; on error `out` is left as it was.
    ///
    /// # Errors
    /// [`EncodeError`] when the value does not fit the schema.
    pub fn encode_into(&self, event: &T, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.push(MAGIC_BYTE);
        out.extend_from_slice(&self.schema_id.to_be_bytes());
        if let Err(e) = self.writer.write_ser(out, event) {
            out.truncate(start);
            return Err(EncodeError { schema: self.name.clone(), reason: e.to_string() });
        }
        Ok(())
    }

    /// Decodes a framed message into a `T`.
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong with the bytes; never panics.
    pub fn decode(&self, bytes: &[u8]) -> Result<T, DecodeError> {
        let (id, mut payload) = split_frame(bytes)?;
        let malformed = |schema: &str, e: apache_avro::Error| DecodeError::Malformed {
            id,
            schema: schema.to_owned(),
            reason: e.to_string(),
        };
        let event = if id == self.schema_id {
            self.reader.read_deser::<T>(&mut payload).map_err(|e| malformed(&self.name, e))?
        } else {
            let writer = self.other_writers.get(&id).ok_or_else(|| DecodeError::UnknownSchemaId {
                id,
                expected: self.name.clone(),
            })?;
            let found = schema_name(writer);
            if found != self.name {
                return Err(DecodeError::WrongSchema { id, expected: self.name.clone(), found });
            }
            // A mixed-version topic: resolve the writer's version against ours. Building the
            // resolving reader per message is the slow path; it is taken only for messages
            // written with a version other than ours.
            let reader = GenericDatumReader::builder(writer)
                .reader_schema(T::schema())
                .build()
                .map_err(|e| malformed(&found, e))?;
            let value = reader.read_value(&mut payload).map_err(|e| malformed(&found, e))?;
            apache_avro::from_value::<T>(&value).map_err(|e| malformed(&found, e))?
        };
        if !payload.is_empty() {
            return Err(DecodeError::TrailingBytes { id, schema: self.name.clone(), count: payload.len() });
        }
        Ok(event)
    }
}
