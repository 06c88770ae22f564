//! SPEC §11: the admin API described by OpenAPI (messages, connections, queues beside users
//! and tokens), its one error shape, and the worker CLI that mirrors it.

use std::time::Duration;

use e2e::cable_client::CableClient;
use e2e::process::run_to_exit;
use e2e::stack::Stack;
use e2e::web::ALLOWED_ORIGIN;
use e2e::{TestEnv, WebApp, WebOptions, WorkerOptions, WorkerProcess, audience, wait_until};
use reqwest::Method;
use serde_json::{Value, json};
use shared::i18n::Alert;
use shared::queue::{ClaimPolicy, JobQueue};

use crate::common::{ja, world};

/// `{"success": false, "alert": <the alert in Japanese>}` and nothing else.
fn assert_error_shape(body: &Value, alert: Alert) {
    assert_eq!(body, &json!({"success": false, "alert": ja(alert)}));
}

#[tokio::test]
async fn the_document_describes_every_operation_its_auth_and_the_error_shape() {
    let w = world().await;
    let (status, doc) = w.web.get("/api/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let operations: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    for expected in [
        "PUT /users/{code}",
        "POST /ws_tokens",
        "POST /messages",
        "DELETE /users/{code}/connections",
        "GET /queues",
        "GET /queues/{queue}/dead",
        "POST /queues/{queue}/retry_dead",
        "POST /queues/{queue}/dead/{id}/retry",
        "DELETE /queues/{queue}/dead",
        "DELETE /queues/{queue}/dead/{id}",
    ] {
        assert!(
            operations.contains(&expected.to_owned()),
            "{expected} in {operations:?}"
        );
    }
    assert_eq!(doc["servers"][0]["url"], "/api");
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(
        schemes
            .values()
            .any(|scheme| scheme["type"] == "http" && scheme["scheme"] == "bearer"),
        "{schemes:?}"
    );
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], json!(["success", "alert"]), "{error}");
    // Every operation names the error shape for its failures.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for status in ["400", "401", "404", "500", "503"] {
                let content = &operation["responses"][status]["content"];
                let (media_type, body) = content.as_object().unwrap().iter().next().unwrap();
                assert!(media_type.starts_with("application/json"), "{media_type}");
                let schema = &body["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }

    let docs = w
        .web
        .http()
        .get(w.web.url("/api/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(
        html.contains("swagger-ui"),
        "Swagger UI: {}",
        &html[..200.min(html.len())]
    );
    assert!(html.contains("/messages"), "the UI embeds the document");
}

#[tokio::test]
async fn every_malformed_request_is_a_json_4xx_in_the_one_error_shape() {
    let w = world().await;
    let admin = |method, path: &str| w.web.admin(method, path);
    let cases = [
        // Not JSON, not an object, wrong types, unknown fields, missing fields.
        (
            admin(Method::POST, "/api/messages").body("{nope"),
            400,
            Alert::RequestInvalidJson,
        ),
        (
            admin(Method::POST, "/api/messages").body("[1]"),
            400,
            Alert::RequestInvalidJson,
        ),
        (
            admin(Method::POST, "/api/messages")
                .json(&json!({"user_code": 1, "channel": "all_channel", "body": "x"})),
            400,
            Alert::RequestInvalidField,
        ),
        (
            admin(Method::POST, "/api/messages")
                .json(&json!({"user_code": "u1", "channel": "elsewhere", "body": "x"})),
            400,
            Alert::RequestInvalidField,
        ),
        (
            admin(Method::POST, "/api/ws_tokens").json(&json!({"user_code": "u1", "extra": 1})),
            400,
            Alert::RequestInvalidField,
        ),
        (
            admin(Method::POST, "/api/messages").json(&json!({})),
            400,
            Alert::RequestInvalidField,
        ),
        // Parameters that do not parse.
        (
            admin(Method::GET, "/api/queues/nope/dead"),
            400,
            Alert::RequestInvalidField,
        ),
        (
            admin(Method::GET, "/api/queues/default/dead?limit=0"),
            400,
            Alert::RequestInvalidField,
        ),
        (
            admin(Method::GET, "/api/queues/default/dead?limit=x"),
            400,
            Alert::RequestInvalidField,
        ),
        // No key, a wrong key, another scheme.
        (
            w.web.http().get(w.web.url("/api/queues")),
            401,
            Alert::AdminUnauthorized,
        ),
        (
            w.web
                .http()
                .get(w.web.url("/api/queues"))
                .bearer_auth("wrong"),
            401,
            Alert::AdminUnauthorized,
        ),
        (
            w.web
                .http()
                .delete(w.web.url("/api/users/u1/connections"))
                .basic_auth("x", Some("y")),
            401,
            Alert::AdminUnauthorized,
        ),
        // Unknown routes and methods.
        (admin(Method::GET, "/api/nope"), 404, Alert::RequestNotFound),
        (
            admin(Method::GET, "/api/messages"),
            405,
            Alert::RequestMethodNotAllowed,
        ),
        // Too large.
        (
            admin(Method::POST, "/api/messages").body(format!("\"{}\"", "x".repeat(200_000))),
            413,
            Alert::RequestTooLarge,
        ),
    ];
    for (request, status, alert) in cases {
        let described = format!("{request:?}");
        let (got, body) = w.web.send(request).await;
        assert_eq!(got, status, "{described}: {body}");
        assert_error_shape(&body, alert);
    }
}

#[tokio::test]
async fn posting_a_message_follows_the_rules_of_send_message() {
    let w = world().await;
    w.web
        .put_user("alice", "Alice", Some("/uploads/a.png"))
        .await;
    let post = |body: Value| {
        let request = w.web.admin(Method::POST, "/api/messages").json(&body);
        w.web.send(request)
    };
    for (body, status, alert) in [
        (
            json!({"user_code": "ghost", "channel": "all_channel", "body": "hi"}),
            404,
            Alert::UserNotFound,
        ),
        (
            json!({"user_code": "bad code", "channel": "all_channel", "body": "hi"}),
            400,
            Alert::RequestInvalidField,
        ),
        (
            json!({"user_code": "alice", "channel": "all_channel", "body": "  "}),
            422,
            Alert::BodyBlank,
        ),
        (
            json!({"user_code": "alice", "channel": "all_channel", "body": "x".repeat(4_001)}),
            422,
            Alert::BodyTooLong,
        ),
        (
            json!({"user_code": "alice", "channel": "all_channel", "body": "a\u{0}b"}),
            400,
            Alert::RequestNulCharacter,
        ),
    ] {
        let (got, reply) = post(body.clone()).await;
        assert_eq!(got, status, "{body}: {reply}");
        assert_error_shape(&reply, alert);
    }
    assert!(e2e::fixtures::all_messages(&w.db).await.is_empty());

    let (status, message) =
        post(json!({"user_code": "alice", "channel": "user_channel", "body": "note to self"}))
            .await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["channel"], "user_channel_alice");
    assert_eq!(message["body"], "note to self");
    assert_eq!(message["user"]["code"], "alice");
    assert!(
        message["user"]["image_url"]["mini"]
            .as_str()
            .unwrap()
            .ends_with("/uploads/mini_a.png"),
        "{message}"
    );
    // Stored, and its broadcast enqueued as send_message's is.
    let stored = e2e::fixtures::all_messages(&w.db).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(message["id"], stored[0].id);
    let waiting = w.env.redis.waiting(e2e::redis::DEFAULT_QUEUE).await;
    assert_eq!(waiting.len(), 1, "one BroadcastJob");
    assert_eq!(waiting[0].json["args"]["message_id"], stored[0].id);
    assert_eq!(
        waiting[0].json["args"]["real_channel"],
        "user_channel_alice"
    );
}

