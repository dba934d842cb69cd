//! `alpha:` section of `agent_config.yaml`.

use serde::{Deserialize, Serialize};

use crate::config::{check_cron, ConfigError, Validate};

/// `alpha:` — the signal blend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlphaConfig {
    /// When the governor may reweight the blend (cron, five fields, UTC).
    pub reweight_cron: String,
    /// Name of the NLP model (informational: scoring is offline).
    pub nlp_model: String,
}

impl Default for AlphaConfig {
    fn default() -> Self {
        Self { reweight_cron: "10 0 * * *".into(), nlp_model: "llama3-lora-trading".into() }
    }
}

impl Validate for AlphaConfig {
    fn problems(&self) -> Vec<ConfigError> {
        check_cron("alpha.reweight_cron", &self.reweight_cron).into_iter().collect()
    }
}
