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

/// The TLS configuration of the key-fetch client when aws-lc-rs is off.
///
/// reqwest brings rustls's aws-lc-rs provider only with aws-lc-rs; with
/// rust-crypto alone it has none, and would panic building any client (for
/// `http` URLs too). So the client gets this configuration: the provider the
/// application installed as rustls's process default, else rustls's `ring`
/// provider (never aws-lc), with the platform's root certificates as reqwest
/// uses them, and HTTP/1.1 as the only protocol offered.
#[cfg(all(feature = "remote-keys", feature = "rust-crypto", not(feature = "aws-lc-rs")))]
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| std::sync::Arc::new(rustls::crypto::ring::default_provider()));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The key utilities of the backend this crate's features name (the same
/// backend [`ensure_provider`] installs), for digests outside signatures.
fn key_utils() -> &'static jsonwebtoken::crypto::KeyUtils {
    #[cfg(feature = "aws-lc-rs")]
    let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    &provider.key_utils
}

/// SHA-256 of `data`. Empty if the backend refused (it never does for
/// SHA-256): an empty digest matches no thumbprint or hash, so a refusal
/// fails closed.
pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    (key_utils().compute_digest)(data, jsonwebtoken::jwk::ThumbprintHash::SHA256).unwrap_or_default()
}

/// `base64url(SHA-256(data))`, unpadded: the form of `ath`, `jkt` and `x5t#S256`.
pub(crate) fn sha256_base64url(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(data))
}

/// HMAC-SHA-256 of `message` under `secret`, base64url unpadded; `None` if
/// the backend refused.
pub(crate) fn hmac_sha256(secret: &[u8], message: &[u8]) -> Option<String> {
    ensure_provider();
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::crypto::sign(message, &key, jsonwebtoken::Algorithm::HS256).ok()
}
