//! Attacks on router rewards (seed 003, DESIGN §7): attachment without consent, self-reported bandwidth
//! and connectivity, escaping a slash, the 75% boundary.

use crate::harness::{id, small_params, Net};
use engine::{Call, Event, NodeTraffic, Params, Role, ROUTERS_POOL_NAME};
use types::{Amount, Ppb};

/// Routers with collateral 10,000 and a 10% slash, ten-block epochs.
fn params() -> Params {
    Params {
        router_stake_min: Amount(1_000),
        data_owner_stake_min: Amount(10),
        miner_stake_min: Amount(10),
        epoch_length: 10,
        unbonding_period: 100,
        router_reward_per_mb: Amount(1_000),
        router_latency_weight_milli: 1_000,
        router_latency_max_ms: 1_000,
        router_connectivity_min: Ppb::new(750_000_000).expect("75%"),
        router_slash: Ppb::new(100_000_000).expect("10%"),
        ..small_params()
    }
}

fn register(net: &mut Net, who: &str, role: Role) -> engine::SignedTx {
    net.tx(who, Call::RegisterNode { roles: vec![role], services: vec![], capacity: 1, endpoint: "http://r".into() })
}

fn traffic(node: &str, bytes: u64, latency_ms: u32, online: u32) -> NodeTraffic {
    NodeTraffic { node: id(node), bytes_in: bytes, bytes_out: 0, latency_ms, online: Ppb::new(online).expect("ppb") }
}

