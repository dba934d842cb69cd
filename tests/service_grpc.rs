//! The gRPC `ExecutionService` (`proto/execution.proto`) of a real Execution process on the
//! real broker, called with a tonic client: `SubmitOrder` and `CancelOrder` publish the same
//! commands as the HTTP routes (the order then routes, fills and cancels on the bus under the
//! answered order id), without a valid bearer token they answer UNAUTHENTICATED and publish
//! nothing, bad requests are INVALID_ARGUMENT naming the field, and `GetQuote` reads the
//! committed state. The built binary serves it too: `maxx agent execution --grpc ADDR`, with
//! the agent's HTTP routes and KPIs attached by the command line.

mod service_support;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use maxx_agents::execution::manual_order_id;
use maxx_events::{AckStatus, BusCodec, BusEvent, CommandKind, EventId, EventTime, FixedPoint, Producer, Registration, RiskLimits, RiskState, Tick};
use maxx_service::auth::Tokens;
use maxx_service::grpc::proto::execution_service_client::ExecutionServiceClient;
use maxx_service::grpc::proto::{self, AckStatus as ProtoAck};
use maxx_service::grpc::tonic::{self, Code};
use maxx_service::grpc::{self as grpc, ExecutionGrpc, GrpcServer};
use maxx_service::routes;
use service_support::{config_file, Running, TOKEN};

const WAIT: Duration = Duration::from_secs(60);
const E8: i64 = 100_000_000;

fn fp(text: &str) -> FixedPoint {
    text.parse().expect("a decimal")
}

fn now() -> EventTime {
    EventTime::from_micros(i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_micros()).expect("in range"))
}

fn feed_producer(agent: &str) -> Producer {
    Producer { agent: agent.into(), version: "test".into(), instance: format!("{agent}-0") }
}

fn produce(namespace: &str, event: impl Into<BusEvent>) {
    let event = event.into();
    let codec = BusCodec::new(support::registry(), &[event.topic()], Registration::LookupOnly).expect("codec");
    let bytes = codec.encode(&event).expect("encode");
    support::produce_raw(namespace, event.topic(), &[(Some(event.key().as_bytes()), Some(bytes.as_slice()))]);
}

fn request<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("ascii metadata"));
    }
    request
}

fn market_buy(qty_e8: i64) -> proto::OrderRequest {
    proto::OrderRequest { symbol: "BTCUSD".into(), side: proto::Side::Buy.into(), qty_e8, order_type: proto::OrderType::Market.into(), limit_price_e8: None, reason: "grpc test".into() }
}

