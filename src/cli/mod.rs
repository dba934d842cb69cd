//! The command line: the top-level parser and the dispatch to one module per subcommand.
//! Add a subcommand by adding a variant to [`Command`], its module, and its match arm in
//! [`run`].

mod agent;
mod archive;
mod backtest;
mod config;
mod demo;
mod registry;
mod replay;
mod probe;
mod process;
mod schemas;
mod setup;
mod source;
mod topology;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// MAXX — an event-sourced autonomous trading platform on Kafka-protocol brokers.
#[derive(Debug, Parser)]
#[command(
    name = "maxx",
    version,
    about,
    long_about = "MAXX — an event-sourced autonomous trading platform.\n\n\
        Eight agents (market data, sentiment, session clock, alpha, risk sentinel, execution,\n\
        portfolio, meta governor) trade together on versioned Avro topics of a Kafka-protocol\n\
        broker, each a consumer-producer with exactly-once transactions.",
    after_help = "Examples:\n  maxx --version\n  maxx --help\n\n\
        Environment:\n  MAXX_BOOTSTRAP        Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
        MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)",
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// All of MAXX in one process on a synthetic market, no broker: `maxx demo`.
    Demo(demo::Args),
    /// Run one agent: `maxx agent <name>` (see `maxx agent --help`).
    #[command(long_about = agent::LONG_ABOUT)]
    Agent(agent::Args),
    /// Agent configuration: `maxx config check FILE`.
    Config(config::Args),
    /// The schema registry: `maxx registry serve`.
    Registry(registry::Args),
    /// Schema governance: `maxx schemas check|register|list`.
    Schemas(schemas::Args),
    /// Topics from `topology/`: `maxx topology apply|check|graph`.
    Topology(topology::Args),
    /// Topics and schemas for a new cluster: `maxx topology apply` + `maxx schemas register`.
    Setup(setup::Args),
    /// Exit 0 when a URL answers 2xx (health checks in images without curl).
    Probe(probe::Args),
    /// Replay ticks through the trading agents and report: `maxx backtest --ticks FILE --out DIR`.
    Backtest(backtest::Args),
    /// Topics to Avro container files and back: `maxx archive export|import`.
    Archive(archive::Args),
    /// Audit: rebuild portfolio and risk state from the log: `maxx replay audit`.
    Replay(replay::Args),
}

/// Runs the parsed command line.
///
/// # Errors
/// Whatever the subcommand reports; `main` prints it with its context chain.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Demo(args)) => demo::run(args),
        None => Ok(ExitCode::SUCCESS),
        Some(Command::Agent(args)) => agent::run(args),
        Some(Command::Config(args)) => config::run(args),
        Some(Command::Registry(args)) => registry::run(args),
        Some(Command::Schemas(args)) => schemas::run(args),
        Some(Command::Topology(args)) => topology::run(args),
        Some(Command::Setup(args)) => setup::run(args),
        Some(Command::Probe(args)) => probe::run(args),
        Some(Command::Backtest(args)) => backtest::run(args),
        Some(Command::Archive(args)) => archive::run(args),
        Some(Command::Replay(args)) => replay::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn version_flag_reports_the_crate_version() {
        let err = Cli::try_parse_from(["maxx", "--version"]).expect_err("--version exits early");
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayVersion);
        assert_eq!(err.to_string().trim(), format!("maxx {}", env!("CARGO_PKG_VERSION")));
    }
}
