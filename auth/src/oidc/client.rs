//! [`OidcClient`]: one relying party registered at one OpenID Provider — discovery, the
//! authorization request, the code exchange, refresh, ID-token validation and logout URLs.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

// nosemgrep: paved.oauth2-outside-paved -- paved-auth wraps oauth2 here (OidcClient)
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
// nosemgrep: paved.oauth2-outside-paved -- paved-auth wraps oauth2 here (OidcClient)
use oauth2::{
    AccessToken, AuthType, AuthorizationCode, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, TokenUrl,
};
use paved_crypto::{Clock, SystemClock};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::http_client::{FetchError, HttpClient};
use crate::jwt::{Algorithm, JwksCache, JwtValidator, KeySet};
use crate::oidc::client_auth::{AppliedAuth, ClientAuth};
use crate::oidc::error::{IdTokenProblem, LoginError, OidcError, sanitize_error_code};
use crate::oidc::metadata::{self, EndpointPolicy, MetadataOptions, ProviderMetadata};
use crate::oidc::transaction::{self, Transaction};

/// The default clock-skew allowance for ID-token `exp` and `iat`: 60 s (OA-16).
pub const DEFAULT_ID_TOKEN_LEEWAY: Duration = Duration::from_secs(60);

/// The scopes requested when none are configured. `openid` is always sent.
pub const DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email"];

// nosemgrep: paved.oauth2-outside-paved -- the token client behind OidcClient
type TokenClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A relying party (client) of one OpenID Provider. Build it with [`OidcClient::discover`] or
/// [`OidcClient::builder`]; cheap to clone.
///
/// Only the authorization code grant exists here (OA-01): there is no API for the implicit or
/// the password grant.
#[derive(Clone)]
pub struct OidcClient(Arc<Inner>);

struct Inner {
    client_id: String,
    auth: ClientAuth,
    http: HttpClient,
    metadata: ProviderMetadata,
    id_tokens: JwtValidator,
    scope: String,
    use_par: bool,
    clock: Arc<dyn Clock>,
    token_client: TokenClient,
    stub: Option<StubTokenEndpoint>,
    /// Bounds the PAR calls in flight: every `GET /login` makes one, so a flood of logins must
    /// not become a flood at the provider that exhausts this client's rate limit there.
    par_permits: tokio::sync::Semaphore,
}

/// The most pushed authorization requests in flight at once; more logins at that moment get a
/// 503 page rather than queueing calls at the provider.
pub const MAX_CONCURRENT_PAR: usize = 64;

