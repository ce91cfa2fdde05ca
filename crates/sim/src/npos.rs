//! Nominated proof of stake on the real engine (issue 21 item 5): nominators chasing returns, validators
//! competing on commission, and how concentrated the consensus set's stake becomes over eras.
//!
//! `candidates` genesis `[[validators]]` candidates with seeded own stakes; the engine elects the top
//! `validators` of them by weight (own + nominated stake) for every era (`Engine::validator_set`). Each
//! block is proposed round-robin by the era's elected set (`Engine::produce_block_by`), so only elected
//! validators earn `validator_block_reward`, which the engine splits with their nominators after their
//! commission (`RewardSplit`).
//!
//! - **Nominators** (`nominators`, seeded budgets, each nominating all of its budget to one candidate,
//!   first chosen with probability ∝ the candidates' own stakes) observe, at each era's first block, every
//!   candidate's realised return per staked token over the last era: Σ over its blocks of (reward −
//!   commission) / (own + nominated stake), averaged over the last `memory_eras` eras ([`mean_returns`]).
//!   With probability `move_pct`% a nominator reconsiders, and moves to the best candidate when its return
//!   beats its own validator's by more than `gain_pct`% (at most `moves_max_pct`% of the nominators start a
//!   move per era). A move is a real `Unnominate`, then, once
//!   the stake is free after `unbonding_eras` eras (earning nothing meanwhile), a real `Nominate`.
//! - **Validators** (at the same first block of each era): a candidate that lost nominations over the last
//!   era, or is not elected, lowers its commission by `commission_step_ppb`; one elected with a weight at
//!   least `comfort_pct`% above the best candidate left out raises it by the same step, up to the engine's
//!   `commission_max`. A real `SetCommission`, which applies from the next era (`commission_delay` is half
//!   an era and epochs are eras).
//! - Per era: the elected set, each candidate's weight, commission and realised return, and the elected
//!   set's Nakamoto coefficient ([`nakamoto`]), Gini coefficient ([`gini`]) and largest share.
//!
//! With `compare_sticky` the same seed runs a second time with nominators that never move, for the plots.
//! After every block: the ledger's invariants hold, the block paid its elected proposer exactly once and the
//! supply is genesis plus what was minted; at every era's start the engine's elected weights are the
//! candidates' own plus nominated stake.

use crate::figures::{pct, swk};
use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{rejected, Plot, PlotKind, Progress, Series, SimError};
use engine::testkit::{self, account};
use engine::{Call, Event, Params, SignatureCheck, SignedTx, TxBody};
use protocol::GenesisValidator;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use types::{AccountId, Amount, Height, Ppb, Signature};

const STASH: u8 = 1;
const KEY: u8 = 2;
const NOMINATOR: u8 = 3;
/// Base units in one SWK.
const SWK: u128 = 1_000_000_000;
/// Free balance every participant keeps for fees (the fee is one base unit).
const FEES: u128 = 1_000_000;

/// The scenario's knobs; `params` overrides engine parameters by name, as governance would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Validator candidates (K).
    pub candidates: u32,
    /// The consensus set's size N (`validators_max`).
    pub validators: u32,
    /// Nominators (M).
    pub nominators: u32,
    pub eras: u64,
    /// Blocks per era (`era_blocks`; also the epoch length, so commissions change at era boundaries).
    pub era_blocks: u64,
    /// Candidates' own stakes are seeded uniformly in this range of SWK.
    pub own_min_swk: u64,
    pub own_max_swk: u64,
    /// Nominators' budgets are seeded in this range of SWK, skewed to the small end (min + (max − min)·u²).
    pub budget_min_swk: u64,
    pub budget_max_swk: u64,
    /// `unbonding_period` in eras: how long a moving nominator's stake earns nothing.
    pub unbonding_eras: u64,
    /// Chance (%) that a nominator reconsiders its nomination at an era's start.
    pub move_pct: u32,
    /// At most this share (%) of the nominators start a move per era.
    pub moves_max_pct: u32,
    /// Inertia: a nominator moves only for a return more than this much (%) above its own validator's.
    pub gain_pct: u32,
    /// Nominators compare returns averaged over this many past eras (1: the last era only).
    pub memory_eras: u64,
    /// A validator's commission moves by this much (ppb) per era.
    pub commission_step_ppb: u32,
    /// "Comfortably elected": a weight at least this much (%) above the best candidate left out.
    pub comfort_pct: u32,
    /// Also run the same seed with nominators that never move, for comparison.
    pub compare_sticky: bool,
    #[serde(deserialize_with = "crate::background::param_values")]
    pub params: BTreeMap<String, String>,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            candidates: 24,
            validators: 12,
            nominators: 240,
            eras: 40,
            era_blocks: 48,
            own_min_swk: 20,
            own_max_swk: 200,
            budget_min_swk: 5,
            budget_max_swk: 100,
            unbonding_eras: 2,
            move_pct: 30,
            moves_max_pct: 10,
            gain_pct: 10,
            memory_eras: 1,
            commission_step_ppb: 10_000_000,
            comfort_pct: 20,
            compare_sticky: true,
            params: BTreeMap::new(),
            seed: 1,
        }
    }
}

