//! `PasswordHasher`: Argon2id hashes in PHC strings, verified under ceilings.

use std::fmt;
use std::time::Instant;

// nosemgrep: paved.password-hash-outside-paved -- PasswordHasher is the argon2 wrapper
use argon2::{Algorithm, Argon2, AssociatedData, Block, KeyId, Params, ParamsBuilder, Version};
// nosemgrep: paved.password-hash-outside-paved -- PasswordHasher is the argon2 wrapper
use password_hash::phc::{self, Ident};
use paved_secrets::{ExposeSecret as _, KeyRing, SecretString};
use unicode_normalization::UnicodeNormalization as _;
use zeroize::{Zeroize, Zeroizing};

use super::policy::{Ceilings, PasswordPolicy};
use crate::token::fill_random;
use crate::{Error, VerifyError};

/// The longest password accepted, in bytes of UTF-8, before and after normalisation (PW-06).
/// Longer input is an error, never silently truncated (bcrypt's 72-byte cut is the
/// anti-pattern). NIST SP 800-63B-4 §3.1.1.2 asks verifiers to accept at least 64 characters.
pub const MAX_PASSWORD_BYTES: usize = 1024;

const ARGON2ID: &str = "argon2id";

/// A password hash in PHC string format, ready to store
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
///
/// It is not a secret in the sense of a key, but it is sensitive (it enables offline guessing),
/// so `Debug` shows only the algorithm and parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The PHC string to store.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The PHC string to store.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `$argon2id$v=19$m=..,t=..,p=..` and no salt or output.
        let head: Vec<&str> = self.0.splitn(5, '$').take(4).collect();
        f.debug_tuple("PasswordHash")
            .field(&head.join("$"))
            .finish()
    }
}

impl AsRef<str> for PasswordHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Verified {
    /// The stored hash does not match the current policy (older parameters, another algorithm,
    /// a legacy format, an old or missing pepper): hash the password again now, while it is in
    /// hand, and store the new hash (PW-03, PW-04).
    pub needs_rehash: bool,
}

/// One pepper key: its PHC `keyid` and the secret bytes.
struct PepperKey {
    id: KeyId,
    key: paved_secrets::SecretBytes,
}

/// Argon2id password hashing with a policy, ceilings on stored hashes, an optional pepper and
/// upgrade detection.
///
/// ```
/// use paved_crypto::PasswordHasher;
/// use paved_secrets::SecretString;
///
/// let hasher = PasswordHasher::default();
/// let hash = hasher.hash(&SecretString::from("correct horse battery staple"))?;
///
/// let verified = hasher.verify(&SecretString::from("correct horse battery staple"), hash.as_str())?;
/// assert!(!verified.needs_rehash);
/// assert!(hasher.verify(&SecretString::from("wrong"), hash.as_str()).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PasswordHasher {
    policy: PasswordPolicy,
    /// Index 0 is the primary (used for new hashes); the rest verify during rotation.
    peppers: Vec<PepperKey>,
    /// With a pepper: whether hashes made without one (older rows, legacy formats) still verify.
    accept_unpeppered: bool,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self
            .peppers
            .iter()
            .map(|p| String::from_utf8_lossy(p.id.as_bytes()).into_owned())
            .collect();
        f.debug_struct("PasswordHasher")
            .field("policy", &self.policy)
            .field("pepper_key_ids", &ids)
            .field("accept_unpeppered", &self.accept_unpeppered)
            .finish()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new(PasswordPolicy::default())
    }
}

/// Parameters of a stored Argon2 hash, checked against the ceilings.
struct StoredArgon2<'a> {
    algorithm: Algorithm,
    version: Version,
    // nosemgrep: paved.password-hash-outside-paved -- PasswordHasher is the argon2 wrapper
    params: argon2::Params,
    salt: &'a [u8],
    expected: &'a [u8],
    keyid: Option<KeyId>,
}

