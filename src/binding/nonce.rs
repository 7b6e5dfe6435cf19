//! Server-provided DPoP nonces (RFC 9449 §8-9), stateless: an HMAC over the
//! time step, so every instance holding the secret makes and accepts the
//! same nonces, with nothing stored.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::crypto;
use crate::verify::ConfigError;

/// The shortest secret accepted, in bytes.
const MIN_SECRET_BYTES: usize = 32;
/// The default time step: a nonce is current this long, and accepted for as
/// long again after.
pub const DEFAULT_NONCE_ROTATION: Duration = Duration::from_secs(300);

/// Server nonces for DPoP proofs: when configured, a proof must carry a
/// nonce this server (or another instance with the same secret) handed out
/// in a `DPoP-Nonce` header, which limits how long a pre-made proof is
/// usable (RFC 9449 §11.2).
///
/// A nonce is current for one rotation period and still accepted in the
/// next; older ones are refused with `use_dpop_nonce` and the current nonce,
/// and a response to a proof with the previous nonce carries the current one.
///
/// ```
/// use std::time::Duration;
/// use authorizer::binding::Nonces;
///
/// let nonces = Nonces::new(b"a secret of at least thirty-two bytes!".to_vec())?
///     .rotation(Duration::from_secs(120));
/// let other_instance = Nonces::new(b"a secret of at least thirty-two bytes!".to_vec())?;
/// assert!(other_instance.rotation(Duration::from_secs(120)).accepts(&nonces.current()));
/// # Ok::<(), authorizer::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Nonces {
    secret: Vec<u8>,
    rotation: Duration,
}

impl fmt::Debug for Nonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nonces")
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

/// What a proof's nonce is worth.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// The current nonce.
    Current,
    /// The previous one, still accepted: the response offers this fresh one.
    Rotated(String),
    /// Missing, forged or too old: the client must retry with this one.
    Refused(String),
}

impl Nonces {
    /// Nonces made with `secret` (at least 32 random bytes; the same on every
    /// instance that should accept each other's nonces).
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let secret = secret.into();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::Binding("the nonce secret needs at least 32 bytes"));
        }
        Ok(Nonces {
            secret,
            rotation: DEFAULT_NONCE_ROTATION,
        })
    }

    /// How long a nonce is current (default: [`DEFAULT_NONCE_ROTATION`]); it
    /// is accepted for as long again after. At least one second.
    pub fn rotation(mut self, period: Duration) -> Self {
        self.rotation = period.max(Duration::from_secs(1));
        self
    }

    /// The current nonce, for a `DPoP-Nonce` header.
    pub fn current(&self) -> String {
        self.at(self.step_now())
    }

    /// Whether `nonce` is accepted now (current, or the previous one).
    pub fn accepts(&self, nonce: &str) -> bool {
        !matches!(self.check(Some(nonce)), NonceCheck::Refused(_))
    }

    pub(crate) fn check(&self, nonce: Option<&str>) -> NonceCheck {
        let now = self.step_now();
        let step = nonce.and_then(|nonce| self.step_of(nonce));
        match step {
            Some(step) if step == now => NonceCheck::Current,
            Some(step) if step + 1 == now => NonceCheck::Rotated(self.at(now)),
            _ => NonceCheck::Refused(self.at(now)),
        }
    }

    pub(crate) fn step_now(&self) -> u64 {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        since_epoch.as_secs() / self.rotation.as_secs().max(1)
    }

    /// `<step>.<mac>`: the step in the clear, so checking is one MAC.
    pub(crate) fn at(&self, step: u64) -> String {
        format!("{step}.{}", self.mac(step))
    }

    fn mac(&self, step: u64) -> String {
        let message = format!("dpop-nonce:{}:{step}", self.rotation.as_secs());
        crypto::hmac_sha256(&self.secret, message.as_bytes()).unwrap_or_default()
    }

    /// The step a nonce was made in, if this secret made it.
    fn step_of(&self, nonce: &str) -> Option<u64> {
        let (step, mac) = nonce.split_once('.')?;
        if step.len() > 20 || mac.len() > 64 {
            return None;
        }
        let step: u64 = step.parse().ok()?;
        let expected = self.mac(step);
        (!expected.is_empty() && constant_time_eq(expected.as_bytes(), mac.as_bytes())).then_some(step)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn nonces_rotate_and_are_accepted_for_a_bounded_time() {
        let nonces = Nonces::new(SECRET).unwrap();
        let now = nonces.step_now();
        assert_eq!(nonces.check(Some(&nonces.at(now))), NonceCheck::Current);
        assert_eq!(
            nonces.check(Some(&nonces.at(now - 1))),
            NonceCheck::Rotated(nonces.at(now))
        );
        assert_eq!(
            nonces.check(Some(&nonces.at(now - 2))),
            NonceCheck::Refused(nonces.at(now))
        );
        assert_eq!(
            nonces.check(Some(&nonces.at(now + 1))),
            NonceCheck::Refused(nonces.at(now))
        );
        assert_eq!(nonces.check(None), NonceCheck::Refused(nonces.at(now)));
    }

    #[test]
    fn only_the_same_secret_makes_accepted_nonces() {
        let ours = Nonces::new(SECRET).unwrap();
        let shared = Nonces::new(SECRET).unwrap();
        let theirs = Nonces::new(b"another secret of thirty-two bytes!!".to_vec()).unwrap();
        assert!(
            shared.accepts(&ours.current()),
            "instances sharing a secret accept each other's"
        );
        assert!(!theirs.accepts(&ours.current()));
        for forged in [
            "",
            ".",
            "1.",
            "x.y",
            "99999999999999999999999.a",
            &format!("{}.AAAA", ours.step_now()),
        ] {
            assert!(!ours.accepts(forged), "{forged}");
        }
        assert!(Nonces::new(b"short".to_vec()).is_err());
    }
}