/// The npos scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Npos;

impl crate::Scenario for Npos {
    type Settings = Config;
    fn name(&self) -> &'static str {
        "npos"
    }
    fn description(&self) -> &'static str {
        "nominated proof of stake: nominators chasing returns, commission competition, the Nakamoto coefficient"
    }
    fn defaults(&self) -> Config {
        Config::default()
    }
    fn run(&self, c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
        run(c, progress)
    }
    fn speed(&self, c: &Config, wall: f64) -> Option<String> {
        let runs = if c.compare_sticky { 2.0 } else { 1.0 };
        Some(format!("{:.0} blocks per second", runs * (c.eras * c.era_blocks) as f64 / wall.max(1e-9)))
    }
}

impl Config {
    /// The engine parameters: eras of `era_blocks` (also the epoch length), `validators` elected, no
    /// emission (the block reward is the only income), fee 1, unbonding for `unbonding_eras` eras, commission
    /// changes half an era ahead (so a change made at an era's start applies from the next era), then the
    /// overrides.
    pub fn params(&self) -> Result<Params, SimError> {
        let mut p = Params {
            chain_id: "stakework-sim".into(),
            min_fee: Amount(1),
            emission_per_epoch: Amount::ZERO,
            heartbeat_timeout: 1 << 32,
            nominators_per_node_max: self.nominators.clamp(64, 1024),
            ..Params::default()
        };
        for (name, value) in &self.params {
            p = p.with_set(name, value).map_err(|e| SimError::Setting(format!("params.{name}: {e}")))?;
        }
        p.era_blocks = self.era_blocks;
        p.validators_max = self.validators;
        p.epoch_length = self.era_blocks;
        if !self.params.contains_key("unbonding_period") {
            p.unbonding_period = self.unbonding_eras * self.era_blocks;
        }
        if !self.params.contains_key("voting_period") {
            // No governance here; the engine wants a vote to end before voted stake unbonds.
            p.voting_period = p.voting_period.min(p.unbonding_period.saturating_sub(1)).max(1);
        }
        if !self.params.contains_key("commission_delay") {
            p.commission_delay = (self.era_blocks / 2).max(1);
        }
        p.validate().map_err(|(field, message)| SimError::Setting(format!("{field}: {message}")))?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), SimError> {
        let bad = |m: &str| Err(SimError::Setting(m.into()));
        if self.candidates == 0 || self.candidates > 100 || self.validators == 0 || self.validators > self.candidates {
            return bad("candidates is 1 to 100 and validators 1 to candidates");
        }
        if self.nominators > 1_024 || self.eras < 2 || self.eras > 10_000 || !(1..=100).contains(&self.unbonding_eras) {
            return bad("nominators at most 1,024, eras 2 to 10,000, unbonding_eras 1 to 100");
        }
        if self.own_min_swk == 0 || self.own_min_swk > self.own_max_swk || self.own_max_swk > 1_000_000_000 {
            return bad("own_min_swk is 1 to own_max_swk, own_max_swk at most 10^9");
        }
        if self.budget_min_swk == 0 || self.budget_min_swk > self.budget_max_swk || self.budget_max_swk > 1_000_000_000
        {
            return bad("budget_min_swk is 1 to budget_max_swk, budget_max_swk at most 10^9");
        }
        if self.move_pct > 100 || self.moves_max_pct > 100 || self.gain_pct > 10_000 || self.comfort_pct > 10_000 {
            return bad("move_pct and moves_max_pct are percentages; gain_pct and comfort_pct at most 10,000");
        }
        if !(1..=100).contains(&self.memory_eras) {
            return bad("memory_eras is 1 to 100");
        }
        if self.commission_step_ppb == 0 || self.commission_step_ppb > Ppb::ONE_RAW {
            return bad("commission_step_ppb is 1 to 1,000,000,000");
        }
        Ok(())
    }
}

/// The Nakamoto coefficient of a set weighing `weights`: the smallest number of its members whose combined
/// weight is more than a third of the whole, the share that can stop a BFT consensus (safety needs more
/// than two thirds). 0 for an empty or weightless set.
pub fn nakamoto(weights: &[u128]) -> usize {
    let total: u128 = weights.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut sorted = weights.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut acc = 0u128;
    for (i, w) in sorted.iter().enumerate() {
        acc += w;
        if acc.saturating_mul(3) > total {
            return i + 1;
        }
    }
    sorted.len()
}

