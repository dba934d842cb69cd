//! Which symbols a text names: configured aliases (`bitcoin`, `btc`, `$BTC` → BTCUSD)
//! matched case-insensitively as whole words — an alias counts only where the characters
//! around it are not letters, digits or `_`, so `eth` matches "ETH rallies" but not
//! "Ethernet", and `btc` matches the cashtag "$BTC".

use std::collections::{BTreeMap, BTreeSet};

/// Aliases to symbols.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolMap {
    /// (lower-case alias, symbol), longest alias first.
    aliases: Vec<(String, String)>,
}

impl SymbolMap {
    /// The map of `symbols` (symbol → aliases, as in `sentiment.symbols`).
    pub fn new(symbols: &BTreeMap<String, Vec<String>>) -> Self {
        let mut aliases: Vec<(String, String)> = symbols
            .iter()
            .flat_map(|(symbol, aliases)| aliases.iter().map(move |a| (a.trim().to_lowercase(), symbol.clone())))
            .filter(|(alias, _)| alias.chars().any(char::is_alphanumeric))
            .collect();
        aliases.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        aliases.dedup();
        Self { aliases }
    }

    /// The symbols `text` names, sorted.
    pub fn symbols_in(&self, text: &str) -> BTreeSet<String> {
        let text = text.to_lowercase();
        self.aliases.iter().filter(|(alias, _)| contains_word(&text, alias)).map(|(_, symbol)| symbol.clone()).collect()
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `needle` occurs in `haystack` with no word character directly before or after it.
fn contains_word(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        // A word character at the alias's own edge must not touch another one.
        let starts_word = needle.chars().next().is_some_and(is_word);
        let ends_word = needle.chars().next_back().is_some_and(is_word);
        let joins_before = starts_word && before.is_some_and(is_word);
        let joins_after = ends_word && after.is_some_and(is_word);
        !(joins_before || joins_after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> SymbolMap {
        let mut symbols = BTreeMap::new();
        symbols.insert("BTCUSD".to_owned(), vec!["bitcoin".to_owned(), "btc".to_owned(), "$BTC".to_owned()]);
        symbols.insert("ETHUSD".to_owned(), vec!["ethereum".to_owned(), "eth".to_owned()]);
        symbols.insert("GBPUSD".to_owned(), vec!["british pound".to_owned()]);
        SymbolMap::new(&symbols)
    }

    fn found(text: &str) -> Vec<String> {
        map().symbols_in(text).into_iter().collect()
    }

    #[test]
    fn aliases_match_whole_words_in_any_case() {
        assert_eq!(found("Bitcoin tops $70k"), ["BTCUSD"]);
        assert_eq!(found("$BTC and ETH both up"), ["BTCUSD", "ETHUSD"]);
        assert_eq!(found("btc/usd"), ["BTCUSD"]);
        assert_eq!(found("The British Pound slips"), ["GBPUSD"]);
        assert_eq!(found("ETH."), ["ETHUSD"]);
    }

    #[test]
    fn parts_of_other_words_do_not_match() {
        assert!(found("Ethernet cables and bitcoiners").is_empty());
        assert!(found("wbtc_vault methane").is_empty());
        assert!(found("britishpound").is_empty());
    }
}
