//! The validator set chosen by stake (issue 21; docs/CONSENSUS.md "Eras").
//!
//! - Every genesis `[[validators]]` entry is a candidate; its weight is its stash account's own bonded
//!   stake (bonded − what it nominated to others) plus the active nominations of that account.
//! - Era 0's set is elected at genesis; at the end of each era's last block the top `validators_max`
//!   candidates by weight are elected for the next era (`protocol::validators::elect`), kept for the era
//!   in force and the next one. The consensus layer reads the next set once that block is finalized.
//! - Each block whose proposer is in its era's set mints `validator_block_reward` to the proposer's stash,
//!   split with its nominators as every reward is (`nominate::pay_reward`, kind `validator`). A block with
//!   no proposer (the single-node sequencer) or an unelected one pays nothing: the engine does not know a
//!   view's leader; the bft application refuses a block whose proposer is not its view's leader.
//!
//! The state lives in the market (whose nominations weigh the candidates) as [`Validators`].

use crate::engine::Ctx;
use crate::market::{MarketKey, MarketState};
use crate::Event;
use borsh::{BorshDeserialize, BorshSerialize};
use protocol::event::RewardKind;
use protocol::validators::{elect, era_of, Candidate, Elected};
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height};

/// Where a block's validator reward is minted before it is paid out (empty between blocks).
pub const VALIDATORS_POOL_NAME: &str = "validators-pool";

/// Candidates and elected sets (part of the market's state).
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct Validators {
    /// consensus key → candidate.
    pub(crate) candidates: OverlayMap<AccountId, Candidate>,
    /// era → its elected set (sorted by key); the era in force and the next.
    pub(crate) sets: OverlayMap<u64, Vec<Elected>>,
    /// (consensus key, era) → the height its equivocation slash landed: one slash per offender and era
    /// (see `equivocation`).
    pub(crate) reported: OverlayMap<(AccountId, u64), Height>,
}

impl Validators {
    /// The set elected for `era`, if still kept.
    pub fn set(&self, era: u64) -> Option<&[Elected]> {
        self.sets.get(&era).map(Vec::as_slice)
    }
    /// Whether `account` is some candidate's stash (nominations to it are allowed).
    pub fn is_stash(&self, account: &AccountId) -> bool {
        self.candidates.values().any(|c| c.account == *account)
    }
}

/// Add the genesis candidates and elect era 0's set.
pub(crate) fn init(ctx: &mut Ctx, m: &mut MarketState, candidates: Vec<Candidate>) {
    if candidates.is_empty() {
        return;
    }
    for c in candidates {
        ctx.touch(MarketKey::Candidate(c.key));
        m.vals.candidates.insert(c.key, c);
    }
    let set = elect(&weighed(ctx, m), ctx.params.validators_max);
    ctx.touch(MarketKey::ValidatorSet(0));
    m.vals.sets.insert(0, set);
}

/// Every candidate with its weight now, in key order.
fn weighed(ctx: &Ctx, m: &MarketState) -> Vec<(Candidate, Amount)> {
    m.vals.candidates.values().map(|c| (c.clone(), weight_of(&*ctx.ledger, m, &c.account))).collect()
}

/// A candidate's weight: its stash `account`'s own bonded stake plus the active nominations of it.
pub(crate) fn weight_of<T: ledger::HoldTag>(
    ledger: &ledger::Ledger<T>,
    m: &MarketState,
    account: &AccountId,
) -> Amount {
    let own = m.noms.own_stake(ledger, account);
    own.checked_add(m.noms.nominated_to(account)).expect("stake is within the supply")
}

/// The end of block `height`: when it is its era's last block, elect the next era's set (keeping the
/// previous one when no candidate qualifies) and forget the era before this one.
pub(crate) fn maybe_elect(ctx: &mut Ctx, m: &mut MarketState, height: Height) {
    let era_blocks = ctx.params.era_blocks;
    if !protocol::validators::is_era_end(height, era_blocks) || m.vals.candidates.is_empty() {
        return;
    }
    let era = era_of(height, era_blocks);
    let mut set = elect(&weighed(ctx, m), ctx.params.validators_max);
    if set.is_empty() {
        set = m.vals.set(era).map(<[Elected]>::to_vec).unwrap_or_default();
    }
    if era > 0 && m.vals.sets.remove(&(era - 1)).is_some() {
        ctx.touch(MarketKey::ValidatorSet(era - 1));
    }
    ctx.touch(MarketKey::ValidatorSet(era + 1));
    m.vals.sets.insert(era + 1, set.clone());
    ctx.emit(Event::ValidatorSetElected { era: era + 1, validators: set });
}

/// Block `height`'s proposer reward: minted and paid when `proposer` is in the era's set.
pub(crate) fn reward_proposer(ctx: &mut Ctx, m: &MarketState, height: Height, proposer: Option<AccountId>) {
    let amount = ctx.params.validator_block_reward;
    let Some(key) = proposer else { return };
    let era = era_of(height, ctx.params.era_blocks);
    let Some(elected) = m.vals.set(era).and_then(|s| s.iter().find(|e| e.key == key)) else { return };
    if amount.is_zero() {
        return;
    }
    let account = elected.account;
    let pool = AccountId::system(VALIDATORS_POOL_NAME);
    ctx.ledger.mint(pool, amount).expect("the reward is bounded by its parameter");
    ctx.emit(Event::ValidatorRewarded { key, account, amount });
    let epoch = crate::epoch::epoch_of(ctx.params, height);
    crate::nominate::pay_reward(ctx, &m.noms, (pool, account), amount, (epoch, RewardKind::Validator));
}
