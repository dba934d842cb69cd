//! The audit: rebuild an agent's state by folding the recorded log through the agent's own
//! code, and check it against every snapshot the live agent wrote (`state.<agent>`).
//!
//! **What a checkpoint means.** A live snapshot is written in the same transaction as the
//! input offsets it records, so the state in snapshot *k* is exactly the state in snapshot
//! *k − 1* folded with the inputs between the two snapshots' offsets — nothing more, nothing
//! less. The replay assigns every record to the interval of the first checkpoint whose offset
//! for its partition lies past it, and compares at each checkpoint once its interval is done.
//!
//! **Order inside an interval.** The live agent read its partitions in whatever order the
//! broker delivered them; that order is not recorded. The replay merges partitions in a
//! fixed order — interval, then broker timestamp, then topic (in the agent's input order),
//! partition, offset — which is the same for every auditor. State fields are compared field
//! by field (JSON paths) except the few that depend on how partitions of *different* topics
//! interleave ([`interleaving_sensitive`]): with the topology's keys (ticks by symbol; fills,
//! orders, pnl and session events each on one partition), every other field depends only on
//! per-partition order, which Kafka keeps. Those few fields are not compared; after each
//! checkpoint the replayed state takes them from the snapshot, so they cannot drift.
//!
//! **After a divergence** the replay goes on from the live snapshot (the whole state), so
//! each later checkpoint is checked as one step from the one before, and a single tampered
//! event shows as a single divergence.
//!
//! **Outputs** (optional, [`Auditor::with_recorded_pnl`]): output ids derive from the input's
//! id, so each fill's replayed pnl can be compared with the live pnl of the same id; the
//! first difference names the one fill behind a divergence, not only its interval.
//!
//! **Digest**: SHA-256 over every replayed record in replay order — topic, a zero byte, the
//! value's length (u32 big-endian; `u32::MAX` for a tombstone) and the value's bytes. Two
//! auditors who replayed the same history get the same digest; offsets are not in it, so an
//! archive imported into another broker digests the same.

use std::collections::BTreeMap;
use std::iter::Peekable;

use maxx_agents::DynAgent;
use maxx_events::{BusCodec, BusDecodeError, Producer};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::archive::ArchivedRecord;
use crate::error::ReplayError;

/// Top-level state fields of `agent` whose value depends on how partitions of different
/// topics interleave within one checkpoint interval, and which the audit therefore does not
/// compare (see the module doc).
///
/// - `portfolio.next_pnl_due_us`: set from the event time of the last input that published a
///   pnl; the last input of an interval may be a tick or a fill depending on interleaving.
/// - `risk_sentinel.judged_orders`, `risk_sentinel.fills_ahead_of_order`: which fills of an
///   order arrived before the order itself (`orders` and `fills` are separate topics).
pub fn interleaving_sensitive(agent: &str) -> &'static [&'static str] {
    match agent {
        "portfolio" => &["next_pnl_due_us"],
        "risk_sentinel" => &["judged_orders", "fills_ahead_of_order"],
        _ => &[],
    }
}

/// A live snapshot: the state the agent recorded at its input offsets.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Offset of the snapshot in the `state.<agent>` topic.
    pub position: i64,
    /// Instance that wrote it.
    pub instance: String,
    /// Next input offset per (topic, partition): everything before is in the state.
    pub offsets: BTreeMap<(String, i32), i64>,
    /// The recorded state.
    pub state: Value,
}

/// One partition's records, in offset order.
pub struct PartitionStream<'a> {
    /// Topic (without namespace).
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Its records.
    pub records: Peekable<Box<dyn Iterator<Item = Result<ArchivedRecord, ReplayError>> + 'a>>,
}

impl std::fmt::Debug for PartitionStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionStream").field("topic", &self.topic).field("partition", &self.partition).finish_non_exhaustive()
    }
}

impl<'a> PartitionStream<'a> {
    /// A stream of `topic`/`partition` over `records`.
    pub fn new(topic: &str, partition: i32, records: impl Iterator<Item = Result<ArchivedRecord, ReplayError>> + 'a) -> Self {
        let boxed: Box<dyn Iterator<Item = Result<ArchivedRecord, ReplayError>> + 'a> = Box::new(records);
        Self { topic: topic.to_owned(), partition, records: boxed.peekable() }
    }
}

