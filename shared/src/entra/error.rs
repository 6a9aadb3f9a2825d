//! What went wrong getting a token, read from azure_core's error ([`super::advice`] says what
//! an admin can do about it).
//!
//! Branch on `error_codes[0]` (the AADSTS number), never on the text (reference B1, D8). Only
//! the first line of `error_description` is kept (the rest is trace and correlation ids);
//! nothing of the request is ever read.

use std::time::Duration;

use azure_core::error::ErrorKind;
use serde::Deserialize;

use super::transport::TimedOut;

/// Entra's answer to a refused token request, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntraFailure {
    /// The token endpoint answered with an error.
    Refused {
        /// HTTP status.
        status: u16,
        /// `error` (`invalid_client`, ...).
        error: Option<String>,
        /// `error_codes[0]`, the AADSTS number.
        code: Option<u32>,
        /// The first line of `error_description`.
        description: Option<String>,
        /// `Retry-After`, in seconds.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    TimedOut,
    /// The server's TLS certificate is not trusted.
    UntrustedCertificate {
        /// rustls' reason.
        detail: String,
    },
    /// No connection (DNS, refused, reset).
    Unreachable {
        /// The transport's reason.
        detail: String,
    },
    /// Anything else: an unreadable answer or a broken connection (transient), or a request
    /// azure_identity refused to send (such as a scope with characters it does not allow).
    Other {
        /// azure_core's reason.
        detail: String,
        /// Whether it came from the network side (worth retrying).
        transient: bool,
    },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
    error_codes: Vec<u32>,
}

/// Longest `error_description` line kept (Entra's are one or two sentences).
const MAX_DESCRIPTION: usize = 400;

impl EntraFailure {
    /// Reads azure_identity's error: the HTTP answer it carries, or the transport failure in
    /// its chain of sources.
    pub fn from_azure(error: &azure_core::Error) -> Self {
        let chain = std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        });
        let mut transient = false;
        for cause in chain {
            if let Some(azure) = cause.downcast_ref::<azure_core::Error>() {
                match azure.kind() {
                    ErrorKind::HttpResponse { status, raw_response, .. } => {
                        return refused(u16::from(*status), raw_response.as_deref());
                    }
                    // DataConversion: a 2xx answer that is not a token response.
                    ErrorKind::Io | ErrorKind::Connection | ErrorKind::DataConversion => {
                        transient = true
                    }
                    _ => {}
                }
            }
            if cause.downcast_ref::<TimedOut>().is_some() {
                return Self::TimedOut;
            }
            if let Some(reqwest) = cause.downcast_ref::<reqwest::Error>() {
                if reqwest.is_timeout() {
                    return Self::TimedOut;
                }
                if let Some(detail) = certificate_problem(reqwest) {
                    return Self::UntrustedCertificate { detail };
                }
                return Self::Unreachable { detail: chain_text(reqwest) };
            }
        }
        Self::Other { detail: first_line(&error.to_string()), transient }
    }
}

fn refused(status: u16, raw: Option<&azure_core::http::RawResponse>) -> EntraFailure {
    let body: ErrorBody =
        raw.and_then(|r| serde_json::from_slice(r.body().as_ref()).ok()).unwrap_or_default();
    let description = body.error_description.as_deref().map(first_line);
    let code = body.error_codes.first().copied().or_else(|| {
        let rest = description.as_deref()?.strip_prefix("AADSTS")?;
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    });
    let retry_after = raw
        .and_then(|r| r.headers().get_optional_str(&azure_core::http::headers::RETRY_AFTER))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    EntraFailure::Refused { status, error: body.error, code, description, retry_after }
}

fn first_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    match line.char_indices().nth(MAX_DESCRIPTION) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// rustls' certificate verdict, if the connection failed on one. It sits in an `io::Error`
/// inside another (hyper-rustls wraps tokio-rustls' error), and `io::Error::source()` skips
/// both, so each is opened by hand.
fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    fn tls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        tls(e.downcast_ref::<std::io::Error>()?.get_ref()?)
    }
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        if let Some(
            found @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented),
        ) = tls(e)
        {
            return Some(found.to_string());
        }
        cause = e.source();
    }
    None
}

fn chain_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text = format!("{text}: {e}");
        cause = e.source();
    }
    first_line(&text)
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
