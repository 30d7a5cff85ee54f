//! [`JwtValidator`]: the one entry point that turns a bearer string into [`Validated`] claims.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paved_crypto::{Clock, SystemClock};
use serde::de::{DeserializeOwned, MapAccess};

use crate::jwt::algorithm::{AlgSet, Algorithm};
use crate::jwt::cache::{self, TokenCache};
use crate::jwt::claims::{ClaimsSink, Field, MAX_REQUIRED_CLAIMS, StandardClaims};
use crate::jwt::error::{ConfigError, ForbiddenHeader, JwtError, TokenPart};
use crate::jwt::json::{self, StrictJsonError};
use crate::jwt::jwks::{JwksCache, Lookup};
use crate::jwt::keys::{KeySet, MAX_KID_LEN, VerificationKey};
use crate::jwt::provider;

/// The default clock-skew allowance for `exp`, `nbf` and `iat` (JW-28).
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The largest leeway accepted: 5 minutes, the Microsoft identity platform's default (JW-28).
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The default cap on a whole token: 64 KiB (JW-18).
pub const DEFAULT_MAX_TOKEN_LEN: usize = 64 * 1024;
/// The default cap on the encoded header: 8 KiB (JW-18; jwt-simple's header cap).
pub const DEFAULT_MAX_HEADER_LEN: usize = 8 * 1024;
/// The largest token cap accepted: 1 MiB (jwt-simple's default token cap).
pub const MAX_TOKEN_LEN_CEILING: usize = 1024 * 1024;
/// The largest header cap accepted: 64 KiB.
pub const MAX_HEADER_LEN_CEILING: usize = 64 * 1024;

/// A token that passed every check, with its typed claims.
///
/// `C` is the application's claims type (`C: DeserializeOwned`), deserialized from the same
/// payload as the [`StandardClaims`]; use [`NoCustomClaims`](crate::jwt::NoCustomClaims) when
/// the standard claims are enough. Cheap to clone (the claims are shared), and `Deref`s to `C`.
pub struct Validated<C>(Arc<ValidatedInner<C>>);

struct ValidatedInner<C> {
    claims: C,
    standard: StandardClaims,
    alg: Algorithm,
    kid: Option<String>,
    typ: Option<String>,
}

impl<C> Validated<C> {
    /// The application's claims.
    #[must_use]
    pub fn claims(&self) -> &C {
        &self.0.claims
    }

    /// The registered claims.
    #[must_use]
    pub fn standard(&self) -> &StandardClaims {
        &self.0.standard
    }

    /// The algorithm the signature was verified with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.0.alg
    }

    /// The `kid` of the key that verified the token, if the token named one.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.0.kid.as_deref()
    }

    /// The token's `typ` header, if any.
    #[must_use]
    pub fn typ(&self) -> Option<&str> {
        self.0.typ.as_deref()
    }
}

/// The registered claims of a validated token, whatever its claims type (for the scope
/// layer).
pub(crate) trait StandardView: Send + Sync {
    fn standard(&self) -> &StandardClaims;
}

impl<C: Send + Sync> StandardView for ValidatedInner<C> {
    fn standard(&self) -> &StandardClaims {
        &self.standard
    }
}

impl<C: Send + Sync + 'static> Validated<C> {
    pub(crate) fn standard_view(&self) -> Arc<dyn StandardView> {
        Arc::clone(&self.0) as Arc<dyn StandardView>
    }
}

impl<C> Clone for Validated<C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C> Deref for Validated<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.0.claims
    }
}

impl<C: fmt::Debug> fmt::Debug for Validated<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validated")
            .field("claims", &self.0.claims)
            .field("standard", &self.0.standard)
            .field("alg", &self.0.alg)
            .field("kid", &self.0.kid)
            .field("typ", &self.0.typ)
            .finish()
    }
}

#[derive(Clone)]
enum KeySource {
    Static(Arc<KeySet>),
    Jwks(JwksCache),
}

