//! Which agent a process runs: the eight agent names and the factory that builds one from
//! the configuration. One explicit list, no registration magic. The two sources (market data,
//! sentiment) do not run in the consume-transform-produce runtime: the factory has none for
//! them (they answer "not available" here), and `maxx agent` runs them in the source shell
//! (`crate::source`).

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
    use maxx_agents::{alpha, execution, meta_governor, portfolio, risk};
    match name {
        "alpha" => Ok(|config| Box::new(alpha::Alpha::new(config.alpha.clone()))),
        "risk_sentinel" => Ok(|config| Box::new(risk::RiskSentinel::new(config.risk.clone()))),
        "execution" => Ok(|config| Box::new(execution::Execution::new(config.exec.clone()))),
        "portfolio" => Ok(|config| Box::new(portfolio::Portfolio::new(config.portfolio.clone()))),
        "meta_governor" => Ok(|config| Box::new(meta_governor::MetaGovernor::new(config))),
        "session_clock" => Ok(|config| Box::new(session_clock_from(config))),
        // Sources: their inputs are exchange feeds and news, not topics; they run in the
        // source shell, not the consume-transform-produce runtime.
        known if AGENT_NAMES.contains(&known) => Err(BuildError::NotAvailable(known.to_owned())),
        other => Err(BuildError::Unknown(other.to_owned())),
    }
}

/// The SessionClock of `config`. A validated configuration always compiles (its validation
/// compiles the calendar), so the fallback to the default calendar is never taken in practice.
fn session_clock_from(config: &AgentConfig) -> maxx_agents::session_clock::SessionClock {
    use maxx_agents::session_clock::{SessionClock, SessionClockConfig};
    SessionClock::new(&config.session_clock).unwrap_or_else(|problems| {
        tracing::error!(?problems, "session_clock calendar does not compile; using the default calendar");
        #[allow(clippy::expect_used)]
        SessionClock::new(&SessionClockConfig::default()).expect("the default calendar compiles")
    })
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
                Ok(agent) => {
                    assert_eq!(agent.name(), name, "the factory builds the agent it is named for");
                    assert!(!agent.inputs().is_empty() && !agent.outputs().is_empty(), "{name}");
                }
                Err(error) => assert_eq!(error, BuildError::NotAvailable(name.to_owned())),
            }
        }
        for wired in ["alpha", "risk_sentinel", "execution", "portfolio", "meta_governor", "session_clock"] {
            assert!(build(wired, &AgentConfig::default()).is_ok(), "{wired} is wired");
        }
    }
}
