//! The exporter as the batch thread sees it: the OTLP/gRPC span exporter, counting what
//! it delivered and what it could not, and warning (at most once a minute) when the
//! collector is unreachable — spans that could not be delivered are dropped, never retried
//! past the exporter's own short retry budget.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// Least time between two warnings about failed exports.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Counters of the exporter, shared with the [`TelemetryGuard`](super::TelemetryGuard).
#[derive(Debug, Default)]
pub(crate) struct ExportStats {
    exported_spans: AtomicU64,
    failed_spans: AtomicU64,
    failed_exports: AtomicU64,
}

/// What the exporter has done so far (for metrics and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// Spans the collector accepted.
    pub exported_spans: u64,
    /// Spans dropped because an export failed (collector down, timeout...).
    pub failed_spans: u64,
    /// Exports that failed.
    pub failed_exports: u64,
}

impl ExportStats {
    pub(crate) fn counts(&self) -> ExportCounts {
        ExportCounts {
            exported_spans: self.exported_spans.load(Ordering::Relaxed),
            failed_spans: self.failed_spans.load(Ordering::Relaxed),
            failed_exports: self.failed_exports.load(Ordering::Relaxed),
        }
    }
}

/// Wraps a span exporter with [`ExportStats`] and rate-limited warnings.
#[derive(Debug)]
pub(crate) struct CountingExporter<E> {
    inner: E,
    stats: Arc<ExportStats>,
    endpoint: String,
    last_warning: Mutex<Option<Instant>>,
}

impl<E> CountingExporter<E> {
    pub(crate) fn new(inner: E, stats: Arc<ExportStats>, endpoint: &str) -> Self {
        Self { inner, stats, endpoint: endpoint.to_owned(), last_warning: Mutex::new(None) }
    }

    fn failed(&self, spans: u64, error: &dyn std::fmt::Display) {
        self.stats.failed_spans.fetch_add(spans, Ordering::Relaxed);
        let exports = self.stats.failed_exports.fetch_add(1, Ordering::Relaxed) + 1;
        let Ok(mut last) = self.last_warning.lock() else { return };
        if last.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(endpoint = %self.endpoint, %error, spans, failed_exports = exports, "trace export failed; its spans are dropped");
        }
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => {
                self.stats.exported_spans.fetch_add(spans, Ordering::Relaxed);
            }
            Err(error) => self.failed(spans, error),
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