/// A state field that differs between the live snapshot and the replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    /// JSON path, e.g. `holdings.BTCUSD.qty`.
    pub path: String,
    /// Value in the live snapshot (compact JSON, or `(absent)`).
    pub live: String,
    /// Value in the replayed state.
    pub replayed: String,
}

/// The interval of one partition that led to a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntervalRange {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// First offset of the interval (the previous checkpoint's).
    pub from: i64,
    /// The checkpoint's next offset (exclusive).
    pub to: i64,
}

/// A checkpoint where the replay disagreed with the live snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// Index of the checkpoint (0 = first snapshot).
    pub checkpoint: usize,
    /// Its offset in the state topic.
    pub position: i64,
    /// The input ranges folded since the previous checkpoint (only non-empty ones): the
    /// event that made the difference is in one of them.
    pub inputs: Vec<IntervalRange>,
    /// The differing fields (at most 50).
    pub fields: Vec<FieldDiff>,
}

/// Portfolio's recorded pnl events by event id, with where each was read: the outputs a
/// replay of each fill must reproduce (see [`Auditor::with_recorded_pnl`]).
pub type RecordedPnl = std::collections::HashMap<maxx_events::EventId, (i32, i64, maxx_events::Pnl)>;

/// The first fill whose replayed pnl differs from the pnl the live Portfolio published for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputMismatch {
    /// Topic of the input (`fills`).
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset: the event that made the difference.
    pub offset: i64,
    /// Id of the pnl event (the same in the live log and in the replay).
    pub output_id: String,
    /// Partition and offset of the recorded pnl, `None` when the live log has no pnl with
    /// that id.
    pub output_offset: Option<(i32, i64)>,
    /// The differing pnl fields.
    pub fields: Vec<FieldDiff>,
}

/// The audit of one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentAudit {
    /// Agent name.
    pub agent: String,
    /// Snapshots found in the state topic (in the audited range).
    pub checkpoints: usize,
    /// Snapshots the replay reached and compared.
    pub checked: usize,
    /// Compared and equal.
    pub matched: usize,
    /// Divergences, the first ones (at most 20).
    pub divergences: Vec<Divergence>,
    /// Number of divergences in all.
    pub divergence_count: usize,
    /// Records replayed.
    pub events: u64,
    /// Records that did not decode (the live agent dead-lettered them too).
    pub undecodable: u64,
    /// Events the agent refused (dead letters live, no state change).
    pub refused: u64,
    /// SHA-256 of the replayed records (hex), see the module doc.
    pub digest: String,
    /// Fills whose replayed pnl was compared with the recorded one (`--check-outputs`).
    pub outputs_checked: u64,
    /// Fills whose replayed pnl differed.
    pub output_mismatches: u64,
    /// The first of them: pins a divergence to one input.
    pub first_output_mismatch: Option<OutputMismatch>,
    /// Fields not compared, as depending on cross-topic interleaving.
    pub not_compared: Vec<String>,
    /// Next offset per partition after the replay.
    pub read_to: BTreeMap<String, i64>,
    /// The replayed state at the end of the replay.
    pub state: Value,
}

/// The replay order of a record: checkpoint interval, broker timestamp, topic rank in the
/// agent's inputs, partition, offset.
type MergeKey = (usize, i64, usize, i32, i64);

/// The checkpoint interval a record belongs to: the first checkpoint past its offset.
fn interval_of(checkpoints: &[Checkpoint], key: &(String, i32), offset: i64) -> usize {
    checkpoints.partition_point(|cp| cp.offsets.get(key).copied().unwrap_or(0) <= offset)
}

fn render(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".into(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 200 {
                format!("{}…", text.chars().take(200).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// Field-by-field differences between two JSON values, skipping the top-level `skip` keys.
pub fn diff(live: &Value, replayed: &Value, skip: &[&str]) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    diff_at("", live, replayed, skip, &mut out);
    out
}

fn diff_at(path: &str, live: &Value, replayed: &Value, skip: &[&str], out: &mut Vec<FieldDiff>) {
    if out.len() >= 50 || live == replayed {
        return;
    }
    let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match (live, replayed) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                if path.is_empty() && skip.contains(&key.as_str()) {
                    continue;
                }
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff_at(&join(key), x, y, skip, out),
                    (x, y) => out.push(FieldDiff { path: join(key), live: render(x), replayed: render(y) }),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_at(&format!("{path}[{i}]"), x, y, skip, out);
            }
        }
        _ => out.push(FieldDiff { path: if path.is_empty() { "(state)".into() } else { path.to_owned() }, live: render(Some(live)), replayed: render(Some(replayed)) }),
    }
}

