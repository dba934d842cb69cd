//! `maxx agent <name>`: one agent process — the agent's logic on the Kafka exactly-once
//! runtime, inside the service shell (`maxx_service`): HTTP control plane, configuration with
//! hot reload, logs, metrics, traces.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::builder::PossibleValuesParser;
use maxx_registry::client::HttpRegistry;
use maxx_runtime::KafkaConfig;
use maxx_service::agents::{self, AGENT_NAMES};
use maxx_service::config::{process_env, ConfigSource};
use maxx_events::{Producer, Registration, SchemaRegistry};
use maxx_service::grpc::{self, ExecutionGrpc, GrpcServer};
use maxx_service::routes;
use maxx_service::AgentService;

/// The long help of `maxx agent` (set on its subcommand in `cli/mod.rs`).
pub const LONG_ABOUT: &str = "Run one agent: consume its inputs, handle each with the agent's logic, produce its outputs,\n\
        state snapshot and input offsets in one Kafka transaction (exactly once).\n\n\
        Around it, an HTTP server (--http):\n  \
        GET  /healthz   200 or 500 with {uptime, lag, reason, state}: 500 when not RUNNING, when\n                  \
        lag or the last commit exceed service.max_lag / service.max_commit_latency_ms,\n                  \
        when no broker is reachable, or when the last reload was refused\n  \
        GET  /metrics   Prometheus text: events in/out per topic, dead letters, commit latency,\n                  \
        aborts, consumer lag, rebalances, CPU, memory, open fds, the agent's KPIs\n  \
        GET  /state     the agent's state as of its last commit (JSON)\n  \
        POST /reload    re-read the config file, like SIGHUP (bearer token required)\n\
        plus the agent's own routes (maxx_service::routes): alpha GET /signal/{symbol}; risk_sentinel\n\
        GET /risk/state, POST /risk/trim, /risk/reset; execution POST /order, /cancel, GET /quote/{symbol},\n\
        /orders (and gRPC ExecutionService with --grpc); portfolio GET /pnl, /balance, POST /sweep;\n\
        session_clock GET /now, /calendar; meta_governor GET /govern, POST /govern/reweight, /govern/validate.\n\
        Routes that change something require\n\
        `Authorization: Bearer <token>` (tokens from MAXX_TOKEN_FILE / MAXX_API_TOKEN); without a\n\
        valid one they answer 401 and change nothing.\n\n\
        Configuration: agent_config.yaml (--config; the default path may be missing, which means\n\
        defaults), then MAXX__<SECTION>__<KEY> variables. An invalid file stops the start with\n\
        every problem listed. SIGHUP or POST /reload re-reads it: a valid file takes effect between\n\
        two transactions, without a restart and without losing an event; an invalid one is\n\
        refused (HTTP 422, the log, /healthz) and the old configuration stays.\n\n\
        SIGTERM or SIGINT: the open transaction is committed, the group left, the process exits.";