impl PasswordHasher {
    /// A hasher that makes new hashes with `policy` and no pepper.
    #[must_use]
    pub fn new(policy: PasswordPolicy) -> Self {
        Self {
            policy,
            peppers: Vec::new(),
            accept_unpeppered: false,
        }
    }

    /// Adds a pepper (PW-05): the key ring's primary key is mixed into every new hash as the
    /// Argon2 secret and its key id is recorded in the PHC string (`keyid=`), so peppers rotate:
    /// hashes made with an older key in the ring still verify and report `needs_rehash`.
    ///
    /// The pepper lives apart from the database (a file or credential loaded by
    /// `paved-secrets`); a stolen user table alone is then useless for offline guessing.
    ///
    /// The PHC `keyid` field holds at most 8 bytes, so the recorded id is the first 8 bytes of
    /// SHA-256 over the ring's key id (ids are not secret; 64 bits keep a ring's ids apart).
    ///
    /// # Errors
    /// [`Error::Internal`] if the key id cannot be encoded (not expected).
    pub fn with_pepper(mut self, ring: &KeyRing) -> Result<Self, Error> {
        let primary = ring.primary();
        let ordered =
            std::iter::once(primary).chain(ring.keys().filter(|k| k.id() != primary.id()));
        let mut peppers = Vec::with_capacity(ring.keys().len());
        for key in ordered {
            peppers.push(PepperKey {
                id: pepper_key_id(key.id().as_str())?,
                key: key.material().clone(),
            });
        }
        self.peppers = peppers;
        Ok(self)
    }

    /// Migration only: with a pepper configured, still verify hashes made without one (and
    /// legacy formats), reporting `needs_rehash` so they are upgraded on the next login.
    ///
    /// Off by default because it weakens the pepper: whoever can write the user table can then
    /// plant an unpeppered hash of a password they chose. Turn it off again once the table is
    /// migrated.
    #[must_use]
    pub fn dangerous_accept_unpeppered_hashes(mut self) -> Self {
        self.accept_unpeppered = true;
        self
    }

    /// The policy new hashes are made with.
    #[must_use]
    pub fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    /// Hashes `password` (NFKC-normalised) with a fresh 16-byte salt from the OS CSPRNG.
    ///
    /// # Errors
    /// [`Error::PasswordTooLong`] above [`MAX_PASSWORD_BYTES`]; [`Error::Rng`] if the OS has no
    /// randomness; [`Error::Internal`] if Argon2 itself fails.
    pub fn hash(&self, password: &SecretString) -> Result<PasswordHash, Error> {
        self.hash_in(password, None)
    }

    pub(crate) fn hash_in(
        &self,
        password: &SecretString,
        scratch: Option<&mut Scratch>,
    ) -> Result<PasswordHash, Error> {
        let started = Instant::now();
        let normalized = normalize(password.expose_secret()).ok_or(Error::PasswordTooLong {
            max: MAX_PASSWORD_BYTES,
        })?;
        let mut salt = [0u8; PasswordPolicy::SALT_LEN];
        fill_random(&mut salt)?;

        let pepper = self.peppers.first();
        let params = self
            .current_params()
            .map_err(|_| Error::Internal("policy parameters rejected by argon2"))?;
        let argon2 = argon2_context(Algorithm::Argon2id, Version::V0x13, params.clone(), pepper)?;
        let mut out = Zeroizing::new([0u8; PasswordPolicy::OUTPUT_LEN]);
        run_argon2(&argon2, normalized.as_bytes(), &salt, out.as_mut(), scratch)
            .map_err(|_| Error::Internal("argon2 hashing failed"))?;

        let phc = phc_string(&params, &salt, out.as_ref())?;
        tracing::debug!(
            target: "paved_crypto::password",
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            m_cost = self.policy.m_cost,
            t_cost = self.policy.t_cost,
            "password hashed"
        );
        Ok(PasswordHash(phc))
    }

