//! `worker_management_posts_total{outcome}` and `worker_management_post_seconds`.

use std::time::Duration;

use metrics::{Counter, Histogram};

use crate::management::PostError;

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

    /// By the status when there is an answer, as the client's own classification does.
    pub fn of(result: &Result<(), PostError>) -> Self {
        match result {
            Ok(()) => Self::Ok,
            Err(PostError::Status { status, .. }) => match status {
                410 => Self::Gone,
                429 => Self::Throttled,
                500..=599 => Self::ServerError,
                _ => Self::Other,
            },
            Err(PostError::Timeout(_) | PostError::ConnectTimeout(_)) => Self::Timeout,
            Err(
                PostError::Dispatch(_) | PostError::Credentials(_) | PostError::Construction(_),
            ) => Self::Other,
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

    /// Counts one post, and logs a 5xx or a timeout at WARN (the error names the status and
    /// AWS's message, never the signature): API Gateway is failing, which an operator wants
    /// to see. 429 and 410 are the normal life of a busy chat: counted, and logged at DEBUG
    /// by the fan-out.
    pub fn observe(
        &self,
        connection_id: &str,
        result: &Result<(), PostError>,
        elapsed: Duration,
    ) -> PostOutcome {
        let outcome = PostOutcome::of(result);
        self.by_outcome[outcome as usize].increment(1);
        self.latency.record(elapsed.as_secs_f64());
        if let (PostOutcome::ServerError | PostOutcome::Timeout, Err(error)) = (outcome, result) {
            tracing::warn!(
                connection_id,
                outcome = outcome.label(),
                reason = %error,
                elapsed_ms = elapsed.as_millis() as u64,
                "Management API post failed; it will be retried"
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16) -> PostOutcome {
        PostOutcome::of(&Err(PostError::Status {
            status,
            reason: "Kind".to_owned(),
        }))
    }

    #[test]
    fn outcomes_follow_the_status() {
        assert_eq!(PostOutcome::of(&Ok(())), PostOutcome::Ok);
        assert_eq!(answered(410), PostOutcome::Gone);
        assert_eq!(answered(429), PostOutcome::Throttled);
        assert_eq!(answered(500), PostOutcome::ServerError);
        assert_eq!(answered(503), PostOutcome::ServerError);
        assert_eq!(answered(403), PostOutcome::Other);
        assert_eq!(answered(413), PostOutcome::Other);
    }

    #[test]
    fn timeouts_are_told_apart_from_refusals() {
        let timed_out = Err(PostError::Timeout(Duration::from_secs(5)));
        assert_eq!(PostOutcome::of(&timed_out), PostOutcome::Timeout);
        let connect_timeout = Err(PostError::ConnectTimeout("connect".to_owned()));
        assert_eq!(PostOutcome::of(&connect_timeout), PostOutcome::Timeout);
        let refused = Err(PostError::Dispatch("connection refused".to_owned()));
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
