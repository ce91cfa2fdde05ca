//! Random market activity (registrations, status reports, requests, completions, ratings, proposals,
//! votes, empty blocks that let deadlines fire): after every block the ledger conserves tokens (checked
//! by the engine itself in debug builds), every request-price hold belongs to an open request and every open
//! request has its hold (no stranded escrow); replaying the blocks and restoring snapshots reproduce the
//! same roots.

use ed25519_dalek::SigningKey;
use engine::{
    output_commitment, Call, Engine, Genesis, GenesisAccount, GenesisService, Params, ProposalAction, Rating,
    ReportedStatus, Role, SignedTx, TaskState, TxBody,
};
use proptest::prelude::*;
use protocol::{HoldOwner, HoldReason};
use types::{AccountId, Amount, Hash, Ppb};

const PEOPLE: usize = 6;

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[40 + i as u8; 32])
}
fn who(i: usize) -> AccountId {
    AccountId(key(i).verifying_key().to_bytes())
}

#[derive(Debug, Clone)]
enum Op {
    Register(usize, u32),
    Deregister(usize),
    Status(usize, bool),
    Request(usize, u32),
    Complete(usize, u64),
    Rate(usize, u64, u8),
    ProposeWeight(usize, u32, u32),
    Vote(usize, u64, bool),
    Unbond(usize, u128),
    RegisterOracle(usize),
    SubmitTask(usize, u32),
    /// Whoever the task's current state waits for acts (honestly, or with an unrelated output).
    TaskStep(u64, usize, bool),
    Advance(usize, u64),
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0..PEOPLE;
    prop_oneof![
        1 => (p.clone(), 1u32..3).prop_map(|(a, s)| Op::Register(a, s)),
        1 => p.clone().prop_map(Op::Deregister),
        1 => (p.clone(), any::<bool>()).prop_map(|(a, r)| Op::Status(a, r)),
        4 => (p.clone(), 1u32..4).prop_map(|(a, s)| Op::Request(a, s)),
        4 => (p.clone(), 1u64..12).prop_map(|(a, r)| Op::Complete(a, r)),
        2 => (p.clone(), 1u64..12, 0u8..3).prop_map(|(a, r, g)| Op::Rate(a, r, g)),
        1 => (p.clone(), 1u32..3, 0u32..3).prop_map(|(a, s, w)| Op::ProposeWeight(a, s, w)),
        1 => (p.clone(), 1u64..4, any::<bool>()).prop_map(|(a, id, y)| Op::Vote(a, id, y)),
        1 => (p.clone(), 0u128..300).prop_map(|(a, x)| Op::Unbond(a, x)),
        1 => p.clone().prop_map(Op::RegisterOracle),
        2 => (p.clone(), 3u32..5).prop_map(|(a, k)| Op::SubmitTask(a, k)),
        10 => (1u64..4, 0usize..4, proptest::bool::weighted(0.8)).prop_map(|(t, i, h)| Op::TaskStep(t, i, h)),
        3 => (p, 1u64..4).prop_map(|(a, t)| Op::Advance(a, t)),
    ]
}

