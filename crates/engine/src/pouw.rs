//! Proof of Useful Work (seed 001, Cortensor; DESIGN §5): the task state machine, commit–reveal, oracle
//! advances with reassignment and an oracle-less fallback, and Proof of Inference at the end.
//!
//! `Requested → Created → Prepared → Started → Precommitted → Committed → Ended`, or `Failed`; every legal
//! move is in [`transition`]. Participants act (the creator publishes the spec, the preparer the inputs, k
//! miners precommit `blake3(output ‖ salt)` and later reveal); state changes only when an oracle calls
//! `advance` and the engine agrees that every participant has acted or the state's deadline has passed. A
//! participant that missed a deadline is replaced (at most `max_reassignments` times), then the task fails.
//! The first valid advance of a state pays the oracle `oracle_fee`; if no oracle advances within
//! `oracle_grace` blocks of the task becoming advanceable, the end-of-block step advances it. At Committed,
//! the revealed outputs are embedded (integer n-gram embedder) and each scored by its median similarity to
//! the others: a strict majority at the service's `poi_threshold` succeeds, outliers fail, and with no such
//! majority the task fails without blaming anyone. Outcomes are network ratings, and events for epoch points.
//! User tasks hold `price × k` from the client; background tasks are created when miners are idle and paid
//! from the background pool; their work counts at `background_weight` in epoch rewards.

use crate::draw::DrawIndex;
use crate::engine::{overlay_maps, Ctx, Deadline, EngineKey};
use crate::epoch::EpochState;
use crate::market::{self, MarketState};
use crate::{Event, Ledger, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use embed::{echoes, poi_verdict, verdict_from_scores, weighted_median, Embedder, NgramEmbedder};
use ledger::LedgerError;
use protocol::{HoldOwner, HoldReason, HoldTag};
use std::collections::{BTreeMap, BTreeSet};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Hash, Height};

pub use protocol::pouw::{
    output_commitment, transition, Step, Task, TaskOrigin, TaskState, BACKGROUND_POOL_NAME, TASK_REDUNDANCY_MIN,
};

/// Proof of Useful Work's state. Private: the engine and other modules use the functions below.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct PouwState {
    tasks: OverlayMap<u64, Task>,
    next_task: u64,
    /// When each miner was last selected for a task (for the cooldown).
    last_selected: OverlayMap<AccountId, Height>,
}

overlay_maps!(PouwState { tasks, last_selected });

/// Proof of Useful Work's entries in the state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PouwKey {
    Task(u64),
    Selected(AccountId),
}

impl From<PouwKey> for EngineKey {
    fn from(key: PouwKey) -> EngineKey {
        match key {
            PouwKey::Task(id) => EngineKey::Task(id),
            PouwKey::Selected(id) => EngineKey::Selected(id),
        }
    }
}

/// Proof of Useful Work's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PouwDeadline {
    /// No oracle advanced task (id) at stage (n) in time: the engine advances it.
    Auto(u64, u32),
    /// A finished task is forgotten.
    Close(u64),
}

impl From<PouwDeadline> for Deadline {
    fn from(deadline: PouwDeadline) -> Deadline {
        match deadline {
            PouwDeadline::Auto(id, stage) => Deadline::TaskAuto(id, stage),
            PouwDeadline::Close(id) => Deadline::TaskClose(id),
        }
    }
}

impl PouwState {
    pub fn task(&self, id: u64) -> Option<&Task> {
        self.tasks.get(&id)
    }
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values()
    }
    pub fn new() -> PouwState {
        PouwState { next_task: 1, ..PouwState::default() }
    }
    /// The id the next task gets (part of the root's counters entry).
    pub fn next_task(&self) -> u64 {
        self.next_task
    }
    /// `borsh(current value or None)` of a pouw entry of the state root.
    pub fn encode_entry(&self, key: PouwKey, out: &mut Vec<u8>) {
        match key {
            PouwKey::Task(id) => borsh::to_writer(out, &self.tasks.get(&id)),
            PouwKey::Selected(id) => borsh::to_writer(out, &self.last_selected.get(&id)),
        }
        .expect("writing to a Vec cannot fail");
    }
}

const BACKGROUND_PROMPTS: &[&str] = &[
    "Summarise the water cycle in three sentences.",
    "Explain what a hash function is to a new programmer.",
    "List three uses of photosynthesis research.",
    "Describe how a bicycle converts pedalling into motion.",
];

