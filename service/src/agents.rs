//! Which agent a process runs: the eight agent names and the factory that builds one from
//! the configuration. One explicit list, no registration magic; an agent whose logic is not
//! in this build yet answers "not available yet" instead of starting.

use maxx_agents::config::AgentConfig;
use maxx_agents::DynAgent;

/// The agents `maxx agent <name>` knows, in pipeline order.
pub const AGENT_NAMES: [&str; 8] = ["market_data", "sentiment", "session_clock", "alpha", "risk_sentinel", "execution", "portfolio", "meta_governor"];

/// Builds an agent from the configuration in force. Called at start and after every
/// recycle (so a recycled agent gets the latest configuration); infallible by construction:
/// everything that can fail was checked when the factory was chosen or the config validated.
pub type AgentFactory = fn(&AgentConfig) -> Box<dyn DynAgent>;

/// An agent that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Not one of [`AGENT_NAMES`].
    #[error("unknown agent {0:?}; the agents are {names}", names = AGENT_NAMES.join(", "))]
    Unknown(String),
    /// One of the eight, but its logic is not wired into this build yet.
    #[error("agent {0} is not available yet in this build (its logic is not wired into maxx_service::agents::factory)")]
    NotAvailable(String),
}

/// The factory of agent `name`.
///
/// # Errors
/// [`BuildError::Unknown`] or [`BuildError::NotAvailable`].
pub fn factory(name: &str) -> Result<AgentFactory, BuildError> {
    // Wire an agent by returning its constructor here, e.g.
    // "alpha" => Ok(|config| Box::new(maxx_agents::alpha::Alpha::new(config.alpha.clone()))),
    match name {
        known if AGENT_NAMES.contains(&known) => Err(BuildError::NotAvailable(known.to_owned())),
        other => Err(BuildError::Unknown(other.to_owned())),
    }
}

/// Builds agent `name` from `config`.
///
/// # Errors
/// As [`factory`].
pub fn build(name: &str, config: &AgentConfig) -> Result<Box<dyn DynAgent>, BuildError> {
    factory(name).map(|make| make(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_known_and_unknown_names_are_refused_with_the_list() {
        let unknown = build("alhpa", &AgentConfig::default()).err().expect("unknown");
        assert!(unknown.to_string().contains("market_data, sentiment"), "{unknown}");
        for name in AGENT_NAMES {
            match build(name, &AgentConfig::default()) {
                Ok(agent) => assert!(!agent.inputs().is_empty() || !agent.outputs().is_empty(), "{name}"),
                Err(error) => assert_eq!(error, BuildError::NotAvailable(name.to_owned())),
            }
        }
    }
}