/// Validates JWTs (compact JWS) for one issuer and audience. Build it with
/// [`JwtValidator::builder`]; cheap to clone (clones share keys and caches).
///
/// [`validate`](Self::validate) runs, in this order, and stops at the first failure:
///
/// 1. **size caps** on the token and the header, before any decoding (JW-18);
/// 2. **shape**: compact form of exactly three non-empty segments (JW-05, JW-24);
/// 3. **base64url**: canonical, unpadded, no whitespace (JW-20);
/// 4. **header**: strict JSON (no duplicate members, JW-19), only `alg`, `kid`, `typ`, `cty`
///    (JW-08 … JW-12), `alg` not `none` (JW-01), `typ` as required (JW-17), no nested JWT;
/// 5. **algorithm** in the allow-list (JW-04), RS* only with the legacy opt-in;
/// 6. **key** chosen by `kid` from the key source (an unknown `kid` causes at most one
///    rate-limited JWKS refetch, JW-07), and the token's `alg` must be one the key is pinned to
///    (JW-02, JW-04);
/// 7. **signature** length for the algorithm (JW-22), then the signature (JW-03, JW-06);
/// 8. **claims**: strict JSON, types of the registered claims, `exp` (required), `nbf`, `iat`
///    with the leeway (JW-13, JW-14, JW-28), `iss` (JW-15), `aud` (JW-16), the required claims,
///    then the application's claims type.
#[derive(Clone)]
pub struct JwtValidator(Arc<Inner>);

struct Inner {
    issuer: Box<str>,
    audiences: Box<[Box<str>]>,
    allowed: AlgSet,
    typ: Option<Box<str>>,
    leeway: u64,
    required: Box<[Box<str>]>,
    clock: Arc<dyn Clock>,
    keys: KeySource,
    max_token: usize,
    max_header: usize,
    ignored_headers: Box<[Box<str>]>,
    cache: Option<TokenCache>,
}

impl fmt::Debug for JwtValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        f.debug_struct("JwtValidator")
            .field("issuer", &inner.issuer)
            .field("audiences", &inner.audiences)
            .field("algorithms", &inner.allowed)
            .field("typ", &inner.typ)
            .field("leeway_secs", &inner.leeway)
            .field("required_claims", &inner.required)
            .field(
                "keys",
                &match &inner.keys {
                    KeySource::Static(set) => format!("{} static keys", set.len()),
                    KeySource::Jwks(_) => "JWKS".to_owned(),
                },
            )
            .field(
                "verified_token_cache",
                &inner.cache.as_ref().map(TokenCache::capacity),
            )
            .finish_non_exhaustive()
    }
}

/// Reads the header in one pass: the four members this crate reads, and the first member
/// outside the allow-list (and the configured ignored members).
struct HeaderSink<'a> {
    ignored: &'a [Box<str>],
    alg: Field<Result<Algorithm, JwtError>>,
    kid: Field<String>,
    typ: Field<String>,
    cty: Field<String>,
    forbidden: Option<ForbiddenHeader>,
}

impl<'a> HeaderSink<'a> {
    fn new(ignored: &'a [Box<str>]) -> Self {
        Self {
            ignored,
            alg: Field::Absent,
            kid: Field::Absent,
            typ: Field::Absent,
            cty: Field::Absent,
            forbidden: None,
        }
    }
}

impl<'de> json::Sink<'de> for HeaderSink<'_> {
    fn member<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: json::Ctx<'_>,
    ) -> Result<(), A::Error> {
        let slot = match key {
            "alg" => {
                let alg = json::map_str(map, ctx, |name| {
                    if name.eq_ignore_ascii_case("none") {
                        Err(JwtError::AlgNone)
                    } else {
                        Algorithm::from_name(name).ok_or(JwtError::UnknownAlgorithm)
                    }
                })?;
                self.alg = Field::from_read(alg);
                return Ok(());
            }
            "kid" => &mut self.kid,
            "typ" => &mut self.typ,
            "cty" => &mut self.cty,
            other => {
                json::skip(map, ctx)?;
                if self.forbidden.is_none() && !self.ignored.iter().any(|h| &**h == other) {
                    self.forbidden = Some(ForbiddenHeader::classify(other));
                }
                return Ok(());
            }
        };
        *slot = Field::from_read(json::string(map, ctx)?);
        Ok(())
    }
}

/// The header members this crate reads.
struct Header {
    alg: Algorithm,
    kid: Option<String>,
    typ: Option<String>,
}