/// The bonded stake of every registered oracle (O(nodes)).
pub(crate) fn oracle_stake(m: &MarketState, ledger: &Ledger) -> Amount {
    let oracles = m.nodes().filter(|(_, n)| n.roles.contains(&crate::market::Role::Oracle));
    Amount(oracles.map(|(id, _)| ledger.bonded(id).0).sum())
}

fn is_open(t: &Task) -> bool {
    !matches!(t.state, TaskState::Ended | TaskState::Failed)
}

/// Proof of Useful Work's handlers: its own state, the shared [`Ctx`], and the modules it reports to —
/// the market (selection, network ratings, booked work) and the epoch module (points) — which it reaches
/// only through their named functions.
#[derive(Debug)]
pub(crate) struct Pouw<'a, 'c> {
    pub ctx: &'a mut Ctx<'c>,
    pub p: &'a mut PouwState,
    pub m: &'a mut MarketState,
    pub draw: &'a mut DrawIndex,
    pub e: &'a mut EpochState,
}

impl Pouw<'_, '_> {
    /// A validation outcome as the network's rating of `miner` (see `market::record_network_rating`).
    fn network_rating(&mut self, task: u64, miner: AccountId, good: bool) {
        let reputation = market::record_network_rating(self.ctx, self.m, self.draw, miner, good);
        self.ctx.emit(Event::NetworkRated { task, miner, good, reputation });
    }

    /// Enter `state` (or re-enter it after a reassignment): new deadline, new stage, and the automatic
    /// advance `oracle_grace` blocks after the deadline.
    fn enter(&mut self, id: u64, state: TaskState) {
        let grace = self.ctx.params.oracle_grace;
        let deadline =
            self.ctx.height.checked_add(self.ctx.params.task_deadline(state)).expect("periods are capped at 2^32");
        let t = self.p.tasks.get_mut(&id).expect("entering a state of an existing task");
        t.state = state;
        t.stage += 1;
        t.deadline = deadline;
        let stage = t.stage;
        let auto = deadline.checked_add(grace).expect("periods are capped at 2^32");
        self.ctx.schedule(auto, PouwDeadline::Auto(id, stage));
        self.ctx.touch(PouwKey::Task(id));
    }

    /// Select a participant for task `id`, never one already involved; marks the cooldown.
    fn select(&mut self, id: u64, slot: u32) -> Option<AccountId> {
        let t = &self.p.tasks[&id];
        let mut exclude = t.participants();
        exclude.extend(t.avoided.iter().copied());
        if let TaskOrigin::User { client, .. } = &t.origin {
            exclude.insert(*client);
        }
        let (service, stage) = (t.service, t.stage);
        self.draw_participant(service, id, stage, slot, &exclude)
    }

    /// Draw a participant for task `id` (seeded by id, stage and slot), never one in `exclude`; marks
    /// the selection cooldown.
    fn draw_participant(
        &mut self,
        service: u32,
        id: u64,
        stage: u32,
        slot: u32,
        exclude: &BTreeSet<AccountId>,
    ) -> Option<AccountId> {
        let mut seed = b"task".to_vec();
        seed.extend_from_slice(&id.to_le_bytes());
        seed.extend_from_slice(&stage.to_le_bytes());
        seed.extend_from_slice(&slot.to_le_bytes());
        let view = self.ctx.draw_view(self.m, Some(&self.p.last_selected));
        let miner = self.draw.draw(&view, service, exclude, &seed)?;
        self.p.last_selected.insert(miner, self.ctx.height);
        self.ctx.touch(PouwKey::Selected(miner));
        Some(miner)
    }

    fn new_task(
        &mut self,
        origin: TaskOrigin,
        service: u32,
        redundancy: u32,
        avoided: BTreeSet<AccountId>,
    ) -> Result<u64, Rejection> {
        let id = self.p.next_task;
        let mut exclude = avoided.clone();
        if let TaskOrigin::User { client, .. } = &origin {
            exclude.insert(*client);
        }
        let creator = self.draw_participant(service, id, 0, 0, &exclude).ok_or(Rejection::NoMinerAvailable(service))?;
        // After this point the command must succeed.
        let task = Task {
            id,
            origin,
            service,
            redundancy,
            state: TaskState::Requested,
            stage: 0,
            deadline: self.ctx.height,
            reassignments: 0,
            creator,
            preparer: None,
            spec: None,
            inputs: None,
            miners: Vec::new(),
            precommits: BTreeMap::new(),
            outputs: BTreeMap::new(),
            replaced: BTreeSet::new(),
            created_at: self.ctx.height,
            attestations: BTreeMap::new(),
            avoided,
            oracle_paid: Amount::ZERO,
            semantic_poi: self.m.service(service).is_some_and(|s| s.semantic_poi),
        };
        self.p.tasks.insert(id, task);
        self.p.next_task += 1;
        self.enter(id, TaskState::Requested);
        self.ctx.touch(EngineKey::Counters);
        Ok(id)
    }

