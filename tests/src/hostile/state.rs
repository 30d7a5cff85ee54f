//! The server's mutable state: registrations, keys, armed faults, grants in flight, records.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use bytes::Bytes;
use paved_crypto::Clock;
use serde_json::Value;

use super::config::{ClientRegistration, HostileConfig};
use super::faults::{
    Armed, AuthorizeFault, GrantFilter, IdTokenFault, TokenFault, TransportFault, UserinfoFault,
};
use super::keys::{SigningAlg, SigningKey};
use super::records::{AuthorizeRecord, EndSessionRecord, ParRecord, TokenRecord, UserinfoRecord};

/// The most records kept per endpoint; later requests are still counted but not recorded (a
/// bound on memory for load loops, not a limit any test is expected to reach).
pub const MAX_RECORDS: usize = 10_000;

/// A signing key and when `/jwks` lists it.
pub(crate) struct KeyEntry {
    pub(crate) key: Arc<SigningKey>,
    /// Listed by fetch number `n` (1-based) when `n > after`; `None`: not listed.
    pub(crate) listed_after: Option<u64>,
}

/// The discovery document override.
pub(crate) enum MetadataOverride {
    None,
    Patch(Value),
    Raw { body: Bytes, content_type: String },
}

/// An authorization code and what it was issued for.
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
    pub(crate) scope: String,
    pub(crate) sub: String,
    pub(crate) auth_time: u64,
    pub(crate) expires_at: u64,
    pub(crate) used: bool,
    /// The refresh-token family the exchange started, to revoke it if the code is replayed
    /// (RFC 6749 §4.1.2).
    pub(crate) family: Option<u64>,
}

/// A pushed authorization request (RFC 9126).
pub(crate) struct PushedRequest {
    pub(crate) client_id: String,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) expires_at: u64,
}

/// What a refresh token stands for. Rotation keeps one family per login; presenting a rotated
/// token revokes the family (reuse detection, RFC 9700 §4.14.2).
#[derive(Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) scope: String,
    pub(crate) sub: String,
    pub(crate) nonce: Option<String>,
    pub(crate) auth_time: u64,
    pub(crate) family: u64,
    pub(crate) active: bool,
}

/// An access token.
pub(crate) struct AccessGrant {
    pub(crate) sub: String,
    pub(crate) expires_at: u64,
    /// The refresh-token family it was issued with (revoked together).
    pub(crate) family: u64,
}

/// The armed faults.
#[derive(Default)]
pub(crate) struct Faults {
    pub(crate) discovery: Option<Armed<TransportFault>>,
    pub(crate) jwks: Option<Armed<TransportFault>>,
    pub(crate) par: Option<Armed<TransportFault>>,
    pub(crate) token: Option<Armed<(TokenFault, GrantFilter)>>,
    pub(crate) id_token: Option<Armed<IdTokenFault>>,
    pub(crate) authorize: Option<Armed<AuthorizeFault>>,
    pub(crate) userinfo: Option<Armed<UserinfoFault>>,
}

/// Request counters (every request counts, recorded or not).
#[derive(Default, Clone, Copy)]
pub(crate) struct Counters {
    pub(crate) discovery: u64,
    pub(crate) jwks: u64,
    pub(crate) authorize: u64,
    pub(crate) par: u64,
    pub(crate) token: u64,
    pub(crate) code_exchange: u64,
    pub(crate) refresh: u64,
    pub(crate) userinfo: u64,
    pub(crate) end_session: u64,
}

/// The records.
#[derive(Default)]
pub(crate) struct Records {
    pub(crate) authorize: Vec<AuthorizeRecord>,
    pub(crate) par: Vec<ParRecord>,
    pub(crate) token: Vec<TokenRecord>,
    pub(crate) userinfo: Vec<UserinfoRecord>,
    pub(crate) end_session: Vec<EndSessionRecord>,
}

/// Appends `record` unless [`MAX_RECORDS`] are already kept.
pub(crate) fn push_record<T>(records: &mut Vec<T>, record: T) {
    if records.len() < MAX_RECORDS {
        records.push(record);
    }
}

/// Everything behind the server's mutex.
pub(crate) struct State {
    pub(crate) clients: HashMap<String, ClientRegistration>,
    pub(crate) subject: String,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) id_token_lifetime: Duration,
    pub(crate) require_par: bool,
    pub(crate) include_azp: bool,
    pub(crate) refresh_repeats_nonce: bool,
    /// Published order: newest first.
    pub(crate) keys: Vec<KeyEntry>,
    /// The key that signs new ID tokens.
    pub(crate) current: Arc<SigningKey>,
    /// Keys never published, per algorithm, for [`IdTokenFault::UnpublishedKey`] and
    /// [`IdTokenFault::ForeignKeySameKid`].
    pub(crate) stray: HashMap<SigningAlg, Arc<SigningKey>>,
    pub(crate) next_kid: u32,
    pub(crate) metadata: MetadataOverride,
    pub(crate) jwks_override: Option<Value>,
    pub(crate) id_token_patch: Option<Value>,
    pub(crate) token_response_patch: Option<Value>,
    pub(crate) faults: Faults,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) pushed: HashMap<String, PushedRequest>,
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    pub(crate) revoked_families: HashSet<u64>,
    pub(crate) next_family: u64,
    pub(crate) access: HashMap<String, AccessGrant>,
    pub(crate) assertion_jtis: HashSet<String>,
    pub(crate) counters: Counters,
    pub(crate) records: Records,
}

impl State {
    pub(crate) fn new(config: &HostileConfig, first_key: SigningKey) -> Self {
        let current = Arc::new(first_key);
        Self {
            clients: config
                .clients
                .iter()
                .map(|c| (c.client_id.clone(), c.clone()))
                .collect(),
            subject: config.subject.clone(),
            access_token_lifetime: config.access_token_lifetime,
            id_token_lifetime: config.id_token_lifetime,
            require_par: false,
            include_azp: false,
            refresh_repeats_nonce: false,
            keys: vec![KeyEntry {
                key: Arc::clone(&current),
                listed_after: Some(0),
            }],
            current,
            stray: HashMap::new(),
            next_kid: 2,
            metadata: MetadataOverride::None,
            jwks_override: None,
            id_token_patch: None,
            token_response_patch: None,
            faults: Faults::default(),
            codes: HashMap::new(),
            pushed: HashMap::new(),
            refresh: HashMap::new(),
            revoked_families: HashSet::new(),
            next_family: 1,
            access: HashMap::new(),
            assertion_jtis: HashSet::new(),
            counters: Counters::default(),
            records: Records::default(),
        }
    }

    /// The JWKS as the fetch numbered `fetch` sees it (the override, if any).
    pub(crate) fn jwks_document(&self, fetch: u64) -> Value {
        if let Some(doc) = &self.jwks_override {
            return doc.clone();
        }
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter(|e| e.listed_after.is_some_and(|after| fetch > after))
            .map(|e| e.key.public_jwk())
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// Counters of the streamed fault bodies (outside the mutex: the bodies update them while
/// hyper polls them).
#[derive(Debug, Default)]
pub(crate) struct StreamStats {
    pub(crate) active: AtomicUsize,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) started: AtomicU64,
}

/// What the handlers share.
pub(crate) struct Shared {
    pub(crate) issuer: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) state: std::sync::Mutex<State>,
    pub(crate) streams: Arc<StreamStats>,
}

impl Shared {
    /// The state, even if a handler panicked while holding the lock (the test that caused it
    /// fails on its own; the other tests keep a working server).
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_unix()
    }

    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}
