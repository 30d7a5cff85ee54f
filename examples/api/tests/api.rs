//! The example API driven in-process (`tower::ServiceExt::oneshot`) against a small identity
//! provider stand-in on 127.0.0.1: an axum server publishing an ES256 key (generated with ring
//! for each test) as a JWKS and an OpenID discovery document. Tokens are minted here with the
//! private key, shaped like oidc-provider 9's JWT access tokens (`typ: at+jwt`, `kid`, `iss`,
//! `aud`, `sub`, `exp`, `iat`, `scope`, `client_id`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use example_api::{ApiConfig, Error, MAX_BODY_BYTES, app};
use paved_auth::http_client::FetchError;
use paved_auth::jwt::ConfigError;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const AUDIENCE: &str = "https://api.example";
const KID: &str = "test-es256";

fn es256_key() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The stand-in provider: its issuer URL, signing key and server task (aborted on drop).
struct Idp {
    issuer: String,
    key: EcdsaKeyPair,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Idp {
    async fn start() -> Self {
        let key = es256_key();
        // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = key.public_key().as_ref();
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KID,
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }]});
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let discovery = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"],
        });
        let router = Router::new()
            .route(
                "/jwks",
                axum::routing::get(move || async move { axum::Json(jwks) }),
            )
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(discovery) }),
            );
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            issuer,
            key,
            server,
        }
    }

    fn config(&self) -> ApiConfig {
        ApiConfig {
            issuer: self.issuer.clone(),
            audience: AUDIENCE.to_owned(),
            jwks_url: Some(format!("{}/jwks", self.issuer)),
            dev_loopback: true,
            root_certificates_pem: None,
            tls_terminates_in_front: false,
        }
    }

    /// Valid access-token claims for `alice` with `scope`.
    fn claims(&self, scope: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer, "aud": AUDIENCE, "sub": "alice", "client_id": "webapp",
            "iat": now, "exp": now + 300, "scope": scope, "jti": "t1",
        })
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        sign_with(&self.key, header, claims)
    }

    fn token(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": "ES256", "kid": KID, "typ": "at+jwt"}),
            claims,
        )
    }
}

fn sign_with(key: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64(signature.as_ref()))
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        assert_eq!(self.headers["content-type"], "application/json");
        serde_json::from_slice(&self.body).unwrap()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn get_items(token: Option<&str>) -> Request<Body> {
    let mut request = Request::get("/items");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

fn post_items(token: &str, body: &str) -> Request<Body> {
    Request::post("/items")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// `GET /items` with `token` is refused with 401 and an `invalid_token` challenge.
async fn assert_refused(idp: &Idp, token: &str) {
    let api = app(&idp.config()).await.unwrap();
    let answer = send(&api, get_items(Some(token))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.headers["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    assert!(answer.body.is_empty());
}

fn assert_api_headers(headers: &HeaderMap) {
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn healthz_is_200_json_without_a_token_with_the_api_security_headers() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let answer = send(&api, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"status": "ok"}));
    assert_api_headers(&answer.headers);
}

/// Behind a TLS-terminating ingress the server sees plain http: HSTS only when told so.
#[tokio::test]
async fn hsts_is_sent_behind_a_tls_terminating_proxy_only_when_configured() {
    let idp = Idp::start().await;
    let healthz = || Request::get("/healthz").body(Body::empty()).unwrap();
    let plain = app(&idp.config()).await.unwrap();
    let answer = send(&plain, healthz()).await;
    assert!(!answer.headers.contains_key("strict-transport-security"));
    let behind = app(&ApiConfig {
        tls_terminates_in_front: true,
        ..idp.config()
    })
    .await
    .unwrap();
    let answer = send(&behind, healthz()).await;
    assert!(
        answer.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let config = ApiConfig::from_lookup(|name| match name {
        "PAVED_API_ISSUER" => Some("https://idp.example".to_owned()),
        "PAVED_API_AUDIENCE" => Some(AUDIENCE.to_owned()),
        "PAVED_API_TLS_TERMINATES_IN_FRONT" => Some("1".to_owned()),
        _ => None,
    })
    .unwrap();
    assert!(config.tls_terminates_in_front);
    let invalid = ApiConfig::from_lookup(|name| match name {
        "PAVED_API_ISSUER" => Some("https://idp.example".to_owned()),
        "PAVED_API_AUDIENCE" => Some(AUDIENCE.to_owned()),
        "PAVED_API_TLS_TERMINATES_IN_FRONT" => Some("yes".to_owned()),
        _ => None,
    });
    assert!(matches!(
        invalid,
        Err(Error::InvalidVar("PAVED_API_TLS_TERMINATES_IN_FRONT"))
    ));
}

#[tokio::test]
async fn get_items_without_a_token_is_401_with_a_bearer_challenge_and_the_headers() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let answer = send(&api, get_items(None)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers["www-authenticate"], "Bearer");
    assert_api_headers(&answer.headers);
}

#[tokio::test]
async fn get_items_with_a_valid_token_is_200_json_with_the_callers_sub() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let token = idp.token(&idp.claims("openid"));
    let answer = send(&api, get_items(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"sub": "alice", "items": []}));
    assert_api_headers(&answer.headers);
}

