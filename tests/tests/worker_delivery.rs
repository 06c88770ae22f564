//! BroadcastJob and DeleteConnectionJob against a Management API that answers like AWS.

use std::time::Duration;

use e2e::audience::{self, bind, bind_many, broadcast};
use e2e::fake_management::FakeManagementApi;
use e2e::{TestEnv, WorkerOptions, WorkerProcess, fixtures, wait_until};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(20);

async fn setup(
    extra: &[(&str, &str)],
) -> (
    TestEnv,
    sea_orm::DatabaseConnection,
    FakeManagementApi,
    WorkerProcess,
) {
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let api = FakeManagementApi::start().await;
    let mut options = WorkerOptions::new(api.endpoint());
    for (name, value) in extra {
        options = options.with_env(name, value);
    }
    let worker = WorkerProcess::spawn(&env, &options).await;
    (env, db, api, worker)
}

#[tokio::test]
async fn all_channel_reaches_every_authenticated_connection_exactly_once() {
    let (env, db, api, _worker) = setup(&[]).await;
    let alice = audience::user(&db, "alice").await;
    let bob = audience::user(&db, "bob").await;
    let mut targets = bind_many(&db, &alice, "alice", 3).await;
    targets.extend(bind_many(&db, &bob, "bob", 2).await);
    bind(&db, None, "guest-1").await;
    targets.push("guest-1".to_owned());
    // Not targeted: a token that never authenticated, and one that disconnected.
    shared::queries::tokens::issue(&db, Some(bob.id))
        .await
        .unwrap();
    bind(&db, Some(&bob), "left-1").await;
    let left =
        shared::domain::Peer::Gateway(shared::domain::ConnectionId::parse("left-1").unwrap());
    shared::queries::tokens::mark_unsubscribed(&db, &left)
        .await
        .unwrap();

    let message_id = broadcast(&env, &db, &alice, "all_channel", "hello all").await;
    wait_until(DEADLINE, || async {
        api.total_delivered() == targets.len()
    })
    .await
    .expect("every connection gets the message");
    for id in &targets {
        let bodies = api.delivered(id);
        assert_eq!(bodies.len(), 1, "{id} got {bodies:?}");
        let frame: Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(frame["action"], "send_message");
        assert_eq!(frame["success"], true);
        let message = &frame["messages"][0];
        assert_eq!(message["id"], message_id);
        assert_eq!(message["body"], "hello all");
        assert_eq!(message["channel"], "all_channel");
        assert_eq!(message["user"]["code"], "alice");
        assert!(
            message["user"]["image_url"]["mini"]
                .as_str()
                .unwrap()
                .starts_with("http")
        );
    }
    assert_eq!(api.attempts("left-1"), 0);
}

#[tokio::test]
async fn user_channel_reaches_only_the_senders_connections() {
    let (env, db, api, _worker) = setup(&[]).await;
    let alice = audience::user(&db, "alice").await;
    let bob = audience::user(&db, "bob").await;
    let alices = bind_many(&db, &alice, "alice", 2).await;
    let bobs = bind_many(&db, &bob, "bob", 2).await;
    broadcast(&env, &db, &alice, "user_channel", "just me").await;
    wait_until(DEADLINE, || async { api.total_delivered() == 2 })
        .await
        .unwrap();
    for id in &alices {
        let frame: Value = serde_json::from_str(&api.delivered(id)[0]).unwrap();
        assert_eq!(frame["messages"][0]["channel"], "user_channel_alice");
    }
    // Once alice's broadcast has finished, a later message to everyone reaches bob: had
    // the first one been sent to him, it would have arrived before.
    wait_until(DEADLINE, || async {
        env.redis.stored_jobs(e2e::redis::DEFAULT_QUEUE).await == 0
    })
    .await
    .expect("alice's broadcast finishes");
    broadcast(&env, &db, &bob, "all_channel", "to everyone").await;
    wait_until(DEADLINE, || async {
        bobs.iter().all(|id| api.delivered_count(id) >= 1)
    })
    .await
    .expect("the later message reaches bob");
    for id in &bobs {
        let bodies: Vec<Value> = api
            .delivered(id)
            .iter()
            .map(|frame| {
                serde_json::from_str::<Value>(frame).unwrap()["messages"][0]["body"].clone()
            })
            .collect();
        assert_eq!(
            bodies,
            ["to everyone"],
            "{id} must not get alice's user channel"
        );
    }
}

#[tokio::test]
async fn gone_connections_are_retired_and_never_targeted_again() {
    let (env, db, api, _worker) = setup(&[]).await;
    let alice = audience::user(&db, "alice").await;
    bind(&db, Some(&alice), "gone-1").await;
    bind(&db, Some(&alice), "gonebare-1").await;
    bind(&db, Some(&alice), "ok-1").await;
    broadcast(&env, &db, &alice, "all_channel", "first").await;
    wait_until(DEADLINE, || async {
        let gone = fixtures::token_on(&db, "gone-1")
            .await
            .and_then(|t| t.last_status);
        let bare = fixtures::token_on(&db, "gonebare-1")
            .await
            .and_then(|t| t.last_status);
        gone.as_deref() == Some("gone") && bare.as_deref() == Some("gone")
    })
    .await
    .expect("a 410, with or without x-amzn-ErrorType, retires the token");
    broadcast(&env, &db, &alice, "all_channel", "second").await;
    wait_until(DEADLINE, || async { api.delivered_count("ok-1") == 2 })
        .await
        .unwrap();
    assert_eq!(api.attempts("gone-1"), 1);
    assert_eq!(api.attempts("gonebare-1"), 1);
}

