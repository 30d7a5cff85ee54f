//! Small helpers shared by the layers.

use std::fmt;

/// Longest attacker-controlled value written into a log event.
pub(crate) const MAX_LOGGED_BYTES: usize = 256;

/// Debug-formats untrusted bytes for logs: escaped (no control characters or newlines reach the
/// log line) and clipped to [`MAX_LOGGED_BYTES`].
pub(crate) struct Clipped<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for Clipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        let shown = &self.0[..self.0.len().min(MAX_LOGGED_BYTES)];
        for &b in shown {
            for c in std::ascii::escape_default(b) {
                fmt::Write::write_char(f, char::from(c))?;
            }
        }
        f.write_str("\"")?;
        if self.0.len() > MAX_LOGGED_BYTES {
            write!(f, "…(+{} bytes)", self.0.len() - MAX_LOGGED_BYTES)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_escapes_and_truncates() {
        assert_eq!(format!("{:?}", Clipped(b"a\nb\"")), "\"a\\nb\\\"\"");
        let long = vec![b'x'; MAX_LOGGED_BYTES + 10];
        assert!(format!("{:?}", Clipped(&long)).ends_with("…(+10 bytes)"));
    }
}
