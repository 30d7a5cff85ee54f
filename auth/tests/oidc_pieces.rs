//! The building blocks of the OAuth/OIDC client: the back-channel `send`/`post_form` against a
//! live axum server on 127.0.0.1 (OA-19), discovery-metadata checks (OA-20, OA-02, OA-06,
//! OA-24), client authentication keys (OA-14) and the return-to filter (OA-11).
//!
//! Servers bind 127.0.0.1 on a free port and are aborted when their test ends; every test that
//! talks to one is bounded by a timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use paved_auth::http_client::{FetchError, HttpClient, require_json};
use paved_auth::jwt::VerificationKey;
use paved_auth::oidc::{
    ClientAssertionKey, ClientAuth, ClientAuthError, EndpointPolicy, MAX_METADATA_LEN,
    MAX_RETURN_TO_LEN, MetadataError, MetadataOptions, UrlProblem, discovery_url, parse_metadata,
    parse_metadata_with, safe_return_to,
};
use paved_secrets::{SecretBytes, SecretString};
use proptest::prelude::*;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// A local server
// ---------------------------------------------------------------------------------------------

/// An axum app on 127.0.0.1; aborted on drop.
struct Server {
    base: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Big enough to be refused under the 64 KiB cap the tests set.
const HUGE: usize = 1024 * 1024;
const TEST_MAX_BODY: usize = 64 * 1024;

async fn echo(headers: HeaderMap, body: String) -> Response {
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    json_response(&json!({
        "host": header(header::HOST),
        "authorization": header(header::AUTHORIZATION),
        "content_type": header(header::CONTENT_TYPE),
        "accept": header(header::ACCEPT),
        "x_custom": header(header::HeaderName::from_static("x-custom")),
        "form": form,
    }))
}

fn json_response(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

impl Server {
    async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let landing_hits = Arc::clone(&hits);
        let app = Router::new()
            .route(
                "/token",
                post(|| async {
                    (
                        StatusCode::BAD_REQUEST,
                        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
                        r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
                    )
                }),
            )
            .route(
                "/token-ok",
                post(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"access_token":"at-1","token_type":"Bearer","expires_in":60}"#,
                    )
                }),
            )
            .route("/echo", any(echo))
            .route(
                "/redirect",
                any(|| async {
                    (
                        StatusCode::FOUND,
                        [(header::LOCATION, "/landing")],
                        "moved",
                    )
                }),
            )
            .route(
                "/redirect-307",
                any(|| async {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [(header::LOCATION, "/landing")],
                        "",
                    )
                }),
            )
            .route(
                "/landing",
                any(move || {
                    landing_hits.fetch_add(1, Ordering::SeqCst);
                    async { "landed" }
                }),
            )
            .route(
                "/huge",
                get(|| async { vec![b' '; HUGE] }).post(|| async {
                    (StatusCode::BAD_REQUEST, vec![b' '; HUGE])
                }),
            )
            .route(
                "/slow",
                any(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            )
            .route(
                "/html",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        "<html>{}</html>",
                    )
                }),
            )
            .route(
                "/html-post",
                // A 200 whose body would even parse as a token response, served as HTML.
                post(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        r#"{"access_token":"at-1","token_type":"Bearer"}"#,
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, hits, task }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn landing_hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A raw server that answers every connection with a chunked body of [`HUGE`] bytes and no
/// `Content-Length`, so the cap must stop the read mid-body. Aborted on drop.
struct ChunkedServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ChunkedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ChunkedServer {
    async fn start(status: &'static str) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/chunked", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16_384 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    );
                    if stream.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = vec![b' '; 4096];
                    for _ in 0..HUGE / chunk.len() {
                        let framed =
                            [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                        if stream.write_all(&framed).await.is_err() {
                            return;
                        }
                    }
                    let _ = stream.write_all(b"0\r\n\r\n").await;
                });
            }
        });
        Self { url, task }
    }
}

fn client() -> HttpClient {
    HttpClient::dev_loopback()
        .unwrap()
        .with_max_body(TEST_MAX_BODY)
        .unwrap()
        .with_timeout(Duration::from_millis(500))
        .unwrap()
}

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test exceeded its bound")
}

// ---------------------------------------------------------------------------------------------
// OA-19: the back channel for token, PAR and revocation requests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn oa_19_error_status_comes_back_with_its_json_body() {
    bounded(async {
        let server = Server::start().await;
        let response = client()
            .post_form(
                &server.url("/token"),
                &[("grant_type", "authorization_code")],
                None,
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        require_json(&response).unwrap();
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["error"], "invalid_grant");
        // `get` keeps its 200-only contract.
        assert_eq!(
            client()
                .get(&server.url("/token"), "application/json")
                .await,
            Err(FetchError::Status { status: 405 })
        );
    })
    .await;
}