/// The Gini coefficient of `weights` (0: all equal; (n − 1)/n: one holds everything); 0 when empty.
pub fn gini(weights: &[u128]) -> f64 {
    let n = weights.len();
    let total: u128 = weights.iter().sum();
    if n == 0 || total == 0 {
        return 0.0;
    }
    let mut sorted = weights.to_vec();
    sorted.sort_unstable();
    let weighted: f64 = sorted.iter().enumerate().map(|(i, w)| (2.0 * i as f64 - n as f64 + 1.0) * *w as f64).sum();
    weighted / (n as f64 * total as f64)
}

/// A validator's next commission (the behaviour, pure): lower by `step` when it lost nominations or is not
/// elected, raise by `step` (to at most `max`) when it is elected with a weight more than `comfort_pct`%
/// above the best candidate left out, else keep it.
pub fn next_commission(
    current: Ppb,
    (elected, lost): (bool, bool),
    (weight, runner_up): (u128, u128),
    (step, max, comfort_pct): (u32, Ppb, u32),
) -> Ppb {
    let raw = current.raw();
    let next = if lost || !elected {
        raw.saturating_sub(step)
    } else if weight.saturating_mul(100) >= runner_up.saturating_mul(100 + u128::from(comfort_pct)) {
        raw.saturating_add(step).min(max.raw())
    } else {
        raw
    };
    Ppb::new(next).unwrap_or(current)
}

/// The candidate a reconsidering nominator of `current` moves to, if any: the best realised return (ties
/// to the smaller index) when it beats `current`'s by more than `gain_pct`%.
pub fn best_move(returns: &[u128], current: usize, gain_pct: u32) -> Option<usize> {
    let (best, r) = returns.iter().enumerate().max_by(|(i, a), (j, b)| a.cmp(b).then(j.cmp(i)))?;
    let here = returns.get(current).copied().unwrap_or(0);
    (best != current && r.saturating_mul(100) > here.saturating_mul(100 + u128::from(gain_pct))).then_some(best)
}

/// One candidate in one era.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CandidateEra {
    pub elected: bool,
    /// At the era's start (the election's state): own stake, active nominations to it, their sum.
    pub own: u128,
    pub nominated: u128,
    pub weight: u128,
    /// The commission in force during the era.
    pub commission: Ppb,
    /// Block rewards it received, and the commission it kept of them.
    pub rewards: u128,
    pub commission_taken: u128,
    /// Realised return per staked token over the era, in ppb: Σ over its blocks of (reward − commission) ×
    /// 10^9 / (own + nominated stake).
    pub return_ppb: u128,
}

/// One era of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EraRecord {
    pub era: u64,
    /// Indices of the elected candidates, ascending.
    pub elected: Vec<usize>,
    /// The elected set's weights as the engine elected them.
    pub weights: Vec<u128>,
    pub nakamoto: usize,
    pub gini: f64,
    pub top1_share: f64,
    /// Whether the set differs from the previous era's.
    pub changed: bool,
    /// Moves started at the era's first block, and the nominated stake that was unbonding on its way to
    /// another candidate then (as a share of all nominators' budgets).
    pub moves: u32,
    pub moving_share: f64,
    pub candidates: Vec<CandidateEra>,
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub eras: Vec<EraRecord>,
    pub supply_start: u128,
    pub supply_end: u128,
    pub minted: u128,
    /// Every `SetCommission` the validators sent, and the highest commission ever in force.
    pub commission_changes: u64,
    pub commission_max_seen: Ppb,
    pub commission_max: Ppb,
    /// What nominators were paid (their parts of every `RewardSplit`), and the sum of their budgets.
    pub paid_nominators: u128,
    pub budgets: u128,
}

impl Outcome {
    pub fn set_changes(&self) -> usize {
        self.eras.iter().filter(|e| e.changed).count()
    }
    pub fn moves(&self) -> u64 {
        self.eras.iter().map(|e| u64::from(e.moves)).sum()
    }
}

struct Nominator {
    id: AccountId,
    budget: u128,
    /// The candidate it nominates, or is moving to.
    target: usize,
    /// While moving: its stake is unbonding and goes to `target` once free.
    moving: bool,
    /// The height its unbonding stake is free from (the engine's `Unnominated.matures_at`).
    free_at: u64,
}

struct Sim<'a> {
    c: &'a Config,
    chain: testkit::TestChain,
    rng: Rng,
    stash: Vec<AccountId>,
    noms: Vec<Nominator>,
    /// Each candidate's commission as last set (pending or in force).
    commission: Vec<Ppb>,
    /// Nominations to each candidate at the last era start.
    nominated_before: Vec<u128>,
    /// The era being played and its record so far.
    current: EraRecord,
    out: Outcome,
    sticky: bool,
}

