//! Events, contacts and To Do tasks as Graph returns them.

use serde_json::{Map, Value, json};

use super::{etag, html_to_text, recipient};
use crate::graph::{
    dates,
    request::encode_component,
    store::{Item, ItemData, Mailbox},
};

/// A calendar event.
pub(crate) fn event(mb: &Mailbox, item: &Item, immutable: bool) -> Map<String, Value> {
    let ItemData::Event(e) = &item.data else { return Map::new() };
    let id = mb.item_id(item, immutable);
    let is_organizer = e.organizer.address.eq_ignore_ascii_case(&mb.address);
    let attendees: Vec<Value> = e
        .attendees
        .iter()
        .map(|a| {
            json!({"type": "required",
                   "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                   "emailAddress": {"name": a.name, "address": a.address}})
        })
        .collect();
    let web_link = format!(
        "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
        encode_component(&id)
    );
    let response = if is_organizer { "organizer" } else { "none" };
    let locations: Vec<Value> = (!e.location.is_empty())
        .then(|| json!({"displayName": e.location, "locationType": "default"}))
        .into_iter()
        .collect();
    let v = json!({
        "@odata.etag": etag(mb, item),
        "id": id,
        "createdDateTime": dates::item(item.created),
        "lastModifiedDateTime": dates::item(item.modified),
        "changeKey": mb.change_key(item),
        "categories": [],
        "originalStartTimeZone": "UTC",
        "originalEndTimeZone": "UTC",
        "iCalUId": e.ical_uid,
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": true,
        "hasAttachments": false,
        "subject": e.subject,
        "bodyPreview": html_to_text(&e.body).chars().take(255).collect::<String>(),
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": e.is_all_day,
        "isCancelled": false,
        "isOrganizer": is_organizer,
        "responseRequested": true,
        "seriesMasterId": null,
        "showAs": "busy",
        "type": "singleInstance",
        "webLink": web_link,
        "onlineMeetingUrl": null,
        "isOnlineMeeting": false,
        "responseStatus": {"response": response, "time": "0001-01-01T00:00:00Z"},
        "body": {"contentType": "html", "content": e.body},
        "start": {"dateTime": dates::event_local(e.start), "timeZone": "UTC"},
        "end": {"dateTime": dates::event_local(e.end), "timeZone": "UTC"},
        "location": {"displayName": e.location, "locationType": "default"},
        "locations": locations,
        "attendees": attendees,
        "organizer": recipient(&e.organizer),
    });
    v.as_object().cloned().unwrap_or_default()
}

/// Contact properties (for `$select`).
pub(crate) const CONTACT_PROPS: &[&str] = &[
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "parentFolderId",
    "displayName",
    "givenName",
    "surname",
    "jobTitle",
    "companyName",
    "mobilePhone",
    "businessPhones",
    "emailAddresses",
    "id",
];

/// A contact, optionally restricted to `select`.
pub(crate) fn contact(
    mb: &Mailbox,
    item: &Item,
    immutable: bool,
    select: Option<&[String]>,
) -> Map<String, Value> {
    let ItemData::Contact(c) = &item.data else { return Map::new() };
    let display = format!("{} {}", c.given_name, c.surname).trim().to_string();
    let emails: Vec<Value> =
        c.emails.iter().map(|r| json!({"name": r.name, "address": r.address})).collect();
    let full = json!({
        "createdDateTime": dates::item(item.created),
        "lastModifiedDateTime": dates::item(item.modified),
        "changeKey": mb.change_key(item),
        "categories": [],
        "parentFolderId": mb.folders[item.folder as usize].id,
        "displayName": display,
        "givenName": c.given_name,
        "surname": c.surname,
        "jobTitle": c.job_title,
        "companyName": c.company,
        "mobilePhone": c.mobile_phone,
        "businessPhones": c.business_phones,
        "emailAddresses": emails,
        "id": mb.item_id(item, immutable),
    });
    let mut out = Map::new();
    out.insert("@odata.etag".into(), etag(mb, item).into());
    for (k, v) in full.as_object().into_iter().flatten() {
        if select.is_none_or(|s| k == "id" || s.iter().any(|p| p == k)) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// A To Do task.
pub(crate) fn task(mb: &Mailbox, item: &Item, immutable: bool) -> Map<String, Value> {
    let ItemData::Task(t) = &item.data else { return Map::new() };
    let mut v = json!({
        "@odata.etag": etag(mb, item),
        "importance": t.importance,
        "isReminderOn": false,
        "status": t.status,
        "title": t.title,
        "createdDateTime": dates::subscription(item.created),
        "lastModifiedDateTime": dates::subscription(item.modified),
        "hasAttachments": false,
        "categories": [],
        "id": mb.item_id(item, immutable),
        "body": {"content": t.body, "contentType": "text"},
    });
    if let Some(due) = t.due {
        v["dueDateTime"] = json!({"dateTime": dates::event_local(due), "timeZone": "UTC"});
    }
    if t.status == "completed" {
        v["completedDateTime"] =
            json!({"dateTime": dates::event_local(item.modified), "timeZone": "UTC"});
    }
    v.as_object().cloned().unwrap_or_default()
}
