//! The offline, finance-aware sentiment lexicon and the scoring formula. Exact arithmetic
//! (`FixedPoint`), no floating point, no model: the same text always scores the same.
//!
//! **Tokens.** The text is split into clauses at `,` `;` `:` `!` `?` `(` `)`, line breaks,
//! and `.` followed by a space or the end. A clause's tokens are runs of letters, digits,
//! `'` and `$`, lower-cased (`’` reads as `'`; a hyphen separates, so "sell-off" is
//! "sell off").
//!
//! **Terms.** Scanning each clause left to right, the longest lexicon entry (up to
//! [`MAX_PHRASE`] tokens) starting at a token is a term, and scanning resumes after it —
//! so "profit warning" counts −3 once, not "profit" +2 and "warning" −2. Each entry has a
//! valence `v` in −3..=3 (mild ±1, clear ±2, strong ±3).
//!
//! **Modifiers** on a term, from the tokens before it in its clause:
//! - intensity `m`: 3/2 when the token right before is a booster ("sharply", "record"),
//!   1/2 when it is a dampener ("slightly"), else 1;
//! - negation `n`: −1/2 when one of the three tokens before is a negator ("not", "no",
//!   "never", "without", any `…n't`, "fails", "denies"…), else 1. A negator may itself be
//!   a term ("failed" scores −2 and negates what follows).
//!
//! **Score.** `S = Σ v·m·n` over the terms, and `score = S ÷ (|S| + 4)`, rounded to 8
//! decimals half away from zero: 0 without terms, in (−1, 1) always, ±3/7 ≈ ±0.43 for one
//! strong term, ±0.6 for two. Only the first [`MAX_TERMS`] terms count, which bounds `S`.

use std::collections::{BTreeMap, BTreeSet};

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

/// Longest phrase in tokens.
pub const MAX_PHRASE: usize = 4;

/// Terms counted per text at most.
pub const MAX_TERMS: usize = 10_000;

/// The constant `α` in `S ÷ (|S| + α)`.
pub const ALPHA: i64 = 4;

/// How many tokens before a term a negator reaches.
pub const NEGATION_REACH: usize = 3;

