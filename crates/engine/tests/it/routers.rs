//! Routers, emission and curated lists in scenarios (DESIGN §7): router rewards computed by hand
//! (including a latency that clamps the reward to zero and a pool too small to pay), the 75% connectivity
//! line (74% slashed, 76% not), reports refused from strangers, for another epoch or twice; emission
//! conserved across epochs; published lists that clients avoid.

use crate::harness::{id, small_params, Net};
use engine::{Call, Event, ListRef, NodeTraffic, Params, Role, ROUTERS_POOL_NAME};
use types::{AccountId, Amount, Ppb};

fn params() -> Params {
    Params {
        router_stake_min: Amount(1_000),
        data_owner_stake_min: Amount(10),
        miner_stake_min: Amount(10),
        epoch_length: 10,
        router_reward_per_mb: Amount(1_000),
        router_latency_weight_milli: 1_000,
        router_latency_max_ms: 1_000,
        router_connectivity_min: Ppb::new(750_000_000).expect("75%"),
        router_slash: Ppb::new(100_000_000).expect("10%"),
        // These scenarios check the formula; the evidence cap and the latency floor have attack tests.
        router_bytes_allowance: 1_000_000_000_000,
        router_latency_floor_ms: 0,
        ..small_params()
    }
}

fn register(net: &mut Net, who: &str, role: Role) -> engine::SignedTx {
    net.tx(who, Call::RegisterNode { roles: vec![role], services: vec![], capacity: 1, endpoint: "http://r".into() })
}

pub(crate) fn traffic(node: &str, bytes_in: u64, bytes_out: u64, latency_ms: u32, online: u32) -> NodeTraffic {
    NodeTraffic { node: id(node), bytes_in, bytes_out, latency_ms, online: Ppb::new(online).expect("ppb") }
}

/// r1 relays n1 and n2, r2 relays n3; everyone registered and attached in blocks 1 and 2.
pub(crate) fn network(pool: u128) -> Net {
    let accounts =
        [("r1", 100, 10_000), ("r2", 100, 10_000), ("n1", 100, 10), ("n2", 100, 10), ("n3", 100, 10), ("eve", 100, 10)];
    let mut net = Net::with_system(&accounts, params(), Vec::new(), &[(ROUTERS_POOL_NAME, pool)]);
    let mut txs = vec![register(&mut net, "r1", Role::Router), register(&mut net, "r2", Role::Router)];
    for n in ["n1", "n2", "n3", "eve"] {
        txs.push(register(&mut net, n, Role::DataOwner));
    }
    net.block(txs);
    let accept = vec![
        net.tx("r1", Call::AcceptNode { node: id("n1") }),
        net.tx("r1", Call::AcceptNode { node: id("n2") }),
        net.tx("r2", Call::AcceptNode { node: id("n3") }),
    ];
    net.block(accept);
    let attach = vec![
        net.tx("n1", Call::AttachRouter { router: id("r1") }),
        net.tx("n2", Call::AttachRouter { router: id("r1") }),
        net.tx("n3", Call::AttachRouter { router: id("r2") }),
        net.tx("eve", Call::AttachRouter { router: id("n1") }),
    ];
    net.block(attach);
    net
}

/// Each node reports its status (a heartbeat: the engine's own record that it was online), in one block.
pub(crate) fn heartbeat(net: &mut Net, nodes: &[&str]) {
    let txs = nodes.iter().map(|n| net.tx(n, Call::ReportStatus { status: engine::ReportedStatus::Ready })).collect();
    net.block(txs);
}

fn rewards(net: &Net) -> Vec<(String, u128, u128, u32, u32)> {
    net.events
        .iter()
        .filter_map(|e| match e {
            Event::RouterRewarded { router, owed, amount, latency_factor, reputation, .. } => {
                Some((net.name(router), owed.0, amount.0, latency_factor.raw(), reputation.raw()))
            }
            _ => None,
        })
        .collect()
}

