//! The API Gateway Management API. `PostToConnection`, once per connection of every
//! broadcast, goes through a lean client of our own ([`post_client`]) that signs with AWS's
//! SigV4 primitives ([`signer`]) and the credentials of the SDK's provider chain
//! ([`credentials`]); `DeleteConnection` goes through the unmodified AWS SDK. Neither
//! retries by itself: retries happen per connection in the fan-out, so attempts do not
//! multiply under throttling.
//!
//! # Layout
//! - this file: [`ManagementApi`], and how an outcome is read from a status or an error.
//! - [`post_client`]: the pooled HTTP client, the request and its answer.
//! - [`signer`]: SigV4 with the signing key derived once per day.
//! - [`credentials`]: the provider chain's credentials, cached and refreshed.

mod credentials;
mod post_client;
#[cfg(test)]
mod sdk_parity;
mod signer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{SharedCredentialsProvider, future};
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::{Credentials, Region};
use aws_sdk_apigatewaymanagement::error::SdkError;
use shared::config::WorkerSettings;

use crate::metrics::PostMetrics;
use crate::rate_limit::ThrottleSignal;
use post_client::PostClient;
pub use post_client::{Payload, PostError};

/// What one call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    Ok,
    /// 410: the connection no longer exists.
    Gone,
    /// 413: the payload can never be delivered.
    TooLarge,
    /// 429 `LimitExceededException`: the account's quota (or the client's buffer) is full;
    /// worth another attempt, at a lower rate.
    Throttled,
    /// 5xx, timeouts, connection failures: worth another attempt.
    Transient(String),
    /// Anything else (403: wrong endpoint or credentials; 400).
    Permanent(String),
}

#[derive(Clone)]
pub struct ManagementApi {
    /// `PostToConnection`.
    lean: Arc<PostClient>,
    /// `DeleteConnection`.
    client: Client,
    posts: PostMetrics,
}

impl ManagementApi {
    /// Fails only on an endpoint that cannot be a request's URI.
    pub async fn new(settings: &WorkerSettings) -> Result<Self, String> {
        let timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(settings.apigw_timeout)
            .operation_timeout(settings.apigw_timeout)
            .connect_timeout(Duration::from_secs(3))
            .build();
        let (mut builder, credentials) = if uses_real_credentials(settings) {
            // The region is ours to give: left to the loader, it would ask EC2 instance
            // metadata for one at start-up, wherever the worker runs.
            let shared = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(settings.apigw_region.clone()))
                .load()
                .await;
            let credentials = shared
                .credentials_provider()
                .unwrap_or_else(|| SharedCredentialsProvider::new(NoCredentials));
            (
                aws_sdk_apigatewaymanagement::config::Builder::from(&shared),
                credentials,
            )
        } else {
            // A local emulator accepts any signature; don't make a newcomer configure AWS.
            let local = SharedCredentialsProvider::new(Credentials::new(
                "local", "local", None, None, "local",
            ));
            (
                aws_sdk_apigatewaymanagement::config::Builder::new()
                    .behavior_version(BehaviorVersion::latest())
                    .credentials_provider(local.clone()),
                local,
            )
        };
        builder = builder
            .endpoint_url(&settings.apigw_endpoint)
            .region(Region::new(settings.apigw_region.clone()))
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts);
        let lean = PostClient::new(
            &settings.apigw_endpoint,
            &settings.apigw_region,
            settings.apigw_timeout,
            credentials,
        )?;
        Ok(Self {
            lean: Arc::new(lean),
            client: Client::from_conf(builder.build()),
            posts: PostMetrics::register(),
        })
    }

    pub async fn post(&self, connection_id: &str, payload: &Payload) -> CallOutcome {
        let started = Instant::now();
        let result = self.lean.post(connection_id, payload).await;
        self.posts
            .observe(connection_id, &result, started.elapsed());
        classify_post(result)
    }

    pub async fn delete(&self, connection_id: &str) -> CallOutcome {
        let result = self
            .client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await;
        classify(result.map(|_| ()))
    }
}

