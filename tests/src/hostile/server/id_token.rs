//! ID tokens, honest or with the armed [`IdTokenFault`] (OIDC Core §2, §3.1.3.7, §12.2).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::merge_patch;
use super::token::Subject;
use crate::hostile::error::HostileError;
use crate::hostile::faults::{Armed, IdTokenFault, PublicKeyForm};
use crate::hostile::keys::{SigningAlg, SigningKey, signing_input};
use crate::hostile::state::{Shared, State};

/// Another audience, for the `aud`/`azp` faults.
const OTHER_AUDIENCE: &str = "https://other-rp.hostile.test";

/// Another client id, for the `aud`/`azp` faults.
const OTHER_CLIENT: &str = "another-client";

/// The key id of the never-published key.
pub(crate) const UNPUBLISHED_KID: &str = "hostile-unpublished";

/// The stray (never published) key for `alg`, generated on first use.
fn stray_key(st: &mut State, alg: SigningAlg) -> Result<Arc<SigningKey>, HostileError> {
    if let Some(key) = st.stray.get(&alg) {
        return Ok(Arc::clone(key));
    }
    let key = Arc::new(SigningKey::generate(alg, UNPUBLISHED_KID)?);
    st.stray.insert(alg, Arc::clone(&key));
    Ok(key)
}

/// The ID token for `subject`, or `None` when the armed fault withholds it.
pub(super) fn mint_id_token(
    s: &Shared,
    st: &mut State,
    subject: &Subject,
    refresh: bool,
) -> Result<Option<String>, HostileError> {
    let fault = Armed::take(&mut st.faults.id_token, |f| refresh || !f.on_refresh_only());
    if fault == Some(IdTokenFault::NoIdTokenOnRefresh) {
        return Ok(None);
    }
    let now = s.now();
    let lifetime = st.id_token_lifetime.as_secs();
    let mut members = Map::new();
    members.insert("iss".to_owned(), json!(s.issuer));
    members.insert("sub".to_owned(), json!(subject.sub));
    members.insert("aud".to_owned(), json!(subject.client_id));
    members.insert("exp".to_owned(), json!(now + lifetime));
    members.insert("iat".to_owned(), json!(now));
    members.insert("auth_time".to_owned(), json!(subject.auth_time));
    // OIDC Core §12.2: a refreshed ID token may omit the nonce; if present it must not change.
    if let Some(nonce) = &subject.nonce
        && (!refresh || st.refresh_repeats_nonce)
    {
        members.insert("nonce".to_owned(), json!(nonce));
    }
    if st.include_azp {
        members.insert("azp".to_owned(), json!(subject.client_id));
    }
    if let Some(fault) = &fault {
        apply_claim_fault(&mut members, fault, &s.issuer, subject, now, lifetime);
    }
    let mut claims = Value::Object(members);
    if let Some(patch) = &st.id_token_patch {
        merge_patch(&mut claims, patch);
    }
    sign(st, &claims, fault.as_ref()).map(Some)
}

/// Changes the claim the fault names (the signature faults change none).
fn apply_claim_fault(
    members: &mut Map<String, Value>,
    fault: &IdTokenFault,
    issuer: &str,
    subject: &Subject,
    now: u64,
    lifetime: u64,
) {
    let mut set = |name: &str, value: Value| {
        members.insert(name.to_owned(), value);
    };
    match fault {
        IdTokenFault::WrongNonce => set("nonce", json!("hostile-wrong-nonce")),
        IdTokenFault::DifferentNonceOnRefresh => set("nonce", json!("hostile-different-nonce")),
        IdTokenFault::WrongAud | IdTokenFault::ChangedAudOnRefresh => {
            set("aud", json!(OTHER_CLIENT));
        }
        IdTokenFault::WrongAzp => {
            set("aud", json!([subject.client_id, OTHER_AUDIENCE]));
            set("azp", json!(OTHER_CLIENT));
        }
        IdTokenFault::ExtraAudWithoutAzp => {
            set("aud", json!([subject.client_id, OTHER_AUDIENCE]));
            members.remove("azp");
        }
        IdTokenFault::MissingNonce => {
            members.remove("nonce");
        }
        IdTokenFault::WrongIss | IdTokenFault::ChangedIssOnRefresh => {
            set("iss", json!(format!("{issuer}/evil")));
        }
        IdTokenFault::Expired => {
            set("iat", json!(now.saturating_sub(7200)));
            set("exp", json!(now.saturating_sub(3600)));
        }
        IdTokenFault::IatInFuture => {
            set("iat", json!(now + 3600));
            set("exp", json!(now + 3600 + lifetime));
        }
        IdTokenFault::ChangedSubOnRefresh => {
            set("sub", json!(format!("{}-changed", subject.sub)));
        }
        IdTokenFault::ChangedAuthTimeOnRefresh => {
            set("auth_time", json!(subject.auth_time + 60));
        }
        IdTokenFault::AlgNone
        | IdTokenFault::KeyConfusionHs256(_)
        | IdTokenFault::BadSignature
        | IdTokenFault::UnpublishedKey
        | IdTokenFault::ForeignKeySameKid
        | IdTokenFault::NoKid
        | IdTokenFault::NoIdTokenOnRefresh => {}
    }
}

/// Signs `claims` with the current key, or as the signature fault says.
fn sign(
    st: &mut State,
    claims: &Value,
    fault: Option<&IdTokenFault>,
) -> Result<String, HostileError> {
    let current = Arc::clone(&st.current);
    let alg = current.alg().name();
    let with_kid = json!({"alg": alg, "typ": "JWT", "kid": current.kid()});
    match fault {
        Some(IdTokenFault::AlgNone) => Ok(format!(
            "{}.",
            signing_input(&json!({"alg": "none", "typ": "JWT"}), claims)
        )),
        Some(IdTokenFault::KeyConfusionHs256(form)) => {
            let secret = match form {
                PublicKeyForm::Pem => current.public_key_pem().into_bytes(),
                PublicKeyForm::Der => current.public_key_der(),
                PublicKeyForm::JwkJson => current.public_jwk().to_string().into_bytes(),
                PublicKeyForm::Raw => current.public_key_bytes().to_vec(),
            };
            let header = json!({"alg": "HS256", "typ": "JWT", "kid": current.kid()});
            let input = signing_input(&header, claims);
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
            let tag = ring::hmac::sign(&key, input.as_bytes());
            Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())))
        }
        Some(IdTokenFault::BadSignature) => {
            let input = signing_input(&with_kid, claims);
            let mut sig = current.sign(input.as_bytes())?;
            if let Some(first) = sig.first_mut() {
                *first ^= 0x01;
            }
            Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
        }
        Some(IdTokenFault::UnpublishedKey) => stray_key(st, current.alg())?.sign_jwt(claims),
        Some(IdTokenFault::ForeignKeySameKid) => {
            stray_key(st, current.alg())?.sign_jwt_with_header(&with_kid, claims)
        }
        Some(IdTokenFault::NoKid) => {
            current.sign_jwt_with_header(&json!({"alg": alg, "typ": "JWT"}), claims)
        }
        _ => current.sign_jwt(claims),
    }
}
