//! Client authentication at the token, PAR and revocation endpoints (OA-14): RFC 6749 §2.3.1
//! (`client_secret_basic`, `client_secret_post`), RFC 7523 §2.2 / OIDC Core §9
//! (`private_key_jwt`) and `none` for public clients.
//!
//! What each method sends is documented on [`ClientAuth`].

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use paved_secrets::{ExposeSecret, SecretBytes, SecretString};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::jwt::MAX_KID_LEN;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is valid: 60 s. RFC 7523 §3 asks for a short expiry; the
/// assertion is made just before the request that carries it, so a minute covers clock skew
/// and latency while keeping a leaked assertion nearly useless (servers also refuse a `jti`
/// seen before).
pub const CLIENT_ASSERTION_LIFETIME_SECS: u64 = 60;

/// Random bytes in a client assertion's `jti`: 32 (256 bits, above the 128-bit floor of
/// `paved_crypto::MIN_TOKEN_BYTES`), so two assertions never share an id and servers' replay
/// checks (RFC 7523 §3 item 7) never reject a fresh one.
pub const CLIENT_ASSERTION_JTI_BYTES: usize = 32;

/// The longest PEM text [`ClientAssertionKey::from_pem`] reads: 16 KiB (a PKCS#8 P-256 or
/// Ed25519 key is under 300 bytes of PEM; the cap bounds work on a wrong file).
pub const MAX_PEM_LEN: usize = 16 * 1024;

/// Why a client-authentication key or request could not be made. Messages never contain key
/// or secret material.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuthError {
    /// The PEM text is not one well-formed PEM block (or is over [`MAX_PEM_LEN`]).
    InvalidPem,
    /// The PEM block is not an unencrypted PKCS#8 `PRIVATE KEY` (e.g. `EC PRIVATE KEY`,
    /// `RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `PUBLIC KEY`, `CERTIFICATE`). Convert
    /// SEC1 keys with `openssl pkcs8 -topk8 -nocrypt`.
    PemNotPkcs8,
    /// The PKCS#8 document is not a valid key of the requested type.
    InvalidKey,
    /// The key is valid PKCS#8 but neither P-256 nor Ed25519 (RSA, P-384, …).
    UnsupportedKey,
    /// The `kid` is empty, longer than [`MAX_KID_LEN`] bytes or has control characters.
    InvalidKid,
    /// The client id is empty.
    EmptyClientId,
    /// The client secret is empty.
    EmptySecret,
    /// The assertion audience is empty.
    EmptyAudience,
    /// The operating system's random number generator failed.
    Random,
    /// Signing failed.
    Signing,
}

impl fmt::Display for ClientAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidPem => "the key is not one well-formed PEM block",
            Self::PemNotPkcs8 => "the PEM block is not an unencrypted PKCS#8 PRIVATE KEY",
            Self::InvalidKey => "the PKCS#8 document is not a valid key of the requested type",
            Self::UnsupportedKey => "the key is neither P-256 (ES256) nor Ed25519 (EdDSA)",
            Self::InvalidKid => "the kid is empty, too long or has control characters",
            Self::EmptyClientId => "the client id is empty",
            Self::EmptySecret => "the client secret is empty",
            Self::EmptyAudience => "the client assertion audience is empty",
            Self::Random => "the random number generator failed",
            Self::Signing => "the client assertion could not be signed",
        })
    }
}

impl std::error::Error for ClientAuthError {}