fn genesis(c: &Config, p: Params, rng: &mut Rng) -> (engine::Genesis, Vec<u128>) {
    let (own_min, own_span) = (u128::from(c.own_min_swk) * SWK, u128::from(c.own_max_swk - c.own_min_swk) * SWK);
    let mut accounts: Vec<(AccountId, Amount, Amount)> = Vec::new();
    let mut validators = Vec::new();
    for i in 0..c.candidates {
        let own = own_min + own_span * u128::from(rng.below(1_001)) / 1_000;
        accounts.push((account(STASH, i), Amount(FEES), Amount(own)));
        validators.push(GenesisValidator {
            key: account(KEY, i),
            p2p: format!("127.0.0.1:{}", 20_000 + i),
            account: account(STASH, i),
        });
    }
    let (b_min, b_span) = (u128::from(c.budget_min_swk) * SWK, u128::from(c.budget_max_swk - c.budget_min_swk) * SWK);
    let mut budgets = Vec::new();
    for i in 0..c.nominators {
        let u = u128::from(rng.below(1_001));
        let budget = b_min + b_span * u * u / 1_000_000;
        budgets.push(budget);
        accounts.push((account(NOMINATOR, i), Amount(budget + FEES), Amount::ZERO));
    }
    let mut g = testkit::genesis(p, accounts, Vec::new());
    g.validators = validators;
    (g, budgets)
}

