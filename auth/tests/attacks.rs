//! The JWT attack catalogue (`shared/research/jwt-attacks.md`, rows JW-01 … JW-28): one test per
//! row, each building its hostile token with keys generated here. The JWKS rows that need a
//! live server (JW-07 refetch, JW-23 over HTTP) are in `jwks.rs`; the bearer-header rows
//! (JW-25, JW-26) in `bearer.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use paved_auth::jwt::{
    Algorithm, ConfigError, ForbiddenHeader, JwkProblem, JwtError, JwtValidator, KeyError,
    KeyFamily, KeySet, NoCustomClaims, TokenPart, VerificationKey,
};
use paved_secrets::SecretBytes;
use serde_json::json;

fn check(validator: &JwtValidator, token: &str) -> Result<(), JwtError> {
    now(validator.validate::<NoCustomClaims>(token)).map(|_| ())
}

fn es256_setup() -> (SigningKey, TestClock, JwtValidator) {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let validator = validator_for(&key, "k1", &clock);
    (key, clock, validator)
}

#[test]
fn valid_tokens_of_every_family_are_accepted() {
    let clock = TestClock::at(NOW);
    for key in [
        SigningKey::es256(),
        SigningKey::es384(),
        SigningKey::ed25519(),
        SigningKey::rsa(),
        SigningKey::hmac(32),
    ] {
        let validator = validator_for(&key, "k1", &clock);
        let validated = now(validator.validate::<NoCustomClaims>(&token(&key, "k1", NOW))).unwrap();
        assert_eq!(validated.algorithm(), key.default_alg());
        assert_eq!(validated.standard().sub.as_deref(), Some("user-1"));
        assert!(validated.standard().has_scope("items:write"));
    }
}

#[test]
fn jw_01_alg_none_rejected() {
    let (_key, _clock, validator) = es256_setup();
    let claims = b64(claims_at(NOW).to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "kid": "k1"}).to_string());
        // Without a signature part: refused as unsigned before the header is read.
        assert_eq!(
            check(&validator, &format!("{header}.{claims}.")),
            Err(JwtError::EmptySegment(TokenPart::Signature))
        );
        assert_eq!(
            check(&validator, &format!("{header}.{claims}")),
            Err(JwtError::NotCompact)
        );
        // With a signature part: refused for the algorithm.
        assert_eq!(
            check(&validator, &format!("{header}.{claims}.{}", b64("sig"))),
            Err(JwtError::AlgNone),
            "{alg}"
        );
    }
}

#[test]
fn jw_02_rs256_to_hs256_confusion_rejected() {
    let clock = TestClock::at(NOW);
    let rsa = SigningKey::rsa();
    let public_pem = rsa.public_pem();
    let public_der = rsa.spki_der();
    let public_jwk = rsa.jwk().to_string();
    // The victim allows RS256 (legacy) and even HS256 for another key: the worst case.
    let hs_key = SigningKey::hmac(32);
    let validator = builder(&clock)
        .allow_legacy_rsa_pkcs1()
        .algorithms([Algorithm::HS256, Algorithm::PS256])
        .key(rsa.verification_key(Algorithm::RS256, "rsa"))
        .key(hs_key.verification_key(Algorithm::HS256, "hs"))
        .build()
        .unwrap();
    assert!(
        check(
            &validator,
            &mint(
                &json!({"alg":"RS256","kid":"rsa"}),
                &claims_at(NOW),
                &rsa,
                Algorithm::RS256
            )
        )
        .is_ok()
    );
    for secret in [
        public_pem.as_bytes(),
        &public_der,
        rsa.rsa_pkcs1_der().as_slice(),
        public_jwk.as_bytes(),
    ] {
        let forger = SigningKey::Hmac(secret.to_vec());
        let forged = mint(
            &json!({"alg":"HS256","kid":"rsa"}),
            &claims_at(NOW),
            &forger,
            Algorithm::HS256,
        );
        assert_eq!(
            check(&validator, &forged),
            Err(JwtError::AlgorithmKeyMismatch {
                alg: Algorithm::HS256,
                key: KeyFamily::Rsa
            })
        );
    }
    // A validator that does not allow HS256 refuses before looking at keys.
    let strict = builder(&clock)
        .allow_legacy_rsa_pkcs1()
        .key(rsa.verification_key(Algorithm::RS256, "rsa"))
        .build()
        .unwrap();
    let forger = SigningKey::Hmac(public_pem.into_bytes());
    let forged = mint(
        &json!({"alg":"HS256","kid":"rsa"}),
        &claims_at(NOW),
        &forger,
        Algorithm::HS256,
    );
    assert_eq!(
        check(&strict, &forged),
        Err(JwtError::AlgorithmNotAllowed(Algorithm::HS256))
    );
    // And an RSA public key can never be configured as an HMAC secret of the wrong kind of
    // constructor: PEM for HS256 is refused outright.
    assert!(matches!(
        VerificationKey::from_pem(Algorithm::HS256, rsa.public_pem().as_bytes()),
        Err(KeyError::NotAPublicKeyAlgorithm(Algorithm::HS256))
    ));
}