/// How the client authenticates to the token, PAR and revocation endpoints.
///
/// # What each method sends
///
/// Every method puts `client_id` in the form body. RFC 6749 §3.2.1 lets a client identify
/// itself this way, and some servers need it even with `client_secret_basic`: `oidc-provider`
/// 9's PAR endpoint does, and its client-authentication middleware (shared by the token, PAR,
/// revocation and introspection endpoints) accepts a body `client_id` next to an
/// `Authorization: Basic` header as long as the two agree (`client_id mismatch` otherwise).
///
/// - `client_secret_basic`: `Authorization: Basic base64(urlencode(client_id) ":"
///   urlencode(secret))`, each part `application/x-www-form-urlencoded` first (RFC 6749
///   §2.3.1; space becomes `+`). Sending the raw secret is the common client bug: a secret with
///   `:`, `%` or `+` then fails, or authenticates as a different string.
/// - `client_secret_post`: `client_secret` in the body.
/// - `private_key_jwt`: `client_assertion_type` ([`CLIENT_ASSERTION_TYPE`]) and
///   `client_assertion`, a JWS signed with ring (ES256 or `EdDSA`), header `{alg, kid}`,
///   claims `iss` = `sub` = `client_id`, `aud` = the audience the caller passes (the issuer
///   identifier, as one string: the RFC 7523bis draft narrows `aud` to the issuer to close an
///   audience-injection weakness of the earlier rules, and FAPI 2.0 requires it;
///   `oidc-provider` 9 accepts the issuer, the token endpoint or the endpoint called), a fresh
///   `jti` of [`CLIENT_ASSERTION_JTI_BYTES`] random bytes, `iat` = now and `exp` = now +
///   [`CLIENT_ASSERTION_LIFETIME_SECS`]. A new assertion is made for every request and never
///   reused. No `typ` is set: RFC 7523 defines none and
///   servers that predate RFC 7523bis's `client-authentication+jwt` may refuse a type they do
///   not know.
/// - `none`: `client_id` only (PKCE is then the only proof of the code's owner).
///
/// # Secrets
///
/// Client secrets are [`SecretString`]s and private keys come in as [`SecretBytes`] or a
/// [`SecretString`] PEM; `Debug` of [`ClientAuth`] shows the method, and of
/// [`ClientAssertionKey`] the algorithm and `kid`, never key or secret bytes. What one
/// request carries is built in `Zeroizing` buffers. ring keeps the parsed private key in its
/// own memory, which it does not wipe on drop.
///
/// # Example
///
/// ```
/// use paved_auth::oidc::{ClientAssertionKey, ClientAuth};
/// use paved_secrets::{SecretBytes, SecretString};
///
/// let auth = ClientAuth::client_secret_basic(SecretString::from("s3cr3t:with%odd+chars"));
/// assert_eq!(auth.method(), "client_secret_basic");
/// assert!(!format!("{auth:?}").contains("s3cr3t"));
///
/// # let rng = ring::rand::SystemRandom::new();
/// # let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
/// // A PKCS#8 key, e.g. from `SecretBytes::from_file(...)`:
/// let der = SecretBytes::from(pkcs8.as_ref());
/// let key = ClientAssertionKey::eddsa_from_pkcs8(&der, "client-key-1")?;
/// let jwk = key.public_jwk(); // register this at the identity provider
/// assert_eq!(jwk["kty"], "OKP");
/// let auth = ClientAuth::private_key_jwt(key);
/// assert_eq!(auth.method(), "private_key_jwt");
/// # Ok::<(), paved_auth::oidc::ClientAuthError>(())
/// ```
#[derive(Clone)]
pub struct ClientAuth(Kind);

#[derive(Clone)]
enum Kind {
    Basic(SecretString),
    Post(SecretString),
    PrivateKeyJwt(ClientAssertionKey),
    None,
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ClientAuth");
        s.field("method", &self.method());
        if let Kind::PrivateKeyJwt(key) = &self.0 {
            s.field("key", key);
        }
        s.finish_non_exhaustive()
    }
}

impl ClientAuth {
    /// `client_secret_basic`: the secret in an `Authorization: Basic` header, form-urlencoded
    /// first (RFC 6749 §2.3.1).
    #[must_use]
    pub fn client_secret_basic(secret: SecretString) -> Self {
        Self(Kind::Basic(secret))
    }

