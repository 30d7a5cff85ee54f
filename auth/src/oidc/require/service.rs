use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use tower::Service;

use crate::oidc::error::LoginError;
use crate::oidc::login::{OidcLogin, pages};
use crate::oidc::session::{Session, SessionData};

/// The service made by [`RequireLoginLayer`](crate::oidc::RequireLoginLayer).
#[derive(Clone, Debug)]
pub struct RequireLogin<S> {
    pub(crate) inner: S,
    pub(crate) login: OidcLogin,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireLogin<S>
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

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone that was not polled ready stays here; the ready one serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let login = self.login.clone();
        // The login endpoints themselves never need a session: with this layer outside the
        // login layer, requiring one would send `/login` to `/login` forever.
        let path = request.uri().path();
        let endpoints = &login.0;
        if path == endpoints.login_path
            || path == endpoints.callback_path
            || path == endpoints.logout_path
        {
            return Box::pin(inner.call(request));
        }
        Box::pin(async move {
            match load(&login, request.headers()).await {
                Ok(Some(session)) => {
                    request.extensions_mut().insert(session);
                    inner.call(request).await
                }
                Ok(None) => Ok(unauthenticated(&login, &request)),
                Err(error) => {
                    tracing::warn!(%error, "paved-auth: session lookup failed");
                    Ok(pages::failure(&error, &login.0.login_path))
                }
            }
        })
    }
}

pub(crate) async fn load(
    login: &OidcLogin,
    headers: &HeaderMap,
) -> Result<Option<Session>, LoginError> {
    let inner = &login.0;
    let Some(loaded) = inner.sessions.load(headers).await? else {
        return Ok(None);
    };
    // Data that does not open was sealed for another login sharing this store (another
    // provider or client), under a key that has left the ring, or altered in the store: it is
    // not a session of this login. It is not ended either: it may be another login's.
    Ok(SessionData::open(&inner.data_sealer, loaded.data())
        .ok()
        .filter(|data| data.belongs_to(&inner.client))
        .map(|data| Session::new(login, &loaded, data)))
}

fn unauthenticated<B, ResBody: From<String>>(
    login: &OidcLogin,
    request: &Request<B>,
) -> Response<ResBody> {
    if is_navigation(request) {
        let path_and_query = request
            .uri()
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", path_and_query)
            .finish();
        let location = format!("{}?{query}", login.0.login_path);
        if let Ok(response) = pages::redirect(&location) {
            return response;
        }
    }
    let mut response = Response::new(ResBody::from(String::new()));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    pages::harden(&mut response);
    let headers = response.headers_mut();
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Sec-Fetch-Mode, Accept"),
    );
    // RFC 9110 §15.5.2: a 401 names how to authenticate. There is no registered scheme for a
    // cookie session; this one tells a script that the browser must log in at the login path.
    if let Ok(challenge) = HeaderValue::try_from(format!(
        "Session realm=\"{}\", login_uri=\"{}\"",
        login.0.public_origin, login.0.login_path
    )) {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// A top-level browser navigation, which can follow a redirect to the login page.
fn is_navigation<B>(request: &Request<B>) -> bool {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return false;
    }
    let headers = request.headers();
    if let Some(mode) = headers.get("sec-fetch-mode") {
        return mode.as_bytes() == b"navigate";
    }
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().method(method).uri("/x");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn navigation_is_decided_by_fetch_metadata_then_accept() {
        assert!(is_navigation(&request(
            Method::GET,
            &[("sec-fetch-mode", "navigate")]
        )));
        assert!(!is_navigation(&request(
            Method::GET,
            &[("sec-fetch-mode", "cors")]
        )));
        assert!(!is_navigation(&request(
            Method::GET,
            &[("sec-fetch-mode", "cors"), ("accept", "text/html")]
        )));
        assert!(is_navigation(&request(
            Method::GET,
            &[("accept", "text/html,*/*")]
        )));
        assert!(!is_navigation(&request(
            Method::GET,
            &[("accept", "application/json")]
        )));
        assert!(!is_navigation(&request(
            Method::POST,
            &[("sec-fetch-mode", "navigate")]
        )));
    }
}
