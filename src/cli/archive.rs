//! `maxx archive export|import`: topics to Avro Object Container files (one per topic, the
//! wrapper schema embedded, each record with its source topic, partition, offset, timestamp,
//! key and headers, the values' writer schemas in the file's metadata) and back into a
//! (namespaced) broker, order per partition kept.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use maxx_events::{BusCodec, BusEvent, SchemaRegistry as _};
use maxx_replay::archive::{ArchiveReader, ArchiveWriter};
use maxx_replay::kafka::{self, PartitionReader, Until};

/// Archive commands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ArchiveCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ArchiveCommand {
    /// Write topics to <DIR>/<topic>.avro (Avro Object Container files).
    #[command(
        long_about = "Write each topic to <DIR>/<topic>.avro: an Avro Object Container file of\n\
            maxx.archive.ArchivedRecord (topic, partition, offset, timestamp, key, value, headers),\n\
            partition by partition in offset order, committed records only. Values are kept byte for\n\
            byte; the schemas they reference are copied from the registry into the file's metadata\n\
            (maxx.schemas), so the file decodes without a registry. Topics that do not exist are\n\
            skipped and named.",
        after_help = "Examples:\n  maxx archive export --out archive/                       # every bus topic and agent snapshot topic\n  \
            maxx archive export --out archive/ --topics ticks,fills,state.portfolio\n  \
            MAXX_NAMESPACE=prod. maxx archive export --out archive/\n\n\
            Environment:\n  MAXX_BOOTSTRAP        Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
            MAXX_NAMESPACE        prefix of every topic name (default none)\n  \
            MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)"
    )]
    Export(ExportArgs),
    /// Produce archive files back into a broker (topics must exist).
    #[command(
        long_about = "Produce the records of <DIR>/<topic>.avro back to <namespace><topic>, each to its\n\
            original partition with its key, value, timestamp and headers, in file order (so order per\n\
            partition is kept), with an idempotent producer. Each record also gets the header\n\
            maxx-archive-offset with its original offset: replay and export report that offset, so\n\
            imported snapshots still point at the right events. Create the topics first\n\
            (MAXX_NAMESPACE=<ns> maxx topology apply).",
        after_help = "Examples:\n  MAXX_NAMESPACE=audit. maxx topology apply --replication 1 && MAXX_NAMESPACE=audit. maxx archive import --from archive/\n  \
            maxx archive import --from archive/ --namespace copy. --topics fills\n\n\
            Environment:\n  MAXX_BOOTSTRAP  Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
            MAXX_NAMESPACE  prefix of every topic name (default none)"
    )]
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct BrokerArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "MAXX_BOOTSTRAP", default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    bootstrap: String,
    /// Prefix of every topic name.
    #[arg(long, env = "MAXX_NAMESPACE", default_value = "", value_name = "PREFIX")]
    namespace: String,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// Directory to write the files to (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Topics to export (without the namespace); default: every bus topic and state.<agent>.
    #[arg(long, value_delimiter = ',', value_name = "TOPIC,...")]
    topics: Vec<String>,
    #[command(flatten)]
    broker: BrokerArgs,
    /// Schema registry (to copy the values' schemas into the files).
    #[arg(long, env = "MAXX_SCHEMA_REGISTRY", default_value = "http://127.0.0.1:8081", value_name = "URL")]
    registry: String,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// Directory holding <topic>.avro files.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// Topics to import; default: every .avro file of the directory.
    #[arg(long, value_delimiter = ',', value_name = "TOPIC,...")]
    topics: Vec<String>,
    #[command(flatten)]
    broker: BrokerArgs,
}

/// Agents whose snapshot topics are exported by default.
const AGENTS: [&str; 8] = ["market_data", "sentiment", "session_clock", "alpha", "risk_sentinel", "execution", "portfolio", "meta_governor"];

/// Runs `maxx archive`.
///
/// # Errors
/// Broker, registry or file failures.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ArchiveCommand::Export(args) => export(&args),
        ArchiveCommand::Import(args) => import(&args),
    }
}

fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let client = kafka::client(&args.broker.bootstrap);
    let topics: Vec<String> = if args.topics.is_empty() {
        BusEvent::TOPICS.iter().map(|t| (*t).to_owned()).chain(AGENTS.iter().map(|a| format!("state.{a}"))).collect()
    } else {
        args.topics.clone()
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("create {}", args.out.display()))?;
    let registry = maxx_registry::client::HttpRegistry::new(&args.registry).context("schema registry")?;
    for topic in &topics {
        let full = format!("{}{topic}", args.broker.namespace);
        let partitions = kafka::partitions(&client, &full)?;
        if partitions.is_empty() {
            eprintln!("{full}: no such topic, skipped");
            continue;
        }
        // First pass: the schema ids the values reference (bus topics only).
        let mut schemas = BTreeMap::new();
        if !topic.starts_with("state.") {
            for &partition in &partitions {
                for record in PartitionReader::open(&client, &full, topic, partition, 0, Until::End)? {
                    let id = record?.value.as_deref().and_then(BusCodec::schema_id_of);
                    if let Some(id) = id.filter(|id| !schemas.contains_key(id)) {
                        if let Some(text) = registry.schema_by_id(id).with_context(|| format!("schema {id}"))? {
                            schemas.insert(id, text);
                        }
                    }
                }
            }
        }
        let path = args.out.join(format!("{topic}.avro"));
        let file = std::fs::File::create(&path).with_context(|| format!("create {}", path.display()))?;
        let mut writer = ArchiveWriter::new(std::io::BufWriter::new(file), topic, &schemas)?;
        let mut count = 0_u64;
        for &partition in &partitions {
            for record in PartitionReader::open(&client, &full, topic, partition, 0, Until::End)? {
                writer.append(&record?)?;
                count += 1;
            }
        }
        use std::io::Write as _;
        writer.finish()?.flush().with_context(|| format!("write {}", path.display()))?;
        println!("{full}: {count} records, {} partitions -> {}", partitions.len(), path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let client = kafka::client(&args.broker.bootstrap);
    let mut files: Vec<PathBuf> = if args.topics.is_empty() {
        std::fs::read_dir(&args.from)
            .with_context(|| format!("read {}", args.from.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "avro"))
            .collect()
    } else {
        args.topics.iter().map(|t| args.from.join(format!("{t}.avro"))).collect()
    };
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no archive files in {}", args.from.display());
    for path in files {
        let file = std::fs::File::open(&path).with_context(|| format!("open {}", path.display()))?;
        let reader = ArchiveReader::open(std::io::BufReader::new(file)).with_context(|| format!("archive {}", path.display()))?;
        let full = format!("{}{}", args.broker.namespace, reader.topic);
        let count = kafka::produce(&client, &full, reader.map(|r| r.map_err(Into::into))).with_context(|| format!("import {}", path.display()))?;
        println!("{} -> {full}: {count} records", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
