//! The admin API fuzzed from its own OpenAPI document by schemathesis, against a real web on
//! PostgreSQL and Redis with the admin key: no 5xx, and every response (status, content
//! type, body) as the document describes it. schemathesis also validates the document.

use std::time::Duration;

use e2e::schemathesis;
use e2e::web::ADMIN_API_KEY;
use serde_json::json;

use crate::common::world;

/// What every operation must satisfy, for every generated request, valid or not.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_off_the_document() {
    let w = world().await;
    // Some rows, so generated requests also reach the operations' success paths.
    w.web.put_user("alice", "Alice", None).await;
    let post = w
        .web
        .admin(reqwest::Method::POST, "/api/messages")
        .json(&json!({"user_code": "alice", "channel": "all_channel", "body": "hello"}));
    assert_eq!(w.web.send(post).await.0, 201);

    let executable = tokio::task::spawn_blocking(schemathesis::executable)
        .await
        .expect("schemathesis installs");
    let run = tokio::process::Command::new(executable)
        .arg("run")
        .arg(w.web.url("/api/openapi.json"))
        .args(["--checks", CHECKS])
        .args([
            "--header",
            &format!("Authorization: Bearer {ADMIN_API_KEY}"),
        ])
        .args(["--max-examples", "15", "--seed", "1", "--workers", "1"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args([
            "--generation-database",
            "none",
            "--no-color",
            "--request-timeout",
            "30",
        ])
        .current_dir(w.env.scratch_dir())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(900), run)
        .await
        .expect("schemathesis finishes within 15 minutes")
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "schemathesis failed:\n{report}");
    // It really ran: every operation, and no operation errored out before testing.
    assert!(report.contains("10 selected"), "{report}");
    assert!(!report.contains("Schema Error"), "{report}");
    assert!(!w.web.logs().transcript().contains("panicked"));
}