/// `(router, amount slashed, connectivity)` of every slash so far, sorted by name.
fn slashes(net: &Net) -> Vec<(String, u128, u32)> {
    let mut v: Vec<_> = net
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RouterSlashed { router, amount, connectivity, .. } => {
                Some((net.name(router), amount.0, connectivity.raw()))
            }
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// Run empty blocks up to and including the end of the current epoch.
fn finish_epoch(net: &mut Net) {
    let length = net.chain.engine.params().epoch_length;
    let height = net.chain.engine.height().0;
    net.empty_blocks((length - height % length) as usize % length as usize);
}

/// `router` accepts each node, then each node attaches to it (two blocks).
fn accept_and_attach(net: &mut Net, router: &str, nodes: &[&str]) {
    let accept: Vec<_> = nodes.iter().map(|n| net.tx(router, Call::AcceptNode { node: id(n) })).collect();
    net.block(accept);
    let attach: Vec<_> = nodes.iter().map(|n| net.tx(n, Call::AttachRouter { router: id(router) })).collect();
    net.block(attach);
}

/// Each `(router, node)` pair: every router accepts its nodes in one block, then every node attaches in the
/// next.
fn connect(net: &mut Net, pairs: &[(&str, &str)]) {
    let accept: Vec<_> = pairs.iter().map(|(r, n)| net.tx(r, Call::AcceptNode { node: id(n) })).collect();
    net.block(accept);
    let attach: Vec<_> = pairs.iter().map(|(r, n)| net.tx(n, Call::AttachRouter { router: id(r) })).collect();
    net.block(attach);
}

/// Each node reports its status (a heartbeat), in one block.
fn heartbeat(net: &mut Net, nodes: &[&str]) {
    let txs = nodes.iter().map(|n| net.tx(n, Call::ReportStatus { status: engine::ReportedStatus::Ready })).collect();
    net.block(txs);
}

/// Free + bonded + unbonding of an account: everything it owns outside holds.
fn owned(net: &Net, who: &str) -> u128 {
    let l = net.chain.engine.ledger();
    l.free(&id(who)).0 + l.bonded(&id(who)).0 + l.account(&id(who)).map_or(0, |a| a.unbonding.0)
}

#[test]
fn connectivity_of_exactly_75_percent_escapes_the_slash() {
    // Three routers, each with one node; each reports its node's online fraction: 74%, 75% and 76%.
    // Seed 003 asks for connectivity *greater than* 75%: the router at exactly 75% is in breach.
    let accounts = [
        ("r74", 100, 10_000),
        ("r75", 100, 10_000),
        ("r76", 100, 10_000),
        ("n74", 100, 10),
        ("n75", 100, 10),
        ("n76", 100, 10),
    ];
    let mut net = Net::with_system(&accounts, params(), Vec::new(), &[(ROUTERS_POOL_NAME, 0)]);
    let supply = net.chain.engine.ledger().total_supply().0;
    let treasury = net.chain.engine.treasury();
    let mut txs = Vec::new();
    for p in ["74", "75", "76"] {
        txs.push(register(&mut net, &format!("r{p}"), Role::Router));
        txs.push(register(&mut net, &format!("n{p}"), Role::DataOwner));
    }
    net.block(txs);
    connect(&mut net, &[("r74", "n74"), ("r75", "n75"), ("r76", "n76")]);
    // Every node heartbeats (the engine's record says 100%); the reports lower it to 74, 75 and 76%.
    heartbeat(&mut net, &["n74", "n75", "n76"]);
    let mut txs = Vec::new();
    for (p, online) in [("74", 740_000_000), ("75", 750_000_000), ("76", 760_000_000)] {
        let nodes = vec![traffic(&format!("n{p}"), 0, 0, online)];
        txs.push(net.tx(&format!("r{p}"), Call::ReportRouterEpoch { epoch: 1, validator_latency_ms: 0, nodes }));
    }
    net.block(txs);
    let treasury_before = net.chain.engine.ledger().free(&treasury).0;
    finish_epoch(&mut net);
    assert_eq!(
        slashes(&net),
        vec![("r74".into(), 1_000, 740_000_000), ("r75".into(), 1_000, 750_000_000)],
        "74% and exactly 75% are breaches; 76% is not"
    );
    // The router at exactly 75% gains nothing from sitting on the line: it loses the same 10% as at 74%.
    let ledger = net.chain.engine.ledger();
    assert_eq!(ledger.bonded(&id("r74")).0, 9_000);
    assert_eq!(ledger.bonded(&id("r75")).0, 9_000);
    assert_eq!(ledger.bonded(&id("r76")).0, 10_000, "the honest router keeps its collateral");
    assert_eq!(owned(&net, "r75"), 100 - 3 + 9_000, "three fees (register, accept, report) and the slash");
    assert_eq!(ledger.free(&treasury).0, treasury_before + 2_000, "both slashes go to the treasury");
    assert_eq!(ledger.total_supply().0, supply, "conservation");
    net.chain.engine.check_invariants().expect("conservation");
}

#[test]
fn router_deregisters_before_the_epoch_ends_to_escape_its_slash() {
    // Three routers with collateral 10,000, one node each, all at 50% connectivity in epoch 1. r1 then
    // deregisters (all its stake starts unbonding), r2 unbonds down to the minimum (9,000 of 10,000),
    // r3 stays. Each was bonded 10,000 during the epoch of its offence: each loses 10% of that, 1,000.
    let accounts = [
        ("r1", 100, 10_000),
        ("r2", 100, 10_000),
        ("r3", 100, 10_000),
        ("n1", 100, 10),
        ("n2", 100, 10),
        ("n3", 100, 10),
    ];
    // An unbonding period shorter than the epoch: on the old rule the leavers' stake was free again
    // before the epoch's end.
    let p = Params { unbonding_period: 3, ..params() };
    let mut net = Net::with_system(&accounts, p, Vec::new(), &[(ROUTERS_POOL_NAME, 0)]);
    let supply = net.chain.engine.ledger().total_supply().0;
    let treasury = net.chain.engine.treasury();
    let mut txs = Vec::new();
    for p in ["1", "2", "3"] {
        txs.push(register(&mut net, &format!("r{p}"), Role::Router));
        txs.push(register(&mut net, &format!("n{p}"), Role::DataOwner));
    }
    net.block(txs);
    connect(&mut net, &[("r1", "n1"), ("r2", "n2"), ("r3", "n3")]);
    heartbeat(&mut net, &["n1", "n2", "n3"]);
    let mut txs = Vec::new();
    for p in ["1", "2", "3"] {
        let nodes = vec![traffic(&format!("n{p}"), 0, 0, 500_000_000)];
        txs.push(net.tx(&format!("r{p}"), Call::ReportRouterEpoch { epoch: 1, validator_latency_ms: 0, nodes }));
    }
    net.block(txs);
    // The escape: leave the stake before the epoch's end.
    let leave = net.tx("r1", Call::DeregisterNode);
    let unbond = net.tx("r2", Call::Unbond { amount: Amount(9_000) });
    net.block(vec![leave, unbond]);
    assert!(net.log.contains("r1#3 deregister -> ok"), "{}", net.log);
    assert!(net.log.contains("r2#3 unbond 9000 -> ok"), "{}", net.log);
    let treasury_before = net.chain.engine.ledger().free(&treasury).0;
    finish_epoch(&mut net);
    assert_eq!(
        slashes(&net),
        vec![("r1".into(), 1_000, 500_000_000), ("r2".into(), 1_000, 500_000_000), ("r3".into(), 1_000, 500_000_000)],
        "the slash is 10% of what each router had bonded in the epoch of its offence"
    );
    // Nobody gains by leaving: the leavers own 9,000 after four fees (register, accept, report, leave),
    // the router that stayed 9,000 after three.
    assert_eq!(owned(&net, "r1"), 100 - 4 + 9_000);
    assert_eq!(owned(&net, "r2"), 100 - 4 + 9_000);
    assert_eq!(owned(&net, "r3"), 100 - 3 + 9_000);
    assert_eq!(net.chain.engine.ledger().bonded(&id("r3")).0, 9_000);
    assert_eq!(net.chain.engine.ledger().free(&treasury).0, treasury_before + 3_000, "the slashes go to the treasury");
    // The stake that was leaving matures smaller, and only after the epoch it was at risk in.
    net.empty_blocks(3);
    let ledger = net.chain.engine.ledger();
    assert_eq!(ledger.free(&id("r1")).0, 100 - 4 + 9_000);
    assert_eq!(ledger.bonded(&id("r1")).0, 0);
    assert_eq!(ledger.total_supply().0, supply, "conservation");
    net.chain.engine.check_invariants().expect("conservation");
}

#[test]
fn attaching_nodes_without_consent_then_deregistering_them_slashes_the_router() {
    // r relays h1, h2 and h3, all online the whole epoch. The attacker registers e1 and e2, attaches them to
    // r without asking, and deregisters them: before the fix they stayed attached, counted 0% online, and
    // pulled r to 60% connectivity, a 1,000 slash to the treasury, every epoch, for two fees a node.
    let accounts =
        [("r", 100, 10_000), ("h1", 100, 10), ("h2", 100, 10), ("h3", 100, 10), ("e1", 100, 10), ("e2", 100, 10)];
    let mut net = Net::with_system(&accounts, params(), Vec::new(), &[(ROUTERS_POOL_NAME, 0)]);
    let supply = net.chain.engine.ledger().total_supply().0;
    let mut txs = vec![register(&mut net, "r", Role::Router)];
    for n in ["h1", "h2", "h3", "e1", "e2"] {
        txs.push(register(&mut net, n, Role::DataOwner));
    }
    net.block(txs);
    accept_and_attach(&mut net, "r", &["h1", "h2", "h3"]);
    let attack: Vec<_> = ["e1", "e2"].iter().map(|e| net.tx(e, Call::AttachRouter { router: id("r") })).collect();
    net.block(attack);
    assert!(net.log.contains("e1#1 attach to router r -> router_not_accepted"), "{}", net.log);
    assert!(net.log.contains("e2#1 attach to router r -> router_not_accepted"), "{}", net.log);
    let leave: Vec<_> = ["e1", "e2"].iter().map(|e| net.tx(e, Call::DeregisterNode)).collect();
    net.block(leave);
    for epoch in [1, 2] {
        heartbeat(&mut net, &["h1", "h2", "h3"]);
        let nodes = ["h1", "h2", "h3"].iter().map(|n| traffic(n, 0, 0, 1_000_000_000)).collect();
        let report = net.tx("r", Call::ReportRouterEpoch { epoch, validator_latency_ms: 0, nodes });
        net.block(vec![report]);
        finish_epoch(&mut net);
    }
    assert_eq!(slashes(&net), vec![], "the router is not slashed for nodes it never accepted");
    assert_eq!(net.chain.engine.ledger().bonded(&id("r")).0, 10_000);
    // Epoch 3: h1 leaves, r drops h2, h3 deregisters (which detaches it); e1 cannot detach h3, and a node
    // that is not attached cannot be detached. All three stay in r's roster until the epoch's end, so r
    // still reports them; from epoch 4 its roster is empty and it is neither paid nor slashed.
    heartbeat(&mut net, &["h1", "h2", "h3"]);
    let leave = vec![
        net.tx("h1", Call::DetachRouter { node: id("h1") }),
        net.tx("r", Call::DetachRouter { node: id("h2") }),
        net.tx("e1", Call::DetachRouter { node: id("h3") }),
        net.tx("e2", Call::DetachRouter { node: id("e2") }),
        net.tx("h3", Call::DeregisterNode),
    ];
    net.block(leave);
    for line in [
        "h1#5 detach h1 -> ok",
        "r#6 detach h2 -> ok",
        "e1#2 detach h3 -> not_authorized",
        "e2#2 detach e2 -> not_attached",
        "h3#5 deregister -> ok",
        "* RouterDetached h3 -> r",
    ] {
        assert!(net.log.contains(line), "{line}: {}", net.log);
    }
    let nodes = ["h1", "h2", "h3"].iter().map(|n| traffic(n, 0, 0, 1_000_000_000)).collect();
    let report = net.tx("r", Call::ReportRouterEpoch { epoch: 3, validator_latency_ms: 0, nodes });
    net.block(vec![report]);
    finish_epoch(&mut net);
    net.empty_blocks(10);
    assert_eq!(slashes(&net), vec![]);
    assert_eq!(net.chain.engine.ledger().bonded(&id("r")).0, 10_000, "the router keeps its collateral");
    for e in ["e1", "e2"] {
        assert_eq!(owned(&net, e), 100 - 2 + 10, "{e} paid two fees (register, deregister) and gained nothing");
    }
    assert_eq!(net.chain.engine.ledger().total_supply().0, supply, "conservation");
    net.chain.engine.check_invariants().expect("conservation");
}

/// `(router, bandwidth, latency factor, owed, paid)` of every reward, sorted by name.
fn rewards(net: &Net) -> Vec<(String, u128, u32, u128, u128)> {
    let mut v: Vec<_> = net
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RouterRewarded { router, bandwidth, latency_factor, owed, amount, .. } => {
                Some((net.name(router), *bandwidth, latency_factor.raw(), owed.0, amount.0))
            }
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[test]
fn router_and_its_own_node_claim_u64_max_bytes() {
    // The honest router h relays hn, a miner that served one request (evidence the engine can see); both
    // count 1,000,000 bytes at 100 ms to the node and 100 ms to the validator. The attacker runs router ar
    // and its node an, which did no work the engine saw: both claim u64::MAX bytes each way, at 0 ms.
    // The routers' pool holds 1,000. Before the fix ar's validated bandwidth was the smaller claim,
    // u64::MAX bytes, owed 9,223,372,036,854,775, and took the whole 1,000, while h, owed 400, got 0.
    let services = vec![engine::GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(5),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    }];
    let p = Params {
        router_bytes_allowance: 100_000,
        router_bytes_per_request: 1_000_000,
        router_latency_floor_ms: 50,
        ..params()
    };
    let accounts = [("h", 100, 10_000), ("hn", 100, 10), ("ar", 100, 10_000), ("an", 100, 10), ("client", 100, 0)];
    let mut net = Net::with_system(&accounts, p, services, &[(ROUTERS_POOL_NAME, 1_000)]);
    let supply = net.chain.engine.ledger().total_supply().0;
    let miner = net.tx(
        "hn",
        Call::RegisterNode { roles: vec![Role::Miner], services: vec![1], capacity: 1, endpoint: "http://m".into() },
    );
    let txs = vec![register(&mut net, "h", Role::Router), register(&mut net, "ar", Role::Router), miner];
    net.block(txs);
    let an = register(&mut net, "an", Role::DataOwner);
    net.block(vec![an]);
    accept_and_attach(&mut net, "h", &["hn"]);
    accept_and_attach(&mut net, "ar", &["an"]);
    let request = net.tx("client", Call::SubmitRequest { service: 1, max_price: Amount(5), avoid: vec![] });
    net.block(vec![request]);
    let done = net.tx("hn", Call::CompleteRequest { request: 1, result_hash: types::Hash([7; 32]) });
    net.block(vec![done]);
    assert!(net.log.contains("hn#2 complete request 1 -> ok"), "{}", net.log);
    let honest = vec![traffic("hn", 1_000_000, 100, 1_000_000_000)];
    let lie = vec![NodeTraffic {
        node: id("an"),
        bytes_in: u64::MAX,
        bytes_out: u64::MAX,
        latency_ms: 0,
        online: Ppb::new(1_000_000_000).expect("ppb"),
    }];
    let reports = vec![
        net.tx("h", Call::ReportRouterEpoch { epoch: 1, validator_latency_ms: 100, nodes: honest }),
        net.tx("hn", Call::ReportNodeTraffic { epoch: 1, router: id("h"), bytes: 1_000_000 }),
        net.tx("ar", Call::ReportRouterEpoch { epoch: 1, validator_latency_ms: 0, nodes: lie }),
        net.tx("an", Call::ReportNodeTraffic { epoch: 1, router: id("ar"), bytes: u64::MAX }),
    ];
    net.block(reports);
    finish_epoch(&mut net);
    // h: B = 1,000,000 (within 1 request · 1,000,000 + 100,000); factor 1 − 200/1000 = 0.8; S = 0.5:
    // R = 1,000 · 1 · 0.8 · 0.5 = 400, paid in full.
    // ar: B is capped at the allowance, 100,000; latencies raised to the 50 ms floor: 1 − 100/1000 = 0.9;
    // R = 1,000 · 0.1 · 0.9 · 0.5 = 45, exactly what claiming the allowance truthfully at 50 ms pays:
    // the lie gains nothing.
    assert_eq!(
        rewards(&net),
        vec![("ar".into(), 100_000, 900_000_000, 45, 45), ("h".into(), 1_000_000, 800_000_000, 400, 400)]
    );
    let pool = net.chain.engine.ledger().free(&types::AccountId::system(ROUTERS_POOL_NAME)).0;
    assert_eq!(pool, 1_000 - 400 - 45);
    assert_eq!(net.chain.engine.ledger().total_supply().0, supply, "conservation");
    net.chain.engine.check_invariants().expect("conservation");
}

#[test]
fn router_reports_its_silent_nodes_online() {
    // Epochs of 10 blocks cut into two heartbeat windows of 5. Router r relays s1..s4 and reports all four
    // 100% online in epoch 2, but the engine saw s1 and s2 report their status in both windows, s3 in one
    // and s4 in none: (1 + 1 + ½ + 0) / 4 = 62.5%, a breach. The honest router h relays hn, which
    // heartbeats in both windows, and reports it 100% online. Before the fix connectivity was the router's
    // word, so r (100%) was not slashed.
    let p = Params { heartbeat_timeout: 5, ..params() };
    let accounts = [
        ("r", 100, 10_000),
        ("h", 100, 10_000),
        ("s1", 100, 10),
        ("s2", 100, 10),
        ("s3", 100, 10),
        ("s4", 100, 10),
        ("hn", 100, 10),
    ];
    let mut net = Net::with_system(&accounts, p, Vec::new(), &[(ROUTERS_POOL_NAME, 0)]);
    let supply = net.chain.engine.ledger().total_supply().0;
    let treasury = net.chain.engine.treasury();
    let mut txs = vec![register(&mut net, "r", Role::Router), register(&mut net, "h", Role::Router)];
    for n in ["s1", "s2", "s3", "s4", "hn"] {
        txs.push(register(&mut net, n, Role::DataOwner));
    }
    net.block(txs);
    connect(&mut net, &[("r", "s1"), ("r", "s2"), ("r", "s3"), ("r", "s4"), ("h", "hn")]); // blocks 2, 3
    let heartbeats = heartbeat;
    let all_online = |net: &mut Net, epoch: u64| {
        let nodes = ["s1", "s2", "s3", "s4"].iter().map(|n| traffic(n, 0, 0, 1_000_000_000)).collect();
        let r = net.tx("r", Call::ReportRouterEpoch { epoch, validator_latency_ms: 0, nodes });
        let nodes = vec![traffic("hn", 0, 0, 1_000_000_000)];
        let h = net.tx("h", Call::ReportRouterEpoch { epoch, validator_latency_ms: 0, nodes });
        net.block(vec![r, h]);
    };
    // Epoch 1 (blocks 1–10, windows 1–5 and 6–10): everyone heartbeats in both windows.
    heartbeats(&mut net, &["s1", "s2", "s3", "s4", "hn"]); // block 4
    all_online(&mut net, 1); // block 5
    heartbeats(&mut net, &["s1", "s2", "s3", "s4", "hn"]); // block 6
    finish_epoch(&mut net);
    assert_eq!(slashes(&net), vec![], "epoch 1: every node online");
    let treasury_before = net.chain.engine.ledger().free(&treasury).0;
    // Epoch 2: s3 misses the second window, s4 is silent throughout.
    heartbeats(&mut net, &["s1", "s2", "s3", "hn"]); // block 11
    all_online(&mut net, 2); // block 12
    net.empty_blocks(3);
    heartbeats(&mut net, &["s1", "s2", "hn"]); // block 16
    assert_eq!(net.chain.engine.router_connectivity(&id("r")).map(|c| c.raw()), Some(625_000_000));
    assert_eq!(net.chain.engine.router_connectivity(&id("h")).map(|c| c.raw()), Some(1_000_000_000));
    finish_epoch(&mut net);
    assert_eq!(slashes(&net), vec![("r".into(), 1_000, 625_000_000)], "the engine's record, not r's word");
    let ledger = net.chain.engine.ledger();
    assert_eq!(ledger.bonded(&id("r")).0, 9_000);
    assert_eq!(ledger.bonded(&id("h")).0, 10_000, "the honest router keeps its collateral");
    assert_eq!(
        ledger.free(&treasury).0,
        treasury_before + 1_000 + 4 + 2 + 3,
        "the slash and epoch 2 fees (heartbeats, reports)"
    );
    assert_eq!(ledger.total_supply().0, supply, "conservation");
    net.chain.engine.check_invariants().expect("conservation");
}