impl Sim<'_> {
    fn params(&self) -> &Params {
        self.chain.engine.params()
    }

    fn own(&self, i: usize) -> u128 {
        let s = &self.stash[i];
        let e = &self.chain.engine;
        e.ledger().bonded(s).0.saturating_sub(e.nominated_by(s).0)
    }

    fn nominated(&self, i: usize) -> u128 {
        self.chain.engine.nominated_to(&self.stash[i]).0
    }

    /// Produce block `h` from the queued calls, proposed by the era's elected validator in turn; book its
    /// events and check the invariants.
    fn block(&mut self, h: u64, calls: Vec<(AccountId, Call)>) -> Result<(), SimError> {
        let era = self.chain.engine.era_of(Height(h));
        let set = self
            .chain
            .engine
            .validator_set(era)
            .ok_or_else(|| SimError::Unexpected(format!("no set for era {era}")))?;
        let proposer = set[(h % set.len() as u64) as usize].key;
        let fee = self.params().min_fee;
        let txs: Vec<SignedTx> = calls
            .into_iter()
            .map(|(who, call)| {
                let body: TxBody = self.chain.body(who, fee, call);
                SignedTx { body, signature: Signature([0; 64]) }
            })
            .collect();
        let sigs = SignatureCheck::trusted_all_valid(txs.len());
        let (_, outcome) = self
            .chain
            .engine
            .produce_block_by(Some(proposer), txs, &sigs)
            .map_err(|e| SimError::Unexpected(format!("block {h}: {e}")))?;
        if let Some((index, r)) = outcome.receipts.iter().enumerate().find(|(_, r)| r.result.is_err()) {
            let r = testkit::Rejected { height: h, index, queued: index, code: r.code() };
            return Err(rejected(&format!("block {h}"), r));
        }
        let paid =
            |e: &&engine::EventRecord| matches!(&e.event, Event::ValidatorRewarded { key, .. } if *key == proposer);
        if outcome.events.iter().filter(paid).count() != 1 {
            return Err(SimError::Unexpected(format!("block {h}: its elected proposer was not paid exactly once")));
        }
        for e in outcome.events {
            self.book(e.event);
        }
        self.chain.engine.check_invariants().map_err(|e| SimError::Unexpected(format!("block {h}: {e}")))?;
        let supply = self.chain.engine.ledger().total_supply().0;
        if supply != self.out.supply_start + self.out.minted {
            return Err(SimError::Unexpected(format!("block {h}: the supply is not genesis plus what was minted")));
        }
        Ok(())
    }

    fn book(&mut self, e: Event) {
        match e {
            Event::ValidatorRewarded { account: a, amount, .. } => {
                self.out.minted += amount.0;
                if let Some(i) = self.stash.iter().position(|s| *s == a) {
                    // Without nominators there is no split: the commission is the rate in force.
                    let rate = self.chain.engine.commission(&a).current;
                    let kept = if self.nominated(i) == 0 { rate.mul_floor(amount).0 } else { 0 };
                    let stake = (self.own(i) + self.nominated(i)).max(1);
                    let c = &mut self.current.candidates[i];
                    c.rewards += amount.0;
                    c.commission_taken += kept;
                    c.return_ppb += (amount.0 - kept) * u128::from(Ppb::ONE_RAW) / stake;
                }
            }
            Event::RewardSplit { node, commission, parts, .. } => {
                self.out.paid_nominators += parts.iter().filter(|(id, _)| *id != node).map(|(_, a)| a.0).sum::<u128>();
                if let Some(i) = self.stash.iter().position(|s| *s == node) {
                    // Booked after its `ValidatorRewarded`: take the commission off the return too.
                    let stake = (self.own(i) + self.nominated(i)).max(1);
                    let c = &mut self.current.candidates[i];
                    c.commission_taken += commission.0;
                    c.return_ppb = c.return_ppb.saturating_sub(commission.0 * u128::from(Ppb::ONE_RAW) / stake);
                }
            }
            Event::Unnominated { nominator, matures_at, .. } => {
                if let Some(n) = self.noms.iter_mut().find(|n| n.id == nominator) {
                    n.free_at = matures_at.0;
                }
            }
            Event::EmissionMinted { total, .. } => self.out.minted += total.0,
            _ => {}
        }
    }

    /// The record of era `era`, opened at its first block (before that block's calls): the elected set and
    /// every candidate's stake and commission.
    fn open_era(&mut self, era: u64) -> Result<(), SimError> {
        let set = self
            .chain
            .engine
            .validator_set(era)
            .ok_or_else(|| SimError::Unexpected(format!("no set for era {era}")))?;
        let mut elected: Vec<(usize, u128)> = Vec::new();
        for e in set {
            let i = self
                .stash
                .iter()
                .position(|s| *s == e.account)
                .ok_or_else(|| SimError::Unexpected("an unknown stash was elected".into()))?;
            elected.push((i, e.weight.0));
        }
        elected.sort_unstable();
        let mut candidates = Vec::with_capacity(self.stash.len());
        for i in 0..self.stash.len() {
            let (own, nominated) = (self.own(i), self.nominated(i));
            let weight = own + nominated;
            let is_elected = elected.iter().any(|(j, _)| *j == i);
            if let Some((_, w)) = elected.iter().find(|(j, _)| *j == i) {
                if era > 0 && *w != weight {
                    return Err(SimError::Unexpected(format!(
                        "era {era}: candidate {i} elected with {w}, weighs {weight}"
                    )));
                }
            }
            // In force from the era's first block (a change pending for it applies there).
            let commission = self.chain.engine.commission(&self.stash[i]).at(Height(era * self.c.era_blocks));
            self.out.commission_max_seen = self.out.commission_max_seen.max(commission);
            candidates.push(CandidateEra {
                elected: is_elected,
                own,
                nominated,
                weight,
                commission,
                ..CandidateEra::default()
            });
        }
        let weights: Vec<u128> = elected.iter().map(|(_, w)| *w).collect();
        let total: u128 = weights.iter().sum();
        let top = weights.iter().max().copied().unwrap_or(0);
        let indices: Vec<usize> = elected.iter().map(|(i, _)| *i).collect();
        let changed = self.out.eras.last().is_some_and(|p| p.elected != indices);
        let moving: u128 = self.noms.iter().filter(|n| n.moving).map(|n| n.budget).sum();
        let budgets: u128 = self.noms.iter().map(|n| n.budget).sum();
        self.current = EraRecord {
            era,
            elected: indices,
            nakamoto: nakamoto(&weights),
            gini: gini(&weights),
            top1_share: if total == 0 { 0.0 } else { top as f64 / total as f64 },
            weights,
            changed,
            moves: 0,
            moving_share: if budgets == 0 { 0.0 } else { moving as f64 / budgets as f64 },
            candidates,
        };
        Ok(())
    }

    /// At an era's first block: the nominators' moves (out of the last era's returns) and the validators'
    /// commissions.
    fn decide(&mut self, calls: &mut Vec<(AccountId, Call)>) {
        let returns = mean_returns(&self.out.eras, self.c.memory_eras);
        let mut order: Vec<usize> = (0..self.noms.len()).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.below(i as u32 + 1) as usize;
            order.swap(i, j);
        }
        let cap = (self.noms.len() as u64 * u64::from(self.c.moves_max_pct) / 100) as u32;
        let mut moves = 0;
        for n in order {
            let reconsider = self.rng.chance(self.c.move_pct, 100);
            if self.sticky || !reconsider || moves >= cap || self.noms[n].moving {
                continue;
            }
            if let Some(to) = best_move(&returns, self.noms[n].target, self.c.gain_pct) {
                let nom = &mut self.noms[n];
                calls.push((nom.id, Call::Unnominate { node: self.stash[nom.target], amount: Amount(nom.budget) }));
                nom.target = to;
                nom.moving = true;
                // Until its `Unnominated` event says when the stake is free.
                nom.free_at = u64::MAX;
                moves += 1;
            }
        }
        self.current.moves = moves;
        let runner_up = self.current.candidates.iter().filter(|c| !c.elected).map(|c| c.weight).max().unwrap_or(0);
        let max = self.params().commission_max;
        for i in 0..self.stash.len() {
            let c = &self.current.candidates[i];
            let lost = c.nominated < self.nominated_before[i];
            let step = (self.c.commission_step_ppb, max, self.c.comfort_pct);
            let next = next_commission(self.commission[i], (c.elected, lost), (c.weight, runner_up), step);
            self.nominated_before[i] = c.nominated;
            if next != self.commission[i] {
                self.commission[i] = next;
                self.out.commission_changes += 1;
                calls.push((self.stash[i], Call::SetCommission { commission: next }));
            }
        }
    }

    /// Moving nominators whose stake is free again nominate their new candidate.
    fn arrivals(&mut self, h: u64, calls: &mut Vec<(AccountId, Call)>) {
        for n in self.noms.iter_mut().filter(|n| n.moving && h > n.free_at) {
            if self.chain.engine.ledger().free(&n.id).0 > n.budget {
                calls.push((n.id, Call::Nominate { node: self.stash[n.target], amount: Amount(n.budget) }));
                n.moving = false;
            }
        }
    }
}

