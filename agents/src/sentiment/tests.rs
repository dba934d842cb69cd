//! Sentiment tests: the fixtures of each shape parse; malformed items are reported without
//! spoiling their batch; items map to symbols; lexicon scores against hand-computed values
//! (negation, intensifiers, phrases); scores carry deterministic ids and the item's time;
//! duplicates are ignored within the window; scores stay in (−1, 1) for any text.

use maxx_events::{BusEvent, EventTime, FixedPoint, SentimentScore};
use proptest::prelude::*;

use super::lexicon::{Intensity, Lexicon};
use super::parse::{parse, parse_as, ItemProblem, ParseError};
use super::{Ingested, NewsItem, Sentiment, SentimentConfig, Source, NAME, WINDOW};
use crate::contract::Emitter;
use crate::portfolio::fixtures::{fp, producer};

const NEWSAPI: &str = include_str!("../../../data/news/newsapi.json");
const REDDIT: &str = include_str!("../../../data/news/reddit.json");
const TWITTER: &str = include_str!("../../../data/news/twitter.json");
const TWITTER_MALFORMED: &str = include_str!("../../../data/news/twitter_malformed.json");

/// 2026-03-02T00:00:00Z in µs.
const MARCH_2: i64 = 1_772_409_600_000_000;
const SEC: i64 = 1_000_000;

fn items(json: &str) -> Vec<NewsItem> {
    let batch = parse(json).expect("a fixture parses");
    assert!(batch.errors.is_empty(), "fixture errors: {:?}", batch.errors);
    batch.items
}

/// Ingests `item`, with the emitter built as the shell builds it.
fn ingest(scorer: &mut Sentiment, item: &NewsItem) -> (Ingested, Vec<SentimentScore>) {
    let producer = producer(NAME);
    let (cause, time) = Sentiment::cause(item);
    let mut outputs = Vec::new();
    let mut out = Emitter::new(NAME, &producer, cause, time, &mut outputs);
    let ingested = scorer.ingest(item, &mut out);
    let scores = outputs
        .into_iter()
        .map(|e| match e {
            BusEvent::SentimentScore(s) => s,
            other => panic!("unexpected output {other:?}"),
        })
        .collect();
    (ingested, scores)
}

fn score(text: &str) -> FixedPoint {
    Lexicon::default().score(text).score
}

#[test]
fn newsapi_articles_parse_with_the_url_as_id() {
    let items = items(NEWSAPI);
    assert_eq!(items.len(), 3);
    let first = &items[0];
    assert_eq!(first.source, Source::NewsApi);
    assert_eq!(first.id, "https://news.example.com/markets/2026/03/02/bitcoin-etf-approval");
    assert_eq!(first.title.as_deref(), Some("Bitcoin ETF approval sends BTC sharply higher"));
    assert_eq!(first.channel.as_deref(), Some("Example Markets Wire"));
    assert_eq!(first.published, EventTime::from_micros(MARCH_2 + (14 * 3600 + 5 * 60) * SEC));
    // "+01:00" offsets and fractional seconds are read exactly: 15:30:12 CET is 14:30:12 UTC.
    assert_eq!(items[1].published, EventTime::from_micros(MARCH_2 + (14 * 3600 + 30 * 60 + 12) * SEC));
}

#[test]
fn reddit_posts_and_comments_parse_with_unix_seconds() {
    let items = items(REDDIT);
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["mx0001", "mx0002", "mx0003"]);
    assert!(items.iter().all(|i| i.source == Source::Reddit && i.channel.as_deref() == Some("examplecrypto")));
    assert_eq!(items[0].published, EventTime::from_micros(MARCH_2 + (14 * 3600 + 5 * 60) * SEC));
    assert_eq!(items[1].published, EventTime::from_micros(MARCH_2 + (15 * 3600 + 5 * 60) * SEC + SEC / 2), "fractional seconds");
    assert_eq!(items[1].body, None, "empty self text");
    assert_eq!((items[2].title.as_deref(), items[2].body.as_deref()), (None, Some("Solana partnership news is slightly positive imo")));
    assert_eq!(items[0].url.as_deref(), Some("https://www.reddit.com/r/examplecrypto/comments/mx0001/eth_not_bullish/"));
}

#[test]
fn twitter_v2_tweets_parse_and_a_single_tweet_lookup_too() {
    let items = items(TWITTER);
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].id, "1900000000000000001");
    assert_eq!(items[0].body.as_deref(), Some("Bitcoin beats expectations again. Very strong week for $BTC"));
    assert_eq!(items[0].published, EventTime::from_micros(MARCH_2 + (9 * 3600 + 15 * 60) * SEC));
    assert_eq!(items[0].headline().as_deref(), Some("Bitcoin beats expectations again. Very strong week for $BTC"));
    let single = parse(r#"{"data":{"id":"7","text":"BTC up","created_at":"2026-03-02T00:00:00Z"}}"#).expect("parses");
    assert_eq!(single.items.len(), 1);
    assert_eq!(single.items[0].published, EventTime::from_micros(MARCH_2));
}

