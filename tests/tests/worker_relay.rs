//! The relay (`ACTION_CABLE_RELAY`): what a Rails app publishes on its Action Cable streams
//! reaches the API Gateway clients of that stream byte for byte, once per connection with
//! two workers listening, and the workers' own publications never come back.
//!
//! `redis-cli PUBLISH` stands in for Rails (`ActionCable.server.broadcast` is exactly that
//! `PUBLISH`). "Nothing more arrived" is asserted only after a later marker publication
//! reached everyone and the queue is empty.

use std::time::Duration;

use e2e::audience::{self, broadcast};
use e2e::redis::DEFAULT_QUEUE;
use e2e::stack::Stack;
use e2e::swarm::Swarm;
use e2e::{TestEnv, WebOptions, WorkerOptions, WorkerProcess, wait_until};
use futures::StreamExt;
use redis::AsyncCommands;
use sea_orm::DatabaseConnection;
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(60);
/// API Gateway's own latency, roughly: fan-outs overlap as they would in AWS.
const POST_LATENCY_MS: u64 = 20;

/// Web, the emulator and two workers relaying under a prefix of this test's own.
struct RelayWorld {
    env: TestEnv,
    db: DatabaseConnection,
    stack: Stack,
    second_worker: WorkerProcess,
    /// `ACTION_CABLE_CHANNEL_PREFIX`.
    prefix: String,
}

impl RelayWorld {
    async fn start() -> Self {
        let env = TestEnv::postgres().await;
        let db = env.db.connect().await;
        let prefix = format!("rails_{}", env.redis.prefix());
        let worker_env = [
            ("ACTION_CABLE_RELAY", "true"),
            ("ACTION_CABLE_ENABLED", "true"),
            ("ACTION_CABLE_CHANNEL_PREFIX", prefix.as_str()),
        ];
        let stack = Stack::start(&env, WebOptions::default(), &worker_env).await;
        let options = worker_env.iter().fold(
            WorkerOptions::new(stack.emulator.management_endpoint()),
            |options, (name, value)| options.with_env(name, value),
        );
        let second_worker = WorkerProcess::spawn(&env, &options).await;
        stack
            .emulator
            .set_faults(json!({"post_latency_ms": POST_LATENCY_MS}))
            .await;
        let world = Self {
            env,
            db,
            stack,
            second_worker,
            prefix,
        };
        world.wait_until_both_relays_listen().await;
        world
    }

    /// A relay subscribes to the users' pattern before everyone's channel, so two
    /// subscribers of everyone's channel are two relays listening to both.
    async fn wait_until_both_relays_listen(&self) {
        let channel = format!("{}:all_channel", self.prefix);
        let redis = self.env.redis.connection().await;
        wait_until(DEADLINE, || {
            let (channel, mut redis) = (channel.clone(), redis.clone());
            async move {
                let counts: Vec<(String, usize)> = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(&channel)
                    .query_async(&mut redis)
                    .await
                    .expect("PUBSUB NUMSUB");
                counts.first().is_some_and(|(_, count)| *count == 2)
            }
        })
        .await
        .expect("both workers' relays subscribe");
    }

    /// What `ActionCable.server.broadcast(stream, ..)` does, by the real `redis-cli`.
    async fn rails_broadcast(&self, stream: &str, payload: &str) {
        let output = tokio::process::Command::new("redis-cli")
            .args(["-u", self.env.redis.url(), "PUBLISH"])
            .arg(format!("{}:{stream}", self.prefix))
            .arg(payload)
            .output()
            .await
            .expect("redis-cli runs");
        assert!(output.status.success(), "redis-cli failed: {output:?}");
        let receivers = String::from_utf8_lossy(&output.stdout);
        assert!(
            receivers
                .trim()
                .parse::<u32>()
                .is_ok_and(|count| count >= 2),
            "both relays receive it: {receivers}"
        );
    }

    /// Publishes `marker` on all_channel and waits until every client of `swarms` has it and
    /// no job is left: whatever was published before it has been dealt with.
    async fn settle(&self, swarms: &[&Swarm], marker: &str) {
        self.rails_broadcast("all_channel", marker).await;
        for swarm in swarms {
            assert!(
                swarm.wait_until_all_have_text(marker, DEADLINE).await,
                "the marker reaches everyone: {:?}",
                swarm.text_copies(marker)
            );
        }
        wait_until(DEADLINE, || async {
            self.env.redis.stored_jobs(DEFAULT_QUEUE).await == 0
        })
        .await
        .expect("every job finishes");
    }

    async fn swarm(&self, code: &str, clients: usize) -> Swarm {
        let user = audience::user(&self.db, code).await;
        Swarm::join(&self.stack, &self.db, &user, clients).await
    }
}

fn all_equal(copies: &[u32], expected: u32) -> bool {
    copies.iter().all(|copies| *copies == expected)
}