/// A token endpoint answered in-process (the callback benchmark and fuzz fixture only, see
/// `crate::fuzzing`): code in, response body out.
pub(crate) type StubTokenEndpoint = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.0.metadata.issuer)
            .field("client_id", &self.0.client_id)
            .field("auth", &self.0.auth.method())
            .field("scope", &self.0.scope)
            .field("par", &self.uses_par())
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// A builder for `client_id` at `issuer` authenticating with `auth`.
    pub fn builder(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        auth: ClientAuth,
    ) -> OidcClientBuilder {
        OidcClientBuilder {
            issuer: issuer.into(),
            client_id: client_id.into(),
            auth,
            dev_loopback: false,
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            use_par: false,
            algorithms: None,
            legacy_rsa: false,
            leeway: DEFAULT_ID_TOKEN_LEEWAY,
            clock: Arc::new(SystemClock),
            http: None,
            static_keys: None,
            stub: None,
            metadata_options: MetadataOptions::default(),
        }
    }

    /// Discovers `issuer` with the default settings (https only, scopes
    /// [`DEFAULT_SCOPES`]); see [`OidcClientBuilder::discover`].
    ///
    /// # Errors
    ///
    /// See [`OidcClientBuilder::discover`].
    pub async fn discover(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        auth: ClientAuth,
    ) -> Result<Self, OidcError> {
        Self::builder(issuer, client_id, auth).discover().await
    }

    /// The issuer (exactly as configured and as the metadata states it).
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.0.metadata.issuer
    }

    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// The validated provider metadata.
    #[must_use]
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.0.metadata
    }

    /// Whether authorization requests are pushed (RFC 9126): required by the provider or
    /// configured with [`OidcClientBuilder::use_par`].
    #[must_use]
    pub fn uses_par(&self) -> bool {
        self.0.use_par || self.0.metadata.require_pushed_authorization_requests
    }

    /// Whether the back channel is the loopback dev client.
    #[must_use]
    pub fn is_dev_loopback(&self) -> bool {
        self.0.http.is_dev_loopback()
    }

    pub(crate) fn now(&self) -> u64 {
        self.0.clock.now_unix()
    }

    /// The back channel's per-exchange timeout (what bounds a token request).
    pub(crate) fn http_timeout(&self) -> Duration {
        self.0.http.timeout()
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.0.clock)
    }

    /// Starts a login: fresh `state`, `nonce` and PKCE verifier (OA-02, OA-03, OA-05), pushed
    /// to the PAR endpoint when PAR is in use (OA-24). Returns the URL to send the browser to
    /// and the transaction to seal into the cookie.
    pub(crate) async fn start_authorization(
        &self,
        redirect_uri: &str,
        return_to: String,
    ) -> Result<(String, Transaction), LoginError> {
        let tx = Transaction {
            state: transaction::random_value()?,
            verifier: transaction::random_value()?,
            nonce: transaction::random_value()?,
            issuer: self.0.metadata.issuer.clone(),
            created: self.now(),
            return_to,
        };
        let challenge = transaction::s256_challenge(&tx.verifier);
        let params: [(&str, &str); 8] = [
            ("response_type", "code"),
            ("client_id", &self.0.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", &self.0.scope),
            ("state", &tx.state),
            ("nonce", &tx.nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        let mut url = url::Url::parse(&self.0.metadata.authorization_endpoint)
            .map_err(|_| LoginError::Internal("authorization endpoint"))?;
        if self.uses_par() {
            let _permit = self
                .0
                .par_permits
                .try_acquire()
                .map_err(|_| LoginError::Overloaded)?;
            let request_uri = self.push_authorization_request(&params).await?;
            url.query_pairs_mut()
                .append_pair("client_id", &self.0.client_id)
                .append_pair("request_uri", &request_uri);
        } else {
            // RFC 6749 §3.1: a query already in the endpoint URL is kept.
            url.query_pairs_mut().extend_pairs(params);
        }
        Ok((url.into(), tx))
    }

    /// RFC 9126 §2: the parameters go to the PAR endpoint over the authenticated back
    /// channel; only `client_id` and the returned `request_uri` pass through the browser.
    async fn push_authorization_request(
        &self,
        params: &[(&str, &str)],
    ) -> Result<String, LoginError> {
        #[derive(Deserialize)]
        struct ParResponse {
            request_uri: String,
            #[allow(dead_code)]
            expires_in: Option<Value>,
        }
        let endpoint = self
            .0
            .metadata
            .pushed_authorization_request_endpoint
            .as_deref()
            .ok_or(LoginError::Internal("no PAR endpoint"))?;
        let applied = self.applied_auth()?;
        let mut form: Vec<(&str, &str)> = params.to_vec();
        for (name, value) in &applied.form {
            if *name != "client_id" {
                form.push((name, value.as_str()));
            }
        }
        let response = self
            .0
            .http
            .post_form(
                endpoint,
                &form,
                applied.authorization.as_ref().map(|a| a.as_str()),
            )
            .await
            .map_err(unavailable_or_bad)?;
        let status = response.status().as_u16();
        if status >= 500 {
            return Err(LoginError::Unavailable(FetchError::Status { status }));
        }
        crate::http_client::require_json(&response)
            .map_err(|_| LoginError::BadResponse("PAR not JSON"))?;
        if status == 200 || status == 201 {
            let par: ParResponse = serde_json::from_slice(response.body())
                .map_err(|_| LoginError::BadResponse("PAR response"))?;
            // RFC 9126 §2.2: a URN the provider minted; refuse anything that could turn the
            // authorization URL into something else.
            if par.request_uri.is_empty()
                || par.request_uri.len() > 512
                || par.request_uri.chars().any(char::is_control)
            {
                return Err(LoginError::BadResponse("PAR request_uri"));
            }
            return Ok(par.request_uri);
        }
        Err(LoginError::Refused(error_code_of(response.body())))
    }

    /// Exchanges the authorization code (OA-07: the same `redirect_uri`; OA-09: once, never
    /// retried) and validates the answer (OA-15) and the ID token (OA-16).
    pub(crate) async fn exchange_code(
        &self,
        code: &str,
        tx: &Transaction,
        redirect_uri: &str,
    ) -> Result<Tokens, LoginError> {
        let applied = self.applied_auth()?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| LoginError::Internal("redirect uri"))?;
        let mut request = self
            .0
            .token_client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(tx.verifier.clone()))
            .set_redirect_uri(Cow::Owned(redirect));
        for (name, value) in &applied.form {
            if *name != "client_id" {
                request = request.add_extra_param(*name, value.as_str());
            }
        }
        let response = if let Some(stub) = &self.0.stub {
            serde_json::from_slice(&stub(code))
                .map_err(|_| LoginError::BadResponse("token response does not parse"))?
        } else {
            let http = self.backchannel(applied.authorization);
            request
                .request_async(&http)
                .await
                .map_err(map_token_error)?
        };
        let tokens = self.check_token_response(&response)?;
        let id_token = tokens.id_token.as_deref().ok_or(IdTokenProblem::Missing)?;
        let claims = self.validate_id_token(id_token, Some(&tx.nonce)).await?;
        Ok(Tokens {
            claims: Some(claims),
            ..tokens
        })
    }

    /// The refresh grant (OA-17). The caller checks the refreshed ID token against the
    /// session's (OA-18) with [`IdTokenClaims::check_refresh`].
    pub(crate) async fn refresh(&self, refresh_token: &str) -> Result<Tokens, LoginError> {
        let applied = self.applied_auth()?;
        let refresh_token = RefreshToken::new(refresh_token.to_owned());
        let mut request = self.0.token_client.exchange_refresh_token(&refresh_token);
        for (name, value) in &applied.form {
            if *name != "client_id" {
                request = request.add_extra_param(*name, value.as_str());
            }
        }
        let http = self.backchannel(applied.authorization);
        let response = request
            .request_async(&http)
            .await
            .map_err(map_token_error)?;
        let tokens = self.check_token_response(&response)?;
        let claims = match tokens.id_token.as_deref() {
            Some(id_token) => Some(self.validate_id_token(id_token, None).await?),
            None => None,
        };
        Ok(Tokens { claims, ..tokens })
    }

    /// Fetches the UserInfo claims with `access_token` and checks that their `sub` is the ID
    /// token's (OA-27, OIDC Core §5.3.2). Only JSON responses are accepted.
    pub(crate) async fn userinfo(
        &self,
        access_token: &str,
        subject: &str,
    ) -> Result<Map<String, Value>, LoginError> {
        let endpoint = self
            .0
            .metadata
            .userinfo_endpoint
            .as_deref()
            .ok_or(LoginError::Internal("no userinfo endpoint"))?;
        let authorization = Zeroizing::new(format!("Bearer {access_token}"));
        let request = http::Request::get(endpoint)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::AUTHORIZATION, authorization.as_str())
            .body(Vec::new())
            .map_err(|_| LoginError::Internal("userinfo request"))?;
        let response = self
            .0
            .http
            .send(request)
            .await
            .map_err(unavailable_or_bad)?;
        let status = response.status().as_u16();
        if status >= 500 {
            return Err(LoginError::Unavailable(FetchError::Status { status }));
        }
        if status != 200 {
            return Err(LoginError::BadResponse("userinfo status"));
        }
        crate::http_client::require_json(&response)
            .map_err(|_| LoginError::BadResponse("userinfo not JSON"))?;
        let claims: Map<String, Value> = serde_json::from_slice(response.body())
            .map_err(|_| LoginError::BadResponse("userinfo JSON"))?;
        match claims.get("sub") {
            Some(Value::String(sub)) if sub == subject => Ok(claims),
            _ => Err(LoginError::UserInfoSubject),
        }
    }

    /// The RP-initiated logout URL (OIDC RP-Initiated Logout 1.0 §2), if the provider has an
    /// `end_session_endpoint`.
    pub(crate) fn end_session_url(
        &self,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: &str,
    ) -> Option<String> {
        let endpoint = self.0.metadata.end_session_endpoint.as_deref()?;
        let mut url = url::Url::parse(endpoint).ok()?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint);
            }
            query.append_pair("client_id", &self.0.client_id);
            if let Some(uri) = post_logout_redirect_uri {
                query.append_pair("post_logout_redirect_uri", uri);
                query.append_pair("state", state);
            }
        }
        Some(url.into())
    }

    fn applied_auth(&self) -> Result<AppliedAuth, LoginError> {
        // RFC 7523 §3 / OIDC Core §9: the assertion's audience is the issuer (accepted for the
        // token and PAR endpoints alike).
        self.0
            .auth
            .apply(&self.0.client_id, &self.0.metadata.issuer, self.now())
            .map_err(|_| LoginError::Internal("client authentication"))
    }

    /// The `oauth2` HTTP client: the hardened back channel (OA-19) plus the client
    /// authentication header, 5xx mapped to "unavailable" and a JSON content type required.
    fn backchannel(
        &self,
        authorization: Option<Zeroizing<String>>,
    ) -> impl Fn(
        HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, FetchError>> + Send>,
    > {
        let http = self.0.http.clone();
        let authorization = authorization.map(Arc::new);
        move |mut request: HttpRequest| {
            let http = http.clone();
            let authorization = authorization.clone();
            Box::pin(async move {
                if let Some(value) = authorization.as_deref() {
                    let mut value = http::HeaderValue::try_from(value.as_str())
                        .map_err(|_| FetchError::InvalidUrl)?;
                    value.set_sensitive(true);
                    request
                        .headers_mut()
                        .insert(http::header::AUTHORIZATION, value);
                }
                let response = http.send(request).await?;
                let status = response.status().as_u16();
                if status >= 500 {
                    return Err(FetchError::Status { status });
                }
                crate::http_client::require_json(&response)?;
                Ok(response)
            })
        }
    }

    fn check_token_response(&self, response: &TokenResponse) -> Result<Tokens, LoginError> {
        // OA-15: Bearer, case-insensitively (RFC 6749 §5.1). DPoP-bound tokens are not
        // supported, so a DPoP answer is refused rather than used as a bearer token.
        if response.token_type != BasicTokenType::Bearer {
            return Err(LoginError::BadResponse("token_type is not Bearer"));
        }
        if response.access_token.secret().is_empty() {
            return Err(LoginError::BadResponse("empty access_token"));
        }
        let now = self.now();
        Ok(Tokens {
            access_token: Zeroizing::new(response.access_token.secret().clone()),
            access_expires_at: response.expires_in.map(|s| now.saturating_add(s)),
            refresh_token: response
                .refresh_token
                .as_ref()
                .map(|r| Zeroizing::new(r.secret().clone())),
            id_token: response.id_token.as_ref().map(|t| t.0.clone()),
            scope: response.scope.clone(),
            claims: None,
        })
    }

    /// OA-16: signature and algorithm (JWKS, allow-list), `iss` exact, `aud` contains this
    /// client, `exp`, `iat` within the leeway, then `azp` and `nonce`.
    pub(crate) async fn validate_id_token(
        &self,
        id_token: &str,
        expected_nonce: Option<&str>,
    ) -> Result<IdTokenClaims, IdTokenProblem> {
        let validated = self
            .0
            .id_tokens
            .validate::<Map<String, Value>>(id_token)
            .await
            .map_err(IdTokenProblem::Jwt)?;
        // RFC 8725 §3.11: explicit typing keeps one kind of JWT from being accepted as another.
        // ID tokens usually carry no `typ` or `JWT`; an access token (RFC 9068), a logout token
        // or a security event signed by the same provider key is refused here.
        if let Some(typ) = validated.typ() {
            let typ = typ.strip_prefix("application/").unwrap_or(typ);
            if !typ.eq_ignore_ascii_case("jwt") && !typ.eq_ignore_ascii_case("id_token+jwt") {
                return Err(IdTokenProblem::Type);
            }
        }
        let standard = validated.standard();
        let subject = standard.sub.clone().ok_or(IdTokenProblem::Subject)?;
        let claims = validated.claims();
        let string_claim = |name: &'static str| match claims.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(IdTokenProblem::ClaimType(name)),
        };
        let azp = string_claim("azp")?;
        let nonce = string_claim("nonce")?;
        let sid = string_claim("sid")?;
        let auth_time = match claims.get("auth_time") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or(IdTokenProblem::ClaimType("auth_time"))?),
        };
        // OIDC Core §3.1.3.7 (4)/(5): with several audiences `azp` should be present; when
        // present it must be this client. Without it a token minted for another party that
        // merely lists this client could be replayed here.
        match azp.as_deref() {
            Some(azp) if azp != self.0.client_id => return Err(IdTokenProblem::Azp),
            None if standard.aud.len() > 1 => return Err(IdTokenProblem::Azp),
            _ => {}
        }
        if let Some(expected) = expected_nonce {
            let matches = nonce
                .as_deref()
                .is_some_and(|n| paved_crypto::ct_eq(n.as_bytes(), expected.as_bytes()));
            if !matches {
                return Err(IdTokenProblem::Nonce);
            }
        }
        Ok(IdTokenClaims {
            issuer: standard.iss.clone(),
            subject,
            audience: standard.aud.clone(),
            nonce,
            auth_time,
            sid,
            claims: claims.clone(),
        })
    }
}

