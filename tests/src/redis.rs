//! A Redis namespace of one test: `QUEUE_PREFIX=t-<uuid>`, its keys deleted afterwards.
//!
//! The readers here spell the queue's keys out (`{<prefix>:<queue>}:<name>`) instead of
//! borrowing them from `shared`, because operators rely on that layout (`redis-cli`).

use redis::AsyncCommands;
use serde_json::Value;

pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The two queues: `default` (BroadcastJob) and `low_priority` (DeleteConnectionJob).
pub const DEFAULT_QUEUE: &str = "default";
pub const LOW_PRIORITY_QUEUE: &str = "low_priority";

/// One stored job: its id, its JSON and, for a scheduled job, when it is due (ms).
#[derive(Debug, Clone)]
pub struct QueuedJob {
    pub id: String,
    pub json: Value,
    pub due_ms: Option<i64>,
}

pub struct RedisNamespace {
    url: String,
    prefix: String,
    client: redis::Client,
}

impl RedisNamespace {
    /// A fresh prefix on `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`).
    pub fn new() -> Self {
        let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned());
        let client = redis::Client::open(url.as_str())
            .unwrap_or_else(|error| panic!("TEST_REDIS_URL {url}: {error}"));
        Self {
            prefix: format!("t-{}", uuid::Uuid::new_v4().simple()),
            url,
            client,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `QUEUE_PREFIX` of this test.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `{<prefix>:<queue>}:<name>`, e.g. `{t-…:low_priority}:scheduled`.
    pub fn key(&self, queue: &str, name: &str) -> String {
        format!("{{{}:{queue}}}:{name}", self.prefix)
    }

    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|error| panic!("cannot connect to Redis {}: {error}", self.url))
    }

    /// How many jobs the queue holds in any state (its `jobs` hash).
    pub async fn stored_jobs(&self, queue: &str) -> usize {
        let mut connection = self.connection().await;
        connection
            .hlen(self.key(queue, "jobs"))
            .await
            .expect("HLEN jobs")
    }

    /// Jobs ready to run, oldest first.
    pub async fn waiting(&self, queue: &str) -> Vec<QueuedJob> {
        let mut connection = self.connection().await;
        let mut ids: Vec<String> = connection
            .lrange(self.key(queue, "waiting"), 0, -1)
            .await
            .expect("LRANGE waiting");
        ids.reverse();
        let mut jobs = Vec::new();
        for id in ids {
            jobs.push(self.job(&mut connection, queue, id, None).await);
        }
        jobs
    }

    /// Delayed jobs with their due time, soonest first.
    pub async fn scheduled(&self, queue: &str) -> Vec<QueuedJob> {
        let mut connection = self.connection().await;
        let entries: Vec<(String, f64)> = connection
            .zrange_withscores(self.key(queue, "scheduled"), 0, -1)
            .await
            .expect("ZRANGE scheduled");
        let mut jobs = Vec::new();
        for (id, due) in entries {
            jobs.push(self.job(&mut connection, queue, id, Some(due as i64)).await);
        }
        jobs
    }

    async fn job(
        &self,
        connection: &mut redis::aio::MultiplexedConnection,
        queue: &str,
        id: String,
        due_ms: Option<i64>,
    ) -> QueuedJob {
        let payload: Option<String> = connection
            .hget(self.key(queue, "jobs"), &id)
            .await
            .expect("HGET jobs");
        let payload = payload.unwrap_or_else(|| panic!("job {id} of {queue} has no payload"));
        let json = serde_json::from_str(&payload)
            .unwrap_or_else(|error| panic!("job {id} is not JSON ({error}): {payload}"));
        QueuedJob { id, json, due_ms }
    }

    /// The queues' keys (`{<prefix>:<queue>}:…`) and the delivery records (`<prefix>:…`).
    fn patterns(&self) -> [String; 2] {
        [format!("{{{}:*", self.prefix), format!("{}:*", self.prefix)]
    }

    /// One SCAN walk per pattern, synchronous because `Drop` cannot await.
    fn scan_keys(&self, connection: &mut redis::Connection) -> redis::RedisResult<Vec<String>> {
        let mut keys = Vec::new();
        for pattern in self.patterns() {
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query(connection)?;
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(keys)
    }

    fn delete_keys(&self) -> redis::RedisResult<()> {
        let mut connection = self
            .client
            .get_connection_with_timeout(std::time::Duration::from_secs(2))?;
        for batch in self.scan_keys(&mut connection)?.chunks(1000) {
            redis::cmd("DEL").arg(batch).query::<()>(&mut connection)?;
        }
        Ok(())
    }
}

impl Default for RedisNamespace {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RedisNamespace {
    /// Best effort, never panics.
    fn drop(&mut self) {
        if let Err(error) = self.delete_keys() {
            eprintln!(
                "warning: could not delete the Redis keys of {}: {error}",
                self.prefix
            );
        }
    }
}
