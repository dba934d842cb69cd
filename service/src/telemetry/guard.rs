//! [`TelemetryGuard`]: keeps the exporter running while an agent runs, and on drop flushes
//! the spans still queued (bounded by the export timeout) and uninstalls the provider.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::export::{ExportCounts, ExportStats};
use super::TelemetryError;

/// What [`init`](super::init) installed. Keep it alive as long as the agent runs; dropping
/// it flushes the queued spans (waiting at most about the export timeout) and turns
/// tracing off for the process. One at a time: dropping an older guard after a newer
/// [`init`](super::init) turns the newer one's tracing off too (the provider is global).
#[must_use = "dropping the guard turns tracing off again"]
pub struct TelemetryGuard {
    installed: Option<Installed>,
}

struct Installed {
    provider: SdkTracerProvider,
    /// Hosts the gRPC channel's connection tasks; the spans' batch thread is the SDK's.
    runtime: tokio::runtime::Runtime,
    stats: Arc<ExportStats>,
    timeout: Duration,
}

impl std::fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryGuard").field("enabled", &self.is_enabled()).field("counts", &self.export_counts()).finish()
    }
}

impl TelemetryGuard {
    /// The guard of tracing off: nothing installed, nothing to flush.
    pub fn disabled() -> Self {
        Self { installed: None }
    }

    pub(crate) fn installed(provider: SdkTracerProvider, runtime: tokio::runtime::Runtime, stats: Arc<ExportStats>, timeout: Duration) -> Self {
        Self { installed: Some(Installed { provider, runtime, stats, timeout }) }
    }

    /// Whether spans are being exported.
    pub fn is_enabled(&self) -> bool {
        self.installed.is_some()
    }

    /// What the exporter delivered and dropped so far (all zero when disabled). Spans
    /// dropped because the queue was full are not counted here: the queue drops them
    /// before the exporter sees them.
    pub fn export_counts(&self) -> ExportCounts {
        self.installed.as_ref().map(|i| i.stats.counts()).unwrap_or_default()
    }

    /// Exports every span finished so far, waiting for the collector's answer (bounded by
    /// the SDK's flush timeout). Blocks: call it from a thread that may block.
    ///
    /// # Errors
    /// When the export failed or timed out.
    pub fn flush(&self) -> Result<(), TelemetryError> {
        match &self.installed {
            Some(installed) => installed.provider.force_flush().map_err(|e| TelemetryError::Flush(e.to_string())),
            None => Ok(()),
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let Some(installed) = self.installed.take() else { return };
        // New spans go nowhere from now on; the ones queued are exported once more.
        opentelemetry::global::set_tracer_provider(NoopTracerProvider::new());
        if let Err(error) = installed.provider.shutdown_with_timeout(installed.timeout + Duration::from_secs(1)) {
            tracing::debug!(%error, "trace exporter shut down with spans unsent");
        }
        // Not `drop`: that would block, and panic inside another async runtime.
        installed.runtime.shutdown_background();
    }
}
