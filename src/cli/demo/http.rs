//! The demo's HTTP endpoints, served from the latest [`Tally`] while the market runs:
//! `/healthz`, `/now`, `/pnl`, `/risk/state`, `/signal/{symbol}`, `/summary`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::engine::Tally;
use super::report;

/// What the handlers read: the latest tally, whether the market still runs, and the seed.
#[derive(Clone)]
pub struct Shared {
    /// Replaced by the demo loop as the market moves.
    pub tally: Arc<Mutex<Tally>>,
    /// Cleared when the demo ends.
    pub running: Arc<AtomicBool>,
    /// For `/summary`.
    pub seed: u64,
}

impl Shared {
    fn read<T>(&self, f: impl FnOnce(&Tally) -> T) -> T {
        f(&self.tally.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

async fn healthz(State(shared): State<Shared>) -> Json<serde_json::Value> {
    let running = shared.running.load(Ordering::SeqCst);
    Json(shared.read(|t| report::status_json(t, running)))
}

async fn pnl(State(shared): State<Shared>) -> Json<serde_json::Value> {
    Json(shared.read(report::pnl_json))
}

async fn risk(State(shared): State<Shared>) -> Json<serde_json::Value> {
    Json(shared.read(report::risk_json))
}

async fn signal(State(shared): State<Shared>, Path(symbol): Path<String>) -> Response {
    match shared.read(|t| report::signal_json(t, &symbol)) {
        Some(signal) => Json(signal).into_response(),
        None => (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": format!("no signal for {symbol} yet")}))).into_response(),
    }
}

async fn summary(State(shared): State<Shared>) -> String {
    let seed = shared.seed;
    shared.read(|t| report::summary(t, seed))
}

/// A server on `address` in a thread of its own; returns the bound address. It stops when
/// `stop` is set.
///
/// # Errors
/// When the address cannot be bound.
pub fn serve(address: SocketAddr, shared: Shared, stop: Arc<AtomicBool>) -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(address).with_context(|| format!("listening on {address} (--http)"))?;
    let bound = listener.local_addr().context("the bound address")?;
    listener.set_nonblocking(true).context("a non-blocking listener")?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/now", get(healthz))
        .route("/pnl", get(pnl))
        .route("/risk/state", get(risk))
        .route("/signal/{symbol}", get(signal))
        .route("/summary", get(summary))
        .with_state(shared);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("the HTTP runtime")?;
    std::thread::Builder::new()
        .name("maxx-demo-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        while !stop.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    })
                    .await;
            });
        })
        .context("the HTTP thread")?;
    Ok(bound)
}