/// Sets the `fields` of `target` to their values in `source` (absent stays absent).
fn anchor(target: &mut Value, source: &Value, fields: &[&str]) {
    if let (Value::Object(t), Value::Object(s)) = (target, source) {
        for field in fields {
            match s.get(*field) {
                Some(v) => {
                    t.insert((*field).to_owned(), v.clone());
                }
                None => {
                    t.remove(*field);
                }
            }
        }
    }
}

fn state_of(agent: &dyn DynAgent) -> Result<Value, ReplayError> {
    let bytes = agent.snapshot().map_err(|e| ReplayError::Snapshot(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| ReplayError::Snapshot(e.to_string()))
}

fn restore(agent: &mut dyn DynAgent, state: &Value) -> Result<(), ReplayError> {
    let bytes = serde_json::to_vec(state).map_err(|e| ReplayError::Snapshot(e.to_string()))?;
    agent.restore_snapshot(&bytes).map_err(|e| ReplayError::Snapshot(e.to_string()))
}

/// Folds records through an agent and checks its checkpoints.
pub struct Auditor<'c> {
    agent: Box<dyn DynAgent>,
    codec: &'c mut BusCodec,
    producer: Producer,
    checkpoints: Vec<Checkpoint>,
    next_checkpoint: usize,
    /// Next offset per partition: where the replay stands.
    read: BTreeMap<(String, i32), i64>,
    /// Where the previous checkpoint stood (start of the current interval).
    interval_start: BTreeMap<(String, i32), i64>,
    digest: Sha256,
    result: AgentAudit,
    outputs: Vec<maxx_events::BusEvent>,
    recorded_pnl: Option<RecordedPnl>,
}

impl std::fmt::Debug for Auditor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor").field("agent", &self.agent.name()).field("next_checkpoint", &self.next_checkpoint).finish_non_exhaustive()
    }
}

impl<'c> Auditor<'c> {
    /// An auditor of `agent` (in its starting state: fresh, or restored from the checkpoint
    /// the replay starts at, whose offsets are `start`), checking `checkpoints` (in the
    /// order they were written, all after `start`).
    pub fn new(agent: Box<dyn DynAgent>, codec: &'c mut BusCodec, checkpoints: Vec<Checkpoint>, start: BTreeMap<(String, i32), i64>) -> Self {
        let name = agent.name().to_owned();
        let producer = Producer { agent: name.clone(), version: agent.version().to_owned(), instance: format!("{name}-replay") };
        let result = AgentAudit {
            agent: name.clone(),
            checkpoints: checkpoints.len(),
            checked: 0,
            matched: 0,
            divergences: Vec::new(),
            divergence_count: 0,
            events: 0,
            undecodable: 0,
            refused: 0,
            digest: String::new(),
            outputs_checked: 0,
            output_mismatches: 0,
            first_output_mismatch: None,
            not_compared: interleaving_sensitive(&name).iter().map(|f| format!("{name}.{f}")).collect(),
            read_to: BTreeMap::new(),
            state: Value::Null,
        };
        Self {
            agent,
            codec,
            producer,
            checkpoints,
            next_checkpoint: 0,
            read: start.clone(),
            interval_start: start,
            digest: Sha256::new(),
            result,
            outputs: Vec::new(),
            recorded_pnl: None,
        }
    }

    /// Also checks outputs: for every fill, the pnl the replay publishes is compared with the
    /// pnl of the same id the live Portfolio published (ids derive from the input). Only
    /// `cash`, `realized`, `fees` and `lockbox` are compared: they depend on the order of
    /// fills (one partition) alone, whereas equity and unrealized PnL at the moment of a fill
    /// depend on which ticks came before it. This pins a divergence to the one fill behind it.
    pub fn with_recorded_pnl(mut self, recorded: RecordedPnl) -> Self {
        self.recorded_pnl = Some(recorded);
        self
    }

