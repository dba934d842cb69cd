//! `maxx`: the one binary of MAXX. Every agent, the schema registry and the tools are its
//! subcommands, one module each under `cli/`.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("maxx: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
