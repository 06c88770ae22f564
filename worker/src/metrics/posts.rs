//! `worker_management_posts_total{outcome}` and `worker_management_post_seconds`.

use std::time::Duration;

use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_smithy_runtime_api::http::Response;
use metrics::{Counter, Histogram};

use crate::management::describe;

/// What one `PostToConnection` came to, as the metric names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutcome {
    Ok,
    /// 410: the connection is gone.
    Gone,
    /// 429: API Gateway's quota, or the client's buffer.
    Throttled,
    ServerError,
    /// No answer in `APIGW_TIMEOUT_MS`, or no connection within the connect timeout.
    Timeout,
    /// 413, 403, 400, a refused connection: whatever else.
    Other,
}

impl PostOutcome {
    const ALL: [PostOutcome; 6] = [
        Self::Ok,
        Self::Gone,
        Self::Throttled,
        Self::ServerError,
        Self::Timeout,
        Self::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Gone => "gone",
            Self::Throttled => "throttled",
            Self::ServerError => "5xx",
            Self::Timeout => "timeout",
            Self::Other => "other",
        }
    }

    /// Reads the raw status first, as the client's own classification does.
    pub fn of<E>(result: &Result<(), SdkError<E, Response>>) -> Self {
        let error = match result {
            Ok(()) => return Self::Ok,
            Err(error) => error,
        };
        if let Some(response) = error.raw_response() {
            return match response.status().as_u16() {
                410 => Self::Gone,
                429 => Self::Throttled,
                500..=599 => Self::ServerError,
                _ => Self::Other,
            };
        }
        match error {
            SdkError::TimeoutError(_) => Self::Timeout,
            SdkError::DispatchFailure(failure) if failure.is_timeout() => Self::Timeout,
            _ => Self::Other,
        }
    }
}

/// The handles, one counter per outcome, registered once.
#[derive(Clone)]
pub struct PostMetrics {
    by_outcome: [Counter; 6],
    latency: Histogram,
}

impl PostMetrics {
    pub fn register() -> Self {
        Self {
            by_outcome: PostOutcome::ALL.map(|outcome| {
                metrics::counter!("worker_management_posts_total", "outcome" => outcome.label())
            }),
            latency: metrics::histogram!("worker_management_post_seconds"),
        }
    }

    /// Counts one post, and logs a 5xx or a timeout at WARN (the SDK's error names the
    /// status and AWS's message, never the signature): API Gateway is failing, which an
    /// operator wants to see. 429 and 410 are the normal life of a busy chat: counted, and
    /// logged at DEBUG by the fan-out.
    pub fn observe<E: std::error::Error + 'static>(
        &self,
        connection_id: &str,
        result: &Result<(), SdkError<E, Response>>,
        elapsed: Duration,
    ) -> PostOutcome {
        let outcome = PostOutcome::of(result);
        self.by_outcome[outcome as usize].increment(1);
        self.latency.record(elapsed.as_secs_f64());
        if let (PostOutcome::ServerError | PostOutcome::Timeout, Err(error)) = (outcome, result) {
            tracing::warn!(
                connection_id,
                outcome = outcome.label(),
                reason = %describe(error),
                elapsed_ms = elapsed.as_millis() as u64,
                "Management API post failed; it will be retried"
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("modelled")]
    struct Modelled;

    /// The SDK's error for an answer with `status`, as the outcome reads it.
    fn answered(status: u16) -> PostOutcome {
        let raw = Response::new(status.try_into().unwrap(), SdkBody::empty());
        PostOutcome::of::<Modelled>(&Err(SdkError::service_error(Modelled, raw)))
    }

    #[test]
    fn outcomes_follow_the_status() {
        assert_eq!(PostOutcome::of::<Modelled>(&Ok(())), PostOutcome::Ok);
        assert_eq!(answered(410), PostOutcome::Gone);
        assert_eq!(answered(429), PostOutcome::Throttled);
        assert_eq!(answered(500), PostOutcome::ServerError);
        assert_eq!(answered(503), PostOutcome::ServerError);
        assert_eq!(answered(403), PostOutcome::Other);
        assert_eq!(answered(413), PostOutcome::Other);
    }

    #[test]
    fn timeouts_are_told_apart_from_refusals() {
        let timed_out: Result<(), SdkError<Modelled, Response>> =
            Err(SdkError::timeout_error("attempt timeout"));
        assert_eq!(PostOutcome::of(&timed_out), PostOutcome::Timeout);
        let connect_timeout: Result<(), SdkError<Modelled, Response>> = Err(
            SdkError::dispatch_failure(ConnectorError::timeout("connect".into())),
        );
        assert_eq!(PostOutcome::of(&connect_timeout), PostOutcome::Timeout);
        let refused: Result<(), SdkError<Modelled, Response>> = Err(SdkError::dispatch_failure(
            ConnectorError::io("connection refused".into()),
        ));
        assert_eq!(PostOutcome::of(&refused), PostOutcome::Other);
    }

    #[test]
    fn labels_are_the_documented_ones() {
        let labels = PostOutcome::ALL.map(PostOutcome::label);
        assert_eq!(
            labels,
            ["ok", "gone", "throttled", "5xx", "timeout", "other"]
        );
    }
}
