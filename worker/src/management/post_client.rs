//! `PostToConnection` without the SDK's per-call machinery: one pooled HTTP/1.1 client
//! (`hyper`, HTTPS through rustls on aws-lc-rs), the request written and signed directly
//! ([`super::signer`]), the answer read by its status.
//!
//! What the SDK did around each call and this keeps: the endpoint with its stage path, the
//! connection id encoded as an HTTP label, a deadline per attempt (`APIGW_TIMEOUT_MS`) and
//! 3 s to connect, no retries of its own. Errors come back as [`PostError`], which
//! [`super::ManagementApi`] classifies exactly as it did the SDK's.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http::label::{EncodingStrategy, fmt_string};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderName, HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::credentials::CredentialsCache;
use super::describe;
use super::signer::{self, PostToSign, Signer};

/// No connection within this is a timeout (the SDK's setting before this client).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// An error answer is read up to this much, for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
const X_AMZN_ERROR_TYPE: &str = "x-amzn-errortype";

/// One body for every POST of a fan-out, hashed once.
#[derive(Debug, Clone)]
pub struct Payload {
    body: Bytes,
    sha256: Arc<str>,
}

impl Payload {
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let sha256 = signer::sha256_hex(&body).into();
        Self { body, sha256 }
    }
}

/// Why a POST got no 2xx.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// API Gateway answered with this status; `reason` is its error type and message.
    #[error("HTTP {status}: {reason}")]
    Status { status: u16, reason: String },
    /// No complete answer within `APIGW_TIMEOUT_MS`.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// No connection within the connect timeout.
    #[error("connect timeout: {0}")]
    ConnectTimeout(String),
    /// The request could not be sent or its answer not read (refused, reset, bad HTTP).
    #[error("dispatch failure: {0}")]
    Dispatch(String),
    /// No credentials to sign with.
    #[error("{0}")]
    Credentials(String),
    /// The request cannot be made at all (an empty connection id).
    #[error("{0}")]
    Construction(String),
}

pub(super) struct PostClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoint: Endpoint,
    signer: Signer,
    credentials: CredentialsCache,
    /// `APIGW_TIMEOUT_MS`: from sending to the answer read.
    timeout: Duration,
    /// The signature's time; fixed in tests.
    clock: fn() -> SystemTime,
}

/// `APIGW_ENDPOINT`, taken apart once.
#[derive(Debug, Clone)]
struct Endpoint {
    scheme: Scheme,
    authority: Authority,
    /// The `host` header, as the SDK's signer writes it: without a default port.
    host: HeaderValue,
    /// The stage path without a trailing slash, e.g. `/local`; empty for none.
    base_path: String,
}

impl PostClient {
    pub fn new(
        endpoint: &str,
        region: &str,
        timeout: Duration,
        credentials: SharedCredentialsProvider,
    ) -> Result<Self, String> {
        Ok(Self {
            http: http_client(),
            endpoint: Endpoint::parse(endpoint)?,
            signer: Signer::new(region),
            credentials: CredentialsCache::new(credentials),
            timeout,
            clock: SystemTime::now,
        })
    }

    #[cfg(test)]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    /// One attempt, within `APIGW_TIMEOUT_MS` from the credentials to the answer's end.
    pub async fn post(&self, connection_id: &str, payload: &Payload) -> Result<(), PostError> {
        tokio::time::timeout(self.timeout, self.attempt(connection_id, payload))
            .await
            .unwrap_or(Err(PostError::Timeout(self.timeout)))
    }