impl ThrottleSignal for CallOutcome {
    fn is_throttled(&self) -> bool {
        *self == CallOutcome::Throttled
    }
}

/// The loader found no credential source at all: every POST says so.
#[derive(Debug)]
struct NoCredentials;

impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no credentials provider is configured",
        )))
    }
}

/// AWS's credential chain unless the endpoint is on this machine and no keys are set.
fn uses_real_credentials(settings: &WorkerSettings) -> bool {
    let local = url_host(&settings.apigw_endpoint).is_some_and(|host| {
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    !local || settings.aws_access_key_set
}

fn url_host(endpoint: &str) -> Option<String> {
    let rest = endpoint.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host);
    Some(host.trim_matches(['[', ']']).to_owned())
}

/// Maps by the raw status first: a 410 without `x-amzn-ErrorType` reaches the SDK as
/// `Unhandled`, and must still retire the connection.
fn classify<E>(
    result: Result<(), SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> CallOutcome
where
    E: std::error::Error + 'static,
{
    let error = match result {
        Ok(()) => return CallOutcome::Ok,
        Err(error) => error,
    };
    if let Some(status) = error
        .raw_response()
        .map(|response| response.status().as_u16())
    {
        return by_status(status, || describe(&error));
    }
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            CallOutcome::Transient(describe(&error))
        }
        _ => CallOutcome::Permanent(describe(&error)),
    }
}

/// The lean POST's result, read as [`classify`] reads the SDK's: a timeout, a connection
/// failure or missing credentials are worth another attempt (the SDK's timeout and dispatch
/// failures), a request that cannot be made is not (its construction failure).
fn classify_post(result: Result<(), PostError>) -> CallOutcome {
    match result {
        Ok(()) => CallOutcome::Ok,
        Err(PostError::Status { status, reason }) => by_status(status, || reason),
        Err(
            error @ (PostError::Timeout(_)
            | PostError::ConnectTimeout(_)
            | PostError::Dispatch(_)
            | PostError::Credentials(_)),
        ) => CallOutcome::Transient(error.to_string()),
        Err(error @ PostError::Construction(_)) => CallOutcome::Permanent(error.to_string()),
    }
}

fn by_status(status: u16, describe: impl FnOnce() -> String) -> CallOutcome {
    match status {
        410 => CallOutcome::Gone,
        413 => CallOutcome::TooLarge,
        429 => CallOutcome::Throttled,
        500..=599 => CallOutcome::Transient(format!("HTTP {status}")),
        _ => CallOutcome::Permanent(format!("HTTP {status}: {}", describe())),
    }
}

pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lean_results_are_classified_as_the_sdks_were() {
        let status = |status| {
            classify_post(Err(PostError::Status {
                status,
                reason: "Kind: message".to_owned(),
            }))
        };
        assert_eq!(classify_post(Ok(())), CallOutcome::Ok);
        assert_eq!(status(410), CallOutcome::Gone);
        assert_eq!(status(413), CallOutcome::TooLarge);
        assert_eq!(status(429), CallOutcome::Throttled);
        assert_eq!(status(503), CallOutcome::Transient("HTTP 503".to_owned()));
        assert_eq!(
            status(403),
            CallOutcome::Permanent("HTTP 403: Kind: message".to_owned())
        );
        let timeout = classify_post(Err(PostError::Timeout(Duration::from_secs(5))));
        assert!(matches!(timeout, CallOutcome::Transient(_)));
        let refused = classify_post(Err(PostError::Dispatch("refused".to_owned())));
        assert!(matches!(refused, CallOutcome::Transient(_)));
        let empty = classify_post(Err(PostError::Construction("empty".to_owned())));
        assert!(matches!(empty, CallOutcome::Permanent(_)));
    }

    #[test]
    fn loopback_endpoints_use_local_credentials() {
        assert_eq!(
            super::url_host("http://127.0.0.1:4000/local").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            super::url_host("https://abc.execute-api.ap-northeast-1.amazonaws.com/prod").as_deref(),
            Some("abc.execute-api.ap-northeast-1.amazonaws.com")
        );
    }
}