#[tokio::test]
async fn oa_19_post_form_sends_an_encoded_form_with_its_headers() {
    bounded(async {
        let server = Server::start().await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "a b&c=d+e%f/\u{e9}"),
            ("redirect_uri", "https://app.example/cb?x=1"),
        ];
        let response = client()
            .post_form(&server.url("/echo"), &form, Some("Basic dXNlcjpwdw=="))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let echo: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(echo["content_type"], "application/x-www-form-urlencoded");
        assert_eq!(echo["accept"], "application/json");
        assert_eq!(echo["authorization"], "Basic dXNlcjpwdw==");
        let sent: Vec<(String, String)> = serde_json::from_value(echo["form"].clone()).unwrap();
        let expected: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(sent, expected, "the server decodes exactly the form given");

        // An Authorization value a header cannot carry is a typed error, not a panic.
        assert_eq!(
            client()
                .post_form(&server.url("/echo"), &[], Some("Basic a\r\nX-Injected: 1"))
                .await
                .unwrap_err(),
            FetchError::InvalidRequest
        );
    })
    .await;
}

#[tokio::test]
async fn oa_19_send_keeps_request_headers_but_not_host() {
    bounded(async {
        let server = Server::start().await;
        let request = http::Request::post(server.url("/echo"))
            .header(header::HOST, "evil.example")
            .header("x-custom", "kept")
            .header(header::CONTENT_LENGTH, "9999")
            .body(b"a=1".to_vec())
            .unwrap();
        let response = client().send(request).await.unwrap();
        let echo: Value = serde_json::from_slice(response.body()).unwrap();
        let authority = server.base.trim_start_matches("http://");
        assert_eq!(echo["host"], authority, "Host comes from the URL");
        assert_eq!(echo["x_custom"], "kept");
        assert_eq!(
            echo["form"],
            json!([["a", "1"]]),
            "the body is framed by the client"
        );
    })
    .await;
}

#[tokio::test]
async fn oa_19_redirects_are_refused_and_not_followed() {
    bounded(async {
        let server = Server::start().await;
        let get = http::Request::get(server.url("/redirect"))
            .body(Vec::new())
            .unwrap();
        assert_eq!(
            client().send(get).await.unwrap_err(),
            FetchError::Redirect { status: 302 }
        );
        // 307 would make a following client re-POST the form (with its secret) elsewhere.
        assert_eq!(
            client()
                .post_form(
                    &server.url("/redirect-307"),
                    &[("client_secret", "s")],
                    None
                )
                .await
                .unwrap_err(),
            FetchError::Redirect { status: 307 }
        );
        assert_eq!(server.landing_hits(), 0, "the Location was fetched");
    })
    .await;
}

#[tokio::test]
async fn oa_19_oversized_bodies_are_refused_whatever_the_status() {
    bounded(async {
        let server = Server::start().await;
        let too_large = FetchError::BodyTooLarge { max: TEST_MAX_BODY };
        let get = http::Request::get(server.url("/huge"))
            .body(Vec::new())
            .unwrap();
        assert_eq!(client().send(get).await.unwrap_err(), too_large);
        // An error answer is read under the same cap.
        assert_eq!(
            client()
                .post_form(&server.url("/huge"), &[], None)
                .await
                .unwrap_err(),
            too_large
        );
        let chunked = ChunkedServer::start("400 Bad Request").await;
        assert_eq!(
            client()
                .post_form(&chunked.url, &[], None)
                .await
                .unwrap_err(),
            too_large
        );
    })
    .await;
}

#[tokio::test]
async fn oa_19_a_slow_server_times_out() {
    bounded(async {
        let server = Server::start().await;
        assert_eq!(
            client()
                .post_form(&server.url("/slow"), &[], None)
                .await
                .unwrap_err(),
            FetchError::Timeout
        );
    })
    .await;
}

#[tokio::test]
async fn oa_19_only_get_and_post_are_sent() {
    bounded(async {
        let server = Server::start().await;
        for method in [
            http::Method::PUT,
            http::Method::DELETE,
            http::Method::PATCH,
            http::Method::OPTIONS,
            http::Method::HEAD,
            http::Method::CONNECT,
            http::Method::TRACE,
        ] {
            let request = http::Request::builder()
                .method(method.clone())
                .uri(server.url("/landing"))
                .body(Vec::new())
                .unwrap();
            assert_eq!(
                client().send(request).await.unwrap_err(),
                FetchError::Method,
                "{method}"
            );
        }
        let get_with_body = http::Request::get(server.url("/landing"))
            .body(b"x".to_vec())
            .unwrap();
        assert_eq!(
            client().send(get_with_body).await.unwrap_err(),
            FetchError::InvalidRequest
        );
        assert_eq!(server.landing_hits(), 0, "a refused request was sent");
    })
    .await;
}

#[tokio::test]
async fn oa_19_send_applies_the_url_policy() {
    bounded(async {
        let strict = HttpClient::new().unwrap();
        let request = |uri: &str| http::Request::post(uri).body(Vec::new()).unwrap();
        assert_eq!(
            strict
                .send(request("http://127.0.0.1:9/token"))
                .await
                .unwrap_err(),
            FetchError::NotHttps
        );
        assert_eq!(
            client()
                .send(request("http://10.0.0.1/token"))
                .await
                .unwrap_err(),
            FetchError::NotLoopback
        );
        assert_eq!(
            client().send(request("/relative")).await.unwrap_err(),
            FetchError::InvalidUrl
        );
    })
    .await;
}