#[test]
fn malformed_items_are_reported_and_the_rest_of_the_batch_is_kept() {
    let batch = parse(TWITTER_MALFORMED).expect("the document parses");
    let good: Vec<&str> = batch.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(good, ["1900000000000000010", "1900000000000000017"]);
    let problems: Vec<(usize, Option<&str>, &ItemProblem)> = batch.errors.iter().map(|e| (e.index, e.id.as_deref(), &e.problem)).collect();
    assert_eq!(
        problems,
        [
            (1, Some("1900000000000000011"), &ItemProblem::Missing("created_at")),
            (2, Some("1900000000000000012"), &ItemProblem::BadTime { field: "created_at", value: "\"yesterday-ish\"".into() }),
            (3, None, &ItemProblem::Missing("id")),
            (4, Some("1900000000000000014"), &ItemProblem::WrongType { field: "id", expected: "a string" }),
            (5, None, &ItemProblem::NotAnObject),
            (6, Some("1900000000000000016"), &ItemProblem::NoText),
        ]
    );
    assert_eq!(batch.errors[1].to_string(), "twitter item 2 (1900000000000000012): `created_at` = \"yesterday-ish\" is not a valid time");
    // Reddit and newsapi items are checked the same way.
    let reddit = parse(r#"{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"id":"a","title":"x","created_utc":"soon"}},{"kind":"t3"}]}}"#)
        .expect("parses");
    assert_eq!(reddit.errors.iter().map(|e| e.problem.clone()).collect::<Vec<_>>(), [
        ItemProblem::BadTime { field: "created_utc", value: "\"soon\"".into() },
        ItemProblem::Missing("data")
    ]);
    let newsapi = parse(r#"{"status":"ok","articles":[{"title":"t","publishedAt":"2026-03-02T00:00:00Z"}]}"#).expect("parses");
    assert_eq!(newsapi.errors[0].problem, ItemProblem::Missing("url"));
}

#[test]
fn json_lines_streams_keep_good_lines_and_name_bad_ones() {
    let one_line = |json: &str| serde_json::to_string(&serde_json::from_str::<serde_json::Value>(json).expect("fixture JSON")).expect("compact");
    let stream = format!("{}\n\n{{oops\n{}\n{{\"hello\":1}}\n", one_line(TWITTER), one_line(REDDIT));
    let batch = super::parse_lines(&stream);
    assert_eq!(batch.items.len(), 6, "three tweets and three reddit items");
    let bad: Vec<(usize, bool)> = batch.errors.iter().map(|e| (e.index, matches!(e.problem, ItemProblem::BadLine(_)))).collect();
    assert_eq!(bad, [(3, true), (5, true)], "line numbers from 1, blank lines counted");
}

#[test]
fn documents_that_are_not_news_are_refused_whole() {
    assert!(matches!(parse("{not json"), Err(ParseError::NotJson(_))));
    assert_eq!(parse(r#"{"hello":"world"}"#), Err(ParseError::UnknownShape));
    assert_eq!(parse("[1,2]"), Err(ParseError::UnknownShape));
    assert_eq!(
        parse(r#"{"status":"error","code":"rateLimited","message":"Too many requests"}"#),
        Err(ParseError::ErrorResponse { shape: "newsapi", message: "Too many requests".into() })
    );
    assert_eq!(parse(r#"{"kind":"Listing","data":{"children":7}}"#), Err(ParseError::NotAList { shape: "reddit", field: "data.children" }));
    assert_eq!(parse_as(Source::NewsApi, r#"{"data":[]}"#), Err(ParseError::NotAList { shape: "newsapi", field: "articles" }));
}

#[test]
fn lexicon_scores_match_hand_computed_values() {
    // "etf approval" +3; "sharply higher" 1 × 3/2; "record inflows" 2 × 3/2: S = 7.5, 7.5 / 11.5.
    assert_eq!(score("Bitcoin ETF approval sends BTC sharply higher.\nSpot bitcoin funds saw record inflows on the first day of trading."), fp("0.65217391"));
    // hacked −3, slumps −2, fell −1: S = −6, −6 / 10.
    assert_eq!(score("Exchange hacked, ether slumps. Ethereum fell 6% within the hour."), fp("-0.6"));
    // "beats expectations" +3 (a phrase, not "beats" +2), "very strong" 2 × 3/2: S = 6.
    assert_eq!(score("Bitcoin beats expectations again. Very strong week for $BTC"), fp("0.6"));
    // partnership +2, "slightly positive" 1 × 1/2: S = 2.5, 2.5 / 6.5.
    assert_eq!(score("Solana partnership news is slightly positive imo"), fp("0.38461538"));
    // "profit warning" is one term, −3: −3 / 7.
    assert_eq!(score("Profit warning from the miner"), fp("-0.42857143"));
    // "sell-off" reads as "sell off", −2: −2 / 6.
    assert_eq!(score("A sell-off in BTC"), fp("-0.33333333"));
    assert_eq!(score("Central bank holds rates."), FixedPoint::ZERO);
    assert_eq!(score(""), FixedPoint::ZERO);
}

#[test]
fn negation_flips_and_halves_within_three_tokens_of_its_clause() {
    // bullish +2 negated: −1; outage −2 (the "not" is more than three tokens before): S = −3.
    let scored = Lexicon::default().score("ETH not bullish at all after the outage");
    assert_eq!(scored.score, fp("-0.42857143"));
    assert_eq!(scored.hits.iter().map(|h| (h.term.as_str(), h.negated, h.weight)).collect::<Vec<_>>(), [("bullish", true, fp("-1")), ("outage", false, fp("-2"))]);
    // "denies hack": −3 × −1/2 = +1.5, 1.5 / 5.5.
    assert_eq!(score("Exchange denies hack rumours; withdrawals open."), fp("0.27272727"));
    // Contractions negate: "isn't bearish" = +1, 1 / 5.
    assert_eq!(score("BTC isn’t bearish"), fp("0.2"));
    // "failed" scores −2 and negates "beat estimates" (+3 → −1.5): S = −3.5, −3.5 / 7.5.
    assert_eq!(score("The miner failed to beat estimates"), fp("-0.46666667"));
    // A clause boundary stops negation: "not" before the comma does not reach "rally".
    assert_eq!(score("Not now, BTC rally"), fp("0.33333333"));
    // Negation and a booster together: "not very strong" = 2 × 3/2 × −1/2 = −1.5.
    let hit = &Lexicon::default().score("not very strong").hits[0];
    assert_eq!((hit.intensity, hit.negated, hit.weight), (Intensity::Boosted, true, fp("-1.5")));
}

#[test]
fn items_map_to_their_symbols_and_scores_carry_the_item_time_and_derived_ids() {
    let mut scorer = Sentiment::new(SentimentConfig::default());
    let news = items(NEWSAPI);
    let (ingested, scores) = ingest(&mut scorer, &news[0]);
    assert_eq!(ingested, Ingested::Scored { symbols: vec!["BTCUSD".into()], score: fp("0.65217391") });
    let only = &scores[0];
    assert_eq!((only.symbol.as_str(), only.source.as_str(), only.item_id.as_str()), ("BTCUSD", "newsapi", news[0].id.as_str()));
    assert_eq!((only.event_time, only.score), (news[0].published, fp("0.65217391")));
    assert_eq!(only.title.as_deref(), Some("Bitcoin ETF approval sends BTC sharply higher"));
    assert_eq!(only.producer.agent, NAME);
    // Another scorer gives the same ids for the same item.
    let (_, again) = ingest(&mut Sentiment::new(SentimentConfig::default()), &news[0]);
    assert_eq!(again[0].event_id, only.event_id);
    // The FX item names no symbol.
    assert_eq!(ingest(&mut scorer, &news[2]).0, Ingested::NoSymbol);
    // An item naming two symbols gives two scores, one per symbol, with distinct ids.
    let both = NewsItem { id: "both".into(), title: Some("Bitcoin and ether rally".into()), ..news[0].clone() };
    let (_, scores) = ingest(&mut scorer, &both);
    assert_eq!(scores.iter().map(|s| s.symbol.as_str()).collect::<Vec<_>>(), ["BTCUSD", "ETHUSD"]);
    assert_ne!(scores[0].event_id, scores[1].event_id);
    // rally +2, "record inflows" 2 × 3/2 from the description: S = 5, 5 / 9.
    assert!(scores.iter().all(|s| s.score == fp("0.55555556")));
    // Hashtags and cashtags name symbols; whole words only.
    let tweets = items(TWITTER);
    let (ingested, _) = ingest(&mut scorer, &tweets[1]);
    assert_eq!(ingested, Ingested::Scored { symbols: vec!["ETHUSD".into()], score: fp("0.27272727") });
    assert!(scorer.symbols_in("Ethernet methane").is_empty());
}

#[test]
fn every_fixture_item_scores_as_computed_by_hand() {
    let mut scorer = Sentiment::new(SentimentConfig::default());
    let all: Vec<NewsItem> = [NEWSAPI, REDDIT, TWITTER].into_iter().flat_map(items).collect();
    let outcome: Vec<(String, Ingested)> = all.iter().map(|item| (item.id.clone(), ingest(&mut scorer, item).0)).collect();
    let scored = |symbol: &str, score: &str| Ingested::Scored { symbols: vec![symbol.into()], score: fp(score) };
    let expected = [
        scored("BTCUSD", "0.65217391"),
        scored("ETHUSD", "-0.6"),
        Ingested::NoSymbol,
        scored("ETHUSD", "-0.42857143"),
        scored("BTCUSD", "0.33333333"),
        scored("SOLUSD", "0.38461538"),
        scored("BTCUSD", "0.6"),
        scored("ETHUSD", "0.27272727"),
        Ingested::NoSymbol,
    ];
    assert_eq!(outcome.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>(), expected, "{outcome:#?}");
}

#[test]
fn duplicates_are_ignored_within_the_window_and_survive_a_snapshot() {
    let mut scorer = Sentiment::new(SentimentConfig::default());
    let tweet = items(TWITTER).remove(0);
    assert!(matches!(ingest(&mut scorer, &tweet).0, Ingested::Scored { .. }));
    let (again, scores) = ingest(&mut scorer, &tweet);
    assert_eq!((again, scores.len()), (Ingested::Duplicate, 0));
    // The same id from another source is another item.
    let reddit = NewsItem { source: Source::Reddit, ..tweet.clone() };
    assert!(matches!(ingest(&mut scorer, &reddit).0, Ingested::Scored { .. }));
    // The memory is state: a restored scorer still knows the item.
    let mut restored = Sentiment::new(SentimentConfig::default());
    restored.restore(scorer.state().clone());
    assert_eq!(ingest(&mut restored, &tweet).0, Ingested::Duplicate);
    // After WINDOW newer items it is forgotten.
    for n in 0..WINDOW {
        ingest(&mut restored, &NewsItem { id: format!("other-{n}"), ..tweet.clone() });
    }
    assert!(matches!(ingest(&mut restored, &tweet).0, Ingested::Scored { .. }));
}

#[test]
fn sources_outside_news_apis_are_ignored_and_reload_changes_the_symbols() {
    let mut scorer = Sentiment::new(SentimentConfig { news_apis: vec!["reddit".into()], ..SentimentConfig::default() });
    let tweet = items(TWITTER).remove(0);
    assert_eq!(ingest(&mut scorer, &tweet).0, Ingested::SourceOff);
    let mut config = SentimentConfig::default();
    config.symbols.clear();
    config.symbols.insert("XBTUSD".into(), vec!["bitcoin".into()]);
    scorer.reconfigure(config);
    assert_eq!(ingest(&mut scorer, &tweet).0, Ingested::Scored { symbols: vec!["XBTUSD".into()], score: fp("0.6") });
}

#[test]
fn the_sentiment_section_keeps_its_yaml_keys() {
    let parsed: crate::config::AgentConfig =
        serde_json::from_str(r#"{"sentiment":{"score_feed":"risingwave://sentiment_30m","news_apis":["twitter"]}}"#).expect("parses");
    assert_eq!(parsed.sentiment.score_feed.as_deref(), Some("risingwave://sentiment_30m"));
    assert_eq!(parsed.sentiment.news_apis, ["twitter"]);
    assert_eq!(parsed.sentiment.symbols, SentimentConfig::default().symbols, "aliases default");
}

proptest! {
    /// Any mix of lexicon words, modifiers and filler scores in (−1, 1), the same every time,
    /// with the sign of the sum of its hits.
    #[test]
    fn scores_stay_in_the_open_unit_interval(words in proptest::collection::vec(
        prop_oneof![
            Just("hack"), Just("surges"), Just("not"), Just("very"), Just("slightly"), Just("beats"), Just("estimates"),
            Just("profit"), Just("warning"), Just("bitcoin"), Just(","), Just("."), Just("isn't"), Just("crash"), Just("rally"),
        ],
        0..400,
    )) {
        let text = words.join(" ");
        let lexicon = Lexicon::default();
        let scored = lexicon.score(&text);
        prop_assert!(scored.score > fp("-1") && scored.score < fp("1"));
        prop_assert_eq!(&scored, &lexicon.score(&text));
        prop_assert_eq!(scored.score.is_positive(), scored.sum.is_positive());
        prop_assert_eq!(scored.score.is_negative(), scored.sum.is_negative());
    }

    /// Arbitrary bytes never make the parser panic.
    #[test]
    fn arbitrary_documents_never_panic(text in ".{0,200}") {
        let _ = parse(&text);
        let _ = parse(&format!(r#"{{"data":[{text:?}, {{"id": {text:?}}}]}}"#));
    }
}