/// Alice holds an API Gateway connection and an Action Cable connection, Bob one API
/// Gateway connection. Closing Alice's connections closes both of hers, not Bob's; a message
/// posted through the API then reaches Bob as a broadcast.
#[tokio::test]
async fn closing_a_users_connections_closes_both_transports_and_no_one_elses() {
    let env = TestEnv::postgres().await;
    let stack = Stack::start(&env, WebOptions::default(), &[]).await;
    let web = &stack.web;
    let alice_gateway_token = web.user_token("alice").await;
    let alice_cable_token = web.issue_token(Some("alice")).await;
    let bob_token = web.user_token("bob").await;
    let mut alice_gateway = stack.authenticated_client(&alice_gateway_token).await;
    let mut alice_cable =
        CableClient::joined(&web.cable_url(), ALLOWED_ORIGIN, &alice_cable_token).await;
    let mut bob = stack.authenticated_client(&bob_token).await;

    let (status, reply) = web
        .send(web.admin(Method::DELETE, "/api/users/ghost/connections"))
        .await;
    assert_eq!(status, 404, "{reply}");
    assert_error_shape(&reply, Alert::UserNotFound);

    let (status, reply) = web
        .send(web.admin(Method::DELETE, "/api/users/alice/connections"))
        .await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply, json!({"api_gateway": 1, "action_cable": 1}));
    alice_gateway.closed(Duration::from_secs(30)).await;
    let (_, frames) = alice_cable.closed(Duration::from_secs(30)).await;
    assert!(
        frames
            .iter()
            .any(|frame| frame["type"] == "disconnect" && frame["reconnect"] == false),
        "Rails' remote disconnect: {frames:?}"
    );

    let (status, message) =
        web.send(web.admin(Method::POST, "/api/messages").json(
            &json!({"user_code": "alice", "channel": "all_channel", "body": "from the API"}),
        ))
        .await;
    assert_eq!(status, 201, "{message}");
    let broadcast = bob.recv_action("send_message").await;
    assert_eq!(
        broadcast["messages"][0], message,
        "the broadcast carries the stored message"
    );

    // Nothing of Alice's is live any more: a second call finds nothing to close.
    wait_until(Duration::from_secs(30), || async {
        let (_, reply) = web
            .send(web.admin(Method::DELETE, "/api/users/alice/connections"))
            .await;
        reply == json!({"api_gateway": 0, "action_cable": 0})
    })
    .await
    .expect("both of Alice's tokens are unsubscribed once their sockets closed");
}

