//! The engine: its state, block production and replay, transaction dispatch, the end-of-block step, the
//! state root over the block's write set, and snapshots.

use crate::epoch::EpochState;
use crate::governance::GovernanceState;
use crate::jobs::JobsState;
use crate::market::MarketState;
use crate::pouw::PouwState;
use crate::routers::RouterState;
use crate::sig::{verify_signatures, SignatureCheck};
use crate::{Event, Genesis, GenesisError, Params, Rejection};
use crate::{Ledger, LedgerSnapshot};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::{HoldId, LedgerError};
use protocol::block::{Block, BlockError, BlockOutcome, EventRecord, Receipt};
use protocol::tx::{Call, SignedTx};
use protocol::{HoldOwner, HoldReason, HoldTag};
use std::collections::BTreeSet;
use types::{AccountId, Amount, Hash, Height, JobId};

mod ctx;
mod deadlines;
mod dispatch;
mod fork;
mod queries;
mod root;
mod snapshot;

pub(crate) use ctx::Ctx;
pub(crate) use fork::overlay_maps;

pub use fork::ForkError;

/// Name of the system account that receives fees (see `AccountId::system`).
pub const TREASURY_NAME: &str = "treasury";

pub use protocol::params::PROTOCOL_VERSION_MAX;

const STATE_DOMAIN: &[u8] = b"stakework/state/v1";
/// Blocks with at least this many transactions are encoded for their hash while they execute.
const PARALLEL_HASH_MIN_TXS: usize = 4_096;
/// Write sets at least this big are encoded on two threads.
const PARALLEL_ROOT_MIN: usize = 4_096;

/// Something due at a height. The end-of-block step processes due deadlines in (height, deadline) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub enum Deadline {
    /// Unbonding chunks of this account mature.
    UnbondMaturity(AccountId),
    /// This hold expires (voids back to its payer).
    HoldExpiry(HoldId),
    /// This request was not completed in time: refund the client.
    RequestExpiry(u64),
    /// This completed request's rating window is long closed: forget it.
    RequestClose(u64),
    /// This proposal's voting ends: tally.
    ProposalEnd(u64),
    /// No oracle advanced task (id) at stage (n) in time: the engine advances it.
    TaskAuto(u64, u32),
    /// A finished task is forgotten.
    TaskClose(u64),
    /// A training job not dispatched by now lapses (everything returned).
    JobLapse(JobId),
    /// A settled job is forgotten.
    JobClose(JobId),
    /// A dispatched training job's maximum duration passed: it settles by its recorded progress.
    JobExpiry(JobId),
    /// A non-compliance report's dispute window closed: unless overturned, the report settles the job.
    JobDisputeEnd(JobId),
}

/// Engine state outside the ledger, as recorded in a block's write set (ordered for canonical roots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub(crate) enum EngineKey {
    Params,
    Counters,
    Node(AccountId),
    Service(u32),
    Request(u64),
    Reputation(AccountId),
    EpochWork(AccountId),
    Proposal(u64),
    Task(u64),
    Selected(AccountId),
    Job(JobId),
    Points(AccountId),
    LastPoints,
    Lists(AccountId),
    Attachment(AccountId),
    RouterReport(AccountId),
    TrafficClaim(AccountId),
    RouterAccepted(AccountId),
    RouterRoster(AccountId),
    RouterEvidence(AccountId),
    VoteLock(AccountId),
    TreasuryFloor,
    Nominations(AccountId),
    NominatedOut(AccountId),
    Commission(AccountId),
    Upgrade,
    Candidate(AccountId),
    ValidatorSet(u64),
    Equivocation(AccountId, u64),
}

/// Engine keys changed in this block: appended as they change (cheap), sorted and deduplicated once
/// for the state root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dirty(Vec<EngineKey>);

impl Dirty {
    pub(crate) fn insert(&mut self, key: EngineKey) {
        self.0.push(key);
    }
    fn take_sorted(&mut self) -> Vec<EngineKey> {
        let mut keys = std::mem::take(&mut self.0);
        keys.sort_unstable();
        keys.dedup();
        keys
    }
    fn recycle(&mut self, mut keys: Vec<EngineKey>) {
        if self.0.is_empty() {
            keys.clear();
            self.0 = keys;
        }
    }
}

/// The engine's state in canonical form: what a snapshot stores.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
struct EngineSnapshot {
    params: Params,
    height: Height,
    last_block_hash: Hash,
    state_root: Hash,
    deadlines: Vec<(Height, Deadline)>,
    ledger: LedgerSnapshot,
    market: MarketState,
    governance: GovernanceState,
    pouw: PouwState,
    jobs: JobsState,
    epoch: EpochState,
    routers: RouterState,
}

const SNAPSHOT_MAGIC: &[u8; 8] = b"SWKSNAP1";

