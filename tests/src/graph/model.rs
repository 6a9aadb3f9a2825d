//! What tests put into mailboxes: messages (with a builder of realistic defaults), events,
//! contacts and To Do tasks, and the changes they can make to them.

use time::OffsetDateTime;

/// An email address with a display name (Graph's `recipient.emailAddress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// `name`.
    pub name: String,
    /// `address`.
    pub address: String,
}

impl Recipient {
    /// A recipient with a name and an address.
    pub fn new(name: &str, address: &str) -> Self {
        Self { name: name.to_string(), address: address.to_string() }
    }

    /// A recipient whose display name is its address.
    pub fn address(address: &str) -> Self {
        Self::new(address, address)
    }
}

/// A file attachment (`#microsoft.graph.fileAttachment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// `name`.
    pub name: String,
    /// `contentType`.
    pub content_type: String,
    /// The raw bytes (`contentBytes` is their base64).
    pub bytes: Vec<u8>,
    /// `isInline` (referenced from the HTML body by `cid:`).
    pub is_inline: bool,
    /// `contentId`, for inline attachments.
    pub content_id: Option<String>,
}

/// A message to deliver or send. [`NewMessage::new`] fills in realistic defaults.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `subject`.
    pub subject: String,
    /// `from` (and `sender`).
    pub from: Recipient,
    /// `toRecipients`; empty means "the receiving mailbox" when delivered.
    pub to: Vec<Recipient>,
    /// `ccRecipients`.
    pub cc: Vec<Recipient>,
    /// `bccRecipients` (only the sender's copy shows them).
    pub bcc: Vec<Recipient>,
    /// `replyTo`.
    pub reply_to: Vec<Recipient>,
    /// Body content; HTML unless `body_is_text`.
    pub body: String,
    /// `body.contentType` is `text` rather than `html`.
    pub body_is_text: bool,
    /// `receivedDateTime`; `None` = the simulated now.
    pub received: Option<OffsetDateTime>,
    /// `sentDateTime`; `None` = one minute before receipt.
    pub sent: Option<OffsetDateTime>,
    /// `internetMessageId`; `None` = generated (`<…@….prod.outlook.com>`).
    pub internet_message_id: Option<String>,
    /// The `internetMessageId` this message replies to (sets `In-Reply-To`, `References`,
    /// and threads it into the parent's conversation when the mailbox has the parent).
    pub in_reply_to: Option<String>,
    /// Extra headers (e.g. `x-crm-correlation-id`), added to `internetMessageHeaders`.
    pub headers: Vec<(String, String)>,
    /// Attachments.
    pub attachments: Vec<NewAttachment>,
    /// `importance`: `low`, `normal` or `high`.
    pub importance: String,
    /// `isRead`.
    pub is_read: bool,
    /// `categories`.
    pub categories: Vec<String>,
}

impl NewMessage {
    /// A message from an external sender with an HTML body, received now.
    pub fn new(subject: &str) -> Self {
        Self {
            subject: subject.to_string(),
            from: Recipient::new("Adele Vance", "adelev@fabrikam.example"),
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            reply_to: Vec::new(),
            body: format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; \
                 charset=utf-8\"></head><body><p>{subject}</p><p>Best regards,<br>Adele</p>\
                 </body></html>"
            ),
            body_is_text: false,
            received: None,
            sent: None,
            internet_message_id: None,
            in_reply_to: None,
            headers: Vec::new(),
            attachments: Vec::new(),
            importance: "normal".into(),
            is_read: false,
            categories: Vec::new(),
        }
    }

    /// Sets `from`.
    pub fn from(mut self, name: &str, address: &str) -> Self {
        self.from = Recipient::new(name, address);
        self
    }

    /// Adds a `to` recipient.
    pub fn to(mut self, address: &str) -> Self {
        self.to.push(Recipient::address(address));
        self
    }

    /// Adds a `cc` recipient.
    pub fn cc(mut self, address: &str) -> Self {
        self.cc.push(Recipient::address(address));
        self
    }

    /// Adds a `bcc` recipient.
    pub fn bcc(mut self, address: &str) -> Self {
        self.bcc.push(Recipient::address(address));
        self
    }

    /// Sets an HTML body.
    pub fn html(mut self, html: &str) -> Self {
        self.body = html.to_string();
        self.body_is_text = false;
        self
    }

    /// Sets a plain-text body.
    pub fn text(mut self, text: &str) -> Self {
        self.body = text.to_string();
        self.body_is_text = true;
        self
    }

    /// Sets `receivedDateTime`.
    pub fn received_at(mut self, at: OffsetDateTime) -> Self {
        self.received = Some(at);
        self
    }

    /// Sets `internetMessageId` (angle brackets included, e.g. `<abc@host>`).
    pub fn internet_message_id(mut self, id: &str) -> Self {
        self.internet_message_id = Some(id.to_string());
        self
    }

    /// Makes this a reply to the message with this `internetMessageId`.
    pub fn in_reply_to(mut self, id: &str) -> Self {
        self.in_reply_to = Some(id.to_string());
        self
    }

    /// Adds an Internet header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a file attachment.
    pub fn attachment(mut self, name: &str, content_type: &str, bytes: &[u8]) -> Self {
        self.attachments.push(NewAttachment {
            name: name.to_string(),
            content_type: content_type.to_string(),
            bytes: bytes.to_vec(),
            is_inline: false,
            content_id: None,
        });
        self
    }

    /// Adds an inline attachment referenced from the body as `cid:{content_id}`.
    pub fn inline_attachment(
        mut self,
        name: &str,
        content_type: &str,
        bytes: &[u8],
        content_id: &str,
    ) -> Self {
        self.attachments.push(NewAttachment {
            name: name.to_string(),
            content_type: content_type.to_string(),
            bytes: bytes.to_vec(),
            is_inline: true,
            content_id: Some(content_id.to_string()),
        });
        self
    }

    /// Sets `importance`.
    pub fn importance(mut self, importance: &str) -> Self {
        self.importance = importance.to_string();
        self
    }
}

