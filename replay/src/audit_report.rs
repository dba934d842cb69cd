//! The audit report: a human table, JSON and a self-contained HTML page, all from the same
//! [`AuditReport`]. No time of the run is recorded: the same log gives the same report.

use std::fmt::Write as _;

use serde::Serialize;

use crate::audit::AgentAudit;
use crate::svg::escape;

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
        let ok = agents.iter().all(|a| a.divergence_count == 0);
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
            if !a.not_compared.is_empty() {
                let _ = writeln!(text, "{}: not compared (depend on cross-topic interleaving): {}", a.agent, a.not_compared.join(", "));
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
            let state = serde_json::to_string_pretty(&a.state).unwrap_or_default();
            let _ = writeln!(html, "<details><summary>Replayed state at the end</summary><pre>{}</pre></details>", escape(&state));
        }
        html.push_str("</body></html>\n");
        html
    }
}
