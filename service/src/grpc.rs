//! The gRPC `ExecutionService` (`proto/execution.proto`, generated at build time without
//! protoc) served by the Execution process on `--grpc ADDR`. `SubmitOrder` and `CancelOrder`
//! publish the same commands as `POST /order` and `POST /cancel` (checked by the same rules,
//! `routes::execution`) for the caller named by the bearer token in the `authorization`
//! metadata (UNAUTHENTICATED without a valid one, and nothing is published); `GetQuote` reads
//! the committed state, open like `GET /quote`. Refused requests are gRPC errors
//! (INVALID_ARGUMENT naming the field, UNAVAILABLE when the broker does not take the command).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use maxx_agents::execution::{manual_order_id, ExecutionState};
use maxx_events::{FixedPoint, OrderType, Producer, Registration, SchemaRegistry, Side};
use maxx_runtime::kafka::Stats;
use maxx_runtime::KafkaConfig;
use tonic::{Request, Response, Status};

use crate::auth::{Caller, Tokens};
use crate::commands::{CommandPublisher, PublishError};
use crate::routes::execution::{cancel_command, OrderRequest};
use crate::routes::input::Problem;

/// The code generated from `proto/execution.proto` (package `maxx.execution.v1`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("maxx.execution.v1");
}

use proto::execution_service_server::{ExecutionService, ExecutionServiceServer};
/// The tonic this service is built with (clients of [`proto`] need its `Request`, metadata,
/// status codes).
pub use tonic;

/// The service: the committed state to read, the tokens to check, the publisher of commands.
pub struct ExecutionGrpc {
    stats: Arc<Stats>,
    tokens: Tokens,
    commands: CommandPublisher,
}

impl std::fmt::Debug for ExecutionGrpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionGrpc").field("tokens", &self.tokens).field("commands", &self.commands).finish()
    }
}

impl ExecutionGrpc {
    /// The service of an Execution process whose runtime keeps `stats`.
    pub fn new(stats: Arc<Stats>, tokens: Tokens, commands: CommandPublisher) -> Self {
        Self { stats, tokens, commands }
    }

    fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let header = request.metadata().get("authorization").and_then(|v| v.to_str().ok());
        self.tokens.authorize(header).ok_or_else(|| {
            tracing::warn!("gRPC request without a valid bearer token refused");
            Status::unauthenticated("a valid bearer token is required (metadata authorization: Bearer <token>)")
        })
    }

    async fn publish(&self, caller: &Caller, command: maxx_events::Command) -> Result<maxx_events::Command, Status> {
        self.commands.publish(caller, command).await.map_err(|e| Status::unavailable(format!("the command was not published: {e}")))
    }
}

fn invalid(problem: Problem) -> Status {
    match problem.field {
        Some(field) => Status::invalid_argument(format!("{field}: {}", problem.message)),
        None => Status::invalid_argument(problem.message),
    }
}

fn non_empty(text: String) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The checked order of a gRPC request.
fn order_request(request: proto::OrderRequest) -> Result<OrderRequest, Problem> {
    let side = match proto::Side::try_from(request.side) {
        Ok(proto::Side::Buy) => Side::Buy,
        Ok(proto::Side::Sell) => Side::Sell,
        _ => return Err(Problem::invalid("side", "side must be SIDE_BUY or SIDE_SELL")),
    };
    let order_type = match proto::OrderType::try_from(request.order_type) {
        Ok(proto::OrderType::Unspecified | proto::OrderType::Market) => OrderType::Market,
        Ok(proto::OrderType::Limit) => OrderType::Limit,
        Err(_) => return Err(Problem::invalid("order_type", "unknown order type")),
    };
    // A MARKET order ignores its limit price (as documented in the .proto).
    let limit_price = match order_type {
        OrderType::Limit => request.limit_price_e8.map(FixedPoint::from_raw),
        OrderType::Market => None,
    };
    OrderRequest::new(request.symbol.trim().to_owned(), side, FixedPoint::from_raw(request.qty_e8), order_type, limit_price, non_empty(request.reason))
}

#[tonic::async_trait]
impl ExecutionService for ExecutionGrpc {
    async fn submit_order(&self, request: Request<proto::OrderRequest>) -> Result<Response<proto::OrderAck>, Status> {
        let caller = self.caller(&request)?;
        let order = order_request(request.into_inner()).map_err(invalid)?;
        let published = self.publish(&caller, order.command()).await?;
        Ok(Response::new(proto::OrderAck {
            status: proto::AckStatus::Queued.into(),
            command_id: published.event_id.to_string(),
            order_id: manual_order_id(&published),
            reason: String::new(),
        }))
    }

