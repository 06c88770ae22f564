//! Requests that race: a production backend answers each one with its rule, never a 5xx.

use std::time::Duration;

use e2e::fixtures::Snapshot;
use e2e::{WebOptions, wait_until};
use futures::future::join_all;
use serde_json::json;

use crate::common::{World, connection_id, sqlite_world, world, world_with};

#[tokio::test]
async fn concurrent_puts_of_a_new_user_create_it_once_without_5xx() {
    concurrent_puts_create_each_user_once(world().await).await;
}

#[tokio::test]
async fn concurrent_puts_of_a_new_user_create_it_once_on_sqlite() {
    concurrent_puts_create_each_user_once(sqlite_world().await).await;
}

/// Eight PUTs of one new user at once, ten times: exactly one 201 each time, the rest 200.
async fn concurrent_puts_create_each_user_once(w: World) {
    for round in 0..10 {
        let code = format!("racer{round}");
        let names: Vec<String> = (0..8).map(|n| format!("Name {n}")).collect();
        let puts = names.iter().map(|name| w.web.put_user(&code, name, None));
        let statuses: Vec<u16> = join_all(puts)
            .await
            .into_iter()
            .map(|(status, _)| status)
            .collect();
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 201),
            "{code}: {statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{code}: {statuses:?}"
        );
    }
    assert_eq!(Snapshot::take(&w.env, &w.db).await.users.len(), 10);
}

#[tokio::test]
async fn concurrent_first_frames_with_different_tokens_never_5xx() {
    let w = world().await;
    let mut tokens = Vec::new();
    for n in 0..4 {
        tokens.push(w.web.user_token(&format!("u{n}")).await);
    }
    for _ in 0..10 {
        let id = connection_id();
        let frames = tokens.iter().map(|token| {
            let frame = json!({"method": "auth_request", "token": token});
            let id = id.clone();
            let web = &w.web;
            async move { web.frame(&id, &frame).await }
        });
        let replies = join_all(frames).await;
        let statuses: Vec<u16> = replies.iter().map(|(status, _)| *status).collect();
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 422),
            "{statuses:?}: {replies:?}"
        );
        assert!(statuses.contains(&200), "one token wins: {statuses:?}");
    }
}

#[tokio::test]
async fn log_lines_of_concurrent_frames_name_only_their_own_connection() {
    let w = world_with(WebOptions::default().with_env("RUST_LOG", "info")).await;
    let ids: Vec<String> = (0..20).map(|_| connection_id()).collect();
    let frame = json!({"method": "auth_request", "token": "unknown"});
    let replies = join_all(ids.iter().map(|id| w.web.frame(id, &frame))).await;
    assert!(
        replies.iter().all(|(status, _)| *status == 422),
        "{replies:?}"
    );
    let refused = || -> Vec<String> {
        let text = w.web.logs().text();
        text.lines()
            .filter(|line| line.contains("token refused"))
            .map(str::to_owned)
            .collect()
    };
    wait_until(Duration::from_secs(5), || async {
        refused().len() >= ids.len()
    })
    .await
    .unwrap_or_else(|error| panic!("{error}: {}", w.web.logs().text()));
    for line in refused() {
        assert_eq!(
            line.matches("connection_id=").count(),
            1,
            "one request's span only: {line}"
        );
    }
    for id in &ids {
        let own = refused()
            .into_iter()
            .filter(|line| line.contains(&format!("connection_id={id}")));
        assert_eq!(own.count(), 1, "the refusal of {id} names it once");
    }
}