/// A token that passed the checks before crypto.
struct Prechecked<'t> {
    header: Header,
    signing_input: &'t str,
    signature_b64: &'t str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn header_member<T>(field: Field<T>, name: &'static str) -> Result<Option<T>, JwtError> {
    match field {
        Field::Invalid => Err(JwtError::InvalidHeader(name)),
        Field::Absent => Ok(None),
        Field::Present(v) => Ok(Some(v)),
    }
}

fn json_error(part: TokenPart) -> impl Fn(StrictJsonError) -> JwtError {
    move |e| match e {
        StrictJsonError::Syntax => JwtError::InvalidJson(part),
        StrictJsonError::Duplicate => JwtError::DuplicateMember(part),
        StrictJsonError::TooDeep => JwtError::TooDeep(part),
    }
}

/// A media type as RFC 7515 §4.1.9 compares it: case-insensitive, `application/` optional.
fn normalise_typ(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) if !rest.contains('/') => rest.to_owned(),
        _ => lower,
    }
}

fn decode_segment(segment: &str, part: TokenPart) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::InvalidBase64(part))
}

enum Step<'t, C> {
    Done(Result<Validated<C>, JwtError>),
    NeedKeys(Prechecked<'t>, Option<cache::Digest>),
}

impl JwtValidator {
    /// A builder for tokens issued by `issuer` (compared byte for byte with `iss`) for
    /// `audience` (one of the token's `aud` values).
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> JwtValidatorBuilder {
        JwtValidatorBuilder::new(issuer.into(), audience.into())
    }

