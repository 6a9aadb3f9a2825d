//! Client assertions (certificate credentials): a JWT signed with the private key of a
//! certificate registered on the app (`ENT:certificate-credentials.md`; reference B1, D8).
//!
//! Checked in this order: JWT form, algorithm, thumbprint -> registered key, key dates,
//! signature, `sub` = `iss` = client id, `aud`, `nbf`/`exp`.

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm};
use serde_json::{Map, Value};
use time::{OffsetDateTime, macros::format_description};
use webpki::{EndEntityCert, aws_lc_rs as algs};

use super::{
    cert,
    errors::AadError,
    model::{App, KeyCredential},
};
use crate::jwt;

/// The only `client_assertion_type` (RFC 7523 section 2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew tolerated on `nbf` and `exp`. Entra's allowance is not documented; 5 minutes is
/// the default of Microsoft's token validators (UNCONFIRMED for the token endpoint).
const SKEW_SECS: i64 = 300;

/// Verifies `assertion` for `app`; `audiences` are the token endpoint URLs accepted as `aud`.
pub fn verify(
    assertion: &str,
    app: &App,
    audiences: &[String],
    now: OffsetDateTime,
) -> Result<(), AadError> {
    let (decoded, signing_input, signature) = jwt::decode_unverified(assertion)
        .map_err(|_| AadError::malformed_assertion("Token format not valid."))?;
    let header = &decoded.header;
    let algorithm: &dyn SignatureVerificationAlgorithm = match str_of(header, "alg") {
        "RS256" => algs::RSA_PKCS1_2048_8192_SHA256,
        // PS256 is what current guidance asks for (reference B1, D8).
        "PS256" => algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        other => {
            return Err(AadError::malformed_assertion(&format!(
                "The token algorithm '{other}' is not supported."
            )));
        }
    };
    let (thumbprint, key) = registered_key(header, app)?;
    let found = key_dates(key.start, key.end);
    if now < key.start || now > key.end {
        return Err(AadError::expired_key(&thumbprint, &found));
    }
    let certificate = CertificateDer::from(key.der.as_slice());
    EndEntityCert::try_from(&certificate)
        .and_then(|ee| ee.verify_signature(algorithm, signing_input.as_bytes(), &signature))
        .map_err(|_| AadError::bad_signature(&thumbprint, &found))?;

    let claims = &decoded.claims;
    let (iss, sub) = (str_of(claims, "iss"), str_of(claims, "sub"));
    if sub != iss {
        return Err(AadError::subject_mismatch(sub, iss));
    }
    if !iss.eq_ignore_ascii_case(&app.client_id) {
        return Err(AadError::wrong_assertion_issuer(iss));
    }
    let aud_ok = |aud: &str| audiences.iter().any(|a| a.eq_ignore_ascii_case(aud));
    let audience_matches = match claims.get("aud") {
        Some(Value::String(aud)) => aud_ok(aud),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(aud_ok),
        _ => false,
    };
    if !audience_matches {
        return Err(AadError::wrong_assertion_audience());
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| AadError::malformed_assertion("The token has no expiry."))?;
    // A missing nbf reads as the epoch, as in the service's own texts ("assertion valid from
    // 1970-01-01T00:00:00.0000000Z", AzureAD/microsoft-authentication-library-for-java#984).
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    let unix = now.unix_timestamp();
    if unix > exp + SKEW_SECS || unix < nbf - SKEW_SECS {
        let at = |secs: i64| {
            OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        return Err(AadError::assertion_out_of_time(now, at(nbf), at(exp)));
    }
    Ok(())
}

/// The app's key named by `x5t#S256` or `x5t`, with the thumbprint as upper-case hex.
fn registered_key<'a>(
    header: &Map<String, Value>,
    app: &'a App,
) -> Result<(String, &'a KeyCredential), AadError> {
    let (raw, sha256) = match (header.get("x5t#S256"), header.get("x5t")) {
        (Some(Value::String(t)), _) => (t, true),
        (None, Some(Value::String(t))) => (t, false),
        _ => {
            return Err(AadError::malformed_assertion(
                "No certificate thumbprint specified in token header.",
            ));
        }
    };
    let thumbprint = decode_thumbprint(raw).ok_or_else(|| {
        AadError::malformed_assertion(
            "The certificate thumbprint in the token header is not valid.",
        )
    })?;
    let hex = cert::hex(&thumbprint);
    app.certificates
        .iter()
        .find(|k| if sha256 { k.sha256 == thumbprint } else { k.sha1 == thumbprint })
        .map(|k| (hex.clone(), k))
        .ok_or_else(|| AadError::unknown_key(&hex, &app.client_id))
}

