//! `maxx agent sentiment` as a process on a real broker: `POST /news` with a mixed batch
//! (good, malformed and symbol-less items, a line that is no document) answers one outcome
//! per item and publishes the good ones' scores to `sentiment_scores` exactly once — posting
//! the batch again, even after a restart, publishes nothing more; without a token it is 401
//! and nothing is published. `POST /score` explains a text's score, `GET /stream` delivers
//! the published scores as server-sent events, `/metrics` counts items by outcome.

mod source_support;
mod support;

use std::collections::BTreeSet;
use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;

use maxx_events::{FixedPoint, SentimentScore};
use serde_json::Value;
use source_support::{apply_topology, config_file, wait_until, Agent, TOKEN};

/// Two documents as JSON Lines — a newsapi page (two good articles, one without its
/// publication time, one about nothing the scorer follows) and a twitter page — and a line
/// that is no document at all.
fn batch() -> String {
    let newsapi = serde_json::json!({
        "status": "ok",
        "articles": [
            { "source": { "name": "Wire" }, "title": "Bitcoin rallies as ETF approval nears", "description": "Inflows hit a record.", "url": "https://news.example/btc-rally", "publishedAt": "2026-11-25T10:00:00Z" },
            { "source": { "name": "Wire" }, "title": "Ethereum plunges on profit warning", "url": "https://news.example/eth-plunge", "publishedAt": "2026-11-25T10:01:00Z" },
            { "source": { "name": "Wire" }, "title": "Bitcoin miners expand", "url": "https://news.example/no-time" },
            { "source": { "name": "Wire" }, "title": "Local bakery wins award", "url": "https://news.example/bakery", "publishedAt": "2026-11-25T10:02:00Z" }
        ]
    });
    let twitter = serde_json::json!({ "data": [ { "id": "1990000000000000001", "text": "Bitcoin and $ETH surge to record highs", "created_at": "2026-11-25T10:03:00.000Z", "author_id": "42" } ] });
    format!("{newsapi}\n{twitter}\nthis line is not news\n")
}

fn scores(namespace: &str, expected: usize) -> Vec<SentimentScore> {
    let read = support::read_committed(namespace, "sentiment_scores", expected, Duration::from_secs(60));
    support::decode("sentiment_scores", &read).into_iter().map(|e| SentimentScore::try_from(e).expect("only scores")).collect()
}

fn outcome<'a>(answer: &'a Value, id: &str) -> &'a Value {
    answer["items"].as_array().and_then(|items| items.iter().find(|i| i["id"] == id)).unwrap_or_else(|| panic!("no outcome for {id}: {answer}"))
}

/// Reads `GET /stream` on a thread; sends each event's name and data (the first is `ready`).
fn listen(url: String) -> mpsc::Receiver<(String, Value)> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(120))).build().into();
        let Ok(response) = agent.get(&format!("{url}/stream")).call() else { return };
        let reader = std::io::BufReader::new(response.into_body().into_reader());
        let mut event = String::new();
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim().to_owned();
            } else if let Some(data) = line.strip_prefix("data:") {
                let value = serde_json::from_str(data.trim()).unwrap_or_else(|_| Value::String(data.trim().to_owned()));
                if sender.send((event.clone(), value)).is_err() {
                    return;
                }
            }
        }
    });
    receiver
}

