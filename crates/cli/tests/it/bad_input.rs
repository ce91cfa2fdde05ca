//! Every kind of bad input gets a 4xx with its stable code, and the state does not move.

use crate::support::Node;
use ed25519_dalek::SigningKey;
use engine::{Call, SignedTx, TxBody};
use types::{AccountId, Amount};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn tx(nonce: u64, fee: u128, amount: u128) -> SignedTx {
    let signer = AccountId(key().verifying_key().to_bytes());
    TxBody { signer, nonce, fee: Amount(fee), call: Call::Transfer { to: AccountId([1; 32]), amount: Amount(amount) } }
        .sign(&key(), "e2e")
}

fn json(t: &SignedTx) -> Vec<u8> {
    serde_json::to_vec(t).expect("json")
}

#[test]
fn bad_inputs_get_their_codes_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let account = AccountId(key().verifying_key().to_bytes()).to_hex();
    let genesis = crate::support::write_genesis(dir.path(), &[account]);
    let data = dir.path().join("data");
    let node = Node::start(&data, Some(&genesis), 50, &[]);
    let first = tx(0, 1_000, 5);
    let (status, body) = node.post_raw("/v1/txs?wait=commit", "application/json", &json(&first));
    assert_eq!((status, body["status"].as_str()), (200, Some("committed")), "{body}");
    node.sigterm();

    // No block is sealed during the checks (one every 60 s), so the head must not move at all.
    let node = Node::start(&data, None, 60_000, &[]);
    let before = node.health();

    let mut forged = tx(1, 1_000, 5);
    forged.signature.0[3] ^= 1;
    let mut unknown: serde_json::Value = serde_json::to_value(tx(1, 1_000, 5)).expect("value");
    unknown["extra"] = serde_json::json!(1);
    let mut overflow: serde_json::Value = serde_json::to_value(tx(1, 1_000, 5)).expect("value");
    overflow["body"]["call"]["amount"] = serde_json::json!("340282366920938463463374607431768211456");
    let big = vec![b' '; 9 * 1024 * 1024];
    // (what, path, content type, body, expected status, expected code)
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("malformed JSON", "/v1/txs", "application/json", b"{\"body\": ".to_vec(), 400, "malformed_json"),
        (
            "unknown field",
            "/v1/txs",
            "application/json",
            serde_json::to_vec(&unknown).expect("json"),
            422,
            "invalid_tx",
        ),
        ("bad signature", "/v1/txs", "application/json", json(&forged), 401, "bad_signature"),
        ("reused nonce", "/v1/txs", "application/json", json(&tx(0, 1_000, 7)), 422, "bad_nonce"),
        (
            "overflowing amount",
            "/v1/txs",
            "application/json",
            serde_json::to_vec(&overflow).expect("json"),
            422,
            "invalid_tx",
        ),
        ("oversized body", "/v1/txs", "application/json", big, 413, "body_too_large"),
        ("wrong content type", "/v1/txs", "text/plain", json(&tx(1, 1_000, 5)), 415, "unsupported_media_type"),
        ("fee too low", "/v1/txs", "application/json", json(&tx(1, 999, 5)), 422, "fee_too_low"),
        ("nonce gap", "/v1/txs", "application/json", json(&tx(5_000, 1_000, 5)), 422, "nonce_gap"),
        ("overdraft", "/v1/txs", "application/json", json(&tx(1, 1_000, 2_000_000_000_000)), 422, "insufficient_funds"),
        ("empty batch", "/v1/txs", "application/json", b"[]".to_vec(), 422, "invalid_tx"),
        ("bad wait value", "/v1/txs?wait=later", "application/json", json(&tx(1, 1_000, 5)), 400, "bad_query"),
    ];
    for (what, path, ctype, body, want_status, want_code) in cases {
        let (status, resp) = node.post_raw(path, ctype, &body);
        assert_eq!((status, resp["code"].as_str()), (want_status, Some(want_code)), "{what}: {resp}");
        assert!(resp["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: errors explain themselves");
    }
    for (what, path, want_status, want_code) in [
        ("bad account id", "/v1/accounts/xyz", 400, "bad_account_id"),
        ("bad block id", "/v1/blocks/zz", 400, "bad_block_id"),
        ("missing block", "/v1/blocks/999999", 404, "not_found"),
        ("bad tx hash", "/v1/txs/123", 400, "bad_tx_hash"),
        ("unknown route", "/v2/anything", 404, "not_found"),
        ("bad events query", "/v1/events?since=abc", 400, "bad_query"),
    ] {
        let (status, resp) = node.get(path).expect_err(what);
        assert_eq!((status, resp["code"].as_str()), (want_status, Some(want_code)), "{what}: {resp}");
    }
    let after = node.health();
    assert_eq!(after["height"], before["height"]);
    assert_eq!(after["state_root"], before["state_root"]);
    assert_eq!(after["mempool"], 0, "nothing bad reached the mempool");

    // Replaying a committed transaction is answered with its original receipt; it does not run again.
    let (status, resp) = node.post_raw("/v1/txs", "application/json", &json(&first));
    assert_eq!(
        (status, resp["status"].as_str(), resp["receipt"]["height"].as_u64()),
        (200, Some("committed"), Some(1)),
        "{resp}"
    );
    assert_eq!(node.health()["state_root"], before["state_root"]);

    // A second transaction for a nonce already waiting is refused too (the first stays).
    let (status, _) = node.post_raw("/v1/txs", "application/json", &json(&tx(1, 1_000, 5)));
    assert_eq!(status, 202);
    let (status, resp) = node.post_raw("/v1/txs", "application/json", &json(&tx(1, 1_000, 6)));
    assert_eq!((status, resp["code"].as_str()), (409, Some("nonce_in_use")), "{resp}");
    let (status, resp) = node.post_raw("/v1/txs", "application/json", &json(&tx(1, 1_000, 5)));
    assert_eq!((status, resp["status"].as_str()), (202, Some("duplicate")), "{resp}");
    assert_eq!(node.health()["state_root"], before["state_root"]);
    let metrics = ureq::get(&format!("{}/metrics", node.url)).call().expect("metrics").into_string().expect("text");
    assert!(metrics.contains("stakework_http_client_errors_total"), "{metrics}");
    let spec = node.get("/openapi.json").expect("openapi");
    assert!(spec["paths"]["/v1/txs"]["post"]["responses"]["413"].is_object(), "{spec}");
    node.sigterm();
}