/// The system time in seconds (the fixture's token minting).
pub(crate) fn now_unix() -> u64 {
    SystemClock.now_unix()
}

/// The checked claims of an ID token.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct IdTokenClaims {
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) audience: Vec<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) auth_time: Option<u64>,
    pub(crate) sid: Option<String>,
    pub(crate) claims: Map<String, Value>,
}

impl fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl IdTokenClaims {
    /// OIDC Core §12.2 (OA-18): a refreshed ID token names the same issuer, subject and
    /// audience; its `nonce`, if any, is the original one; its `auth_time`, if any, is
    /// unchanged.
    pub(crate) fn check_refresh(&self, refreshed: &Self) -> Result<(), IdTokenProblem> {
        if refreshed.issuer != self.issuer {
            return Err(IdTokenProblem::RefreshChanged("iss"));
        }
        if refreshed.subject != self.subject {
            return Err(IdTokenProblem::RefreshChanged("sub"));
        }
        let mut old = self.audience.clone();
        let mut new = refreshed.audience.clone();
        old.sort();
        new.sort();
        if old != new {
            return Err(IdTokenProblem::RefreshChanged("aud"));
        }
        if refreshed.nonce.is_some() && refreshed.nonce != self.nonce {
            return Err(IdTokenProblem::RefreshChanged("nonce"));
        }
        if refreshed.auth_time.is_some() && refreshed.auth_time != self.auth_time {
            return Err(IdTokenProblem::RefreshChanged("auth_time"));
        }
        Ok(())
    }
}

