//! `/demo` in headless Chromium against the whole product: one page joins through the
//! emulator (API Gateway), one through web's `/cable` (Action Cable); each sends a message
//! and both pages show both.

use std::collections::HashMap;

use e2e::browser::{Browser, screenshot_path};
use e2e::stack::Stack;
use e2e::{TestEnv, WebOptions};
use shared::queries::connections;

/// The page's origin, which the test web allows (`ALLOWED_ORIGIN`).
const PAGE_HOST: &str = "allowed.example";
/// The gateway's name inside Chromium (the emulator starts after web, on a port of its own).
const GATEWAY_HOST: &str = "gateway.example";

async fn join(browser: &mut Browser, page: &str, name: &str, path: &str) {
    let status = browser
        .open(page, &format!("http://{PAGE_HOST}/demo"), None)
        .await;
    assert_eq!(status, 200);
    browser.fill(page, "Name", name).await;
    browser.select(page, "Path", path).await;
    browser.click(page, "button", "Join", None).await;
    browser
        .wait_text(page, "#status", &format!("Joined as {name} via {path}."))
        .await;
}

async fn send(browser: &mut Browser, page: &str, body: &str) {
    browser.fill(page, "Message", body).await;
    browser.click(page, "button", "Send", None).await;
}

#[tokio::test]
async fn both_paths_chat_together_in_the_browser() {
    let env = TestEnv::postgres().await;
    let options = WebOptions::default()
        .with_env("DEMO_PAGE", "true")
        .with_env("DEMO_GATEWAY_URL", format!("ws://{GATEWAY_HOST}/local"));
    let stack = Stack::start(&env, options, &[]).await;
    let hosts = HashMap::from([
        (PAGE_HOST.to_owned(), stack.web.addr().to_string()),
        (GATEWAY_HOST.to_owned(), stack.emulator.addr().to_string()),
    ]);
    let mut browser = Browser::launch(&hosts).await;

    join(&mut browser, "gateway", "Alice", "API Gateway").await;
    join(&mut browser, "cable", "Carol", "Action Cable").await;
    send(&mut browser, "gateway", "hello from API Gateway").await;
    // Alice's message is stored before Carol sends, so the ids give the order asserted
    // below (her frame goes through the emulator's callback; Carol's straight to web).
    browser
        .wait_text("gateway", "#messages li", "hello from API Gateway")
        .await;
    send(&mut browser, "cable", "hello from Action Cable").await;

    for page in ["gateway", "cable"] {
        browser
            .wait_text(page, "#messages li", "hello from API Gateway")
            .await;
        browser
            .wait_text(page, "#messages li", "hello from Action Cable")
            .await;
        let shown = browser.text(page, "#messages").await.unwrap_or_default();
        let lines: Vec<&str> = shown
            .lines()
            .filter(|line| line.contains("hello"))
            .collect();
        assert_eq!(lines.len(), 2, "each message once, in order: {shown}");
        assert!(
            lines[0].starts_with("Alice") && lines[0].contains("hello from API Gateway"),
            "{shown}"
        );
        assert!(
            lines[1].starts_with("Carol") && lines[1].contains("hello from Action Cable"),
            "{shown}"
        );
        let errors: Vec<String> = browser
            .console(page)
            .await
            .into_iter()
            .filter(|line| line.starts_with("error") || line.starts_with("pageerror"))
            .collect();
        assert!(errors.is_empty(), "{page}: {errors:?}");
        browser
            .screenshot(page, &screenshot_path(&format!("demo-{page}.png")))
            .await;
    }

    // Each path really was used: the emulator carried Alice's socket and posted both
    // messages to it; Carol's token is bound to an Action Cable socket.
    let stats = stack.emulator.stats().await;
    assert_eq!(stats["connections_total"], 1, "{stats}");
    assert!(stats["posts_ok"].as_u64() >= Some(2), "{stats}");
    let live = connections::live(&env.db.connect().await).await.unwrap();
    assert_eq!((live.api_gateway, live.action_cable), (1, 1));
    browser.close().await;
}
