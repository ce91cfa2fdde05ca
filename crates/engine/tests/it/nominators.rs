//! Nominators and commission (issue 21) in scenarios with hand-checked numbers: a router's 1,000-token
//! reward split with 10% commission between its own 300 and nominations of 500 and 200; a commission change
//! that waits for its delay; draws weighted by own + nominated stake; slashes that reach a nominator who
//! unnominated after the offence; every refusal code.

use crate::harness::{id, small_params, Net};
use crate::routers::{heartbeat, traffic};
use engine::{Call, Event, Params, ReportedStatus, Role, ROUTERS_POOL_NAME};
use types::{Amount, Ppb};

fn params() -> Params {
    Params {
        router_stake_min: Amount(300),
        data_owner_stake_min: Amount(10),
        epoch_length: 10,
        // 2,000 per MB × 1 MB × latency factor 1 × S 0.5 (neutral reputation) = 1,000.
        router_reward_per_mb: Amount(2_000),
        router_latency_floor_ms: 0,
        router_bytes_allowance: 1_000_000_000_000,
        router_slash: Ppb::new(100_000_000).expect("10%"),
        nomination_min: Amount(10),
        commission_delay: 1,
        ..small_params()
    }
}

fn register(net: &mut Net, who: &str, role: Role) -> engine::SignedTx {
    net.tx(who, Call::RegisterNode { roles: vec![role], services: vec![], capacity: 1, endpoint: "http://r".into() })
}

/// r1 (own stake 300) relays n1; alice nominates r1 with 500 and bob with 200 in block 1; n1 attached by
/// block 3.
fn network(extra: Vec<Call>) -> Net {
    let accounts = [("r1", 100, 300), ("n1", 100, 10), ("alice", 10_000, 0), ("bob", 10_000, 0)];
    let mut net = Net::with_system(&accounts, params(), Vec::new(), &[(ROUTERS_POOL_NAME, 1_000_000)]);
    let mut txs = vec![register(&mut net, "r1", Role::Router), register(&mut net, "n1", Role::DataOwner)];
    txs.push(net.tx("alice", Call::Nominate { node: id("r1"), amount: Amount(500) }));
    txs.push(net.tx("bob", Call::Nominate { node: id("r1"), amount: Amount(200) }));
    for call in extra {
        txs.push(net.tx("r1", call));
    }
    net.block(txs);
    let accept = net.tx("r1", Call::AcceptNode { node: id("n1") });
    net.block(vec![accept]);
    let attach = net.tx("n1", Call::AttachRouter { router: id("r1") });
    net.block(vec![attach]);
    net
}

/// r1 reports 1 MB from n1 at 100% online in `epoch`, n1 confirms it; then blocks to the epoch's end.
fn earn_a_thousand(net: &mut Net, epoch: u64) {
    heartbeat(net, &["n1"]);
    let nodes = vec![traffic("n1", 1_000_000, 0, 0, 1_000_000_000)];
    let report = net.tx("r1", Call::ReportRouterEpoch { epoch, validator_latency_ms: 0, nodes });
    let claim = net.tx("n1", Call::ReportNodeTraffic { epoch, router: id("r1"), bytes: 1_000_000 });
    net.block(vec![report, claim]);
    let height = net.chain.engine.height().0;
    net.empty_blocks((epoch * 10 - height) as usize);
}

fn splits(net: &Net) -> Vec<(u128, Vec<(String, u128)>)> {
    net.events
        .iter()
        .filter_map(|e| match e {
            Event::RewardSplit { commission, parts, .. } => {
                Some((commission.0, parts.iter().map(|(a, x)| (net.name(a), x.0)).collect()))
            }
            _ => None,
        })
        .collect()
}

fn codes(net: &Net) -> Vec<String> {
    net.log.lines().filter(|l| l.contains("#")).map(|l| l.rsplit(" -> ").next().unwrap_or("").to_string()).collect()
}

#[test]
fn a_thousand_token_reward_with_ten_percent_commission_splits_270_450_180() {
    let mut net = network(vec![Call::SetCommission { commission: Ppb::new(100_000_000).expect("10%") }]);
    assert!(codes(&net).iter().all(|c| c == "ok"), "{}", net.log);
    let r1_free = net.chain.engine.ledger().free(&id("r1")).0;
    let alice_free = net.chain.engine.ledger().free(&id("alice")).0;
    earn_a_thousand(&mut net, 1);
    // Commission floor(1,000 × 10%) = 100; the 900 left by stake 300 : 500 : 200 = 270, 450, 180.
    let s = |x: &str, v: u128| (x.to_string(), v);
    assert_eq!(splits(&net), vec![(100, vec![s("alice", 450), s("bob", 180), s("r1", 270)])]);
    let ledger = net.chain.engine.ledger();
    assert_eq!(ledger.free(&id("r1")).0, r1_free - 1 + 100 + 270, "one fee (the report), commission, own part");
    assert_eq!(ledger.free(&id("alice")).0, alice_free + 450);
    assert_eq!(ledger.free(&id("bob")).0, 10_000 - 200 - 1 + 180);
    assert!(net.events.iter().any(|e| matches!(e, Event::RouterRewarded { amount, .. } if amount.0 == 1_000)));
}

