//! The lean POST is the SDK's POST: both send `PostToConnection` for the same endpoint,
//! connection id, body, time and credentials to one HTTP server in this test, which
//! captures what arrives; the path, the body and every header the SDK signed (with the
//! `Authorization` header itself) must be byte for byte the same.
//!
//! The SDK's request is trimmed of its telemetry before it signs (`x-amz-user-agent`, which
//! it would sign, and `user-agent`, which it would not): the lean request does not send
//! them. Everything else is the SDK's own: serializer, endpoint resolution, signer, clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_apigatewaymanagement::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_apigatewaymanagement::config::{
    ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_runtime_api::box_error::BoxError;
use bytes::Bytes;
use http::{HeaderMap, Response};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::post_client::{Payload, PostClient};

const REGION: &str = "ap-northeast-1";

fn fixed_time() -> SystemTime {
    // One second before a UTC midnight.
    UNIX_EPOCH + Duration::from_secs(1_764_201_599)
}

/// What one request brought.
#[derive(Debug)]
struct Captured {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// An HTTP/1.1 server on a free port that answers every request 200 and hands it over.
async fn capturing_server() -> (String, mpsc::UnboundedReceiver<Captured>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let sender = sender.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let _ = sender.send(Captured {
                            method: parts.method.to_string(),
                            path: parts.uri.to_string(),
                            headers: parts.headers,
                            body,
                        });
                        Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::new())))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{address}"), receiver)
}

/// Drops the SDK's telemetry headers before it signs.
#[derive(Debug)]
struct WithoutTelemetry;

impl Intercept for WithoutTelemetry {
    fn name(&self) -> &'static str {
        "WithoutTelemetry"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        headers.remove("x-amz-user-agent");
        headers.remove("user-agent");
        Ok(())
    }
}

async fn sdk_post(endpoint: &str, credentials: &Credentials, id: &str, body: &[u8]) {
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials.clone())
        .time_source(StaticTimeSource::new(fixed_time()))
        .retry_config(RetryConfig::disabled())
        .interceptor(WithoutTelemetry)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
        .post_to_connection()
        .connection_id(id)
        .data(Blob::new(body))
        .send()
        .await
        .expect("the SDK's POST is answered 200");
}

async fn lean_post(endpoint: &str, credentials: &Credentials, id: &str, body: &[u8]) {
    let client = PostClient::new(
        endpoint,
        REGION,
        Duration::from_secs(5),
        SharedCredentialsProvider::new(credentials.clone()),
    )
    .unwrap()
    .with_clock(fixed_time);
    client
        .post(id, &Payload::new(body.to_vec()))
        .await
        .expect("the lean POST is answered 200");
}

fn header<'a>(captured: &'a Captured, name: &str) -> Option<&'a str> {
    captured
        .headers
        .get(name)
        .map(|value| value.to_str().unwrap())
}

/// The names in `SignedHeaders=` of an `Authorization` header.
fn signed_headers(authorization: &str) -> Vec<String> {
    let list = authorization
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("an Authorization header names its signed headers");
    list.split(';').map(str::to_owned).collect()
}

#[tokio::test]
async fn the_lean_post_is_signed_and_sent_as_the_sdks() {
    let (server, mut captured) = capturing_server().await;
    let with_token = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token=".to_owned()),
        None,
        "test",
    );
    let without_token = Credentials::new("AKIDLOCAL", "local-secret", None, None, "test");
    let body = br#"{"action":"send_message","success":true,"messages":[]}"#;
    for stage in ["/local", ""] {
        let endpoint = format!("{server}{stage}");
        for id in ["abc=", "L0SM9cOFvHcCIhw=", "a/b c"] {
            for credentials in [&with_token, &without_token] {
                sdk_post(&endpoint, credentials, id, body).await;
                let sdk = captured.recv().await.unwrap();
                lean_post(&endpoint, credentials, id, body).await;
                let lean = captured.recv().await.unwrap();

                let context = format!("endpoint {endpoint}, id {id:?}");
                assert_eq!(lean.method, "POST", "{context}");
                assert_eq!(lean.method, sdk.method, "{context}");
                assert_eq!(lean.path, sdk.path, "{context}");
                if id == "abc=" {
                    assert_eq!(lean.path, format!("{stage}/@connections/abc%3D"));
                }
                assert_eq!(lean.body, sdk.body, "{context}");
                let authorization = header(&sdk, "authorization").expect("the SDK signed");
                assert_eq!(
                    header(&lean, "authorization"),
                    Some(authorization),
                    "{context}"
                );
                for name in signed_headers(authorization) {
                    assert_eq!(
                        header(&lean, &name),
                        header(&sdk, &name),
                        "{name}: {context}"
                    );
                }
                for name in ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] {
                    assert_eq!(header(&lean, name), header(&sdk, name), "{name}: {context}");
                }
                assert_eq!(
                    header(&sdk, "x-amz-security-token").is_some(),
                    credentials.session_token().is_some(),
                    "{context}"
                );
            }
        }
    }
}