/// A checked token response.
pub(crate) struct Tokens {
    pub(crate) access_token: Zeroizing<String>,
    pub(crate) access_expires_at: Option<u64>,
    pub(crate) refresh_token: Option<Zeroizing<String>>,
    pub(crate) id_token: Option<Zeroizing<String>>,
    pub(crate) scope: Option<String>,
    pub(crate) claims: Option<IdTokenClaims>,
}

/// Builds an [`OidcClient`].
#[must_use = "a builder does nothing until `discover` is called"]
pub struct OidcClientBuilder {
    issuer: String,
    client_id: String,
    auth: ClientAuth,
    dev_loopback: bool,
    scopes: Vec<String>,
    use_par: bool,
    algorithms: Option<Vec<Algorithm>>,
    legacy_rsa: bool,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    http: Option<HttpClient>,
    static_keys: Option<KeySet>,
    stub: Option<StubTokenEndpoint>,
    metadata_options: MetadataOptions,
}

impl fmt::Debug for OidcClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClientBuilder")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("auth", &self.auth.method())
            .field("dev_loopback", &self.dev_loopback)
            .finish_non_exhaustive()
    }
}

impl OidcClientBuilder {
    /// **Development only**: talk to a provider on a loopback address over plain http (a
    /// local IdP in tests). Every non-loopback host is refused, https or not; the login layer
    /// additionally refuses to serve a non-loopback public origin.
    pub fn dev_loopback(mut self) -> Self {
        self.dev_loopback = true;
        self
    }

