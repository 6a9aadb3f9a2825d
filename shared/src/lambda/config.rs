//! The configuration of a function: `exsync.toml` on S3 (`EXSYNC_CONFIG_URI`), read at the
//! first invocation and again only when its ETag changed, checked at most every
//! [`CHECK_EVERY`] (a warm instance does not pay a round trip per event).

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::Mutex;
use url::Url;

use super::s3::{Fetched, S3Error, S3Reader, S3Uri};
use crate::config::Config;

/// How long a warm instance trusts the configuration it read before asking S3 whether the
/// object changed (an `If-None-Match` GET: 304 when it did not).
pub const CHECK_EVERY: Duration = Duration::from_secs(30);

/// The configuration could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ConfigLoadError {
    /// S3 did not give the object.
    #[error("the configuration: {0}")]
    Read(#[from] S3Error),
    /// The object is not a valid configuration: the key at fault and what is wrong.
    #[error("the configuration {uri}: {key}: {message}")]
    Invalid {
        /// Where it was read.
        uri: String,
        /// Dotted key path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The HTTP client of the configuration cannot be built (`cloud.ca_file`).
    #[error("the configuration's HTTP client: {0}")]
    Http(String),
}

impl ConfigLoadError {
    /// Whether asking again later can help (S3 briefly unavailable); an invalid file waits
    /// for an admin.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ConfigLoadError::Read(e) if e.retryable)
    }
}

/// A configuration as read, with what tells a newer one apart.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Arc<Config>,
    /// The object's ETag when it was read.
    pub etag: String,
}

#[derive(Debug)]
struct Current {
    loaded: Loaded,
    checked: Instant,
}

/// The configuration object of a function, cached across warm invocations.
#[derive(Debug)]
pub struct ConfigSource {
    uri: S3Uri,
    reader: S3Reader,
    base_dir: PathBuf,
    public_url: Option<Url>,
    check_every: Duration,
    current: Mutex<Option<Current>>,
}

impl ConfigSource {
    /// The object at `uri`; relative paths in it resolve against `base_dir` (on Lambda the
    /// task root, where files packaged with the function live); `public_url`, when given,
    /// replaces `runtime.public_url` (subscribe gets the notify Function URL this way).
    pub fn new(uri: S3Uri, reader: S3Reader, base_dir: PathBuf, public_url: Option<Url>) -> Self {
        Self {
            uri,
            reader,
            base_dir,
            public_url,
            check_every: CHECK_EVERY,
            current: Mutex::default(),
        }
    }

    /// Checks for a newer object every `every` instead of [`CHECK_EVERY`] (tests).
    pub fn with_check_every(mut self, every: Duration) -> Self {
        self.check_every = every;
        self
    }

    /// The configuration: the one held while it is fresh, else the object if its ETag changed.
    /// When a check fails, the configuration held goes on serving (a warning says why).
    pub async fn current(&self) -> Result<Loaded, ConfigLoadError> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref()
            && c.checked.elapsed() < self.check_every
        {
            return Ok(c.loaded.clone());
        }
        let held = current.as_ref().map(|c| c.loaded.etag.as_str());
        let fetched = match (self.reader.get(&self.uri, held).await, current.as_mut()) {
            (Ok(fetched), _) => fetched,
            (Err(error), Some(c)) => {
                tracing::warn!(%error, "could not check the configuration for changes; using the one read before");
                c.checked = Instant::now();
                return Ok(c.loaded.clone());
            }
            (Err(error), None) => return Err(error.into()),
        };
        let loaded = match (fetched, current.as_ref()) {
            (Fetched::Unchanged, Some(c)) => c.loaded.clone(),
            (Fetched::Unchanged, None) => {
                // Only possible if S3 answered 304 to an unconditional GET.
                return Err(S3Error {
                    uri: self.uri.to_string(),
                    message: "S3 answered 304 Not Modified to a plain GET".into(),
                    retryable: true,
                }
                .into());
            }
            (Fetched::Changed { etag, body }, _) => {
                let config = self.parse(&body)?;
                tracing::info!(uri = %self.uri, %etag, "read the configuration");
                Loaded { config: Arc::new(config), etag }
            }
        };
        *current = Some(Current { loaded: loaded.clone(), checked: Instant::now() });
        Ok(loaded)
    }

    fn parse(&self, text: &str) -> Result<Config, ConfigLoadError> {
        let mut config = Config::parse(text, &self.base_dir).map_err(|(key, message)| {
            ConfigLoadError::Invalid { uri: self.uri.to_string(), key, message }
        })?;
        if let Some(url) = &self.public_url {
            config.runtime.public_url = Some(url.clone());
        }
        Ok(config)
    }
}
