//! `Permissions-Policy`: which powerful browser features the page and its frames may use.

use std::fmt;

use crate::error::ConfigError;

/// Features denied by [`PermissionsPolicy::deny_powerful_features`]: device sensors and
/// hardware, payment, capture and tracking APIs that a typical web app never uses (OWASP HTTP
/// headers cheat sheet: "deny unused powerful features"). Deliberately *not* denied: `fullscreen`
/// (video players), `publickey-credentials-get`/`-create` (passkeys), `clipboard-write`.
pub const POWERFUL_FEATURES: &[&str] = &[
    "accelerometer",
    "autoplay",
    "browsing-topics",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Allow {
    None,
    SelfOnly,
    Origins {
        self_too: bool,
        origins: Vec<String>,
    },
    Any,
}

/// A `Permissions-Policy` header value.
///
/// ```
/// use paved_headers::PermissionsPolicy;
///
/// let policy = PermissionsPolicy::deny_powerful_features()
///     .allow_self("geolocation")
///     .allow_origins("payment", ["https://pay.example.com"]);
/// let text = policy.to_string();
/// assert!(text.contains("camera=()"));
/// assert!(text.contains("geolocation=self"));
/// assert!(text.contains("payment=(self \"https://pay.example.com\")"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PermissionsPolicy {
    features: Vec<(String, Allow)>,
}

impl PermissionsPolicy {
    /// An empty policy (every feature keeps the browser default).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Denies every feature in [`POWERFUL_FEATURES`] to the page and all its frames.
    #[must_use]
    pub fn deny_powerful_features() -> Self {
        POWERFUL_FEATURES.iter().fold(Self::new(), |p, f| p.deny(f))
    }

    fn set(mut self, feature: &str, allow: Allow) -> Self {
        let feature = feature.to_ascii_lowercase();
        match self.features.iter_mut().find(|(f, _)| *f == feature) {
            Some(slot) => slot.1 = allow,
            None => self.features.push((feature, allow)),
        }
        self
    }

    /// Denies `feature` everywhere (`feature=()`).
    #[must_use]
    pub fn deny(self, feature: &str) -> Self {
        self.set(feature, Allow::None)
    }

    /// Allows `feature` for this origin only (`feature=self`).
    #[must_use]
    pub fn allow_self(self, feature: &str) -> Self {
        self.set(feature, Allow::SelfOnly)
    }

    /// Allows `feature` for this origin and the given origins
    /// (`feature=(self "https://a.example")`).
    #[must_use]
    pub fn allow_origins<I, T>(self, feature: &str, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        let origins = origins.into_iter().map(Into::into).collect();
        self.set(
            feature,
            Allow::Origins {
                self_too: true,
                origins,
            },
        )
    }

    /// Allows `feature` for every origin (`feature=*`).
    #[must_use]
    pub fn allow_all(self, feature: &str) -> Self {
        self.set(feature, Allow::Any)
    }

    /// Removes any rule for `feature` (the browser default applies).
    #[must_use]
    pub fn remove(mut self, feature: &str) -> Self {
        let feature = feature.to_ascii_lowercase();
        self.features.retain(|(f, _)| *f != feature);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (feature, allow) in &self.features {
            let ok = !feature.is_empty()
                && feature.as_bytes()[0].is_ascii_lowercase()
                && feature
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(ConfigError::InvalidPermissionsPolicy {
                    token: feature.clone(),
                    reason: "a feature name has only lower-case letters, digits and `-`",
                });
            }
            if let Allow::Origins { origins, .. } = allow {
                for o in origins {
                    crate::origin::validate_origin(o).map_err(|e| match e {
                        ConfigError::InvalidOrigin { reason, .. } => {
                            ConfigError::InvalidPermissionsPolicy {
                                token: o.clone(),
                                reason,
                            }
                        }
                        other => other,
                    })?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for PermissionsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (feature, allow)) in self.features.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match allow {
                Allow::None => write!(f, "{feature}=()")?,
                Allow::SelfOnly => write!(f, "{feature}=self")?,
                Allow::Any => write!(f, "{feature}=*")?,
                Allow::Origins { self_too, origins } => {
                    write!(f, "{feature}=(")?;
                    if *self_too {
                        f.write_str("self")?;
                    }
                    for (j, o) in origins.iter().enumerate() {
                        if *self_too || j > 0 {
                            f.write_str(" ")?;
                        }
                        write!(f, "\"{o}\"")?;
                    }
                    f.write_str(")")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_renders_and_validates() {
        let p = PermissionsPolicy::deny_powerful_features();
        p.validate().unwrap();
        let s = p.to_string();
        assert!(s.starts_with("accelerometer=(), autoplay=()"));
        assert!(s.contains("camera=(), "));
        assert!(!s.contains("publickey-credentials"));
    }

    #[test]
    fn bad_entries_are_refused() {
        assert!(PermissionsPolicy::new().deny("cam era").validate().is_err());
        assert!(
            PermissionsPolicy::new()
                .allow_origins("camera", ["https://a.example/\""])
                .validate()
                .is_err()
        );
        PermissionsPolicy::new()
            .allow_origins("camera", ["https://a.example"])
            .validate()
            .unwrap();
    }
}