    /// Verifies `password` against a stored hash.
    ///
    /// Order of work, so that hostile input costs nothing: length cap on the password, length
    /// cap on the stored string, PHC parse (no allocation), ceilings on every parameter, and only
    /// then Argon2. The derived hash is compared in constant time (PW-09).
    ///
    /// # Errors
    /// [`VerifyError::WrongPassword`] for a mismatch; [`VerifyError::MalformedHash`],
    /// [`VerifyError::HashParamsOutOfBounds`], [`VerifyError::UnsupportedAlgorithm`] and
    /// [`VerifyError::UnknownPepperKey`] for a stored hash that cannot be verified;
    /// [`VerifyError::PasswordTooLong`] above [`MAX_PASSWORD_BYTES`].
    pub fn verify(&self, password: &SecretString, stored: &str) -> Result<Verified, VerifyError> {
        self.verify_in(password, stored, Ceilings::MAX_M_COST, None)
    }

    /// `max_m_cost` lets the pool hold stored hashes to its own memory budget.
    pub(crate) fn verify_in(
        &self,
        password: &SecretString,
        stored: &str,
        max_m_cost: u32,
        scratch: Option<&mut Scratch>,
    ) -> Result<Verified, VerifyError> {
        let started = Instant::now();
        let raw = password.expose_secret();
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(VerifyError::PasswordTooLong {
                max: MAX_PASSWORD_BYTES,
            });
        }
        if stored.len() > Ceilings::MAX_HASH_STRING_LEN {
            return Err(VerifyError::HashParamsOutOfBounds { name: "length" });
        }
        let unpeppered_ok = self.peppers.is_empty() || self.accept_unpeppered;
        #[cfg(feature = "legacy")]
        if let Some(result) = super::legacy::verify(raw, stored) {
            return if unpeppered_ok {
                result
            } else {
                Err(VerifyError::UnknownPepperKey)
            };
        }
        let parsed = phc::PasswordHash::new(stored).map_err(|_| VerifyError::MalformedHash)?;
        let stored_hash = checked_argon2(&parsed)?;
        if stored_hash.params.m_cost() > max_m_cost {
            return Err(VerifyError::HashParamsOutOfBounds { name: "m" });
        }