#[tokio::test]
async fn oa_19_non_json_answers_are_detected() {
    bounded(async {
        let server = Server::start().await;
        let get = http::Request::get(server.url("/html"))
            .body(Vec::new())
            .unwrap();
        let html = client().send(get).await.unwrap();
        assert_eq!(html.status(), StatusCode::OK);
        assert_eq!(require_json(&html), Err(FetchError::NotJson));

        let with = |values: &[&str]| {
            let mut response = http::Response::new(Vec::new());
            for v in values {
                response
                    .headers_mut()
                    .append(header::CONTENT_TYPE, v.parse().unwrap());
            }
            require_json(&response)
        };
        assert_eq!(with(&["application/json"]), Ok(()));
        assert_eq!(with(&["application/json; charset=utf-8"]), Ok(()));
        assert_eq!(with(&["Application/JSON;charset=UTF-8"]), Ok(()));
        assert_eq!(with(&[]), Err(FetchError::NotJson));
        assert_eq!(with(&["application/jsonp"]), Err(FetchError::NotJson));
        assert_eq!(with(&["application/jwt"]), Err(FetchError::NotJson));
        assert_eq!(with(&["text/json"]), Err(FetchError::NotJson));
        assert_eq!(
            with(&["application/json", "text/html"]),
            Err(FetchError::NotJson)
        );
    })
    .await;
}

/// The documented `oauth2` 5 adapter runs a real token exchange through `send`, reads the 400
/// error body, and refuses an HTML answer.
#[tokio::test]
async fn oa_19_oauth2_adapter_runs_a_token_exchange() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, RequestTokenError, TokenResponse,
        TokenUrl,
    };
    bounded(async {
        let server = Server::start().await;
        let http = client();
        let http = &http;
        let adapter = |request: oauth2::HttpRequest| async move {
            let response = http.send(request).await?;
            require_json(&response)?;
            Ok::<_, FetchError>(response)
        };
        let oauth = |token_path: &str| {
            BasicClient::new(ClientId::new("c".to_owned()))
                .set_client_secret(ClientSecret::new("s".to_owned()))
                .set_auth_uri(AuthUrl::new(server.url("/authorize")).unwrap())
                .set_token_uri(TokenUrl::new(server.url(token_path)).unwrap())
        };
        let token = oauth("/token-ok")
            .exchange_code(AuthorizationCode::new("code".to_owned()))
            .request_async(&adapter)
            .await
            .unwrap();
        assert_eq!(token.access_token().secret(), "at-1");

        let err = oauth("/token")
            .exchange_code(AuthorizationCode::new("code".to_owned()))
            .request_async(&adapter)
            .await
            .unwrap_err();
        let RequestTokenError::ServerResponse(response) = err else {
            panic!("expected the server's error response, got {err:?}");
        };
        assert_eq!(
            response.error(),
            &oauth2::basic::BasicErrorResponseType::InvalidGrant
        );

        let err = oauth("/html-post")
            .exchange_code(AuthorizationCode::new("code".to_owned()))
            .request_async(&adapter)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RequestTokenError::Request(FetchError::NotJson)),
            "{err:?}"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// OA-20, OA-02, OA-06, OA-24: discovery metadata
// ---------------------------------------------------------------------------------------------

const ISSUER: &str = "https://idp.example";

/// The smallest document every check accepts.
fn minimal(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
    })
}

fn parse(doc: &Value) -> Result<paved_auth::oidc::ProviderMetadata, MetadataError> {
    parse_metadata(
        doc.to_string().as_bytes(),
        ISSUER,
        EndpointPolicy::HttpsOnly,
    )
}

fn with(mut doc: Value, member: &str, value: Value) -> Value {
    doc[member] = value;
    doc
}

fn without(mut doc: Value, member: &str) -> Value {
    doc.as_object_mut().unwrap().remove(member);
    doc
}

const URL_MEMBERS: [&str; 7] = [
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "end_session_endpoint",
    "revocation_endpoint",
    "pushed_authorization_request_endpoint",
];

#[test]
fn oa_20_real_provider_documents_parse() {
    let okta = include_bytes!("../../fuzz/corpus/oidc_discovery_parse/okta_shape");
    let m = parse_metadata(okta, "https://issuer.example", EndpointPolicy::HttpsOnly).unwrap();
    assert_eq!(m.token_endpoint, "https://issuer.example/oauth2/v1/token");
    assert_eq!(
        m.pushed_authorization_request_endpoint.as_deref(),
        Some("https://issuer.example/oauth2/v1/par")
    );
    assert!(!m.require_pushed_authorization_requests);
    assert_eq!(
        m.end_session_endpoint.as_deref(),
        Some("https://issuer.example/oauth2/v1/logout")
    );
    assert!(
        m.token_endpoint_auth_methods_supported
            .unwrap()
            .contains(&"private_key_jwt".to_owned())
    );

    let google = include_bytes!("../../fuzz/corpus/oidc_discovery_parse/google_shape");
    let m = parse_metadata(google, "https://issuer.example", EndpointPolicy::HttpsOnly).unwrap();
    assert_eq!(m.code_challenge_methods_supported, ["plain", "S256"]);
    assert!(m.userinfo_endpoint.is_some() && m.revocation_endpoint.is_some());

    let local = include_bytes!("../../fuzz/corpus/oidc_discovery_parse/oidc_provider_loopback");
    let m = parse_metadata(local, "http://127.0.0.1:3000", EndpointPolicy::DevLoopback).unwrap();
    assert!(m.require_pushed_authorization_requests);
    assert!(m.authorization_response_iss_parameter_supported);
    assert_eq!(m.jwks_uri, "http://127.0.0.1:3000/jwks");
    // The same document is refused in production: its endpoints are http.
    assert_eq!(
        parse_metadata(local, "http://127.0.0.1:3000", EndpointPolicy::HttpsOnly).unwrap_err(),
        MetadataError::InvalidUrl {
            member: "issuer",
            problem: UrlProblem::NotHttps
        }
    );
}

