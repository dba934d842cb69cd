//! The backtest report: `report.json` (figures as exact decimal strings, maps ordered, no
//! time of the run) and `report.html` (the same figures in tables, with the equity and
//! drawdown charts inline as SVG). The same observations always give the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use maxx_events::{FixedPoint, Liquidity, Side};
use serde::Serialize;

use crate::backtest::{BacktestError, BacktestSettings, Observations};
use crate::metrics::{drawdowns_pct, fmt_f64, returns, sharpe, SECONDS_PER_YEAR};
use crate::svg::{escape, LineChart};
use crate::time::format_micros;

/// The report format version.
pub const FORMAT: u32 = 1;

/// What was fed to the backtest, for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputIdentity {
    /// Name of the input (file name or topic, without directories).
    pub name: String,
    /// SHA-256 of the input's bytes (hex).
    pub sha256: String,
    /// SHA-256 of the configuration as canonical JSON (hex).
    pub config_sha256: String,
}

/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    /// [`FORMAT`].
    pub format: u32,
    /// What was replayed.
    pub input: InputIdentity,
    /// Ticks and time range.
    pub run: RunSummary,
    /// The figures.
    pub summary: Summary,
    /// Risk events raised, by kind.
    pub risk_events: BTreeMap<String, u64>,
    /// Positions open at the end.
    pub positions: Vec<PositionRow>,
    /// Every fill.
    pub trades: Vec<TradeRow>,
    /// Total equity on the grid: (time, equity).
    pub equity_grid: Vec<(String, String)>,
}

/// Ticks and time range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Ticks fed through the chain.
    pub ticks: u64,
    /// Ticks outside `--from`/`--to`.
    pub ticks_outside_range: u64,
    /// Events the runtime handled (ticks and everything they caused).
    pub events: u64,
    /// First tick fed.
    pub first_tick: Option<String>,
    /// Last tick fed.
    pub last_tick: Option<String>,
    /// `--from`, when given.
    pub from: Option<String>,
    /// `--to`, when given.
    pub to: Option<String>,
    /// Whether the MetaGovernor ran in the chain.
    pub governor: bool,
}

/// The headline figures. Money in quote currency, exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Fills.
    pub trades: u64,
    /// Orders published.
    pub orders: u64,
    /// Acks REJECTED (venue or risk gate).
    pub rejects: u64,
    /// Starting cash.
    pub starting_equity: String,
    /// Final equity + lockbox.
    pub final_equity: String,
    /// final − starting, fees included.
    pub pnl: String,
    /// Realized PnL before fees.
    pub realized: String,
    /// Unrealized PnL of open positions.
    pub unrealized: String,
    /// Fees paid (rebates subtracted).
    pub fees: String,
    /// Swept into the lockbox.
    pub lockbox: String,
    /// Σ |price × qty| over fills.
    pub turnover: String,
    /// pnl ÷ starting equity, percent.
    pub return_pct: String,
    /// Annualized Sharpe ratio (see `metrics`); null when undefined.
    pub sharpe: Option<String>,
    /// Grid period of the Sharpe ratio (seconds).
    pub grid_secs: i64,
    /// Grid periods per year (365 days).
    pub periods_per_year: String,
    /// Largest fall of total equity below its running peak, percent.
    pub max_drawdown_pct: String,
    /// Closing fills that made money ÷ closing fills, percent; null without any.
    pub hit_rate_pct: Option<String>,
    /// Closing fills that made money.
    pub wins: u64,
    /// Closing fills that lost.
    pub losses: u64,
    /// Inputs the agents refused (dead letters).
    pub dead_letters: u64,
}

/// An open position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PositionRow {
    /// Symbol.
    pub symbol: String,
    /// Quantity (negative: short).
    pub qty: String,
    /// Average price.
    pub avg_price: String,
    /// Mark.
    pub mark_price: String,
    /// Unrealized PnL.
    pub unrealized: String,
}

/// A fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TradeRow {
    /// Time.
    pub time: String,
    /// Symbol.
    pub symbol: String,
    /// BUY or SELL.
    pub side: &'static str,
    /// Price.
    pub price: String,
    /// Quantity.
    pub qty: String,
    /// Fee.
    pub fee: String,
    /// MAKER or TAKER.
    pub liquidity: &'static str,
}

fn money(value: FixedPoint) -> String {
    value.to_string()
}

