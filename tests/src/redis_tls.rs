//! A `redis-server` of one test that speaks TLS only, with a private CA and a server
//! certificate (for `127.0.0.1` and `localhost`) made by the test with rcgen: no openssl
//! command needed.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};
use tokio::process::{Child, Command};

use crate::redis_server::{answers_ping, free_port};
use crate::wait_until;

pub struct TlsRedisServer {
    port: u16,
    dir: tempfile::TempDir,
    _child: Child,
}

impl TlsRedisServer {
    /// Generates the CA and the server's certificate, starts `redis-server --port 0
    /// --tls-port N`, and waits until a client trusting the CA gets a PONG.
    pub async fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wsgw-redis-tls-")
            .tempdir()
            .expect("a directory for the certificates");
        write_certificates(dir.path());
        let port = free_port();
        let path = |name: &str| dir.path().join(name);
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(["--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(path("server.pem"))
            .arg("--tls-key-file")
            .arg(path("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(path("ca.pem"))
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed");
        let server = Self {
            port,
            dir,
            _child: child,
        };
        let (url, ca) = (
            server.url(),
            std::fs::read(server.ca_file()).expect("the CA"),
        );
        wait_until(Duration::from_secs(10), || {
            let (url, ca) = (url.clone(), ca.clone());
            async move { trusting_client_pings(&url, ca).await }
        })
        .await
        .expect("the TLS redis-server answers (is redis-server built with TLS?)");
        server
    }

    /// `rediss://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// The PEM of the CA that signed the server's certificate (for `REDIS_CA_FILE`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A client of the test that trusts the CA.
    pub fn client(&self) -> redis::Client {
        let ca = std::fs::read(self.ca_file()).expect("the CA");
        trusting_client(&self.url(), ca)
    }
}

fn trusting_client(url: &str, ca: Vec<u8>) -> redis::Client {
    // The workspace builds two rustls crypto providers in, so none is the default until
    // one is installed; whoever installs first wins.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    redis::Client::build_with_tls(
        url,
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca),
        },
    )
    .expect("a TLS client")
}

async fn trusting_client_pings(url: &str, ca: Vec<u8>) -> bool {
    answers_ping(&trusting_client(url, ca)).await
}

/// `ca.pem`, `server.pem` and `server.key` in `dir`.
fn write_certificates(dir: &Path) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "wsgw test private CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().expect("a CA key");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("the CA certificate");

    let mut params =
        CertificateParams::new(vec!["localhost".to_owned()]).expect("server parameters");
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params
        .distinguished_name
        .push(DnType::CommonName, "wsgw test redis");
    let key = KeyPair::generate().expect("a server key");
    let certificate = params.signed_by(&key, &ca).expect("the server certificate");

    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
    std::fs::write(dir.join("server.pem"), certificate.pem()).expect("write server.pem");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
}
