//! JWT verification: ring verifying the signing input directly, paved-auth's full validation
//! (header, key pin, signature, claims into a struct), jwt-simple on the same tokens, and a
//! verified-token cache hit. Goals: paved / `ring_raw` ≤ 1.10; faster than jwt-simple; cache
//! hit ≤ 1 µs.
//!
//! Run briefly on a shared machine:
//! `cargo bench -p paved-auth --bench jwt -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use jwt_simple::prelude::{
    ECDSAP256PublicKeyLike as _, ES256PublicKey, Ed25519PublicKey, EdDSAPublicKeyLike as _,
    HashSet, RS256PublicKey, RSAPublicKeyLike as _, VerificationOptions,
};
use paved_auth::jwt::{Algorithm, JwtValidator, VerificationKey};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair as _};
use serde::Deserialize;

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://api.example";
const RSA_TEST_KEY_PEM: &str = include_str!("../tests/data/test-only-rsa-2048.pem");

#[derive(Deserialize)]
#[allow(dead_code)]
struct BenchClaims {
    sub: String,
    scope: String,
}

/// jwt-simple reads the registered claims (`sub` included) into its own `JWTClaims`; the custom
/// part is what is left.
#[derive(Deserialize)]
#[allow(dead_code)]
struct SimpleClaims {
    scope: String,
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `(signing input, signature, token)` for the claims every benchmark verifies.
fn mint(alg: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> (String, Vec<u8>, String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = format!(r#"{{"alg":"{alg}","kid":"k1","typ":"JWT"}}"#);
    let claims = format!(
        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"user-1","iat":{now},"exp":{},"scope":"items:read items:write"}}"#,
        now + 86_400
    );
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = sign(input.as_bytes());
    let token = format!("{input}.{}", b64(&signature));
    (input, signature, token)
}

fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("static-key validation must be ready at once"),
    }
}

fn validator(key: VerificationKey, legacy: bool, cache: bool) -> JwtValidator {
    let mut builder = JwtValidator::builder(ISSUER, AUDIENCE).key(key.with_kid("k1").unwrap());
    if legacy {
        builder = builder.allow_legacy_rsa_pkcs1();
    }
    if cache {
        builder = builder.cache_verified_tokens(10_000, Duration::from_secs(300));
    }
    builder.build().unwrap()
}

fn jwt_simple_options() -> VerificationOptions {
    VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISSUER.to_owned()])),
        allowed_audiences: Some(HashSet::from([AUDIENCE.to_owned()])),
        ..VerificationOptions::default()
    }
}

