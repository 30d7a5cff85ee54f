//! The pages. No scripts or inline styles, so the strict CSP needs no nonce here. The only
//! request-derived text ever echoed is a signed-in user's name, escaped.

use std::fmt::Write as _;

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use paved_crypto::PolicyViolation;

/// `Retry-After` while the throttle's store is down: long enough not to hammer a recovering
/// Redis, short enough that users come back soon after it does (reconnection takes 200 ms).
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

pub(crate) fn home(user: Option<&str>) -> Html<String> {
    let body = match user {
        Some(name) => format!(
            "<p>Signed in as <b>{}</b>.</p>\
             <form method=post action=/logout><button>Sign out</button></form>",
            escape(name)
        ),
        None => {
            "<p><a href=/login>Sign in</a> or <a href=/signup>create an account</a>.</p>".to_owned()
        }
    };
    page("Home", &body)
}

pub(crate) async fn signup_form() -> Html<String> {
    page("Sign up", &form("/signup", "new-password"))
}

pub(crate) async fn login_form() -> Html<String> {
    page("Sign in", &form("/login", "current-password"))
}

/// The same page for an unknown user and a wrong password: nothing from the request in it.
pub(crate) fn login_failed() -> Response {
    let body = format!(
        "<p>Wrong user name or password.</p>{}",
        form("/login", "current-password")
    );
    (StatusCode::UNAUTHORIZED, page("Sign in", &body)).into_response()
}

/// Too many failed logins for this account or address: a fixed page, the same whichever
/// account was named and whether it exists; only `Retry-After` varies with the counters.
pub(crate) fn login_throttled(retry_after: Duration) -> Response {
    let body = page(
        "Sign in",
        "<p>Too many failed attempts. Please wait a moment and try again.</p>",
    );
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs().max(1)),
    );
    response
}

/// The login throttle's store is down: logins are refused, never let through unthrottled.
pub(crate) fn throttle_unavailable() -> Response {
    let body = page(
        "Sign in",
        "<p>Signing in is unavailable right now. Please try again shortly.</p>",
    );
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
    );
    response
}

pub(crate) fn bad_username(max: usize) -> Response {
    signup_refused(&format!("<p>User names are 1 to {max} characters.</p>"))
}

/// Lists the rules broken (fixed texts), never the password.
pub(crate) fn weak_password(violations: &[PolicyViolation]) -> Response {
    let mut list = String::new();
    for v in violations {
        let _ = write!(list, "<li>{}</li>", escape(&v.to_string()));
    }
    signup_refused(&format!("<p>Choose another password:</p><ul>{list}</ul>"))
}

pub(crate) fn name_taken() -> Response {
    signup_refused("<p>This account cannot be created. Choose another user name.</p>")
}

pub(crate) fn server_error() -> Response {
    let body = page(
        "Error",
        "<p>Something went wrong. Please try again later.</p>",
    );
    (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

fn signup_refused(message: &str) -> Response {
    let body = format!("{message}{}", form("/signup", "new-password"));
    (StatusCode::BAD_REQUEST, page("Sign up", &body)).into_response()
}

fn form(action: &str, autocomplete: &str) -> String {
    format!(
        "<form method=post action={action}>\
         <label>User name <input name=username required autocomplete=username></label> \
         <label>Password <input name=password type=password required autocomplete={autocomplete}></label> \
         <button>Continue</button></form>"
    )
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title><h1>{title}</h1>{body}"
    ))
}

/// HTML-escapes text for element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