/// Kills the broadcast job of `message_id` the way a worker gives up on one, with the real
/// queue scripts: claimed, then buried.
async fn kill_broadcast(queue: &JobQueue, error: &str) -> String {
    let policy = ClaimPolicy {
        lease: Duration::from_secs(60),
        max_attempts: 5,
        dead_retention: 100,
    };
    let claimed = queue.claim(1, "test-owner", &policy).await.unwrap();
    assert_eq!(claimed.len(), 1, "one waiting job");
    queue.bury(&claimed[0], error, 100).await.unwrap();
    claimed[0].id.clone()
}

async fn pending_broadcasts(web: &WebApp, env: &TestEnv) -> u64 {
    let _ = web;
    let db = env.db.connect().await;
    shared::queries::outbox::pending_count(&db).await.unwrap()
}

#[tokio::test]
async fn dead_jobs_are_listed_retried_and_deleted_and_deleting_gives_the_broadcast_up() {
    let w = world().await;
    let queue = audience::queues(&w.env).default;
    let web = &w.web;
    let call = |method: Method, path: &str| web.send(web.admin(method, path));
    let (_, none) = call(Method::GET, "/api/queues/default/dead").await;
    assert_eq!(none, json!([]));
    let (status, retried) = call(Method::POST, "/api/queues/default/retry_dead").await;
    assert_eq!((status, retried), (200, json!({"retried": 0})));

    web.put_user("alice", "Alice", None).await;
    let (status, message) = call(Method::POST, "/api/messages").await;
    assert_eq!(status, 400, "no body: {message}");
    let post = web
        .admin(Method::POST, "/api/messages")
        .json(&json!({"user_code": "alice", "channel": "all_channel", "body": "doomed"}));
    let (status, message) = web.send(post).await;
    assert_eq!(status, 201, "{message}");
    let id = kill_broadcast(&queue, "the Management API said no").await;

    let (_, depths) = call(Method::GET, "/api/queues").await;
    assert_eq!(depths["default"]["dead"], 1, "{depths}");
    assert_eq!(depths["default"]["waiting"], 0, "{depths}");
    assert_eq!(depths["low_priority"]["dead"], 0, "{depths}");
    let (status, dead) = call(Method::GET, "/api/queues/default/dead").await;
    assert_eq!(status, 200, "{dead}");
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["id"], id);
    assert_eq!(dead[0]["error"], "the Management API said no");
    assert_eq!(dead[0]["attempts"], 1);
    assert_eq!(dead[0]["job"]["job"], "BroadcastJob");
    assert_eq!(dead[0]["job"]["args"]["message_id"], message["id"]);

    // Retry one: back to waiting; an id that is not dead is 404.
    let (status, reply) = call(
        Method::POST,
        &format!("/api/queues/default/dead/{id}/retry"),
    )
    .await;
    assert_eq!((status, reply), (200, json!({"retried": 1})));
    let (status, reply) = call(
        Method::POST,
        &format!("/api/queues/default/dead/{id}/retry"),
    )
    .await;
    assert_eq!(status, 404);
    assert_error_shape(&reply, Alert::JobNotFound);
    let (_, depths) = call(Method::GET, "/api/queues").await;
    assert_eq!(
        (
            depths["default"]["waiting"].clone(),
            depths["default"]["dead"].clone()
        ),
        (json!(1), json!(0))
    );

    // Retry all, then delete one: the broadcast is given up, so the outbox owes nothing.
    let id = kill_broadcast(&queue, "again").await;
    let (_, reply) = call(Method::POST, "/api/queues/default/retry_dead").await;
    assert_eq!(reply, json!({"retried": 1}));
    let id2 = kill_broadcast(&queue, "and again").await;
    assert_eq!(id, id2, "the same job died again");
    assert_eq!(pending_broadcasts(web, &w.env).await, 1);
    let (status, reply) = call(
        Method::DELETE,
        &format!("/api/queues/low_priority/dead/{id}"),
    )
    .await;
    assert_eq!(status, 404, "not dead in that queue: {reply}");
    let (status, reply) = call(Method::DELETE, &format!("/api/queues/default/dead/{id}")).await;
    assert_eq!((status, reply), (200, json!({"deleted": 1})));
    assert_eq!(pending_broadcasts(web, &w.env).await, 0, "given up");
    assert_eq!(w.env.redis.stored_jobs(e2e::redis::DEFAULT_QUEUE).await, 0);
    let (status, _) = call(Method::DELETE, &format!("/api/queues/default/dead/{id}")).await;
    assert_eq!(status, 404);

    // Delete all.
    for body in ["one", "two"] {
        let post = web
            .admin(Method::POST, "/api/messages")
            .json(&json!({"user_code": "alice", "channel": "all_channel", "body": body}));
        assert_eq!(web.send(post).await.0, 201);
        kill_broadcast(&queue, "no").await;
    }
    let (_, reply) = call(Method::DELETE, "/api/queues/default/dead").await;
    assert_eq!(reply, json!({"deleted": 2}));
    let (_, none) = call(Method::GET, "/api/queues/default/dead").await;
    assert_eq!(none, json!([]));
    assert_eq!(pending_broadcasts(web, &w.env).await, 0);
}

