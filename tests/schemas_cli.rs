//! `maxx schemas check|register|list` as a developer and CI run them: the tree passes, a
//! deliberately incompatible version in a scratch copy fails with an explanation, and
//! registering against a running `maxx registry serve` is idempotent and listed.

mod registry_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use registry_support::Registry;
use serde_json::{json, Value};

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn maxx(args: &[&str], registry: Option<&Registry>) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maxx"));
    command.args(args);
    // An unreachable default, so a test never talks to a registry it did not start.
    command.env("MAXX_SCHEMA_REGISTRY", registry.map_or("http://127.0.0.1:9", Registry::url));
    let Output { status, stdout, stderr } = command.output().expect("run maxx");
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    (status.success(), text)
}

/// How many schema versions the tree holds (`schemas/<topic>/v<N>.avsc` files).
fn schema_versions() -> usize {
    std::fs::read_dir(tree())
        .expect("schemas/")
        .filter_map(Result::ok)
        .filter(|topic| topic.path().is_dir())
        .flat_map(|topic| std::fs::read_dir(topic.path()).expect("a topic folder").filter_map(Result::ok))
        .filter(|file| file.file_name().to_string_lossy().ends_with(".avsc"))
        .count()
}

/// A copy of `schemas/` in a fresh temporary directory.
fn scratch_copy() -> PathBuf {
    let dir = std::env::temp_dir().join(maxx_testkit::unique_name("maxx-schemas-scratch"));
    copy_dir(&tree(), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// `ticks` v1 with `edit` applied, written as `ticks/v2.avsc` of `dir`.
fn write_ticks_v2(dir: &Path, edit: impl Fn(&mut Vec<Value>)) {
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("ticks/v1.avsc")).expect("v1")).expect("json");
    edit(schema["fields"].as_array_mut().expect("fields"));
    std::fs::write(dir.join("ticks/v2.avsc"), serde_json::to_string_pretty(&schema).expect("json")).expect("write v2");
}

fn price_as_string(fields: &mut [Value]) {
    let price = fields.iter_mut().find(|f| f["name"] == "price").expect("price");
    price["type"] = json!("string");
}

fn optional_venue_time(fields: &mut Vec<Value>) {
    fields.push(json!({"name": "venue_time", "type": ["null", "long"], "default": null}));
}

#[test]
fn check_passes_on_the_tree() {
    let dir = tree();
    let (ok, out) = maxx(&["schemas", "check", "--offline", "--dir", dir.to_str().expect("utf-8")], None);
    assert!(ok, "{out}");
    let (subjects, versions) = (maxx_events::catalog().len(), schema_versions());
    assert!(out.starts_with(&format!("ok: {versions} schema versions of {subjects} subjects")), "{out}");
}