/// The signer and call of `op`, looking at the engine for who a task waits for.
fn call(op: &Op, e: &Engine) -> (usize, Call) {
    let index_of = |a: &AccountId| (0..PEOPLE).find(|i| who(*i) == *a).unwrap_or(0);
    match *op {
        Op::RegisterOracle(a) => (
            a,
            Call::RegisterNode {
                roles: vec![Role::Oracle],
                services: vec![],
                capacity: 1,
                endpoint: "http://o".into(),
            },
        ),
        Op::SubmitTask(a, k) => {
            (a, Call::SubmitTask { service: 1, redundancy: k, max_price: Amount(500), avoid: vec![] })
        }
        Op::Advance(a, t) => (a, Call::AdvanceTask { task: t }),
        Op::TaskStep(t, i, honest) => {
            let Some(task) = e.task(t) else { return (0, Call::AdvanceTask { task: t }) };
            let salt = Hash([i as u8; 32]);
            let output = if honest { "the same careful answer to the same question" } else { "random noise words" };
            match task.state {
                TaskState::Requested => (index_of(&task.creator), Call::PublishTaskSpec { task: t, spec: "q".into() }),
                TaskState::Created => {
                    (index_of(&task.preparer.unwrap_or_default()), Call::PrepareTask { task: t, inputs: "q".into() })
                }
                TaskState::Started if !task.miners.is_empty() => {
                    let m = task.miners[i % task.miners.len()];
                    (
                        index_of(&m),
                        Call::PrecommitOutput { task: t, commitment: output_commitment(t, &m, output, &salt) },
                    )
                }
                TaskState::Precommitted if !task.miners.is_empty() => {
                    let m = task.miners[i % task.miners.len()];
                    (index_of(&m), Call::RevealOutput { task: t, output: output.into(), salt })
                }
                _ => (i % PEOPLE, Call::AdvanceTask { task: t }),
            }
        }
        Op::Register(a, s) => (
            a,
            Call::RegisterNode {
                roles: vec![Role::Miner],
                services: vec![s],
                capacity: 2,
                endpoint: "http://m".into(),
            },
        ),
        Op::Deregister(a) => (a, Call::DeregisterNode),
        Op::Status(a, ready) => {
            (a, Call::ReportStatus { status: if ready { ReportedStatus::Ready } else { ReportedStatus::Busy } })
        }
        Op::Request(a, s) => (a, Call::SubmitRequest { service: s, max_price: Amount(100), avoid: vec![] }),
        Op::Complete(a, r) => (a, Call::CompleteRequest { request: r, result_hash: Hash([r as u8; 32]) }),
        Op::Rate(a, r, g) => {
            (a, Call::RateRequest { request: r, rating: [Rating::Good, Rating::Fair, Rating::Bad][g as usize] })
        }
        Op::ProposeWeight(a, s, w) => {
            (a, Call::Propose { action: ProposalAction::SetServiceWeight { service: s, weight: w } })
        }
        Op::Vote(a, id, y) => (a, Call::Vote { proposal: id, approve: y }),
        Op::Unbond(a, x) => (a, Call::Unbond { amount: Amount(x) }),
    }
}

fn genesis() -> Genesis {
    let mut accounts: Vec<GenesisAccount> = (0..PEOPLE)
        .map(|i| GenesisAccount { id: who(i), name: None, free: Amount(2_000), bonded: Amount(300) })
        .collect();
    accounts.push(GenesisAccount {
        id: AccountId::system(engine::MINERS_POOL_NAME),
        name: None,
        free: Amount(5_000),
        bonded: Amount::ZERO,
    });
    accounts.push(GenesisAccount {
        id: AccountId::system(engine::BACKGROUND_POOL_NAME),
        name: None,
        free: Amount(500),
        bonded: Amount::ZERO,
    });
    accounts.push(GenesisAccount {
        id: AccountId::system(engine::TREASURY_NAME),
        name: None,
        free: Amount(100),
        bonded: Amount::ZERO,
    });
    Genesis {
        params: Params {
            chain_id: "props".into(),
            min_fee: Amount(1),
            miner_stake_min: Amount(100),
            request_timeout: 3,
            rating_window: 2,
            heartbeat_timeout: 30,
            voting_period: 2,
            epoch_length: 4,
            unbonding_period: 3,
            quorum: Ppb::new(500_000_000).expect("50%"),
            miner_reward_per_epoch: Amount(700),
            oracle_stake_min: Amount(100),
            task_deadline_requested: 5,
            task_deadline_created: 5,
            task_deadline_started: 5,
            task_deadline_precommitted: 5,
            task_deadline_committed: 2,
            oracle_grace: 1,
            max_reassignments: 1,
            selection_cooldown: 1,
            oracle_fee: Amount(3),
            background_task_reward: Amount(40),
            background_redundancy: 3,
            // Emission, points (rounds and block production) and sweeps run at every epoch boundary.
            emission_per_epoch: Amount(10_000),
            block_producer: Some(who(0)),
            ..Params::default()
        },
        accounts,
        services: vec![
            GenesisService {
                name: "text".into(),
                weight: 1,
                price: Amount(30),
                poi_threshold: engine::POI_THRESHOLD_DEFAULT,
                semantic_poi: false,
            },
            GenesisService {
                name: "image".into(),
                weight: 3,
                price: Amount(0),
                poi_threshold: engine::POI_THRESHOLD_DEFAULT,
                semantic_poi: false,
            },
        ],
        validators: Vec::new(),
    }
}

