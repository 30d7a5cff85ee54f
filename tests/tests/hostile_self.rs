//! Self-test of the hostile authorization server: an honest flow driven by hand (so that a
//! client test failing against it is the client's fault), and the knobs doing what they say.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use paved_auth::http_client::{FetchError, HttpClient};
use paved_auth::jwt::{JwksCache, JwtError, JwtValidator};
use paved_tests::hostile::{
    AuthMethod, AuthorizeFault, ClientAuth, ClientRegistration, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_POST_LOGOUT_REDIRECT_URI, DEFAULT_REDIRECT_URI, DEFAULT_SUBJECT,
    GrantFilter, HUGE_BODY_LEN, HostileAs, IdTokenFault, PublicKeyForm, Publication,
    SLOW_BODY_MAX_BYTES, Shots, SigningAlg, SigningKey, TokenFault, TransportFault, UserinfoFault,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// A hand-written client.

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    let verifier = paved_crypto::random_token(32).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    Pkce {
        challenge: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        verifier,
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `client_secret_basic` done right (RFC 6749 §2.3.1: form-urlencode, then base64).
fn basic(id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", form_encode(id), form_encode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// The test's own HTTP client: no redirects, and every exchange bounded, so that a regression
/// hangs nothing.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

fn authorization_url(idp: &HostileAs, client_id: &str, pkce: &Pkce, state: &str) -> String {
    let mut url = url::Url::parse(&idp.url("/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", DEFAULT_REDIRECT_URI)
        .append_pair("scope", "openid profile")
        .append_pair("state", state)
        .append_pair("nonce", &format!("nonce-{state}"))
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    url.to_string()
}

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Authorizes with the default client; the code from the callback.
async fn code_for(idp: &HostileAs, pkce: &Pkce) -> String {
    let callback = idp
        .approve(&authorization_url(idp, DEFAULT_CLIENT_ID, pkce, "st"))
        .await
        .unwrap();
    query(&callback, "code").expect("a code in the callback")
}

async fn post_token(idp: &HostileAs, auth: Option<&str>, form: &[(&str, &str)]) -> (u16, Value) {
    let mut request = http().post(idp.url("/token")).form(form);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn exchange(idp: &HostileAs, code: &str, verifier: &str) -> (u16, Value) {
    post_token(
        idp,
        Some(&basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", DEFAULT_REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(idp: &HostileAs, refresh_token: &str) -> (u16, Value) {
    post_token(
        idp,
        Some(&basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// A full login: the token response.
async fn login(idp: &HostileAs) -> Value {
    let pkce = pkce();
    let code = code_for(idp, &pkce).await;
    let (status, body) = exchange(idp, &code, &pkce.verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn validator(idp: &HostileAs) -> JwtValidator {
    let jwks = JwksCache::builder(idp.url("/jwks"))
        .client(HttpClient::dev_loopback().unwrap())
        .build()
        .unwrap();
    JwtValidator::builder(idp.issuer(), DEFAULT_CLIENT_ID)
        .jwks(jwks)
        .build()
        .unwrap()
}

async fn claims(idp: &HostileAs, token: &str) -> Result<Value, JwtError> {
    validator(idp)
        .validate::<Value>(token)
        .await
        .map(|v| v.claims().clone())
}

fn id_token(body: &Value) -> &str {
    body["id_token"].as_str().expect("an id_token")
}

fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The honest provider.

#[tokio::test]
async fn discovery_document_is_complete_and_exact() {
    let idp = HostileAs::start().await.unwrap();
    let doc: Value = http()
        .get(idp.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = idp.issuer();
    assert!(issuer.starts_with("http://127.0.0.1:") && !issuer.ends_with('/'));
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["authorization_endpoint"], format!("{issuer}/authorize"));
    assert_eq!(doc["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(doc["userinfo_endpoint"], format!("{issuer}/userinfo"));
    assert_eq!(doc["end_session_endpoint"], format!("{issuer}/end_session"));
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        format!("{issuer}/par")
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["require_pushed_authorization_requests"], false);
    assert_eq!(doc, idp.honest_metadata());
    assert_eq!(idp.discovery_fetches(), 1);
}

#[tokio::test]
async fn honest_flow_with_pkce_basic_auth_and_refresh_rotation() {
    let idp = HostileAs::start().await.unwrap();
    // The default secret needs RFC 6749 §2.3.1 encoding: it has ':' and '%'.
    assert!(DEFAULT_CLIENT_SECRET.contains(':') && DEFAULT_CLIENT_SECRET.contains('%'));

    let pkce = pkce();
    let callback = idp
        .approve(&authorization_url(
            &idp,
            DEFAULT_CLIENT_ID,
            &pkce,
            "state-1",
        ))
        .await
        .unwrap();
    assert!(callback.as_str().starts_with(DEFAULT_REDIRECT_URI));
    assert_eq!(query(&callback, "state").as_deref(), Some("state-1"));
    assert_eq!(query(&callback, "iss").as_deref(), Some(idp.issuer()));
    let code = query(&callback, "code").unwrap();
    let authz = &idp.authorize_requests()[0];
    assert_eq!(authz.param("code_challenge"), Some(pkce.challenge.as_str()));
    assert_eq!(authz.param("nonce"), Some("nonce-state-1"));

    let (status, body) = exchange(&idp, &code, &pkce.verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid profile");
    let record = &idp.token_requests()[0];
    assert_eq!(record.auth_method, Some(AuthMethod::ClientSecretBasic));
    assert_eq!(
        record.authorization.as_deref(),
        Some(basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).as_str())
    );
    assert_eq!(record.field("code_verifier"), Some(pkce.verifier.as_str()));

    // The ID token verifies against /jwks with paved's validator.
    let id = claims(&idp, id_token(&body)).await.unwrap();
    assert_eq!(id["sub"], DEFAULT_SUBJECT);
    assert_eq!(id["nonce"], "nonce-state-1");
    assert_eq!(jwt_part(id_token(&body), 0)["kid"], idp.signing_kid());
    assert!(id["auth_time"].is_u64());
    assert_eq!(idp.jwks_fetches(), 1);

    // The access token works at /userinfo.
    let userinfo: Value = http()
        .get(idp.url("/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], DEFAULT_SUBJECT);

    // Refresh rotates the refresh token; the refreshed ID token keeps iss/sub/aud/auth_time.
    let first = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, refreshed) = refresh(&idp, &first).await;
    assert_eq!(status, 200, "{refreshed}");
    let second = refreshed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let new_id = claims(&idp, id_token(&refreshed)).await.unwrap();
    for claim in ["iss", "sub", "aud", "auth_time"] {
        assert_eq!(new_id[claim], id[claim], "{claim}");
    }
    assert!(new_id.get("nonce").is_none());

    // The rotated token is refused, and its reuse revokes the family (RFC 9700 §4.14.2).
    let (status, old) = refresh(&idp, &first).await;
    assert_eq!(
        (status, old["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, revoked) = refresh(&idp, &second).await;
    assert_eq!(
        (status, revoked["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // The code is single use (and its replay revokes what it issued, RFC 6749 §4.1.2).
    let (status, again) = exchange(&idp, &code, &pkce.verifier).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let response = http()
        .get(idp.url("/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    assert_eq!(idp.code_exchange_calls(), 2);
    assert_eq!(idp.refresh_calls(), 3);
    assert_eq!(idp.token_calls(), 5);
}

#[tokio::test]
async fn client_secret_basic_without_form_encoding_is_refused() {
    let idp = HostileAs::start().await.unwrap();
    let pkce = pkce();
    let code = code_for(&idp, &pkce).await;
    let raw = format!(
        "Basic {}",
        STANDARD.encode(format!("{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}"))
    );
    let (status, body) = post_token(
        &idp,
        Some(&raw),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", DEFAULT_REDIRECT_URI),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(idp.token_requests()[0].auth_method, None);
}

#[tokio::test]
async fn pkce_and_redirect_uri_are_enforced() {
    let idp = HostileAs::start().await.unwrap();
    let auth = basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);

    let pkce_a = pkce();
    let code = code_for(&idp, &pkce_a).await;
    let (status, body) = exchange(&idp, &code, &pkce().verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let pkce_b = pkce();
    let code = code_for(&idp, &pkce_b).await;
    let (status, body) = post_token(
        &idp,
        Some(&auth),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.paved.test/other"),
            ("code_verifier", &pkce_b.verifier),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // An unregistered redirect URI is answered here, never redirected to.
    let url = authorization_url(&idp, DEFAULT_CLIENT_ID, &pkce_b, "s").replace(
        &form_encode(DEFAULT_REDIRECT_URI),
        &form_encode("https://evil.test/cb"),
    );
    assert!(matches!(
        idp.approve(&url).await,
        Err(paved_tests::hostile::HostileError::NoRedirect(400))
    ));
    // `plain` PKCE is refused with a redirect.
    let url = authorization_url(&idp, DEFAULT_CLIENT_ID, &pkce_b, "s")
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let callback = idp.approve(&url).await.unwrap();
    assert_eq!(
        query(&callback, "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn private_key_jwt_verifies_the_assertion_and_refuses_a_replayed_jti() {
    let idp = HostileAs::start().await.unwrap();
    let key = SigningKey::generate(SigningAlg::EdDsa, "client-key").unwrap();
    idp.add_client(ClientRegistration::new(
        "jwt-client",
        ClientAuth::PrivateKeyJwt(key.public_jwk()),
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let assertion = key
        .sign_jwt(&json!({
            "iss": "jwt-client", "sub": "jwt-client", "aud": idp.issuer(),
            "exp": now + 60, "iat": now, "jti": "jti-1",
        }))
        .unwrap();
    let exchange_with = |code: String, verifier: String, assertion: String| {
        let idp = &idp;
        async move {
            post_token(
                idp,
                None,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", DEFAULT_REDIRECT_URI),
                    ("code_verifier", &verifier),
                    ("client_id", "jwt-client"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    let mut codes = Vec::new();
    for _ in 0..2 {
        let p = pkce();
        let callback = idp
            .approve(&authorization_url(&idp, "jwt-client", &p, "s"))
            .await
            .unwrap();
        codes.push((query(&callback, "code").unwrap(), p.verifier));
    }
    let (code, verifier) = codes.remove(0);
    let (status, body) = exchange_with(code, verifier, assertion.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        idp.token_requests()[0].auth_method,
        Some(AuthMethod::PrivateKeyJwt)
    );
    let (code, verifier) = codes.remove(0);
    let (status, body) = exchange_with(code, verifier, assertion).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // A forged assertion (another key) is refused too.
    let forged = SigningKey::generate(SigningAlg::EdDsa, "client-key")
        .unwrap()
        .sign_jwt(&json!({
            "iss": "jwt-client", "sub": "jwt-client", "aud": idp.issuer(),
            "exp": now + 60, "jti": "jti-2",
        }))
        .unwrap();
    let p = pkce();
    let callback = idp
        .approve(&authorization_url(&idp, "jwt-client", &p, "s"))
        .await
        .unwrap();
    let (status, _) = exchange_with(query(&callback, "code").unwrap(), p.verifier, forged).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn par_required_refuses_direct_requests_and_accepts_pushed_ones() {
    let idp = HostileAs::start().await.unwrap();
    idp.set_require_par(true);
    let pkce = pkce();
    let direct = idp
        .approve(&authorization_url(&idp, DEFAULT_CLIENT_ID, &pkce, "s"))
        .await
        .unwrap();
    assert_eq!(query(&direct, "error").as_deref(), Some("invalid_request"));
    assert!(query(&direct, "code").is_none());

    let response = http()
        .post(idp.url("/par"))
        .header(
            "authorization",
            basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        )
        .form(&[
            ("response_type", "code"),
            ("redirect_uri", DEFAULT_REDIRECT_URI),
            ("scope", "openid"),
            ("state", "pushed-state"),
            ("nonce", "pushed-nonce"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let pushed: Value = response.json().await.unwrap();
    let request_uri = pushed["request_uri"].as_str().unwrap();
    assert_eq!(pushed["expires_in"], 60);

    let mut url = url::Url::parse(&idp.url("/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", DEFAULT_CLIENT_ID)
        .append_pair("request_uri", request_uri);
    let callback = idp.approve(url.as_str()).await.unwrap();
    assert_eq!(query(&callback, "state").as_deref(), Some("pushed-state"));
    let code = query(&callback, "code").unwrap();
    let record = idp.authorize_requests().pop().unwrap();
    assert!(record.via_par);
    assert_eq!(record.param("nonce"), Some("pushed-nonce"));
    // The request_uri is single use.
    assert!(idp.approve(url.as_str()).await.is_err());

    let (status, body) = exchange(&idp, &code, &pkce.verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(&idp, id_token(&body)).await.unwrap()["nonce"],
        "pushed-nonce"
    );
}

// ---------------------------------------------------------------------------------------------
// ID-token and token-response knobs.

#[tokio::test]
async fn id_token_faults_break_exactly_what_they_name() {
    let idp = HostileAs::start().await.unwrap();

    idp.set_id_token_fault(IdTokenFault::WrongNonce, Shots::ONCE);
    let body = login(&idp).await;
    let id = claims(&idp, id_token(&body)).await.unwrap();
    assert_eq!(id["nonce"], "hostile-wrong-nonce");
    // One shot: the next token is honest again.
    let body = login(&idp).await;
    assert_eq!(
        claims(&idp, id_token(&body)).await.unwrap()["nonce"],
        "nonce-st"
    );

    idp.set_id_token_fault(IdTokenFault::AlgNone, Shots::ONCE);
    let body = login(&idp).await;
    assert_eq!(
        jwt_part(id_token(&body), 0),
        json!({"alg": "none", "typ": "JWT"})
    );
    assert!(id_token(&body).ends_with('.'));
    assert!(claims(&idp, id_token(&body)).await.is_err());

    let cases = [
        (IdTokenFault::BadSignature, JwtError::InvalidSignature),
        (IdTokenFault::Expired, JwtError::Expired),
        (IdTokenFault::WrongIss, JwtError::WrongIssuer),
        (IdTokenFault::WrongAud, JwtError::WrongAudience),
    ];
    for (fault, expected) in cases {
        idp.set_id_token_fault(fault.clone(), Shots::ONCE);
        let body = login(&idp).await;
        assert_eq!(
            claims(&idp, id_token(&body)).await,
            Err(expected),
            "{fault:?}"
        );
    }

    idp.set_id_token_fault(
        IdTokenFault::KeyConfusionHs256(PublicKeyForm::Pem),
        Shots::ONCE,
    );
    let body = login(&idp).await;
    let token = id_token(&body);
    assert_eq!(jwt_part(token, 0)["alg"], "HS256");
    assert!(claims(&idp, token).await.is_err());

    idp.set_id_token_fault(IdTokenFault::UnpublishedKey, Shots::ONCE);
    let body = login(&idp).await;
    assert_eq!(jwt_part(id_token(&body), 0)["kid"], "hostile-unpublished");
    assert!(claims(&idp, id_token(&body)).await.is_err());

    idp.set_id_token_fault(IdTokenFault::NoKid, Shots::ONCE);
    let body = login(&idp).await;
    assert!(jwt_part(id_token(&body), 0).get("kid").is_none());

    idp.set_id_token_fault(IdTokenFault::ExtraAudWithoutAzp, Shots::ONCE);
    let body = login(&idp).await;
    let aud = &jwt_part(id_token(&body), 1)["aud"];
    assert_eq!(
        aud,
        &json!([DEFAULT_CLIENT_ID, "https://other-rp.hostile.test"])
    );
}

#[tokio::test]
async fn refresh_only_faults_wait_for_a_refresh() {
    let idp = HostileAs::start().await.unwrap();
    idp.set_id_token_fault(IdTokenFault::ChangedSubOnRefresh, Shots::ONCE);
    let body = login(&idp).await;
    let original = claims(&idp, id_token(&body)).await.unwrap();
    assert_eq!(original["sub"], DEFAULT_SUBJECT);
    let (_, refreshed) = refresh(&idp, body["refresh_token"].as_str().unwrap()).await;
    let changed = claims(&idp, id_token(&refreshed)).await.unwrap();
    assert_eq!(changed["sub"], format!("{DEFAULT_SUBJECT}-changed"));

    idp.set_id_token_fault(IdTokenFault::NoIdTokenOnRefresh, Shots::ONCE);
    let (status, again) = refresh(&idp, refreshed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(again.get("id_token").is_none());
    assert!(again.get("access_token").is_some());
}

#[tokio::test]
async fn token_response_faults_and_grant_filter() {
    let idp = HostileAs::start().await.unwrap();
    idp.set_token_fault(TokenFault::ExpiresInString, GrantFilter::Any, Shots::ONCE);
    let body = login(&idp).await;
    assert_eq!(body["expires_in"], "3600");
    assert!(idp.token_requests()[0].faulted);

    idp.set_token_fault(
        TokenFault::InvalidGrant,
        GrantFilter::RefreshToken,
        Shots::ONCE,
    );
    // A code exchange does not use up a refresh-only fault.
    let body = login(&idp).await;
    assert_eq!(body["token_type"], "Bearer");
    let (status, error) = refresh(&idp, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The fault answered without processing: the refresh token is still good.
    let (status, _) = refresh(&idp, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    idp.set_token_fault(
        TokenFault::Transport(TransportFault::Status(500)),
        GrantFilter::Any,
        Shots::Always,
    );
    let pkce = pkce();
    let code = code_for(&idp, &pkce).await;
    for _ in 0..2 {
        assert_eq!(exchange(&idp, &code, &pkce.verifier).await.0, 500);
    }
    idp.clear_faults();
    // The faulted exchanges did not use the code up.
    assert_eq!(exchange(&idp, &code, &pkce.verifier).await.0, 200);
}

// ---------------------------------------------------------------------------------------------
// Transport knobs.

#[tokio::test]
async fn huge_body_is_streamed_and_stops_with_the_client() {
    let idp = HostileAs::start().await.unwrap();
    idp.set_jwks_fault(
        TransportFault::HugeBody {
            declared_length: false,
        },
        Shots::Always,
    );
    let client = HttpClient::dev_loopback().unwrap();
    let err = client.get(&idp.url("/jwks"), "application/json").await;
    assert!(
        matches!(err, Err(FetchError::BodyTooLarge { .. })),
        "{err:?}"
    );

    // A raw reader takes a bounded prefix and hangs up.
    let mut response = http().get(idp.url("/jwks")).send().await.unwrap();
    assert_eq!(response.content_length(), None);
    let mut read = 0usize;
    while read < 2 * 1024 * 1024 {
        read += response.chunk().await.unwrap().unwrap().len();
    }
    drop(response);
    wait_until_no_stream(&idp).await;
    assert_eq!(idp.streams_started(), 2);
    assert!(
        idp.streamed_bytes() < 2 * HUGE_BODY_LEN,
        "{}",
        idp.streamed_bytes()
    );

    // With a declared length the client can refuse before reading.
    idp.set_discovery_fault(
        TransportFault::HugeBody {
            declared_length: true,
        },
        Shots::ONCE,
    );
    let response = http()
        .get(idp.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.content_length(), Some(HUGE_BODY_LEN));
    drop(response);
    wait_until_no_stream(&idp).await;
}

/// Waits (bounded) until the server dropped every streamed body; fails if it never does.
async fn wait_until_no_stream(idp: &HostileAs) {
    for _ in 0..500 {
        if idp.streaming_bodies() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("a streamed body outlived its client");
}

#[tokio::test]
async fn slow_body_stops_when_the_client_goes_away() {
    let idp = HostileAs::start().await.unwrap();
    idp.set_token_fault(
        TokenFault::Transport(TransportFault::SlowBody {
            every: Duration::from_millis(20),
        }),
        GrantFilter::Any,
        Shots::Always,
    );
    let mut response = http()
        .post(idp.url("/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for _ in 0..3 {
        assert_eq!(response.chunk().await.unwrap().unwrap().len(), 1);
    }
    assert_eq!(idp.streaming_bodies(), 1);
    drop(response);
    wait_until_no_stream(&idp).await;
    assert!(idp.streamed_bytes() < SLOW_BODY_MAX_BYTES);

    // The hardened client gives up on its own timeout.
    idp.set_jwks_fault(
        TransportFault::SlowBody {
            every: Duration::from_millis(20),
        },
        Shots::ONCE,
    );
    let client = HttpClient::dev_loopback()
        .unwrap()
        .with_timeout(Duration::from_millis(200))
        .unwrap();
    assert_eq!(
        client.get(&idp.url("/jwks"), "application/json").await,
        Err(FetchError::Timeout)
    );
    wait_until_no_stream(&idp).await;
}

#[tokio::test]
async fn redirects_are_offered_and_not_followed_by_the_hardened_client() {
    let idp = HostileAs::start().await.unwrap();
    let elsewhere = HostileAs::start().await.unwrap();
    idp.set_token_fault(
        TokenFault::Transport(TransportFault::Redirect(elsewhere.url("/token"))),
        GrantFilter::Any,
        Shots::ONCE,
    );
    let response = http()
        .post(idp.url("/token"))
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        elsewhere.url("/token")
    );
    assert_eq!(elsewhere.token_calls(), 0);

    idp.set_discovery_fault(
        TransportFault::Redirect(elsewhere.url("/.well-known/openid-configuration")),
        Shots::ONCE,
    );
    let client = HttpClient::dev_loopback().unwrap();
    let fetched = client
        .get(
            &idp.url("/.well-known/openid-configuration"),
            "application/json",
        )
        .await;
    assert_eq!(fetched, Err(FetchError::Redirect { status: 302 }));
    assert_eq!(elsewhere.discovery_fetches(), 0);

    idp.set_jwks_fault(TransportFault::NonJson, Shots::ONCE);
    let body = client
        .get(&idp.url("/jwks"), "application/json")
        .await
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    idp.set_jwks_fault(TransportFault::WrongContentType, Shots::ONCE);
    let response = http().get(idp.url("/jwks")).send().await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
}

// ---------------------------------------------------------------------------------------------
// Other endpoints and settings.

#[tokio::test]
async fn metadata_patch_and_raw_document() {
    let idp = HostileAs::start().await.unwrap();
    idp.set_metadata_patch(json!({
        "issuer": "http://127.0.0.1:1",
        "code_challenge_methods_supported": ["plain"],
        "authorization_response_iss_parameter_supported": null,
    }));
    let url = idp.url("/.well-known/openid-configuration");
    let doc: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["issuer"], "http://127.0.0.1:1");
    assert_eq!(doc["code_challenge_methods_supported"], json!(["plain"]));
    assert!(
        doc.get("authorization_response_iss_parameter_supported")
            .is_none()
    );
    assert_eq!(doc["token_endpoint"], idp.url("/token"));

    idp.set_metadata_raw("not json", "text/plain");
    let response = http().get(&url).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.text().await.unwrap(), "not json");

    idp.clear_faults();
    let doc: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc, idp.honest_metadata());
}

#[tokio::test]
async fn authorize_faults_shape_the_callback() {
    let idp = HostileAs::start().await.unwrap();
    let pkce = pkce();
    let url = authorization_url(&idp, DEFAULT_CLIENT_ID, &pkce, "s1");

    idp.set_authorize_fault(AuthorizeFault::OmitIss, Shots::ONCE);
    let callback = idp.approve(&url).await.unwrap();
    assert!(query(&callback, "iss").is_none());
    assert!(query(&callback, "code").is_some());

    let payload = "<script>alert(1)</script>";
    idp.set_authorize_fault(
        AuthorizeFault::Error {
            error: "access_denied".to_owned(),
            description: payload.to_owned(),
        },
        Shots::ONCE,
    );
    let callback = idp.approve(&url).await.unwrap();
    assert_eq!(query(&callback, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        query(&callback, "error_description").as_deref(),
        Some(payload)
    );
    assert_eq!(query(&callback, "state").as_deref(), Some("s1"));
    assert!(query(&callback, "code").is_none());

    idp.set_authorize_fault(AuthorizeFault::DropState, Shots::ONCE);
    let callback = idp.approve(&url).await.unwrap();
    assert!(query(&callback, "state").is_none());

    let callback = idp.approve(&url).await.unwrap();
    assert_eq!(query(&callback, "iss").as_deref(), Some(idp.issuer()));
    assert_eq!(query(&callback, "state").as_deref(), Some("s1"));
}

#[tokio::test]
async fn jwks_rotation_publishes_after_the_given_fetches() {
    let idp = HostileAs::start().await.unwrap();
    let first = idp.signing_kid();
    let second = idp
        .rotate_signing_key(SigningAlg::EdDsa, Publication::AfterFetches(1))
        .unwrap();
    assert_eq!(idp.signing_kid(), second);
    let kids = |doc: Value| -> Vec<String> {
        doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let fetch = || async {
        http()
            .get(idp.url("/jwks"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(kids(fetch().await), vec![first.clone()]);
    assert_eq!(kids(fetch().await), vec![second.clone(), first.clone()]);
    assert_eq!(idp.jwks_fetches(), 2);

    // New tokens are signed by the new key and verify once it is published.
    let body = login(&idp).await;
    assert_eq!(jwt_part(id_token(&body), 0)["alg"], "EdDSA");
    assert!(claims(&idp, id_token(&body)).await.is_ok());

    assert!(idp.unpublish_key(&first));
    assert_eq!(kids(idp.public_jwks()), vec![second]);
}

#[tokio::test]
async fn userinfo_and_end_session() {
    let idp = HostileAs::start().await.unwrap();
    let body = login(&idp).await;
    let access = body["access_token"].as_str().unwrap();

    idp.set_userinfo_fault(
        UserinfoFault::DifferentSub("intruder".to_owned()),
        Shots::ONCE,
    );
    let info: Value = http()
        .get(idp.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], "intruder");
    let response = http().get(idp.url("/userinfo")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(idp.userinfo_calls(), 2);

    let mut url = url::Url::parse(&idp.url("/end_session")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token(&body))
        .append_pair("post_logout_redirect_uri", DEFAULT_POST_LOGOUT_REDIRECT_URI)
        .append_pair("state", "bye");
    let response = http().get(url.as_str()).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        format!("{DEFAULT_POST_LOGOUT_REDIRECT_URI}?state=bye")
    );
    let record = &idp.end_session_requests()[0];
    assert_eq!(record.id_token_hint_valid, Some(true));
    assert_eq!(record.param("state"), Some("bye"));

    let mut url = url::Url::parse(&idp.url("/end_session")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", DEFAULT_CLIENT_ID)
        .append_pair("post_logout_redirect_uri", "https://evil.test/");
    assert_eq!(http().get(url.as_str()).send().await.unwrap().status(), 400);
}

// ---------------------------------------------------------------------------------------------
// Lifetime.

#[tokio::test]
async fn drop_closes_the_port_and_cuts_open_streams() {
    let idp = HostileAs::start().await.unwrap();
    let addr = idp.addr();
    idp.set_jwks_fault(
        TransportFault::SlowBody {
            every: Duration::from_millis(50),
        },
        Shots::Always,
    );
    let mut response = http().get(idp.url("/jwks")).send().await.unwrap();
    assert_eq!(response.chunk().await.unwrap().unwrap().len(), 1);
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());

    drop(idp);

    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    // The open stream was cut: the body ends in a transport error, not in the client's timeout
    // and not after the hour a slow body would last.
    let mut outcome = Ok(Some(bytes::Bytes::new()));
    while let Ok(Some(_)) = outcome {
        outcome = response.chunk().await;
    }
    let err = outcome.unwrap_err();
    assert!(!err.is_timeout(), "{err}");
}
