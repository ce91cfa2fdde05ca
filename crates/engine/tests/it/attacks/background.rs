//! Background work (seed 001, DESIGN §5, issue 19 item 7): the network pays idle miners for background
//! tasks from the background pool. Under the old rule a background task was created only while no request
//! or task was open anywhere, so a network where some miners always serve users starved every idle miner,
//! and the background pool's budget went back to the treasury unspent.
//!
//! The network: one service, four busy miners b1..b4 that each always serve one open user request (the
//! client names per-miner avoid lists, so each request goes to the miner it is meant for, which completes
//! it two blocks later while the client submits the next), and fifteen idle miners i1..i15 that do every
//! background task they are drawn for at once. No oracle acts: the end-of-block step advances every task
//! `oracle_grace` blocks after it becomes ready. No emission: the pool holds what genesis gave it.

use crate::harness::{id, small_params, Net};
use engine::{output_commitment, Call, Event, GenesisService, ListRef, Params, Role, TaskOrigin, TaskState};
use std::collections::{BTreeMap, BTreeSet};
use types::{AccountId, Amount, Hash};

const BUSY: [&str; 4] = ["b1", "b2", "b3", "b4"];
const IDLE: [&str; 15] =
    ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9", "i10", "i11", "i12", "i13", "i14", "i15"];
const ANSWER: &str =
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen in the chloroplasts of plant cells.";
const REWARD: u128 = 60;
const MINER_FREE: u128 = 1_000;
const BLOCKS: u64 = 60;

fn params() -> Params {
    Params {
        miner_stake_min: Amount(100),
        task_deadline_requested: 3,
        task_deadline_created: 3,
        task_deadline_started: 3,
        task_deadline_precommitted: 3,
        oracle_grace: 1,
        max_reassignments: 1,
        selection_cooldown: 0,
        background_task_reward: Amount(REWARD),
        background_redundancy: 3,
        background_tasks_per_block: 2,
        heartbeat_timeout: 1_000,
        request_timeout: 1_000,
        ..small_params()
    }
}

/// What a run showed.
struct Outcome {
    net: Net,
    /// Background tasks created in each block (by height).
    created: BTreeMap<u64, u32>,
    /// Transactions each signer sent (every one accepted; each paid the fee of 1).
    sent: BTreeMap<AccountId, u128>,
    /// Most background tasks open at once.
    open_max: usize,
}

impl Outcome {
    fn free(&self, who: &str) -> u128 {
        self.net.chain.engine.ledger().free(&id(who)).0
    }
    /// What `who` earned: its free balance now, less what it started with, plus the fees it paid.
    fn earned(&self, who: &str) -> u128 {
        self.free(who) + self.sent.get(&id(who)).copied().unwrap_or(0) - MINER_FREE
    }
    fn paid_to_idle(&self) -> u128 {
        IDLE.iter().map(|m| self.earned(m)).sum()
    }
    /// `TaskEnded.paid` of every background task.
    fn background_paid(&self) -> u128 {
        let background: BTreeSet<u64> = self
            .net
            .events
            .iter()
            .filter_map(|e| match e {
                Event::BackgroundTaskCreated { task, .. } => Some(*task),
                _ => None,
            })
            .collect();
        self.net
            .events
            .iter()
            .filter_map(|e| match e {
                Event::TaskEnded { task, paid, .. } if background.contains(task) => Some(paid.0),
                _ => None,
            })
            .sum()
    }
}

fn salt(who: &AccountId) -> Hash {
    Hash(*blake3::hash(&who.0).as_bytes())
}

/// The list of every miner but `busy` (a request avoiding it can only go to `busy`).
fn all_but(busy: &str) -> Vec<AccountId> {
    BUSY.iter().chain(IDLE.iter()).filter(|m| **m != busy).map(|m| id(m)).collect()
}

fn request_for(net: &mut Net, busy: &str) -> engine::SignedTx {
    let avoid = vec![ListRef { owner: Some(id("client")), name: format!("not-{busy}") }];
    net.tx("client", Call::SubmitRequest { service: 1, max_price: Amount(30), avoid })
}