/// Ids of one stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageIds {
    /// The mailbox owner's user id.
    pub user_id: String,
    /// Regular id (changes when the message moves).
    pub id: String,
    /// Immutable id (stable across moves).
    pub immutable_id: String,
    /// `internetMessageId`.
    pub internet_message_id: String,
}

/// A change to an existing message; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct MessageUpdate {
    /// `isRead`.
    pub is_read: Option<bool>,
    /// `subject`.
    pub subject: Option<String>,
    /// `categories`.
    pub categories: Option<Vec<String>>,
    /// `importance`.
    pub importance: Option<String>,
    /// `flag.flagStatus`: `notFlagged`, `flagged`, `complete`.
    pub flag_status: Option<String>,
}

/// A calendar event to seed.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `subject`.
    pub subject: String,
    /// `start` (UTC).
    pub start: OffsetDateTime,
    /// `end` (UTC).
    pub end: OffsetDateTime,
    /// `location.displayName`.
    pub location: String,
    /// `organizer`.
    pub organizer: Recipient,
    /// Required attendees.
    pub attendees: Vec<Recipient>,
    /// HTML body.
    pub body: String,
    /// `isAllDay`.
    pub is_all_day: bool,
}

/// A contact to seed.
#[derive(Debug, Clone)]
pub struct NewContact {
    /// `givenName`.
    pub given_name: String,
    /// `surname`.
    pub surname: String,
    /// `emailAddresses`.
    pub emails: Vec<Recipient>,
    /// `companyName`.
    pub company: Option<String>,
    /// `jobTitle`.
    pub job_title: Option<String>,
    /// `businessPhones`.
    pub business_phones: Vec<String>,
    /// `mobilePhone`.
    pub mobile_phone: Option<String>,
}

/// A To Do task to seed.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// `title`.
    pub title: String,
    /// `body.content` (text).
    pub body: String,
    /// `status`: `notStarted`, `inProgress`, `completed`, `waitingOnOthers`, `deferred`.
    pub status: String,
    /// `importance`.
    pub importance: String,
    /// `dueDateTime`.
    pub due: Option<OffsetDateTime>,
}

/// A lifecycle event the handle can raise on a subscription (reference 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// `reauthorizationRequired`: delivery pauses after a grace period until the app
    /// reauthorizes or renews.
    ReauthorizationRequired,
    /// `subscriptionRemoved`: the subscription is deleted.
    SubscriptionRemoved,
    /// `missed`: some notifications were not delivered.
    Missed,
}

impl LifecycleEvent {
    /// The `lifecycleEvent` value on the wire.
    pub fn wire(self) -> &'static str {
        match self {
            Self::ReauthorizationRequired => "reauthorizationRequired",
            Self::SubscriptionRemoved => "subscriptionRemoved",
            Self::Missed => "missed",
        }
    }
}