#[test]
fn grpc_submit_cancel_and_quote_publish_the_routes_commands_for_authorized_callers_only() {
    let namespace = support::namespace("svc-grpc");
    let topology = maxx_topology::Topology::parse(maxx_topology::TOPICS_YAML).expect("shipped topology");
    let execution_agent = maxx_service::agents::factory("execution").expect("execution")(&maxx_agents::config::AgentConfig::default());
    let mut topics: BTreeSet<String> = ["dead_letters", "agent_state", "commands", "state.execution"].map(String::from).into_iter().collect();
    topics.extend(execution_agent.inputs().iter().chain(execution_agent.outputs()).map(|t| t.to_string()));
    for name in topics {
        maxx_testkit::create_topic(&format!("{namespace}{name}"), topology.topic(&name).map_or(1, |t| t.partitions));
    }
    let config = config_file("svc-grpc", "exec:\n  qty_step: 1\n  fallback_on_reject: false\n  paper:\n    taker_fee_bps: 10\n    slippage_bps_at_volume: 0\n    max_slippage_bps: 0\n    min_qty: 1\n");
    let factory = maxx_service::agents::factory("execution").expect("execution");
    let execution = Running::start_agent(&namespace, config, factory, |s| s.with_routes(routes::for_agent("execution")).publishing_commands());

    let publisher = grpc::publisher(&support::kafka_config(&namespace), support::registry(), Registration::Register, feed_producer("execution")).expect("a command publisher");
    let tokens = Tokens::parse(&format!("ops:{TOKEN}")).expect("tokens");
    let stats = std::sync::Arc::clone(&execution.stats);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = GrpcServer::spawn(listener, move || Ok(ExecutionGrpc::new(stats, tokens, publisher))).expect("the gRPC server starts");
    let url = format!("http://{}", server.address());

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let mut client = ExecutionServiceClient::connect(url).await.expect("connect");

        // Nothing known yet.
        let early = client.get_quote(proto::QuoteRequest { symbol: "BTCUSD".into() }).await.expect_err("no quote yet");
        assert!(matches!(early.code(), Code::Unavailable | Code::NotFound), "{early:?}");

        // Without a valid token: UNAUTHENTICATED, nothing published.
        for token in [None, Some("wrong-token")] {
            let refused = client.submit_order(request(market_buy(E8), token)).await.expect_err("refused");
            assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
            let refused = client.cancel_order(request(proto::CancelRequest { order_id: "x".into(), reason: String::new() }, token)).await.expect_err("refused");
            assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
        }
        // Malformed requests: INVALID_ARGUMENT naming the field, nothing published.
        for (bad, field) in [
            (market_buy(0), "qty"),
            (proto::OrderRequest { side: proto::Side::Unspecified.into(), ..market_buy(E8) }, "side"),
            (proto::OrderRequest { symbol: String::new(), ..market_buy(E8) }, "symbol"),
            (proto::OrderRequest { order_type: proto::OrderType::Limit.into(), ..market_buy(E8) }, "limit_price"),
        ] {
            let refused = client.submit_order(request(bad, Some(TOKEN))).await.expect_err("invalid");
            assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
            assert!(refused.message().starts_with(field), "{field}: {}", refused.message());
        }
        let refused = client.cancel_order(request(proto::CancelRequest { order_id: " ".into(), reason: String::new() }, Some(TOKEN))).await.expect_err("invalid");
        assert_eq!(refused.code(), Code::InvalidArgument);

        // A market and a risk state: the quote, then orders that trade.
        let time = now();
        produce(
            &namespace,
            Tick {
                event_id: EventId::derive(time, &[b"svc-grpc-tick"]),
                event_time: time,
                producer: feed_producer("market_data"),
                symbol: "BTCUSD".into(),
                exchange: "paper".into(),
                price: fp("100"),
                volume: fp("1000"),
                bid: Some(fp("99.9")),
                ask: Some(fp("100.1")),
                venue_seq: Some(1),
            },
        );
        produce(
            &namespace,
            RiskState {
                event_id: EventId::derive(time, &[b"svc-grpc-risk"]),
                event_time: time,
                producer: feed_producer("risk_sentinel"),
                equity: fp("10000"),
                day_start_equity: fp("10000"),
                drawdown_pct: FixedPoint::ZERO,
                halted: false,
                halt_reason: None,
                killed: false,
                kelly_fraction: FixedPoint::ONE,
                max_trade_risk: fp("5000"),
                limits: RiskLimits { max_trade_risk_pct: fp("50"), daily_drawdown_pct: fp("5"), slippage_limit_pct: fp("1"), hard_kill_pct: fp("7") },
            },
        );
        execution.wait_for("Execution to know the market and the risk state", WAIT, || {
            execution.get_json("/quote/BTCUSD").0 == 200 && execution.get_json("/state").1["risk"]["max_trade_risk"].is_number()
        });
        let quote = client.get_quote(proto::QuoteRequest { symbol: "BTCUSD".into() }).await.expect("a quote").into_inner();
        assert_eq!(
            (quote.symbol.as_str(), quote.last_e8, quote.bid_e8, quote.ask_e8, quote.volume_e8, quote.time_micros, quote.position_e8),
            ("BTCUSD", 100 * E8, Some(9_990_000_000), Some(10_010_000_000), 1000 * E8, time.as_micros(), 0)
        );
        let missing = client.get_quote(proto::QuoteRequest { symbol: "NOPE".into() }).await.expect_err("unknown symbol");
        assert_eq!(missing.code(), Code::NotFound);

        // SubmitOrder: queued under the id the agent gives the order; it fills at the ask.
        let ack = client.submit_order(request(market_buy(2 * E8), Some(TOKEN))).await.expect("queued").into_inner();
        assert_eq!(ack.status, i32::from(ProtoAck::Queued));
        let fills = support::decode("fills", &support::read_committed(&namespace, "fills", 1, WAIT));
        let BusEvent::Fill(fill) = &fills[0] else { panic!("not a fill: {:?}", fills[0]) };
        assert_eq!((fill.order_id.as_str(), fill.qty, fill.price), (ack.order_id.as_str(), fp("2"), fp("100.1")));

        // A resting limit, then CancelOrder: the ack CANCELED on the bus.
        let limit = proto::OrderRequest { order_type: proto::OrderType::Limit.into(), limit_price_e8: Some(90 * E8), ..market_buy(E8) };
        let resting = client.submit_order(request(limit, Some(TOKEN))).await.expect("queued").into_inner();
        execution.wait_for("the limit order to rest", WAIT, || execution.get_json("/orders").1["orders"].as_array().is_some_and(|o| o.len() == 1));
        let canceled = client.cancel_order(request(proto::CancelRequest { order_id: resting.order_id.clone(), reason: "grpc test".into() }, Some(TOKEN))).await.expect("queued").into_inner();
        assert_eq!((canceled.status, canceled.order_id.as_str()), (i32::from(ProtoAck::Queued), resting.order_id.as_str()));
        let acks = support::decode("order_acks", &support::read_committed(&namespace, "order_acks", 3, WAIT));
        let statuses: Vec<(String, AckStatus)> = acks
            .iter()
            .map(|a| match a {
                BusEvent::OrderAck(a) => (a.order_id.clone(), a.status),
                other => panic!("not an ack: {other:?}"),
            })
            .collect();
        assert_eq!(statuses, [(ack.order_id.clone(), AckStatus::Accepted), (resting.order_id.clone(), AckStatus::Accepted), (resting.order_id.clone(), AckStatus::Canceled)]);

        // GetQuote follows the committed state: the position of the fill.
        execution.wait_for("the position in the committed state", WAIT, || execution.get_json("/quote/BTCUSD").1["position"] == "2");
        let quote = client.get_quote(proto::QuoteRequest { symbol: "BTCUSD".into() }).await.expect("a quote").into_inner();
        assert_eq!(quote.position_e8, 2 * E8);

        // Exactly the three authorized requests reached the log, as the HTTP routes write them.
        let commands: Vec<_> = support::decode("commands", &support::read_committed(&namespace, "commands", 3, WAIT))
            .into_iter()
            .map(|e| match e {
                BusEvent::Command(c) => c,
                other => panic!("not a command: {other:?}"),
            })
            .collect();
        assert_eq!(commands.iter().map(|c| c.kind).collect::<Vec<_>>(), [CommandKind::SubmitOrder, CommandKind::SubmitOrder, CommandKind::CancelOrder]);
        assert!(commands.iter().all(|c| c.requested_by == "ops" && c.target == "execution"));
        assert_eq!((manual_order_id(&commands[0]), commands[0].event_id.to_string()), (ack.order_id.clone(), ack.command_id.clone()));
        assert_eq!((commands[0].qty, commands[0].limit_price, commands[0].reason.as_deref()), (Some(fp("2")), None, Some("grpc test")));
        assert_eq!((manual_order_id(&commands[1]), commands[1].limit_price), (resting.order_id.clone(), Some(fp("90"))));
        assert_eq!(commands[2].order_id.as_deref(), Some(resting.order_id.as_str()));
    });

    // The client's connection closes with its runtime; then the server stops gracefully.
    drop(runtime);
    let stopping = std::time::Instant::now();
    server.stop().expect("the gRPC server stops cleanly");
    assert!(stopping.elapsed() < grpc::SHUTDOWN_GRACE, "no client left: the graceful stop does not wait for the grace period");
    execution.stop();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

