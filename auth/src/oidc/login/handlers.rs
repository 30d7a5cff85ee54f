//! `GET /login`, `GET /callback` and `POST /logout`.

use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Response, header};
use tracing::Instrument as _;
use zeroize::Zeroizing;

use crate::oidc::cookies;
use crate::oidc::error::LoginError;
use crate::oidc::login::{LoginInner, OidcLogin, pages};
use crate::oidc::return_to::safe_return_to;
use crate::oidc::session::SessionData;
use crate::oidc::transaction::{self, COOKIE_PREFIX, MAX_PENDING, Transaction};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Endpoint {
    Login,
    Callback,
    Logout,
}

/// The largest callback query accepted (codes and states are short; a provider's
/// `error_description` is capped by this too).
const MAX_QUERY_LEN: usize = 8 * 1024;

pub(crate) async fn handle<B: From<String>>(
    login: &OidcLogin,
    endpoint: Endpoint,
    parts: &Parts,
) -> Response<B> {
    let result = match endpoint {
        Endpoint::Login => start_login(login, parts).await,
        Endpoint::Callback => callback(login, parts).await,
        Endpoint::Logout => logout(login, parts).await,
    };
    match result {
        Ok(response) => response,
        Err(Failure { error, cleanup }) => {
            log_failure(endpoint, &error);
            let mut response = pages::failure(&error, &login.0.login_path);
            if matches!(error, LoginError::MethodNotAllowed) {
                // RFC 9110 §15.5.6: a 405 lists the methods the endpoint does accept.
                let allow = match endpoint {
                    Endpoint::Login | Endpoint::Callback => "GET",
                    Endpoint::Logout => "POST",
                };
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            for cookie in cleanup {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
    }
}

/// A failed request: the error, and the `Set-Cookie` headers that must still go out (the
/// transaction cookie is deleted by every callback response, OA-04).
struct Failure {
    error: LoginError,
    cleanup: Vec<HeaderValue>,
}

impl From<LoginError> for Failure {
    fn from(error: LoginError) -> Self {
        Self {
            error,
            cleanup: Vec::new(),
        }
    }
}

fn log_failure(endpoint: Endpoint, error: &LoginError) {
    let status = error.status().as_u16();
    if status >= 500 {
        tracing::warn!(?endpoint, status, %error, "paved-auth: login endpoint failed");
    } else {
        tracing::info!(?endpoint, status, %error, "paved-auth: login endpoint refused the request");
    }
}

/// `GET /login[?return_to=/path]`: starts a transaction and redirects to the provider. Only
/// `return_to` is read, and only a same-origin path is kept (OA-11); nothing else from the
/// request reaches the provider (OA-23).
async fn start_login<B: From<String>>(
    login: &OidcLogin,
    parts: &Parts,
) -> Result<Response<B>, Failure> {
    // GET only: a HEAD (link previews, prefetchers) would start a transaction and, with PAR,
    // spend a call to the provider for a response nobody follows.
    if parts.method != Method::GET {
        return Err(LoginError::MethodNotAllowed.into());
    }
    let inner = &login.0;
    let requested = parts
        .uri
        .query()
        .and_then(|q| single_param(q, "return_to").ok().flatten());
    let return_to = requested
        .as_deref()
        .and_then(safe_return_to)
        .unwrap_or(&inner.default_return_to)
        .to_owned();
    let (url, tx) = inner
        .client
        .start_authorization(&inner.redirect_uri, return_to)
        .await?;
    let span = tracing::info_span!("paved_oidc_login", tx = %transaction::trace_label(&tx.state));
    let _entered = span.enter();
    let cookie = tx.seal(&inner.tx_sealer)?;
    let mut response = pages::redirect::<B>(&url)?;
    let headers = response.headers_mut();
    for name in stale_transactions(inner, &parts.headers) {
        headers.append(header::SET_COOKIE, cookies::delete_cookie(name)?);
    }
    headers.append(header::SET_COOKIE, cookie);
    tracing::debug!(par = inner.client.uses_par(), "paved-auth: login started");
    Ok(response)
}

/// The transaction cookies to delete when a new login starts: abandoned logins leave cookies
/// until they expire, and a page that starts logins in a loop must not grow the `Cookie`
/// header without bound. Keeps the newest `MAX_PENDING - 1` (several tabs may be logging in);
/// cookies that do not open count as oldest. Past a few dozen (never set by this layer) all go
/// without opening any.
fn stale_transactions<'h>(inner: &LoginInner, headers: &'h HeaderMap) -> Vec<&'h str> {
    const OPEN_AT_MOST: usize = 32;
    let pending: Vec<(&str, &str)> = cookies::pairs(headers)
        .filter(|(name, _)| name.starts_with(COOKIE_PREFIX))
        .collect();
    if pending.len() < MAX_PENDING {
        return Vec::new();
    }
    if pending.len() > OPEN_AT_MOST {
        return pending.into_iter().map(|(name, _)| name).collect();
    }
    let mut aged: Vec<(u64, &str)> = pending
        .into_iter()
        .map(|(name, value)| {
            let state = &name[COOKIE_PREFIX.len()..];
            let created =
                Transaction::open(&inner.tx_sealer, state, value).map_or(0, |tx| tx.created);
            (created, name)
        })
        .collect();
    aged.sort_by_key(|(created, _)| *created);
    let excess = aged.len() + 1 - MAX_PENDING;
    aged.into_iter()
        .take(excess)
        .map(|(_, name)| name)
        .collect()
}

/// The parameters of a callback, each present at most once.
#[derive(Default)]
struct CallbackParams {
    code: Option<Zeroizing<String>>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

fn parse_callback(query: &str) -> Result<CallbackParams, LoginError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(LoginError::BadCallback("query too long"));
    }
    let mut params = CallbackParams::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        // RFC 6749 §3.1: parameters must not be repeated; a second `state` or `code` is an
        // attempt to make two parsers disagree.
        let slot_taken = match name.as_ref() {
            "code" => params
                .code
                .replace(Zeroizing::new(value.into_owned()))
                .is_some(),
            "state" => params.state.replace(value.into_owned()).is_some(),
            "iss" => params.iss.replace(value.into_owned()).is_some(),
            "error" => params.error.replace(value.into_owned()).is_some(),
            _ => false,
        };
        if slot_taken {
            return Err(LoginError::BadCallback("repeated parameter"));
        }
    }
    Ok(params)
}

