//! Serving a simulator's axum app on 127.0.0.1, over TLS or plain HTTP.

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use url::Url;

/// A server accepting connections until it is shut down or dropped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    stop: CancellationToken,
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

    /// Serves `app` on an already bound listener (exsync's own listener code, so the
    /// simulators and the product accept connections alike).
    pub fn serve(
        app: Router,
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Self {
        let addr = listener.local_addr().expect("bound listener has an address");
        let stop = CancellationToken::new();
        let is_tls = tls.is_some();
        tokio::spawn(exsync_shared::listener::serve(app, listener, tls, stop.clone()));
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

    /// Stops accepting; requests in flight get a few seconds to finish.
    pub fn shutdown(&self) {
        self.stop.cancel();
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown();
    }
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
        let fresh = TestCa::client(&ca);
        assert!(fresh.get(url).send().await.is_err());
    }
}
