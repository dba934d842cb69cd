//! The agents' own routes and KPIs (`maxx_service::routes`) over real HTTP, with the real
//! Execution, Portfolio and RiskSentinel running in this process on the real broker:
//!
//! - a `POST /order` becomes a SUBMIT_ORDER command, then an order, an ack and a fill on the
//!   bus under the order id the route answered; a second order closes the position at a
//!   profit, and `POST /sweep` moves 20 % of the profit (hand-computed) into the lockbox
//!   shown by `GET /balance`;
//! - a resting limit order is listed by `GET /orders` and counted by
//!   `maxx_execution_pending_orders` until `POST /cancel` cancels it;
//! - every route's status codes and JSON shape, money as decimal text; bad bodies and values
//!   are refused (400/422 naming the field), requests without a valid token get 401, and
//!   none of them publishes anything: the `commands` topic holds exactly the accepted ones;
//! - each process's `/metrics` holds every metric family `routes::exported_metrics` lists
//!   for it (the list the alert rules are checked against).
//!
//! A second test runs Alpha, SessionClock and MetaGovernor behind their routes.

mod service_support;
mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use maxx_agents::execution::manual_order_id;
use maxx_events::{AckStatus, BusCodec, BusEvent, CommandKind, EventId, EventTime, FixedPoint, OrderType, Producer, Registration, Side, Tick};
use maxx_service::exposition::{parse, Family};
use maxx_service::routes;
use serde_json::{json, Value};
use service_support::{config_file, Running, TOKEN};

const WAIT: Duration = Duration::from_secs(60);

fn fp(text: &str) -> FixedPoint {
    text.parse().expect("a decimal")
}

/// Every topic the named agents read or write (shipped partition counts), their state
/// topics, `commands` and the runtime's own.
fn create_topics(agents: &[&str]) -> String {
    let namespace = support::namespace("svc-routes");
    let topology = maxx_topology::Topology::parse(maxx_topology::TOPICS_YAML).expect("shipped topology");
    let config = maxx_agents::config::AgentConfig::default();
    let mut names: BTreeSet<String> = ["dead_letters", "agent_state", "commands"].map(String::from).into_iter().collect();
    for name in agents {
        let agent = maxx_service::agents::factory(name).expect("an agent")(&config);
        names.extend(agent.inputs().iter().chain(agent.outputs()).map(|t| t.to_string()));
        names.insert(format!("state.{name}"));
    }
    for name in names {
        let partitions = topology.topic(&name).map_or(1, |t| t.partitions);
        maxx_testkit::create_topic(&format!("{namespace}{name}"), partitions);
    }
    namespace
}

/// Starts agent `name` with its routes and KPIs, publishing commands.
fn start(namespace: &str, config: PathBuf, name: &str) -> Running {
    let factory = maxx_service::agents::factory(name).expect("an agent");
    let name = name.to_owned();
    Running::start_agent(namespace, config, factory, move |service| {
        let (stats, store) = (service.stats(), service.config());
        let mut service = service.with_routes(routes::for_agent(&name)).publishing_commands();
        for kpi in routes::kpis(&name, &stats, &store) {
            service = service.with_kpis(kpi);
        }
        service
    })
}

fn now_micros() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_micros()).expect("in range")
}

/// A tick with a quote, stamped with the wall clock (as the commands are).
fn tick(n: i64, symbol: &str, price: &str, bid: &str, ask: &str) -> Tick {
    let time = EventTime::from_micros(now_micros());
    Tick {
        event_id: EventId::derive(time, &[b"svc-routes-tick", &n.to_be_bytes()]),
        event_time: time,
        producer: Producer { agent: "market_data".into(), version: "test".into(), instance: "market_data-0".into() },
        symbol: symbol.into(),
        exchange: "paper".into(),
        price: fp(price),
        volume: fp("1000"),
        bid: Some(fp(bid)),
        ask: Some(fp(ask)),
        venue_seq: Some(n),
    }
}

