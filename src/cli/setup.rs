//! `maxx setup`: what a new cluster needs before the agents start — the topics of the
//! topology, then every schema version registered with its compatibility level. Idempotent:
//! the compose stack and deployments run it on every start.

use std::process::ExitCode;

use super::{schemas, topology};

/// Set up a broker and a registry for MAXX.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Create or update the topics of the built-in topology (as `maxx topology apply`), then\n\
        register every schema version with its subject's compatibility level (as `maxx schemas\n\
        register`). Safe to run again: what exists is left alone, and nothing is deleted.",
    after_help = "Examples:\n  maxx setup --replication 1                               # a single-node broker\n  \
        MAXX_BOOTSTRAP=redpanda:9092 MAXX_SCHEMA_REGISTRY=http://redpanda:8081 maxx setup --dir /schemas\n\n\
        Environment:\n  MAXX_BOOTSTRAP        Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
        MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)\n  \
        MAXX_NAMESPACE        prefix of every topic name (default none)"
)]
pub struct Args {
    #[command(flatten)]
    broker: topology::BrokerArgs,
    #[command(flatten)]
    tree: schemas::Tree,
    #[command(flatten)]
    registry: schemas::Registry,
}

/// Runs `maxx setup`.
///
/// # Errors
/// When the broker or the registry cannot be reached or refuses a change.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let topology = maxx_topology::Topology::parse(maxx_topology::TOPICS_YAML)?;
    let topics = topology::apply_topology(&topology, &args.broker, false, false)?;
    if topics != ExitCode::SUCCESS {
        return Ok(topics);
    }
    schemas::register(&args.tree, &args.registry)
}