/// The P-256 and P-384 group orders (r and s must be in [1, n-1]).
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn jw_03_ecdsa_psychic_signature_rejected() {
    let clock = TestClock::at(NOW);
    for (key, order) in [
        (SigningKey::es256(), hex(P256_N)),
        (SigningKey::es384(), hex(P384_N)),
    ] {
        let alg = key.default_alg();
        let validator = validator_for(&key, "k1", &clock);
        let input = format!(
            "{}.{}",
            b64(json!({"alg":alg.name(),"kid":"k1"}).to_string()),
            b64(claims_at(NOW).to_string())
        );
        let n = order.len();
        let zero = vec![0u8; n];
        let ones = vec![0xffu8; n];
        let mut one = vec![0u8; n];
        one[n - 1] = 1;
        for (r, s) in [
            (&zero, &zero),
            (&zero, &one),
            (&one, &zero),
            (&order, &order),
            (&order, &one),
            (&one, &order),
            (&ones, &ones),
        ] {
            let mut signature = r.clone();
            signature.extend_from_slice(s);
            let forged = format!("{input}.{}", b64(&signature));
            assert_eq!(
                check(&validator, &forged),
                Err(JwtError::InvalidSignature),
                "{alg}"
            );
        }
    }
}

#[test]
fn jw_04_algorithm_outside_allow_list_or_key_pin_rejected() {
    let clock = TestClock::at(NOW);
    let rsa = SigningKey::rsa();
    // RS256 without the legacy opt-in: the error says how to enable it and why it is off.
    let default = builder(&clock)
        .key(rsa.verification_key(Algorithm::PS256, "rsa"))
        .build()
        .unwrap();
    let rs256 = mint(
        &json!({"alg":"RS256","kid":"rsa"}),
        &claims_at(NOW),
        &rsa,
        Algorithm::RS256,
    );
    let err = check(&default, &rs256).unwrap_err();
    assert_eq!(err, JwtError::LegacyAlgorithmNotEnabled(Algorithm::RS256));
    let message = err.to_string();
    assert!(
        message.contains("allow_legacy_rsa_pkcs1()") && message.contains("ASVS"),
        "{message}"
    );
    // Listing RS256 without the opt-in is a configuration error.
    assert_eq!(
        builder(&clock)
            .algorithms([Algorithm::RS256])
            .key(rsa.verification_key(Algorithm::RS256, "r"))
            .build()
            .unwrap_err(),
        ConfigError::LegacyAlgorithmWithoutOptIn(Algorithm::RS256)
    );
    // An algorithm the validator does not allow, and one it does not know.
    let es = SigningKey::es384();
    let only_es256 = builder(&clock)
        .algorithms([Algorithm::ES256])
        .key(SigningKey::es256().verification_key(Algorithm::ES256, "k1"))
        .build()
        .unwrap();
    let es384 = mint(
        &json!({"alg":"ES384","kid":"k1"}),
        &claims_at(NOW),
        &es,
        Algorithm::ES384,
    );
    assert_eq!(
        check(&only_es256, &es384),
        Err(JwtError::AlgorithmNotAllowed(Algorithm::ES384))
    );
    let unknown = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"ES512","kid":"k1"}"#),
        b64(claims_at(NOW).to_string()),
        b64([1u8; 132])
    );
    assert_eq!(
        check(&only_es256, &unknown),
        Err(JwtError::UnknownAlgorithm)
    );
    let lowercase = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"es256","kid":"k1"}"#),
        b64(claims_at(NOW).to_string()),
        b64([1u8; 64])
    );
    assert_eq!(
        check(&only_es256, &lowercase),
        Err(JwtError::UnknownAlgorithm)
    );
    // PS256 token, RS256-pinned key (both algorithms allowed): the key's pin wins.
    let mut jwk = rsa.jwk();
    jwk["alg"] = json!("RS256");
    jwk["kid"] = json!("rsa");
    let pinned = builder(&clock)
        .allow_legacy_rsa_pkcs1()
        .key(VerificationKey::from_jwk(&jwk.to_string()).unwrap())
        .build()
        .unwrap();
    let ps256 = mint(
        &json!({"alg":"PS256","kid":"rsa"}),
        &claims_at(NOW),
        &rsa,
        Algorithm::PS256,
    );
    assert_eq!(
        check(&pinned, &ps256),
        Err(JwtError::AlgorithmKeyMismatch {
            alg: Algorithm::PS256,
            key: KeyFamily::Rsa
        })
    );
    assert!(check(&pinned, &rs256).is_ok());
    // ES256 token against an ES384 key under the same kid.
    let validator = validator_for(&es, "k1", &clock);
    let es256 = mint(
        &json!({"alg":"ES256","kid":"k1"}),
        &claims_at(NOW),
        &SigningKey::es256(),
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &es256),
        Err(JwtError::AlgorithmKeyMismatch {
            alg: Algorithm::ES256,
            key: KeyFamily::EcP384
        })
    );
}

