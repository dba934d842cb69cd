//! `maxx probe URL`: a health check for images without a shell or curl (the compose stack's
//! and Kubernetes exec probes): exits 0 when the URL answers 2xx, 1 otherwise, printing why.

use std::process::ExitCode;
use std::time::Duration;

/// Probe an HTTP endpoint.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  maxx probe http://127.0.0.1:9100/healthz\n  maxx probe --timeout 1 http://alpha:9100/healthz")]
pub struct Args {
    /// The URL to GET.
    url: String,
    /// Give up after this many seconds.
    #[arg(long, default_value = "3", value_name = "SECONDS")]
    timeout: u64,
}

/// Runs `maxx probe`.
///
/// # Errors
/// Never: every failure is an exit code with a message.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(args.timeout))).http_status_as_error(false).build().new_agent();
    match agent.get(&args.url).call() {
        Ok(mut response) => {
            let status = response.status();
            let body = response.body_mut().read_to_string().unwrap_or_default();
            println!("{} {status}: {}", args.url, body.trim());
            Ok(if status.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Err(error) => {
            println!("{}: {error}", args.url);
            Ok(ExitCode::FAILURE)
        }
    }
}
