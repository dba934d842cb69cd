//! `maxx topology apply|check|graph`: the topics of `topology/topics.yaml` on a broker, the
//! file's consistency with the schemas, the agents and the broker, and its data-flow graph.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use maxx_topology::broker::{self, BrokerView, Target};
use maxx_topology::check::{self, Wiring};
use maxx_topology::{graph, Format, Topology};
use rdkafka::config::ClientConfig;

/// Topology commands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TopologyCommand,
}

#[derive(Debug, Subcommand)]
enum TopologyCommand {
    /// Create or update the topics on the broker (idempotent; never deletes data unless asked).
    #[command(
        long_about = "Create the topics of the topology that the broker lacks, grow partitions, and set\n\
            cleanup.policy and retention.ms. Running it twice changes nothing the second time.\n\n\
            Nothing that deletes data happens without --allow-delete: deleting topics the file no\n\
            longer has (in the namespace; `_`-prefixed topics are never touched), shortening a\n\
            retention, or compacting a topic that was not. Those changes are listed and skipped.",
        after_help = "Examples:\n  maxx topology apply --dry-run\n  maxx topology apply --replication 1            # a single-node broker\n  \
            MAXX_NAMESPACE=test. maxx topology apply --replication 1\n  maxx topology apply --allow-delete\n\n\
            Environment:\n  MAXX_BOOTSTRAP  Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
            MAXX_NAMESPACE  prefix of every topic name (default none)"
    )]
    Apply(ApplyArgs),
    /// Check the topology: producers, schemas, the agents' wiring, and (unless --offline) the broker.
    #[command(
        long_about = "Fail (exit 1) when a consumed topic has no producer, an Avro topic has no schema or a\n\
            wrong subject, a schema has no topic, an agent built into this binary consumes or\n\
            produces topics the file does not say it does, or (unless --offline) the broker\n\
            disagrees with the file (missing topics, partitions, cleanup policy, retention,\n\
            replication).",
        after_help = "Examples:\n  maxx topology check --offline        # in CI, without a broker\n  \
            maxx topology check --replication 1  # against a single-node broker\n\n\
            Environment:\n  MAXX_BOOTSTRAP  Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
            MAXX_NAMESPACE  prefix of every topic name (default none)"
    )]
    Check(CheckArgs),
    /// Print the data-flow graph (agents and topics) as Mermaid or Graphviz DOT.
    #[command(after_help = "Examples:\n  maxx topology graph                        # Mermaid, for Markdown\n  \
            maxx topology graph --format dot | dot -Tsvg > maxx.svg\n  maxx topology graph --all                  # with lifecycle, dead letters, snapshots")]
    Graph(GraphArgs),
}

#[derive(Debug, clap::Args)]
struct FileArgs {
    /// Topology file (default: the topology/topics.yaml this binary was built with).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

impl FileArgs {
    fn load(&self) -> anyhow::Result<Topology> {
        match &self.file {
            Some(path) => Topology::load(path).with_context(|| format!("topology {}", path.display())),
            None => Topology::parse(maxx_topology::TOPICS_YAML).context("the built-in topology"),
        }
    }
}

#[derive(Debug, clap::Args)]
pub(super) struct BrokerArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "MAXX_BOOTSTRAP", default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    bootstrap: String,
    /// Prefix of every topic name.
    #[arg(long, env = "MAXX_NAMESPACE", default_value = "", value_name = "PREFIX")]
    namespace: String,
    /// Replication factor for every topic instead of the file's (1 on a single-node broker).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    replication: Option<i32>,
    /// How long to wait for the broker.
    #[arg(long, default_value = "30", value_name = "SECONDS")]
    timeout: u64,
}

impl BrokerArgs {
    fn client(&self) -> ClientConfig {
        let mut client = ClientConfig::new();
        client.set("bootstrap.servers", &self.bootstrap);
        client
    }

    fn observe(&self) -> anyhow::Result<BrokerView> {
        broker::observe(&self.client(), Duration::from_secs(self.timeout)).with_context(|| format!("reading the topics of the broker at {}", self.bootstrap))
    }
}

