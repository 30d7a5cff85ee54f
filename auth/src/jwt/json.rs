//! A strict JSON reader: `serde_json` with duplicate member names rejected at every level and a
//! nesting bound (JW-19, JW-27).
//!
//! RFC 7515 §5.2 and RFC 7519 §4 allow a parser to reject duplicate member names; "last one
//! wins" is the behaviour of most parsers, and differences between parsers on which one wins
//! are exploitable. Keys are compared after unescaping, so `"a\u0062"` and `"ab"` collide.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The deepest nesting accepted: a JWT's claims are flat in practice; 32 levels leave room for
/// structured claims (RFC 9396 `authorization_details`) and stay far from stack limits.
pub(crate) const MAX_DEPTH: usize = 32;

/// Why strict parsing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrictJsonError {
    Syntax,
    Duplicate,
    TooDeep,
}

/// Parses `bytes` as one JSON value, rejecting duplicates and deep nesting.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    let reason = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed {
        depth: 0,
        reason: &reason,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    value.map_err(|_| reason.get().unwrap_or(StrictJsonError::Syntax))
}

/// Parses `bytes` as a JSON object.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, StrictJsonError> {
    match parse(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(StrictJsonError::Syntax),
    }
}

#[derive(Clone, Copy)]
struct StrictSeed<'r> {
    depth: usize,
    reason: &'r Cell<Option<StrictJsonError>>,
}

impl StrictSeed<'_> {
    fn fail<E: de::Error>(self, why: StrictJsonError) -> E {
        self.reason.set(Some(why));
        E::custom(match why {
            StrictJsonError::Duplicate => "duplicate member name",
            StrictJsonError::TooDeep => "nesting too deep",
            StrictJsonError::Syntax => "invalid JSON",
        })
    }

    fn nested<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.fail(StrictJsonError::TooDeep));
        }
        Ok(Self {
            depth: self.depth + 1,
            reason: self.reason,
        })
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| self.fail(StrictJsonError::Syntax))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                return Err(self.fail(StrictJsonError::Duplicate));
            }
            let value = map.next_value_seed(inner)?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

/// The state shared by every level of one strict parse.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'r> {
    depth: usize,
    reason: &'r Cell<Option<StrictJsonError>>,
}

impl<'r> Ctx<'r> {
    fn seed(self) -> StrictSeed<'r> {
        StrictSeed {
            depth: self.depth,
            reason: self.reason,
        }
    }

    fn nested<E: de::Error>(self) -> Result<Self, E> {
        let next = self.seed().nested()?;
        Ok(Self {
            depth: next.depth,
            reason: self.reason,
        })
    }

    fn fail<E: de::Error>(self, why: StrictJsonError) -> E {
        self.seed().fail(why)
    }
}

/// Receives the members of a strictly parsed object, one at a time, after the duplicate check;
/// it must read the member's value from `map` (with the readers below).
pub(crate) trait Sink<'de> {
    fn member<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: Ctx<'_>,
    ) -> Result<(), A::Error>;
}

/// Parses `bytes` as one JSON object whose members go to `sink`, without building a tree:
/// duplicates rejected, depth bounded, keys borrowed where the input has no escapes.
pub(crate) fn parse_object_with<'de, S: Sink<'de>>(
    bytes: &'de [u8],
    sink: S,
) -> Result<S, StrictJsonError> {
    let reason = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let visitor = ObjectVisitor {
        sink,
        ctx: Ctx {
            depth: 0,
            reason: &reason,
        },
    };
    let result = de::Deserializer::deserialize_map(&mut de, visitor)
        .and_then(|sink| de.end().map(|()| sink));
    result.map_err(|_| reason.get().unwrap_or(StrictJsonError::Syntax))
}

struct ObjectVisitor<'r, S> {
    sink: S,
    ctx: Ctx<'r>,
}

/// How many member names are checked by a linear scan before a hash set takes over.
const FEW_KEYS: usize = 16;