    pub(crate) fn submit_task(
        &mut self,
        client: AccountId,
        (service, redundancy, max_price): (u32, u32, Amount),
        avoided: BTreeSet<AccountId>,
    ) -> Result<Event, Rejection> {
        let s = self.m.service(service).ok_or(Rejection::UnknownService(service))?;
        if redundancy < TASK_REDUNDANCY_MIN || redundancy > self.ctx.params.task_redundancy_max {
            return Err(Rejection::InvalidTask(format!(
                "redundancy must be {TASK_REDUNDANCY_MIN} to {}",
                self.ctx.params.task_redundancy_max
            )));
        }
        let price = s.price.checked_mul(u128::from(redundancy)).ok_or(LedgerError::AmountOverflow)?;
        if price > max_price {
            return Err(Rejection::PriceAboveMax { price, max_price });
        }
        if self.ctx.ledger.free(&client) < price {
            return Err(LedgerError::InsufficientFunds {
                account: client,
                needed: price,
                available: self.ctx.ledger.free(&client),
            }
            .into());
        }
        let id = self.new_task(TaskOrigin::User { client, hold: None, price }, service, redundancy, avoided)?;
        // After this point the command must succeed (funds were checked above).
        if !price.is_zero() {
            let hold = self
                .ctx
                .ledger
                .hold_create(
                    client,
                    price,
                    HoldTag::new(HoldOwner::Task(id), HoldReason::TaskPrice),
                    self.ctx.height,
                    None,
                )
                .expect("free balance was checked above");
            if let Some(t) = self.p.tasks.get_mut(&id) {
                t.origin = TaskOrigin::User { client, hold: Some(hold), price };
            }
        }
        let creator = self.p.tasks[&id].creator;
        Ok(Event::TaskSubmitted { task: id, origin: self.p.tasks[&id].origin.clone(), service, redundancy, creator })
    }

    fn active_task(&self, id: u64, state: TaskState) -> Result<&Task, Rejection> {
        let t = self.p.tasks.get(&id).ok_or(Rejection::UnknownTask(id))?;
        if t.state != state {
            return Err(Rejection::WrongTaskState { task: id, state: format!("{:?}", t.state) });
        }
        Ok(t)
    }

    fn check_text(&self, text: &str) -> Result<(), Rejection> {
        if text.is_empty() || text.len() > self.ctx.params.task_text_len_max as usize {
            return Err(Rejection::InvalidTask(format!(
                "text must be 1 to {} bytes",
                self.ctx.params.task_text_len_max
            )));
        }
        Ok(())
    }

    pub(crate) fn publish_spec(&mut self, signer: AccountId, id: u64, spec: &str) -> Result<Event, Rejection> {
        let t = self.active_task(id, TaskState::Requested)?;
        if t.creator != signer {
            return Err(Rejection::NotAuthorized);
        }
        if t.spec.is_some() {
            return Err(Rejection::AlreadyActed(id));
        }
        self.check_text(spec)?;
        // After this point the command must succeed.
        self.p.tasks.get_mut(&id).expect("looked up above").spec = Some(spec.to_string());
        self.ready(id);
        Ok(Event::TaskSpecPublished { task: id, creator: signer })
    }

    pub(crate) fn prepare_task(&mut self, signer: AccountId, id: u64, inputs: &str) -> Result<Event, Rejection> {
        let t = self.active_task(id, TaskState::Created)?;
        if t.preparer != Some(signer) {
            return Err(Rejection::NotAuthorized);
        }
        if t.inputs.is_some() {
            return Err(Rejection::AlreadyActed(id));
        }
        self.check_text(inputs)?;
        // After this point the command must succeed.
        self.p.tasks.get_mut(&id).expect("looked up above").inputs = Some(inputs.to_string());
        self.ready(id);
        Ok(Event::TaskInputsPrepared { task: id, preparer: signer })
    }

    pub(crate) fn precommit_output(
        &mut self,
        signer: AccountId,
        id: u64,
        commitment: Hash,
    ) -> Result<Event, Rejection> {
        let t = self.active_task(id, TaskState::Started)?;
        if !t.miners.contains(&signer) {
            return Err(Rejection::NotAuthorized);
        }
        if t.precommits.contains_key(&signer) {
            return Err(Rejection::AlreadyActed(id));
        }
        if t.precommits.values().any(|c| *c == commitment) {
            return Err(Rejection::DuplicateCommitment(id));
        }
        // After this point the command must succeed.
        self.p.tasks.get_mut(&id).expect("looked up above").precommits.insert(signer, commitment);
        self.ready(id);
        Ok(Event::OutputPrecommitted { task: id, miner: signer })
    }

