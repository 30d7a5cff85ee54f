//! The pages. Every piece of text that comes from the request, the identity provider or the
//! API goes through [`escape`]; the one inline script carries the response's CSP nonce, and
//! there is no other script, no inline style and no external resource.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use paved_headers::CspNonce;

/// The signed-out or signed-in home page. The script proves that the nonce works: a browser
/// that enforced the policy without it would leave "script did not run".
pub(crate) fn home(user: Option<&str>, nonce: &CspNonce) -> Html<String> {
    let body = match user {
        Some(name) => format!(
            "<p>Signed in as <b id=\"user-name\">{}</b>.</p>\
             <form method=\"post\" action=\"/call-api\"><button id=\"call-api\">Call the API</button></form>\
             <form method=\"post\" action=\"/logout\"><button id=\"logout\">Sign out</button></form>\
             <p><a id=\"account\" href=\"/account\">Your account</a></p>",
            escape(name)
        ),
        None => "<p><a id=\"login\" href=\"/login\">Sign in</a></p>".to_owned(),
    };
    page(
        "Home",
        &format!(
            "{body}<p id=\"script-status\">script did not run</p>\
             <script nonce=\"{nonce}\">\
             document.getElementById(\"script-status\").textContent = \"script ran\";\
             </script>"
        ),
    )
}

pub(crate) fn account(name: &str, subject: &str, issuer: &str) -> Html<String> {
    page(
        "Your account",
        &format!(
            "<dl><dt>Name</dt><dd id=\"name\">{}</dd>\
             <dt>Subject</dt><dd id=\"subject\">{}</dd>\
             <dt>Issuer</dt><dd id=\"issuer\">{}</dd></dl>{BACK}",
            escape(name),
            escape(subject),
            escape(issuer)
        ),
    )
}

/// The API's status and JSON body, as received (escaped: the API is another service, and its
/// data came from users).
pub(crate) fn api_result(status: StatusCode, body: &str) -> Html<String> {
    page(
        "API result",
        &format!(
            "<pre id=\"api-result\">{} {}</pre>{BACK}",
            status.as_u16(),
            escape(body)
        ),
    )
}

/// The same page for every API failure: what went wrong is in the log, not in the page.
pub(crate) fn api_failed() -> Response {
    let body = page(
        "API unavailable",
        &format!("<p>The API could not be reached. Please try again later.</p>{BACK}"),
    );
    (StatusCode::BAD_GATEWAY, body).into_response()
}

pub(crate) fn not_found() -> Response {
    let body = page("Not found", &format!("<p>There is no such page.</p>{BACK}"));
    (StatusCode::NOT_FOUND, body).into_response()
}

const BACK: &str = "<p><a href=\"/\">Home</a></p>";

/// `body` is markup the caller built with [`escape`]d values; the title is escaped here.
fn page(title: &str, body: &str) -> Html<String> {
    let title = escape(title);
    Html(format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{title}</title>\
         <h1>{title}</h1>{body}</html>\n"
    ))
}

/// HTML-escapes text for element content and quoted attribute values (the five characters
/// that can end a text node or an attribute, OWASP XSS prevention cheat sheet, rule 1).
#[must_use]
pub fn escape(text: &str) -> String {
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
