//! The registered claims every validated token carries, read with their JSON types checked.

use serde::Deserialize;
use serde::de::MapAccess;

use crate::jwt::error::JwtError;
use crate::jwt::json;

/// The registered claims of a validated token (RFC 7519 §4.1, RFC 9068 §2.2), with their types
/// checked: `iss` a string, `aud` a string or an array of strings, the times JSON numbers,
/// `sub`/`jti`/`client_id`/`scope` strings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StandardClaims {
    /// `iss`: the issuer (equal to the validator's).
    pub iss: String,
    /// `sub`: the subject, if present.
    pub sub: Option<String>,
    /// `aud`: the audiences (one of them is the validator's).
    pub aud: Vec<String>,
    /// `exp`: expiry, seconds since the epoch.
    pub exp: u64,
    /// `nbf`: not before, seconds since the epoch, if present.
    pub nbf: Option<u64>,
    /// `iat`: issued at, seconds since the epoch, if present.
    pub iat: Option<u64>,
    /// `jti`: the token id, if present.
    pub jti: Option<String>,
    /// `client_id` (RFC 9068), if present.
    pub client_id: Option<String>,
    /// The granted scopes, space-separated: the `scope` claim (RFC 9068, RFC 8693); or,
    /// without it, `scp` as a string or an array of strings (Okta, Microsoft Entra), joined.
    /// Read them with [`scopes`](Self::scopes).
    pub scope: Option<String>,
}

impl StandardClaims {
    /// The granted scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    /// Whether the token grants `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }
}

/// A registered member as read: absent, of the wrong JSON type, or present.
pub(crate) enum Field<T> {
    Absent,
    Invalid,
    Present(T),
}

impl<T> Field<T> {
    pub(crate) fn from_read(read: Option<T>) -> Self {
        read.map_or(Self::Invalid, Self::Present)
    }

    /// `Ok(None)` if absent, the type error if invalid.
    pub(crate) fn optional(self, name: &'static str) -> Result<Option<T>, JwtError> {
        match self {
            Self::Absent => Ok(None),
            Self::Invalid => Err(JwtError::InvalidClaimType(name)),
            Self::Present(v) => Ok(Some(v)),
        }
    }

    fn required(self, name: &'static str) -> Result<T, JwtError> {
        self.optional(name)?
            .ok_or_else(|| JwtError::MissingClaim(name.into()))
    }
}

/// Reads the claims in one pass (no JSON tree): the registered claims with their types, and
/// which of the required claims are present and not `null`.
pub(crate) struct ClaimsSink<'a> {
    required: &'a [Box<str>],
    found: u64,
    iss: Field<String>,
    sub: Field<String>,
    aud: Field<Vec<String>>,
    exp: Field<u64>,
    nbf: Field<u64>,
    iat: Field<u64>,
    jti: Field<String>,
    client_id: Field<String>,
    scope: Field<String>,
    scp: Field<Vec<String>>,
}

/// The most claims a validator can require (one bit each).
pub(crate) const MAX_REQUIRED_CLAIMS: usize = 64;

impl<'a> ClaimsSink<'a> {
    pub(crate) fn new(required: &'a [Box<str>]) -> Self {
        Self {
            required,
            found: 0,
            iss: Field::Absent,
            sub: Field::Absent,
            aud: Field::Absent,
            exp: Field::Absent,
            nbf: Field::Absent,
            iat: Field::Absent,
            jti: Field::Absent,
            client_id: Field::Absent,
            scope: Field::Absent,
            scp: Field::Absent,
        }
    }

    /// The registered claims (`exp`, `iss` and `aud` required), and the first configured
    /// required claim that is missing, if any.
    pub(crate) fn finish(self) -> Result<(StandardClaims, Option<Box<str>>), JwtError> {
        let exp = self.exp.required("exp")?;
        let iss = self.iss.required("iss")?;
        let aud = self.aud.required("aud")?;
        let scope = match (self.scope, self.scp) {
            (Field::Present(s), _) => Some(s),
            (Field::Invalid, _) => return Err(JwtError::InvalidClaimType("scope")),
            (Field::Absent, scp) => scp.optional("scp")?.map(|list| list.join(" ")),
        };
        let claims = StandardClaims {
            iss,
            sub: self.sub.optional("sub")?,
            aud,
            exp,
            nbf: self.nbf.optional("nbf")?,
            iat: self.iat.optional("iat")?,
            jti: self.jti.optional("jti")?,
            client_id: self.client_id.optional("client_id")?,
            scope,
        };
        let missing = self
            .required
            .iter()
            .enumerate()
            .find(|(i, _)| self.found & (1 << i) == 0)
            .map(|(_, name)| name.clone());
        Ok((claims, missing))
    }
}

