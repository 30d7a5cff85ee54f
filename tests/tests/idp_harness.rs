//! Self-tests of the identity-provider harness (`paved_tests::idp`), without the paved client:
//! each test drives the real oidc-provider by hand (PKCE, state and nonce built here, token
//! requests written out) so that a failure in the end-to-end client tests can be told apart
//! from a broken harness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paved_tests::idp::{
    self, CLIENT_BASIC, CLIENT_EDDSA, CLIENT_JWT, CLIENT_PAR, CLIENT_POST, CLIENT_PUBLIC,
    CLIENT_RS256, ClientSigningKey, Idp, IdpOptions, POST_LOGOUT_REDIRECT_URI, REDIRECT_URI,
    SCOPES,
};
use ring::digest;
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};
use url::Url;

// ---------------------------------------------------------------------------------------------
// A hand-written client, just enough to prove the provider side.

fn random_b64(len: usize) -> String {
    let mut bytes = vec![0_u8; len];
    SystemRandom::new().fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7636 §4.1–4.2: verifier from 32 random bytes (43 characters), S256 challenge.
struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    fn new() -> Self {
        let verifier = random_b64(32);
        let challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

struct Authorization {
    url: String,
    state: String,
    nonce: String,
    pkce: Pkce,
}

fn authorization_params(client_id: &str) -> (Vec<(&'static str, String)>, Authorization) {
    let pkce = Pkce::new();
    let state = random_b64(16);
    let nonce = random_b64(16);
    let params = vec![
        ("client_id", client_id.to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
        ("scope", SCOPES.to_owned()),
        ("state", state.clone()),
        ("nonce", nonce.clone()),
        ("code_challenge", pkce.challenge.clone()),
        ("code_challenge_method", "S256".to_owned()),
    ];
    (
        params,
        Authorization {
            url: String::new(),
            state,
            nonce,
            pkce,
        },
    )
}

fn authorize(idp: &Idp, client_id: &str) -> Authorization {
    let (params, mut auth) = authorization_params(client_id);
    let mut url = Url::parse(idp.endpoint("authorization_endpoint").unwrap()).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    auth.url = url.into();
    auth
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// Checks the callback the way the client must (RFC 9207 `iss`, `state`), returns the code.
fn code_from(callback: &Url, idp: &Idp, auth: &Authorization) -> String {
    assert!(
        callback.as_str().starts_with(REDIRECT_URI),
        "callback {callback} is not on the redirect URI"
    );
    let params = query(callback);
    assert_eq!(params.get("error"), None, "provider refused: {params:?}");
    assert_eq!(params.get("state"), Some(&auth.state));
    assert_eq!(params.get("iss").map(String::as_str), Some(idp.issuer()));
    params.get("code").cloned().expect("a code")
}

/// RFC 6749 §2.3.1: client id and secret are form-urlencoded before the Basic encoding.
fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(client_id),
            enc(secret)
        ))
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// RFC 7523 §3 client assertion, ES256, signed with ring.
fn client_assertion(key: &ClientSigningKey, client_id: &str, audience: &str) -> String {
    let header = json!({ "alg": "ES256", "typ": "JWT", "kid": key.kid() });
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": audience,
        "jti": random_b64(16), "iat": now(), "exp": now() + 60,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let rng = SystemRandom::new();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8_der(), &rng).unwrap();
    let sig = pair.sign(&rng, input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

enum Auth<'a> {
    Basic(&'a str),
    BasicRaw(&'a str),
    Post(&'a str),
    Jwt(&'a ClientSigningKey),
    Public,
}

async fn post_form(
    idp: &Idp,
    endpoint: &str,
    client_id: &str,
    auth: &Auth<'_>,
    mut form: Vec<(&str, String)>,
) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client.post(idp.endpoint(endpoint).unwrap());
    match auth {
        Auth::Basic(secret) => {
            request = request.header("authorization", basic(client_id, secret));
        }
        Auth::BasicRaw(secret) => {
            let raw =
                base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
            request = request.header("authorization", format!("Basic {raw}"));
        }
        Auth::Post(secret) => {
            form.push(("client_id", client_id.to_owned()));
            form.push(("client_secret", (*secret).to_owned()));
        }
        Auth::Jwt(key) => {
            form.push(("client_id", client_id.to_owned()));
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ));
            form.push((
                "client_assertion",
                client_assertion(key, client_id, idp.issuer()),
            ));
        }
        Auth::Public => form.push(("client_id", client_id.to_owned())),
    }
    let response = request.form(&form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn exchange(idp: &Idp, client_id: &str, auth: &Auth<'_>, code: &str, pkce: &Pkce) -> Value {
    let (status, body) = post_form(
        idp,
        "token_endpoint",
        client_id,
        auth,
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", REDIRECT_URI.to_owned()),
            ("code_verifier", pkce.verifier.clone()),
        ],
    )
    .await;
    assert_eq!(status, 200, "token endpoint: {body}");
    body
}

async fn refresh(idp: &Idp, client_id: &str, auth: &Auth<'_>, token: &str) -> (u16, Value) {
    post_form(
        idp,
        "token_endpoint",
        client_id,
        auth,
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", token.to_owned()),
        ],
    )
    .await
}

fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap()
    };
    (part(), part())
}

/// Verifies an ES256 ID token against the provider's published JWKS (by `kid`).
async fn verify_es256(idp: &Idp, token: &str) -> (Value, Value) {
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["alg"], "ES256");
    let jwks: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(idp.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("kid {} not in the JWKS", header["kid"]));
    let mut point = vec![4_u8];
    point.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
    point.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
    let (input, sig) = token.rsplit_once('.').unwrap();
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
        .expect("ID token signature verifies with the published key");
    (header, claims)
}

async fn login_and_exchange(
    idp: &Idp,
    browser: &reqwest::Client,
    client_id: &str,
    auth: &Auth<'_>,
) -> (Authorization, Value) {
    let authorization = authorize(idp, client_id);
    let callback = idp::scripted_login(browser, &authorization.url)
        .await
        .unwrap();
    let code = code_from(&callback, idp, &authorization);
    let tokens = exchange(idp, client_id, auth, &code, &authorization.pkce).await;
    (authorization, tokens)
}

fn process_is_gone(pid: u32) -> bool {
    // Gone, or a zombie waiting to be reaped (it no longer runs).
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_advertises_what_the_client_relies_on() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let url = format!("{}/.well-known/openid-configuration", idp.issuer());
    let metadata: Value = reqwest::get(url).await.unwrap().json().await.unwrap();

    assert_eq!(metadata["issuer"], idp.issuer());
    assert!(idp.issuer().starts_with("http://127.0.0.1:"));
    assert!(!idp.issuer().ends_with('/'));
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    for endpoint in [
        "pushed_authorization_request_endpoint",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
    ] {
        assert!(
            metadata[endpoint]
                .as_str()
                .is_some_and(|u| u.starts_with(idp.issuer())),
            "{endpoint} missing"
        );
    }
    for alg in ["ES256", "EdDSA", "RS256"] {
        assert!(
            metadata["id_token_signing_alg_values_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(alg)),
            "{alg} not supported"
        );
    }

    let jwks: Value = reqwest::get(idp.jwks_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, idp.signing_kids());
    for key in jwks["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "JWKS publishes private {private}"
            );
        }
    }
}