    /// `client_secret_post`: the secret in the form body (RFC 6749 §2.3.1).
    #[must_use]
    pub fn client_secret_post(secret: SecretString) -> Self {
        Self(Kind::Post(secret))
    }

    /// `private_key_jwt`: a fresh signed assertion per request (RFC 7523 §2.2, OIDC Core §9).
    #[must_use]
    pub fn private_key_jwt(key: ClientAssertionKey) -> Self {
        Self(Kind::PrivateKeyJwt(key))
    }

    /// `none`: a public client, identified by `client_id` and proven by PKCE only.
    #[must_use]
    pub fn none() -> Self {
        Self(Kind::None)
    }

    /// The method's registered name (`token_endpoint_auth_method`, RFC 7591 §2):
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    #[must_use]
    pub fn method(&self) -> &'static str {
        match self.0 {
            Kind::Basic(_) => "client_secret_basic",
            Kind::Post(_) => "client_secret_post",
            Kind::PrivateKeyJwt(_) => "private_key_jwt",
            Kind::None => "none",
        }
    }

    /// What one token/PAR/revocation request must carry for `client_id`; `audience` is the
    /// assertion's `aud` (pass the issuer identifier) and `now_unix` its `iat`. For
    /// `private_key_jwt` every call signs a new assertion with a new `jti`.
    ///
    /// # Errors
    ///
    /// [`ClientAuthError::EmptyClientId`], [`ClientAuthError::EmptySecret`],
    /// [`ClientAuthError::EmptyAudience`] (`private_key_jwt` only), and for `private_key_jwt`
    /// [`ClientAuthError::Random`] or [`ClientAuthError::Signing`].
    pub(crate) fn apply(
        &self,
        client_id: &str,
        audience: &str,
        now_unix: u64,
    ) -> Result<AppliedAuth, ClientAuthError> {
        if client_id.is_empty() {
            return Err(ClientAuthError::EmptyClientId);
        }
        let id = Zeroizing::new(client_id.to_owned());
        match &self.0 {
            Kind::Basic(secret) => {
                let secret = secret.expose_secret();
                if secret.is_empty() {
                    return Err(ClientAuthError::EmptySecret);
                }
                Ok(AppliedAuth {
                    authorization: Some(basic_authorization(client_id, secret)),
                    form: vec![("client_id", id)],
                })
            }
            Kind::Post(secret) => {
                let secret = secret.expose_secret();
                if secret.is_empty() {
                    return Err(ClientAuthError::EmptySecret);
                }
                Ok(AppliedAuth {
                    authorization: None,
                    form: vec![
                        ("client_id", id),
                        ("client_secret", Zeroizing::new(secret.to_owned())),
                    ],
                })
            }
            Kind::PrivateKeyJwt(key) => {
                if audience.is_empty() {
                    return Err(ClientAuthError::EmptyAudience);
                }
                let assertion = key.assertion(client_id, audience, now_unix)?;
                Ok(AppliedAuth {
                    authorization: None,
                    form: vec![
                        ("client_id", id),
                        (
                            "client_assertion_type",
                            Zeroizing::new(CLIENT_ASSERTION_TYPE.to_owned()),
                        ),
                        ("client_assertion", assertion),
                    ],
                })
            }
            Kind::None => Ok(AppliedAuth {
                authorization: None,
                form: vec![("client_id", id)],
            }),
        }
    }
}

