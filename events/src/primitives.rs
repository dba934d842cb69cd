//! The value types every event shares: its id, its time, the producing agent, and exact
//! fixed-point numbers for money, prices, quantities and ratios.
//!
//! These are the only places where the wire representation of a value is decided, so each
//! carries its Avro schema (`AvroSchemaComponent`) next to its serde impls.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use apache_avro::schema::{Name, NamespaceRef, RecordField, UuidSchema};
use apache_avro::serde::AvroSchemaComponent;
use apache_avro::{AvroSchema, Schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The id of one event: a UUIDv7, so ids sort by creation time.
///
/// On the wire it is an Avro `string` with `logicalType: uuid` (hyphenated text), the form
/// Java and Confluent tooling read; `apache-avro`'s own `Uuid` mapping would be `fixed(16)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(Uuid);

impl EventId {
    /// A UUIDv7 for an event at `time`, with caller-chosen entropy.
    ///
    /// Deterministic: the same time and entropy give the same id, which is what replays and
    /// backtests need. The millisecond part of `time` is the UUID's timestamp.
    pub fn at(time: EventTime, entropy: [u8; 10]) -> Self {
        let millis = u64::try_from(time.as_micros().div_euclid(1000)).unwrap_or(0);
        Self(uuid::Builder::from_unix_timestamp_millis(millis, &entropy).into_uuid())
    }

    /// A UUIDv7 at `time` whose random bits are a stable hash of `parts`: the same parts
    /// give the same id on every run, on every machine, with every Rust release.
    ///
    /// This is how outputs get ids that a replay reproduces: agents derive them from the
    /// cause's id, the runtime derives dead letters' ids from where the input was read.
    pub fn derive(time: EventTime, parts: &[&[u8]]) -> Self {
        // FNV-1a (64-bit) run twice from different offsets, spread over the 80 bits UUIDv7
        // leaves after its timestamp. Each part is length-prefixed so ("ab","c") != ("a","bc").
        fn fnv1a(seed: u64, parts: &[&[u8]]) -> u64 {
            let step = |hash: u64, byte: &u8| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
            parts.iter().fold(seed, |hash, part| {
                let hash = (part.len() as u64).to_be_bytes().iter().fold(hash, step);
                part.iter().fold(hash, step)
            })
        }
        let (a, b) = (fnv1a(0xcbf2_9ce4_8422_2325, parts), fnv1a(0x8422_2325_cbf2_9ce4, parts));
        let mut entropy = [0; 10];
        entropy[..8].copy_from_slice(&a.to_be_bytes());
        entropy[8..].copy_from_slice(&b.to_be_bytes()[..2]);
        Self::at(time, entropy)
    }

    /// A UUIDv7 from the wall clock and random bits, for the edges of the system (feeds,
    /// manual orders) where no event time exists yet.
    pub fn now() -> Self {
        Self(Uuid::now_v7())
    }

    /// The UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for EventId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for EventId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = Uuid::encode_buffer();
        serializer.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = EventId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a UUID string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<EventId, E> {
                s.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl AvroSchemaComponent for EventId {
    fn get_schema_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Schema {
        Schema::Uuid(UuidSchema::String)
    }
    fn get_record_fields_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Option<Vec<RecordField>> {
        None
    }
}

/// When an event happened: microseconds since the Unix epoch, UTC (Avro `timestamp-micros`).
///
/// Agents never read a clock; this is their only notion of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventTime(i64);

impl EventTime {
    /// The time `micros` microseconds after the Unix epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }
}

impl AvroSchemaComponent for EventTime {
    fn get_schema_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Schema {
        Schema::TimestampMicros
    }
    fn get_record_fields_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Option<Vec<RecordField>> {
        None
    }
}

/// An exact decimal number with 8 fractional digits, held as an `i64` scaled by 10^8.
///
/// Every price, quantity, amount of money, score, weight and percentage on the bus uses it,
/// so no binary floating point ever reaches the wire. Range: about ±92 billion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FixedPoint(i64);

/// Why a text is not a [`FixedPoint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseFixedPointError {
    /// The text is not a plain decimal number.
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    /// More than 8 digits after the decimal point.
    #[error("{0:?} has more than 8 decimal places")]
    TooPrecise(String),
    /// Outside the range of an `i64` scaled by 10^8.
    #[error("{0:?} is out of range")]
    OutOfRange(String),
}

impl FixedPoint {
    /// Number of decimal places.
    pub const DECIMALS: u32 = 8;
    /// The raw value of 1.0.
    pub const SCALE: i64 = 100_000_000;
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// One.
    pub const ONE: Self = Self(Self::SCALE);

    /// The number whose scaled representation is `raw` (`raw = value × 10^8`).
    pub const fn from_raw(raw: i64) -> Self {
        Self(raw)
    }

    /// The scaled representation (`value × 10^8`).
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// A whole number, or `None` when it is out of range.
    pub const fn from_int(units: i64) -> Option<Self> {
        match units.checked_mul(Self::SCALE) {
            Some(raw) => Some(Self(raw)),
            None => None,
        }
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(raw) => Some(Self(raw)),
            None => None,
        }
    }

    /// `self - other`, or `None` on overflow.
    pub const fn checked_sub(self, other: Self) -> Option<Self> {
        match self.0.checked_sub(other.0) {
            Some(raw) => Some(Self(raw)),
            None => None,
        }
    }

    /// `self × other`, rounded to 8 decimals (ties away from zero), or `None` on overflow.
    pub fn checked_mul(self, other: Self) -> Option<Self> {
        Self::from_i128(round_div(i128::from(self.0) * i128::from(other.0), i128::from(Self::SCALE)))
    }

    /// `self ÷ other`, rounded to 8 decimals (ties away from zero), or `None` on division by
    /// zero or overflow.
    pub fn checked_div(self, other: Self) -> Option<Self> {
        if other.0 == 0 {
            return None;
        }
        Self::from_i128(round_div(i128::from(self.0) * i128::from(Self::SCALE), i128::from(other.0)))
    }

    /// `self × numerator ÷ denominator` with one rounding at the end (ties away from zero), or
    /// `None` on division by zero or overflow: the exact way to take a share of an amount.
    pub fn checked_mul_div(self, numerator: Self, denominator: Self) -> Option<Self> {
        if denominator.0 == 0 {
            return None;
        }
        let product = i128::from(self.0).checked_mul(i128::from(numerator.0))?;
        Self::from_i128(round_div(product, i128::from(denominator.0)))
    }

    /// `-self`, or `None` for the one value without a negation.
    pub const fn checked_neg(self) -> Option<Self> {
        match self.0.checked_neg() {
            Some(raw) => Some(Self(raw)),
            None => None,
        }
    }

    /// The absolute value, saturating at the maximum.
    pub const fn abs(self) -> Self {
        Self(self.0.saturating_abs())
    }

    /// True when below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True when above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// The nearest `f64`, for display and for indicators that are not money; never for
    /// amounts that go back on the wire without [`FixedPoint::from_f64`].
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }

    /// The fixed-point number nearest to `value` (ties away from zero), or `None` when it is
    /// not finite or out of range.
    pub fn from_f64(value: f64) -> Option<Self> {
        let scaled = (value * Self::SCALE as f64).round();
        // i64::MAX as f64 rounds up to 2^63, which is out of range: compare with `<`.
        (scaled.is_finite() && scaled >= i64::MIN as f64 && scaled < i64::MAX as f64).then_some(Self(scaled as i64))
    }

    fn from_i128(raw: i128) -> Option<Self> {
        i64::try_from(raw).ok().map(Self)
    }
}

