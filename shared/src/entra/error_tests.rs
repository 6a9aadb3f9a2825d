use super::*;
use crate::{
    config::Credential,
    domain::{ClientId, TenantId},
    entra::{advice::Subject, transport::raw},
    ports::{CredentialKey, Resource, TokenError},
    secret::SecretRef,
};
use azure_core::error::Error;
use url::Url;

const TENANT: &str = "11111111-1111-1111-1111-111111111111";
const APP: &str = "22222222-2222-2222-2222-222222222222";

/// What azure_identity returns for an Entra error: a Credential error wrapping the
/// HttpResponse error (azure_identity 1.0 `handle_entra_response`, `authentication_error`).
fn azure_error(status: u16, headers: &[(&'static str, &str)], body: &str) -> Error {
    let kind = ErrorKind::HttpResponse {
        status: status.into(),
        error_code: None,
        raw_response: Some(Box::new(raw(status, headers, body))),
    };
    let inner = Error::new(kind, "description");
    Error::with_error(ErrorKind::Credential, inner, "ClientSecretCredential authentication failed.")
}

fn entra_body(error: &str, code: u32, text: &str) -> String {
    serde_json::json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 0b7c\r\nCorrelation ID: 9f1e\r\nTimestamp: 2026-05-01 12:00:00Z"),
        "error_codes": [code],
        "timestamp": "2026-05-01 12:00:00Z",
        "trace_id": "0b7c",
        "correlation_id": "9f1e",
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    })
    .to_string()
}

fn explain(failure: EntraFailure, resource: Resource) -> TokenError {
    let key = CredentialKey::Profile(crate::domain::ProfileName::parse("fabrikam").unwrap());
    let credential = Credential::Secret(SecretRef::Env("FABRIKAM_SECRET".into()));
    let subject = Subject {
        key: &key,
        tenant: &TenantId::parse(TENANT).unwrap(),
        client_id: &ClientId::parse(APP).unwrap(),
        credential: &credential,
        authority: &Url::parse("https://login.microsoftonline.com").unwrap(),
        resource,
    };
    failure.into_token_error(&subject)
}

#[test]
fn the_aadsts_code_and_the_first_line_of_the_description_are_read() {
    let body = entra_body("invalid_client", 7000215, "Invalid client secret provided.");
    let failure = EntraFailure::from_azure(&azure_error(401, &[], &body));
    assert_eq!(
        failure,
        EntraFailure::Refused {
            status: 401,
            error: Some("invalid_client".into()),
            code: Some(7000215),
            description: Some("AADSTS7000215: Invalid client secret provided.".into()),
            retry_after: None,
        }
    );
}

#[test]
fn the_code_comes_from_the_description_when_error_codes_is_missing() {
    let body =
        r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found."}"#;
    let EntraFailure::Refused { code, .. } = EntraFailure::from_azure(&azure_error(400, &[], body))
    else {
        panic!("a refusal")
    };
    assert_eq!(code, Some(90002));
}

#[test]
fn credential_refusals_are_permanent_and_say_what_to_do() {
    let cases = [
        (
            "invalid_client",
            401,
            7000215,
            "put the secret's Value (not its Secret ID) into env:FABRIKAM_SECRET",
        ),
        (
            "invalid_client",
            401,
            7000222,
            "the client secret has expired: add a new secret to app 22222222-2222-2222-2222-222222222222 in tenant 11111111-1111-1111-1111-111111111111 and update env:FABRIKAM_SECRET",
        ),
        (
            "unauthorized_client",
            400,
            700016,
            "is not in tenant 11111111-1111-1111-1111-111111111111",
        ),
        (
            "invalid_tenant",
            400,
            90002,
            "tenant 11111111-1111-1111-1111-111111111111 does not exist",
        ),
        ("invalid_resource", 400, 500011, "the Dataverse resource is not in tenant"),
        ("invalid_scope", 400, 70011, "the Dataverse scope was refused: check dataverse.url"),
    ];
    for (error, status, code, advice) in cases {
        let body = entra_body(error, code, "Entra's text.");
        let failure = EntraFailure::from_azure(&azure_error(status, &[], &body));
        let err = explain(failure, Resource::Dataverse);
        assert_eq!(err.code.as_deref(), Some(format!("AADSTS{code}").as_str()));
        assert!(!err.retryable, "AADSTS{code} needs an admin");
        assert!(err.message.starts_with(&format!("AADSTS{code}: ")), "{}", err.message);
        assert!(err.message.contains(advice), "{}", err.message);
        assert!(err.message.contains("(Entra: AADSTS"), "{}", err.message);
        assert!(!err.message.contains("Trace ID"), "{}", err.message);
    }
}