        let pepper = match stored_hash.keyid {
            // A pepper is configured: a hash without one was not made by this service
            // (or predates the pepper and needs the explicit migration switch).
            None if !unpeppered_ok => return Err(VerifyError::UnknownPepperKey),
            None => None,
            Some(id) => Some(
                self.peppers
                    .iter()
                    .find(|p| p.id == id)
                    .ok_or(VerifyError::UnknownPepperKey)?,
            ),
        };
        let normalized = normalize(raw).ok_or(VerifyError::PasswordTooLong {
            max: MAX_PASSWORD_BYTES,
        })?;
        let argon2 = argon2_context(
            stored_hash.algorithm,
            stored_hash.version,
            stored_hash.params.clone(),
            pepper,
        )
        .map_err(|_| VerifyError::Internal("argon2 context"))?;
        let mut out = Zeroizing::new([0u8; Ceilings::MAX_OUTPUT_LEN]);
        let out = &mut out[..stored_hash.expected.len()];
        run_argon2(
            &argon2,
            normalized.as_bytes(),
            stored_hash.salt,
            out,
            scratch,
        )
        .map_err(|_| VerifyError::MalformedHash)?;
        let matches = crate::ct_eq(out, stored_hash.expected);
        tracing::debug!(
            target: "paved_crypto::password",
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            m_cost = stored_hash.params.m_cost(),
            t_cost = stored_hash.params.t_cost(),
            matches,
            "password verified"
        );
        if !matches {
            return Err(VerifyError::WrongPassword);
        }
        Ok(Verified {
            needs_rehash: self.needs_rehash(&stored_hash),
        })
    }

    /// Spends the same work as [`verify`](Self::verify) of a current-policy hash, then reports a
    /// wrong password (PW-08). Call it when the user name is unknown, so the response time does
    /// not tell an attacker which accounts exist.
    ///
    /// # Errors
    /// Always [`VerifyError::WrongPassword`] (or [`VerifyError::PasswordTooLong`], exactly as
    /// `verify` would answer that input).
    pub fn dummy_verify(&self, password: &SecretString) -> Result<Verified, VerifyError> {
        self.dummy_verify_in(password, None)
    }

    pub(crate) fn dummy_verify_in(
        &self,
        password: &SecretString,
        scratch: Option<&mut Scratch>,
    ) -> Result<Verified, VerifyError> {
        let raw = password.expose_secret();
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(VerifyError::PasswordTooLong {
                max: MAX_PASSWORD_BYTES,
            });
        }
        let normalized = normalize(raw).ok_or(VerifyError::PasswordTooLong {
            max: MAX_PASSWORD_BYTES,
        })?;
        let params = self
            .current_params()
            .map_err(|_| VerifyError::Internal("policy parameters rejected by argon2"))?;
        let argon2 = argon2_context(
            Algorithm::Argon2id,
            Version::V0x13,
            params,
            self.peppers.first(),
        )
        .map_err(|_| VerifyError::Internal("argon2 context"))?;
        // A fixed salt is fine: the output is thrown away; only the work matters.
        let salt = [0x5a; PasswordPolicy::SALT_LEN];
        let mut out = Zeroizing::new([0u8; PasswordPolicy::OUTPUT_LEN]);
        let _ = run_argon2(&argon2, normalized.as_bytes(), &salt, out.as_mut(), scratch);
        let _ = crate::ct_eq(out.as_ref(), &[0u8; PasswordPolicy::OUTPUT_LEN]);
        Err(VerifyError::WrongPassword)
    }

    /// The Argon2 parameters of a new hash: the policy, and the primary pepper's key id.
    // nosemgrep: paved.password-hash-outside-paved -- PasswordHasher is the argon2 wrapper
    fn current_params(&self) -> Result<Params, argon2::Error> {
        let mut builder = ParamsBuilder::new();
        builder
            .m_cost(self.policy.m_cost)
            .t_cost(self.policy.t_cost)
            .p_cost(self.policy.p_cost)
            .output_len(PasswordPolicy::OUTPUT_LEN);
        if let Some(p) = self.peppers.first() {
            builder.keyid(p.id);
        }
        builder.build()
    }

    fn needs_rehash(&self, stored: &StoredArgon2<'_>) -> bool {
        let pepper_current = match (stored.keyid, self.peppers.first()) {
            (None, None) => true,
            (Some(id), Some(primary)) => id == primary.id,
            _ => false,
        };
        stored.algorithm != Algorithm::Argon2id
            || stored.version != Version::V0x13
            || stored.params.m_cost() != self.policy.m_cost
            || stored.params.t_cost() != self.policy.t_cost
            || stored.params.p_cost() != self.policy.p_cost
            || stored.expected.len() != PasswordPolicy::OUTPUT_LEN
            || stored.salt.len() < PasswordPolicy::SALT_LEN
            || !stored.params.data().is_empty()
            || !pepper_current
    }
}

/// NFKC-normalises `password` (NIST SP 800-63B-4 §3.1.1.2), so the same text typed on
/// different keyboards or platforms (composed vs decomposed accents, full-width forms) hashes
/// the same. The copy is zeroized on drop and allocated once with its exact length, so no
/// reallocation leaves a stray copy. `None` when the result exceeds the length cap.
pub(crate) fn normalize(password: &str) -> Option<Zeroizing<String>> {
    if password.len() > MAX_PASSWORD_BYTES {
        return None;
    }
    let len: usize = password.nfkc().map(char::len_utf8).sum();
    if len > MAX_PASSWORD_BYTES {
        return None;
    }
    let mut out = Zeroizing::new(String::with_capacity(len));
    out.extend(password.nfkc());
    Some(out)
}

