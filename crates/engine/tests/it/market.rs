//! The inference market in scenarios: registry, requests, ratings and reputation, governance, rewards.

use crate::harness::{id, small_params, Net};
use engine::{Call, GenesisService, MinerStatus, Params, ProposalAction, Rating, ReportedStatus, Role};
use expect_test::{expect, Expect};
use types::{Amount, Hash, Height, Ppb};

fn params() -> Params {
    Params {
        miner_stake_min: Amount(100),
        oracle_stake_min: Amount(500),
        oracle_fee: Amount(5),
        request_timeout: 5,
        rating_window: 4,
        heartbeat_timeout: 3,
        epoch_length: 10,
        protocol_fee: Ppb::new(100_000_000).expect("10%"),
        miner_reward_per_epoch: Amount(1_000),
        quorum: Ppb::new(500_000_000).expect("50%"),
        // One text request (50) buys a full-weight rating, so these scenarios read like one rating each.
        rating_weight_cap: Amount(50),
        ..small_params()
    }
}

fn services() -> Vec<GenesisService> {
    vec![
        GenesisService {
            name: "text".into(),
            weight: 1,
            price: Amount(50),
            poi_threshold: engine::POI_THRESHOLD_DEFAULT,
            semantic_poi: false,
        },
        GenesisService {
            name: "image".into(),
            weight: 4,
            price: Amount(200),
            poi_threshold: engine::POI_THRESHOLD_DEFAULT,
            semantic_poi: false,
        },
    ]
}

fn register(services: Vec<u32>) -> Call {
    Call::RegisterNode { roles: vec![Role::Miner], services, capacity: 4, endpoint: "http://127.0.0.1:9000".into() }
}

fn request(service: u32) -> Call {
    Call::SubmitRequest { service, max_price: Amount(500), avoid: vec![] }
}

fn check(net: &mut Net, expected: Expect) {
    net.balances();
    expected.assert_eq(&net.log);
}