/// Why a snapshot could not be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a stakework snapshot (bad magic or checksum)")]
    Corrupt,
    #[error("snapshot does not decode: {0}")]
    Decode(String),
    #[error("snapshot breaks a ledger invariant: {0}")]
    Invariant(#[from] ledger::InvariantViolation),
    #[error("snapshot deadlines do not match its holds and unbonding chunks")]
    Deadlines,
}

/// The whole protocol state and the rules that change it.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) params: Params,
    pub(crate) treasury: AccountId,
    pub(crate) ledger: Ledger,
    pub(crate) height: Height,
    pub(crate) last_block_hash: Hash,
    state_root: Hash,
    pub(crate) deadlines: deadlines::Deadlines,
    pub(crate) m: MarketState,
    pub(crate) g: GovernanceState,
    pub(crate) p: PouwState,
    pub(crate) j: JobsState,
    pub(crate) e: EpochState,
    pub(crate) r: RouterState,
    /// Engine state (outside the ledger) changed in this block, for the state root.
    pub(crate) dirty: Dirty,
    /// Vectors of a block outcome given back with [`Engine::recycle`], reused by the next block (not state).
    spare: (Vec<Receipt>, Vec<EventRecord>),
    /// The block hash's scratch buffer (not state).
    block_buf: Vec<u8>,
    /// The state root's scratch buffers (not state).
    root_bufs: [Vec<u8>; 2],
    /// Derived selection index (not state; see `draw`).
    pub(crate) draw: crate::draw::DrawIndex,
    /// The head this state was forked from, if it is a fork (not state; see [`Engine::fork`]).
    forked_at: Option<(Height, Hash)>,
    /// The newest protocol version this node will execute (not state; [`Engine::set_max_protocol_version`]).
    max_protocol_version: u32,
}

impl Engine {
    /// Build the state at height 0 from a genesis document (validated again here).
    pub fn from_genesis(genesis: &Genesis) -> Result<Engine, GenesisError> {
        genesis.validate()?;
        let mut ledger = Ledger::new();
        for (i, a) in genesis.accounts.iter().enumerate() {
            ledger
                .add_genesis_account(a.id, a.free, a.bonded)
                .map_err(|e| GenesisError::Invalid { field: format!("accounts[{i}]"), message: e.to_string() })?;
        }
        let params = genesis.params.clone();
        let mut engine = Engine {
            treasury: AccountId::system(TREASURY_NAME),
            params,
            ledger,
            height: Height::GENESIS,
            last_block_hash: Hash::ZERO,
            state_root: Hash::ZERO,
            deadlines: Default::default(),
            m: MarketState::new(),
            g: GovernanceState::new(),
            p: PouwState::new(),
            j: JobsState::default(),
            e: EpochState::default(),
            r: RouterState::default(),
            dirty: Dirty::default(),
            root_bufs: Default::default(),
            spare: Default::default(),
            block_buf: Vec::new(),
            draw: Default::default(),
            forked_at: None,
            max_protocol_version: PROTOCOL_VERSION_MAX,
        };
        for (i, s) in genesis.services.iter().enumerate() {
            let mut none = Vec::new();
            let (mut ctx, states) = engine.split(&mut none, None);
            crate::market::add_service(
                &mut ctx,
                states.m,
                &s.name,
                (s.weight, s.price),
                (s.poi_threshold, s.semantic_poi),
            )
            .map_err(|e| GenesisError::Invalid { field: format!("services[{i}]"), message: e.to_string() })?;
        }
        let mut none = Vec::new();
        let (mut ctx, states) = engine.split(&mut none, None);
        crate::epoch::set_treasury_floor(&mut ctx, states.e);
        let candidates = genesis.validators.iter().map(|v| protocol::validators::Candidate {
            key: v.key,
            account: v.account,
            p2p: v.p2p.clone(),
            chilled: false,
        });
        crate::validators::init(&mut ctx, states.m, candidates.collect());
        engine.state_root = engine.compute_root(Height::GENESIS, true);
        let genesis_block = Block {
            height: Height::GENESIS,
            parent_hash: Hash::ZERO,
            txs: Vec::new(),
            state_root: engine.state_root,
            proposer: None,
        };
        engine.last_block_hash = genesis_block.hash();
        Ok(engine)
    }