/// Argon2's working memory, kept by a pool thread and reused: no allocator churn (peak memory
/// stays `max_in_flight × m`), and wiped after every hash. Argon2's first blocks of each lane
/// are a cheap function of the password, salt and pepper, so memory left behind would let
/// someone who reads it test guesses without paying the memory-hard cost.
#[derive(Default)]
pub(crate) struct Scratch {
    blocks: Vec<Block>,
    /// Size kept between hashes (the policy's); a larger stored hash's memory is freed after.
    keep: usize,
}

impl Scratch {
    pub(crate) fn for_policy(policy: &PasswordPolicy) -> Self {
        Self {
            blocks: Vec::new(),
            keep: usize::try_from(policy.m_cost).unwrap_or(usize::MAX),
        }
    }
}

fn run_argon2(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    scratch: Option<&mut Scratch>,
    // nosemgrep: paved.password-hash-outside-paved -- PasswordHasher is the argon2 wrapper
) -> Result<(), argon2::Error> {
    let Some(scratch) = scratch else {
        return argon2.hash_password_into(password, salt, out);
    };
    let needed = argon2.params().block_count();
    if scratch.blocks.len() < needed {
        scratch.blocks = vec![Block::new(); needed];
    }
    let result =
        argon2.hash_password_into_with_memory(password, salt, out, &mut scratch.blocks[..needed]);
    scratch.blocks[..needed]
        .iter_mut()
        .for_each(Zeroize::zeroize);
    if scratch.blocks.len() > scratch.keep {
        scratch.blocks = Vec::new();
    }
    result
}

/// The PHC `keyid` for a ring key id: SHA-256(id), first 8 bytes.
fn pepper_key_id(id: &str) -> Result<KeyId, Error> {
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    KeyId::new(&digest.as_ref()[..Params::MAX_KEYID_LEN]).map_err(|_| Error::PepperKeyId)
}

fn argon2_context(
    algorithm: Algorithm,
    version: Version,
    // nosemgrep: paved.password-hash-outside-paved -- PasswordHasher is the argon2 wrapper
    params: argon2::Params,
    pepper: Option<&PepperKey>,
) -> Result<Argon2<'_>, Error> {
    match pepper {
        None => Ok(Argon2::new(algorithm, version, params)),
        Some(p) => Argon2::new_with_secret(p.key.expose_secret(), algorithm, version, params)
            .map_err(|_| Error::Internal("pepper rejected by argon2")),
    }
}

// nosemgrep: paved.password-hash-outside-paved -- PasswordHasher is the argon2 wrapper
fn phc_string(params: &argon2::Params, salt: &[u8], out: &[u8]) -> Result<String, Error> {
    fn internal<E>(_: E) -> Error {
        Error::Internal("PHC encoding failed")
    }
    let hash = phc::PasswordHash {
        algorithm: Ident::new(ARGON2ID).map_err(internal)?,
        version: Some(Version::V0x13.into()),
        params: phc::ParamsString::try_from(params).map_err(internal)?,
        salt: Some(phc::Salt::new(salt).map_err(internal)?),
        hash: Some(phc::Output::new(out).map_err(internal)?),
    };
    Ok(hash.to_string())
}