    fn check_outputs(&mut self, record: &ArchivedRecord) {
        let Some(recorded) = &self.recorded_pnl else { return };
        for output in &self.outputs {
            let maxx_events::BusEvent::Pnl(replayed) = output else { continue };
            self.result.outputs_checked += 1;
            let live = recorded.get(&replayed.event_id);
            let fields: Vec<FieldDiff> = match live {
                None => vec![FieldDiff { path: "(event)".into(), live: "(absent)".into(), replayed: replayed.event_id.to_string() }],
                Some((_, _, live)) => [
                    ("cash", live.cash, replayed.cash),
                    ("realized", live.realized, replayed.realized),
                    ("fees", live.fees, replayed.fees),
                    ("lockbox", live.lockbox, replayed.lockbox),
                ]
                .into_iter()
                .filter(|(_, a, b)| a != b)
                .map(|(name, a, b)| FieldDiff { path: name.into(), live: a.to_string(), replayed: b.to_string() })
                .collect(),
            };
            if fields.is_empty() {
                continue;
            }
            self.result.output_mismatches += 1;
            if self.result.first_output_mismatch.is_none() {
                self.result.first_output_mismatch = Some(OutputMismatch {
                    topic: record.topic.clone(),
                    partition: record.partition,
                    offset: record.offset,
                    output_id: replayed.event_id.to_string(),
                    output_offset: live.map(|(p, o, _)| (*p, *o)),
                    fields,
                });
            }
        }
    }

    /// Whether every input of the next checkpoint has been replayed (a replay cut short by
    /// `--as-of` may stop inside an interval: such a checkpoint is not compared).
    fn reached(&self) -> bool {
        self.checkpoints.get(self.next_checkpoint).is_some_and(|checkpoint| {
            checkpoint.offsets.iter().all(|(key, next)| self.read.get(key).copied().unwrap_or(0) >= *next)
        })
    }

    fn check(&mut self) -> Result<(), ReplayError> {
        let index = self.next_checkpoint;
        let Some(checkpoint) = self.checkpoints.get(index) else { return Ok(()) };
        let name = self.agent.name();
        let skip = interleaving_sensitive(name);
        let mut replayed = state_of(self.agent.as_ref())?;
        let fields = diff(&checkpoint.state, &replayed, skip);
        self.result.checked += 1;
        if fields.is_empty() {
            self.result.matched += 1;
            anchor(&mut replayed, &checkpoint.state, skip);
            restore(self.agent.as_mut(), &replayed)?;
        } else {
            self.result.divergence_count += 1;
            if self.result.divergences.len() < 20 {
                let inputs = checkpoint
                    .offsets
                    .iter()
                    .filter_map(|(key, to)| {
                        let from = self.interval_start.get(key).copied().unwrap_or(0);
                        (from < *to).then(|| IntervalRange { topic: key.0.clone(), partition: key.1, from, to: *to })
                    })
                    .collect();
                self.result.divergences.push(Divergence { checkpoint: index, position: checkpoint.position, inputs, fields });
            }
            restore(self.agent.as_mut(), &checkpoint.state)?;
        }
        self.interval_start = checkpoint.offsets.clone();
        self.next_checkpoint += 1;
        Ok(())
    }

    fn fold(&mut self, record: &ArchivedRecord) -> Result<(), ReplayError> {
        self.result.events += 1;
        self.digest.update(record.topic.as_bytes());
        self.digest.update([0]);
        match &record.value {
            None => self.digest.update(u32::MAX.to_be_bytes()),
            Some(value) => {
                self.digest.update(u32::try_from(value.len()).unwrap_or(u32::MAX - 1).to_be_bytes());
                self.digest.update(value);
            }
        }
        self.read.insert((record.topic.clone(), record.partition), record.offset + 1);
        let Some(bytes) = &record.value else {
            self.result.undecodable += 1;
            return Ok(());
        };
        let event = match self.codec.decode(&record.topic, bytes) {
            Ok(event) => event,
            Err(BusDecodeError::Message(_)) => {
                self.result.undecodable += 1;
                return Ok(());
            }
            Err(BusDecodeError::Registry(e)) => return Err(e.into()),
            Err(BusDecodeError::UnknownTopic(topic)) => return Err(ReplayError::Usage(format!("no event type for topic {topic}"))),
        };
        self.outputs.clear();
        let mut out = maxx_agents::Emitter::new(self.agent.name(), &self.producer, event.event_id(), event.event_time(), &mut self.outputs);
        if self.agent.handle(&event, &mut out).is_err() {
            self.result.refused += 1;
        } else if matches!(event, maxx_events::BusEvent::Fill(_)) {
            self.check_outputs(record);
        }
        Ok(())
    }