/// What one token/PAR request must carry: an optional `Authorization` header value and form
/// members to add to the request body. Both are wiped when dropped.
pub(crate) struct AppliedAuth {
    /// The whole `Authorization` header value (`Basic …`), for `client_secret_basic`.
    pub(crate) authorization: Option<Zeroizing<String>>,
    /// Form members, `client_id` first.
    pub(crate) form: Vec<(&'static str, Zeroizing<String>)>,
}

impl fmt::Debug for AppliedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.form.iter().map(|(name, _)| *name).collect();
        f.debug_struct("AppliedAuth")
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[REDACTED]"),
            )
            .field("form", &names)
            .finish()
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, Appendix B), built in
/// buffers sized up front so no reallocation leaves a copy of the secret behind.
fn basic_authorization(client_id: &str, secret: &str) -> Zeroizing<String> {
    // Form-urlencoding turns one byte into at most three.
    let mut plain = Zeroizing::new(String::with_capacity(
        3 * (client_id.len() + secret.len()) + 1,
    ));
    plain.extend(url::form_urlencoded::byte_serialize(client_id.as_bytes()));
    plain.push(':');
    plain.extend(url::form_urlencoded::byte_serialize(secret.as_bytes()));
    let encoded_len = base64::encoded_len(plain.len(), true).unwrap_or(0);
    let mut header = Zeroizing::new(String::with_capacity("Basic ".len() + encoded_len));
    header.push_str("Basic ");
    STANDARD.encode_string(plain.as_bytes(), &mut header);
    header
}

/// A private key for `private_key_jwt` client assertions: P-256 (ES256) or Ed25519 (`EdDSA`),
/// with the `kid` under which its public half is registered at the identity provider. Cheap to
/// clone (the key is shared). `Debug` shows the algorithm and `kid` only.
#[derive(Clone)]
pub struct ClientAssertionKey(Arc<KeyInner>);

struct KeyInner {
    signer: Signer,
    kid: String,
}

enum Signer {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl fmt::Debug for ClientAssertionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertionKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl ClientAssertionKey {
    /// A P-256 key from an unencrypted PKCS#8 document (DER), signing ES256.
    ///
    /// # Errors
    ///
    /// [`ClientAuthError::InvalidKid`], or [`ClientAuthError::InvalidKey`] if `pkcs8_der` is
    /// not a P-256 PKCS#8 key.
    pub fn es256_from_pkcs8(pkcs8_der: &SecretBytes, kid: &str) -> Result<Self, ClientAuthError> {
        check_kid(kid)?;
        es256(pkcs8_der.expose_secret())
            .map(|pair| Self::new(Signer::Es256(pair), kid))
            .ok_or(ClientAuthError::InvalidKey)
    }

    /// An Ed25519 key from an unencrypted PKCS#8 document (DER; v1 as written by OpenSSL, or
    /// v2 with the public key, which is then checked), signing `EdDSA`.
    ///
    /// # Errors
    ///
    /// [`ClientAuthError::InvalidKid`], or [`ClientAuthError::InvalidKey`] if `pkcs8_der` is
    /// not an Ed25519 PKCS#8 key.
    pub fn eddsa_from_pkcs8(pkcs8_der: &SecretBytes, kid: &str) -> Result<Self, ClientAuthError> {
        check_kid(kid)?;
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8_der.expose_secret())
            .map(|pair| Self::new(Signer::EdDsa(pair), kid))
            .map_err(|_| ClientAuthError::InvalidKey)
    }

    /// A key from PEM text holding one unencrypted PKCS#8 `PRIVATE KEY` block (as written by
    /// `openssl genpkey`); the algorithm follows the key: P-256 → ES256, Ed25519 → `EdDSA`.
    /// Text before the block is ignored (OpenSSL writes explanatory lines there); anything but
    /// whitespace after it is refused.
    ///
    /// # Errors
    ///
    /// [`ClientAuthError::InvalidKid`]; [`ClientAuthError::InvalidPem`] for text that is not
    /// one PEM block; [`ClientAuthError::PemNotPkcs8`] for another PEM type (SEC1 `EC PRIVATE
    /// KEY`, encrypted PKCS#8, a public key, a certificate);
    /// [`ClientAuthError::UnsupportedKey`] for a PKCS#8 key that is neither P-256 nor
    /// Ed25519.
    pub fn from_pem(pem: &SecretString, kid: &str) -> Result<Self, ClientAuthError> {
        check_kid(kid)?;
        let der = pkcs8_der_from_pem(pem.expose_secret())?;
        if let Some(pair) = es256(&der) {
            return Ok(Self::new(Signer::Es256(pair), kid));
        }
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map(|pair| Self::new(Signer::EdDsa(pair), kid))
            .map_err(|_| ClientAuthError::UnsupportedKey)
    }