#[test]
fn oa_20_issuer_must_match_byte_for_byte() {
    assert!(parse(&minimal(ISSUER)).is_ok());
    for published in [
        "https://idp.example/",
        "https://IDP.example",
        "https://idp.example:443",
        "https://idp.example/tenant",
        "https://idp.example.evil.example",
        "http://idp.example",
        "",
    ] {
        assert_eq!(
            parse(&with(minimal(ISSUER), "issuer", json!(published))).unwrap_err(),
            MetadataError::IssuerMismatch,
            "{published:?}"
        );
    }
    // And the other way round: a configured trailing slash is not dropped either.
    let doc = minimal(ISSUER).to_string();
    assert_eq!(
        parse_metadata(
            doc.as_bytes(),
            "https://idp.example/",
            EndpointPolicy::HttpsOnly
        )
        .unwrap_err(),
        MetadataError::IssuerMismatch
    );
    assert_eq!(
        parse(&without(minimal(ISSUER), "issuer")).unwrap_err(),
        MetadataError::Missing { member: "issuer" }
    );
}

#[test]
fn oa_20_discovery_url_appends_the_well_known_path() {
    for (issuer, url) in [
        (
            "https://idp.example",
            "https://idp.example/.well-known/openid-configuration",
        ),
        (
            "https://idp.example/",
            "https://idp.example/.well-known/openid-configuration",
        ),
        (
            "https://idp.example/realms/a",
            "https://idp.example/realms/a/.well-known/openid-configuration",
        ),
        (
            "https://idp.example/realms/a/",
            "https://idp.example/realms/a/.well-known/openid-configuration",
        ),
        (
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3000/.well-known/openid-configuration",
        ),
        (
            "http://localhost:8080/tenant",
            "http://localhost:8080/tenant/.well-known/openid-configuration",
        ),
    ] {
        assert_eq!(discovery_url(issuer).unwrap(), url, "{issuer}");
    }
    for (issuer, problem) in [
        ("https://idp.example/?tenant=a", UrlProblem::Query),
        ("https://idp.example/#x", UrlProblem::Fragment),
        ("https://user:pw@idp.example", UrlProblem::Credentials),
        ("http://idp.example", UrlProblem::NotHttps),
        ("ftp://idp.example", UrlProblem::NotHttps),
        ("idp.example", UrlProblem::Invalid),
        ("https://idp.example/\n", UrlProblem::Invalid),
        ("", UrlProblem::Invalid),
    ] {
        assert_eq!(
            discovery_url(issuer).unwrap_err(),
            MetadataError::InvalidUrl {
                member: "issuer",
                problem
            },
            "{issuer:?}"
        );
    }
}

#[test]
fn oa_20_every_endpoint_must_be_https_without_fragment_or_credentials() {
    for member in URL_MEMBERS {
        let base = with(
            minimal(ISSUER),
            "pushed_authorization_request_endpoint",
            json!("https://idp.example/par"),
        );
        for (value, problem) in [
            ("http://idp.example/x", UrlProblem::NotHttps),
            ("javascript:alert(1)", UrlProblem::Invalid),
            ("ftp://idp.example/x", UrlProblem::NotHttps),
            ("https://idp.example/x#frag", UrlProblem::Fragment),
            ("https://u:p@idp.example/x", UrlProblem::Credentials),
            ("/relative", UrlProblem::Invalid),
            ("", UrlProblem::Invalid),
            ("https://idp.example/x\t", UrlProblem::Invalid),
            ("https://", UrlProblem::Invalid),
        ] {
            assert_eq!(
                parse(&with(base.clone(), member, json!(value))).unwrap_err(),
                MetadataError::InvalidUrl { member, problem },
                "{member} = {value:?}"
            );
        }
        // Another host is fine in production (Google's token endpoint is on another host).
        assert!(parse(&with(base, member, json!("https://other.example/x?a=b"))).is_ok());
    }
}

