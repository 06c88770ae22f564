//! `REDIS_CLUSTER=true` against a real cluster of 3 masters and 3 replicas: a chat through
//! the emulator goes on while every master is failed over (planned, `CLUSTER FAILOVER`),
//! nothing is lost, a delayed disconnection scheduled before the failover still runs, and
//! the operator commands read the queues through the cluster.

use std::time::{Duration, Instant};

use e2e::chat_room::ChatRoom;
use e2e::process::run_to_exit;
use e2e::redis_cluster::RedisCluster;
use e2e::stack::Stack;
use e2e::{TestEnv, WebOptions, WorkerOptions, WorkerProcess, wait_until};
use serde_json::{Value, json};

const DISCONNECT_DELAY_SECS: u64 = 3;

#[tokio::test]
async fn a_chat_goes_on_through_a_planned_failover_of_every_master() {
    let cluster = RedisCluster::start().await;
    let seeds = cluster.seed_urls();
    let env = TestEnv::postgres().await;
    let redis_env = [("REDIS_URL", seeds.as_str()), ("REDIS_CLUSTER", "true")];
    let web_options = WebOptions {
        redis_url: Some(seeds.clone()),
        ..WebOptions::default()
    }
    .with_env("REDIS_CLUSTER", "true")
    .with_env("DISCONNECT_DELAY_SECS", DISCONNECT_DELAY_SECS);
    let stack = Stack::start(&env, web_options, &redis_env).await;
    wait_until(Duration::from_secs(30), || async {
        stack.web.get("/readyz").await.0 == 200
    })
    .await
    .expect("web is ready on the cluster (database, redis and streams)");

    let mut room = ChatRoom::join(&stack, &["alice", "bob", "carol"]).await;
    let mut sent = Vec::new();
    say(&mut room, &mut sent, 0, "before the failover".to_owned()).await;

    // A refused token: its DeleteConnectionJob is scheduled before the failover and must
    // still close the connection after it.
    let mut refused = stack.client().await;
    let reply = refused
        .request(
            &json!({"method": "auth_request", "token": "not-a-token"}),
            "auth_result",
        )
        .await;
    assert_eq!(reply["success"], false, "{reply}");

    // The failovers run while a broadcast is under way, and one follows each.
    let failover_started = Instant::now();
    let (promoted, ()) = tokio::join!(cluster.fail_over(), room.send(1, "during the failover"));
    room.delivered("during the failover").await;
    sent.push("during the failover".to_owned());
    let failover_done_after = failover_started.elapsed();
    say(
        &mut room,
        &mut sent,
        2,
        "right after the failover".to_owned(),
    )
    .await;
    let recovered_after = failover_started.elapsed();
    for n in 1..=3 {
        say(
            &mut room,
            &mut sent,
            n % 3,
            format!("after the failover {n}"),
        )
        .await;
    }
    println!(
        "measured: {} masters failed over one after the other (CLUSTER FAILOVER) in \
         {failover_done_after:?}, a broadcast sent meanwhile delivered; the next broadcast \
         delivered {recovered_after:?} after the first CLUSTER FAILOVER",
        promoted.len()
    );

    let code = refused.closed(Duration::from_secs(60)).await;
    assert_ne!(code, 0, "the refused connection was closed");
    assert_eq!(room.missing(&sent), Vec::new(), "a message went missing");
    println!(
        "measured: {} messages x 3 connections, 0 missing, {} duplicate(s)",
        sent.len(),
        room.duplicates()
    );

    // The operator commands, through the cluster.
    let options = WorkerOptions::new(stack.emulator.management_endpoint())
        .with_env("REDIS_URL", &seeds)
        .with_env("REDIS_CLUSTER", "true");
    let cli = |args: &'static [&'static str]| {
        run_to_exit(
            WorkerProcess::command(&env, &options),
            args,
            Duration::from_secs(30),
        )
    };
    let last = std::cell::RefCell::new(Value::Null);
    let idle = wait_until(Duration::from_secs(30), || {
        let (last, queues) = (&last, cli(&["queues"]));
        async move {
            let queues = queues.await;
            assert!(queues.success, "worker queues: {queues:?}");
            let counts: Value = serde_json::from_str(queues.stdout.trim()).expect("JSON");
            let drained = ["default", "low_priority"].iter().all(|queue| {
                ["waiting", "scheduled", "running", "failed", "dead"]
                    .iter()
                    .all(|state| counts[queue][state] == 0)
            });
            *last.borrow_mut() = counts;
            drained
        }
    })
    .await;
    let last = last.into_inner();
    assert!(idle.is_ok(), "queues never drained: {last}");
    println!("worker queues after the failover: {last}");
    let dead = cli(&["dead", "default"]).await;
    assert!(dead.success && dead.stdout.trim() == "[]", "{dead:?}");
    wait_until(Duration::from_secs(30), || async {
        let outbox = cli(&["outbox"]).await;
        assert!(outbox.success, "{outbox:?}");
        outbox.stdout.trim() == r#"{"pending_broadcasts":0}"#
    })
    .await
    .expect("every broadcast finished");
    assert!(
        !stack.worker.logs().transcript().contains("CROSSSLOT"),
        "a script crossed slots"
    );
}

/// Member `from` sends `body`; returns once every member got it.
async fn say(room: &mut ChatRoom, sent: &mut Vec<String>, from: usize, body: String) {
    room.send(from, &body).await;
    room.delivered(&body).await;
    sent.push(body);
}