#[test]
fn jw_05_stripped_signature_and_empty_segments_rejected() {
    let (key, _clock, validator) = es256_setup();
    let valid = token(&key, "k1", NOW);
    let (head, _sig) = valid.rsplit_once('.').unwrap();
    let (h, p) = head.split_once('.').unwrap();
    assert_eq!(
        check(&validator, &format!("{head}.")),
        Err(JwtError::EmptySegment(TokenPart::Signature))
    );
    assert_eq!(check(&validator, head), Err(JwtError::NotCompact));
    assert_eq!(
        check(&validator, &format!("{h}..{}", b64([0u8; 64]))),
        Err(JwtError::EmptySegment(TokenPart::Payload))
    );
    assert_eq!(
        check(&validator, &format!(".{p}.{}", b64([0u8; 64]))),
        Err(JwtError::EmptySegment(TokenPart::Header))
    );
    assert_eq!(
        check(&validator, ".."),
        Err(JwtError::EmptySegment(TokenPart::Header))
    );
    assert_eq!(check(&validator, ""), Err(JwtError::Empty));
    assert_eq!(
        check(&validator, &format!("{valid}.x")),
        Err(JwtError::NotCompact)
    );
    assert_eq!(check(&validator, "abc"), Err(JwtError::NotCompact));
}

#[test]
fn jw_06_payload_altered_signature_kept_rejected() {
    let clock = TestClock::at(NOW);
    for key in [
        SigningKey::es256(),
        SigningKey::ed25519(),
        SigningKey::rsa(),
        SigningKey::hmac(32),
    ] {
        let validator = validator_for(&key, "k1", &clock);
        let valid = token(&key, "k1", NOW);
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        let mut claims = claims_at(NOW);
        claims["sub"] = json!("admin");
        parts[1] = b64(claims.to_string());
        assert_eq!(
            check(&validator, &parts.join(".")),
            Err(JwtError::InvalidSignature)
        );
    }
}

#[test]
fn jw_07_kid_injection_is_only_a_map_key() {
    let (key, _clock, validator) = es256_setup();
    for kid in [
        "../../../../etc/passwd",
        "' OR '1'='1' --",
        "https://attacker.example/jwks.json",
        "k1\u{0000}",
        "K1",
        "k1 ",
    ] {
        let forged = mint(
            &json!({"alg":"ES256","kid":kid}),
            &claims_at(NOW),
            &key,
            Algorithm::ES256,
        );
        assert_eq!(
            check(&validator, &forged),
            Err(JwtError::UnknownKey),
            "{kid:?}"
        );
    }
    let long = "k".repeat(1_000);
    let forged = mint(
        &json!({"alg":"ES256","kid":long}),
        &claims_at(NOW),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(check(&validator, &forged), Err(JwtError::KidTooLong));
    let longer = "k".repeat(10_000);
    let forged = mint(
        &json!({"alg":"ES256","kid":longer}),
        &claims_at(NOW),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::HeaderTooLarge { max: 8192 })
    );
    for kid in [
        json!(1),
        json!(["k1"]),
        json!({"k":"k1"}),
        json!(null),
        json!(true),
    ] {
        let forged = mint(
            &json!({"alg":"ES256","kid":kid}),
            &claims_at(NOW),
            &key,
            Algorithm::ES256,
        );
        assert_eq!(
            check(&validator, &forged),
            Err(JwtError::InvalidHeader("kid")),
            "{kid}"
        );
    }
}

#[tokio::test]
async fn jw_08_jku_and_x5u_rejected_and_never_fetched() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let clock = TestClock::at(NOW);
    let attacker = SigningKey::es256();
    let validator = validator_for(&SigningKey::es256(), "k1", &clock);
    for (member, class) in [("jku", ForbiddenHeader::Jku), ("x5u", ForbiddenHeader::X5u)] {
        let forged = mint(
            &json!({"alg":"ES256","kid":"k1", member: url}),
            &claims_at(NOW),
            &attacker,
            Algorithm::ES256,
        );
        assert_eq!(
            validator
                .validate::<NoCustomClaims>(&forged)
                .await
                .unwrap_err(),
            JwtError::HeaderNotAllowed(class)
        );
    }
    let accepted = tokio::time::timeout(Duration::from_millis(300), listener.accept()).await;
    assert!(
        accepted.is_err(),
        "the validator connected to the token's URL"
    );
    assert_eq!(
        builder(&clock)
            .allow_ignored_header("jku")
            .key(SigningKey::es256().verification_key(Algorithm::ES256, "k"))
            .build()
            .unwrap_err(),
        ConfigError::HeaderNeverAllowed(ForbiddenHeader::Jku)
    );
}

