//! Parsers for the three public JSON shapes news arrives in, into [`NewsItem`]s:
//!
//! - **newsapi** (`/v2/everything`, `/v2/top-headlines`): `{"status":"ok","articles":[{
//!   "source":{"id","name"},"title","description","url","publishedAt"}]}`; the URL is the
//!   item id; `{"status":"error","message"}` is an error response.
//! - **reddit** listing: `{"kind":"Listing","data":{"children":[{"kind":"t3","data":{
//!   "id","title","selftext","created_utc","subreddit","permalink"}}]}}` (comments, `t1`,
//!   carry `body` instead of `selftext`).
//! - **twitter** (X API v2 with `tweet.fields=created_at`): `{"data":[{"id","text",
//!   "created_at","author_id"}]}` (a single-tweet lookup has an object for `data`).
//!
//! A file or stream is read as JSON Lines of such documents ([`parse_lines`]).
//!
//! A document that is not one of these is a [`ParseError`]. Inside a document, each item
//! is parsed on its own: a malformed one becomes an [`ItemError`] and the others are kept.
//! Nothing here panics on any input.

use maxx_events::EventTime;
use serde_json::{Map, Value};

use super::item::{NewsItem, Source};

/// Items parsed from one document, and the items that could not be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Well-formed items, in document order.
    pub items: Vec<NewsItem>,
    /// Malformed items, in document order.
    pub errors: Vec<ItemError>,
}

/// A document that could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not valid JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// Valid JSON of none of the three shapes.
    #[error("not a newsapi, reddit or twitter document (expected `articles`, `data.children` or `data`)")]
    UnknownShape,
    /// The expected list is missing or not a list.
    #[error("{shape}: `{field}` is missing or not a list")]
    NotAList {
        /// The shape expected.
        shape: &'static str,
        /// The list's path.
        field: &'static str,
    },
    /// The source answered with an error instead of items.
    #[error("{shape} error response: {message}")]
    ErrorResponse {
        /// The shape.
        shape: &'static str,
        /// What the source said.
        message: String,
    },
}

/// One malformed item of a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{shape} item {index}{}: {problem}", .id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default())]
pub struct ItemError {
    /// The shape: `newsapi`, `reddit` or `twitter`.
    pub shape: &'static str,
    /// Position in the document's list.
    pub index: usize,
    /// Its id, when it could be read.
    pub id: Option<String>,
    /// What is wrong.
    pub problem: ItemProblem,
}

/// What is wrong with an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemProblem {
    /// The item is not a JSON object.
    #[error("not an object")]
    NotAnObject,
    /// A required field is absent or null.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A field has the wrong JSON type.
    #[error("`{field}` is not {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// The type it should have.
        expected: &'static str,
    },
    /// A time that cannot be read.
    #[error("`{field}` = {value} is not a valid time")]
    BadTime {
        /// The field.
        field: &'static str,
        /// The value, as JSON.
        value: String,
    },
    /// Neither title nor text.
    #[error("has no text to score")]
    NoText,
    /// A line of a JSON Lines stream that is not a document (what [`ParseError`] said).
    #[error("not a news document: {0}")]
    BadLine(String),
}

/// Parses a document of any of the three shapes, recognised by its fields.
///
/// # Errors
/// [`ParseError`] when the document as a whole cannot be read.
pub fn parse(json: &str) -> Result<Batch, ParseError> {
    let value: Value = serde_json::from_str(json).map_err(|e| ParseError::NotJson(e.to_string()))?;
    match detect(&value) {
        Some(Source::NewsApi) => newsapi(&value),
        Some(Source::Reddit) => reddit(&value),
        Some(Source::Twitter) => twitter(&value),
        None => Err(ParseError::UnknownShape),
    }
}

/// Parses a file or stream of JSON Lines: each non-empty line a document of any of the
/// three shapes. A line that is not a document becomes one [`ItemError`]
/// ([`ItemProblem::BadLine`], `index` = its line number from 1) and the other lines are
/// kept; item errors inside a line keep their index in that line's list.
pub fn parse_lines(text: &str) -> Batch {
    let mut batch = Batch::default();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match parse(line) {
            Ok(mut lines) => {
                batch.items.append(&mut lines.items);
                batch.errors.append(&mut lines.errors);
            }
            Err(e) => batch.errors.push(ItemError { shape: "lines", index: number + 1, id: None, problem: ItemProblem::BadLine(e.to_string()) }),
        }
    }
    batch
}

/// Parses a document of a known shape.
///
/// # Errors
/// [`ParseError`] when the document as a whole cannot be read.
pub fn parse_as(source: Source, json: &str) -> Result<Batch, ParseError> {
    let value: Value = serde_json::from_str(json).map_err(|e| ParseError::NotJson(e.to_string()))?;
    match source {
        Source::NewsApi => newsapi(&value),
        Source::Reddit => reddit(&value),
        Source::Twitter => twitter(&value),
    }
}

/// The shape of a parsed document, if it is one of the three.
pub fn detect(value: &Value) -> Option<Source> {
    if value.get("articles").is_some() || value.get("status").and_then(Value::as_str) == Some("error") && value.get("data").is_none() {
        Some(Source::NewsApi)
    } else if value.get("kind").and_then(Value::as_str) == Some("Listing") || value.pointer("/data/children").is_some() {
        Some(Source::Reddit)
    } else if value.get("data").is_some_and(|d| d.is_array() || d.is_object()) {
        Some(Source::Twitter)
    } else {
        None
    }
}

