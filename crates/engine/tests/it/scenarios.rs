//! Scenarios: commands in, a readable outcome out, compared with an inline snapshot.

use crate::harness::{id, small_params, Net};
use engine::{Call, Params, SignatureCheck};
use expect_test::{expect, Expect};
use ledger::HoldId;
use types::{Amount, Height, Signature};

fn check(net: &mut Net, expected: Expect) {
    net.balances();
    expected.assert_eq(&net.log);
}

fn transfer(to: &str, amount: u128) -> Call {
    Call::Transfer { to: id(to), amount: Amount(amount) }
}

#[test]
fn transfers_pay_fees_to_the_treasury_and_rejections_change_nothing() {
    let mut net = Net::new(&[("alice", 1_000, 0)], small_params());
    let t1 = net.tx("alice", transfer("bob", 100));
    let t2 = net.tx("alice", transfer("bob", 1_000)); // 1,000 + fee 1 > 899 left
    let replay = t1.clone();
    let low_fee = net.tx_with("alice", 0, transfer("bob", 5));
    let zero = net.tx("alice", transfer("bob", 0));
    net.block(vec![t1, t2, replay, low_fee, zero]);
    let t3 = net.tx("bob", transfer("carol", 50));
    net.block(vec![t3]);
    check(
        &mut net,
        expect![[r#"
            block 1:
              alice#0 transfer 100 to bob -> ok
              alice#1 transfer 1000 to bob -> insufficient_funds
              alice#0 transfer 100 to bob -> bad_nonce
              alice#2 transfer 5 to bob -> fee_too_low
              alice#3 transfer 0 to bob -> bad_nonce
              * TransferPosted alice -> bob 100
            block 2:
              bob#0 transfer 50 to carol -> ok
              * TransferPosted bob -> carol 50
            balances (free held bonded unbonding):
              alice: 899 0 0 0
              bob: 49 0 0 0
              carol: 50 0 0 0
              treasury: 2 0 0 0
        "#]],
    );
}

#[test]
fn zero_amount_transfer_is_refused() {
    let mut net = Net::new(&[("alice", 10, 0)], small_params());
    let t = net.tx("alice", transfer("bob", 0));
    net.block(vec![t]);
    check(
        &mut net,
        expect![[r#"
            block 1:
              alice#0 transfer 0 to bob -> zero_amount
            balances (free held bonded unbonding):
              alice: 10 0 0 0
        "#]],
    );
}

#[test]
fn a_forged_signature_is_rejected_and_changes_nothing() {
    let mut net = Net::new(&[("alice", 100, 0)], small_params());
    let mut forged = net.tx("alice", transfer("bob", 60));
    forged.signature = Signature([7; 64]);
    let genuine = net.tx("alice", transfer("carol", 10)); // nonce 1: stale after the forgery is refused
    let root_before = net.chain.engine.state_root();
    net.block(vec![forged, genuine]);
    assert_ne!(net.chain.engine.state_root(), root_before);
    check(
        &mut net,
        expect![[r#"
            block 1:
              alice#0 transfer 60 to bob -> bad_signature
              alice#1 transfer 10 to carol -> bad_nonce
            balances (free held bonded unbonding):
              alice: 100 0 0 0
        "#]],
    );
}

#[test]
fn unbonded_stake_becomes_free_after_the_unbonding_period() {
    let mut net = Net::new(&[("alice", 100, 0)], small_params());
    let b = net.tx("alice", Call::Bond { amount: Amount(60) });
    let u = net.tx("alice", Call::Unbond { amount: Amount(25) });
    let over = net.tx("alice", Call::Unbond { amount: Amount(36) });
    net.block(vec![b, u, over]);
    net.empty_blocks(3);
    check(
        &mut net,
        expect![[r#"
            block 1:
              alice#0 bond 60 -> ok
              alice#1 unbond 25 -> ok
              alice#2 unbond 36 -> insufficient_bonded
              * Bonded alice 60
              * UnbondStarted alice 25 matures at 4
            block 2:
            block 3:
            block 4:
              * UnbondMatured alice 25
            balances (free held bonded unbonding):
              alice: 63 0 35 0
              treasury: 2 0 0 0
        "#]],
    );
}

#[test]
fn holds_post_partially_void_expire_and_only_their_payer_may_touch_them() {
    let mut net = Net::new(&[("alice", 1_000, 0), ("bob", 10, 0)], small_params());
    let h1 = net.tx("alice", Call::HoldCreate { amount: Amount(300), expires_at: None });
    let h2 = net.tx("alice", Call::HoldCreate { amount: Amount(200), expires_at: Some(Height(3)) });
    net.block(vec![h1, h2]);
    let steal = net.tx("bob", Call::HoldPost { hold: HoldId(1), payouts: vec![(id("bob"), Amount(300))] });
    let post = net.tx(
        "alice",
        Call::HoldPost { hold: HoldId(1), payouts: vec![(id("bob"), Amount(100)), (id("carol"), Amount(50))] },
    );
    let overdraw = net.tx("alice", Call::HoldPost { hold: HoldId(1), payouts: vec![(id("bob"), Amount(151))] });
    net.block(vec![steal, post, overdraw]);
    let void = net.tx("alice", Call::HoldVoid { hold: HoldId(1) });
    let gone = net.tx("alice", Call::HoldVoid { hold: HoldId(1) });
    net.block(vec![void, gone]);
    check(
        &mut net,
        expect![[r#"
            block 1:
              alice#0 hold 300 -> ok
              alice#1 hold 200 until 3 -> ok
              * HoldCreated #1 by alice 300 expires None
              * HoldCreated #2 by alice 200 expires Some(Height(3))
            block 2:
              bob#0 post #1: 300 to bob -> not_authorized
              alice#2 post #1: 100 to bob, 50 to carol -> ok
              alice#3 post #1: 151 to bob -> hold_overdrawn
              * HoldPosted #1 2 payouts, 150 left
            block 3:
              alice#3 void #1 -> ok
              alice#4 void #1 -> unknown_hold
              * HoldVoided #1 150 back to alice
              * HoldExpired #2 200 back to alice
            balances (free held bonded unbonding):
              alice: 846 0 0 0
              bob: 110 0 0 0
              carol: 50 0 0 0
              treasury: 4 0 0 0
        "#]],
    );
}

#[test]
fn the_epoch_hook_runs_every_epoch_length_blocks() {
    let mut net = Net::new(&[("alice", 10, 0)], Params { epoch_length: 2, ..small_params() });
    net.empty_blocks(5);
    check(
        &mut net,
        expect![[r#"
            block 1:
            block 2:
              * ListPublished network/underperformers 0 nodes
              * EpochEnded 1 at 2
            block 3:
            block 4:
              * ListPublished network/underperformers 0 nodes
              * EpochEnded 2 at 4
            block 5:
            balances (free held bonded unbonding):
              alice: 10 0 0 0
        "#]],
    );
}

#[test]
fn replaying_the_blocks_reproduces_every_root_and_a_tampered_block_is_refused() {
    let mut net = Net::new(&[("alice", 1_000, 0)], small_params());
    let genesis = net.chain.engine.clone();
    let mut blocks = Vec::new();
    for i in 0..5u128 {
        let t = net.tx("alice", transfer("bob", 10 + i));
        let sigs = engine::verify_signatures(std::slice::from_ref(&t), "stakework-local");
        blocks.push(net.chain.engine.produce_block(vec![t], &sigs).expect("block").0);
    }
    let mut replica = genesis.clone();
    for b in &blocks {
        let out = replica.apply_block(b).expect("replay");
        assert_eq!(out.state_root, b.state_root);
    }
    assert_eq!(replica.state_root(), net.chain.engine.state_root());
    assert_eq!(replica.last_block_hash(), net.chain.engine.last_block_hash());

    let mut tampered = blocks[0].clone();
    if let Call::Transfer { amount, .. } = &mut tampered.txs[0].body.call {
        *amount = Amount(999);
    }
    let err = genesis.clone().apply_block(&tampered).expect_err("tampered");
    assert_eq!(err.code(), "state_root_mismatch", "a bad signature changes nothing, so the root differs: {err}");
    let err = genesis.clone().apply_block(&blocks[1]).expect_err("skips a height");
    assert_eq!(err.code(), "wrong_height");
    let wrong_sigs = SignatureCheck::trusted_all_valid(3);
    let err = genesis.clone().apply_block_preverified(&blocks[0], &wrong_sigs).expect_err("mismatch");
    assert_eq!(err.code(), "signature_check_mismatch");
}
/// Regression: a refactor once dropped account changes from the write set, so every block hashed as if
/// empty and replay still "matched". A block that changes balances must change the root differently from
/// an empty block at the same height.
#[test]
fn write_set_lost_account_changes() {
    let mut net = Net::new(&[("alice", 1_000, 0)], small_params());
    let mut empty = net.chain.engine.clone();
    let t = net.tx("alice", transfer("bob", 10));
    net.block(vec![t]);
    let (b, _) = empty.produce_block(vec![], &SignatureCheck::trusted_all_valid(0)).expect("empty block");
    assert_ne!(net.chain.engine.state_root(), b.state_root);
}
