//! Shared support of the source agents' process tests: topics applied by `maxx topology
//! apply`, a `maxx agent market_data|sentiment` child process with its HTTP endpoints, and
//! SIGTERM.

#![allow(dead_code)] // each test file uses a part of this module

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use maxx_service::exposition::{self, Family};
use serde_json::Value;

/// The bearer token the test processes accept.
pub const TOKEN: &str = "source-test-token-0123456789abcdef";

/// A namespace with every topic of `topology/topics.yaml`, made by `maxx topology apply`.
pub fn apply_topology(test: &str) -> String {
    let namespace = format!("{}.", maxx_testkit::unique_name(test));
    let applied = Command::new(env!("CARGO_BIN_EXE_maxx"))
        .args(["topology", "apply", "--replication", "1"])
        .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
        .env("MAXX_NAMESPACE", &namespace)
        .output()
        .expect("maxx topology apply");
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    namespace
}

/// A config file of the test.
pub fn config_file(test: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}.yaml", maxx_testkit::unique_name(test)));
    std::fs::write(&path, text).expect("write the config file");
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// Waits until `done`, polling; fails the test after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A `maxx agent` child process.
pub struct Agent {
    child: Option<Child>,
    pub url: String,
    log: PathBuf,
}

impl Agent {
    /// Starts `maxx agent <args>` in `namespace` with `config`.
    pub fn start(namespace: &str, config: &Path, args: &[&str]) -> Self {
        Self::start_with(namespace, config, args, &[])
    }

    /// [`Agent::start`] with more (or overriding) environment variables.
    pub fn start_with(namespace: &str, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("{}.log", maxx_testkit::unique_name("source-agent")));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_maxx"));
        command.arg("agent").args(args).args(["--http", &format!("127.0.0.1:{port}")]);
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("MAXX") || k.starts_with("OTEL")) {
            command.env_remove(key);
        }
        let child = command
            .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
            .env("MAXX_SCHEMA_REGISTRY", crate::support::registry_url())
            .env("MAXX_NAMESPACE", namespace)
            .env("MAXX_CONFIG", config)
            .env("MAXX_API_TOKEN", TOKEN)
            .env("MAXX_LOG_FORMAT", "json")
            .env("MAXX_LOG", "info")
            .env("OTEL_SDK_DISABLED", "true")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start maxx agent");
        Self { child: Some(child), url: format!("http://127.0.0.1:{port}"), log }
    }

    /// The process's log so far (for failure messages).
    pub fn logs(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(90))).build().new_agent()
    }

    /// `GET path`: status and body; `None` while the server is not up.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut response = Self::agent().get(&format!("{}{path}", self.url)).call().ok()?;
        let status = response.status().as_u16();
        Some((status, response.body_mut().read_to_string().ok()?))
    }

    /// `POST path` with `body` and an optional bearer token: status and body.
    pub fn post(&self, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
        let mut request = Self::agent().post(&format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.send(body).unwrap_or_else(|e| panic!("POST {path}: {e}\n{}", self.logs()));
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap_or_default())
    }

    /// `GET /healthz`: status and JSON body.
    pub fn health(&self) -> Option<(u16, Value)> {
        let (status, body) = self.get("/healthz")?;
        Some((status, serde_json::from_str(&body).ok()?))
    }

    /// Waits until `/healthz` answers.
    pub fn wait_for_health(&self, what: &str, timeout: Duration, mut done: impl FnMut(u16, &Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((status, body)) = self.health() {
                if done(status, &body) {
                    return body;
                }
            }
            assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}; /healthz: {:?}\n{}", self.health(), self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `/metrics`, parsed (empty while the server is not up).
    pub fn metrics(&self) -> Vec<Family> {
        let Some((200, text)) = self.get("/metrics") else { return Vec::new() };
        exposition::parse(&text).unwrap_or_else(|e| panic!("/metrics is not Prometheus text: {e}\n{text}"))
    }

    /// The value of metric `name` whose labels include `labels`.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let families = self.metrics();
        let family = families.iter().find(|f| f.name == name)?;
        family.samples.iter().find(|s| labels.iter().all(|(k, v)| s.label(k) == Some(*v))).map(|s| s.value)
    }

    /// Sends `signal` (e.g. `-HUP`) to the process.
    pub fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("running");
        let sent = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill");
        assert!(sent.success(), "kill {signal}");
    }

    /// The exit status, once the process has exited by itself.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().expect("wait"))
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("no exit within 60 s of SIGTERM\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
