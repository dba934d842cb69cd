//! `maxx config check FILE`: validates an `agent_config.yaml` as an agent would load it
//! (file, then `MAXX__` overrides, then range checks) and prints the effective configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use maxx_service::config::{load, process_env, to_yaml, ConfigSource};

/// Configuration commands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate an agent_config.yaml and print the effective configuration; exits 1 if invalid.
    #[command(
        long_about = "Validate an agent_config.yaml the way an agent loads it: the file (unknown keys and wrong\n\
            types refused), then the MAXX__<SECTION>__<KEY> variables of this environment, then every\n\
            value range-checked (percentages, cron expressions, weights, URLs).\n\n\
            Valid: prints the effective configuration as YAML on stdout — every key, defaults included —\n\
            and exits 0. Invalid: prints every problem on stderr and exits 1.",
        after_help = "Examples:\n  maxx config check deploy/config/agent_config.yaml\n  \
            MAXX__SERVICE__MAX_LAG=500 maxx config check agent_config.yaml   # with an override\n  \
            maxx config check --no-env agent_config.yaml                      # the file alone\n\n\
            Environment:\n  MAXX__<SECTION>__<KEY>  overrides one key, e.g. MAXX__RISK__DAILY_DRAWDOWN_PCT=2.5"
    )]
    Check {
        /// The file to check.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Ignore MAXX__ variables: check the file alone.
        #[arg(long)]
        no_env: bool,
    },
}

/// Runs a `maxx config` command.
///
/// # Errors
/// When the effective configuration cannot be printed (a defect).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ConfigCommand::Check { file, no_env } => {
            let env = if no_env { Vec::new() } else { process_env() };
            match load(&ConfigSource { path: file.clone(), explicit: true }, &env) {
                Ok(config) => {
                    print!("{}", to_yaml(&config)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    let problems = error.problems();
                    eprintln!("maxx config check: {} is not valid ({} problem{}):", file.display(), problems.len(), if problems.len() == 1 { "" } else { "s" });
                    for problem in problems {
                        eprintln!("  - {problem}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
