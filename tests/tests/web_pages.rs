//! `/admin` and `/demo` over plain HTTP: who gets in, what a bad request gets, what the
//! buttons change. (`browser_admin` and `browser_demo` drive them in Chromium.)

use std::time::Duration;

use e2e::web::ADMIN_API_KEY;
use e2e::{WebOptions, audience};
use reqwest::Method;
use serde_json::json;
use shared::queries::users;
use shared::queue::{ClaimPolicy, QueueName};

use crate::common::{World, connection_id, world, world_with};

/// The status, content type and body of a dashboard request.
async fn page(
    request: reqwest::RequestBuilder,
) -> (u16, String, String, reqwest::header::HeaderMap) {
    let response = request.send().await.expect("web answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        status,
        content_type,
        response.text().await.unwrap(),
        headers,
    )
}

/// Buries one DeleteConnectionJob on `low_priority`, as a worker that gave up would.
async fn dead_job(world: &World) -> String {
    let queues = audience::queues(&world.env);
    audience::delete_jobs(&world.env, "gone", 1).await;
    let queue = queues.get(QueueName::LowPriority);
    let policy = ClaimPolicy {
        lease: Duration::from_secs(30),
        max_attempts: 5,
        dead_retention: 100,
    };
    let claimed = queue.claim(1, "test:1", &policy).await.unwrap().remove(0);
    assert!(queue.bury(&claimed, "AWS said no", 100).await.unwrap());
    claimed.id
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_dashboard_asks_for_the_key() {
    let world = world().await;
    let web = &world.web;
    let http = web.http();
    let (status, content_type, body, headers) = page(http.get(web.url("/admin"))).await;
    assert_eq!(status, 401, "{body}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_eq!(headers["www-authenticate"], r#"Basic realm="wsgw admin""#);
    let wrong = page(
        http.get(web.url("/admin"))
            .basic_auth("admin", Some("nope")),
    )
    .await;
    assert_eq!(wrong.0, 401);
    let wrong_bearer = page(http.get(web.url("/admin")).bearer_auth("nope")).await;
    assert_eq!(wrong_bearer.0, 401);
    for request in [
        http.get(web.url("/admin"))
            .basic_auth("anyone", Some(ADMIN_API_KEY)),
        http.get(web.url("/admin")).bearer_auth(ADMIN_API_KEY),
    ] {
        let (status, content_type, body, _) = page(request).await;
        assert_eq!(status, 200, "{body}");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        for section in [
            "Queues",
            "Live connections",
            "Dead jobs",
            "Recent broadcasts",
        ] {
            assert!(body.contains(section), "{section} missing");
        }
    }
    // Bad query values get a page that says what is wrong.
    for query in ["poll=0", "poll=soon", "nonsense=1"] {
        let (status, _, body, _) = page(
            http.get(web.url(&format!("/admin?{query}")))
                .bearer_auth(ADMIN_API_KEY),
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains("bad request"), "{body}");
    }
}

#[tokio::test]
async fn without_a_key_the_dashboard_is_off() {
    let world = world_with(WebOptions {
        admin_api_key: None,
        ..WebOptions::default()
    })
    .await;
    let web = &world.web;
    let (status, _, body, _) = page(web.http().get(web.url("/admin")).bearer_auth("x")).await;
    assert_eq!(status, 404);
    assert!(body.contains("ADMIN_API_KEY"), "{body}");
}

#[tokio::test]
async fn buttons_refuse_foreign_pages_and_unknown_jobs() {
    let world = world().await;
    let web = &world.web;
    let id = dead_job(&world).await;
    let http = no_redirects();
    let retry = web.url(&format!("/admin/queues/low_priority/dead/{id}/retry"));
    let host = web.addr().to_string();

    // The browser's credential alone is not enough: the form must come from this origin.
    for origin in [None, Some("http://evil.example"), Some("null")] {
        let mut request = http.post(&retry).basic_auth("admin", Some(ADMIN_API_KEY));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let (status, _, body, _) = page(request).await;
        assert_eq!(status, 403, "{origin:?}: {body}");
    }
    let queues = audience::queues(&world.env);
    assert_eq!(
        queues.low_priority.counts().await.unwrap().dead,
        1,
        "nothing changed"
    );

    // Unknown ids and queues are 404 pages that name them.
    for (path, names) in [
        ("/admin/queues/low_priority/dead/nope/retry", "nope"),
        ("/admin/queues/low_priority/dead/nope/delete", "nope"),
        ("/admin/queues/urgent/dead/retry-all", "urgent"),
    ] {
        let (status, _, body, _) = page(http.post(web.url(path)).bearer_auth(ADMIN_API_KEY)).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains(names), "{body}");
    }

    // Same origin: retried, then the page tells so.
    let (status, _, _, headers) = page(
        http.post(&retry)
            .basic_auth("admin", Some(ADMIN_API_KEY))
            .header("origin", format!("http://{host}")),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/admin?retried=1");
    let counts = queues.low_priority.counts().await.unwrap();
    assert_eq!((counts.dead, counts.waiting), (0, 1));
}

#[tokio::test]
async fn delete_all_drops_every_dead_job() {
    let world = world().await;
    let web = &world.web;
    let first = dead_job(&world).await;
    let second = dead_job(&world).await;
    let (status, _, body, _) =
        page(web.http().get(web.url("/admin")).bearer_auth(ADMIN_API_KEY)).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(&first) && body.contains(&second),
        "both listed"
    );
    assert!(body.contains("AWS said no"), "with their error");
    let (status, _, _, headers) = page(
        no_redirects()
            .post(web.url("/admin/queues/low_priority/dead/delete-all"))
            .bearer_auth(ADMIN_API_KEY),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/admin?deleted=2");
    let queues = audience::queues(&world.env);
    let counts = queues.low_priority.counts().await.unwrap();
    assert_eq!((counts.dead, counts.waiting), (0, 0));
    assert_eq!(queues.low_priority.show(&first).await.unwrap(), None);
}

#[tokio::test]
async fn the_demo_is_off_by_default() {
    let world = world().await;
    let web = &world.web;
    assert_eq!(web.get("/demo").await.0, 404);
    let (status, _) = web
        .send(
            web.http()
                .post(web.url("/demo/join"))
                .json(&json!({"name": "Eve"})),
        )
        .await;
    assert_eq!(status, 404, "no token endpoint either");
}

#[tokio::test]
async fn the_demo_joins_a_user_by_name() {
    let world = world_with(WebOptions::default().with_env("DEMO_PAGE", "true")).await;
    let web = &world.web;
    let (status, _, body, _) = page(web.http().get(web.url("/demo"))).await;
    assert_eq!(status, 200);
    for label in [
        r#"<label for="name">Name"#,
        r#"<label for="path">Path"#,
        r#"<label for="message">Message"#,
        ">API Gateway</option>",
        ">Action Cable</option>",
        r#"data-gateway-url="ws://127.0.0.1:4000/local""#,
    ] {
        assert!(body.contains(label), "{label} missing");
    }
    let join = |name: serde_json::Value| {
        web.send(
            web.http()
                .post(web.url("/demo/join"))
                .json(&json!({"name": name})),
        )
    };
    let (status, first) = join(json!("Dave")).await;
    assert_eq!(status, 201, "{first}");
    let (_, again) = join(json!(" Dave ")).await;
    assert_eq!(first["user_code"], again["user_code"], "one name, one user");
    assert_ne!(first["token"], again["token"]);
    let code = shared::domain::UserCode::parse(first["user_code"].as_str().unwrap()).unwrap();
    let user = users::find_by_code(&world.db, &code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "Dave");
    // The token works like any other.
    let connection = connection_id();
    web.connect(&connection, Some(e2e::web::ALLOWED_ORIGIN))
        .await;
    web.authenticate(&connection, first["token"].as_str().unwrap())
        .await;

    // Bad input: a JSON error that says so, never a 500.
    for (body, expected) in [
        (json!({"name": "   "}), 400),
        (json!({"name": 5}), 400),
        (json!({"nom": "x"}), 400),
        (json!({"name": "a".repeat(300)}), 400),
    ] {
        let (status, reply) = web
            .send(web.http().post(web.url("/demo/join")).json(&body))
            .await;
        assert_eq!(status, expected, "{body}: {reply}");
        assert_eq!(reply["success"], false);
    }
    let (status, _) = web
        .send(web.http().post(web.url("/demo/join")).body("not json"))
        .await;
    assert_eq!(status, 400);
    let (status, _) = web.send(web.admin(Method::GET, "/demo/join")).await;
    assert_eq!(status, 405);
}