    pub(crate) fn reveal_output(
        &mut self,
        signer: AccountId,
        id: u64,
        output: &str,
        salt: Hash,
    ) -> Result<Event, Rejection> {
        let t = self.active_task(id, TaskState::Precommitted)?;
        if !t.miners.contains(&signer) {
            return Err(Rejection::NotAuthorized);
        }
        if t.outputs.contains_key(&signer) {
            return Err(Rejection::AlreadyActed(id));
        }
        let Some(commitment) = t.precommits.get(&signer) else { return Err(Rejection::NoPrecommit(id)) };
        if output_commitment(id, &signer, output, &salt) != *commitment {
            return Err(Rejection::RevealMismatch(id));
        }
        self.check_text(output)?;
        // After this point the command must succeed.
        self.p.tasks.get_mut(&id).expect("looked up above").outputs.insert(signer, output.to_string());
        self.ready(id);
        Ok(Event::OutputRevealed { task: id, miner: signer })
    }

    /// Everyone has acted: schedule the automatic advance `oracle_grace` blocks from now.
    fn ready(&mut self, id: u64) {
        let t = &self.p.tasks[&id];
        if self.task_ready(t) {
            let at = self.ctx.height.checked_add(self.ctx.params.oracle_grace).expect("periods are capped at 2^32");
            self.ctx.schedule(at, PouwDeadline::Auto(id, t.stage));
        }
        self.ctx.touch(PouwKey::Task(id));
    }

    /// An oracle asks to move task `id` on. Refused unless everyone acted or the deadline passed.
    pub(crate) fn oracle_advance(&mut self, signer: AccountId, id: u64) -> Result<Event, Rejection> {
        if !self.m.has_role(&signer, crate::market::Role::Oracle) {
            return Err(Rejection::NotAnOracle);
        }
        let t = self.p.tasks.get(&id).ok_or(Rejection::UnknownTask(id))?;
        if matches!(t.state, TaskState::Ended | TaskState::Failed) {
            return Err(Rejection::WrongTaskState { task: id, state: format!("{:?}", t.state) });
        }
        if !t.advanceable_at(self.ctx.height, self.ctx.params, self.oracle_stake_for_quorum(t)) {
            return Err(Rejection::PrematureAdvance { task: id, deadline: t.deadline });
        }
        // After this point the command must succeed.
        let from = t.state;
        // The fee comes out of the task's own fee, from its hold, before the advance may settle the hold.
        let fee = t.next_oracle_fee(self.ctx.params);
        if let (false, TaskOrigin::User { hold: Some(hold), .. }) = (fee.is_zero(), &t.origin) {
            self.ctx.ledger.hold_post(*hold, &[(signer, fee)]).expect("the hold holds the price, fee included");
            let t = self.p.tasks.get_mut(&id).expect("looked up above");
            t.oracle_paid = t.oracle_paid.checked_add(fee).expect("at most the task's fee");
        }
        self.advance(id);
        let to = self.p.tasks[&id].state;
        Ok(Event::TaskAdvanced { task: id, from, to, oracle: Some(signer), fee })
    }

    /// End-of-block: no oracle advanced a task that was ready (or late) `oracle_grace` blocks ago.
    pub(crate) fn auto_advance(&mut self, id: u64, stage: u32) {
        let Some(t) = self.p.tasks.get(&id) else { return };
        if t.stage != stage || matches!(t.state, TaskState::Ended | TaskState::Failed) {
            return; // an oracle (or an earlier fallback) already moved it on
        }
        let from = t.state;
        self.advance(id);
        let to = self.p.tasks[&id].state;
        self.ctx.emit(Event::TaskAdvanced { task: id, from, to, oracle: None, fee: Amount::ZERO });
    }

