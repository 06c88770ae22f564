//! Action Cable and AnyCable subscribers receive each broadcast once, in their formats.

use std::time::Duration;

use e2e::audience::{self, bind, broadcast};
use e2e::fake_management::FakeManagementApi;
use e2e::{TestEnv, WorkerOptions, WorkerProcess, wait_until};
use futures::StreamExt;
use serde_json::Value;

#[tokio::test]
async fn broadcasts_are_published_for_action_cable_and_anycable() {
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let api = FakeManagementApi::start().await;
    let prefix = format!("rails_{}", env.redis.prefix());
    let anycable_channel = format!("__anycable__{}", env.redis.prefix());
    let client = redis::Client::open(env.redis.url()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.psubscribe(format!("{prefix}:*")).await.unwrap();
    pubsub.subscribe(&anycable_channel).await.unwrap();
    let options = WorkerOptions::new(api.endpoint())
        .with_env("ACTION_CABLE_ENABLED", "true")
        .with_env("ACTION_CABLE_CHANNEL_PREFIX", &prefix)
        .with_env("ANYCABLE_ENABLED", "true")
        .with_env("ANYCABLE_REDIS_CHANNEL", &anycable_channel);
    let _worker = WorkerProcess::spawn(&env, &options).await;
    let alice = audience::user(&db, "alice").await;
    bind(&db, Some(&alice), "ok-1").await;

    let message_id = broadcast(&env, &db, &alice, "user_channel", "to rails").await;
    wait_until(Duration::from_secs(20), || async {
        api.delivered_count("ok-1") == 1
    })
    .await
    .unwrap();
    let delivered: Value = serde_json::from_str(&api.delivered("ok-1")[0]).unwrap();

    let mut messages = pubsub.on_message();
    let mut received = Vec::new();
    while received.len() < 2 {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("both publications arrive")
            .unwrap();
        received.push((
            message.get_channel_name().to_owned(),
            message.get_payload::<String>().unwrap(),
        ));
    }
    received.sort();
    let (cable_channel, cable_payload) = &received[1];
    assert_eq!(cable_channel, &format!("{prefix}:user_channel_alice"));
    let cable: Value = serde_json::from_str(cable_payload).unwrap();
    assert_eq!(
        cable, delivered,
        "Action Cable subscribers get the same JSON as WebSocket clients"
    );
    assert_eq!(cable["messages"][0]["id"], message_id);

    let (any_channel, any_payload) = &received[0];
    assert_eq!(any_channel, &anycable_channel);
    let anycable: Value = serde_json::from_str(any_payload).unwrap();
    assert_eq!(anycable["stream"], "user_channel_alice");
    let data = anycable["data"].as_str().expect("data is a JSON string");
    assert_eq!(serde_json::from_str::<Value>(data).unwrap(), delivered);
    assert_eq!(anycable.as_object().unwrap().len(), 2);

    // Published once per broadcast: once this broadcast has finished, the next
    // publications are those of a later message.
    wait_until(Duration::from_secs(20), || async {
        env.redis.stored_jobs(e2e::redis::DEFAULT_QUEUE).await == 0
    })
    .await
    .expect("the broadcast finishes");
    let later_id = broadcast(&env, &db, &alice, "user_channel", "later").await;
    for _ in 0..2 {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("the later message is published")
            .unwrap();
        let mut payload: Value = serde_json::from_str(&message.get_payload::<String>().unwrap())
            .expect("a JSON publication");
        if let Some(data) = payload["data"].as_str() {
            payload = serde_json::from_str(data).expect("AnyCable data is JSON");
        }
        assert_eq!(
            payload["messages"][0]["id"], later_id,
            "one publication per subscriber kind: {payload}"
        );
    }
}
