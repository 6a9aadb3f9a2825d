//! Microsoft Entra ID: access tokens with client credentials (reference `dataverse-entra.md`
//! part B), through azure_identity.
//!
//! - [`service`]: [`TokenService`], the one place that reads secrets and asks Entra.
//! - [`cache`]: [`CachingTokens`], what every caller uses: cached, refreshed early,
//!   single-flight.
//! - [`credential`]: azure_identity credentials on the configured authority host.
//! - [`assertion`]: the certificate credential's signed client assertion.
//! - [`transport`]: azure_identity's transport over exsync's HTTP client.
//! - [`jwks`]: the identity platform's signing keys, for rich notifications' validation tokens.
//! - [`error`]: Entra's answers and transport failures read from azure_core ([`EntraFailure`]).
//! - [`advice`]: each failure as a [`crate::ports::TokenError`]: retryable or what to do.

pub mod advice;
pub mod assertion;
pub mod cache;
pub mod credential;
pub mod error;
pub mod jwks;
pub mod service;
pub mod transport;

pub use cache::CachingTokens;
pub use error::EntraFailure;
pub use service::TokenService;
