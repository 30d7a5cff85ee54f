//! Argon2id parameters: the default, OWASP's floor and the ceilings verification enforces.

use crate::Error;

/// Ceilings on what a stored hash may ask for. Anything above is rejected after parsing and
/// before any memory is allocated for it (PW-02): a stored hash is attacker-controlled input
/// once an attacker can write to the user table, and raw `argon2` honours whatever the string
/// says (a hash with `m=4194304` costs 4 GiB and 20 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ceilings;

impl Ceilings {
    /// Memory cost, KiB: 256 MiB, 13× the default.
    pub const MAX_M_COST: u32 = 256 * 1024;
    /// Time cost (passes): 10, 5× the default.
    pub const MAX_T_COST: u32 = 10;
    /// Parallelism (lanes): 4.
    pub const MAX_P_COST: u32 = 4;
    /// Hash output, bytes.
    pub const MAX_OUTPUT_LEN: usize = 64;
    /// Salt, bytes.
    pub const MAX_SALT_LEN: usize = 64;
    /// The whole stored string, bytes.
    pub const MAX_HASH_STRING_LEN: usize = 512;
    /// bcrypt cost (legacy): 2^14 rounds, about a second here; OWASP asks for at least 10.
    pub const MAX_BCRYPT_COST: u32 = 14;
    /// PBKDF2-SHA256 iterations (legacy): 3.3× OWASP's 600 000.
    pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
}

/// OWASP Password Storage Cheat Sheet, Argon2id: equally strong `(m KiB, t)` pairs, all with
/// p=1. A policy must meet or exceed at least one of them.
pub const OWASP_MINIMUMS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

/// The Argon2id parameters new hashes are made with.
///
/// The default is OWASP's first recommendation, which is also the `argon2` crate's default:
/// m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte output (PW-01). A custom policy may be stronger,
/// but not weaker than one of [`OWASP_MINIMUMS`] and not above [`Ceilings`].
///
/// ```
/// use paved_crypto::PasswordPolicy;
/// let stronger = PasswordPolicy::new(47_104, 2, 1)?;
/// assert!(PasswordPolicy::new(4_096, 1, 1).is_err()); // below OWASP's floor
/// assert!(PasswordPolicy::new(1 << 20, 2, 1).is_err()); // above the verification ceiling
/// # let _ = stronger;
/// # Ok::<(), paved_crypto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_field_names)] // Argon2's own names: m_cost, t_cost, p_cost.
pub struct PasswordPolicy {
    pub(crate) m_cost: u32,
    pub(crate) t_cost: u32,
    pub(crate) p_cost: u32,
}

impl PasswordPolicy {
    /// m=19456 KiB, t=2, p=1 (OWASP; RFC 9106 §4's second recommended option scaled to 19 MiB).
    pub const OWASP: Self = Self {
        m_cost: 19_456,
        t_cost: 2,
        p_cost: 1,
    };

    /// Salt length of new hashes, bytes (RFC 9106 §3.1 recommends 16).
    pub const SALT_LEN: usize = 16;

    /// Output length of new hashes, bytes (RFC 9106 §4: a 256-bit tag).
    pub const OUTPUT_LEN: usize = 32;

    /// A policy with memory cost `m_cost` KiB, `t_cost` passes and `p_cost` lanes.
    ///
    /// # Errors
    /// - [`Error::PolicyBelowMinimum`] when no pair of [`OWASP_MINIMUMS`] is met.
    /// - [`Error::PolicyAboveCeiling`] when a parameter is above [`Ceilings`] (such hashes could
    ///   not be verified).
    pub const fn new(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, Error> {
        if m_cost > Ceilings::MAX_M_COST {
            return Err(Error::PolicyAboveCeiling {
                name: "m",
                max: Ceilings::MAX_M_COST,
            });
        }
        if t_cost > Ceilings::MAX_T_COST {
            return Err(Error::PolicyAboveCeiling {
                name: "t",
                max: Ceilings::MAX_T_COST,
            });
        }
        if p_cost > Ceilings::MAX_P_COST {
            return Err(Error::PolicyAboveCeiling {
                name: "p",
                max: Ceilings::MAX_P_COST,
            });
        }
        let mut i = 0;
        let mut meets_floor = false;
        while i < OWASP_MINIMUMS.len() {
            let (m, t) = OWASP_MINIMUMS[i];
            if m_cost >= m && t_cost >= t {
                meets_floor = true;
            }
            i += 1;
        }
        // p below 1 is not Argon2; more lanes never weaken a (m, t) pair that already meets the floor.
        if !meets_floor || p_cost == 0 {
            return Err(Error::PolicyBelowMinimum { m_cost, t_cost });
        }
        Ok(Self {
            m_cost,
            t_cost,
            p_cost,
        })
    }

    /// Memory cost, KiB.
    #[must_use]
    pub const fn m_cost(&self) -> u32 {
        self.m_cost
    }

    /// Time cost (passes over memory).
    #[must_use]
    pub const fn t_cost(&self) -> u32 {
        self.t_cost
    }

    /// Parallelism (lanes).
    #[must_use]
    pub const fn p_cost(&self) -> u32 {
        self.p_cost
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::OWASP
    }
}