/// Produces one event to its topic, keyed as on the bus.
fn produce(namespace: &str, event: impl Into<BusEvent>) {
    let event = event.into();
    let codec = BusCodec::new(support::registry(), &[event.topic()], Registration::LookupOnly).expect("codec");
    let bytes = codec.encode(&event).expect("encode");
    support::produce_raw(namespace, event.topic(), &[(Some(event.key().as_bytes()), Some(bytes.as_slice()))]);
}

/// `POST path` with a raw body and an optional bearer token: status and JSON answer.
fn post(running: &Running, path: &str, body: &str, token: Option<&str>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
    let mut request = agent.post(&format!("{}{path}", running.url)).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send(body).unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}")))
}

/// Asserts a refusal: `status` and a JSON error naming `field`.
fn refused(answer: (u16, Value), status: u16, field: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert!(answer.1["error"].as_str().is_some_and(|e| !e.is_empty()), "{}", answer.1);
    assert_eq!(answer.1["field"].as_str(), Some(field), "{}", answer.1);
}

fn unauthorized(answer: (u16, Value)) {
    assert_eq!(answer.0, 401, "{}", answer.1);
    assert!(answer.1["error"].as_str().is_some_and(|e| e.contains("bearer token")), "{}", answer.1);
}

fn scrape(running: &Running) -> Vec<Family> {
    let (status, _, text) = running.get("/metrics");
    assert_eq!(status, 200);
    parse(&text).unwrap_or_else(|e| panic!("/metrics is not Prometheus text: {e}\n{text}"))
}

/// The value of sample `name` (with `label`) in a fresh scrape; `None` when absent.
fn metric(running: &Running, name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    scrape(running).iter().flat_map(|f| &f.samples).find(|s| s.name == name && label.is_none_or(|(k, v)| s.label(k) == Some(v))).map(|s| s.value)
}

/// Waits until the scrape of `agent` holds every family `routes::exported_metrics` lists.
fn assert_exports_its_metrics(running: &Running, agent: &str) {
    let listed = routes::exported_metrics(agent);
    let missing = || -> Vec<&str> {
        let families = scrape(running);
        listed.iter().copied().filter(|name| !families.iter().any(|f| f.name == *name)).collect()
    };
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let absent = missing();
        if absent.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{agent}'s /metrics lacks {absent:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    for family in scrape(running).iter().filter(|f| f.name.starts_with(&format!("maxx_{agent}_"))) {
        assert!(listed.contains(&family.name.as_str()), "{} is exported but not listed in routes::exported_metrics", family.name);
    }
}