#[derive(Debug, clap::Args)]
struct ApplyArgs {
    #[command(flatten)]
    file: FileArgs,
    #[command(flatten)]
    broker: BrokerArgs,
    /// Also carry out changes that delete data.
    #[arg(long)]
    allow_delete: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    file: FileArgs,
    #[command(flatten)]
    broker: BrokerArgs,
    /// Do not contact a broker.
    #[arg(long)]
    offline: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Debug, clap::Args)]
struct GraphArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "mermaid")]
    format: GraphFormat,
    /// Include the plumbing topics (lifecycle, dead letters, snapshots, registry).
    #[arg(long)]
    all: bool,
}

/// Runs a `maxx topology` command.
///
/// # Errors
/// When the file is invalid or the broker cannot be reached or refuses a change.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        TopologyCommand::Apply(args) => apply(&args),
        TopologyCommand::Check(args) => check(&args),
        TopologyCommand::Graph(args) => {
            let topology = args.file.load()?;
            let text = match args.format {
                GraphFormat::Mermaid => graph::mermaid(&topology, args.all),
                GraphFormat::Dot => graph::dot(&topology, args.all),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn apply(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    apply_topology(&args.file.load()?, &args.broker, args.allow_delete, args.dry_run)
}

/// Makes the broker of `broker` match `topology`, printing what it does.
pub(super) fn apply_topology(topology: &Topology, broker: &BrokerArgs, allow_delete: bool, dry_run: bool) -> anyhow::Result<ExitCode> {
    let view = broker.observe()?;
    let target = Target { topology, namespace: &broker.namespace, replication: broker.replication };
    let wanted = topology.topics.iter().map(|t| target_replication(&target, t)).max().unwrap_or(1);
    if usize::try_from(wanted).unwrap_or(usize::MAX) > view.brokers {
        anyhow::bail!(
            "the topology wants replication {wanted} but the cluster at {} has {} broker(s); pass --replication {} on a smaller cluster",
            broker.bootstrap,
            view.brokers,
            view.brokers
        );
    }
    let plan = broker::plan(&target, &view, allow_delete);
    let (safe, risky): (Vec<_>, Vec<_>) = plan.changes.into_iter().partition(|c| allow_delete || !c.deletes_data(&view));
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    for change in &risky {
        eprintln!("skipped (deletes data; --allow-delete to do it): {change}");
    }
    if safe.is_empty() {
        println!("the broker already matches the topology ({} topics)", topology.topics.len());
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        for change in &safe {
            println!("would {change}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let done = broker::apply(&broker.client(), &safe, Duration::from_secs(broker.timeout)).context("applying the topology")?;
    for change in &done {
        println!("{change}");
    }
    println!("applied {} change(s)", done.len());
    Ok(ExitCode::SUCCESS)
}

fn target_replication(target: &Target<'_>, topic: &maxx_topology::TopicSpec) -> i32 {
    target.replication.unwrap_or_else(|| target.topology.replication_of(topic))
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let topology = args.file.load()?;
    let catalog = maxx_events::catalog();
    let schema_topics: BTreeSet<&str> = catalog.iter().map(|entry| entry.topic).collect();
    let mut problems = check::problems(&topology, &schema_topics);
    problems.extend(check::wiring_problems(&topology, &built_agents()));
    if !args.offline {
        let view = args.broker.observe()?;
        let target = Target { topology: &topology, namespace: &args.broker.namespace, replication: args.broker.replication };
        problems.extend(broker::drift(&target, &view));
    }
    if problems.is_empty() {
        let avro = topology.topics.iter().filter(|t| t.format == Format::Avro).count();
        println!("topology ok: {} topics ({avro} with Avro schemas){}", topology.topics.len(), if args.offline { "" } else { ", broker agrees" });
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &problems {
            println!("problem: {problem}");
        }
        println!("{} problem(s)", problems.len());
        Ok(ExitCode::FAILURE)
    }
}

/// The wiring of every agent built into this binary.
fn built_agents() -> Vec<Wiring<'static>> {
    maxx_agents::catalog::wiring().into_iter().map(|w| Wiring { agent: w.name, inputs: w.inputs, outputs: w.outputs }).collect()
}
