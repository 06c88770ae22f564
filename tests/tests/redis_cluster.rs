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
    let mut say = async |room: &mut ChatRoom, from: usize, body: String| {
        room.send(from, &body).await;
        room.delivered(&body).await;
        sent.push(body);
    };
    say(&mut room, 0, "before the failover".to_owned()).await;

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

    let failover_started = Instant::now();
    let promoted = cluster.fail_over().await;
    say(&mut room, 1, "during the failover 1".to_owned()).await;
    let recovered_after = failover_started.elapsed();
    let mut probes = 1;
    while !cluster.are_masters(&promoted).await && probes < 50 {
        probes += 1;
        say(&mut room, probes % 3, format!("during the failover {probes}")).await;
    }
    cluster.wait_for_masters(&promoted).await;
    let failover_done_after = failover_started.elapsed();
    for n in 1..=3 {
        say(&mut room, n % 3, format!("after the failover {n}")).await;
    }
    println!(
        "measured: first broadcast delivered {recovered_after:?} after the first CLUSTER \
         FAILOVER; failover of {} masters complete after {failover_done_after:?}; \
         {probes} broadcast(s) sent during it",
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
    let mut last = Value::Null;
    let idle = wait_until(Duration::from_secs(30), || {
        let last = &mut last;
        let queues = cli(&["queues"]);
        async move {
            let queues = queues.await;
            assert!(queues.success, "worker queues: {queues:?}");
            *last = serde_json::from_str(queues.stdout.trim()).expect("queues are JSON");
            ["default", "low_priority"].iter().all(|queue| {
                ["waiting", "scheduled", "running", "failed", "dead"]
                    .iter()
                    .all(|state| last[queue][state] == 0)
            })
        }
    })
    .await;
    assert!(idle.is_ok(), "queues never drained: {last}");
    println!("worker queues after the failover: {last}");
    let dead = cli(&["dead", "default"]).await;
    assert!(dead.success && dead.stdout.trim().is_empty(), "{dead:?}");
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
