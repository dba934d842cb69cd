//! A seeded synthetic news feed for `maxx demo` and tests: headlines about the demo's
//! symbols, good and bad, from a fixed set of templates, so that Sentiment and Alpha's
//! sentiment sub-signal have something to read without a network. Same seed, same news.

use maxx_events::EventTime;

use super::item::{NewsItem, Source};
use crate::market_data::synthetic::SplitMix64;

/// Subjects the headlines name (aliases the default `sentiment.symbols` map to symbols).
const SUBJECTS: [&str; 3] = ["Bitcoin", "Ethereum", "the euro"];

/// Headline templates (`{}` is the subject): good news, then bad.
const TEMPLATES: [&str; 10] = [
    "{} rallies as ETF approval nears",
    "{} beats estimates on record inflows",
    "Analysts upgrade {} on strong demand",
    "{} surges to a new high",
    "Investors bullish on {} after upbeat data",
    "{} slumps after exchange hack",
    "Regulators warn on {} as selloff deepens",
    "{} plunges on profit warning",
    "Analysts downgrade {} amid weak demand",
    "{} falls as fears of a crash grow",
];

/// The news feed.
#[derive(Debug, Clone)]
pub struct SyntheticNews {
    rng: SplitMix64,
    next_id: u64,
}

impl SyntheticNews {
    /// A feed for `seed`.
    pub fn new(seed: u64) -> Self {
        Self { rng: SplitMix64(seed ^ 0x6E65_7773), next_id: 0 }
    }

    /// The next item, published at `time`: a random subject and template, from a random
    /// source among newsapi, reddit and twitter.
    pub fn next_item(&mut self, time: EventTime) -> NewsItem {
        let subject = SUBJECTS[pick(&mut self.rng, SUBJECTS.len())];
        let template = TEMPLATES[pick(&mut self.rng, TEMPLATES.len())];
        let source = [Source::NewsApi, Source::Reddit, Source::Twitter][pick(&mut self.rng, 3)];
        self.next_id += 1;
        NewsItem {
            source,
            id: format!("synthetic-{}", self.next_id),
            title: Some(template.replace("{}", subject)),
            body: None,
            published: time,
            url: None,
            channel: Some("maxx-demo".into()),
        }
    }
}

fn pick(rng: &mut SplitMix64, len: usize) -> usize {
    usize::try_from(rng.below(len as u64)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment::{Sentiment, SentimentConfig};

    #[test]
    fn the_same_seed_gives_the_same_news_and_every_item_names_a_symbol_with_a_score() {
        let time = EventTime::from_micros(1_767_225_600_000_000);
        let items = |seed| {
            let mut news = SyntheticNews::new(seed);
            (0..50).map(|_| news.next_item(time)).collect::<Vec<_>>()
        };
        assert_eq!(items(7), items(7));
        assert_ne!(items(7), items(8));
        let scorer = Sentiment::new(SentimentConfig::default());
        for item in items(7) {
            let text = item.text();
            assert!(!scorer.symbols_in(&text).is_empty(), "{text:?} names no symbol");
            assert_ne!(scorer.score_text(&text).score, maxx_events::FixedPoint::ZERO, "{text:?} scores 0");
        }
    }
}
