//! OpenTelemetry traces of an agent process: spans for consuming, handling and committing
//! events, exported over OTLP/gRPC and joined across agents by the W3C `traceparent` header
//! on Kafka messages, so one tick → signal → order → fill → pnl chain is one trace.
//!
//! The spans themselves are made by the Kafka runtime (`maxx_runtime::kafka::trace` says
//! which spans, their attributes and how they are parented) on OpenTelemetry's global
//! tracer provider. This module installs that provider: [`init`] before starting the
//! runtime, keep the returned [`TelemetryGuard`] for as long as the agent runs.
//!
//! ```no_run
//! use maxx_service::telemetry::{self, TelemetryConfig};
//!
//! # fn main() -> Result<(), telemetry::TelemetryError> {
//! // Defaults overridden by OTEL_* variables; `maxx agent` may map its flags onto fields.
//! let config = TelemetryConfig::from_env("maxx-alpha")?.with_instance("alpha-0");
//! let guard = telemetry::init(&config)?;
//! // ... build the KafkaRuntime and run the agent (spans are made from here on) ...
//! drop(guard); // flushes what is queued, bounded by the export timeout
//! # Ok(())
//! # }
//! ```
//!
//! Never in the agent's way: a finished span is handed to a bounded queue without waiting
//! (dropped when the queue is full); a thread of the SDK exports batches from it, over a
//! gRPC channel that lives on a small runtime of its own (one thread), with a short timeout
//! and a few retries. A collector that is down or slow costs dropped spans and a warning a
//! minute, not latency. Tracing off ([`TelemetryConfig::enabled`] false, or
//! `OTEL_SDK_DISABLED=true`) installs nothing: spans are no-ops and outputs carry their
//! input's `traceparent` unchanged.
//!
//! The provider is process-wide: agents run in one process share it (their spans differ by
//! the `maxx.agent` attribute).

mod config;
mod export;
mod guard;

pub use config::{TelemetryConfig, DEFAULT_ENDPOINT};
pub use export::ExportCounts;
pub use guard::TelemetryGuard;

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use export::{CountingExporter, ExportStats};

/// Why tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A configuration value is wrong.
    #[error("tracing configuration: {0}")]
    Config(String),
    /// The exporter or its runtime could not be started.
    #[error("cannot start the trace exporter: {0}")]
    Start(String),
    /// A flush did not complete.
    #[error("flushing traces: {0}")]
    Flush(String),
}

impl TelemetryConfig {
    /// Sets the `service.instance.id` resource attribute (e.g. `alpha-0`).
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.service_instance = Some(instance.into());
        self
    }
}

/// Installs the process's tracer provider as `config` says, exporting over OTLP/gRPC.
/// With tracing off, installs nothing and returns [`TelemetryGuard::disabled`].
///
/// Does not connect: the collector need not be up (now or ever). Call it before the Kafka
/// runtime starts (the runtime takes its tracer when an instance starts), from any thread,
/// inside or outside an async runtime.
///
/// # Errors
/// When the configuration is invalid or the exporter's thread cannot be started.
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    if !config.enabled {
        return Ok(TelemetryGuard::disabled());
    }
    config.validate()?;
    // tonic's channel spawns its connection tasks on the runtime it is built in, so it gets
    // one of its own: independent of whatever runtime (if any) the caller has.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("maxx-otlp")
        .enable_all()
        .build()
        .map_err(|e| TelemetryError::Start(format!("exporter runtime: {e}")))?;
    let exporter = {
        let _inside = runtime.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(config.endpoint.clone())
            .with_timeout(config.export_timeout)
            .build()
            .map_err(|e| TelemetryError::Start(e.to_string()))?
    };
    let stats = Arc::new(ExportStats::default());
    let batching = BatchConfigBuilder::default()
        .with_max_queue_size(config.max_queue_size)
        .with_max_export_batch_size(config.max_export_batch_size.min(config.max_queue_size))
        .with_scheduled_delay(config.scheduled_delay)
        .build();
    let processor = BatchSpanProcessor::builder(CountingExporter::new(exporter, Arc::clone(&stats), &config.endpoint))
        .with_batch_config(batching)
        .build();
    let mut resource = Resource::builder().with_service_name(config.service_name.clone());
    if let Some(instance) = &config.service_instance {
        resource = resource.with_attribute(KeyValue::new("service.instance.id", instance.clone()));
    }
    let provider = SdkTracerProvider::builder().with_span_processor(processor).with_resource(resource.build()).build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    tracing::info!(endpoint = %config.endpoint, service = %config.service_name, "exporting traces over OTLP/gRPC");
    Ok(TelemetryGuard::installed(provider, runtime, stats, config.export_timeout))
}
