//! A strict reader of the Prometheus text exposition format (0.0.4), so tests check what
//! `/metrics` serves the way a scraper would read it: names, labels and escapes, values, one
//! `# TYPE` per family before its samples, families not interleaved, histograms with
//! cumulative buckets ending in `+Inf` equal to `_count`.

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample {
    /// Full sample name (with `_bucket`, `_sum`, `_count` for histograms).
    pub name: String,
    /// Labels, in order of appearance.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

impl ParsedSample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A metric family: its `# TYPE`, `# HELP` and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Family name.
    pub name: String,
    /// `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub kind: String,
    /// Help text, when given.
    pub help: Option<String>,
    /// Samples, in order.
    pub samples: Vec<ParsedSample>,
}

/// Text that is not a valid exposition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ExpositionError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

fn valid_name(name: &str, allow_colon: bool) -> bool {
    crate::metrics::valid_name(name, allow_colon)
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        other => other.parse().ok().filter(|_| !other.is_empty() && !other.contains(char::is_alphabetic) || other.contains('e')),
    }
}

/// Labels of a sample, in order.
type Labels = Vec<(String, String)>;

/// Reads `{k="v",...}` from the start of `text`; returns the labels and the rest.
fn parse_labels(text: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    let mut rest = text.strip_prefix('{').ok_or("expected {")?;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = rest[..eq].trim();
        if !valid_name(name, false) {
            return Err(format!("invalid label name {name:?}"));
        }
        if labels.iter().any(|(k, _): &(String, String)| k == name) {
            return Err(format!("label {name} repeated"));
        }
        rest = rest[eq + 1..].trim_start().strip_prefix('"').ok_or("label value must be quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value".into()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("invalid escape {other:?}")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((name.to_owned(), value));
        rest = rest[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("expected , or } after a label".into());
        }
    }
}

/// The family a sample belongs to, given the declared families.
fn family_of<'a>(sample: &'a str, kind_of: impl Fn(&str) -> Option<&'a str>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample.strip_suffix(suffix) {
            if matches!(kind_of(base), Some("histogram" | "summary")) {
                return base;
            }
        }
    }
    sample
}

/// Parses and checks an exposition.
///
/// # Errors
/// The first problem found, with its line.
pub fn parse(text: &str) -> Result<Vec<Family>, ExpositionError> {
    let mut families: Vec<Family> = Vec::new();
    let mut closed: Vec<String> = Vec::new();
    let mut helps: Vec<(String, String)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let err = |problem: String| ExpositionError { line: index + 1, problem };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut parts = comment.trim_start().splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    if !valid_name(name, true) {
                        return Err(err(format!("invalid metric name {name:?}")));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind.trim()) {
                        return Err(err(format!("unknown type {kind:?}")));
                    }
                    if families.iter().any(|f| f.name == name) {
                        return Err(err(format!("second TYPE for {name}")));
                    }
                    if let Some(last) = families.last() {
                        closed.push(last.name.clone());
                    }
                    let help = helps.iter().find(|(n, _)| n == name).map(|(_, h)| h.clone());
                    families.push(Family { name: name.to_owned(), kind: kind.trim().to_owned(), help, samples: Vec::new() });
                }
                (Some("HELP"), Some(name), help) => {
                    if !valid_name(name, true) {
                        return Err(err(format!("invalid metric name {name:?}")));
                    }
                    // HELP may precede its TYPE; keep it for the family it names.
                    match families.iter_mut().find(|f| f.name == name) {
                        Some(family) => family.help = help.map(str::to_owned),
                        None => helps.push((name.to_owned(), help.unwrap_or_default().to_owned())),
                    }
                }
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| err("a sample needs a value".into()))?;
        let name = &line[..name_end];
        if !valid_name(name, true) {
            return Err(err(format!("invalid metric name {name:?}")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') { parse_labels(&line[name_end..]).map_err(err)? } else { (Vec::new(), &line[name_end..]) };
        let mut fields = rest.split_whitespace();
        let value = fields.next().and_then(parse_value).ok_or_else(|| err(format!("invalid value in {line:?}")))?;
        if let Some(timestamp) = fields.next() {
            timestamp.parse::<i64>().map_err(|_| err(format!("invalid timestamp {timestamp:?}")))?;
        }
        if fields.next().is_some() {
            return Err(err("trailing text after the timestamp".into()));
        }
        let family_name = family_of(name, |base| families.iter().find(|f| f.name == base).map(|f| f.kind.as_str())).to_owned();
        if closed.contains(&family_name) {
            return Err(err(format!("sample of {family_name} after another family began")));
        }
        let Some(family) = families.last_mut().filter(|f| f.name == family_name) else {
            return Err(err(format!("sample {name} without a preceding TYPE for its family")));
        };
        family.samples.push(ParsedSample { name: name.to_owned(), labels, value });
    }
    for family in &families {
        if family.kind == "histogram" {
            check_histogram(family).map_err(|problem| ExpositionError { line: 0, problem })?;
        }
        if family.kind == "counter" && family.samples.iter().any(|s| s.value < 0.0 || s.value.is_nan()) {
            return Err(ExpositionError { line: 0, problem: format!("counter {} has a negative or NaN value", family.name) });
        }
    }
    Ok(families)
}

fn check_histogram(family: &Family) -> Result<(), String> {
    let name = &family.name;
    let buckets: Vec<&ParsedSample> = family.samples.iter().filter(|s| s.name == format!("{name}_bucket")).collect();
    let count = family.samples.iter().find(|s| s.name == format!("{name}_count")).ok_or(format!("{name} has no _count"))?;
    family.samples.iter().find(|s| s.name == format!("{name}_sum")).ok_or(format!("{name} has no _sum"))?;
    let mut previous: Option<(f64, f64)> = None;
    for bucket in &buckets {
        let le = bucket.label("le").and_then(parse_value).ok_or(format!("{name} bucket without a numeric le"))?;
        if let Some((prev_le, prev_count)) = previous {
            if le <= prev_le || bucket.value < prev_count {
                return Err(format!("{name} buckets are not ascending and cumulative at le={le}"));
            }
        }
        previous = Some((le, bucket.value));
    }
    match previous {
        Some((le, n)) if le == f64::INFINITY && n == count.value => Ok(()),
        _ => Err(format!("{name} must end with an le=\"+Inf\" bucket equal to _count")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_exposition_is_read() {
        let text = "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\n\\\\\"} 3\n\
            # TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n# TYPE g gauge\ng 1.5e3 1700000000000\n";
        let families = parse(text).expect("valid");
        assert_eq!(families.len(), 3);
        assert_eq!(families[0].help.as_deref(), Some("Things."));
        assert_eq!(families[0].samples[0].label("y"), Some("q\"\n\\"));
        assert_eq!(families[2].samples[0].value, 1500.0);
    }

    #[test]
    fn malformed_expositions_are_refused() {
        for bad in [
            "a 1\n",                                                         // no TYPE
            "# TYPE a gauge\na{x=1} 1\n",                                    // unquoted
            "# TYPE a gauge\na{x=\"1\"} one\n",                              // value
            "# TYPE a gauge\n# TYPE b gauge\na 1\n",                         // interleaved
            "# TYPE a gauge\na 1\n# TYPE a gauge\n",                         // second TYPE
            "# TYPE a counter\na -1\n",                                      // negative counter
            "# TYPE 1a gauge\n",                                             // name
            "# TYPE a gauge\na{x=\"\\q\"} 1\n",                              // escape
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", // not cumulative
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n", // no +Inf
            "# TYPE a gauge\na 1 2 3\n",                                     // trailing
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