/// `GET /callback`: the checks in order, each failing closed (OA-03 … OA-10, OA-16, OA-23).
async fn callback<B: From<String>>(
    login: &OidcLogin,
    parts: &Parts,
) -> Result<Response<B>, Failure> {
    if parts.method != Method::GET {
        return Err(LoginError::MethodNotAllowed.into());
    }
    let inner = &login.0;
    let params = parse_callback(parts.uri.query().unwrap_or_default())?;
    let state = params
        .state
        .as_deref()
        .filter(|s| transaction::is_well_formed_random(s))
        .ok_or(LoginError::BadCallback("missing or malformed state"))?;
    let cookie_name = transaction::cookie_name(state);
    // From here on every response deletes this transaction's cookie: one callback per
    // transaction, whatever its outcome.
    let cleanup = vec![cookies::delete_cookie(&cookie_name)?];
    let fail = |error: LoginError| Failure {
        error,
        cleanup: cleanup.clone(),
    };
    let span = tracing::info_span!("paved_oidc_login", tx = %transaction::trace_label(state));
    async {
        // OA-23: no cookie for this state in this browser → not a login this browser started
        // (login CSRF, a callback link sent to a victim).
        let sealed = cookies::unique(&parts.headers, &cookie_name)
            .ok_or_else(|| fail(LoginError::UnknownTransaction))?;
        let tx = Transaction::open(&inner.tx_sealer, state, sealed).map_err(fail)?;
        // The transaction must be this login's. The sealer's key is bound to the issuer and
        // client, so another login's cookie does not even open; the issuer it records is
        // compared as well, where it is used.
        if tx.issuer != inner.client.issuer() {
            return Err(fail(LoginError::UnknownTransaction));
        }
        // RFC 9207 §2.4 (OA-06): compare `iss` before anything else from the response is
        // used, error responses included.
        match params.iss.as_deref() {
            Some(iss) if iss == inner.client.issuer() => {}
            None if !inner
                .client
                .metadata()
                .authorization_response_iss_parameter_supported => {}
            _ => return Err(fail(LoginError::IssuerMismatch)),
        }
        if let Some(error) = params.error.as_deref() {
            // OA-08: the code is sanitised for the log; `error_description` is never read.
            return Err(fail(LoginError::Denied(
                crate::oidc::error::sanitize_error_code(error),
            )));
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| fail(LoginError::BadCallback("missing code")))?;
        let fresh = inner
            .spent_states
            .lock()
            .is_ok_and(|mut spent| spent.spend(state, inner.client.now()));
        if !fresh {
            return Err(fail(LoginError::UnknownTransaction));
        }
        let tokens = inner
            .client
            .exchange_code(code, &tx, &inner.redirect_uri)
            .await
            .map_err(fail)?;
        let data = SessionData::from_login(&inner.client, tokens, inner.fetch_userinfo)
            .await
            .map_err(fail)?;
        let user = OidcLogin::user_key(&data.id.issuer, &data.id.subject);
        let sealed = data
            .seal(&inner.data_sealer, inner.session_ttl)
            .map_err(fail)?;
        // OA-13 / ASVS V7.2.4: a new session id at every login; the browser's previous
        // session, if any, is ended.
        let previous = inner.sessions.session_id_from_headers(&parts.headers);
        let started = inner
            .sessions
            .start(&user, sealed, previous.as_ref())
            .await
            .map_err(|e| fail(LoginError::Store(e)))?;
        let mut response = pages::redirect::<B>(&tx.return_to).map_err(fail)?;
        let headers = response.headers_mut();
        headers.append(header::SET_COOKIE, started.set_cookie().clone());
        for cookie in &cleanup {
            headers.append(header::SET_COOKIE, cookie.clone());
        }
        tracing::info!("paved-auth: login completed");
        Ok(response)
    }
    .instrument(span)
    .await
}

