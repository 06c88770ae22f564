//! A sent message arrives, whatever breaks in the middle: measured from outside with real
//! WebSocket clients through the emulator (Management API at 20 ms a POST), the worker at
//! its default concurrency and lease, and per-connection counts of what arrived.
//!
//! The contract under test (README, "Delivery guarantees"): no connection is ever left
//! without a message; a copy beyond the first happens only where a fault left POSTs in
//! flight (a killed worker) or Redis lost its data, and then at most once more.

use std::time::{Duration, Instant};

use e2e::postgres_server::PostgresServer;
use e2e::redis_server::RedisServer;
use e2e::stack::Stack;
use e2e::swarm::Swarm;
use e2e::ws_client::WsClient;
use e2e::{TestEnv, WebOptions, WorkerOptions, WorkerProcess, audience, wait_until};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::json;
use shared::entities::{messages, users};
use shared::queries::tokens;

// One of these tests at a time: each drives 15,000 POSTs through its own stack.
use crate::common::ONE_HEAVY_TEST_AT_A_TIME as ONE_AT_A_TIME;

const CLIENTS: usize = 1_500;
const MESSAGES: usize = 10;
const POST_LATENCY_MS: u64 = 20;
/// The worker's defaults: broadcast jobs at once × POSTs in flight per job.
const MOST_POSTS_IN_FLIGHT: usize = 4 * 256;

/// A chat of `CLIENTS` listeners and one sender, all of one user, on a stack whose
/// emulator answers each POST after `POST_LATENCY_MS`.
struct Chat {
    env: TestEnv,
    db: DatabaseConnection,
    stack: Stack,
    swarm: Swarm,
    sender: WsClient,
    sender_token: String,
    /// Last, so the next test starts only once this one's processes are gone.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Chat {
    /// `redis_url` points web and worker at a Redis of the test's own.
    async fn start(clients: usize, redis_url: Option<String>) -> Self {
        Self::start_with(clients, redis_url, &[]).await
    }

    /// `worker_env` is added to the first worker's environment.
    async fn start_with(
        clients: usize,
        redis_url: Option<String>,
        worker_env: &[(&str, &str)],
    ) -> Self {
        Self::start_on(TestEnv::postgres().await, clients, redis_url, worker_env).await
    }

    async fn start_on(
        env: TestEnv,
        clients: usize,
        redis_url: Option<String>,
        worker_env: &[(&str, &str)],
    ) -> Self {
        let turn = ONE_AT_A_TIME.lock().await;
        let db = env.db.connect().await;
        let web_options = WebOptions {
            redis_url: redis_url.clone(),
            ..WebOptions::default()
        };
        let mut first_worker = Self::worker_env(redis_url.as_deref());
        first_worker.extend_from_slice(worker_env);
        let stack = Stack::start(&env, web_options, &first_worker).await;
        stack
            .emulator
            .set_faults(json!({"post_latency_ms": POST_LATENCY_MS}))
            .await;
        let alice = audience::user(&db, "alice").await;
        let joining = Instant::now();
        let swarm = Swarm::join(&stack, &db, &alice, clients).await;
        eprintln!("{clients} clients joined in {:?}", joining.elapsed());
        let (sender, sender_token) = Self::sender(&stack, &db, &alice).await;
        Self {
            env,
            db,
            stack,
            swarm,
            sender,
            sender_token,
            _turn: turn,
        }
    }

    /// The production lease and sweep settings, not the harness's short ones.
    fn worker_env(redis_url: Option<&str>) -> Vec<(&str, &str)> {
        let mut env = vec![("JOB_LEASE_SECS", "5"), ("WORKER_IDLE_POLL_MS", "200")];
        if let Some(url) = redis_url {
            env.push(("REDIS_URL", url));
        }
        env
    }

    async fn sender(
        stack: &Stack,
        db: &DatabaseConnection,
        user: &users::Model,
    ) -> (WsClient, String) {
        let token = tokens::issue(db, Some(user.id)).await.unwrap().code;
        (stack.authenticated_client(&token).await, token)
    }

