//! TLS for `wss://` and `https://` endpoints: rustls with the ring provider and the Mozilla
//! roots compiled in (no system certificate store, no process-wide provider needed).

use std::sync::Arc;

use rustls::ClientConfig;

/// A client configuration trusting the webpki roots.
///
/// # Errors
/// When the provider supports none of the safe protocol versions (a build defect).
pub fn client_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