/// `numerator ÷ denominator` rounded to the nearest integer, ties away from zero.
fn round_div(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.unsigned_abs() * 2 >= denominator.unsigned_abs() {
        quotient + if (numerator < 0) == (denominator < 0) { 1 } else { -1 }
    } else {
        quotient
    }
}

impl fmt::Display for FixedPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = Self::SCALE.unsigned_abs();
        let (int, frac) = (abs / scale, abs % scale);
        if frac == 0 {
            return write!(f, "{sign}{int}");
        }
        let digits = format!("{frac:08}");
        write!(f, "{sign}{int}.{}", digits.trim_end_matches('0'))
    }
}

impl FromStr for FixedPoint {
    type Err = ParseFixedPointError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let not_a_number = || ParseFixedPointError::NotANumber(text.to_owned());
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !is_digits(int) || !is_digits(frac) {
            return Err(not_a_number());
        }
        if frac.len() > Self::DECIMALS as usize {
            return Err(ParseFixedPointError::TooPrecise(text.to_owned()));
        }
        let out_of_range = || ParseFixedPointError::OutOfRange(text.to_owned());
        let int: i128 = if int.is_empty() { 0 } else { int.parse().map_err(|_| out_of_range())? };
        let frac_raw: i128 = format!("{frac:0<8}").parse().map_err(|_| not_a_number())?;
        let magnitude = int
            .checked_mul(i128::from(Self::SCALE))
            .and_then(|v| v.checked_add(frac_raw))
            .ok_or_else(out_of_range)?;
        let raw = if negative { -magnitude } else { magnitude };
        i64::try_from(raw).map(Self).map_err(|_| out_of_range())
    }
}

impl AvroSchemaComponent for FixedPoint {
    fn get_schema_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Schema {
        Schema::Long
    }
    fn get_record_fields_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Option<Vec<RecordField>> {
        None
    }
}

