//! Blocks, receipts and outcomes: what a block carries and what applying it produced.

use crate::{Event, Rejection, SignedTx};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use types::{AccountId, Hash, Height};

/// A block: the transactions applied at `height` on top of `parent_hash`, and the state root after them.
#[derive(
    Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Block {
    pub height: Height,
    pub parent_hash: Hash,
    pub txs: Vec<SignedTx>,
    pub state_root: Hash,
    /// The consensus key of the validator that proposed it (the view's leader; the bft application refuses
    /// a block naming anyone else). `None`: a single node's sequencer, or a simulator block without a
    /// validator set. An elected proposer is paid `validator_block_reward`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposer: Option<AccountId>,
}

const BLOCK_DOMAIN: &[u8] = b"stakework/block/v1";

impl Block {
    /// blake3 over the header and all transactions in canonical encoding. The block is encoded into one
    /// buffer first: a single large `update` is several times faster than many field-sized ones.
    pub fn hash(&self) -> Hash {
        let mut buf = Vec::with_capacity(BLOCK_DOMAIN.len() + 64 + self.txs.len() * 192);
        Block::encode_prefix(self.height, self.parent_hash, &self.txs, &mut buf);
        Block::hash_with_root(&mut buf, self.state_root, self.proposer)
    }

    /// The hashed bytes up to the state root (domain ‖ borsh of height, parent and transactions). The producer encodes it while the block executes.
    pub fn encode_prefix(height: Height, parent: Hash, txs: &[SignedTx], buf: &mut Vec<u8>) {
        let ok = "writing to a Vec cannot fail";
        buf.extend_from_slice(BLOCK_DOMAIN);
        borsh::to_writer(&mut *buf, &height).expect(ok);
        borsh::to_writer(&mut *buf, &parent).expect(ok);
        borsh::to_writer(&mut *buf, txs).expect(ok);
    }

    /// Finish [`Block::encode_prefix`]'s bytes with the state root and, when the block names one, the
    /// proposer (`borsh(Some(key))`), and hash them. A block without a proposer hashes exactly as blocks
    /// did before proposers existed; the bytes stay unambiguous (everything before is self-delimiting).
    pub fn hash_with_root(buf: &mut Vec<u8>, state_root: Hash, proposer: Option<AccountId>) -> Hash {
        borsh::to_writer(&mut *buf, &state_root).expect("writing to a Vec cannot fail");
        if proposer.is_some() {
            borsh::to_writer(&mut *buf, &proposer).expect("writing to a Vec cannot fail");
        }
        types::hash_bytes(buf)
    }
}

/// The result of one transaction: applied, or rejected with a stable code (and no effect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub result: Result<(), Rejection>,
}

impl Receipt {
    pub fn code(&self) -> &'static str {
        match &self.result {
            Ok(()) => "ok",
            Err(r) => r.code(),
        }
    }
}

/// An event and where it came from: transaction `tx` of the block, or the end-of-block step (`None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventRecord {
    pub tx: Option<u32>,
    #[serde(flatten)]
    pub event: Event,
}

/// What applying a block produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    pub height: Height,
    pub block_hash: Hash,
    pub state_root: Hash,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
    pub events: Vec<EventRecord>,
}

/// Why a whole block was refused. Structural errors leave the engine untouched; a state-root mismatch is
/// found only after execution, and the engine must then be discarded (the block log is corrupt or the
/// rules differ).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("block height {got} does not follow {current}")]
    WrongHeight { current: Height, got: Height },
    #[error("block parent {got} is not the last block {expected}")]
    WrongParent { expected: Hash, got: Hash },
    #[error("block carries {got} transactions, the limit is {max}")]
    TooManyTxs { max: u32, got: usize },
    #[error("signature check covers {got} transactions, the block has {expected}")]
    SignatureCheckMismatch { expected: usize, got: usize },
    #[error("state root after block {height} is {computed}, the block says {claimed}")]
    StateRootMismatch { height: Height, computed: Hash, claimed: Hash },
    /// Governance scheduled a protocol version this binary does not implement at this block: it must not
    /// execute the block under the old rules.
    #[error(
        "protocol version {version} scheduled at height {height} is not supported by this binary (supports up to \
         {max}); upgrade stakework"
    )]
    UnsupportedProtocolVersion { version: u32, height: Height, max: u32 },
}

impl BlockError {
    pub fn code(&self) -> &'static str {
        match self {
            BlockError::WrongHeight { .. } => "wrong_height",
            BlockError::WrongParent { .. } => "wrong_parent",
            BlockError::TooManyTxs { .. } => "too_many_txs",
            BlockError::SignatureCheckMismatch { .. } => "signature_check_mismatch",
            BlockError::StateRootMismatch { .. } => "state_root_mismatch",
            BlockError::UnsupportedProtocolVersion { .. } => "unsupported_protocol_version",
        }
    }
}
