//! Distributed tracing of the Kafka runtime: W3C Trace Context in Kafka headers and the
//! OpenTelemetry spans of consuming, handling and committing, so that a tick → signal →
//! order → fill → pnl chain across agents is one trace.
//!
//! Spans of one agent instance:
//!
//! ```text
//! transaction   (per batch, a root of its own; from begin to commit or abort)
//! └── commit    (snapshot, input offsets, commit: the outputs become visible here)
//! handle        (per input, kind consumer; parent: the input's `traceparent`, or a new
//!                trace when it has none; linked to its transaction)
//! ```
//!
//! Every output of an input — dead letters included — carries the `traceparent` of that
//! input's `handle` span, so the next agent's `handle` span is its child, in the same trace.
//! A `handle` span is not a child of its transaction: a batch mixes inputs of many traces,
//! so the transaction is reached through the span link instead.
//!
//! Spans go to OpenTelemetry's global tracer provider, which a process installs at start
//! (`maxx_service::telemetry::init`). Without one — tracing off, or a test — the no-op
//! provider records nothing, and a `handle` span has its parent's context: outputs carry
//! the input's `traceparent` unchanged, and an input without one causes outputs without
//! one. Attributes are only built for a span that records, so tracing off costs next to
//! nothing. Exporting is the provider's business (batched on a thread of its own, bounded
//! queue): nothing here waits for it.

use std::str::FromStr;
use std::sync::Arc;

use maxx_events::BusEvent;
use opentelemetry::global::{BoxedSpan, BoxedTracer};
use opentelemetry::trace::{Link, Span, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState, Tracer};
use opentelemetry::{Context, InstrumentationScope, KeyValue, SpanId, StringValue, TraceId};
use rdkafka::message::{BorrowedHeaders, Header, Headers, OwnedHeaders};

/// The header name (W3C Trace Context, lower case as the spec writes it).
pub const TRACEPARENT: &str = "traceparent";
/// The vendor-specific companion header of [`TRACEPARENT`], carried along with it.
pub const TRACESTATE: &str = "tracestate";

/// Span attribute: the agent's name.
pub const ATTR_AGENT: &str = "maxx.agent";
/// Span attribute: the agent instance (`<agent>-<ordinal>`).
pub const ATTR_INSTANCE: &str = "maxx.instance";
/// Span attribute: the bus topic of an input (without the namespace).
pub const ATTR_TOPIC: &str = "messaging.destination.name";
/// Span attribute: the input's partition.
pub const ATTR_PARTITION: &str = "messaging.destination.partition.id";
/// Span attribute: the input's offset.
pub const ATTR_OFFSET: &str = "messaging.kafka.offset";
/// Span attribute: the input's event type (`Tick`, `Signal`...), once decoded.
pub const ATTR_EVENT_TYPE: &str = "maxx.event.type";
/// Span attribute: the input's event id, once decoded.
pub const ATTR_EVENT_ID: &str = "maxx.event.id";
/// Span attribute: the symbol the input is about, when it names one.
pub const ATTR_SYMBOL: &str = "maxx.symbol";
/// Span attribute: outputs of a `handle` span or a transaction.
pub const ATTR_OUTPUTS: &str = "maxx.outputs";
/// Span attribute: inputs of a transaction.
pub const ATTR_INPUTS: &str = "maxx.inputs";

/// The span context a `traceparent` value names, as a remote parent — or `None` when the
/// value is not well formed, which the W3C spec says to treat as no parent at all.
///
/// Accepted: `<version>-<trace id>-<parent id>-<flags>`, lower-case hex of 2, 32, 16 and 2
/// digits, neither id all zeros, version not `ff`. Version `00` has exactly these four
/// fields; a later version may append more after a `-`, which are ignored.
pub fn parse_traceparent(value: &[u8]) -> Option<SpanContext> {
    let bytes = value.trim_ascii();
    if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let version = hex_u8(&bytes[0..2])?;
    match (version, bytes.len()) {
        (0xff, _) => return None,
        (0x00, 55) => {}
        (0x00, _) => return None,
        (_, 55) => {}
        (_, _) if bytes[55] == b'-' => {}
        _ => return None,
    }
    let trace_id = TraceId::from_bytes(hex_array(&bytes[3..35])?);
    let span_id = SpanId::from_bytes(hex_array(&bytes[36..52])?);
    let flags = hex_u8(&bytes[53..55])?;
    if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
        return None;
    }
    // Only the sampled bit has a meaning in version 00; unknown bits are not passed on.
    let flags = TraceFlags::new(flags & TraceFlags::SAMPLED.to_u8());
    Some(SpanContext::new(trace_id, span_id, flags, true, TraceState::default()))
}