#[test]
fn a_request_is_paid_on_completion_rated_and_reputation_moves() {
    let mut net =
        Net::with_services(&[("miner", 10, 100), ("client", 1_000, 0), ("eve", 10, 0)], params(), services(), 0);
    let under = net.tx("eve", Call::Bond { amount: Amount(5) });
    let eve = net.tx("eve", register(vec![1]));
    let m = net.tx("miner", register(vec![1]));
    net.block(vec![under, eve, m]);
    let r = net.tx("client", request(1));
    let early = net.tx("client", Call::RateRequest { request: 1, rating: Rating::Good });
    net.block(vec![r, early]);
    let stranger = net.tx("eve", Call::CompleteRequest { request: 1, result_hash: Hash([7; 32]) });
    let done = net.tx("miner", Call::CompleteRequest { request: 1, result_hash: Hash([7; 32]) });
    let good = net.tx("client", Call::RateRequest { request: 1, rating: Rating::Good });
    net.block(vec![stranger, done, good]);
    // The latest rating of the (client, miner) pair replaces the earlier one.
    let bad = net.tx("client", Call::RateRequest { request: 1, rating: Rating::Bad });
    let not_mine = net.tx("eve", Call::RateRequest { request: 1, rating: Rating::Bad });
    net.block(vec![bad, not_mine]);
    net.empty_blocks(3);
    let late = net.tx("client", Call::RateRequest { request: 1, rating: Rating::Good });
    net.block(vec![late]);
    assert_eq!(net.chain.engine.reputation(&id("miner")).raw(), 302_940_715, "one Bad with the prior of 5: x = 2.5/6");
    check(
        &mut net,
        expect![[r#"
            block 1:
              eve#0 bond 5 -> ok
              eve#1 register [Miner] services [1] capacity 4 -> insufficient_stake
              miner#0 register [Miner] services [1] capacity 4 -> ok
              * Bonded eve 5
              * NodeRegistered miner [Miner]
            block 2:
              client#0 request service 1 (max 500) -> ok
              client#1 rate request 1 Good -> request_not_completed
              * RequestSubmitted 1 by client to miner price 50
            block 3:
              eve#1 complete request 1 -> not_authorized
              miner#1 complete request 1 -> ok
              client#1 rate request 1 Good -> ok
              * RequestCompleted 1 by miner paid 45 fee 5
              * RequestRated 1 Good: miner reputation 697059283
            block 4:
              client#2 rate request 1 Bad -> ok
              eve#1 rate request 1 Bad -> not_authorized
              * RequestRated 1 Bad: miner reputation 302940715
            block 5:
            block 6:
            block 7:
            block 8:
              client#3 rate request 1 Good -> rating_window_closed
            balances (free held bonded unbonding):
              client: 947 0 0 0
              eve: 4 0 5 0
              miner: 53 0 100 0
              treasury: 11 0 0 0
        "#]],
    );
}

#[test]
fn an_unfinished_request_expires_refunds_the_client_and_costs_the_miner_reputation() {
    let mut net = Net::with_services(&[("miner", 10, 100), ("client", 1_000, 0)], params(), services(), 0);
    let m = net.tx("miner", register(vec![1, 2]));
    net.block(vec![m]);
    let r = net.tx("client", request(2));
    net.block(vec![r]);
    net.empty_blocks(5);
    let late = net.tx("miner", Call::CompleteRequest { request: 1, result_hash: Hash([1; 32]) });
    net.block(vec![late]);
    check(
        &mut net,
        expect![[r#"
            block 1:
              miner#0 register [Miner] services [1, 2] capacity 4 -> ok
              * NodeRegistered miner [Miner]
            block 2:
              client#0 request service 2 (max 500) -> ok
              * RequestSubmitted 1 by client to miner price 200
            block 3:
            block 4:
            block 5:
            block 6:
            block 7:
              * RequestExpired 1: 200 back to client, miner reputation 302940715
            block 8:
              miner#1 complete request 1 -> unknown_request
            balances (free held bonded unbonding):
              client: 999 0 0 0
              miner: 9 0 100 0
              treasury: 2 0 0 0
        "#]],
    );
}

#[test]
fn registration_needs_stake_and_busy_or_stale_miners_get_no_work() {
    let mut net = Net::with_services(&[("a", 10, 100), ("b", 10, 100), ("client", 1_000, 0)], params(), services(), 0);
    let roles = vec![Role::Miner, Role::Oracle];
    let oracle = net.tx("a", Call::RegisterNode { roles, services: vec![1], capacity: 1, endpoint: "http://a".into() });
    let b = net.tx("b", register(vec![1]));
    let unknown = net.tx("client", request(9));
    net.block(vec![oracle, b, unknown]);
    let a = net.tx("a", register(vec![1]));
    let again = net.tx("b", register(vec![1]));
    net.block(vec![a, again]);
    let busy = net.tx("b", Call::ReportStatus { status: ReportedStatus::Busy });
    let r1 = net.tx("client", request(1));
    net.block(vec![busy, r1]);
    assert_eq!(net.chain.engine.miner_status_at(&id("b"), net.chain.engine.height()), Some(MinerStatus::Busy));
    assert_eq!(net.chain.engine.request(1).expect("assigned").miner, id("a"), "b is Busy");
    net.empty_blocks(3);
    // Neither has reported for more than heartbeat_timeout blocks: both are Stale.
    assert_eq!(net.chain.engine.miner_status_at(&id("a"), net.chain.engine.height()), Some(MinerStatus::Stale));
    let r2 = net.tx("client", request(1));
    let below = net.tx("a", Call::Unbond { amount: Amount(1) });
    net.block(vec![r2, below]);
    let leave = net.tx("a", Call::DeregisterNode);
    net.block(vec![leave]);
    check(
        &mut net,
        expect![[r#"
            block 1:
              a#0 register [Miner, Oracle] services [1] capacity 1 -> insufficient_stake
              b#0 register [Miner] services [1] capacity 4 -> ok
              client#0 request service 9 (max 500) -> unknown_service
              * NodeRegistered b [Miner]
            block 2:
              a#0 register [Miner] services [1] capacity 4 -> ok
              b#1 register [Miner] services [1] capacity 4 -> already_registered
              * NodeRegistered a [Miner]
            block 3:
              b#1 report Busy -> ok
              client#0 request service 1 (max 500) -> ok
              * StatusReported b Busy
              * RequestSubmitted 1 by client to a price 50
            block 4:
            block 5:
            block 6:
            block 7:
              client#1 request service 1 (max 500) -> no_miner_available
              a#1 unbond 1 -> stake_below_minimum
            block 8:
              a#1 deregister -> ok
              * NodeDeregistered a unbonding 100
              * RequestExpired 1: 50 back to client, a reputation 302940715
            balances (free held bonded unbonding):
              a: 8 0 0 100
              b: 8 0 100 0
              client: 999 0 0 0
              treasury: 5 0 0 0
        "#]],
    );
}

#[test]
fn assignment_follows_bonded_stake_times_reputation() {
    let accounts = [("big", 1_000, 300), ("small", 1_000, 100), ("client", 1_000_000, 0)];
    let mut net = Net::with_services(&accounts, Params { request_timeout: 1_000, ..params() }, services(), 0);
    let a = net.tx("big", register(vec![1]));
    let b = net.tx("small", register(vec![1]));
    net.block(vec![a, b]);
    let mut to_big = 0;
    for _ in 0..100 {
        let txs: Vec<_> = (0..4).map(|_| net.tx("client", request(1))).collect();
        let heartbeat = net.tx("big", Call::ReportStatus { status: ReportedStatus::Ready });
        let heartbeat2 = net.tx("small", Call::ReportStatus { status: ReportedStatus::Ready });
        let mut all = txs;
        all.extend([heartbeat, heartbeat2]);
        net.block(all);
    }
    for r in 1..=400u64 {
        if net.chain.engine.request(r).expect("open").miner == id("big") {
            to_big += 1;
        }
    }
    // Stake 300:100 with equal reputation: about 75% to the big miner (seeded, so the count is exact).
    assert!((270..=330).contains(&to_big), "{to_big} of 400");
}

/// The selection index draws by weight and rejects miners that are not eligible right now. A stale
/// miner holding 99.9% of the weight forces the exact fallback pass nearly every time; the draw must
/// still never pick it and must split the rest by stake × reputation.
#[test]
fn a_stale_heavyweight_is_never_assigned_and_the_rest_split_by_stake() {
    let accounts = [("big", 1_000, 300), ("small", 1_000, 100), ("huge", 1_000, 400_000), ("client", 1_000_000, 0)];
    let mut net = Net::with_services(&accounts, Params { request_timeout: 1_000, ..params() }, services(), 0);
    let txs = ["big", "small", "huge"].map(|n| net.tx(n, register(vec![1])));
    net.block(txs.to_vec());
    let mut to_big = 0;
    for _ in 0..500 {
        let mut all: Vec<_> = (0..4).map(|_| net.tx("client", request(1))).collect();
        all.push(net.tx("big", Call::ReportStatus { status: ReportedStatus::Ready }));
        all.push(net.tx("small", Call::ReportStatus { status: ReportedStatus::Ready }));
        net.block(all);
    }
    // The first blocks (huge still fresh) may assign to it; count only once it is stale.
    let stale_from = 4 * 4 + 1;
    for r in stale_from..=2000u64 {
        let miner = net.chain.engine.request(r).expect("open").miner;
        assert_ne!(miner, id("huge"), "request {r} went to a stale miner");
        if miner == id("big") {
            to_big += 1;
        }
    }
    let n = 2000 - stale_from + 1;
    assert!((n * 70 / 100..=n * 80 / 100).contains(&to_big), "{to_big} of {n}");
}

#[test]
fn governance_passes_by_stake_majority_and_quorum_and_applies_at_the_epoch_boundary() {
    let accounts = [("alice", 100, 600), ("bob", 100, 300), ("carol", 100, 100), ("dave", 100, 0)];
    let mut net = Net::with_services(&accounts, params(), services(), 0);
    let nostake = net.tx("dave", Call::Propose { action: ProposalAction::SetServiceWeight { service: 1, weight: 3 } });
    let weight = net.tx("alice", Call::Propose { action: ProposalAction::SetServiceWeight { service: 1, weight: 3 } });
    let zero = net.tx("alice", Call::Propose { action: ProposalAction::SetServiceWeight { service: 1, weight: 0 } });
    let param = net.tx(
        "bob",
        Call::Propose { action: ProposalAction::SetParam { name: "request_timeout".into(), value: "9".into() } },
    );
    let fixed = net
        .tx("bob", Call::Propose { action: ProposalAction::SetParam { name: "chain_id".into(), value: "x".into() } });
    net.block(vec![nostake, weight, zero, param, fixed]);
    let v1 = net.tx("alice", Call::Vote { proposal: 1, approve: true });
    let v2 = net.tx("bob", Call::Vote { proposal: 1, approve: false });
    let twice = net.tx("bob", Call::Vote { proposal: 1, approve: true });
    let v3 = net.tx("carol", Call::Vote { proposal: 2, approve: true });
    let dave = net.tx("dave", Call::Vote { proposal: 2, approve: true });
    net.block(vec![v1, v2, twice, v3, dave]);
    net.empty_blocks(2);
    assert_eq!(net.chain.engine.service(1).expect("text").weight, 1, "passed, but not before the epoch boundary");
    net.empty_blocks(6);
    assert_eq!(net.chain.engine.service(1).expect("text").weight, 3);
    assert_eq!(net.chain.engine.params().request_timeout, 5, "proposal 2 missed the quorum");
    let late = net.tx("carol", Call::Vote { proposal: 1, approve: true });
    net.block(vec![late]);
    check(
        &mut net,
        expect![[r#"
            block 1:
              dave#0 propose SetServiceWeight { service: 1, weight: 3 } -> no_stake
              alice#0 propose SetServiceWeight { service: 1, weight: 3 } -> ok
              alice#1 propose SetServiceWeight { service: 1, weight: 0 } -> zero_weight
              bob#0 propose SetParam { name: "request_timeout", value: "9" } -> ok
              bob#1 propose SetParam { name: "chain_id", value: "x" } -> invalid_proposal
              * ProposalCreated 1 by alice voting until 3
              * ProposalCreated 2 by bob voting until 3
            block 2:
              alice#1 vote yes on proposal 1 -> ok
              bob#1 vote no on proposal 1 -> ok
              bob#2 vote yes on proposal 1 -> already_voted
              carol#0 vote yes on proposal 2 -> ok
              dave#0 vote yes on proposal 2 -> no_stake
              * VoteCast 1 alice yes with 600
              * VoteCast 1 bob no with 300
              * VoteCast 2 carol yes with 100
            block 3:
              * ProposalTallied 1 yes 600 no 300 quorum 500 passed true
              * ProposalTallied 2 yes 100 no 0 quorum 500 passed false
            block 4:
            block 5:
            block 6:
            block 7:
            block 8:
            block 9:
            block 10:
              * ListPublished network/underperformers 0 nodes
              * ProposalApplied 1 applied true 
              * EpochEnded 1 at 10
            block 11:
              carol#1 vote yes on proposal 1 -> proposal_closed
            balances (free held bonded unbonding):
              alice: 98 0 600 0
              bob: 98 0 300 0
              carol: 99 0 100 0
              dave: 100 0 0 0
              treasury: 5 0 0 0
        "#]],
    );
}

#[test]
fn miners_are_paid_from_the_pool_by_reputation_times_weighted_work() {
    let accounts = [("m1", 10, 100), ("m2", 10, 100), ("client", 10_000, 0)];
    let mut net = Net::with_services(&accounts, params(), services(), 1_500);
    let a = net.tx(
        "m1",
        Call::RegisterNode { roles: vec![Role::Miner], services: vec![1], capacity: 4, endpoint: "http://m1".into() },
    );
    let b = net.tx(
        "m2",
        Call::RegisterNode { roles: vec![Role::Miner], services: vec![2], capacity: 4, endpoint: "http://m2".into() },
    );
    net.block(vec![a, b]);
    // Two text requests (weight 1) can only go to m1; one image request (weight 4) only to m2.
    let rs = vec![net.tx("client", request(1)), net.tx("client", request(1)), net.tx("client", request(2))];
    net.block(rs);
    let done = vec![
        net.tx("m1", Call::CompleteRequest { request: 1, result_hash: Hash([1; 32]) }),
        net.tx("m1", Call::CompleteRequest { request: 2, result_hash: Hash([2; 32]) }),
        net.tx("m2", Call::CompleteRequest { request: 3, result_hash: Hash([3; 32]) }),
    ];
    net.block(done);
    let rate = vec![net.tx("client", Call::RateRequest { request: 3, rating: Rating::Good })];
    net.block(rate);
    net.empty_blocks(6);
    let height = net.chain.engine.height();
    assert_eq!(height, Height(10));
    check(
        &mut net,
        expect![[r#"
            block 1:
              m1#0 register [Miner] services [1] capacity 4 -> ok
              m2#0 register [Miner] services [2] capacity 4 -> ok
              * NodeRegistered m1 [Miner]
              * NodeRegistered m2 [Miner]
            block 2:
              client#0 request service 1 (max 500) -> ok
              client#1 request service 1 (max 500) -> ok
              client#2 request service 2 (max 500) -> ok
              * RequestSubmitted 1 by client to m1 price 50
              * RequestSubmitted 2 by client to m1 price 50
              * RequestSubmitted 3 by client to m2 price 200
            block 3:
              m1#1 complete request 1 -> ok
              m1#2 complete request 2 -> ok
              m2#1 complete request 3 -> ok
              * RequestCompleted 1 by m1 paid 45 fee 5
              * RequestCompleted 2 by m1 paid 45 fee 5
              * RequestCompleted 3 by m2 paid 180 fee 20
            block 4:
              client#3 rate request 3 Good -> ok
              * RequestRated 3 Good: m2 reputation 697059283
            block 5:
            block 6:
            block 7:
            block 8:
            block 9:
            block 10:
              * MinerRewarded epoch 1 m2 736 (score 2788237132000000000)
              * MinerRewarded epoch 1 m1 264 (score 1000000000000000000)
              * ListPublished network/underperformers 0 nodes
              * EpochEnded 1 at 10
            balances (free held bonded unbonding):
              client: 9696 0 0 0
              m1: 361 0 100 0
              m2: 924 0 100 0
              miners-pool: 500 0 0 0
              treasury: 39 0 0 0
        "#]],
    );
}

/// Regression: `own_hold` once checked only the payer, so a client could void the hold of its own
/// request (and a task's or job's payer its escrow) and the engine would later find the hold gone.
#[test]
fn request_hold_voided_by_its_client() {
    let mut net = Net::with_services(&[("miner", 10, 100), ("client", 1_000, 0)], params(), services(), 0);
    let m = net.tx("miner", register(vec![1]));
    net.block(vec![m]);
    let r = net.tx("client", request(1));
    net.block(vec![r]);
    let hold = net.chain.engine.ledger().holds().next().expect("the request's hold").id;
    let void = net.tx("client", Call::HoldVoid { hold });
    net.block(vec![void]);
    let post = net.tx("client", Call::HoldPost { hold, payouts: vec![(id("client"), Amount(50))] });
    net.block(vec![post]);
    let done = net.tx("miner", Call::CompleteRequest { request: 1, result_hash: Hash([7; 32]) });
    net.block(vec![done]);
    check(
        &mut net,
        expect![[r#"
            block 1:
              miner#0 register [Miner] services [1] capacity 4 -> ok
              * NodeRegistered miner [Miner]
            block 2:
              client#0 request service 1 (max 500) -> ok
              * RequestSubmitted 1 by client to miner price 50
            block 3:
              client#1 void #1 -> not_authorized
            block 4:
              client#1 post #1: 50 to client -> not_authorized
            block 5:
              miner#1 complete request 1 -> ok
              * RequestCompleted 1 by miner paid 45 fee 5
            balances (free held bonded unbonding):
              client: 949 0 0 0
              miner: 53 0 100 0
              treasury: 8 0 0 0
        "#]],
    );
}
