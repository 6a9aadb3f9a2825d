//! The configuration object on S3: one SigV4-signed `GetObject`, conditional on the ETag last
//! read (`If-None-Match`), so an unchanged file costs a 304 and no parsing.
//!
//! Signed with the SDK's own signer (aws-sigv4) over the shared HTTP client stack instead of
//! aws-sdk-s3, the largest SDK crate, for this one call. Credentials, region and endpoint come
//! from the same [`SdkConfig`] as every other adapter: the Lambda role on AWS, static keys and
//! `AWS_ENDPOINT_URL` (moto, path-style addressing) in tests.

use std::{fmt, str::FromStr, time::SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::{
    http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode, sign,
    },
    sign::v4,
};
use reqwest::{StatusCode, header};

/// `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    /// The bucket.
    pub bucket: String,
    /// The object's key.
    pub key: String,
}

impl FromStr for S3Uri {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{text:?} is not an s3://bucket/key URI"))?;
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok(Self { bucket: bucket.into(), key: key.into() })
            }
            _ => Err(format!("{text:?} names no bucket or no key (s3://bucket/key)")),
        }
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// An object could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{uri}: {message}")]
pub struct S3Error {
    /// The object.
    pub uri: String,
    /// What failed (never a credential).
    pub message: String,
    /// Whether trying again later can help.
    pub retryable: bool,
}

/// What a conditional read found.
#[derive(Debug)]
pub enum Fetched {
    /// The object still has the ETag asked about.
    Unchanged,
    /// The object, and its ETag.
    Changed {
        /// Its ETag (quoted, as S3 sends it).
        etag: String,
        /// Its content.
        body: String,
    },
}

/// Reads objects with the credentials and endpoint of an [`SdkConfig`].
#[derive(Debug, Clone)]
pub struct S3Reader {
    sdk: SdkConfig,
    http: reqwest::Client,
}

impl S3Reader {
    /// A reader for `sdk`'s region, credentials and endpoint.
    pub fn new(sdk: SdkConfig) -> Result<Self, S3Error> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| S3Error {
                uri: "s3".into(),
                message: format!("cannot build the HTTP client: {e}"),
                retryable: false,
            })?;
        Ok(Self { sdk, http })
    }

    /// The object's URL: path-style under a custom endpoint (moto), else virtual-hosted.
    fn url(&self, uri: &S3Uri) -> String {
        let key: String = uri.key.split('/').map(encode).collect::<Vec<_>>().join("/");
        match self.sdk.endpoint_url() {
            Some(endpoint) => format!("{}/{}/{key}", endpoint.trim_end_matches('/'), uri.bucket),
            None => {
                let region = self.sdk.region().map_or("us-east-1", |r| r.as_ref());
                format!("https://{}.s3.{region}.amazonaws.com/{key}", uri.bucket)
            }
        }
    }

    /// Reads `uri`, or learns that it still has `etag`.
    pub async fn get(&self, uri: &S3Uri, etag: Option<&str>) -> Result<Fetched, S3Error> {
        let fail =
            |message: String, retryable: bool| S3Error { uri: uri.to_string(), message, retryable };
        let url = self.url(uri);
        let provider = self
            .sdk
            .credentials_provider()
            .ok_or_else(|| fail("no AWS credentials are configured".into(), false))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| fail(format!("no AWS credentials: {e}"), true))?;
        let region = self.sdk.region().map_or("us-east-1", |r| r.as_ref()).to_string();
        let identity = credentials.into();
        let mut settings = SigningSettings::default();
        // S3's own rules: the payload hash header, keys encoded once, paths never normalised.
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| fail(format!("cannot sign: {e}"), false))?
            .into();
        let signable = SignableRequest::new(
            "GET",
            url.as_str(),
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| fail(format!("cannot sign: {e}"), false))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| fail(format!("cannot sign: {e}"), false))?
            .into_parts();
        let mut request = self.http.get(&url);
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|e| fail(format!("GetObject: {e}"), true))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::Unchanged);
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let code = between(&text, "<Code>", "</Code>").unwrap_or("no error code");
            let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            return Err(fail(format!("GetObject answered {status} ({code})"), retryable));
        }
        let etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.text().await.map_err(|e| fail(format!("GetObject: {e}"), true))?;
        Ok(Fetched::Changed { etag, body })
    }
}

/// Percent-encodes one path segment as SigV4 expects (unreserved characters kept).
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_a_bucket_and_a_key() {
        let uri: S3Uri = "s3://exsync-config/prod/exsync.toml".parse().unwrap();
        assert_eq!((uri.bucket.as_str(), uri.key.as_str()), ("exsync-config", "prod/exsync.toml"));
        assert_eq!(uri.to_string(), "s3://exsync-config/prod/exsync.toml");
        for bad in ["https://b/k", "s3://bucket", "s3://bucket/", "s3:///key"] {
            assert!(bad.parse::<S3Uri>().is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_are_encoded_once_per_segment() {
        assert_eq!(encode("my config+1.toml"), "my%20config%2B1.toml");
        assert_eq!(encode("exsync.toml"), "exsync.toml");
    }
}
