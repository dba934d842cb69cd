//! `maxx`: the one binary of MAXX. Every agent, the schema registry and the tools are its
//! subcommands; this skeleton carries the command line and its help.

use clap::{CommandFactory, Parser};

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
        MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)"
)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    // No subcommands yet: show what the binary is rather than doing nothing silently.
    let mut command = Cli::command();
    if command.print_long_help().is_err() {
        std::process::exit(2);
    }
}

#[cfg(test)]
mod tests {
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