    async fn cancel_order(&self, request: Request<proto::CancelRequest>) -> Result<Response<proto::CancelAck>, Status> {
        let caller = self.caller(&request)?;
        let request = request.into_inner();
        let order_id = non_empty(request.order_id).ok_or_else(|| Status::invalid_argument("order_id: order_id is required"))?;
        let published = self.publish(&caller, cancel_command(order_id.clone(), non_empty(request.reason))).await?;
        Ok(Response::new(proto::CancelAck { status: proto::AckStatus::Queued.into(), command_id: published.event_id.to_string(), order_id, reason: String::new() }))
    }

    async fn get_quote(&self, request: Request<proto::QuoteRequest>) -> Result<Response<proto::Quote>, Status> {
        let symbol = request.into_inner().symbol;
        let state = match self.stats.committed_state_as::<ExecutionState>() {
            Ok(Some(state)) => state,
            Ok(None) => return Err(Status::unavailable("the agent has not committed a state yet")),
            Err(e) => return Err(Status::internal(format!("the committed state cannot be read: {e}"))),
        };
        let market = state.markets.get(&symbol).ok_or_else(|| Status::not_found(format!("no tick of {symbol} seen yet")))?;
        Ok(Response::new(proto::Quote {
            last_e8: market.price.raw(),
            bid_e8: market.bid.map(FixedPoint::raw),
            ask_e8: market.ask.map(FixedPoint::raw),
            volume_e8: market.volume.raw(),
            time_micros: market.time.as_micros(),
            position_e8: state.positions.get(&symbol).copied().unwrap_or_default().raw(),
            route: state.routes.active.clone(),
            symbol,
        }))
    }
}

/// A command publisher like the HTTP routes' (`run.rs`): the `commands` topic of `kafka`'s
/// namespace, stamped with `identity`.
///
/// # Errors
/// When the producer or the codec cannot be set up.
pub fn publisher(kafka: &KafkaConfig, registry: Arc<dyn SchemaRegistry>, registration: Registration, identity: Producer) -> Result<CommandPublisher, PublishError> {
    let mut client = rdkafka::ClientConfig::new();
    client.set("bootstrap.servers", &kafka.bootstrap);
    for (key, value) in &kafka.overrides {
        client.set(key, value);
    }
    CommandPublisher::new(&client, registry, registration, kafka.topic("commands"), identity)
}

/// Serves `service` on `listener` until `shutdown` completes.
///
/// # Errors
/// When the server fails.
pub async fn serve(listener: tokio::net::TcpListener, service: ExecutionGrpc, shutdown: impl Future<Output = ()> + Send) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(ExecutionServiceServer::new(service))
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), shutdown)
        .await
}

/// How long a stopping server waits for connected clients to hang up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A gRPC server running on a thread of its own.
#[derive(Debug)]
pub struct GrpcServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl GrpcServer {
    /// Starts serving `service` on `listener` (a small tokio runtime on its own thread, so the
    /// agent's runtime and HTTP server are untouched).
    ///
    /// # Errors
    /// When the listener or the runtime cannot be set up.
    pub fn spawn(listener: std::net::TcpListener, make_service: impl FnOnce() -> Result<ExecutionGrpc, String> + Send + 'static) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).thread_name("maxx-grpc").enable_all().build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new().name("maxx-grpc".into()).spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
                let service = make_service()?;
                let stopping = || {
                    let flag = Arc::clone(&flag);
                    async move {
                        while !flag.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                };
                // Graceful shutdown waits for the clients to hang up; a client that keeps its
                // connection open gets `SHUTDOWN_GRACE`, then the server stops regardless.
                let serving = serve(listener, service, stopping());
                tokio::pin!(serving);
                let forced = async {
                    stopping().await;
                    tokio::time::sleep(SHUTDOWN_GRACE).await;
                };
                tokio::select! {
                    served = &mut serving => served.map_err(|e| e.to_string()),
                    () = forced => {
                        tracing::warn!(grace = ?SHUTDOWN_GRACE, "gRPC clients still connected at shutdown: closed");
                        Ok(())
                    }
                }
            })
        })?;
        tracing::info!(grpc = %address, "gRPC ExecutionService listening");
        Ok(Self { address, stop, thread: Some(thread) })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops the server and waits for it.
    ///
    /// # Errors
    /// What the server failed with.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| "the gRPC server thread panicked".to_owned())?,
            None => Ok(()),
        }
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
