//! What exsync reads from its own Graph tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::secret::Secret;

/// The `roles` claim of our own access token, read without verification (Graph verified it):
/// it tells a missing permission from an access policy when Graph answers 403.
pub(crate) fn token_roles(token: &Secret) -> Option<Vec<String>> {
    let payload = token.expose().split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(match claims.get("roles") {
        Some(serde_json::Value::Array(roles)) => {
            roles.iter().filter_map(|r| r.as_str().map(str::to_string)).collect()
        }
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> Secret {
        let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let header = serde_json::json!({"alg":"RS256","typ":"JWT"});
        Secret::new(format!("{}.{}.c2ln", part(&header), part(&claims)))
    }

    #[test]
    fn roles_are_read_from_the_token_and_absent_roles_are_none_granted() {
        let token =
            jwt(serde_json::json!({"aud":"https://graph.microsoft.com","roles":["Mail.Read"]}));
        assert_eq!(token_roles(&token), Some(vec!["Mail.Read".to_string()]));
        assert_eq!(token_roles(&jwt(serde_json::json!({"aud":"x"}))), Some(vec![]));
        assert_eq!(token_roles(&Secret::new("opaque")), None);
    }
}