#[test]
fn oa_20_dev_loopback_refuses_every_other_host() {
    let local = "http://127.0.0.1:3000";
    let dev = |doc: &Value| {
        parse_metadata(
            doc.to_string().as_bytes(),
            local,
            EndpointPolicy::DevLoopback,
        )
    };
    assert!(dev(&minimal(local)).is_ok());
    assert!(
        dev(&with(
            minimal(local),
            "jwks_uri",
            json!("https://localhost/jwks")
        ))
        .is_ok()
    );
    assert!(
        dev(&with(
            minimal(local),
            "jwks_uri",
            json!("http://[::1]:9/jwks")
        ))
        .is_ok()
    );
    for member in URL_MEMBERS {
        for value in [
            "https://idp.example/x",
            "http://10.0.0.1/x",
            "http://0.0.0.0/x",
        ] {
            assert_eq!(
                dev(&with(minimal(local), member, json!(value))).unwrap_err(),
                MetadataError::InvalidUrl {
                    member,
                    problem: UrlProblem::NotLoopback
                },
                "{member} = {value}"
            );
        }
    }
    // A non-loopback issuer is refused in dev mode too.
    let doc = minimal(ISSUER).to_string();
    assert_eq!(
        parse_metadata(doc.as_bytes(), ISSUER, EndpointPolicy::DevLoopback).unwrap_err(),
        MetadataError::InvalidUrl {
            member: "issuer",
            problem: UrlProblem::NotLoopback
        }
    );
}

#[test]
fn oa_02_metadata_without_s256_is_refused() {
    let member = "code_challenge_methods_supported";
    assert_eq!(
        parse(&with(minimal(ISSUER), member, json!(["plain"]))).unwrap_err(),
        MetadataError::S256NotSupported
    );
    assert_eq!(
        parse(&with(minimal(ISSUER), member, json!([]))).unwrap_err(),
        MetadataError::S256NotSupported
    );
    assert_eq!(
        parse(&with(minimal(ISSUER), member, json!(["s256"]))).unwrap_err(),
        MetadataError::S256NotSupported,
        "method names are case-sensitive"
    );
    assert_eq!(
        parse(&without(minimal(ISSUER), member)).unwrap_err(),
        MetadataError::PkceNotAdvertised
    );

    // The named relaxation covers only the absent member (Microsoft Entra ID).
    let relaxed = MetadataOptions::new().assume_pkce_s256_when_unlisted();
    let parse_relaxed = |doc: &Value| {
        parse_metadata_with(
            doc.to_string().as_bytes(),
            ISSUER,
            EndpointPolicy::HttpsOnly,
            relaxed,
        )
    };
    let m = parse_relaxed(&without(minimal(ISSUER), member)).unwrap();
    assert!(m.code_challenge_methods_supported.is_empty());
    assert_eq!(
        parse_relaxed(&with(minimal(ISSUER), member, json!(["plain"]))).unwrap_err(),
        MetadataError::S256NotSupported
    );
}

#[test]
fn oa_06_iss_parameter_support_is_read_as_a_boolean() {
    let member = "authorization_response_iss_parameter_supported";
    assert!(
        !parse(&minimal(ISSUER))
            .unwrap()
            .authorization_response_iss_parameter_supported
    );
    assert!(
        parse(&with(minimal(ISSUER), member, json!(true)))
            .unwrap()
            .authorization_response_iss_parameter_supported
    );
    assert!(
        !parse(&with(minimal(ISSUER), member, json!(false)))
            .unwrap()
            .authorization_response_iss_parameter_supported
    );
    for wrong in [json!("true"), json!(1), json!(null), json!([true])] {
        assert_eq!(
            parse(&with(minimal(ISSUER), member, wrong.clone())).unwrap_err(),
            MetadataError::WrongType { member },
            "{wrong}"
        );
    }
}

#[test]
fn oa_24_required_par_needs_its_endpoint() {
    let required = with(
        minimal(ISSUER),
        "require_pushed_authorization_requests",
        json!(true),
    );
    assert_eq!(
        parse(&required).unwrap_err(),
        MetadataError::ParEndpointMissing
    );
    let m = parse(&with(
        required,
        "pushed_authorization_request_endpoint",
        json!("https://idp.example/par"),
    ))
    .unwrap();
    assert!(m.require_pushed_authorization_requests);
    assert_eq!(
        m.pushed_authorization_request_endpoint.as_deref(),
        Some("https://idp.example/par")
    );
}

#[test]
fn metadata_wrong_types_are_errors_not_defaults() {
    let cases: [(&str, Value); 12] = [
        ("issuer", json!(42)),
        ("token_endpoint", json!(["https://idp.example/token"])),
        ("userinfo_endpoint", json!(null)),
        ("end_session_endpoint", json!({})),
        ("require_pushed_authorization_requests", json!("false")),
        ("require_pushed_authorization_requests", json!(0)),
        ("code_challenge_methods_supported", json!("S256")),
        ("code_challenge_methods_supported", json!(["S256", 1])),
        ("response_types_supported", json!("code")),
        ("response_types_supported", json!(null)),
        ("id_token_signing_alg_values_supported", json!([null])),
        (
            "token_endpoint_auth_methods_supported",
            json!("client_secret_basic"),
        ),
    ];
    for (member, value) in cases {
        assert_eq!(
            parse(&with(minimal(ISSUER), member, value.clone())).unwrap_err(),
            MetadataError::WrongType { member },
            "{member} = {value}"
        );
    }
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "id_token_signing_alg_values_supported",
    ] {
        assert_eq!(
            parse(&without(minimal(ISSUER), member)).unwrap_err(),
            MetadataError::Missing { member }
        );
    }
    assert_eq!(
        parse(&with(
            minimal(ISSUER),
            "response_types_supported",
            json!(["id_token", "token"])
        ))
        .unwrap_err(),
        MetadataError::CodeFlowNotSupported
    );
}

