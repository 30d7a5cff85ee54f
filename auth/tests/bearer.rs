//! `RequireBearerLayer`, `RequireScopeLayer` and the axum `Claims` extractor: exactly one
//! `Authorization: Bearer` header (JW-25, JW-26), RFC 6750 challenges, generic bodies, 503 when
//! keys are unavailable, 403 for missing scopes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use common::*;
use http::{HeaderValue, Request, Response, StatusCode, header};
use paved_auth::bearer::{RequireBearerLayer, RequireScopeLayer};
use paved_auth::http_client::HttpClient;
use paved_auth::jwt::{JwksCache, JwtValidator, NoCustomClaims, Validated};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

#[derive(Debug, serde::Deserialize)]
struct MyClaims {
    sub: String,
}

fn setup() -> (SigningKey, JwtValidator) {
    // The validator reads the system clock: tokens are minted for now.
    let key = SigningKey::es256();
    let validator = JwtValidator::builder(ISSUER, AUDIENCE)
        .key(key.verification_key(key.default_alg(), "k1"))
        .build()
        .unwrap();
    (key, validator)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn echo(request: Request<String>) -> Result<Response<String>, Infallible> {
    let sub = request
        .extensions()
        .get::<Validated<MyClaims>>()
        .map(|v| v.sub.clone())
        .unwrap_or_default();
    Ok(Response::new(format!("hello {sub}")))
}

async fn call(validator: &JwtValidator, request: Request<String>) -> Response<String> {
    ServiceBuilder::new()
        .layer(RequireBearerLayer::<MyClaims>::new(validator.clone()))
        .service(service_fn(echo))
        .oneshot(request)
        .await
        .unwrap()
}

fn with_auth(values: &[&str], uri: &str) -> Request<String> {
    let mut request = Request::builder().uri(uri).body(String::new()).unwrap();
    for v in values {
        request
            .headers_mut()
            .append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
    }
    request
}

fn challenge(response: &Response<String>) -> Option<&str> {
    response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn bearer_valid_token_reaches_the_service_with_claims() {
    let (key, validator) = setup();
    let t = token(&key, "k1", unix_now());
    let response = call(&validator, with_auth(&[&format!("Bearer {t}")], "/")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "hello user-1");
}

#[tokio::test]
async fn bearer_invalid_token_is_401_invalid_token_with_empty_body() {
    let (key, validator) = setup();
    let mut forged = token(&key, "k1", unix_now());
    forged.push('A');
    let response = call(&validator, with_auth(&[&format!("Bearer {forged}")], "/")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&response),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert!(response.body().is_empty());
    let other = SigningKey::es256();
    let response = call(
        &validator,
        with_auth(
            &[&format!("Bearer {}", token(&other, "k1", unix_now()))],
            "/",
        ),
    )
    .await;
    assert_eq!(
        challenge(&response),
        Some(r#"Bearer error="invalid_token""#)
    );
}

#[tokio::test]
async fn jw_25_access_token_in_query_rejected() {
    let (key, validator) = setup();
    let t = token(&key, "k1", unix_now());
    for uri in [
        format!("/items?access_token={t}"),
        format!("/items?x=1&access%5Ftoken={t}"),
    ] {
        // Alone, or alongside a valid header (two methods at once): both refused.
        for headers in [vec![], vec![format!("Bearer {t}")]] {
            let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            let response = call(&validator, with_auth(&refs, &uri)).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            assert_eq!(
                challenge(&response),
                Some(r#"Bearer error="invalid_request""#)
            );
        }
    }
}

#[tokio::test]
async fn jw_25_access_token_in_form_body_is_ignored() {
    let (key, validator) = setup();
    let app = Router::new()
        .route("/items", post(|| async { "created" }))
        .layer(RequireBearerLayer::<NoCustomClaims>::new(validator));
    let body = format!("access_token={}", token(&key, "k1", unix_now()));
    let request = Request::post("/items")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
}

#[tokio::test]
async fn jw_26_authorization_header_variants() {
    let (key, validator) = setup();
    let t = token(&key, "k1", unix_now());
    let ok = StatusCode::OK;
    let cases: Vec<(Vec<String>, StatusCode, Option<&str>)> = vec![
        (vec![format!("bearer {t}")], ok, None),
        (vec![format!("BEARER {t}")], ok, None),
        (vec![], StatusCode::UNAUTHORIZED, Some("Bearer")),
        (
            vec!["Basic dXNlcjpwYXNz".into()],
            StatusCode::UNAUTHORIZED,
            Some("Bearer"),
        ),
        (
            vec![format!("Bearer {t}"), format!("Bearer {t}")],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (
            vec![format!("Bearer {t}"), "Basic dXNlcjpwYXNz".into()],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (
            vec![format!("Bearer  {t}")],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (
            vec![format!("Bearer {t} x")],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (
            vec![format!("Bearer {t},")],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (
            vec![format!("Bearer \"{t}\"")],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (
            vec!["Bearer".into()],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer error="invalid_request""#),
        ),
        (
            vec![format!("Bearer\t{t}")],
            StatusCode::UNAUTHORIZED,
            Some("Bearer"),
        ),
    ];
    for (headers, status, expected) in cases {
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let response = call(&validator, with_auth(&refs, "/")).await;
        assert_eq!(response.status(), status, "{headers:?}");
        assert_eq!(challenge(&response), expected, "{headers:?}");
        if status != ok {
            assert!(response.body().is_empty());
        }
    }
}

#[tokio::test]
async fn bearer_scope_layer_answers_403_insufficient_scope() {
    let (key, validator) = setup();
    let service = |scopes: &[&str]| {
        ServiceBuilder::new()
            .layer(RequireBearerLayer::<NoCustomClaims>::new(validator.clone()))
            .layer(RequireScopeLayer::new(scopes.iter().copied()).unwrap())
            .service(service_fn(|_r: Request<String>| async {
                Ok::<_, Infallible>(Response::new(String::from("ok")))
            }))
    };
    let t = format!("Bearer {}", token(&key, "k1", unix_now()));
    let response = service(&["items:read"])
        .oneshot(with_auth(&[&t], "/"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = service(&["items:read", "admin"])
        .oneshot(with_auth(&[&t], "/"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&response),
        Some(r#"Bearer error="insufficient_scope", scope="items:read admin""#)
    );
    assert!(response.body().is_empty());
    assert!(RequireScopeLayer::new(["two words"]).is_err());
    assert!(RequireScopeLayer::new(Vec::<String>::new()).is_err());
    // Without RequireBearer in front: fail closed (500) and say why in the logs.
    let mut alone = ServiceBuilder::new()
        .layer(RequireScopeLayer::new(["items:read"]).unwrap())
        .service(service_fn(|_r: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::from("ok")))
        }));
    let response = alone
        .ready()
        .await
        .unwrap()
        .call(with_auth(&[&t], "/"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn bearer_keys_unavailable_is_503() {
    // A JWKS URL nobody listens on (port 1 on loopback): the cold cache cannot fetch.
    let jwks = JwksCache::builder("http://127.0.0.1:1/jwks.json")
        .client(HttpClient::dev_loopback().unwrap())
        .build()
        .unwrap();
    let validator = JwtValidator::builder(ISSUER, AUDIENCE)
        .jwks(jwks)
        .build()
        .unwrap();
    let key = SigningKey::es256();
    let t = format!("Bearer {}", token(&key, "k1", unix_now()));
    let response = call(&validator, with_auth(&[&t], "/")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.body().is_empty());
}

#[cfg(feature = "axum")]
async fn me(paved_auth::Claims(token): paved_auth::Claims<MyClaims>) -> String {
    format!("{} via {}", token.sub, token.algorithm())
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn bearer_axum_claims_extractor() {
    let (key, validator) = setup();
    let app = Router::new()
        .route("/me", axum::routing::get(me))
        .layer(RequireBearerLayer::<MyClaims>::new(validator));
    let request = Request::get("/me")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", token(&key, "k1", unix_now())),
        )
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], b"user-1 via ES256");
    let response = app
        .oneshot(Request::get("/me").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A route outside the layer: the extractor fails closed.
    let bare = Router::new().route("/me", axum::routing::get(me));
    let response = bare
        .oneshot(Request::get("/me").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
