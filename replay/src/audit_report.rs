//! The audit report: a human table, JSON and a self-contained HTML page, all from the same
//! [`AuditReport`]. No time of the run is recorded: the same log gives the same report.

use std::fmt::Write as _;

use serde::Serialize;

use crate::audit::AgentAudit;
use crate::svg::escape;

/// A fixed-point field of a state (JSON holds the raw i64 scaled by 10⁸) as a decimal.
fn decimal(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::Number(n)) => n.as_i64().map_or_else(|| n.to_string(), |raw| maxx_events::FixedPoint::from_raw(raw).to_string()),
        Some(serde_json::Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

/// The figures of a replayed state worth reading in a table: positions, PnL, cash and fees
/// for Portfolio; equity, drawdown, limits, halts and positions for RiskSentinel.
pub fn state_summary(agent: &str, state: &serde_json::Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let field = |name: &str| state.get(name);
    match agent {
        "portfolio" => {
            for name in ["cash", "realized", "fees", "lockbox", "unswept_profit"] {
                rows.push((name.to_owned(), decimal(field(name))));
            }
            if let Some(serde_json::Value::Object(holdings)) = field("holdings") {
                for (symbol, h) in holdings {
                    rows.push((format!("position {symbol}"), format!("qty {} cost {} mark {}", decimal(h.get("qty")), decimal(h.get("cost")), decimal(h.get("mark")))));
                }
            }
        }
        "risk_sentinel" => {
            let published = field("published");
            for name in ["equity", "day_start_equity", "drawdown_pct", "kelly_fraction", "max_trade_risk"] {
                rows.push((name.to_owned(), decimal(published.and_then(|p| p.get(name)))));
            }
            for name in ["halted", "killed", "halt_reason"] {
                rows.push((name.to_owned(), field(name).map_or_else(|| "-".into(), ToString::to_string)));
            }
            if let Some(serde_json::Value::Object(positions)) = field("positions") {
                for (symbol, qty) in positions {
                    rows.push((format!("position {symbol}"), decimal(Some(qty))));
                }
            }
        }
        _ => {}
    }
    rows
}

/// The report format version.
pub const FORMAT: u32 = 1;

/// The whole audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// [`FORMAT`].
    pub format: u32,
    /// Where the log came from (broker namespace or archive directory).
    pub source: String,
    /// `--as-of`, when given.
    pub as_of: Option<String>,
    /// True when every compared checkpoint matched.
    pub ok: bool,
    /// SHA-256 over the agents' digests in agent order (hex): one value to compare.
    pub digest: String,
    /// One audit per agent.
    pub agents: Vec<AgentAudit>,
}

impl AuditReport {
    /// A report of `agents`, with the combined digest.
    pub fn new(source: String, as_of: Option<String>, agents: Vec<AgentAudit>) -> Self {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for agent in &agents {
            hasher.update(agent.agent.as_bytes());
            hasher.update([0]);
            hasher.update(agent.digest.as_bytes());
        }
        let ok = agents.iter().all(|a| a.divergence_count == 0 && a.output_mismatches == 0);
        Self { format: FORMAT, source, as_of, ok, digest: crate::audit::hex(&hasher.finalize()), agents }
    }

