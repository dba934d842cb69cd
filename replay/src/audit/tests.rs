//! The audit over a log built in memory: a "live" Portfolio folds ticks (two partitions) and
//! fills (one partition) in an interleaving of its own and snapshots at chosen points; the
//! audit replays the same records in its own order and must match every snapshot, and must
//! point at the interval holding a tampered fill.

use std::collections::BTreeMap;
use std::sync::Arc;

use maxx_agents::portfolio::{Portfolio, PortfolioConfig};
use maxx_agents::{DynAgent, Emitter};
use maxx_events::{BusCodec, BusEvent, EventId, EventTime, Fill, FixedPoint, InMemoryRegistry, Liquidity, Producer, Registration, Side, Tick};

use super::*;

fn fp(text: &str) -> FixedPoint {
    text.parse().expect("decimal")
}

fn producer(agent: &str) -> Producer {
    Producer { agent: agent.into(), version: "t".into(), instance: format!("{agent}-0") }
}

fn tick(n: i64, symbol: &str, price: &str) -> Tick {
    let time = EventTime::from_micros(1_767_225_600_000_000 + n * 1_000_000);
    Tick {
        event_id: EventId::derive(time, &[b"t", &n.to_be_bytes()]),
        event_time: time,
        producer: producer("market_data"),
        symbol: symbol.into(),
        exchange: "x".into(),
        price: fp(price),
        volume: fp("1"),
        bid: None,
        ask: None,
        venue_seq: Some(n),
    }
}

fn fill(n: i64, symbol: &str, side: Side, qty: &str, price: &str) -> Fill {
    let time = EventTime::from_micros(1_767_225_600_000_000 + n * 1_000_000 + 500_000);
    Fill {
        event_id: EventId::derive(time, &[b"f", &n.to_be_bytes()]),
        event_time: time,
        producer: producer("execution"),
        fill_id: format!("fill-{n}"),
        order_id: format!("order-{n}"),
        symbol: symbol.into(),
        side,
        price: fp(price),
        qty: fp(qty),
        fee: fp("0.1"),
        liquidity: Liquidity::Taker,
        venue: "paper".into(),
    }
}

struct Log {
    /// Records per (topic, partition).
    partitions: BTreeMap<(String, i32), Vec<ArchivedRecord>>,
    checkpoints: Vec<Checkpoint>,
    /// The pnl events the live agent published, by id.
    pnl: RecordedPnl,
}

fn codec() -> BusCodec {
    BusCodec::new(Arc::new(InMemoryRegistry::default()), &["ticks", "fills", "session_events", "commands"], Registration::Register).expect("codec")
}

