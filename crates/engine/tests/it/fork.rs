//! Forks: a copy of the state that executes blocks and is then committed or dropped, without ever writing
//! the committed state, and without copying it.

use crate::harness::{id, small_params, Net};
use engine::{Call, Engine, ForkError};
use types::Amount;

/// Run `txs` as the next block on a fork of `net.chain.engine`, check the committed state did not change by a
/// byte, then commit the fork.
fn block_on_fork(net: &mut Net, txs: Vec<engine::SignedTx>) {
    let committed_bytes = net.chain.engine.snapshot();
    let fork = net.chain.engine.fork();
    let committed = std::mem::replace(&mut net.chain.engine, fork);
    net.block(txs);
    assert_eq!(committed.snapshot(), committed_bytes, "a fork never writes the committed state");
    assert_eq!(committed.unshared_len(), 0, "the committed state's maps stay folded");
    let fork = std::mem::replace(&mut net.chain.engine, committed);
    net.chain.engine.commit(fork).expect("forked from the head");
    assert_eq!(net.chain.engine.unshared_len(), 0, "a commit folds the fork's changes once it is the only owner");
}

/// The golden chain (every kind of hold, a job, a task, a request), each block run on a fork and committed:
/// the same state root as running it directly.
#[test]
fn blocks_run_on_forks_and_committed_give_the_pinned_root() {
    let net = crate::golden::every_kind_of_hold(&mut block_on_fork);
    assert_eq!(net.chain.engine.state_root().to_string(), crate::golden::PINNED_ROOT, "the root pinned by golden.rs");
}

fn two_accounts() -> Net {
    Net::new(&[("alice", 1_000_000, 0), ("bob", 1_000_000, 0)], small_params())
}

/// A dropped fork leaves nothing behind; the same blocks run directly give the fork's roots.
#[test]
fn a_dropped_fork_leaves_no_trace_and_replays_identically() {
    let mut net = two_accounts();
    net.empty_blocks(1);
    let before = net.chain.engine.snapshot();
    let mut roots = Vec::new();
    let committed = std::mem::replace(&mut net.chain.engine, Engine::restore(&before).expect("restore"));
    net.chain.engine = committed.fork();
    for i in 0..5 {
        let txs = vec![net.tx("alice", Call::Transfer { to: id("bob"), amount: Amount(100 + i) })];
        net.block(txs);
        roots.push(net.chain.engine.state_root());
    }
    let fork = std::mem::replace(&mut net.chain.engine, committed);
    assert_eq!(fork.ledger().free(&id("bob")), Amount(1_000_510));
    drop(fork);
    assert_eq!(net.chain.engine.snapshot(), before, "dropping the fork changed the committed state");
    assert_eq!(net.chain.engine.ledger().free(&id("bob")), Amount(1_000_000));

    let mut direct = two_accounts();
    direct.empty_blocks(1);
    for (i, root) in roots.iter().enumerate() {
        let txs = vec![direct.tx("alice", Call::Transfer { to: id("bob"), amount: Amount(100 + i as u128) })];
        direct.block(txs);
        assert_eq!(direct.chain.engine.state_root(), *root, "block {i}: a fork computes the roots a direct run does");
    }
}

/// A fork is committed only onto the head it was forked from; a refused commit changes nothing.
#[test]
fn two_forks_of_one_head_are_independent_and_only_one_commits() {
    let mut net = two_accounts();
    let head = net.chain.engine.snapshot();
    let (mut a, mut b) = (net.chain.engine.fork(), net.chain.engine.fork());
    let pay = |net: &mut Net, e: &mut Engine, amount: u128| {
        std::mem::swap(&mut net.chain.engine, e);
        let tx = net.tx("alice", Call::Transfer { to: id("bob"), amount: Amount(amount) });
        net.block(vec![tx]);
        std::mem::swap(&mut net.chain.engine, e);
    };
    pay(&mut net, &mut a, 7);
    pay(&mut net, &mut b, 9);
    assert_eq!(a.ledger().free(&id("bob")), Amount(1_000_007));
    assert_eq!(b.ledger().free(&id("bob")), Amount(1_000_009), "each fork sees only its own block");
    assert_ne!(a.state_root(), b.state_root());
    assert_eq!(net.chain.engine.snapshot(), head);
    let b_root = b.state_root();
    net.chain.engine.commit(b).expect("b was forked from the head");
    assert_eq!(net.chain.engine.state_root(), b_root);
    let refused = net.chain.engine.commit(a);
    assert_eq!(refused, Err(ForkError::NotDescended { forked_at: types::Height(0), head: types::Height(1) }));
    assert_eq!(net.chain.engine.state_root(), b_root, "a refused commit changes nothing");
    let not_a_fork = net.chain.engine.deep_clone();
    assert!(net.chain.engine.commit(not_a_fork).is_err(), "only a fork can be committed");
}

/// Forking copies nothing after a block, and a fork that runs a block copies only the entries it changes,
/// however many accounts exist.
#[test]
fn a_fork_copies_only_what_its_blocks_change() {
    let many: Vec<(String, u128, u128)> = (0..2_000).map(|i| (format!("acct{i}"), 1_000, 0)).collect();
    let accounts: Vec<(&str, u128, u128)> = many.iter().map(|(n, f, b)| (n.as_str(), *f, *b)).collect();
    let mut net = Net::new(&accounts, small_params());
    net.empty_blocks(1);
    assert_eq!(net.chain.engine.unshared_len(), 0);
    let fork = net.chain.engine.fork();
    let committed = std::mem::replace(&mut net.chain.engine, fork);
    let tx = net.tx("acct1", Call::Transfer { to: id("acct2"), amount: Amount(5) });
    net.block(vec![tx]);
    // The sender, the recipient and the treasury's fee.
    assert_eq!(net.chain.engine.unshared_len(), 3, "the fork copied the accounts its block changed, and only those");
    assert_eq!(committed.unshared_len(), 0);
    // The first fee created the treasury's account, in the fork only.
    assert_eq!((committed.ledger().account_count(), net.chain.engine.ledger().account_count()), (2_000, 2_001));
}
