//! `POST /v1/txs`: single and batch submissions, waits, idempotent resubmission and every refusal.

use crate::{account, transfer, Probe};
use api::{ApiError, SubmitBatch, SubmitResult, SubmitStatus};

fn post(p: &mut Probe, path: &str, body: &str) -> (u16, String) {
    p.send("post", "/v1/txs", path, Some(body))
}

fn code(text: &str) -> String {
    serde_json::from_str::<ApiError>(text).expect("an ApiError").code
}

pub fn submissions(p: &mut Probe, client: &client::Client) {
    // Committed with ?wait=commit: 200 and the receipt; the same bytes again: the original receipt.
    let tx = transfer(client, 1, account(2), 500);
    let body = serde_json::to_string(&tx).expect("json");
    let (status, text) = post(p, "/v1/txs?wait=commit", &body);
    let first: SubmitResult = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {status} {text}"));
    assert_eq!((status, first.status), (200, SubmitStatus::Committed), "{text}");
    assert!(first.receipt.as_ref().is_some_and(api::TxReceipt::ok), "{text}");
    let (status, again) = post(p, "/v1/txs?wait=commit", &body);
    let again: SubmitResult = serde_json::from_str(&again).expect("SubmitResult");
    assert_eq!((status, again.receipt), (200, first.receipt), "a resubmission answers with the original receipt");

    // Accepted without a wait: 202.
    let tx = transfer(client, 1, account(2), 1);
    let (status, text) = post(p, "/v1/txs", &serde_json::to_string(&tx).expect("json"));
    let accepted: SubmitResult = serde_json::from_str(&text).expect("SubmitResult");
    assert_eq!((status, accepted.status), (202, SubmitStatus::Accepted), "{text}");
    assert!(client.submit(&tx, true).expect("wait").receipt.is_some_and(|r| r.ok()));

    // A batch: 200 with one result each.
    let a = transfer(client, 1, account(2), 1);
    let b = protocol::TxBody { nonce: a.body.nonce + 1, ..a.body.clone() }.sign(&crate::key(1), "api-test");
    let (status, text) = post(p, "/v1/txs?wait=commit", &serde_json::to_string(&[a, b]).expect("json"));
    let batch: SubmitBatch = serde_json::from_str(&text).expect("SubmitBatch");
    assert_eq!(status, 200);
    assert!(batch.results.iter().all(|r| r.status == SubmitStatus::Committed), "{text}");

    refusals(p, client);
}

fn refusals(p: &mut Probe, client: &client::Client) {
    let tx = transfer(client, 1, account(2), 1);
    // Signed for another chain: the signature does not verify here.
    let foreign = tx.body.clone().sign(&crate::key(1), "another-chain");
    let (status, text) = post(p, "/v1/txs", &serde_json::to_string(&foreign).expect("json"));
    assert_eq!((status, code(&text).as_str()), (401, "bad_signature"));
    let stale = protocol::TxBody { nonce: 0, ..tx.body.clone() }.sign(&crate::key(1), "api-test");
    let (status, text) = post(p, "/v1/txs", &serde_json::to_string(&stale).expect("json"));
    assert_eq!((status, code(&text).as_str()), (422, "bad_nonce"));
    let gap = protocol::TxBody { nonce: tx.body.nonce + 5, ..tx.body.clone() }.sign(&crate::key(1), "api-test");
    let (status, text) = post(p, "/v1/txs", &serde_json::to_string(&gap).expect("json"));
    assert_eq!((status, code(&text).as_str()), (422, "nonce_gap"));
    let broke = transfer(client, 2, account(1), 1_000_000);
    let (status, text) = post(p, "/v1/txs", &serde_json::to_string(&broke).expect("json"));
    assert_eq!((status, code(&text).as_str()), (422, "insufficient_funds"));
    for (body, want) in [("{", (400, "malformed_json")), ("{}", (422, "invalid_tx")), ("[]", (422, "invalid_tx"))] {
        let (status, text) = post(p, "/v1/txs", body);
        assert_eq!((status, code(&text).as_str()), want, "{body}");
    }
    let (status, text) = post(p, "/v1/txs?wait=soon", "{}");
    assert_eq!((status, code(&text).as_str()), (400, "bad_query"));
    // The client reads a door refusal as a refused result with the node's code.
    let r = client.submit(&stale, true).expect("answered");
    assert_eq!((r.status, r.code.as_deref()), (SubmitStatus::Refused, Some("bad_nonce")));
    let (status, text) = wrong_content_type(p, &serde_json::to_string(&tx).expect("json"));
    assert_eq!((status, code(&text).as_str()), (415, "unsupported_media_type"));
}

fn wrong_content_type(p: &mut Probe, body: &str) -> (u16, String) {
    let url = format!("{}/v1/txs", p.url);
    match p.http.post(&url).set("Content-Type", "text/plain").send_string(body) {
        Ok(r) => (r.status(), r.into_string().expect("body")),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().expect("body")),
        Err(e) => panic!("{e}"),
    }
}
