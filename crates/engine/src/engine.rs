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

/// Name of the system account that receives fees (see `AccountId::system`).
pub const TREASURY_NAME: &str = "treasury";

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
}

/// Engine keys changed in this block: appended as they change (cheap), sorted and deduplicated once
/// for the state root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dirty(Vec<EngineKey>);

impl Dirty {
    pub(crate) fn insert(&mut self, key: EngineKey) {
        self.0.push(key);
    }
    pub(crate) fn extend(&mut self, keys: impl IntoIterator<Item = EngineKey>) {
        self.0.extend(keys);
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
    pub(crate) deadlines: BTreeSet<(Height, Deadline)>,
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
            deadlines: BTreeSet::new(),
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
        };
        for (i, s) in genesis.services.iter().enumerate() {
            engine
                .add_service(&s.name, s.weight, s.price, s.poi_threshold)
                .map_err(|e| GenesisError::Invalid { field: format!("services[{i}]"), message: e.to_string() })?;
        }
        engine.state_root = engine.compute_root(Height::GENESIS, true);
        let genesis_block =
            Block { height: Height::GENESIS, parent_hash: Hash::ZERO, txs: Vec::new(), state_root: engine.state_root };
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
    /// Pending deadlines in the order they will be processed.
    pub fn deadlines(&self) -> impl Iterator<Item = &(Height, Deadline)> {
        self.deadlines.iter()
    }
    /// Every ledger invariant; the engine also asserts this after each block in debug builds.
    pub fn check_invariants(&self) -> Result<(), ledger::InvariantViolation> {
        self.ledger.check_invariants()
    }

    /// The whole state as bytes: magic ‖ blake3 checksum ‖ borsh(state). Restored by [`Engine::restore`].
    pub fn snapshot(&self) -> Vec<u8> {
        let snap = EngineSnapshot {
            params: self.params.clone(),
            height: self.height,
            last_block_hash: self.last_block_hash,
            state_root: self.state_root,
            deadlines: self.deadlines.iter().copied().collect(),
            ledger: self.ledger.snapshot(),
            market: self.m.clone(),
            governance: self.g.clone(),
            pouw: self.p.clone(),
            jobs: self.j.clone(),
            epoch: self.e.clone(),
            routers: self.r.clone(),
        };
        let body = types::encode(&snap);
        let mut out = Vec::with_capacity(body.len() + 40);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.extend_from_slice(&types::hash_bytes(&body).0);
        out.extend_from_slice(&body);
        out
    }