    /// The issuer this validator accepts.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// Validates `token` (the bearer string, without the `Bearer ` prefix).
    ///
    /// With static keys the future is ready at its first poll; with a [`JwksCache`] it may
    /// fetch the issuer's key set (single flight, rate-limited, bounded by the fetch timeout).
    ///
    /// # Errors
    ///
    /// The first failed check, as a [`JwtError`]; see the type for the order.
    pub async fn validate<C>(&self, token: &str) -> Result<Validated<C>, JwtError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        match self.begin::<C>(token) {
            Step::Done(result) => result,
            Step::NeedKeys(pre, digest) => {
                let KeySource::Jwks(jwks) = &self.0.keys else {
                    return Err(JwtError::UnknownKey);
                };
                let key = jwks
                    .lookup(pre.header.kid.as_deref(), pre.header.alg)
                    .await?;
                self.finish(pre, &key, digest)
            }
        }
    }

    /// Validation without waiting: `None` when the keys must be fetched first.
    pub(crate) fn validate_now<C>(&self, token: &str) -> Option<Result<Validated<C>, JwtError>>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        match self.begin::<C>(token) {
            Step::Done(result) => Some(result),
            Step::NeedKeys(..) => None,
        }
    }

    fn begin<'t, C>(&self, token: &'t str) -> Step<'t, C>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        let inner = &*self.0;
        if token.len() > inner.max_token {
            return Step::Done(Err(JwtError::TooLarge {
                max: inner.max_token,
            }));
        }
        let digest = inner.cache.as_ref().map(|c| (c, TokenCache::digest(token)));
        if let Some((cache, digest)) = &digest {
            let now = inner.clock.now_unix();
            if let Some(hit) = cache.get::<ValidatedInner<C>>(digest, now) {
                return Step::Done(Ok(Validated(hit)));
            }
        }
        let digest = digest.map(|(_, d)| d);
        let pre = match self.precheck(token) {
            Ok(pre) => pre,
            Err(e) => return Step::Done(Err(e)),
        };
        let (kid, alg) = (pre.header.kid.as_deref(), pre.header.alg);
        let found = match &inner.keys {
            KeySource::Static(set) => set.find(kid, alg).cloned(),
            KeySource::Jwks(jwks) => match jwks.lookup_now(kid, alg) {
                Lookup::Ready(result) => result,
                Lookup::Fetch => return Step::NeedKeys(pre, digest),
            },
        };
        Step::Done(found.and_then(|key| self.finish(pre, &key, digest)))
    }

    /// Steps 1–7 with static keys, no claims: for the RFC example tokens.
    pub(crate) fn verify_signature_only(&self, token: &str) -> Result<Algorithm, JwtError> {
        let pre = self.precheck(token)?;
        let KeySource::Static(set) = &self.0.keys else {
            return Err(JwtError::UnknownKey);
        };
        let key = set.find(pre.header.kid.as_deref(), pre.header.alg)?;
        Self::check_signature(&pre, key)?;
        Ok(pre.header.alg)
    }

    fn check_signature(pre: &Prechecked<'_>, key: &VerificationKey) -> Result<(), JwtError> {
        let alg = pre.header.alg;
        if !key.alg_set().contains(alg) {
            return Err(JwtError::AlgorithmKeyMismatch {
                alg,
                key: key.family(),
            });
        }
        let expected = key.signature_len(alg);
        if pre.signature.len() != expected {
            return Err(JwtError::SignatureLength {
                alg,
                expected,
                actual: pre.signature.len(),
            });
        }
        let valid = provider::verify(
            alg.to_jsonwebtoken(),
            key.decoding(),
            pre.signing_input.as_bytes(),
            &pre.signature,
            pre.signature_b64,
        )
        .map_err(|()| JwtError::Provider)?;
        if valid {
            Ok(())
        } else {
            Err(JwtError::InvalidSignature)
        }
    }

    /// Steps 1–5: everything before a key is chosen.
    fn precheck<'t>(&self, token: &'t str) -> Result<Prechecked<'t>, JwtError> {
        let inner = &*self.0;
        if token.is_empty() {
            return Err(JwtError::Empty);
        }
        if token.len() > inner.max_token {
            return Err(JwtError::TooLarge {
                max: inner.max_token,
            });
        }
        if token.starts_with('{') {
            return Err(JwtError::JsonSerialization);
        }
        // Exactly two dots (`str::split_once` searches with memchr); four is a JWE.
        let (header_b64, rest) = token.split_once('.').ok_or(JwtError::NotCompact)?;
        let (payload_b64, signature_b64) = rest.split_once('.').ok_or(JwtError::NotCompact)?;
        if signature_b64.contains('.') {
            return Err(if signature_b64.matches('.').count() == 2 {
                JwtError::Encrypted
            } else {
                JwtError::NotCompact
            });
        }
        for (segment, part) in [
            (header_b64, TokenPart::Header),
            (payload_b64, TokenPart::Payload),
            (signature_b64, TokenPart::Signature),
        ] {
            if segment.is_empty() {
                return Err(JwtError::EmptySegment(part));
            }
        }
        if header_b64.len() > inner.max_header {
            return Err(JwtError::HeaderTooLarge {
                max: inner.max_header,
            });
        }
        // The header is read here and not kept: small ones are decoded on the stack.
        let mut stack = [0u8; 768];
        let header = if header_b64.len() <= 1024 {
            let len = URL_SAFE_NO_PAD
                .decode_slice(header_b64, &mut stack)
                .map_err(|_| JwtError::InvalidBase64(TokenPart::Header))?;
            self.parse_header(&stack[..len])?
        } else {
            self.parse_header(&decode_segment(header_b64, TokenPart::Header)?)?
        };
        let payload = decode_segment(payload_b64, TokenPart::Payload)?;
        let signature = decode_segment(signature_b64, TokenPart::Signature)?;
        let alg = header.alg;
        if !inner.allowed.contains(alg) {
            return Err(if alg.is_legacy_rsa_pkcs1() {
                JwtError::LegacyAlgorithmNotEnabled(alg)
            } else {
                JwtError::AlgorithmNotAllowed(alg)
            });
        }
        if let Some(required) = &inner.typ {
            let ok = header
                .typ
                .as_deref()
                .is_some_and(|t| normalise_typ(t) == **required);
            if !ok {
                return Err(JwtError::WrongType);
            }
        }
        Ok(Prechecked {
            header,
            signing_input: &token[..header_b64.len() + 1 + payload_b64.len()],
            signature_b64,
            payload,
            signature,
        })
    }

    fn parse_header(&self, bytes: &[u8]) -> Result<Header, JwtError> {
        let sink = json::parse_object_with(bytes, HeaderSink::new(&self.0.ignored_headers))
            .map_err(json_error(TokenPart::Header))?;
        if let Some(member) = sink.forbidden {
            return Err(JwtError::HeaderNotAllowed(member));
        }
        let alg = header_member(sink.alg, "alg")?.ok_or(JwtError::InvalidHeader("alg"))?;
        let kid = header_member(sink.kid, "kid")?;
        let typ = header_member(sink.typ, "typ")?;
        if header_member(sink.cty, "cty")?.is_some_and(|cty| normalise_typ(&cty) == "jwt") {
            return Err(JwtError::NestedToken);
        }
        let alg = alg?;
        if kid.as_ref().is_some_and(|k| k.len() > MAX_KID_LEN) {
            return Err(JwtError::KidTooLong);
        }
        Ok(Header { alg, kid, typ })
    }

    /// Steps 6–8 once a key is chosen.
    fn finish<C>(
        &self,
        pre: Prechecked<'_>,
        key: &VerificationKey,
        digest: Option<cache::Digest>,
    ) -> Result<Validated<C>, JwtError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        let inner = &*self.0;
        let alg = pre.header.alg;
        Self::check_signature(&pre, key)?;

        let sink = json::parse_object_with(&pre.payload, ClaimsSink::new(&inner.required))
            .map_err(json_error(TokenPart::Payload))?;
        let (standard, missing) = sink.finish()?;
        let now = inner.clock.now_unix();
        let leeway = inner.leeway;
        if now >= standard.exp.saturating_add(leeway) {
            return Err(JwtError::Expired);
        }
        if standard
            .nbf
            .is_some_and(|nbf| now.saturating_add(leeway) < nbf)
        {
            return Err(JwtError::NotYetValid);
        }
        if standard
            .iat
            .is_some_and(|iat| iat > now.saturating_add(leeway))
        {
            return Err(JwtError::IssuedInFuture);
        }
        if standard.iss != *inner.issuer {
            return Err(JwtError::WrongIssuer);
        }
        if !standard
            .aud
            .iter()
            .any(|a| inner.audiences.iter().any(|ours| **ours == **a))
        {
            return Err(JwtError::WrongAudience);
        }
        if let Some(missing) = missing {
            return Err(JwtError::MissingClaim(missing));
        }
        let custom = serde_json::from_slice::<C>(&pre.payload).map_err(|e| {
            tracing::debug!(error = %e, "paved-auth: claims do not fit the claims type");
            JwtError::CustomClaims
        })?;
        let exp_plus_leeway = standard.exp.saturating_add(leeway);
        let not_before = standard.nbf.map(|nbf| nbf.saturating_sub(leeway));
        let validated = Arc::new(ValidatedInner {
            claims: custom,
            standard,
            alg,
            kid: pre.header.kid,
            typ: pre.header.typ,
        });
        if let (Some(cache), Some(digest)) = (&inner.cache, digest) {
            cache.insert(
                digest,
                Arc::clone(&validated),
                now,
                exp_plus_leeway,
                not_before,
            );
        }
        Ok(Validated(validated))
    }
}