#[test]
fn jw_09_embedded_jwk_rejected() {
    let (_key, _clock, validator) = es256_setup();
    let attacker = SigningKey::es256();
    let mut jwk = attacker.jwk();
    jwk["kid"] = json!("k1");
    for kid in [Some("k1"), None] {
        let mut header = json!({"alg":"ES256","jwk":jwk});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let forged = mint(&header, &claims_at(NOW), &attacker, Algorithm::ES256);
        assert_eq!(
            check(&validator, &forged),
            Err(JwtError::HeaderNotAllowed(ForbiddenHeader::Jwk))
        );
    }
}

#[test]
fn jw_10_x5c_rejected() {
    let (key, _clock, validator) = es256_setup();
    let forged = mint(
        &json!({"alg":"ES256","kid":"k1","x5c":[STANDARD_B64_CERT]}),
        &claims_at(NOW),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::HeaderNotAllowed(ForbiddenHeader::X5c))
    );
}

/// Not a real certificate: the member is refused before its content is looked at.
const STANDARD_B64_CERT: &str = "MIIBszCCAVmgAwIBAgIUWf8=";

#[test]
fn jw_11_crit_header_rejected() {
    let (key, clock, validator) = es256_setup();
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("x")] {
        let forged = mint(
            &json!({"alg":"ES256","kid":"k1","crit":crit}),
            &claims_at(NOW),
            &key,
            Algorithm::ES256,
        );
        assert_eq!(
            check(&validator, &forged),
            Err(JwtError::HeaderNotAllowed(ForbiddenHeader::Crit))
        );
    }
    assert_eq!(
        builder(&clock)
            .allow_ignored_header("crit")
            .key(key.verification_key(Algorithm::ES256, "k"))
            .build()
            .unwrap_err(),
        ConfigError::HeaderNeverAllowed(ForbiddenHeader::Crit)
    );
}

#[test]
fn jw_12_b64_false_rejected() {
    let (key, _clock, validator) = es256_setup();
    // RFC 7797: the payload is not base64url-encoded in the signing input.
    let header = b64(json!({"alg":"ES256","kid":"k1","b64":false,"crit":["b64"]}).to_string());
    let claims = claims_at(NOW).to_string();
    let signature = key.sign(Algorithm::ES256, format!("{header}.{claims}").as_bytes());
    let forged = format!("{header}.{}.{}", b64(&claims), b64(signature));
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::HeaderNotAllowed(ForbiddenHeader::B64))
    );
    let only_b64 = mint(
        &json!({"alg":"ES256","kid":"k1","b64":false}),
        &claims_at(NOW),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &only_b64),
        Err(JwtError::HeaderNotAllowed(ForbiddenHeader::B64))
    );
}

fn with_claims(key: &SigningKey, claims: &serde_json::Value) -> String {
    let alg = key.default_alg();
    mint(
        &json!({"alg":alg.name(),"kid":"k1","typ":"at+jwt"}),
        claims,
        key,
        alg,
    )
}

#[test]
fn jw_13_expired_or_missing_exp_rejected() {
    let (key, _clock, validator) = es256_setup();
    let mut claims = claims_at(NOW);
    claims["exp"] = json!(NOW - 61);
    assert_eq!(
        check(&validator, &with_claims(&key, &claims)),
        Err(JwtError::Expired)
    );
    claims["exp"] = json!(NOW - 59);
    assert!(
        check(&validator, &with_claims(&key, &claims)).is_ok(),
        "within the 60 s leeway"
    );
    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        check(&validator, &with_claims(&key, &claims)),
        Err(JwtError::MissingClaim("exp".into()))
    );
    for bad in [
        json!(null),
        json!("1900000000"),
        json!(-5),
        json!([1]),
        json!(true),
    ] {
        claims["exp"] = bad;
        assert_eq!(
            check(&validator, &with_claims(&key, &claims)),
            Err(JwtError::InvalidClaimType("exp"))
        );
    }
}

#[test]
fn jw_14_nbf_or_iat_in_the_future_rejected() {
    let (key, _clock, validator) = es256_setup();
    let mut claims = claims_at(NOW);
    claims["nbf"] = json!(NOW + 61);
    assert_eq!(
        check(&validator, &with_claims(&key, &claims)),
        Err(JwtError::NotYetValid)
    );
    claims["nbf"] = json!(NOW + 59);
    assert!(check(&validator, &with_claims(&key, &claims)).is_ok());
    let mut claims = claims_at(NOW);
    claims["iat"] = json!(NOW + 61);
    assert_eq!(
        check(&validator, &with_claims(&key, &claims)),
        Err(JwtError::IssuedInFuture)
    );
    claims["iat"] = json!("now");
    assert_eq!(
        check(&validator, &with_claims(&key, &claims)),
        Err(JwtError::InvalidClaimType("iat"))
    );
}

