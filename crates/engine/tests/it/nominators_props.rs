//! Random nominator activity around two routers (nominate, unnominate, commission changes, unbonds,
//! reports that earn rewards, missed heartbeats that get routers slashed, deregistrations, empty blocks
//! across epoch boundaries): after every block tokens are conserved (the harness checks the ledger's
//! invariants), every account keeps at least its nominations bonded, the nominations recorded on nodes
//! and on nominators agree, and every reward and slash split sums exactly to the reward or slash. The two
//! routers' accounts are also the stashes of two validator candidates (one seat, `validators_max` 1, eras of
//! 10 blocks), and every block is proposed by a random one of them, a non-candidate or nobody: the elected
//! proposer's block rewards are minted and split too. Random equivocation reports (a fan proves that k0, k1
//! or the non-candidate k2 double-signed in the era in force or the one before) slash at most once per key
//! and era, split exactly, and the supply grows by exactly what was minted less what those slashes burned.

use crate::harness::{id, Net};
use crate::routers::traffic;
use engine::protocol::event::RewardKind;
use engine::protocol::GenesisValidator;
use engine::{Call, Event, Params, ReportedStatus, Role, SignedTx, ROUTERS_POOL_NAME};
use proptest::prelude::*;
use types::{AccountId, Amount, Ppb};

const ROUTERS: [&str; 2] = ["r0", "r1"];
const OWNERS: [&str; 2] = ["d0", "d1"];
const FANS: [&str; 4] = ["p0", "p1", "p2", "r1"];

#[derive(Debug, Clone)]
enum Op {
    Nominate(usize, usize, u128),
    Unnominate(usize, usize, u128),
    Commission(usize, u32),
    Unbond(usize, u128),
    Heartbeat(usize),
    Report(usize, u64, u32),
    Deregister(usize),
    Empty(usize),
    /// Fan `p` reports key `k{k}`'s two notarizes in the era in force (`back` 0) or the one before.
    Equivocate(usize, usize, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize, 0..2usize, 0u128..400).prop_map(|(p, r, a)| Op::Nominate(p, r, a)),
        3 => (0..4usize, 0..2usize, 0u128..400).prop_map(|(p, r, a)| Op::Unnominate(p, r, a)),
        1 => (0..2usize, 0u32..300_000_000).prop_map(|(r, c)| Op::Commission(r, c)),
        1 => (0..4usize, 0u128..300).prop_map(|(p, a)| Op::Unbond(p, a)),
        2 => (0..2usize).prop_map(Op::Heartbeat),
        3 => (0..2usize, 0u64..3_000_000, 0u32..=1_000_000_000).prop_map(|(r, b, o)| Op::Report(r, b, o)),
        1 => (0..2usize).prop_map(Op::Deregister),
        3 => (1..8usize).prop_map(Op::Empty),
        2 => (0..4usize, 0..3usize, 0u64..2).prop_map(|(p, k, back)| Op::Equivocate(p, k, back)),
    ]
}

fn params() -> Params {
    Params {
        epoch_length: 10,
        router_stake_min: Amount(300),
        data_owner_stake_min: Amount(10),
        router_reward_per_mb: Amount(2_000),
        router_latency_floor_ms: 0,
        router_bytes_allowance: 1_000_000_000_000,
        nomination_min: Amount(10),
        commission_delay: 3,
        nominators_per_node_max: 3,
        era_blocks: 10,
        validators_max: 1,
        validator_block_reward: Amount(7),
        ..crate::harness::small_params()
    }
}

fn network() -> Net {
    let accounts = [
        ("r0", 1_000, 1_000),
        ("r1", 1_000, 1_000),
        ("d0", 1_000, 10),
        ("d1", 1_000, 10),
        ("p0", 10_000, 0),
        ("p1", 10_000, 0),
        ("p2", 10_000, 100),
    ];
    let validators = (0..2)
        .map(|i| GenesisValidator { key: key(i), p2p: format!("127.0.0.1:{}", 7000 + i), account: id(ROUTERS[i]) })
        .collect();
    let system: &[(&str, u128)] = &[(ROUTERS_POOL_NAME, 50_000)];
    let mut net = Net::with_validators(&accounts, params(), (Vec::new(), system), validators);
    let reg = |net: &mut Net, who: &str, role: Role| {
        net.tx(
            who,
            Call::RegisterNode { roles: vec![role], services: vec![], capacity: 1, endpoint: "http://x".into() },
        )
    };
    let txs = vec![
        reg(&mut net, "r0", Role::Router),
        reg(&mut net, "r1", Role::Router),
        reg(&mut net, "d0", Role::DataOwner),
        reg(&mut net, "d1", Role::DataOwner),
    ];
    net.block(txs);
    let accept =
        vec![net.tx("r0", Call::AcceptNode { node: id("d0") }), net.tx("r1", Call::AcceptNode { node: id("d1") })];
    net.block(accept);
    let attach = vec![
        net.tx("d0", Call::AttachRouter { router: id("r0") }),
        net.tx("d1", Call::AttachRouter { router: id("r1") }),
    ];
    net.block(attach);
    net
}

/// Consensus key `k{i}`: candidates 0 and 1 (stashes r0, r1); 2 is no candidate.
fn key(i: usize) -> AccountId {
    id(&format!("k{i}"))
}

/// A block proposed by `k{proposer}`, or by nobody for 3.
fn block(net: &mut Net, proposer: usize, txs: Vec<SignedTx>) {
    let sigs = engine::verify_signatures(&txs, &net.chain.engine.params().chain_id);
    net.block_by((proposer < 3).then(|| key(proposer)), txs, sigs);
}