    /// Rebuild an engine from [`Engine::snapshot`] bytes, checking the checksum, every ledger invariant and
    /// that the deadline queue is exactly the one the holds and unbonding chunks imply.
    pub fn restore(bytes: &[u8]) -> Result<Engine, SnapshotError> {
        if bytes.len() < 40 || &bytes[..8] != SNAPSHOT_MAGIC || types::hash_bytes(&bytes[40..]).0[..] != bytes[8..40] {
            return Err(SnapshotError::Corrupt);
        }
        let snap: EngineSnapshot = borsh::from_slice(&bytes[40..]).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        let deadlines: BTreeSet<(Height, Deadline)> = snap.deadlines.into_iter().collect();
        let mut implied = BTreeSet::new();
        for h in &snap.ledger.holds {
            if let Some(at) = h.expires_at {
                implied.insert((at, Deadline::HoldExpiry(h.id)));
            }
        }
        for (id, a) in &snap.ledger.accounts {
            for c in &a.unbonding_chunks {
                implied.insert((c.matures_at, Deadline::UnbondMaturity(*id)));
            }
        }
        for r in snap.market.requests.values() {
            if r.status == crate::market::RequestStatus::Assigned {
                implied.insert((r.expires_at, Deadline::RequestExpiry(r.id)));
            }
        }
        for p in snap.governance.proposals.values() {
            if p.status == crate::governance::ProposalStatus::Open {
                implied.insert((p.voting_ends, Deadline::ProposalEnd(p.id)));
            }
        }
        for j in snap.jobs.jobs.values() {
            if j.phase == crate::jobs::JobPhase::Ordered {
                implied.insert((j.dispatch_by, Deadline::JobLapse(j.id)));
            }
        }
        // Maturity entries may outlive a slashed chunk (they then release nothing) and closing a completed
        // request is housekeeping, so the queue must contain every implied deadline and only those besides.
        let extra_ok = deadlines.difference(&implied).all(|(_, d)| {
            matches!(
                d,
                Deadline::UnbondMaturity(_)
                    | Deadline::RequestClose(_)
                    | Deadline::TaskAuto(..)
                    | Deadline::TaskClose(_)
                    | Deadline::JobClose(_)
            )
        });
        if !implied.is_subset(&deadlines) || !extra_ok {
            return Err(SnapshotError::Deadlines);
        }
        Ok(Engine {
            treasury: AccountId::system(TREASURY_NAME),
            params: snap.params,
            ledger: Ledger::from_snapshot(snap.ledger)?,
            height: snap.height,
            last_block_hash: snap.last_block_hash,
            state_root: snap.state_root,
            deadlines,
            m: snap.market,
            g: snap.governance,
            p: snap.pouw,
            j: snap.jobs,
            e: snap.epoch,
            r: snap.routers,
            dirty: Dirty::default(),
            root_bufs: Default::default(),
            spare: Default::default(),
            block_buf: Vec::new(),
            draw: Default::default(),
        })
    }