/// Builds the report.
///
/// # Errors
/// [`BacktestError::Overflow`] when a figure does not fit.
pub fn build(obs: &Observations, settings: &BacktestSettings, input: InputIdentity) -> Result<BacktestReport, BacktestError> {
    let overflow = |what| BacktestError::Overflow(what);
    let last = obs.last_pnl.as_ref();
    let final_equity = match last {
        Some(p) => p.equity.checked_add(p.lockbox).ok_or(overflow("equity"))?,
        None => obs.starting_cash,
    };
    let pnl = final_equity.checked_sub(obs.starting_cash).ok_or(overflow("pnl"))?;
    let return_pct = pnl.checked_mul_div(FixedPoint::from_raw(100 * FixedPoint::SCALE), obs.starting_cash).ok_or(overflow("return"))?;
    let levels: Vec<FixedPoint> = obs.grid.iter().map(|(_, v)| *v).collect();
    let sharpe = sharpe(&returns(&levels), settings.grid_secs).map(fmt_f64);
    let closing = obs.wins + obs.losses;
    let hit_rate = (closing > 0).then(|| {
        FixedPoint::from_raw(i64::try_from(obs.wins).unwrap_or(i64::MAX).saturating_mul(FixedPoint::SCALE))
            .checked_mul_div(FixedPoint::from_raw(100 * FixedPoint::SCALE), FixedPoint::from_raw(i64::try_from(closing).unwrap_or(i64::MAX).saturating_mul(FixedPoint::SCALE)))
            .map(money)
    });
    let zero = FixedPoint::ZERO;
    let summary = Summary {
        trades: obs.trades.len() as u64,
        orders: obs.orders,
        rejects: obs.rejects,
        starting_equity: money(obs.starting_cash),
        final_equity: money(final_equity),
        pnl: money(pnl),
        realized: money(last.map_or(zero, |p| p.realized)),
        unrealized: money(last.map_or(zero, |p| p.unrealized)),
        fees: money(last.map_or(zero, |p| p.fees)),
        lockbox: money(last.map_or(zero, |p| p.lockbox)),
        turnover: money(obs.turnover),
        return_pct: money(return_pct),
        sharpe,
        grid_secs: settings.grid_secs,
        periods_per_year: fmt_f64(SECONDS_PER_YEAR / settings.grid_secs.max(1) as f64),
        max_drawdown_pct: money(obs.max_drawdown_pct),
        hit_rate_pct: hit_rate.flatten(),
        wins: obs.wins,
        losses: obs.losses,
        dead_letters: obs.dead_letters,
    };
    let positions = last
        .map(|p| {
            p.positions
                .iter()
                .map(|q| PositionRow {
                    symbol: q.symbol.clone(),
                    qty: money(q.qty),
                    avg_price: money(q.avg_price),
                    mark_price: money(q.mark_price),
                    unrealized: money(q.unrealized),
                })
                .collect()
        })
        .unwrap_or_default();
    let trades = obs
        .trades
        .iter()
        .map(|t| TradeRow {
            time: format_micros(t.time),
            symbol: t.symbol.clone(),
            side: match t.side {
                Side::Buy => "BUY",
                Side::Sell => "SELL",
            },
            price: money(t.price),
            qty: money(t.qty),
            fee: money(t.fee),
            liquidity: match t.liquidity {
                Liquidity::Maker => "MAKER",
                Liquidity::Taker => "TAKER",
            },
        })
        .collect();
    Ok(BacktestReport {
        format: FORMAT,
        input,
        run: RunSummary {
            ticks: obs.ticks,
            ticks_outside_range: obs.ticks_outside_range,
            events: obs.events,
            first_tick: obs.first_time.map(format_micros),
            last_tick: obs.last_time.map(format_micros),
            from: settings.from_micros.map(format_micros),
            to: settings.to_micros.map(format_micros),
            governor: settings.governor,
        },
        summary,
        risk_events: obs.risk_events.clone(),
        positions,
        trades,
        equity_grid: obs.grid.iter().map(|(t, v)| (format_micros(*t), money(*v))).collect(),
    })
}

/// `report.json`: pretty JSON with a final newline.
///
/// # Errors
/// When serde cannot write the report (it always can: plain strings and numbers).
pub fn to_json(report: &BacktestReport) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// The equity and drawdown charts as SVG.
pub fn charts(obs: &Observations) -> (String, String) {
    let levels: Vec<FixedPoint> = obs.grid.iter().map(|(_, v)| *v).collect();
    let equity: Vec<(i64, f64)> = obs.grid.iter().map(|(t, v)| (*t, v.to_f64())).collect();
    let drawdown: Vec<(i64, f64)> = obs.grid.iter().zip(drawdowns_pct(&levels)).map(|((t, _), d)| (*t, -d)).collect();
    let equity_svg = LineChart { title: "Equity (equity + lockbox)", unit: "", points: &equity, colour: "#1f77b4", fill_from_top: false }.render();
    let drawdown_svg = LineChart { title: "Drawdown from the running peak", unit: "%", points: &drawdown, colour: "#d62728", fill_from_top: true }.render();
    (equity_svg, drawdown_svg)
}