#[test]
fn metadata_json_is_strict_and_bounded() {
    let doc = minimal(ISSUER).to_string();
    // A duplicate `issuer` that would win under "last member wins".
    let dup = doc.replacen('{', r#"{"issuer":"https://evil.example","#, 1);
    assert_eq!(
        parse_metadata(dup.as_bytes(), ISSUER, EndpointPolicy::HttpsOnly).unwrap_err(),
        MetadataError::DuplicateMember
    );
    // Duplicates inside an ignored member are refused too.
    let nested = doc.replacen('{', r#"{"x":{"a":1,"a":2},"#, 1);
    assert_eq!(
        parse_metadata(nested.as_bytes(), ISSUER, EndpointPolicy::HttpsOnly).unwrap_err(),
        MetadataError::DuplicateMember
    );
    for bad in [&b"[]"[..], b"", b"{", b"null", b"{\"issuer\":\"a\"} {}"] {
        assert_eq!(
            parse_metadata(bad, ISSUER, EndpointPolicy::HttpsOnly).unwrap_err(),
            MetadataError::InvalidJson
        );
    }
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let deep = doc.replacen('{', &format!(r#"{{"x":{deep},"#), 1);
    assert_eq!(
        parse_metadata(deep.as_bytes(), ISSUER, EndpointPolicy::HttpsOnly).unwrap_err(),
        MetadataError::InvalidJson
    );

    // Unknown members are ignored; the size cap counts them.
    let padded = |len: usize| {
        let base = with(minimal(ISSUER), "x_padding", json!("")).to_string();
        let pad = "p".repeat(len - base.len());
        with(minimal(ISSUER), "x_padding", json!(pad)).to_string()
    };
    let at_cap = padded(MAX_METADATA_LEN);
    assert_eq!(at_cap.len(), MAX_METADATA_LEN);
    assert!(parse_metadata(at_cap.as_bytes(), ISSUER, EndpointPolicy::HttpsOnly).is_ok());
    let over = padded(MAX_METADATA_LEN + 1);
    assert_eq!(
        parse_metadata(over.as_bytes(), ISSUER, EndpointPolicy::HttpsOnly).unwrap_err(),
        MetadataError::TooLarge {
            max: MAX_METADATA_LEN
        }
    );
}

#[test]
fn metadata_errors_never_repeat_the_document() {
    let hostile = "https://idp.example/<script>ATTACKER-TEXT</script>#frag";
    let long = format!("https://{}.example", "ATTACKER-TEXT".repeat(500));
    for doc in [
        with(minimal(ISSUER), "token_endpoint", json!(hostile)),
        with(minimal(ISSUER), "issuer", json!(long)),
        with(minimal(ISSUER), "jwks_uri", json!(["ATTACKER-TEXT"])),
    ] {
        let message = parse(&doc).unwrap_err().to_string();
        assert!(!message.contains("ATTACKER-TEXT"), "{message}");
        assert!(message.len() < 200, "{message}");
    }
}

#[tokio::test]
async fn oa_20_discovery_over_the_dev_back_channel() {
    bounded(async {
        // The issuer is only known once the port is: serve a document built for it.
        let (server, issuer) = DiscoveryServer::start(minimal).await;
        let url = discovery_url(&issuer).unwrap();
        let body = client().get(&url, "application/json").await.unwrap();
        let m = parse_metadata(&body, &issuer, EndpointPolicy::DevLoopback).unwrap();
        assert_eq!(m.issuer, issuer);
        assert_eq!(m.token_endpoint, format!("{issuer}/token"));
        // Configured with a trailing slash, the same document is another issuer's.
        assert_eq!(
            parse_metadata(&body, &format!("{issuer}/"), EndpointPolicy::DevLoopback).unwrap_err(),
            MetadataError::IssuerMismatch
        );
        drop(server);
    })
    .await;
}

/// Serves `/.well-known/openid-configuration` with a document made for the server's own
/// issuer URL; aborted on drop.
struct DiscoveryServer(tokio::task::JoinHandle<()>);

impl Drop for DiscoveryServer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl DiscoveryServer {
    async fn start(doc_for: impl FnOnce(&str) -> Value) -> (Self, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let doc = doc_for(&issuer);
        let app = Router::new().route(
            "/.well-known/openid-configuration",
            get(move || {
                let doc = doc.clone();
                async move { json_response(&doc) }
            }),
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (Self(task), issuer)
    }
}

// ---------------------------------------------------------------------------------------------
// OA-14: client authentication keys and secrets
// ---------------------------------------------------------------------------------------------

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

fn p256_pkcs8() -> Vec<u8> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .unwrap()
        .as_ref()
        .to_vec()
}

fn ed25519_pkcs8() -> Vec<u8> {
    Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .unwrap()
        .as_ref()
        .to_vec()
}

#[test]
fn oa_14_pem_keys_pick_their_algorithm() {
    let ec = ClientAssertionKey::from_pem(
        &SecretString::from(format!(
            "comment line\n{}",
            pem("PRIVATE KEY", &p256_pkcs8())
        )),
        "ec-1",
    )
    .unwrap();
    assert_eq!((ec.alg(), ec.kid()), ("ES256", "ec-1"));
    let ed = ClientAssertionKey::from_pem(
        &SecretString::from(pem("PRIVATE KEY", &ed25519_pkcs8())),
        "ed-1",
    )
    .unwrap();
    assert_eq!((ed.alg(), ed.kid()), ("EdDSA", "ed-1"));

    for key in [&ec, &ed] {
        let jwk = key.public_jwk();
        // Public only: the JWK parser refuses private members, and it accepts this one.
        for private in ["d", "p", "q", "k"] {
            assert!(jwk.get(private).is_none(), "{private} in {jwk}");
        }
        let parsed = VerificationKey::from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(parsed.kid(), Some(key.kid()));
        assert_eq!(jwk["alg"], key.alg());
        assert_eq!(jwk["use"], "sig");
    }
}

#[test]
fn oa_14_wrong_or_broken_keys_are_typed_errors() {
    let from_pem = |text: &str| ClientAssertionKey::from_pem(&SecretString::from(text), "k");
    let p256 = p256_pkcs8();
    for label in [
        "EC PRIVATE KEY",
        "RSA PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PUBLIC KEY",
        "CERTIFICATE",
    ] {
        assert_eq!(
            from_pem(&pem(label, &p256)).unwrap_err(),
            ClientAuthError::PemNotPkcs8,
            "{label}"
        );
    }
    let good = pem("PRIVATE KEY", &p256);
    for broken in [
        String::new(),
        "not a pem".to_owned(),
        good.replace("-----END PRIVATE KEY-----", ""),
        good.replacen('M', "!", 1),
        format!("{good}{good}"),
        format!("{good}trailing"),
        "x".repeat(paved_auth::oidc::MAX_PEM_LEN + 1),
    ] {
        assert_eq!(from_pem(&broken).unwrap_err(), ClientAuthError::InvalidPem);
    }
    // Well-formed PKCS#8 of a key type that is not offered.
    let rsa = include_str!("data/test-only-rsa-2048.pem");
    assert_eq!(from_pem(rsa).unwrap_err(), ClientAuthError::UnsupportedKey);
    let p384 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &SystemRandom::new())
        .unwrap();
    assert_eq!(
        from_pem(&pem("PRIVATE KEY", p384.as_ref())).unwrap_err(),
        ClientAuthError::UnsupportedKey
    );
    assert_eq!(
        from_pem(&pem("PRIVATE KEY", b"not der")).unwrap_err(),
        ClientAuthError::UnsupportedKey
    );
    // DER constructors refuse the other curve.
    let ed = SecretBytes::from(ed25519_pkcs8());
    let ec = SecretBytes::from(p256);
    assert_eq!(
        ClientAssertionKey::es256_from_pkcs8(&ed, "k").unwrap_err(),
        ClientAuthError::InvalidKey
    );
    assert_eq!(
        ClientAssertionKey::eddsa_from_pkcs8(&ec, "k").unwrap_err(),
        ClientAuthError::InvalidKey
    );
    for kid in ["", "a\nb", &"k".repeat(257)] {
        assert_eq!(
            ClientAssertionKey::es256_from_pkcs8(&ec, kid).unwrap_err(),
            ClientAuthError::InvalidKid
        );
    }
}

#[test]
fn oa_14_debug_never_shows_secrets_or_keys() {
    let secret = "ZEBRA-SECRET-8c1f";
    for auth in [
        ClientAuth::client_secret_basic(SecretString::from(secret)),
        ClientAuth::client_secret_post(SecretString::from(secret)),
    ] {
        for debug in [format!("{auth:?}"), format!("{auth:#?}")] {
            assert!(!debug.contains(secret), "{debug}");
            assert!(debug.contains(auth.method()), "{debug}");
        }
    }
    let der = p256_pkcs8();
    let text = pem("PRIVATE KEY", &der);
    let key = ClientAssertionKey::from_pem(&SecretString::from(text.clone()), "kid-7").unwrap();
    let auth = ClientAuth::private_key_jwt(key.clone());
    // Any 12-character run of the PEM body, or the DER's bytes in any common rendering.
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let hex: String = der
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .map(|n| char::from_digit(u32::from(n), 16).unwrap())
        .collect();
    let bytes = format!("{:?}", &der[der.len() - 40..]);
    for debug in [
        format!("{key:?}"),
        format!("{key:#?}"),
        format!("{auth:?}"),
        format!("{auth:#?}"),
    ] {
        assert!(
            debug.contains("ES256") && debug.contains("kid-7"),
            "{debug}"
        );
        for window in body.as_bytes().windows(12) {
            assert!(
                !debug.contains(std::str::from_utf8(window).unwrap()),
                "{debug}"
            );
        }
        assert!(!debug.contains(&hex[hex.len() - 24..]), "{debug}");
        assert!(!debug.contains(&bytes[1..bytes.len() - 1]), "{debug}");
    }
    assert_eq!(ClientAuth::none().method(), "none");
    assert_eq!(auth.method(), "private_key_jwt");
}

// ---------------------------------------------------------------------------------------------
// OA-11: return-to
// ---------------------------------------------------------------------------------------------

#[test]
fn oa_11_return_to_rejects_open_redirects() {
    for ok in [
        "/",
        "/orders/42",
        "/search?q=a%2Fb&next=//evil.example",
        "/a/b/../c#frag",
        "/%E2%82%AC",
        "/javascript:alert(1)",
        "/100%25",
        "/a%20b",
    ] {
        assert_eq!(safe_return_to(ok), Some(ok), "{ok:?} refused");
    }
    let long_ok = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN - 1));
    assert!(safe_return_to(&long_ok).is_some());
    let too_long = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN));
    assert!(safe_return_to(&too_long).is_none());

    for hostile in [
        "",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/a\\b",
        "https://evil.example",
        "http:evil.example",
        "javascript:alert(1)",
        "data:text/html,x",
        "evil.example",
        "./x",
        "?next=/",
        "#/",
        " /x",
        "/x ",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "/%09/evil.example",
        "/%0d%0a/evil.example",
        "/x%0d%0aSet-Cookie:a=b",
        "/%00",
        "/%2F%2Fevil.example",
        "/%2f%2fevil.example",
        "/%2Fevil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "/a%5Cb",
        "/%252F%252Fevil.example",
        "/%25252F",
        "/%",
        "/%2",
        "/%zz",
        "/\u{ff0f}evil.example",
        "/\u{2215}evil.example",
        "/\u{a0}",
        "/caf\u{e9}",
        "/\u{7f}",
    ] {
        assert_eq!(safe_return_to(hostile), None, "{hostile:?} accepted");
    }
}