#[test]
fn jw_15_wrong_or_mistyped_issuer_rejected() {
    let (key, _clock, validator) = es256_setup();
    let mut claims = claims_at(NOW);
    for (iss, expected) in [
        (json!("https://attacker.example"), JwtError::WrongIssuer),
        (json!("https://issuer.example/"), JwtError::WrongIssuer),
        (json!([ISSUER]), JwtError::InvalidClaimType("iss")),
        (json!(1), JwtError::InvalidClaimType("iss")),
    ] {
        claims["iss"] = iss;
        assert_eq!(
            check(&validator, &with_claims(&key, &claims)),
            Err(expected)
        );
    }
    claims.as_object_mut().unwrap().remove("iss");
    assert_eq!(
        check(&validator, &with_claims(&key, &claims)),
        Err(JwtError::MissingClaim("iss".into()))
    );
}

#[test]
fn scp_elements_cannot_smuggle_extra_scopes() {
    // `scp: ["read admin"]` must not become the two scopes `read` and `admin`.
    let (key, _clock, validator) = es256_setup();
    let mut claims = claims_at(NOW);
    claims.as_object_mut().unwrap().remove("scope");
    claims["scp"] = json!(["items:read", "items:write"]);
    let ok = now(validator.validate::<NoCustomClaims>(&with_claims(&key, &claims))).unwrap();
    assert!(ok.standard().has_scope("items:write"));
    for bad in [json!(["items:read admin"]), json!([""]), json!(["a\tb"])] {
        claims["scp"] = bad;
        assert_eq!(
            check(&validator, &with_claims(&key, &claims)),
            Err(JwtError::InvalidClaimType("scp"))
        );
    }
}

#[test]
fn jw_16_wrong_or_missing_audience_rejected() {
    let (key, _clock, validator) = es256_setup();
    let mut claims = claims_at(NOW);
    claims["aud"] = json!([AUDIENCE, "other"]);
    assert!(check(&validator, &with_claims(&key, &claims)).is_ok());
    for (aud, expected) in [
        (json!("other"), JwtError::WrongAudience),
        (json!(["other", "third"]), JwtError::WrongAudience),
        (json!([]), JwtError::WrongAudience),
        (json!(1), JwtError::InvalidClaimType("aud")),
        (json!([AUDIENCE, 2]), JwtError::InvalidClaimType("aud")),
    ] {
        claims["aud"] = aud;
        assert_eq!(
            check(&validator, &with_claims(&key, &claims)),
            Err(expected)
        );
    }
    claims.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        check(&validator, &with_claims(&key, &claims)),
        Err(JwtError::MissingClaim("aud".into()))
    );
}

#[test]
fn jw_17_token_type_confusion_rejected() {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let validator = builder(&clock)
        .key(key.verification_key(Algorithm::ES256, "k1"))
        .require_typ("at+jwt")
        .build()
        .unwrap();
    for typ in [Some("JWT"), Some("id_token+jwt"), Some("at+jwt+x"), None] {
        let mut header = json!({"alg":"ES256","kid":"k1"});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        assert_eq!(
            check(
                &validator,
                &mint(&header, &claims_at(NOW), &key, Algorithm::ES256)
            ),
            Err(JwtError::WrongType),
            "{typ:?}"
        );
    }
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        let header = json!({"alg":"ES256","kid":"k1","typ":typ});
        assert!(
            check(
                &validator,
                &mint(&header, &claims_at(NOW), &key, Algorithm::ES256)
            )
            .is_ok(),
            "{typ}"
        );
    }
    let nested = json!({"alg":"ES256","kid":"k1","typ":"at+jwt","cty":"JWT"});
    assert_eq!(
        check(
            &validator,
            &mint(&nested, &claims_at(NOW), &key, Algorithm::ES256)
        ),
        Err(JwtError::NestedToken)
    );
}

#[test]
fn jw_18_oversize_token_rejected_before_decoding() {
    let (key, clock, validator) = es256_setup();
    // Not even base64: the size cap answers first.
    let huge = format!("{}.{}.{}", "!".repeat(10), "!".repeat(64 * 1024), "!");
    assert_eq!(
        check(&validator, &huge),
        Err(JwtError::TooLarge { max: 64 * 1024 })
    );
    let big_header = format!("{}.{}.{}", "!".repeat(8 * 1024 + 1), "e30", "AA");
    assert_eq!(
        check(&validator, &big_header),
        Err(JwtError::HeaderTooLarge { max: 8 * 1024 })
    );
    // A signed token with a large but legal payload passes the default cap, not a smaller one.
    let mut claims = claims_at(NOW);
    claims["blob"] = json!("x".repeat(20_000));
    let large = with_claims(&key, &claims);
    assert!(check(&validator, &large).is_ok());
    let small = builder(&clock)
        .key(key.verification_key(Algorithm::ES256, "k1"))
        .max_token_len(4096)
        .build()
        .unwrap();
    assert_eq!(check(&small, &large), Err(JwtError::TooLarge { max: 4096 }));
    assert_eq!(
        builder(&clock)
            .key(key.verification_key(Algorithm::ES256, "k1"))
            .max_token_len(2 << 20)
            .build()
            .unwrap_err(),
        ConfigError::OutOfRange("max_token_len")
    );
}

