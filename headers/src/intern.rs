//! Interning of configuration strings as `'static`, so the prebuilt header names and values
//! clone without touching a reference count on every response.
//!
//! Each distinct string is leaked once and reused by every later layer built with the same
//! value; the total is capped at [`MAX_INTERNED_BYTES`], after which values are stored
//! reference-counted instead (slightly slower clones, same behaviour). Only configuration is
//! interned, never request data.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

/// Upper bound on memory leaked for interned configuration strings.
pub(crate) const MAX_INTERNED_BYTES: usize = 256 * 1024;

struct Table {
    set: HashSet<&'static str>,
    bytes: usize,
}

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        Mutex::new(Table {
            set: HashSet::new(),
            bytes: 0,
        })
    })
}

/// Returns a `'static` copy of `s` if the budget allows.
fn intern(s: &str) -> Option<&'static str> {
    let mut t = table().lock().ok()?;
    if let Some(found) = t.set.get(s) {
        return Some(found);
    }
    if t.bytes + s.len() > MAX_INTERNED_BYTES {
        return None;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    t.bytes += s.len();
    t.set.insert(leaked);
    Some(leaked)
}

fn bytes_for(s: &str) -> Bytes {
    match intern(s) {
        Some(st) => Bytes::from_static(st.as_bytes()),
        None => Bytes::copy_from_slice(s.as_bytes()),
    }
}

/// A header value for `s` (validated by `http`), static when possible.
pub(crate) fn value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(bytes_for(s)).ok()
}

/// A header name for `s` (lower-cased, validated by `http`), static when possible.
pub(crate) fn name(s: &str) -> Option<HeaderName> {
    let lower = s.to_ascii_lowercase();
    let checked = HeaderName::from_bytes(lower.as_bytes()).ok()?;
    if checked.as_str() != lower {
        return Some(checked);
    }
    match intern(&lower) {
        // `from_static` panics only on invalid or upper-case input, both ruled out by the
        // successful `from_bytes` of the lower-cased string above. It also maps well-known
        // names to http's built-in constants.
        Some(st) => Some(HeaderName::from_static(st)),
        None => Some(checked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_values_are_shared_and_valid() {
        let a = value("max-age=63072000; includeSubDomains").unwrap();
        let b = value("max-age=63072000; includeSubDomains").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_bytes().as_ptr(), b.as_bytes().as_ptr());
        assert!(value("bad\nvalue").is_none());
        assert_eq!(name("X-Custom-Thing").unwrap().as_str(), "x-custom-thing");
        assert_eq!(name("content-type").unwrap(), http::header::CONTENT_TYPE);
        assert!(name("bad name").is_none());
    }
}