/// A live Portfolio consuming ticks of BTC (ticks/0) and ETH (ticks/1) and fills (fills/0),
/// in a round-robin interleaving the audit does not know, snapshotting every `every` inputs.
fn live_log(every: usize) -> Log {
    let codec = codec();
    let mut partitions: BTreeMap<(String, i32), Vec<ArchivedRecord>> = BTreeMap::new();
    let mut push = |topic: &str, partition: i32, event: BusEvent, ts: i64| {
        let list = partitions.entry((topic.to_owned(), partition)).or_default();
        let offset = list.len() as i64 * 2; // gaps, as transaction markers leave
        list.push(ArchivedRecord {
            topic: topic.into(),
            partition,
            offset,
            timestamp: Some(ts),
            key: None,
            value: Some(codec.encode(&event).expect("encode")),
            headers: vec![],
        });
    };
    let prices = ["100", "101", "99.5", "102", "103.25", "98", "100", "104", "105", "101"];
    for (n, price) in prices.iter().enumerate() {
        let n = n as i64;
        push("ticks", 0, tick(n, "BTCUSD", price).into(), n * 10);
        push("ticks", 1, tick(n, "ETHUSD", &format!("{}", 20 + n)).into(), n * 10 + 1);
    }
    let fills = [
        fill(1, "BTCUSD", Side::Buy, "2", "101"),
        fill(2, "ETHUSD", Side::Buy, "10", "22"),
        fill(3, "BTCUSD", Side::Sell, "1", "102.5"),
        fill(5, "BTCUSD", Side::Buy, "1", "98"),
        fill(6, "ETHUSD", Side::Sell, "4", "26.5"),
        fill(8, "BTCUSD", Side::Sell, "2", "105"),
    ];
    for f in fills {
        let ts = f.event_time.as_micros() / 100_000;
        push("fills", 0, f.into(), ts);
    }
    // The live agent: round-robin over partitions (fills first), snapshot every `every`.
    let mut agent = Portfolio::new(PortfolioConfig::default());
    let live_producer = producer("portfolio");
    let mut cursors: BTreeMap<(String, i32), usize> = partitions.keys().map(|k| (k.clone(), 0)).collect();
    let order = [("fills".to_owned(), 0), ("ticks".to_owned(), 1), ("ticks".to_owned(), 0)];
    let mut offsets = BTreeMap::new();
    let mut checkpoints = Vec::new();
    let mut handled = 0;
    let mut pnl = RecordedPnl::new();
    let mut decoder = codec;
    loop {
        let mut progressed = false;
        for key in &order {
            let cursor = cursors.get_mut(key).expect("cursor");
            let Some(record) = partitions[key].get(*cursor) else { continue };
            *cursor += 1;
            progressed = true;
            let event = decoder.decode(&record.topic, record.value.as_deref().expect("value")).expect("decode");
            let mut outputs = Vec::new();
            let mut out = Emitter::new("portfolio", &live_producer, event.event_id(), event.event_time(), &mut outputs);
            DynAgent::handle(&mut agent, &event, &mut out).expect("valid");
            for output in outputs {
                if let BusEvent::Pnl(p) = output {
                    let offset = pnl.len() as i64;
                    pnl.insert(p.event_id, (0, offset, p));
                }
            }
            offsets.insert(key.clone(), record.offset + 1);
            handled += 1;
            if handled % every == 0 {
                let state = serde_json::from_slice(&agent.snapshot().expect("snapshot")).expect("json");
                checkpoints.push(Checkpoint { position: checkpoints.len() as i64, instance: "portfolio-0".into(), offsets: offsets.clone(), state });
            }
        }
        if !progressed {
            break;
        }
    }
    let state = serde_json::from_slice(&agent.snapshot().expect("snapshot")).expect("json");
    checkpoints.push(Checkpoint { position: checkpoints.len() as i64, instance: "portfolio-0".into(), offsets, state });
    Log { partitions, checkpoints, pnl }
}

fn streams(log: &Log) -> Vec<PartitionStream<'static>> {
    log.partitions
        .iter()
        .map(|((topic, partition), records)| PartitionStream::new(topic, *partition, records.clone().into_iter().map(Ok)))
        .collect()
}

fn audit(log: &Log) -> AgentAudit {
    let mut codec = codec();
    let agent: Box<dyn DynAgent> = Box::new(Portfolio::new(PortfolioConfig::default()));
    Auditor::new(agent, &mut codec, log.checkpoints.clone(), BTreeMap::new())
        .with_recorded_pnl(log.pnl.clone())
        .run(streams(log), &mut |_| {})
        .expect("audit")
}

#[test]
fn a_replay_in_another_interleaving_matches_every_checkpoint() {
    for every in [1, 3, 7, 100] {
        let log = live_log(every);
        let result = audit(&log);
        assert_eq!(result.checkpoints, log.checkpoints.len());
        assert_eq!((result.checked, result.matched, result.divergence_count), (log.checkpoints.len(), log.checkpoints.len(), 0), "every {every}: {:?}", result.divergences.first());
        assert_eq!(result.events, 26);
        assert_eq!((result.outputs_checked, result.output_mismatches, &result.first_output_mismatch), (6, 0, &None), "each fill's pnl as recorded");
        assert_eq!(result.refused, 0);
        assert_eq!(result.digest, audit(&log).digest, "the same log digests the same");
        assert_eq!(result.state.get("cash"), log.checkpoints.last().expect("last").state.get("cash"));
    }
}