fn check_ignored_headers(names: &[String]) -> Result<(), ConfigError> {
    for name in names {
        if matches!(name.as_str(), "alg" | "kid" | "typ" | "cty") {
            return Err(ConfigError::HeaderAlreadyHandled);
        }
        let class = ForbiddenHeader::classify(name);
        if class.is_dangerous() {
            return Err(ConfigError::HeaderNeverAllowed(class));
        }
    }
    Ok(())
}

fn build_cache((capacity, ttl): (usize, Duration)) -> Result<TokenCache, ConfigError> {
    if !(1..=cache::MAX_CACHE_CAPACITY).contains(&capacity) {
        return Err(ConfigError::OutOfRange("cache capacity"));
    }
    if !(1..=cache::MAX_CACHE_TTL_SECS).contains(&ttl.as_secs()) {
        return Err(ConfigError::OutOfRange("cache ttl"));
    }
    Ok(TokenCache::new(capacity, ttl.as_secs()))
}

/// Builds a [`JwtValidator`]; errors are reported by [`build`](Self::build).
#[must_use = "a builder does nothing until `build` is called"]
pub struct JwtValidatorBuilder {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    legacy: bool,
    typ: Option<String>,
    leeway: Duration,
    required: Vec<String>,
    clock: Arc<dyn Clock>,
    keys: Vec<VerificationKey>,
    key_set: Option<KeySet>,
    jwks: Option<JwksCache>,
    max_token: usize,
    max_header: usize,
    ignored_headers: Vec<String>,
    cache: Option<(usize, Duration)>,
}

