//! Step-up requirements (RFC 9470): how strong and how recent the user's
//! authentication was.
//!
//! A step-up requirement fails when signing in again, more strongly or more
//! recently, would meet it. The answer says so, so a client knows to send the
//! user back to the authorization server rather than give up:
//!
//! - in the RFC 6750 style, **401** with
//!   `WWW-Authenticate: Bearer error="insufficient_user_authentication"`,
//!   an `error_description`, and `acr_values="..."` (the accepted `acr` values,
//!   in order of preference) and/or `max_age="..."` (seconds) when those checks
//!   failed, as RFC 9470 §3 defines;
//! - in the SuperTokens style, its usual 403 `invalid claim` body, with a
//!   claim validation error per failed check (`acr`, `amr`, `auth_time`,
//!   `st-mfa`), which its frontend SDKs act on.
//!
//! Failures of these checks never carry the claim's actual value.
//!
//! ```
//! use std::time::Duration;
//! use authorizer::require::{all, scope, step_up};
//!
//! let transfer = all([
//!     scope("payments:write"),
//!     step_up::acr_one_of(["urn:example:mfa", "urn:example:hwk"])?,
//!     step_up::authenticated_within(Duration::from_secs(300)),
//! ]);
//! # let _ = transfer;
//! # Ok::<(), authorizer::require::step_up::InvalidAcrValue>(())
//! ```
//!
//! # Combined with other requirements
//!
//! A denial is answered as a step-up only when stepping up can cure it: when
//! every failed check is a step-up check or a scope. A missing scope is then
//! named in the same challenge's `scope` parameter (RFC 6750 §3 allows it on
//! any challenge), so the client asks for the scope and the stronger
//! authentication in one new authorization request. When any other check
//! failed too (a role, a verified email), signing in again would not help:
//! the answer is the usual 403 (or `insufficient_scope`), listing every
//! failure. A step-up check inside [`not`](super::not) is an ordinary check.
//!
//! In the data form: `{"acr_one_of": [..]}`, `{"amr_contains": [..]}`,
//! `{"authenticated_within": 300}` (seconds) and `{"mfa_completed": true}`.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::{ClaimCheck, Kind, Op, PathSegment, Requirement, TimeUnit};
use crate::error::ClaimError;

/// The `acr` claim: the authentication context class the user signed in with.
pub const ACR: &str = "acr";
/// The `amr` claim: the authentication methods used (RFC 8176).
pub const AMR: &str = "amr";
/// The `auth_time` claim: when the user last actively authenticated (seconds).
pub const AUTH_TIME: &str = "auth_time";

/// The authentication context (`acr`) is one of `values`, in order of
/// preference; they are sent as the challenge's `acr_values`.
///
/// Refused when the list is empty, or a value cannot be sent in the challenge
/// as it is: a value must be printable ASCII without spaces, `"` or `\`.
pub fn acr_one_of<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Result<Requirement, InvalidAcrValue> {
    let values: Vec<String> = values.into_iter().map(Into::into).collect();
    check_acr_values(&values)?;
    Ok(step_up(Preset::Acr(values)))
}

/// Every one of `methods` is in the `amr` claim (`"otp"`, `"hwk"`, ... as
/// RFC 8176 names them). RFC 9470 has no challenge parameter for methods: the
/// challenge carries only the error.
pub fn amr_contains<S: Into<String>>(methods: impl IntoIterator<Item = S>) -> Requirement {
    step_up(Preset::Amr(methods.into_iter().map(Into::into).collect()))
}

/// The user actively authenticated at most `max_age` ago (`auth_time`); the
/// challenge's `max_age` is it in whole seconds.
pub fn authenticated_within(max_age: Duration) -> Requirement {
    step_up(Preset::AuthTime(max_age))
}

/// SuperTokens' multi-factor claim says the sign-in completed every required
/// factor: `st-mfa.v == true`. The same as
/// [`supertokens::mfa_completed`](super::supertokens::mfa_completed).
pub fn mfa_completed() -> Requirement {
    step_up(Preset::Mfa)
}

/// An `acr` value that a challenge cannot carry, or an empty list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidAcrValue {
    index: Option<usize>,
}

impl fmt::Display for InvalidAcrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            None => f.write_str("`acr_one_of` needs at least one value"),
            Some(i) => write!(
                f,
                "acr value {i} is empty or holds a character a challenge cannot carry (printable ASCII without spaces, `\"` or `\\` only)"
            ),
        }
    }
}

