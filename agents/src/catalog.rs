//! The agents built into MAXX and their wiring (name, topics consumed, topics produced), as
//! their code declares it: `maxx topology check` compares it with `topology/topics.yaml`.

use crate::contract::Agent;

/// One agent's wiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentWiring {
    /// `Agent::NAME`.
    pub name: &'static str,
    /// `Agent::INPUTS`.
    pub inputs: &'static [&'static str],
    /// `Agent::OUTPUTS`.
    pub outputs: &'static [&'static str],
}

fn of<A: Agent>() -> AgentWiring {
    AgentWiring { name: A::NAME, inputs: A::INPUTS, outputs: A::OUTPUTS }
}

/// Every agent that implements [`Agent`], in the order of the data flow.
pub fn wiring() -> Vec<AgentWiring> {
    vec![
        of::<crate::market_data::MarketData>(),
        of::<crate::session_clock::SessionClock>(),
        of::<crate::alpha::Alpha>(),
        of::<crate::risk::RiskSentinel>(),
        of::<crate::execution::Execution>(),
        of::<crate::portfolio::Portfolio>(),
        of::<crate::meta_governor::MetaGovernor>(),
    ]
}