#[tokio::test]
async fn throttled_and_failing_connections_are_retried_alone() {
    let (env, db, api, _worker) = setup(&[]).await;
    let alice = audience::user(&db, "alice").await;
    for id in ["throttled-1", "broken-1", "ok-1", "ok-2"] {
        bind(&db, Some(&alice), id).await;
    }
    broadcast(&env, &db, &alice, "all_channel", "retry me").await;
    wait_until(DEADLINE, || async { api.total_delivered() == 4 })
        .await
        .unwrap();
    for id in ["throttled-1", "broken-1", "ok-1", "ok-2"] {
        assert_eq!(api.delivered_count(id), 1, "{id}");
    }
    // Two refusals then success; the others were posted once: retries are per connection
    // and the SDK adds none of its own.
    assert_eq!(api.attempts("throttled-1"), 3);
    assert_eq!(api.attempts("broken-1"), 3);
    assert_eq!((api.attempts("ok-1"), api.attempts("ok-2")), (1, 1));
}

#[tokio::test]
async fn payload_too_large_is_a_permanent_failure_for_that_connection() {
    let (env, db, api, worker) = setup(&[]).await;
    let alice = audience::user(&db, "alice").await;
    bind(&db, Some(&alice), "big-1").await;
    bind(&db, Some(&alice), "ok-1").await;
    let message_id = broadcast(&env, &db, &alice, "all_channel", "too big for one").await;
    wait_until(DEADLINE, || async { api.delivered_count("ok-1") == 1 })
        .await
        .unwrap();
    wait_until(DEADLINE, || async {
        worker.logs().text().contains("payload too large")
            && env.redis.waiting("default").await.is_empty()
    })
    .await
    .expect("413 is logged");
    let logged = worker.logs().text();
    assert!(
        logged.contains(&format!("message_id={message_id}")),
        "the log names the message: {logged}"
    );
    assert_eq!(api.attempts("big-1"), 1, "413 is not retried");
}

#[tokio::test]
async fn a_large_audience_is_split_into_sub_jobs_and_delivered_once() {
    let (env, db, api, _worker) = setup(&[("BROADCAST_SPLIT_SIZE", "10")]).await;
    let alice = audience::user(&db, "alice").await;
    let ids = bind_many(&db, &alice, "conn", 35).await;
    broadcast(&env, &db, &alice, "all_channel", "split").await;
    wait_until(DEADLINE, || async { api.total_delivered() == 35 })
        .await
        .unwrap();
    assert!(ids.iter().all(|id| api.delivered_count(id) == 1));
    let mut redis = env.redis.connection().await;
    let pushed: u64 =
        redis::AsyncCommands::hget(&mut redis, env.redis.key("default", "stats"), "pushed")
            .await
            .unwrap();
    assert_eq!(pushed, 1 + 4, "the broadcast and its four parts");
}

#[tokio::test]
async fn delete_connection_closes_and_410_counts_as_done() {
    let (env, _db, api, _worker) = setup(&[]).await;
    audience::delete_jobs(&env, "ok", 2).await;
    audience::delete_jobs(&env, "gone", 2).await;
    wait_until(DEADLINE, || async {
        ["ok-0", "ok-1", "gone-0", "gone-1"]
            .iter()
            .all(|id| api.deletes(id) == 1)
    })
    .await
    .unwrap();
    let counts = audience::queues(&env).low_priority.counts().await.unwrap();
    wait_until(DEADLINE, || async {
        let counts = audience::queues(&env).low_priority.counts().await.unwrap();
        counts.running == 0 && counts.done_kept == 4
    })
    .await
    .unwrap_or_else(|_| panic!("all four done: {counts:?}"));
    let counts = audience::queues(&env).low_priority.counts().await.unwrap();
    assert_eq!((counts.failed, counts.dead), (0, 0));
}

/// Whether its job carries the frame web rendered or not (re-enqueued from the outbox), a
/// message deleted before its broadcast runs reaches nobody; the next one still does.
#[tokio::test]
async fn a_message_deleted_before_its_broadcast_runs_reaches_nobody() {
    use sea_orm::EntityTrait;
    use shared::domain::{Channel, MessageBody};
    use shared::entities::pending_broadcasts;
    use shared::jobs::BroadcastJob;

    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let api = FakeManagementApi::start().await;
    let alice = audience::user(&db, "alice").await;
    let targets = bind_many(&db, &alice, "alice", 2).await;
    let unrendered = broadcast(&env, &db, &alice, "all_channel", "regretted").await;
    let body = MessageBody::parse("regretted too", 100).unwrap();
    let stored = shared::queries::outbox::store_message(&db, &Channel::All, &body, alice.id)
        .await
        .unwrap();
    let job = BroadcastJob::new(&stored, Channel::All).with_frame("\"rendered by web\"".into());
    audience::queues(&env)
        .enqueue_unless_live(&job)
        .await
        .unwrap();
    for id in [unrendered, stored.id] {
        fixtures::soft_delete_message(&db, id).await;
    }
    let kept = broadcast(&env, &db, &alice, "all_channel", "kept").await;

    let _worker = WorkerProcess::spawn(&env, &WorkerOptions::new(api.endpoint())).await;
    wait_until(DEADLINE, || async {
        pending_broadcasts::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    })
    .await
    .expect("all three broadcasts finish");
    for id in &targets {
        let bodies = api.delivered(id);
        assert_eq!(bodies.len(), 1, "{id} got {bodies:?}");
        let frame: Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(frame["messages"][0]["id"], kept, "{id} got {bodies:?}");
    }
}