/// (entry, valence). Phrases are space-separated tokens.
const TERMS: &[(&str, i64)] = &[
    // Strong positive.
    ("beats estimates", 3), ("beat estimates", 3), ("beats expectations", 3), ("beat expectations", 3), ("tops estimates", 3),
    ("etf approval", 3), ("etf approved", 3), ("approves etf", 3), ("approved etf", 3), ("raises guidance", 3), ("raised guidance", 3),
    ("all time high", 3), ("record high", 3), ("soar", 3), ("soars", 3), ("soared", 3), ("skyrocket", 3), ("skyrockets", 3),
    // Clear positive.
    ("surge", 2), ("surges", 2), ("surged", 2), ("rally", 2), ("rallies", 2), ("rallied", 2), ("jump", 2), ("jumps", 2), ("jumped", 2),
    ("upgrade", 2), ("upgrades", 2), ("upgraded", 2), ("bullish", 2), ("outperform", 2), ("outperforms", 2), ("breakout", 2),
    ("buyback", 2), ("inflows", 2), ("adoption", 2), ("approval", 2), ("approved", 2), ("partnership", 2), ("profit", 2),
    ("profits", 2), ("profitable", 2), ("beat", 2), ("beats", 2), ("strong", 2), ("stronger", 2), ("gain", 2), ("gains", 2),
    ("gained", 2), ("rebound", 2), ("rebounds", 2), ("rebounded", 2), ("recovery", 2), ("optimism", 2), ("optimistic", 2),
    ("upbeat", 2), ("boost", 2), ("boosts", 2), ("boosted", 2), ("short squeeze", 2),
    // Mild positive.
    ("rise", 1), ("rises", 1), ("rose", 1), ("rising", 1), ("higher", 1), ("growth", 1), ("grow", 1), ("grows", 1), ("positive", 1),
    ("steady", 1), ("stable", 1), ("win", 1), ("wins", 1), ("launch", 1), ("launches", 1), ("rate cut", 1), ("rate cuts", 1), ("easing", 1),
    // Strong negative.
    ("hack", -3), ("hacked", -3), ("hacks", -3), ("exploit", -3), ("exploited", -3), ("fraud", -3), ("bankrupt", -3), ("bankruptcy", -3),
    ("insolvency", -3), ("insolvent", -3), ("collapse", -3), ("collapses", -3), ("collapsed", -3), ("crash", -3), ("crashes", -3),
    ("crashed", -3), ("plunge", -3), ("plunges", -3), ("plunged", -3), ("misses estimates", -3), ("missed estimates", -3),
    ("miss estimates", -3), ("misses expectations", -3), ("missed expectations", -3), ("cuts guidance", -3), ("cut guidance", -3),
    ("lowers guidance", -3), ("profit warning", -3), ("etf rejection", -3), ("rejects etf", -3), ("etf rejected", -3), ("etf denied", -3),
    ("delisting", -3), ("delisted", -3), ("rug pull", -3), ("bank run", -3), ("security breach", -3), ("ponzi", -3), ("scam", -3),
    // Clear negative.
    ("downgrade", -2), ("downgrades", -2), ("downgraded", -2), ("bearish", -2), ("slump", -2), ("slumps", -2), ("slumped", -2),
    ("tumble", -2), ("tumbles", -2), ("tumbled", -2), ("sink", -2), ("sinks", -2), ("sank", -2), ("selloff", -2), ("sell off", -2),
    ("lawsuit", -2), ("sues", -2), ("sued", -2), ("probe", -2), ("investigation", -2), ("ban", -2), ("bans", -2), ("banned", -2),
    ("crackdown", -2), ("outflows", -2), ("loss", -2), ("losses", -2), ("weak", -2), ("weaker", -2), ("underperform", -2),
    ("underperforms", -2), ("miss", -2), ("misses", -2), ("missed", -2), ("fail", -2), ("fails", -2), ("failed", -2), ("warning", -2),
    ("warns", -2), ("liquidation", -2), ("liquidations", -2), ("fined", -2), ("penalty", -2), ("breach", -2), ("outage", -2),
    ("halt", -2), ("halted", -2), ("layoffs", -2), ("recession", -2),
    // Mild negative.
    ("fall", -1), ("falls", -1), ("fell", -1), ("falling", -1), ("drop", -1), ("drops", -1), ("dropped", -1), ("decline", -1),
    ("declines", -1), ("declined", -1), ("negative", -1), ("concern", -1), ("concerns", -1), ("worries", -1), ("worry", -1),
    ("fear", -1), ("fears", -1), ("volatile", -1), ("uncertainty", -1), ("risk", -1), ("risks", -1), ("rate hike", -1),
    ("rate hikes", -1), ("inflation", -1), ("pressure", -1),
];

/// Tokens that multiply the next term by 3/2.
const BOOSTERS: &[&str] = &[
    "very", "extremely", "sharply", "strongly", "significantly", "massive", "massively", "hugely", "highly", "huge", "major",
    "heavily", "deeply", "dramatically", "substantially", "record",
];

/// Tokens that multiply the next term by 1/2.
const DAMPENERS: &[&str] = &["slightly", "somewhat", "marginally", "modestly", "mildly", "partially", "partly"];

/// Tokens that negate a term up to [`NEGATION_REACH`] tokens after them (plus any token
/// ending in `n't`).
const NEGATORS: &[&str] = &[
    "not", "no", "never", "without", "nor", "neither", "hardly", "cannot", "fail", "fails", "failed", "failing", "lack", "lacks",
    "lacking", "deny", "denies", "denied",
];

/// How the token before a term changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intensity {
    /// Unchanged.
    Plain,
    /// Boosted: × 3/2.
    Boosted,
    /// Dampened: × 1/2.
    Dampened,
}

/// One lexicon term found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// The entry, as in the lexicon.
    pub term: String,
    /// Its valence `v`.
    pub valence: FixedPoint,
    /// Intensity modifier applied.
    pub intensity: Intensity,
    /// Whether a negator reached it.
    pub negated: bool,
    /// Its contribution `v·m·n`.
    pub weight: FixedPoint,
}

/// The score of a text with its explanation (`POST /score` shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scored {
    /// `S ÷ (|S| + 4)`, in (−1, 1).
    pub score: FixedPoint,
    /// `S`, the sum of the weights.
    pub sum: FixedPoint,
    /// The terms found, in text order.
    pub hits: Vec<Hit>,
}