fn slashes(net: &Net) -> Vec<(String, u128, u32)> {
    net.events
        .iter()
        .filter_map(|e| match e {
            Event::RouterSlashed { router, amount, connectivity, .. } => {
                Some((net.name(router), amount.0, connectivity.raw()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn router_rewards_by_hand_a_clamped_latency_and_the_75_percent_line() {
    let mut net = network(1_000_000);
    heartbeat(&mut net, &["n1", "n2", "n3"]);
    assert!(net.log.contains("eve#1 attach to router n1 -> invalid_router_report"), "{}", net.log);
    // r1: n1 claims 4,000,000 bytes by the router and confirms 3,500,000; n2's 2,000,000 are unconfirmed.
    // B = 3,500,000; Ln = (100 + 300) / 2 = 200, Lv = 200: factor 1 − 400/1000 = 0.6; S = 0.5 (neutral).
    // R = 1,000 × 3.5 × 0.6 × 0.5 = 1,050. Online 74% and 74%: connectivity 74% < 75%, slashed 10%.
    let r1 = net.tx(
        "r1",
        Call::ReportRouterEpoch {
            epoch: 1,
            validator_latency_ms: 200,
            nodes: vec![
                traffic("n1", 3_000_000, 1_000_000, 100, 740_000_000),
                traffic("n2", 2_000_000, 0, 300, 740_000_000),
            ],
        },
    );
    // r2: n3 at 900 ms plus 200 ms to the validator: 1 − 1100/1000 < 0, clamped to a zero reward.
    // Online 76%: not slashed.
    let r2 = net.tx(
        "r2",
        Call::ReportRouterEpoch {
            epoch: 1,
            validator_latency_ms: 200,
            nodes: vec![traffic("n3", 5_000_000, 5_000_000, 900, 760_000_000)],
        },
    );
    let n1 = net.tx("n1", Call::ReportNodeTraffic { epoch: 1, router: id("r1"), bytes: 3_500_000 });
    let n3 = net.tx("n3", Call::ReportNodeTraffic { epoch: 1, router: id("r2"), bytes: 10_000_000 });
    net.block(vec![r1, r2, n1, n3]);
    // Refused: a stranger's report, another epoch, a second report, a node not attached, a claim
    // through a router the node is not attached to.
    let stranger = net.tx("eve", Call::ReportRouterEpoch { epoch: 1, validator_latency_ms: 1, nodes: vec![] });
    let other_epoch = net.tx("r2", Call::ReportRouterEpoch { epoch: 2, validator_latency_ms: 1, nodes: vec![] });
    net.block(vec![stranger, other_epoch]);
    let twice = net.tx("r1", Call::ReportRouterEpoch { epoch: 1, validator_latency_ms: 1, nodes: vec![] });
    let wrong_claim = net.tx("n2", Call::ReportNodeTraffic { epoch: 1, router: id("r2"), bytes: 1 });
    let claim_twice = net.tx("n1", Call::ReportNodeTraffic { epoch: 1, router: id("r1"), bytes: 1 });
    net.block(vec![twice, wrong_claim, claim_twice]);
    let codes: Vec<&str> = net
        .log
        .lines()
        .filter(|l| l.contains(" -> ") && l.contains("#"))
        .map(|l| l.rsplit(" -> ").next().unwrap_or(""))
        .collect();
    assert_eq!(
        &codes[codes.len() - 5..],
        ["not_authorized", "wrong_epoch", "already_reported", "not_authorized", "already_reported"],
        "{}",
        net.log
    );
    let height = net.chain.engine.height().0 as usize;
    net.empty_blocks(10 - height);
    assert_eq!(
        rewards(&net),
        vec![("r1".into(), 1_050, 1_050, 600_000_000, 500_000_000), ("r2".into(), 0, 0, 0, 500_000_000)]
    );
    assert_eq!(slashes(&net), vec![("r1".into(), 1_000, 740_000_000)], "74% is slashed, 76% is not");
    assert_eq!(net.chain.engine.ledger().bonded(&id("r1")).0, 9_000);
    assert_eq!(net.chain.engine.ledger().bonded(&id("r2")).0, 10_000);
    assert_eq!(
        net.chain.engine.ledger().free(&id("r1")).0,
        100 - 4 + 1_050,
        "four fees (register, two accepts, report)"
    );
    // A router that does not report while nodes are attached has 0% connectivity.
    net.empty_blocks(10);
    assert_eq!(slashes(&net).len(), 3, "both routers slashed in epoch 2 for not reporting: {:?}", slashes(&net));
}

#[test]
fn a_short_routers_pool_pays_pro_rata() {
    let mut net = network(700);
    heartbeat(&mut net, &["n1", "n2", "n3"]);
    let r1 = net.tx(
        "r1",
        Call::ReportRouterEpoch {
            epoch: 1,
            validator_latency_ms: 0,
            nodes: vec![traffic("n1", 1_000_000, 0, 0, 1_000_000_000)],
        },
    );
    let r2 = net.tx(
        "r2",
        Call::ReportRouterEpoch {
            epoch: 1,
            validator_latency_ms: 0,
            nodes: vec![traffic("n3", 3_000_000, 0, 0, 1_000_000_000)],
        },
    );
    let c1 = net.tx("n1", Call::ReportNodeTraffic { epoch: 1, router: id("r1"), bytes: 1_000_000 });
    let c3 = net.tx("n3", Call::ReportNodeTraffic { epoch: 1, router: id("r2"), bytes: 3_000_000 });
    net.block(vec![r1, r2, c1, c3]);
    let height = net.chain.engine.height().0 as usize;
    net.empty_blocks(10 - height);
    // Owed 500 and 1,500 (S = 0.5, no latency); the pool holds 700: 175 and 525, exactly the pool.
    let paid: Vec<(String, u128, u128)> = rewards(&net).into_iter().map(|(r, o, a, _, _)| (r, o, a)).collect();
    assert_eq!(paid, vec![("r1".into(), 500, 175), ("r2".into(), 1_500, 525)]);
    assert_eq!(net.chain.engine.ledger().free(&AccountId::system(ROUTERS_POOL_NAME)).0, 0);
    // n2 sent nothing through r1 and was not reported: r1's connectivity is (100% + 0) / 2 = 50%.
    assert_eq!(slashes(&net), vec![("r1".into(), 1_000, 500_000_000)]);
}

#[test]
fn emission_is_minted_split_paid_and_swept_and_tokens_are_conserved_across_epochs() {
    let producer = id("producer");
    let p = Params {
        emission_per_epoch: Amount(1_000_000),
        block_producer: Some(producer),
        points_block: 10,
        epoch_length: 5,
        ..small_params()
    };
    let mut net = Net::new(&[("producer", 0, 0), ("alice", 1_000, 0)], p);
    let genesis = net.chain.engine.ledger().total_supply().0;
    net.empty_blocks(15);
    let ledger = net.chain.engine.ledger();
    assert_eq!(ledger.minted().0, 3 * 1_000_000);
    assert_eq!(ledger.total_supply().0, genesis + 3 * 1_000_000);
    let mints: Vec<u128> = net
        .events
        .iter()
        .filter_map(|e| if let Event::EmissionMinted { total, .. } = e { Some(total.0) } else { None })
        .collect();
    assert_eq!(mints, vec![1_000_000; 3]);
    // The producer is the only node with points: it takes the whole points share (30%) each epoch.
    assert_eq!(ledger.free(&producer).0, 3 * 300_000);
    // Nobody worked or routed: the miners' (40%) and routers' (15%) shares return to the treasury, which also
    // keeps its own 5%; the background pool keeps one epoch's share (10%) as its budget.
    assert_eq!(ledger.free(&net.chain.engine.treasury()).0, 3 * (400_000 + 150_000 + 50_000) + 2 * 100_000);
    assert_eq!(ledger.free(&AccountId::system(engine::BACKGROUND_POOL_NAME)).0, 100_000);
    let swept: u128 = net
        .events
        .iter()
        .filter_map(|e| if let Event::PoolSwept { amount, .. } = e { Some(amount.0) } else { None })
        .sum();
    assert_eq!(swept, 3 * 550_000 + 2 * 100_000, "every sweep is an event");
    net.chain.engine.check_invariants().expect("conservation with minting");
}

#[test]
fn a_staked_account_publishes_a_list_and_a_client_avoiding_it_never_gets_its_nodes() {
    let services = vec![engine::GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(5),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    }];
    let accounts = [("m1", 10, 100), ("m2", 10, 100), ("curator", 10, 1), ("idle", 10, 0), ("client", 1_000, 0)];
    let mut net = Net::with_system(&accounts, params(), services, &[]);
    let reg = |net: &mut Net, m: &str| {
        net.tx(
            m,
            Call::RegisterNode {
                roles: vec![Role::Miner],
                services: vec![1],
                capacity: 100,
                endpoint: "http://m".into(),
            },
        )
    };
    let txs = vec![reg(&mut net, "m1"), reg(&mut net, "m2")];
    net.block(txs);
    let publish = net.tx("curator", Call::PublishList { name: "slow".into(), nodes: vec![id("m1")] });
    let unstaked = net.tx("idle", Call::PublishList { name: "mine".into(), nodes: vec![id("m2")] });
    net.block(vec![publish, unstaked]);
    let bad_name = net.tx("curator", Call::PublishList { name: "no spaces".into(), nodes: vec![] });
    net.block(vec![bad_name]);
    assert!(net.log.contains("idle#0 publish list mine [m2] -> no_stake"), "{}", net.log);
    assert!(net.log.contains("publish list no spaces [] -> invalid_list"), "{}", net.log);
    let avoid = vec![ListRef { owner: Some(id("curator")), name: "slow".into() }];
    let txs: Vec<_> = (0..12)
        .map(|_| net.tx("client", Call::SubmitRequest { service: 1, max_price: Amount(5), avoid: avoid.clone() }))
        .collect();
    net.block(txs);
    let miners: Vec<AccountId> = (1..=12).map(|r| net.chain.engine.request(r).expect("request").miner).collect();
    assert!(miners.iter().all(|m| *m == id("m2")), "a node on an avoided list was assigned");
    let txs: Vec<_> = (0..12)
        .map(|_| net.tx("client", Call::SubmitRequest { service: 1, max_price: Amount(5), avoid: vec![] }))
        .collect();
    net.block(txs);
    let miners: Vec<AccountId> = (13..=24).map(|r| net.chain.engine.request(r).expect("request").miner).collect();
    assert!(miners.contains(&id("m1")), "without the list m1 is drawn too");
}
