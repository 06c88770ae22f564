//! The worker gives `APIGW_REGION` to the AWS configuration loader: with static credentials
//! in its environment it never asks EC2 instance metadata (IMDS) for anything, neither at
//! start-up nor when it signs a call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use e2e::audience::{self, bind_many};
use e2e::fake_management::FakeManagementApi;
use e2e::{TestEnv, WorkerOptions, WorkerProcess, wait_until};
use tokio::net::TcpListener;

/// A stand-in for the instance metadata service that only counts who connects to it.
struct MetadataListener {
    endpoint: String,
    connections: Arc<AtomicUsize>,
}

impl MetadataListener {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            // Each connection is counted and closed: a prober gets no answer.
            while let Ok((_socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self {
            endpoint,
            connections,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Static credentials, a region, and IMDS pointed at the listener.
fn on_aws(options: WorkerOptions, imds: &MetadataListener) -> WorkerOptions {
    options
        .with_env("APIGW_REGION", "ap-northeast-1")
        .with_env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .with_env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .with_env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.endpoint)
}

#[tokio::test]
async fn start_up_on_an_aws_endpoint_never_probes_instance_metadata() {
    let env = TestEnv::postgres().await;
    let imds = MetadataListener::start().await;
    let options = on_aws(
        WorkerOptions::new("https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/prod"),
        &imds,
    );
    // The AWS configuration is loaded before this line is printed.
    let worker = WorkerProcess::spawn(&env, &options).await;
    assert_eq!(
        imds.connections(),
        0,
        "the worker asked instance metadata:\n{}",
        worker.logs().text()
    );
}

#[tokio::test]
async fn signing_with_static_credentials_never_probes_instance_metadata() {
    let env = TestEnv::postgres().await;
    let imds = MetadataListener::start().await;
    let api = FakeManagementApi::start().await;
    // With a key set, even a loopback endpoint is called through AWS's credential chain.
    let options = on_aws(WorkerOptions::new(api.endpoint()), &imds);
    let worker = WorkerProcess::spawn(&env, &options).await;
    let db = env.db.connect().await;
    let alice = audience::user(&db, "alice").await;
    bind_many(&db, &alice, "conn", 2).await;
    audience::broadcast(&env, &db, &alice, "all_channel", "signed").await;
    wait_until(Duration::from_secs(15), || async {
        api.total_delivered() == 2
    })
    .await
    .unwrap_or_else(|_| panic!("delivered:\n{}", worker.logs().text()));
    assert_eq!(imds.connections(), 0, "{}", worker.logs().text());
}
