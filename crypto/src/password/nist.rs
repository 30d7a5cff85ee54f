//! The NIST SP 800-63B-4 password rules (PW-07): length, a blocklist, context words, and no
//! composition rules.

use std::fmt;

use paved_secrets::{ExposeSecret as _, SecretString};

use super::hasher::{MAX_PASSWORD_BYTES, normalize};

/// Minimum length in characters when the password is the only factor (SP 800-63B-4 §3.1.1.2).
pub const MIN_CHARS_SINGLE_FACTOR: usize = 15;
/// Minimum length in characters when the password is one of several factors.
pub const MIN_CHARS_WITH_MFA: usize = 8;

/// The most common passwords, lower case: the head of the `SecLists` list
/// `Passwords/Common-Credentials/10k-most-common.txt` (MIT licence), plus the long
/// keyboard-walk and repetition patterns that pass a 15-character minimum. A hook, not a
/// breach corpus: plug a real one (a k-anonymity breach API, a local corpus) in through
/// [`Blocklist`].
pub const COMMON_PASSWORDS: &[&str] = &[
    "123456",
    "password",
    "12345678",
    "qwerty",
    "123456789",
    "12345",
    "1234",
    "111111",
    "1234567",
    "dragon",
    "123123",
    "baseball",
    "abc123",
    "football",
    "monkey",
    "letmein",
    "696969",
    "shadow",
    "master",
    "666666",
    "qwertyuiop",
    "123321",
    "mustang",
    "1234567890",
    "michael",
    "654321",
    "superman",
    "1qaz2wsx",
    "7777777",
    "121212",
    "000000",
    "qazwsx",
    "123qwe",
    "killer",
    "trustno1",
    "jordan",
    "jennifer",
    "zxcvbnm",
    "asdfgh",
    "hunter",
    "buster",
    "soccer",
    "harley",
    "batman",
    "andrew",
    "tigger",
    "sunshine",
    "iloveyou",
    "2000",
    "charlie",
    "robert",
    "thomas",
    "hockey",
    "ranger",
    "daniel",
    "starwars",
    "klaster",
    "112233",
    "george",
    "computer",
    "michelle",
    "jessica",
    "pepper",
    "1111",
    "zxcvbn",
    "555555",
    "11111111",
    "131313",
    "freedom",
    "777777",
    "pass",
    "maggie",
    "159753",
    "aaaaaa",
    "ginger",
    "princess",
    "joshua",
    "cheese",
    "amanda",
    "summer",
    "love",
    "ashley",
    "nicole",
    "chelsea",
    "biteme",
    "matthew",
    "access",
    "yankees",
    "987654321",
    "dallas",
    "austin",
    "thunder",
    "taylor",
    "matrix",
    "mobilemail",
    "mom",
    "monitor",
    "monitoring",
    "montana",
    "moon",
    "moscow",
    "password1",
    "password123",
    "passw0rd",
    "welcome",
    "welcome1",
    "admin",
    "administrator",
    "login",
    "qwerty123",
    "qwertyuiop123",
    "iloveyou1",
    "princess1",
    "football1",
    "baseball1",
    "letmein1",
    "changeme",
    "secret",
    "passwordpassword",
    "passwordpassword1",
    "qwertyqwertyqwerty",
    "qwertyuiopasdfghjkl",
    "qwertyuiopasdfgh",
    "asdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv",
    "zaq12wsxcde34rfv",
    "123456789012345",
    "1234567890123456",
    "12345678901234567890",
    "123123123123123",
    "abcdefghijklmnop",
    "abcdefghijklmnopqrstuvwxyz",
    "iloveyouiloveyou",
    "correcthorsebatterystaple",
    "correct horse battery staple",
    "letmeinletmein123",
];

/// A source of passwords to refuse (common, breached, or specific to the service).
pub trait Blocklist: Send + Sync {
    /// Whether `normalized` (NFKC) is on the list. Implementations should compare without
    /// regard to case.
    fn contains(&self, normalized: &str) -> bool;
}

/// The built-in [`COMMON_PASSWORDS`] list.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommonPasswords;

impl Blocklist for CommonPasswords {
    fn contains(&self, normalized: &str) -> bool {
        COMMON_PASSWORDS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(normalized))
    }
}