impl fmt::Debug for JwtValidatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtValidatorBuilder")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .field("legacy_rsa_pkcs1", &self.legacy)
            .finish_non_exhaustive()
    }
}

impl JwtValidatorBuilder {
    fn new(issuer: String, audience: String) -> Self {
        Self {
            issuer,
            audiences: vec![audience],
            algorithms: Algorithm::DEFAULT_ALLOWED.to_vec(),
            legacy: false,
            typ: None,
            leeway: DEFAULT_LEEWAY,
            required: Vec::new(),
            clock: Arc::new(SystemClock),
            keys: Vec::new(),
            key_set: None,
            jwks: None,
            max_token: DEFAULT_MAX_TOKEN_LEN,
            max_header: DEFAULT_MAX_HEADER_LEN,
            ignored_headers: Vec::new(),
            cache: None,
        }
    }

    /// Replaces the allow-list of algorithms (default: [`Algorithm::DEFAULT_ALLOWED`]).
    /// Listing RS256/RS384/RS512 needs [`allow_legacy_rsa_pkcs1`](Self::allow_legacy_rsa_pkcs1)
    /// as well; HMAC algorithms need a locally configured HMAC key.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// **Legacy opt-in**: also accept RS256, RS384 and RS512 (RSASSA-PKCS1-v1_5).
    ///
    /// ASVS 5.0 (Appendix C, v5.0.0-11.6.1) marks PKCS#1 v1.5 signatures as disallowed; PSS
    /// (PS256) and ECDSA (ES256) are the approved replacements. Many identity providers still
    /// sign ID and access tokens with RS256 by default: prefer configuring the provider to sign
    /// with PS256 or ES256, and use this call when that is not possible.
    pub fn allow_legacy_rsa_pkcs1(mut self) -> Self {
        self.legacy = true;
        self
    }

    /// Requires the `typ` header to be `typ`, compared as RFC 7515 §4.1.9 says (case-insensitive,
    /// `application/` optional): e.g. `"at+jwt"` for RFC 9068 access tokens, which keeps ID
    /// tokens and other JWTs from being accepted as access tokens (JW-17).
    pub fn require_typ(mut self, typ: &str) -> Self {
        self.typ = Some(typ.to_owned());
        self
    }