    /// Sends `count` messages to all_channel; each answered `send_result` success. Returns
    /// their ids.
    async fn send(&mut self, count: usize) -> Vec<i64> {
        for n in 0..count {
            let frame = json!({
                "method": "send_message",
                "token": self.sender_token,
                "channel": "all_channel",
                "body": format!("message {n}"),
            });
            let reply = self.sender.request(&frame, "send_result").await;
            assert_eq!(reply["success"], true, "{reply}");
        }
        messages::Entity::find()
            .order_by_asc(messages::Column::Id)
            .all(&self.db)
            .await
            .unwrap()
            .into_iter()
            .map(|message| message.id)
            .collect()
    }

    /// Waits until a tenth of all copies arrived: the broadcasts are under way.
    async fn wait_for_a_tenth(&self, messages: usize) -> u64 {
        let tenth = (self.swarm.len() * messages / 10) as u64;
        wait_until(Duration::from_secs(60), || async {
            self.swarm.total_received() >= tenth
        })
        .await
        .expect("deliveries start");
        self.swarm.total_received()
    }

    fn worker_options(&self, redis_url: Option<&str>) -> WorkerOptions {
        let mut options = WorkerOptions::new(self.stack.emulator.management_endpoint());
        for (name, value) in Self::worker_env(redis_url) {
            options = options.with_env(name, value);
        }
        options
    }

    /// Waits for every client to hold every message; panics with the tally if not.
    async fn assert_everyone_got(&self, ids: &[i64], within: Duration) -> e2e::swarm::Tally {
        let everyone = self.swarm.wait_until_all_have(ids, within).await;
        let tally = self.swarm.tally(ids);
        assert!(
            everyone,
            "{tally:?} after {within:?}\nworker:\n{}",
            self.stack.worker.logs().text()
        );
        assert_eq!(tally.missing, 0);
        tally
    }
}

#[tokio::test]
async fn a_worker_killed_mid_broadcast_leaves_nobody_without_the_message() {
    let mut chat = Chat::start(CLIENTS, None).await;
    let ids = chat.send(MESSAGES).await;
    let at_kill = chat.wait_for_a_tenth(MESSAGES).await;
    chat.stack.worker.signal("KILL");
    let killed = Instant::now();
    let total = (CLIENTS * MESSAGES) as u64;
    assert!(
        at_kill < total,
        "the kill came mid-broadcast: {at_kill}/{total}"
    );
    let _takeover = WorkerProcess::spawn(&chat.env, &chat.worker_options(None)).await;
    let tally = chat
        .assert_everyone_got(&ids, Duration::from_secs(120))
        .await;
    eprintln!(
        "worker SIGKILL after {at_kill}/{total} copies: complete {:?} later, {tally:?}",
        killed.elapsed()
    );
    // Only the POSTs in flight at the kill go out again, each once.
    assert!(tally.most_copies <= 2, "{tally:?}");
    assert!(tally.duplicates <= MOST_POSTS_IN_FLIGHT, "{tally:?}");
}

#[tokio::test]
async fn a_worker_stopped_mid_broadcast_hands_it_over_without_duplicates() {
    // No grace: the jobs are handed back at once, mid-broadcast.
    let mut chat = Chat::start_with(CLIENTS, None, &[("WORKER_SHUTDOWN_GRACE_SECS", "0")]).await;
    let ids = chat.send(MESSAGES).await;
    let at_stop = chat.wait_for_a_tenth(MESSAGES).await;
    chat.stack.worker.signal("TERM");
    let _second = WorkerProcess::spawn(&chat.env, &chat.worker_options(None)).await;
    let total = (CLIENTS * MESSAGES) as u64;
    assert!(
        at_stop < total,
        "the stop came mid-broadcast: {at_stop}/{total}"
    );
    let status = chat.stack.worker.wait().await;
    assert!(status.success(), "{status}");
    let tally = chat
        .assert_everyone_got(&ids, Duration::from_secs(120))
        .await;
    eprintln!("worker SIGTERM after {at_stop}/{total} copies: {tally:?}");
    assert_eq!(
        tally.duplicates, 0,
        "a graceful stop is no fault: {tally:?}"
    );
}

