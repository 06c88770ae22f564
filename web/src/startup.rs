//! Builds the application on a listener the caller bound, and runs it until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use poem::{Endpoint, EndpointExt, Route, Server};
use shared::config::{CommonSettings, WebSettings};
use shared::message_view::MessageRenderer;
use shared::queue::{Queues, RedisConnection};
use tokio::net::TcpListener;

use crate::cable::Cable;
use crate::chat::AuthTimes;
use crate::listener::{Connections, DrainingAcceptor};
use crate::shutdown::{self, Draining, Periods};
use crate::state::{AppState, Inner};
use crate::{edge, error, request_metrics, routes};

pub struct Application {
    listener: TcpListener,
    /// `ADMIN_ADDR`'s listener, when set: the operators' routes are served there only.
    admin_listener: Option<TcpListener>,
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
        request_metrics::describe();
        let db = shared::db::connect_lazy(&common.database_url, web.db_acquire_timeout)
            .await
            .context("cannot open DATABASE_URL")?;
        tokio::spawn({
            let (db, url) = (db.clone(), common.database_url.clone());
            async move { shared::db::wait_until_reachable(&db, &url).await }
        });
        let redis = RedisConnection::open(&common.redis, Duration::from_secs(2))
            .context("cannot use REDIS_URL")?;
        let listener = TcpListener::bind(web.addr)
            .await
            .with_context(|| format!("cannot listen on WEB_ADDR {}", web.addr))?;
        let admin_listener = match web.admin_addr {
            None => None,
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on ADMIN_ADDR {addr}"))?,
            ),
        };
        let draining = Draining::default();
        // Streams stop when the drain starts: every socket is then told to reconnect elsewhere.
        let cable = Cable::start(&common, &web, draining.token())
            .context("cannot use the Action Cable pub/sub Redis")?;
        let state = AppState::new(Inner {
            queues: Queues::new(redis.clone(), &common.queue_prefix),
            renderer: MessageRenderer::new(&common),
            auth_times: AuthTimes::start(db.clone(), web.auth_time_flush),
            db,
            redis,
            common,
            web,
            metrics,
            draining,
            cable,
        });
        Ok(Self {
            listener,
            admin_listener,
            state,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where the operators' routes are served, when `ADMIN_ADDR` is set.
    pub fn admin_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.admin_listener.as_ref().map(TcpListener::local_addr)
    }

    /// Serves until `shutdown` resolves, then drains and stops as [`shutdown`] describes.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        let locale = self.state.common.locale;
        let draining = self.state.draining.clone();
        let periods = Periods {
            drain: self.state.web.drain,
            grace: self.state.web.shutdown_grace,
        };
        let web = &self.state.web;
        let (public, admin) = match self.admin_listener {
            None => (
                routes::admin(routes::public(Route::new(), web), &self.state),
                None,
            ),
            Some(listener) => (
                routes::public(Route::new(), web),
                Some((routes::admin(Route::new(), &self.state), listener)),
            ),
        };
        // Both listeners drain together: one set of connections, one stop.
        let connections = Connections::default();
        let serve = |route: Route, listener: TcpListener| {
            let app = with_middleware(route, &self.state);
            let acceptor = DrainingAcceptor::new(listener, connections.clone(), draining.token())
                .map(|acceptor| edge::guard_connections(acceptor, &self.state.web, locale));
            async move { Server::new_with_acceptor(acceptor?).run(app).await }
        };
        let public = serve(public, self.listener);
        let admin = admin.map(|(route, listener)| serve(route, listener));
        let servers = async move {
            match admin {
                None => public.await,
                Some(admin) => tokio::try_join!(public, admin).map(|_| ()),
            }
        };
        // poem's graceful shutdown is never triggered: it would reset requests on their way
        // in. Web stops when `drain_then_stop` is done, dropping the servers.
        let stopped = tokio::select! {
            served = servers => served.context("server failed"),
            () = shutdown::drain_then_stop(signal, draining, connections, periods) => Ok(()),
        };
        // Every answered frame's time is written before web exits.
        if let Err(error) = self.state.auth_times.flush().await {
            tracing::error!(%error, "could not write last_auth_successed_at before exiting");
        }
        stopped
    }
}

/// What every response of either listener goes through: metrics, JSON errors in the locale,
/// `Connection: close` while draining, the body deadline.
fn with_middleware(route: Route, state: &AppState) -> impl Endpoint + 'static {
    let locale = state.common.locale;
    route
        .around(request_metrics::record)
        .catch_all_error(move |error| async move { error::render(error, locale) })
        .around(shutdown::close_while_draining)
        .with(edge::BodyGuard::new(state.web.body_timeout))
        .data(state.clone())
}
