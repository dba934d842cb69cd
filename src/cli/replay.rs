//! `maxx replay audit`: rebuild portfolio and risk state from the log with the agents' own
//! code and check it against every snapshot the live agents recorded.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use maxx_replay::audit::parse_offsets;
use maxx_replay::run_audit::{self, AsOf, AuditRequest, LogSource};

/// Replay commands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ReplayCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ReplayCommand {
    /// Rebuild portfolio and risk state from the log and check every live snapshot.
    #[command(
        long_about = "Read the topics Portfolio and RiskSentinel consume (from the broker, or from an archive\n\
            directory written by `maxx archive export`), fold them through the agents' own code, and\n\
            compare the rebuilt state with every snapshot the live agents wrote to state.<agent>, at\n\
            the snapshot's own input offsets. Prints how many checkpoints matched, the first\n\
            divergence (the input offsets it lies between and each differing field), and a SHA-256\n\
            digest of the replayed events that another auditor replaying the same history gets too.\n\n\
            Partitions are merged in a fixed order (interval between snapshots, broker timestamp,\n\
            topic, partition, offset). Fields that depend on how partitions of different topics\n\
            interleave are not compared (portfolio.next_pnl_due_us, risk_sentinel.judged_orders and\n\
            fills_ahead_of_order) and are taken from each snapshot; everything else is compared.\n\n\
            --as-of stops the replay at a time (broker timestamps at or before it) or at offsets\n\
            (topic:partition=next_offset,...; unnamed partitions contribute nothing) and shows the\n\
            state there. --check-outputs also compares the pnl Portfolio publishes for each fill\n\
            with the one it published live, which names the exact fill behind a divergence.\n\
            --config must be the live agents' configuration (starting cash, limits).\n\
            Exit status: 0 when every compared checkpoint matched, 1 otherwise.",
        after_help = "Examples:\n  maxx replay audit\n  maxx replay audit --json > audit.json\n  \
            maxx replay audit --html audit.html --config agent_config.yaml\n  \
            maxx replay audit --as-of 2026-01-01T12:00:00Z --agents portfolio\n  \
            maxx replay audit --as-of fills:0=1200,ticks:0=800,ticks:1=790\n  \
            maxx replay audit --from-offsets fills:0=1000,ticks:0=700,ticks:1=690\n  \
            maxx replay audit --archive archive/          # no broker needed\n  \
            maxx replay audit --agents portfolio --check-outputs   # pin a divergence to one fill\n\n\
            Environment:\n  MAXX_BOOTSTRAP        Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
            MAXX_NAMESPACE        prefix of every topic name (default none)\n  \
            MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)"
    )]
    Audit(AuditArgs),
}

#[derive(Debug, clap::Args)]
struct AuditArgs {
    /// Agents to audit.
    #[arg(long, value_delimiter = ',', default_value = "portfolio,risk_sentinel", value_name = "AGENT,...")]
    agents: Vec<String>,
    /// The live agents' configuration (agent_config.yaml); defaults when absent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Rebuild the state as of a time (RFC 3339 UTC or µs) or offsets (topic:partition=offset,...).
    #[arg(long, value_name = "TIME|OFFSETS")]
    as_of: Option<String>,
    /// Start from the last snapshot at or before these offsets instead of the beginning.
    #[arg(long, value_name = "OFFSETS")]
    from_offsets: Option<String>,
    /// Also compare Portfolio's replayed pnl for each fill with the pnl it published live
    /// (cash, realized, fees, lockbox): pins a divergence to the one fill behind it. Keeps
    /// an index of the pnl topic in memory.
    #[arg(long)]
    check_outputs: bool,
    /// Read an archive directory instead of the broker.
    #[arg(long, value_name = "DIR")]
    archive: Option<PathBuf>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the report as HTML to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Kafka bootstrap servers.
    #[arg(long, env = "MAXX_BOOTSTRAP", default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    bootstrap: String,
    /// Prefix of every topic name.
    #[arg(long, env = "MAXX_NAMESPACE", default_value = "", value_name = "PREFIX")]
    namespace: String,
    /// Schema registry URL.
    #[arg(long, env = "MAXX_SCHEMA_REGISTRY", default_value = "http://127.0.0.1:8081", value_name = "URL")]
    registry: String,
}

/// Runs `maxx replay`.
///
/// # Errors
/// Broker, registry, archive or configuration failures.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ReplayCommand::Audit(args) => audit(&args),
    }
}

fn audit(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let config = super::backtest::load_config(args.config.as_deref())?;
    let as_of = args.as_of.as_deref().map(AsOf::parse).transpose()?.unwrap_or(AsOf::End);
    let from_offsets = args.from_offsets.as_deref().map(parse_offsets).transpose()?;
    let request = AuditRequest { agents: args.agents.clone(), config, as_of, from_offsets, check_outputs: args.check_outputs };
    let source = match &args.archive {
        Some(dir) => LogSource::Archive(dir.clone()),
        None => {
            let registry = maxx_registry::client::HttpRegistry::new(&args.registry).context("schema registry")?;
            LogSource::Broker { client: maxx_replay::kafka::client(&args.bootstrap), namespace: args.namespace.clone(), registry: Arc::new(registry) }
        }
    };
    let total = match &source {
        LogSource::Broker { client, namespace, .. } => run_audit::broker_size(client, namespace, &request.agents, &request.config).unwrap_or(0),
        LogSource::Archive(_) => 0,
    };
    let bar = super::backtest::progress_bar(total, "audit");
    let mut before = 0_u64;
    let mut current = String::new();
    let report = run_audit::audit(&source, &request, args.as_of.clone(), &mut |agent, n| {
        if agent != current {
            before = bar.position();
            current = agent.to_owned();
        }
        bar.set_position(before + n);
    })?;
    bar.finish_and_clear();
    if let Some(path) = &args.html {
        std::fs::write(path, report.to_html()).with_context(|| format!("write {}", path.display()))?;
    }
    if args.json {
        print!("{}", report.to_json()?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
