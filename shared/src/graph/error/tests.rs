use super::*;

fn api(status: u16, code: &str) -> ApiError {
    ApiError {
        status,
        code: code.into(),
        message: "m".into(),
        request_id: Some("2f038156".into()),
        retry_after: None,
        reset: false,
        denial: None,
    }
}

fn error(operation: Operation, api: ApiError) -> GraphError {
    GraphError {
        operation,
        mailbox: MailboxAddress::parse("alice@fabrikam.example").unwrap(),
        app: ClientId::parse("22222222-2222-2222-2222-222222222222").unwrap(),
        kind: ErrorKind::Api(Box::new(api)),
    }
}

#[test]
fn codes_and_statuses_classify_as_the_reference_says() {
    let class = |op, a| error(op, a).class();
    use Operation::*;
    assert_eq!(class(Delta, api(410, "Gone")), ErrorClass::DeltaExpired);
    assert_eq!(class(Delta, api(400, "syncStateNotFound")), ErrorClass::DeltaExpired);
    assert_eq!(class(Delta, api(400, "resyncRequired")), ErrorClass::DeltaExpired);
    let throttled = ApiError { retry_after: Some(Duration::from_secs(10)), ..api(429, "x") };
    assert_eq!(
        class(Delta, throttled),
        ErrorClass::Throttled { retry_after: Some(Duration::from_secs(10)) }
    );
    assert_eq!(class(Delta, api(503, "x")), ErrorClass::Throttled { retry_after: None });
    assert_eq!(class(Delta, api(504, "GatewayTimeout")), ErrorClass::Transient);
    assert_eq!(class(Delta, api(404, "ErrorInvalidUser")), ErrorClass::NotFound(Missing::User));
    assert_eq!(
        class(GetMessage, api(404, "ErrorItemNotFound")),
        ErrorClass::NotFound(Missing::Item)
    );
    assert_eq!(
        class(RenewSubscription, api(404, "ResourceNotFound")),
        ErrorClass::NotFound(Missing::Subscription)
    );
    assert_eq!(
        class(Delta, api(404, "MailboxNotEnabledForRESTAPI")),
        ErrorClass::MailboxNotEnabled
    );
    assert_eq!(class(Delta, api(400, "BadRequest")), ErrorClass::Rejected);
}

#[test]
fn an_access_policy_denial_says_which_policy_and_what_to_do() {
    let denied = ApiError { denial: Some(Denial::AccessPolicy), ..api(403, "ErrorAccessDenied") };
    let text = error(Operation::Delta, denied).to_string();
    assert!(text.contains("ErrorAccessDenied"), "{text}");
    assert!(text.contains("request-id 2f038156"), "{text}");
    assert!(text.contains("application access policy"), "{text}");
    assert!(text.contains("Test-ApplicationAccessPolicy -Identity alice@fabrikam.example"));

    let no_role = ApiError {
        denial: Some(Denial::MissingRole { needed: "Mail.Read" }),
        ..api(403, "ErrorAccessDenied")
    };
    let text = error(Operation::Delta, no_role).to_string();
    assert!(text.contains("no Mail.Read application permission"), "{text}");
}