    pub fn params(&self) -> &Params {
        &self.params
    }
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    pub fn height(&self) -> Height {
        self.height
    }
    pub fn state_root(&self) -> Hash {
        self.state_root
    }
    pub fn last_block_hash(&self) -> Hash {
        self.last_block_hash
    }
    pub fn treasury(&self) -> AccountId {
        self.treasury
    }
    /// Execute protocol versions up to `max` only, as a binary that implements no later version would
    /// (upgrade rehearsals: `stakework node --max-protocol-version`). At most [`PROTOCOL_VERSION_MAX`] and
    /// at least the version in force. Not state: forks inherit it, snapshots do not record it.
    pub fn set_max_protocol_version(&mut self, max: u32) -> Result<(), String> {
        if max > PROTOCOL_VERSION_MAX || max < self.params.protocol_version {
            return Err(format!(
                "must be between the version in force ({}) and this binary's newest ({PROTOCOL_VERSION_MAX})",
                self.params.protocol_version
            ));
        }
        self.max_protocol_version = max;
        Ok(())
    }
    /// The newest protocol version this engine executes.
    pub fn max_protocol_version(&self) -> u32 {
        self.max_protocol_version
    }
    /// Pending deadlines in the order they will be processed.
    pub fn deadlines(&self) -> impl Iterator<Item = &(Height, Deadline)> {
        self.deadlines.iter()
    }
    /// Every ledger invariant; the engine also asserts this after each block in debug builds.
    pub fn check_invariants(&self) -> Result<(), ledger::InvariantViolation> {
        self.ledger.check_invariants()
    }

    /// Seal the next block from `txs` (the sequencer's path): execute, then record the resulting root.
    pub fn produce_block(
        &mut self,
        txs: Vec<SignedTx>,
        sigs: &SignatureCheck,
    ) -> Result<(Block, BlockOutcome), BlockError> {
        self.produce_block_by(None, txs, sigs)
    }

    /// As [`Engine::produce_block`], for a block `proposer` (a validator's consensus key) builds: an elected
    /// proposer is paid the block's validator reward.
    pub fn produce_block_by(
        &mut self,
        proposer: Option<AccountId>,
        txs: Vec<SignedTx>,
        sigs: &SignatureCheck,
    ) -> Result<(Block, BlockOutcome), BlockError> {
        let height = self.height.next();
        let parent = self.last_block_hash;
        self.check_shape(height, parent, txs.len(), sigs)?;
        // Big blocks: encode the block's bytes for its hash on a second thread while it executes.
        let mut buf = std::mem::take(&mut self.block_buf);
        buf.clear();
        let (receipts, events) = if txs.len() >= PARALLEL_HASH_MIN_TXS {
            std::thread::scope(|s| {
                let encoding = s.spawn(|| Block::encode_prefix(height, parent, &txs, &mut buf));
                let executed = self.execute(height, &txs, sigs, proposer);
                encoding.join().expect("encoding cannot panic");
                executed
            })
        } else {
            Block::encode_prefix(height, parent, &txs, &mut buf);
            self.execute(height, &txs, sigs, proposer)
        };
        let block_hash = Block::hash_with_root(&mut buf, self.state_root, proposer);
        buf.clear();
        self.block_buf = buf;
        let block = Block { height, parent_hash: parent, txs, state_root: self.state_root, proposer };
        debug_assert_eq!(block_hash, block.hash(), "the streamed block hash is the block's hash");
        self.last_block_hash = block_hash;
        let outcome = BlockOutcome { height, block_hash, state_root: self.state_root, receipts, events };
        Ok((block, outcome))
    }

    /// Give a processed outcome's vectors back for the next block to reuse (optional: a producer of many
    /// big blocks, like the simulator, saves the page faults of fresh multi-megabyte vectors).
    pub fn recycle(&mut self, outcome: BlockOutcome) {
        let (mut receipts, mut events) = (outcome.receipts, outcome.events);
        receipts.clear();
        events.clear();
        if receipts.capacity() > self.spare.0.capacity() {
            self.spare.0 = receipts;
        }
        if events.capacity() > self.spare.1.capacity() {
            self.spare.1 = events;
        }
    }

    /// Apply a block someone else produced (replay, recovery): check its signatures, execute it and
    /// require the state root it claims.
    pub fn apply_block(&mut self, block: &Block) -> Result<BlockOutcome, BlockError> {
        // Refuse an oversized block before spending CPU on its signatures.
        let unchecked = SignatureCheck::trusted_all_valid(block.txs.len());
        self.check_shape(block.height, block.parent_hash, block.txs.len(), &unchecked)?;
        let sigs = verify_signatures(&block.txs, &self.params.chain_id);
        self.apply_block_preverified(block, &sigs)
    }

    /// As [`Engine::apply_block`], trusting the signatures of the transactions marked `true` in `checked`
    /// (this node checked each with `verify_strict` when it admitted it; see
    /// [`crate::sig::verify_signatures_except`]). A validator verifying a proposal uses it so that it
    /// checks each signature once, not once at its door and again in the block.
    pub fn apply_block_checked(&mut self, block: &Block, checked: &[bool]) -> Result<BlockOutcome, BlockError> {
        let unchecked = SignatureCheck::trusted_all_valid(block.txs.len());
        self.check_shape(block.height, block.parent_hash, block.txs.len(), &unchecked)?;
        let sigs = crate::sig::verify_signatures_except(&block.txs, &self.params.chain_id, checked);
        self.apply_block_preverified(block, &sigs)
    }