    /// Everyone acted: the task's next state (selecting the preparer or the miners where it needs them).
    fn advance_ready(&mut self, id: u64, state: TaskState) {
        match state {
            TaskState::Requested => {
                let Some(preparer) = self.select(id, 1) else {
                    return self.fail(id, "no preparer available", Vec::new());
                };
                self.p.tasks.get_mut(&id).expect("exists").preparer = Some(preparer);
                self.move_to(id, Step::SpecPublished);
            }
            TaskState::Created => {
                self.move_to(id, Step::InputsPrepared);
                // Prepared needs nobody: select the miners in the same advance.
                self.start(id);
            }
            TaskState::Prepared => self.start(id),
            TaskState::Started => self.move_to(id, Step::AllPrecommitted),
            TaskState::Precommitted => {
                self.move_to(id, Step::RevealsClosed);
                self.evaluate_unless_attesting(id);
            }
            TaskState::Committed => self.evaluate(id),
            TaskState::Ended | TaskState::Failed => {}
        }
    }

    /// Move the task on: forward if everyone acted, else replace whoever missed the deadline or fail.
    fn advance(&mut self, id: u64) {
        let (ready, state) = {
            let t = &self.p.tasks[&id];
            (self.task_ready(t), t.state)
        };
        if ready {
            self.advance_ready(id, state);
            return;
        }
        let t = self.p.tasks[&id].clone();
        // Late: who missed it?
        let missing: Vec<AccountId> = match t.state {
            TaskState::Requested => vec![t.creator],
            TaskState::Created => t.preparer.into_iter().collect(),
            TaskState::Started => t.miners.iter().filter(|m| !t.precommits.contains_key(m)).copied().collect(),
            TaskState::Precommitted => t.miners.iter().filter(|m| !t.outputs.contains_key(m)).copied().collect(),
            TaskState::Committed => return self.evaluate(id), // attestation time is up
            _ => Vec::new(),
        };
        for m in &missing {
            self.network_rating(id, *m, false);
        }
        if t.state == TaskState::Precommitted {
            // Reveals cannot be redone by someone new: the silent ones fail, the task goes on without them.
            let revealed: Vec<AccountId> = t.miners.iter().filter(|m| t.outputs.contains_key(m)).copied().collect();
            if revealed.len() < 2 {
                return self.fail(id, "too few reveals", missing);
            }
            let task = self.p.tasks.get_mut(&id).expect("exists");
            task.miners = revealed;
            // A missing reveal is a failed round, as revealing a losing answer would have been.
            crate::epoch::book_missed(self.ctx, self.e, id, &missing);
            self.move_to(id, Step::RevealsClosed);
            self.ctx.emit(Event::TaskParticipantsDropped { task: id, miners: missing });
            return self.evaluate_unless_attesting(id);
        }
        // A missed deadline is a failed round for whoever missed it. A realtime failure books it with
        // the team (`fail`); anything else books it here.
        let realtime = matches!(t.state, TaskState::Started);
        let last = t.reassignments >= self.ctx.params.max_reassignments;
        if !(last && realtime) {
            crate::epoch::book_missed(self.ctx, self.e, id, &missing);
        }
        if last {
            return self.fail(id, "missed deadline after the last reassignment", missing);
        }
        for (slot, old) in missing.iter().enumerate() {
            self.p.tasks.get_mut(&id).expect("exists").replaced.insert(*old);
            let Some(new) = self.select(id, 10 + slot as u32) else {
                return self.fail(id, "no replacement available", missing.clone());
            };
            let task = self.p.tasks.get_mut(&id).expect("exists");
            match t.state {
                TaskState::Requested => task.creator = new,
                TaskState::Created => task.preparer = Some(new),
                _ => {
                    if let Some(pos) = task.miners.iter().position(|m| m == old) {
                        task.miners[pos] = new;
                    }
                }
            }
            self.ctx.emit(Event::TaskParticipantReplaced { task: id, old: *old, new });
        }
        self.p.tasks.get_mut(&id).expect("exists").reassignments += 1;
        self.enter(id, t.state);
    }

    fn move_to(&mut self, id: u64, step: Step) {
        let from = self.p.tasks[&id].state;
        let to = transition(from, step)
            .unwrap_or_else(|| panic!("illegal task move {from:?} --{step:?}--> (a bug in pouw)"));
        self.enter(id, to);
    }

    fn start(&mut self, id: u64) {
        let k = self.p.tasks[&id].redundancy;
        let mut miners = Vec::with_capacity(k as usize);
        for slot in 0..k {
            let Some(m) = self.select(id, 100 + slot) else {
                return self.fail(id, "too few Ready miners for the redundancy", Vec::new());
            };
            miners.push(m);
            self.p.tasks.get_mut(&id).expect("exists").miners = miners.clone();
        }
        self.move_to(id, Step::MinersSelected);
        self.ctx.emit(Event::TaskMinersSelected { task: id, miners });
    }

