//! The data-flow graph of a topology: agents and topics as nodes, produce and consume as
//! edges, in Mermaid (for Markdown) and Graphviz DOT. Runtime-only topics (lifecycle, dead
//! letters, snapshots, the registry's store) are left out unless asked for: every agent
//! writes them, and they would hide the flow.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::model::{Format, TopicSpec, Topology};

/// Topics every agent writes as a side effect of running.
const PLUMBING: &[&str] = &["agent_state", "dead_letters"];

fn shown(topic: &TopicSpec, all: bool) -> bool {
    all || (topic.format == Format::Avro && !PLUMBING.contains(&topic.name.as_str()))
}

fn agents<'a>(topics: &[&'a TopicSpec]) -> BTreeSet<&'a str> {
    topics.iter().flat_map(|t| t.producers.iter().chain(&t.consumers)).map(String::as_str).collect()
}

/// A node id both formats accept.
fn id(prefix: &str, name: &str) -> String {
    format!("{prefix}_{}", name.replace(['.', '-'], "_"))
}

/// The graph in Mermaid `flowchart LR` syntax: agents as rounded boxes, topics as cylinders.
pub fn mermaid(topology: &Topology, all: bool) -> String {
    let topics: Vec<&TopicSpec> = topology.topics.iter().filter(|t| shown(t, all)).collect();
    let mut out = String::from("flowchart LR\n");
    for agent in agents(&topics) {
        let _ = writeln!(out, "  {}([{agent}])", id("agent", agent));
    }
    for topic in &topics {
        let _ = writeln!(out, "  {}[({})]", id("topic", &topic.name), topic.name);
    }
    for topic in &topics {
        for producer in &topic.producers {
            let _ = writeln!(out, "  {} --> {}", id("agent", producer), id("topic", &topic.name));
        }
        for consumer in &topic.consumers {
            let _ = writeln!(out, "  {} --> {}", id("topic", &topic.name), id("agent", consumer));
        }
    }
    out
}

/// The graph in Graphviz DOT: agents as boxes, topics as cylinders.
pub fn dot(topology: &Topology, all: bool) -> String {
    let topics: Vec<&TopicSpec> = topology.topics.iter().filter(|t| shown(t, all)).collect();
    let mut out = String::from("digraph maxx {\n  rankdir=LR;\n");
    for agent in agents(&topics) {
        let _ = writeln!(out, "  {} [label=\"{agent}\", shape=box, style=rounded];", id("agent", agent));
    }
    for topic in &topics {
        let _ = writeln!(out, "  {} [label=\"{}\", shape=cylinder];", id("topic", &topic.name), topic.name);
    }
    for topic in &topics {
        for producer in &topic.producers {
            let _ = writeln!(out, "  {} -> {};", id("agent", producer), id("topic", &topic.name));
        }
        for consumer in &topic.consumers {
            let _ = writeln!(out, "  {} -> {};", id("topic", &topic.name), id("agent", consumer));
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW: &str = "replication: 1\ntopics:\n  - {name: ticks, partitions: 1, cleanup: delete, subject: ticks-value, key: symbol, producers: [market_data], consumers: [alpha, execution]}\n  - {name: agent_state, partitions: 1, cleanup: delete, subject: agent_state-value, key: instance, producers: [alpha]}\n  - {name: state.alpha, partitions: 1, cleanup: compact, format: snapshot, key: agent, producers: [alpha]}\n";

    #[test]
    fn mermaid_has_one_edge_per_producer_and_consumer() {
        let topology = Topology::parse(FLOW).expect("valid");
        let text = mermaid(&topology, false);
        assert!(text.starts_with("flowchart LR\n"));
        let edges: Vec<&str> = text.lines().filter(|l| l.contains("-->")).map(str::trim).collect();
        assert_eq!(edges, ["agent_market_data --> topic_ticks", "topic_ticks --> agent_alpha", "topic_ticks --> agent_execution"]);
        assert_eq!(mermaid(&topology, true).lines().filter(|l| l.contains("-->")).count(), 5, "--all shows the plumbing");
    }

    #[test]
    fn dot_is_a_closed_digraph_with_the_same_edges() {
        let topology = Topology::parse(FLOW).expect("valid");
        let text = dot(&topology, false);
        assert!(text.starts_with("digraph maxx {") && text.trim_end().ends_with('}'));
        assert_eq!(text.matches(" -> ").count(), 3);
        assert!(text.contains("topic_ticks [label=\"ticks\", shape=cylinder];"));
    }
}
