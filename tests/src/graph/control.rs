//! The control API for what happens after seeding: delta state, subscriptions and their
//! lifecycle events, injected faults, and what tests inspect.

use time::OffsetDateTime;

use super::{
    GraphSim, changes,
    handle::mailbox_id,
    model::{LifecycleEvent, MessageIds, Recipient},
    notify::{NotificationFaults, NotificationStats, Outgoing},
    throttle::RequestStats,
};
use crate::faults::FaultInjector;

/// A subscription as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInfo {
    /// `id`.
    pub id: String,
    /// The subscribing app (`applicationId`).
    pub app_id: String,
    /// The tenant it lives in.
    pub tenant_id: String,
    /// The watched mailbox's user id.
    pub user_id: String,
    /// `resource`, as created.
    pub resource: String,
    /// `changeType`.
    pub change_type: String,
    /// `notificationUrl`.
    pub notification_url: String,
    /// `lifecycleNotificationUrl`.
    pub lifecycle_url: Option<String>,
    /// `expirationDateTime`.
    pub expiration: OffsetDateTime,
    /// `clientState`.
    pub client_state: Option<String>,
    /// `includeResourceData`.
    pub include_resource_data: bool,
}

/// A stored message, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// Its ids.
    pub ids: MessageIds,
    /// `subject`.
    pub subject: String,
    /// `from`.
    pub from: Recipient,
    /// `toRecipients`.
    pub to: Vec<Recipient>,
    /// `ccRecipients`.
    pub cc: Vec<Recipient>,
    /// `bccRecipients`.
    pub bcc: Vec<Recipient>,
    /// `isRead`.
    pub is_read: bool,
    /// `receivedDateTime`.
    pub received: OffsetDateTime,
    /// `conversationId`.
    pub conversation_id: String,
    /// `internetMessageHeaders`.
    pub headers: Vec<(String, String)>,
    /// Body content.
    pub body: String,
}

impl GraphSim {
    /// Forgets every delta token of the mailbox: each answers 410 `SyncStateNotFound`.
    pub fn expire_delta_tokens(&self, address: &str) {
        let mut state = self.inner.state.lock().expect("state lock");
        let mbx = mailbox_id(&state, address);
        state.mailbox_mut(&mbx).tokens.expire_all();
    }

    /// A synchronization reset: every existing delta token answers 410 with `Location`.
    pub fn reset_sync(&self, address: &str) {
        let mut state = self.inner.state.lock().expect("state lock");
        let mbx = mailbox_id(&state, address);
        state.mailbox_mut(&mbx).tokens.reset();
    }

    /// How many delta tokens the mailbox's cache holds.
    pub fn delta_tokens_held(&self, address: &str) -> usize {
        let state = self.inner.state.lock().expect("state lock");
        state.mailbox(&mailbox_id(&state, address)).tokens.len()
    }

    /// Live subscriptions (expired ones are gone).
    pub fn subscriptions(&self) -> Vec<SubscriptionInfo> {
        let mut state = self.inner.state.lock().expect("state lock");
        state.purge_expired(self.now());
        state
            .subscriptions
            .values()
            .map(|s| SubscriptionInfo {
                id: s.id.clone(),
                app_id: s.app_id.clone(),
                tenant_id: s.tenant.clone(),
                user_id: s.mailbox_id.clone(),
                resource: s.resource.clone(),
                change_type: s.change_type.clone(),
                notification_url: s.notification_url.clone(),
                lifecycle_url: s.lifecycle_url.clone(),
                expiration: s.expiration,
                client_state: s.client_state.clone(),
                include_resource_data: s.include_resource_data,
            })
            .collect()
    }

    /// Raises a lifecycle event on a subscription and sends it to its
    /// `lifecycleNotificationUrl`. `subscriptionRemoved` also deletes the subscription;
    /// `reauthorizationRequired` pauses delivery after the grace period until the app
    /// reauthorizes or renews. Returns whether a notification was queued (there is none
    /// without a lifecycle URL, reference 4).
    pub fn lifecycle(&self, subscription_id: &str, event: LifecycleEvent) -> bool {
        let now = self.now();
        let mut state = self.inner.state.lock().expect("state lock");
        let Some(sub) = state.subscriptions.get_mut(subscription_id) else { return false };
        match event {
            LifecycleEvent::ReauthorizationRequired => sub.reauthorization_requested = Some(now),
            LifecycleEvent::SubscriptionRemoved | LifecycleEvent::Missed => {}
        }
        let sub = sub.clone();
        if event == LifecycleEvent::SubscriptionRemoved {
            state.subscriptions.remove(subscription_id);
        }
        let Some(payload) = changes::lifecycle_payload(&sub, event) else { return false };
        self.inner.notifier.enqueue(vec![Outgoing {
            url: sub.lifecycle_url.clone().unwrap_or_default(),
            item: payload,
            token_for: sub.include_resource_data.then(|| (sub.app_id.clone(), sub.tenant.clone())),
            missed: None,
        }]);
        true
    }

    /// Replaces the faults injected into notification delivery.
    pub fn notification_faults(&self, faults: NotificationFaults) {
        self.inner.notifier.set_faults(faults);
    }

    /// What happened to notifications so far.
    pub fn notification_stats(&self) -> NotificationStats {
        self.inner.notifier.stats()
    }

    /// The HTTP fault injector (status, latency, hang per path/method).
    pub fn faults(&self) -> FaultInjector {
        self.inner.faults.clone()
    }

    /// Request accounting of `app_id` on the mailbox at `address`.
    pub fn request_stats(&self, app_id: &str, address: &str) -> RequestStats {
        self.inner.throttle.stats(app_id, &self.user_id(address))
    }

    /// The highest number of requests `app_id` had in flight at once across all mailboxes
    /// (what a profile's `max_concurrent_connections` bounds), refused ones included.
    pub fn app_peak_concurrency(&self, app_id: &str) -> u32 {
        self.inner.throttle.app_peak(app_id)
    }

    /// Request accounting of every (app id, mailbox address) seen.
    pub fn all_request_stats(&self) -> Vec<(String, String, RequestStats)> {
        let state = self.inner.state.lock().expect("state lock");
        self.inner
            .throttle
            .all_stats()
            .into_iter()
            .map(|(app, mbx, stats)| {
                let address = state.mailboxes.get(&mbx).map(|m| m.address.clone()).unwrap_or(mbx);
                (app, address, stats)
            })
            .collect()
    }

    /// The messages in a well-known folder, oldest first.
    pub fn messages(&self, address: &str, folder: &str) -> Vec<MessageView> {
        let state = self.inner.state.lock().expect("state lock");
        let mb = state.mailbox(&mailbox_id(&state, address));
        let index = mb.well_known(folder).index;
        let mut out: Vec<MessageView> = mb
            .items
            .values()
            .filter(|i| i.folder == index)
            .filter_map(|i| {
                let m = i.message()?;
                Some(MessageView {
                    ids: MessageIds {
                        user_id: mb.id.clone(),
                        id: mb.regular_id(i),
                        immutable_id: mb.immutable_id(i),
                        internet_message_id: m.internet_message_id.clone(),
                    },
                    subject: m.subject.clone(),
                    from: m.from.clone(),
                    to: m.to.clone(),
                    cc: m.cc.clone(),
                    bcc: m.bcc.clone(),
                    is_read: m.is_read,
                    received: m.received,
                    conversation_id: m.conversation_id.clone(),
                    headers: m.headers.clone(),
                    body: m.body.clone(),
                })
            })
            .collect();
        out.sort_by_key(|m| m.received);
        out
    }
}
