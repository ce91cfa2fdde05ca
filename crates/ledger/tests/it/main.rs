//! Ledger scenarios: each test reads like a small story and ends by checking every invariant.

use ledger::*;
use types::{AccountId, Amount, Height};

fn id(n: u8) -> AccountId {
    AccountId([n; 32])
}
const ALICE: u8 = 1;
const BOB: u8 = 2;
const CAROL: u8 = 3;
/// The ledger stores a hold's tag without reading it; these tests tag holds with a one-byte reason code.
const ESCROW: u8 = 1;

fn genesis(balances: &[(u8, u128, u128)]) -> Ledger<u8> {
    let mut l = Ledger::new();
    for (n, free, bonded) in balances {
        l.add_genesis_account(id(*n), Amount(*free), Amount(*bonded)).expect("genesis");
    }
    l.check_invariants().expect("genesis invariants");
    l
}

fn bal(l: &Ledger<u8>, n: u8) -> (u128, u128, u128, u128) {
    let a = l.account(&id(n)).cloned().unwrap_or_default();
    (a.free.0, a.held.0, a.bonded.0, a.unbonding.0)
}

#[test]
fn transfer_moves_free_balance_and_refuses_overdraft() {
    let mut l = genesis(&[(ALICE, 100, 0)]);
    l.transfer(id(ALICE), id(BOB), Amount(60)).expect("transfer");
    let err = l.transfer(id(ALICE), id(BOB), Amount(41)).expect_err("overdraft");
    assert_eq!(err.code(), "insufficient_funds");
    assert_eq!((bal(&l, ALICE).0, bal(&l, BOB).0), (40, 60));
    l.check_invariants().expect("invariants");
}

#[test]
fn hold_partial_post_to_many_then_void_returns_the_rest() {
    let mut l = genesis(&[(ALICE, 1_000, 0)]);
    let h = l.hold_create(id(ALICE), Amount(600), ESCROW, Height(1), None).expect("hold");
    assert_eq!(bal(&l, ALICE), (400, 600, 0, 0));
    l.hold_post(h, &[(id(BOB), Amount(100)), (id(CAROL), Amount(200))]).expect("partial post");
    assert_eq!(l.hold(h).map(|h| h.amount), Some(Amount(300)));
    let err = l.hold_post(h, &[(id(BOB), Amount(301))]).expect_err("overdrawn");
    assert_eq!(err.code(), "hold_overdrawn");
    assert_eq!(l.hold_void(h), Ok(Amount(300)));
    assert_eq!(bal(&l, ALICE), (700, 0, 0, 0));
    assert_eq!((bal(&l, BOB).0, bal(&l, CAROL).0), (100, 200));
    assert_eq!(l.hold_void(h).expect_err("closed").code(), "unknown_hold");
    l.check_invariants().expect("invariants");
}

#[test]
fn whole_post_closes_the_hold() {
    let mut l = genesis(&[(ALICE, 50, 0)]);
    let h = l.hold_create(id(ALICE), Amount(50), ESCROW, Height(0), None).expect("hold");
    l.hold_post(h, &[(id(BOB), Amount(50))]).expect("post");
    assert!(l.hold(h).is_none());
    assert_eq!(bal(&l, ALICE), (0, 0, 0, 0));
    l.check_invariants().expect("invariants");
}

#[test]
fn hold_expires_only_at_its_height() {
    let mut l = genesis(&[(ALICE, 10, 0)]);
    assert_eq!(
        l.hold_create(id(ALICE), Amount(5), ESCROW, Height(5), Some(Height(5))).expect_err("past").code(),
        "expiry_in_past"
    );
    let h = l.hold_create(id(ALICE), Amount(5), ESCROW, Height(5), Some(Height(9))).expect("hold");
    assert_eq!(l.hold_expire(h, Height(8)).expect_err("early").code(), "hold_not_expired");
    assert_eq!(l.hold_expire(h, Height(9)), Ok(Amount(5)));
    assert_eq!(bal(&l, ALICE), (10, 0, 0, 0));
    l.check_invariants().expect("invariants");
}

