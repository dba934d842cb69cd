//! The embedded runtime: agents wired together in one process, no broker, every event
//! delivered in one deterministic order. The base of `maxx demo`, backtests and fast tests.
//!
//! Order: events are handled first-in first-out; an event goes to every agent that consumes
//! its topic, in the order the agents were added; each agent's outputs join the back of the
//! queue in the order it emitted them. The same inputs therefore always give the same log.

use std::collections::VecDeque;

use maxx_agents::{DynAgent, Emitter};
use maxx_events::{BusEvent, DeadLetter, DeadLetterKind, Producer};

/// One agent and the producer identity its outputs carry.
struct Slot {
    agent: Box<dyn DynAgent>,
    producer: Producer,
}

/// Agents in one process.
pub struct EmbeddedRuntime {
    slots: Vec<Slot>,
    queue: VecDeque<BusEvent>,
    /// Position of the next handled event in the log: the "offset" dead letters refer to.
    handled: i64,
}

impl std::fmt::Debug for EmbeddedRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedRuntime")
            .field("agents", &self.slots.iter().map(|s| s.agent.name()).collect::<Vec<_>>())
            .field("queued", &self.queue.len())
            .field("handled", &self.handled)
            .finish()
    }
}

/// Why the runtime stopped before the queue was empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("still {queued} events queued after handling {limit}: agents feed each other without end")]
pub struct Runaway {
    /// The step limit.
    pub limit: usize,
    /// Events still queued.
    pub queued: usize,
}

impl Default for EmbeddedRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl EmbeddedRuntime {
    /// A runtime with no agents.
    pub fn new() -> Self {
        Self { slots: Vec::new(), queue: VecDeque::new(), handled: 0 }
    }

    /// Adds an agent; its outputs carry `instance` as the producing instance.
    pub fn add(&mut self, agent: impl DynAgent + 'static, instance: &str) -> &mut Self {
        let producer = Producer { agent: agent.name().to_owned(), version: agent.version().to_owned(), instance: instance.to_owned() };
        self.slots.push(Slot { agent: Box::new(agent), producer });
        self
    }

    /// Queues an event from outside (a tick, a news item, a manual order).
    pub fn publish(&mut self, event: impl Into<BusEvent>) -> &mut Self {
        self.queue.push_back(event.into());
        self
    }

    /// The agent named `name`, to read its state or snapshot it.
    pub fn agent(&self, name: &str) -> Option<&dyn DynAgent> {
        self.slots.iter().find(|s| s.agent.name() == name).map(|s| s.agent.as_ref())
    }

    /// The agent named `name`, to restore a snapshot into it.
    pub fn agent_mut(&mut self, name: &str) -> Option<&mut (dyn DynAgent + 'static)> {
        self.slots.iter_mut().find(|s| s.agent.name() == name).map(|s| s.agent.as_mut())
    }

    /// Handles the next queued event; returns it with the events it caused (already queued),
    /// or `None` when the queue is empty.
    pub fn step(&mut self) -> Option<(BusEvent, Vec<BusEvent>)> {
        let event = self.queue.pop_front()?;
        let offset = self.handled;
        self.handled += 1;
        let mut caused = Vec::new();
        for slot in &mut self.slots {
            if !slot.agent.inputs().contains(&event.topic()) {
                continue;
            }
            let mut out = Emitter::new(slot.agent.name(), &slot.producer, event.event_id(), event.event_time(), &mut caused);
            if let Err(invalid) = slot.agent.handle(&event, &mut out) {
                let envelope = out.envelope();
                out.emit(DeadLetter {
                    event_id: envelope.event_id,
                    event_time: envelope.event_time,
                    producer: envelope.producer,
                    source_topic: event.topic().to_owned(),
                    source_partition: 0,
                    source_offset: offset,
                    source_timestamp: Some(event.event_time()),
                    key: Some(event.key().as_bytes().to_vec()),
                    // In process there are no wire bytes; the event id in the reason finds it in the log.
                    value: None,
                    headers: Vec::new(),
                    error_kind: DeadLetterKind::Invalid,
                    reason: format!("event {}: {}", event.event_id(), invalid.reason),
                });
            }
        }
        self.queue.extend(caused.iter().cloned());
        Some((event, caused))
    }

    /// Handles events until none is queued and returns every handled event in order (the
    /// inputs published and everything the agents produced).
    ///
    /// # Errors
    /// [`Runaway`] after `limit` events when agents keep feeding each other.
    pub fn run_until_idle(&mut self, limit: usize) -> Result<Vec<BusEvent>, Runaway> {
        let mut log = Vec::new();
        while let Some((event, _)) = self.step() {
            log.push(event);
            if log.len() >= limit && !self.queue.is_empty() {
                return Err(Runaway { limit, queued: self.queue.len() });
            }
        }
        Ok(log)
    }
}