/// What the policy knows about the account and the service.
pub struct PolicyContext<'a> {
    /// The password is one of several authentication factors (lowers the minimum to 8).
    pub mfa: bool,
    /// Words the password must not contain: the user name, e-mail local part, service name.
    pub context_words: &'a [&'a str],
    /// The blocklist to consult; [`CommonPasswords`] by default.
    pub blocklist: &'a dyn Blocklist,
}

impl fmt::Debug for PolicyContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyContext")
            .field("mfa", &self.mfa)
            .field("context_words", &self.context_words.len())
            .finish_non_exhaustive()
    }
}

impl Default for PolicyContext<'_> {
    fn default() -> Self {
        Self {
            mfa: false,
            context_words: &[],
            blocklist: &CommonPasswords,
        }
    }
}

/// One broken rule. Deliberately no composition rules (digits, symbols, upper case): SP
/// 800-63B-4 forbids them because they push users to predictable patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// Fewer characters than the minimum.
    TooShort {
        /// The minimum, in characters (Unicode scalar values after NFKC).
        min: usize,
    },
    /// More bytes than [`MAX_PASSWORD_BYTES`].
    TooLong {
        /// The bound in bytes.
        max: usize,
    },
    /// On the blocklist (common or breached).
    Blocklisted,
    /// Contains one of the context words (user name, service name).
    ContainsContextWord,
    /// One repeated character or a run of consecutive characters (`aaaaaaaa`, `12345678`).
    RepetitiveOrSequential,
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { min } => write!(f, "use at least {min} characters"),
            Self::TooLong { max } => write!(f, "use at most {max} bytes"),
            Self::Blocklisted => f.write_str("this password is too common"),
            Self::ContainsContextWord => {
                f.write_str("the password must not contain your user name or the service name")
            }
            Self::RepetitiveOrSequential => {
                f.write_str("the password must not be a repeated or sequential run of characters")
            }
        }
    }
}

/// Checks a new password against the NIST SP 800-63B-4 rules; an empty result means accepted.
/// Every Unicode character counts as one, spaces included; nothing is trimmed.
///
/// ```
/// use paved_crypto::{PolicyContext, PolicyViolation, check_policy};
/// use paved_secrets::SecretString;
///
/// let ctx = PolicyContext::default();
/// assert_eq!(
///     check_policy(&SecretString::from("hunter2"), &ctx),
///     [PolicyViolation::TooShort { min: 15 }],
/// );
/// assert!(check_policy(&SecretString::from("tulip rocket violin ember"), &ctx).is_empty());
/// ```
#[must_use]
pub fn check_policy(password: &SecretString, ctx: &PolicyContext<'_>) -> Vec<PolicyViolation> {
    let mut violations = Vec::new();
    let Some(normalized) = normalize(password.expose_secret()) else {
        violations.push(PolicyViolation::TooLong {
            max: MAX_PASSWORD_BYTES,
        });
        return violations;
    };
    let min = if ctx.mfa {
        MIN_CHARS_WITH_MFA
    } else {
        MIN_CHARS_SINGLE_FACTOR
    };
    if normalized.chars().count() < min {
        violations.push(PolicyViolation::TooShort { min });
    }
    if ctx.blocklist.contains(&normalized) {
        violations.push(PolicyViolation::Blocklisted);
    }
    // Sized once (`to_lowercase` may grow its buffer and leave a copy behind) and wiped.
    let mut lower = zeroize::Zeroizing::new(String::with_capacity(normalized.len() * 3));
    lower.extend(normalized.chars().flat_map(char::to_lowercase));
    if ctx
        .context_words
        .iter()
        .map(|w| w.trim().to_lowercase())
        .any(|w| w.chars().count() >= 3 && lower.contains(w.as_str()))
    {
        violations.push(PolicyViolation::ContainsContextWord);
    }
    if is_repetitive_or_sequential(&lower) {
        violations.push(PolicyViolation::RepetitiveOrSequential);
    }
    violations
}

/// A single repeated character, or a strictly ascending or descending run by code point
/// (`abcdef`, `987654`), over the whole password.
fn is_repetitive_or_sequential(s: &str) -> bool {
    // One pass, no copy of the password: compare each step with the first.
    let mut chars = s.chars().map(|c| i64::from(u32::from(c)));
    let (Some(first), Some(second)) = (chars.next(), chars.next()) else {
        return false;
    };
    let step = second - first;
    let mut previous = second;
    (-1..=1).contains(&step)
        && chars.all(|c| {
            let same = c - previous == step;
            previous = c;
            same
        })
}