/// `POST /logout` (OA-22): same-origin only, the local session first, then the provider.
async fn logout<B: From<String>>(login: &OidcLogin, parts: &Parts) -> Result<Response<B>, Failure> {
    let inner = &login.0;
    if parts.method != Method::POST {
        return Err(LoginError::MethodNotAllowed.into());
    }
    if !is_same_origin(&parts.headers, &inner.public_origin) {
        return Err(LoginError::CrossOrigin.into());
    }
    let mut id_token_hint = None;
    // A store that cannot be read is a 503, not a logout that only looks done.
    if let Some(loaded) = inner
        .sessions
        .load(&parts.headers)
        .await
        .map_err(LoginError::Store)?
    {
        // Only this login's own session data opens here, so another provider's ID token is
        // never sent to this one as a hint.
        if let Ok(data) = SessionData::open(&inner.data_sealer, loaded.data())
            && data.belongs_to(&inner.client)
        {
            id_token_hint = Some(data.id_token.clone());
        }
        inner
            .sessions
            .end(loaded.id())
            .await
            .map_err(LoginError::Store)?;
    }
    let state = transaction::random_value()?;
    let location = id_token_hint
        .as_deref()
        .and_then(|hint| {
            inner.client.end_session_url(
                Some(hint.as_str()),
                inner.post_logout_redirect_uri.as_deref(),
                &state,
            )
        })
        .or_else(|| inner.post_logout_redirect_uri.clone())
        .unwrap_or_else(|| inner.default_return_to.clone());
    let mut response = pages::redirect::<B>(&location)?;
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, inner.sessions.clear_cookie());
    // W3C Clear-Site-Data: drop what the application stored in this browser too.
    headers.insert(
        "clear-site-data",
        HeaderValue::from_static(if inner.clear_site_cookies {
            "\"cookies\", \"storage\""
        } else {
            "\"storage\""
        }),
    );
    tracing::info!("paved-auth: logged out");
    Ok(response)
}

/// Fetch Metadata first (`Sec-Fetch-Site`, sent by every current browser), then `Origin`;
/// a request with neither is not from a browser form and carries no ambient cookie risk
/// beyond what it could do anyway (the rule of Go's `CrossOriginProtection`).
fn is_same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().is_ok_and(|o| o == public_origin),
        None => true,
    }
}

/// The single value of `name` in `query`; `Err` if it is repeated.
fn single_param(query: &str, name: &str) -> Result<Option<String>, ()> {
    let mut found = None;
    for (n, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if n == name && found.replace(v.into_owned()).is_some() {
            return Err(());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_params_refuse_repeats() {
        assert!(parse_callback("code=a&state=b&iss=c").is_ok());
        assert!(parse_callback("code=a&code=b").is_err());
        assert!(parse_callback("state=a&state=b").is_err());
        assert!(parse_callback("iss=a&iss=b").is_err());
        assert!(parse_callback(&"a".repeat(MAX_QUERY_LEN + 1)).is_err());
    }

    #[test]
    fn same_origin_rule() {
        let mut h = HeaderMap::new();
        assert!(is_same_origin(&h, "https://app.example"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!is_same_origin(&h, "https://app.example"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://app.example"),
        );
        assert!(is_same_origin(&h, "https://app.example"));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!is_same_origin(&h, "https://app.example"));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
        assert!(!is_same_origin(&h, "https://app.example"));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(is_same_origin(&h, "https://app.example"));
    }
}
