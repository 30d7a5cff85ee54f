//! Known-answer tests: the example JWS of RFC 7515 Appendix A.1–A.3 and RFC 8037 Appendix A.4
//! verify with their published public keys (and fail once tampered).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paved_auth::fuzzing::verify_signature_only;
use paved_auth::jwt::{Algorithm, JwtError, JwtValidator, NoCustomClaims, VerificationKey};
use paved_secrets::SecretBytes;
use serde_json::json;

/// The payload shared by RFC 7515 A.1–A.3 (`{"iss":"joe",\r\n "exp":1300819380,\r\n
/// "http://example.com/is_root":true}`).
const PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

/// RFC 7515 A.1: HS256 with the 64-byte `oct` key of the appendix.
const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_SIGNATURE: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// RFC 7515 A.2: RS256 with the appendix's RSA-2048 public key.
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 A.3: ES256 with the appendix's P-256 public key.
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 8037 A.4: Ed25519 over "Example of Ed25519 signing" with the A.2 public key.
const A4_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const A4_TOKEN: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn tampered(token: &str) -> String {
    // Flip one character of the payload.
    let (h, rest) = token.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let mut p = p.to_owned();
    let c = if p.starts_with('e') { "f" } else { "e" };
    p.replace_range(0..1, c);
    format!("{h}.{p}.{s}")
}

fn assert_vector(token: &str, key: &VerificationKey, alg: Algorithm) {
    assert_eq!(verify_signature_only(token, key), Ok(alg));
    assert_eq!(
        verify_signature_only(&tampered(token), key),
        Err(JwtError::InvalidSignature)
    );
}

#[test]
fn rfc7515_a1_hs256_verifies() {
    let secret = SecretBytes::from(paved_auth_test_b64(A1_KEY));
    let key = VerificationKey::hmac(Algorithm::HS256, &secret).unwrap();
    assert_vector(
        &format!("{A1_HEADER}.{PAYLOAD}.{A1_SIGNATURE}"),
        &key,
        Algorithm::HS256,
    );
}

#[test]
fn rfc7515_a2_rs256_verifies() {
    let jwk = json!({"kty":"RSA","n":A2_N,"e":"AQAB","alg":"RS256"}).to_string();
    let key = VerificationKey::from_jwk(&jwk).unwrap();
    assert_vector(
        &format!("{A2_HEADER}.{PAYLOAD}.{A2_SIGNATURE}"),
        &key,
        Algorithm::RS256,
    );
}

#[derive(Debug)]
struct At(u64);

impl paved_crypto::Clock for At {
    fn now_unix(&self) -> u64 {
        self.0
    }
}

#[test]
fn rfc7515_a3_es256_verifies() {
    let jwk = json!({"kty":"EC","crv":"P-256","x":A3_X,"y":A3_Y}).to_string();
    let key = VerificationKey::from_jwk(&jwk).unwrap();
    let token = format!("{A3_HEADER}.{PAYLOAD}.{A3_SIGNATURE}");
    assert_vector(&token, &key, Algorithm::ES256);
    // Through the full validator at the example's time: the signature and `exp` pass, and the
    // token is then refused because the example has no audience.
    let validator = JwtValidator::builder("joe", "api")
        .key(key)
        .clock(At(1_300_819_300))
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt
        .block_on(validator.validate::<NoCustomClaims>(&token))
        .unwrap_err();
    assert_eq!(err, JwtError::MissingClaim("aud".into()));
}

#[test]
fn rfc8037_a4_eddsa_verifies() {
    let jwk = json!({"kty":"OKP","crv":"Ed25519","x":A4_X}).to_string();
    let key = VerificationKey::from_jwk(&jwk).unwrap();
    assert_vector(A4_TOKEN, &key, Algorithm::EdDSA);
}

fn paved_auth_test_b64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}