/// Redis dies mid-broadcast and comes back after 2 s: empty (no persistence), or from an
/// AOF fsynced on every write.
async fn redis_dies_mid_broadcast(mut redis: RedisServer) -> e2e::swarm::Tally {
    let mut chat = Chat::start(CLIENTS, Some(redis.url())).await;
    let ids = chat.send(MESSAGES).await;
    let at_kill = chat.wait_for_a_tenth(MESSAGES).await;
    redis.kill().await;
    let total = (CLIENTS * MESSAGES) as u64;
    assert!(
        at_kill < total,
        "Redis died mid-broadcast: {at_kill}/{total}"
    );
    // The outage itself: what the processes live through, not a wait for a condition.
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.restart().await;
    let back = Instant::now();
    let tally = chat
        .assert_everyone_got(&ids, Duration::from_secs(120))
        .await;
    eprintln!(
        "Redis killed after {at_kill}/{total} copies, back after 2 s: complete {:?} after its return, {tally:?}",
        back.elapsed()
    );
    // A copy beyond the first only for what Redis forgot or never recorded.
    assert!(tally.most_copies <= 2, "{tally:?}");
    tally
}

#[tokio::test]
async fn redis_restarted_empty_mid_broadcast_leaves_nobody_without_the_message() {
    redis_dies_mid_broadcast(RedisServer::start().await).await;
}

#[tokio::test]
async fn redis_killed_with_an_aof_mid_broadcast_leaves_nobody_without_the_message() {
    redis_dies_mid_broadcast(RedisServer::start_persistent().await).await;
}

#[tokio::test]
async fn postgres_restarted_mid_broadcast_leaves_nobody_without_the_message() {
    let mut postgres = PostgresServer::start().await;
    let env = TestEnv::postgres_on(&postgres.admin_url()).await;
    let mut chat = Chat::start_on(env, CLIENTS, None, &[]).await;
    let ids = chat.send(MESSAGES).await;
    let at_stop = chat.wait_for_a_tenth(MESSAGES).await;
    postgres.stop().await;
    let total = (CLIENTS * MESSAGES) as u64;
    assert!(
        at_stop < total,
        "PostgreSQL stopped mid-broadcast: {at_stop}/{total}"
    );
    // The outage itself: what the processes live through, not a wait for a condition.
    tokio::time::sleep(Duration::from_secs(2)).await;
    postgres.resume().await;
    let back = Instant::now();
    let tally = chat
        .assert_everyone_got(&ids, Duration::from_secs(120))
        .await;
    eprintln!(
        "PostgreSQL stopped after {at_stop}/{total} copies, back after 2 s: complete {:?} after its return, {tally:?}",
        back.elapsed()
    );
    // Redis kept every delivery record: nobody gets a message twice.
    assert_eq!(tally.duplicates, 0, "{tally:?}");
}

#[tokio::test]
async fn a_message_sent_while_redis_is_down_is_stored_answered_and_delivered_once_it_is_back() {
    const FEW: usize = 100;
    let mut redis = RedisServer::start().await;
    let mut chat = Chat::start(FEW, Some(redis.url())).await;
    redis.kill().await;
    let sent = Instant::now();
    let ids = chat.send(1).await;
    eprintln!(
        "send_result success {:?} after the send, Redis down",
        sent.elapsed()
    );
    // Stored and readable at once, as the answer said.
    let history = chat
        .sender
        .request(
            &json!({"method": "get_messages", "token": chat.sender_token}),
            "get_messages",
        )
        .await;
    assert_eq!(history["messages"][0]["id"], ids[0], "{history}");
    assert_eq!(
        chat.swarm.total_received(),
        0,
        "nothing could be broadcast yet"
    );
    redis.restart().await;
    let back = Instant::now();
    let tally = chat
        .assert_everyone_got(&ids, Duration::from_secs(60))
        .await;
    eprintln!(
        "delivered to {FEW} clients {:?} after Redis came back: {tally:?}",
        back.elapsed()
    );
    assert_eq!(tally.duplicates, 0, "{tally:?}");
}
