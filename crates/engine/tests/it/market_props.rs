//! Random market activity (registrations, status reports, requests, completions, ratings, proposals,
//! votes, empty blocks that let deadlines fire): after every block the ledger conserves tokens (checked
//! by the engine itself in debug builds), every request-price hold belongs to an open request and every open
//! request has its hold (no stranded escrow); replaying the blocks and restoring snapshots reproduce the
//! same roots.

use ed25519_dalek::SigningKey;
use engine::{
    Call, Engine, Genesis, GenesisAccount, GenesisService, Params, ProposalAction, Rating, ReportedStatus, Role,
    SignedTx, TxBody,
};
use ledger::{HoldOwner, HoldReason};
use proptest::prelude::*;
use types::{AccountId, Amount, Hash, Ppb};

const PEOPLE: usize = 5;

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
        1 => (p, 0u128..300).prop_map(|(a, x)| Op::Unbond(a, x)),
    ]
}

fn call(op: &Op) -> (usize, Call) {
    match *op {
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
        Op::Request(a, s) => (a, Call::SubmitRequest { service: s, max_price: Amount(100) }),
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
    Genesis {
        params: Params {
            chain_id: "props".into(),
            min_fee: Amount(1),
            miner_stake_min: Amount(100),
            request_timeout: 3,
            rating_window: 2,
            heartbeat_timeout: 4,
            voting_period: 2,
            epoch_length: 4,
            unbonding_period: 3,
            quorum: Ppb::new(100_000_000).expect("10%"),
            miner_reward_per_epoch: Amount(700),
            ..Params::default()
        },
        accounts,
        services: vec![
            GenesisService {
                name: "text".into(),
                weight: 1,
                price: Amount(30),
                poi_threshold: engine::POI_THRESHOLD_DEFAULT,
            },
            GenesisService {
                name: "image".into(),
                weight: 3,
                price: Amount(0),
                poi_threshold: engine::POI_THRESHOLD_DEFAULT,
            },
        ],
    }
}

/// No stranded escrow: request holds and open requests correspond one to one.
fn escrow_matches_requests(e: &Engine) -> Result<(), TestCaseError> {
    for h in e.ledger().holds() {
        if let (HoldOwner::Request(id), HoldReason::RequestPrice) = (h.owner, h.reason) {
            let r = e.request(id);
            prop_assert!(
                r.is_some_and(|r| r.hold == h.id && r.status == engine::RequestStatus::Assigned),
                "hold {} of request {id} is stranded",
                h.id
            );
        }
    }
    for id in 1..64 {
        if let Some(r) = e.request(id) {
            if r.status == engine::RequestStatus::Assigned && !r.price.is_zero() {
                prop_assert!(
                    e.ledger().hold(r.hold).is_some_and(|h| h.amount == r.price),
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
        blocks in proptest::collection::vec(proptest::collection::vec(op(), 0..6), 1..14),
    ) {
        let g = genesis();
        let mut engine = Engine::from_genesis(&g).expect("genesis");
        let start = engine.clone();
        let mut produced = Vec::new();
        for ops in &blocks {
            let mut nonces = [0u64; PEOPLE];
            for (i, n) in nonces.iter_mut().enumerate() {
                *n = engine.ledger().nonce(&who(i));
            }
            // Later transactions of a signer whose earlier one is rejected fail on their nonce; that is fine.
            let txs: Vec<SignedTx> = ops
                .iter()
                .map(|o| {
                    let (a, c) = call(o);
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