#[tokio::test]
async fn the_worker_cli_lists_retries_and_deletes_dead_jobs_as_json_even_when_none_are() {
    let w = world().await;
    let queue = audience::queues(&w.env).default;
    let options = WorkerOptions::new("http://127.0.0.1:9/local");
    let cli = |args: Vec<String>| {
        let command = WorkerProcess::command(&w.env, &options);
        run_to_exit(command, args, Duration::from_secs(30))
    };
    let args = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();

    let dead = cli(args("dead default")).await;
    assert!(dead.success, "{dead:?}");
    assert_eq!(dead.stdout.trim(), "[]");
    let retried = cli(args("retry-dead default --all")).await;
    assert!(retried.success, "nothing dead is not an error: {retried:?}");
    assert_eq!(retried.stdout.trim(), r#"{"retried":0}"#);
    let deleted = cli(args("delete-dead default --all")).await;
    assert!(deleted.success, "{deleted:?}");
    assert_eq!(deleted.stdout.trim(), r#"{"deleted":0}"#);
    let neither = cli(args("retry-dead default")).await;
    assert!(!neither.success, "an id or --all: {neither:?}");

    w.web.put_user("alice", "Alice", None).await;
    let post = w
        .web
        .admin(Method::POST, "/api/messages")
        .json(&json!({"user_code": "alice", "channel": "all_channel", "body": "doomed"}));
    assert_eq!(w.web.send(post).await.0, 201);
    let id = kill_broadcast(&queue, "boom").await;

    // The CLI prints what the API answers.
    let dead = cli(args("dead default")).await;
    let listed: Value = serde_json::from_str(dead.stdout.trim()).unwrap();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["error"], "boom");
    assert_eq!(listed[0]["job"]["job"], "BroadcastJob");
    let (_, from_api) = w
        .web
        .send(w.web.admin(Method::GET, "/api/queues/default/dead"))
        .await;
    assert_eq!(listed, from_api);

    let retried = cli(args(&format!("retry-dead default {id}"))).await;
    assert_eq!(retried.stdout.trim(), r#"{"retried":1}"#, "{retried:?}");
    let unknown = cli(args(&format!("retry-dead default {id}"))).await;
    assert!(!unknown.success, "{unknown:?}");
    kill_broadcast(&queue, "boom").await;
    let deleted = cli(args(&format!("delete-dead default {id}"))).await;
    assert_eq!(deleted.stdout.trim(), r#"{"deleted":1}"#, "{deleted:?}");
    assert_eq!(pending_broadcasts(&w.web, &w.env).await, 0);
    let unknown = cli(args(&format!("delete-dead default {id}"))).await;
    assert!(!unknown.success, "{unknown:?}");
}

#[tokio::test]
async fn web_token_prints_the_token_first() {
    let w = world().await;
    w.web.put_user("alice", "Alice", None).await;
    let command = WebApp::command(&w.env, &WebOptions::default());
    let issued = run_to_exit(
        command,
        ["token", "--user", "alice"],
        Duration::from_secs(30),
    )
    .await;
    assert!(issued.success, "{issued:?}");
    assert!(
        issued.stdout.starts_with(r#"{"token":""#),
        "{}",
        issued.stdout
    );
    let parsed: Value = serde_json::from_str(issued.stdout.trim()).unwrap();
    assert_eq!(parsed["user_code"], "alice");
}