/// Member names seen so far in one object: borrowed names in an inline list (no allocation
/// and nothing to drop for the usual small objects), names with escapes in a `Vec`, and a hash
/// set once an object is large, so a huge object stays linear.
struct SeenKeys<'de> {
    few: [&'de str; FEW_KEYS],
    len: usize,
    escaped: Vec<String>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> SeenKeys<'de> {
    fn new() -> Self {
        Self {
            few: [""; FEW_KEYS],
            len: 0,
            escaped: Vec::new(),
            many: None,
        }
    }

    /// `false` if `key` was seen before.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        let name: &str = &key;
        if self.few[..self.len].contains(&name) || self.escaped.iter().any(|k| k == name) {
            return false;
        }
        if self.len + self.escaped.len() >= FEW_KEYS {
            let mut many: HashSet<Cow<'de, str>> = self.few[..self.len]
                .iter()
                .map(|k| Cow::Borrowed(*k))
                .chain(self.escaped.drain(..).map(Cow::Owned))
                .collect();
            many.insert(key);
            self.many = Some(many);
            return true;
        }
        match key {
            Cow::Borrowed(k) => {
                self.few[self.len] = k;
                self.len += 1;
            }
            Cow::Owned(k) => self.escaped.push(k),
        }
        true
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Reads the members of one object with the duplicate check, handing each value to `value`.
fn strict_members<'de, A, F>(map: &mut A, ctx: Ctx<'_>, mut value: F) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<(), A::Error>,
{
    let mut seen = SeenKeys::new();
    while let Some(key) = map.next_key_seed(KeySeed)? {
        let name = key.clone();
        if !seen.insert(key) {
            return Err(ctx.fail(StrictJsonError::Duplicate));
        }
        value(&name, map)?;
    }
    Ok(())
}

impl<'de, S: Sink<'de>> Visitor<'de> for ObjectVisitor<'_, S> {
    type Value = S;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<S, A::Error> {
        let inner = self.ctx.nested()?;
        let sink = &mut self.sink;
        strict_members(&mut map, self.ctx, |key, map| sink.member(key, map, inner))?;
        Ok(self.sink)
    }
}

/// What a skipped value was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skipped {
    Null,
    Other,
}

/// Consumes any value, checking nested objects for duplicates and the depth bound.
struct SkipSeed<'r>(Ctx<'r>);

impl<'de> DeserializeSeed<'de> for SkipSeed<'_> {
    type Value = Skipped;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Skipped, D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(ctx: Ctx<'_>, mut seq: A) -> Result<Skipped, A::Error> {
    let inner = ctx.nested()?;
    while seq.next_element_seed(SkipSeed(inner))?.is_some() {}
    Ok(Skipped::Other)
}

fn skip_map<'de, A: MapAccess<'de>>(ctx: Ctx<'_>, mut map: A) -> Result<Skipped, A::Error> {
    let inner = ctx.nested()?;
    strict_members(&mut map, ctx, |_, map| {
        map.next_value_seed(SkipSeed(inner)).map(|_| ())
    })?;
    Ok(Skipped::Other)
}

impl<'de> Visitor<'de> for SkipSeed<'_> {
    type Value = Skipped;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped::Other)
    }

    fn visit_unit<E>(self) -> Result<Skipped, E> {
        Ok(Skipped::Null)
    }

    fn visit_none<E>(self) -> Result<Skipped, E> {
        Ok(Skipped::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Skipped, A::Error> {
        skip_seq(self.0, seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Skipped, A::Error> {
        skip_map(self.0, map)
    }
}

/// Skips a member's value; whether it was `null`.
pub(crate) fn skip<'de, A: MapAccess<'de>>(map: &mut A, ctx: Ctx<'_>) -> Result<Skipped, A::Error> {
    map.next_value_seed(SkipSeed(ctx))
}

/// A typed read: the value if it has the expected type; `None` (after consuming the value
/// with the same strictness) if not.
macro_rules! typed_reader {
    ($seed:ident, $out:ty, $expecting:literal, { $($visit:item)* }) => {
        struct $seed<'r>(Ctx<'r>);

        impl<'de> DeserializeSeed<'de> for $seed<'_> {
            type Value = Option<$out>;

            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }

        impl<'de> Visitor<'de> for $seed<'_> {
            type Value = Option<$out>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($expecting)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                skip_map(self.0, map).map(|_| None)
            }

            $($visit)*
        }
    };
}

typed_reader!(StringSeed, String, "a string", {
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(self.0, seq).map(|_| None)
    }
});

typed_reader!(DateSeed, u64, "a NumericDate", {
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(v).ok())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "non-negative and finite: `as` truncates the fraction and saturates"
        )]
        Ok((v.is_finite() && v >= 0.0).then_some(v as u64))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(self.0, seq).map(|_| None)
    }
});

typed_reader!(
    StringsSeed,
    Vec<String>,
    "a string or an array of strings",
    {
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(vec![v.to_owned()]))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(vec![v]))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let inner = self.0.nested()?;
            let mut items = Some(Vec::new());
            while let Some(item) = seq.next_element_seed(StringSeed(inner))? {
                match (item, &mut items) {
                    // An array element is one value (an audience, a scope-token, RFC 6749
                    // §3.3): one with whitespace in it would turn into several once the
                    // scopes are joined and split, so it makes the claim invalid.
                    (Some(s), Some(list))
                        if !s.is_empty()
                            && !s.contains(|c: char| c.is_whitespace() || c.is_control()) =>
                    {
                        list.push(s);
                    }
                    _ => items = None,
                }
            }
            Ok(items)
        }
    }
);