#[test]
fn unbonded_stake_matures_into_free() {
    let mut l = genesis(&[(ALICE, 100, 0)]);
    l.bond(id(ALICE), Amount(80)).expect("bond");
    l.unbond(id(ALICE), Amount(30), Height(10), Height(20), 2).expect("unbond");
    l.unbond(id(ALICE), Amount(20), Height(12), Height(22), 2).expect("unbond");
    assert_eq!(
        l.unbond(id(ALICE), Amount(1), Height(12), Height(22), 2).expect_err("cap").code(),
        "too_many_unbonding_chunks"
    );
    assert_eq!(
        l.unbond(id(ALICE), Amount(31), Height(12), Height(22), 9).expect_err("short").code(),
        "insufficient_bonded"
    );
    assert_eq!(bal(&l, ALICE), (20, 0, 30, 50));
    assert_eq!(l.mature_unbonding(id(ALICE), Height(19)), Amount(0));
    assert_eq!(l.mature_unbonding(id(ALICE), Height(20)), Amount(30));
    assert_eq!(l.mature_unbonding(id(ALICE), Height(25)), Amount(20));
    assert_eq!(bal(&l, ALICE), (70, 0, 30, 0));
    l.check_invariants().expect("invariants");
}

#[test]
fn slash_takes_bonded_first_then_unbonding_that_was_bonded_at_the_offence() {
    let mut l = genesis(&[(ALICE, 0, 100)]);
    l.unbond(id(ALICE), Amount(30), Height(5), Height(50), 8).expect("early unbond, before the offence");
    l.unbond(id(ALICE), Amount(40), Height(12), Height(60), 8).expect("unbond after the offence");
    // Offence at height 10: 30 bonded + the 40 unbonded at 12 were at stake; the 30 unbonded at 5 were not.
    let out = l.slash(id(ALICE), Amount(100), Height(10), SlashDestination::Account(id(BOB)));
    assert_eq!(out, SlashOutcome { from_bonded: Amount(30), from_unbonding: Amount(40) });
    assert_eq!(bal(&l, ALICE), (0, 0, 0, 30));
    assert_eq!(bal(&l, BOB).0, 70);
    l.check_invariants().expect("invariants");
}

#[test]
fn slash_to_burn_and_mint_keep_supply_totals() {
    let mut l = genesis(&[(ALICE, 10, 50)]);
    let out = l.slash(id(ALICE), Amount(20), Height(0), SlashDestination::Burn);
    assert_eq!(out.total(), Amount(20));
    l.mint(id(BOB), Amount(7)).expect("mint");
    l.burn(id(ALICE), Amount(4)).expect("burn");
    assert_eq!(l.burn(id(ALICE), Amount(7)).expect_err("short").code(), "insufficient_funds");
    assert_eq!((l.genesis_supply(), l.minted(), l.burned()), (Amount(60), Amount(7), Amount(24)));
    assert_eq!(l.total_supply(), Amount(43));
    assert_eq!(l.mint(id(BOB), Amount::MAX).expect_err("overflow").code(), "amount_overflow");
    l.check_invariants().expect("invariants");
}

#[test]
fn failed_operations_change_nothing() {
    let mut l = genesis(&[(ALICE, 10, 0)]);
    let before = l.accounts_sorted().into_iter().map(|(k, a)| (k, a.clone())).collect::<Vec<_>>();
    let _ = l.take_write_set();
    assert!(l.transfer(id(ALICE), id(BOB), Amount(11)).is_err());
    assert!(l.bond(id(ALICE), Amount(0)).is_err());
    assert!(l.unbond(id(ALICE), Amount(1), Height(1), Height(2), 4).is_err());
    assert!(l.hold_post(ledger::HoldId(9), &[(id(BOB), Amount(1))]).is_err());
    let after = l.accounts_sorted().into_iter().map(|(k, a)| (k, a.clone())).collect::<Vec<_>>();
    assert_eq!(before, after);
    assert!(l.take_write_set().is_empty(), "a refused operation must not touch state");
}

#[test]
fn write_set_is_sorted_and_deduplicated() {
    let mut l = genesis(&[(BOB, 10, 0), (ALICE, 10, 0)]);
    let _ = l.take_write_set();
    l.transfer(id(BOB), id(ALICE), Amount(1)).expect("t");
    l.transfer(id(ALICE), id(BOB), Amount(1)).expect("t");
    assert_eq!(l.take_write_set(), vec![StateKey::Account(id(ALICE)), StateKey::Account(id(BOB))]);
}