#[test]
fn a_commission_change_waits_for_the_first_epoch_boundary_after_its_delay() {
    let mut net = network(Vec::new());
    // Block 4: set 20% with a delay of 1 block: the first boundary at or after height 5 is 10.
    let set = net.tx("r1", Call::SetCommission { commission: Ppb::new(200_000_000).expect("20%") });
    net.block(vec![set]);
    let c = net.chain.engine.commission(&id("r1"));
    assert_eq!(c.current, Ppb::ZERO);
    assert_eq!(c.pending, Some((Ppb::new(200_000_000).expect("20%"), types::Height(10))));
    earn_a_thousand(&mut net, 1);
    assert_eq!(net.chain.engine.commission(&id("r1")).current.raw(), 200_000_000);
    // In force for epoch 1's payout: 200, then 800 by 3 : 5 : 2.
    assert_eq!(splits(&net)[0].0, 200);
    // Block 11: a change to 5% made in epoch 2 with delay 1 applies from 20, not to a payout before.
    let set = net.tx("r1", Call::SetCommission { commission: Ppb::new(50_000_000).expect("5%") });
    net.block(vec![set]);
    assert_eq!(net.chain.engine.commission(&id("r1")).current.raw(), 200_000_000, "still 20% at height 11");
    earn_a_thousand(&mut net, 2);
    assert_eq!(splits(&net)[1].0, 50, "5% in force at the boundary of epoch 2");
}

#[test]
fn a_commission_delay_longer_than_the_epoch_skips_a_boundary() {
    let accounts = [("r1", 100, 300), ("n1", 100, 10), ("alice", 10_000, 0)];
    let p = Params { commission_delay: 10, ..params() };
    let mut net = Net::with_system(&accounts, p, Vec::new(), &[(ROUTERS_POOL_NAME, 1_000_000)]);
    let reg = register(&mut net, "r1", Role::Router);
    let set = net.tx("r1", Call::SetCommission { commission: Ppb::new(200_000_000).expect("20%") });
    net.block(vec![reg, set]);
    // Block 1 + 10 blocks = 11: the first boundary at or after 11 is 20, so epoch 1 pays no commission.
    let c = net.chain.engine.commission(&id("r1"));
    assert_eq!(c.pending.map(|(_, h)| h.0), Some(20));
    net.empty_blocks(9);
    assert_eq!(net.chain.engine.commission(&id("r1")).current, Ppb::ZERO, "epoch 1's boundary is too early");
    net.empty_blocks(10);
    assert_eq!(net.chain.engine.commission(&id("r1")).current.raw(), 200_000_000);
    assert_eq!(net.chain.engine.commission(&id("r1")).pending, None);
}

#[test]
fn draws_follow_own_plus_nominated_stake() {
    let params = Params {
        miner_stake_min: Amount(100),
        request_timeout: 1_000,
        heartbeat_timeout: 3,
        epoch_length: 10,
        nomination_min: Amount(10),
        ..small_params()
    };
    let service = engine::GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(50),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    };
    let accounts = [("a", 1_000, 100), ("b", 1_000, 100), ("fan", 1_000, 0), ("client", 1_000_000, 0)];
    let mut net = Net::with_services(&accounts, params, vec![service], 0);
    let reg = |net: &mut Net, who: &str| {
        let call = Call::RegisterNode {
            roles: vec![Role::Miner],
            services: vec![1],
            capacity: 4,
            endpoint: "http://m".into(),
        };
        net.tx(who, call)
    };
    let (a, b) = (reg(&mut net, "a"), reg(&mut net, "b"));
    let fan = net.tx("fan", Call::Nominate { node: id("b"), amount: Amount(200) });
    net.block(vec![a, b, fan]);
    assert_eq!(net.chain.engine.nominated_to(&id("b")), Amount(200));
    for _ in 0..100 {
        let mut txs: Vec<_> = (0..4)
            .map(|_| net.tx("client", Call::SubmitRequest { service: 1, max_price: Amount(500), avoid: vec![] }))
            .collect();
        txs.push(net.tx("a", Call::ReportStatus { status: ReportedStatus::Ready }));
        txs.push(net.tx("b", Call::ReportStatus { status: ReportedStatus::Ready }));
        net.block(txs);
    }
    let to_b = (1..=400u64).filter(|r| net.chain.engine.request(*r).expect("open").miner == id("b")).count();
    // Weights 100 : (100 + 200) = 1 : 3 with equal reputation: about 300 of 400 to b (seeded: exact).
    assert!((270..=330).contains(&to_b), "{to_b} of 400");
}