    /// Committed: Proof of Inference over the revealed outputs, then pay, rate and end (or fail, blaming
    /// only outputs that echo the task's own text).
    fn evaluate(&mut self, id: u64) {
        let (miners, verdict, echo, origin, service) = {
            let t = &self.p.tasks[&id];
            let threshold = i64::from(self.m.service(t.service).map_or(850_000_000, |s| s.poi_threshold.raw()));
            let embedder = NgramEmbedder::default();
            let (miners, outputs): (Vec<AccountId>, Vec<_>) =
                t.outputs.iter().map(|(m, o)| (*m, embedder.embed(o))).unzip();
            let sources: Vec<_> = t.spec.iter().chain(&t.inputs).map(|s| embedder.embed(s)).collect();
            let echo = echoes(&outputs, &sources, threshold);
            let mut verdict = poi_verdict(&outputs, threshold);
            if let Some(semantic) = self.attested_scores(t, &miners) {
                verdict = verdict_from_scores(semantic, threshold);
            }
            (miners, verdict.excluding(&echo), echo, t.origin.clone(), t.service)
        };
        if !verdict.majority {
            // Echoes of the task's own text are known culprits (rated Bad); anything else blames nobody.
            let culprits: Vec<AccountId> = miners.iter().zip(&echo).filter(|(_, e)| **e).map(|(m, _)| *m).collect();
            for m in &culprits {
                self.network_rating(id, *m, false);
            }
            return self.fail(id, "no agreeing majority", culprits);
        }
        let passed: Vec<AccountId> = miners.iter().zip(&verdict.passed).filter(|(_, p)| **p).map(|(m, _)| *m).collect();
        let failed: Vec<AccountId> =
            miners.iter().zip(&verdict.passed).filter(|(_, p)| !**p).map(|(m, _)| *m).collect();
        for m in &passed {
            self.network_rating(id, *m, true);
        }
        for m in &failed {
            self.network_rating(id, *m, false);
        }
        let paid = self.pay_task((&origin, self.p.tasks[&id].oracle_paid), &passed);
        let background = origin == TaskOrigin::Background;
        for m in &passed {
            self.m.record_work(self.ctx, *m, service, background);
        }
        self.move_to(id, Step::Evaluated);
        let scores = miners.iter().copied().zip(verdict.scores.iter().copied()).collect();
        crate::epoch::book_task_ended(self.ctx, self.e, id, &passed, &failed);
        self.ctx.emit(Event::TaskEnded { task: id, passed, failed, scores, paid });
        self.finish(id);
    }

    /// Whether everyone task `t`'s state waits for has acted ([`Task::ready`]).
    fn task_ready(&self, t: &Task) -> bool {
        t.ready(self.ctx.params, self.oracle_stake_for_quorum(t))
    }

    /// The oracles' bonded stake, which the attestation quorum is a share of; computed only for a
    /// semantic-PoI task (it costs O(nodes)).
    fn oracle_stake_for_quorum(&self, t: &Task) -> Amount {
        if !t.semantic_poi {
            return Amount::ZERO;
        }
        oracle_stake(self.m, self.ctx.ledger)
    }

    /// With enough attestations, each miner's semantic score: the stake-weighted median of what oracles said.
    fn attested_scores(&self, t: &Task, miners: &[AccountId]) -> Option<Vec<i64>> {
        if !t.semantic_poi || !t.attestation_quorum_reached(self.ctx.params, self.oracle_stake_for_quorum(t)) {
            return None;
        }
        miners
            .iter()
            .map(|m| {
                let votes = t
                    .attestations
                    .values()
                    .filter_map(|(stake, scores)| scores.iter().find(|(who, _)| who == m).map(|(_, s)| (*s, stake.0)));
                weighted_median(votes.collect())
            })
            .collect()
    }

    /// After reveals close: evaluate now, or wait at Committed for semantic attestations.
    fn evaluate_unless_attesting(&mut self, id: u64) {
        if !self.p.tasks[&id].semantic_poi {
            self.evaluate(id);
        }
    }

