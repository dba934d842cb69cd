//! Backtests end to end: a scripted market whose fills and PnL are worked out by hand; the
//! CLI gives byte-identical reports for the same input and configuration; a tick file with
//! bad lines is refused with every bad line's number.

use std::path::{Path, PathBuf};
use std::process::Command;

use maxx_agents::config::AgentConfig;
use maxx_events::FixedPoint;
use maxx_replay::backtest::{self, BacktestSettings};
use maxx_replay::backtest_report::{self, InputIdentity};
use maxx_replay::ticks_csv;

fn fp(text: &str) -> FixedPoint {
    text.parse().expect("decimal")
}

/// One symbol, a tick a minute: 100, 101, … 124 (up 1 a minute), then 122, 120, … 100
/// (down 2 a minute), quoted 0.5 either side.
fn scripted_csv() -> String {
    let mut text = String::from("ts,symbol,price,volume,bid,ask,exchange\n");
    let prices: Vec<i64> = (0..25).map(|i| 100 + i).chain((1..13).map(|i| 124 - 2 * i)).collect();
    for (minute, price) in prices.iter().enumerate() {
        let micros = 1_767_225_600_000_000_i64 + minute as i64 * 60_000_000;
        text.push_str(&format!("{micros},BTCUSD,{price},1000,{}.5,{price}.5,script\n", price - 1));
    }
    text
}

/// Defaults, with a 10 bp taker fee and no slippage, so each fill is at the touch.
fn scripted_config() -> AgentConfig {
    let mut config = AgentConfig::default();
    config.exec.paper.taker_fee_bps = fp("10");
    config.exec.paper.maker_fee_bps = FixedPoint::ZERO;
    config.exec.paper.slippage_bps_at_volume = FixedPoint::ZERO;
    config.exec.paper.max_slippage_bps = FixedPoint::ZERO;
    config
}

#[test]
fn a_scripted_market_gives_the_hand_computed_pnl() {
    let ticks = ticks_csv::parse(&scripted_csv()).expect("the script parses");
    let settings = BacktestSettings::default();
    let obs = backtest::run(ticks, &scripted_config(), &settings, &mut |_| {}).expect("runs");
    let identity = InputIdentity { name: "script".into(), sha256: String::new(), config_sha256: String::new() };
    let report = backtest_report::build(&obs, &settings, identity).expect("report");

    // Momentum turns the blend long during the climb (minute 20: ask of 120 = 120.5), adds at
    // minute 27 on the way down (118 → ask 118.5), and flips short at minute 31 (110 → bid
    // 109.5). Taker fills at the touch; the fee is 10 bp of each fill's notional.
    let trades: Vec<(&str, &str, &str)> = report.trades.iter().map(|t| (t.time.as_str(), t.side, t.price.as_str())).collect();
    assert_eq!(
        trades,
        [("2026-01-01T00:20:00.000000Z", "BUY", "120.5"), ("2026-01-01T00:27:00.000000Z", "BUY", "118.5"), ("2026-01-01T00:31:00.000000Z", "SELL", "109.5")]
    );
    for t in &report.trades {
        let notional = fp(&t.price).checked_mul(fp(&t.qty)).expect("notional");
        assert_eq!(fp(&t.fee), notional.checked_mul_div(fp("10"), fp("10000")).expect("fee"), "10 bp of {}", t.price);
        assert_eq!(t.liquidity, "TAKER");
    }
    // By hand, with the sized quantities 0.5976, 0.4882 and 1.6345:
    //   buys  0.5976 × 120.5 = 72.0108      0.4882 × 118.5 = 57.8517
    //   sell  1.6345 × 109.5 = 178.97775    cash flow 178.97775 − 72.0108 − 57.8517 = 49.11525
    //   fees  (72.0108 + 57.8517 + 178.97775) × 0.001 = 0.30884025
    //   left  0.5976 + 0.4882 − 1.6345 = −0.5487, marked at the last mid 100 → −54.87
    //   PnL   49.11525 − 0.30884025 − 54.87 = −6.06359025
    //   realized: 1.0858 long closed at 109.5 against a cost of 129.8625 → −10.9674 (a loss)
    let qty: Vec<&str> = report.trades.iter().map(|t| t.qty.as_str()).collect();
    assert_eq!(qty, ["0.5976", "0.4882", "1.6345"]);
    let s = &report.summary;
    assert_eq!(s.pnl, "-6.06359025");
    assert_eq!(s.fees, "0.30884025");
    assert_eq!(s.turnover, "308.84025");
    assert_eq!(s.realized, "-10.9674");
    assert_eq!(s.unrealized, "5.21265", "short 0.5487 from 109.5 marked at 100");
    assert_eq!(s.final_equity, "99993.93640975");
    assert_eq!((s.wins, s.losses, s.hit_rate_pct.as_deref()), (0, 1, Some("0")));
    assert_eq!(report.positions.len(), 1);
    assert_eq!((report.positions[0].qty.as_str(), report.positions[0].mark_price.as_str()), ("-0.5487", "100"));
    // The equity grid: one point a minute from the first pnl to the last tick.
    assert_eq!(report.equity_grid.len(), 37);
    assert_eq!(report.equity_grid[0].1, "100000");
    assert_eq!(report.equity_grid.last().map(|(_, e)| e.as_str()), Some("99993.93640975"));
}

