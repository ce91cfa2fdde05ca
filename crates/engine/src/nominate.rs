//! Nominators and commission (issue 21; docs/PROTOCOL.md "Nominators and commission").
//!
//! - `Nominate { node, amount }` bonds the nominator's free balance in its own ledger account and records
//!   it as an active nomination of `node` (a registered node of any role). The nominator's account then
//!   holds `out` = Σ its active nominations of bonded stake that is not its own: its own unbond and
//!   deregistration may not touch it.
//! - `Unnominate { node, amount }` starts unbonding through the ledger's chunks (`unbonding_period`, and
//!   for a router's nominators never before the end of the epoch); the nomination keeps a record of the
//!   chunk until it matures, so a slash for an offence before the unnomination still reaches it.
//! - `SetCommission` (a registered node, ≤ `commission_max`) takes effect at the first epoch boundary at
//!   least `commission_delay` blocks later; until then the old commission applies.
//! - Every reward a node earns is split ([`pay_reward`]): the commission to the node, the rest pro rata
//!   between the node's own stake (bonded − its own `out`) and each active nomination, by largest
//!   remainder. A node without active nominations is paid exactly as before, with no new event.
//! - A slash of a node ([`slash_node`]) is taken pro rata from its own stake and every nomination's stake
//!   at the offence: active now plus chunks unbonded at or after the offence height.
//!
//! The state lives in the market (which owns the registry) as [`Nominations`].

use crate::engine::Ctx;
use crate::market::{MarketKey, MarketState};
use crate::{Event, Rejection};
use borsh::{BorshDeserialize, BorshSerialize};
use ledger::{distribute, split_reward, LedgerError, SlashDestination};
use protocol::event::RewardKind;
use std::collections::BTreeMap;
use types::overlay::OverlayMap;
use types::{AccountId, Amount, Height, Ppb};

/// A nominator's stake on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Nomination {
    /// Bonded now, counted in the node's weight and rewards.
    pub active: Amount,
    /// Unnominated stake still unbonding (oldest first): what a slash for an earlier offence may take.
    pub unbonding: Vec<NominationChunk>,
}

/// Part of a nomination on its way out (mirrors a ledger unbonding chunk of the nominator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NominationChunk {
    pub amount: Amount,
    pub unbonded_at: Height,
    pub matures_at: Height,
}

/// A node's commission and the change waiting for its epoch boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Commission {
    pub current: Ppb,
    /// (commission, the height from which it applies).
    pub pending: Option<(Ppb, Height)>,
}

impl Commission {
    /// The commission in force at `height`.
    pub fn at(&self, height: Height) -> Ppb {
        match self.pending {
            Some((c, from)) if from <= height => c,
            _ => self.current,
        }
    }
}

/// Every nomination and commission (part of the market's state).
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct Nominations {
    /// node → nominator → nomination.
    pub(crate) by_node: OverlayMap<AccountId, BTreeMap<AccountId, Nomination>>,
    /// nominator → Σ its active nominations.
    pub(crate) out: OverlayMap<AccountId, Amount>,
    /// node → commission.
    pub(crate) commission: OverlayMap<AccountId, Commission>,
}

impl Nominations {
    /// Σ active nominations of `node`.
    pub fn nominated_to(&self, node: &AccountId) -> Amount {
        self.by_node.get(node).map_or(Amount::ZERO, |n| Amount(n.values().map(|x| x.active.0).sum()))
    }
    /// The active nominations of `node`, in ascending nominator order.
    pub fn active_of(&self, node: &AccountId) -> Vec<(AccountId, Amount)> {
        self.by_node.get(node).map_or_else(Vec::new, |n| {
            n.iter().filter(|(_, x)| !x.active.is_zero()).map(|(id, x)| (*id, x.active)).collect()
        })
    }
    /// Every nomination of `node` (active or still unbonding), in ascending nominator order.
    pub fn of(&self, node: &AccountId) -> Option<&BTreeMap<AccountId, Nomination>> {
        self.by_node.get(node)
    }
    /// The bonded stake of `nominator` that is nominated to others.
    pub fn out(&self, nominator: &AccountId) -> Amount {
        self.out.get(nominator).copied().unwrap_or(Amount::ZERO)
    }
    /// `node`'s own stake: its bonded stake less what it nominated to others.
    pub fn own_stake<T: ledger::HoldTag>(&self, ledger: &ledger::Ledger<T>, node: &AccountId) -> Amount {
        Amount(ledger.bonded(node).0.saturating_sub(self.out(node).0))
    }
    /// `node`'s commission record.
    pub fn commission(&self, node: &AccountId) -> Commission {
        self.commission.get(node).copied().unwrap_or_default()
    }
}

/// Whether `account` earns rewards that are split with nominators, so that it may be nominated and set a
/// commission: a registered node of any role, or a validator candidate's stash.
fn earns_rewards(m: &MarketState, account: &AccountId) -> bool {
    m.node(account).is_some() || m.vals.is_stash(account)
}

