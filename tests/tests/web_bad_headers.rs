//! Hostile or broken headers: connection ids API Gateway would never send are refused
//! before anything is written; odd but printable ids stay usable end to end.

use e2e::fake_management::FakeManagementApi;
use e2e::fixtures::Snapshot;
use e2e::raw_http::RawConnection;
use e2e::web::ALLOWED_ORIGIN;
use e2e::{TestEnv, WebApp, WebOptions, WorkerOptions, WorkerProcess, wait_until};
use reqwest::header::HeaderValue;
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{ja, world};

const ROUTES: [&str; 3] = ["connect", "disconnect", "default"];

#[tokio::test]
async fn a_connection_id_with_whitespace_control_characters_or_non_ascii_is_422() {
    let w = world().await;
    let code = w.web.issue_token(None).await;
    let frame = json!({"method": "auth_request", "token": code}).to_string();
    let before = Snapshot::take(&w.env, &w.db).await;
    let ids: [&[u8]; 5] = [
        b"abc\tdef=",
        b"abc def=",
        b"a\t\tb",
        "abcä=".as_bytes(),
        b"ab\xffc",
    ];
    for route in ROUTES {
        for id in ids {
            let shown = String::from_utf8_lossy(id).into_owned();
            let request = w
                .web
                .callback(route, None)
                .header("connectionId", HeaderValue::from_bytes(id).unwrap())
                .header("origin", ALLOWED_ORIGIN)
                .body(frame.clone());
            let (status, body) = w.web.send(request).await;
            assert_eq!(status, 422, "{route} {shown:?}: {body}");
            assert_eq!(body["success"], false);
            assert_eq!(body["alert"], ja(Alert::ConnectionIdInvalid), "{route}");
        }
    }
    assert_eq!(Snapshot::take(&w.env, &w.db).await, before);
}

/// `/`, `?`, `#`, `%` and `..` in an id must not change the Management API path the worker
/// posts to: the SDK percent-encodes the id into one path segment.
#[tokio::test]
async fn connection_ids_with_path_characters_bind_and_receive_broadcasts() {
    let env = TestEnv::postgres().await;
    let api = FakeManagementApi::start().await;
    let web = WebApp::spawn(&env, WebOptions::default()).await;
    let _worker = WorkerProcess::spawn(&env, &WorkerOptions::new(api.endpoint())).await;
    let ids = ["a/b=", "a?b=", "a#b=", "a%2Fb=", "..", "../x=", "a+b/c=="];
    let mut sender = None;
    for id in ids {
        let (status, body) = web.connect(id, Some(ALLOWED_ORIGIN)).await;
        assert_eq!(status, 200, "{id}: {body}");
        let code = web.user_token("u1").await;
        web.authenticate(id, &code).await;
        sender.get_or_insert((id, code));
    }
    let (id, code) = sender.unwrap();
    let frame =
        json!({"method": "send_message", "token": code, "channel": "all_channel", "body": "hi"});
    let (status, body) = web.frame(id, &frame).await;
    assert_eq!(status, 200, "{body}");
    wait_until(std::time::Duration::from_secs(20), || async {
        api.total_delivered() == ids.len()
    })
    .await
    .unwrap_or_else(|_| panic!("delivered {} of {}", api.total_delivered(), ids.len()));
    for id in ids {
        assert_eq!(api.delivered(id).len(), 1, "{id}");
    }
}

/// Heads hyper cannot parse are answered before any endpoint runs; the answer is still
/// JSON with a localized alert, then the connection closes.
#[tokio::test]
async fn unparsable_oversized_or_overlong_heads_get_json_400_414_431() {
    let w = world().await;
    let post = |headers: &str| {
        format!("POST /ws_apigateway/default HTTP/1.1\r\nhost: x\r\n{headers}\r\n").into_bytes()
    };
    let many: String = (0..150).map(|n| format!("x-{n}: y\r\n")).collect();
    let cases: Vec<(Vec<u8>, u16, Alert)> = vec![
        (post("bad header: y\r\n"), 400, Alert::RequestMalformed),
        (
            post("connectionId: a\x7fb\r\n"),
            400,
            Alert::RequestMalformed,
        ),
        (
            post("connectionId: a\x01b\r\n"),
            400,
            Alert::RequestMalformed,
        ),
        (b"GARBAGE\r\n\r\n".to_vec(), 400, Alert::RequestMalformed),
        (
            post(&format!("x-big: {}\r\n", "a".repeat(500_000))),
            431,
            Alert::RequestHeadersTooLarge,
        ),
        (post(&many), 431, Alert::RequestHeadersTooLarge),
        (
            format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            414,
            Alert::RequestUriTooLong,
        ),
    ];
    for (request, status, alert) in cases {
        let shown = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
        let mut connection = RawConnection::open(w.web.addr()).await;
        connection.send(&request).await;
        let answer = connection.answer().await.expect("an answer");
        assert_eq!(answer.status, status, "{shown:?}: {answer:?}");
        let body = answer.json();
        assert_eq!(
            body,
            json!({"success": false, "alert": ja(alert)}),
            "{shown:?}"
        );
        connection.closed().await;
    }
}
