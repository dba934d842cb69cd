//! Each agent's own HTTP routes and `/metrics` KPIs (spec §2), attached by `maxx agent <name>`:
//! one module per agent, built on the shell's [`AgentRoutes`] (read-only routes read the
//! committed state; mutating ones are behind the bearer token and publish a command) and
//! [`KpiSource`]s named `maxx_<agent>_*`.
//!
//! Also the list of metric names each process exports ([`exported_metrics`]), which the alert
//! rules (`deploy/prometheus/alerts.yml`) are checked against.

pub mod alpha;
pub mod execution;
pub mod input;
pub mod meta_governor;
pub mod portfolio;
pub mod risk;
pub mod session_clock;

use std::sync::Arc;

use maxx_runtime::kafka::Stats;

use crate::http::AgentRoutes;
use crate::metrics::KpiSource;
use crate::reload::ConfigStore;

/// The metric families the shell exports for every agent (`crate::metrics::render`).
/// `maxx_consumer_lag` and `maxx_broker_reachable` appear once measured.
pub const SHELL_METRICS: &[&str] = &[
    "maxx_events_in_total",
    "maxx_events_out_total",
    "maxx_dead_letters_total",
    "maxx_transactions_committed_total",
    "maxx_transactions_aborted_total",
    "maxx_rebalances_total",
    "maxx_commit_latency_seconds",
    "maxx_consumer_lag",
    "maxx_broker_reachable",
    "maxx_lifecycle_state",
    "maxx_config_generation",
    "maxx_config_reload_refused",
];

/// Metrics of the source processes, which do not run in this shell's agent runtime.
/// `maxx_market_data_feed_staleness_seconds{feed}` (seconds since a feed's last tick) is
/// exported by the MarketData source shell, built separately; the name is agreed here.
pub const SOURCE_METRICS: &[&str] = &["maxx_market_data_feed_staleness_seconds"];

/// The routes of agent `name` (none for an agent without routes of its own).
pub fn for_agent(name: &str) -> AgentRoutes {
    match name {
        "alpha" => alpha::routes(),
        "risk_sentinel" => risk::routes(),
        "execution" => execution::routes(),
        "portfolio" => portfolio::routes(),
        "session_clock" => session_clock::routes(),
        "meta_governor" => meta_governor::routes(),
        _ => AgentRoutes::new(),
    }
}

/// The KPI sources of agent `name`, reading `stats`' committed state (and the configuration
/// in force, for the governor's blend and the configured sessions).
pub fn kpis(name: &str, stats: &Arc<Stats>, config: &Arc<ConfigStore>) -> Vec<Arc<dyn KpiSource>> {
    let stats = Arc::clone(stats);
    match name {
        "alpha" => vec![alpha::kpis(stats)],
        "risk_sentinel" => vec![risk::kpis(stats)],
        "execution" => vec![execution::kpis(stats)],
        "portfolio" => vec![portfolio::kpis(stats)],
        "session_clock" => vec![session_clock::kpis(stats, Arc::clone(config))],
        "meta_governor" => vec![meta_governor::kpis(stats, Arc::clone(config))],
        _ => Vec::new(),
    }
}

/// The KPI names of agent `name`.
pub fn kpi_names(name: &str) -> &'static [&'static str] {
    match name {
        "alpha" => alpha::METRICS,
        "risk_sentinel" => risk::METRICS,
        "execution" => execution::METRICS,
        "portfolio" => portfolio::METRICS,
        "session_clock" => session_clock::METRICS,
        "meta_governor" => meta_governor::METRICS,
        _ => &[],
    }
}

/// Every metric family an agent process of `name` may export: the shell's and its KPIs.
pub fn exported_metrics(name: &str) -> Vec<&'static str> {
    SHELL_METRICS.iter().chain(kpi_names(name)).copied().collect()
}

/// Every metric family any MAXX process exports (shell, every agent's KPIs, sources).
pub fn all_metrics() -> Vec<&'static str> {
    let agents = ["alpha", "risk_sentinel", "execution", "portfolio", "session_clock", "meta_governor"];
    SHELL_METRICS.iter().chain(agents.iter().flat_map(|a| kpi_names(a))).chain(SOURCE_METRICS).copied().collect()
}

/// The `maxx_*` metric names a PromQL expression uses, a histogram's `_bucket`/`_sum`/`_count`
/// series reduced to their family when the family is known.
pub fn metrics_in_expr(expr: &str, known: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(found) = expr[i..].find("maxx_") {
        let start = i + found;
        let boundary = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_' || bytes[start - 1] == b':');
        let end = expr[start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).map_or(expr.len(), |n| start + n);
        if boundary {
            let name = &expr[start..end];
            let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s).filter(|f| known.contains(f))).unwrap_or(name);
            if !names.iter().any(|n| n == family) {
                names.push(family.to_owned());
            }
        }
        i = end;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERTS: &str = include_str!("../../../deploy/prometheus/alerts.yml");

    #[derive(serde::Deserialize)]
    struct Rules {
        groups: Vec<Group>,
    }
    #[derive(serde::Deserialize)]
    struct Group {
        rules: Vec<Rule>,
    }
    #[derive(serde::Deserialize)]
    struct Rule {
        alert: String,
        expr: String,
    }

    #[test]
    fn every_maxx_metric_in_the_alert_rules_is_exported() {
        let rules: Rules = serde_saphyr::from_str(ALERTS).expect("alerts.yml parses");
        let known = all_metrics();
        let mut used = 0;
        for rule in rules.groups.iter().flat_map(|g| &g.rules) {
            for name in metrics_in_expr(&rule.expr, &known) {
                used += 1;
                assert!(known.contains(&name.as_str()), "alert {}: {name} is exported by no MAXX process", rule.alert);
            }
        }
        assert!(used >= 4, "the rules use the shell's, Execution's and MarketData's metrics ({used} found)");
    }

    #[test]
    fn metric_names_are_found_in_expressions() {
        let known = all_metrics();
        let expr = "histogram_quantile(0.95, rate(maxx_commit_latency_seconds_bucket[5m])) > 1 and maxx_nope_total and not_maxx_x and maxx_lifecycle_state{state=\"x\"}";
        assert_eq!(metrics_in_expr(expr, &known), ["maxx_commit_latency_seconds", "maxx_nope_total", "maxx_lifecycle_state"]);
    }

    #[test]
    fn kpi_names_are_prefixed_with_their_agent() {
        for agent in ["alpha", "risk_sentinel", "execution", "portfolio", "session_clock", "meta_governor"] {
            for name in kpi_names(agent) {
                assert!(name.starts_with(&format!("maxx_{agent}_")), "{name}");
                assert!(crate::metrics::valid_name(name, true), "{name}");
            }
        }
    }
}
