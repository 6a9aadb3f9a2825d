//! Serving a simulator's axum app on 127.0.0.1, over TLS or plain HTTP.

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};
use tokio_rustls::TlsAcceptor;
use url::Url;

/// A server accepting connections until it is shut down or dropped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
}

impl RunningServer {
    /// Binds `addr` (use port 0 for a free port) and serves `app`; TLS when `tls` is given.
    pub async fn start(
        app: Router,
        addr: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self::serve(app, listener, tls))
    }

    /// Serves `app` on an already bound listener.
    pub fn serve(
        app: Router,
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Self {
        let addr = listener.local_addr().expect("bound listener has an address");
        let (stop, stopped) = watch::channel(false);
        let is_tls = tls.is_some();
        tokio::spawn(accept_loop(app, listener, tls.map(TlsAcceptor::from), stopped));
        Self { addr, tls: is_tls, stop }
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:{port}` (or `http://` without TLS), no trailing slash.
    pub fn base_url(&self) -> Url {
        let scheme = if self.tls { "https" } else { "http" };
        Url::parse(&format!("{scheme}://{}", self.addr)).expect("valid base URL")
    }

    /// Stops accepting and drops every open connection.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn accept_loop(
    app: Router,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let tls = tls.clone();
        connections.spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => builder.serve_connection(TokioIo::new(stream), service).await,
                    Err(error) => {
                        tracing::debug!(%error, "TLS handshake failed");
                        return;
                    }
                },
                None => builder.serve_connection(TokioIo::new(stream), service).await,
            };
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::TestCa;
    use axum::routing::get;

    #[tokio::test]
    async fn serves_https_to_clients_that_trust_the_test_ca_only() {
        let ca = TestCa::generate();
        let app = Router::new().route("/ping", get(|| async { "pong" }));
        let server =
            RunningServer::start(app, "127.0.0.1:0".parse().unwrap(), Some(ca.server_config()))
                .await
                .unwrap();
        let url = server.base_url().join("/ping").unwrap();
        assert_eq!(url.scheme(), "https");

        let body = ca.client().get(url.clone()).send().await.unwrap().text().await.unwrap();
        assert_eq!(body, "pong");

        let stranger = TestCa::generate().client();
        assert!(stranger.get(url.clone()).send().await.is_err());

        server.shutdown();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(ca.client().get(url).send().await.is_err());
    }
}