/// The agent that produced an event, with its version and instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Producer {
    /// Agent name, e.g. `maxx-alpha`.
    pub agent: String,
    /// Version of the agent build.
    pub version: String,
    /// Instance (transactional identity), e.g. `alpha-0`.
    pub instance: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    #[test]
    fn fixed_point_arithmetic_is_exact_and_rounds_half_away_from_zero() {
        assert_eq!(fp("0.1").checked_add(fp("0.2")), Some(fp("0.3")));
        assert_eq!(fp("1.5").checked_sub(fp("2.25")), Some(fp("-0.75")));
        assert_eq!(fp("62650.2").checked_mul(fp("0.004")), Some(fp("250.6008")));
        assert_eq!(fp("1").checked_div(fp("3")), Some(fp("0.33333333")));
        assert_eq!(fp("2").checked_div(fp("3")), Some(fp("0.66666667")));
        assert_eq!(fp("-2").checked_div(fp("3")), Some(fp("-0.66666667")));
        assert_eq!(fp("0.00000001").checked_mul(fp("0.5")), Some(fp("0.00000001")), "tie rounds away from zero");
        assert_eq!(fp("-0.00000001").checked_mul(fp("0.5")), Some(fp("-0.00000001")));
        assert_eq!(fp("1").checked_div(FixedPoint::ZERO), None);
        assert_eq!(FixedPoint::from_raw(i64::MAX).checked_add(FixedPoint::from_raw(1)), None);
        assert_eq!(fp("90000000000").checked_mul(fp("2")), None);
        assert_eq!(fp("100").checked_mul_div(fp("1"), fp("3")), Some(fp("33.33333333")));
        assert_eq!(fp("90000000000").checked_mul_div(fp("3"), fp("3")), Some(fp("90000000000")), "no overflow in between");
        assert_eq!(FixedPoint::from_f64(0.1), Some(fp("0.1")));
        assert_eq!(FixedPoint::from_f64(f64::NAN), None);
        assert_eq!(FixedPoint::from_f64(1e300), None);
        assert_eq!(fp("-3.5").abs(), fp("3.5"));
    }

    #[test]
    fn fixed_point_parses_and_prints_exactly() {
        for (text, raw) in [
            ("0", 0),
            ("1", 100_000_000),
            ("-1.5", -150_000_000),
            ("62650.2", 6_265_020_000_000),
            ("0.00000001", 1),
            ("-0.00000001", -1),
            (".5", 50_000_000),
        ] {
            let value: FixedPoint = text.parse().expect(text);
            assert_eq!(value.raw(), raw, "{text}");
        }
        assert_eq!(FixedPoint::from_raw(6_265_020_000_000).to_string(), "62650.2");
        assert_eq!(FixedPoint::from_raw(-1).to_string(), "-0.00000001");
        assert_eq!(FixedPoint::from_raw(i64::MIN).to_string(), "-92233720368.54775808");
    }

    #[test]
    fn fixed_point_rejects_what_it_cannot_hold() {
        assert!(matches!("1.123456789".parse::<FixedPoint>(), Err(ParseFixedPointError::TooPrecise(_))));
        assert!(matches!("92233720369".parse::<FixedPoint>(), Err(ParseFixedPointError::OutOfRange(_))));
        for bad in ["", "-", ".", "1e5", "1.2.3", "abc", "--1", "1,5", " 1"] {
            assert!(matches!(bad.parse::<FixedPoint>(), Err(ParseFixedPointError::NotANumber(_))), "{bad:?}");
        }
    }

    #[test]
    fn fixed_point_text_round_trips_at_the_extremes() {
        for raw in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX] {
            let value = FixedPoint::from_raw(raw);
            assert_eq!(value.to_string().parse::<FixedPoint>(), Ok(value));
        }
    }

    #[test]
    fn event_ids_at_the_same_time_and_entropy_are_equal_and_version_7() {
        let time = EventTime::from_micros(1_752_432_132_000_000);
        let a = EventId::at(time, [7; 10]);
        assert_eq!(a, EventId::at(time, [7; 10]));
        assert_ne!(a, EventId::at(time, [8; 10]));
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert_eq!(a.to_string().parse::<EventId>().ok(), Some(a));
    }

    #[test]
    fn derived_ids_depend_on_every_part_and_its_boundaries() {
        let time = EventTime::from_micros(1_752_432_132_000_000);
        let id = EventId::derive(time, &[b"ab", b"c"]);
        assert_eq!(id, EventId::derive(time, &[b"ab", b"c"]));
        assert_ne!(id, EventId::derive(time, &[b"a", b"bc"]));
        assert_ne!(id, EventId::derive(time, &[b"ab", b"d"]));
        assert_eq!(id.as_uuid().get_version_num(), 7);
    }
}
