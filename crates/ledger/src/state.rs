//! The ledger's state and every operation on it: accounts, holds, bonds and unbonding chunks, slashing,
//! mint and burn; each checks first and mutates after, and records what it touched for the state root.

use crate::error::InvariantViolation;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use types::overlay::{BaseMap, OverlayMap};
use types::LedgerError;
use types::{AccountId, Amount, Height, HoldId};

/// One account's balances. `held` and `unbonding` are totals of the account's open holds and unbonding
/// chunks; `nonce` is the next transaction sequence number the account may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Account {
    pub free: Amount,
    pub held: Amount,
    pub bonded: Amount,
    pub unbonding: Amount,
    pub nonce: u64,
    /// In unbonding order (oldest first); each becomes free at `matures_at`.
    pub unbonding_chunks: Vec<UnbondingChunk>,
}

impl Account {
    /// free + held + bonded + unbonding, or `None` on overflow.
    pub fn total(&self) -> Option<Amount> {
        Amount::checked_sum([self.free, self.held, self.bonded, self.unbonding])
    }
}

/// Stake on its way from bonded to free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct UnbondingChunk {
    pub amount: Amount,
    /// Height of the block in which the unbond happened (slashing looks at it).
    pub unbonded_at: Height,
    pub matures_at: Height,
}

/// What a hold is for, as the protocol above the ledger defines it (in stakework: an owner and a
/// reason). The ledger stores it with the hold, hashes it into the state root and hands it back; it never
/// reads it, so the ledger knows nothing of requests, tasks or jobs.
pub trait HoldTag: Clone + fmt::Debug + PartialEq + Eq + BorshSerialize + BorshDeserialize {}

impl<T: Clone + fmt::Debug + PartialEq + Eq + BorshSerialize + BorshDeserialize> HoldTag for T {}

/// Money set aside from `payer`'s balance. Posting pays it out; voiding or expiry returns it to `payer`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Hold<T> {
    pub id: HoldId,
    pub payer: AccountId,
    /// What the hold is for (opaque to the ledger).
    pub tag: T,
    /// What is still held (a partial post lowers it).
    pub amount: Amount,
    pub created_at: Height,
    pub expires_at: Option<Height>,
}

/// Where slashed stake goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlashDestination {
    /// Credited to this account's free balance (e.g. the treasury, or a wronged party).
    Account(AccountId),
    /// Destroyed; counted in the running `burned` total.
    Burn,
}

/// How much a slash took, and from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlashOutcome {
    pub from_bonded: Amount,
    pub from_unbonding: Amount,
}

impl SlashOutcome {
    pub fn total(&self) -> Amount {
        self.from_bonded.checked_add(self.from_unbonding).expect("both parts come from one account's total")
    }
}

/// A piece of ledger state, as recorded in a block's write set. Ordered so write sets sort canonically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub enum StateKey {
    Supply,
    Account(AccountId),
    Hold(HoldId),
}

/// A deliberate bug, for the test that proves the conservation check catches one.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `transfer` credits the recipient without debiting the sender.
    CreditWithoutDebit,
}

/// All balances, holds and supply totals.
#[derive(Clone)]
pub struct Ledger<T = ()> {
    // A HashMap for O(1) lookups: its iteration order never reaches an output (sums are commutative,
    // snapshots and write sets are sorted before use). Both maps are overlays, so a clone (a fork of the
    // engine) costs O(changes since the last flatten), not O(accounts).
    accounts: OverlayMap<AccountId, Slot, AccountMap>,
    holds: OverlayMap<HoldId, Hold<T>>,
    next_hold: u64,
    genesis_supply: Amount,
    minted: Amount,
    burned: Amount,
    write_set: Vec<StateKey>,
    /// Generation of the current write set; an account slot stamped with it is already recorded.
    write_gen: u64,
    #[cfg(feature = "fault-injection")]
    fault: Option<Fault>,
}

