//! The one way to write an agent: [`Agent`] — state, and a deterministic function from
//! (state, input event) to output events — plus the [`Emitter`] that stamps outputs with
//! their envelope.
//!
//! An agent never sees Kafka, a clock or any I/O. "Now" is the event time of the input it is
//! handling; ids of its outputs are derived from the input's id, so the same inputs give the
//! same outputs — byte for byte — live, embedded, and in replay.

use std::fmt::Debug;

use maxx_events::{BusEvent, EventId, EventTime, Producer};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::AgentConfig;

/// An input the agent refuses: it is filed as a dead letter (kind `INVALID`) with this reason,
/// and any output emitted while handling it is discarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Invalid {
    /// What is wrong with the input, in words.
    pub reason: String,
}

impl Invalid {
    /// An input refused for `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }
}

/// A pure, deterministic agent.
///
/// `handle` may read only its state, its configuration and the input; it may change only its
/// state and emit through `out`. Everything that matters for its future decisions lives in
/// [`Agent::State`], which the runtimes snapshot together with the outputs.
pub trait Agent: Send + 'static {
    /// Everything the agent's decisions depend on besides its configuration.
    type State: Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send;

    /// Stable name: consumer group, transactional id prefix and state topic derive from it.
    const NAME: &'static str;
    /// Version of the agent's logic, stamped on everything it produces.
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    /// Topics the agent consumes.
    const INPUTS: &'static [&'static str];
    /// Topics the agent may produce to.
    const OUTPUTS: &'static [&'static str];

    /// The current state.
    fn state(&self) -> &Self::State;

    /// Replaces the state with a restored snapshot (configuration is kept).
    fn restore(&mut self, state: Self::State);

    /// Handles one input event.
    ///
    /// # Errors
    /// [`Invalid`] when the input fails validation: it becomes a dead letter, the state must
    /// be left as it was, and what was emitted for it is dropped.
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid>;

    /// Takes a new, already validated configuration (hot reload) between two inputs; state
    /// is kept. The default ignores it (agents without settings).
    fn reconfigure(&mut self, _config: &AgentConfig) {}
}

/// The envelope of an output event: its deterministic id, its time, its producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// UUIDv7 derived from the input's id, the agent and the output's position.
    pub event_id: EventId,
    /// The input's event time.
    pub event_time: EventTime,
    /// The producing agent instance.
    pub producer: Producer,
}

/// Collects an agent's outputs for one input and stamps their envelopes.
#[derive(Debug)]
pub struct Emitter<'a> {
    agent: &'static str,
    producer: &'a Producer,
    cause_id: EventId,
    cause_time: EventTime,
    next: u32,
    outputs: &'a mut Vec<BusEvent>,
}

impl<'a> Emitter<'a> {
    /// An emitter for outputs caused by the event `cause_id` at `cause_time`.
    pub fn new(agent: &'static str, producer: &'a Producer, cause_id: EventId, cause_time: EventTime, outputs: &'a mut Vec<BusEvent>) -> Self {
        Self { agent, producer, cause_id, cause_time, next: 0, outputs }
    }

    /// "Now" for the agent: the event time of the input being handled.
    pub fn now(&self) -> EventTime {
        self.cause_time
    }

    /// The envelope for the next output. Each call gives a new id.
    pub fn envelope(&mut self) -> Envelope {
        let event_id = EventId::derive(
            self.cause_time,
            &[self.agent.as_bytes(), self.cause_id.as_uuid().as_bytes(), &self.next.to_be_bytes()],
        );
        self.next += 1;
        Envelope { event_id, event_time: self.cause_time, producer: self.producer.clone() }
    }

    /// Emits an output event.
    pub fn emit(&mut self, event: impl Into<BusEvent>) {
        self.outputs.push(event.into());
    }
}

/// Object-safe view of an [`Agent`], for runtimes that run several different agents.
pub trait DynAgent: Send {
    /// [`Agent::NAME`].
    fn name(&self) -> &'static str;
    /// [`Agent::VERSION`].
    fn version(&self) -> &'static str;
    /// [`Agent::INPUTS`].
    fn inputs(&self) -> &'static [&'static str];
    /// [`Agent::OUTPUTS`].
    fn outputs(&self) -> &'static [&'static str];
    /// [`Agent::handle`], leaving state untouched and emitting nothing when it fails.
    ///
    /// # Errors
    /// [`Invalid`] when the input fails validation.
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid>;
    /// The state as a snapshot (JSON).
    ///
    /// # Errors
    /// When the state cannot be serialized (a defect of the state type).
    fn snapshot(&self) -> Result<Vec<u8>, SnapshotError>;
    /// Restores a snapshot taken by [`DynAgent::snapshot`].
    ///
    /// # Errors
    /// When the bytes are not a snapshot of this agent's state.
    fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<(), SnapshotError>;
    /// [`Agent::reconfigure`].
    fn reconfigure(&mut self, config: &AgentConfig);
}

/// A snapshot that could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("snapshot of {agent}: {source}")]
pub struct SnapshotError {
    /// The agent.
    pub agent: &'static str,
    /// What serde reported.
    #[source]
    pub source: serde_json::Error,
}

impl<A: Agent> DynAgent for A {
    fn name(&self) -> &'static str {
        A::NAME
    }
    fn version(&self) -> &'static str {
        A::VERSION
    }
    fn inputs(&self) -> &'static [&'static str] {
        A::INPUTS
    }
    fn outputs(&self) -> &'static [&'static str] {
        A::OUTPUTS
    }
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        let before = out.outputs.len();
        let result = Agent::handle(self, event, out);
        if result.is_err() {
            out.outputs.truncate(before);
        }
        result
    }
    fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        serde_json::to_vec(self.state()).map_err(|source| SnapshotError { agent: A::NAME, source })
    }
    fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        let state = serde_json::from_slice(bytes).map_err(|source| SnapshotError { agent: A::NAME, source })?;
        self.restore(state);
        Ok(())
    }
    fn reconfigure(&mut self, config: &AgentConfig) {
        Agent::reconfigure(self, config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn producer() -> Producer {
        Producer { agent: "maxx-test".into(), version: "0".into(), instance: "t-0".into() }
    }

    #[test]
    fn envelopes_are_deterministic_distinct_and_stamped_with_the_cause_time() {
        let time = EventTime::from_micros(1_752_432_132_123_456);
        let cause = EventId::at(time, [3; 10]);
        let producer = producer();
        let ids = |agent: &'static str| {
            let mut outputs = Vec::new();
            let mut out = Emitter::new(agent, &producer, cause, time, &mut outputs);
            (0..3).map(|_| out.envelope()).collect::<Vec<_>>()
        };
        let first = ids("alpha");
        assert_eq!(first, ids("alpha"), "same input, same ids");
        assert_ne!(first[0].event_id, first[1].event_id);
        assert_ne!(first[0].event_id, ids("portfolio")[0].event_id, "another agent, other ids");
        assert!(first.iter().all(|e| e.event_time == time && e.event_id.as_uuid().get_version_num() == 7));
    }
}
