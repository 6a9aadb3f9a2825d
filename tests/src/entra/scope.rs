//! The `scope` parameter of a client credentials request: exactly one resource, `/.default`.
//!
//! Reference B1: "`scope` must be `{resource}/.default` and name one resource per request. Two
//! resources give AADSTS700022. A scope without a resource gives AADSTS700023."

use super::{errors::AadError, model::GRAPH_RESOURCE};

/// OpenID Connect scopes, which name no resource.
const RESOURCELESS: &[&str] = &["openid", "profile", "email", "offline_access"];

/// The resource a scope string asks for (identifier URI or application id, as written).
pub fn requested_resource(scope: &str) -> Result<String, AadError> {
    let mut resource: Option<&str> = None;
    let mut permissions = Vec::new();
    for item in scope.split_whitespace() {
        if RESOURCELESS.contains(&item) {
            continue;
        }
        let (res, permission) = split(item).ok_or_else(|| AadError::invalid_scope(item))?;
        match resource {
            Some(seen) if !same_resource(seen, res) => {
                return Err(AadError::multiple_resources(scope));
            }
            _ => resource = Some(res),
        }
        permissions.push((item, permission));
    }
    let resource = resource.ok_or_else(|| AadError::resourceless_scope(scope))?;
    if let Some((item, _)) = permissions.iter().find(|(_, p)| *p != ".default") {
        return Err(AadError::scope_not_default(item));
    }
    Ok(resource.trim_end_matches('/').to_string())
}

/// `https://host/path/.default` -> (`https://host/path`, `.default`). A bare permission such as
/// `Mail.Read` is a Microsoft Graph permission in the v2.0 endpoint's scope syntax.
fn split(item: &str) -> Option<(&str, &str)> {
    match item.rsplit_once('/') {
        Some((res, permission))
            if !res.trim_end_matches('/').is_empty() && !permission.is_empty() =>
        {
            Some((res, permission))
        }
        Some(_) => None,
        None if item == ".default" => None,
        None => Some((GRAPH_RESOURCE, item)),
    }
}

fn same_resource(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(scope: &str) -> u32 {
        requested_resource(scope).unwrap_err().code
    }

    #[test]
    fn one_resource_with_default_is_accepted() {
        assert_eq!(
            requested_resource("https://graph.microsoft.com/.default").unwrap(),
            "https://graph.microsoft.com"
        );
        assert_eq!(
            requested_resource("https://org.crm.dynamics.com//.default openid").unwrap(),
            "https://org.crm.dynamics.com"
        );
        assert_eq!(requested_resource("api://1234/.default").unwrap(), "api://1234");
    }

    #[test]
    fn bad_scopes_get_their_codes() {
        assert_eq!(
            code("https://graph.microsoft.com/.default https://outlook.office365.com/.default"),
            700022
        );
        assert_eq!(code("openid offline_access"), 700023);
        assert_eq!(code("https://graph.microsoft.com/Mail.Read"), 1002012);
        assert_eq!(code("Mail.Read"), 1002012);
        assert_eq!(code(".default"), 70011);
        assert_eq!(code("/.default"), 70011);
    }
}
