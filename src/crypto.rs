//! The signature backend, chosen by feature and installed explicitly.
//!
//! `jsonwebtoken` picks its backend from its own features and panics at run
//! time when it sees none, or both (which feature unification in a workspace
//! easily causes). This crate refuses to compile without a backend, and
//! installs the one its features name before the first verification.

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!("authorizer needs a crypto backend: enable the `aws-lc-rs` (default) or the `rust-crypto` feature");

/// Installs the backend named by this crate's features as the process default.
/// If the application installed one already, that one stays.
pub(crate) fn ensure_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        #[cfg(feature = "aws-lc-rs")]
        let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
        #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
        let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
        let _already_installed = provider.install_default();
    });
}