#[tokio::test]
async fn code_flow_with_basic_auth_returns_iss_and_issues_id_and_refresh_tokens() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();
    assert!(secret.starts_with(idp::BASIC_SECRET_PREFIX));

    let (authorization, tokens) =
        login_and_exchange(&idp, &browser, CLIENT_BASIC, &Auth::Basic(secret)).await;

    assert!(
        tokens["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer")
    );
    assert!(tokens["access_token"].is_string());
    assert!(tokens["refresh_token"].is_string());
    let (header, claims) = verify_es256(&idp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(header["kid"], idp.active_signing_kid("ES256").unwrap());
    assert_eq!(claims["iss"], idp.issuer());
    assert_eq!(claims["aud"], CLIENT_BASIC);
    assert_eq!(claims["sub"], idp::USER);
    assert_eq!(claims["nonce"], authorization.nonce.as_str());
}

#[tokio::test]
async fn basic_credentials_must_be_form_urlencoded() {
    // RFC 6749 §2.3.1 as oidc-provider implements it: both halves are form-decoded. A client
    // authentication failure stops the request before the (bogus) code is looked at, so
    // `invalid_grant` means "authenticated".
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();
    let form = || {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", "not-a-code".to_owned()),
            ("redirect_uri", REDIRECT_URI.to_owned()),
            ("code_verifier", Pkce::new().verifier),
        ]
    };

    let (status, body) = post_form(
        &idp,
        "token_endpoint",
        CLIENT_BASIC,
        &Auth::Basic(secret),
        form(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    let (status, body) = post_form(
        &idp,
        "token_endpoint",
        CLIENT_BASIC,
        &Auth::BasicRaw(secret),
        form(),
    )
    .await;
    assert!(
        matches!(
            body["error"].as_str(),
            Some("invalid_client" | "invalid_request")
        ),
        "unencoded secret accepted: {status} {body}"
    );

    // The secret is right, only the encoding differs: a wrong secret fails the same way.
    let (_, body) = post_form(
        &idp,
        "token_endpoint",
        CLIENT_BASIC,
        &Auth::Basic("wrong"),
        form(),
    )
    .await;
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_grant() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();
    let auth = Auth::Basic(secret);
    let (_, tokens) = login_and_exchange(&idp, &browser, CLIENT_BASIC, &auth).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (_, first_claims) = jwt_parts(tokens["id_token"].as_str().unwrap());

    let (status, refreshed) = refresh(&idp, CLIENT_BASIC, &auth, first).await;
    assert_eq!(status, 200, "{refreshed}");
    let second = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(first, second, "refresh token not rotated");
    let (_, claims) = verify_es256(&idp, refreshed["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], first_claims["sub"]);
    // oidc-provider repeats the original nonce in refreshed ID tokens (OIDC Core §12.2 allows
    // it when unchanged).
    assert_eq!(claims["nonce"], first_claims["nonce"]);

    // Reusing the rotated token is treated as theft: the whole grant is revoked, so the token
    // that replaced it dies too (why the client must refresh single-flight, OA-17).
    let (status, body) = refresh(&idp, CLIENT_BASIC, &auth, first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body) = refresh(&idp, CLIENT_BASIC, &auth, second).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn each_client_authentication_and_id_token_algorithm_works() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let jwt_key = idp.private_key_jwt_key().unwrap();
    let cases = [
        (
            CLIENT_POST,
            Auth::Post(idp.client_secret(CLIENT_POST).unwrap()),
            "ES256",
        ),
        (CLIENT_JWT, Auth::Jwt(jwt_key), "ES256"),
        (CLIENT_PUBLIC, Auth::Public, "ES256"),
        (
            CLIENT_EDDSA,
            Auth::Basic(idp.client_secret(CLIENT_EDDSA).unwrap()),
            "EdDSA",
        ),
        (
            CLIENT_RS256,
            Auth::Basic(idp.client_secret(CLIENT_RS256).unwrap()),
            "RS256",
        ),
    ];
    assert_eq!(idp.client_secret(CLIENT_PUBLIC), None);
    assert_eq!(idp.client_secret(CLIENT_JWT), None);
    for (client_id, auth, alg) in &cases {
        let (authorization, tokens) = login_and_exchange(&idp, &browser, client_id, auth).await;
        let (header, claims) = jwt_parts(tokens["id_token"].as_str().unwrap());
        assert_eq!(header["alg"], *alg, "{client_id}");
        assert_eq!(
            header["kid"],
            idp.active_signing_kid(alg).unwrap(),
            "{client_id}"
        );
        assert_eq!(claims["aud"], *client_id);
        assert_eq!(claims["nonce"], authorization.nonce.as_str());
        assert!(
            tokens["refresh_token"].is_string(),
            "{client_id}: no refresh token"
        );
    }
}

#[tokio::test]
async fn private_key_jwt_assertions_are_single_use() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let key = idp.private_key_jwt_key().unwrap();
    let assertion = client_assertion(key, CLIENT_JWT, idp.issuer());
    let form = || {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", "not-a-token".to_owned()),
            ("client_id", CLIENT_JWT.to_owned()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", assertion.clone()),
        ]
    };
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token_endpoint = idp.endpoint("token_endpoint").unwrap();
    let first: Value = client
        .post(token_endpoint)
        .form(&form())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["error"], "invalid_grant", "authenticated: {first}");
    let replay: Value = client
        .post(token_endpoint)
        .form(&form())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        replay["error"], "invalid_client",
        "replayed jti accepted: {replay}"
    );
}

