//! poem's hello world, in this process on a runtime of its own (two worker threads, as web
//! has on two cores): the ceiling a poem callback can reach on this machine, measured by the
//! same load generator in the same run.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use poem::listener::TcpAcceptor;
use poem::{Route, Server, get, handler};
use tokio::sync::oneshot;

#[handler]
fn hello() -> &'static str {
    "Hello, world!"
}

pub struct HelloServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HelloServer {
    pub fn start() -> anyhow::Result<Self> {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hello-world".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = addr_tx.send(Err(anyhow::Error::from(error)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(listener) => listener,
                        Err(error) => {
                            let _ = addr_tx.send(Err(error.into()));
                            return;
                        }
                    };
                    let acceptor = listener
                        .local_addr()
                        .and_then(|addr| Ok((addr, TcpAcceptor::from_tokio(listener)?)));
                    let acceptor = match acceptor {
                        Ok((addr, acceptor)) => {
                            let _ = addr_tx.send(Ok(addr));
                            acceptor
                        }
                        Err(error) => {
                            let _ = addr_tx.send(Err(error.into()));
                            return;
                        }
                    };
                    let _ = Server::new_with_acceptor(acceptor)
                        .run_with_graceful_shutdown(
                            Route::new().at("/", get(hello)),
                            async move {
                                let _ = stopped.await;
                            },
                            Some(Duration::from_secs(1)),
                        )
                        .await;
                });
            })
            .context("starting the hello-world thread")?;
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .context("the hello-world server did not start")??;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for HelloServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