#[test]
fn throttling_and_outages_are_retryable_and_keep_retry_after() {
    let throttled = azure_error(429, &[("retry-after", "17")], "Too Many Requests");
    let failure = EntraFailure::from_azure(&throttled);
    assert!(
        matches!(failure, EntraFailure::Refused { status: 429, retry_after: Some(d), .. } if d.as_secs() == 17)
    );
    let err = explain(failure, Resource::Graph);
    assert!(err.retryable && err.code.is_none());
    assert_eq!(err.retry_after, Some(Duration::from_secs(17)));

    let err = explain(EntraFailure::from_azure(&azure_error(429, &[], "")), Resource::Graph);
    assert_eq!(err.retry_after, Some(Duration::from_secs(60)), "60 s when Entra does not say");

    for status in [500, 502, 503, 504, 408] {
        let err =
            explain(EntraFailure::from_azure(&azure_error(status, &[], "<html>")), Resource::Graph);
        assert!(err.retryable, "HTTP {status}");
    }
    let body = entra_body("temporarily_unavailable", 50001, "Try again.");
    assert!(
        explain(EntraFailure::from_azure(&azure_error(400, &[], &body)), Resource::Graph).retryable
    );
    let body = entra_body("invalid_request", 90055, "Tenant throttled.");
    let err = explain(EntraFailure::from_azure(&azure_error(400, &[], &body)), Resource::Graph);
    assert!(err.retryable && err.retry_after.is_some());
}

#[test]
fn an_unknown_refusal_is_permanent_and_quotes_entra() {
    let body = entra_body("invalid_request", 900144, "The request body must contain 'grant_type'.");
    let err = explain(EntraFailure::from_azure(&azure_error(400, &[], &body)), Resource::Graph);
    assert!(!err.retryable);
    assert_eq!(
        err.message,
        "AADSTS900144: HTTP 400 invalid_request (Entra: AADSTS900144: The request body must contain 'grant_type'.)"
    );
}

#[test]
fn transport_failures_are_classified_from_the_error_chain() {
    let timed_out = Error::with_error(
        ErrorKind::Credential,
        Error::new(ErrorKind::Io, TimedOut(Duration::from_secs(30))),
        "ClientSecretCredential authentication failed.",
    );
    assert_eq!(EntraFailure::from_azure(&timed_out), EntraFailure::TimedOut);
    assert!(explain(EntraFailure::TimedOut, Resource::Graph).retryable);

    let io = Error::new(ErrorKind::Io, std::io::Error::other("connection reset"));
    let failure = EntraFailure::from_azure(&io);
    assert!(matches!(failure, EntraFailure::Other { transient: true, .. }), "{failure:?}");
    assert!(explain(failure, Resource::Graph).retryable);

    let local = Error::with_message(ErrorKind::Credential, "invalid scope x y");
    let err = explain(EntraFailure::from_azure(&local), Resource::Graph);
    assert!(!err.retryable && err.message.contains("invalid scope x y"), "{}", err.message);

    let untrusted = EntraFailure::UntrustedCertificate {
        detail: "invalid peer certificate: UnknownIssuer".into(),
    };
    let err = explain(untrusted, Resource::Graph);
    assert!(!err.retryable && err.message.contains("set cloud.ca_file"), "{}", err.message);
}
