//! One news or social item, whatever its source: the common form the parsers produce and
//! the scorer reads.

use maxx_events::EventTime;
use serde::{Deserialize, Serialize};

/// Where an item came from.
///
/// Serialized as `newsapi`, `reddit`, `twitter` (the `source` of a sentiment score).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A newsapi.org article.
    NewsApi,
    /// A reddit post or comment.
    Reddit,
    /// A tweet (X API v2).
    Twitter,
}

impl Source {
    /// The name on a sentiment score: `newsapi`, `reddit`, `twitter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewsApi => "newsapi",
            Self::Reddit => "reddit",
            Self::Twitter => "twitter",
        }
    }

    /// The name in `sentiment.news_apis`: `newsapi.org`, `reddit`, `twitter`.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::NewsApi => "newsapi.org",
            Self::Reddit => "reddit",
            Self::Twitter => "twitter",
        }
    }
}

/// A news or social item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsItem {
    /// Where it came from.
    pub source: Source,
    /// Its id at the source (newsapi has none: the article URL stands in).
    pub id: String,
    /// Headline or post title, when it has one.
    pub title: Option<String>,
    /// Description, self text or tweet text, when it has one.
    pub body: Option<String>,
    /// When it was published.
    pub published: EventTime,
    /// Link to it, when known.
    pub url: Option<String>,
    /// Outlet, subreddit or author, when known.
    pub channel: Option<String>,
}

impl NewsItem {
    /// Title and body as one text, the title first as its own sentence.
    pub fn text(&self) -> String {
        match (&self.title, &self.body) {
            (Some(title), Some(body)) => format!("{title}.\n{body}"),
            (Some(text), None) | (None, Some(text)) => text.clone(),
            (None, None) => String::new(),
        }
    }

    /// The headline shown with a score: the title, else the body's first line, at most
    /// 200 characters.
    pub fn headline(&self) -> Option<String> {
        let text = self.title.as_deref().or_else(|| self.body.as_deref().and_then(|b| b.lines().next()))?;
        let text = text.trim();
        (!text.is_empty()).then(|| text.chars().take(200).collect())
    }
}