/// Each candidate's realised return per era, averaged over the last `memory` eras of `eras` (fewer at the
/// start).
pub fn mean_returns(eras: &[EraRecord], memory: u64) -> Vec<u128> {
    let recent = &eras[eras.len().saturating_sub(memory.max(1) as usize)..];
    let k = recent.first().map_or(0, |e| e.candidates.len());
    (0..k).map(|i| recent.iter().map(|e| e.candidates[i].return_ppb).sum::<u128>() / recent.len() as u128).collect()
}

/// The index whose cumulative range of `weights` holds `r` (`r` below their sum).
fn pick(weights: &[u128], mut r: u128) -> usize {
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    0
}

/// Run the scenario once; `sticky` keeps every nominator where it started.
pub fn simulate(c: &Config, sticky: bool, progress: &mut dyn Progress) -> Result<Outcome, SimError> {
    c.validate()?;
    let p = c.params()?;
    let mut rng = Rng::new(c.seed);
    let (g, budgets) = genesis(c, p, &mut rng);
    let budgets_total: u128 = budgets.iter().sum();
    let chain = testkit::TestChain::new(&g).map_err(|e| SimError::Setting(format!("genesis: {e}")))?;
    let supply_start = chain.engine.ledger().total_supply().0;
    let commission_max = chain.engine.params().commission_max;
    let k = c.candidates as usize;
    let stash: Vec<AccountId> = (0..c.candidates).map(|i| account(STASH, i)).collect();
    let own: Vec<u128> = stash.iter().map(|s| chain.engine.ledger().bonded(s).0).collect();
    let own_total: u128 = own.iter().sum();
    let mut noms = Vec::new();
    for (i, budget) in budgets.into_iter().enumerate() {
        // The first choice: ∝ own stake (the visible names).
        let target = pick(&own, u128::from(rng.next_u64()) % own_total);
        noms.push(Nominator { id: account(NOMINATOR, i as u32), budget, target, moving: false, free_at: 0 });
    }
    let steps = commission_max.raw() / c.commission_step_ppb;
    let commission: Vec<Ppb> =
        (0..k).map(|_| Ppb::new(c.commission_step_ppb * rng.below(steps + 1)).unwrap_or(Ppb::ZERO)).collect();
    let mut sim = Sim {
        c,
        chain,
        rng,
        stash,
        noms,
        commission,
        nominated_before: vec![0; k],
        current: EraRecord::default(),
        out: Outcome { supply_start, commission_max, budgets: budgets_total, ..Outcome::default() },
        sticky,
    };
    let blocks = c.eras * c.era_blocks;
    progress.start(blocks, "blocks");
    sim.open_era(0)?;
    // Block 1: the starting commissions (in force from era 1) and every first nomination.
    let mut calls: Vec<(AccountId, Call)> = Vec::new();
    for i in 0..k {
        calls.push((sim.stash[i], Call::SetCommission { commission: sim.commission[i] }));
    }
    for n in &sim.noms {
        calls.push((n.id, Call::Nominate { node: sim.stash[n.target], amount: Amount(n.budget) }));
    }
    sim.block(1, calls)?;
    progress.advance(2);
    for h in 2..blocks {
        let mut calls = Vec::new();
        if h % c.era_blocks == 0 {
            let last = std::mem::take(&mut sim.current);
            sim.out.eras.push(last);
            sim.open_era(h / c.era_blocks)?;
            sim.decide(&mut calls);
        }
        sim.arrivals(h, &mut calls);
        sim.block(h, calls)?;
        progress.advance(1);
    }
    let last = std::mem::take(&mut sim.current);
    sim.out.eras.push(last);
    sim.out.supply_end = sim.chain.engine.ledger().total_supply().0;
    Ok(sim.out)
}

/// A run's figures for the summary and the headline.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub nakamoto_first: usize,
    pub nakamoto_last: usize,
    pub nakamoto_min: usize,
    pub nakamoto_mean: f64,
    pub gini_last: f64,
    pub top1_last: f64,
    pub set_changes: usize,
    pub moves: u64,
    pub gini_mean: f64,
    /// The mean share of the nominators' budgets unbonding on its way to another candidate.
    pub moving_mean: f64,
    /// What nominators were paid over the run, as a share of their budgets.
    pub nominator_yield: f64,
    /// The mean commission of the last era's elected validators.
    pub commission_elected_last: f64,
}