    /// The human table.
    pub fn to_table(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "audit of {}{}", self.source, self.as_of.as_ref().map(|a| format!(" as of {a}")).unwrap_or_default());
        let _ = writeln!(text, "{:<14} {:>10} {:>8} {:>8} {:>8} {:>11} {:>9}  digest", "agent", "events", "snaps", "checked", "matched", "divergences", "refused");
        for a in &self.agents {
            let _ = writeln!(
                text,
                "{:<14} {:>10} {:>8} {:>8} {:>8} {:>11} {:>9}  {}",
                a.agent, a.events, a.checkpoints, a.checked, a.matched, a.divergence_count, a.refused, a.digest
            );
        }
        for a in &self.agents {
            if let Some(d) = a.divergences.first() {
                let _ = writeln!(text, "\nfirst divergence of {}: checkpoint {} (state topic offset {})", a.agent, d.checkpoint, d.position);
                for range in &d.inputs {
                    let _ = writeln!(text, "  inputs {}:{} offsets {}..{}", range.topic, range.partition, range.from, range.to);
                }
                for f in &d.fields {
                    let _ = writeln!(text, "  {}: live {} replayed {}", f.path, f.live, f.replayed);
                }
            }
            if let Some(m) = &a.first_output_mismatch {
                let _ = writeln!(
                    text,
                    "\nfirst output mismatch of {} ({} of {} fills): input {}:{} offset {} -> pnl {}{}",
                    a.agent,
                    a.output_mismatches,
                    a.outputs_checked,
                    m.topic,
                    m.partition,
                    m.offset,
                    m.output_id,
                    m.output_offset.map(|(p, o)| format!(" (pnl:{p} offset {o})")).unwrap_or_else(|| " (not in the log)".into())
                );
                for f in &m.fields {
                    let _ = writeln!(text, "  {}: live {} replayed {}", f.path, f.live, f.replayed);
                }
            } else if a.outputs_checked > 0 {
                let _ = writeln!(text, "{}: the replayed pnl of all {} fills equals the recorded one", a.agent, a.outputs_checked);
            }
            if !a.not_compared.is_empty() {
                let _ = writeln!(text, "{}: not compared (depend on cross-topic interleaving): {}", a.agent, a.not_compared.join(", "));
            }
            let rows = state_summary(&a.agent, &a.state);
            if !rows.is_empty() {
                let _ = writeln!(text, "{} state after the replay:", a.agent);
                for (name, value) in rows {
                    let _ = writeln!(text, "  {name:<18} {value}");
                }
            }
        }
        let _ = writeln!(text, "\n{} — digest {}", if self.ok { "MATCH" } else { "DIVERGED" }, self.digest);
        text
    }

    /// JSON with a final newline.
    ///
    /// # Errors
    /// When serde cannot write it (it always can).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    /// A self-contained HTML page.
    pub fn to_html(&self) -> String {
        let mut html = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MAXX audit</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}th{background:#f4f4f4}.ok{color:#080}.bad{color:#c00}pre{background:#f8f8f8;padding:1em;overflow:auto;max-height:30em}</style></head><body>\n");
        let _ = writeln!(html, "<h1>Audit of {}</h1>", escape(&self.source));
        let verdict = if self.ok { "<span class=\"ok\">every compared checkpoint matched</span>" } else { "<span class=\"bad\">diverged</span>" };
        let _ = writeln!(html, "<p>{verdict}{}. Digest <code>{}</code>.</p>", self.as_of.as_ref().map(|a| format!(", as of {}", escape(a))).unwrap_or_default(), self.digest);
        html.push_str("<table><tr><th>agent</th><th>events</th><th>snapshots</th><th>checked</th><th>matched</th><th>divergences</th><th>undecodable</th><th>refused</th><th>digest</th></tr>\n");
        for a in &self.agents {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&a.agent), a.events, a.checkpoints, a.checked, a.matched, a.divergence_count, a.undecodable, a.refused, a.digest
            );
        }
        html.push_str("</table>\n");
        for a in &self.agents {
            let _ = writeln!(html, "<h2>{}</h2>", escape(&a.agent));
            if !a.not_compared.is_empty() {
                let _ = writeln!(html, "<p>Not compared (they depend on how partitions of different topics interleave): {}.</p>", escape(&a.not_compared.join(", ")));
            }
            if let Some(m) = &a.first_output_mismatch {
                let _ = writeln!(
                    html,
                    "<h3 class=\"bad\">First output mismatch: input {}:{} offset {} (pnl {})</h3><table><tr><th>field</th><th>live pnl</th><th>replayed pnl</th></tr>",
                    escape(&m.topic), m.partition, m.offset, escape(&m.output_id)
                );
                for f in &m.fields {
                    let _ = writeln!(html, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&f.path), escape(&f.live), escape(&f.replayed));
                }
                html.push_str("</table>\n");
            }
            for d in &a.divergences {
                let _ = writeln!(html, "<h3 class=\"bad\">Divergence at checkpoint {} (state topic offset {})</h3><p>Inputs since the previous checkpoint:", d.checkpoint, d.position);
                for r in &d.inputs {
                    let _ = write!(html, " {}:{} [{}, {})", escape(&r.topic), r.partition, r.from, r.to);
                }
                html.push_str("</p><table><tr><th>field</th><th>live snapshot</th><th>replayed</th></tr>\n");
                for f in &d.fields {
                    let _ = writeln!(html, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&f.path), escape(&f.live), escape(&f.replayed));
                }
                html.push_str("</table>\n");
            }
            html.push_str("<table><tr><th>state after the replay</th><th></th></tr>\n");
            for (name, value) in state_summary(&a.agent, &a.state) {
                let _ = writeln!(html, "<tr><td>{}</td><td>{}</td></tr>", escape(&name), escape(&value));
            }
            html.push_str("</table>\n");
            let state = serde_json::to_string_pretty(&a.state).unwrap_or_default();
            let _ = writeln!(html, "<details><summary>Replayed state at the end</summary><pre>{}</pre></details>", escape(&state));
        }
        html.push_str("</body></html>\n");
        html
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_summaries_show_fixed_point_fields_as_decimals() {
        let portfolio = serde_json::json!({"cash": 9_950_000_000_000_i64, "realized": -150_000_000, "fees": 1, "lockbox": 0, "unswept_profit": 0,
            "holdings": {"BTCUSD": {"qty": 50_000_000, "cost": 3_000_000_000_000_i64, "mark": 6_100_000_000_000_i64}}});
        let rows = state_summary("portfolio", &portfolio);
        assert_eq!(rows[0], ("cash".to_owned(), "99500".to_owned()));
        assert_eq!(rows[1], ("realized".to_owned(), "-1.5".to_owned()));
        assert_eq!(rows[2], ("fees".to_owned(), "0.00000001".to_owned()));
        assert_eq!(rows.last().map(|r| r.1.as_str()), Some("qty 0.5 cost 30000 mark 61000"));
        let risk = serde_json::json!({"halted": true, "killed": false, "halt_reason": "daily drawdown", "positions": {"ETHUSD": -200_000_000},
            "published": {"equity": 9_400_000_000_000_i64, "day_start_equity": 10_000_000_000_000_i64, "drawdown_pct": 600_000_000, "kelly_fraction": 25_000_000, "max_trade_risk": 1}});
        let rows = state_summary("risk_sentinel", &risk);
        assert!(rows.contains(&("drawdown_pct".to_owned(), "6".to_owned())));
        assert!(rows.contains(&("halted".to_owned(), "true".to_owned())));
        assert!(rows.contains(&("position ETHUSD".to_owned(), "-2".to_owned())));
        let report = AuditReport::new("test".into(), Some("fills:0=3".into()), vec![]);
        assert!(report.ok && report.to_table().contains("as of fills:0=3"));
    }
}
