//! The responses the login endpoints send: redirects and generic pages. Nothing from the
//! request or from the provider is ever written into a body (OA-08, OA-26).

use http::{HeaderValue, Response, StatusCode, header};

use crate::oidc::error::LoginError;

/// The headers every login endpoint response carries: never cached (OA-10, RFC 9700 §4.2.4),
/// no `Referer` to the next page (the callback URL holds the code and state).
pub(crate) fn harden<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        // nosemgrep: paved.security-header-by-hand -- login pages stay hardened without an app headers layer
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        // nosemgrep: paved.security-header-by-hand -- login pages stay hardened without an app headers layer
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// A `303 See Other` to `location` (a URL this crate built or checked).
pub(crate) fn redirect<B: From<String>>(location: &str) -> Result<Response<B>, LoginError> {
    let location =
        HeaderValue::try_from(location).map_err(|_| LoginError::Internal("location header"))?;
    let mut response = Response::new(B::from(String::new()));
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(header::LOCATION, location);
    harden(&mut response);
    Ok(response)
}

/// The generic failure page for `error` (OA-26): a fixed text per status, the detail goes to
/// `tracing` only.
pub(crate) fn failure<B: From<String>>(error: &LoginError, login_path: &str) -> Response<B> {
    let status = error.status();
    let (title, text) = match status {
        StatusCode::BAD_REQUEST => ("Sign-in failed", "The sign-in could not be completed."),
        StatusCode::UNAUTHORIZED => ("Signed out", "Your session has ended."),
        StatusCode::FORBIDDEN => ("Forbidden", "This request is not allowed."),
        StatusCode::METHOD_NOT_ALLOWED => ("Method not allowed", "This request is not allowed."),
        StatusCode::BAD_GATEWAY => (
            "Sign-in failed",
            "The identity provider sent an answer that could not be accepted.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "Sign-in unavailable",
            "The identity provider cannot be reached. Please try again later.",
        ),
        _ => ("Error", "Something went wrong."),
    };
    // `login_path` is configuration, checked by the builder to be a plain path.
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{title}</title>\
         <h1>{title}</h1><p>{text}</p><p><a href=\"{login_path}\">Sign in again</a></p></html>\n"
    );
    let mut response = Response::new(B::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        // nosemgrep: paved.security-header-by-hand -- login pages stay hardened without an app headers layer
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    harden(&mut response);
    response
}