#[tokio::test]
async fn a_test_can_register_its_own_private_key_jwt_key() {
    let key = ClientSigningKey::generate().unwrap();
    let idp = Idp::start(IdpOptions::new().private_key_jwt_public_jwk(key.public_jwk().clone()))
        .await
        .unwrap();
    assert!(idp.private_key_jwt_key().is_none());
    let browser = idp::browser().unwrap();
    let (_, tokens) = login_and_exchange(&idp, &browser, CLIENT_JWT, &Auth::Jwt(&key)).await;
    assert!(tokens["id_token"].is_string());
}

#[tokio::test]
async fn par_is_required_for_the_par_client_and_works() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_PAR).unwrap();

    // Without PAR the provider refuses the front-channel request, back at the redirect URI.
    let direct = authorize(&idp, CLIENT_PAR);
    let refused = idp::scripted_login(&browser, &direct.url).await.unwrap();
    let params = query(&refused);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("invalid_request"),
        "{refused}"
    );
    assert_eq!(params.get("state"), Some(&direct.state));
    assert_eq!(params.get("iss").map(String::as_str), Some(idp.issuer()));

    // RFC 9126 §2.1: all authorization parameters (client_id included) in the pushed body.
    let (params, auth) = authorization_params(CLIENT_PAR);
    let (status, pushed) = post_form(
        &idp,
        "pushed_authorization_request_endpoint",
        CLIENT_PAR,
        &Auth::Basic(secret),
        params,
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    let request_uri = pushed["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let mut url = Url::parse(idp.endpoint("authorization_endpoint").unwrap()).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_PAR)
        .append_pair("request_uri", request_uri);
    let callback = idp::scripted_login(&browser, url.as_str()).await.unwrap();
    let code = code_from(&callback, &idp, &auth);
    let tokens = exchange(&idp, CLIENT_PAR, &Auth::Basic(secret), &code, &auth.pkce).await;
    assert!(tokens["id_token"].is_string());
}

#[tokio::test]
async fn two_logins_in_one_cookie_jar_both_complete() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();

    // Concurrently: both flows interleave their redirects and form posts.
    let (a, b) = (authorize(&idp, CLIENT_BASIC), authorize(&idp, CLIENT_BASIC));
    let (callback_a, callback_b) = tokio::join!(
        idp::scripted_login(&browser, &a.url),
        idp::scripted_login(&browser, &b.url)
    );
    let code_a = code_from(&callback_a.unwrap(), &idp, &a);
    let code_b = code_from(&callback_b.unwrap(), &idp, &b);
    assert_ne!(code_a, code_b);

    // Deterministic interleaving: tab C stops at the login page, tab D logs in fully, then C
    // finishes. Needs a jar without a provider session, hence a fresh browser.
    let browser = idp::browser().unwrap();
    let (c, d) = (authorize(&idp, CLIENT_BASIC), authorize(&idp, CLIENT_BASIC));
    let response = browser.get(&c.url).send().await.unwrap();
    assert!(response.status().is_redirection());
    let interaction = Url::parse(&c.url)
        .unwrap()
        .join(response.headers()["location"].to_str().unwrap())
        .unwrap();
    assert!(
        interaction.path().starts_with("/interaction/"),
        "{interaction}"
    );
    let callback_d = idp::scripted_login(&browser, &d.url).await.unwrap();
    let callback_c = idp::scripted_login(&browser, interaction.as_str())
        .await
        .unwrap();
    let code_c = code_from(&callback_c, &idp, &c);
    let code_d = code_from(&callback_d, &idp, &d);

    for (code, auth) in [(code_a, &a), (code_b, &b), (code_c, &c), (code_d, &d)] {
        let tokens = exchange(&idp, CLIENT_BASIC, &Auth::Basic(secret), &code, &auth.pkce).await;
        let (_, claims) = jwt_parts(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["nonce"], auth.nonce.as_str());
    }
}

