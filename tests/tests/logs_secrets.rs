//! No secret in any log line at any level: every binary runs at `RUST_LOG=trace` through a
//! whole chat (admin API, handshake, auth, a refused token, send, history, broadcast through
//! the Management API with real-looking AWS keys, disconnect), then their complete output is
//! searched for every token and key.

use std::time::Duration;

use e2e::emulator::Emulator;
use e2e::web::ADMIN_API_KEY;
use e2e::ws_client::WsClient;
use e2e::{TestEnv, WebApp, WebOptions, WorkerOptions, WorkerProcess, wait_until};
use serde_json::json;

const GATEWAY_SECRET: &str = "gateway-secret-5f0c1d2e3a4b";
const AWS_ACCESS_KEY_ID: &str = "AKIAWSGWTESTKEY0001X";
const AWS_SECRET_ACCESS_KEY: &str = "wsgwTestSecretAccessKey0123456789abcdefXY";
const AWS_SESSION_TOKEN: &str = "wsgwTestSessionToken0123456789";
/// PostgreSQL of the tests trusts local connections, so any password works.
const DATABASE_PASSWORD: &str = "wsgwTestDatabasePassw0rd";

#[tokio::test]
async fn no_token_or_key_reaches_any_log_line_at_trace() {
    let env = TestEnv::postgres().await;
    let database_url = env.db.url().replacen(
        "://postgres@",
        &format!("://postgres:{DATABASE_PASSWORD}@"),
        1,
    );
    assert!(database_url.contains(DATABASE_PASSWORD), "{database_url}");
    let web_options = WebOptions {
        gateway_secret: Some(GATEWAY_SECRET.to_owned()),
        ..WebOptions::default()
    }
    .with_env("RUST_LOG", "trace")
    .with_env("DATABASE_URL", &database_url);
    let web = WebApp::spawn(&env, web_options).await;
    let emulator = Emulator::spawn(
        &env,
        web.base_url(),
        &[
            ("RUST_LOG", "trace"),
            ("EMULATOR_GATEWAY_SECRET", GATEWAY_SECRET),
        ],
    )
    .await;
    let worker_options = WorkerOptions::new(emulator.management_endpoint())
        .with_env("RUST_LOG", "trace")
        .with_env("DATABASE_URL", &database_url)
        .with_env("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID)
        .with_env("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)
        .with_env("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN)
        .with_env("AWS_REGION", "us-east-1")
        .with_env("AWS_EC2_METADATA_DISABLED", "true");
    let mut worker = WorkerProcess::spawn(&env, &worker_options).await;

    let alice = web.user_token("alice").await;
    let guest = web.issue_token(None).await;
    let unused = web.issue_token(None).await;
    let mut alice_ws = WsClient::connect(&emulator.ws_url(), Some(e2e::web::ALLOWED_ORIGIN))
        .await
        .expect("alice connects");
    let mut guest_ws = WsClient::connect(&emulator.ws_url(), Some(e2e::web::ALLOWED_ORIGIN))
        .await
        .expect("the guest connects");
    for (client, token) in [(&mut alice_ws, &alice), (&mut guest_ws, &guest)] {
        let reply = client
            .request(
                &json!({"method": "auth_request", "token": token}),
                "auth_result",
            )
            .await;
        assert_eq!(reply["success"], true, "{reply}");
    }
    let send =
        json!({"method": "send_message", "token": alice, "channel": "all_channel", "body": "hi"});
    let reply = alice_ws.request(&send, "send_result").await;
    assert_eq!(reply["success"], true, "{reply}");
    for client in [&mut alice_ws, &mut guest_ws] {
        let frame = client.recv_action("send_message").await;
        assert_eq!(frame["messages"][0]["body"], "hi");
    }
    let history = json!({"method": "get_messages", "token": guest, "limit": 5});
    guest_ws.request(&history, "get_messages").await;
    let nul = json!({"method": "auth_request", "token": format!("{alice}\u{0}")});
    guest_ws.request(&nul, "auth_result").await;
    // A refused token: answered, then closed by the worker through DeleteConnection.
    let mut refused_ws = WsClient::connect(&emulator.ws_url(), Some(e2e::web::ALLOWED_ORIGIN))
        .await
        .expect("a third client connects");
    let refused = json!({"method": "auth_request", "token": format!("{unused}x")});
    let reply = refused_ws.request(&refused, "auth_result").await;
    assert_eq!(reply["success"], false, "{reply}");
    refused_ws.closed(Duration::from_secs(20)).await;
    alice_ws.close().await;
    guest_ws.close().await;

    // Everything is written out before the processes are asked to stop.
    wait_until(Duration::from_secs(10), || async {
        web.logs().transcript().contains("disconnected")
    })
    .await
    .expect("web logged the disconnects");
    worker.signal("TERM");
    worker.wait().await;
    let transcripts = [
        ("web", web.logs().transcript()),
        ("gateway-emulator", emulator.logs().transcript()),
        ("worker", worker.logs().transcript()),
    ];
    let secrets = [
        ("alice's token", alice.as_str()),
        ("the guest's token", guest.as_str()),
        ("the unused token", unused.as_str()),
        ("ADMIN_API_KEY", ADMIN_API_KEY),
        ("GATEWAY_SECRET", GATEWAY_SECRET),
        ("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN),
        ("the DATABASE_URL password", DATABASE_PASSWORD),
    ];
    let mut leaks = Vec::new();
    for (binary, transcript) in &transcripts {
        assert!(
            transcript.contains("DEBUG") || transcript.contains("TRACE"),
            "{binary} did not log below info:\n{transcript}"
        );
        for line in transcript.lines() {
            for (what, secret) in secrets {
                if line.contains(secret) {
                    leaks.push(format!("{binary} logs {what}: {line}"));
                }
            }
        }
    }
    let shown: Vec<&str> = leaks
        .iter()
        .map(|leak| &leak[..leak.len().min(600)])
        .collect();
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        shown.join("\n")
    );
}
