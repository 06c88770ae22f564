//! Builds the application on a listener the caller bound, and runs it until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use poem::{EndpointExt, Route, Server, get};
use shared::config::{CommonSettings, WebSettings};
use shared::message_view::MessageRenderer;
use shared::queue::{Queues, redis_connection};
use tokio::net::TcpListener;

use crate::cable::{self, Cable};
use crate::listener::{Connections, DrainingAcceptor};
use crate::shutdown::{self, Draining, Periods};
use crate::state::{AppState, Inner};
use crate::{admin, callbacks, dashboard, demo, edge, error, health, request_metrics};

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects to the database and Redis lazily, so web starts and reports through
    /// `/readyz` while either is down (the logs show it waiting for the database), and binds
    /// `WEB_ADDR`.
    pub async fn build(
        common: CommonSettings,
        web: WebSettings,
        metrics: Option<PrometheusHandle>,
    ) -> anyhow::Result<Self> {
        let db = shared::db::connect_lazy(&common.database_url, web.db_acquire_timeout)
            .await
            .context("cannot open DATABASE_URL")?;
        tokio::spawn({
            let (db, url) = (db.clone(), common.database_url.clone());
            async move { shared::db::wait_until_reachable(&db, &url).await }
        });
        let redis = redis_connection(&common.redis_url, Duration::from_secs(2))
            .context("cannot use REDIS_URL")?;
        let listener = TcpListener::bind(web.addr)
            .await
            .with_context(|| format!("cannot listen on WEB_ADDR {}", web.addr))?;
        let draining = Draining::default();
        // Streams stop when the drain starts: every socket is then told to reconnect elsewhere.
        let cable = Cable::start(&common, &web, draining.token())
            .context("cannot use the Action Cable pub/sub Redis")?;
        let state = AppState::new(Inner {
            queues: Queues::new(redis.clone(), &common.queue_prefix),
            renderer: MessageRenderer::new(&common),
            db,
            redis,
            common,
            web,
            metrics,
            draining,
            cable,
        });
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains and stops as [`shutdown`] describes.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        let locale = self.state.common.locale;
        let draining = self.state.draining.clone();
        let periods = Periods {
            drain: self.state.web.drain,
            grace: self.state.web.shutdown_grace,
        };
        let app = cable::route(Route::new(), &self.state.web)
            .nest("/ws_apigateway", callbacks::routes())
            .nest("/api", admin::routes())
            .nest("/admin", dashboard::routes(&self.state))
            .nest("/demo", demo::routes(&self.state))
            .at("/healthz", get(health::healthz))
            .at("/readyz", get(health::readyz))
            .at("/metrics", get(health::metrics))
            .around(request_metrics::record)
            .catch_all_error(move |error| async move { error::render(error, locale) })
            .around(shutdown::close_while_draining)
            .with(edge::BodyGuard::new(self.state.web.body_timeout));
        let connections = Connections::default();
        let acceptor = DrainingAcceptor::new(self.listener, connections.clone(), draining.token())?;
        let acceptor = edge::guard_connections(acceptor, &self.state.web, locale);
        let app = app.data(self.state);
        // poem's graceful shutdown is never triggered: it would reset requests on their way
        // in. Web stops when `drain_then_stop` is done, dropping the server.
        tokio::select! {
            served = Server::new_with_acceptor(acceptor).run(app) => served.context("server failed"),
            () = shutdown::drain_then_stop(signal, draining, connections, periods) => Ok(()),
        }
    }
}