/// Maps a string value without copying it (borrowed from the input when it has no escapes).
struct StrMapSeed<'r, F>(Ctx<'r>, F);

impl<'de, T, F: FnOnce(&str) -> T> DeserializeSeed<'de> for StrMapSeed<'_, F> {
    type Value = Option<T>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T, F: FnOnce(&str) -> T> Visitor<'de> for StrMapSeed<'_, F> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some((self.1)(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(self.0, seq).map(|_| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        skip_map(self.0, map).map(|_| None)
    }
}

/// A string member mapped by `f` without an intermediate `String`, or `None` if the member
/// has another type (`null` included).
pub(crate) fn map_str<'de, A, T, F>(map: &mut A, ctx: Ctx<'_>, f: F) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    F: FnOnce(&str) -> T,
{
    map.next_value_seed(StrMapSeed(ctx, f))
}

/// A string member, or `None` if it has another type (`null` included).
pub(crate) fn string<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: Ctx<'_>,
) -> Result<Option<String>, A::Error> {
    map.next_value_seed(StringSeed(ctx))
}

/// A `NumericDate` member (a non-negative number, fraction truncated), or `None`.
pub(crate) fn numeric_date<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: Ctx<'_>,
) -> Result<Option<u64>, A::Error> {
    map.next_value_seed(DateSeed(ctx))
}

/// A string or an array of strings, or `None`.
pub(crate) fn strings<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: Ctx<'_>,
) -> Result<Option<Vec<String>>, A::Error> {
    map.next_value_seed(StringsSeed(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_rejected_at_every_level() {
        assert_eq!(parse(br#"{"a":1,"a":2}"#), Err(StrictJsonError::Duplicate));
        assert_eq!(
            parse(br#"{"x":{"b":1,"b":1}}"#),
            Err(StrictJsonError::Duplicate)
        );
        assert_eq!(
            parse(br#"{"x":[{"b":1,"b":1}]}"#),
            Err(StrictJsonError::Duplicate)
        );
        assert_eq!(
            parse(br#"{"ab":1,"a\u0062":2}"#),
            Err(StrictJsonError::Duplicate)
        );
        assert!(parse(br#"{"a":1,"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn depth_is_bounded_without_recursion_trouble() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(deep.as_bytes()).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let over = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(over.as_bytes()), Err(StrictJsonError::TooDeep));
    }

    struct Collect(Vec<(String, Option<String>)>);

    impl<'de> Sink<'de> for Collect {
        fn member<A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
            ctx: Ctx<'_>,
        ) -> Result<(), A::Error> {
            let value = string(map, ctx)?;
            self.0.push((key.to_owned(), value));
            Ok(())
        }
    }

    #[test]
    fn sink_parse_is_as_strict_as_the_tree_parse() {
        let got =
            parse_object_with(br#"{"a":"x","b":1,"c":{"d":[1]}}"#, Collect(Vec::new())).unwrap();
        assert_eq!(
            got.0,
            [
                ("a".into(), Some("x".into())),
                ("b".into(), None),
                ("c".into(), None)
            ]
        );
        for (input, why) in [
            (&br#"{"a":1,"a":2}"#[..], StrictJsonError::Duplicate),
            (br#"{"a":1,"\u0061":2}"#, StrictJsonError::Duplicate),
            (br#"{"a":{"b":1,"b":2}}"#, StrictJsonError::Duplicate),
            (br#"{"a":[{"b":1,"b":2}]}"#, StrictJsonError::Duplicate),
            (b"[]", StrictJsonError::Syntax),
            (br#"{"a":1} x"#, StrictJsonError::Syntax),
        ] {
            assert_eq!(
                parse_object_with(input, Collect(Vec::new())).err(),
                Some(why)
            );
        }
        let deep = format!(
            r#"{{"a":{}{}}}"#,
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert_eq!(
            parse_object_with(deep.as_bytes(), Collect(Vec::new())).err(),
            Some(StrictJsonError::TooDeep)
        );
        let many: String = (0..40)
            .map(|i| format!(r#""k{i}":1,"#))
            .collect::<Vec<_>>()
            .concat();
        let dup = format!("{{{many}\"k7\":2}}");
        assert_eq!(
            parse_object_with(dup.as_bytes(), Collect(Vec::new())).err(),
            Some(StrictJsonError::Duplicate)
        );
    }

    #[test]
    fn trailing_data_and_non_objects() {
        assert_eq!(parse(b"{} {}"), Err(StrictJsonError::Syntax));
        assert_eq!(parse_object(b"[]"), Err(StrictJsonError::Syntax));
        assert_eq!(parse(b"\xff"), Err(StrictJsonError::Syntax));
    }
}
