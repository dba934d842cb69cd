//! `maxx registry serve`: a Confluent-compatible schema registry for Avro, stored in a
//! compacted Kafka topic (see the `maxx-registry` crate). For plain Apache Kafka, CI and
//! laptops; against Redpanda or Confluent, use their registry — agents only need the URL.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use maxx_registry::api::{self, DEFAULT_MAX_BODY_BYTES};
use maxx_registry::store::{KafkaStore, StoreConfig};

/// Schema registry commands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Serve the schema registry API (Confluent-compatible, Avro) over HTTP.
    #[command(
        long_about = "Serve a schema registry that Confluent clients cannot tell from Confluent's for Avro:\n\
            subjects, versions, schemas by id, lookup, compatibility tests, global and per-subject\n\
            config, soft and permanent deletes, Confluent error codes.\n\n\
            Schemas, versions and levels live in a compacted single-partition topic (--topic). A\n\
            restarted registry, or several on the same topic, serve the same ids and versions.\n\
            Once ready it prints `listening on http://ADDR` on stdout; SIGINT/SIGTERM stop it.",
        after_help = "Examples:\n  maxx registry serve\n  MAXX_BOOTSTRAP=kafka:9092 maxx registry serve --listen 0.0.0.0:8081\n  \
            maxx registry serve --listen 127.0.0.1:0 --topic _schemas_test   # a free port, printed on stdout\n\n\
            Environment:\n  MAXX_BOOTSTRAP  Kafka bootstrap servers (default 127.0.0.1:9092)"
    )]
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    listen: String,
    /// Kafka bootstrap servers.
    #[arg(long, env = "MAXX_BOOTSTRAP", default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    bootstrap: String,
    /// The compacted topic holding the registry (created with one partition if missing).
    #[arg(long, default_value = "_schemas", value_name = "TOPIC")]
    topic: String,
    /// Replication factor of the topic when it is created (-1: the broker's default).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true, value_name = "N")]
    replication_factor: i32,
    /// Largest request body accepted; larger ones get 413.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    max_body_bytes: usize,
}

/// Runs a `maxx registry` command.
///
/// # Errors
/// When the broker cannot be reached, the topic is unusable, or the address cannot be bound.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        RegistryCommand::Serve(serve) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the async runtime")?;
            runtime.block_on(serve_until_stopped(serve))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve_until_stopped(args: ServeArgs) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("MAXX_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")))
        .try_init();
    let mut config = StoreConfig::new(&args.bootstrap, &args.topic);
    config.replication_factor = args.replication_factor;
    let store = KafkaStore::open(config)
        .await
        .with_context(|| format!("opening the registry topic {} on the broker at {} (MAXX_BOOTSTRAP)", args.topic, args.bootstrap))?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    println!("listening on http://{address}");
    std::io::stdout().flush().context("writing to stdout")?;
    eprintln!("maxx registry: serving the schema registry on http://{address} from topic {} at {}", args.topic, args.bootstrap);
    api::serve(listener, Arc::new(store), args.max_body_bytes, stopped()).await.context("serving HTTP")?;
    eprintln!("maxx registry: stopped");
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