/// Block 1: everyone registers, the client publishes its lists and sends each busy miner a request.
fn setup(pool: u128) -> Net {
    let mut accounts: Vec<(&str, u128, u128)> = BUSY.iter().chain(IDLE.iter()).map(|m| (*m, MINER_FREE, 100)).collect();
    accounts.push(("client", 1_000_000, 100));
    let services = vec![GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(30),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    }];
    let mut net =
        Net::with_system(&accounts, params(), services, &[("treasury", 1_000), (engine::BACKGROUND_POOL_NAME, pool)]);
    let register =
        Call::RegisterNode { roles: vec![Role::Miner], services: vec![1], capacity: 1, endpoint: "http://m".into() };
    let mut txs: Vec<_> = BUSY.iter().chain(IDLE.iter()).map(|m| net.tx(m, register.clone())).collect();
    for b in BUSY {
        txs.push(net.tx("client", Call::PublishList { name: format!("not-{b}"), nodes: all_but(b) }));
    }
    for b in BUSY {
        txs.push(request_for(&mut net, b));
    }
    net.block(txs);
    net
}

/// Every participant of an open background task does what its state waits for.
fn background_work(net: &mut Net) -> Vec<engine::SignedTx> {
    let tasks: Vec<engine::Task> =
        net.chain.engine.tasks().filter(|t| t.origin == TaskOrigin::Background).cloned().collect();
    let mut txs = Vec::new();
    for t in tasks {
        let task = t.id;
        match t.state {
            TaskState::Requested if t.spec.is_none() => {
                let c = net.name(&t.creator);
                txs.push(net.tx(&c, Call::PublishTaskSpec { task, spec: "Explain photosynthesis.".into() }));
            }
            TaskState::Created if t.inputs.is_none() => {
                let p = net.name(&t.preparer.expect("a created task has a preparer"));
                txs.push(
                    net.tx(&p, Call::PrepareTask { task, inputs: "Explain photosynthesis in one sentence.".into() }),
                );
            }
            TaskState::Started => {
                for m in t.miners.iter().filter(|m| !t.precommits.contains_key(m)) {
                    let commitment = output_commitment(task, m, ANSWER, &salt(m));
                    let name = net.name(m);
                    txs.push(net.tx(&name, Call::PrecommitOutput { task, commitment }));
                }
            }
            TaskState::Precommitted => {
                for m in t.miners.iter().filter(|m| !t.outputs.contains_key(m)) {
                    let name = net.name(m);
                    txs.push(net.tx(&name, Call::RevealOutput { task, output: ANSWER.into(), salt: salt(m) }));
                }
            }
            _ => {}
        }
    }
    txs
}

/// Run `BLOCKS` blocks after set-up: the busy miners serve their requests, the idle ones their background
/// tasks; checks after every block that no busy miner takes part in a background task.
fn run(pool: u128) -> Outcome {
    let mut net = setup(pool);
    let busy: BTreeSet<AccountId> = BUSY.iter().map(|b| id(b)).collect();
    // Each busy miner's open request and the block it was submitted in.
    let mut serving: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    // Every miner registered in block 1 (fee 1).
    let mut sent: BTreeMap<AccountId, u128> = BUSY.iter().chain(IDLE.iter()).map(|m| (id(m), 1)).collect();
    let mut created: BTreeMap<u64, u32> = BTreeMap::new();
    let mut seen = 0;
    let mut open_max = 0;
    for _ in 0..=BLOCKS {
        let height = net.chain.engine.height().0;
        for e in &net.events[seen..] {
            match e {
                Event::RequestSubmitted { request, miner, .. } => {
                    let b = BUSY.iter().find(|b| id(b) == *miner).expect("requests go to busy miners");
                    serving.insert(b, (*request, height));
                }
                Event::BackgroundTaskCreated { .. } => *created.entry(height).or_default() += 1,
                _ => {}
            }
        }
        seen = net.events.len();
        let open: Vec<&engine::Task> =
            net.chain.engine.tasks().filter(|t| !matches!(t.state, TaskState::Ended | TaskState::Failed)).collect();
        open_max = open_max.max(open.len());
        for t in open {
            let mut who: BTreeSet<AccountId> = t.miners.iter().copied().collect();
            who.insert(t.creator);
            who.extend(t.preparer);
            assert!(who.is_disjoint(&busy), "block {height}: task {} drew a busy miner", t.id);
        }
        if height > BLOCKS {
            break;
        }
        let mut txs = Vec::new();
        for b in BUSY {
            let (request, at) = serving[b];
            if at + 2 <= height {
                txs.push(net.tx(b, Call::CompleteRequest { request, result_hash: Hash([7; 32]) }));
                txs.push(request_for(&mut net, b));
            }
        }
        txs.extend(background_work(&mut net));
        for t in &txs {
            *sent.entry(t.body.signer).or_default() += 1;
        }
        let n = txs.len();
        net.block(txs);
        let block = &net.log[net.log.rfind("block ").expect("a block")..];
        assert_eq!(block.matches(" -> ok").count(), n, "every transaction is accepted:\n{block}");
    }
    Outcome { net, created, sent, open_max }
}

