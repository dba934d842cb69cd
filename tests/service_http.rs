//! The agent service shell over real HTTP, on a real broker: `/healthz` (status, JSON shape,
//! 500 with the reason when lag or commit latency exceed their bounds, lag back to 0 once
//! everything is handled), `/metrics` (read as Prometheus text by a strict
//! reader, counters matching what flowed, the agent's KPIs), `/state` and an agent's read-only route (the state
//! as of the last commit), and the bearer token on mutating routes (401 and nothing
//! published without it; the command on the `commands` topic, signed with the caller's name,
//! with it).

mod service_support;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use maxx_events::{BusEvent, Command, CommandKind, EventId, EventTime, Producer};
use maxx_service::auth::Caller;
use maxx_service::exposition::{parse, Family};
use maxx_service::http::{AgentRoutes, ServiceState};
use maxx_service::metrics::Sample;
use serde_json::json;
use service_support::*;

/// Read-only: one symbol's count from the committed state.
async fn count(State(state): State<ServiceState>, Path(symbol): Path<String>) -> impl IntoResponse {
    match state.committed_state::<BTreeMap<String, i64>>() {
        Ok(Some(counts)) => (StatusCode::OK, Json(json!({ "symbol": symbol, "count": counts.get(&symbol).copied().unwrap_or(0) }))),
        Ok(None) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "not started" }))),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": e.to_string() }))),
    }
}

/// Mutating: asks the portfolio for a sweep by publishing a command.
async fn sweep(State(state): State<ServiceState>, Extension(caller): Extension<Caller>) -> impl IntoResponse {
    let command = Command {
        event_id: EventId::now(),
        event_time: EventTime::from_micros(0),
        producer: Producer { agent: String::new(), version: String::new(), instance: String::new() },
        target: "portfolio".into(),
        kind: CommandKind::Sweep,
        requested_by: String::new(),
        symbol: None,
        order_id: None,
        side: None,
        qty: None,
        order_type: None,
        limit_price: None,
        fraction: None,
        reason: Some("test".into()),
    };
    match state.publish(&caller, command).await {
        Ok(published) => (StatusCode::ACCEPTED, Json(json!({ "event_id": published.event_id.as_uuid().to_string() }))),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": e.to_string() }))),
    }
}

fn routes() -> AgentRoutes {
    AgentRoutes::new()
        .read_only(Router::new().route("/test/count/{symbol}", get(count)))
        .mutating(Router::new().route("/test/sweep", post(sweep)))
}

fn family<'a>(families: &'a [Family], name: &str) -> &'a Family {
    families.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("/metrics has no {name}"))
}

/// The value of the sample `name` (with `label`, when given), in whichever family it is.
fn value(families: &[Family], name: &str, label: Option<(&str, &str)>) -> f64 {
    families
        .iter()
        .flat_map(|f| &f.samples)
        .find(|s| s.name == name && label.is_none_or(|(k, v)| s.label(k) == Some(v)))
        .unwrap_or_else(|| panic!("{name} {label:?} missing"))
        .value
}

