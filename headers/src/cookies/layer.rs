use std::sync::Arc;

use tower::Layer;

use super::harden::{Config, SameSite, validate_name};
use super::service::CookieHardening;
use crate::error::ConfigError;

/// Layer that hardens `Set-Cookie` headers. See the [module docs](crate::cookies).
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct CookieHardeningLayer {
    config: Arc<Config>,
}

impl CookieHardeningLayer {
    /// Adds `Secure`, `HttpOnly` and `SameSite=Lax` where missing, for every cookie.
    pub fn new() -> Self {
        Self::default()
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.config).clone();
        f(&mut config);
        self.config = Arc::new(config);
        self
    }

    /// The `SameSite` value added to cookies without one (default `Lax`).
    pub fn default_same_site(self, same_site: SameSite) -> Self {
        self.edit(|c| c.same_site = same_site)
    }

    /// Does not add `HttpOnly` to cookie `name` (a cookie your scripts must read, such as a
    /// UI preference; never a session).
    ///
    /// # Errors
    /// [`ConfigError::InvalidCookieName`] if `name` is not a cookie name.
    pub fn without_http_only(self, name: &str) -> Result<Self, ConfigError> {
        validate_name(name)?;
        Ok(self.edit(|c| c.no_http_only.push(name.to_owned())))
    }

    /// Settings that weaken the defaults.
    pub fn dangerous(self) -> DangerousCookieHardening {
        DangerousCookieHardening { inner: self }
    }
}

/// Escape hatches of [`CookieHardeningLayer`].
#[derive(Debug)]
#[must_use]
pub struct DangerousCookieHardening {
    inner: CookieHardeningLayer,
}

impl DangerousCookieHardening {
    /// Does not add `Secure` to cookie `name`, so it also travels over plain http where a
    /// network attacker can read and set it.
    ///
    /// # Errors
    /// [`ConfigError::InvalidCookieName`] if `name` is not a cookie name.
    pub fn without_secure(mut self, name: &str) -> Result<Self, ConfigError> {
        validate_name(name)?;
        self.inner = self.inner.edit(|c| c.no_secure.push(name.to_owned()));
        Ok(self)
    }

    /// Leaves cookie `name` exactly as the application wrote it: no `Secure`, `HttpOnly` or
    /// `SameSite` is added, so it may travel over plain http and be read by scripts.
    ///
    /// # Errors
    /// [`ConfigError::InvalidCookieName`] if `name` is not a cookie name.
    pub fn untouched(mut self, name: &str) -> Result<Self, ConfigError> {
        validate_name(name)?;
        self.inner = self.inner.edit(|c| c.untouched.push(name.to_owned()));
        Ok(self)
    }

    /// Back to the layer.
    pub fn end(self) -> CookieHardeningLayer {
        self.inner
    }
}

impl<S> Layer<S> for CookieHardeningLayer {
    type Service = CookieHardening<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CookieHardening::new(inner, Arc::clone(&self.config))
    }
}
