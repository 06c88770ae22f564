//! Worker-side fixtures: users with connections bound as `$default` would bind them, and
//! broadcasts enqueued as `send_message` would enqueue them.

use std::time::Duration;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use shared::domain::{Channel, ChannelKind, ConnectionId, MessageBody, NewUser, Peer, UserCode};
use shared::entities::users;
use shared::jobs::{BroadcastJob, DeleteConnectionJob};
use shared::queries::{outbox, tokens, users as user_queries};
use shared::queue::{QueueError, Queues, redis_connection};

use crate::TestEnv;

pub async fn user(db: &DatabaseConnection, code: &str) -> users::Model {
    let user = NewUser::parse(code, &format!("User {code}"), None).expect("a valid user");
    user_queries::upsert(db, &user)
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
    let peer = Peer::Gateway(connection_id);
    tokens::record_auth_success(db, token, Utc::now(), Some(&peer))
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
    let channel = match ChannelKind::parse(channel).expect("all_channel or user_channel") {
        ChannelKind::All => Channel::All,
        ChannelKind::User => Channel::User(UserCode::parse(&sender.code).expect("a user code")),
    };
    let body = MessageBody::parse(body, usize::MAX).expect("a message body");
    let message = outbox::store_message(db, &channel, &body, sender.id)
        .await
        .expect("store a message");
    queues
        .enqueue_unless_live(&BroadcastJob::new(&message, channel))
        .await?;
    Ok(message.id)
}

/// Enqueues `count` DeleteConnectionJobs for `<prefix>-<n>` in bulk.
pub async fn delete_jobs(env: &TestEnv, prefix: &str, count: usize) {
    let jobs: Vec<DeleteConnectionJob> = (0..count)
        .map(|n| DeleteConnectionJob {
            connection_id: format!("{prefix}-{n}"),
            action_cable: false,
        })
        .collect();
    queues(env)
        .low_priority
        .push_bulk(&jobs)
        .await
        .expect("push in bulk");
}