#[test]
fn the_execution_process_serves_grpc_and_its_routes_and_only_execution_takes_grpc() {
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_maxx"))
        .args(["agent", "alpha", "--grpc", "127.0.0.1:0"])
        .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
        .env("OTEL_SDK_DISABLED", "true")
        .output()
        .expect("run maxx");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--grpc"), "{}", String::from_utf8_lossy(&refused.stderr));

    let namespace = support::namespace("svc-grpc-process");
    let execution_agent = maxx_service::agents::factory("execution").expect("execution")(&maxx_agents::config::AgentConfig::default());
    let mut topics: BTreeSet<String> = ["dead_letters", "agent_state", "commands", "state.execution"].map(String::from).into_iter().collect();
    topics.extend(execution_agent.inputs().iter().chain(execution_agent.outputs()).map(|t| t.to_string()));
    for name in topics {
        maxx_testkit::create_topic(&format!("{namespace}{name}"), 1);
    }
    let config = config_file("svc-grpc-process", "");
    let (http, grpc_port) = (free_port(), free_port());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_maxx"))
        .args(["agent", "execution", "--http", &format!("127.0.0.1:{http}"), "--register-schemas"])
        .env("MAXX_GRPC_ADDR", format!("127.0.0.1:{grpc_port}"))
        .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
        .env("MAXX_SCHEMA_REGISTRY", support::registry_url())
        .env("MAXX_NAMESPACE", &namespace)
        .env("MAXX_CONFIG", &config)
        .env("MAXX_API_TOKEN", TOKEN)
        .env("MAXX_LOG_FORMAT", "json")
        .env("OTEL_SDK_DISABLED", "true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start maxx agent execution");
    let base = format!("http://127.0.0.1:{http}");
    let deadline = std::time::Instant::now() + WAIT;
    let healthy = || std::net::TcpStream::connect(("127.0.0.1", http)).is_ok() && service_support::http("GET", &format!("{base}/healthz"), None).0 == 200;
    while !healthy() {
        assert!(std::time::Instant::now() < deadline, "the execution process did not become healthy");
        assert!(child.try_wait().expect("status").is_none(), "the execution process exited");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The command line attached the agent's routes and KPIs.
    let (status, _, orders) = service_support::http("GET", &format!("{base}/orders"), None);
    assert_eq!(status, 200, "{orders}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&orders).expect("JSON")["orders"], serde_json::json!([]));
    let (_, _, metrics) = service_support::http("GET", &format!("{base}/metrics"), None);
    assert!(metrics.lines().any(|l| l.starts_with("maxx_execution_pending_orders{")), "{metrics}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let order_id = runtime.block_on(async {
        let mut client = ExecutionServiceClient::connect(format!("http://127.0.0.1:{grpc_port}")).await.expect("connect to the process's gRPC server");
        let refused = client.submit_order(request(market_buy(E8), None)).await.expect_err("refused");
        assert_eq!(refused.code(), Code::Unauthenticated);
        let quote = client.get_quote(proto::QuoteRequest { symbol: "BTCUSD".into() }).await.expect_err("no tick yet");
        assert!(matches!(quote.code(), Code::NotFound | Code::Unavailable), "{quote:?}");
        let ack = client.submit_order(request(market_buy(E8), Some(TOKEN))).await.expect("queued").into_inner();
        assert_eq!(ack.status, i32::from(ProtoAck::Queued));
        ack.order_id
    });
    drop(runtime);
    let commands = support::decode("commands", &support::read_committed(&namespace, "commands", 1, WAIT));
    assert_eq!(commands.len(), 1, "only the authorized call published");
    let BusEvent::Command(command) = &commands[0] else { panic!("not a command: {:?}", commands[0]) };
    assert_eq!((command.kind, command.requested_by.as_str(), command.producer.instance.as_str()), (CommandKind::SubmitOrder, "env", "execution-0"));
    assert_eq!(manual_order_id(command), order_id);
    // Without market data the agent refuses the order itself, on the bus.
    let acks = support::decode("order_acks", &support::read_committed(&namespace, "order_acks", 1, WAIT));
    let BusEvent::OrderAck(refusal) = &acks[0] else { panic!("not an ack: {:?}", acks[0]) };
    assert_eq!((refusal.order_id.as_str(), refusal.status), (order_id.as_str(), AckStatus::Rejected));

    // SIGTERM: the process (HTTP, gRPC, runtime) stops cleanly.
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the execution process did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}
