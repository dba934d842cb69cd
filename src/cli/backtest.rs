//! `maxx backtest`: ticks from a file (CSV or archive) or a topic through Alpha →
//! RiskSentinel → Execution (paper venue) → Portfolio (and the MetaGovernor with
//! `--governor`) on the embedded runtime, and a report
//! (`report.json`, `report.html` with the equity and drawdown charts, the charts as SVG).
//! The same input and configuration give byte-identical reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use maxx_agents::config::AgentConfig;
use maxx_events::{BusCodec, BusEvent, Registration, Tick};
use maxx_replay::backtest::{self, BacktestSettings};
use maxx_replay::backtest_report::{self, InputIdentity};
use maxx_replay::kafka::{self, PartitionReader, Until};
use maxx_replay::sample::{sample_ticks, SampleSpec};
use maxx_replay::ticks_csv;

/// Backtest arguments.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Replay ticks through Alpha → RiskSentinel → Execution (paper venue) → Portfolio on the\n\
        embedded runtime — the agents' own code, one deterministic order — and write a report to\n\
        --out: report.json (trades, PnL, fees, turnover, Sharpe, max drawdown, hit rate, every\n\
        fill, the equity grid), report.html (the same with the equity and drawdown charts) and\n\
        equity.svg / drawdown.svg. The same ticks and configuration give byte-identical files.\n\n\
        Ticks: a CSV file with the header ts,symbol,price,volume,bid,ask,exchange (ts in RFC 3339\n\
        UTC or µs since the epoch; bid/ask may be empty; lines starting with # are comments; a\n\
        bad line stops the run with its line number), an archive file (*.avro, from `maxx archive\n\
        export`), or topic:NAME to read the topic NAME of the broker (in MAXX_NAMESPACE).\n\n\
        Sharpe: total equity sampled every --grid-secs of event time, simple returns, mean ÷\n\
        sample standard deviation × √(periods in a 365-day year), no risk-free rate. Hit rate:\n\
        share of the fills that moved realized PnL (closing fills) that moved it up.",
    after_help = "Examples:\n  maxx backtest --ticks data/sample_ticks.csv --out target/backtest\n  \
        maxx backtest --ticks data/sample_ticks.csv --config agent_config.yaml --from 2026-01-01T00:10:00Z --to 2026-01-01T00:50:00Z --out bt\n  \
        maxx backtest --ticks archive/ticks.avro --out bt\n  \
        maxx backtest --ticks data/sample_ticks.csv --governor --out bt-governed\n  \
        maxx backtest --ticks topic:ticks --out bt\n  \
        maxx backtest --generate-sample data/sample_ticks.csv\n\n\
        Environment:\n  MAXX_BOOTSTRAP        Kafka bootstrap servers for topic:NAME (default 127.0.0.1:9092)\n  \
        MAXX_NAMESPACE        prefix of topic names (default none)\n  \
        MAXX_SCHEMA_REGISTRY  schema registry URL for topic:NAME (default http://127.0.0.1:8081)"
)]
pub struct Args {
    /// Tick source: a CSV file, an archive file (*.avro) or topic:NAME.
    #[arg(long, value_name = "FILE|topic:NAME", required_unless_present = "generate_sample")]
    ticks: Option<String>,
    /// Agent configuration (agent_config.yaml); defaults when absent. MAXX__ variables are
    /// not applied, so a report depends on the file alone.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Leave out ticks before this time (RFC 3339 UTC or µs since the epoch).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Leave out ticks at or after this time.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Period of the equity grid for the Sharpe ratio and the charts (seconds of event time).
    #[arg(long, default_value = "60", value_name = "SECONDS")]
    grid_secs: i64,
    /// Also run the MetaGovernor (reweights the alpha blend after its own validation
    /// backtest, clamps Kelly after a drawdown).
    #[arg(long)]
    governor: bool,
    /// Directory for the report (created if needed).
    #[arg(long, value_name = "DIR", required_unless_present = "generate_sample")]
    out: Option<PathBuf>,
    /// Write the sample tick file (seeded synthetic market) to FILE and exit.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ticks", "out"])]
    generate_sample: Option<PathBuf>,
    /// Broker for topic:NAME.
    #[arg(long, env = "MAXX_BOOTSTRAP", default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    bootstrap: String,
    /// Prefix of topic names.
    #[arg(long, env = "MAXX_NAMESPACE", default_value = "", value_name = "PREFIX")]
    namespace: String,
    /// Schema registry for topic:NAME.
    #[arg(long, env = "MAXX_SCHEMA_REGISTRY", default_value = "http://127.0.0.1:8081", value_name = "URL")]
    registry: String,
}

