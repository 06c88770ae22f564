//! `/metrics` of web and of the worker (`WORKER_METRICS_ADDR`) tell what happened: a chat
//! with a gone connection, throttled and failing posts, a dead job and an owed broadcast
//! move the exact counts, checked against what the emulator, Redis and the database saw.
//! The Grafana dashboard reads only families that a live web or worker exports.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::process::run_to_exit;
use e2e::prometheus::Scrape;
use e2e::stack::Stack;
use e2e::{TestEnv, WebOptions, WorkerOptions, WorkerProcess, audience, wait_until};
use serde_json::{Value, json};
use shared::jobs::DeleteConnectionJob;

const DEADLINE: Duration = Duration::from_secs(30);

fn send(token: &str, body: &str) -> Value {
    json!({"method": "send_message", "token": token, "channel": "all_channel", "body": body})
}

fn posts(scrape: &Scrape, outcome: &str) -> f64 {
    scrape.value("worker_management_posts_total", &[("outcome", outcome)])
}

fn broadcasts(scrape: &Scrape, outcome: &str) -> f64 {
    scrape.value(
        "worker_jobs_total",
        &[("job", "broadcast"), ("outcome", outcome)],
    )
}

/// Scrapes `url` until `holds`, and returns that scrape.
async fn scrape_until(url: &str, what: &str, holds: impl Fn(&Scrape) -> bool) -> Scrape {
    let last = std::sync::Mutex::new(None);
    let waited = wait_until(DEADLINE, || {
        let (last, holds) = (&last, &holds);
        async move {
            let scrape = Scrape::get(url).await;
            let held = holds(&scrape);
            *last.lock().unwrap() = Some(scrape);
            held
        }
    })
    .await;
    let last = last.into_inner().unwrap().expect("scraped at least once");
    waited.unwrap_or_else(|_| panic!("{what}; last scrape:\n{}", last.text()));
    last
}

