//! A pinned state root: a short chain that opens a hold of every kind (a payment, a request's price, a
//! task's price, a job's StakeIn and its coordinator's report bond) and moves money through each. A refactoring of how state is kept must
//! leave these bytes alone; a change of the rules changes them on purpose, and says so.

use crate::harness::{small_params, Net};
use engine::{Call, GenesisService, JobKind, JobOrder, Params, Role};
use expect_test::expect;
use types::{Amount, JobId, Ppb};

/// The pinned root of [`every_kind_of_hold`].
pub const PINNED_ROOT: &str = "a21985314f519fd6e7824104d6a8dd9733e1fa81d72e7a875297fbf64e568835";

#[test]
fn the_state_root_of_a_chain_with_every_kind_of_hold_is_pinned() {
    let net = every_kind_of_hold(&mut |net, txs| net.block(txs));
    let refused: Vec<&str> =
        net.log.lines().filter(|l| l.starts_with("  ") && !l.starts_with("  *") && !l.ends_with("-> ok")).collect();
    assert!(refused.is_empty(), "every transaction applies: {refused:?}");
    assert_eq!(net.chain.engine.ledger().holds().count(), 5, "one hold of each kind is open");
    expect!["a21985314f519fd6e7824104d6a8dd9733e1fa81d72e7a875297fbf64e568835"]
        .assert_eq(&net.chain.engine.state_root().to_string());
    assert_eq!(net.chain.engine.state_root().to_string(), PINNED_ROOT);
}

/// The golden chain: every block handed to `block` (a test may run it on a fork), then three empty ones.
pub fn every_kind_of_hold(block: &mut dyn FnMut(&mut Net, Vec<engine::SignedTx>)) -> Net {
    let params = Params {
        miner_stake_min: Amount(100),
        oracle_stake_min: Amount(100),
        oracle_fee: Amount(100),
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
        semantic_poi: false,
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
    block(&mut net, txs);
    let order = JobOrder {
        id: JobId([7; 16]),
        kind: JobKind::Horizontal,
        qc: crate::harness::id("qc"),
        dos: vec![crate::harness::id("do1")],
        price_per_do: Amount(50),
        complexity: 1,
        mpc_factor: 1,
        epochs: 2,
        quote: Amount(120),
        batches: 1,
        duration_max: 1_000,
    };
    let txs = vec![
        net.tx("alice", Call::HoldCreate { amount: Amount(500), expires_at: None }),
        net.tx("alice", Call::SubmitRequest { service: 1, max_price: Amount(30), avoid: vec![] }),
        net.tx("alice", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] }),
        net.tx("gds", Call::OrderJob { order }),
    ];
    block(&mut net, txs);
    let txs = vec![
        net.tx("qc", Call::SubmitJobQuery { job: JobId([7; 16]), amount: Amount(120) }),
        net.tx(
            "alice",
            Call::HoldPost { hold: types::HoldId(1), payouts: vec![(crate::harness::id("qc"), Amount(200))] },
        ),
        net.tx("alice", Call::Transfer { to: crate::harness::id("m1"), amount: Amount(10) }),
    ];
    block(&mut net, txs);
    for _ in 0..3 {
        block(&mut net, Vec::new());
    }
    net
}