#[test]
fn routes_answer_with_their_status_codes_and_json_shapes() {
    let namespace = namespace("svc-http");
    let config = config_file("svc-http", "service:\n  max_lag: 1000\n");
    let running = Running::start(&namespace, config, |s| {
        // A KPI from the committed state: ticks handled per symbol.
        let stats = s.stats();
        let kpis = move || {
            let counts: BTreeMap<String, i64> = stats.committed_state_as().ok().flatten().unwrap_or_default();
            counts.into_iter().map(|(symbol, n)| Sample::counter("maxx_scaler_ticks_total", "Ticks handled, by symbol.", n as f64).label("symbol", symbol)).collect()
        };
        s.with_routes(routes()).publishing_commands().with_kpis(Arc::new(kpis))
    });

    // /healthz: 200 and its shape.
    let (status, health) = running.get_json("/healthz");
    assert_eq!(status, 200, "{health}");
    assert!(health["uptime"].as_f64().is_some_and(|u| u >= 0.0), "{health}");
    assert!(health["lag"].is_u64() || health["lag"].is_null(), "{health}");
    assert_eq!((health["state"].as_str(), health["reason"].as_str(), health["healthy"].as_bool()), (Some("RUNNING"), Some("ok"), Some(true)));

    // Events flow; the counters, the state and the lag follow.
    let ticks: Vec<_> = (0..300).map(support::tick).collect();
    support::produce_ticks(&namespace, &ticks);
    let signals = signals(&namespace, ticks.len());
    assert_eq!(signals.len(), ticks.len());
    running.wait_for("lag 0 on /healthz", Duration::from_secs(30), || running.get_json("/healthz").1["lag"] == json!(0));

    // Outputs become readable at the commit; the counters and the state cell follow it.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for tick in &ticks {
        *expected.entry(tick.symbol.clone()).or_default() += 1;
    }
    running.wait_for("the stats to count the last commit", Duration::from_secs(30), || {
        running.stats.events_out().get("signals") == Some(&300) && running.stats.committed_state_as::<BTreeMap<String, i64>>().ok().flatten().as_ref() == Some(&expected)
    });
    let (status, content_type, text) = running.get("/metrics");
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let families = parse(&text).unwrap_or_else(|e| panic!("/metrics is not Prometheus text: {e}\n{text}"));
    assert_eq!(value(&families, "maxx_events_in_total", Some(("topic", "ticks"))), 300.0);
    assert_eq!(value(&families, "maxx_events_out_total", Some(("topic", "signals"))), 300.0);
    assert_eq!(value(&families, "maxx_dead_letters_total", None), 0.0);
    assert_eq!(value(&families, "maxx_consumer_lag", None), 0.0);
    assert_eq!(value(&families, "maxx_broker_reachable", None), 1.0);
    assert_eq!(value(&families, "maxx_lifecycle_state", Some(("state", "RUNNING"))), 1.0);
    let commits = value(&families, "maxx_transactions_committed_total", None);
    assert!(commits >= 1.0);
    assert_eq!(value(&families, "maxx_commit_latency_seconds_count", None), commits, "one latency per commit");
    assert!(value(&families, "process_resident_memory_bytes", None) > 0.0);
    assert!(value(&families, "process_open_fds", None) > 0.0);
    family(&families, "process_cpu_seconds_total");
    family(&families, "maxx_rebalances_total");
    family(&families, "maxx_transactions_aborted_total");
    assert!(family(&families, "maxx_events_in_total").samples.iter().all(|s| s.label("agent") == Some("scaler") && s.label("agent_instance") == Some("scaler-0")));

    // The agent's KPIs, from its committed state.
    let kpi = family(&families, "maxx_scaler_ticks_total");
    assert_eq!(kpi.kind, "counter");
    let reported: BTreeMap<String, i64> = kpi.samples.iter().map(|s| (s.label("symbol").expect("symbol").to_owned(), s.value as i64)).collect();
    assert_eq!(reported, expected);

    // /state and the agent's read-only route: the committed state, open to all.
    let (status, state) = running.get_json("/state");
    assert_eq!(status, 200);
    assert_eq!(state, serde_json::to_value(&expected).expect("json"));
    let (status, one) = running.get_json("/test/count/BTCUSD");
    assert_eq!((status, one["count"].as_i64()), (200, expected.get("BTCUSD").copied()));

    // Mutating routes: 401 and a JSON error without a valid token, and nothing happens.
    for token in [None, Some("wrong-token"), Some("")] {
        let (status, body) = running.post_json("/test/sweep", token);
        assert_eq!(status, 401, "{token:?}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| e.contains("bearer token")), "{body}");
        let (status, body) = running.post_json("/reload", token);
        assert_eq!(status, 401, "{body}");
    }
    assert_eq!(running.config.generation(), 0, "no reload happened");
    let (status, accepted) = running.post_json("/test/sweep", Some(TOKEN));
    assert_eq!(status, 202, "{accepted}");
    let commands = support::decode("commands", &support::read_committed(&namespace, "commands", 1, Duration::from_secs(30)));
    assert_eq!(commands.len(), 1, "only the authorized request published a command");
    let BusEvent::Command(command) = &commands[0] else { panic!("not a command: {:?}", commands[0]) };
    assert_eq!((command.kind, command.target.as_str(), command.requested_by.as_str()), (CommandKind::Sweep, "portfolio", "ops"));
    assert_eq!(command.producer.instance, "scaler-0");
    assert_eq!(accepted["event_id"].as_str(), Some(command.event_id.as_uuid().to_string().as_str()));

    // An authorized reload of an unchanged file: 200 and the next generation.
    let (status, reload) = running.post_json("/reload", Some(TOKEN));
    assert_eq!((status, reload["status"].as_str(), reload["generation"].as_u64()), (200, Some("accepted"), Some(1)));

    // Unknown routes: 404 with a JSON error.
    let (status, body) = running.get_json("/nope");
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    running.stop();
}

#[test]
fn healthz_is_500_with_the_reason_when_a_bound_is_exceeded() {
    let namespace = namespace("svc-unhealthy");
    // A commit can never be this fast: the first commit makes the instance unhealthy.
    let config = config_file("svc-unhealthy", "service:\n  max_commit_latency_ms: 1\n");
    let running = Running::start(&namespace, config, |s| s);
    support::produce_ticks(&namespace, &(0..20).map(support::tick).collect::<Vec<_>>());
    signals(&namespace, 20);
    running.wait_for("a commit", Duration::from_secs(30), || running.stats.commits() > 0);
    let (status, health) = running.get_json("/healthz");
    assert_eq!(status, 500, "{health}");
    assert_eq!(health["state"], "RUNNING");
    assert_eq!(health["healthy"], false);
    assert!(health["reason"].as_str().is_some_and(|r| r.contains("last commit took") && r.contains("more than 1 ms")), "{health}");
    running.stop();
}

#[test]
fn healthz_reports_consumer_lag_above_its_bound_until_the_backlog_is_handled() {
    let namespace = namespace("svc-lag");
    let config = config_file("svc-lag", "service:\n  max_lag: 100\n");
    let running = Running::start_agent(&namespace, config, slow_scaler, |s| s);
    // 3,000 ticks at 5 ms each: some 15 s of backlog, reported every second.
    support::produce_ticks(&namespace, &(0..3_000).map(support::tick).collect::<Vec<_>>());
    let mut seen = None;
    running.wait_for("/healthz to report the backlog", Duration::from_secs(60), || {
        let (status, health) = running.get_json("/healthz");
        let over = status == 500 && health["lag"].as_u64().is_some_and(|lag| lag > 100);
        if over {
            seen = Some(health);
        }
        over
    });
    let health = seen.expect("seen");
    assert!(health["reason"].as_str().is_some_and(|r| r.contains("consumer lag") && r.contains("exceeds 100")), "{health}");
    assert_eq!(health["state"], "RUNNING");
    running.wait_for("the backlog to be handled", Duration::from_secs(120), || {
        let (status, health) = running.get_json("/healthz");
        status == 200 && health["lag"] == json!(0)
    });
    assert_eq!(signals(&namespace, 3_000).len(), 3_000);
    running.stop();
}
