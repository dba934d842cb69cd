//! The service shell every agent process has around its pure logic (spec §3, §5, §6): the
//! HTTP control plane, the configuration file with hot reload, structured logs, Prometheus
//! metrics and OpenTelemetry traces. Built once, used by all eight agents.

pub mod agents;
pub mod auth;
pub mod commands;
pub mod config;
pub mod exposition;
pub mod grpc;
pub mod health;
pub mod http;
pub mod logs;
pub mod metrics;
pub mod process;
pub mod reload;
pub mod routes;
pub mod run;
mod server;
pub mod source;
pub mod telemetry;

pub use run::{AgentService, ServiceError};