#[tokio::test]
async fn scripted_logout_returns_to_the_post_logout_redirect_uri_with_state() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();
    let (_, tokens) = login_and_exchange(&idp, &browser, CLIENT_BASIC, &Auth::Basic(secret)).await;

    let state = random_b64(16);
    let mut end_session = Url::parse(idp.endpoint("end_session_endpoint").unwrap()).unwrap();
    end_session
        .query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", POST_LOGOUT_REDIRECT_URI)
        .append_pair("state", &state);
    let back = idp::scripted_logout(&browser, end_session.as_str())
        .await
        .unwrap();
    assert_eq!(
        back.as_str().split('?').next(),
        Some(POST_LOGOUT_REDIRECT_URI)
    );
    assert_eq!(query(&back).get("state"), Some(&state));

    // The provider session is gone: a new authorization request asks for a login again.
    let again = authorize(&idp, CLIENT_BASIC);
    let response = browser.get(&again.url).send().await.unwrap();
    let interaction = Url::parse(&again.url)
        .unwrap()
        .join(response.headers()["location"].to_str().unwrap())
        .unwrap();
    let page = browser
        .get(interaction)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"name="prompt" value="login""#),
        "no login form after logout"
    );

    // Logout revoked the grant, so the refresh token no longer works.
    let (status, body) = refresh(
        &idp,
        CLIENT_BASIC,
        &Auth::Basic(secret),
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn an_unregistered_post_logout_redirect_uri_is_refused() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();
    let (_, tokens) = login_and_exchange(&idp, &browser, CLIENT_BASIC, &Auth::Basic(secret)).await;
    let mut end_session = Url::parse(idp.endpoint("end_session_endpoint").unwrap()).unwrap();
    end_session
        .query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", "https://evil.example/");
    let error = idp::scripted_logout(&browser, end_session.as_str())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("post_logout_redirect_uri not registered"),
        "{error}"
    );
}