pub(super) fn check_acr_values(values: &[String]) -> Result<(), InvalidAcrValue> {
    if values.is_empty() {
        return Err(InvalidAcrValue { index: None });
    }
    match values.iter().position(|v| !is_challenge_token(v)) {
        Some(index) => Err(InvalidAcrValue { index: Some(index) }),
        None => Ok(()),
    }
}

/// RFC 6749's `NQCHAR` without space: safe inside a quoted-string, and a
/// word of a space-separated list.
fn is_challenge_token(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

/// Which step-up check, kept for the challenge and the data form.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Preset {
    Acr(Vec<String>),
    Amr(Vec<String>),
    AuthTime(Duration),
    Mfa,
}

/// A step-up check: the claim check it runs, and the preset it came from.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct StepUpCheck {
    pub(super) preset: Preset,
    pub(super) check: ClaimCheck,
}

pub(super) fn step_up(preset: Preset) -> Requirement {
    let (claim, path, op) = match &preset {
        Preset::Acr(values) => (ACR, vec![], Op::OneOf(strings(values))),
        Preset::Amr(methods) => (AMR, vec![], Op::ContainsAll(strings(methods))),
        Preset::AuthTime(max) => (
            AUTH_TIME,
            vec![],
            Op::MaxAge {
                max: *max,
                unit: TimeUnit::Seconds,
            },
        ),
        Preset::Mfa => (
            super::supertokens::MFA,
            vec![PathSegment::from("v")],
            Op::Eq(Value::Bool(true)),
        ),
    };
    let check = ClaimCheck {
        claim: claim.into(),
        path,
        op,
    };
    Requirement::of(Kind::StepUp(StepUpCheck { preset, check }))
}

fn strings(values: &[String]) -> Vec<Value> {
    values.iter().cloned().map(Value::String).collect()
}

impl StepUpCheck {
    /// The failure, without the claim's actual value.
    pub(super) fn report(&self, mut error: ClaimError) -> ClaimError {
        error.reason.actual_value = None;
        error
    }

    /// What a client must do to meet this check.
    pub(super) fn challenge(&self) -> StepUp {
        let mut step_up = StepUp::default();
        match &self.preset {
            Preset::Acr(values) => {
                step_up.stronger = true;
                step_up.acr_values.clone_from(values);
            }
            Preset::Amr(_) | Preset::Mfa => step_up.stronger = true,
            Preset::AuthTime(max) => step_up.max_age = Some(*max),
        }
        step_up
    }
}

/// What a denied principal needs to meet the route's step-up requirements
/// (RFC 9470): a stronger authentication (one of [`acr_values`](StepUp::acr_values)
/// when an `acr` check failed) and/or a more recent one (within
/// [`max_age`](StepUp::max_age)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUp {
    stronger: bool,
    acr_values: Vec<String>,
    max_age: Option<Duration>,
}

const ERROR: &str = "insufficient_user_authentication";

impl StepUp {
    /// The accepted `acr` values, in order of preference (empty when no `acr`
    /// check failed).
    pub fn acr_values(&self) -> &[String] {
        &self.acr_values
    }

    /// How recent the authentication must be, when a freshness check failed.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// Adds another failed check's needs: every accepted `acr` value (no
    /// duplicates, first seen first), and the strictest `max_age`.
    pub(super) fn merge(&mut self, other: StepUp) {
        self.stronger |= other.stronger;
        for value in other.acr_values {
            if !self.acr_values.contains(&value) {
                self.acr_values.push(value);
            }
        }
        self.max_age = match (self.max_age, other.max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// The RFC 6750 `error` code: `insufficient_user_authentication`.
    pub(crate) fn error_code(&self) -> &'static str {
        ERROR
    }

    /// A fixed, human-readable `error_description`.
    pub(crate) fn description(&self) -> &'static str {
        match (self.stronger, self.max_age.is_some()) {
            (true, true) => "a stronger and more recent authentication is required",
            (false, true) => "a more recent authentication is required",
            _ => "a stronger authentication is required",
        }
    }

    /// `max_age` as the whole seconds a challenge carries.
    pub(crate) fn max_age_seconds(&self) -> Option<u64> {
        self.max_age.map(|d| d.as_secs())
    }