    async fn attempt(&self, connection_id: &str, payload: &Payload) -> Result<(), PostError> {
        let request = self.request(connection_id, payload).await?;
        let response = self.http.request(request).await.map_err(dispatch_error)?;
        let status = response.status();
        if status.is_success() {
            // Read to the end, so the connection goes back to the pool.
            response
                .into_body()
                .collect()
                .await
                .map_err(|error| PostError::Dispatch(describe(&error)))?;
            return Ok(());
        }
        let error_type = response
            .headers()
            .get(X_AMZN_ERROR_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), ERROR_BODY_LIMIT)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .unwrap_or_default();
        Err(PostError::Status {
            status: status.as_u16(),
            reason: error_reason(error_type.as_deref(), &body),
        })
    }

    async fn request(
        &self,
        connection_id: &str,
        payload: &Payload,
    ) -> Result<Request<Full<Bytes>>, PostError> {
        let label = fmt_string(connection_id, EncodingStrategy::Default);
        if label.is_empty() {
            return Err(PostError::Construction(
                "connection_id cannot be empty".to_owned(),
            ));
        }
        let path = format!("{}/@connections/{label}", self.endpoint.base_path);
        let identity = self
            .credentials
            .identity()
            .await
            .map_err(PostError::Credentials)?;
        let signature = self.signer.sign(
            &identity,
            PostToSign {
                host: self.endpoint.host.to_str().unwrap_or_default(),
                path: &path,
                content_length: payload.body.len(),
                body_sha256: &payload.sha256,
            },
            (self.clock)(),
        );
        let uri = Uri::from_parts({
            let mut parts = http::uri::Parts::default();
            parts.scheme = Some(self.endpoint.scheme.clone());
            parts.authority = Some(self.endpoint.authority.clone());
            parts.path_and_query = Some(
                PathAndQuery::try_from(path)
                    .map_err(|error| PostError::Construction(describe(&error)))?,
            );
            parts
        })
        .map_err(|error| PostError::Construction(describe(&error)))?;
        let mut request = Request::post(uri)
            .header(CONTENT_LENGTH, payload.body.len())
            .header(CONTENT_TYPE, HeaderValue::from_static(signer::CONTENT_TYPE))
            .header(HOST, self.endpoint.host.clone())
            .header(X_AMZ_DATE, signature.amz_date)
            .header(AUTHORIZATION, signature.authorization);
        if let Some(token) = identity.session_token() {
            request = request.header(X_AMZ_SECURITY_TOKEN, token.clone());
        }
        request
            .body(Full::new(payload.body.clone()))
            .map_err(|error| PostError::Construction(describe(&error)))
    }
}

impl Endpoint {
    fn parse(endpoint: &str) -> Result<Self, String> {
        let uri: Uri = endpoint
            .parse()
            .map_err(|error| format!("APIGW_ENDPOINT: {error}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err("APIGW_ENDPOINT: expected an http(s) URL".to_owned());
        };
        let default_port = matches!(
            (scheme.as_str(), authority.port_u16()),
            ("http", Some(80)) | ("https", Some(443))
        );
        let host = if default_port {
            authority.host()
        } else {
            authority.as_str()
        };
        Ok(Self {
            scheme: scheme.clone(),
            authority: authority.clone(),
            host: HeaderValue::from_str(host)
                .map_err(|error| format!("APIGW_ENDPOINT: {error}"))?,
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }
}

/// Plain HTTP for the emulator, HTTPS for AWS; HTTP/1.1 only, as many pooled connections as
/// POSTs in flight.
fn http_client() -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(https)
}

/// The system's roots (as the SDK trusts) and Mozilla's compiled in, on aws-lc-rs.
fn tls_config() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports TLS 1.2 and 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth()
}

fn dispatch_error(error: hyper_util::client::legacy::Error) -> PostError {
    let text = describe(&error);
    let timed_out = error.is_connect()
        && std::iter::successors(std::error::Error::source(&error), |cause| cause.source())
            .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
            .any(|io| io.kind() == std::io::ErrorKind::TimedOut);
    if timed_out {
        PostError::ConnectTimeout(text)
    } else {
        PostError::Dispatch(text)
    }
}

/// `<x-amzn-ErrorType>: <message>`, from what the answer has of them.
fn error_reason(error_type: Option<&str>, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    // `Type:http://...` carries a namespace after the colon.
    let error_type = error_type.map(|kind| kind.split(':').next().unwrap_or(kind));
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|body| body.message);
    match (error_type, message) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (Some(kind), None) => kind.to_owned(),
        (None, Some(message)) => message,
        (None, None) => "unhandled error".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_their_stage_and_drop_default_ports() {
        let local = Endpoint::parse("http://127.0.0.1:4000/local").unwrap();
        assert_eq!(local.host, "127.0.0.1:4000");
        assert_eq!(local.base_path, "/local");
        let aws =
            Endpoint::parse("https://abc.execute-api.us-east-1.amazonaws.com:443/prod/").unwrap();
        assert_eq!(aws.host, "abc.execute-api.us-east-1.amazonaws.com");
        assert_eq!(aws.base_path, "/prod");
        let bare = Endpoint::parse("http://localhost:4000").unwrap();
        assert_eq!(bare.base_path, "");
    }

    #[test]
    fn error_reasons_name_the_type_and_message() {
        assert_eq!(
            error_reason(Some("ForbiddenException"), br#"{"message":"Forbidden"}"#),
            "ForbiddenException: Forbidden"
        );
        assert_eq!(
            error_reason(Some("BadRequestException:http://internal.amazon.com/"), b""),
            "BadRequestException"
        );
        assert_eq!(error_reason(None, br#"{"Message":"no"}"#), "no");
        assert_eq!(error_reason(None, b"<html>"), "unhandled error");
    }
}