/// Strings built from the characters that matter for redirects, mostly starting with `/`;
/// pieces that are refused anywhere are rarer, so that a good share of values is accepted.
fn return_to_candidates() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[a-z0-9]{1,4}",
        4 => Just("/".to_owned()),
        2 => Just("%2F".to_owned()),
        1 => Just("%2f".to_owned()),
        1 => Just("%5C".to_owned()),
        1 => Just("%25".to_owned()),
        1 => Just("%09".to_owned()),
        1 => Just("%20".to_owned()),
        1 => Just("%2E".to_owned()),
        2 => "%[2-7][0-9A-Fa-f]",
        1 => Just("%".to_owned()),
        2 => Just(":".to_owned()),
        1 => Just("?".to_owned()),
        1 => Just("#".to_owned()),
        1 => Just("@".to_owned()),
        2 => Just(".".to_owned()),
        1 => Just("\\".to_owned()),
        1 => Just("\t".to_owned()),
        1 => Just("\u{ff0f}".to_owned()),
    ];
    (
        prop_oneof![6 => Just("/"), 1 => Just(""), 1 => Just("//"), 1 => Just("/\\")],
        prop::collection::vec(piece, 0..8),
    )
        .prop_map(|(start, pieces)| format!("{start}{}", pieces.concat()))
}