#[test]
fn jw_19_duplicate_members_rejected() {
    let (key, _clock, validator) = es256_setup();
    let claims = claims_at(NOW).to_string();
    let dup_alg = mint_raw(
        r#"{"alg":"ES256","kid":"k1","alg":"none"}"#,
        &claims,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &dup_alg),
        Err(JwtError::DuplicateMember(TokenPart::Header))
    );
    let dup_kid = mint_raw(
        r#"{"alg":"ES256","kid":"k1","k\u0069d":"k2"}"#,
        &claims,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &dup_kid),
        Err(JwtError::DuplicateMember(TokenPart::Header))
    );
    // A validly signed token whose claims repeat `sub`: "last wins" would make it "admin".
    let dup_sub = claims.replacen('{', r#"{"sub":"admin","#, 1);
    let forged = mint_raw(
        r#"{"alg":"ES256","kid":"k1"}"#,
        &dup_sub,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::DuplicateMember(TokenPart::Payload))
    );
    let nested = claims.replacen('{', r#"{"ext":{"role":"user","r\u006fle":"admin"},"#, 1);
    let forged = mint_raw(
        r#"{"alg":"ES256","kid":"k1"}"#,
        &nested,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::DuplicateMember(TokenPart::Payload))
    );
}

#[test]
fn jw_20_non_canonical_base64url_rejected() {
    let (key, _clock, validator) = es256_setup();
    let valid = token(&key, "k1", NOW);
    let parts: Vec<&str> = valid.split('.').collect();
    let rebuild = |i: usize, segment: &str| {
        let mut p: Vec<String> = parts.iter().map(|s| (*s).to_owned()).collect();
        p[i] = segment.to_owned();
        p.join(".")
    };
    let part = [TokenPart::Header, TokenPart::Payload, TokenPart::Signature];
    for i in 0..3 {
        let seg = parts[i];
        let mut cases = vec![
            format!("{seg}="),
            format!("{seg}=="),
            format!(" {seg}"),
            format!("{}\n{}", &seg[..4], &seg[4..]),
            seg.replace('-', "+").replace('_', "/") + "+/",
            format!("{seg}%3D"),
        ];
        // Non-zero trailing bits: the last character of a segment whose length is 2 or 3
        // mod 4 carries unused bits; set them.
        if seg.len() % 4 >= 2 {
            let last = seg.as_bytes()[seg.len() - 1];
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let idx = alphabet.iter().position(|c| *c == last).unwrap();
            let bits = if seg.len() % 4 == 2 { 0x0f } else { 0x03 };
            if idx & bits == 0 {
                let tweaked = alphabet[idx | 1] as char;
                cases.push(format!("{}{tweaked}", &seg[..seg.len() - 1]));
            }
        }
        for case in cases {
            assert_eq!(
                check(&validator, &rebuild(i, &case)),
                Err(JwtError::InvalidBase64(part[i])),
                "{case}"
            );
        }
    }
}

#[test]
fn jw_21_weak_hmac_keys_refused_at_configuration() {
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let short = SecretBytes::random(min - 1).unwrap();
        assert_eq!(
            VerificationKey::hmac(alg, &short).unwrap_err(),
            KeyError::HmacTooShort {
                alg,
                min,
                actual: min - 1
            }
        );
        assert!(VerificationKey::hmac(alg, &SecretBytes::random(min).unwrap()).is_ok());
    }
    assert!(matches!(
        VerificationKey::hmac(Algorithm::HS256, &SecretBytes::from(Vec::new())),
        Err(KeyError::HmacTooShort { actual: 0, .. })
    ));
    for guessable in [
        &b"secretsecretsecretsecretsecret12"[..],
        b"your-256-bit-secret-your-256-bit",
        b"00000000000000000000000000000000",
        b"aaaabbbbaaaabbbbaaaabbbbaaaabbbb",
        b"my application Password is 12345",
    ] {
        assert_eq!(
            VerificationKey::hmac(Algorithm::HS256, &SecretBytes::from(guessable)).unwrap_err(),
            KeyError::WeakHmacKey,
            "{}",
            String::from_utf8_lossy(guessable)
        );
    }
    // A key from a paved-secrets key ring (random, 32 bytes) is accepted with its id.
    let ring = paved_secrets::KeyRing::generate().unwrap();
    let key = VerificationKey::hmac_from_key(Algorithm::HS256, ring.primary()).unwrap();
    assert_eq!(key.kid(), Some(ring.primary().id().as_str()));
    // An `oct` JWK is never a way around it.
    assert_eq!(
        VerificationKey::from_jwk(r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap_err(),
        KeyError::Jwk(JwkProblem::Symmetric)
    );
}

