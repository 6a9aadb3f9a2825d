//! Secrets that never print, and the references (`env:`, `file:`, `aws-sm:`) that name them.

use std::{fmt, path::PathBuf};

/// A secret value (client secret, certificate PEM, access token, clientState).
///
/// It has no `Display`, its `Debug` is redacted and it is not `Serialize`: the only way to
/// read it is [`Secret::expose`], at the one place that must send it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call it only where the value leaves for its one destination.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where a secret is kept. Printing a reference shows where, never what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// `env:NAME`: an environment variable.
    Env(String),
    /// `file:PATH`: a file (relative paths are resolved against the config file's folder).
    File(PathBuf),
    /// `aws-sm:ARN`: an AWS Secrets Manager secret.
    AwsSecretsManager(String),
}

/// A secret reference that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected env:NAME, file:PATH or aws-sm:ARN (the value itself never goes in the config)")]
pub struct BadSecretRef;

impl SecretRef {
    /// Parses `env:NAME`, `file:PATH` or `aws-sm:ARN`; `file:` paths are joined to `base_dir`.
    pub fn parse(text: &str, base_dir: &std::path::Path) -> Result<Self, BadSecretRef> {
        let (scheme, rest) = text.split_once(':').ok_or(BadSecretRef)?;
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(BadSecretRef);
        }
        match scheme.trim() {
            "env" if rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                Ok(Self::Env(rest.to_string()))
            }
            "file" => Ok(Self::File(base_dir.join(rest))),
            "aws-sm" if rest.starts_with("arn:") => Ok(Self::AwsSecretsManager(rest.to_string())),
            _ => Err(BadSecretRef),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "env:{name}"),
            Self::File(path) => write!(f, "file:{}", path.display()),
            Self::AwsSecretsManager(arn) => write!(f, "aws-sm:{arn}"),
        }
    }
}

/// A secret that could not be read. Names the reference, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set (or empty).
    #[error("secret {reference}: the environment variable is not set")]
    MissingEnv {
        /// The reference.
        reference: SecretRef,
    },
    /// The file could not be read.
    #[error("secret {reference}: cannot read the file: {source}")]
    File {
        /// The reference.
        reference: SecretRef,
        /// Why.
        source: std::io::Error,
    },
    /// The secret store refused or does not have it.
    #[error("secret {reference}: {reason}")]
    Store {
        /// The reference.
        reference: SecretRef,
        /// Why (from the store, without the value).
        reason: String,
        /// Whether asking again later can help.
        retryable: bool,
    },
}

impl SecretError {
    /// Whether asking again later can help (a missing variable or file will not fix itself
    /// until an operator acts, but a secret store may be briefly unavailable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store { retryable: true, .. })
    }
}

/// Reads `env:` and `file:` references (the embedded default). `aws-sm:` needs the AWS
/// adapter, which wraps this one.
#[derive(Debug, Clone, Default)]
pub struct LocalSecrets;

impl LocalSecrets {
    /// Reads a secret; trailing newlines of files are dropped, as editors add them.
    pub fn read(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        match reference {
            SecretRef::Env(name) => match std::env::var(name) {
                Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
                _ => Err(SecretError::MissingEnv { reference: reference.clone() }),
            },
            SecretRef::File(path) => std::fs::read_to_string(path)
                .map(|v| Secret::new(v.trim_end_matches(['\r', '\n'])))
                .map_err(|source| SecretError::File { reference: reference.clone(), source }),
            SecretRef::AwsSecretsManager(_) => Err(SecretError::Store {
                reference: reference.clone(),
                reason: "aws-sm: references are read by the AWS Secrets Manager adapter; \
                         run with the AWS secrets adapter or use env:/file:"
                    .into(),
                retryable: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret([redacted]))");
    }

    #[test]
    fn references_parse_and_resolve_relative_files() {
        let base = Path::new("/etc/exsync");
        assert_eq!(
            SecretRef::parse("env:FABRIKAM_SECRET", base),
            Ok(SecretRef::Env("FABRIKAM_SECRET".into()))
        );
        assert_eq!(
            SecretRef::parse("file:app.pem", base),
            Ok(SecretRef::File("/etc/exsync/app.pem".into()))
        );
        assert_eq!(
            SecretRef::parse("file:/abs/app.pem", base),
            Ok(SecretRef::File("/abs/app.pem".into()))
        );
        assert!(
            SecretRef::parse("aws-sm:arn:aws:secretsmanager:eu-west-1:1:secret:x", base).is_ok()
        );
        assert_eq!(SecretRef::parse("s3cr3t-value", base), Err(BadSecretRef));
        assert_eq!(SecretRef::parse("env:", base), Err(BadSecretRef));
        assert_eq!(SecretRef::parse("aws-sm:nope", base), Err(BadSecretRef));
    }

    #[test]
    fn a_missing_secret_names_its_reference_only() {
        let r = SecretRef::Env("EXSYNC_TEST_SURELY_UNSET_VAR".into());
        let err = LocalSecrets.read(&r).unwrap_err().to_string();
        assert_eq!(
            err,
            "secret env:EXSYNC_TEST_SURELY_UNSET_VAR: the environment variable is not set"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.txt");
        std::fs::write(&path, "abc\n").unwrap();
        assert_eq!(LocalSecrets.read(&SecretRef::File(path)).unwrap().expose(), "abc");
    }
}