    fn new(signer: Signer, kid: &str) -> Self {
        Self(Arc::new(KeyInner {
            signer,
            kid: kid.to_owned(),
        }))
    }

    /// The JWS algorithm: `ES256` or `EdDSA`.
    #[must_use]
    pub fn alg(&self) -> &'static str {
        match self.0.signer {
            Signer::Es256(_) => "ES256",
            Signer::EdDsa(_) => "EdDSA",
        }
    }

    /// The key id sent in every assertion's header.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.0.kid
    }

    /// The public key as a JWK (RFC 7517; RFC 8037 for Ed25519) with `kid`, `alg` and
    /// `"use": "sig"`, to register at the identity provider (`jwks` client metadata).
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        match &self.0.signer {
            Signer::Es256(pair) => {
                // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = pair.public_key().as_ref();
                let x = point.get(1..33).unwrap_or_default();
                let y = point.get(33..65).unwrap_or_default();
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                    "kid": self.kid(),
                    "alg": "ES256",
                    "use": "sig",
                })
            }
            Signer::EdDsa(pair) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
                "kid": self.kid(),
                "alg": "EdDSA",
                "use": "sig",
            }),
        }
    }

    /// A new compact JWS client assertion (RFC 7523 §3).
    fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now_unix: u64,
    ) -> Result<Zeroizing<String>, ClientAuthError> {
        let jti = paved_crypto::random_token(CLIENT_ASSERTION_JTI_BYTES)
            .map_err(|_| ClientAuthError::Random)?;
        let header = json!({ "alg": self.alg(), "kid": self.kid() });
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": jti,
            "iat": now_unix,
            "exp": now_unix.saturating_add(CLIENT_ASSERTION_LIFETIME_SECS),
        });
        let mut jws = Zeroizing::new(String::new());
        URL_SAFE_NO_PAD.encode_string(header.to_string(), &mut jws);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(claims.to_string(), &mut jws);
        let signature = match &self.0.signer {
            Signer::Es256(pair) => pair
                .sign(&SystemRandom::new(), jws.as_bytes())
                .map_err(|_| ClientAuthError::Signing)?,
            Signer::EdDsa(pair) => pair.sign(jws.as_bytes()),
        };
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jws);
        Ok(jws)
    }
}

fn es256(der: &[u8]) -> Option<EcdsaKeyPair> {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new()).ok()
}

fn check_kid(kid: &str) -> Result<(), ClientAuthError> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || kid.chars().any(char::is_control) {
        Err(ClientAuthError::InvalidKid)
    } else {
        Ok(())
    }
}

