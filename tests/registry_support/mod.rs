//! Support for the registry tests: a real `maxx registry serve` process on a free port,
//! stored in a topic of its own on the test broker, and a raw HTTP helper to see statuses,
//! content types and error bodies as any client would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use maxx_registry::client::RegistryClient;
use serde_json::Value;

/// A running `maxx registry serve`; killed when dropped.
pub struct Registry {
    child: Child,
    url: String,
    topic: String,
}

impl Registry {
    /// Starts a registry on a new storage topic.
    pub fn start() -> Self {
        Self::on_topic(&maxx_testkit::unique_name("maxx-test-schemas"))
    }

    /// Starts a registry on `topic` (another registry's, to share or take over its state).
    pub fn on_topic(topic: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_maxx"))
            .args(["registry", "serve", "--listen", "127.0.0.1:0", "--topic", topic, "--replication-factor", "1"])
            .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
            .env("MAXX_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start maxx registry serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        // The registry prints its address once it has read its topic and bound the port.
        let line = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!("maxx registry serve did not report ready within 90 s: {e}");
            }
        };
        let url = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
        Self { child, url, topic: topic.to_owned() }
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The storage topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// A client of this registry.
    pub fn client(&self) -> RegistryClient {
        RegistryClient::new(&self.url).expect("client")
    }

    /// Kills the process (no graceful shutdown: what survives is what the topic holds).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A raw HTTP request: status, content type, and the body as JSON (`Value::Null` when
    /// it is not JSON).
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String, Value) {
        http(&format!("{}{path}", self.url), method, body)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP request to `url`.
pub fn http(url: &str, method: &str, body: Option<&str>) -> (u16, String, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().into();
    let content_type = "application/vnd.schemaregistry.v1+json";
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        ("POST", body) => agent.post(url).header("Content-Type", content_type).send(body.unwrap_or_default()),
        ("PUT", body) => agent.put(url).header("Content-Type", content_type).send(body.unwrap_or_default()),
        (other, _) => panic!("method {other}"),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let ctype = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = response.body_mut().with_config().limit(16 * 1024 * 1024).read_to_string().unwrap_or_default();
    (status, ctype, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The JSON body of a register, lookup or compatibility request for `schema`.
pub fn schema_body(schema: &str) -> String {
    serde_json::json!({ "schema": schema }).to_string()
}

/// A record schema `maxx.test.<name>` with the given fields (JSON).
pub fn record(name: &str, fields: &str) -> String {
    format!(r#"{{"type":"record","name":"{name}","namespace":"maxx.test","fields":[{fields}]}}"#)
}
