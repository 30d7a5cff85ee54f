//! The misbehaviours the server can be asked for, one enum per endpoint family.
//!
//! Every knob is armed with a [`Shots`] count: [`Shots::Always`] keeps it until
//! [`HostileAs::clear_faults`](super::HostileAs::clear_faults) or until another fault is set for
//! the same endpoint; [`Shots::Next(n)`](Shots::Next) fires on the next `n` requests *to which
//! it applies* and then disarms itself (a refresh-only fault is not used up by a code exchange).
//! One fault per endpoint is armed at a time; setting another replaces it.

use std::time::Duration;

/// How many times an armed fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shots {
    /// On the next `n` requests it applies to, then the endpoint is honest again. `Next(0)`
    /// disarms.
    Next(u32),
    /// On every request it applies to, until cleared or replaced.
    Always,
}

impl Shots {
    /// The next applicable request only.
    pub const ONCE: Self = Self::Next(1);
}

/// An armed fault and how many shots it has left.
#[derive(Debug, Clone)]
pub(crate) struct Armed<T> {
    fault: T,
    shots: Shots,
}

impl<T: Clone> Armed<T> {
    pub(crate) fn new(fault: T, shots: Shots) -> Option<Self> {
        (shots != Shots::Next(0)).then_some(Self { fault, shots })
    }

    /// The fault if `slot` holds one for which `applies` is true; a shot is used up.
    pub(crate) fn take(slot: &mut Option<Self>, applies: impl Fn(&T) -> bool) -> Option<T> {
        let armed = slot.as_mut()?;
        if !applies(&armed.fault) {
            return None;
        }
        let fault = armed.fault.clone();
        match armed.shots {
            Shots::Always => {}
            Shots::Next(n) if n <= 1 => *slot = None,
            Shots::Next(n) => armed.shots = Shots::Next(n - 1),
        }
        Some(fault)
    }
}

/// Transport-level misbehaviour, available on the discovery document, `/jwks`, `/token`
/// ([`TokenFault::Transport`]), `/userinfo` ([`UserinfoFault::Transport`]) and `/par`.
///
/// Except for [`Delay`](Self::Delay) and [`WrongContentType`](Self::WrongContentType), the fault
/// *replaces* the answer: on `/token` and `/par` the request is then not processed (a code or
/// refresh token presented is not used up).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportFault {
    /// Answer with this status and `{"error":"server_error"}` (a status outside 100–999 is sent
    /// as 500).
    Status(u16),
    /// Answer 200 with `Content-Type: application/json` and an HTML body.
    NonJson,
    /// The honest answer, with `Content-Type: text/html` (the client must require JSON,
    /// OA-19).
    WrongContentType,
    /// Answer `302 Found` with `Location: <url>` (a client must not follow it, OA-19). Point it
    /// at a second [`HostileAs`](super::HostileAs) to prove nothing arrived there.
    Redirect(String),
    /// Answer 200 with a 100 MiB JSON body ([`HUGE_BODY_LEN`](super::HUGE_BODY_LEN): whitespace
    /// then `{}`, so it is valid JSON for whoever reads it all). It is streamed from one static
    /// chunk, never allocated. With `declared_length` the `Content-Length` is sent (a client
    /// can refuse it before reading); without it the body is chunked (the client must count).
    HugeBody {
        /// Whether `Content-Length` is sent.
        declared_length: bool,
    },
    /// Answer 200 and then send one byte of the body every `every` (slowloris in reverse), for
    /// at most [`SLOW_BODY_MAX_BYTES`](super::SLOW_BODY_MAX_BYTES) bytes. The stream stops as
    /// soon as the client goes away: see
    /// [`HostileAs::streaming_bodies`](super::HostileAs::streaming_bodies).
    SlowBody {
        /// The pause before each byte.
        every: Duration,
    },
    /// Sleep this long, then give the honest answer.
    Delay(Duration),
    /// Process the request honestly (a code is used up, a refresh token rotated), then sleep
    /// this long before answering: a client that gives up meanwhile loses the answer.
    DelayAfterProcessing(Duration),
}

