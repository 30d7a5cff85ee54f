//! serde support (feature `serde`): `Deserialize` for the secret types and [`SecretSource`];
//! `Serialize` only through [`SerializeExposed`].
//!
//! The visitors below reject wrong types with messages that name the *kind* of value found
//! ("invalid type: integer, expected a secret string"), never the value: serde's default
//! messages quote it (``invalid type: integer `1234` ``), which would put a mistyped secret
//! into a log line.
//!
//! That only works if the value reaches the visitor. A self-describing format asked for a
//! string (`deserialize_string`) reports a number *itself*, quoting it, without calling the
//! visitor (`serde_json` does). So for human-readable formats (the self-describing ones: JSON,
//! TOML, YAML…) the impls ask for `deserialize_any`, which hands every value to the visitor;
//! binary formats, which do not know a value's type and so never quote one, get the typed
//! hint they need.
//!
//! Caveat: a deserializer may build its own temporary copies before handing a string over
//! (`serde_json` does for strings with escapes, and for every string read from an
//! `io::Read`). Those are outside this crate's reach; loading secrets with the loaders, and
//! keeping only a [`SecretSource`] in configuration, avoids them.

use std::fmt;

use ::serde::de::{self, Deserialize, Deserializer, SeqAccess, Unexpected, Visitor};
use ::serde::ser::{Serialize, Serializer};
use secrecy::ExposeSecret;
use zeroize::{Zeroize, Zeroizing};

use crate::secret::{Secret, SecretBytes, SecretString};
use crate::source::{MAX_LEN_CEILING, SecretSource};

macro_rules! reject_non_matching {
    () => {
        reject_non_matching! {
            visit_bool(bool) => "boolean",
            visit_i64(i64) => "integer",
            visit_i128(i128) => "integer",
            visit_u64(u64) => "integer",
            visit_u128(u128) => "integer",
            visit_f64(f64) => "floating point number",
            visit_char(char) => "character",
            visit_unit() => "null",
            visit_none() => "null",
        }

        fn visit_some<D: Deserializer<'de>>(self, _: D) -> Result<Self::Value, D::Error> {
            Err(de::Error::invalid_type(Unexpected::Other("option"), &self))
        }

        fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::invalid_type(Unexpected::Other("map"), &self))
        }

        fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::invalid_type(Unexpected::Other("enum"), &self))
        }
    };
    ($($method:ident($($arg:ty)?) => $what:literal,)*) => {
        $(
            fn $method<E: de::Error>(self, $(_: $arg)?) -> Result<Self::Value, E> {
                Err(E::invalid_type(Unexpected::Other($what), &self))
            }
        )*
    };
}

struct SecretStringVisitor;

impl<'de> Visitor<'de> for SecretStringVisitor {
    type Value = SecretString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a secret string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(SecretString::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(SecretString::from(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        std::str::from_utf8(v)
            .map(SecretString::from)
            .map_err(|_| E::invalid_value(Unexpected::Other("non-UTF-8 bytes"), &self))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        match String::from_utf8(v) {
            Ok(s) => Ok(SecretString::from(s)),
            Err(e) => {
                e.into_bytes().zeroize();
                Err(E::invalid_value(
                    Unexpected::Other("non-UTF-8 bytes"),
                    &self,
                ))
            }
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::invalid_type(
            Unexpected::Other("sequence"),
            &self,
        ))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_string(self)
    }

    reject_non_matching!();
}

impl<'de> Deserialize<'de> for SecretString {
    /// Accepts a string (or UTF-8 bytes). Any other type is refused with a message that names
    /// the type of value found, never the value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(SecretStringVisitor)
        } else {
            deserializer.deserialize_string(SecretStringVisitor)
        }
    }
}

struct SecretBytesVisitor;

impl<'de> Visitor<'de> for SecretBytesVisitor {
    type Value = SecretBytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("secret bytes (a byte string, a string or a sequence of bytes)")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(SecretBytes::from(v))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(SecretBytes::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(SecretBytes::from(v.as_bytes()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(SecretBytes::from(v.into_bytes()))
    }

    /// Collects bytes without ever growing a buffer in place: when the size hint is too small
    /// the bytes move to a buffer twice as large and the old one is zeroized.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let hint = seq.size_hint().unwrap_or(0).clamp(1, 4096);
        let mut buf = Zeroizing::new(Vec::<u8>::with_capacity(hint));
        loop {
            let next = seq.next_element::<u8>().map_err(|_| {
                de::Error::invalid_value(Unexpected::Other("a non-byte element"), &self)
            })?;
            let Some(byte) = next else { break };
            if buf.len() == buf.capacity() {
                if buf.len() >= MAX_LEN_CEILING {
                    return Err(de::Error::invalid_length(buf.len(), &self));
                }
                let mut bigger = Zeroizing::new(Vec::with_capacity(buf.capacity() * 2));
                bigger.extend_from_slice(&buf);
                buf = bigger; // The old buffer is zeroized as it drops.
            }
            buf.push(byte); // Within capacity: never reallocates.
        }
        Ok(SecretBytes::from(buf.as_slice()))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_byte_buf(self)
    }

    reject_non_matching!();
}

impl<'de> Deserialize<'de> for SecretBytes {
    /// Accepts a byte string, a string (its UTF-8 bytes) or a sequence of integers 0–255. Any
    /// other value is refused without being quoted.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(SecretBytesVisitor)
        } else {
            deserializer.deserialize_byte_buf(SecretBytesVisitor)
        }
    }
}