/// Run one agent.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  \
        maxx agent risk_sentinel --config deploy/config/agent_config.yaml\n  \
        MAXX_BOOTSTRAP=kafka:9092 MAXX_SCHEMA_REGISTRY=http://registry:8081 maxx agent alpha --instance 1\n  \
        MAXX__RISK__DAILY_DRAWDOWN_PCT=2.5 MAXX_LOG=debug maxx agent risk_sentinel --http 127.0.0.1:9101\n  \
        kill -HUP <pid>                                    # reload the config\n  \
        curl -s localhost:9100/healthz\n  \
        curl -s -X POST -H \"Authorization: Bearer $TOKEN\" localhost:9100/reload\n\n\
        Environment:\n  \
        MAXX_BOOTSTRAP               Kafka bootstrap servers (default 127.0.0.1:9092)\n  \
        MAXX_SCHEMA_REGISTRY         schema registry URL (default http://127.0.0.1:8081)\n  \
        MAXX_NAMESPACE               prefix of every topic and group name (default none)\n  \
        MAXX_INSTANCE                instance ordinal, as --instance (default 0); a pod name like\n                               \
        maxx-alpha-2 counts as its trailing ordinal 2\n  \
        MAXX_LEADER_ELECTION         kafka: run only while elected leader (singletons with standbys)\n  \
        MAXX_HTTP_ADDR               HTTP listen address, as --http (default 0.0.0.0:9100)\n  \
        MAXX_GRPC_ADDR               gRPC ExecutionService address, as --grpc (execution only; off)\n  \
        MAXX_CONFIG                  config file, as --config (default /config/agent_config.yaml)\n  \
        MAXX__<SECTION>__<KEY>       override one config key, e.g. MAXX__SERVICE__MAX_LAG=500\n  \
        MAXX_TOKEN_FILE              bearer tokens for mutating routes: lines name:token, or one token\n  \
        MAXX_API_TOKEN               one more bearer token (named env)\n  \
        MAXX_LOG                     log level or filter, e.g. info,maxx_runtime=debug (else RUST_LOG,\n                               \
        else service.log_level)\n  \
        MAXX_LOG_FORMAT              json | human (else service.log_format; auto: human on a terminal)\n  \
        OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/gRPC collector for traces (else service.otel_endpoint);\n                               \
        OTEL_SDK_DISABLED=true turns tracing off"
)]
pub struct Args {
    /// The agent to run.
    #[arg(value_name = "NAME", value_parser = PossibleValuesParser::new(AGENT_NAMES))]
    name: String,
    /// The agent_config.yaml to read (a missing default file means defaults; a named one must exist).
    #[arg(long, env = "MAXX_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address of the HTTP server (health, metrics, reload, the agent's routes).
    #[arg(long, env = "MAXX_HTTP_ADDR", default_value = "0.0.0.0:9100", value_name = "ADDR")]
    http: SocketAddr,
    /// Instance ordinal: the transactional id is maxx.<agent>-<N>; a restarted N fences the old
    /// one. A StatefulSet pod name (`maxx-alpha-2`) gives its trailing ordinal.
    #[arg(long, env = "MAXX_INSTANCE", default_value = "0", value_name = "N", value_parser = parse_instance)]
    instance: u32,
    /// `kafka`: this replica runs the agent only while it is the elected leader of its agent
    /// (one partition of `leader.<agent>` in a consumer group); standbys wait and take over.
    /// Every replica then runs as instance 0, so a new leader fences the old one.
    #[arg(long, env = "MAXX_LEADER_ELECTION", value_name = "MODE", value_parser = ["none", "kafka"], default_value = "none")]
    leader_election: String,
    /// Kafka bootstrap servers.
    #[arg(long, env = "MAXX_BOOTSTRAP", default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    bootstrap: String,
    /// Schema registry URL.
    #[arg(long = "schema-registry", env = "MAXX_SCHEMA_REGISTRY", default_value = "http://127.0.0.1:8081", value_name = "URL")]
    schema_registry: String,
    /// Prefix of every topic and consumer group name (test and staging clusters).
    #[arg(long, env = "MAXX_NAMESPACE", default_value = "", value_name = "PREFIX")]
    namespace: String,
    /// Register missing schemas instead of refusing to start (development only).
    #[arg(long)]
    register_schemas: bool,
    /// Serve the gRPC ExecutionService (proto/execution.proto) on this address too; execution
    /// only, off by default. Same bearer tokens as the mutating HTTP routes.
    #[arg(long, env = "MAXX_GRPC_ADDR", value_name = "ADDR")]
    grpc: Option<SocketAddr>,
    /// The source agents' flags (market_data, sentiment).
    #[command(flatten)]
    source: super::source::SourceArgs,
}