/// The lexicon, ready to score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexicon {
    terms: BTreeMap<String, i64>,
    boosters: BTreeSet<&'static str>,
    dampeners: BTreeSet<&'static str>,
    negators: BTreeSet<&'static str>,
}

impl Default for Lexicon {
    fn default() -> Self {
        Self {
            terms: TERMS.iter().map(|(term, v)| ((*term).to_owned(), *v)).collect(),
            boosters: BOOSTERS.iter().copied().collect(),
            dampeners: DAMPENERS.iter().copied().collect(),
            negators: NEGATORS.iter().copied().collect(),
        }
    }
}

impl Lexicon {
    /// The valence of an entry (a word or a space-separated phrase), if it has one.
    pub fn valence(&self, entry: &str) -> Option<i64> {
        self.terms.get(entry).copied()
    }

    /// Scores `text` as the module doc says.
    pub fn score(&self, text: &str) -> Scored {
        let mut hits = Vec::new();
        for clause in clauses(text) {
            let tokens = tokens(&clause);
            let mut i = 0;
            while i < tokens.len() && hits.len() < MAX_TERMS {
                let Some((len, valence)) = self.longest_term(&tokens[i..]) else {
                    i += 1;
                    continue;
                };
                hits.push(self.hit(&tokens, i, len, valence));
                i += len;
            }
        }
        let sum = hits.iter().fold(FixedPoint::ZERO, |sum, hit| sum.checked_add(hit.weight).unwrap_or(sum));
        let alpha = FixedPoint::from_raw(ALPHA * FixedPoint::SCALE);
        let score = sum.abs().checked_add(alpha).and_then(|den| sum.checked_div(den)).unwrap_or(FixedPoint::ZERO);
        Scored { score, sum, hits }
    }

    /// The longest entry at the start of `tokens`: (its length in tokens, its valence).
    fn longest_term(&self, tokens: &[String]) -> Option<(usize, i64)> {
        (1..=MAX_PHRASE.min(tokens.len())).rev().find_map(|len| self.valence(&tokens[..len].join(" ")).map(|v| (len, v)))
    }

    /// The term of `len` tokens at `at`, with its modifiers.
    fn hit(&self, tokens: &[String], at: usize, len: usize, valence: i64) -> Hit {
        let before = at.checked_sub(1).map(|i| tokens[i].as_str());
        let intensity = match before {
            Some(t) if self.boosters.contains(t) => Intensity::Boosted,
            Some(t) if self.dampeners.contains(t) => Intensity::Dampened,
            _ => Intensity::Plain,
        };
        let negated = tokens[at.saturating_sub(NEGATION_REACH)..at].iter().any(|t| self.negators.contains(t.as_str()) || t.ends_with("n't"));
        // v·m·n in quarters of a unit: m is 3/2 or 1/2 and n is −1/2, so 4·v·m·n is whole.
        let quarters = valence
            * match intensity {
                Intensity::Plain => 4,
                Intensity::Boosted => 6,
                Intensity::Dampened => 2,
            };
        let quarters = if negated { -quarters / 2 } else { quarters };
        let quarter = FixedPoint::SCALE / 4;
        Hit {
            term: tokens[at..at + len].join(" "),
            valence: FixedPoint::from_raw(valence * FixedPoint::SCALE),
            intensity,
            negated,
            weight: FixedPoint::from_raw(quarters * quarter),
        }
    }
}

/// The clauses of `text` (see the module doc).
fn clauses(text: &str) -> Vec<String> {
    let mut clauses = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let ends_clause = match c {
            ',' | ';' | ':' | '!' | '?' | '(' | ')' | '\n' | '\r' => true,
            '.' => chars.peek().is_none_or(|next| next.is_whitespace()),
            _ => false,
        };
        if ends_clause {
            clauses.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    clauses.push(current);
    clauses.retain(|c| !c.trim().is_empty());
    clauses
}

/// The lower-case tokens of a clause (see the module doc).
fn tokens(clause: &str) -> Vec<String> {
    clause
        .replace('\u{2019}', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '$'))
        .map(|t| t.trim_matches('\'').to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}
