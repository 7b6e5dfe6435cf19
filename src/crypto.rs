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
