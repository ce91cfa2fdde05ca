//! Forks: a copy of the state that executes blocks and is then committed or dropped, without ever writing
//! the committed state, and without copying it.

use crate::harness::{id, small_params, Net};
use engine::{Call, Engine, ForkError, GenesisService, JobKind, JobOrder, Params, Role};
use types::{Amount, JobId, Ppb};

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
    let params = Params {
        miner_stake_min: Amount(100),
        oracle_stake_min: Amount(100),
        data_owner_stake_min: Amount(100),
        coordinator_stake_min: Amount(100),
        protocol_fee: Ppb::new(100_000_000).expect("10%"),
        selection_cooldown: 0,
        ..small_params()
    };
    let mut accounts = vec![("alice", 10_000, 100), ("qc", 10_000, 0), ("gds", 1_000, 100), ("do1", 1_000, 100)];
    accounts.extend([("m1", 100, 100), ("m2", 100, 100), ("m3", 100, 100), ("m4", 100, 100), ("o1", 100, 100)]);
    let service = GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(30),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
    };
    let mut net = Net::with_system(&accounts, params, vec![service], &[("treasury", 1_000)]);
    let reg = |role: Role, services: Vec<u32>| Call::RegisterNode {
        roles: vec![role],
        services,
        capacity: 2,
        endpoint: "http://n".into(),
    };
    let mut txs: Vec<_> = ["m1", "m2", "m3", "m4"].iter().map(|m| net.tx(m, reg(Role::Miner, vec![1]))).collect();
    txs.push(net.tx("o1", reg(Role::Oracle, vec![])));
    txs.push(net.tx("gds", reg(Role::Coordinator, vec![])));
    txs.push(net.tx("do1", reg(Role::DataOwner, vec![])));
    block_on_fork(&mut net, txs);
    let order = JobOrder {
        id: JobId([7; 16]),
        kind: JobKind::Horizontal,
        qc: id("qc"),
        dos: vec![id("do1")],
        price_per_do: Amount(50),
        complexity: 1,
        mpc_factor: 1,
        epochs: 2,
        quote: Amount(120),
    };
    let txs = vec![
        net.tx("alice", Call::HoldCreate { amount: Amount(500), expires_at: None }),
        net.tx("alice", Call::SubmitRequest { service: 1, max_price: Amount(30), avoid: vec![] }),
        net.tx("alice", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] }),
        net.tx("gds", Call::OrderJob { order }),
    ];
    block_on_fork(&mut net, txs);
    let txs = vec![
        net.tx("qc", Call::SubmitJobQuery { job: JobId([7; 16]), amount: Amount(120) }),
        net.tx("alice", Call::HoldPost { hold: types::HoldId(1), payouts: vec![(id("qc"), Amount(200))] }),
        net.tx("alice", Call::Transfer { to: id("m1"), amount: Amount(10) }),
    ];
    block_on_fork(&mut net, txs);
    for _ in 0..3 {
        block_on_fork(&mut net, Vec::new());
    }
    assert_eq!(
        net.chain.engine.state_root().to_string(),
        "2bb0cb213fe17578b28aeb565d692c856fbf4754dce4994ed26bd11420ed710f",
        "the root pinned by golden.rs"
    );
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
