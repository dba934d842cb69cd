//! An audit from end to end: for each audited agent, its checkpoints and its input
//! partitions from a broker (a namespace) or from an archive directory, the fold
//! ([`crate::audit::Auditor`]) and the report. The CLI and the integration tests call this.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maxx_agents::config::AgentConfig;
use maxx_agents::portfolio::Portfolio;
use maxx_agents::risk::RiskSentinel;
use maxx_agents::DynAgent;
use maxx_events::{BusCodec, Registration, SchemaRegistry};
use rdkafka::ClientConfig;

use crate::archive::{ArchiveReader, ArchiveSchemas};
use crate::audit::{AgentAudit, Auditor, Checkpoint, PartitionStream};
use crate::audit_report::AuditReport;
use crate::error::ReplayError;
use crate::kafka::{self, PartitionReader, Until};

/// Agents whose state an audit can rebuild.
pub const AUDITABLE: [&str; 2] = ["portfolio", "risk_sentinel"];

/// The agent `name` built from `config`, in its starting state.
///
/// # Errors
/// [`ReplayError::Usage`] for an agent the audit does not rebuild.
pub fn agent(name: &str, config: &AgentConfig) -> Result<Box<dyn DynAgent>, ReplayError> {
    match name {
        "portfolio" => Ok(Box::new(Portfolio::new(config.portfolio.clone()))),
        "risk_sentinel" => Ok(Box::new(RiskSentinel::new(config.risk.clone()))),
        other => Err(ReplayError::Usage(format!("cannot audit {other:?}: auditable agents are {}", AUDITABLE.join(", ")))),
    }
}

/// Where the replay stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    /// The end of the log.
    End,
    /// Next offsets per partition (partitions not named: nothing).
    Offsets(BTreeMap<(String, i32), i64>),
    /// Broker timestamp, ms since the epoch (records at or before it).
    TimeMs(i64),
}

impl AsOf {
    /// Parses `--as-of`: offsets (`topic:partition=offset,...`) or a time.
    ///
    /// # Errors
    /// [`ReplayError::Usage`] when it is neither.
    pub fn parse(text: &str) -> Result<Self, ReplayError> {
        if text.contains('=') {
            return Ok(Self::Offsets(crate::audit::parse_offsets(text)?));
        }
        let micros = crate::time::parse_micros(text).map_err(|e| ReplayError::Usage(e.to_string()))?;
        Ok(Self::TimeMs(micros.div_euclid(1000)))
    }

    fn until(&self, topic: &str, partition: i32) -> Until {
        match self {
            Self::End => Until::End,
            Self::Offsets(map) => Until::Offset(map.get(&(topic.to_owned(), partition)).copied().unwrap_or(0)),
            Self::TimeMs(ms) => Until::TimeMs(*ms),
        }
    }
}

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// Agents, in report order.
    pub agents: Vec<String>,
    /// The live agents' configuration (starting cash, limits).
    pub config: AgentConfig,
    /// Where to stop.
    pub as_of: AsOf,
    /// Start at the last checkpoint at or before these offsets instead of the beginning.
    pub from_offsets: Option<BTreeMap<(String, i32), i64>>,
    /// Also compare Portfolio's replayed pnl for each fill with the recorded one
    /// ([`Auditor::with_recorded_pnl`]): pins a divergence to one fill, costs an index of
    /// the pnl topic in memory.
    pub check_outputs: bool,
}

/// Where the log is.
#[derive(Clone)]
pub enum LogSource {
    /// A broker: client config and topic-name prefix.
    Broker {
        /// Client configuration.
        client: ClientConfig,
        /// Prefix of every topic.
        namespace: String,
        /// Registry of the values' schemas.
        registry: Arc<dyn SchemaRegistry>,
    },
    /// A directory of archive files (`<topic>.avro`).
    Archive(PathBuf),
}