/// The `traceparent` value (version `00`) of a span context, or `None` for an invalid one.
pub fn format_traceparent(context: &SpanContext) -> Option<String> {
    context.is_valid().then(|| format!("00-{}-{}-{:02x}", context.trace_id(), context.span_id(), context.trace_flags().to_u8()))
}

/// The value of one lower-case hex digit.
fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// Two lower-case hex digits.
fn hex_u8(pair: &[u8]) -> Option<u8> {
    match pair {
        [high, low] => Some(hex_digit(*high)? << 4 | hex_digit(*low)?),
        _ => None,
    }
}

/// `2 * N` lower-case hex digits as `N` bytes, big-endian.
fn hex_array<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = hex_u8(pair)?;
    }
    Some(out)
}

/// The trace context of an input: a remote parent from its `traceparent` (with its
/// `tracestate`, when that is well formed), or the empty context when it has none or a
/// malformed one. Never fails.
pub fn remote_parent(headers: Option<&BorrowedHeaders>) -> Context {
    let Some(headers) = headers else { return Context::new() };
    let find = |name: &str| headers.iter().find(|h| h.key.eq_ignore_ascii_case(name)).and_then(|h| h.value);
    let Some(parent) = find(TRACEPARENT).and_then(parse_traceparent) else { return Context::new() };
    let state = find(TRACESTATE)
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| TraceState::from_str(v.trim()).ok())
        .unwrap_or_default();
    let parent = SpanContext::new(parent.trace_id(), parent.span_id(), parent.trace_flags(), true, state);
    Context::new().with_remote_span_context(parent)
}

/// The headers an output caused within `context` carries: its `traceparent` (and
/// `tracestate`), or none when the context is invalid (no trace to join).
pub fn output_headers(context: &SpanContext) -> Option<OwnedHeaders> {
    let traceparent = format_traceparent(context)?;
    let mut headers = OwnedHeaders::new_with_capacity(2).insert(Header { key: TRACEPARENT, value: Some(traceparent.as_str()) });
    let state = context.trace_state().header();
    if !state.is_empty() {
        headers = headers.insert(Header { key: TRACESTATE, value: Some(state.as_str()) });
    }
    Some(headers)
}

/// The event type of a bus event, as a span attribute value.
pub fn event_type(event: &BusEvent) -> &'static str {
    match event {
        BusEvent::Tick(_) => "Tick",
        BusEvent::SentimentScore(_) => "SentimentScore",
        BusEvent::SessionEvent(_) => "SessionEvent",
        BusEvent::Signal(_) => "Signal",
        BusEvent::Order(_) => "Order",
        BusEvent::OrderAck(_) => "OrderAck",
        BusEvent::Fill(_) => "Fill",
        BusEvent::Pnl(_) => "Pnl",
        BusEvent::RiskState(_) => "RiskState",
        BusEvent::RiskEvent(_) => "RiskEvent",
        BusEvent::GovernorWeights(_) => "GovernorWeights",
        BusEvent::Command(_) => "Command",
        BusEvent::AgentState(_) => "AgentState",
        BusEvent::DeadLetter(_) => "DeadLetter",
    }
}

/// The symbol a bus event is about, when it names one.
pub fn symbol(event: &BusEvent) -> Option<&str> {
    match event {
        BusEvent::Tick(e) => Some(&e.symbol),
        BusEvent::SentimentScore(e) => Some(&e.symbol),
        BusEvent::Signal(e) => Some(&e.symbol),
        BusEvent::Order(e) => Some(&e.symbol),
        BusEvent::Fill(e) => Some(&e.symbol),
        BusEvent::RiskEvent(e) => e.symbol.as_deref(),
        _ => None,
    }
}

/// Makes the runtime's spans for one agent instance, on the global tracer provider as it
/// is when the instance starts.
pub(crate) struct RuntimeTracer {
    tracer: BoxedTracer,
    /// Agent and instance attributes, shared by every span (cloning them is a ref count).
    identity: [KeyValue; 2],
}

impl RuntimeTracer {
    pub(crate) fn new(agent: &str, instance: &str) -> Self {
        let scope = InstrumentationScope::builder("maxx-runtime").with_version(env!("CARGO_PKG_VERSION")).build();
        let shared = |text: &str| StringValue::from(Arc::<str>::from(text));
        Self {
            tracer: opentelemetry::global::tracer_with_scope(scope),
            identity: [KeyValue::new(ATTR_AGENT, shared(agent)), KeyValue::new(ATTR_INSTANCE, shared(instance))],
        }
    }

