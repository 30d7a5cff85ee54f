use tower::Layer;

use crate::oidc::login::OidcLogin;
use crate::oidc::require::RequireLogin;

/// Lets only logged-in users through, and gives handlers their
/// [`Session`](crate::oidc::Session). Made by
/// [`OidcLogin::require_login`](crate::oidc::OidcLogin::require_login).
#[derive(Clone, Debug)]
pub struct RequireLoginLayer {
    login: OidcLogin,
}

impl RequireLoginLayer {
    pub(crate) fn new(login: OidcLogin) -> Self {
        Self { login }
    }
}

impl<S> Layer<S> for RequireLoginLayer {
    type Service = RequireLogin<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireLogin {
            inner,
            login: self.login.clone(),
        }
    }
}
