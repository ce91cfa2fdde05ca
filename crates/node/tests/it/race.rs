//! Idempotent resends under load: several clients send the same signed bytes again and again while blocks
//! seal every few milliseconds. Every answer must be true: never `bad_nonce` (nor any other refusal) for a
//! transaction that is committed, and never a second "accepted" for one hash.

use crate::{account, key, TestNode};
use api::{SubmitResult, SubmitStatus};
use protocol::{Call, TxBody};
use std::collections::BTreeMap;
use types::{Amount, Hash};

/// What one resend was answered: a status, or a refusal's code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Answer {
    Status(String),
    Refused(String),
}

fn status(s: SubmitStatus) -> Answer {
    Answer::Status(format!("{s:?}"))
}

fn send(http: &ureq::Agent, url: &str, body: &str) -> Answer {
    match http.post(&format!("{url}/v1/txs")).set("Content-Type", "application/json").send_string(body) {
        Ok(r) => status(serde_json::from_str::<SubmitResult>(&r.into_string().expect("body")).expect("json").status),
        Err(ureq::Error::Status(_, r)) => {
            Answer::Refused(serde_json::from_str::<api::ApiError>(&r.into_string().expect("body")).expect("json").code)
        }
        Err(e) => panic!("{url}: {e}"),
    }
}

#[test]
fn resending_the_same_bytes_while_blocks_seal_is_answered_truthfully() {
    const TXS: u64 = 150;
    const CLIENTS: usize = 3;
    const RESENDS: usize = 4;
    let node = TestNode::start_with(&crate::genesis(), 3);
    // One signer, nonces 0..TXS, signed once: every client sends exactly these bytes.
    let bodies: Vec<(Hash, String)> = (0..TXS)
        .map(|nonce| {
            let call = Call::Transfer { to: account(2), amount: Amount(1) };
            let tx = TxBody { signer: account(1), nonce, fee: Amount(1), call }.sign(&key(1), "api-test");
            (tx.hash(), serde_json::to_string(&tx).expect("json"))
        })
        .collect();
    let answers: Vec<Vec<(Hash, Answer)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (bodies, url) = (&bodies, node.url.clone());
                scope.spawn(move || {
                    let http = ureq::AgentBuilder::new().build();
                    let mut seen = Vec::new();
                    for (hash, body) in bodies {
                        for _ in 0..RESENDS {
                            seen.push((*hash, send(&http, &url, body)));
                        }
                    }
                    seen
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("client thread")).collect()
    });
    // Let the last ones commit, then every hash must have an ok receipt.
    let client = client::Client::new(&node.url);
    for (_, body) in &bodies {
        let tx: protocol::SignedTx = serde_json::from_str(body).expect("tx");
        let r = client.submit(&tx, true).expect("wait for commit");
        assert!(r.receipt.as_ref().is_some_and(api::TxReceipt::ok), "{r:?}");
    }
    let mut tally: BTreeMap<Answer, usize> = BTreeMap::new();
    let mut accepted: BTreeMap<Hash, usize> = BTreeMap::new();
    for (hash, answer) in answers.into_iter().flatten() {
        if answer == status(SubmitStatus::Accepted) {
            *accepted.entry(hash).or_default() += 1;
        }
        *tally.entry(answer).or_default() += 1;
    }
    eprintln!("answers to {} sends: {tally:?}", TXS as usize * CLIENTS * RESENDS);
    let refused: usize = tally.iter().filter(|(a, _)| matches!(a, Answer::Refused(_))).map(|(_, n)| n).sum();
    let twice = accepted.values().filter(|n| **n > 1).count();
    assert_eq!((refused, twice), (0, 0), "refusals of committed transactions, hashes accepted twice: {tally:?}");
}