fn apply(net: &mut Net, op: &Op, proposer: usize) {
    let epoch = net.chain.engine.height().0 / 10 + 1;
    let txs = match *op {
        Op::Nominate(p, r, a) => vec![net.tx(FANS[p], Call::Nominate { node: id(ROUTERS[r]), amount: Amount(a) })],
        Op::Unnominate(p, r, a) => {
            vec![net.tx(FANS[p], Call::Unnominate { node: id(ROUTERS[r]), amount: Amount(a) })]
        }
        Op::Commission(r, c) => {
            vec![net.tx(ROUTERS[r], Call::SetCommission { commission: Ppb::new(c).expect("ppb") })]
        }
        Op::Unbond(p, a) => vec![net.tx(FANS[p], Call::Unbond { amount: Amount(a) })],
        Op::Heartbeat(d) => vec![net.tx(OWNERS[d], Call::ReportStatus { status: ReportedStatus::Ready })],
        Op::Report(r, bytes, online) => {
            let nodes = vec![traffic(OWNERS[r], bytes, 0, 0, online)];
            vec![
                net.tx(ROUTERS[r], Call::ReportRouterEpoch { epoch, validator_latency_ms: 0, nodes }),
                net.tx(OWNERS[r], Call::ReportNodeTraffic { epoch, router: id(ROUTERS[r]), bytes }),
            ]
        }
        Op::Deregister(r) => vec![net.tx(ROUTERS[r], Call::DeregisterNode)],
        Op::Equivocate(p, k, back) => {
            let era = (net.chain.engine.height().0 / 10).saturating_sub(back);
            let evidence = crate::equivocation::evidence(&format!("k{k}"), (era, 3), false);
            vec![net.tx(FANS[p], Call::ReportEquivocation { evidence })]
        }
        Op::Empty(n) => {
            for _ in 0..n {
                block(net, proposer, Vec::new());
            }
            return;
        }
    };
    block(net, proposer, txs);
}

/// The nominations seen from the nodes and from the nominators agree, and stay bonded.
fn check_books(net: &Net) -> Result<(), TestCaseError> {
    let e = &net.chain.engine;
    let to: u128 = ROUTERS.iter().map(|r| e.nominated_to(&id(r)).0).sum();
    let by: u128 = FANS.iter().map(|p| e.nominated_by(&id(p)).0).sum();
    prop_assert_eq!(to, by);
    for p in FANS {
        prop_assert!(e.ledger().bonded(&id(p)) >= e.nominated_by(&id(p)), "{p} keeps its nominations bonded");
    }
    Ok(())
}

/// Every split sums exactly to its reward or slash, and each reward is paid once.
fn check_splits(events: &[Event]) -> Result<(), TestCaseError> {
    for (i, e) in events.iter().enumerate() {
        match e {
            Event::RewardSplit { node, commission, parts, kind, .. } => {
                let sum = commission.0 + parts.iter().map(|(_, a)| a.0).sum::<u128>();
                let paid = match kind {
                    RewardKind::Validator => events[..i].iter().rev().find_map(|x| match x {
                        Event::ValidatorRewarded { account, amount, .. } if account == node => Some(amount.0),
                        _ => None,
                    }),
                    _ => events[i..].iter().find_map(|x| match x {
                        Event::RouterRewarded { router, amount, .. } if router == node => Some(amount.0),
                        _ => None,
                    }),
                };
                prop_assert_eq!(Some(sum), paid);
            }
            Event::SlashSplit { node, parts, .. } => {
                let sum: u128 = parts.iter().map(|(_, a)| a.0).sum();
                let taken = events[..i].iter().rev().find_map(|x| match x {
                    Event::RouterSlashed { router, amount, .. } if router == node => Some(amount.0),
                    Event::EquivocationSlashed { account, amount, .. } if account == node => Some(amount.0),
                    _ => None,
                });
                prop_assert_eq!(Some(sum), taken);
            }
            Event::EquivocationSlashed { offender, era, amount, reporter_reward, burned, .. } => {
                prop_assert_eq!(reporter_reward.0 + burned.0, amount.0);
                prop_assert_eq!(*reporter_reward, engine::EQUIVOCATION_REPORTER_SHARE.mul_floor(*amount));
                let again = events[..i].iter().any(|x| {
                    matches!(x, Event::EquivocationSlashed { offender: o, era: e, .. } if o == offender && e == era)
                });
                prop_assert!(!again, "one slash per key and era");
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn nominations_conserve_tokens_and_every_split_is_exact(
        ops in proptest::collection::vec((op(), 0..4usize), 1..40)
    ) {
        let mut net = network();
        for (op, proposer) in &ops {
            apply(&mut net, op, *proposer);
            check_books(&net)?;
        }
        for i in 0..25 {
            block(&mut net, i % 4, Vec::new());
        }
        check_books(&net)?;
        check_splits(&net.events)?;
        let minted: u128 = net
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ValidatorRewarded { amount, .. } => Some(amount.0),
                _ => None,
            })
            .sum();
        prop_assert!(minted > 0, "some elected proposer was paid");
        let burned: u128 = net
            .events
            .iter()
            .filter_map(|e| match e {
                Event::EquivocationSlashed { burned, .. } => Some(burned.0),
                _ => None,
            })
            .sum();
        let supply = net.chain.engine.ledger().total_supply();
        let genesis = net.chain.engine.ledger().genesis_supply();
        prop_assert_eq!(supply.0, genesis.0 + minted - burned, "block rewards minted, equivocation slashes burned");
    }
}
