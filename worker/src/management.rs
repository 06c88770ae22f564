//! The API Gateway Management API through the unmodified AWS SDK, with its own retries off:
//! retries happen per connection in the fan-out, so attempts do not multiply under throttling.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::{Credentials, Region};
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use shared::config::WorkerSettings;

use crate::metrics::PostMetrics;
use crate::rate_limit::ThrottleSignal;

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
    client: Client,
    posts: PostMetrics,
}

impl ManagementApi {
    pub async fn new(settings: &WorkerSettings) -> Self {
        let timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(settings.apigw_timeout)
            .operation_timeout(settings.apigw_timeout)
            .connect_timeout(Duration::from_secs(3))
            .build();
        let mut builder = if uses_real_credentials(settings) {
            // The region is ours to give: left to the loader, it would ask EC2 instance
            // metadata for one at start-up, wherever the worker runs.
            let shared = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(settings.apigw_region.clone()))
                .load()
                .await;
            aws_sdk_apigatewaymanagement::config::Builder::from(&shared)
        } else {
            // A local emulator accepts any signature; don't make a newcomer configure AWS.
            aws_sdk_apigatewaymanagement::config::Builder::new()
                .behavior_version(BehaviorVersion::latest())
                .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        };
        builder = builder
            .endpoint_url(&settings.apigw_endpoint)
            .region(Region::new(settings.apigw_region.clone()))
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts);
        Self {
            client: Client::from_conf(builder.build()),
            posts: PostMetrics::register(),
        }
    }

    pub async fn post(&self, connection_id: &str, data: Vec<u8>) -> CallOutcome {
        let started = Instant::now();
        let result = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(data))
            .send()
            .await
            .map(|_| ());
        self.posts
            .observe(connection_id, &result, started.elapsed());
        classify(result)
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
        return match status {
            410 => CallOutcome::Gone,
            413 => CallOutcome::TooLarge,
            429 => CallOutcome::Throttled,
            500..=599 => CallOutcome::Transient(format!("HTTP {status}")),
            _ => CallOutcome::Permanent(format!("HTTP {status}: {}", describe(&error))),
        };
    }
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            CallOutcome::Transient(describe(&error))
        }
        _ => CallOutcome::Permanent(describe(&error)),
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