impl<'de, T> Deserialize<'de> for Secret<T>
where
    T: Zeroize + Default + Deserialize<'de>,
{
    /// Deserializes `T`, then swaps it into a zeroed heap slot so the stack slot it was built
    /// in is left holding `T::default()`. `T`'s own errors are replaced by a generic one,
    /// since `T`'s messages may quote the value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = T::deserialize(deserializer)
            .map_err(|_| <D::Error as de::Error>::custom("invalid secret value"))?;
        let secret = Secret::init_with_mut(|slot: &mut T| std::mem::swap(slot, &mut value));
        value.zeroize();
        Ok(secret)
    }
}

impl<'de> Deserialize<'de> for SecretSource {
    /// Parses `env:NAME`, `file:/path` or `credential:NAME` from a string. A malformed string is
    /// not quoted in the error (it may be a secret pasted into the wrong field).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;
        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = SecretSource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret source: env:NAME, file:/path or credential:NAME")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(de::Error::invalid_type(
                    Unexpected::Other("sequence"),
                    &self,
                ))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(de::Error::invalid_type(Unexpected::Other("map"), &self))
            }
            reject_non_matching! {
                visit_bool(bool) => "boolean",
                visit_i64(i64) => "integer",
                visit_i128(i128) => "integer",
                visit_u64(u64) => "integer",
                visit_u128(u128) => "integer",
                visit_f64(f64) => "floating point number",
                visit_char(char) => "character",
                visit_bytes(&[u8]) => "bytes",
                visit_unit() => "null",
                visit_none() => "null",
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(SourceVisitor)
        } else {
            deserializer.deserialize_str(SourceVisitor)
        }
    }
}

impl Serialize for SecretSource {
    /// A source names a location, not a secret, so it serializes as its string form.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Serializes the *exposed* value of a secret: the one explicit, greppable way to write a
/// secret out (to a config file generator, a secret manager's API).
///
/// The secret types do not implement `Serialize`, so a struct holding one cannot be
/// serialized by accident (into a log, an API response, a cache).
///
/// ```
/// use paved_secrets::{SecretString, SerializeExposed};
///
/// let token = SecretString::from("t0ken");
/// let json = serde_json::to_string(&SerializeExposed::new(&token))?;
/// assert_eq!(json, "\"t0ken\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// In a struct, use [`serialize_exposed`] as the field's `serialize_with`.
///
/// A secret on its own does not serialize:
///
/// ```compile_fail,E0277
/// let token = paved_secrets::SecretString::from("t0ken");
/// let _ = serde_json::to_string(&token);
/// ```
pub struct SerializeExposed<'a, S: ?Sized>(&'a S);

impl<'a, S: ?Sized> SerializeExposed<'a, S> {
    /// Wraps a secret for serialization of its exposed value.
    #[must_use]
    pub fn new(secret: &'a S) -> Self {
        Self(secret)
    }
}

impl<S: ?Sized> fmt::Debug for SerializeExposed<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SerializeExposed([REDACTED])")
    }
}

impl Serialize for SerializeExposed<'_, SecretString> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.expose_secret())
    }
}

impl Serialize for SerializeExposed<'_, SecretBytes> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0.expose_secret())
    }
}

impl<T: Zeroize + Serialize> Serialize for SerializeExposed<'_, Secret<T>> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.expose_secret().serialize(serializer)
    }
}

/// For `#[serde(serialize_with = "paved_secrets::serialize_exposed")]` on a secret field: the
/// field serializes its exposed value, through [`SerializeExposed`].
///
/// ```
/// use paved_secrets::SecretString;
///
/// #[derive(serde::Serialize)]
/// struct Export {
///     #[serde(serialize_with = "paved_secrets::serialize_exposed")]
///     token: SecretString,
/// }
/// let json = serde_json::to_string(&Export { token: SecretString::from("t0ken") })?;
/// assert_eq!(json, r#"{"token":"t0ken"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// # Errors
///
/// Whatever the serializer returns.
pub fn serialize_exposed<T, S>(secret: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    for<'a> SerializeExposed<'a, T>: Serialize,
{
    SerializeExposed::new(secret).serialize(serializer)
}
