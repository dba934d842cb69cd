//! What the demo shows: the live terminal view, the JSON the HTTP endpoints answer, and the
//! summary at the end — all from the [`Tally`], so the summary depends only on the seed and
//! the duration.

use std::fmt::Write as _;

use maxx_events::{EventTime, FixedPoint};
use serde_json::{json, Value};

use super::engine::Tally;

fn time(at: Option<EventTime>) -> String {
    at.map_or_else(|| "-".to_owned(), |t| maxx_replay::time::format_micros(t.as_micros()))
}

fn money(value: Option<FixedPoint>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn risk_line(tally: &Tally) -> String {
    match &tally.risk {
        None => "risk: waiting for the first pnl".to_owned(),
        Some(risk) => format!(
            "risk: drawdown {} % · max trade {} · kelly {}{}{}",
            risk.drawdown_pct,
            risk.max_trade_risk,
            risk.kelly_fraction,
            if risk.halted { " · HALTED" } else { "" },
            if risk.killed { " · KILLED" } else { "" }
        ),
    }
}

fn pnl_line(tally: &Tally) -> String {
    let pnl = tally.pnl.as_ref();
    format!(
        "equity {} · cash {} · realized {} · unrealized {} · fees {} · lockbox {}",
        money(pnl.map(|p| p.equity)),
        money(pnl.map(|p| p.cash)),
        money(pnl.map(|p| p.realized)),
        money(pnl.map(|p| p.unrealized)),
        money(pnl.map(|p| p.fees)),
        money(pnl.map(|p| p.lockbox))
    )
}

fn counts_line(tally: &Tally) -> String {
    format!(
        "ticks {} · news {} · signals {} · orders {} · fills {} · rejects {} · dead letters {} · governor updates {}",
        tally.ticks, tally.news, tally.signals, tally.orders, tally.fills, tally.rejects, tally.dead_letters, tally.governor_updates
    )
}

/// The terminal dashboard (redrawn in place).
pub fn screen(tally: &Tally, http: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "MAXX demo — {}   (Ctrl-C to stop){}", time(tally.now), http.map(|a| format!("   http://{a}")).unwrap_or_default());
    let _ = writeln!(out, "sessions open: {}", if tally.open_sessions.is_empty() { "none".to_owned() } else { tally.open_sessions.join(", ") });
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<8} {:>16}  {:<5} {:>11} {:>11}", "symbol", "price", "side", "score", "confidence");
    for (symbol, price) in &tally.prices {
        let signal = tally.signals_by_symbol.get(symbol);
        let _ = writeln!(
            out,
            "{symbol:<8} {:>16}  {:<5} {:>11} {:>11}",
            price.to_string(),
            signal.map_or("-".to_owned(), |s| format!("{:?}", s.side).to_uppercase()),
            signal.map_or("-".to_owned(), |s| s.score.to_string()),
            signal.map_or("-".to_owned(), |s| s.confidence.to_string())
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", pnl_line(tally));
    let _ = writeln!(out, "{}", risk_line(tally));
    let _ = writeln!(out, "{}", counts_line(tally));
    out
}

/// The summary printed at the end: the same seed and duration print the same text.
pub fn summary(tally: &Tally, seed: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "MAXX demo summary — seed {seed}, market time {} → {}", time(tally.first_time), time(tally.now));
    let _ = writeln!(out, "{}", counts_line(tally));
    let _ = writeln!(out, "{}", pnl_line(tally));
    let _ = writeln!(out, "max drawdown {} %", tally.max_drawdown_pct);
    let _ = writeln!(out, "{}", risk_line(tally));
    let events: Vec<String> = tally.risk_events.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
    let _ = writeln!(out, "risk events: {}", if events.is_empty() { "none".to_owned() } else { events.join(", ") });
    let opens: Vec<String> = tally.session_opens.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let _ = writeln!(out, "session opens: {}", if opens.is_empty() { "none".to_owned() } else { opens.join(", ") });
    for (symbol, price) in &tally.prices {
        let _ = writeln!(out, "last {symbol} {price}");
    }
    out
}

/// `GET /pnl`.
pub fn pnl_json(tally: &Tally) -> Value {
    match &tally.pnl {
        None => json!({"pnl": null}),
        Some(p) => json!({
            "equity": p.equity.to_string(), "cash": p.cash.to_string(), "realized": p.realized.to_string(),
            "unrealized": p.unrealized.to_string(), "fees": p.fees.to_string(), "lockbox": p.lockbox.to_string(),
            "positions": p.positions.iter().map(|pos| json!({
                "symbol": pos.symbol, "qty": pos.qty.to_string(), "avg_price": pos.avg_price.to_string(),
                "mark_price": pos.mark_price.to_string(), "unrealized": pos.unrealized.to_string(),
            })).collect::<Vec<_>>(),
        }),
    }
}

/// `GET /risk/state`.
pub fn risk_json(tally: &Tally) -> Value {
    match &tally.risk {
        None => json!({"risk": null}),
        Some(r) => json!({
            "equity": r.equity.to_string(), "day_start_equity": r.day_start_equity.to_string(),
            "drawdown_pct": r.drawdown_pct.to_string(), "halted": r.halted, "halt_reason": r.halt_reason,
            "killed": r.killed, "kelly_fraction": r.kelly_fraction.to_string(), "max_trade_risk": r.max_trade_risk.to_string(),
        }),
    }
}

/// `GET /signal/{symbol}`, or `None` when the symbol has no signal yet.
pub fn signal_json(tally: &Tally, symbol: &str) -> Option<Value> {
    tally.signals_by_symbol.get(symbol).map(|s| {
        json!({
            "symbol": s.symbol, "score": s.score.to_string(), "side": format!("{:?}", s.side).to_uppercase(),
            "confidence": s.confidence.to_string(), "event_time": time(Some(s.event_time)),
            "components": {
                "momentum": s.components.momentum.to_string(), "mean_reversion": s.components.mean_reversion.to_string(),
                "breakout": s.components.breakout.to_string(), "sentiment": s.components.sentiment.to_string(),
            },
        })
    })
}

/// `GET /healthz` and `GET /now`.
pub fn status_json(tally: &Tally, running: bool) -> Value {
    json!({
        "state": if running { "RUNNING" } else { "SHUTDOWN" },
        "market_time": time(tally.now), "sessions_open": tally.open_sessions,
        "ticks": tally.ticks, "orders": tally.orders, "fills": tally.fills,
    })
}
