//! What is inconsistent in a topology on its own or against the code: consumed topics nobody
//! produces, Avro topics without a schema, snapshot topics that are not compacted, agents
//! whose inputs and outputs disagree with the file. (Disagreement with a live broker is
//! [`crate::broker::drift`].)

use std::collections::BTreeSet;

use crate::model::{Cleanup, Format, Topology};

/// One agent's wiring as its code declares it (`Agent::NAME`, `INPUTS`, `OUTPUTS`).
#[derive(Debug, Clone, Copy)]
pub struct Wiring<'a> {
    /// Agent name.
    pub agent: &'a str,
    /// Topics it consumes.
    pub inputs: &'a [&'a str],
    /// Topics it may produce.
    pub outputs: &'a [&'a str],
}

/// Problems of the file itself. `schema_topics` are the topics that have an Avro schema
/// (the event catalog compiled into the binary).
pub fn problems(topology: &Topology, schema_topics: &BTreeSet<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    for topic in &topology.topics {
        let name = topic.name.as_str();
        if !topic.consumers.is_empty() && topic.producers.is_empty() && topic.format != Format::Election {
            problems.push(format!("{name}: consumed by {} but no agent produces it", topic.consumers.join(", ")));
        }
        match topic.format {
            Format::Avro => {
                if !schema_topics.contains(name) {
                    problems.push(format!("{name}: no Avro schema (add schemas/{name}/v1.avsc and its event type)"));
                }
                let expected = format!("{name}-value");
                match &topic.subject {
                    Some(subject) if *subject == expected => {}
                    Some(subject) => problems.push(format!("{name}: subject {subject:?} should be {expected:?} (TopicNameStrategy)")),
                    None => problems.push(format!("{name}: no schema subject (expected {expected:?})")),
                }
            }
            Format::Snapshot => {
                if topic.cleanup != Cleanup::Compact {
                    problems.push(format!("{name}: snapshot topics must be compacted (only the latest state per key matters)"));
                }
                if !name.starts_with("state.") {
                    problems.push(format!("{name}: snapshot topics are named state.<agent>"));
                }
            }
            Format::Election => {
                if topic.partitions != 1 || !name.starts_with("leader.") {
                    problems.push(format!("{name}: election topics are named leader.<agent> and have one partition"));
                }
            }
            Format::Registry => {
                if topic.cleanup != Cleanup::Compact || topic.partitions != 1 {
                    problems.push(format!("{name}: the registry's store must be compacted with one partition"));
                }
            }
        }
    }
    for topic in schema_topics {
        if topology.topic(topic).is_none() {
            problems.push(format!("{topic}: has a schema but is not in the topology"));
        }
    }
    problems
}

/// Where the agents' code and the file disagree: an agent must consume exactly the topics the
/// file lists it under, and produce only topics the file lists it as a producer of.
pub fn wiring_problems(topology: &Topology, agents: &[Wiring<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    for wiring in agents {
        let agent = wiring.agent;
        // Snapshot and registry topics are the runtime's business, not the agent's inputs.
        let consumed: BTreeSet<&str> =
            topology.consumed_by(agent).into_iter().filter(|t| topology.topic(t).is_some_and(|t| t.format == Format::Avro)).collect();
        let inputs: BTreeSet<&str> = wiring.inputs.iter().copied().collect();
        for missing in inputs.difference(&consumed) {
            problems.push(format!("{agent} consumes {missing}, but the topology does not list it as a consumer"));
        }
        for extra in consumed.difference(&inputs) {
            problems.push(format!("the topology lists {agent} as a consumer of {extra}, but it does not consume it"));
        }
        let produced: BTreeSet<&str> = topology.produced_by(agent).into_iter().collect();
        for output in wiring.outputs {
            if !produced.contains(output) {
                problems.push(format!("{agent} produces {output}, but the topology does not list it as a producer"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(text: &str) -> Topology {
        Topology::parse(text).expect("valid topology")
    }

    const TWO: &str = "replication: 1\ntopics:\n  - {name: ticks, partitions: 1, cleanup: delete, subject: ticks-value, key: symbol, producers: [market_data], consumers: [alpha]}\n  - {name: signals, partitions: 1, cleanup: delete, subject: signals-value, key: symbol, producers: [], consumers: [execution]}\n  - {name: state.alpha, partitions: 1, cleanup: delete, format: snapshot, key: agent, producers: [alpha]}\n";

    #[test]
    fn orphans_missing_schemas_and_uncompacted_snapshots_are_reported() {
        let schemas: BTreeSet<&str> = ["ticks", "fills"].into_iter().collect();
        let problems = problems(&topology(TWO), &schemas);
        for expected in ["signals: consumed by execution but no agent produces it", "signals: no Avro schema", "state.alpha: snapshot topics must be compacted", "fills: has a schema but is not in the topology"] {
            assert!(problems.iter().any(|p| p.contains(expected)), "missing {expected:?} in {problems:?}");
        }
        assert!(!problems.iter().any(|p| p.starts_with("ticks")), "ticks is fine: {problems:?}");
    }

    #[test]
    fn the_shipped_topology_has_no_problems() {
        let shipped = Topology::parse(crate::TOPICS_YAML).expect("valid");
        let avro: BTreeSet<&str> = shipped.topics.iter().filter(|t| t.format == Format::Avro).map(|t| t.name.as_str()).collect();
        assert_eq!(problems(&shipped, &avro), Vec::<String>::new());
    }

    #[test]
    fn wiring_must_match_the_file() {
        let t = topology(TWO);
        let ok = Wiring { agent: "alpha", inputs: &["ticks"], outputs: &[] };
        assert!(t.consumed_by("alpha").contains(&"ticks"));
        assert!(wiring_problems(&t, &[ok]).is_empty());
        let wrong = Wiring { agent: "alpha", inputs: &["fills"], outputs: &["signals"] };
        let problems = wiring_problems(&t, &[wrong]);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