/// Which `/token` requests a [`TokenFault`] applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantFilter {
    /// Every `/token` request.
    Any,
    /// `grant_type=authorization_code` only.
    AuthorizationCode,
    /// `grant_type=refresh_token` only.
    RefreshToken,
}

impl GrantFilter {
    pub(crate) fn matches(self, grant_type: Option<&str>) -> bool {
        match self {
            Self::Any => true,
            Self::AuthorizationCode => grant_type == Some("authorization_code"),
            Self::RefreshToken => grant_type == Some("refresh_token"),
        }
    }
}

/// Misbehaviour of the token endpoint (RFC 6749 §5.1 response shape, OA-15/OA-17/OA-19).
///
/// The shape faults (`ExpiresInString` … `ExtraFields`) process the grant honestly and then
/// alter the JSON; the error and transport faults answer without processing it (except
/// [`TransportFault::Delay`] and [`TransportFault::WrongContentType`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenFault {
    /// `"expires_in": "3600"`, a string (Azure AD does this; clients must accept it, OA-15).
    ExpiresInString,
    /// `"token_type": "bearer"` (legal: the type is case-insensitive, RFC 6749 §5.1).
    TokenTypeLowercase,
    /// `"token_type": "mac"` (not a type the client asked for: must be refused).
    TokenTypeMac,
    /// No `access_token` member (must be refused).
    NoAccessToken,
    /// No `refresh_token` member (legal).
    NoRefreshToken,
    /// Unknown members (`"x_hostile_object": {…}`, `"not-before-policy": 0`,
    /// `"refresh_expires_in": 1800`) that must be ignored.
    ExtraFields,
    /// `400 {"error":"invalid_grant"}` (with [`GrantFilter::RefreshToken`] and
    /// [`Shots::ONCE`]: "the next refresh fails"; the client must end the session, OA-17).
    InvalidGrant,
    /// Any OAuth error answer: `status` with `{"error": error}`.
    OAuthError {
        /// The HTTP status (outside 100–999 it is sent as 400).
        status: u16,
        /// The `error` code.
        error: String,
    },
    /// A transport fault (500, non-JSON, wrong content type, redirect, huge or slow body, delay).
    Transport(TransportFault),
}

/// Misbehaviour of the ID tokens the token endpoint mints (OIDC Core §3.1.3.7, §12.2; OA-05,
/// OA-16, OA-18, OA-28). Apart from the named signature faults, the token is validly signed by
/// the current key, so only the named check can catch it.
///
/// Faults whose name ends in `OnRefresh` apply to ID tokens minted by the refresh grant only
/// (a code exchange does not use up their shots); the others apply to every ID token minted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenFault {
    /// `nonce` is not the one sent to `/authorize`.
    WrongNonce,
    /// No `nonce` although one was sent.
    MissingNonce,
    /// `aud` is another client.
    WrongAud,
    /// `aud` is `[client_id, "https://other-rp.hostile.test"]` without `azp`.
    ExtraAudWithoutAzp,
    /// `aud` is `[client_id, "https://other-rp.hostile.test"]` and `azp` names another client.
    WrongAzp,
    /// `iss` is another issuer (`<issuer>/evil`).
    WrongIss,
    /// `{"alg":"none"}` with an empty signature (JW-01).
    AlgNone,
    /// `{"alg":"HS256"}` with the current key's `kid`, the HMAC keyed with the server's public
    /// key in the given form (key confusion, JW-02).
    KeyConfusionHs256(PublicKeyForm),
    /// A valid token with one bit of the signature flipped.
    BadSignature,
    /// `exp` an hour in the past (`iat` two hours).
    Expired,
    /// `iat` an hour in the future (and `exp` ten minutes after that).
    IatInFuture,
    /// Signed by a key that is not in the JWKS, under a key id that is not either
    /// (`hostile-unpublished`); a refetch does not help.
    UnpublishedKey,
    /// Signed by a key that is not in the JWKS, under the `kid` of the published current key.
    ForeignKeySameKid,
    /// Validly signed by the current key, but the header has no `kid` (OA-28: acceptable only
    /// when exactly one published key fits).
    NoKid,
    /// The refreshed ID token has another `sub` (OIDC Core §12.2).
    ChangedSubOnRefresh,
    /// The refreshed ID token has another `iss`.
    ChangedIssOnRefresh,
    /// The refreshed ID token has another `aud`.
    ChangedAudOnRefresh,
    /// The refreshed ID token carries a `nonce` different from the original one.
    DifferentNonceOnRefresh,
    /// The refreshed ID token has another `auth_time` (one minute later).
    ChangedAuthTimeOnRefresh,
    /// The refresh response has no `id_token` (legal: OIDC Core §12.2 makes it optional).
    NoIdTokenOnRefresh,
}