    fn identity(&self) -> [KeyValue; 2] {
        self.identity.clone()
    }

    /// The span of a transaction just begun: a root.
    pub(crate) fn transaction(&self) -> BoxedSpan {
        let mut span = self.tracer.span_builder("transaction").with_kind(SpanKind::Internal).start_with_context(&self.tracer, &Context::new());
        if span.is_recording() {
            span.set_attributes(self.identity());
        }
        span
    }

    /// The span of committing `transaction`: its child.
    pub(crate) fn commit(&self, transaction: Option<&BoxedSpan>) -> BoxedSpan {
        let parent = transaction.map_or_else(Context::new, |t| Context::new().with_remote_span_context(t.span_context().clone()));
        let mut span = self.tracer.span_builder("commit").with_kind(SpanKind::Producer).start_with_context(&self.tracer, &parent);
        if span.is_recording() {
            span.set_attributes(self.identity());
        }
        span
    }

    /// The span of handling one input, child of `parent` (see [`remote_parent`]) and
    /// linked to its transaction.
    pub(crate) fn handle(&self, parent: &Context, transaction: Option<&BoxedSpan>, topic: &str, partition: i32, offset: i64) -> BoxedSpan {
        let mut builder = self.tracer.span_builder("handle").with_kind(SpanKind::Consumer);
        if let Some(transaction) = transaction.map(|t| t.span_context()).filter(|c| c.is_valid()) {
            builder = builder.with_links(vec![Link::with_context(transaction.clone())]);
        }
        let mut span = builder.start_with_context(&self.tracer, parent);
        if span.is_recording() {
            span.set_attributes(self.identity());
            span.set_attributes([
                KeyValue::new(ATTR_TOPIC, topic.to_owned()),
                KeyValue::new(ATTR_PARTITION, i64::from(partition)),
                KeyValue::new(ATTR_OFFSET, offset),
            ]);
        }
        span
    }
}

/// Adds what the decoded input tells — event type, id, symbol — to its `handle` span.
pub(crate) fn annotate(span: &mut BoxedSpan, event: &BusEvent) {
    if !span.is_recording() {
        return;
    }
    span.set_attribute(KeyValue::new(ATTR_EVENT_TYPE, event_type(event)));
    span.set_attribute(KeyValue::new(ATTR_EVENT_ID, event.event_id().to_string()));
    if let Some(symbol) = symbol(event) {
        span.set_attribute(KeyValue::new(ATTR_SYMBOL, symbol.to_owned()));
    }
}

/// Ends a span with an error status (a dead letter, an aborted transaction).
pub(crate) fn end_failed(mut span: BoxedSpan, reason: &str) {
    if span.is_recording() {
        span.set_status(Status::error(reason.to_owned()));
    }
    span.end();
}