    /// Replays `streams` (one per input partition) to their ends, checking every checkpoint
    /// reached; `progress` gets the number of records replayed every 8192 records.
    ///
    /// # Errors
    /// [`ReplayError`] when a stream fails, the registry cannot answer, or a snapshot cannot
    /// be restored.
    pub fn run(mut self, mut streams: Vec<PartitionStream<'_>>, progress: &mut dyn FnMut(u64)) -> Result<AgentAudit, ReplayError> {
        let rank: BTreeMap<String, usize> = self.agent.inputs().iter().enumerate().map(|(i, t)| ((*t).to_owned(), i)).collect();
        loop {
            let mut best: Option<(usize, MergeKey)> = None;
            for (i, stream) in streams.iter_mut().enumerate() {
                let head = match stream.records.peek() {
                    None => continue,
                    Some(Err(_)) => {
                        if let Some(Err(e)) = stream.records.next() {
                            return Err(e);
                        }
                        continue;
                    }
                    Some(Ok(head)) => head,
                };
                let key_tp = (stream.topic.clone(), stream.partition);
                let key = (
                    interval_of(&self.checkpoints, &key_tp, head.offset),
                    head.timestamp.unwrap_or(i64::MIN),
                    rank.get(&stream.topic).copied().unwrap_or(usize::MAX),
                    stream.partition,
                    head.offset,
                );
                if best.as_ref().is_none_or(|(_, b)| key < *b) {
                    best = Some((i, key));
                }
            }
            let Some((index, (interval, ..))) = best else { break };
            while self.next_checkpoint < interval.min(self.checkpoints.len()) && self.reached() {
                self.check()?;
            }
            let Some(Ok(record)) = streams[index].records.next() else { continue };
            self.fold(&record)?;
            if self.result.events.is_multiple_of(8192) {
                progress(self.result.events);
            }
        }
        // Checkpoints the replay reached at its end (all their offsets replayed).
        while self.next_checkpoint < self.checkpoints.len() && self.reached() {
            self.check()?;
        }
        progress(self.result.events);
        self.result.digest = hex(&self.digest.finalize());
        self.result.read_to = self.read.iter().map(|((t, p), o)| (format!("{t}:{p}"), *o)).collect();
        self.result.state = state_of(self.agent.as_ref())?;
        Ok(self.result)
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses offsets written `topic:partition=offset,...` (next offsets, as snapshots record
/// them).
///
/// # Errors
/// [`ReplayError::Usage`] naming the part that does not parse.
pub fn parse_offsets(text: &str) -> Result<BTreeMap<(String, i32), i64>, ReplayError> {
    let mut offsets = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || ReplayError::Usage(format!("{part:?} is not topic:partition=offset"));
        let (tp, offset) = part.split_once('=').ok_or_else(bad)?;
        let (topic, partition) = tp.rsplit_once(':').ok_or_else(bad)?;
        let partition: i32 = partition.parse().map_err(|_| bad())?;
        let offset: i64 = offset.parse().map_err(|_| bad())?;
        if topic.is_empty() || partition < 0 || offset < 0 {
            return Err(bad());
        }
        offsets.insert((topic.to_owned(), partition), offset);
    }
    if offsets.is_empty() {
        return Err(ReplayError::Usage(format!("{text:?} names no offsets (topic:partition=offset,...)")));
    }
    Ok(offsets)
}

/// Offsets written back in the `topic:partition=offset,...` form.
pub fn format_offsets(offsets: &BTreeMap<(String, i32), i64>) -> String {
    offsets.iter().map(|((t, p), o)| format!("{t}:{p}={o}")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests;
