//! A realistic organisation on a [`SimCloud`] and a stream of its mail: the demo's world, and
//! the end-to-end tests', chaos test's and benchmarks' too.
//!
//! Two Exchange Online tenants (Fabrikam and Contoso, each with exsync's app) and a Dataverse
//! environment on a third (Northwind) that knows the mailbox owners as users and the outside
//! world as contacts, accounts, leads and a queue. [`MailStream`] then writes mail as people
//! do: customers writing in, staff answering, colleagues across the two tenants, replies to
//! earlier mail, a newsletter nobody knows.

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use time::OffsetDateTime;

use crate::{
    cloud::{ConfigBuilder, DataverseTenant, ExchangeTenant, SimCloud},
    graph::NewMessage,
};

/// Someone outside the synced mailboxes, and what Dataverse knows of them.
#[derive(Debug, Clone, Copy)]
pub struct Correspondent {
    /// Display name.
    pub name: &'static str,
    /// Address.
    pub address: &'static str,
    /// The table(s) that hold the address (empty: unknown to Dataverse).
    pub known_as: &'static [&'static str],
}

/// The outside world of the demo.
pub const CORRESPONDENTS: &[Correspondent] = &[
    Correspondent {
        name: "Maria Garcia",
        address: "maria.garcia@adventure-works.example",
        known_as: &["contact"],
    },
    Correspondent {
        name: "Kenji Sato",
        address: "kenji.sato@adventure-works.example",
        known_as: &["contact"],
    },
    Correspondent {
        name: "Litware Orders",
        address: "orders@litware.example",
        known_as: &["account"],
    },
    Correspondent {
        name: "Ravi Patel",
        address: "ravi.patel@wingtip.example",
        known_as: &["lead"],
    },
    Correspondent {
        name: "Tailspin Info",
        address: "info@tailspin.example",
        known_as: &["account", "contact"],
    },
    Correspondent {
        name: "Northwind Support",
        address: "support@northwind.example",
        known_as: &["queue"],
    },
    Correspondent { name: "Weekly Digest", address: "digest@newsletter.example", known_as: &[] },
];

const SUBJECTS: &[&str] = &[
    "Quote request for 40 units",
    "Invoice 2026-1187 overdue",
    "Follow-up on yesterday's call",
    "Delivery date for order 5521",
    "Contract renewal terms",
    "Support ticket: login fails after update",
    "Meeting notes and next steps",
    "Pricing for the enterprise tier",
    "Site visit on Thursday",
    "Question about warranty coverage",
];

const PARAGRAPHS: &[&str] = &[
    "Thanks for the quick turnaround last week, the team was impressed.",
    "Could you confirm the numbers below before we send the purchase order?",
    "We would like to move the delivery to the first week of next month if possible.",
    "Attached you will find the summary we discussed; let me know if anything is missing.",
    "Our finance department asked for an updated invoice with the new VAT number.",
    "I have looped in my colleague who owns the renewal on our side.",
];

/// A synced mailbox of the demo organisation.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Display name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Profile name in the configuration.
    pub profile: &'static str,
}

/// The demo organisation, set up on a running cloud.
#[derive(Debug)]
pub struct DemoOrg {
    /// The simulators.
    pub cloud: SimCloud,
    /// First Exchange tenant.
    pub fabrikam: ExchangeTenant,
    /// Second Exchange tenant.
    pub contoso: ExchangeTenant,
    /// The Dataverse environment (third tenant).
    pub dataverse: DataverseTenant,
    /// The synced mailboxes.
    pub staff: Vec<Staff>,
}

impl DemoOrg {
    /// Starts the simulators and sets the organisation up.
    pub async fn start() -> std::io::Result<Self> {
        Ok(Self::on(SimCloud::start().await?))
    }

    /// Sets the organisation up on a running cloud.
    pub fn on(cloud: SimCloud) -> Self {
        let fabrikam = cloud.add_exchange_tenant("fabrikam.example");
        let contoso = cloud.add_exchange_tenant("contoso.example");
        let dataverse = cloud.add_dataverse("northwind.example");
        let people = [
            (&fabrikam, "fabrikam", "alice", "Alice", "Wong"),
            (&fabrikam, "fabrikam", "bob", "Bob", "Kelly"),
            (&contoso, "contoso", "carol", "Carol", "Diaz"),
            (&contoso, "contoso", "dan", "Dan", "Novak"),
        ];
        let mut staff = Vec::new();
        for (tenant, profile, local, first, last) in people {
            let name = format!("{first} {last}");
            let address = cloud.add_mailbox(tenant, local, &name);
            dataverse.env.add_systemuser(&address, first, last);
            staff.push(Staff { name, address, profile });
        }
        for c in CORRESPONDENTS {
            let (first, last) = c.name.split_once(' ').unwrap_or((c.name, ""));
            for table in c.known_as {
                match *table {
                    "contact" => dataverse.env.add_contact(c.address, first, last),
                    "account" => dataverse.env.add_account(c.address, c.name),
                    "lead" => dataverse.env.add_lead(c.address, first, last),
                    "queue" => dataverse.env.add_queue(c.address, c.name),
                    other => unreachable!("unknown table {other}"),
                };
            }
        }
        Self { cloud, fabrikam, contoso, dataverse, staff }
    }