/// The figures of `out` (eras from 1 on: era 0's set is elected by own stake alone, before any nomination).
pub fn figures(out: &Outcome) -> Figures {
    let eras: Vec<&EraRecord> = out.eras.iter().filter(|e| e.era > 0).collect();
    let last = eras.last().copied().or(out.eras.last());
    let n = |e: Option<&EraRecord>| e.map_or(0, |e| e.nakamoto);
    let mean = |f: &dyn Fn(&EraRecord) -> f64| eras.iter().map(|e| f(e)).sum::<f64>() / eras.len().max(1) as f64;
    let commission_elected_last = last.map_or(0.0, |e| {
        let c: Vec<f64> = e.elected.iter().map(|i| f64::from(e.candidates[*i].commission.raw()) / 1e9).collect();
        c.iter().sum::<f64>() / c.len().max(1) as f64
    });
    Figures {
        nakamoto_first: n(eras.first().copied()),
        nakamoto_last: n(last),
        nakamoto_min: eras.iter().map(|e| e.nakamoto).min().unwrap_or(0),
        nakamoto_mean: mean(&|e| e.nakamoto as f64),
        gini_mean: mean(&|e| e.gini),
        moving_mean: mean(&|e| e.moving_share),
        nominator_yield: out.paid_nominators as f64 / out.budgets.max(1) as f64,
        gini_last: last.map_or(0.0, |e| e.gini),
        top1_last: last.map_or(0.0, |e| e.top1_share),
        set_changes: out.set_changes(),
        moves: out.moves(),
        commission_elected_last,
    }
}

fn label(i: usize) -> String {
    format!("v{i:02}")
}

fn tables(runs: &[(&str, &Outcome)]) -> (Table, Table) {
    let mut eras = Table::with_header(
        "eras.csv",
        "variant,era,elected,total_weight,nakamoto,gini,top1_share,set_changed,moves,moving_share",
    );
    let mut cands = Table::with_header(
        "candidates.csv",
        "variant,era,candidate,elected,own,nominated,weight,commission_ppb,rewards,commission_taken,return_ppb",
    );
    for (name, out) in runs {
        for e in &out.eras {
            let elected = e.elected.iter().map(|i| label(*i)).collect::<Vec<_>>().join(" ");
            let total: u128 = e.weights.iter().sum();
            let (gini, top1, moving) =
                (format!("{:.6}", e.gini), format!("{:.6}", e.top1_share), format!("{:.6}", e.moving_share));
            eras.row(&[name, &e.era, &elected, &total, &e.nakamoto, &gini, &top1, &e.changed, &e.moves, &moving]);
            for (i, c) in e.candidates.iter().enumerate() {
                cands.row(&[
                    name,
                    &e.era,
                    &label(i),
                    &c.elected,
                    &c.own,
                    &c.nominated,
                    &c.weight,
                    &c.commission.raw(),
                    &c.rewards,
                    &c.commission_taken,
                    &c.return_ppb,
                ]);
            }
        }
    }
    (eras, cands)
}

fn line(file: &str, title: &str, y: &str, series: Vec<Series>) -> Plot {
    Plot {
        file: file.into(),
        title: title.into(),
        x_label: "era".into(),
        y_label: y.into(),
        kind: PlotKind::Line,
        series,
    }
}

fn plots(runs: &[(&str, &Outcome)]) -> Vec<Plot> {
    let per_era = |out: &Outcome, f: &dyn Fn(&EraRecord) -> f64| -> Vec<(f64, f64)> {
        out.eras.iter().map(|e| (e.era as f64, f(e))).collect()
    };
    let nak = runs.iter().map(|(n, o)| Series { name: (*n).into(), points: per_era(o, &|e| e.nakamoto as f64) });
    let mut conc = Vec::new();
    for (n, o) in runs {
        conc.push(Series { name: format!("{n}: largest share"), points: per_era(o, &|e| 100.0 * e.top1_share) });
        conc.push(Series { name: format!("{n}: Gini × 100"), points: per_era(o, &|e| 100.0 * e.gini) });
    }
    let main = runs[0].1;
    let k = main.eras.first().map_or(0, |e| e.candidates.len());
    let commission = (0..k)
        .map(|i| Series {
            name: label(i),
            points: per_era(main, &|e| f64::from(e.candidates[i].commission.raw()) / 1e7),
        })
        .collect();
    let shares = (0..k)
        .map(|i| Series {
            name: label(i),
            points: per_era(main, &|e| {
                let all: u128 = e.candidates.iter().map(|c| c.weight).sum();
                100.0 * e.candidates[i].weight as f64 / all.max(1) as f64
            }),
        })
        .collect();
    vec![
        line(
            "npos-nakamoto.png",
            "Nakamoto coefficient of the elected set (> 1/3 of its weight)",
            "validators",
            nak.collect(),
        ),
        line("npos-concentration.png", "Concentration of the elected set's weight", "%", conc),
        line("npos-commission.png", &format!("Commission per candidate ({})", runs[0].0), "commission (%)", commission),
        line(
            "npos-stake-shares.png",
            &format!("Each candidate's share of all candidates' weight ({})", runs[0].0),
            "% of weight",
            shares,
        ),
    ]
}

