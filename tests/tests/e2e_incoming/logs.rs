//! The logs of this test binary (exsync's and the simulators', at debug level), captured so
//! that each test can search them for what must never be logged.

use std::{
    io::Write,
    sync::{Mutex, Once},
};

use crate::app::TestApp;

impl TestApp {
    /// Fails if the logs of this process (every test's, at debug level) show one of this
    /// test's secrets, clientStates, a bearer token or a JWT.
    pub fn assert_no_secret_logged(&self) {
        let mut forbidden = vec![
            self.org.fabrikam.secret.clone(),
            self.org.contoso.secret.clone(),
            self.org.dataverse.secret.clone(),
            "Bearer ".into(),
            "client_secret=".into(),
            "eyJ".into(),
        ];
        forbidden.extend(self.wrong_secrets.iter().cloned());
        forbidden.extend(self.graph().subscriptions().into_iter().filter_map(|s| s.client_state));
        let logs = LOGS.lock().unwrap_or_else(|e| e.into_inner());
        let logs = String::from_utf8_lossy(&logs);
        assert!(logs.contains("token issued"), "the logs are captured at debug level");
        for (i, word) in forbidden.iter().enumerate() {
            assert!(!logs.contains(word.as_str()), "forbidden item #{i} is in the logs");
        }
    }
}

/// Every log line of this test binary, at debug level.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Where the captured logs go.
struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures the logs of exsync and the simulators (once per test binary).
pub fn capture_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(|| Capture)
            .try_init();
    });
}
