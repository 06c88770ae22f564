//! The whole product for one test: web, the emulator calling it, and a worker posting
//! through the emulator's Management API.

use crate::emulator::Emulator;
use crate::ws_client::{Ended, WsClient};
use crate::{TestEnv, WebApp, WebOptions, WorkerOptions, WorkerProcess};

pub struct Stack {
    pub worker: WorkerProcess,
    pub emulator: Emulator,
    pub web: WebApp,
}

impl Stack {
    pub async fn start(
        env: &TestEnv,
        web_options: WebOptions,
        worker_env: &[(&str, &str)],
    ) -> Self {
        Self::start_with_emulator(env, web_options, &[], worker_env).await
    }

    /// [`Stack::start`] with `EMULATOR_*` variables for the emulator.
    pub async fn start_with_emulator(
        env: &TestEnv,
        web_options: WebOptions,
        emulator_env: &[(&str, &str)],
        worker_env: &[(&str, &str)],
    ) -> Self {
        let web = WebApp::spawn(env, web_options).await;
        let emulator = Emulator::spawn(env, web.base_url(), emulator_env).await;
        let mut options = WorkerOptions::new(emulator.management_endpoint());
        for (name, value) in worker_env {
            options = options.with_env(name, value);
        }
        let worker = WorkerProcess::spawn(env, &options).await;
        Self {
            worker,
            emulator,
            web,
        }
    }

    /// A client connected with the allowed origin.
    pub async fn client(&self) -> WsClient {
        self.connect(Some(crate::web::ALLOWED_ORIGIN))
            .await
            .expect("the allowed origin connects")
    }

    /// A client connected with the allowed origin and authenticated with `token`.
    pub async fn authenticated_client(&self, token: &str) -> WsClient {
        let mut client = self.client().await;
        let reply = client
            .request(
                &serde_json::json!({"method": "auth_request", "token": token}),
                "auth_result",
            )
            .await;
        assert_eq!(reply["success"], true, "{reply}");
        client
    }

    pub async fn connect(&self, origin: Option<&str>) -> Result<WsClient, Ended> {
        WsClient::connect(&self.emulator.ws_url(), origin).await
    }
}