    /// The `Bearer` challenge's parameters: `error="insufficient_user_authentication",
    /// error_description="..."`, then `acr_values="..."`, `max_age="..."` and
    /// `scope="..."` where they apply. Every value is a quoted-string (RFC 9470
    /// §3 allows a token or a quoted-string and quotes its own examples).
    /// `None` when a value could not be quoted safely, which construction
    /// already refuses.
    pub(crate) fn challenge_params(&self, missing_scopes: &str) -> Option<String> {
        let mut challenge = format!(r#"error="{ERROR}", error_description="{}""#, self.description());
        if !self.acr_values.is_empty() {
            if !self.acr_values.iter().all(|v| is_challenge_token(v)) {
                return None;
            }
            challenge.push_str(&format!(r#", acr_values="{}""#, self.acr_values.join(" ")));
        }
        if let Some(seconds) = self.max_age_seconds() {
            challenge.push_str(&format!(r#", max_age="{seconds}""#));
        }
        if !missing_scopes.is_empty() {
            if missing_scopes.contains(['"', '\\']) {
                return None;
            }
            challenge.push_str(&format!(r#", scope="{missing_scopes}""#));
        }
        Some(challenge)
    }
}

#[cfg(test)]
impl StepUp {
    /// A step-up that asks for a stronger authentication, for other modules' tests.
    pub(crate) fn for_tests() -> Self {
        StepUp {
            stronger: true,
            ..StepUp::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acr(values: &[&str]) -> StepUp {
        StepUp {
            stronger: true,
            acr_values: values.iter().map(|v| v.to_string()).collect(),
            max_age: None,
        }
    }

    #[test]
    fn challenge_names_the_acr_values_quoted_and_space_separated() {
        assert_eq!(
            acr(&["urn:example:mfa", "gold"]).challenge_params("").unwrap(),
            r#"error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="urn:example:mfa gold""#
        );
    }

    #[test]
    fn challenge_carries_max_age_in_whole_seconds() {
        let fresh = StepUp {
            max_age: Some(Duration::from_millis(300_900)),
            ..StepUp::default()
        };
        assert_eq!(
            fresh.challenge_params("").unwrap(),
            r#"error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="300""#
        );
    }

    #[test]
    fn both_failing_send_both_parameters_and_missing_scopes() {
        let mut both = acr(&["a"]);
        both.merge(StepUp {
            max_age: Some(Duration::from_secs(60)),
            ..StepUp::default()
        });
        both.merge(StepUp {
            max_age: Some(Duration::from_secs(600)),
            ..acr(&["b", "a"])
        });
        assert_eq!(both.acr_values(), ["a", "b"]);
        assert_eq!(both.max_age_seconds(), Some(60));
        assert_eq!(
            both.challenge_params("read:items").unwrap(),
            r#"error="insufficient_user_authentication", error_description="a stronger and more recent authentication is required", acr_values="a b", max_age="60", scope="read:items""#
        );
    }

    #[test]
    fn values_that_cannot_be_quoted_are_refused() {
        for bad in ["", "two words", "q\"uote", "back\\slash", "tab\t", "new\nline", "naïve"] {
            assert!(acr_one_of([bad]).is_err(), "{bad:?} accepted");
            assert!(acr(&[bad]).challenge_params("").is_none(), "{bad:?} rendered");
        }
        assert!(acr_one_of(Vec::<String>::new()).is_err());
        assert!(acr_one_of(["urn:mace:incommon:iap:silver", "0", "phr"]).is_ok());
        let message = acr_one_of(["ok", "not ok"]).unwrap_err().to_string();
        assert!(message.contains("acr value 1"), "{message}");
    }

    #[test]
    fn methods_and_mfa_ask_for_a_stronger_authentication_without_parameters() {
        let StepUp {
            acr_values, max_age, ..
        } = StepUpCheck {
            preset: Preset::Mfa,
            check: ClaimCheck {
                claim: "st-mfa".into(),
                path: vec![],
                op: Op::Exists,
            },
        }
        .challenge();
        assert!(acr_values.is_empty() && max_age.is_none());
        let challenge = StepUp {
            stronger: true,
            ..StepUp::default()
        }
        .challenge_params("")
        .unwrap();
        assert!(!challenge.contains("acr_values") && !challenge.contains("max_age"));
        assert!(challenge.contains(r#"error="insufficient_user_authentication""#));
    }
}
