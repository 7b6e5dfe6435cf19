//! Presets for SuperTokens' session claims.
//!
//! SuperTokens keeps each claim as `{"v": value, "t": milliseconds}` under its
//! key. Failures carry the claim's key as `id` (`st-ev`, `st-role`, `st-perm`,
//! `st-mfa`), as SuperTokens' validators do, so its frontend SDKs recognize them
//! (for example to send the user to email verification on `st-ev`).

use std::time::Duration;

use super::{Requirement, TimeUnit, all, claim};

/// The email verification claim's key.
pub const EMAIL_VERIFIED: &str = "st-ev";
/// The user roles claim's key.
pub const ROLES: &str = "st-role";
/// The permissions claim's key.
pub const PERMISSIONS: &str = "st-perm";
/// The multi-factor authentication claim's key.
pub const MFA: &str = "st-mfa";

/// The email is verified: `st-ev.v == true`.
pub fn email_verified() -> Requirement {
    claim(EMAIL_VERIFIED).at("v").eq(true)
}

/// The email is verified, and that was checked at most `max_age` ago
/// (`st-ev.t`, in milliseconds), as SuperTokens' `isVerified(_, maxAgeInSeconds)`.
pub fn email_verified_within(max_age: Duration) -> Requirement {
    all([
        email_verified(),
        claim(EMAIL_VERIFIED)
            .at("t")
            .max_age_in(max_age, TimeUnit::Milliseconds),
    ])
}

/// The user has role `role`: `st-role.v` contains it.
pub fn has_role(role: impl Into<String>) -> Requirement {
    claim(ROLES).at("v").contains(role.into())
}

/// The user has permission `permission`: `st-perm.v` contains it.
pub fn has_permission(permission: impl Into<String>) -> Requirement {
    claim(PERMISSIONS).at("v").contains(permission.into())
}

/// The user completed the multi-factor requirements for signing in: `st-mfa.v == true`.
///
/// A [step-up](super::step_up) requirement: in the RFC 6750 style its failure
/// is a 401 `insufficient_user_authentication` challenge; in the SuperTokens
/// style, the usual 403 `invalid claim` with an `st-mfa` error.
pub fn mfa_completed() -> Requirement {
    super::step_up::mfa_completed()
}

crate::requirement_guard!(
    /// [`Require`](super::Require)`<EmailVerified>`: [`email_verified`].
    pub EmailVerified = email_verified()
);

crate::requirement_guard!(
    /// [`Require`](super::Require)`<MfaCompleted>`: [`mfa_completed`].
    pub MfaCompleted = mfa_completed()
);