impl std::fmt::Debug for LogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl LogSource {
    fn describe(&self) -> String {
        match self {
            Self::Broker { namespace, .. } if namespace.is_empty() => "the broker".into(),
            Self::Broker { namespace, .. } => format!("namespace {namespace}"),
            Self::Archive(dir) => format!("archive {}", dir.display()),
        }
    }
}

fn archive_path(dir: &Path, topic: &str) -> PathBuf {
    dir.join(format!("{topic}.avro"))
}

fn open_archive(dir: &Path, topic: &str) -> Result<Option<ArchiveReader<std::io::BufReader<std::fs::File>>>, ReplayError> {
    let path = archive_path(dir, topic);
    if !path.exists() {
        return Ok(None);
    }
    let file = std::fs::File::open(&path).map_err(|e| ReplayError::Usage(format!("open {}: {e}", path.display())))?;
    Ok(Some(ArchiveReader::open(std::io::BufReader::new(file))?))
}

fn checkpoints(source: &LogSource, agent: &str) -> Result<Vec<Checkpoint>, ReplayError> {
    let topic = format!("state.{agent}");
    match source {
        LogSource::Broker { client, namespace, .. } => kafka::read_checkpoints(client, &format!("{namespace}{topic}"), agent),
        LogSource::Archive(dir) => {
            let Some(reader) = open_archive(dir, &topic)? else { return Ok(Vec::new()) };
            let mut found = Vec::new();
            for record in reader {
                let record = record?;
                if record.key.as_deref() != Some(agent.as_bytes()) {
                    continue;
                }
                if let Some(value) = record.value {
                    found.push(kafka::checkpoint_from_bytes(record.offset, &value)?);
                }
            }
            Ok(found)
        }
    }
}

/// Input partitions of `topic` in the source, each a stream from `from` until `until`.
fn streams<'a>(source: &'a LogSource, topic: &str, from: &BTreeMap<(String, i32), i64>, as_of: &AsOf) -> Result<Vec<PartitionStream<'a>>, ReplayError> {
    let mut out = Vec::new();
    match source {
        LogSource::Broker { client, namespace, .. } => {
            let full = format!("{namespace}{topic}");
            for partition in kafka::partitions(client, &full)? {
                let start = from.get(&(topic.to_owned(), partition)).copied().unwrap_or(0);
                let reader = PartitionReader::open(client, &full, topic, partition, start, as_of.until(topic, partition))?;
                out.push(PartitionStream::new(topic, partition, reader));
            }
        }
        LogSource::Archive(dir) => {
            let Some(reader) = open_archive(dir, topic)? else { return Ok(out) };
            // One pass to find the partitions; then one lazy reader per partition.
            let mut partitions = std::collections::BTreeSet::new();
            for record in reader {
                partitions.insert(record?.partition);
            }
            for partition in partitions {
                let start = from.get(&(topic.to_owned(), partition)).copied().unwrap_or(0);
                let until = as_of.until(topic, partition);
                let reader = open_archive(dir, topic)?.ok_or_else(|| ReplayError::Usage(format!("{topic} vanished")))?;
                let records = reader
                    .map(|r| r.map_err(ReplayError::from))
                    .filter(move |r| r.as_ref().map_or(true, |r| r.partition == partition && r.offset >= start))
                    .take_while(move |r| match (r, &until) {
                        (Ok(r), Until::Offset(limit)) => r.offset < *limit,
                        (Ok(r), Until::TimeMs(limit)) => r.timestamp.is_none_or(|t| t <= *limit),
                        _ => true,
                    });
                out.push(PartitionStream::new(topic, partition, records));
            }
        }
    }
    Ok(out)
}

fn registry(source: &LogSource, inputs: &[&str]) -> Result<Arc<dyn SchemaRegistry>, ReplayError> {
    match source {
        LogSource::Broker { registry, .. } => Ok(registry.clone()),
        LogSource::Archive(dir) => {
            let mut schemas = BTreeMap::new();
            for topic in inputs {
                if let Some(reader) = open_archive(dir, topic)? {
                    schemas.extend(reader.schemas.clone());
                }
            }
            Ok(Arc::new(ArchiveSchemas::new(schemas)))
        }
    }
}