/// The DER of the one `PRIVATE KEY` block in `pem` (RFC 7468 §10), in a wiped buffer.
fn pkcs8_der_from_pem(pem: &str) -> Result<Zeroizing<Vec<u8>>, ClientAuthError> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    const END: &str = "-----END PRIVATE KEY-----";
    if pem.len() > MAX_PEM_LEN {
        return Err(ClientAuthError::InvalidPem);
    }
    let start = pem.find(BEGIN).ok_or(ClientAuthError::InvalidPem)?;
    let after_begin = &pem[start + BEGIN.len()..];
    let label_len = after_begin
        .find(DASHES)
        .ok_or(ClientAuthError::InvalidPem)?;
    if &after_begin[..label_len] != "PRIVATE KEY" {
        return Err(ClientAuthError::PemNotPkcs8);
    }
    let rest = &after_begin[label_len + DASHES.len()..];
    let body_len = rest.find(END).ok_or(ClientAuthError::InvalidPem)?;
    if !rest[body_len + END.len()..].trim().is_empty() {
        return Err(ClientAuthError::InvalidPem);
    }
    let body = &rest[..body_len];
    let mut base64 = Zeroizing::new(String::with_capacity(body.len()));
    base64.extend(body.chars().filter(|c| !c.is_ascii_whitespace()));
    STANDARD
        .decode(base64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| ClientAuthError::InvalidPem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{Algorithm, JwtValidator, NoCustomClaims, VerificationKey};

    const CLIENT_ID: &str = "client:1 +%é";
    const ISSUER: &str = "https://idp.example";
    const NOW: u64 = 1_800_000_000;

    fn ed25519_key(kid: &str) -> ClientAssertionKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        ClientAssertionKey::eddsa_from_pkcs8(&SecretBytes::from(pkcs8.as_ref()), kid).unwrap()
    }

    fn es256_key(kid: &str) -> ClientAssertionKey {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        ClientAssertionKey::es256_from_pkcs8(&SecretBytes::from(pkcs8.as_ref()), kid).unwrap()
    }

    fn form(applied: &AppliedAuth) -> Vec<(&'static str, String)> {
        applied
            .form
            .iter()
            .map(|(k, v)| (*k, v.as_str().to_owned()))
            .collect()
    }

    #[test]
    fn oa_14_basic_form_urlencodes_id_and_secret_before_base64() {
        let secret = "a:b%c+d e\u{e9}/~*";
        let applied = ClientAuth::client_secret_basic(SecretString::from(secret))
            .apply("my client", ISSUER, NOW)
            .unwrap();
        // By hand (RFC 6749 Appendix B): space → '+', ':' → %3A, '%' → %25, '+' → %2B,
        // 'é' (C3 A9) → %C3%A9, '/' → %2F, '~' → %7E, '*' stays.
        let plain = "my+client:a%3Ab%25c%2Bd+e%C3%A9%2F%7E*";
        let expected = format!("Basic {}", STANDARD.encode(plain));
        assert_eq!(
            applied.authorization.as_deref().map(String::as_str),
            Some(expected.as_str())
        );
        // Decoding the header the way a server does gives back id and secret exactly.
        let b64 = expected.strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
        let (id, pw) = decoded.split_once(':').unwrap();
        let unform = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned()
        };
        assert_eq!(unform(id), "my client");
        assert_eq!(unform(pw), secret);
        // `client_id` goes in the body too (oidc-provider's PAR endpoint wants it).
        assert_eq!(form(&applied), vec![("client_id", "my client".to_owned())]);
    }

    #[test]
    fn oa_14_post_and_none_put_credentials_in_the_form_only() {
        let post = ClientAuth::client_secret_post(SecretString::from("p:ss"))
            .apply(CLIENT_ID, ISSUER, NOW)
            .unwrap();
        assert!(post.authorization.is_none());
        assert_eq!(
            form(&post),
            vec![
                ("client_id", CLIENT_ID.to_owned()),
                ("client_secret", "p:ss".to_owned())
            ]
        );
        let none = ClientAuth::none().apply(CLIENT_ID, ISSUER, NOW).unwrap();
        assert!(none.authorization.is_none());
        assert_eq!(form(&none), vec![("client_id", CLIENT_ID.to_owned())]);
    }

    #[test]
    fn empty_inputs_are_typed_errors() {
        let basic = ClientAuth::client_secret_basic(SecretString::from("x"));
        assert_eq!(
            basic.apply("", ISSUER, NOW).unwrap_err(),
            ClientAuthError::EmptyClientId
        );
        let empty = ClientAuth::client_secret_post(SecretString::from(""));
        assert_eq!(
            empty.apply("c", ISSUER, NOW).unwrap_err(),
            ClientAuthError::EmptySecret
        );
        let jwt = ClientAuth::private_key_jwt(ed25519_key("k"));
        assert_eq!(
            jwt.apply("c", "", NOW).unwrap_err(),
            ClientAuthError::EmptyAudience
        );
    }

    /// The assertion verifies with this crate's validator against `public_jwk()` and carries
    /// the RFC 7523 §3 claims.
    fn check_assertion(key: &ClientAssertionKey, alg: Algorithm) {
        let now = paved_crypto::Clock::now_unix(&paved_crypto::SystemClock);
        let applied = ClientAuth::private_key_jwt(key.clone())
            .apply(CLIENT_ID, ISSUER, now)
            .unwrap();
        assert!(applied.authorization.is_none());
        let fields = form(&applied);
        let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            ["client_id", "client_assertion_type", "client_assertion"]
        );
        assert_eq!(fields[0].1, CLIENT_ID);
        assert_eq!(fields[1].1, CLIENT_ASSERTION_TYPE);
        let jwt = &fields[2].1;

        let jwk = VerificationKey::from_jwk(&key.public_jwk().to_string()).unwrap();
        // The assertion's issuer is the client; its audience the authorization server.
        let validator = JwtValidator::builder(CLIENT_ID, ISSUER)
            .algorithms([alg])
            .key(jwk)
            .require_claims(["sub", "jti", "iat"])
            .build()
            .unwrap();
        let validated = validator
            .validate_now::<NoCustomClaims>(jwt)
            .unwrap()
            .unwrap();
        let std = validated.standard();
        assert_eq!(std.iss, CLIENT_ID);
        assert_eq!(std.sub.as_deref(), Some(CLIENT_ID));
        assert_eq!(std.aud, [ISSUER]);
        assert_eq!(std.iat, Some(now));
        assert_eq!(std.exp, now + CLIENT_ASSERTION_LIFETIME_SECS);
        assert_eq!(
            std.jti
                .as_deref()
                .map(|j| URL_SAFE_NO_PAD.decode(j).unwrap().len()),
            Some(CLIENT_ASSERTION_JTI_BYTES)
        );
        assert_eq!(validated.kid(), Some(key.kid()));
        assert_eq!(validated.algorithm(), alg);
        // `aud` is one string, not an array (RFC 7523bis).
        let payload = jwt.split('.').nth(1).unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["aud"], Value::String(ISSUER.to_owned()));
    }

    #[test]
    fn oa_14_private_key_jwt_es256_assertion_verifies_with_its_claims() {
        check_assertion(&es256_key("ec-1"), Algorithm::ES256);
    }

    #[test]
    fn oa_14_private_key_jwt_eddsa_assertion_verifies_with_its_claims() {
        check_assertion(&ed25519_key("ed-1"), Algorithm::EdDSA);
    }

    #[test]
    fn oa_14_every_assertion_is_fresh() {
        let auth = ClientAuth::private_key_jwt(es256_key("k"));
        let jti = |applied: &AppliedAuth| {
            let jwt = applied.form[2].1.as_str();
            let payload = jwt.split('.').nth(1).unwrap();
            let claims: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            claims["jti"].as_str().unwrap().to_owned()
        };
        let a = auth.apply("c", ISSUER, NOW).unwrap();
        let b = auth.apply("c", ISSUER, NOW).unwrap();
        assert_ne!(jti(&a), jti(&b));
        assert_ne!(a.form[2].1.as_str(), b.form[2].1.as_str());
    }

    #[test]
    fn applied_auth_debug_shows_no_values() {
        let applied = ClientAuth::client_secret_post(SecretString::from("SECRET-VALUE-42"))
            .apply("c", ISSUER, NOW)
            .unwrap();
        let debug = format!("{applied:?}");
        assert!(!debug.contains("SECRET-VALUE-42"), "{debug}");
        assert!(debug.contains("client_secret"), "{debug}");
    }
}
