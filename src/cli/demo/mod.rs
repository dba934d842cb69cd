//! `maxx demo`: all of MAXX in one process — every agent on the embedded runtime, a seeded
//! synthetic market and news feed, a live terminal view, the HTTP endpoints, and a summary at
//! the end. No broker needed. The same `--seed` and `--duration` give the same summary.

mod engine;
mod http;
mod report;

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use engine::Engine;

/// Run MAXX in one process on a synthetic market.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Run all of MAXX in one process, no broker needed: SessionClock, Alpha, RiskSentinel,\n\
        Execution (paper venue), Portfolio and MetaGovernor on the embedded runtime, fed by a seeded\n\
        synthetic market (random walk with regime shifts) and a synthetic news feed scored by\n\
        Sentiment. A live view on the terminal, HTTP endpoints while it runs, a summary at the end.\n\
        The market is played in event time: --duration is market time, --speed how fast it plays\n\
        (0: as fast as possible). The same --seed and --duration print the same summary.",
    after_help = "Examples:\n  maxx demo                                  # one minute of market time, in real time\n  \
        maxx demo --duration 10s --seed 1\n  maxx demo --duration 1h --speed 0           # an hour of market, as fast as possible\n  \
        maxx demo --config deploy/config/agent_config.yaml --http 127.0.0.1:9100\n\n\
        HTTP while it runs: /healthz  /now  /pnl  /risk/state  /signal/{symbol}  /summary"
)]
pub struct Args {
    /// Seed of the synthetic market and news.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Market time to play, e.g. 500ms, 10s, 5m, 1h.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Market seconds per wall-clock second (0: as fast as possible).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// agent_config.yaml for the agents (default: the defaults).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address of the HTTP endpoints (port 0 picks one; it is printed).
    #[arg(long, default_value = "127.0.0.1:9100", value_name = "ADDR")]
    http: SocketAddr,
    /// No HTTP endpoints.
    #[arg(long)]
    no_http: bool,
}

/// `500ms`, `10s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{text:?}: expected a number and a unit, e.g. 10s"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" | "" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        other => return Err(format!("{text:?}: unknown unit {other:?} (ms, s, m, h)")),
    };
    if duration.is_zero() {
        return Err("the duration must be above zero".into());
    }
    Ok(duration)
}

/// Runs `maxx demo`.
///
/// # Errors
/// An invalid config file, an address that cannot be bound, or agents that run away.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.speed.is_finite() && args.speed >= 0.0) {
        anyhow::bail!("--speed must be 0 (as fast as possible) or a positive number, not {}", args.speed);
    }
    let config = super::backtest::load_config(args.config.as_deref())?;
    let mut engine = Engine::new(&config, args.seed)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("installing the Ctrl-C handler")?;
    }
    let shared = http::Shared { tally: Arc::new(Mutex::new(engine.tally().clone())), running: Arc::new(AtomicBool::new(true)), seed: args.seed };
    let server_stop = Arc::new(AtomicBool::new(false));
    let address = if args.no_http {
        None
    } else {
        let bound = http::serve(args.http, shared.clone(), Arc::clone(&server_stop))?;
        eprintln!("maxx demo: HTTP on http://{bound} (/healthz /pnl /risk/state /signal/BTCUSD /summary)");
        Some(bound.to_string())
    };

    let live = std::io::stdout().is_terminal();
    let started = Instant::now();
    let mut first: Option<i64> = None;
    let mut last_refresh = Instant::now();
    let limit = i64::try_from(args.duration.as_micros()).unwrap_or(i64::MAX);
    while !stop.load(Ordering::SeqCst) {
        let Some(time) = engine.step().context("the agents ran away")? else { break };
        let since = time.as_micros() - *first.get_or_insert(time.as_micros());
        if since >= limit {
            break;
        }
        if args.speed > 0.0 {
            // Play the market in (scaled) real time.
            #[allow(clippy::cast_precision_loss)]
            let due = Duration::from_secs_f64(since as f64 / 1e6 / args.speed);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait.min(Duration::from_millis(250)));
            }
        }
        if last_refresh.elapsed() >= Duration::from_millis(250) {
            last_refresh = Instant::now();
            *shared.tally.lock().unwrap_or_else(PoisonError::into_inner) = engine.tally().clone();
            if live {
                print!("\x1b[2J\x1b[H{}", report::screen(engine.tally(), address.as_deref()));
                let _ = std::io::stdout().flush();
            }
        }
    }
    *shared.tally.lock().unwrap_or_else(PoisonError::into_inner) = engine.tally().clone();
    shared.running.store(false, Ordering::SeqCst);
    server_stop.store(true, Ordering::SeqCst);
    if live {
        print!("\x1b[2J\x1b[H");
    }
    print!("{}", report::summary(engine.tally(), args.seed));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("s").is_err());
    }
}
