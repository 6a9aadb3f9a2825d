//! The paths served below `/v1.0`, the method each accepts and the application roles it
//! needs (reference 11.1).

use axum::http::Method;

use super::{errors::GraphError, request::ApiRequest};

/// What a mailbox request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserOp {
    GetUser,
    ListMessages { folder: Option<String> },
    GetMessage { id: String },
    ListAttachments { id: String },
    GetAttachment { id: String, attachment: String, raw: bool },
    ListMailFolders,
    GetMailFolder { folder: String },
    MessagesDelta { folder: String },
    SendMail,
    ListEvents,
    GetEvent { id: String },
    CalendarView,
    CalendarViewDelta,
    ListContacts { folder: Option<String> },
    GetContact { id: String },
    ContactsDelta { folder: Option<String> },
    ListTaskLists,
    ListTasks { list: String },
    GetTask { list: String, id: String },
    TasksDelta { list: String },
}

/// A parsed request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    User { user: String, op: UserOp },
    Subscriptions,
    Subscription { id: String },
    Reauthorize { id: String },
}

const MAIL_READ: &[&str] = &["Mail.ReadBasic", "Mail.ReadBasic.All", "Mail.Read", "Mail.ReadWrite"];
const MAIL_FULL_READ: &[&str] = &["Mail.Read", "Mail.ReadWrite"];
const CALENDAR_READ: &[&str] = &["Calendars.Read", "Calendars.ReadWrite"];
const CONTACTS_READ: &[&str] = &["Contacts.Read", "Contacts.ReadWrite"];
const TASKS_READ: &[&str] = &["Tasks.Read.All", "Tasks.ReadWrite.All"];
const USER_READ: &[&str] = &[
    "User.Read.All",
    "User.ReadBasic.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

impl UserOp {
    /// Application roles of which the token needs one.
    pub fn roles(&self) -> &'static [&'static str] {
        match self {
            Self::GetUser => USER_READ,
            Self::ListAttachments { .. } | Self::GetAttachment { .. } => MAIL_FULL_READ,
            Self::SendMail => &["Mail.Send"],
            Self::ListEvents
            | Self::GetEvent { .. }
            | Self::CalendarView
            | Self::CalendarViewDelta => CALENDAR_READ,
            Self::ListContacts { .. } | Self::GetContact { .. } | Self::ContactsDelta { .. } => {
                CONTACTS_READ
            }
            Self::ListTaskLists
            | Self::ListTasks { .. }
            | Self::GetTask { .. }
            | Self::TasksDelta { .. } => TASKS_READ,
            _ => MAIL_READ,
        }
    }

    /// Whether Exchange application access policies apply (reference 11.2: mail, calendar,
    /// contacts; not directory reads nor To Do, the latter UNCONFIRMED).
    pub fn mailbox_scoped(&self) -> bool {
        !matches!(self, Self::GetUser) && !self.is_tasks()
    }

    /// Whether Outlook's per-mailbox limits apply (all but directory reads).
    pub fn throttled(&self) -> bool {
        !matches!(self, Self::GetUser)
    }

    fn is_tasks(&self) -> bool {
        matches!(
            self,
            Self::ListTaskLists
                | Self::ListTasks { .. }
                | Self::GetTask { .. }
                | Self::TasksDelta { .. }
        )
    }

    fn method(&self) -> Method {
        if *self == Self::SendMail { Method::POST } else { Method::GET }
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Matches a request to a route, or answers as Graph does for unknown paths and methods.
pub(crate) fn parse(req: &ApiRequest) -> Result<Route, GraphError> {
    let segs = req.segments();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let route = match s.as_slice() {
        [] => return Err(GraphError::bad_request("Invalid request.")),
        [me, ..] if eq(me, "me") => {
            return Err(GraphError::bad_request(
                "/me request is only valid with delegated authentication flow.",
            ));
        }
        [subs] if eq(subs, "subscriptions") => {
            return match req.method {
                Method::GET | Method::POST => Ok(Route::Subscriptions),
                _ => Err(GraphError::method_not_allowed()),
            };
        }
        [subs, id] if eq(subs, "subscriptions") => {
            return match req.method {
                Method::GET | Method::PATCH | Method::DELETE => {
                    Ok(Route::Subscription { id: (*id).to_string() })
                }
                _ => Err(GraphError::method_not_allowed()),
            };
        }
        [subs, id, re] if eq(subs, "subscriptions") && eq(re, "reauthorize") => {
            return match req.method {
                Method::POST => Ok(Route::Reauthorize { id: (*id).to_string() }),
                _ => Err(GraphError::method_not_allowed()),
            };
        }
        [users, user, rest @ ..] if eq(users, "users") => {
            let op = user_op(rest)?;
            if req.method != op.method() {
                return Err(GraphError::method_not_allowed());
            }
            Route::User { user: (*user).to_string(), op }
        }
        [first, ..] => return Err(GraphError::unknown_segment(first)),
    };
    Ok(route)
}

fn user_op(rest: &[&str]) -> Result<UserOp, GraphError> {
    let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let at = |i: usize| rest[i].to_string();
    let op = match l.as_slice() {
        [] => UserOp::GetUser,
        ["messages"] => UserOp::ListMessages { folder: None },
        ["messages", _] => UserOp::GetMessage { id: at(1) },
        ["messages", _, "attachments"] => UserOp::ListAttachments { id: at(1) },
        ["messages", _, "attachments", _] => {
            UserOp::GetAttachment { id: at(1), attachment: at(3), raw: false }
        }
        ["messages", _, "attachments", _, "$value"] => {
            UserOp::GetAttachment { id: at(1), attachment: at(3), raw: true }
        }
        ["mailfolders"] => UserOp::ListMailFolders,
        ["mailfolders", _] => UserOp::GetMailFolder { folder: at(1) },
        ["mailfolders", _, "messages"] => UserOp::ListMessages { folder: Some(at(1)) },
        ["mailfolders", _, "messages", "delta"] => UserOp::MessagesDelta { folder: at(1) },
        ["mailfolders", _, "messages", _] => UserOp::GetMessage { id: at(3) },
        ["sendmail"] => UserOp::SendMail,
        ["events"] => UserOp::ListEvents,
        ["events", _] => UserOp::GetEvent { id: at(1) },
        ["calendarview"] => UserOp::CalendarView,
        ["calendarview", "delta"] => UserOp::CalendarViewDelta,
        ["contacts"] => UserOp::ListContacts { folder: None },
        ["contacts", "delta"] => UserOp::ContactsDelta { folder: None },
        ["contacts", _] => UserOp::GetContact { id: at(1) },
        ["contactfolders", _, "contacts"] => UserOp::ListContacts { folder: Some(at(1)) },
        ["contactfolders", _, "contacts", "delta"] => UserOp::ContactsDelta { folder: Some(at(1)) },
        ["todo", "lists"] => UserOp::ListTaskLists,
        ["todo", "lists", _, "tasks"] => UserOp::ListTasks { list: at(2) },
        ["todo", "lists", _, "tasks", "delta"] => UserOp::TasksDelta { list: at(2) },
        ["todo", "lists", _, "tasks", _] => UserOp::GetTask { list: at(2), id: at(4) },
        [.., last] => return Err(GraphError::unknown_segment(last)),
    };
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;
    use bytes::Bytes;

    fn route(method: Method, path: &str) -> Result<Route, GraphError> {
        parse(&ApiRequest::new(method, path, None, HeaderMap::new(), Bytes::new()))
    }

    #[test]
    fn paths_match_case_insensitively_in_both_key_forms() {
        let expected = Route::User {
            user: "a@b.com".into(),
            op: UserOp::MessagesDelta { folder: "inbox".into() },
        };
        assert_eq!(
            route(Method::GET, "/users/a@b.com/mailFolders/inbox/messages/delta").unwrap(),
            expected
        );
        assert_eq!(
            route(Method::GET, "/users/a@b.com/mailfolders('inbox')/messages/delta()").unwrap(),
            expected
        );
    }

    #[test]
    fn me_unknown_segments_and_wrong_methods_are_refused() {
        assert!(route(Method::GET, "/me/messages").unwrap_err().message.contains("delegated"));
        assert_eq!(route(Method::GET, "/users/x/nosuch").unwrap_err().code, "BadRequest");
        assert_eq!(route(Method::DELETE, "/users/x/messages").unwrap_err().status.as_u16(), 405);
        assert_eq!(route(Method::GET, "/users/x/sendMail").unwrap_err().status.as_u16(), 405);
    }
}
