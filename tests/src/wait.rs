//! Waiting for a condition with a deadline: tests never sleep for a guessed duration.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often a condition is checked again.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// The condition was still false at the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "condition still false after {:?}", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// Checks `condition` until it holds or `timeout` passes; the last check runs at the
/// deadline, so a slow machine only makes a passing test slower.
///
/// ```no_run
/// # async fn example(web: &e2e::WebApp) {
/// use std::time::Duration;
/// e2e::wait_until(Duration::from_secs(5), || async {
///     web.get("/readyz").await.0 == 200
/// })
/// .await
/// .expect("web becomes ready");
/// # }
/// ```
pub async fn wait_until<F, Fut>(timeout: Duration, mut condition: F) -> Result<(), TimedOut>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(TimedOut(timeout));
        }
        tokio::time::sleep_until((Instant::now() + POLL_EVERY).min(deadline)).await;
    }
}