/// One row per variant: the figures of [`Figures`], as the summary shows them.
fn variants(runs: &[(&str, &Outcome)]) -> Table {
    let mut t = Table::with_header(
        "variants",
        "variant,Nakamoto era 1,mean,min,last,Gini mean,Gini last,largest share last,set changes,moves,\
         stake in transit,nominators' yield,elected commission last",
    );
    for (n, o) in runs {
        let f = figures(o);
        t.row(&[
            n,
            &f.nakamoto_first,
            &format!("{:.2}", f.nakamoto_mean),
            &f.nakamoto_min,
            &f.nakamoto_last,
            &format!("{:.3}", f.gini_mean),
            &format!("{:.3}", f.gini_last),
            &pct(Some(f.top1_last)),
            &f.set_changes,
            &f.moves,
            &pct(Some(f.moving_mean)),
            &format!("{:.2}%", 100.0 * f.nominator_yield),
            &pct(Some(f.commission_elected_last)),
        ]);
    }
    t
}

/// Run and report: `eras.csv`, `candidates.csv`, four plots and the summary.
pub fn run(c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
    let main = simulate(c, false, progress)?;
    let name = if c.move_pct == 0 { "sticky" } else { "chasing" };
    let sticky = if c.compare_sticky && c.move_pct > 0 { Some(simulate(c, true, progress)?) } else { None };
    let mut runs: Vec<(&str, &Outcome)> = vec![(name, &main)];
    if let Some(s) = &sticky {
        runs.push(("sticky", s));
    }
    let (eras, cands) = tables(&runs);
    let mut summary = String::from("# npos: nominators chasing returns, commission competition, concentration\n\n");
    let _ = writeln!(
        summary,
        "Seed {}: {} candidates, {} elected per era, {} nominators ({:.0} SWK nominated), {} eras of {} blocks, \
         unbonding {} eras, commission at most {}. A nominator reconsiders with probability {}% per era and \
         moves for a return more than {}% better (at most {}% of them per era; returns averaged over {} \
         era(s)). The Nakamoto coefficient is \
         the fewest elected validators holding more than 1/3 of the set's weight (enough to halt BFT \
         consensus).\n",
        c.seed,
        c.candidates,
        c.validators,
        c.nominators,
        swk(main.eras.last().map_or(0, |e| e.candidates.iter().map(|x| x.nominated).sum::<u128>())),
        c.eras,
        c.era_blocks,
        c.unbonding_eras,
        pct(Some(f64::from(main.commission_max.raw()) / 1e9)),
        c.move_pct,
        c.gain_pct,
        c.moves_max_pct,
        c.memory_eras,
    );
    summary.push_str(&variants(&runs).markdown());
    summary.push_str(
        "\nFrom era 1 (era 0 is elected by own stake alone, before any nomination). Stake in transit: the \
         mean share of the nominators' budgets unbonding on its way to another candidate, earning nothing. \
         Nominators' yield: what they were paid over the run, as a share of their budgets. Elected \
         commission: the mean commission of the last era's elected validators.\n",
    );
    let f = figures(&main);
    let _ = writeln!(
        summary,
        "\nSupply: {:.3} SWK at genesis, {:.3} SWK minted as block rewards, checked after every block. \
         {} commission changes; the highest commission in force was {} (the engine's maximum {}).",
        swk(main.supply_start),
        swk(main.minted),
        main.commission_changes,
        pct(Some(f64::from(main.commission_max_seen.raw()) / 1e9)),
        pct(Some(f64::from(main.commission_max.raw()) / 1e9)),
    );
    let headline = vec![
        ("nakamoto_mean".to_string(), format!("{:.2}", f.nakamoto_mean)),
        ("nakamoto_last".to_string(), f.nakamoto_last.to_string()),
        ("gini_mean".to_string(), format!("{:.4}", f.gini_mean)),
        ("set_changes".to_string(), f.set_changes.to_string()),
        ("moves".to_string(), f.moves.to_string()),
        ("moving_mean".to_string(), format!("{:.4}", f.moving_mean)),
        ("nominator_yield".to_string(), format!("{:.4}", f.nominator_yield)),
        ("commission_elected_last".to_string(), format!("{:.4}", f.commission_elected_last)),
    ];
    Ok(Report { tables: vec![eras, cands], plots: plots(&runs), summary, headline })
}
