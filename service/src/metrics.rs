//! `/metrics` in the Prometheus text format (0.0.4): the runtime's counters, the commit
//! latency histogram, consumer lag, process resources, and whatever the agent adds through a
//! [`KpiSource`]. Rendered on each scrape from the live stats: no global registry, so several
//! instances can live in one process (tests, the embedded runtime).

use std::fmt::Write as _;
use std::sync::Arc;

use maxx_events::Lifecycle;
use maxx_runtime::kafka::Stats;

use crate::health::lifecycle_name;
use crate::process::ProcessResources;

/// The kind of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (name it `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
}

/// One sample of an agent KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`, e.g. `maxx_portfolio_equity`.
    pub name: String,
    /// One line saying what it measures.
    pub help: String,
    /// Counter or gauge.
    pub kind: Kind,
    /// Labels besides `agent` and `agent_instance` (added to every sample; not `instance`,
    /// which Prometheus sets to the scrape target and would rename ours to `exported_instance`).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// A gauge sample without labels.
    pub fn gauge(name: impl Into<String>, help: impl Into<String>, value: f64) -> Self {
        Self { name: name.into(), help: help.into(), kind: Kind::Gauge, labels: Vec::new(), value }
    }

    /// A counter sample without labels.
    pub fn counter(name: impl Into<String>, help: impl Into<String>, value: f64) -> Self {
        Self { name: name.into(), help: help.into(), kind: Kind::Counter, labels: Vec::new(), value }
    }

    /// The sample with one more label.
    #[must_use]
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }
}

/// An agent's own KPIs, read on every scrape (typically from
/// `Stats::committed_state_as::<State>()`, so they describe committed state only).
pub trait KpiSource: Send + Sync {
    /// The current samples.
    fn samples(&self) -> Vec<Sample>;
}

impl<F: Fn() -> Vec<Sample> + Send + Sync> KpiSource for F {
    fn samples(&self) -> Vec<Sample> {
        self()
    }
}

/// Who the samples are about.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Agent name.
    pub agent: String,
    /// Instance name (`<agent>-<n>`).
    pub instance: String,
}

/// Whether `name` is a valid metric or label name (label names exclude `:`).
pub fn valid_name(name: &str, allow_colon: bool) -> bool {
    let mut chars = name.chars();
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':');
    chars.next().is_some_and(|c| ok(c) && !c.is_ascii_digit()) && chars.all(ok)
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{value}")
    }
}

/// Writes families: `# HELP`, `# TYPE`, then the samples, labels in the given order.
struct Writer<'a> {
    out: String,
    base: &'a [(String, String)],
}

impl Writer<'_> {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let all: Vec<String> = self
            .base
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .chain(labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))))
            .collect();
        let _ = writeln!(self.out, "{name}{{{}}} {}", all.join(","), number(value));
    }
}

/// Everything `/metrics` reports.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// Who.
    pub identity: &'a Identity,
    /// The runtime's counters.
    pub stats: &'a Stats,
    /// Process resources.
    pub process: ProcessResources,
    /// Generation of the configuration in force.
    pub config_generation: u64,
    /// Whether the last reload was refused.
    pub reload_refused: bool,
    /// The agent's KPI sources.
    pub kpis: &'a [Arc<dyn KpiSource>],
}

/// Renders the Prometheus text exposition.
#[allow(clippy::cast_precision_loss)] // counters as Prometheus floats
pub fn render(inputs: &Inputs<'_>) -> String {
    let base = [("agent".to_owned(), inputs.identity.agent.clone()), ("agent_instance".to_owned(), inputs.identity.instance.clone())];
    let mut w = Writer { out: String::new(), base: &base };
    let stats = inputs.stats;

    for (name, help, counts) in [
        ("maxx_events_in_total", "Input events read, by bus topic.", stats.events_in()),
        ("maxx_events_out_total", "Output events committed, by bus topic.", stats.events_out()),
    ] {
        w.family(name, "counter", help);
        for (topic, n) in &counts {
            w.sample(name, &[("topic", topic)], *n as f64);
        }
    }
    for (name, help, value) in [
        ("maxx_dead_letters_total", "Inputs filed as dead letters.", stats.dead_letters()),
        ("maxx_transactions_committed_total", "Transactions committed.", stats.commits()),
        ("maxx_transactions_aborted_total", "Transactions aborted (state restored, inputs read again).", stats.aborts()),
        ("maxx_rebalances_total", "Consumer group rebalances this instance took part in.", stats.rebalances()),
    ] {
        w.family(name, "counter", help);
        w.sample(name, &[], value as f64);
    }

    let histogram = stats.commit_latency();
    w.family("maxx_commit_latency_seconds", "histogram", "Duration of transaction commits (snapshot, offsets, commit).");
    for (le, count) in &histogram.buckets {
        w.sample("maxx_commit_latency_seconds_bucket", &[("le", &number(*le))], *count as f64);
    }
    w.sample("maxx_commit_latency_seconds_sum", &[], histogram.sum_seconds);
    w.sample("maxx_commit_latency_seconds_count", &[], histogram.count as f64);

    if let Some(lag) = stats.lag() {
        w.family("maxx_consumer_lag", "gauge", "Events not yet read, summed over the assigned partitions.");
        w.sample("maxx_consumer_lag", &[], lag as f64);
    }
    if stats.broker_reported() {
        w.family("maxx_broker_reachable", "gauge", "1 when at least one broker is connected.");
        w.sample("maxx_broker_reachable", &[], if stats.broker_problem().is_none() { 1.0 } else { 0.0 });
    }
    let current = stats.lifecycle().map(|(state, _)| state);
    w.family("maxx_lifecycle_state", "gauge", "1 for the current lifecycle state of the instance.");
    for state in [Lifecycle::Init, Lifecycle::Running, Lifecycle::Recycling, Lifecycle::Shutdown, Lifecycle::CrashLoop] {
        w.sample("maxx_lifecycle_state", &[("state", &lifecycle_name(state))], if current == Some(state) { 1.0 } else { 0.0 });
    }
    w.family("maxx_config_generation", "gauge", "Configuration in force (0: the one at start, +1 per accepted reload).");
    w.sample("maxx_config_generation", &[], inputs.config_generation as f64);
    w.family("maxx_config_reload_refused", "gauge", "1 when the last reload was refused (the previous configuration stays).");
    w.sample("maxx_config_reload_refused", &[], if inputs.reload_refused { 1.0 } else { 0.0 });

    let process = inputs.process;
    if let Some(seconds) = process.cpu_seconds {
        w.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
        w.sample("process_cpu_seconds_total", &[], seconds);
    }
    if let Some(bytes) = process.resident_bytes {
        w.family("process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.");
        w.sample("process_resident_memory_bytes", &[], bytes as f64);
    }
    if let Some(fds) = process.open_fds {
        w.family("process_open_fds", "gauge", "Open file descriptors.");
        w.sample("process_open_fds", &[], fds as f64);
    }

    render_kpis(&mut w, inputs.kpis);
    w.out
}