/// Reads and validates an agent configuration file (defaults without one); no environment
/// overrides.
pub(super) fn load_config(path: Option<&Path>) -> anyhow::Result<AgentConfig> {
    let Some(path) = path else { return Ok(AgentConfig::default()) };
    let source = maxx_service::config::ConfigSource::new(Some(path.to_path_buf()));
    maxx_service::config::load(&source, &[]).map_err(|e| anyhow::anyhow!("configuration {}:\n  {}", path.display(), e.problems().join("\n  ")))
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub(super) fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    let template = format!("{what} [{{bar:40}}] {{pos}}/{{len}} {{per_sec}} ETA {{eta}}");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The ticks and the SHA-256 of the bytes they came from.
fn read_ticks(args: &Args, source: &str) -> anyhow::Result<(String, String, Vec<Tick>)> {
    if let Some(topic) = source.strip_prefix("topic:") {
        let client = kafka::client(&args.bootstrap);
        let full = format!("{}{topic}", args.namespace);
        let registry = Arc::new(maxx_registry::client::HttpRegistry::new(&args.registry).context("schema registry")?);
        let mut codec = BusCodec::new(registry, &["ticks"], Registration::LookupOnly).context("tick decoder")?;
        let mut hashed = Vec::new();
        let mut ticks = Vec::new();
        for partition in kafka::partitions(&client, &full)? {
            for record in PartitionReader::open(&client, &full, "ticks", partition, 0, Until::End)? {
                let record = record?;
                let Some(value) = record.value else { anyhow::bail!("{full}/{partition} offset {}: a tombstone is not a tick", record.offset) };
                match codec.decode("ticks", &value) {
                    Ok(BusEvent::Tick(tick)) => ticks.push(tick),
                    Ok(_) => anyhow::bail!("{full}/{partition} offset {}: not a tick", record.offset),
                    Err(e) => anyhow::bail!("{full}/{partition} offset {}: {e}", record.offset),
                }
                hashed.extend_from_slice(&value);
            }
        }
        anyhow::ensure!(!ticks.is_empty(), "topic {full} holds no ticks (or does not exist)");
        // Partitions are merged by event time; ties keep partition and offset order.
        ticks.sort_by_key(|t| t.event_time);
        return Ok((format!("topic:{topic}"), backtest_report::sha256_hex(&hashed), ticks));
    }
    let path = Path::new(source);
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let name = path.file_name().map_or_else(|| source.to_owned(), |n| n.to_string_lossy().into_owned());
    let digest = backtest_report::sha256_hex(&bytes);
    if path.extension().is_some_and(|e| e == "avro") {
        let ticks = maxx_replay::archive::archived_ticks(&bytes).with_context(|| format!("archive {}", path.display()))?;
        return Ok((name, digest, ticks));
    }
    let text = String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    let ticks = ticks_csv::parse(&text).with_context(|| format!("tick file {}", path.display()))?;
    Ok((name, digest, ticks))
}

fn parse_time(text: &Option<String>, flag: &str) -> anyhow::Result<Option<i64>> {
    text.as_deref().map(|t| maxx_replay::time::parse_micros(t).with_context(|| format!("--{flag}"))).transpose()
}

/// Runs `maxx backtest`.
///
/// # Errors
/// Unreadable input or configuration, bad tick lines, an unwritable output directory.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.generate_sample {
        let ticks = sample_ticks(&SampleSpec::default());
        std::fs::write(path, ticks_csv::write(&ticks)).with_context(|| format!("write {}", path.display()))?;
        eprintln!("wrote {} ticks to {}", ticks.len(), path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(source), Some(out)) = (&args.ticks, &args.out) else { anyhow::bail!("--ticks and --out are required") };
    let config = load_config(args.config.as_deref())?;
    let settings = BacktestSettings { from_micros: parse_time(&args.from, "from")?, to_micros: parse_time(&args.to, "to")?, grid_secs: args.grid_secs, governor: args.governor };
    let (name, sha256, ticks) = read_ticks(&args, source)?;
    let bar = progress_bar(ticks.len() as u64, "backtest");
    let observations = backtest::run(ticks, &config, &settings, &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let identity = InputIdentity { name, sha256, config_sha256: backtest_report::config_sha256(&config)? };
    let report = backtest_report::build(&observations, &settings, identity)?;
    std::fs::create_dir_all(out).with_context(|| format!("create {}", out.display()))?;
    let (equity, drawdown) = backtest_report::charts(&observations);
    for (file, content) in [
        ("report.json", backtest_report::to_json(&report)?),
        ("report.html", backtest_report::to_html(&report, &observations)),
        ("equity.svg", equity),
        ("drawdown.svg", drawdown),
    ] {
        std::fs::write(out.join(file), content).with_context(|| format!("write {}", out.join(file).display()))?;
    }
    let s = &report.summary;
    println!(
        "{} ticks, {} trades, PnL {} ({} %), fees {}, turnover {}, Sharpe {}, max drawdown {} %, hit rate {} %\nreport: {}",
        report.run.ticks,
        s.trades,
        s.pnl,
        s.return_pct,
        s.fees,
        s.turnover,
        s.sharpe.as_deref().unwrap_or("n/a"),
        s.max_drawdown_pct,
        s.hit_rate_pct.as_deref().unwrap_or("n/a"),
        out.join("report.html").display()
    );
    Ok(ExitCode::SUCCESS)
}