    /// The scopes to request; `openid` is added when missing.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Pushes every authorization request (RFC 9126) even when the provider does not require
    /// it. PAR is always used when the metadata says `require_pushed_authorization_requests`.
    pub fn use_par(mut self) -> Self {
        self.use_par = true;
        self
    }

    /// The ID-token algorithms to accept (default: the JWT module's allow-list, ES256, ES384,
    /// `EdDSA`, PS256/384/512).
    pub fn id_token_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// **Legacy opt-in**: accept RS256/384/512 ID tokens (still the default of many providers;
    /// see the JWT module for why RSASSA-PKCS1-v1_5 is opt-in).
    pub fn allow_legacy_rsa_pkcs1(mut self) -> Self {
        self.legacy_rsa = true;
        self
    }

    /// The clock-skew allowance for ID tokens (default [`DEFAULT_ID_TOKEN_LEEWAY`], at most
    /// 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Replaces the clock (tests).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the back-channel client (other timeouts or body caps). Its mode must match:
    /// the https-only client normally, the loopback client with
    /// [`dev_loopback`](Self::dev_loopback).
    pub fn http_client(mut self, client: HttpClient) -> Self {
        self.http = Some(client);
        self
    }

    /// Relaxations of the discovery checks, each named for what it gives up (see
    /// [`MetadataOptions`]). Default: none.
    pub fn metadata_options(mut self, options: MetadataOptions) -> Self {
        self.metadata_options = options;
        self
    }

