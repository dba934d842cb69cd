//! `/healthz`: whether this agent instance is doing its job, and if not, why. Pure: the
//! inputs are read from the runtime's stats and the config store by the HTTP handler.

use std::time::Duration;

use maxx_agents::config::ServiceConfig;
use maxx_events::Lifecycle;
use serde::Serialize;

/// Limits beyond which the instance is unhealthy (from `service:` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthBounds {
    /// Largest acceptable consumer lag, in events.
    pub max_lag: u64,
    /// Longest acceptable transaction commit.
    pub max_commit_latency: Duration,
}

impl From<&ServiceConfig> for HealthBounds {
    fn from(config: &ServiceConfig) -> Self {
        Self { max_lag: config.max_lag, max_commit_latency: Duration::from_millis(config.max_commit_latency_ms) }
    }
}

/// What health is judged from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthInputs {
    /// Since the process started.
    pub uptime: Duration,
    /// Lifecycle state and its reason; `None` before the runtime started.
    pub lifecycle: Option<(Lifecycle, String)>,
    /// Consumer lag; `None` until measured.
    pub lag: Option<u64>,
    /// Duration of the last commit; `None` before the first.
    pub last_commit: Option<Duration>,
    /// Why no broker is reachable, if so.
    pub broker_problem: Option<String>,
    /// Problems of the last refused reload, while no later one succeeded.
    pub refused_reload: Option<Vec<String>>,
    /// Generation of the configuration in force.
    pub config_generation: u64,
    /// A standby replica of a singleton, waiting for the leadership: healthy while it waits
    /// (its lifecycle and lag are the leader's business).
    pub standby: bool,
}

/// The `/healthz` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// Seconds since the process started.
    pub uptime: f64,
    /// Consumer lag in events (null until measured).
    pub lag: Option<u64>,
    /// `ok`, or every reason it is unhealthy, separated by `; `.
    pub reason: String,
    /// Lifecycle state (`INIT`, `RUNNING`, `RECYCLING`, `SHUTDOWN`, `CRASH_LOOP`),
    /// `STARTING` before the runtime started, or `STANDBY` for a replica waiting to lead.
    pub state: String,
    /// Generation of the configuration in force.
    pub config_generation: u64,
    /// Whether the instance is healthy (the HTTP status says the same: 200 or 500).
    pub healthy: bool,
}

/// Judges health: unhealthy when not Running, when lag or commit latency exceed their
/// bounds, when no broker is reachable, or when the last reload was refused.
pub fn evaluate(inputs: &HealthInputs, bounds: HealthBounds) -> HealthReport {
    let mut reasons = Vec::new();
    let state = match &inputs.lifecycle {
        _ if inputs.standby => "STANDBY".to_owned(),
        None => {
            reasons.push("starting: the runtime has not reported a lifecycle state yet".to_owned());
            "STARTING".to_owned()
        }
        Some((state, reason)) => {
            if *state != Lifecycle::Running {
                reasons.push(format!("lifecycle is {}: {reason}", lifecycle_name(*state)));
            }
            lifecycle_name(*state)
        }
    };
    if let Some(lag) = inputs.lag.filter(|lag| *lag > bounds.max_lag && !inputs.standby) {
        reasons.push(format!("consumer lag {lag} exceeds {}", bounds.max_lag));
    }
    if let Some(took) = inputs.last_commit.filter(|took| *took > bounds.max_commit_latency && !inputs.standby) {
        reasons.push(format!("last commit took {} ms, more than {} ms", took.as_millis(), bounds.max_commit_latency.as_millis()));
    }
    if let Some(problem) = &inputs.broker_problem {
        reasons.push(format!("broker unreachable: {problem}"));
    }
    if let Some(problems) = &inputs.refused_reload {
        reasons.push(format!("last config reload refused: {}", problems.join("; ")));
    }
    let healthy = reasons.is_empty();
    HealthReport {
        uptime: inputs.uptime.as_secs_f64(),
        lag: inputs.lag,
        reason: if healthy { "ok".to_owned() } else { reasons.join("; ") },
        state,
        config_generation: inputs.config_generation,
        healthy,
    }
}

