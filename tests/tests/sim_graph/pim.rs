//! Events, contacts and To Do tasks, and their delta queries (reference 6.3, 6.4).

use exsync_sim::graph::{NewContact, NewEvent, NewTask, Recipient};
use time::macros::datetime;

use crate::common::*;

#[tokio::test]
async fn calendar_view_delta_needs_a_window_and_reports_changes_outside_it_as_removed() {
    let env = Env::start().await;
    let token = env.token(READER);
    let event = |subject: &str, day: i64| NewEvent {
        subject: subject.into(),
        start: datetime!(2026-04-01 09:00:00 UTC) + time::Duration::days(day),
        end: datetime!(2026-04-01 10:00:00 UTC) + time::Duration::days(day),
        location: "Room 1".into(),
        organizer: Recipient::new("Alice Smith", ALICE),
        attendees: vec![Recipient::address(BOB)],
        body: "<p>agenda</p>".into(),
        is_all_day: false,
    };
    let inside = env.sim.add_event(ALICE, event("inside", 1));
    let outside = env.sim.add_event(ALICE, event("outside", 30));
    let base = format!("/users/{ALICE}/calendarView/delta");
    assert_error(&env.get(&base, &token).await, 400, "ErrorInvalidParameter");
    let resp = env.get(&format!("{base}?startDateTime=2026-04-01T00:00:00Z&endDateTime=2026-04-10T00:00:00Z&$select=subject"), &token).await;
    assert_error(&resp, 400, "BadRequest");
    let (_, _, page) = env
        .get(
            &format!("{base}?startDateTime=2026-04-01T00:00:00Z&endDateTime=2026-04-10T00:00:00Z"),
            &token,
        )
        .await;
    assert_eq!(ids(&page), std::slice::from_ref(&inside));
    assert_eq!(page["value"][0]["start"]["timeZone"], "UTC");
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    env.sim.touch(ALICE, &outside);
    env.sim.delete(ALICE, &inside);
    let (_, _, page) = env.follow(&link, &token, None).await;
    let mut gone = removed(&page);
    gone.sort();
    let mut expected = vec![inside, outside];
    expected.sort();
    assert_eq!(gone, expected);
}

#[tokio::test]
async fn contacts_and_tasks_have_delta_too() {
    let env = Env::start().await;
    let token = env.token(READER);
    let contact = env.sim.add_contact(
        ALICE,
        NewContact {
            given_name: "Dana".into(),
            surname: "Swope".into(),
            emails: vec![Recipient::new("Dana Swope", "danas@fabrikam.example")],
            company: Some("Fabrikam".into()),
            job_title: None,
            business_phones: vec!["+1 555 0100".into()],
            mobile_phone: None,
        },
    );
    let (_, _, page) = env
        .get(&format!("/users/{ALICE}/contacts/delta?$select=displayName,emailAddresses"), &token)
        .await;
    assert_eq!(page["value"][0]["id"], contact);
    assert_eq!(page["value"][0]["displayName"], "Dana Swope");
    assert!(page["value"][0].get("companyName").is_none());
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    env.sim.delete(ALICE, &contact);
    let (_, _, page) = env.follow(&link, &token, None).await;
    assert_eq!(removed(&page), [contact]);

    let list = env.sim.default_task_list(ALICE);
    let task = env.sim.add_task(
        ALICE,
        &list,
        NewTask {
            title: "Call Dana".into(),
            body: "about the offer".into(),
            status: "notStarted".into(),
            importance: "high".into(),
            due: None,
        },
    );
    let (_, _, lists) = env.get(&format!("/users/{ALICE}/todo/lists"), &token).await;
    assert_eq!(lists["value"][0]["wellknownListName"], "defaultList");
    let (_, _, page) =
        env.get(&format!("/users/{ALICE}/todo/lists/{list}/tasks/delta"), &token).await;
    assert_eq!(page["value"][0]["title"], "Call Dana");
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    env.sim.touch(ALICE, &task);
    let (_, _, page) = env.follow(&link, &token, None).await;
    assert_eq!(ids(&page), [task]);
    let resp = env
        .get(&format!("/users/{ALICE}/todo/lists/{list}/tasks"), &env.token(&["Mail.Read"]))
        .await;
    assert_error(&resp, 403, "ErrorAccessDenied");
}
