//! An in-process login for the callback benchmark and the callback fuzz target: the provider
//! exists only as a signing key and a token endpoint answered in memory. Reached through
//! `crate::fuzzing`; it configures only its own client, never an application's.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Request, StatusCode, header};
use paved_secrets::KeyRing;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use tower::{Service as _, ServiceExt as _};

use crate::jwt::{Algorithm, KeySet, VerificationKey};
use crate::oidc::client::OidcClient;
use crate::oidc::client_auth::ClientAuth;
use crate::oidc::login::OidcLogin;
use crate::oidc::metadata::{EndpointPolicy, parse_metadata};
use crate::session::{MemoryStore, Sessions};

const ISSUER: &str = "https://idp.fixture.example";

const CLIENT_ID: &str = "fixture-client";

type NotFoundFuture = std::future::Ready<Result<http::Response<String>, std::convert::Infallible>>;
type NotFound = fn(Request<String>) -> NotFoundFuture;

/// A login whose provider lives in memory.
pub struct CallbackFixture {
    login: OidcLogin,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// The next token-endpoint body, instead of the default answer (fuzzing).
    next_body: Arc<Mutex<Option<Vec<u8>>>>,
}

impl std::fmt::Debug for CallbackFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackFixture").finish_non_exhaustive()
    }
}

/// A started login: what the browser holds between `/login` and `/callback`.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    /// The `state` of the authorization request.
    pub state: String,
    /// The `nonce` of the authorization request.
    pub nonce: String,
    /// The `Cookie` header the browser would send to the callback.
    pub cookie: String,
}

impl CallbackFixture {
    /// A fixture with a fresh key, key ring and in-memory session store; `None` if a
    /// component cannot be built (it can always be built on a working host).
    #[must_use]
    pub fn new() -> Option<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).ok()?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .ok()?;
        let pem = crate::fuzzing::p256_public_pem(key.public_key().as_ref());
        let verification = VerificationKey::from_pem(Algorithm::ES256, pem.as_bytes())
            .ok()?
            .with_kid("fixture")
            .ok()?;
        let keys = KeySet::new().with(verification).ok()?;
        let document = serde_json::json!({
            "issuer": ISSUER,
            "authorization_endpoint": format!("{ISSUER}/authorize"),
            "token_endpoint": format!("{ISSUER}/token"),
            "jwks_uri": format!("{ISSUER}/jwks"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "authorization_response_iss_parameter_supported": true,
        });
        let metadata = parse_metadata(
            document.to_string().as_bytes(),
            ISSUER,
            EndpointPolicy::HttpsOnly,
        )
        .ok()?;
        // The stub token endpoint: the fixture's "code" is the ID token itself, minted by
        // `callback_query`; everything after the token endpoint runs as in production.
        let next_body: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
        let overridden = Arc::clone(&next_body);
        let stub = Arc::new(move |code: &str| {
            if let Some(body) = overridden.lock().ok().and_then(|mut next| next.take()) {
                return body;
            }
            serde_json::to_vec(&serde_json::json!({
                "access_token": "fixture-access-token",
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": code,
            }))
            .unwrap_or_default()
        });
        let client = OidcClient::builder(ISSUER, CLIENT_ID, ClientAuth::none())
            .fixture(keys, stub)
            .from_metadata(metadata)
            .ok()?;
        let sessions = Sessions::builder(MemoryStore::new(100_000)).build().ok()?;
        let ring = KeyRing::generate().ok()?;
        let login = OidcLogin::builder(client, sessions, &ring)
            .public_origin("https://app.fixture.example")
            .build()
            .ok()?;
        Some(Self {
            login,
            key,
            rng,
            next_body,
        })
    }

    /// `GET /login`: the state, nonce and transaction cookie of a new login.
    pub async fn begin(&self) -> Option<PendingLogin> {
        let request = Request::get("/login").body(String::new()).ok()?;
        let response = self.service().oneshot(request).await.ok()?;
        let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
        let url = url::Url::parse(location).ok()?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let cookie = response.headers().get(header::SET_COOKIE)?.to_str().ok()?;
        let cookie = cookie.split(';').next()?.to_owned();
        Some(PendingLogin {
            state: param("state")?,
            nonce: param("nonce")?,
            cookie,
        })
    }

    /// The callback query the provider would send for `pending`, with a freshly signed ID
    /// token as the code.
    #[must_use]
    pub fn callback_query(&self, pending: &PendingLogin) -> Option<String> {
        let now = crate::oidc::client::now_unix();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"fixture"}"#);
        let claims = serde_json::json!({
            "iss": ISSUER, "sub": "user-1", "aud": CLIENT_ID, "exp": now + 300, "iat": now,
            "nonce": pending.nonce,
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let signature = self.key.sign(&self.rng, signing_input.as_bytes()).ok()?;
        let token = format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        );
        Some(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("code", &token)
                .append_pair("state", &pending.state)
                .append_pair("iss", ISSUER)
                .finish(),
        )
    }

    /// A genuine callback for `pending` whose token endpoint answers `body` (whatever bytes the
    /// provider sends); the response status.
    pub async fn callback_with_token_response(
        &self,
        pending: &PendingLogin,
        body: &[u8],
    ) -> StatusCode {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", "fixture-code")
            .append_pair("state", &pending.state)
            .append_pair("iss", ISSUER)
            .finish();
        if let Ok(mut next) = self.next_body.lock() {
            *next = Some(body.to_vec());
        }
        self.callback(&query, &pending.cookie).await
    }

    /// `GET /callback?{query}` with `Cookie: {cookie}`; the response status.
    pub async fn callback(&self, query: &str, cookie: &str) -> StatusCode {
        let mut builder = Request::get(format!("/callback?{query}"));
        if !cookie.is_empty() {
            builder = builder.header(header::COOKIE, cookie);
        }
        let Ok(request) = builder.body(String::new()) else {
            // Not representable as an HTTP request: a server would never see it.
            return StatusCode::BAD_REQUEST;
        };
        match self.service().call(request).await {
            Ok(response) => response.status(),
            Err(never) => match never {},
        }
    }

    fn service(&self) -> crate::oidc::login::OidcLoginService<tower::util::ServiceFn<NotFound>> {
        fn not_found(_: Request<String>) -> NotFoundFuture {
            let mut response = http::Response::new(String::new());
            *response.status_mut() = StatusCode::NOT_FOUND;
            std::future::ready(Ok(response))
        }
        tower::Layer::layer(
            &self.login.layer(),
            tower::service_fn(not_found as fn(_) -> _),
        )
    }
}
