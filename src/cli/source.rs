//! `maxx agent market_data` and `maxx agent sentiment`: the two source agents, whose inputs
//! are exchange feeds and news rather than topics, in their process shell
//! (`maxx_service::source`): the source shell publishes exactly once, the HTTP control plane
//! (health with per-feed staleness, metrics, reload, the agent's routes) runs beside it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use maxx_events::SchemaRegistry;
use maxx_registry::client::HttpRegistry;
use maxx_runtime::KafkaConfig;
use maxx_service::config::{process_env, ConfigSource};
use maxx_service::source::market_data::{self, TickSource};
use maxx_service::source::sentiment::{self, NewsOptions};
use maxx_service::source::SourceService;

/// Flags of the source agents (`maxx agent market_data|sentiment`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// market_data: where ticks come from — `live` (the venues of market_data.feeds, the
    /// default), `synthetic` (the seeded synthetic market of market_data.synthetic) or
    /// `file:PATH` (a CSV file `ts,symbol,price,volume,bid,ask,exchange`, or a `*.avro`
    /// archive of the ticks topic from `maxx archive export`; the process exits once it is
    /// published).
    #[arg(long = "source", env = "MAXX_TICK_SOURCE", value_name = "live|synthetic|file:PATH", help_heading = "Source agents")]
    pub tick_source: Option<String>,
    /// market_data --source synthetic: pace as a multiple of the market's own time (2: twice
    /// as fast; 0: as fast as the broker takes the ticks). Default 1.
    #[arg(long, value_name = "N", help_heading = "Source agents")]
    pub speed: Option<f64>,
    /// sentiment: a JSON Lines file of newsapi/reddit/twitter documents, published at start.
    #[arg(long, value_name = "PATH", help_heading = "Source agents")]
    pub news_file: Option<PathBuf>,
    /// sentiment: also publish the seeded synthetic news feed (an item a second).
    #[arg(long, help_heading = "Source agents")]
    pub synthetic: bool,
}

/// The flags every agent process has, as `maxx agent` parsed them.
#[derive(Debug, Clone)]
pub struct Common {
    /// `market_data` or `sentiment`.
    pub name: String,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--http`.
    pub http: SocketAddr,
    /// `--instance`.
    pub instance: u32,
    /// `--bootstrap`.
    pub bootstrap: String,
    /// `--schema-registry`.
    pub schema_registry: String,
    /// `--namespace`.
    pub namespace: String,
    /// `--register-schemas`.
    pub register_schemas: bool,
}

/// Whether `maxx agent NAME` runs in the source shell.
pub fn is_source(name: &str) -> bool {
    matches!(name, "market_data" | "sentiment")
}

/// What the source flags ask of agent `name`; flags of the other source are refused.
fn choose(name: &str, args: &SourceArgs) -> anyhow::Result<Result<TickSource, NewsOptions>> {
    if name == "market_data" {
        if args.news_file.is_some() || args.synthetic {
            anyhow::bail!("--news-file and --synthetic are sentiment's flags; market_data takes --source synthetic");
        }
        let source: TickSource = args.tick_source.as_deref().unwrap_or("live").parse().map_err(|e: String| anyhow::anyhow!("--source / MAXX_TICK_SOURCE: {e}"))?;
        let speed = args.speed.unwrap_or(1.0);
        if !speed.is_finite() || speed < 0.0 {
            anyhow::bail!("--speed {speed}: a pace of 0 or more");
        }
        return Ok(Ok(match source {
            TickSource::Synthetic { .. } => TickSource::Synthetic { speed },
            other if args.speed.is_some() => anyhow::bail!("--speed paces the synthetic market only, not {other:?}"),
            other => other,
        }));
    }
    if args.tick_source.is_some() || args.speed.is_some() {
        anyhow::bail!("--source and --speed are market_data's flags");
    }
    Ok(Err(NewsOptions { news_file: args.news_file.clone(), synthetic: args.synthetic, synthetic_interval: Duration::from_secs(1) }))
}

/// Runs a source agent until SIGTERM/SIGINT (market_data from a file: until it is published).
///
/// # Errors
/// Invalid flags, configuration or token file, an address that cannot be bound, a source
/// shell that stopped with an error (fenced, fatal).
pub fn run(common: Common, args: &SourceArgs) -> anyhow::Result<ExitCode> {
    let what = choose(&common.name, args)?;
    let mut kafka = KafkaConfig::new(&common.bootstrap);
    kafka.instance = common.instance;
    kafka.namespace.clone_from(&common.namespace);
    let registry: Arc<dyn SchemaRegistry> = Arc::new(HttpRegistry::new(&common.schema_registry).context("MAXX_SCHEMA_REGISTRY / --schema-registry")?);
    let source = ConfigSource::new(common.config.clone());
    let path = source.path.display().to_string();
    let mut service = SourceService::new(&common.name, kafka, registry, source, process_env()).with_context(|| format!("starting {} with {path}", common.name))?;
    let instance = service.identity().instance.clone();
    let observed = super::process::observe(&common.name, &instance, &service.config())?;
    let (_tracing, tokens) = (observed.tracing, observed.tokens);
    service = service.with_tokens(tokens).handling_signals();
    if common.register_schemas {
        service = service.registering_schemas();
    }
    let listener = std::net::TcpListener::bind(common.http).with_context(|| format!("listening on {} (MAXX_HTTP_ADDR / --http)", common.http))?;
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(agent = %common.name, %instance, http = %address, bootstrap = %common.bootstrap, config = %path, "source agent starting");
    let report = match what {
        Ok(ticks) => market_data::run(service, listener, ticks),
        Err(news) => sentiment::run(service, listener, news),
    }
    .with_context(|| format!("agent {instance}"))?;
    tracing::info!(agent = %common.name, %instance, published = report.published, dropped = report.duplicates, commits = report.commits, aborts = report.aborts, "source agent stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_of_the_other_source_are_refused() {
        let synthetic = SourceArgs { tick_source: Some("synthetic".into()), speed: Some(4.0), ..SourceArgs::default() };
        assert!(matches!(choose("market_data", &synthetic), Ok(Ok(TickSource::Synthetic { speed })) if speed == 4.0));
        assert!(matches!(choose("market_data", &SourceArgs::default()), Ok(Ok(TickSource::Live))));
        let file = SourceArgs { tick_source: Some("file:/tmp/ticks.csv".into()), ..SourceArgs::default() };
        assert!(matches!(choose("market_data", &file), Ok(Ok(TickSource::File(path))) if path == std::path::Path::new("/tmp/ticks.csv")));
        assert!(choose("market_data", &SourceArgs { tick_source: Some("file:".into()), ..SourceArgs::default() }).is_err());
        assert!(choose("market_data", &SourceArgs { speed: Some(2.0), ..SourceArgs::default() }).is_err(), "--speed without synthetic");
        assert!(choose("market_data", &SourceArgs { tick_source: Some("synthetic".into()), speed: Some(-1.0), ..SourceArgs::default() }).is_err());
        assert!(choose("market_data", &SourceArgs { synthetic: true, ..SourceArgs::default() }).is_err());
        assert!(choose("sentiment", &synthetic).is_err());
        let news = SourceArgs { news_file: Some("/tmp/news.jsonl".into()), synthetic: true, ..SourceArgs::default() };
        assert!(matches!(choose("sentiment", &news), Ok(Err(NewsOptions { synthetic: true, news_file: Some(_), .. }))));
    }
}