fn get_ok(running: &Running, path: &str) -> Value {
    let (status, body) = running.get_json(path);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

#[test]
fn execution_portfolio_and_risk_routes_trade_sweep_and_refuse_on_the_broker() {
    let namespace = create_topics(&["execution", "portfolio", "risk_sentinel"]);
    // Taker fee 10 bps, no slippage, whole units: fills at the touch, fees by hand.
    let config = config_file(
        "svc-routes",
        "portfolio:\n  starting_cash: 10000\n  lockbox_pct: 20\n  pnl_interval_ms: 86400000\n\
         risk:\n  max_trade_risk_pct: 50\n  slippage_limit_pct: 1\n\
         exec:\n  qty_step: 1\n  fallback_on_reject: false\n  paper:\n    taker_fee_bps: 10\n    maker_fee_bps: 0\n    slippage_bps_at_volume: 0\n    max_slippage_bps: 0\n    min_qty: 1\n",
    );
    let execution = start(&namespace, config.clone(), "execution");
    let portfolio = start(&namespace, config.clone(), "portfolio");
    let risk = start(&namespace, config, "risk_sentinel");

    // Before any input nothing is committed: 503 (or the empty state), never a crash.
    let (status, body) = execution.get_json("/quote/BTCUSD");
    assert!(status == 503 || status == 404, "{status} {body}");

    // The first tick: Portfolio's first pnl, RiskSentinel's first risk state, Execution's market.
    produce(&namespace, tick(1, "BTCUSD", "100", "99.9", "100.1"));
    execution.wait_for("Execution to know the market and the risk state", WAIT, || {
        execution.get_json("/quote/BTCUSD").0 == 200 && execution.get_json("/state").1["risk"]["max_trade_risk"].is_number()
    });
    let quote = get_ok(&execution, "/quote/BTCUSD");
    assert_eq!((quote["symbol"].as_str(), quote["last"].as_str(), quote["bid"].as_str(), quote["ask"].as_str()), (Some("BTCUSD"), Some("100"), Some("99.9"), Some("100.1")));
    assert_eq!((quote["position"].as_str(), quote["volume"].as_str()), (Some("0"), Some("1000")));
    let (status, body) = execution.get_json("/quote/NOPE");
    assert_eq!((status, body["field"].as_str()), (404, Some("symbol")), "{body}");
    let risk_state = get_ok(&risk, "/risk/state");
    assert_eq!(risk_state["risk"]["equity"].as_str(), Some("10000"), "{risk_state}");
    assert_eq!(risk_state["risk"]["max_trade_risk"].as_str(), Some("5000"), "{risk_state}");
    assert_eq!(risk_state["risk"]["limits"]["max_trade_risk_pct"].as_str(), Some("50"), "{risk_state}");
    assert_eq!((risk_state["risk"]["halted"].as_bool(), risk_state["risk"]["killed"].as_bool()), (Some(false), Some(false)));

    // Refusals: nothing of these is published.
    for token in [None, Some("wrong-token")] {
        unauthorized(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"1"}"#, token));
        unauthorized(post(&execution, "/cancel", r#"{"order_id":"x"}"#, token));
        unauthorized(post(&portfolio, "/sweep", "", token));
        unauthorized(post(&risk, "/risk/trim", r#"{"fraction":"0.5"}"#, token));
        unauthorized(post(&risk, "/risk/reset", "", token));
    }
    let t = Some(TOKEN);
    refused(post(&execution, "/order", "{not json", t), 400, "body");
    refused(post(&execution, "/order", "[1,2]", t), 400, "body");
    refused(post(&execution, "/order", r#"{"side":"BUY","qty":"1"}"#, t), 422, "symbol");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"HOLD","qty":"1"}"#, t), 422, "side");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"0"}"#, t), 422, "qty");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"-1"}"#, t), 422, "qty");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"0.123456789"}"#, t), 422, "qty");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":true}"#, t), 422, "qty");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"1","type":"STOP"}"#, t), 422, "type");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"1","type":"LIMIT"}"#, t), 422, "limit_price");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"1","type":"LIMIT","limit_price":"0"}"#, t), 422, "limit_price");
    refused(post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"1","limit_price":"90"}"#, t), 422, "limit_price");
    refused(post(&execution, "/cancel", "{}", t), 422, "order_id");
    refused(post(&risk, "/risk/trim", "{}", t), 422, "fraction");
    refused(post(&risk, "/risk/trim", r#"{"fraction":"0"}"#, t), 422, "fraction");
    refused(post(&risk, "/risk/trim", r#"{"fraction":1.5}"#, t), 422, "fraction");
    refused(post(&risk, "/risk/trim", r#"{"fraction":"half"}"#, t), 422, "fraction");
    refused(post(&portfolio, "/sweep", "{oops", t), 400, "body");

    // A market buy of 10 (a JSON number for the quantity): command, order, ack, fill.
    let (status, accepted) = post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"buy","qty":10,"reason":"route test"}"#, t);
    assert_eq!(status, 202, "{accepted}");
    assert_eq!((accepted["status"].as_str(), accepted["kind"].as_str(), accepted["target"].as_str(), accepted["requested_by"].as_str()), (Some("queued"), Some("SUBMIT_ORDER"), Some("execution"), Some("ops")));
    let buy_id = accepted["order_id"].as_str().expect("an order id").to_owned();
    let orders = support::decode("orders", &support::read_committed(&namespace, "orders", 1, WAIT));
    let BusEvent::Order(order) = &orders[0] else { panic!("not an order: {:?}", orders[0]) };
    assert_eq!((order.order_id.as_str(), order.symbol.as_str(), order.side, order.qty, order.order_type), (buy_id.as_str(), "BTCUSD", Side::Buy, fp("10"), OrderType::Market));
    let fills = support::decode("fills", &support::read_committed(&namespace, "fills", 1, WAIT));
    let BusEvent::Fill(fill) = &fills[0] else { panic!("not a fill: {:?}", fills[0]) };
    assert_eq!((fill.order_id.as_str(), fill.qty, fill.price, fill.fee), (buy_id.as_str(), fp("10"), fp("100.1"), fp("1.001")), "at the ask, 10 bps of 1001");
    portfolio.wait_for("Portfolio to book the buy", WAIT, || get_ok(&portfolio, "/pnl")["positions"].as_array().is_some_and(|p| p.len() == 1));
    let pnl = get_ok(&portfolio, "/pnl");
    // Marked at the tick's mid, 100: unrealized (100 − 100.1) × 10; cash 10000 − 1001 − 1.001.
    assert_eq!(pnl["positions"][0], json!({ "symbol": "BTCUSD", "qty": "10", "avg_price": "100.1", "mark_price": "100", "unrealized": "-1" }), "{pnl}");
    assert_eq!((pnl["equity"].as_str(), pnl["cash"].as_str(), pnl["fees"].as_str(), pnl["realized"].as_str()), (Some("9997.999"), Some("8997.999"), Some("1.001"), Some("0")), "{pnl}");

    // The market rises; a market sell of 10 closes the long at the bid.
    produce(&namespace, tick(2, "BTCUSD", "120", "119.9", "120.1"));
    execution.wait_for("Execution to see the new market", WAIT, || get_ok(&execution, "/quote/BTCUSD")["last"] == "120");
    assert_eq!(get_ok(&execution, "/quote/BTCUSD")["position"].as_str(), Some("10"));
    let (status, accepted) = post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"SELL","qty":"10","type":"market"}"#, t);
    assert_eq!(status, 202, "{accepted}");
    let sell_id = accepted["order_id"].as_str().expect("an order id").to_owned();
    assert_ne!(sell_id, buy_id);
    portfolio.wait_for("Portfolio to book the sell", WAIT, || get_ok(&portfolio, "/pnl")["positions"].as_array().is_some_and(Vec::is_empty));
    // Realized (119.9 − 100.1) × 10 = 198; fees 1.001 + 1.199 = 2.2; cash 10000 + 198 − 2.2.
    let pnl = get_ok(&portfolio, "/pnl");
    assert_eq!((pnl["equity"].as_str(), pnl["cash"].as_str(), pnl["realized"].as_str(), pnl["unrealized"].as_str(), pnl["fees"].as_str()), (Some("10195.8"), Some("10195.8"), Some("198"), Some("0"), Some("2.2")), "{pnl}");
    let balance = get_ok(&portfolio, "/balance");
    assert_eq!(balance, json!({ "trading_equity": "10195.8", "lockbox": "0", "total": "10195.8", "unswept_profit": "195.8" }));

    // POST /sweep: 20 % of 195.8 = 39.16 leaves trading equity for the lockbox.
    let (status, swept) = post(&portfolio, "/sweep", r#"{"reason":"route test"}"#, t);
    assert_eq!((status, swept["kind"].as_str(), swept["target"].as_str()), (202, Some("SWEEP"), Some("portfolio")), "{swept}");
    portfolio.wait_for("the sweep in GET /balance", WAIT, || get_ok(&portfolio, "/balance")["lockbox"] != "0");
    assert_eq!(get_ok(&portfolio, "/balance"), json!({ "trading_equity": "10156.64", "lockbox": "39.16", "total": "10195.8", "unswept_profit": "0" }));

    // A resting limit buy at 90: listed and counted until canceled.
    let (status, accepted) = post(&execution, "/order", r#"{"symbol":"BTCUSD","side":"BUY","qty":"1","type":"LIMIT","limit_price":"90"}"#, t);
    assert_eq!(status, 202, "{accepted}");
    let limit_id = accepted["order_id"].as_str().expect("an order id").to_owned();
    execution.wait_for("the limit order in GET /orders", WAIT, || get_ok(&execution, "/orders")["orders"].as_array().is_some_and(|o| o.len() == 1));
    let open = get_ok(&execution, "/orders");
    assert_eq!(open["orders"][0]["order_id"].as_str(), Some(limit_id.as_str()));
    assert_eq!((open["orders"][0]["limit_price"].as_str(), open["orders"][0]["remaining"].as_str(), open["orders"][0]["cause"].as_str()), (Some("90"), Some("1"), Some("manual")));
    assert_eq!(metric(&execution, "maxx_execution_pending_orders", None), Some(1.0));
    let (status, canceled) = post(&execution, "/cancel", &json!({ "order_id": limit_id }).to_string(), t);
    assert_eq!((status, canceled["order_id"].as_str(), canceled["kind"].as_str()), (202, Some(limit_id.as_str()), Some("CANCEL_ORDER")), "{canceled}");
    execution.wait_for("the cancel in GET /orders", WAIT, || get_ok(&execution, "/orders")["orders"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(metric(&execution, "maxx_execution_pending_orders", None), Some(0.0));
    let acks = support::decode("order_acks", &support::read_committed(&namespace, "order_acks", 4, WAIT));
    let statuses: Vec<(String, AckStatus)> = acks.iter().map(|a| match a {
        BusEvent::OrderAck(a) => (a.order_id.clone(), a.status),
        other => panic!("not an ack: {other:?}"),
    }).collect();
    for expected in [(buy_id.clone(), AckStatus::Accepted), (sell_id.clone(), AckStatus::Accepted), (limit_id.clone(), AckStatus::Accepted), (limit_id.clone(), AckStatus::Canceled)] {
        assert!(statuses.contains(&expected), "{expected:?} in {statuses:?}");
    }
    assert_eq!(statuses.len(), 4, "{statuses:?}");
    assert_eq!(metric(&execution, "maxx_execution_order_acks_total", Some(("status", "ACCEPTED"))), Some(3.0));
    assert_eq!(metric(&execution, "maxx_execution_order_acks_total", Some(("status", "CANCELED"))), Some(1.0));
    assert_eq!(metric(&execution, "maxx_execution_order_acks_total", Some(("status", "REJECTED"))), Some(0.0));
    assert_eq!(metric(&execution, "maxx_execution_reject_ratio", None), Some(0.0));

    // Portfolio and risk KPIs from their committed states.
    assert_eq!(metric(&portfolio, "maxx_portfolio_lockbox", None), Some(39.16));
    assert_eq!(metric(&portfolio, "maxx_portfolio_equity", None), Some(10156.64));
    assert_eq!(metric(&portfolio, "maxx_portfolio_fees", None), Some(2.2));
    risk.wait_for("the risk state to follow the sweep", WAIT, || get_ok(&risk, "/risk/state")["risk"]["equity"] == "10156.64");
    assert_eq!(metric(&risk, "maxx_risk_sentinel_halted", None), Some(0.0));
    assert_eq!(metric(&risk, "maxx_risk_sentinel_killed", None), Some(0.0));
    assert_eq!(metric(&risk, "maxx_risk_sentinel_equity", None), Some(10156.64));
    assert!(metric(&risk, "maxx_risk_sentinel_kelly_fraction", None).is_some_and(|k| k > 0.0 && k <= 1.0));

    // Trim and reset, flat: the commands go out, nothing trades.
    let (status, trim) = post(&risk, "/risk/trim", r#"{"fraction":"0.5","symbol":"BTCUSD"}"#, t);
    assert_eq!((status, trim["kind"].as_str(), trim["fraction"].as_str(), trim["target"].as_str()), (202, Some("RISK_TRIM"), Some("0.5"), Some("risk_sentinel")), "{trim}");
    let (status, reset) = post(&risk, "/risk/reset", "", t);
    assert_eq!((status, reset["kind"].as_str()), (202, Some("RISK_RESET")), "{reset}");

    // The commands topic holds exactly the accepted requests, with their callers and ids.
    let commands: Vec<_> = support::decode("commands", &support::read_committed(&namespace, "commands", 7, WAIT))
        .into_iter()
        .map(|e| match e {
            BusEvent::Command(c) => c,
            other => panic!("not a command: {other:?}"),
        })
        .collect();
    let kinds: Vec<CommandKind> = commands.iter().map(|c| c.kind).collect();
    assert_eq!(commands.len(), 7, "only accepted requests were published: {kinds:?}");
    assert!(commands.iter().all(|c| c.requested_by == "ops"));
    let submits: Vec<_> = commands.iter().filter(|c| c.kind == CommandKind::SubmitOrder).collect();
    assert_eq!(submits.iter().map(|c| manual_order_id(c)).collect::<Vec<_>>(), [buy_id, sell_id, limit_id.clone()], "the answered ids are the agent's");
    let trim = commands.iter().find(|c| c.kind == CommandKind::RiskTrim).expect("a trim");
    assert_eq!((trim.target.as_str(), trim.fraction, trim.symbol.as_deref()), ("risk_sentinel", Some(fp("0.5")), Some("BTCUSD")));
    let cancel = commands.iter().find(|c| c.kind == CommandKind::CancelOrder).expect("a cancel");
    assert_eq!(cancel.order_id.as_deref(), Some(limit_id.as_str()));
    assert_eq!(kinds.iter().filter(|k| **k == CommandKind::Sweep).count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == CommandKind::RiskReset).count(), 1);

    // Every family the metric list names for each process is in its scrape.
    assert_exports_its_metrics(&execution, "execution");
    assert_exports_its_metrics(&portfolio, "portfolio");
    assert_exports_its_metrics(&risk, "risk_sentinel");

    execution.stop();
    portfolio.stop();
    risk.stop();
}

#[test]
fn alpha_session_clock_and_meta_governor_routes_read_committed_state_and_publish_only_the_reweight_request() {
    let namespace = create_topics(&["alpha", "session_clock", "meta_governor"]);
    // A signal's score is the sentiment score itself (only the sentiment weight counts).
    let config = config_file(
        "svc-routes-read",
        "alpha:\n  weights: {momentum: 0, mean_reversion: 0, breakout: 0, sentiment: 1}\n  momentum_window: 2\n  mean_reversion_window: 2\n  breakout_window: 2\n  \
         sentiment_half_life_sec: 2592000\n  signal_threshold: 0.1\n  min_ticks: 1\n  min_score_change: 0.05\n",
    );
    let alpha = start(&namespace, config.clone(), "alpha");
    let clock = start(&namespace, config.clone(), "session_clock");
    let governor = start(&namespace, config, "meta_governor");

    let time = EventTime::from_micros(now_micros());
    produce(
        &namespace,
        maxx_events::SentimentScore {
            event_id: EventId::derive(time, &[b"svc-routes-sentiment"]),
            event_time: time,
            producer: Producer { agent: "sentiment".into(), version: "test".into(), instance: "sentiment-0".into() },
            symbol: "BTCUSD".into(),
            score: fp("0.8"),
            source: "test".into(),
            item_id: "item-1".into(),
            title: None,
        },
    );
    alpha.wait_for("Alpha to read the score", WAIT, || alpha.get_json("/state").1["symbols"]["BTCUSD"]["sentiment"].is_object());
    let (status, body) = alpha.get_json("/signal/BTCUSD");
    assert_eq!((status, body["field"].as_str()), (404, Some("symbol")), "no signal before a tick: {body}");
    // At the score's own time: the score has not decayed.
    produce(&namespace, Tick { event_time: time, ..tick(10, "BTCUSD", "100", "99.9", "100.1") });

    // Alpha: the signal with its components and weights as decimal text.
    alpha.wait_for("the signal", WAIT, || alpha.get_json("/signal/BTCUSD").0 == 200);
    let signal = get_ok(&alpha, "/signal/BTCUSD");
    assert_eq!((signal["symbol"].as_str(), signal["score"].as_str(), signal["side"].as_str(), signal["confidence"].as_str()), (Some("BTCUSD"), Some("0.8"), Some("BUY"), Some("1")), "{signal}");
    assert_eq!(signal["components"]["sentiment"].as_str(), Some("0.8"), "{signal}");
    assert_eq!(signal["weights"], json!({ "momentum": "0", "mean_reversion": "0", "breakout": "0", "sentiment": "1" }));
    assert!(signal["event_id"].as_str().is_some_and(|id| id.len() == 36), "{signal}");
    assert_eq!(alpha.get_json("/signal/ETHUSD").0, 404);
    assert_eq!(metric(&alpha, "maxx_alpha_signal_score", Some(("symbol", "BTCUSD"))), Some(0.8));

    // SessionClock: now (shape) and calendars.
    clock.wait_for("the clock to handle the tick", WAIT, || {
        let (status, now) = clock.get_json("/now");
        status == 200 && now["watermark"]["micros"] == time.as_micros()
    });
    let now = get_ok(&clock, "/now");
    assert!(now["time"]["utc"].as_str().is_some_and(|t| t.ends_with('Z')) && now["time"]["micros"].is_i64(), "{now}");
    assert!(now["watermark"]["micros"].is_i64() && now["open"].is_array(), "{now}");
    clock.wait_for("the open-sessions KPI to match the committed state", WAIT, || {
        let open = clock.get_json("/state").1["open"].as_array().map_or(0, Vec::len);
        let flags: f64 = scrape(&clock).iter().filter(|f| f.name == "maxx_session_clock_session_open").flat_map(|f| &f.samples).map(|s| s.value).sum();
        metric(&clock, "maxx_session_clock_open_sessions", None) == Some(open as f64) && flags == open as f64
    });
    let week = get_ok(&clock, "/calendar?from=2026-11-23T00:00:00Z&to=2026-11-30T00:00:00Z");
    let (from, to) = (week["from"]["micros"].as_i64().expect("from"), week["to"]["micros"].as_i64().expect("to"));
    assert_eq!(week["from"]["utc"].as_str(), Some("2026-11-23T00:00:00Z"));
    assert_eq!(to - from, 7 * 86_400_000_000);
    let events = week["events"].as_array().expect("events");
    assert!(!events.is_empty(), "a working week has session boundaries: {week}");
    let times: Vec<i64> = events.iter().map(|e| e["time"]["micros"].as_i64().expect("a time")).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]) && times.iter().all(|t| (from..to).contains(t)), "{times:?}");
    assert!(events.iter().all(|e| matches!(e["event"].as_str(), Some("OPEN" | "CLOSE")) && e["session"].is_string() && e["local"].is_string()), "{week}");
    let offset = get_ok(&clock, "/calendar?from=2026-11-23T01:00:00%2B01:00&to=2026-11-30T00:00:00Z");
    assert_eq!(offset["from"]["utc"].as_str(), Some("2026-11-23T00:00:00Z"), "an offset is honoured");
    let default = get_ok(&clock, "/calendar");
    assert_eq!(default["to"]["micros"].as_i64().expect("to") - default["from"]["micros"].as_i64().expect("from"), 7 * 86_400_000_000, "next 7 days");
    let (status, body) = clock.get_json("/calendar?from=yesterday");
    assert_eq!((status, body["field"].as_str()), (400, Some("from")), "{body}");
    let (status, body) = clock.get_json("/calendar?from=2026-11-23T00:00:00Z&to=2026-11-22T00:00:00Z");
    assert_eq!((status, body["field"].as_str()), (422, Some("to")), "{body}");
    let (status, body) = clock.get_json("/calendar?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z");
    assert_eq!((status, body["field"].as_str()), (422, Some("to")), "{body}");

    // MetaGovernor: the configured blend, and computed answers that change nothing.
    governor.wait_for("the governor's first commit", WAIT, || governor.get_json("/govern").0 == 200);
    let view = get_ok(&governor, "/govern");
    assert_eq!(view["weights"], json!({ "momentum": "0", "mean_reversion": "0", "breakout": "0", "sentiment": "1" }), "{view}");
    assert_eq!(view["published"].as_bool(), Some(false));
    assert_eq!(metric(&governor, "maxx_meta_governor_weight", Some(("component", "sentiment"))), Some(1.0));
    unauthorized(post(&governor, "/govern/reweight", "", None));
    unauthorized(post(&governor, "/govern/validate", r#"{"weights":{"momentum":1,"mean_reversion":1,"breakout":1,"sentiment":1}}"#, Some("wrong-token")));
    let (status, reweight) = post(&governor, "/govern/reweight", "", Some(TOKEN));
    assert_eq!((status, reweight["status"].as_str(), reweight["preview"]["outcome"].as_str()), (202, Some("queued"), Some("skipped")), "{reweight}");
    assert!(reweight["preview"]["reason"].as_str().is_some_and(|r| r.contains("attributed")), "nothing attributed yet: {reweight}");
    // The governor reads the command from the log and reweights: nothing attributed, so the
    // step is skipped and no blend is published, but the request is on record.
    governor.wait_for("the requested reweight", WAIT, || {
        get_ok(&governor, "/govern")["last_reweight"]["trigger"].as_str().is_some_and(|t| t == "requested by ops")
    });
    let (status, verdict) = post(&governor, "/govern/validate", r#"{"weights":{"momentum":"1","mean_reversion":"1","breakout":"1","sentiment":"1"}}"#, Some(TOKEN));
    assert_eq!((status, verdict["applied"].as_bool()), (200, Some(false)), "{verdict}");
    assert_eq!(verdict["validation"]["candidate"], json!({ "momentum": "0.25", "mean_reversion": "0.25", "breakout": "0.25", "sentiment": "0.25" }), "normalized: {verdict}");
    assert_eq!(verdict["validation"]["current"]["sentiment"].as_str(), Some("1"));
    assert!(verdict["validation"]["accepted"].is_boolean() && verdict["validation"]["reason"].is_string(), "{verdict}");
    refused(post(&governor, "/govern/validate", r#"{"weights":{"momentum":"1","mean_reversion":"1","breakout":"1"}}"#, Some(TOKEN)), 422, "weights.sentiment");
    refused(post(&governor, "/govern/validate", r#"{"weights":{"momentum":"x","mean_reversion":"1","breakout":"1","sentiment":"1"}}"#, Some(TOKEN)), 422, "weights.momentum");
    refused(post(&governor, "/govern/validate", r#"{"weights":[1,2,3,4]}"#, Some(TOKEN)), 422, "weights");
    assert_eq!(get_ok(&governor, "/govern")["weights"], view["weights"], "the live blend is unchanged");

    // Read-only and computed routes published nothing; the reweight request is the one command.
    let commands = support::decode("commands", &support::read_committed(&namespace, "commands", 1, WAIT));
    assert!(matches!(commands.as_slice(), [maxx_events::BusEvent::Command(c)] if c.kind == maxx_events::CommandKind::GovernReweight), "{commands:?}");
    assert!(support::read_committed(&namespace, "governor_weights", 0, WAIT).is_empty(), "no blend was published");

    assert_exports_its_metrics(&alpha, "alpha");
    assert_exports_its_metrics(&clock, "session_clock");
    assert_exports_its_metrics(&governor, "meta_governor");
    alpha.stop();
    clock.stop();
    governor.stop();
}