/// The accounts' base map: a HashMap for O(1) lookups (its order never reaches an output).
#[derive(Debug, Clone, Default)]
struct AccountMap(HashMap<AccountId, Slot, ahash::RandomState>);

impl BaseMap<AccountId, Slot> for AccountMap {
    type Iter<'a> = std::collections::hash_map::Iter<'a, AccountId, Slot>;
    fn get(&self, key: &AccountId) -> Option<&Slot> {
        self.0.get(key)
    }
    fn get_mut(&mut self, key: &AccountId) -> Option<&mut Slot> {
        self.0.get_mut(key)
    }
    fn insert(&mut self, key: AccountId, value: Slot) -> Option<Slot> {
        self.0.insert(key, value)
    }
    fn remove(&mut self, key: &AccountId) -> Option<Slot> {
        self.0.remove(key)
    }
    fn get_or_insert_with(&mut self, key: AccountId, make: impl FnOnce() -> Slot) -> (&mut Slot, bool) {
        match self.0.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => (e.into_mut(), false),
            std::collections::hash_map::Entry::Vacant(e) => (e.insert(make()), true),
        }
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn iter(&self) -> Self::Iter<'_> {
        self.0.iter()
    }
}

impl FromIterator<(AccountId, Slot)> for AccountMap {
    fn from_iter<I: IntoIterator<Item = (AccountId, Slot)>>(iter: I) -> Self {
        AccountMap(iter.into_iter().collect())
    }
}

/// An account and the write-set generation that last touched it, so each account enters a block's
/// write set once however often the block changes it.
#[derive(Debug, Clone, Default)]
struct Slot {
    account: Account,
    touched: u64,
}

/// Everything a ledger holds, in canonical order, for snapshots.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LedgerSnapshot<T = ()> {
    pub accounts: Vec<(AccountId, Account)>,
    pub holds: Vec<Hold<T>>,
    pub next_hold: u64,
    pub genesis_supply: Amount,
    pub minted: Amount,
    pub burned: Amount,
}

impl<T: HoldTag> fmt::Debug for Ledger<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("accounts", &self.accounts)
            .field("holds", &self.holds)
            .field("next_hold", &self.next_hold)
            .field("genesis_supply", &self.genesis_supply)
            .field("minted", &self.minted)
            .field("burned", &self.burned)
            .finish_non_exhaustive()
    }
}

impl<T: HoldTag> Default for Ledger<T> {
    fn default() -> Self {
        Ledger::new()
    }
}

fn insufficient(account: AccountId, needed: Amount, available: Amount) -> LedgerError {
    LedgerError::InsufficientFunds { account, needed, available }
}

impl<T: HoldTag> Ledger<T> {
    pub fn new() -> Ledger<T> {
        Ledger {
            accounts: OverlayMap::default(),
            holds: OverlayMap::default(),
            next_hold: 1,
            genesis_supply: Amount::ZERO,
            minted: Amount::ZERO,
            burned: Amount::ZERO,
            write_set: Vec::new(),
            // Slots start stamped 0, so generation 1 records every account on its first touch.
            write_gen: 1,
            #[cfg(feature = "fault-injection")]
            fault: None,
        }
    }

    // ----- genesis -------------------------------------------------------------------------------

    /// Give `id` genesis balances. Only for building the genesis state: it raises the genesis supply.
    pub fn add_genesis_account(&mut self, id: AccountId, free: Amount, bonded: Amount) -> Result<(), LedgerError> {
        let add = free.checked_add(bonded).ok_or(LedgerError::AmountOverflow)?;
        let supply = self.genesis_supply.checked_add(add).ok_or(LedgerError::AmountOverflow)?;
        let acct = self.account(&id).cloned().unwrap_or_default();
        let new_free = acct.free.checked_add(free).ok_or(LedgerError::AmountOverflow)?;
        let new_bonded = acct.bonded.checked_add(bonded).ok_or(LedgerError::AmountOverflow)?;
        // After this point the command must succeed.
        let a = self.account_mut(id);
        a.free = new_free;
        a.bonded = new_bonded;
        self.genesis_supply = supply;
        self.write_set.push(StateKey::Supply);
        Ok(())
    }