#[tokio::test]
async fn a_rails_broadcast_reaches_every_connection_once_byte_for_byte() {
    let world = RelayWorld::start().await;
    let alices = world.swarm("alice", 20).await;
    let bobs = world.swarm("bob", 16).await;
    // Spacing, key order and non-ASCII text that a re-encoding would change.
    let from_rails = r#"{"type" : "notice","text":"Rails が言う ✓", "n":[1, 2.50]}"#;

    world.rails_broadcast("all_channel", from_rails).await;
    world.settle(&[&alices, &bobs], r#"{"marker":1}"#).await;
    for swarm in [&alices, &bobs] {
        let copies = swarm.text_copies(from_rails);
        assert!(
            all_equal(&copies, 1),
            "once each, byte for byte: {copies:?}"
        );
    }

    // The same JSON published again is a second broadcast, as Rails would deliver it.
    world.rails_broadcast("all_channel", from_rails).await;
    world.settle(&[&alices, &bobs], r#"{"marker":2}"#).await;
    for swarm in [&alices, &bobs] {
        let copies = swarm.text_copies(from_rails);
        assert!(all_equal(&copies, 2), "twice each: {copies:?}");
        let others = swarm.other_texts(&[from_rails, r#"{"marker":1}"#, r#"{"marker":2}"#]);
        assert!(others.is_empty(), "nothing else arrived: {others:?}");
    }
}

#[tokio::test]
async fn a_user_stream_reaches_only_that_users_connections() {
    let world = RelayWorld::start().await;
    let alices = world.swarm("alice", 12).await;
    let bobs = world.swarm("bob", 12).await;
    let to_alice = r#"{"to":"alice"}"#;
    let to_nobody = r#"{"to":"nobody"}"#;
    let marker = r#"{"marker":true}"#;

    world.rails_broadcast("user_channel_alice", to_alice).await;
    world
        .rails_broadcast("user_channel_nobody", to_nobody)
        .await;
    world.settle(&[&alices, &bobs], marker).await;

    let copies = alices.text_copies(to_alice);
    assert!(
        all_equal(&copies, 1),
        "alice's connections, once each: {copies:?}"
    );
    let alices_others = alices.other_texts(&[to_alice, marker]);
    assert!(alices_others.is_empty(), "{alices_others:?}");
    let bobs_others = bobs.other_texts(&[marker]);
    assert!(bobs_others.is_empty(), "bob gets neither: {bobs_others:?}");
}

#[tokio::test]
async fn a_broadcast_of_ours_is_published_for_rails_but_never_relayed_back() {
    let world = RelayWorld::start().await;
    let alice = audience::user(&world.db, "alice").await;
    let alices = Swarm::join(&world.stack, &world.db, &alice, 24).await;
    let client = redis::Client::open(world.env.redis.url()).unwrap();
    let mut rails = client.get_async_pubsub().await.unwrap();
    rails
        .subscribe(format!("{}:all_channel", world.prefix))
        .await
        .unwrap();

    let message_id = broadcast(&world.env, &world.db, &alice, "all_channel", "hello").await;
    assert!(alices.wait_until_all_have(&[message_id], DEADLINE).await);
    // The publication the relays must not send back did happen.
    let published = tokio::time::timeout(DEADLINE, rails.on_message().next())
        .await
        .expect("the broadcast is published for Rails")
        .unwrap();
    let published: serde_json::Value =
        serde_json::from_str(&published.get_payload::<String>().unwrap()).unwrap();
    assert_eq!(published["messages"][0]["id"], message_id);

    world.settle(&[&alices], r#"{"marker":"after"}"#).await;
    let tally = alices.tally(&[message_id]);
    assert_eq!((tally.missing, tally.duplicates), (0, 0), "{tally:?}");
    let mut redis = world.env.redis.connection().await;
    let own_marks: Vec<String> = redis
        .keys(format!("{{{}:relay}}:own:*", world.env.redis.prefix()))
        .await
        .unwrap();
    assert_eq!(own_marks.len(), 1, "the publication was marked as ours");
}

#[tokio::test]
async fn invalid_json_is_ignored_and_the_workers_keep_relaying() {
    let mut world = RelayWorld::start().await;
    let alices = world.swarm("alice", 12).await;
    let marker = r#"{"marker":"valid"}"#;

    for invalid in ["{not json", "", r#"{"a":1} trailing"#] {
        world.rails_broadcast("all_channel", invalid).await;
    }
    world.settle(&[&alices], marker).await;

    let others = alices.other_texts(&[marker]);
    assert!(others.is_empty(), "nothing but the marker: {others:?}");
    assert!(all_equal(&alices.text_copies(marker), 1));
    assert!(world.stack.worker.is_running() && world.second_worker.is_running());
    for worker in [&world.stack.worker, &world.second_worker] {
        assert!(
            worker.logs().text().contains("not JSON; ignored"),
            "each worker says why"
        );
    }
}
