//! A real OTLP/gRPC trace receiver for tests: the OpenTelemetry collector's `TraceService`
//! served by tonic on a loopback port, keeping every span it receives so a test can look
//! at trace ids, parents, names and attributes exactly as an exporter sent them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

/// One span as the receiver got it; ids in lower-case hex, as in a `traceparent`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The parent's span id; `None` for a root.
    pub parent_span_id: Option<String>,
    /// The span name.
    pub name: String,
    /// The span kind as OTLP numbers it (1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub kind: i32,
    /// Whether its status is an error.
    pub error: bool,
    /// Its attributes, values rendered as text.
    pub attributes: BTreeMap<String, String>,
    /// The resource's attributes (`service.name`...), values rendered as text.
    pub resource: BTreeMap<String, String>,
    /// The spans it links to, as (trace id, span id).
    pub links: Vec<(String, String)>,
}

impl ReceivedSpan {
    /// The attribute `key`, if present.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

#[derive(Default)]
struct Received {
    spans: Mutex<Vec<ReceivedSpan>>,
    arrived: Condvar,
}

struct Collector {
    received: Arc<Received>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(&self, request: tonic::Request<ExportTraceServiceRequest>) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let resource = resource_spans.resource.map(|r| attributes(&r.attributes)).unwrap_or_default();
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    spans.push(ReceivedSpan {
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: (!span.parent_span_id.is_empty()).then(|| hex(&span.parent_span_id)),
                        name: span.name,
                        kind: span.kind,
                        // Status code 2 is STATUS_CODE_ERROR.
                        error: span.status.is_some_and(|s| s.code == 2),
                        attributes: attributes(&span.attributes),
                        resource: resource.clone(),
                        links: span.links.iter().map(|l| (hex(&l.trace_id), hex(&l.span_id))).collect(),
                    });
                }
            }
        }
        let mut all = self.received.spans.lock().map_err(|_| tonic::Status::internal("poisoned"))?;
        all.extend(spans);
        self.received.arrived.notify_all();
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map(text).unwrap_or_default())).collect()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// The receiver: serving on `127.0.0.1:<free port>` from a thread of its own until dropped.
pub struct OtlpReceiver {
    address: SocketAddr,
    received: Arc<Received>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpReceiver").field("address", &self.address).finish()
    }
}

impl OtlpReceiver {
    /// Starts serving; returns once the port is bound.
    ///
    /// # Panics
    /// When no loopback port can be bound or the server thread cannot start (a test cannot
    /// go on without its receiver).
    pub fn start() -> Self {
        let received = Arc::new(Received::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, address) = std::sync::mpsc::channel();
        let collector = Collector { received: Arc::clone(&received) };
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("receiver runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
                    bound.send(listener.local_addr().expect("address")).expect("report the address");
                    let incoming = tonic::transport::server::TcpIncoming::from(listener);
                    tonic::transport::Server::builder()
                        .add_service(TraceServiceServer::new(collector))
                        .serve_with_incoming_shutdown(incoming, async {
                            let _ = stopped.await;
                        })
                        .await
                        .expect("serve OTLP");
                });
            })
            .expect("start the receiver thread");
        let address = address.recv_timeout(Duration::from_secs(30)).expect("the receiver bound a port");
        Self { address, received, stop: Some(stop), thread: Some(thread) }
    }

    /// The endpoint to give an OTLP/gRPC exporter: `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits (woken by each export, not polling) until `done` holds for the spans received,
    /// and returns them; or returns what arrived when `timeout` is over.
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&[ReceivedSpan]) -> bool) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        let Ok(mut spans) = self.received.spans.lock() else { return Vec::new() };
        loop {
            let now = Instant::now();
            if done(&spans) || now >= deadline {
                return spans.clone();
            }
            match self.received.arrived.wait_timeout(spans, deadline - now) {
                Ok((guard, _)) => spans = guard,
                Err(_) => return Vec::new(),
            }
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