/// Issue 19, item 7: four miners always serve users and twelve are idle. Under the old rule (a background
/// task only while no request or task is open anywhere) the idle miners earned 0 over 60 blocks; now up to
/// `background_tasks_per_block` tasks per block are created among the idle miners, every idle miner is paid
/// from the background pool, no busy miner is ever drawn, and every token is accounted for.
#[test]
fn busy_network_starves_idle_miners() {
    let pool = 100_000;
    let supply = |net: &Net| net.chain.engine.ledger().total_supply().0;
    let out = run(pool);
    let net = &out.net;
    let paid = out.paid_to_idle();
    let tasks: u32 = out.created.values().sum();
    eprintln!(
        "background paid to idle miners over {BLOCKS} blocks: {paid} ({tasks} background tasks, at most {} open)",
        out.open_max
    );
    for m in IDLE {
        assert!(out.earned(m) > 0, "{m} earned nothing while idle");
    }
    for b in BUSY {
        // Fees are counted back in `earned`: a busy miner earned exactly its requests' pay (30 less 5%).
        let served = out.sent[&id(b)] - 1;
        assert_eq!(out.earned(b), served * 29, "{b} was paid for its requests only");
    }
    let bound = net.chain.engine.params().background_tasks_per_block;
    assert!(out.created.values().all(|n| *n <= bound), "at most {bound} per block: {:?}", out.created);
    assert_eq!(
        out.created.values().max(),
        Some(&bound),
        "fifteen idle miners make room for three tasks of k = 3; the bound is two"
    );
    // Conservation: the pool paid exactly what the idle miners got, and no token was made or lost.
    let pool_now = net.chain.engine.ledger().free(&AccountId::system(engine::BACKGROUND_POOL_NAME)).0;
    assert_eq!(pool - pool_now, paid);
    assert_eq!(out.background_paid(), paid);
    let genesis = (BUSY.len() + IDLE.len()) as u128 * (MINER_FREE + 100) + 1_000_100 + 1_000 + pool;
    assert_eq!(supply(net), genesis, "no token made or destroyed");
}

/// The pool pays for at most what it holds: with two rewards in it, at most two background tasks are open
/// at once, each that passes is paid in full, and nothing is created once the pool is empty.
#[test]
fn background_tasks_only_while_the_pool_can_pay() {
    let out = run(2 * REWARD);
    assert!(out.open_max <= 2, "the pool pays two tasks; {} were open", out.open_max);
    let tasks: u32 = out.created.values().sum();
    assert_eq!(tasks, 2, "two tasks drained the pool: {:?}", out.created);
    assert_eq!(out.paid_to_idle(), 2 * REWARD);
    assert_eq!(out.net.chain.engine.ledger().free(&AccountId::system(engine::BACKGROUND_POOL_NAME)), Amount::ZERO);
}