/// `r‖s` → DER `ECDSA-Sig-Value`.
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    let int = |bytes: &[u8]| {
        let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        let mut v = Vec::new();
        if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            v.push(0);
        }
        v.extend(trimmed);
        tlv(0x02, &v)
    };
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = int(r);
    body.extend(int(s));
    tlv(0x30, &body)
}

#[test]
fn jw_22_ecdsa_der_or_wrong_length_signature_rejected() {
    let (key, clock, validator) = es256_setup();
    let valid = token(&key, "k1", NOW);
    let (input, signature) = valid.rsplit_once('.').unwrap();
    let raw = unb64(signature);
    assert_eq!(raw.len(), 64);
    let der = ecdsa_der(&raw);
    let as_der = format!("{input}.{}", b64(&der));
    assert!(matches!(
        check(&validator, &as_der),
        Err(JwtError::SignatureLength {
            alg: Algorithm::ES256,
            expected: 64,
            ..
        })
    ));
    for len in [63, 65, 96, 1] {
        let forged = format!("{input}.{}", b64(vec![7u8; len]));
        assert_eq!(
            check(&validator, &forged),
            Err(JwtError::SignatureLength {
                alg: Algorithm::ES256,
                expected: 64,
                actual: len
            })
        );
    }
    // ES384 wants 96 bytes.
    let es384 = SigningKey::es384();
    let v384 = validator_for(&es384, "k1", &clock);
    let t384 = token(&es384, "k1", NOW);
    let (input384, _) = t384.rsplit_once('.').unwrap();
    assert!(matches!(
        check(&v384, &format!("{input384}.{}", b64(&raw))),
        Err(JwtError::SignatureLength {
            expected: 96,
            actual: 64,
            ..
        })
    ));
}

#[test]
fn jw_23_jwks_poisoned_keys_are_dropped() {
    let clock = TestClock::at(NOW);
    let good = SigningKey::es256();
    let mut good_jwk = good.jwk();
    good_jwk["kid"] = json!("good");
    good_jwk["use"] = json!("sig");
    let hs = SigningKey::hmac(32);
    let mut oct = hs.jwk();
    oct["kid"] = json!("oct");
    let mut enc = SigningKey::es256().jwk();
    enc["kid"] = json!("enc");
    enc["use"] = json!("enc");
    let mut ops = SigningKey::es256().jwk();
    ops["kid"] = json!("ops");
    ops["key_ops"] = json!(["encrypt", "sign"]);
    let mut mismatch = SigningKey::es256().jwk();
    mismatch["kid"] = json!("mismatch");
    mismatch["alg"] = json!("RS256");
    let mut weak_rsa = json!({"kty":"RSA","kid":"rsa1024","e":"AQAB"});
    weak_rsa["n"] = json!(b64([&[0xc1u8][..], &[0x5a; 127]].concat()));
    let mut private = SigningKey::es256().jwk();
    private["kid"] = json!("private");
    private["d"] = json!(b64([1u8; 32]));
    let mut dup_a = SigningKey::es256().jwk();
    dup_a["kid"] = json!("dup");
    let mut dup_b = SigningKey::ed25519().jwk();
    dup_b["kid"] = json!("dup");
    let mut p521 =
        json!({"kty":"EC","crv":"P-521","kid":"p521","x":b64([1u8; 66]),"y":b64([1u8; 66])});
    p521["use"] = json!("sig");
    let document = json!({"keys":[good_jwk, oct, enc, ops, mismatch, weak_rsa, private, dup_a, dup_b, p521, "not an object"]});
    let set = KeySet::from_jwks(document.to_string().as_bytes()).unwrap();
    let kids: Vec<_> = set.iter().map(|k| k.kid().unwrap().to_owned()).collect();
    assert_eq!(kids, ["good"]);
    // The dropped symmetric key cannot verify anything: a token signed with it is unknown.
    let validator = builder(&clock).keys(set).build().unwrap();
    assert!(check(&validator, &token(&good, "good", NOW)).is_ok());
    let forged = mint(
        &json!({"alg":"HS256","kid":"oct"}),
        &claims_at(NOW),
        &hs,
        Algorithm::HS256,
    );
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::AlgorithmNotAllowed(Algorithm::HS256))
    );
    let forged = mint(
        &json!({"alg":"ES256","kid":"enc"}),
        &claims_at(NOW),
        &good,
        Algorithm::ES256,
    );
    assert_eq!(check(&validator, &forged), Err(JwtError::UnknownKey));
    // Over 100 keys, the whole document is refused.
    let many: Vec<_> = (0..101)
        .map(|i| {
            let mut k = good.jwk();
            k["kid"] = json!(format!("k{i}"));
            k
        })
        .collect();
    assert!(KeySet::from_jwks(json!({"keys": many}).to_string().as_bytes()).is_err());
}

