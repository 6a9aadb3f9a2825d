//! Turning item changes into change notifications (reference 3.1, 5.2): which subscriptions
//! match, with which `changeType`, and the payload each gets.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{
    crypto, dates,
    model::LifecycleEvent,
    notify::Outgoing,
    render::{self, View},
    state::{ChangeEvent, State},
    store::{Item, ItemData, Mailbox},
    subscription::{SubKind, Subscription},
};

/// The notifications one change causes, and how many were lost because their subscription
/// was paused waiting for reauthorization.
pub(crate) fn notifications(
    state: &State,
    change: &ChangeEvent,
    now: OffsetDateTime,
    reauthorization_grace: time::Duration,
) -> (Vec<Outgoing>, u64) {
    let mut out = Vec::new();
    let mut paused = 0;
    let mb = state.mailbox(&change.mailbox_id);
    for sub in state.subscriptions.values().filter(|s| s.mailbox_id == mb.id) {
        if sub.expiration <= now {
            continue;
        }
        let before = change.before.as_ref().is_some_and(|i| sub.covers(mb, i));
        let after = change.after.as_ref().is_some_and(|i| sub.covers(mb, i));
        // With a $filter in the resource, leaving the filter is `deleted` and entering it
        // `created` (docs: concepts/outlook-change-notifications-overview.md, reference 1.1).
        let (change_type, item) = match (before, &change.before, after, &change.after) {
            (false, _, true, Some(a)) => ("created", a),
            (true, _, true, Some(a)) => ("updated", a),
            (true, Some(b), false, _) => ("deleted", b),
            _ => continue,
        };
        if !sub.change_types.wants(change_type) {
            continue;
        }
        // Delivery pauses some time after `reauthorizationRequired` until the app acts;
        // changes meanwhile are lost (reference 4).
        if sub.reauthorization_requested.is_some_and(|t| now - t > reauthorization_grace) {
            paused += 1;
            continue;
        }
        out.push(change_notification(mb, sub, change_type, item));
    }
    (out, paused)
}

fn change_notification(
    mb: &Mailbox,
    sub: &Subscription,
    change_type: &str,
    item: &Item,
) -> Outgoing {
    let id = mb.item_id(item, sub.immutable_ids);
    let collection = sub.collection();
    // Graph's resource strings vary in form and casing (reference 3.1); rich notifications
    // use the OData key form of the docs' example (reference 5.2).
    let resource = if sub.include_resource_data {
        format!("Users('{}')/{}('{id}')", mb.id, collection.to_ascii_lowercase())
    } else {
        format!("Users/{}/{collection}/{id}", mb.id)
    };
    let odata_type = if sub.include_resource_data {
        sub.odata_type().to_ascii_lowercase()
    } else {
        sub.odata_type().to_string()
    };
    let mut n = Map::new();
    n.insert("subscriptionId".into(), sub.id.clone().into());
    n.insert("subscriptionExpirationDateTime".into(), dates::notification(sub.expiration).into());
    n.insert("changeType".into(), change_type.into());
    n.insert("resource".into(), resource.clone().into());
    n.insert(
        "resourceData".into(),
        json!({
            "@odata.type": odata_type,
            "@odata.id": resource,
            "@odata.etag": render::etag(mb, item),
            "id": id,
        }),
    );
    if let Some(state) = &sub.client_state {
        n.insert("clientState".into(), state.clone().into());
    }
    n.insert("tenantId".into(), sub.tenant.clone().into());
    let mut token_for = None;
    if let (true, Some(cert), false) =
        (sub.include_resource_data, &sub.encryption, change_type == "deleted")
    {
        let content = resource_content(mb, sub, item, &resource);
        n.insert("encryptedContent".into(), crypto::encrypt(cert, content.to_string().as_bytes()));
        token_for = Some((sub.app_id.clone(), sub.tenant.clone()));
    }
    Outgoing {
        url: sub.notification_url.clone(),
        item: Value::Object(n),
        token_for,
        missed: lifecycle_payload(sub, LifecycleEvent::Missed)
            .map(|p| (sub.lifecycle_url.clone().unwrap_or_default(), p)),
    }
}

/// The decrypted content of a rich notification: the item restricted to the resource's
/// `$select`, with OData type annotations (reference 5.2).
fn resource_content(mb: &Mailbox, sub: &Subscription, item: &Item, resource: &str) -> Value {
    let mut content = Map::new();
    let (type_name, mut props) = match (&item.data, sub.kind) {
        (ItemData::Message(_), SubKind::Messages) => {
            let view = View {
                select: sub.select.as_deref(),
                immutable: sub.immutable_ids,
                text_body: false,
            };
            let mut m = render::message(mb, item, &view);
            // Body and UniqueBody are never part of rich Outlook notifications (reference 5.1).
            m.remove("body");
            m.remove("uniqueBody");
            ("#microsoft.graph.message", m)
        }
        (ItemData::Event(_), _) => {
            ("#microsoft.graph.event", render::event(mb, item, sub.immutable_ids))
        }
        _ => ("#microsoft.graph.contact", render::contact(mb, item, sub.immutable_ids, None)),
    };
    content.insert("@odata.type".into(), type_name.into());
    content.insert("@odata.id".into(), resource.into());
    let date_props: Vec<String> =
        props.keys().filter(|k| k.ends_with("DateTime")).cloned().collect();
    for k in date_props {
        props.insert(format!("{k}@odata.type"), "#DateTimeOffset".into());
    }
    for recipient_prop in ["from", "sender"] {
        if let Some(Value::Object(r)) = props.get_mut(recipient_prop) {
            r.insert("@odata.type".into(), "#microsoft.graph.recipient".into());
        }
    }
    content.extend(props);
    Value::Object(content)
}

/// A lifecycle notification (reference 4), if the subscription has a lifecycle URL.
pub(crate) fn lifecycle_payload(sub: &Subscription, event: LifecycleEvent) -> Option<Value> {
    sub.lifecycle_url.as_ref()?;
    let mut n = Map::new();
    n.insert("subscriptionId".into(), sub.id.clone().into());
    n.insert("subscriptionExpirationDateTime".into(), dates::notification(sub.expiration).into());
    n.insert("tenantId".into(), sub.tenant.clone().into());
    if let Some(state) = &sub.client_state {
        n.insert("clientState".into(), state.clone().into());
    }
    n.insert("lifecycleEvent".into(), event.wire().into());
    Some(Value::Object(n))
}