/// The spec's name of a lifecycle state (as on the `agent_state` topic).
pub fn lifecycle_name(state: Lifecycle) -> String {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{state:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: HealthBounds = HealthBounds { max_lag: 100, max_commit_latency: Duration::from_millis(500) };

    fn running() -> HealthInputs {
        HealthInputs {
            uptime: Duration::from_millis(1_500),
            lifecycle: Some((Lifecycle::Running, "consuming".into())),
            lag: Some(100),
            last_commit: Some(Duration::from_millis(500)),
            ..HealthInputs::default()
        }
    }

    #[test]
    fn running_within_bounds_is_healthy() {
        let report = evaluate(&running(), BOUNDS);
        assert!(report.healthy, "{report:?}");
        assert_eq!((report.reason.as_str(), report.state.as_str(), report.lag, report.uptime), ("ok", "RUNNING", Some(100), 1.5));
        let unmeasured = HealthInputs { lag: None, last_commit: None, ..running() };
        assert!(evaluate(&unmeasured, BOUNDS).healthy, "nothing measured yet is no failure");
    }

    #[test]
    fn each_failure_makes_it_unhealthy_with_its_reason() {
        let cases: Vec<(HealthInputs, &str)> = vec![
            (HealthInputs { lifecycle: None, ..running() }, "starting"),
            (HealthInputs { lifecycle: Some((Lifecycle::Recycling, "broker gone".into())), ..running() }, "lifecycle is RECYCLING: broker gone"),
            (HealthInputs { lifecycle: Some((Lifecycle::CrashLoop, "3 restarts".into())), ..running() }, "CRASH_LOOP"),
            (HealthInputs { lag: Some(101), ..running() }, "consumer lag 101 exceeds 100"),
            (HealthInputs { last_commit: Some(Duration::from_millis(501)), ..running() }, "last commit took 501 ms"),
            (HealthInputs { broker_problem: Some("no broker reachable".into()), ..running() }, "broker unreachable"),
            (HealthInputs { refused_reload: Some(vec!["service.max_lag: 0".into()]), ..running() }, "reload refused: service.max_lag: 0"),
        ];
        for (inputs, expected) in cases {
            let report = evaluate(&inputs, BOUNDS);
            assert!(!report.healthy, "{inputs:?}");
            assert!(report.reason.contains(expected), "{} should mention {expected}", report.reason);
        }
    }

    #[test]
    fn a_standby_replica_is_healthy_while_it_waits_but_not_with_a_broken_broker() {
        let waiting = HealthInputs { standby: true, lifecycle: Some((Lifecycle::Shutdown, "lost the leadership".into())), lag: Some(1_000), ..running() };
        let report = evaluate(&waiting, BOUNDS);
        assert!(report.healthy, "{report:?}");
        assert_eq!(report.state, "STANDBY");
        let cut_off = HealthInputs { broker_problem: Some("down".into()), ..waiting };
        assert!(!evaluate(&cut_off, BOUNDS).healthy, "a standby that cannot reach the broker cannot take over");
    }

    #[test]
    fn all_reasons_are_reported_together() {
        let inputs = HealthInputs { lag: Some(1_000), broker_problem: Some("down".into()), ..running() };
        let report = evaluate(&inputs, BOUNDS);
        assert_eq!(report.reason.split("; ").count(), 2, "{}", report.reason);
    }

    proptest::proptest! {
        #[test]
        fn healthy_exactly_when_running_within_bounds(lag in 0u64..300, commit_ms in 0u64..1_500, broker_up: bool, reload_ok: bool) {
            let inputs = HealthInputs {
                lag: Some(lag),
                last_commit: Some(Duration::from_millis(commit_ms)),
                broker_problem: (!broker_up).then(|| "down".to_owned()),
                refused_reload: (!reload_ok).then(|| vec!["bad".to_owned()]),
                ..running()
            };
            let report = evaluate(&inputs, BOUNDS);
            proptest::prop_assert_eq!(report.healthy, lag <= 100 && commit_ms <= 500 && broker_up && reload_ok);
            proptest::prop_assert_eq!(report.reason == "ok", report.healthy);
        }
    }
}