fn maxx() -> Command {
    Command::new(maxx_binary())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maxx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn backtest(ticks: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    maxx().arg("backtest").arg("--ticks").arg(ticks).arg("--out").arg(out).args(extra).output().expect("run maxx backtest")
}

#[test]
fn the_same_ticks_and_config_give_byte_identical_reports() {
    let dir = scratch("bt-identical");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample_ticks.csv");
    for run in ["a", "b"] {
        let output = backtest(&sample, &dir.join(run), &["--from", "2026-01-01T00:05:00Z", "--to", "2026-01-01T01:00:00Z"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    for file in ["report.json", "report.html", "equity.svg", "drawdown.svg"] {
        let a = std::fs::read(dir.join("a").join(file)).expect("first report");
        let b = std::fs::read(dir.join("b").join(file)).expect("second report");
        assert!(!a.is_empty() && a == b, "{file} differs between two runs");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("a/report.json")).expect("json")).expect("parses");
    assert!(report["summary"]["trades"].as_u64().expect("trades") > 10, "the sample market trades");
    assert_eq!(report["run"]["ticks"].as_u64().expect("ticks") + report["run"]["ticks_outside_range"].as_u64().expect("outside"), 4_000);
    assert_eq!(report["run"]["ticks"], 3_300, "55 minutes of one tick a second");
    let html = std::fs::read_to_string(dir.join("a/report.html")).expect("html");
    assert_eq!(html.matches("<svg").count(), 2, "equity and drawdown charts inline");
    // Another configuration, another report.
    let config = dir.join("agent_config.yaml");
    std::fs::write(&config, "exec:\n  paper:\n    taker_fee_bps: 20\nmarket_data:\n  feeds: [binance]\n").expect("config");
    let output = backtest(&sample, &dir.join("c"), &["--from", "2026-01-01T00:05:00Z", "--to", "2026-01-01T01:00:00Z", "--config", config.to_str().expect("path")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_ne!(std::fs::read(dir.join("c/report.json")).expect("c"), std::fs::read(dir.join("a/report.json")).expect("a"));
}

#[test]
fn the_governor_joins_the_chain_when_asked_and_stays_deterministic() {
    let dir = scratch("bt-governor");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample_ticks.csv");
    for run in ["g1", "g2"] {
        let output = backtest(&sample, &dir.join(run), &["--governor"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let output = backtest(&sample, &dir.join("plain"), &[]);
    assert!(output.status.success());
    let read = |run: &str| std::fs::read(dir.join(run).join("report.json")).expect("report");
    assert_eq!(read("g1"), read("g2"), "the governed chain is deterministic too");
    let governed: serde_json::Value = serde_json::from_slice(&read("g1")).expect("json");
    let plain: serde_json::Value = serde_json::from_slice(&read("plain")).expect("json");
    assert_eq!((governed["run"]["governor"].as_bool(), plain["run"]["governor"].as_bool()), (Some(true), Some(false)));
    // The sample starts at midnight: the governor's daily reweight (00:10 UTC) changes the blend.
    assert_ne!(governed["trades"], plain["trades"], "the governor's reweight changes what is traded");
}

#[test]
fn the_sample_tick_file_is_the_seeded_generator_output() {
    let dir = scratch("bt-sample");
    let path = dir.join("sample.csv");
    let output = maxx().arg("backtest").arg("--generate-sample").arg(&path).output().expect("run");
    assert!(output.status.success());
    let committed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample_ticks.csv")).expect("committed sample");
    assert_eq!(std::fs::read(&path).expect("generated"), committed, "data/sample_ticks.csv is reproducible");
}

#[test]
fn bad_tick_lines_are_reported_with_their_numbers_and_nothing_is_written() {
    let dir = scratch("bt-bad");
    let ticks = dir.join("bad.csv");
    std::fs::write(
        &ticks,
        "ts,symbol,price,volume,bid,ask,exchange\n\
         2026-01-01T00:00:00Z,BTCUSD,100,1,99.5,100.5,x\n\
         2026-01-01T00:00:01Z,BTCUSD,abc,1,99.5,100.5,x\n\
         2026-01-01T00:00:02Z,BTCUSD,100,1,99.5,100.5,x\n\
         2026-01-01T00:00:03Z,BTCUSD,100,1\n",
    )
    .expect("write");
    let output = backtest(&ticks, &dir.join("out"), &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2 bad line(s)"), "{stderr}");
    assert!(stderr.contains("line 3: price \"abc\""), "{stderr}");
    assert!(stderr.contains("line 5: 4 fields, expected 7"), "{stderr}");
    assert!(!dir.join("out/report.json").exists(), "no report from a refused file");
}

/// The `maxx` binary under test: `MAXX_TEST_BIN` when set (a copy, for checkouts that share
/// a target directory with others building other versions), else the one cargo built.
fn maxx_binary() -> std::path::PathBuf {
    std::env::var_os("MAXX_TEST_BIN").map_or_else(|| env!("CARGO_BIN_EXE_maxx").into(), Into::into)
}