impl<'de> json::Sink<'de> for ClaimsSink<'_> {
    fn member<A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        ctx: json::Ctx<'_>,
    ) -> Result<(), A::Error> {
        let string = |map: &mut A| json::string(map, ctx).map(Field::from_read);
        let date = |map: &mut A| json::numeric_date(map, ctx).map(Field::from_read);
        let non_null = match key {
            "iss" => {
                self.iss = string(map)?;
                matches!(self.iss, Field::Present(_))
            }
            "sub" => {
                self.sub = string(map)?;
                matches!(self.sub, Field::Present(_))
            }
            "jti" => {
                self.jti = string(map)?;
                matches!(self.jti, Field::Present(_))
            }
            "client_id" => {
                self.client_id = string(map)?;
                matches!(self.client_id, Field::Present(_))
            }
            "scope" => {
                self.scope = string(map)?;
                matches!(self.scope, Field::Present(_))
            }
            "aud" => {
                self.aud = Field::from_read(json::strings(map, ctx)?);
                matches!(self.aud, Field::Present(_))
            }
            "scp" => {
                self.scp = Field::from_read(json::strings(map, ctx)?);
                matches!(self.scp, Field::Present(_))
            }
            "exp" => {
                self.exp = date(map)?;
                matches!(self.exp, Field::Present(_))
            }
            "nbf" => {
                self.nbf = date(map)?;
                matches!(self.nbf, Field::Present(_))
            }
            "iat" => {
                self.iat = date(map)?;
                matches!(self.iat, Field::Present(_))
            }
            _ => json::skip(map, ctx)? != json::Skipped::Null,
        };
        if non_null && let Some(i) = self.required.iter().position(|r| **r == *key) {
            self.found |= 1 << i;
        }
        Ok(())
    }
}

/// The claims type for callers that need only [`StandardClaims`]: deserializes from any
/// claims object and holds nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoCustomClaims;

impl<'de> Deserialize<'de> for NoCustomClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(v: &Value) -> Result<StandardClaims, JwtError> {
        let bytes = v.to_string();
        let sink = json::parse_object_with(bytes.as_bytes(), ClaimsSink::new(&[]))
            .map_err(|_| JwtError::InvalidJson(crate::jwt::TokenPart::Payload))?;
        sink.finish().map(|(claims, _)| claims)
    }

    #[test]
    fn types_are_checked() {
        let base = json!({"iss":"i","aud":"a","exp":10});
        assert!(read(&base).is_ok());
        let mut v = base.clone();
        v["iss"] = json!(["i"]);
        assert_eq!(read(&v), Err(JwtError::InvalidClaimType("iss")));
        let mut v = base.clone();
        v["exp"] = json!("10");
        assert_eq!(read(&v), Err(JwtError::InvalidClaimType("exp")));
        let mut v = base.clone();
        v["exp"] = json!(-1);
        assert_eq!(read(&v), Err(JwtError::InvalidClaimType("exp")));
        let mut v = base.clone();
        v["aud"] = json!(["a", 1]);
        assert_eq!(read(&v), Err(JwtError::InvalidClaimType("aud")));
        let mut v = base.clone();
        v["sub"] = Value::Null;
        assert_eq!(read(&v), Err(JwtError::InvalidClaimType("sub")));
        let mut v = base;
        v["exp"] = json!(10.9);
        assert_eq!(read(&v).unwrap().exp, 10);
    }

    #[test]
    fn scopes_from_scope_or_scp() {
        let c = read(&json!({"iss":"i","aud":"a","exp":1,"scope":"a  b"})).unwrap();
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["a", "b"]);
        let c = read(&json!({"iss":"i","aud":"a","exp":1,"scp":["x","y"]})).unwrap();
        assert!(c.has_scope("y"));
        let c = read(&json!({"iss":"i","aud":"a","exp":1,"scp":"x y"})).unwrap();
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["x", "y"]);
        assert!(read(&json!({"iss":"i","aud":"a","exp":1,"scope":["x"]})).is_err());
    }

    #[test]
    fn required_claims_are_tracked() {
        let required: Vec<Box<str>> = vec!["sub".into(), "tenant".into(), "role".into()];
        let bytes = br#"{"iss":"i","aud":"a","exp":1,"sub":"s","tenant":{"id":1},"role":null}"#;
        let sink = json::parse_object_with(bytes, ClaimsSink::new(&required)).unwrap();
        let (_, missing) = sink.finish().unwrap();
        assert_eq!(missing.as_deref(), Some("role"));
    }
}