/// Reads and bounds every parameter of a parsed Argon2 PHC string before anything is allocated
/// for it (PW-02).
fn checked_argon2(parsed: &phc::PasswordHash) -> Result<StoredArgon2<'_>, VerifyError> {
    let algorithm = match parsed.algorithm.as_str() {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return Err(VerifyError::UnsupportedAlgorithm),
    };
    let version = match parsed.version {
        None | Some(0x13) => Version::V0x13,
        Some(0x10) => Version::V0x10,
        Some(_) => return Err(VerifyError::MalformedHash),
    };
    let get = |name: &'static str, max: u32| -> Result<u32, VerifyError> {
        let value = parsed
            .params
            .get_decimal(name)
            .ok_or(VerifyError::MalformedHash)?;
        if value > max {
            return Err(VerifyError::HashParamsOutOfBounds { name });
        }
        Ok(value)
    };
    let m_cost = get("m", Ceilings::MAX_M_COST)?;
    let t_cost = get("t", Ceilings::MAX_T_COST)?;
    let p_cost = get("p", Ceilings::MAX_P_COST)?;
    for (name, _) in parsed.params.iter() {
        if !matches!(name.as_str(), "m" | "t" | "p" | "keyid" | "data") {
            return Err(VerifyError::MalformedHash);
        }
    }
    let salt = parsed.salt.as_ref().ok_or(VerifyError::MalformedHash)?;
    let salt = salt.as_ref();
    if salt.len() > Ceilings::MAX_SALT_LEN {
        return Err(VerifyError::HashParamsOutOfBounds { name: "salt" });
    }
    let expected = parsed.hash.as_ref().ok_or(VerifyError::MalformedHash)?;
    let expected = expected.as_bytes();
    if expected.len() > Ceilings::MAX_OUTPUT_LEN {
        return Err(VerifyError::HashParamsOutOfBounds { name: "output" });
    }

    let mut builder = ParamsBuilder::new();
    builder
        .m_cost(m_cost)
        .t_cost(t_cost)
        .p_cost(p_cost)
        .output_len(expected.len());
    let mut keyid = None;
    if let Some(value) = parsed.params.get("keyid") {
        let id = KeyId::from_b64(value.as_str()).map_err(|_| VerifyError::MalformedHash)?;
        builder.keyid(id);
        keyid = Some(id);
    }
    if let Some(value) = parsed.params.get("data") {
        let data =
            AssociatedData::from_b64(value.as_str()).map_err(|_| VerifyError::MalformedHash)?;
        builder.data(data);
    }
    let params = builder.build().map_err(|_| VerifyError::MalformedHash)?;
    Ok(StoredArgon2 {
        algorithm,
        version,
        params,
        salt,
        expected,
        keyid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    impl PasswordHasher {
        /// Test-only: a pepper shorter than a key ring allows, to run RFC 9106's vector (its
        /// secret is 8 bytes).
        fn with_raw_pepper_for_kat(mut self, id: &[u8], key: &[u8]) -> Self {
            self.peppers = vec![PepperKey {
                id: KeyId::new(id).unwrap(),
                key: paved_secrets::SecretBytes::from(key),
            }];
            self
        }
    }

    /// PW-12, RFC 9106 §5.3 (Argon2id): m=32 KiB, t=3, p=4, password 32×0x01, salt 16×0x02,
    /// secret 8×0x03, associated data 12×0x04, tag
    /// `0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659`.
    #[test]
    fn pw_12_rfc9106_argon2id_vector() {
        let hasher = PasswordHasher::default().with_raw_pepper_for_kat(b"kat", &[0x03; 8]);
        let stored = "$argon2id$v=19$m=32,t=3,p=4,keyid=a2F0,data=BAQEBAQEBAQEBAQE\
                      $AgICAgICAgICAgICAgICAg$DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk";
        let password = SecretString::from("\u{1}".repeat(32).as_str());
        let verified = hasher.verify(&password, stored).unwrap();
        assert!(verified.needs_rehash, "RFC parameters are not the policy's");
        let wrong = SecretString::from("\u{1}".repeat(31).as_str());
        assert_eq!(
            hasher.verify(&wrong, stored),
            Err(VerifyError::WrongPassword)
        );
        // The same vector without the secret does not verify: the pepper is really mixed in.
        let other = PasswordHasher::default().with_raw_pepper_for_kat(b"kat", &[0x07; 8]);
        assert_eq!(
            other.verify(&password, stored),
            Err(VerifyError::WrongPassword)
        );
    }

    #[test]
    fn normalize_is_exact_capacity_and_nfkc() {
        let n = normalize("ﬁ\u{FF21}").unwrap();
        assert_eq!(n.as_str(), "fiA");
        assert_eq!(n.capacity(), n.len());
        assert!(normalize(&"a".repeat(MAX_PASSWORD_BYTES + 1)).is_none());
    }
}
