//! Logs: tracing to stderr, JSON where a machine reads them (Lambda, `--log-format json`),
//! text for a person at a terminal. `RUST_LOG` picks levels (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, span fields included.
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), else `fallback`.
    pub fn from_env_or(fallback: LogFormat) -> LogFormat {
        match std::env::var("AWS_LAMBDA_LOG_FORMAT") {
            Ok(v) if v.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => fallback,
        }
    }
}

/// Installs the global subscriber; `default_level` applies when `RUST_LOG` is not set. Calling
/// it twice is harmless (the first one stays).
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colours only for a person at a terminal: escape codes in a log file or a pipe are noise
    // to every tool that reads it.
    let ansi = std::io::stderr().is_terminal();
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
