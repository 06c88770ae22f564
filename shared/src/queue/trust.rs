//! TLS to Redis (`rediss://`): which certificates are trusted, and saying plainly when the
//! server's is not.
//!
//! Public roots (Mozilla's, compiled in, so an image without a system store works, as for
//! ElastiCache's Amazon roots) are trusted always; `REDIS_CA_FILE` adds a private CA to them.
//! redis-rs takes extra roots only as a PEM that *replaces* its own, so with a private CA
//! the PEM given is the public roots followed by that CA.

use std::sync::{LazyLock, Once};

use base64::Engine;
use redis::{RedisError, TlsCertificates};

use crate::config::PrivateCa;

/// The public roots as one PEM, built once.
static PUBLIC_ROOTS_PEM: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut pem = String::new();
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let body = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
});

/// rustls needs one process-wide crypto provider; two are compiled into this workspace
/// (the AWS SDK's and sqlx's), so none is picked by default and TLS would panic.
pub(crate) fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another part of the process installed one first: that one serves.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// What redis-rs is given for `rediss://` nodes: `None` leaves it the public roots.
pub(crate) fn certificates(ca: Option<&PrivateCa>) -> Option<TlsCertificates> {
    let ca = ca?;
    let mut roots = PUBLIC_ROOTS_PEM.clone();
    roots.extend_from_slice(&ca.pem);
    Some(TlsCertificates {
        client_tls: None,
        root_cert: Some(roots),
    })
}

/// One line that says why a connection attempt failed; an untrusted certificate says so
/// and what to do about it.
pub fn describe_failure(error: &RedisError) -> String {
    let text = error.to_string();
    let line = match rustls_error(error) {
        Some(rustls::Error::InvalidCertificate(reason)) => untrusted(&format!("{reason:?}")),
        Some(other) => format!("TLS: {other}"),
        // redis-rs may keep only the text of the TLS error.
        None => match text.split_once("invalid peer certificate: ") {
            Some((_, reason)) => untrusted(reason.split_whitespace().next().unwrap_or(reason)),
            None => text,
        },
    };
    line.replace('\n', " ")
}

fn untrusted(reason: &str) -> String {
    format!(
        "TLS: the Redis server's certificate is not trusted ({reason}); \
         set REDIS_CA_FILE to the PEM of its CA"
    )
}

/// The rustls error behind `error`, wherever in its chain of sources.
fn rustls_error(error: &RedisError) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        next = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_roots_are_kept_beside_a_private_ca() {
        let ca = PrivateCa {
            path: "ca.pem".into(),
            pem: b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"[..].into(),
        };
        let roots = certificates(Some(&ca)).unwrap().root_cert.unwrap();
        let text = String::from_utf8(roots).unwrap();
        let count = text.matches("-----BEGIN CERTIFICATE-----").count();
        assert_eq!(count, webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() + 1);
        assert!(text.ends_with("AA==\n-----END CERTIFICATE-----\n"));
        assert!(certificates(None).is_none());
    }

    #[test]
    fn an_untrusted_certificate_reads_as_such() {
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let error = RedisError::from(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls_error,
        ));
        let line = describe_failure(&error);
        assert!(line.contains("not trusted (UnknownIssuer)"), "{line}");
        assert!(line.contains("REDIS_CA_FILE"), "{line}");
    }
}
