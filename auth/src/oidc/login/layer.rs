use tower::Layer;

use crate::oidc::login::{OidcLogin, OidcLoginService};

/// Serves the login, callback and logout endpoints of an [`OidcLogin`]; every other request
/// goes to the inner service unchanged.
#[derive(Clone, Debug)]
pub struct OidcLoginLayer {
    login: OidcLogin,
}

impl OidcLoginLayer {
    pub(crate) fn new(login: OidcLogin) -> Self {
        Self { login }
    }
}

impl<S> Layer<S> for OidcLoginLayer {
    type Service = OidcLoginService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OidcLoginService::new(inner, self.login.clone())
    }
}