#[test]
fn check_fails_on_an_incompatible_version_in_a_scratch_copy_and_says_why() {
    let dir = scratch_copy();
    write_ticks_v2(&dir, |fields| price_as_string(fields));
    let (ok, out) = maxx(&["schemas", "check", "--offline", "--dir", dir.to_str().expect("utf-8")], None);
    assert!(!ok, "an incompatible schema must fail the check:\n{out}");
    for needle in ["ticks/v2.avsc", "ticks-value", "Tick.price", "type change", "BACKWARD_TRANSITIVE", "could not read records written with version 1", "1 problem"] {
        assert!(out.contains(needle), "{needle:?} missing in:\n{out}");
    }
    // The same copy with a compatible v2 passes.
    write_ticks_v2(&dir, optional_venue_time);
    let (ok, out) = maxx(&["schemas", "check", "--offline", "--dir", dir.to_str().expect("utf-8")], None);
    assert!(ok, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_without_a_registry_says_how_to_check_offline() {
    let (ok, out) = maxx(&["schemas", "check", "--dir", tree().to_str().expect("utf-8")], None);
    assert!(!ok);
    assert!(out.contains("cannot reach the schema registry") && out.contains("--offline"), "{out}");
}

#[test]
fn register_is_idempotent_and_list_and_live_check_agree_with_it() {
    let registry = Registry::start();
    let dir = tree();
    let dir = dir.to_str().expect("utf-8");
    let (ok, out) = maxx(&["schemas", "register", "--dir", dir], Some(&registry));
    assert!(ok, "{out}");
    let (subjects, versions) = (maxx_events::catalog().len(), schema_versions());
    assert_eq!(out.lines().filter(|l| l.starts_with("registered")).count(), versions, "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("level")).count(), subjects, "{out}");
    let (ok, again) = maxx(&["schemas", "register", "--dir", dir], Some(&registry));
    assert!(ok, "{again}");
    assert_eq!(again.lines().filter(|l| l.starts_with("unchanged")).count(), versions, "{again}");
    assert!(!again.contains("registered") && !again.contains("level "), "nothing changes the second time:\n{again}");
    assert_eq!(registry.http("GET", "/config/ticks-value", None).2, json!({"compatibilityLevel": "BACKWARD_TRANSITIVE"}));

    let (ok, list) = maxx(&["schemas", "list"], Some(&registry));
    assert!(ok, "{list}");
    for entry in maxx_events::catalog() {
        let line = list.lines().find(|l| l.starts_with(&format!("{}-value ", entry.topic))).unwrap_or_else(|| panic!("{} not listed:\n{list}", entry.topic));
        // Every version, oldest first: "... 1:<id> 2:<id>".
        let ids: Vec<String> = (1..=entry.version)
            .map(|v| format!("{v}:{}", registry.client().version(&format!("{}-value", entry.topic), &v.to_string()).expect("version").id))
            .collect();
        assert!(line.contains("BACKWARD_TRANSITIVE") && line.ends_with(&format!(" {}", ids.join(" "))), "{line}");
    }

    let (ok, out) = maxx(&["schemas", "check", "--dir", dir], Some(&registry));
    assert!(ok, "{out}");
    // A scratch copy with an incompatible v2 fails the live check too; a compatible one
    // passes and registers as version 2.
    let scratch = scratch_copy();
    let scratch_dir = scratch.to_str().expect("utf-8");
    write_ticks_v2(&scratch, |fields| price_as_string(fields));
    let (ok, out) = maxx(&["schemas", "check", "--dir", scratch_dir], Some(&registry));
    assert!(!ok && out.contains("Tick.price") && out.contains("registered version 1 of ticks-value"), "{out}");
    let (ok, out) = maxx(&["schemas", "register", "--dir", scratch_dir], Some(&registry));
    assert!(!ok && out.contains("REFUSED") && out.contains("409"), "{out}");
    write_ticks_v2(&scratch, optional_venue_time);
    let (ok, out) = maxx(&["schemas", "check", "--dir", scratch_dir], Some(&registry));
    assert!(ok, "{out}");
    let (ok, out) = maxx(&["schemas", "register", "--dir", scratch_dir], Some(&registry));
    assert!(ok && out.contains("registered  ticks-value version 2"), "{out}");
    assert_eq!(registry.http("GET", "/subjects/ticks-value/versions", None).2, json!([1, 2]));
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn setup_creates_the_topics_and_registers_every_schema_and_can_run_again() {
    let registry = Registry::start();
    let namespace = format!("{}.", maxx_testkit::unique_name("setup"));
    let tree = tree();
    let dir = tree.to_str().expect("utf-8 path");
    let setup = |registry: &Registry| {
        let output = Command::new(env!("CARGO_BIN_EXE_maxx"))
            .args(["setup", "--replication", "1", "--dir", dir])
            .env("MAXX_SCHEMA_REGISTRY", registry.url())
            .env("MAXX_NAMESPACE", &namespace)
            .output()
            .expect("run maxx setup");
        (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    };
    let (ok, first) = setup(&registry);
    assert!(ok, "{first}");
    assert!(first.contains(&format!("create {namespace}fills")), "{first}");
    let subjects = registry.client().subjects().expect("subjects");
    for entry in maxx_events::catalog() {
        assert!(subjects.contains(&format!("{}-value", entry.topic)), "{} not registered: {subjects:?}", entry.topic);
    }
    let (ok, again) = setup(&registry);
    assert!(ok && again.contains("already matches"), "a second setup changes no topic:\n{again}");
    assert!(!again.contains("registered  "), "and registers nothing new:\n{again}");
}

#[test]
fn probe_exits_zero_only_for_a_2xx_answer() {
    let registry = Registry::start();
    let probe = |url: &str| Command::new(env!("CARGO_BIN_EXE_maxx")).args(["probe", url]).output().expect("run maxx probe").status.success();
    assert!(probe(&format!("{}/subjects", registry.url())));
    assert!(!probe(&format!("{}/no-such-route", registry.url())), "404 is unhealthy");
    assert!(!probe("http://127.0.0.1:9/healthz"), "nothing listening is unhealthy");
}