impl IdTokenFault {
    /// Whether the fault concerns refreshed ID tokens only.
    #[must_use]
    pub fn on_refresh_only(&self) -> bool {
        matches!(
            self,
            Self::ChangedSubOnRefresh
                | Self::ChangedIssOnRefresh
                | Self::ChangedAudOnRefresh
                | Self::DifferentNonceOnRefresh
                | Self::ChangedAuthTimeOnRefresh
                | Self::NoIdTokenOnRefresh
        )
    }
}

/// The bytes of the server's public key used as an HMAC secret by
/// [`IdTokenFault::KeyConfusionHs256`] (the forms `jwt_tool` tries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKeyForm {
    /// The PEM `PUBLIC KEY` text.
    Pem,
    /// The DER `SubjectPublicKeyInfo`.
    Der,
    /// The JWK as served in `/jwks`, serialised as JSON.
    JwkJson,
    /// The raw key bytes (EC point or Ed25519 key).
    Raw,
}

/// Misbehaviour of the authorization response (the 302 back to the client, OA-06/OA-08).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizeFault {
    /// No `iss` parameter (although the metadata promises it, RFC 9207).
    OmitIss,
    /// `iss` set to this value (mix-up attack, RFC 9700 §4.4).
    WrongIss(String),
    /// `error` and `error_description` (e.g. `access_denied` and an XSS payload) instead of a
    /// code; `state` and `iss` as usual.
    Error {
        /// The `error` code.
        error: String,
        /// The `error_description`, sent verbatim (URL-encoded).
        description: String,
    },
    /// No `state` parameter.
    DropState,
    /// `state` replaced by this value.
    ReplaceState(String),
    /// No `code` and no `error` (OA-08: missing code → 400).
    OmitCode,
}

/// Misbehaviour of the `UserInfo` endpoint (OA-27).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserinfoFault {
    /// `sub` is this value instead of the ID token's (the client must discard the response).
    DifferentSub(String),
    /// A transport fault.
    Transport(TransportFault),
}

/// When a key made by [`HostileAs::rotate_signing_key`](super::HostileAs::rotate_signing_key)
/// appears in `/jwks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// From the next fetch on.
    Immediately,
    /// The next `n` fetches do not list it; the ones after do (tokens signed with it meanwhile
    /// exercise the client's unknown-`kid` refetch, OA-21/OA-28).
    AfterFetches(u64),
    /// Never (until [`HostileAs::publish_key`](super::HostileAs::publish_key)).
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shots_count_down_only_on_applicable_requests() {
        let mut slot = Armed::new(IdTokenFault::ChangedSubOnRefresh, Shots::Next(2));
        let refresh_only = |f: &IdTokenFault| !f.on_refresh_only();
        // A code exchange does not apply, so it uses no shot.
        assert_eq!(Armed::take(&mut slot, refresh_only), None);
        assert!(Armed::take(&mut slot, |_| true).is_some());
        assert!(Armed::take(&mut slot, |_| true).is_some());
        assert_eq!(Armed::take(&mut slot, |_| true), None);
        assert!(slot.is_none());

        let mut always = Armed::new(TransportFault::NonJson, Shots::Always);
        for _ in 0..5 {
            assert_eq!(
                Armed::take(&mut always, |_| true),
                Some(TransportFault::NonJson)
            );
        }
        assert!(Armed::new(TransportFault::NonJson, Shots::Next(0)).is_none());
    }
}