#[allow(
    clippy::too_many_lines,
    reason = "one setup per algorithm, side by side"
)]
fn jwt_verify(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let mut group = c.benchmark_group("jwt_verify");

    // RSA-2048 (the test-only key), RS256.
    let der: String = RSA_TEST_KEY_PEM
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let rsa = sig::RsaKeyPair::from_pkcs8(&STANDARD.decode(der).unwrap()).unwrap();
    let components = sig::RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public());
    let (rs_input, rs_sig, rs_token) = mint("RS256", |m| {
        let mut out = vec![0; rsa.public().modulus_len()];
        rsa.sign(&sig::RSA_PKCS1_SHA256, &rng, m, &mut out).unwrap();
        out
    });
    let rs_jwk = format!(
        r#"{{"kty":"RSA","alg":"RS256","n":"{}","e":"{}"}}"#,
        b64(&components.n),
        b64(&components.e)
    );
    let paved_rs = validator(VerificationKey::from_jwk(&rs_jwk).unwrap(), true, false);
    let cached_rs = validator(VerificationKey::from_jwk(&rs_jwk).unwrap(), true, true);
    let simple_rs = RS256PublicKey::from_components(&components.n, &components.e).unwrap();

    // P-256, ES256.
    let pkcs8 =
        sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ec =
        sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
    let ec_point = ec.public_key().as_ref().to_vec();
    let (es_input, es_sig, es_token) =
        mint("ES256", |m| ec.sign(&rng, m).unwrap().as_ref().to_vec());
    let paved_es = validator(
        VerificationKey::from_pem(
            Algorithm::ES256,
            paved_auth::fuzzing::p256_public_pem(&ec_point).as_bytes(),
        )
        .unwrap(),
        false,
        false,
    );
    let simple_es = ES256PublicKey::from_bytes(&ec_point).unwrap();

    // Ed25519, EdDSA.
    let pkcs8 = sig::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ed = sig::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let ed_public = ed.public_key().as_ref().to_vec();
    let (ed_input, ed_sig, ed_token) = mint("EdDSA", |m| ed.sign(m).as_ref().to_vec());
    let ed_jwk = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
        b64(&ed_public)
    );
    let paved_ed = validator(VerificationKey::from_jwk(&ed_jwk).unwrap(), false, false);
    let simple_ed = Ed25519PublicKey::from_bytes(&ed_public).unwrap();

    // Sanity: every verifier accepts its token before it is timed.
    ready(paved_rs.validate::<BenchClaims>(&rs_token)).unwrap();
    ready(paved_es.validate::<BenchClaims>(&es_token)).unwrap();
    ready(paved_ed.validate::<BenchClaims>(&ed_token)).unwrap();
    ready(cached_rs.validate::<BenchClaims>(&rs_token)).unwrap();
    let options = jwt_simple_options();
    simple_rs
        .verify_token::<SimpleClaims>(&rs_token, Some(options.clone()))
        .unwrap();
    simple_es
        .verify_token::<SimpleClaims>(&es_token, Some(options.clone()))
        .unwrap();
    simple_ed
        .verify_token::<SimpleClaims>(&ed_token, Some(options.clone()))
        .unwrap();

    group.bench_function("ring_raw_rs256", |b| {
        b.iter(|| {
            sig::RsaPublicKeyComponents {
                n: &components.n,
                e: &components.e,
            }
            .verify(
                &sig::RSA_PKCS1_2048_8192_SHA256,
                black_box(rs_input.as_bytes()),
                black_box(&rs_sig),
            )
            .unwrap();
        });
    });
    group.bench_function("ring_raw_es256", |b| {
        b.iter(|| {
            sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, &ec_point)
                .verify(black_box(es_input.as_bytes()), black_box(&es_sig))
                .unwrap();
        });
    });
    group.bench_function("ring_raw_eddsa", |b| {
        b.iter(|| {
            sig::UnparsedPublicKey::new(&sig::ED25519, &ed_public)
                .verify(black_box(ed_input.as_bytes()), black_box(&ed_sig))
                .unwrap();
        });
    });
    group.bench_function("paved_rs256", |b| {
        b.iter(|| ready(paved_rs.validate::<BenchClaims>(black_box(&rs_token))).unwrap());
    });
    group.bench_function("paved_es256", |b| {
        b.iter(|| ready(paved_es.validate::<BenchClaims>(black_box(&es_token))).unwrap());
    });
    group.bench_function("paved_eddsa", |b| {
        b.iter(|| ready(paved_ed.validate::<BenchClaims>(black_box(&ed_token))).unwrap());
    });
    group.bench_function("jwt_simple_rs256", |b| {
        b.iter(|| {
            simple_rs
                .verify_token::<SimpleClaims>(black_box(&rs_token), Some(options.clone()))
                .unwrap()
        });
    });
    group.bench_function("jwt_simple_es256", |b| {
        b.iter(|| {
            simple_es
                .verify_token::<SimpleClaims>(black_box(&es_token), Some(options.clone()))
                .unwrap()
        });
    });
    group.bench_function("jwt_simple_eddsa", |b| {
        b.iter(|| {
            simple_ed
                .verify_token::<SimpleClaims>(black_box(&ed_token), Some(options.clone()))
                .unwrap()
        });
    });
    group.bench_function("paved_cached_rs256", |b| {
        b.iter(|| ready(cached_rs.validate::<BenchClaims>(black_box(&rs_token))).unwrap());
    });
    group.finish();
}

criterion_group!(benches, jwt_verify);
criterion_main!(benches);