/// base64url per RFC 7515 section 4.1.7, padded or not. Standard base64 is accepted too:
/// azure_identity 1.0.0's ClientCertificateCredential sends `x5t` as padded standard base64
/// (`base64::encode(thumbprint)` in src/client_certificate_credential.rs) and works against
/// Entra.
fn decode_thumbprint(value: &str) -> Option<Vec<u8>> {
    let lenient =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&alphabet::URL_SAFE, lenient)
        .decode(value)
        .or_else(|_| GeneralPurpose::new(&alphabet::STANDARD, lenient).decode(value))
        .ok()
}

fn str_of<'a>(map: &'a Map<String, Value>, name: &str) -> &'a str {
    map.get(name).and_then(Value::as_str).unwrap_or_default()
}

impl AadError {
    /// AADSTS50027, an assertion that is not a usable JWT (MSAL.NET#124: "Invalid JWT token. No
    /// certificate thumbprint specified in token header.", `invalid_client`).
    pub fn malformed_assertion(reason: &str) -> Self {
        Self::invalid_client(50027, format!("Invalid JWT token. {reason}"))
    }

    /// AADSTS700027, the thumbprint names no certificate of the app (wire text from
    /// AzureAD/microsoft-authentication-library-for-js#8339).
    pub fn unknown_key(thumbprint_hex: &str, client_id: &str) -> Self {
        Self::invalid_client(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is not \
                 registered on application. [Reason - The key was not found., Thumbprint of key \
                 used by client: '{thumbprint_hex}', Please visit the Azure Portal, Graph Explorer \
                 or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
            ),
        )
    }

    /// AADSTS700027 with a registered key outside its start/end dates (reason text UNCONFIRMED).
    pub fn expired_key(thumbprint_hex: &str, found: &str) -> Self {
        Self::invalid_client(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key used is \
                 expired., Thumbprint of key used by client: '{thumbprint_hex}', Found key \
                 '{found}']"
            ),
        )
    }

    /// AADSTS700027, the signature does not verify with the registered key (reason text as in
    /// microsoftgraph/msgraph-sdk-php#1585).
    pub fn bad_signature(thumbprint_hex: &str, found: &str) -> Self {
        Self::invalid_client(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - Key was found, but use \
                 of the key to verify the signature failed., Thumbprint of key used by client: \
                 '{thumbprint_hex}', Found key '{found}']"
            ),
        )
    }

    /// AADSTS50048, `sub` differs from `iss` (reference B1).
    pub fn subject_mismatch(sub: &str, iss: &str) -> Self {
        Self::invalid_client(
            50048,
            format!(
                "Subject mismatches Issuer claim in the client assertion. Subject '{sub}', Issuer \
                 '{iss}'."
            ),
        )
    }

    /// AADSTS50012 when `iss` is not the request's client id (code per reference B1's "invalid
    /// assertion / authentication failed"; text UNCONFIRMED).
    pub fn wrong_assertion_issuer(iss: &str) -> Self {
        Self::invalid_client(
            50012,
            format!("Client assertion issuer '{iss}' does not match the client_id of the request."),
        )
    }

    /// AADSTS50012, `aud` is not this tenant's token endpoint (text observed in
    /// AzureAD/azure-activedirectory-library-for-python#79).
    pub fn wrong_assertion_audience() -> Self {
        Self::invalid_client(50012, "Client assertion audience claim does not match Realm issuer.")
    }

    /// AADSTS700024, outside `nbf`..`exp`. Reference B1 lists 500133, which Microsoft's table
    /// describes for *user* assertions; for client assertions the service answers 700024,
    /// `invalid_client` (AzureAD/microsoft-authentication-library-for-java#984,
    /// AzureAD/microsoft-authentication-library-for-dotnet#4951, Azure/login#180).
    pub fn assertion_out_of_time(
        now: OffsetDateTime,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Self {
        let precise = |at: OffsetDateTime| {
            at.format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
            ))
            .expect("formattable UTC time")
        };
        Self::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion \
                 valid from {}, expiry time of assertion {}. Review the documentation at \
                 https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                precise(now),
                precise(from),
                precise(to)
            ),
        )
    }
}

/// `Start=MM/dd/yyyy HH:mm:ss, End=...`, how key dates appear in AADSTS700027 texts ("Found key
/// 'Start=02/07/2021 17:00:39, End=02/06/2026 17:00:39'", Azure/azure-sdk-for-java#25109).
fn key_dates(start: OffsetDateTime, end: OffsetDateTime) -> String {
    let f = format_description!("[month]/[day]/[year] [hour]:[minute]:[second]");
    let show = |at: OffsetDateTime| at.format(f).expect("formattable UTC time");
    format!("Start={}, End={}", show(start), show(end))
}