#[test]
fn jw_24_jwe_and_json_serialization_rejected() {
    let (key, _clock, validator) = es256_setup();
    let jwe = format!(
        "{}.{}.{}.{}.{}",
        b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#),
        b64([1u8; 256]),
        b64([2u8; 12]),
        b64("ciphertext"),
        b64([3u8; 16])
    );
    let err = check(&validator, &jwe).unwrap_err();
    assert_eq!(err, JwtError::Encrypted);
    assert!(err.to_string().contains("JWE"));
    let valid = token(&key, "k1", NOW);
    let p: Vec<&str> = valid.split('.').collect();
    let general =
        json!({"payload":p[1],"signatures":[{"protected":p[0],"signature":p[2]}]}).to_string();
    let flattened = json!({"payload":p[1],"protected":p[0],"signature":p[2]}).to_string();
    assert_eq!(
        check(&validator, &general),
        Err(JwtError::JsonSerialization)
    );
    assert_eq!(
        check(&validator, &flattened),
        Err(JwtError::JsonSerialization)
    );
    // A JWE-style member in a JWS header is refused too.
    let with_enc = mint(
        &json!({"alg":"ES256","kid":"k1","enc":"A256GCM"}),
        &claims_at(NOW),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &with_enc),
        Err(JwtError::HeaderNotAllowed(ForbiddenHeader::Encryption))
    );
}

#[test]
fn jw_27_deep_or_huge_claims_bounded() {
    let (key, _clock, validator) = es256_setup();
    let base = claims_at(NOW).to_string();
    // 20 000 levels of nesting inside a validly signed, in-cap token: refused without
    // exhausting the stack.
    let deep = base.replacen(
        '{',
        &format!(r#"{{"deep":{}1{},"#, "[".repeat(20_000), "]".repeat(20_000)),
        1,
    );
    let forged = mint_raw(
        r#"{"alg":"ES256","kid":"k1"}"#,
        &deep,
        &key,
        Algorithm::ES256,
    );
    assert!(forged.len() < 64 * 1024);
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::TooDeep(TokenPart::Payload))
    );
    let deep_objects = base.replacen(
        '{',
        &format!(r#"{{"deep":{}1{},"#, r#"{"a":"#.repeat(40), "}".repeat(40)),
        1,
    );
    let forged = mint_raw(
        r#"{"alg":"ES256","kid":"k1"}"#,
        &deep_objects,
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::TooDeep(TokenPart::Payload))
    );
    // Huge claims are stopped by the size cap before any parsing.
    let mut huge = claims_at(NOW);
    huge["blob"] = json!("y".repeat(70_000));
    assert!(matches!(
        check(&validator, &with_claims(&key, &huge)),
        Err(JwtError::TooLarge { .. })
    ));
    // A deep header, likewise.
    let deep_header = format!(
        r#"{{"alg":"ES256","kid":"k1","x":{}{}}}"#,
        "[".repeat(2_000),
        "]".repeat(2_000)
    );
    let forged = mint_raw(&deep_header, &base, &key, Algorithm::ES256);
    assert_eq!(
        check(&validator, &forged),
        Err(JwtError::TooDeep(TokenPart::Header))
    );
}

#[test]
fn jw_28_clock_skew_leeway_is_bounded() {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let mut claims = claims_at(NOW);
    claims["exp"] = json!(NOW - 100);
    let late = with_claims(&key, &claims);
    let with_leeway = |secs: u64| {
        builder(&clock)
            .key(key.verification_key(Algorithm::ES256, "k1"))
            .leeway(Duration::from_secs(secs))
            .build()
    };
    assert_eq!(
        check(&with_leeway(60).unwrap(), &late),
        Err(JwtError::Expired)
    );
    assert!(check(&with_leeway(120).unwrap(), &late).is_ok());
    assert!(with_leeway(300).is_ok());
    assert_eq!(with_leeway(301).unwrap_err(), ConfigError::LeewayTooLarge);
    // Default: 60 s.
    let default = validator_for(&key, "k1", &clock);
    claims["exp"] = json!(NOW - 60);
    assert_eq!(
        check(&default, &with_claims(&key, &claims)),
        Err(JwtError::Expired)
    );
    claims["exp"] = json!(NOW - 59);
    assert!(check(&default, &with_claims(&key, &claims)).is_ok());
    // Leeway zero is exact.
    let strict = with_leeway(0).unwrap();
    claims["exp"] = json!(NOW);
    assert_eq!(
        check(&strict, &with_claims(&key, &claims)),
        Err(JwtError::Expired)
    );
    claims["exp"] = json!(NOW + 1);
    assert!(check(&strict, &with_claims(&key, &claims)).is_ok());
}
