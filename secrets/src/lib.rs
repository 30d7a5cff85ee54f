//! paved-secrets: secret values that cannot leak.
#![forbid(unsafe_code)]