#[tokio::test]
async fn restart_with_new_signing_key_rotates_and_keeps_sessions() {
    let mut idp = Idp::start(IdpOptions::default()).await.unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap().to_owned();
    let auth = Auth::Basic(&secret);
    let issuer = idp.issuer().to_owned();
    let old_kid = idp.active_signing_kid("ES256").unwrap().to_owned();
    let (_, tokens) = login_and_exchange(&idp, &browser, CLIENT_BASIC, &auth).await;
    let (header, _) = verify_es256(&idp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(header["kid"], old_kid.as_str());

    idp.restart_with_new_signing_key().await.unwrap();

    assert_eq!(idp.issuer(), issuer);
    let new_kid = idp.active_signing_kid("ES256").unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let jwks: Value = reqwest::get(idp.jwks_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids.first(),
        Some(&new_kid.as_str()),
        "new key not first: {kids:?}"
    );
    assert!(
        kids.contains(&old_kid.as_str()),
        "old key dropped: {kids:?}"
    );

    // The refresh token from before the restart still works; the new ID token has the new kid.
    let (status, refreshed) = refresh(
        &idp,
        CLIENT_BASIC,
        &auth,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let (header, _) = verify_es256(&idp, refreshed["id_token"].as_str().unwrap()).await;
    assert_eq!(header["kid"], new_kid.as_str());

    // A new login in the same jar reuses the provider session and is signed with the new key.
    let (_, tokens) = login_and_exchange(&idp, &browser, CLIENT_BASIC, &auth).await;
    let (header, _) = verify_es256(&idp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(header["kid"], new_kid.as_str());
}

#[tokio::test]
async fn short_access_token_ttl_is_applied() {
    let idp = Idp::start(IdpOptions::new().access_token_ttl(Duration::from_secs(5)))
        .await
        .unwrap();
    let browser = idp::browser().unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();
    let (_, tokens) = login_and_exchange(&idp, &browser, CLIENT_BASIC, &Auth::Basic(secret)).await;
    assert_eq!(tokens["expires_in"], 5);
}

#[tokio::test]
async fn the_process_and_its_keys_are_gone_after_drop() {
    let idp = Idp::start(IdpOptions::default()).await.unwrap();
    let pid = idp.pid().unwrap();
    let dir = idp.private_dir().to_owned();
    assert!(dir.join("config.json").exists());
    assert!(!process_is_gone(pid));
    drop(idp);

    assert!(!dir.exists(), "private directory with the keys left behind");
    // Liveness bound, not a timing assertion: SIGKILL takes effect asynchronously.
    let mut gone = false;
    for _ in 0..100 {
        if process_is_gone(pid) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "node (pid {pid}) still running after drop");
}

#[tokio::test]
async fn par_can_be_required_of_every_client() {
    let idp = Idp::start(IdpOptions::new().require_pushed_authorization_requests(true))
        .await
        .unwrap();
    assert_eq!(
        idp.metadata()["require_pushed_authorization_requests"],
        true
    );
    let browser = idp::browser().unwrap();
    let direct = authorize(&idp, CLIENT_BASIC);
    let refused = idp::scripted_login(&browser, &direct.url).await.unwrap();
    assert_eq!(
        query(&refused).get("error").map(String::as_str),
        Some("invalid_request"),
        "{refused}"
    );
}
