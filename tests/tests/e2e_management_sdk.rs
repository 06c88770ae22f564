//! The emulator's Management API through the unmodified AWS SDK, on a live connection of the
//! product: GET, DELETE (which fires `$disconnect`), and 410 afterwards.

use std::time::Duration;

use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use e2e::stack::Stack;
use e2e::{TestEnv, WebOptions, fixtures, wait_until};
use serde_json::json;

#[tokio::test]
async fn get_delete_and_gone_through_the_aws_sdk() {
    let env = TestEnv::postgres().await;
    let stack = Stack::start(&env, WebOptions::default(), &[]).await;
    let db = env.db.connect().await;
    stack.web.put_user("alice", "Alice", None).await;
    let token = stack.web.issue_token(Some("alice")).await;
    let mut alice = stack.client().await;
    alice
        .request(
            &json!({"method": "auth_request", "token": token}),
            "auth_result",
        )
        .await;
    let connection_id = fixtures::token(&db, &token)
        .await
        .connection_id
        .expect("bound");

    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(stack.emulator.management_endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    let client = aws_sdk_apigatewaymanagement::Client::from_conf(config);

    let info = client
        .get_connection()
        .connection_id(&connection_id)
        .send()
        .await
        .unwrap();
    assert!(info.connected_at().is_some());
    assert!(info.last_active_at().is_some());
    assert_eq!(
        info.identity().and_then(|identity| identity.source_ip()),
        Some("127.0.0.1")
    );

    client
        .post_to_connection()
        .connection_id(&connection_id)
        .data(Blob::new(br#"{"hello":"sdk"}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(alice.recv().await, json!({"hello": "sdk"}));

    client
        .delete_connection()
        .connection_id(&connection_id)
        .send()
        .await
        .unwrap();
    assert_eq!(alice.closed(Duration::from_secs(10)).await, 1000);
    wait_until(Duration::from_secs(10), || async {
        fixtures::token(&db, &token).await.last_status.as_deref() == Some("unsubscribed")
    })
    .await
    .expect("DELETE fired $disconnect");

    let error = client
        .post_to_connection()
        .connection_id(&connection_id)
        .data(Blob::new(b"late".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert!(error.into_service_error().is_gone_exception());
}
