//! Entry points for the fuzz targets in `fuzz/` and helpers for tests and doc examples; not
//! part of the public API.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, Uri};
use paved_secrets::SecretBytes;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

use crate::bearer::{ExtractError, bearer_token, parse_authorization};
use crate::jwt::{
    Algorithm, JwtError, JwtValidator, KeyFamily, KeySet, MAX_JWKS_KEYS, NoCustomClaims,
    VerificationKey,
};

/// The DER prefix of a P-256 `SubjectPublicKeyInfo` before the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// PEM `PUBLIC KEY` text for an uncompressed P-256 point.
#[must_use]
pub fn p256_public_pem(point: &[u8]) -> String {
    let mut der = P256_SPKI_PREFIX.to_vec();
    der.extend_from_slice(point);
    let body = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// A fresh P-256 public key as PEM, for documentation examples.
#[must_use]
pub fn example_es256_public_pem() -> String {
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .ok()
        .and_then(|pkcs8| {
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).ok()
        });
    pair.map(|p| p256_public_pem(p.public_key().as_ref()))
        .unwrap_or_default()
}

/// Checks only the form, header and signature of `token` against `key` (no claims): for the
/// RFC 7515 / RFC 8037 example tokens, whose payloads are not access-token claims.
///
/// # Errors
///
/// The first failed check.
pub fn verify_signature_only(token: &str, key: &VerificationKey) -> Result<Algorithm, JwtError> {
    let legacy = key.algorithms().any(Algorithm::is_legacy_rsa_pkcs1);
    let mut builder = JwtValidator::builder("kat", "kat")
        .algorithms(key.algorithms().filter(|a| !a.is_legacy_rsa_pkcs1()))
        .key(key.clone());
    if legacy {
        builder = builder.allow_legacy_rsa_pkcs1();
    }
    let validator = builder.build().map_err(|_| JwtError::Provider)?;
    validator.verify_signature_only(token)
}

fn fixed_validator() -> Option<&'static JwtValidator> {
    static VALIDATOR: OnceLock<Option<JwtValidator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).ok()?;
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .ok()?;
            let pem = p256_public_pem(pair.public_key().as_ref());
            let ec = VerificationKey::from_pem(Algorithm::ES256, pem.as_bytes())
                .ok()?
                .with_kid("ec")
                .ok()?;
            let hs = VerificationKey::hmac(Algorithm::HS256, &SecretBytes::random(32).ok()?)
                .ok()?
                .with_kid("hs")
                .ok()?;
            JwtValidator::builder("https://issuer.example", "api")
                .algorithms([Algorithm::ES256, Algorithm::HS256, Algorithm::EdDSA])
                .key(ec)
                .key(hs)
                .require_claims(["sub"])
                .cache_verified_tokens(64, std::time::Duration::from_secs(60))
                .build()
                .ok()
        })
        .as_ref()
}

/// Validates arbitrary text against a fixed validator: never a panic, never a success (the
/// fuzzer holds no key).
pub fn jwt_validate(token: &str) {
    let Some(validator) = fixed_validator() else {
        return;
    };
    let result = validator.validate_now::<NoCustomClaims>(token);
    assert!(
        matches!(result, Some(Err(_))),
        "a token nobody signed was accepted or deferred"
    );
}

/// Parses an arbitrary JWKS document: never a panic, and what is kept obeys JW-23.
pub fn jwks_parse(document: &[u8]) {
    if let Ok((set, _dropped)) = KeySet::parse_jwks(document) {
        assert!(!set.is_empty() && set.len() <= MAX_JWKS_KEYS);
        let mut kids = std::collections::HashSet::new();
        for key in set.iter() {
            assert_ne!(key.family(), KeyFamily::Hmac, "a symmetric key was kept");
            assert!(key.algorithms().all(|a| a.family() == key.family()));
            if let Some(kid) = key.kid() {
                assert!(kids.insert(kid.to_owned()), "duplicate kid kept");
            }
        }
    }
}