#[test]
fn a_tampered_fill_is_reported_at_the_checkpoint_whose_inputs_hold_it() {
    let mut log = live_log(3);
    let honest = audit(&log).digest;
    // Forge fill 3 (offset 4 on fills/0): another price, same everything else.
    let mut codec = codec();
    let key = ("fills".to_owned(), 0);
    let record = &mut log.partitions.get_mut(&key).expect("fills")[2];
    assert_eq!(record.offset, 4);
    let BusEvent::Fill(mut forged) = codec.decode("fills", record.value.as_deref().expect("value")).expect("decode") else { panic!("a fill") };
    forged.price = fp("110");
    record.value = Some(codec.encode(&forged.into()).expect("encode"));

    let result = audit(&log);
    assert_ne!(result.digest, honest, "another history, another digest");
    assert_eq!(result.divergence_count, 1, "{:?}", result.divergences);
    let divergence = &result.divergences[0];
    let expected = log.checkpoints.iter().position(|cp| cp.offsets.get(&key).copied().unwrap_or(0) > 4).expect("a checkpoint past the fill");
    assert_eq!(divergence.checkpoint, expected);
    let fills = divergence.inputs.iter().find(|r| r.topic == "fills").expect("the fills range");
    assert!(fills.from <= 4 && 4 < fills.to, "{fills:?}");
    let paths: Vec<&str> = divergence.fields.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"cash") && paths.contains(&"realized"), "{paths:?}");
    assert_eq!(result.matched, result.checked - 1, "later checkpoints are checked from the live snapshot and match");
    // The outputs pin it to the forged fill itself.
    let mismatch = result.first_output_mismatch.as_ref().expect("the forged fill's pnl differs");
    assert_eq!((mismatch.topic.as_str(), mismatch.partition, mismatch.offset), ("fills", 0, 4));
    assert!(mismatch.output_offset.is_some());
    assert_eq!(mismatch.fields.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["cash", "realized"], "the fee is part of the fill, unchanged");
}

#[test]
fn a_replay_cut_short_checks_only_the_checkpoints_it_reached() {
    let log = live_log(4);
    let limit = log.checkpoints[1].offsets.clone();
    let mut codec = codec();
    let agent: Box<dyn DynAgent> = Box::new(Portfolio::new(PortfolioConfig::default()));
    let cut: Vec<PartitionStream<'static>> = log
        .partitions
        .iter()
        .map(|((topic, partition), records)| {
            let end = limit.get(&(topic.clone(), *partition)).copied().unwrap_or(0);
            let kept: Vec<_> = records.iter().filter(|r| r.offset < end).cloned().map(Ok).collect();
            PartitionStream::new(topic, *partition, kept.into_iter())
        })
        .collect();
    let result = Auditor::new(agent, &mut codec, log.checkpoints.clone(), BTreeMap::new()).run(cut, &mut |_| {}).expect("audit");
    assert_eq!((result.checked, result.matched), (2, 2));
    let skip = interleaving_sensitive("portfolio");
    assert_eq!(diff(&log.checkpoints[1].state, &result.state, skip), vec![], "the state as of the second checkpoint");
}

#[test]
fn diffs_name_the_paths_that_differ() {
    let live = serde_json::json!({"cash": 1, "holdings": {"BTC": {"qty": 2, "cost": 3}}, "list": [1, 2], "next_pnl_due_us": 5});
    let replayed = serde_json::json!({"cash": 1, "holdings": {"BTC": {"qty": 4, "cost": 3}, "ETH": {}}, "list": [1, 3], "next_pnl_due_us": 6});
    let paths: Vec<String> = diff(&live, &replayed, &["next_pnl_due_us"]).into_iter().map(|d| d.path).collect();
    assert_eq!(paths, ["holdings.BTC.qty", "holdings.ETH", "list[1]"]);
    assert_eq!(parse_offsets("fills:0=5, ticks:2=7").expect("offsets"), BTreeMap::from([(("fills".into(), 0), 5), (("ticks".into(), 2), 7)]));
    assert!(parse_offsets("fills=5").is_err());
    assert_eq!(format_offsets(&parse_offsets("a.b:1=2").expect("offsets")), "a.b:1=2");
}