#[test]
fn posted_news_is_scored_and_published_exactly_once() {
    let namespace = apply_topology("sentiment-process");
    let config = config_file("sentiment-process", "market_data:\n  feeds: [binance]\n");
    let agent = Agent::start(&namespace, &config, &["sentiment"]);
    agent.wait_for_health("sentiment healthy", Duration::from_secs(90), |status, body| status == 200 && body["state"] == "RUNNING");

    let (status, body) = agent.post("/news", &batch(), None);
    assert_eq!(status, 401, "{body}");
    let (status, body) = agent.post("/news", &batch(), Some("not-the-token"));
    assert_eq!(status, 401, "{body}");

    let stream = listen(agent.url.clone());
    let (first, _) = stream.recv_timeout(Duration::from_secs(30)).expect("the stream opens");
    assert_eq!(first, "ready", "subscribed before the news is posted");

    let (status, body) = agent.post("/news", &batch(), Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    let btc = outcome(&answer, "https://news.example/btc-rally");
    assert_eq!((btc["outcome"].as_str(), btc["symbols"].clone()), (Some("scored"), serde_json::json!(["BTCUSD"])), "{answer}");
    assert!(btc["score"].as_str().and_then(|s| s.parse::<f64>().ok()).is_some_and(|s| s > 0.0), "good news scores above 0: {btc}");
    let eth = outcome(&answer, "https://news.example/eth-plunge");
    assert_eq!(eth["outcome"], "scored");
    assert!(eth["score"].as_str().and_then(|s| s.parse::<f64>().ok()).is_some_and(|s| s < 0.0), "bad news scores below 0: {eth}");
    assert_eq!(outcome(&answer, "https://news.example/bakery")["outcome"], "no_symbol");
    let tweet = outcome(&answer, "1990000000000000001");
    assert_eq!((tweet["outcome"].as_str(), tweet["symbols"].clone()), (Some("scored"), serde_json::json!(["BTCUSD", "ETHUSD"])), "{answer}");
    let refused: Vec<&Value> = answer["items"].as_array().expect("items").iter().filter(|i| i["outcome"] == "refused").collect();
    assert_eq!(refused.len(), 2, "the article without publishedAt and the bad line: {answer}");
    assert!(refused.iter().any(|r| r["reason"].as_str().is_some_and(|s| s.contains("publishedAt"))), "{answer}");
    assert!(refused.iter().any(|r| r["reason"].as_str().is_some_and(|s| s.contains("not a news document"))), "{answer}");
    assert_eq!(answer["totals"]["scored"], 3, "{answer}");

    let published = scores(&namespace, 4);
    assert_eq!(published.len(), 4, "BTC, ETH, and the tweet's two symbols");
    let answered: BTreeSet<String> = [btc, eth, tweet].iter().flat_map(|o| o["event_ids"].as_array().expect("event ids").iter().map(|v| v.as_str().expect("id").to_owned())).collect();
    let ids: BTreeSet<String> = published.iter().map(|s| s.event_id.to_string()).collect();
    assert_eq!(ids, answered, "the answer names exactly the published scores");
    assert!(published.iter().all(|s| s.producer.agent == "sentiment" && s.score != FixedPoint::ZERO));

    let (event, streamed) = stream.recv_timeout(Duration::from_secs(30)).expect("a score on /stream");
    assert_eq!(event, "score", "{streamed}");
    assert!(ids.contains(streamed["event_id"].as_str().unwrap_or_default()), "{streamed}");

    // The same batch again: nothing new.
    let (status, body) = agent.post("/news", &batch(), Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    let again: Value = serde_json::from_str(&body).expect("JSON");
    for id in ["https://news.example/btc-rally", "https://news.example/eth-plunge", "1990000000000000001", "https://news.example/bakery"] {
        assert_eq!(outcome(&again, id)["outcome"], "duplicate", "{again}");
    }
    assert_eq!(scores(&namespace, 4).len(), 4, "nothing published twice");

    let (status, body) = agent.post("/score", r#"{"text": "Bitcoin surges to a record high"}"#, None);
    assert_eq!(status, 200, "/score is open: {body}");
    let scored: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(scored["symbols"], serde_json::json!(["BTCUSD"]), "{scored}");
    assert!(scored["score"].as_str().and_then(|s| s.parse::<f64>().ok()).is_some_and(|s| s > 0.0), "{scored}");
    assert!(scored["hits"].as_array().is_some_and(|h| h.iter().any(|hit| hit["term"].as_str().is_some_and(|t| t.contains("surge")))), "{scored}");
    let (status, _) = agent.post("/score", "{\"txt\": 1}", None);
    assert_eq!(status, 400);

    wait_until("items counted on /metrics", Duration::from_secs(10), || agent.metric("maxx_sentiment_items_total", &[("outcome", "duplicate")]) == Some(4.0));
    assert_eq!(agent.metric("maxx_sentiment_items_total", &[("outcome", "scored")]), Some(3.0));
    assert_eq!(agent.metric("maxx_sentiment_items_total", &[("outcome", "refused")]), Some(4.0));
    assert_eq!(agent.metric("maxx_sentiment_scores_total", &[]), Some(4.0));
    assert!(agent.metric("maxx_sentiment_items_per_second", &[]).is_some_and(|rate| rate > 0.0));
    assert_eq!(agent.metric("maxx_events_out_total", &[("topic", "sentiment_scores")]), Some(4.0));
    assert!(agent.terminate().success(), "SIGTERM exits 0");

    // A restart remembers what was published (state.sentiment).
    let restarted = Agent::start(&namespace, &config, &["sentiment"]);
    restarted.wait_for_health("the restart healthy", Duration::from_secs(90), |status, _| status == 200);
    let (status, body) = restarted.post("/news", &batch(), Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    let after_restart: Value = serde_json::from_str(&body).expect("JSON");
    for id in ["https://news.example/btc-rally", "https://news.example/eth-plunge", "1990000000000000001"] {
        assert_eq!(outcome(&after_restart, id)["outcome"], "duplicate", "{after_restart}");
    }
    assert!(restarted.terminate().success());
    assert_eq!(scores(&namespace, 4).len(), 4, "nothing published twice across the restart");
}

fn tweet(id: &str, text: &str) -> String {
    serde_json::json!({ "data": [ { "id": id, "text": text, "created_at": "2026-11-25T11:00:00.000Z" } ] }).to_string()
}

fn article(url: &str, title: &str) -> String {
    serde_json::json!({ "status": "ok", "articles": [ { "title": title, "url": url, "publishedAt": "2026-11-25T11:00:00Z" } ] }).to_string()
}

#[test]
fn a_reloaded_configuration_applies_to_the_next_items_and_a_bad_one_is_refused() {
    let namespace = apply_topology("sentiment-reload");
    let before = "market_data:\n  feeds: [binance]\nsentiment:\n  news_apis: [newsapi.org]\n  symbols:\n    BTCUSD: [bitcoin]\n";
    let config = config_file("sentiment-reload", before);
    let agent = Agent::start(&namespace, &config, &["sentiment"]);
    agent.wait_for_health("sentiment healthy", Duration::from_secs(90), |status, _| status == 200);

    let (_, body) = agent.post("/news", &article("https://news.example/doge-1", "Dogecoin soars on upgrade"), Some(TOKEN));
    assert_eq!(outcome(&serde_json::from_str(&body).expect("JSON"), "https://news.example/doge-1")["outcome"], "no_symbol", "{body}");
    let (_, body) = agent.post("/news", &tweet("77", "Bitcoin soars"), Some(TOKEN));
    assert_eq!(outcome(&serde_json::from_str(&body).expect("JSON"), "77")["outcome"], "source_off", "{body}");

    std::fs::write(&config, "market_data:\n  feeds: [binance]\nsentiment:\n  news_apis: [newsapi.org, twitter]\n  symbols:\n    BTCUSD: [bitcoin]\n    DOGEUSD: [dogecoin]\n").expect("rewrite");
    let (status, body) = agent.post("/reload", "", None);
    assert_eq!(status, 401, "reload needs the token: {body}");
    let (status, body) = agent.post("/reload", "", Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    let (_, body) = agent.post("/news", &article("https://news.example/doge-2", "Dogecoin soars on upgrade"), Some(TOKEN));
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(outcome(&answer, "https://news.example/doge-2")["symbols"], serde_json::json!(["DOGEUSD"]), "{answer}");
    let (_, body) = agent.post("/news", &tweet("78", "Bitcoin soars"), Some(TOKEN));
    assert_eq!(outcome(&serde_json::from_str(&body).expect("JSON"), "78")["outcome"], "scored", "twitter accepted now: {body}");
    let (_, body) = agent.post("/score", "Dogecoin soars", None);
    assert_eq!(serde_json::from_str::<Value>(&body).expect("JSON")["symbols"], serde_json::json!(["DOGEUSD"]), "{body}");

    std::fs::write(&config, "market_data:\n  feeds: [binance]\nsentiment:\n  news_apis: [carrier-pigeon]\n").expect("rewrite");
    let (status, body) = agent.post("/reload", "", Some(TOKEN));
    assert_eq!(status, 422, "{body}");
    let refused = agent.wait_for_health("/healthz to report the refused reload", Duration::from_secs(10), |status, _| status == 500);
    assert!(refused["reason"].as_str().is_some_and(|r| r.contains("reload refused") && r.contains("news_apis")), "{refused}");
    let (_, body) = agent.post("/news", &article("https://news.example/doge-3", "Dogecoin slumps after hack"), Some(TOKEN));
    assert_eq!(outcome(&serde_json::from_str(&body).expect("JSON"), "https://news.example/doge-3")["outcome"], "scored", "the previous configuration stays: {body}");
    assert_eq!(agent.metric("maxx_config_generation", &[]), Some(1.0));

    // SIGHUP reloads too: a valid file again, healthy again.
    std::fs::write(&config, before).expect("rewrite");
    agent.signal("-HUP");
    let healthy = agent.wait_for_health("/healthz 200 after SIGHUP", Duration::from_secs(30), |status, _| status == 200);
    assert_eq!(healthy["config_generation"], 2, "{healthy}");
    let (_, body) = agent.post("/news", &article("https://news.example/doge-4", "Dogecoin soars again"), Some(TOKEN));
    assert_eq!(outcome(&serde_json::from_str(&body).expect("JSON"), "https://news.example/doge-4")["outcome"], "no_symbol", "the first file's symbols again: {body}");
    assert!(agent.terminate().success());
    assert_eq!(scores(&namespace, 3).len(), 3, "doge-2, the tweet, doge-3");
}

#[test]
fn a_news_file_and_the_synthetic_feed_are_published() {
    let namespace = apply_topology("sentiment-file");
    let config = config_file("sentiment-file", "market_data:\n  feeds: [binance]\n");
    let file = std::env::temp_dir().join(format!("{}.jsonl", maxx_testkit::unique_name("news")));
    std::fs::write(&file, batch()).expect("write the news file");
    let agent = Agent::start(&namespace, &config, &["sentiment", "--news-file", file.to_str().expect("path"), "--synthetic"]);
    wait_until("the file's scores and two synthetic ones", Duration::from_secs(90), || agent.metric("maxx_sentiment_scores_total", &[]).is_some_and(|n| n >= 6.0));
    assert_eq!(agent.metric("maxx_sentiment_items_total", &[("outcome", "refused")]), Some(2.0), "the file's two bad items");
    assert!(agent.terminate().success());
    let published = scores(&namespace, 6);
    let from_file: Vec<&SentimentScore> = published.iter().filter(|s| !s.item_id.contains("synthetic")).collect();
    assert_eq!(from_file.len(), 4, "the file's good items, once: {from_file:?}");
    assert!(published.iter().filter(|s| s.item_id.contains("synthetic")).count() >= 2);
    let ids: BTreeSet<_> = published.iter().map(|s| s.event_id).collect();
    assert_eq!(ids.len(), published.len());
}
