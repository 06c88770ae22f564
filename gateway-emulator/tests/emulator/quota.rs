//! `EMULATOR_ACCOUNT_RPS`: beyond the account's quota the Management API answers as AWS
//! does, 429 `LimitExceededException`, and the stats count it.

use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use crate::harness::TestEmulator;

#[tokio::test]
async fn beyond_the_account_quota_calls_are_refused_with_limit_exceeded() {
    // 1 request/s after a burst of 5: a loop of 20 calls sees the burst and one a second.
    let emu = TestEmulator::start_with(&[
        ("EMULATOR_ACCOUNT_RPS", "1"),
        ("EMULATOR_ACCOUNT_BURST", "5"),
    ])
    .await;
    let (_ws, id) = emu.connect().await;
    let sdk = emu.sdk();
    let (mut accepted, mut throttled) = (0, 0);
    let started = std::time::Instant::now();
    for _ in 0..20 {
        match sdk
            .post_to_connection()
            .connection_id(&id)
            .data(Blob::new("x"))
            .send()
            .await
        {
            Ok(_) => accepted += 1,
            Err(error) => {
                let response = error.raw_response().expect("an HTTP answer");
                assert_eq!(response.status().as_u16(), 429);
                assert_eq!(
                    response.headers().get("x-amzn-errortype"),
                    Some("LimitExceededException")
                );
                assert!(matches!(
                    error.into_service_error(),
                    PostToConnectionError::LimitExceededException(_)
                ));
                throttled += 1;
            }
        }
    }
    let most = 5 + started.elapsed().as_secs() + 1;
    assert!(
        (5..=most).contains(&accepted),
        "{accepted} accepted, {most} at most"
    );
    // GetConnection counts against the same quota.
    let get = sdk.get_connection().connection_id(&id).send().await;
    let stats = emu.stats().await;
    let get_throttled = get.is_err();
    assert_eq!(stats["posts_ok"], accepted);
    assert_eq!(
        stats["quota_throttled"],
        throttled + u64::from(get_throttled)
    );
    let per_second = stats["management_per_second"].as_array().expect("a list");
    let requests: u64 = per_second
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .sum();
    let refused: u64 = per_second
        .iter()
        .map(|s| s["quota_throttled"].as_u64().unwrap())
        .sum();
    assert_eq!(requests, 21);
    assert_eq!(refused, stats["quota_throttled"].as_u64().unwrap());
}

#[tokio::test]
async fn without_a_quota_nothing_is_refused_and_requests_are_counted_per_second() {
    let emu = TestEmulator::start().await;
    let (_ws, id) = emu.connect().await;
    let sdk = emu.sdk();
    for _ in 0..50 {
        sdk.post_to_connection()
            .connection_id(&id)
            .data(Blob::new("x"))
            .send()
            .await
            .expect("no quota");
    }
    let stats = emu.stats().await;
    assert_eq!(stats["quota_throttled"], 0);
    let per_second = stats["management_per_second"].as_array().expect("a list");
    let requests: u64 = per_second
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(requests, 50);
}
