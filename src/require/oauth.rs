//! Presets for OAuth 2.0 scopes ([`Principal::scopes`](crate::principal::Principal::scopes),
//! read from `scope` or `scp`). A failed scope check is answered with RFC 6750's
//! `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`.

use super::Requirement;

/// The token carries scope `name`.
pub fn scope(name: impl Into<String>) -> Requirement {
    super::scope(name)
}

/// The token carries every one of `names`.
pub fn all_scopes<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Requirement {
    super::all_scopes(names)
}

/// The token carries at least one of `names`.
pub fn any_scope<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Requirement {
    super::any_scope(names)
}