/// Ends a span with a count attribute (inputs or outputs).
pub(crate) fn end_counted(mut span: BoxedSpan, key: &'static str, count: u64) {
    if span.is_recording() {
        span.set_attribute(KeyValue::new(key, i64::try_from(count).unwrap_or(i64::MAX)));
    }
    span.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_well_formed_traceparent_parses_as_a_remote_parent() {
        let context = parse_traceparent(VALID.as_bytes()).expect("valid");
        assert_eq!(context.trace_id(), TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex"));
        assert_eq!(context.span_id(), SpanId::from_hex("00f067aa0ba902b7").expect("hex"));
        assert!(context.is_sampled());
        assert!(context.is_remote());
        assert_eq!(format_traceparent(&context).as_deref(), Some(VALID));
    }

    #[test]
    fn malformed_traceparents_are_ignored() {
        for (value, why) in [
            ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "upper case"),
            ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "zero trace id"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "zero span id"),
            ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "version 00 with more fields"),
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra", "no dash after the flags"),
            ("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01", "dash misplaced"),
            ("00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "sign in the trace id"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-+0f067aa0ba902b7-01", "sign in the span id"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", "flags not hex"),
            ("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "short version"),
            ("", "empty"),
            ("garbage", "garbage"),
        ] {
            assert!(parse_traceparent(value.as_bytes()).is_none(), "{why}: {value}");
        }
        assert!(parse_traceparent(&[0xff, 0xfe]).is_none(), "not UTF-8");
        // Multi-byte characters where the dashes should be must not split a char.
        assert!(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e473é00f067aa0ba902b7-01".as_bytes()).is_none());
    }

    #[test]
    fn a_later_version_is_read_as_far_as_version_00_goes() {
        let context = parse_traceparent(b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds").expect("valid");
        assert_eq!(format_traceparent(&context).as_deref(), Some(VALID), "passed on as version 00");
    }

    #[test]
    fn unknown_flags_are_dropped_and_unsampled_is_kept() {
        let context = parse_traceparent(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff").expect("valid");
        assert_eq!(context.trace_flags(), TraceFlags::SAMPLED);
        let context = parse_traceparent(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").expect("valid");
        assert!(!context.is_sampled());
        assert!(format_traceparent(&context).is_some_and(|v| v.ends_with("-00")));
    }

    #[test]
    fn an_invalid_context_has_no_traceparent() {
        assert_eq!(format_traceparent(&SpanContext::empty_context()), None);
        assert!(output_headers(&SpanContext::empty_context()).is_none());
    }

    #[test]
    fn output_headers_carry_traceparent_and_tracestate() {
        let parsed = parse_traceparent(VALID.as_bytes()).expect("valid");
        let state = TraceState::from_key_value([("vendor", "value")]).expect("state");
        let context = SpanContext::new(parsed.trace_id(), parsed.span_id(), parsed.trace_flags(), false, state);
        let headers = output_headers(&context).expect("headers");
        let values: Vec<(String, Vec<u8>)> =
            headers.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec).unwrap_or_default())).collect();
        assert_eq!(values, vec![(TRACEPARENT.to_owned(), VALID.as_bytes().to_vec()), (TRACESTATE.to_owned(), b"vendor=value".to_vec())]);
    }

    fn headers(pairs: &[(&str, &[u8])]) -> OwnedHeaders {
        pairs.iter().fold(OwnedHeaders::new(), |headers, (key, value)| headers.insert(Header { key, value: Some(*value) }))
    }

    #[test]
    fn the_remote_parent_comes_from_the_headers() {
        let valid = headers(&[("other", b"x"), ("TraceParent", VALID.as_bytes()), (TRACESTATE, b"vendor=value, other=1")]);
        let parent = remote_parent(Some(valid.as_borrowed()));
        let context = parent.span().span_context().clone();
        assert_eq!(format_traceparent(&context).as_deref(), Some(VALID), "header names are case-insensitive");
        assert!(context.is_remote());
        assert_eq!(context.trace_state().header(), "vendor=value,other=1");

        let bad_state = headers(&[(TRACEPARENT, VALID.as_bytes()), (TRACESTATE, b"Upper=case")]);
        let context = remote_parent(Some(bad_state.as_borrowed())).span().span_context().clone();
        assert_eq!(format_traceparent(&context).as_deref(), Some(VALID), "a malformed tracestate does not lose the parent");
        assert_eq!(context.trace_state().header(), "");

        for without in [headers(&[(TRACEPARENT, b"00-garbage")]), headers(&[(TRACESTATE, b"vendor=value")]), headers(&[])] {
            assert!(!remote_parent(Some(without.as_borrowed())).has_active_span(), "no valid traceparent, no parent");
        }
        assert!(!remote_parent(None).has_active_span());
    }

    #[test]
    fn without_a_tracer_provider_a_handle_span_passes_its_parent_on() {
        // The no-op provider (nothing installed in unit tests): outputs keep the input's
        // traceparent, and an input without one causes outputs without one.
        let tracer = RuntimeTracer::new("alpha", "alpha-0");
        let parent = Context::new().with_remote_span_context(parse_traceparent(VALID.as_bytes()).expect("valid"));
        let span = tracer.handle(&parent, None, "ticks", 0, 7);
        assert_eq!(format_traceparent(span.span_context()).as_deref(), Some(VALID));
        let orphan = tracer.handle(&Context::new(), None, "ticks", 0, 8);
        assert_eq!(format_traceparent(orphan.span_context()), None);
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse_traceparent(&bytes);
        }

        #[test]
        fn parsing_near_valid_text_never_panics(text in "[0-9a-fA-F\\-é ]{50,60}") {
            let _ = parse_traceparent(text.as_bytes());
        }

        #[test]
        fn what_is_formatted_parses_back(trace in 1u128.., span in 1u64.., sampled in any::<bool>()) {
            let flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
            let context = SpanContext::new(TraceId::from(trace), SpanId::from(span), flags, false, TraceState::default());
            let text = format_traceparent(&context).expect("valid");
            let parsed = parse_traceparent(text.as_bytes()).expect("parses");
            prop_assert_eq!((parsed.trace_id(), parsed.span_id(), parsed.trace_flags()), (context.trace_id(), context.span_id(), flags));
        }
    }
}