    /// An oracle attests its semantic similarity score (ppb) for every revealed output of a committed task.
    pub(crate) fn attest_poi(
        &mut self,
        signer: AccountId,
        id: u64,
        scores: &[(AccountId, i64)],
    ) -> Result<Event, Rejection> {
        if !self.m.has_role(&signer, crate::market::Role::Oracle) {
            return Err(Rejection::NotAnOracle);
        }
        let t = self.active_task(id, TaskState::Committed)?;
        if t.attestations.contains_key(&signer) {
            return Err(Rejection::AlreadyActed(id));
        }
        let covered: BTreeSet<AccountId> = scores.iter().map(|(m, _)| *m).collect();
        let revealed: BTreeSet<AccountId> = t.outputs.keys().copied().collect();
        if covered != revealed
            || scores.len() != revealed.len()
            || scores.iter().any(|(_, s)| !(-1_000_000_000..=1_000_000_000).contains(s))
        {
            return Err(Rejection::InvalidTask("attest one score in [-1e9, 1e9] for each revealed miner".into()));
        }
        let stake = self.ctx.ledger.bonded(&signer);
        // After this point the command must succeed.
        self.p.tasks.get_mut(&id).expect("looked up above").attestations.insert(signer, (stake, scores.to_vec()));
        self.ready(id);
        Ok(Event::PoiAttested { task: id, oracle: signer, stake })
    }

    /// Pay the agreeing miners: a user task's hold less the protocol fee, or the background reward.
    fn pay_task(&mut self, (origin, oracle_paid): (&TaskOrigin, Amount), passed: &[AccountId]) -> Amount {
        let weights: Vec<(AccountId, u128)> = passed.iter().map(|m| (*m, 1)).collect();
        match origin {
            TaskOrigin::User { hold: Some(hold), price, .. } => {
                let fee = self.ctx.params.protocol_fee.mul_floor(*price);
                let pot = Amount(price.0 - fee.0);
                let mut payouts = ledger::distribute(pot, &weights).expect("at least one miner passed");
                // The oracles were paid `oracle_paid` of the fee as they advanced; the treasury gets the rest.
                payouts.push((self.ctx.treasury, Amount(fee.0 - oracle_paid.0)));
                payouts.retain(|(_, a)| !a.is_zero());
                self.ctx.ledger.hold_post(*hold, &payouts).expect("the hold holds the price less the oracle fees");
                pot
            }
            TaskOrigin::User { hold: None, .. } => Amount::ZERO,
            TaskOrigin::Background => {
                let pool = AccountId::system(BACKGROUND_POOL_NAME);
                let pot = Amount(self.ctx.params.background_task_reward.0.min(self.ctx.ledger.free(&pool).0));
                if pot.is_zero() {
                    return pot;
                }
                for (m, a) in ledger::distribute(pot, &weights).expect("at least one miner passed") {
                    if !a.is_zero() {
                        self.ctx.ledger.transfer(pool, m, a).expect("the pool holds the pot");
                    }
                }
                pot
            }
        }
    }

    fn fail(&mut self, id: u64, reason: &str, culprits: Vec<AccountId>) {
        let t = self.p.tasks[&id].clone();
        if let TaskOrigin::User { hold: Some(hold), .. } = t.origin {
            self.ctx.ledger.hold_void(hold).expect("an unfinished user task's hold is open");
        }
        // A realtime failure: the task failed after its miners had started.
        let realtime = matches!(t.state, TaskState::Started | TaskState::Precommitted | TaskState::Committed);
        self.move_to(id, Step::Abandoned);
        let team = t.miners.clone();
        crate::epoch::book_task_failed(self.ctx, self.e, id, &team, &culprits, realtime);
        self.ctx.emit(Event::TaskFailed { task: id, reason: reason.to_string(), culprits, team, realtime });
        self.finish(id);
    }

    /// A finished task stays queryable for a rating window, then is forgotten (its events are the record).
    fn finish(&mut self, id: u64) {
        let at = self.ctx.height.checked_add(self.ctx.params.rating_window).expect("periods are capped at 2^32");
        self.ctx.schedule(at, PouwDeadline::Close(id));
    }

    /// End-of-block: forget a finished task.
    pub(crate) fn close_task(&mut self, id: u64) {
        if self.p.tasks.remove(&id).is_some() {
            self.ctx.touch(PouwKey::Task(id));
        }
    }