    /// Fetches `{issuer}/.well-known/openid-configuration` over the hardened back channel and
    /// builds the client (OA-20).
    ///
    /// # Errors
    ///
    /// [`OidcError::Fetch`] if the document cannot be fetched; [`OidcError::Metadata`] if it is
    /// refused (issuer mismatch, http endpoints, no S256, …); the errors of
    /// [`from_metadata`](Self::from_metadata).
    pub async fn discover(self) -> Result<OidcClient, OidcError> {
        let http = self.http_client_for_mode()?;
        let url = metadata::discovery_url(&self.issuer)?;
        // OA-19: the document must be declared JSON (OIDC Discovery §4.2), like every other
        // back-channel answer; `HttpClient::get` checks status, redirects, size and time only.
        let request = http::Request::get(url.as_str())
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|_| OidcError::Fetch(FetchError::InvalidUrl))?;
        let response = http.send(request).await?;
        if response.status() != http::StatusCode::OK {
            return Err(OidcError::Fetch(FetchError::Status {
                status: response.status().as_u16(),
            }));
        }
        crate::http_client::require_json(&response)?;
        let body = response.into_body();
        let metadata = metadata::parse_metadata_with(
            &body,
            &self.issuer,
            self.policy(),
            self.metadata_options,
        )?;
        self.build(metadata, http)
    }

    /// Builds the client from metadata already fetched and validated with
    /// [`parse_metadata`](crate::oidc::parse_metadata) (static configuration, tests).
    ///
    /// # Errors
    ///
    /// [`OidcError::Config`] if the metadata was validated for another issuer or mode, the
    /// client id is empty, or the client authentication is not one the provider lists;
    /// [`OidcError::Jwt`] if the ID-token validator cannot be built.
    pub fn from_metadata(self, metadata: ProviderMetadata) -> Result<OidcClient, OidcError> {
        let http = self.http_client_for_mode()?;
        if metadata.issuer != self.issuer {
            return Err(OidcError::Config("the metadata is for another issuer"));
        }
        // Re-check the endpoints under this builder's mode: metadata parsed for the dev mode
        // must not reach an https-only client with http endpoints.
        let reparsed_policy = self.policy();
        for endpoint in [
            Some(&metadata.authorization_endpoint),
            Some(&metadata.token_endpoint),
            Some(&metadata.jwks_uri),
            metadata.userinfo_endpoint.as_ref(),
            metadata.end_session_endpoint.as_ref(),
            metadata.pushed_authorization_request_endpoint.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if reparsed_policy == EndpointPolicy::HttpsOnly && http.check_url(endpoint).is_err() {
                return Err(OidcError::Config("an endpoint is not https"));
            }
        }
        self.build(metadata, http)
    }

    /// The fixture of `crate::fuzzing`: ID-token keys given here instead of the JWKS, and
    /// the token endpoint answered in-process.
    pub(crate) fn fixture(mut self, keys: KeySet, stub: StubTokenEndpoint) -> Self {
        self.static_keys = Some(keys);
        self.stub = Some(stub);
        self
    }

    fn policy(&self) -> EndpointPolicy {
        if self.dev_loopback {
            EndpointPolicy::DevLoopback
        } else {
            EndpointPolicy::HttpsOnly
        }
    }

    fn http_client_for_mode(&self) -> Result<HttpClient, OidcError> {
        let http = match &self.http {
            Some(client) => client.clone(),
            None if self.dev_loopback => HttpClient::dev_loopback()?,
            None => HttpClient::new()?,
        };
        if http.is_dev_loopback() != self.dev_loopback {
            return Err(OidcError::Config(
                "the HTTP client's mode does not match dev_loopback",
            ));
        }
        Ok(http)
    }

    fn build(self, metadata: ProviderMetadata, http: HttpClient) -> Result<OidcClient, OidcError> {
        if self.client_id.is_empty() || self.client_id.chars().any(char::is_control) {
            return Err(OidcError::Config(
                "the client id is empty or has control characters",
            ));
        }
        // Fail at start-up, not at every login with a 500: an empty secret or a key that
        // cannot sign is a configuration error.
        self.auth
            .apply(&self.client_id, &metadata.issuer, self.clock.now_unix())
            .map_err(OidcError::ClientAuth)?;
        if let Some(methods) = &metadata.token_endpoint_auth_methods_supported
            && !methods.iter().any(|m| m == self.auth.method())
        {
            return Err(OidcError::Config(
                "the provider does not list this client authentication method",
            ));
        }
        if (self.use_par || metadata.require_pushed_authorization_requests)
            && metadata.pushed_authorization_request_endpoint.is_none()
        {
            return Err(OidcError::Config(
                "PAR is configured but the provider has no PAR endpoint",
            ));
        }
        let mut scopes: Vec<String> = Vec::with_capacity(self.scopes.len() + 1);
        if !self.scopes.iter().any(|s| s == "openid") {
            scopes.push("openid".to_owned());
        }
        for scope in self.scopes {
            if scope.is_empty()
                || scope
                    .bytes()
                    .any(|b| !(0x21..=0x7e).contains(&b) || b == b'"' || b == b'\\')
            {
                return Err(OidcError::Config(
                    "a scope is empty or has invalid characters",
                ));
            }
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        let mut validator = JwtValidator::builder(metadata.issuer.clone(), self.client_id.clone());
        validator = match self.static_keys {
            Some(keys) => validator.keys(keys),
            None => validator.jwks(
                // The client's clock drives the key set's ttl and refetch cooldown too, so the
                // whole client moves with one injected clock.
                JwksCache::builder(metadata.jwks_uri.clone())
                    .client(http.clone())
                    .clock(ClockRef(Arc::clone(&self.clock)))
                    .build()?,
            ),
        };
        let mut validator = validator.leeway(self.leeway).require_claims(["sub", "iat"]);
        let clock = self.clock;
        validator = validator.clock(ClockRef(Arc::clone(&clock)));
        if self.legacy_rsa {
            validator = validator.allow_legacy_rsa_pkcs1();
        }
        if let Some(algorithms) = self.algorithms {
            validator = validator.algorithms(algorithms);
        } else if self.legacy_rsa {
            let mut algorithms = Algorithm::DEFAULT_ALLOWED.to_vec();
            algorithms.push(Algorithm::RS256);
            validator = validator.algorithms(algorithms);
        }
        let id_tokens = validator.build()?;
        let token_url = TokenUrl::new(metadata.token_endpoint.clone())
            .map_err(|_| OidcError::Config("the token endpoint is not a URL"))?;
        // Client authentication is added by paved (ClientAuth::apply): oauth2 only puts the
        // client id into the body (RFC 6749 §2.3.1 allows it alongside Basic).
        let token_client: TokenClient =
            // nosemgrep: paved.oauth2-outside-paved -- the token client behind OidcClient
            oauth2::Client::new(oauth2::ClientId::new(self.client_id.clone()))
                .set_auth_type(AuthType::RequestBody)
                .set_token_uri(token_url);
        Ok(OidcClient(Arc::new(Inner {
            client_id: self.client_id,
            auth: self.auth,
            http,
            metadata,
            id_tokens,
            scope: scopes.join(" "),
            use_par: self.use_par,
            clock,
            token_client,
            stub: self.stub,
            par_permits: tokio::sync::Semaphore::new(MAX_CONCURRENT_PAR),
        })))
    }
}

