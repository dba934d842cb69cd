//! `maxx demo` as a newcomer runs it: it runs to completion, the same seed and duration give
//! the same summary twice, another seed another market, and the HTTP endpoints answer while
//! it runs, and Ctrl-C ends it with the summary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn demo(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_maxx")).arg("demo").args(args).output().expect("run maxx demo");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8 summary")
}

#[test]
fn the_same_seed_and_duration_give_the_same_summary() {
    let first = demo(&["--duration", "10s", "--seed", "1", "--speed", "0", "--no-http"]);
    let second = demo(&["--duration", "10s", "--seed", "1", "--speed", "0", "--no-http"]);
    assert_eq!(first, second);
    assert!(first.starts_with("MAXX demo summary — seed 1, market time 2026-01-01T00:00:00.000000Z → 2026-01-01T00:00:10.000000Z"), "{first}");
    assert!(first.contains("ticks 101 ·"), "10 s of 100 ms ticks, both ends included:\n{first}");
    let other = demo(&["--duration", "10s", "--seed", "2", "--speed", "0", "--no-http"]);
    assert_ne!(first, other, "another seed, another market");
}

#[test]
fn a_longer_run_trades_and_keeps_the_books_balanced() {
    let summary = demo(&["--duration", "10m", "--seed", "3", "--speed", "0", "--no-http"]);
    let count = |name: &str| -> u64 {
        let at = summary.find(&format!("{name} ")).unwrap_or_else(|| panic!("no {name} in {summary}"));
        summary[at + name.len() + 1..].split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok()).expect("a count")
    };
    assert!(count("ticks") > 5_000 && count("signals") > 0 && count("orders") > 0 && count("fills") > 0, "{summary}");
    assert_eq!(count("dead letters"), 0, "{summary}");
}

#[test]
fn the_http_endpoints_answer_while_it_runs() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_maxx"))
        .args(["demo", "--duration", "20s", "--speed", "1", "--http", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start maxx demo");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("the HTTP line");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("an address").to_owned();
    let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(5))).build().new_agent();
    let get = |path: &str| {
        let mut response = agent.get(&format!("{url}{path}")).call().expect("the demo answers");
        let body: serde_json::Value = serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("json");
        (response.status().as_u16(), body)
    };
    let (status, health) = get("/healthz");
    assert_eq!((status, health["state"].as_str()), (200, Some("RUNNING")), "{health}");
    let (status, _) = get("/pnl");
    assert_eq!(status, 200);
    let (status, missing) = get("/signal/NOPE");
    assert_eq!(status, 404, "{missing}");
    // Ctrl-C ends the run early with the summary and exit 0.
    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
    assert!(interrupted.success());
    let output = child.wait_with_output().expect("the demo stops");
    assert!(output.status.success(), "exit {:?}", output.status);
    assert!(String::from_utf8_lossy(&output.stdout).contains("MAXX demo summary — seed 1"), "the summary is printed on Ctrl-C");
}