/// Audits one agent.
///
/// # Errors
/// [`ReplayError`] when the log cannot be read or a snapshot restored.
pub fn audit_agent(source: &LogSource, name: &str, request: &AuditRequest, progress: &mut dyn FnMut(u64)) -> Result<AgentAudit, ReplayError> {
    let mut agent = agent(name, &request.config)?;
    let inputs: Vec<&str> = agent.inputs().to_vec();
    let all = checkpoints(source, name)?;
    let (start, later) = match &request.from_offsets {
        None => (BTreeMap::new(), all),
        Some(from) => {
            let not_past = |cp: &Checkpoint| cp.offsets.iter().all(|(key, next)| from.get(key).is_some_and(|f| next <= f));
            let index = all.iter().rposition(not_past).ok_or_else(|| ReplayError::Usage(format!("no checkpoint of {name} at or before the given offsets")))?;
            let base = &all[index];
            let bytes = serde_json::to_vec(&base.state).map_err(|e| ReplayError::Snapshot(e.to_string()))?;
            agent.restore_snapshot(&bytes).map_err(|e| ReplayError::Snapshot(e.to_string()))?;
            (base.offsets.clone(), all[index + 1..].to_vec())
        }
    };
    let mut codec = BusCodec::new(registry(source, &inputs)?, &inputs, Registration::LookupOnly)?;
    let mut partition_streams = Vec::new();
    for topic in &inputs {
        partition_streams.extend(streams(source, topic, &start, &request.as_of)?);
    }
    let mut auditor = Auditor::new(agent, &mut codec, later, start);
    if request.check_outputs && name == "portfolio" {
        auditor = auditor.with_recorded_pnl(recorded_pnl(source)?);
    }
    auditor.run(partition_streams, progress)
}

/// Every pnl of the source by event id.
fn recorded_pnl(source: &LogSource) -> Result<crate::audit::RecordedPnl, ReplayError> {
    let mut codec = BusCodec::new(registry(source, &["pnl"])?, &["pnl"], Registration::LookupOnly)?;
    let mut recorded = crate::audit::RecordedPnl::new();
    for stream in streams(source, "pnl", &BTreeMap::new(), &AsOf::End)? {
        for record in stream.records {
            let record = record?;
            let Some(value) = record.value else { continue };
            if let Ok(maxx_events::BusEvent::Pnl(pnl)) = codec.decode("pnl", &value) {
                recorded.insert(pnl.event_id, (record.partition, record.offset, pnl));
            }
        }
    }
    Ok(recorded)
}

/// Audits every requested agent.
///
/// # Errors
/// [`ReplayError`] when the log cannot be read or a snapshot restored.
pub fn audit(source: &LogSource, request: &AuditRequest, as_of_text: Option<String>, progress: &mut dyn FnMut(&str, u64)) -> Result<AuditReport, ReplayError> {
    let mut agents = Vec::new();
    for name in &request.agents {
        agents.push(audit_agent(source, name, request, &mut |n| progress(name, n))?);
    }
    Ok(AuditReport::new(source.describe(), as_of_text, agents))
}

/// Records to replay from a broker in all: Σ (high − low) over the agents' input partitions,
/// for a progress bar's length (an upper bound: markers and aborted records count).
///
/// # Errors
/// [`ReplayError::Kafka`].
pub fn broker_size(client: &ClientConfig, namespace: &str, agents: &[String], config: &AgentConfig) -> Result<u64, ReplayError> {
    let mut total = 0_u64;
    for name in agents {
        for topic in agent(name, config)?.inputs() {
            let full = format!("{namespace}{topic}");
            for partition in kafka::partitions(client, &full)? {
                let (low, high) = kafka::watermarks(client, &full, partition)?;
                total += u64::try_from(high - low).unwrap_or(0);
            }
        }
    }
    Ok(total)
}