/// Lets the builder's shared clock be handed to the JWT validator, which takes it by value.
#[derive(Debug)]
struct ClockRef(Arc<dyn Clock>);

impl Clock for ClockRef {
    fn now_unix(&self) -> u64 {
        self.0.now_unix()
    }
}

/// The token endpoint's answer as `oauth2` parses it, with the leniencies real providers need
/// (OA-15): `expires_in` as a number or a numeric string (Microsoft Entra), `token_type` in any
/// case, unknown members ignored.
#[derive(Serialize, Deserialize)]
pub(crate) struct TokenResponse {
    access_token: AccessToken,
    #[serde(deserialize_with = "token_type")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "expires_in")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, deserialize_with = "scope")]
    scope: Option<String>,
    #[serde(default, skip_serializing)]
    id_token: Option<RawIdToken>,
    #[serde(skip)]
    scopes: Option<Vec<Scope>>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

// nosemgrep: paved.oauth2-outside-paved -- OidcClient adapts oauth2 token responses
impl oauth2::TokenResponse for TokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

#[derive(Deserialize)]
#[serde(transparent)]
struct RawIdToken(Zeroizing<String>);

fn token_type<'de, D: Deserializer<'de>>(d: D) -> Result<BasicTokenType, D::Error> {
    let s = String::deserialize(d)?;
    Ok(if s.eq_ignore_ascii_case("bearer") {
        BasicTokenType::Bearer
    } else {
        BasicTokenType::Extension(s)
    })
}

fn expires_in<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(u64),
        String(String),
    }
    match Option::<NumberOrString>::deserialize(d)? {
        None => Ok(None),
        Some(NumberOrString::Number(n)) => Ok(Some(n)),
        Some(NumberOrString::String(s)) if !s.is_empty() && s.len() <= 10 => s
            .parse::<u64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expires_in is not a number")),
        Some(NumberOrString::String(_)) => {
            Err(serde::de::Error::custom("expires_in is not a number"))
        }
    }
}