#[tokio::test]
async fn a_chat_with_a_gone_connection_and_failing_posts_moves_the_exact_counts() {
    let env = TestEnv::postgres().await;
    // Two attempts per connection and run: a failing post makes the job retry soon.
    let stack = Stack::start(&env, WebOptions::default(), &[("APIGW_MAX_ATTEMPTS", "2")]).await;
    let (web, emulator) = (&stack.web, &stack.emulator);
    let worker_url = stack.worker.metrics_url();
    let web_url = web.url("/metrics");
    // Broadcasts reach web's Action Cable streams only once web listens to them.
    wait_until(DEADLINE, || async { web.get("/readyz").await.0 == 200 })
        .await
        .expect("web listens to its streams");
    web.put_user("alice", "Alice", None).await;
    web.put_user("bob", "Bob", None).await;
    let alice_token = web.issue_token(Some("alice")).await;
    let bob_token = web.issue_token(Some("bob")).await;
    let mut alice = stack.authenticated_client(&alice_token).await;
    let mut bob = stack.authenticated_client(&bob_token).await;
    // A token bound to a connection API Gateway no longer has: its post answers 410.
    let db = env.db.connect().await;
    audience::bind(&db, None, "ghost-connection").await;

    // 1. Delivered to alice and bob, gone for the ghost.
    alice
        .request(&send(&alice_token, "hello"), "send_result")
        .await;
    for client in [&mut alice, &mut bob] {
        assert_eq!(
            client.recv_action("send_message").await["messages"][0]["body"],
            "hello"
        );
    }
    let worker = scrape_until(&worker_url, "the first broadcast is done", |s| {
        broadcasts(s, "done") == 1.0
    })
    .await;
    assert_eq!(posts(&worker, "ok"), 2.0, "alice and bob");
    assert_eq!(posts(&worker, "gone"), 1.0, "the ghost");
    for outcome in ["throttled", "5xx", "timeout", "other"] {
        assert_eq!(posts(&worker, outcome), 0.0, "{outcome}");
    }
    assert_eq!(
        worker.value("worker_management_post_seconds_count", &[]),
        3.0
    );
    assert_eq!(worker.value("worker_broadcast_seconds_count", &[]), 1.0);
    assert_eq!(
        worker.value("worker_broadcast_audience_connections_count", &[]),
        1.0
    );
    assert_eq!(
        worker.value("worker_broadcast_audience_connections_sum", &[]),
        3.0,
        "alice, bob and the ghost were targeted"
    );

    // 2. Throttled, then failing with 500: the broadcast is retried, then delivered.
    emulator.set_faults(json!({"throttle_rate": 1.0})).await;
    alice
        .request(&send(&alice_token, "second"), "send_result")
        .await;
    scrape_until(&worker_url, "a post is throttled", |s| {
        posts(s, "throttled") >= 1.0
    })
    .await;
    emulator
        .set_faults(json!({"throttle_rate": 0.0, "error_rate": 1.0}))
        .await;
    scrape_until(
        &worker_url,
        "a post fails with 5xx, and the job is retried",
        |s| posts(s, "5xx") >= 1.0 && broadcasts(s, "retried") >= 1.0,
    )
    .await;
    emulator.set_faults(json!({"error_rate": 0.0})).await;
    for client in [&mut alice, &mut bob] {
        assert_eq!(
            client.recv_action("send_message").await["messages"][0]["body"],
            "second"
        );
    }
    let worker = scrape_until(&worker_url, "the second broadcast is done", |s| {
        broadcasts(s, "done") == 2.0
    })
    .await;

    // Every post the emulator answered was counted once, under its outcome.
    let stats = emulator.stats().await;
    assert_eq!(posts(&worker, "ok"), stats["posts_ok"].as_f64().unwrap());
    assert_eq!(posts(&worker, "ok"), 4.0);
    assert_eq!(
        posts(&worker, "gone"),
        stats["posts_gone"].as_f64().unwrap()
    );
    assert_eq!(
        posts(&worker, "gone"),
        1.0,
        "the ghost was retired after its 410"
    );
    assert_eq!(
        posts(&worker, "throttled"),
        stats["throttled"].as_f64().unwrap()
    );
    assert_eq!(posts(&worker, "5xx"), stats["errors"].as_f64().unwrap());
    let all_posts: f64 = ["ok", "gone", "throttled", "5xx", "timeout", "other"]
        .iter()
        .map(|outcome| posts(&worker, outcome))
        .sum();
    assert_eq!(
        worker.value("worker_management_post_seconds_count", &[]),
        all_posts
    );
    // Every settled run of the queue was counted, as the queue's own statistics say.
    let mut redis = env.redis.connection().await;
    let stats: std::collections::HashMap<String, u64> =
        redis::AsyncCommands::hgetall(&mut redis, env.redis.key("default", "stats"))
            .await
            .unwrap();
    assert_eq!(
        broadcasts(&worker, "retried"),
        stats["failed"] as f64,
        "{stats:?}"
    );
    assert_eq!(broadcasts(&worker, "dead"), 0.0);
    assert_eq!(
        worker.value("worker_broadcast_seconds_count", &[]),
        broadcasts(&worker, "done") + broadcasts(&worker, "retried"),
        "every run that posted is timed"
    );
    assert_eq!(
        worker.value(
            "worker_interop_publishes_total",
            &[("target", "action_cable")]
        ),
        2.0,
        "each broadcast is published once for Action Cable, however often it ran"
    );
    assert_eq!(
        worker.value(
            "wsgw_queue_jobs",
            &[("queue", "default"), ("state", "waiting")]
        ),
        0.0
    );
    assert!(worker.has_family("wsgw_outbox_pending_broadcasts"));
    // A failing post is a WARN with its reason; a retried job is a WARN too.
    let logs = stack.worker.logs().transcript();
    assert!(
        logs.lines().any(|line| line.contains("WARN")
            && line.contains("Management API post failed")
            && line.contains("outcome=\"5xx\"")),
        "{logs}"
    );
    assert!(
        logs.lines()
            .any(|line| line.contains("WARN") && line.contains("job failed; it will run again")),
        "{logs}"
    );

    // Web counted what it stored, its callbacks, and the two publications it forwarded.
    let web_scrape = scrape_until(&web_url, "web forwarded both publications", |s| {
        s.value("web_cable_broadcasts_forwarded_total", &[]) == 2.0
    })
    .await;
    assert_eq!(
        web_scrape.value("web_messages_stored_total", &[("channel", "all_channel")]),
        2.0
    );
    assert_eq!(
        web_scrape.value("web_messages_stored_total", &[("channel", "user_channel")]),
        0.0
    );
    assert_eq!(
        web_scrape.value(
            "web_callbacks_total",
            &[("route", "connect"), ("status", "200")]
        ),
        2.0
    );
    assert_eq!(
        web_scrape.value(
            "web_callbacks_total",
            &[("route", "default"), ("status", "200")]
        ),
        4.0,
        "two auth_request frames and two send_message frames"
    );
    assert_eq!(web_scrape.value("web_cable_connections", &[]), 0.0);
    assert_eq!(
        web_scrape.value("web_cable_broadcast_frames_total", &[]),
        0.0,
        "no Action Cable socket is open"
    );

    dashboard_reads_only_exported_families(&[&worker, &web_scrape]);
}