    /// Seal the next block from `txs` (the sequencer's path): execute, then record the resulting root.
    pub fn produce_block(
        &mut self,
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
                let executed = self.execute(height, &txs, sigs);
                encoding.join().expect("encoding cannot panic");
                executed
            })
        } else {
            Block::encode_prefix(height, parent, &txs, &mut buf);
            self.execute(height, &txs, sigs)
        };
        let block_hash = Block::hash_with_root(&mut buf, self.state_root);
        self.block_buf = buf;
        let block = Block { height, parent_hash: parent, txs, state_root: self.state_root };
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

    /// As [`Engine::apply_block`], with signatures already checked by [`verify_signatures`].
    pub fn apply_block_preverified(
        &mut self,
        block: &Block,
        sigs: &SignatureCheck,
    ) -> Result<BlockOutcome, BlockError> {
        self.check_shape(block.height, block.parent_hash, block.txs.len(), sigs)?;
        let (receipts, events) = self.execute(block.height, &block.txs, sigs);
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
        Ok(())
    }

    fn execute(&mut self, height: Height, txs: &[SignedTx], sigs: &SignatureCheck) -> (Vec<Receipt>, Vec<EventRecord>) {
        self.height = height;
        let (mut receipts, mut events) = std::mem::take(&mut self.spare);
        receipts.clear();
        events.clear();
        receipts.reserve(txs.len());
        events.reserve(txs.len());
        for (i, tx) in txs.iter().enumerate() {
            let result =
                if sigs.is_valid(i) { self.apply_tx(tx, i as u32, &mut events) } else { Err(Rejection::BadSignature) };
            receipts.push(Receipt { result });
        }
        self.end_block(height, &mut events);
        self.state_root = self.compute_root(height, false);
        #[cfg(debug_assertions)]
        {
            if let Err(v) = self.ledger.check_invariants() {
                panic!("ledger invariant broken after block {height}: {v}");
            }
            self.check_draw_index();
        }
        (receipts, events)
    }

    /// One transaction: read-only checks, then the call (all-or-nothing), then fee and nonce.
    fn apply_tx(&mut self, tx: &SignedTx, index: u32, events: &mut Vec<EventRecord>) -> Result<(), Rejection> {
        let b = &tx.body;
        if b.fee < self.params.min_fee {
            return Err(Rejection::FeeTooLow { min: self.params.min_fee, got: b.fee });
        }
        let expected = self.ledger.nonce(&b.signer);
        if b.nonce != expected {
            return Err(Rejection::BadNonce { expected, got: b.nonce });
        }
        let needed = b.fee.checked_add(b.call.free_needed()).ok_or(LedgerError::AmountOverflow)?;
        let available = self.ledger.free(&b.signer);
        if available < needed {
            return Err(LedgerError::InsufficientFunds { account: b.signer, needed, available }.into());
        }
        self.apply_call(b.signer, &b.call, index, events)?;
        // After this point the command must succeed: the call moved at most `needed - fee` out of free.
        if !b.fee.is_zero() {
            self.ledger.transfer(b.signer, self.treasury, b.fee).expect("free >= fee was checked before the call");
        }
        self.ledger.bump_nonce(b.signer);
        Ok(())
    }

    fn apply_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        index: u32,
        events: &mut Vec<EventRecord>,
    ) -> Result<(), Rejection> {
        let tx = Some(index);
        let event = match call {
            Call::Transfer { .. }
            | Call::Bond { .. }
            | Call::Unbond { .. }
            | Call::HoldCreate { .. }
            | Call::HoldPost { .. }
            | Call::HoldVoid { .. } => self.apply_ledger_call(signer, call)?,
            Call::RegisterNode { roles, services, capacity, endpoint } => {
                self.register_node(signer, roles, services, *capacity, endpoint)?
            }
            Call::DeregisterNode => self.deregister_node(signer)?,
            Call::ReportStatus { status } => self.report_status(signer, *status)?,
            Call::SubmitRequest { service, max_price, avoid } => {
                self.submit_request(signer, *service, *max_price, avoid)?
            }
            Call::CompleteRequest { request, result_hash } => self.complete_request(signer, *request, *result_hash)?,
            Call::RateRequest { request, rating } => self.rate_request(signer, *request, *rating)?,
            Call::Propose { action } => self.propose(signer, action)?,
            Call::Vote { proposal, approve } => self.vote(signer, *proposal, *approve)?,
            Call::SubmitTask { service, redundancy, max_price, avoid } => {
                self.submit_task(signer, *service, *redundancy, *max_price, avoid)?
            }
            Call::PublishTaskSpec { task, spec } => self.publish_spec(signer, *task, spec)?,
            Call::PrepareTask { task, inputs } => self.prepare_task(signer, *task, inputs)?,
            Call::PrecommitOutput { task, commitment } => self.precommit_output(signer, *task, *commitment)?,
            Call::RevealOutput { task, output, salt } => self.reveal_output(signer, *task, output, *salt)?,
            Call::AdvanceTask { task } => self.oracle_advance(signer, *task, events, index)?,
            Call::AttestPoi { task, scores } => self.attest_poi(signer, *task, scores)?,
            // Job calls emit their own events, in order (a call may also dispatch or settle the job).
            Call::OrderJob { .. }
            | Call::SubmitJobQuery { .. }
            | Call::SelectMpcs { .. }
            | Call::AcceptJob { .. }
            | Call::PostJobStatus { .. }
            | Call::ReportJobFailure { .. }
            | Call::CancelJob { .. }
            | Call::ReplaceMpc { .. } => return self.apply_job_call(signer, call, events, index),
            Call::AttachRouter { router } => self.attach_router(signer, *router)?,
            Call::ReportRouterEpoch { epoch, validator_latency_ms, nodes } => {
                self.report_router_epoch(signer, *epoch, *validator_latency_ms, nodes)?
            }
            Call::ReportNodeTraffic { epoch, router, bytes } => {
                self.report_node_traffic(signer, *epoch, *router, *bytes)?
            }
            Call::PublishList { name, nodes } => self.publish_list(signer, name, nodes)?,
        };
        events.push(EventRecord { tx, event });
        Ok(())
    }

    /// The ledger's own calls: transfers, bonds, and holds a payer manages itself.
    fn apply_ledger_call(&mut self, signer: AccountId, call: &Call) -> Result<Event, Rejection> {
        Ok(match call {
            Call::Transfer { to, amount } => {
                if amount.is_zero() {
                    return Err(LedgerError::ZeroAmount.into());
                }
                self.ledger.transfer(signer, *to, *amount)?;
                Event::TransferPosted { from: signer, to: *to, amount: *amount }
            }
            Call::Bond { amount } => {
                self.ledger.bond(signer, *amount)?;
                self.reweigh(signer);
                Event::Bonded { account: signer, amount: *amount }
            }
            Call::Unbond { amount } => return self.unbond_call(signer, *amount),
            Call::HoldCreate { amount, expires_at } => {
                let owner = HoldOwner::Payment(signer);
                let hold = self.ledger.hold_create(
                    signer,
                    *amount,
                    HoldTag::new(owner, HoldReason::Escrow),
                    self.height,
                    *expires_at,
                )?;
                if let Some(at) = expires_at {
                    self.deadlines.insert((*at, Deadline::HoldExpiry(hold)));
                }
                Event::HoldCreated { hold, payer: signer, amount: *amount, expires_at: *expires_at }
            }
            Call::HoldPost { hold, payouts } => {
                if payouts.len() > self.params.max_payouts as usize {
                    return Err(Rejection::TooManyPayouts { max: self.params.max_payouts, got: payouts.len() });
                }
                let expires_at = self.own_hold(signer, *hold)?;
                self.ledger.hold_post(*hold, payouts)?;
                let remaining = self.ledger.hold(*hold).map_or(Amount::ZERO, |h| h.amount);
                if remaining.is_zero() {
                    self.forget_expiry(*hold, expires_at);
                }
                Event::HoldPosted { hold: *hold, payouts: payouts.clone(), remaining }
            }
            Call::HoldVoid { hold } => {
                let expires_at = self.own_hold(signer, *hold)?;
                let amount = self.ledger.hold_void(*hold)?;
                self.forget_expiry(*hold, expires_at);
                Event::HoldVoided { hold: *hold, payer: signer, amount }
            }
            other => unreachable!("apply_call routes only ledger calls here, not {other:?}"),
        })
    }

    /// Unbond `amount`: a registered node keeps at least its roles' minimum bonded.
    fn unbond_call(&mut self, signer: AccountId, amount: Amount) -> Result<Event, Rejection> {
        if let Some(node) = self.m.nodes.get(&signer) {
            let needed = self.stake_required(&node.roles);
            let remaining = Amount(self.ledger.bonded(&signer).0.saturating_sub(amount.0));
            if remaining < needed {
                return Err(Rejection::StakeBelowMinimum { needed, remaining });
            }
        }
        let matures_at = self.height.checked_add(self.params.unbonding_period).ok_or(LedgerError::AmountOverflow)?;
        self.ledger.unbond(signer, amount, self.height, matures_at, self.params.max_unbonding_chunks as usize)?;
        self.deadlines.insert((matures_at, Deadline::UnbondMaturity(signer)));
        self.reweigh(signer);
        Ok(Event::UnbondStarted { account: signer, amount, matures_at })
    }

    /// The training-job calls; each emits its own events, in order.
    fn apply_job_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        events: &mut Vec<EventRecord>,
        index: u32,
    ) -> Result<(), Rejection> {
        match call {
            Call::OrderJob { order } => self.order_job(signer, order, events, index),
            Call::SubmitJobQuery { job, amount } => self.submit_job_query(signer, *job, *amount, events, index),
            Call::SelectMpcs { job, mpcs } => self.select_mpcs(signer, *job, mpcs, events, index),
            Call::AcceptJob { job, deposit } => self.accept_job(signer, *job, *deposit, events, index),
            Call::PostJobStatus { job, status } => self.post_job_status(signer, *job, *status, events, index),
            Call::ReportJobFailure { job, offenders, fault } => {
                self.report_job_failure(signer, *job, offenders, *fault, events, index)
            }
            Call::CancelJob { job } => self.cancel_job(signer, *job, events, index),
            Call::ReplaceMpc { job, mpc, replacement } => {
                self.replace_mpc(signer, *job, *mpc, *replacement, events, index)
            }
            other => unreachable!("apply_call routes only job calls here, not {other:?}"),
        }
    }

    /// The hold's expiry, if `signer` created it with `HoldCreate`; otherwise the rejection. Holds the
    /// engine created for a request, task or job belong to that object: their payer may not post or void
    /// them directly, or it could take back a price the engine still has to pay out.
    fn own_hold(&self, signer: AccountId, id: HoldId) -> Result<Option<Height>, Rejection> {
        let hold = self.ledger.hold(id).ok_or(LedgerError::UnknownHold(id))?;
        if hold.tag.owner != HoldOwner::Payment(signer) {
            return Err(Rejection::NotAuthorized);
        }
        Ok(hold.expires_at)
    }

    fn forget_expiry(&mut self, id: HoldId, expires_at: Option<Height>) {
        if let Some(at) = expires_at {
            self.deadlines.remove(&(at, Deadline::HoldExpiry(id)));
        }
    }

    /// The end-of-block step: due deadlines in (height, id) order, then the epoch hook.
    fn end_block(&mut self, height: Height, events: &mut Vec<EventRecord>) {
        while let Some(&(at, deadline)) = self.deadlines.first() {
            if at > height {
                break;
            }
            self.deadlines.pop_first();
            match deadline {
                Deadline::UnbondMaturity(account) => {
                    let amount = self.ledger.mature_unbonding(account, height);
                    if !amount.is_zero() {
                        events.push(EventRecord { tx: None, event: Event::UnbondMatured { account, amount } });
                    }
                }
                Deadline::HoldExpiry(hold) => {
                    let payer =
                        self.ledger.hold(hold).expect("an expiry deadline is removed when its hold closes").payer;
                    let amount = self.ledger.hold_expire(hold, height).expect("the hold's expiry height has come");
                    events.push(EventRecord { tx: None, event: Event::HoldExpired { hold, payer, amount } });
                }
                Deadline::RequestExpiry(id) => self.expire_request(id, events),
                Deadline::RequestClose(id) => self.close_request(id),
                Deadline::ProposalEnd(id) => self.tally(id, events),
                Deadline::TaskAuto(id, stage) => self.auto_advance(id, stage, events),
                Deadline::TaskClose(id) => self.close_task(id),
                Deadline::JobLapse(id) => self.lapse_job(id, events),
                Deadline::JobClose(id) => self.close_job(id),
            }
        }
        self.book_block();
        self.maybe_create_background_task(events);
        if height.0 % self.params.epoch_length == 0 {
            self.on_epoch_end(height.0 / self.params.epoch_length, height, events);
        }
    }

    /// The epoch hook: miner rewards with the weights in force during the epoch, then the changes
    /// governance passed, which take effect from the next epoch. Emission and points (later) settle here.
    fn on_epoch_end(&mut self, epoch: u64, height: Height, events: &mut Vec<EventRecord>) {
        self.mint_emission(epoch, events);
        self.settle_miner_rewards(epoch, events);
        self.settle_points(epoch, events);
        self.settle_routers(epoch, height, events);
        self.sweep_pools(events);
        self.close_epoch_points(epoch, events);
        self.apply_passed_proposals(events);
        events.push(EventRecord { tx: None, event: Event::EpochEnded { epoch, height } });
    }

    /// Chain the previous root with this block's sorted write set: O(changes), not O(state). Big write
    /// sets are encoded in two parts on two threads (read-only over the state); hashing the parts in
    /// order gives exactly the bytes of one sequential encoding.
    fn compute_root(&mut self, height: Height, genesis: bool) -> Hash {
        let write_set = self.ledger.take_write_set();
        let dirty = self.dirty.take_sorted();
        // Buffers reused block after block (fresh ones of several MB per block cost page faults).
        let mut bufs = std::mem::take(&mut self.root_bufs);
        for b in &mut bufs {
            b.clear();
        }
        let [head, tail] = &mut bufs;
        head.extend_from_slice(STATE_DOMAIN);
        head.extend_from_slice(&self.state_root.0);
        head.extend_from_slice(&height.0.to_le_bytes());
        if genesis {
            borsh::to_writer(&mut *head, &self.params).expect("writing to a Vec cannot fail");
        }
        let this = &*self;
        let encode_ledger = |keys: &[ledger::StateKey], out: &mut Vec<u8>| {
            for key in keys {
                this.ledger.encode_entry(key, out);
            }
        };
        let encode_engine = |keys: &[EngineKey], out: &mut Vec<u8>| {
            for key in keys {
                this.encode_engine_entry(key, out);
            }
        };
        if write_set.len() + dirty.len() < PARALLEL_ROOT_MIN {
            encode_ledger(&write_set, head);
            encode_engine(&dirty, head);
        } else {
            // The ledger's entries and the first engine entries on one thread, the rest on this one (engine
            // entries, tasks above all, are the bigger part).
            let (first, rest) = dirty.split_at(dirty.len() / 3);
            std::thread::scope(|s| {
                let part = s.spawn(|| {
                    encode_ledger(&write_set, head);
                    encode_engine(first, head);
                });
                encode_engine(rest, tail);
                part.join().expect("encoding cannot panic");
            });
        }
        let mut h = blake3::Hasher::new();
        h.update(head);
        h.update(tail);
        let root = Hash(*h.finalize().as_bytes());
        self.root_bufs = bufs;
        self.ledger.recycle_write_set(write_set);
        self.dirty.recycle(dirty);
        root
    }

    /// `borsh(key) ‖ borsh(current value or None)` for an engine-level write-set entry.
    fn encode_engine_entry(&self, key: &EngineKey, out: &mut Vec<u8>) {
        let ok = "writing to a Vec cannot fail";
        borsh::to_writer(&mut *out, key).expect(ok);
        match key {
            EngineKey::Params => borsh::to_writer(out, &self.params),
            EngineKey::Counters => {
                let counters = (self.m.next_service, self.m.next_request, self.g.next_proposal, self.p.next_task);
                borsh::to_writer(out, &(counters, &self.g.pending))
            }
            EngineKey::Node(id) => borsh::to_writer(out, &self.m.nodes.get(id)),
            EngineKey::Service(id) => borsh::to_writer(out, &self.m.services.get(id)),
            EngineKey::Request(id) => borsh::to_writer(out, &self.m.requests.get(id)),
            EngineKey::Reputation(id) => borsh::to_writer(out, &self.m.reputation.get(id)),
            EngineKey::EpochWork(id) => borsh::to_writer(out, &self.m.epoch_work.get(id)),
            EngineKey::Proposal(id) => borsh::to_writer(out, &self.g.proposals.get(id)),
            EngineKey::Task(id) => borsh::to_writer(out, &self.p.tasks.get(id)),
            EngineKey::Selected(id) => borsh::to_writer(out, &self.p.last_selected.get(id)),
            EngineKey::Job(id) => borsh::to_writer(out, &self.j.jobs.get(id)),
            EngineKey::Points(id) => borsh::to_writer(out, &self.e.points.nodes.get(id)),
            EngineKey::LastPoints => borsh::to_writer(out, &(self.e.last_epoch, &self.e.last_points)),
            EngineKey::Lists(id) => borsh::to_writer(out, &self.e.lists.get(id)),
            EngineKey::Attachment(id) => borsh::to_writer(out, &self.r.attachments.get(id)),
            EngineKey::RouterReport(id) => borsh::to_writer(out, &self.r.reports.get(id)),
            EngineKey::TrafficClaim(id) => borsh::to_writer(out, &self.r.claims.get(id)),
        }
        .expect(ok);
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