    /// The exsync configuration for it: both profiles, every mailbox; `runtime` lines to add.
    pub fn config(&self, runtime: &str) -> ConfigBuilder {
        let mut config = self
            .cloud
            .config(&self.dataverse)
            .profile("fabrikam", &self.fabrikam, "max_concurrent_connections = 8\n")
            .profile("contoso", &self.contoso, "max_concurrent_connections = 8\n");
        for s in &self.staff {
            config = config.mailbox(&s.address, s.profile, "");
        }
        config.runtime(runtime)
    }
}

/// One email the stream sent, and what should become of it.
#[derive(Debug, Clone)]
pub struct SentMail {
    /// Its Internet Message-ID: one email activity in Dataverse, whatever number of synced
    /// mailboxes hold it.
    pub internet_message_id: String,
    /// Subject.
    pub subject: String,
    /// How many synced mailboxes got a copy (Inbox or Sent Items).
    pub copies: usize,
    /// The Message-ID it answers, if it is a reply.
    pub in_reply_to: Option<String>,
}

/// Writes realistic mail into the organisation's mailboxes, deterministically from a seed.
#[derive(Debug)]
pub struct MailStream {
    rng: StdRng,
    sent: Vec<SentMail>,
}

impl MailStream {
    /// A stream seeded with `seed` (the same seed writes the same mail).
    pub fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed), sent: Vec::new() }
    }

    /// Everything sent so far.
    pub fn sent(&self) -> &[SentMail] {
        &self.sent
    }

    /// Sends the next email: a customer writing in (sometimes with a colleague in the other
    /// tenant in Cc), staff writing out, a colleague writing across tenants, or a reply.
    pub fn next(&mut self, org: &DemoOrg, received_at: OffsetDateTime) -> SentMail {
        let graph = &org.cloud.graph;
        let subject = *SUBJECTS.choose(&mut self.rng).expect("subjects");
        let kind = self.rng.random_range(0..10);
        let mail = match kind {
            0..=3 => {
                let from = CORRESPONDENTS.choose(&mut self.rng).expect("correspondents");
                let to = org.staff.choose(&mut self.rng).expect("staff");
                let mut message = self
                    .message(subject, from.name, from.address, &to.name, received_at)
                    .to(&to.address);
                let cc = (self.rng.random_bool(0.3))
                    .then(|| org.staff.choose(&mut self.rng).expect("staff"));
                let cc = cc.filter(|c| c.address != to.address);
                if let Some(cc) = cc {
                    message = message.cc(&cc.address);
                }
                let ids = graph.deliver(&to.address, message.clone());
                if let Some(cc) = cc {
                    graph.deliver(
                        &cc.address,
                        message.internet_message_id(&ids.internet_message_id),
                    );
                }
                SentMail {
                    internet_message_id: ids.internet_message_id,
                    subject: subject.into(),
                    copies: 1 + cc.is_some() as usize,
                    in_reply_to: None,
                }
            }
            4..=5 => {
                let from = org.staff.choose(&mut self.rng).expect("staff");
                let to = CORRESPONDENTS.choose(&mut self.rng).expect("correspondents");
                let message = self
                    .message(subject, &from.name, &from.address, to.name, received_at)
                    .to(to.address);
                let ids = graph.send(&from.address, message);
                SentMail {
                    internet_message_id: ids.internet_message_id,
                    subject: subject.into(),
                    copies: 1,
                    in_reply_to: None,
                }
            }
            6..=7 => {
                let from = org.staff.choose(&mut self.rng).expect("staff");
                let others: Vec<&Staff> =
                    org.staff.iter().filter(|s| s.profile != from.profile).collect();
                let to = others.choose(&mut self.rng).expect("a colleague in the other tenant");
                let message = self
                    .message(subject, &from.name, &from.address, &to.name, received_at)
                    .to(&to.address);
                let ids = graph.send(&from.address, message);
                SentMail {
                    internet_message_id: ids.internet_message_id,
                    subject: subject.into(),
                    copies: 2,
                    in_reply_to: None,
                }
            }
            _ => match self.reply_target() {
                Some(parent) => {
                    let from = CORRESPONDENTS.choose(&mut self.rng).expect("correspondents");
                    let to = org.staff.choose(&mut self.rng).expect("staff");
                    let subject = format!("RE: {}", parent.subject);
                    let message = self
                        .message(&subject, from.name, from.address, &to.name, received_at)
                        .to(&to.address)
                        .in_reply_to(&parent.internet_message_id);
                    let ids = graph.deliver(&to.address, message);
                    SentMail {
                        internet_message_id: ids.internet_message_id,
                        subject,
                        copies: 1,
                        in_reply_to: Some(parent.internet_message_id),
                    }
                }
                None => return self.next(org, received_at),
            },
        };
        self.sent.push(mail.clone());
        mail
    }

    fn reply_target(&mut self) -> Option<SentMail> {
        let originals: Vec<&SentMail> =
            self.sent.iter().filter(|m| m.in_reply_to.is_none()).collect();
        originals.choose(&mut self.rng).map(|m| (*m).clone())
    }

    fn message(
        &mut self,
        subject: &str,
        from_name: &str,
        from: &str,
        to_name: &str,
        at: OffsetDateTime,
    ) -> NewMessage {
        let first = to_name.split(' ').next().unwrap_or(to_name);
        let body: Vec<&str> = PARAGRAPHS.choose_multiple(&mut self.rng, 2).copied().collect();
        let html = format!(
            "<html><body><p>Hi {first},</p><p>{}</p><p>{}</p><p>Best regards,<br>{from_name}</p></body></html>",
            body[0], body[1]
        );
        NewMessage::new(subject).from(from_name, from).html(&html).received_at(at)
    }
}