/// `report.html`: one self-contained page.
pub fn to_html(report: &BacktestReport, obs: &Observations) -> String {
    let (equity_svg, drawdown_svg) = charts(obs);
    let s = &report.summary;
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MAXX backtest</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:900px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}</style></head><body>\n");
    let _ = writeln!(html, "<h1>Backtest of {}</h1>", escape(&report.input.name));
    let _ = writeln!(
        html,
        "<p>{} ticks from {} to {}; input SHA-256 <code>{}</code>, configuration SHA-256 <code>{}</code>.</p>",
        report.run.ticks,
        escape(report.run.first_tick.as_deref().unwrap_or("-")),
        escape(report.run.last_tick.as_deref().unwrap_or("-")),
        report.input.sha256,
        report.input.config_sha256
    );
    html.push_str("<h2>Summary</h2><table>\n");
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "n/a".into());
    for (name, value) in [
        ("Trades (fills)", s.trades.to_string()),
        ("Orders / rejects", format!("{} / {}", s.orders, s.rejects)),
        ("Starting equity", s.starting_equity.clone()),
        ("Final equity", s.final_equity.clone()),
        ("PnL (after fees)", s.pnl.clone()),
        ("Return %", s.return_pct.clone()),
        ("Realized / unrealized", format!("{} / {}", s.realized, s.unrealized)),
        ("Fees", s.fees.clone()),
        ("Lockbox", s.lockbox.clone()),
        ("Turnover", s.turnover.clone()),
        ("Sharpe (annualized)", format!("{} (grid {} s, {} periods/year)", opt(&s.sharpe), s.grid_secs, s.periods_per_year)),
        ("Max drawdown %", s.max_drawdown_pct.clone()),
        ("Hit rate %", format!("{} ({} won, {} lost)", opt(&s.hit_rate_pct), s.wins, s.losses)),
        ("Dead letters", s.dead_letters.to_string()),
    ] {
        let _ = writeln!(html, "<tr><th>{}</th><td>{}</td></tr>", escape(name), escape(&value));
    }
    html.push_str("</table>\n<h2>Equity</h2>\n");
    html.push_str(&equity_svg);
    html.push_str("\n<h2>Drawdown</h2>\n");
    html.push_str(&drawdown_svg);
    html.push_str("\n<h2>Risk events</h2><table><tr><th>kind</th><th>count</th></tr>\n");
    for (kind, count) in &report.risk_events {
        let _ = writeln!(html, "<tr><td>{}</td><td>{count}</td></tr>", escape(kind));
    }
    html.push_str("</table>\n<h2>Open positions</h2><table><tr><th>symbol</th><th>qty</th><th>avg price</th><th>mark</th><th>unrealized</th></tr>\n");
    for p in &report.positions {
        let _ = writeln!(html, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&p.symbol), p.qty, p.avg_price, p.mark_price, p.unrealized);
    }
    let shown = report.trades.len().min(500);
    let _ = writeln!(html, "</table>\n<h2>Trades</h2><p>{} fills{}.</p><table><tr><th>time</th><th>symbol</th><th>side</th><th>price</th><th>qty</th><th>fee</th><th>liquidity</th></tr>",
        report.trades.len(), if shown < report.trades.len() { format!(", the first {shown} shown (all are in report.json)") } else { String::new() });
    for t in report.trades.iter().take(shown) {
        let _ = writeln!(html, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", t.time, escape(&t.symbol), t.side, t.price, t.qty, t.fee, t.liquidity);
    }
    html.push_str("</table>\n</body></html>\n");
    html
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::audit::hex(&Sha256::digest(bytes))
}

/// SHA-256 of a configuration as JSON (field order is the types' declaration order, maps
/// are ordered): the same settings give the same hash.
///
/// # Errors
/// When the configuration cannot be serialized (a defect of its types).
pub fn config_sha256(config: &maxx_agents::config::AgentConfig) -> Result<String, serde_json::Error> {
    Ok(sha256_hex(&serde_json::to_vec(config)?))
}