fn scope<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

fn error_code_of(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
    }
    serde_json::from_slice::<ErrorBody>(body).map_or_else(
        |_| "unparsable_error".to_owned(),
        |e| sanitize_error_code(&e.error),
    )
}

fn unavailable_or_bad(e: FetchError) -> LoginError {
    match e {
        FetchError::Timeout | FetchError::Connect | FetchError::Transport => {
            LoginError::Unavailable(e)
        }
        FetchError::Status { status } if status >= 500 => LoginError::Unavailable(e),
        FetchError::Redirect { .. } => LoginError::BadResponse("redirect refused"),
        FetchError::BodyTooLarge { .. } => LoginError::BadResponse("body too large"),
        _ => LoginError::BadResponse("back-channel request refused"),
    }
}

fn map_token_error(e: RequestTokenError<FetchError, BasicErrorResponse>) -> LoginError {
    match e {
        RequestTokenError::Request(fetch) => {
            if fetch == FetchError::NotJson {
                LoginError::BadResponse("token response not JSON")
            } else {
                unavailable_or_bad(fetch)
            }
        }
        RequestTokenError::ServerResponse(response) => {
            LoginError::Refused(sanitize_error_code(response.error().as_ref()))
        }
        // The body may hold tokens: it is dropped, not logged (OA-25).
        RequestTokenError::Parse(_, _) => LoginError::BadResponse("token response does not parse"),
        RequestTokenError::Other(_) => LoginError::BadResponse("token response"),
    }
}
