//! Events as HTML: the event's name, then its fields, where every subject is a link: tasks to
//! `/tasks/{id}`, jobs to `/jobs/{id}`, accounts to `/accounts/{id}`, proposals to `/governance`.
//!
//! Events are rendered from their JSON form (the API's), so a new event or field shows up without a change
//! here; which fields are subjects is decided by their names and shapes.

use maud::{html, Markup};
use protocol::EventRecord;
use serde_json::Value;
use types::AccountId;

/// One event, as a row of `(height, event)` tables.
pub fn event_row(height: Option<u64>, e: &EventRecord) -> Markup {
    let v = serde_json::to_value(e).unwrap_or(Value::Null);
    let name = v.get("event").and_then(Value::as_str).unwrap_or("?").to_string();
    html! {
        tr {
            @if let Some(h) = height { td.num { a href={ "/blocks/" (h) } { (h) } } }
            td { (e.tx.map_or("block".to_string(), |i| format!("tx {i}"))) }
            td { strong { (name) } }
            td { (fields(&v)) }
        }
    }
}

/// A table of events, each with its block height when known.
pub fn event_table(rows: &[(u64, EventRecord)], with_height: bool) -> Markup {
    html! {
        @if rows.is_empty() { p.note { "No events." } } @else {
            table.events {
                tr { @if with_height { th { "block" } } th { "from" } th { "event" } th { "details" } }
                @for (h, e) in rows { (event_row(with_height.then_some(*h), e)) }
            }
        }
    }
}

fn fields(v: &Value) -> Markup {
    let Some(map) = v.as_object() else { return html! {} };
    html! {
        @for (k, val) in map {
            @if k != "event" && k != "tx" {
                span.field { em { (k) } ": " (value(k, val)) } " "
            }
        }
    }
}

/// Keys whose 32-byte hex values are hashes, not accounts.
const HASH_KEYS: [&str; 3] = ["result_hash", "result", "hash"];

pub(crate) fn value(key: &str, v: &Value) -> Markup {
    match v {
        Value::String(s) if is_hex32(s) && !HASH_KEYS.contains(&key) => {
            html! { a.id href={ "/accounts/" (s) } title=(s) { (crate::short(s)) } }
        }
        Value::String(s) if key == "job" => html! { a href={ "/jobs/" (s) } { (s) } },
        Value::Number(n) if key == "task" => html! { a href={ "/tasks/" (n) } { "task " (n) } },
        Value::Number(n) if key == "proposal" => html! { a href="/governance" { "proposal " (n) } },
        Value::String(s) if s.len() > 200 => html! { (s[..200].to_string()) "…" },
        Value::String(s) => html! { (s) },
        Value::Array(items) => {
            html! { "[" @for (i, it) in items.iter().enumerate() { @if i > 0 { ", " } (value(key, it)) } "]" }
        }
        Value::Object(_) => html! { "{" (fields(v)) "}" },
        other => html! { (other.to_string()) },
    }
}

fn is_hex32(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether an event names `id` anywhere among its fields.
pub fn names(e: &EventRecord, id: &AccountId) -> bool {
    let needle = id.to_string();
    serde_json::to_string(&e.event).is_ok_and(|s| s.contains(&needle))
}

/// Whether an event is about task `task` (a `task` field equal to it).
pub fn about_task(e: &EventRecord, task: u64) -> bool {
    serde_json::to_value(&e.event).is_ok_and(|v| v.get("task").and_then(Value::as_u64) == Some(task))
}

/// Whether an event is about job `job` (a `job` field equal to its text form).
pub fn about_job(e: &EventRecord, job: &str) -> bool {
    serde_json::to_value(&e.event).is_ok_and(|v| v.get("job").and_then(Value::as_str) == Some(job))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Event;

    #[test]
    fn every_subject_of_an_event_is_a_link() {
        let miner = AccountId([7; 32]);
        let e = EventRecord {
            tx: Some(0),
            event: Event::TaskMinersSelected { task: 12, miners: vec![miner, AccountId([8; 32])] },
        };
        let html = event_row(Some(5), &e).into_string();
        assert!(html.contains("href=\"/tasks/12\""), "{html}");
        assert!(html.contains(&format!("href=\"/accounts/{miner}\"")), "{html}");
        assert!(html.contains("href=\"/blocks/5\""), "{html}");
        assert!(names(&e, &miner) && !names(&e, &AccountId([9; 32])));
        assert!(about_task(&e, 12) && !about_task(&e, 1));
    }
}
