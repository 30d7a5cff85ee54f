use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;

use crate::oidc::login::{OidcLogin, handlers};

/// The service made by [`OidcLoginLayer`](crate::oidc::OidcLoginLayer).
#[derive(Clone, Debug)]
pub struct OidcLoginService<S> {
    inner: S,
    login: OidcLogin,
}

impl<S> OidcLoginService<S> {
    pub(crate) fn new(inner: S, login: OidcLogin) -> Self {
        Self { inner, login }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OidcLoginService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let inner_login = &self.login.0;
        let path = request.uri().path();
        let endpoint = if path == inner_login.login_path {
            Some(handlers::Endpoint::Login)
        } else if path == inner_login.callback_path {
            Some(handlers::Endpoint::Callback)
        } else if path == inner_login.logout_path {
            Some(handlers::Endpoint::Logout)
        } else {
            None
        };
        match endpoint {
            None => {
                let future = self.inner.call(request);
                Box::pin(future)
            }
            Some(endpoint) => {
                let login = self.login.clone();
                let (parts, _body) = request.into_parts();
                Box::pin(async move { Ok(handlers::handle(&login, endpoint, &parts).await) })
            }
        }
    }
}
