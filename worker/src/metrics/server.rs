//! The worker's `/metrics` listener. It is bound before anything else at start-up, so a
//! taken port stops the worker at once with a message naming `WORKER_METRICS_ADDR`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::web::{Data, Json};
use poem::{EndpointExt, IntoResponse, Response, Route, Server, get, handler};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Sampler;

pub struct MetricsServer {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl MetricsServer {
    pub async fn bind(addr: SocketAddr, handle: PrometheusHandle) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on WORKER_METRICS_ADDR {addr}"))?;
        Ok(Self { listener, handle })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `GET /metrics` until `stop`; anything else is a JSON 404 or 405.
    pub async fn serve(self, sampler: Sampler, stop: CancellationToken) {
        let app = Route::new()
            .at("/metrics", get(render))
            .data(Arc::new((self.handle, sampler)))
            .catch_all_error(|error| async move {
                let status = error.status();
                let reason = status.canonical_reason().unwrap_or("error");
                (status, Json(json!({"success": false, "error": reason}))).into_response()
            });
        let acceptor = match TcpAcceptor::from_tokio(self.listener) {
            Ok(acceptor) => acceptor,
            Err(error) => {
                tracing::error!(%error, "the metrics listener failed; /metrics is not served");
                return;
            }
        };
        let served = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, stop.cancelled(), None)
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the metrics listener failed; /metrics is not served");
        }
    }
}

#[handler]
async fn render(Data(state): Data<&Arc<(PrometheusHandle, Sampler)>>) -> Response {
    let (handle, sampler) = state.as_ref();
    sampler.refresh().await;
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}
