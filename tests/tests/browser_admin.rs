//! `/admin` in headless Chromium against the whole product: a broadcast dies while the
//! Management API fails, the dashboard shows it with its error, Retry brings it back, and
//! the recent broadcasts table shows what the retry delivered.

use std::collections::HashMap;
use std::time::Duration;

use e2e::browser::{Browser, screenshot_path};
use e2e::stack::Stack;
use e2e::web::ADMIN_API_KEY;
use e2e::{TestEnv, WebOptions, audience, wait_until};
use serde_json::json;

const HOST: &str = "allowed.example";

/// The count `name` of the broadcasts table's row `row`.
async fn cell(browser: &mut Browser, row: &str, name: &str) -> String {
    browser
        .text("admin", &format!("{row} td[data-count={name}]"))
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn a_dead_broadcast_is_retried_from_the_dashboard() {
    let env = TestEnv::postgres().await;
    let options = WebOptions::default().with_env("ADMIN_SAMPLE_SECS", "1");
    // One run per job and one POST per connection: a failing Management API kills the job.
    let worker_env = [("JOB_MAX_ATTEMPTS", "1"), ("APIGW_MAX_ATTEMPTS", "1")];
    let stack = Stack::start(&env, options, &worker_env).await;
    let web = &stack.web;
    let alice_token = web.user_token("alice").await;
    let mut alice = stack.authenticated_client(&alice_token).await;
    // A token bound to a connection the gateway does not have: 410 once posts go through.
    let ghost_token = web.user_token("ghost").await;
    web.authenticate("ghostConnection=", &ghost_token).await;

    stack.emulator.set_faults(json!({"error_rate": 1.0})).await;
    let sent = json!({"method": "send_message", "token": alice_token, "channel": "all_channel", "body": "retry me"});
    let reply = alice.request(&sent, "send_result").await;
    assert_eq!(reply["success"], true, "{reply}");
    let queues = audience::queues(&env);
    wait_until(Duration::from_secs(30), || async {
        queues.default.counts().await.unwrap().dead == 1
    })
    .await
    .expect("the broadcast dies");
    let job_id = queues.default.dead_ids(10).await.unwrap().remove(0);

    let hosts = HashMap::from([(HOST.to_owned(), web.addr().to_string())]);
    let mut browser = Browser::launch(&hosts).await;
    let admin = format!("http://{HOST}/admin");
    let status = browser
        .open("admin", &admin, Some(("admin", ADMIN_API_KEY)))
        .await;
    assert_eq!(status, 200);
    let row = format!("tr.dead-job[data-job-id=\"{job_id}\"]");
    browser
        .wait_text(
            "admin",
            &format!("{row} td.error"),
            "2 connections still failing",
        )
        .await;
    assert_eq!(
        browser
            .text("admin", &format!("{row} td.num"))
            .await
            .as_deref(),
        Some("1"),
        "attempts"
    );
    browser
        .screenshot("admin", &screenshot_path("admin-dead-job.png"))
        .await;

    stack.emulator.set_faults(json!({"error_rate": 0.0})).await;
    browser.click("admin", "button", "Retry", Some(&row)).await;
    browser
        .wait_text("admin", "p.notice", "Retried 1 dead job(s).")
        .await;
    assert_eq!(
        queues.default.counts().await.unwrap().dead,
        0,
        "left the dead set"
    );
    let delivered = alice.recv_action("send_message").await;
    assert_eq!(delivered["messages"][0]["body"], "retry me");

    // The newest run: Alice delivered, the ghost gone; as the emulator counted them.
    let newest = "#broadcasts tr.broadcast";
    browser
        .reload_until(
            "admin",
            &admin,
            &format!("{newest} td[data-count=gone]"),
            "1",
        )
        .await;
    let stats = stack.emulator.stats().await;
    assert_eq!(cell(&mut browser, newest, "audience").await, "2");
    assert_eq!(
        cell(&mut browser, newest, "delivered").await,
        stats["posts_ok"].to_string()
    );
    assert_eq!(
        cell(&mut browser, newest, "gone").await,
        stats["posts_gone"].to_string()
    );
    assert_eq!(cell(&mut browser, newest, "failed").await, "0");
    assert_eq!(stats["posts_ok"], 1, "{stats}");
    // The run that died is the row below: both connections failed, both to be retried.
    let older = "#broadcasts tr.broadcast:nth-child(2)";
    assert_eq!(cell(&mut browser, older, "audience").await, "2");
    assert_eq!(cell(&mut browser, older, "retrying").await, "2");
    assert_eq!(
        browser.text("admin", "#dead tr.dead-job").await,
        None,
        "no dead job is listed"
    );
    assert_eq!(
        browser
            .text("admin", "#api-gateway-connections")
            .await
            .as_deref(),
        Some("1"),
        "Alice; the ghost was retired"
    );
    // Samples every second: the depth lines have been drawn.
    assert!(
        browser
            .count("admin", "#queues svg.sparkline polyline")
            .await
            >= 10
    );
    browser
        .screenshot("admin", &screenshot_path("admin-after-retry.png"))
        .await;
    browser.close().await;
}
