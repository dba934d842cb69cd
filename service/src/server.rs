//! The HTTP server of an agent process: its own small tokio runtime, SIGHUP reloading the
//! configuration, and a bounded graceful stop. Shared by the consume-transform-produce agents
//! (`run`) and the sources (`source`), which differ only in the work they do meanwhile.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use crate::reload::ConfigStore;
use crate::run::ServiceError;

/// How long open connections (a streaming client) may take to finish once the process stops.
pub(crate) const GRACE: Duration = Duration::from_secs(5);

/// A running HTTP server.
pub(crate) struct Server {
    runtime: tokio::runtime::Runtime,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    finished: Arc<AtomicBool>,
}

impl Server {
    /// Serves `app` on `listener` from threads named `thread_name`; with `reload`, SIGHUP
    /// re-reads that configuration (refusals are logged and kept for `/healthz` by the store).
    pub(crate) fn start(listener: TcpListener, app: Router, thread_name: &str, reload: Option<Arc<ConfigStore>>) -> Result<Self, ServiceError> {
        listener.set_nonblocking(true).map_err(ServiceError::Http)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name(thread_name).enable_all().build().map_err(ServiceError::Http)?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(ServiceError::Http)?
        };
        if let Some(store) = reload {
            let mut hangup = {
                let _entered = runtime.enter();
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).map_err(ServiceError::Signals)?
            };
            runtime.spawn(async move {
                while hangup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading the configuration");
                    let store = Arc::clone(&store);
                    let _ = tokio::task::spawn_blocking(move || store.reload()).await;
                }
            });
        }
        let finished = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&finished);
        let task = runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    while !stop.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                })
                .await
        });
        Ok(Self { runtime, task, finished })
    }

    /// The server's runtime, for work that must run beside it.
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// Stops accepting, gives open connections [`GRACE`] to finish, and cuts the rest.
    pub(crate) fn stop(self) -> Result<(), ServiceError> {
        self.finished.store(true, Ordering::SeqCst);
        let task = self.task;
        let served = match self.runtime.block_on(async { tokio::time::timeout(GRACE, task).await }) {
            Ok(served) => served,
            Err(_) => {
                tracing::warn!("HTTP connections still open after {GRACE:?}: closed");
                Ok(Ok(()))
            }
        };
        self.runtime.shutdown_timeout(Duration::from_secs(5));
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServiceError::Http(e)),
            Err(join) => Err(ServiceError::Http(std::io::Error::other(join.to_string()))),
        }
    }
}