fn newsapi(value: &Value) -> Result<Batch, ParseError> {
    const SOURCE: &str = "newsapi";
    if value.get("status").and_then(Value::as_str) == Some("error") {
        let message = value.get("message").and_then(Value::as_str).unwrap_or("(no message)").to_owned();
        return Err(ParseError::ErrorResponse { shape: SOURCE, message });
    }
    let articles = value.get("articles").and_then(Value::as_array).ok_or(ParseError::NotAList { shape: SOURCE, field: "articles" })?;
    Ok(collect(SOURCE, articles.iter(), |article| {
        let url = required_str(article, "url")?;
        let published = rfc3339(article, "publishedAt")?;
        let channel = article.get("source").and_then(|s| s.get("name")).and_then(Value::as_str).map(str::to_owned);
        Ok(NewsItem {
            source: Source::NewsApi,
            id: url.to_owned(),
            title: optional_str(article, "title")?,
            body: optional_str(article, "description")?,
            published,
            url: Some(url.to_owned()),
            channel,
        })
    }))
}

fn reddit(value: &Value) -> Result<Batch, ParseError> {
    const SOURCE: &str = "reddit";
    let children = value.pointer("/data/children").and_then(Value::as_array).ok_or(ParseError::NotAList { shape: SOURCE, field: "data.children" })?;
    Ok(collect(SOURCE, children.iter(), |child| {
        let post = child.get("data").and_then(Value::as_object).ok_or(ItemProblem::Missing("data"))?;
        let id = required_str(post, "id")?;
        let created = match post.get("created_utc") {
            None | Some(Value::Null) => return Err(ItemProblem::Missing("created_utc")),
            Some(v) => v.as_f64().and_then(seconds_to_time).ok_or_else(|| ItemProblem::BadTime { field: "created_utc", value: v.to_string() })?,
        };
        let body = match optional_str(post, "selftext")? {
            Some(text) => Some(text),
            None => optional_str(post, "body")?,
        };
        let url = optional_str(post, "permalink")?.map(|p| if p.starts_with('/') { format!("https://www.reddit.com{p}") } else { p });
        Ok(NewsItem {
            source: Source::Reddit,
            id: id.to_owned(),
            title: optional_str(post, "title")?,
            body,
            published: created,
            url,
            channel: optional_str(post, "subreddit")?,
        })
    }))
}

fn twitter(value: &Value) -> Result<Batch, ParseError> {
    const SOURCE: &str = "twitter";
    let tweets: Vec<&Value> = match value.get("data") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(ParseError::NotAList { shape: SOURCE, field: "data" }),
    };
    Ok(collect(SOURCE, tweets.into_iter(), |tweet| {
        let id = required_str(tweet, "id")?;
        let published = rfc3339(tweet, "created_at")?;
        Ok(NewsItem {
            source: Source::Twitter,
            id: id.to_owned(),
            title: None,
            body: optional_str(tweet, "text")?,
            published,
            url: Some(format!("https://x.com/i/web/status/{id}")),
            channel: optional_str(tweet, "author_id")?,
        })
    }))
}

/// Parses every element with `one`, keeping good items and naming bad ones; an item with
/// neither title nor body is refused.
fn collect<'v>(shape: &'static str, elements: impl Iterator<Item = &'v Value>, one: impl Fn(&Map<String, Value>) -> Result<NewsItem, ItemProblem>) -> Batch {
    let mut batch = Batch::default();
    for (index, element) in elements.enumerate() {
        let parsed = element.as_object().ok_or(ItemProblem::NotAnObject).and_then(|object| {
            let item = one(object)?;
            if item.text().trim().is_empty() {
                return Err(ItemProblem::NoText);
            }
            Ok(item)
        });
        match parsed {
            Ok(item) => batch.items.push(item),
            Err(problem) => batch.errors.push(ItemError { shape, index, id: find_id(element), problem }),
        }
    }
    batch
}

/// The item's id for an error report, wherever the shape keeps it.
fn find_id(element: &Value) -> Option<String> {
    ["/id", "/data/id", "/url"].iter().find_map(|p| element.pointer(p)).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn required_str<'v>(object: &'v Map<String, Value>, field: &'static str) -> Result<&'v str, ItemProblem> {
    match object.get(field) {
        None | Some(Value::Null) => Err(ItemProblem::Missing(field)),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ItemProblem::Missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ItemProblem::WrongType { field, expected: "a string" }),
    }
}

/// A string field that may be absent, null or empty (all read as `None`).
fn optional_str(object: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ItemProblem> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok((!s.trim().is_empty()).then(|| s.clone())),
        Some(_) => Err(ItemProblem::WrongType { field, expected: "a string" }),
    }
}

/// An RFC 3339 timestamp field (`2026-03-02T14:05:00Z`, fractional seconds and offsets
/// allowed).
fn rfc3339(object: &Map<String, Value>, field: &'static str) -> Result<EventTime, ItemProblem> {
    let text = required_str(object, field)?;
    text.parse::<jiff::Timestamp>()
        .map(|ts| EventTime::from_micros(ts.as_microsecond()))
        .map_err(|_| ItemProblem::BadTime { field, value: format!("{text:?}") })
}

/// Unix seconds (possibly fractional, as reddit writes them) to a time, rounded to the
/// microsecond; `None` when not finite or out of range.
fn seconds_to_time(seconds: f64) -> Option<EventTime> {
    let micros = (seconds * 1_000_000.0).round();
    // ±2^62 µs is ±146,000 years: everything in range, nothing near i64's edges.
    (micros.is_finite() && micros.abs() < 4.6e18).then(|| EventTime::from_micros(micros as i64))
}