/// Every metric a panel of `ops/grafana/wsgw.json` queries is a family that web or the
/// worker exports, so the dashboard cannot drift from the code.
fn dashboard_reads_only_exported_families(scrapes: &[&Scrape]) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ops/grafana/wsgw.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the dashboard")).unwrap();
    let exprs: Vec<&str> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|panel| panel["targets"].as_array().expect("targets"))
        .map(|target| target["expr"].as_str().expect("an expr"))
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut referenced = BTreeSet::new();
    for expr in &exprs {
        let names = metric_names(expr);
        assert!(
            !names.is_empty(),
            "a panel that reads none of our metrics: {expr}"
        );
        referenced.extend(names);
    }
    let missing: Vec<&String> = referenced
        .iter()
        .filter(|name| !scrapes.iter().any(|scrape| scrape.has_family(name)))
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard reads families nobody exports: {missing:?}"
    );
    for family in [
        "wsgw_queue_jobs",
        "worker_management_posts_total",
        "worker_management_post_seconds",
        "worker_broadcast_seconds",
        "wsgw_outbox_pending_broadcasts",
        "web_cable_connections",
        "worker_jobs_total",
    ] {
        assert!(referenced.contains(family), "no panel reads {family}");
    }
}

/// The families an expression reads: identifiers of ours (`web_`, `worker_`, `wsgw_`),
/// a histogram's `_bucket`/`_sum`/`_count` series named by their family.
fn metric_names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|word| {
            ["web_", "worker_", "wsgw_"]
                .iter()
                .any(|p| word.starts_with(p))
        })
        .map(|word| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(word)
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_dead_job_and_an_owed_broadcast_show_in_the_gauges() {
    let env = TestEnv::postgres().await;
    // Action Cable publishing off: a DeleteConnectionJob for a cable socket can never
    // succeed, so it goes to the dead set at once. A long grace keeps the owed broadcast
    // away from the sweeper.
    let options = WorkerOptions::new("http://127.0.0.1:9/local")
        .with_env("ACTION_CABLE_ENABLED", "false")
        .with_env("OUTBOX_GRACE_SECS", 3600);
    let worker = WorkerProcess::spawn(&env, &options).await;
    let url = worker.metrics_url();
    let queues = audience::queues(&env);
    let job = DeleteConnectionJob {
        connection_id: "cable-1".into(),
        action_cable: true,
    };
    queues.enqueue(&job, Duration::ZERO).await.unwrap();
    let db = env.db.connect().await;
    let alice = audience::user(&db, "alice").await;
    // Stored, never enqueued: the outbox owes it.
    let channel = shared::domain::Channel::All;
    let body = shared::domain::MessageBody::parse("owed", 100).unwrap();
    shared::queries::outbox::store_message(&db, &channel, &body, alice.id)
        .await
        .unwrap();

    let scrape = scrape_until(&url, "the job is dead and the broadcast owed", |s| {
        s.value(
            "wsgw_queue_jobs",
            &[("queue", "low_priority"), ("state", "dead")],
        ) == 1.0
            && s.value("wsgw_outbox_pending_broadcasts", &[]) == 1.0
    })
    .await;
    assert_eq!(
        scrape.value(
            "worker_jobs_total",
            &[("job", "delete_connection"), ("outcome", "dead")]
        ),
        1.0
    );
    assert_eq!(
        scrape.value(
            "wsgw_queue_jobs",
            &[("queue", "default"), ("state", "dead")]
        ),
        0.0
    );
    let logs = worker.logs().transcript();
    assert!(
        logs.lines().any(|line| line.contains("ERROR")
            && line.contains("moved to the dead set")
            && line.contains("ACTION_CABLE_ENABLED=false")),
        "{logs}"
    );
    // Anything but GET /metrics is a JSON error.
    let response = reqwest::get(url.replace("/metrics", "/nope"))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn a_taken_metrics_port_stops_the_worker_at_start_up() {
    let env = TestEnv::postgres().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let options =
        WorkerOptions::new("http://127.0.0.1:9/local").with_env("WORKER_METRICS_ADDR", addr);
    let finished = run_to_exit(
        WorkerProcess::command(&env, &options),
        ["run"],
        Duration::from_secs(30),
    )
    .await;
    assert!(!finished.success);
    assert!(
        finished
            .stderr
            .contains(&format!("cannot listen on WORKER_METRICS_ADDR {addr}")),
        "{finished:?}"
    );
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let env = TestEnv::postgres().await;
    let options =
        WorkerOptions::new("http://127.0.0.1:9/local").with_env("WORKER_METRICS_ADDR", "off");
    let worker = WorkerProcess::spawn(&env, &options).await;
    assert!(!worker.logs().transcript().contains("worker metrics on"));
}