#[tokio::test]
async fn post_items_without_the_write_scope_is_403_insufficient_scope() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let token = idp.token(&idp.claims("openid items:read"));
    let answer = send(&api, post_items(&token, r#"{"name":"tea"}"#)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.headers["www-authenticate"],
        r#"Bearer error="insufficient_scope", scope="items:write""#
    );
    // Nothing was stored.
    let listed = send(&api, get_items(Some(&token))).await.json();
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn post_items_with_the_write_scope_is_201_and_the_item_is_listed() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let token = idp.token(&idp.claims("openid items:write"));
    let answer = send(&api, post_items(&token, r#"{"name":"tea"}"#)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let item = json!({"id": 1, "name": "tea", "created_by": "alice"});
    assert_eq!(answer.json(), item);
    assert_api_headers(&answer.headers);
    let listed = send(&api, get_items(Some(&token))).await;
    assert_eq!(listed.json(), json!({"sub": "alice", "items": [item]}));
}

#[tokio::test]
async fn alg_none_token_is_401() {
    let idp = Idp::start().await;
    let claims = idp.claims("items:write");
    let header = b64(br#"{"alg":"none","typ":"at+jwt"}"#);
    let signed = idp.token(&claims);
    let signature = signed.rsplit('.').next().unwrap();
    let forged = format!(
        "{header}.{}.{signature}",
        b64(claims.to_string().as_bytes())
    );
    assert_refused(&idp, &forged).await;
    assert_refused(
        &idp,
        &format!("{header}.{}.", b64(claims.to_string().as_bytes())),
    )
    .await;
}

#[tokio::test]
async fn token_for_another_audience_is_401() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("items:write");
    claims["aud"] = json!("https://other-api.example");
    assert_refused(&idp, &idp.token(&claims)).await;
}

#[tokio::test]
async fn token_from_another_issuer_is_401() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("items:write");
    claims["iss"] = json!("https://evil.example");
    assert_refused(&idp, &idp.token(&claims)).await;
}

#[tokio::test]
async fn expired_token_is_401() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("items:write");
    // Past the 60 s leeway.
    claims["iat"] = json!(now() - 3600);
    claims["exp"] = json!(now() - 600);
    assert_refused(&idp, &idp.token(&claims)).await;
}

#[tokio::test]
async fn token_without_the_at_jwt_typ_is_401() {
    // An ID token (`typ: JWT`) or an untyped JWT from the same issuer is not an access token.
    let idp = Idp::start().await;
    let claims = idp.claims("items:write");
    let id_token = idp.sign(&json!({"alg": "ES256", "kid": KID, "typ": "JWT"}), &claims);
    assert_refused(&idp, &id_token).await;
    let untyped = idp.sign(&json!({"alg": "ES256", "kid": KID}), &claims);
    assert_refused(&idp, &untyped).await;
}

#[tokio::test]
async fn token_without_sub_is_401() {
    let idp = Idp::start().await;
    let mut claims = idp.claims("items:write");
    claims.as_object_mut().unwrap().remove("sub");
    assert_refused(&idp, &idp.token(&claims)).await;
}

#[tokio::test]
async fn token_signed_by_another_key_with_the_published_kid_is_401() {
    let idp = Idp::start().await;
    let header = json!({"alg": "ES256", "kid": KID, "typ": "at+jwt"});
    let forged = sign_with(&es256_key(), &header, &idp.claims("items:write"));
    assert_refused(&idp, &forged).await;
}

#[tokio::test]
async fn unknown_route_is_404_json_and_wrong_method_is_405_json() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let answer = send(&api, Request::get("/admin").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json(), json!({"error": "not_found"}));
    assert_api_headers(&answer.headers);
    let delete = Request::delete("/healthz").body(Body::empty()).unwrap();
    let answer = send(&api, delete).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.json(), json!({"error": "method_not_allowed"}));
    let token = idp.token(&idp.claims("items:write"));
    let delete = Request::delete("/items")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let answer = send(&api, delete).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.json(), json!({"error": "method_not_allowed"}));
    assert_eq!(answer.headers["allow"], "GET,HEAD,POST");
}

#[tokio::test]
async fn malformed_body_is_refused_with_a_generic_body_that_echoes_nothing() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let token = idp.token(&idp.claims("items:write"));
    let answer = send(
        &api,
        post_items(&token, r#"{"name":"tea","secret_field":1}"#),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), json!({"error": "invalid_request"}));
    let answer = send(&api, post_items(&token, "{not json")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json(), json!({"error": "invalid_request"}));
    let long_name = "x".repeat(201);
    let answer = send(
        &api,
        post_items(&token, &json!({"name": long_name}).to_string()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), json!({"error": "invalid_item"}));
}

#[tokio::test]
async fn body_over_the_cap_is_413() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let token = idp.token(&idp.claims("items:write"));
    let big = json!({ "name": "x".repeat(MAX_BODY_BYTES) }).to_string();
    let answer = send(&api, post_items(&token, &big)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json(), json!({"error": "invalid_request"}));
}

