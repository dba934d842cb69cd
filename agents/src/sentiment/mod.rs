//! Sentiment: news and social items (newsapi, reddit, twitter JSON — [`parse`]) mapped to
//! symbols ([`symbols`]), scored offline with a finance-aware lexicon ([`lexicon`]), and
//! published as `SentimentScore` events.
//!
//! **Why a plain struct and not an [`Agent`](crate::Agent).** News does not come from the
//! bus: the service shell receives it over HTTP or reads it from a file, and there is no
//! bus event type for a raw item (schemas are fixed). So [`Sentiment`] is a pure struct
//! with the agent's discipline — state to snapshot, no clock, no I/O — and one entry point,
//! [`Sentiment::ingest`], that emits through an [`Emitter`] like an agent does.
//!
//! **Outputs.** One score per symbol the item names, all with the item's score, in symbol
//! order. `event_time` is the item's publication time; `event_id` is derived from the
//! source, the item id and the symbol (`EventId::derive`), so scoring the same item again
//! anywhere gives the same ids. The producer is stamped by the [`Emitter`]; build it with
//! [`Sentiment::cause`] so that its "now" is the item's time too.
//!
//! **Duplicates.** The ids (`source:id`) of the last [`WINDOW`] items ingested are kept in
//! the state; an item seen among them is ignored, scored or not. Items from a source not
//! in `news_apis` are ignored and not remembered.

mod config;
pub mod item;
pub mod lexicon;
pub mod parse;
pub mod symbols;
pub mod synthetic;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use maxx_events::{EventId, EventTime, FixedPoint, SentimentScore};
use serde::{Deserialize, Serialize};

pub use config::{SentimentConfig, NEWS_APIS};
pub use item::{NewsItem, Source};
pub use lexicon::{Lexicon, Scored};
pub use parse::{parse, parse_lines, Batch, ItemError, ItemProblem, ParseError};
pub use symbols::SymbolMap;

use crate::contract::Emitter;
use crate::portfolio::recent::RecentIds;
pub use crate::portfolio::recent::WINDOW;

/// The scorer's name: producer and id derivation use it.
pub const NAME: &str = "sentiment";

/// Everything the scorer's decisions depend on besides its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentimentState {
    /// `source:id` of the items ingested lately.
    pub recent: RecentIds,
}

/// What [`Sentiment::ingest`] did with an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Scored and published for these symbols.
    Scored {
        /// The symbols, sorted.
        symbols: Vec<String>,
        /// The item's score.
        score: FixedPoint,
    },
    /// Seen before: ignored.
    Duplicate,
    /// Names no configured symbol: nothing published.
    NoSymbol,
    /// From a source not in `news_apis`: ignored.
    SourceOff,
}

/// The Sentiment scorer.
#[derive(Debug, Clone)]
pub struct Sentiment {
    config: SentimentConfig,
    symbols: SymbolMap,
    lexicon: Lexicon,
    state: SentimentState,
}

impl Sentiment {
    /// A scorer with `config` and an empty memory.
    pub fn new(config: SentimentConfig) -> Self {
        let symbols = SymbolMap::new(&config.symbols);
        Self { config, symbols, lexicon: Lexicon::default(), state: SentimentState::default() }
    }

    /// Takes a new, validated configuration (`POST /reload`); the memory of items is kept.
    pub fn reconfigure(&mut self, config: SentimentConfig) {
        self.symbols = SymbolMap::new(&config.symbols);
        self.config = config;
    }

    /// The state, to snapshot.
    pub fn state(&self) -> &SentimentState {
        &self.state
    }

    /// Replaces the state with a snapshot.
    pub fn restore(&mut self, state: SentimentState) {
        self.state = state;
    }

    /// The cause to build the [`Emitter`] for `item` with: an id derived from the item and
    /// its publication time.
    pub fn cause(item: &NewsItem) -> (EventId, EventTime) {
        (EventId::derive(item.published, &[NAME.as_bytes(), item.source.as_str().as_bytes(), item.id.as_bytes()]), item.published)
    }

    /// Scores a text (`POST /score`), with the terms that made the score.
    pub fn score_text(&self, text: &str) -> Scored {
        self.lexicon.score(text)
    }

    /// The symbols a text names.
    pub fn symbols_in(&self, text: &str) -> BTreeSet<String> {
        self.symbols.symbols_in(text)
    }

    /// Scores `item` and emits one `SentimentScore` per symbol it names (module doc).
    pub fn ingest(&mut self, item: &NewsItem, out: &mut Emitter<'_>) -> Ingested {
        if !self.config.news_apis.iter().any(|api| api == item.source.api_name()) {
            return Ingested::SourceOff;
        }
        let key = format!("{}:{}", item.source.as_str(), item.id);
        if self.state.recent.contains(&key) {
            return Ingested::Duplicate;
        }
        self.state.recent.insert(&key);
        let text = item.text();
        let symbols = self.symbols.symbols_in(&text);
        if symbols.is_empty() {
            return Ingested::NoSymbol;
        }
        let score = self.lexicon.score(&text).score;
        let title = item.headline();
        for symbol in &symbols {
            let producer = out.envelope().producer;
            out.emit(SentimentScore {
                event_id: EventId::derive(
                    item.published,
                    &[NAME.as_bytes(), item.source.as_str().as_bytes(), item.id.as_bytes(), symbol.as_bytes()],
                ),
                event_time: item.published,
                producer,
                symbol: symbol.clone(),
                score,
                source: item.source.as_str().to_owned(),
                item_id: item.id.clone(),
                title: title.clone(),
            });
        }
        Ingested::Scored { symbols: symbols.into_iter().collect(), score }
    }
}