/// A node's own stake: its bonded stake less what it nominated to others.
pub(crate) fn own_stake(ctx: &Ctx, m: &MarketState, node: &AccountId) -> Amount {
    m.noms.own_stake(&*ctx.ledger, node)
}

fn set_out(ctx: &mut Ctx, m: &mut MarketState, nominator: AccountId, out: Amount) {
    if out.is_zero() {
        m.noms.out.remove(&nominator);
    } else {
        m.noms.out.insert(nominator, out);
    }
    ctx.touch(MarketKey::NominatedOut(nominator));
}

/// Store `node`'s nomination by `nominator`, dropping chunks matured by now and an empty record.
fn store(ctx: &mut Ctx, m: &mut MarketState, node: AccountId, nominator: AccountId, mut n: Nomination) {
    n.unbonding.retain(|c| c.matures_at > ctx.height && !c.amount.is_zero());
    let map = m.noms.by_node.get_or_insert_with(node, BTreeMap::new);
    if n.active.is_zero() && n.unbonding.is_empty() {
        map.remove(&nominator);
    } else {
        map.insert(nominator, n);
    }
    if map.is_empty() {
        m.noms.by_node.remove(&node);
    }
    ctx.touch(MarketKey::Nominations(node));
}

/// `Nominate { node, amount }`.
pub(crate) fn nominate(
    ctx: &mut Ctx,
    m: &mut MarketState,
    signer: AccountId,
    node: AccountId,
    amount: Amount,
) -> Result<Event, Rejection> {
    if node == signer {
        return Err(Rejection::SelfNomination);
    }
    if !earns_rewards(m, &node) {
        return Err(Rejection::UnknownNode(node));
    }
    if amount < ctx.params.nomination_min {
        return Err(Rejection::BelowNominationMin { min: ctx.params.nomination_min, got: amount });
    }
    let mut n = m.noms.by_node.get(&node).and_then(|x| x.get(&signer)).cloned().unwrap_or_default();
    if n.active.is_zero() {
        let max = ctx.params.nominators_per_node_max;
        if m.noms.active_of(&node).len() >= max as usize {
            return Err(Rejection::TooManyNominators { max });
        }
    }
    let active = n.active.checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
    let out = m.noms.out(&signer).checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
    ctx.ledger.bond(signer, amount)?;
    // After this point the command must succeed.
    n.active = active;
    store(ctx, m, node, signer, n);
    set_out(ctx, m, signer, out);
    Ok(Event::Nominated { nominator: signer, node, amount, active })
}

/// `Unnominate { node, amount }`; `matures_at` is when the stake is free (the engine's unbonding rule for
/// `node`'s stake).
pub(crate) fn unnominate(
    ctx: &mut Ctx,
    m: &mut MarketState,
    signer: AccountId,
    (node, amount): (AccountId, Amount),
    matures_at: Option<Height>,
) -> Result<Event, Rejection> {
    if amount.is_zero() {
        return Err(LedgerError::ZeroAmount.into());
    }
    let mut n = m.noms.by_node.get(&node).and_then(|x| x.get(&signer)).cloned().unwrap_or_default();
    if n.active < amount {
        return Err(Rejection::NoNomination { active: n.active, requested: amount });
    }
    let matures_at = matures_at.ok_or(LedgerError::AmountOverflow)?;
    let chunks_max = ctx.params.max_unbonding_chunks as usize;
    ctx.ledger.unbond(signer, amount, ctx.height, matures_at, chunks_max)?;
    // After this point the command must succeed.
    ctx.schedule(matures_at, crate::Deadline::UnbondMaturity(signer));
    n.active = Amount(n.active.0 - amount.0);
    let active = n.active;
    n.unbonding.push(NominationChunk { amount, unbonded_at: ctx.height, matures_at });
    store(ctx, m, node, signer, n);
    let out = Amount(m.noms.out(&signer).0 - amount.0);
    set_out(ctx, m, signer, out);
    Ok(Event::Unnominated { nominator: signer, node, amount, active, matures_at })
}

/// `SetCommission { commission }`: pending until the first epoch boundary `commission_delay` blocks on.
pub(crate) fn set_commission(
    ctx: &mut Ctx,
    m: &mut MarketState,
    signer: AccountId,
    commission: Ppb,
) -> Result<Event, Rejection> {
    if !earns_rewards(m, &signer) {
        return Err(Rejection::NotRegistered);
    }
    if commission > ctx.params.commission_max {
        return Err(Rejection::CommissionTooHigh { max: ctx.params.commission_max, got: commission });
    }
    let len = ctx.params.epoch_length;
    let earliest = ctx.height.0.checked_add(ctx.params.commission_delay).ok_or(LedgerError::AmountOverflow)?;
    let effective_at = Height(earliest.div_ceil(len).checked_mul(len).ok_or(LedgerError::AmountOverflow)?);
    // After this point the command must succeed.
    let old = m.noms.commission(&signer);
    let record = Commission { current: old.at(ctx.height), pending: Some((commission, effective_at)) };
    m.noms.commission.insert(signer, record);
    ctx.touch(MarketKey::Commission(signer));
    Ok(Event::CommissionSet { node: signer, commission, effective_at })
}