    // ----- reads ---------------------------------------------------------------------------------

    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id).map(|s| &s.account)
    }
    pub fn free(&self, id: &AccountId) -> Amount {
        self.accounts.get(id).map_or(Amount::ZERO, |s| s.account.free)
    }
    pub fn nonce(&self, id: &AccountId) -> u64 {
        self.accounts.get(id).map_or(0, |s| s.account.nonce)
    }
    pub fn hold(&self, id: HoldId) -> Option<&Hold<T>> {
        self.holds.get(&id)
    }
    pub fn holds(&self) -> impl Iterator<Item = &Hold<T>> {
        self.holds.values()
    }
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }
    /// All accounts in ascending id order.
    pub fn accounts_sorted(&self) -> Vec<(AccountId, &Account)> {
        let mut v: Vec<_> = self.accounts.iter_unordered().map(|(k, s)| (*k, &s.account)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    }
    /// Σ bonded stake over all accounts. O(accounts): for tallies at a proposal's deadline, not per block.
    pub fn bonded_total(&self) -> Amount {
        Amount(self.accounts.iter_unordered().map(|(_, s)| s.account.bonded.0).sum())
    }
    pub fn bonded(&self, id: &AccountId) -> Amount {
        self.accounts.get(id).map_or(Amount::ZERO, |s| s.account.bonded)
    }
    pub fn genesis_supply(&self) -> Amount {
        self.genesis_supply
    }
    pub fn minted(&self) -> Amount {
        self.minted
    }
    pub fn burned(&self) -> Amount {
        self.burned
    }
    /// genesis + minted − burned.
    pub fn total_supply(&self) -> Amount {
        self.genesis_supply
            .checked_add(self.minted)
            .and_then(|s| s.checked_sub(self.burned))
            .expect("supply totals are kept consistent by mint and burn")
    }

    // ----- nonces --------------------------------------------------------------------------------

    /// Advance `id`'s nonce by one (the engine does this for every accepted transaction).
    pub fn bump_nonce(&mut self, id: AccountId) {
        let a = self.account_mut(id);
        a.nonce = a.nonce.checked_add(1).expect("nonce overflowed u64");
    }

    // ----- transfers -----------------------------------------------------------------------------

    /// Move `amount` of free balance from `from` to `to`.
    pub fn transfer(&mut self, from: AccountId, to: AccountId, amount: Amount) -> Result<(), LedgerError> {
        let available = self.free(&from);
        if available < amount {
            return Err(insufficient(from, amount, available));
        }
        if from != to {
            self.free(&to).checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
        }
        // After this point the command must succeed.
        #[cfg(feature = "fault-injection")]
        let skip_debit = self.fault == Some(Fault::CreditWithoutDebit);
        #[cfg(not(feature = "fault-injection"))]
        let skip_debit = false;
        if !skip_debit {
            self.account_mut(from).free.0 -= amount.0;
        }
        let dest = self.account_mut(to);
        dest.free = dest.free.checked_add(amount).expect("overflow checked above");
        Ok(())
    }

    // ----- holds ---------------------------------------------------------------------------------

    /// Move `amount` from `payer`'s free balance into a new hold.
    pub fn hold_create(
        &mut self,
        payer: AccountId,
        amount: Amount,
        tag: T,
        now: Height,
        expires_at: Option<Height>,
    ) -> Result<HoldId, LedgerError> {
        if amount.is_zero() {
            return Err(LedgerError::ZeroAmount);
        }
        if expires_at.is_some_and(|e| e <= now) {
            return Err(LedgerError::ExpiryInPast);
        }
        let available = self.free(&payer);
        if available < amount {
            return Err(insufficient(payer, amount, available));
        }
        // After this point the command must succeed.
        let id = HoldId(self.next_hold);
        self.next_hold += 1;
        let a = self.account_mut(payer);
        a.free.0 -= amount.0;
        a.held = a.held.checked_add(amount).expect("held <= total supply");
        self.holds.insert(id, Hold { id, payer, tag, amount, created_at: now, expires_at });
        self.write_set.push(StateKey::Hold(id));
        Ok(id)
    }

    /// Pay `payouts` out of hold `id`. What is left stays held; a hold emptied by a post is closed.
    pub fn hold_post(&mut self, id: HoldId, payouts: &[(AccountId, Amount)]) -> Result<(), LedgerError> {
        let hold = self.holds.get(&id).ok_or(LedgerError::UnknownHold(id))?;
        if payouts.is_empty() {
            return Err(LedgerError::NoPayouts);
        }
        if payouts.iter().any(|(_, a)| a.is_zero()) {
            return Err(LedgerError::ZeroAmount);
        }
        let requested = Amount::checked_sum(payouts.iter().map(|(_, a)| *a)).ok_or(LedgerError::AmountOverflow)?;
        if requested > hold.amount {
            return Err(LedgerError::HoldOverdrawn { hold: id, remaining: hold.amount, requested });
        }
        // Recipients' free balances are each below total supply minus the held amount, so crediting
        // at most `requested` (which is part of the supply) cannot overflow.
        let payer = hold.payer;
        // After this point the command must succeed.
        let remaining = Amount(hold.amount.0 - requested.0);
        let p = self.account_mut(payer);
        p.held.0 -= requested.0;
        for (to, amount) in payouts {
            let a = self.account_mut(*to);
            a.free = a.free.checked_add(*amount).expect("credit bounded by total supply");
        }
        if remaining.is_zero() {
            self.holds.remove(&id);
        } else if let Some(h) = self.holds.get_mut(&id) {
            h.amount = remaining;
        }
        self.write_set.push(StateKey::Hold(id));
        Ok(())
    }

    /// Close hold `id`, returning what it still holds to its payer. Returns the amount returned.
    pub fn hold_void(&mut self, id: HoldId) -> Result<Amount, LedgerError> {
        let hold = self.holds.remove(&id).ok_or(LedgerError::UnknownHold(id))?;
        // After this point the command must succeed.
        let a = self.account_mut(hold.payer);
        a.held.0 -= hold.amount.0;
        a.free = a.free.checked_add(hold.amount).expect("free + held <= total supply");
        self.write_set.push(StateKey::Hold(id));
        Ok(hold.amount)
    }

    /// Void hold `id` because its expiry height `now` has come.
    pub fn hold_expire(&mut self, id: HoldId, now: Height) -> Result<Amount, LedgerError> {
        let hold = self.holds.get(&id).ok_or(LedgerError::UnknownHold(id))?;
        if hold.expires_at.is_none_or(|e| e > now) {
            return Err(LedgerError::HoldNotExpired(id));
        }
        self.hold_void(id)
    }

    // ----- bonding -------------------------------------------------------------------------------

    /// Move `amount` from free to bonded stake.
    pub fn bond(&mut self, id: AccountId, amount: Amount) -> Result<(), LedgerError> {
        if amount.is_zero() {
            return Err(LedgerError::ZeroAmount);
        }
        let available = self.free(&id);
        if available < amount {
            return Err(insufficient(id, amount, available));
        }
        // After this point the command must succeed.
        let a = self.account_mut(id);
        a.free.0 -= amount.0;
        a.bonded = a.bonded.checked_add(amount).expect("bonded <= total supply");
        Ok(())
    }

    /// Start unbonding `amount`: it leaves bonded stake now and becomes free at `matures_at`.
    pub fn unbond(
        &mut self,
        id: AccountId,
        amount: Amount,
        now: Height,
        matures_at: Height,
        max_chunks: usize,
    ) -> Result<(), LedgerError> {
        if amount.is_zero() {
            return Err(LedgerError::ZeroAmount);
        }
        let acct = self.account(&id);
        let bonded = acct.map_or(Amount::ZERO, |a| a.bonded);
        if bonded < amount {
            return Err(LedgerError::InsufficientBonded { account: id, needed: amount, available: bonded });
        }
        if acct.is_some_and(|a| a.unbonding_chunks.len() >= max_chunks) {
            return Err(LedgerError::TooManyUnbondingChunks(id));
        }
        // After this point the command must succeed.
        let a = self.account_mut(id);
        a.bonded.0 -= amount.0;
        a.unbonding = a.unbonding.checked_add(amount).expect("unbonding <= total supply");
        a.unbonding_chunks.push(UnbondingChunk { amount, unbonded_at: now, matures_at });
        Ok(())
    }

    /// Make every chunk of `id` that matured by `now` free. Returns the amount released.
    pub fn mature_unbonding(&mut self, id: AccountId, now: Height) -> Amount {
        let due = |a: &Account| a.unbonding_chunks.iter().any(|c| c.matures_at <= now);
        if !self.account(&id).is_some_and(due) {
            return Amount::ZERO;
        }
        let a = self.account_mut(id);
        let mut released = Amount::ZERO;
        a.unbonding_chunks.retain(|c| {
            if c.matures_at <= now {
                released.0 += c.amount.0; // bounded by `unbonding`
                false
            } else {
                true
            }
        });
        a.unbonding.0 -= released.0;
        a.free = a.free.checked_add(released).expect("free + unbonding <= total supply");
        released
    }

    /// Slash up to `amount` of `id`'s stake for an offence at `offence_height`: bonded stake first, then
    /// unbonding chunks that were still bonded at the offence (unbonded at or after it), newest first.
    /// Takes what there is if the stake is short; returns what was taken.
    pub fn slash(
        &mut self,
        id: AccountId,
        amount: Amount,
        offence_height: Height,
        dest: SlashDestination,
    ) -> SlashOutcome {
        self.slash_part(id, amount, (amount, amount), offence_height, dest)
    }

    /// Slash up to `amount` of `id`'s stake, taking at most `bonded_max` from its bonded stake and then at
    /// most `unbonding_max` from unbonding chunks unbonded at or after `offence_height`, newest first. For
    /// a part of an account's stake (a nomination, or a node's own stake next to its nominations): the
    /// caller bounds each source by what that part holds. Returns what was taken.
    pub fn slash_part(
        &mut self,
        id: AccountId,
        amount: Amount,
        (bonded_max, unbonding_max): (Amount, Amount),
        offence_height: Height,
        dest: SlashDestination,
    ) -> SlashOutcome {
        let Some(a) = self.account(&id) else { return SlashOutcome::default() };
        let from_bonded = amount.0.min(bonded_max.0).min(a.bonded.0);
        let want = (amount.0 - from_bonded).min(unbonding_max.0);
        let reachable: u128 =
            a.unbonding_chunks.iter().filter(|c| c.unbonded_at >= offence_height).map(|c| c.amount.0).sum();
        let from_unbonding = want.min(reachable);
        self.slash_exact(id, Amount(from_bonded), Amount(from_unbonding), offence_height, dest)
    }

    /// Take exactly `from_bonded` from `id`'s bonded stake and `from_unbonding` from its chunks unbonded at
    /// or after `offence_height` (newest first); the caller checked both are there.
    fn slash_exact(
        &mut self,
        id: AccountId,
        from_bonded: Amount,
        from_unbonding: Amount,
        offence_height: Height,
        dest: SlashDestination,
    ) -> SlashOutcome {
        let a = self.account_mut(id);
        a.bonded.0 -= from_bonded.0;
        let mut want = from_unbonding.0;
        for c in a.unbonding_chunks.iter_mut().rev() {
            if want == 0 {
                break;
            }
            if c.unbonded_at >= offence_height {
                let take = c.amount.0.min(want);
                c.amount.0 -= take;
                want -= take;
            }
        }
        debug_assert_eq!(want, 0, "the caller checked the chunks hold what it takes");
        a.unbonding_chunks.retain(|c| !c.amount.is_zero());
        a.unbonding.0 -= from_unbonding.0;
        let outcome = SlashOutcome { from_bonded, from_unbonding };
        let total = outcome.total();
        match dest {
            SlashDestination::Account(to) => {
                let d = self.account_mut(to);
                d.free = d.free.checked_add(total).expect("credit bounded by total supply");
            }
            SlashDestination::Burn => {
                self.burned = self.burned.checked_add(total).expect("burned <= genesis + minted");
                self.write_set.push(StateKey::Supply);
            }
        }
        outcome
    }

    // ----- mint and burn -------------------------------------------------------------------------

    /// Create `amount` new tokens in `to`'s free balance (epoch emission).
    pub fn mint(&mut self, to: AccountId, amount: Amount) -> Result<(), LedgerError> {
        let minted = self.minted.checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
        self.total_supply().checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
        // After this point the command must succeed.
        self.minted = minted;
        let a = self.account_mut(to);
        a.free = a.free.checked_add(amount).expect("free <= total supply, checked above");
        self.write_set.push(StateKey::Supply);
        Ok(())
    }

    /// Destroy `amount` of `from`'s free balance.
    pub fn burn(&mut self, from: AccountId, amount: Amount) -> Result<(), LedgerError> {
        let available = self.free(&from);
        if available < amount {
            return Err(insufficient(from, amount, available));
        }
        // After this point the command must succeed.
        self.account_mut(from).free.0 -= amount.0;
        self.burned = self.burned.checked_add(amount).expect("burned <= genesis + minted");
        self.write_set.push(StateKey::Supply);
        Ok(())
    }

    // ----- write set and invariants --------------------------------------------------------------

    /// The state touched since the last call, sorted and de-duplicated; clears the record.
    pub fn take_write_set(&mut self) -> Vec<StateKey> {
        self.write_gen += 1;
        let mut ws = std::mem::take(&mut self.write_set);
        ws.sort_unstable();
        ws.dedup();
        ws
    }

    /// Give back a vector [`Ledger::take_write_set`] returned, so the next block's record reuses its
    /// allocation (a big fresh vector per block costs page faults).
    pub fn recycle_write_set(&mut self, mut ws: Vec<StateKey>) {
        if self.write_set.is_empty() && ws.capacity() > self.write_set.capacity() {
            ws.clear();
            self.write_set = ws;
        }
    }

    /// Feed the canonical encoding of `key`'s current value (or its absence) into `out`.
    pub fn encode_entry(&self, key: &StateKey, out: &mut impl std::io::Write) {
        let ok = "state writers (Vec, hasher) do not fail";
        borsh::to_writer(&mut *out, key).expect(ok);
        match key {
            StateKey::Supply => borsh::to_writer(out, &(self.genesis_supply, self.minted, self.burned)),
            StateKey::Account(id) => borsh::to_writer(out, &self.account(id)),
            StateKey::Hold(id) => borsh::to_writer(out, &self.holds.get(id)),
        }
        .expect(ok);
    }

    /// Check every ledger invariant. O(accounts + holds); run after every block in tests and debug builds.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let mut held_by: HashMap<AccountId, Amount> = HashMap::new();
        for h in self.holds.values() {
            if h.amount.is_zero() {
                return Err(InvariantViolation::EmptyHold(h.id));
            }
            let e = held_by.entry(h.payer).or_default();
            *e = e.checked_add(h.amount).ok_or(InvariantViolation::Overflow)?;
        }
        let mut sum: u128 = 0;
        for (id, a) in self.accounts.iter_unordered().map(|(id, s)| (id, &s.account)) {
            let holds = held_by.remove(id).unwrap_or_default();
            if holds != a.held {
                return Err(InvariantViolation::HeldMismatch { account: *id, recorded: a.held, holds });
            }
            let chunks =
                Amount::checked_sum(a.unbonding_chunks.iter().map(|c| c.amount)).ok_or(InvariantViolation::Overflow)?;
            if chunks != a.unbonding {
                return Err(InvariantViolation::UnbondingMismatch { account: *id, recorded: a.unbonding, chunks });
            }
            sum = sum
                .checked_add(a.total().ok_or(InvariantViolation::Overflow)?.0)
                .ok_or(InvariantViolation::Overflow)?;
        }
        if let Some((account, holds)) = held_by.into_iter().next() {
            return Err(InvariantViolation::HeldMismatch { account, recorded: Amount::ZERO, holds });
        }
        let supply = self.genesis_supply.0.checked_add(self.minted.0).and_then(|s| s.checked_sub(self.burned.0));
        if supply != Some(sum) {
            return Err(InvariantViolation::Conservation {
                accounts: sum,
                supply: supply.unwrap_or(0),
                genesis: self.genesis_supply.0,
                minted: self.minted.0,
                burned: self.burned.0,
            });
        }
        Ok(())
    }

    /// The whole ledger in canonical order (accounts and holds sorted by id).
    pub fn snapshot(&self) -> LedgerSnapshot<T> {
        LedgerSnapshot {
            accounts: self.accounts_sorted().into_iter().map(|(id, a)| (id, a.clone())).collect(),
            holds: self.holds.values().cloned().collect(),
            next_hold: self.next_hold,
            genesis_supply: self.genesis_supply,
            minted: self.minted,
            burned: self.burned,
        }
    }

    /// Rebuild a ledger from a snapshot, refusing one that breaks an invariant.
    pub fn from_snapshot(snap: LedgerSnapshot<T>) -> Result<Ledger<T>, InvariantViolation> {
        let mut l = Ledger::new();
        l.next_hold = snap.next_hold;
        l.genesis_supply = snap.genesis_supply;
        l.minted = snap.minted;
        l.burned = snap.burned;
        for (id, account) in snap.accounts {
            l.accounts.insert(id, Slot { account, touched: 0 });
        }
        for h in snap.holds {
            if h.id.0 >= l.next_hold {
                return Err(InvariantViolation::HoldIdAhead(h.id));
            }
            l.holds.insert(h.id, h);
        }
        l.check_invariants()?;
        Ok(l)
    }

    /// Fold the changes made since this ledger was cloned into its own maps, once the other copies are gone
    /// (O(changes)); a later clone then copies nothing. See [`types::overlay`].
    pub fn flatten(&mut self) {
        self.accounts.flatten();
        self.holds.flatten();
    }

    /// Entries a clone would copy now (changes not yet folded by [`Ledger::flatten`]).
    pub fn unshared_len(&self) -> usize {
        self.accounts.delta_len() + self.holds.delta_len()
    }

    /// A copy that shares no storage with this ledger: O(accounts + holds). For measurements and tests.
    pub fn deep_clone(&self) -> Ledger<T> {
        Ledger { accounts: self.accounts.deep_clone(), holds: self.holds.deep_clone(), ..self.clone() }
    }

    #[cfg(feature = "fault-injection")]
    pub fn inject_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault;
    }

    /// The account `id` (created empty if new), recorded in the write set the first time per block.
    /// The account `id` (created empty if new), recorded in the write set the first time per block.
    fn account_mut(&mut self, id: AccountId) -> &mut Account {
        let slot = self.accounts.get_or_insert_with(id, Slot::default);
        if slot.touched != self.write_gen {
            slot.touched = self.write_gen;
            self.write_set.push(StateKey::Account(id));
        }
        &mut slot.account
    }
}