/// Runs the agent until SIGTERM/SIGINT.
///
/// # Errors
/// An unknown or unavailable agent, an invalid configuration or token file, an address that
/// cannot be bound, or a runtime that stopped with an error (fenced, fatal, crash loop).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if super::source::is_source(&args.name) {
        // Sources (feeds, news in; no input topic) run in the source shell.
        let common = super::source::Common { name: args.name.clone(), config: args.config.clone(), http: args.http, instance: args.instance, bootstrap: args.bootstrap.clone(), schema_registry: args.schema_registry.clone(), namespace: args.namespace.clone(), register_schemas: args.register_schemas };
        return super::source::run(common, &args.source);
    }
    let factory = agents::factory(&args.name)?;
    let mut kafka = KafkaConfig::new(&args.bootstrap);
    let elected = args.leader_election == "kafka";
    // Replicas of an elected singleton share one identity: the leader's transactional id
    // fences whichever replica led before it.
    kafka.instance = if elected { 0 } else { args.instance };
    kafka.namespace.clone_from(&args.namespace);
    if args.grpc.is_some() && args.name != "execution" {
        anyhow::bail!("--grpc / MAXX_GRPC_ADDR serves the ExecutionService: only `maxx agent execution` takes it");
    }
    let registry: Arc<dyn SchemaRegistry> = Arc::new(HttpRegistry::new(&args.schema_registry).context("MAXX_SCHEMA_REGISTRY / --schema-registry")?);
    let source = ConfigSource::new(args.config.clone());
    let path = source.path.display().to_string();
    let mut service = AgentService::new(kafka.clone(), Arc::clone(&registry), factory, source, process_env()).with_context(|| format!("starting {} with {path}", args.name))?;
    // The agent's own routes and KPIs (maxx_service::routes).
    let (stats, store) = (service.stats(), service.config());
    service = service.with_routes(routes::for_agent(&args.name));
    for kpi in routes::kpis(&args.name, &stats, &store) {
        service = service.with_kpis(kpi);
    }
    let config = service.config().current();

    let instance = service.identity().instance.clone();
    let observed = super::process::observe(&args.name, &instance, &service.config())?;
    let (_tracing, tokens) = (observed.tracing, observed.tokens);
    let grpc_tokens = tokens.clone();
    service = service.with_tokens(tokens).publishing_commands().handling_signals();
    if elected {
        service = service.with_leader_election();
    }
    if args.register_schemas {
        service = service.registering_schemas();
    }
    let listener = std::net::TcpListener::bind(args.http).with_context(|| format!("listening on {} (MAXX_HTTP_ADDR / --http)", args.http))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let grpc = match args.grpc {
        Some(grpc_address) => {
            let grpc_listener = std::net::TcpListener::bind(grpc_address).with_context(|| format!("listening on {grpc_address} (MAXX_GRPC_ADDR / --grpc)"))?;
            let registration = if args.register_schemas { Registration::Register } else { Registration::LookupOnly };
            let identity = Producer { agent: args.name.clone(), version: factory(&config).version().to_owned(), instance: instance.clone() };
            let stats = Arc::clone(&stats);
            let server = GrpcServer::spawn(grpc_listener, move || {
                let commands = grpc::publisher(&kafka, registry, registration, identity).map_err(|e| e.to_string())?;
                Ok(ExecutionGrpc::new(stats, grpc_tokens, commands))
            })
            .context("starting the gRPC server")?;
            Some(server)
        }
        None => None,
    };
    tracing::info!(agent = %args.name, %instance, http = %address, grpc = ?grpc.as_ref().map(GrpcServer::address), bootstrap = %args.bootstrap, config = %path, "agent starting");
    let result = service.run(listener).with_context(|| format!("agent {instance}"));
    if let Some(grpc) = grpc {
        if let Err(error) = grpc.stop() {
            tracing::warn!(%error, "the gRPC server stopped with an error");
        }
    }
    result?;
    tracing::info!(agent = %args.name, %instance, "agent stopped");
    Ok(ExitCode::SUCCESS)
}

/// An instance ordinal: a number, or a name ending in `-<number>` (a StatefulSet pod name).
fn parse_instance(text: &str) -> Result<u32, String> {
    let digits = text.rsplit('-').next().unwrap_or(text);
    digits.parse().map_err(|_| format!("{text:?} is neither an ordinal nor a name ending in -<ordinal> (e.g. maxx-alpha-2)"))
}

#[cfg(test)]
mod tests {
    use super::parse_instance;

    #[test]
    fn instances_are_ordinals_or_pod_names() {
        assert_eq!(parse_instance("3"), Ok(3));
        assert_eq!(parse_instance("maxx-risk-sentinel-1"), Ok(1));
        assert!(parse_instance("maxx-alpha").is_err());
        assert!(parse_instance("-").is_err());
    }
}
