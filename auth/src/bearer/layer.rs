//! [`RequireBearerLayer`].

use std::fmt;
use std::marker::PhantomData;

use tower::Layer;

use crate::bearer::RequireBearer;
use crate::jwt::{JwtValidator, NoCustomClaims};

/// Applies [`RequireBearer`]: only requests with one valid bearer token reach the inner
/// service, with the [`Validated<C>`](crate::jwt::Validated) in their extensions.
///
/// `C` is the application's claims type; [`NoCustomClaims`] by default.
pub struct RequireBearerLayer<C = NoCustomClaims> {
    validator: JwtValidator,
    _claims: PhantomData<fn() -> C>,
}

impl<C> RequireBearerLayer<C> {
    /// The layer, validating with `validator`.
    #[must_use]
    pub fn new(validator: JwtValidator) -> Self {
        Self {
            validator,
            _claims: PhantomData,
        }
    }
}

impl<C> Clone for RequireBearerLayer<C> {
    fn clone(&self) -> Self {
        Self::new(self.validator.clone())
    }
}

impl<C> fmt::Debug for RequireBearerLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireBearerLayer")
            .field("validator", &self.validator)
            .field("claims", &std::any::type_name::<C>())
            .finish()
    }
}

impl<S, C> Layer<S> for RequireBearerLayer<C> {
    type Service = RequireBearer<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireBearer::new(inner, self.validator.clone())
    }
}