/// Pay `amount` from `from` for a reward `node` earned in `epoch`: straight to the node when it has no
/// active nominations (exactly as before nominations existed), else split by [`split_reward`].
pub(crate) fn pay_reward(
    ctx: &mut Ctx,
    noms_state: &Nominations,
    (from, node): (AccountId, AccountId),
    amount: Amount,
    (epoch, kind): (u64, RewardKind),
) {
    let noms = noms_state.active_of(&node);
    if noms.is_empty() {
        ctx.ledger.transfer(from, node, amount).expect("the caller's pot holds the reward");
        return;
    }
    let commission = noms_state.commission(&node).at(ctx.height);
    let own = noms_state.own_stake(&*ctx.ledger, &node);
    let split = split_reward(amount, commission, node, own, &noms).expect("nominators are distinct from the node");
    let to_node = split.parts.iter().find(|(id, _)| *id == node).map_or(Amount::ZERO, |(_, a)| *a);
    let to_node = to_node.checked_add(split.commission).expect("parts of the reward");
    if !to_node.is_zero() {
        ctx.ledger.transfer(from, node, to_node).expect("the caller's pot holds the reward");
    }
    for (id, part) in &split.parts {
        if *id != node && !part.is_zero() {
            ctx.ledger.transfer(from, *id, *part).expect("the caller's pot holds the reward");
        }
    }
    ctx.emit(Event::RewardSplit { node, epoch, kind, commission: split.commission, parts: split.parts });
}

/// What `nomination` had at stake for an offence at `offence_height`: (active, still unbonding since).
fn at_stake(n: &Nomination, offence_height: Height, now: Height) -> (Amount, Amount) {
    let since = n.unbonding.iter().filter(|c| c.unbonded_at >= offence_height && c.matures_at > now);
    (n.active, Amount(since.map(|c| c.amount.0).sum()))
}

/// Slash `rate` of everything at stake on `node` for an offence at `offence_height` (its own stake plus
/// stake unbonded since, and each nomination's active stake plus its chunks unbonded since), taken pro rata
/// by largest remainder, to `dest`. Returns the total taken and, when the node has nominations, the parts.
pub(crate) fn slash_node(
    ctx: &mut Ctx,
    m: &mut MarketState,
    node: AccountId,
    (rate, offence_height): (Ppb, Height),
    dest: SlashDestination,
) -> (Amount, Option<Vec<(AccountId, Amount)>>) {
    let own_collateral = crate::routers::compute_epoch_collateral(ctx.ledger, &node, offence_height);
    let noms: Vec<(AccountId, Nomination)> =
        m.noms.by_node.get(&node).map_or_else(Vec::new, |x| x.iter().map(|(a, n)| (*a, n.clone())).collect());
    if noms.is_empty() && m.noms.out(&node).is_zero() {
        let amount = rate.mul_floor(own_collateral);
        return (ctx.ledger.slash(node, amount, offence_height, dest).total(), None);
    }
    let own_bonded = own_stake(ctx, m, &node);
    let own_unbonding = Amount(own_collateral.0 - ctx.ledger.bonded(&node).0);
    let own = own_bonded.checked_add(own_unbonding).expect("at most the node's stake");
    let mut weights = vec![(node, own.0)];
    let stakes: Vec<(AccountId, (Amount, Amount))> =
        noms.iter().map(|(a, n)| (*a, at_stake(n, offence_height, ctx.height))).collect();
    weights.extend(stakes.iter().map(|(a, (x, y))| (*a, x.0 + y.0)));
    let total: u128 = weights.iter().map(|(_, w)| *w).sum();
    if total == 0 {
        return (Amount::ZERO, Some(Vec::new()));
    }
    let amount = rate.mul_floor(Amount(total));
    let parts = distribute(amount, &weights).expect("the node and its nominators are distinct");
    let mut taken = Vec::with_capacity(parts.len());
    for (id, part) in parts {
        if id == node {
            let got = ctx.ledger.slash_part(node, part, (own_bonded, own_unbonding), offence_height, dest);
            taken.push((node, got.total()));
            continue;
        }
        let (active, unbonding) = stakes.iter().find(|(a, _)| *a == id).map(|(_, s)| *s).expect("a nominator");
        let got = ctx.ledger.slash_part(id, part, (active, unbonding), offence_height, dest);
        let mut n = noms.iter().find(|(a, _)| *a == id).map(|(_, n)| n.clone()).expect("a nominator");
        n.active = Amount(n.active.0 - got.from_bonded.0);
        let mut want = got.from_unbonding.0;
        for c in n.unbonding.iter_mut().rev().filter(|c| c.unbonded_at >= offence_height) {
            let take = c.amount.0.min(want);
            c.amount.0 -= take;
            want -= take;
        }
        store(ctx, m, node, id, n);
        if !got.from_bonded.is_zero() {
            let out = Amount(m.noms.out(&id).0 - got.from_bonded.0);
            set_out(ctx, m, id, out);
        }
        taken.push((id, got.total()));
    }
    let sum = Amount(taken.iter().map(|(_, a)| a.0).sum());
    (sum, Some(taken))
}