    /// The clock-skew allowance for `exp`, `nbf` and `iat` (default [`DEFAULT_LEEWAY`], at most
    /// [`MAX_LEEWAY`]).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Claims that must be present and not `null` (in addition to `exp`, `iss` and `aud`,
    /// which always are).
    pub fn require_claims<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required.extend(names.into_iter().map(Into::into));
        self
    }

    /// Accepts tokens for `audience` too (for an API reachable under two identifiers).
    pub fn also_accept_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The clock for `exp`/`nbf`/`iat` and the verified-token cache (default: the system
    /// clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds one static key.
    pub fn key(mut self, key: VerificationKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Uses a static key set.
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.key_set = Some(keys);
        self
    }

    /// Uses the issuer's remote key set through a [`JwksCache`].
    pub fn jwks(mut self, jwks: JwksCache) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// The cap on a whole token in bytes (default [`DEFAULT_MAX_TOKEN_LEN`], at most
    /// [`MAX_TOKEN_LEN_CEILING`]).
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token = max;
        self
    }

    /// The cap on the encoded header in bytes (default [`DEFAULT_MAX_HEADER_LEN`], at most
    /// [`MAX_HEADER_LEN_CEILING`]).
    pub fn max_header_len(mut self, max: usize) -> Self {
        self.max_header = max;
        self
    }

    /// Tolerates (and ignores) the header member `name`, for issuers that add informational
    /// members such as `x5t` (Microsoft Entra). The dangerous members (`jku`, `x5u`, `jwk`,
    /// `x5c`, `crit`, `b64`, JWE members) can never be allowed: [`build`](Self::build) refuses
    /// them.
    pub fn allow_ignored_header(mut self, name: &str) -> Self {
        self.ignored_headers.push(name.to_owned());
        self
    }

    /// Caches fully validated tokens: at most `capacity` entries, each for at most `ttl` (and
    /// never past the token's `exp`). A hit skips the signature check but not the time checks.
    /// Capacity 1 to 1 000 000, ttl 1 s to 10 min.
    pub fn cache_verified_tokens(mut self, capacity: usize, ttl: Duration) -> Self {
        self.cache = Some((capacity, ttl));
        self
    }

    /// The validator.
    ///
    /// # Errors
    ///
    /// - [`ConfigError::EmptyIssuer`], [`ConfigError::EmptyAudience`];
    /// - [`ConfigError::NoAlgorithms`], [`ConfigError::LegacyAlgorithmWithoutOptIn`];
    /// - [`ConfigError::LeewayTooLarge`]; [`ConfigError::OutOfRange`] for the size caps and
    ///   the cache settings;
    /// - [`ConfigError::NoKeySource`], [`ConfigError::ConflictingKeySources`],
    ///   [`ConfigError::DuplicateKeyId`], [`ConfigError::KeyAlgorithmNotAllowed`];
    /// - [`ConfigError::HeaderNeverAllowed`], [`ConfigError::HeaderAlreadyHandled`].
    pub fn build(self) -> Result<JwtValidator, ConfigError> {
        let Self {
            issuer,
            audiences,
            algorithms,
            legacy,
            typ,
            leeway,
            required,
            clock,
            keys,
            key_set,
            jwks,
            max_token,
            max_header,
            ignored_headers,
            cache,
        } = self;
        if issuer.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        if audiences.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyAudience);
        }
        if let Some(alg) = algorithms
            .iter()
            .find(|a| a.is_legacy_rsa_pkcs1() && !legacy)
        {
            return Err(ConfigError::LegacyAlgorithmWithoutOptIn(*alg));
        }
        let mut allowed = AlgSet::of(algorithms.iter().copied());
        if legacy {
            allowed = Algorithm::LEGACY_RSA_PKCS1
                .into_iter()
                .fold(allowed, AlgSet::with);
        }
        if allowed.is_empty() {
            return Err(ConfigError::NoAlgorithms);
        }
        if required.len() > MAX_REQUIRED_CLAIMS {
            return Err(ConfigError::OutOfRange("required claims"));
        }
        if leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge);
        }
        if !(1..=MAX_TOKEN_LEN_CEILING).contains(&max_token) {
            return Err(ConfigError::OutOfRange("max_token_len"));
        }
        if !(1..=MAX_HEADER_LEN_CEILING).contains(&max_header) {
            return Err(ConfigError::OutOfRange("max_header_len"));
        }
        check_ignored_headers(&ignored_headers)?;
        let cache = cache.map(build_cache).transpose()?;
        let keys = match (key_set, keys.is_empty(), jwks) {
            (None, true, None) => return Err(ConfigError::NoKeySource),
            (Some(set), true, None) => KeySource::Static(Arc::new(set)),
            (None, false, None) => KeySource::Static(Arc::new(
                keys.into_iter().try_fold(KeySet::new(), KeySet::with)?,
            )),
            // Keys are fetched later; the allow-list narrows what they may verify.
            (None, true, Some(jwks)) => KeySource::Jwks(jwks),
            _ => return Err(ConfigError::ConflictingKeySources),
        };
        if let KeySource::Static(set) = &keys
            && let Some(key) = set
                .iter()
                .find(|k| k.alg_set().intersect(allowed).is_empty())
        {
            let alg = key.algorithms().next().unwrap_or(Algorithm::ES256);
            return Err(ConfigError::KeyAlgorithmNotAllowed(alg));
        }
        provider::install_crypto_provider();
        Ok(JwtValidator(Arc::new(Inner {
            issuer: issuer.into(),
            audiences: audiences.into_iter().map(Into::into).collect(),
            allowed,
            typ: typ.map(|t| normalise_typ(&t).into()),
            leeway: leeway.as_secs(),
            required: required.into_iter().map(Into::into).collect(),
            clock,
            keys,
            max_token,
            max_header,
            ignored_headers: ignored_headers.into_iter().map(Into::into).collect(),
            cache,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_comparison_follows_rfc_7515() {
        assert_eq!(normalise_typ("application/AT+JWT"), "at+jwt");
        assert_eq!(normalise_typ("at+jwt"), "at+jwt");
        assert_eq!(normalise_typ("JWT"), "jwt");
        assert_eq!(normalise_typ("application/x/y"), "application/x/y");
    }
}