    /// End-of-block: background work for idle miners (issue 19, item 7). A miner is idle when it is Ready and
    /// neither the creator, preparer or a miner of an open task nor the miner of an open request. Visiting
    /// the services in turn from `height mod services`, the network creates at most
    /// `background_tasks_per_block` background tasks in all, each only while its service has
    /// `background_redundancy + 2` idle miners (a creator, a preparer and the miners) beyond the places its
    /// open background tasks have still to fill, and only while the background pool holds the reward of
    /// every open background task and the new one. The service's busy miners are the new task's `avoided`
    /// set, so its creator, preparer and miners are all drawn among miners idle when it was created.
    ///
    /// Cost per block: O(tasks + requests + nodes × services per node) to find the idle, then for each task
    /// created (at most `background_tasks_per_block`) one draw and O(busy) to record its avoided set.
    pub(crate) fn maybe_create_background_task(&mut self) {
        let pool = AccountId::system(BACKGROUND_POOL_NAME);
        let reward = self.ctx.params.background_task_reward;
        let bound = u64::from(self.ctx.params.background_tasks_per_block);
        // Cheap checks first: this runs at the end of every block.
        if bound == 0 || reward.is_zero() || self.ctx.ledger.free(&pool) < reward || self.m.services().next().is_none()
        {
            return;
        }
        let mut work = self.background_work();
        let affordable = u64::try_from(self.ctx.ledger.free(&pool).0 / reward.0).unwrap_or(u64::MAX);
        let mut budget = bound.min(affordable.saturating_sub(work.open));
        let need = u64::from(self.ctx.params.background_redundancy) + 2;
        let services = self.m.service_ids();
        let first = (self.ctx.height.0 % services.len() as u64) as usize;
        for &service in services[first..].iter().chain(&services[..first]) {
            while budget > 0 && work.room(service) >= need {
                let Some(creator) = self.create_background_task(service, &work.busy) else { break };
                work.took(self.m, service, creator, need);
                budget -= 1;
            }
        }
    }

    /// Who is busy, how many Ready miners of each service are not, and what open background tasks need.
    fn background_work(&self) -> BackgroundWork {
        let mut work = BackgroundWork { busy: self.m.serving_miners().collect(), ..BackgroundWork::default() };
        for t in self.p.tasks.values().filter(|t| is_open(t)) {
            work.busy.insert(t.creator);
            work.busy.extend(t.preparer);
            work.busy.extend(t.miners.iter().copied());
            if t.origin == TaskOrigin::Background {
                work.open += 1;
                let filled = 1 + u64::from(t.preparer.is_some()) + t.miners.len() as u64;
                let places = (u64::from(t.redundancy) + 2).saturating_sub(filled);
                *work.pending.entry(t.service).or_default() += places;
            }
        }
        let (params, height) = (self.ctx.params, self.ctx.height);
        for (id, n) in self.m.nodes() {
            if !work.busy.contains(id)
                && self.m.miner_status_at(params, id, height) == Some(crate::market::MinerStatus::Ready)
            {
                for s in &n.services {
                    *work.idle.entry(*s).or_default() += 1;
                }
            }
        }
        work
    }

    /// A background task of `service` whose creator, preparer and miners are drawn outside `busy`; its
    /// creator, or `None` when no idle miner can be drawn.
    fn create_background_task(&mut self, service: u32, busy: &BTreeSet<AccountId>) -> Option<AccountId> {
        let avoided: BTreeSet<AccountId> =
            busy.iter().filter(|m| self.m.node(m).is_some_and(|n| n.services.contains(&service))).copied().collect();
        let k = self.ctx.params.background_redundancy;
        let id = self.new_task(TaskOrigin::Background, service, k, avoided).ok()?;
        let prompt = BACKGROUND_PROMPTS[(id % BACKGROUND_PROMPTS.len() as u64) as usize];
        let creator = self.p.tasks[&id].creator;
        self.ctx.emit(Event::BackgroundTaskCreated { task: id, service, creator, prompt: prompt.to_string() });
        Some(creator)
    }
}

/// The end of block's view of background work (see `maybe_create_background_task`).
#[derive(Debug, Default)]
struct BackgroundWork {
    /// Creators, preparers and miners of open tasks, and miners of open requests.
    busy: BTreeSet<AccountId>,
    /// Per service: Ready miners not busy.
    idle: BTreeMap<u32, u64>,
    /// Per service: places (creator, preparer, miners) its open background tasks have still to fill.
    pending: BTreeMap<u32, u64>,
    /// Open background tasks.
    open: u64,
}

impl BackgroundWork {
    /// Idle miners of `service` not spoken for by its open background tasks.
    fn room(&self, service: u32) -> u64 {
        let idle = self.idle.get(&service).copied().unwrap_or(0);
        idle.saturating_sub(self.pending.get(&service).copied().unwrap_or(0))
    }

    /// A background task of `service` (`need` places) was created with `creator`, who is now busy.
    fn took(&mut self, m: &MarketState, service: u32, creator: AccountId, need: u64) {
        self.busy.insert(creator);
        for s in m.node(&creator).map(|n| n.services.iter()).into_iter().flatten() {
            if let Some(idle) = self.idle.get_mut(s) {
                *idle = idle.saturating_sub(1);
            }
        }
        *self.pending.entry(service).or_default() += need - 1;
        self.open += 1;
    }
}