    /// As [`Engine::apply_block`], with signatures already checked by [`verify_signatures`].
    pub fn apply_block_preverified(
        &mut self,
        block: &Block,
        sigs: &SignatureCheck,
    ) -> Result<BlockOutcome, BlockError> {
        self.check_shape(block.height, block.parent_hash, block.txs.len(), sigs)?;
        let (receipts, events) = self.execute(block.height, &block.txs, sigs, block.proposer);
        if self.state_root != block.state_root {
            return Err(BlockError::StateRootMismatch {
                height: block.height,
                computed: self.state_root,
                claimed: block.state_root,
            });
        }
        let block_hash = block.hash();
        self.last_block_hash = block_hash;
        Ok(BlockOutcome { height: block.height, block_hash, state_root: self.state_root, receipts, events })
    }

    fn check_shape(&self, height: Height, parent: Hash, n: usize, sigs: &SignatureCheck) -> Result<(), BlockError> {
        if height != self.height.next() {
            return Err(BlockError::WrongHeight { current: self.height, got: height });
        }
        if parent != self.last_block_hash {
            return Err(BlockError::WrongParent { expected: self.last_block_hash, got: parent });
        }
        if n > self.params.max_block_txs as usize {
            return Err(BlockError::TooManyTxs { max: self.params.max_block_txs, got: n });
        }
        if sigs.len() != n {
            return Err(BlockError::SignatureCheckMismatch { expected: n, got: sigs.len() });
        }
        // Never execute a block under rules older than the ones governance scheduled for it.
        if let Some(u) = self.g.upgrade().filter(|u| u.height == height && u.version > self.max_protocol_version) {
            return Err(BlockError::UnsupportedProtocolVersion {
                version: u.version,
                height,
                max: self.max_protocol_version,
            });
        }
        Ok(())
    }

    fn execute(
        &mut self,
        height: Height,
        txs: &[SignedTx],
        sigs: &SignatureCheck,
        proposer: Option<AccountId>,
    ) -> (Vec<Receipt>, Vec<EventRecord>) {
        self.height = height;
        let (mut receipts, mut events) = std::mem::take(&mut self.spare);
        receipts.clear();
        events.clear();
        receipts.reserve(txs.len());
        events.reserve(txs.len());
        self.begin_block(height, &mut events);
        for (i, tx) in txs.iter().enumerate() {
            let result =
                if sigs.is_valid(i) { self.apply_tx(tx, i as u32, &mut events) } else { Err(Rejection::BadSignature) };
            receipts.push(Receipt { result });
        }
        self.end_block(height, &mut events);
        let (mut ctx, s) = self.split(&mut events, None);
        crate::validators::reward_proposer(&mut ctx, s.m, height, proposer);
        crate::validators::maybe_elect(&mut ctx, s.m, height);
        self.state_root = self.compute_root(height, false);
        self.flatten();
        #[cfg(debug_assertions)]
        {
            if let Err(v) = self.ledger.check_invariants() {
                panic!("ledger invariant broken after block {height}: {v}");
            }
            self.draw.check(&self.m, &self.ledger, &self.params);
        }
        (receipts, events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GenesisAccount, TxBody};
    use ed25519_dalek::SigningKey;

    /// A transfer that credits without debiting (a planted bug) must be caught by the conservation
    /// check that runs after every block (in debug builds, which is how tests run).
    #[cfg(debug_assertions)]
    #[test]
    fn conservation_check_catches_a_transfer_that_credits_without_debiting() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let alice = AccountId(key.verifying_key().to_bytes());
        let genesis = Genesis {
            services: Vec::new(),
            validators: Vec::new(),
            params: Params::default(),
            accounts: vec![GenesisAccount { id: alice, name: None, free: Amount(1_000_000), bonded: Amount::ZERO }],
        };
        let mut engine = Engine::from_genesis(&genesis).expect("genesis");
        let tx = TxBody {
            signer: alice,
            nonce: 0,
            fee: Amount(1_000),
            call: Call::Transfer { to: AccountId([2; 32]), amount: Amount(5) },
        }
        .sign(&key, &genesis.params.chain_id);
        engine.ledger.inject_fault(Some(ledger::Fault::CreditWithoutDebit));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.produce_block(vec![tx], &SignatureCheck::trusted_all_valid(1))
        }));
        let panic = result.expect_err("the debug invariant check must stop the block");
        let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("conservation broken"), "unexpected panic: {msg}");
        let violation = engine.check_invariants().expect_err("the state is corrupt");
        assert!(matches!(violation, ledger::InvariantViolation::Conservation { .. }), "{violation}");
    }
}
