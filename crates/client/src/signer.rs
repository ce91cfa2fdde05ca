//! A signer that keeps its nonce right: it signs locally and submits one call (or one batch) at a time
//! with `?wait=commit`, so the next nonce is always known.

use crate::{Client, ClientError};
use api::SubmitStatus;
use ed25519_dalek::SigningKey;
use protocol::{Call, EventRecord, TxBody};
use std::time::{Duration, Instant};
use types::{AccountId, Amount};

/// What happened to a submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Included in a durable block; `code` is `ok` or why the block rejected it (then it changed nothing);
    /// `events` are the transaction's events.
    Committed { code: String, events: Vec<EventRecord> },
    /// Refused at the door (never in a block).
    Refused { code: String },
}

impl Outcome {
    /// Committed and applied.
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Committed { code, .. } if code == "ok")
    }
    /// `ok`, the block's rejection code, or the door's refusal code.
    pub fn code(&self) -> &str {
        match self {
            Outcome::Committed { code, .. } | Outcome::Refused { code } => code,
        }
    }
    /// The transaction's events (none unless committed).
    pub fn events(&self) -> &[EventRecord] {
        match self {
            Outcome::Committed { events, .. } => events,
            Outcome::Refused { .. } => &[],
        }
    }
}

/// Signs for one key on one chain.
#[derive(Debug)]
pub struct Signer {
    key: SigningKey,
    pub account: AccountId,
    chain_id: String,
    fee: Amount,
}

/// How long one submission waits for its block before the same bytes are sent again.
const RESEND_AFTER: Duration = Duration::from_secs(3);

impl Signer {
    /// A signer for `key`, with the chain id and minimum fee the node reports.
    pub fn connect(client: &Client, key: SigningKey) -> Result<Signer, ClientError> {
        let params = client.params()?;
        let account = AccountId(key.verifying_key().to_bytes());
        Ok(Signer { key, account, chain_id: params.params.chain_id, fee: params.params.min_fee })
    }

    /// A signer with a known chain id and fee (no call to the node).
    pub fn new(key: SigningKey, chain_id: &str, fee: Amount) -> Signer {
        let account = AccountId(key.verifying_key().to_bytes());
        Signer { key, account, chain_id: chain_id.to_string(), fee }
    }

    /// The account's signing key: agents derive the relay's encryption key from it (`agent::seal`).
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Sign `call` with `nonce`.
    pub fn sign(&self, call: Call, nonce: u64) -> protocol::SignedTx {
        TxBody { signer: self.account, nonce, fee: self.fee, call }.sign(&self.key, &self.chain_id)
    }

    /// Sign `calls` with consecutive nonces from the account's current one and submit them as one batch,
    /// waiting for their blocks. Returns one outcome per call (a refused call leaves the later ones with a
    /// nonce gap: they are refused too and change nothing).
    pub fn submit_batch(&self, client: &Client, calls: Vec<Call>) -> Result<Vec<Outcome>, ClientError> {
        let first = client.account(&self.account)?.nonce;
        let txs: Vec<_> = calls.into_iter().zip(first..).map(|(call, nonce)| self.sign(call, nonce)).collect();
        for _ in 0..20 {
            let batch = client.submit_batch(&txs, true)?;
            let settled =
                batch.results.iter().all(|r| matches!(r.status, SubmitStatus::Committed | SubmitStatus::Refused));
            if settled {
                return Ok(batch.results.into_iter().map(outcome_of).collect());
            }
        }
        Err(ClientError::Unreachable("the batch was not committed in time".into()))
    }

    /// Sign `call` with the account's current nonce, submit it and wait for its block. A node that is
    /// restarting or unreachable is retried with backoff (up to about `patience`); a transaction the node
    /// already has is answered with its original receipt, so a retry never runs a call twice.
    pub fn submit(&self, client: &Client, call: Call, patience: Duration) -> Result<Outcome, ClientError> {
        let deadline = Instant::now() + patience;
        let mut backoff = Duration::from_millis(100);
        let tx = self.sign(call, client.account(&self.account)?.nonce);
        loop {
            // Each wait is short, so a transaction that one validator holds alone (its gossip lost) is sent
            // again, and gossiped again, well within the patience.
            let left = deadline.saturating_duration_since(Instant::now()).min(RESEND_AFTER);
            match client.submit_within(&tx, left.max(Duration::from_millis(1))) {
                Ok(r) if matches!(r.status, SubmitStatus::Committed | SubmitStatus::Refused) => {
                    return Ok(outcome_of(r))
                }
                // Accepted but not yet in a block within the node's wait: ask again (idempotent).
                Ok(_) => {}
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => {}
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            if Instant::now() >= deadline {
                return Err(ClientError::Unreachable("the transaction was not committed in time".into()));
            }
        }
    }
}

fn outcome_of(r: api::SubmitResult) -> Outcome {
    match (r.status, r.receipt) {
        (SubmitStatus::Committed, Some(receipt)) => {
            Outcome::Committed { code: receipt.code.unwrap_or_default(), events: receipt.events }
        }
        (SubmitStatus::Committed, None) => Outcome::Committed { code: String::new(), events: Vec::new() },
        _ => Outcome::Refused { code: r.code.unwrap_or_default() },
    }
}