/// Parses an arbitrary `Authorization` value: never a panic, and an accepted token is a
/// non-empty token68.
pub fn bearer_header(value: &[u8]) {
    if let Ok(token) = parse_authorization(value) {
        assert!(!token.is_empty());
        let body = token.trim_end_matches('=');
        assert!(!body.is_empty());
        assert!(
            body.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
            "non-token68 byte accepted"
        );
        assert!(
            value.len() == token.len() + 7,
            "token not right after `Bearer `"
        );
    }
    if let Ok(header) = HeaderValue::from_bytes(value) {
        let mut headers = HeaderMap::new();
        headers.append(http::header::AUTHORIZATION, header.clone());
        let uri = Uri::from_static("/");
        let single = bearer_token(&headers, &uri);
        assert_eq!(
            single.is_ok(),
            parse_authorization(header.as_bytes()).is_ok()
        );
        headers.append(http::header::AUTHORIZATION, header);
        assert_eq!(bearer_token(&headers, &uri), Err(ExtractError::Multiple));
    }
}

/// Parses an arbitrary discovery document for two configured issuers under both endpoint
/// policies: never a panic, and an accepted document obeys OA-20/OA-02/OA-24 (checked here
/// independently of the parser's own checks).
pub fn oidc_discovery_parse(document: &[u8]) {
    use crate::oidc::{EndpointPolicy, parse_metadata};

    const ISSUERS: [&str; 2] = ["https://issuer.example", "http://127.0.0.1:3000"];
    for expected in ISSUERS {
        for policy in [EndpointPolicy::HttpsOnly, EndpointPolicy::DevLoopback] {
            let Ok(metadata) = parse_metadata(document, expected, policy) else {
                continue;
            };
            assert_eq!(metadata.issuer, expected, "issuer not byte-equal");
            let mut urls = vec![
                metadata.issuer.as_str(),
                metadata.authorization_endpoint.as_str(),
                metadata.token_endpoint.as_str(),
                metadata.jwks_uri.as_str(),
            ];
            urls.extend(
                [
                    &metadata.userinfo_endpoint,
                    &metadata.end_session_endpoint,
                    &metadata.revocation_endpoint,
                    &metadata.pushed_authorization_request_endpoint,
                ]
                .into_iter()
                .flatten()
                .map(String::as_str),
            );
            for url in urls {
                assert!(
                    !url.bytes()
                        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()),
                    "whitespace in an accepted URL"
                );
                let parsed = url::Url::parse(url);
                assert!(parsed.is_ok(), "unparsable URL accepted");
                let Ok(parsed) = parsed else { continue };
                assert!(parsed.fragment().is_none(), "fragment accepted");
                assert!(
                    parsed.username().is_empty() && parsed.password().is_none(),
                    "credentials accepted"
                );
                match policy {
                    EndpointPolicy::HttpsOnly => {
                        assert_eq!(parsed.scheme(), "https", "non-https URL accepted");
                    }
                    EndpointPolicy::DevLoopback => {
                        let loopback = match parsed.host() {
                            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                            None => false,
                        };
                        assert!(loopback, "non-loopback host accepted in dev mode");
                        assert!(matches!(parsed.scheme(), "http" | "https"));
                    }
                }
            }
            assert!(
                metadata
                    .code_challenge_methods_supported
                    .iter()
                    .any(|m| m == "S256"),
                "accepted without S256"
            );
            assert!(
                metadata
                    .response_types_supported
                    .iter()
                    .any(|t| t == "code")
            );
            if metadata.require_pushed_authorization_requests {
                assert!(metadata.pushed_authorization_request_endpoint.is_some());
            }
        }
    }
}

pub use crate::oidc::fixture::{CallbackFixture, PendingLogin};

/// Fuzz entry for `oidc_token_response`: `data` is the token endpoint's whole answer to a
/// genuine callback (the parser of `expires_in`, `token_type`, the ID token, …). Never a
/// panic, never a 5xx other than 502 (a bad answer from the provider), never a login: the
/// fuzzer holds no signing key.
pub fn oidc_token_response(fixture: &CallbackFixture, data: &[u8]) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let status = runtime.block_on(async {
        let Some(pending) = fixture.begin().await else {
            return http::StatusCode::OK;
        };
        fixture.callback_with_token_response(&pending, data).await
    });
    assert!(
        status == http::StatusCode::BAD_GATEWAY,
        "callback answered {status} to a forged token response"
    );
}

/// Fuzz entry for `oidc_callback_query`: the first line of `data` is the callback query, the
/// rest the `Cookie` header. The callback must answer without panicking, never with a 5xx
/// (attacker input is a 400), and never complete a login: no input here comes from a login
/// this fixture started.
pub fn oidc_callback_query(fixture: &CallbackFixture, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (query, cookie) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let status = runtime.block_on(fixture.callback(query, cookie));
    assert!(
        status == http::StatusCode::BAD_REQUEST,
        "callback answered {status} to attacker input"
    );
}
