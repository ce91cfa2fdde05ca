//! JSON forms of the API. Amounts are decimal strings; hashes and ids are hex.

use engine::{BlockOutcome, EventRecord, SignedTx};
use ledger::{Account, Hold};
use serde::{Deserialize, Serialize};
use types::{AccountId, Hash};

/// Every error body: a stable code and a sentence for people.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// One transaction of a durable block and its receipt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CommittedTx {
    pub hash: Hash,
    pub index: u32,
    /// `ok` or the rejection code.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What the node stores and announces for each durable block.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredOutcome {
    pub height: u64,
    pub block_hash: Hash,
    pub state_root: Hash,
    pub txs: Vec<CommittedTx>,
    pub events: Vec<EventRecord>,
}

impl StoredOutcome {
    pub fn new(out: &BlockOutcome, hashes: &[Hash]) -> StoredOutcome {
        let txs = out
            .receipts
            .iter()
            .zip(hashes)
            .enumerate()
            .map(|(i, (r, h))| CommittedTx {
                hash: *h,
                index: i as u32,
                code: r.code().to_string(),
                message: r.result.as_ref().err().map(|e| e.to_string()),
            })
            .collect();
        StoredOutcome {
            height: out.height.0,
            block_hash: out.block_hash,
            state_root: out.state_root,
            txs,
            events: out.events.clone(),
        }
    }

    /// The receipt of transaction `index`, with its events.
    pub fn receipt(&self, index: u32) -> Option<TxReceiptView> {
        let tx = self.txs.get(index as usize)?;
        Some(TxReceiptView {
            hash: tx.hash,
            status: "committed".into(),
            height: Some(self.height),
            index: Some(tx.index),
            code: Some(tx.code.clone()),
            message: tx.message.clone(),
            events: self.events.iter().filter(|e| e.tx == Some(index)).cloned().collect(),
        })
    }
}

/// A transaction's status: `committed` (with its receipt) or `pending` (in the mempool).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TxReceiptView {
    pub hash: Hash,
    pub status: String,
    pub height: Option<u64>,
    pub index: Option<u32>,
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub events: Vec<EventRecord>,
}

/// The answer for one submitted transaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SubmitResult {
    pub hash: Hash,
    /// `accepted` (new in the mempool), `duplicate` (already waiting), `refused`, or with
    /// `?wait=commit`: `committed` or `pending` (not committed before the wait ended).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<TxReceiptView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountView {
    pub id: AccountId,
    /// free, held, bonded, unbonding, nonce and unbonding chunks, at the top level of the JSON.
    #[serde(flatten)]
    pub account: Account,
    /// Open holds this account pays.
    pub holds: Vec<Hold>,
    /// The height these figures are at.
    pub height: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlockView {
    pub height: u64,
    pub hash: Hash,
    pub parent_hash: Hash,
    pub state_root: Hash,
    pub txs: Vec<BlockTxView>,
    pub events: Vec<EventRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlockTxView {
    pub hash: Hash,
    pub code: String,
    pub tx: SignedTx,
}

/// A training job as the API shows it: the engine's record plus what its escrow holds now and what the
/// query client still has to stake.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobView {
    #[serde(flatten)]
    pub job: engine::Job,
    /// StakeIn plus deposits still held; zero once the job settled.
    pub escrow: types::Amount,
    /// What `job query` must stake now (zero once dispatched).
    pub due: types::Amount,
    pub height: u64,
}