/// No stranded escrow: request and task holds correspond one to one with open requests and open user tasks
/// (a task's hold holds its price less the oracle fees it has paid).
fn escrow_matches_requests(e: &Engine) -> Result<(), TestCaseError> {
    for h in e.ledger().holds() {
        if let (HoldOwner::Task(id), HoldReason::TaskPrice) = (h.tag.owner, h.tag.reason) {
            let open = e.task(id).is_some_and(|t| {
                !matches!(t.state, TaskState::Ended | TaskState::Failed)
                    && matches!(t.origin, engine::TaskOrigin::User { hold: Some(x), price, .. }
                        if x == h.id && price.0 == h.amount.0 + t.oracle_paid.0)
            });
            prop_assert!(open, "hold {} of task {id} is stranded", h.id);
        }
    }
    for t in e.tasks() {
        prop_assert!(t.oracle_paid <= t.fee(e.params()), "task {} paid its oracles above its own fee", t.id);
        if let engine::TaskOrigin::User { hold: Some(x), .. } = t.origin {
            let open = !matches!(t.state, TaskState::Ended | TaskState::Failed);
            prop_assert_eq!(open, e.ledger().hold(x).is_some(), "task {} and its hold disagree", t.id);
        }
    }
    for h in e.ledger().holds() {
        if let (HoldOwner::Request(id), HoldReason::RequestPrice) = (h.tag.owner, h.tag.reason) {
            let r = e.request(id);
            prop_assert!(
                r.is_some_and(|r| r.hold == Some(h.id) && r.status == engine::RequestStatus::Assigned),
                "hold {} of request {id} is stranded",
                h.id
            );
        }
    }
    for id in 1..64 {
        if let Some(r) = e.request(id) {
            if r.status == engine::RequestStatus::Assigned && !r.price.is_zero() {
                prop_assert!(
                    r.hold.and_then(|x| e.ledger().hold(x)).is_some_and(|h| h.amount == r.price),
                    "request {id} lost its escrow"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn random_market_activity_conserves_tokens_and_strands_no_escrow(
        blocks in proptest::collection::vec(proptest::collection::vec(op(), 0..7), 1..24),
    ) {
        let g = genesis();
        let mut engine = Engine::from_genesis(&g).expect("genesis");
        let start = engine.clone();
        let mut produced = Vec::new();
        // Everyone starts registered as a miner and an oracle, so tasks can find their participants.
        let opening: Vec<SignedTx> = (0..PEOPLE)
            .map(|i| {
                let c = Call::RegisterNode { roles: vec![Role::Miner, Role::Oracle], services: vec![1, 2], capacity: 2, endpoint: "http://n".into() };
                TxBody { signer: who(i), nonce: 0, fee: Amount(1), call: c }.sign(&key(i), "props")
            })
            .collect();
        let sigs = engine::verify_signatures(&opening, "props");
        produced.push(engine.produce_block(opening, &sigs).expect("opening block").0);
        for ops in &blocks {
            let mut nonces = [0u64; PEOPLE];
            for (i, n) in nonces.iter_mut().enumerate() {
                *n = engine.ledger().nonce(&who(i));
            }
            // Later transactions of a signer whose earlier one is rejected fail on their nonce; that is fine.
            let txs: Vec<SignedTx> = ops
                .iter()
                .map(|o| {
                    let (a, c) = call(o, &engine);
                    let t = TxBody { signer: who(a), nonce: nonces[a], fee: Amount(1), call: c }.sign(&key(a), "props");
                    nonces[a] += 1;
                    t
                })
                .collect();
            let sigs = engine::verify_signatures(&txs, "props");
            let (block, _) = engine.produce_block(txs, &sigs).expect("block");
            prop_assert!(engine.check_invariants().is_ok());
            escrow_matches_requests(&engine)?;
            produced.push(block);
            engine = Engine::restore(&engine.snapshot()).expect("snapshot restores");
        }
        let mut replica = start;
        for b in &produced {
            prop_assert!(replica.apply_block(b).is_ok(), "replay of block {}", b.height);
        }
        prop_assert_eq!(replica.state_root(), engine.state_root());
    }
}