fn percent_decode_once(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Whatever is accepted resolves on the application's origin, and so does its decoded
    /// form (a server that decodes once more before redirecting).
    #[test]
    fn oa_11_accepted_return_to_stays_same_origin(raw in return_to_candidates()) {
        let base = url::Url::parse("https://app.example/some/page").unwrap();
        if let Some(accepted) = safe_return_to(&raw) {
            prop_assert_eq!(accepted, raw.as_str());
            let joined = base.join(accepted).unwrap();
            prop_assert_eq!(joined.origin(), base.origin(), "{} left the origin", accepted);
            let decoded = percent_decode_once(accepted);
            let joined = base.join(&decoded).unwrap();
            prop_assert_eq!(
                joined.origin(),
                base.origin(),
                "{} decoded to {:?} left the origin",
                accepted,
                decoded
            );
        }
    }

    /// Hostile prefixes are refused whatever follows them.
    #[test]
    fn oa_11_hostile_prefixes_are_always_refused(
        prefix in prop::sample::select(vec![
            "//", "/\\", "\\\\", "\\/", "\\", "http:", "https://", "javascript:", "data:",
            "/\t/", "\t//", "/\n/", " //", "/%2f%2f", "/%2F/", "/%5c", "/%5C%5C", "%2f%2f",
            "/%09/", "/%0a/", "/%252f%252f", "/%25%32%66", "/\u{ff0f}", "\u{ff0f}\u{ff0f}",
            "/\u{2215}",
        ]),
        rest in "[ -~]{0,40}",
    ) {
        let candidate = format!("{prefix}{rest}");
        prop_assert_eq!(safe_return_to(&candidate), None);
    }
}

/// The same-origin property is not vacuous: the generator yields accepted values often,
/// including ones with escapes that decode.
#[test]
fn oa_11_generator_reaches_accepted_values() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = return_to_candidates();
    let samples: Vec<String> = (0..2000)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let accepted: Vec<&String> = samples
        .iter()
        .filter(|s| safe_return_to(s).is_some())
        .collect();
    let with_escape = accepted.iter().filter(|s| s.contains('%')).count();
    assert!(accepted.len() >= 200, "only {} accepted", accepted.len());
    assert!(
        with_escape >= 20,
        "only {with_escape} accepted with an escape"
    );
}