#[tokio::test]
async fn cross_site_browser_post_is_403_even_with_the_write_scope() {
    let idp = Idp::start().await;
    let api = app(&idp.config()).await.unwrap();
    let token = idp.token(&idp.claims("items:write"));
    let mut request = post_items(&token, r#"{"name":"tea"}"#);
    request
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(send(&api, request).await.status, StatusCode::FORBIDDEN);
    let listed = send(&api, get_items(Some(&token))).await.json();
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn jwks_url_is_discovered_from_the_issuer_when_not_configured() {
    let idp = Idp::start().await;
    let config = ApiConfig {
        jwks_url: None,
        ..idp.config()
    };
    let api = app(&config).await.unwrap();
    let token = idp.token(&idp.claims("openid"));
    assert_eq!(
        send(&api, get_items(Some(&token))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn discovery_document_for_another_issuer_is_refused() {
    // The stand-in publishes `http://127.0.0.1:<port>`; a trailing slash is another issuer.
    let idp = Idp::start().await;
    let config = ApiConfig {
        issuer: format!("{}/", idp.issuer),
        jwks_url: None,
        ..idp.config()
    };
    assert!(matches!(app(&config).await, Err(Error::Metadata(_))));
}

#[tokio::test]
async fn plain_http_to_the_provider_is_refused_without_dev_loopback() {
    let idp = Idp::start().await;
    let config = ApiConfig {
        dev_loopback: false,
        ..idp.config()
    };
    let err = app(&config).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth(ConfigError::InvalidUrl(FetchError::NotHttps))
        ),
        "{err}"
    );
    let discover = ApiConfig {
        jwks_url: None,
        ..config
    };
    let err = app(&discover).await.unwrap_err();
    assert!(
        matches!(err, Error::Discovery(FetchError::NotHttps)),
        "{err}"
    );
}

#[tokio::test]
async fn dev_loopback_refuses_a_provider_that_is_not_on_loopback() {
    for url in ["http://idp.example/jwks", "https://idp.example/jwks"] {
        let config = ApiConfig {
            issuer: "http://idp.example".to_owned(),
            audience: AUDIENCE.to_owned(),
            jwks_url: Some(url.to_owned()),
            dev_loopback: true,
            root_certificates_pem: None,
            tls_terminates_in_front: false,
        };
        let err = app(&config).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Auth(ConfigError::InvalidUrl(FetchError::NotLoopback))
            ),
            "{url}: {err}"
        );
    }
}

#[test]
fn config_from_lookup_requires_issuer_and_audience_and_reads_dev_loopback() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let config = ApiConfig::from_lookup(vars(&[
        ("PAVED_API_ISSUER", "https://idp.example"),
        ("PAVED_API_AUDIENCE", AUDIENCE),
    ]))
    .unwrap();
    assert_eq!(
        config,
        ApiConfig {
            issuer: "https://idp.example".to_owned(),
            audience: AUDIENCE.to_owned(),
            jwks_url: None,
            dev_loopback: false,
            root_certificates_pem: None,
            tls_terminates_in_front: false,
        }
    );
    let config = ApiConfig::from_lookup(vars(&[
        ("PAVED_API_ISSUER", "http://127.0.0.1:3000"),
        ("PAVED_API_AUDIENCE", AUDIENCE),
        ("PAVED_API_JWKS_URL", "http://127.0.0.1:3000/jwks"),
        ("PAVED_API_DEV_LOOPBACK", "1"),
    ]))
    .unwrap();
    assert!(config.dev_loopback);
    assert_eq!(
        config.jwks_url.as_deref(),
        Some("http://127.0.0.1:3000/jwks")
    );
    let missing = ApiConfig::from_lookup(vars(&[("PAVED_API_AUDIENCE", AUDIENCE)]));
    assert!(matches!(
        missing,
        Err(Error::MissingVar("PAVED_API_ISSUER"))
    ));
    let empty = ApiConfig::from_lookup(vars(&[
        ("PAVED_API_ISSUER", "https://idp.example"),
        ("PAVED_API_AUDIENCE", ""),
    ]));
    assert!(matches!(
        empty,
        Err(Error::MissingVar("PAVED_API_AUDIENCE"))
    ));
    let odd = ApiConfig::from_lookup(vars(&[
        ("PAVED_API_ISSUER", "https://idp.example"),
        ("PAVED_API_AUDIENCE", AUDIENCE),
        ("PAVED_API_DEV_LOOPBACK", "yes"),
    ]));
    assert!(matches!(
        odd,
        Err(Error::InvalidVar("PAVED_API_DEV_LOOPBACK"))
    ));
}
