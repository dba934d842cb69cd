//! `sentiment:` section of `agent_config.yaml`: where scores are also published, which
//! sources are accepted, and which words name which symbol.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{looks_like_url, ConfigError, Validate};

/// Source names accepted in `news_apis`.
pub const NEWS_APIS: [&str; 3] = ["newsapi.org", "twitter", "reddit"];

/// `sentiment:` — news and social scoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SentimentConfig {
    /// Where scores are also published for other consumers (a URL, e.g. `risingwave://…`).
    pub score_feed: Option<String>,
    /// Sources accepted: newsapi.org, twitter, reddit.
    pub news_apis: Vec<String>,
    /// Symbol → the words that name it in text (case-insensitive, whole words; `$BTC`
    /// cashtags included). An item mentioning none of them is not scored. Writing this key
    /// replaces the whole default map.
    pub symbols: BTreeMap<String, Vec<String>>,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        let symbols = [
            ("BTCUSD", &["bitcoin", "btc", "$btc", "xbt"][..]),
            ("ETHUSD", &["ethereum", "eth", "$eth", "ether"][..]),
            ("SOLUSD", &["solana", "$sol"][..]),
            ("EURUSD", &["eurusd", "eur/usd", "euro"][..]),
            ("GBPUSD", &["gbpusd", "gbp/usd", "sterling", "british pound"][..]),
            ("USDJPY", &["usdjpy", "usd/jpy", "yen"][..]),
        ]
        .into_iter()
        .map(|(symbol, aliases)| (symbol.to_owned(), aliases.iter().map(|a| (*a).to_owned()).collect()))
        .collect();
        Self { score_feed: None, news_apis: NEWS_APIS.map(String::from).to_vec(), symbols }
    }
}

impl Validate for SentimentConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems = Vec::new();
        if let Some(url) = &self.score_feed {
            if !looks_like_url(url) {
                problems.push(ConfigError::new("sentiment.score_feed", format!("{url:?} is not a URL (scheme://rest)")));
            }
        }
        for (i, api) in self.news_apis.iter().enumerate() {
            if !NEWS_APIS.contains(&api.as_str()) {
                problems.push(ConfigError::new(format!("sentiment.news_apis[{i}]"), format!("unknown source {api:?} (newsapi.org, twitter, reddit)")));
            }
        }
        let mut owner: BTreeMap<String, &str> = BTreeMap::new();
        for (symbol, aliases) in &self.symbols {
            if symbol.is_empty() || !symbol.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                problems.push(ConfigError::new(format!("sentiment.symbols.{symbol}"), "a symbol is upper-case letters and digits, e.g. BTCUSD"));
            }
            for (i, alias) in aliases.iter().enumerate() {
                let field = format!("sentiment.symbols.{symbol}[{i}]");
                let key = alias.trim().to_lowercase();
                if !key.chars().any(char::is_alphanumeric) {
                    problems.push(ConfigError::new(field, format!("{alias:?} has no letter or digit to match")));
                } else if let Some(other) = owner.insert(key, symbol).filter(|other| *other != symbol.as_str()) {
                    problems.push(ConfigError::new(field, format!("{alias:?} already names {other}")));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_symbols_and_shared_aliases_are_named() {
        assert_eq!(SentimentConfig::default().problems(), vec![]);
        let mut config = SentimentConfig { score_feed: Some("nowhere".into()), news_apis: vec!["rss".into()], ..SentimentConfig::default() };
        config.symbols.insert("btc-usd".into(), vec!["x".into()]);
        config.symbols.insert("XBTUSD".into(), vec!["Bitcoin".into(), "--".into()]);
        let fields: Vec<String> = config.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["sentiment.score_feed", "sentiment.news_apis[0]", "sentiment.symbols.XBTUSD[0]", "sentiment.symbols.XBTUSD[1]", "sentiment.symbols.btc-usd"]
        );
    }
}
