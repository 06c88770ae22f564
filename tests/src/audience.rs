//! Worker-side fixtures: users with connections bound as `$default` would bind them, and
//! broadcasts enqueued as `send_message` would enqueue them.

use std::time::Duration;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use shared::domain::ConnectionId;
use shared::entities::users;
use shared::jobs::{BroadcastJob, DeleteConnectionJob};
use shared::queries::{outbox, tokens, user_channel, users as user_queries};
use shared::queue::{QueueError, Queues, redis_connection};

use crate::TestEnv;

pub async fn user(db: &DatabaseConnection, code: &str) -> users::Model {
    user_queries::upsert(db, code, &format!("User {code}"), None)
        .await
        .expect("insert a user")
        .0
}

/// A token of `user` (a guest for `None`) authenticated on `connection_id`.
pub async fn bind(
    db: &DatabaseConnection,
    user: Option<&users::Model>,
    connection_id: &str,
) -> i64 {
    let token = tokens::issue(db, user.map(|user| user.id))
        .await
        .expect("issue a token");
    let connection_id = ConnectionId::parse(connection_id).expect("a valid connection id");
    tokens::record_auth_success(db, token, Utc::now(), Some(&connection_id))
        .await
        .expect("bind the token")
        .id
}

/// `count` connections of `user`, named `<prefix>-<n>` (the prefix scripts the fake API).
pub async fn bind_many(
    db: &DatabaseConnection,
    user: &users::Model,
    prefix: &str,
    count: usize,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let id = format!("{prefix}-{n}");
        bind(db, Some(user), &id).await;
        ids.push(id);
    }
    ids
}

pub fn queues(env: &TestEnv) -> Queues {
    let redis = redis_connection(env.redis.url(), Duration::from_secs(10)).expect("Redis URL");
    Queues::new(redis, env.redis.prefix())
}

/// Stores a message from `sender` and enqueues its broadcast, as `send_message` does;
/// `channel` is what a client sends (`all_channel` or `user_channel`). Returns the message id.
pub async fn broadcast(
    env: &TestEnv,
    db: &DatabaseConnection,
    sender: &users::Model,
    channel: &str,
    body: &str,
) -> i64 {
    broadcast_on(&queues(env), db, sender, channel, body)
        .await
        .expect("enqueue")
}

/// [`broadcast`] on the given queues (a Redis of the test's own); the enqueue's error, if any.
pub async fn broadcast_on(
    queues: &Queues,
    db: &DatabaseConnection,
    sender: &users::Model,
    channel: &str,
    body: &str,
) -> Result<i64, QueueError> {
    let real_channel = match channel {
        "user_channel" => user_channel(&sender.code),
        other => other.to_owned(),
    };
    let message = outbox::store_message(db, &real_channel, body, sender.id)
        .await
        .expect("store a message");
    queues
        .enqueue_unless_live(&BroadcastJob::for_message(&message))
        .await?;
    Ok(message.id)
}

/// Enqueues `count` DeleteConnectionJobs for `<prefix>-<n>` in bulk.
pub async fn delete_jobs(env: &TestEnv, prefix: &str, count: usize) {
    let jobs: Vec<DeleteConnectionJob> = (0..count)
        .map(|n| DeleteConnectionJob {
            connection_id: format!("{prefix}-{n}"),
        })
        .collect();
    queues(env)
        .low_priority
        .push_bulk(&jobs)
        .await
        .expect("push in bulk");
}