/// Agent KPIs, grouped by name (one `# TYPE` per family); invalid names are skipped with a
/// warning rather than breaking the whole scrape.
fn render_kpis(w: &mut Writer<'_>, sources: &[Arc<dyn KpiSource>]) {
    let mut families: Vec<(String, String, Kind, Vec<Sample>)> = Vec::new();
    for sample in sources.iter().flat_map(|s| s.samples()) {
        let reserved = sample.labels.iter().any(|(k, _)| k == "agent" || k == "agent_instance");
        if !valid_name(&sample.name, true) || sample.labels.iter().any(|(k, _)| !valid_name(k, false) || k.starts_with("__")) || reserved {
            tracing::warn!(metric = %sample.name, "KPI sample with an invalid metric or label name skipped");
            continue;
        }
        match families.iter_mut().find(|(name, ..)| *name == sample.name) {
            Some((_, _, kind, samples)) if *kind == sample.kind => samples.push(sample),
            Some(_) => tracing::warn!(metric = %sample.name, "KPI sample of a different kind than its family skipped"),
            None => families.push((sample.name.clone(), sample.help.clone(), sample.kind, vec![sample])),
        }
    }
    for (name, help, kind, samples) in families {
        w.family(&name, if kind == Kind::Counter { "counter" } else { "gauge" }, &help);
        for sample in samples {
            let labels: Vec<(&str, &str)> = sample.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            w.sample(&name, &labels, sample.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{parse, Family};

    fn family<'a>(families: &'a [Family], name: &str) -> &'a Family {
        families.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("family {name} missing"))
    }

    #[test]
    fn a_fresh_instance_renders_valid_text_with_every_family() {
        let identity = Identity { agent: "alpha".into(), instance: "alpha-0".into() };
        let stats = Stats::default();
        let kpi: Arc<dyn KpiSource> = Arc::new(|| {
            vec![
                Sample::gauge("maxx_alpha_open_signals", "Signals open.", 3.0).label("symbol", "BTC\"USD"),
                Sample::gauge("maxx_alpha_open_signals", "Signals open.", 1.0).label("symbol", "ETHUSD"),
                Sample::gauge("9bad", "invalid name", 1.0),
                Sample::counter("maxx_alpha_open_signals", "different kind", 1.0),
            ]
        });
        let text = render(&Inputs {
            identity: &identity,
            stats: &stats,
            process: crate::process::read(),
            config_generation: 2,
            reload_refused: true,
            kpis: &[kpi],
        });
        let families = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for name in ["maxx_events_in_total", "maxx_dead_letters_total", "maxx_transactions_aborted_total", "maxx_rebalances_total", "maxx_commit_latency_seconds", "maxx_lifecycle_state"] {
            family(&families, name);
        }
        assert_eq!(family(&families, "maxx_config_generation").samples[0].value, 2.0);
        assert_eq!(family(&families, "maxx_config_reload_refused").samples[0].value, 1.0);
        let kpis = family(&families, "maxx_alpha_open_signals");
        assert_eq!(kpis.samples.len(), 2, "the invalid and mismatched samples are skipped");
        assert_eq!(kpis.samples[0].label("symbol"), Some("BTC\"USD"), "escaped and read back");
        assert_eq!(kpis.samples[0].label("agent"), Some("alpha"));
        assert!(families.iter().all(|f| f.name != "9bad"));
        assert!(families.iter().all(|f| f.name != "maxx_consumer_lag"), "lag is left out until measured");
    }
}