#[test]
fn a_slash_reaches_a_nominator_who_unnominated_after_the_offence() {
    let mut net = network(Vec::new());
    // Epoch 1: r1 does not report while n1 is attached: connectivity 0, slashed 10% of own 300 + 500 + 200.
    net.empty_blocks(7);
    let slash_splits = |net: &Net| -> Vec<Vec<(String, u128)>> {
        net.events
            .iter()
            .filter_map(|e| match e {
                Event::SlashSplit { parts, .. } => Some(parts.iter().map(|(a, x)| (net.name(a), x.0)).collect()),
                _ => None,
            })
            .collect()
    };
    let s = |x: &str, v: u128| (x.to_string(), v);
    assert_eq!(slash_splits(&net), vec![vec![s("alice", 50), s("bob", 20), s("r1", 30)]]);
    assert_eq!(net.chain.engine.nominated_to(&id("r1")), Amount(630));
    // Block 11 (epoch 2, offence height 11): alice unnominates all 450; it matures at 21, after epoch 2.
    let out = net.tx("alice", Call::Unnominate { node: id("r1"), amount: Amount(450) });
    net.block(vec![out]);
    assert!(net.log.contains("Unnominated alice -> r1 450 (active 0) matures at 21"), "{}", net.log);
    net.empty_blocks(9);
    // Epoch 2: 10% of 270 + 450 (unbonding since the offence) + 180 = 90: 27, 45, 18.
    assert_eq!(slash_splits(&net)[1], vec![s("alice", 45), s("bob", 18), s("r1", 27)]);
    let ledger = net.chain.engine.ledger();
    let alice = ledger.account(&id("alice")).expect("alice");
    assert_eq!((alice.bonded.0, alice.unbonding.0), (0, 405), "taken from her unbonding chunk");
    assert_eq!(ledger.bonded(&id("bob")).0, 162);
    assert_eq!(ledger.bonded(&id("r1")).0, 243, "own stake only: bob's nomination is bonded in bob's account");
    net.empty_blocks(1);
    assert_eq!(net.chain.engine.ledger().free(&id("alice")).0, 10_000 - 500 - 2 + 405);
    assert_eq!(net.chain.engine.nominated_by(&id("alice")), Amount::ZERO);
    assert!(net.chain.engine.nominations(&id("r1")).iter().all(|(a, _)| *a == id("bob")));
}

#[test]
fn every_refusal_has_its_code() {
    let accounts = [("r1", 100, 300), ("r2", 100, 300), ("alice", 10_000, 0), ("bob", 10_000, 0), ("carol", 10_000, 0)];
    let p = Params { nominators_per_node_max: 2, commission_max: Ppb::new(200_000_000).expect("20%"), ..params() };
    let mut net = Net::with_system(&accounts, p, Vec::new(), &[]);
    let reg = register(&mut net, "r1", Role::Router);
    net.block(vec![reg]);
    // One transaction per block: a refused transaction does not use its nonce.
    let calls = [
        ("alice", Call::Nominate { node: id("r2"), amount: Amount(100) }),
        ("alice", Call::Nominate { node: id("r1"), amount: Amount(9) }),
        ("r1", Call::Nominate { node: id("r1"), amount: Amount(50) }),
        ("alice", Call::Nominate { node: id("r1"), amount: Amount(100) }),
        ("bob", Call::Nominate { node: id("r1"), amount: Amount(100) }),
        ("carol", Call::Nominate { node: id("r1"), amount: Amount(100) }),
        ("alice", Call::Nominate { node: id("r1"), amount: Amount(50) }),
        ("alice", Call::Unnominate { node: id("r1"), amount: Amount(151) }),
        ("carol", Call::Unnominate { node: id("r1"), amount: Amount(1) }),
        ("alice", Call::Unbond { amount: Amount(1) }),
        ("r1", Call::SetCommission { commission: Ppb::new(200_000_001).expect("ppb") }),
        ("alice", Call::SetCommission { commission: Ppb::ZERO }),
        ("r1", Call::SetCommission { commission: Ppb::new(200_000_000).expect("20%") }),
    ];
    for (who, call) in calls {
        let tx = net.tx(who, call);
        net.block(vec![tx]);
    }
    let expected = [
        "ok",
        "unknown_node",
        "below_nomination_min",
        "self_nomination",
        "ok",
        "ok",
        "too_many_nominators",
        "ok",
        "no_nomination",
        "no_nomination",
        "stake_nominated",
        "commission_too_high",
        "not_registered",
        "ok",
    ];
    assert_eq!(codes(&net), expected, "{}", net.log);
    // alice bonds a little of her own: she may unbond it, not her nomination.
    for call in
        [Call::Bond { amount: Amount(5) }, Call::Unbond { amount: Amount(5) }, Call::Unbond { amount: Amount(1) }]
    {
        let tx = net.tx("alice", call);
        net.block(vec![tx]);
    }
    assert_eq!(&codes(&net)[expected.len()..], ["ok", "ok", "stake_nominated"]);
    // Deregistering unbonds r1's own stake only.
    let reg2 = register(&mut net, "r2", Role::Router);
    net.block(vec![reg2]);
    let nominate = net.tx("r1", Call::Nominate { node: id("r2"), amount: Amount(10) });
    net.block(vec![nominate]);
    let leave = net.tx("r1", Call::DeregisterNode);
    net.block(vec![leave]);
    assert!(net.log.contains("NodeDeregistered r1 unbonding 300"), "{}", net.log);
    assert_eq!(net.chain.engine.ledger().bonded(&id("r1")).0, 10);
}
