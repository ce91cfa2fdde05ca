//! Proof of Useful Work scenarios: the lifecycle, reassignment, oracle races and fallbacks, commit–reveal,
//! Proof of Inference verdicts, and background tasks.

use crate::harness::{id, small_params, Net};
use engine::{output_commitment, Call, GenesisService, Params, ProposalAction, Role, TaskState};
use expect_test::expect;
use types::{AccountId, Amount, Hash, Ppb};

pub(crate) const ANSWER: &str =
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen in the chloroplasts of plant cells.";
const MINERS: [&str; 6] = ["m1", "m2", "m3", "m4", "m5", "m6"];

pub(crate) fn params() -> Params {
    Params {
        miner_stake_min: Amount(100),
        oracle_stake_min: Amount(100),
        task_deadline_requested: 3,
        task_deadline_created: 3,
        task_deadline_started: 3,
        task_deadline_precommitted: 3,
        oracle_grace: 2,
        max_reassignments: 1,
        selection_cooldown: 0,
        oracle_fee: Amount(5),
        protocol_fee: Ppb::new(100_000_000).expect("10%"),
        background_task_reward: Amount(0),
        epoch_length: 1_000,
        heartbeat_timeout: 1_000,
        ..small_params()
    }
}

/// Six miners and two oracles registered in block 1; the treasury can pay oracle fees.
pub(crate) fn setup(p: Params, background_pool: u128) -> Net {
    setup_with(p, background_pool, false)
}

/// [`setup`], with the service's `semantic_poi` set.
pub(crate) fn setup_with(p: Params, background_pool: u128, semantic_poi: bool) -> Net {
    let mut accounts: Vec<(&str, u128, u128)> = MINERS.iter().map(|m| (*m, 100, 100)).collect();
    accounts.extend([("o1", 100, 100), ("o2", 100, 100), ("client", 10_000, 0)]);
    let services = vec![GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(30),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi,
    }];
    let system = [("treasury", 1_000), (engine::BACKGROUND_POOL_NAME, background_pool)];
    let mut net = Net::with_system(&accounts, p, services, &system);
    let mut txs: Vec<_> = MINERS
        .iter()
        .map(|m| {
            net.tx(
                m,
                Call::RegisterNode {
                    roles: vec![Role::Miner],
                    services: vec![1],
                    capacity: 2,
                    endpoint: "http://m".into(),
                },
            )
        })
        .collect();
    for o in ["o1", "o2"] {
        txs.push(net.tx(
            o,
            Call::RegisterNode {
                roles: vec![Role::Oracle],
                services: vec![],
                capacity: 1,
                endpoint: "http://o".into(),
            },
        ));
    }
    net.block(txs);
    net
}

pub(crate) fn task(net: &Net) -> engine::Task {
    task_n(net, 1)
}
fn task_n(net: &Net, id: u64) -> engine::Task {
    net.chain.engine.task(id).unwrap_or_else(|| panic!("task {id} is open")).clone()
}
pub(crate) fn miners(net: &Net) -> Vec<String> {
    miners_n(net, 1)
}
fn creator(net: &Net) -> String {
    net.name(&task(net).creator)
}
fn preparer(net: &Net) -> String {
    net.name(&task(net).preparer.expect("a preparer"))
}
fn miners_n(net: &Net, id: u64) -> Vec<String> {
    task_n(net, id).miners.iter().map(|m| net.name(m)).collect()
}
pub(crate) fn salt(i: usize) -> Hash {
    Hash([i as u8 + 1; 32])
}

/// Submit a k = 3 task and drive it to Started with oracle o1.
pub(crate) fn to_started(net: &mut Net) {
    to_started_n(net, 1);
}

/// Submit a k = 3 task (which gets id `task`) and drive it to Started with oracle o1.
fn to_started_n(net: &mut Net, task: u64) {
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    let c = net.name(&task_n(net, task).creator);
    let spec = net.tx(&c, Call::PublishTaskSpec { task, spec: "Explain photosynthesis.".into() });
    net.block(vec![spec]);
    let adv = net.tx("o1", Call::AdvanceTask { task });
    net.block(vec![adv]);
    let p = net.name(&task_n(net, task).preparer.expect("a preparer"));
    let inputs = net.tx(&p, Call::PrepareTask { task, inputs: "Explain photosynthesis in one sentence.".into() });
    net.block(vec![inputs]);
    let adv = net.tx("o1", Call::AdvanceTask { task });
    net.block(vec![adv]);
    assert_eq!(task_n(net, task).state, TaskState::Started);
}

/// Task 1, just submitted, run to its end by its participants alone: spec, inputs, precommits and reveals
/// (miner i gives `outs[i]`), two empty blocks after each for the engine's automatic advance (no oracle).
/// The miners, in selection order.
pub(crate) fn run_by_fallback(net: &mut Net, outs: &[&str]) -> Vec<String> {
    let c = creator(net);
    let spec = net.tx(&c, Call::PublishTaskSpec { task: 1, spec: "Explain.".into() });
    net.block(vec![spec]);
    net.empty_blocks(2); // everyone acted: the engine advances by itself after oracle_grace
    let p = preparer(net);
    let inputs = net.tx(&p, Call::PrepareTask { task: 1, inputs: "Explain.".into() });
    net.block(vec![inputs]);
    net.empty_blocks(2);
    let ms = miners(net);
    let pre: Vec<_> = ms
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let commitment = output_commitment(1, &crate::harness::id(m), outs[i], &salt(i));
            net.tx(m, Call::PrecommitOutput { task: 1, commitment })
        })
        .collect();
    net.block(pre);
    net.empty_blocks(2);
    let rev: Vec<_> = ms
        .iter()
        .enumerate()
        .map(|(i, m)| net.tx(m, Call::RevealOutput { task: 1, output: outs[i].into(), salt: salt(i) }))
        .collect();
    net.block(rev);
    net.empty_blocks(2);
    ms
}

/// Each selected miner precommits its output, o1 advances, each reveals, o1 advances.
fn commit_and_reveal(net: &mut Net, outputs: &[&str]) {
    commit_and_reveal_n(net, 1, outputs);
}

fn commit_and_reveal_n(net: &mut Net, task: u64, outputs: &[&str]) {
    let ms = miners_n(net, task);
    let pre: Vec<_> = ms
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let commitment = output_commitment(task, &crate::harness::id(m), outputs[i], &salt(i));
            net.tx(m, Call::PrecommitOutput { task, commitment })
        })
        .collect();
    net.block(pre);
    let adv = net.tx("o1", Call::AdvanceTask { task });
    net.block(vec![adv]);
    let rev: Vec<_> = ms
        .iter()
        .enumerate()
        .map(|(i, m)| net.tx(m, Call::RevealOutput { task, output: outputs[i].into(), salt: salt(i) }))
        .collect();
    net.block(rev);
    let adv = net.tx("o1", Call::AdvanceTask { task });
    net.block(vec![adv]);
}

pub(crate) fn free(net: &Net, who: &str) -> u128 {
    net.chain.engine.ledger().free(&crate::harness::id(who)).0
}

#[test]
fn an_honest_task_runs_its_whole_lifecycle_and_pays_the_miners_and_the_oracle() {
    let mut net = setup(params(), 0);
    to_started(&mut net);
    let ms = miners(&net);
    commit_and_reveal(&mut net, &[ANSWER, ANSWER, ANSWER]);
    assert_eq!(task(&net).state, TaskState::Ended);
    // 3 × 30 held; 10% fee (9); 81 split 27 each. Oracle o1 advanced four times: 5, then the 4 left of
    // the task's fee, then nothing (oracle fees come out of the task's own fee).
    assert_eq!(free(&net, "client"), 10_000 - 90 - 1);
    for m in &ms {
        assert_eq!(free(&net, m), 100 - 1 - 2 + 27, "{m}: register, precommit and reveal fees, then 27");
    }
    assert_eq!(free(&net, "o1"), 100 - 1 - 4 + 9);
    let events: Vec<&str> = net.log.lines().filter(|l| l.contains("TaskAdvanced") || l.contains("TaskEnded")).collect();
    expect![[r#"
        [
            "  * TaskAdvanced 1 Requested -> Created by o1 fee 5",
            "  * TaskAdvanced 1 Created -> Started by o1 fee 4",
            "  * TaskAdvanced 1 Started -> Precommitted by o1 fee 0",
            "  * TaskEnded 1 passed [m1 m2 m5] failed [] paid 81",
            "  * TaskAdvanced 1 Precommitted -> Ended by o1 fee 0",
        ]
    "#]]
    .assert_debug_eq(&events);
}

#[test]
fn a_miner_missing_the_precommit_deadline_is_replaced() {
    let mut net = setup(params(), 0);
    to_started(&mut net);
    let ms = miners(&net);
    let pre: Vec<_> = ms[..2]
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let commitment = output_commitment(1, &crate::harness::id(m), ANSWER, &salt(i));
            net.tx(m, Call::PrecommitOutput { task: 1, commitment })
        })
        .collect();
    net.block(pre);
    let early = net.tx("o2", Call::AdvanceTask { task: 1 });
    net.block(vec![early]);
    assert!(net.log.contains("advance task 1 -> premature_advance"));
    net.empty_blocks(2);
    let adv = net.tx("o2", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    let now = miners(&net);
    assert!(!now.contains(&ms[2]) && now.len() == 3, "{} was replaced: {now:?}", ms[2]);
    assert!(net.log.contains(&format!("TaskParticipantReplaced 1 {} ->", ms[2])));
    let newcomer = now.iter().position(|m| !ms.contains(m)).expect("a new miner");
    let c = net.tx(
        &now[newcomer],
        Call::PrecommitOutput {
            task: 1,
            commitment: output_commitment(1, &crate::harness::id(&now[newcomer]), ANSWER, &salt(newcomer)),
        },
    );
    net.block(vec![c]);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    let rev: Vec<_> = now
        .iter()
        .enumerate()
        .map(|(i, m)| net.tx(m, Call::RevealOutput { task: 1, output: ANSWER.into(), salt: salt(i) }))
        .collect();
    net.block(rev);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    assert!(net.log.contains("TaskEnded 1 passed"), "{}", net.log);
    assert!(
        net.chain.engine.reputation(&crate::harness::id(&ms[2])).raw() < 500_000_000,
        "the silent miner was rated Bad"
    );
}

#[test]
fn two_oracles_race_and_only_the_first_is_paid_and_a_premature_advance_is_refused() {
    let mut net = setup(params(), 0);
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    let too_soon = net.tx("o1", Call::AdvanceTask { task: 1 });
    let not_oracle = net.tx("m1", Call::AdvanceTask { task: 1 });
    net.block(vec![too_soon, not_oracle]);
    assert!(net.log.contains("o1#1 advance task 1 -> premature_advance"), "{}", net.log);
    assert!(net.log.contains("m1#1 advance task 1 -> not_an_oracle"), "{}", net.log);
    let c = creator(&net);
    let spec = net.tx(&c, Call::PublishTaskSpec { task: 1, spec: "Explain.".into() });
    net.block(vec![spec]);
    let (a, b) = (net.tx("o1", Call::AdvanceTask { task: 1 }), net.tx("o2", Call::AdvanceTask { task: 1 }));
    net.block(vec![a, b]);
    assert!(
        net.log.contains("o1#1 advance task 1 -> ok") && net.log.contains("o2#1 advance task 1 -> premature_advance"),
        "{}",
        net.log
    );
    assert_eq!((free(&net, "o1"), free(&net, "o2")), (100 - 1 - 1 + 5, 100 - 1));
}

#[test]
fn a_lazy_miner_is_the_outlier_and_a_copier_cannot_match_its_precommit() {
    let mut net = setup(params(), 0);
    to_started(&mut net);
    let ms = miners(&net);
    let lazy = "I am busy, here is some unrelated filler text about football scores.";
    // ms[2] is a copier: it binds to a guess, then sees ms[0]'s reveal and tries to reveal that instead.
    let pre = vec![
        net.tx(
            &ms[0],
            Call::PrecommitOutput { task: 1, commitment: output_commitment(1, &id(&ms[0]), ANSWER, &salt(0)) },
        ),
        net.tx(
            &ms[1],
            Call::PrecommitOutput { task: 1, commitment: output_commitment(1, &id(&ms[1]), lazy, &salt(1)) },
        ),
        net.tx(&ms[2], Call::PrecommitOutput { task: 1, commitment: Hash([9; 32]) }),
    ];
    net.block(pre);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    let r0 = net.tx(&ms[0], Call::RevealOutput { task: 1, output: ANSWER.into(), salt: salt(0) });
    let r1 = net.tx(&ms[1], Call::RevealOutput { task: 1, output: lazy.into(), salt: salt(1) });
    let copy = net.tx(&ms[2], Call::RevealOutput { task: 1, output: ANSWER.into(), salt: salt(0) });
    net.block(vec![r0, r1, copy]);
    assert!(net.log.contains(&format!("{}#2 reveal task 1 \"Photosynthes\" -> reveal_mismatch", ms[2])), "{}", net.log);
    net.empty_blocks(3);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    // The copier never revealed: dropped. Two outputs remain and do not agree: no majority, nobody blamed.
    assert!(net.log.contains(&format!("TaskParticipantsDropped 1 {}", ms[2])), "{}", net.log);
    assert!(net.log.contains("TaskFailed 1 (no agreeing majority) culprits [] realtime true"), "{}", net.log);
    assert_eq!(free(&net, "client"), 10_000 - 1 - 9, "refunded the price less the oracles' fees (the task's 9)");
}

#[test]
fn with_three_honest_and_one_lazy_the_lazy_one_fails_alone() {
    let mut p = params();
    p.task_redundancy_max = 9;
    let mut net = setup(p, 0);
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 4, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    let outs = [ANSWER, ANSWER, ANSWER, "completely different words about nothing at all"];
    let ms = run_by_fallback(&mut net, &outs);
    let lazy = &ms[3];
    let ended =
        net.log.lines().find(|l| l.contains("TaskEnded 1")).expect("the task ended without any oracle").to_string();
    assert!(ended.contains(&format!("failed [{lazy}]")), "{ended}");
    assert!(!net.log.contains("by o1") && !net.log.contains("by o2"), "no oracle took part");
    // 4 × 30 = 120 held; fee 12; 108 split among the three that agreed: 36 each.
    for m in &ms[..3] {
        assert_eq!(free(&net, m), 100 - 1 - 2 + 36, "{m}");
    }
}

#[test]
fn a_task_with_three_unrelated_answers_has_no_majority_and_blames_nobody() {
    let mut net = setup(params(), 0);
    to_started(&mut net);
    commit_and_reveal(&mut net, &["apples and pears are fruit", "the stock market closed higher", ANSWER]);
    assert!(net.log.contains("TaskFailed 1 (no agreeing majority) culprits [] realtime true"), "{}", net.log);
    assert_eq!(free(&net, "client"), 10_000 - 1 - 9, "the price less the oracles' fees");
}

#[test]
fn a_creator_that_never_publishes_is_replaced_then_the_task_fails() {
    let mut net = setup(params(), 0);
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    let first = creator(&net);
    net.empty_blocks(3);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    assert_ne!(creator(&net), first, "replaced after missing its deadline");
    net.empty_blocks(6); // the new creator is silent too; no oracle acts: the engine fails it after the grace
    assert!(net.log.contains("TaskFailed 1 (missed deadline after the last reassignment)"), "{}", net.log);
    assert!(net.log.contains("realtime false"), "{}", net.log);
    assert_eq!(free(&net, "client"), 10_000 - 1 - 5, "refunded less o1's one fee");
}

#[test]
fn background_tasks_appear_only_while_miners_are_idle() {
    let p = Params { background_task_reward: Amount(60), background_redundancy: 3, ..params() };
    let mut net = setup(p, 1_000);
    // Block 1 registered everyone and the network was idle: a background task was created right away.
    assert!(net.log.contains("BackgroundTaskCreated 1"), "{}", net.log);
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    // Six miners: the background task's creator is busy and it has still to draw a preparer and two miners,
    // so at most two idle miners are not spoken for: too few for a second task (four places).
    assert_eq!(net.log.matches("BackgroundTaskCreated").count(), 1, "no second one without four idle miners");
    let bg = net.chain.engine.task(1).expect("background task").clone();
    assert_eq!(bg.origin, engine::TaskOrigin::Background);
    let user_task_open = net.chain.engine.task(2).is_some();
    assert!(user_task_open);
    let _ = AccountId::system(engine::BACKGROUND_POOL_NAME);
}

/// For a service with `semantic_poi`, a task waits at Committed for oracles' semantic scores. One oracle with half of all
/// oracle stake is a quorum: its scores decide, and an output that shares the words but (per the
/// validator's neural embedder) not the meaning fails even though the n-gram embedder would pass it.
#[test]
fn semantic_attestations_decide_when_a_quorum_of_oracle_stake_attests() {
    let mut net = setup_with(params(), 0, true);
    to_started(&mut net);
    let ms = miners(&net);
    commit_and_reveal(&mut net, &[ANSWER, ANSWER, ANSWER]);
    assert_eq!(task(&net).state, TaskState::Committed, "waiting for attestations");
    let ids: Vec<AccountId> = task(&net).outputs.keys().copied().collect();
    let scores: Vec<(AccountId, i64)> =
        ids.iter().enumerate().map(|(i, m)| (*m, if i == 2 { 100_000_000 } else { 950_000_000 })).collect();
    let stranger = net.tx(&ms[0], Call::AttestPoi { task: 1, scores: scores.clone() });
    let short = net.tx("o2", Call::AttestPoi { task: 1, scores: scores[..2].to_vec() });
    net.block(vec![stranger, short]);
    assert!(net.log.contains("-> not_an_oracle") && net.log.contains("-> invalid_task"), "{}", net.log);
    let attest = net.tx("o1", Call::AttestPoi { task: 1, scores });
    net.block(vec![attest]);
    let adv = net.tx("o2", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    let odd = net.name(&ids[2]);
    let ended = net.log.lines().find(|l| l.contains("TaskEnded 1")).expect("ended").to_string();
    assert!(ended.contains(&format!("failed [{odd}]")), "{ended}");
}

#[test]
fn without_a_quorum_of_attestations_the_integer_embedder_decides_at_the_deadline() {
    let mut net = setup_with(params(), 0, true);
    to_started(&mut net);
    commit_and_reveal(&mut net, &[ANSWER, ANSWER, ANSWER]);
    let early = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![early]);
    assert!(net.log.contains("advance task 1 -> premature_advance"));
    net.empty_blocks(3);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    let ended = net.log.lines().find(|l| l.contains("TaskEnded 1")).expect("ended").to_string();
    assert!(ended.contains("failed []"), "{ended}");
}

/// Issue 19, item 3: semantic PoI is a service's rule. Two lazy miners that agree word for word on junk
/// pass n-gram PoI and outvote the honest one (task 1, submitted while the service judges by n-grams).
/// Governance switches the service to semantic PoI; task 2 then waits for the oracles, whose scores
/// outvote the pair's agreement: the pair is not paid. A bad switch (threshold under 50%, unknown service)
/// is refused when proposed.
#[test]
fn a_service_switched_to_semantic_poi_lets_oracles_outvote_agreeing_junk() {
    const JUNK: &str = "The answer depends on many factors and cannot be determined here.";
    let p = Params { epoch_length: 20, voting_period: 4, unbonding_period: 8, ..params() };
    let mut net = setup_with(p, 0, false);
    let switch = |service, threshold| ProposalAction::SetServicePoi {
        service,
        poi_threshold: Ppb::new(threshold).expect("a ratio"),
        semantic_poi: true,
    };
    let bad = [("o2", switch(1, 300_000_000)), ("m1", switch(9, 850_000_000))];
    let bad: Vec<_> = bad.into_iter().map(|(who, action)| net.tx(who, Call::Propose { action })).collect();
    net.block(bad);
    assert!(net.log.contains("-> invalid_service") && net.log.contains("-> unknown_service"), "{}", net.log);
    let propose = net.tx("o1", Call::Propose { action: switch(1, 850_000_000) });
    net.block(vec![propose]);
    let voters = MINERS.iter().copied().chain(["o1", "o2"]);
    let votes: Vec<_> = voters.map(|v| net.tx(v, Call::Vote { proposal: 1, approve: true })).collect();
    net.block(votes);

    to_started_n(&mut net, 1);
    let mut pair = miners_n(&net, 1)[..2].to_vec();
    pair.sort();
    commit_and_reveal_n(&mut net, 1, &[JUNK, JUNK, ANSWER]);
    let ended = net.log.lines().find(|l| l.contains("TaskEnded 1")).expect("n-gram PoI ends task 1").to_string();
    assert!(ended.contains(&format!("passed [{} {}]", pair[0], pair[1])), "the old rule pays the pair: {ended}");
    assert!(!net.chain.engine.service(1).expect("text").semantic_poi, "not switched before the epoch ends");

    while net.chain.engine.height().0 < 21 {
        net.empty_blocks(1);
    }
    assert!(net.chain.engine.service(1).expect("text").semantic_poi, "switched at the epoch boundary");
    to_started_n(&mut net, 2);
    assert!(task_n(&net, 2).semantic_poi, "a task keeps its service's rule of when it was submitted");
    let pair = miners_n(&net, 2)[..2].to_vec();
    let before: u128 = pair.iter().map(|m| free(&net, m)).sum();
    commit_and_reveal_n(&mut net, 2, &[JUNK, JUNK, ANSWER]);
    assert_eq!(task_n(&net, 2).state, TaskState::Committed, "waiting for the oracles");
    let outputs: Vec<(AccountId, String)> = task_n(&net, 2).outputs.into_iter().collect();
    let scores: Vec<(AccountId, i64)> =
        outputs.iter().map(|(m, o)| (*m, if o == JUNK { 50_000_000 } else { 950_000_000 })).collect();
    let attest: Vec<_> =
        ["o1", "o2"].iter().map(|o| net.tx(o, Call::AttestPoi { task: 2, scores: scores.clone() })).collect();
    net.block(attest);
    let adv = net.tx("o1", Call::AdvanceTask { task: 2 });
    net.block(vec![adv]);
    let failed = net.log.lines().find(|l| l.contains("TaskFailed 2")).expect("task 2 fails").to_string();
    assert!(failed.contains("no agreeing majority"), "{failed}");
    assert!(!net.log.contains("TaskEnded 2"), "nobody is paid for task 2");
    let after: u128 = pair.iter().map(|m| free(&net, m)).sum();
    assert_eq!(after, before - 4, "the pair is paid nothing and is out its four transaction fees");
}

/// Epoch points from real task rounds: the three agreeing miners earn 10 each, the lazy outlier loses 20;
/// at the epoch's end the lazy one (failure rate 1 > 1/3) is on the network's underperformers list, and a
/// client avoiding that list never gets it as creator, preparer or miner.
#[test]
fn the_lazy_outlier_loses_points_lands_on_underperformers_and_is_avoided() {
    let mut p = params();
    p.task_redundancy_max = 9;
    p.epoch_length = 20;
    let mut net = setup(p, 0);
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 4, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    let ms = run_by_fallback(&mut net, &[ANSWER, ANSWER, ANSWER, "completely different words about nothing at all"]);
    let lazy = crate::harness::id(&ms[3]);
    let points = net.chain.engine.epoch_points().nodes.clone();
    for m in &ms[..3] {
        let p = points[&crate::harness::id(m)];
        assert_eq!((p.earned, p.deducted, p.rounds, p.failures), (10, 0, 1, 0), "{m}");
    }
    let p = points[&lazy];
    // The default 5% target deducts 190 (the seed's figure; 20 under the old 1/3 default).
    assert_eq!((p.earned, p.deducted, p.net(), p.failures), (0, 190, 0, 1));
    let to_end = 20 - net.chain.engine.height().0 as usize;
    net.empty_blocks(to_end);
    let list = engine::ListRef { owner: None, name: engine::UNDERPERFORMERS.into() };
    let under = net.chain.engine.list(&list).expect("published at the epoch's end");
    assert_eq!(under.nodes.iter().copied().collect::<Vec<_>>(), vec![lazy]);
    assert_eq!(net.chain.engine.last_epoch_points().0, 1);
    assert!(net.chain.engine.epoch_points().nodes.is_empty(), "a new epoch starts from zero");
    // Two tasks fit before the next epoch's end, which publishes a fresh list from that epoch's rounds.
    for task in 2..4u64 {
        let t = net.tx(
            "client",
            Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![list.clone()] },
        );
        net.block(vec![t]);
        let c = creator(&net);
        let spec = net.tx(&c, Call::PublishTaskSpec { task, spec: "Explain.".into() });
        net.block(vec![spec]);
        net.empty_blocks(2);
        let p = preparer(&net);
        let inputs = net.tx(&p, Call::PrepareTask { task, inputs: "Explain.".into() });
        net.block(vec![inputs]);
        net.empty_blocks(2);
        let t = net.chain.engine.task(task).expect("task").clone();
        assert!(t.avoided.contains(&lazy));
        let involved: Vec<AccountId> = t.miners.iter().copied().chain([t.creator]).chain(t.preparer).collect();
        assert!(!involved.contains(&lazy), "task {task} selected an avoided node");
    }
    assert!(net.chain.engine.height().0 < 40);
}

/// Would an oracle's advance of task 1 in the next block be accepted? Tried on a fork of the engine.
fn advance_accepted(net: &Net) -> bool {
    let mut fork = net.chain.engine.clone();
    let o1 = crate::harness::id("o1");
    let body = engine::TxBody {
        signer: o1,
        nonce: fork.ledger().nonce(&o1),
        fee: Amount(1),
        call: Call::AdvanceTask { task: 1 },
    };
    let tx = body.sign(&crate::harness::key("o1"), &fork.params().chain_id);
    let sigs = engine::verify_signatures(std::slice::from_ref(&tx), &fork.params().chain_id);
    let (_, out) = fork.produce_block(vec![tx], &sigs).expect("well-formed block");
    out.receipts[0].result.is_ok()
}

/// `Task::advanceable_at` is the rule the engine enforces, not a copy of it: at every height of a task's
/// life (participants acting late or never, deadlines passing, semantic attestations arriving), an
/// oracle's advance in the next block is accepted exactly when the query says so. The oracle agent and the
/// simulator decide with this query. (The agent's old copy said yes one block early, at `height ==
/// deadline`, and ignored the attestation quorum.)
#[test]
fn the_advanceable_query_is_exactly_the_rule_the_engine_enforces() {
    let mut old_copy_wrong = 0;
    for semantic in [false, true] {
        let mut net = setup_with(params(), 0, semantic);
        let t =
            net.tx("client", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] });
        net.block(vec![t]);
        let (mut checked, mut accepted) = (0, 0);
        for step in 0..60u32 {
            let Some(t) = net.chain.engine.task(1).cloned() else { break };
            if matches!(t.state, TaskState::Ended | TaskState::Failed) {
                break;
            }
            let next = net.chain.engine.height().next();
            let says = t.advanceable_at(next, net.chain.engine.params(), net.chain.engine.oracle_stake());
            assert_eq!(advance_accepted(&net), says, "semantic {semantic}, {:?} at height {}", t.state, next.0);
            checked += 1;
            accepted += u32::from(says);
            old_copy_wrong += u32::from(old_agent_rule(&t, next.0, semantic) != says);
            // Participants act every other block; the first selected miner never precommits, and each oracle
            // attests once at Committed (two blocks apart), so both the deadline and the quorum decide.
            let mut txs = Vec::new();
            if step % 2 == 0 {
                match t.state {
                    TaskState::Requested if t.spec.is_none() => {
                        let c = net.name(&t.creator);
                        txs.push(net.tx(&c, Call::PublishTaskSpec { task: 1, spec: "Explain photosynthesis.".into() }));
                    }
                    TaskState::Created if t.inputs.is_none() => {
                        let p = net.name(&t.preparer.expect("a preparer"));
                        txs.push(net.tx(&p, Call::PrepareTask { task: 1, inputs: "Explain it briefly.".into() }));
                    }
                    TaskState::Started => {
                        for (i, m) in
                            t.miners.iter().enumerate().skip(1).filter(|(_, m)| !t.precommits.contains_key(*m))
                        {
                            let commitment = output_commitment(1, m, ANSWER, &salt(i));
                            let name = net.name(m);
                            txs.push(net.tx(&name, Call::PrecommitOutput { task: 1, commitment }));
                        }
                    }
                    TaskState::Precommitted => {
                        for (i, m) in t.miners.iter().enumerate().filter(|(_, m)| !t.outputs.contains_key(*m)) {
                            let name = net.name(m);
                            txs.push(
                                net.tx(&name, Call::RevealOutput { task: 1, output: ANSWER.into(), salt: salt(i) }),
                            );
                        }
                    }
                    TaskState::Committed => {
                        let oracle = if t.attestations.is_empty() { "o1" } else { "o2" };
                        if !t.attestations.contains_key(&crate::harness::id(oracle)) {
                            let scores = t.outputs.keys().map(|m| (*m, 900_000_000)).collect();
                            txs.push(net.tx(oracle, Call::AttestPoi { task: 1, scores }));
                        }
                    }
                    _ => {}
                }
            }
            net.block(txs);
        }
        assert!(checked > 10 && accepted > 0 && accepted < checked, "checked {checked}, accepted {accepted}");
    }
    assert!(old_copy_wrong > 0, "the drift this test exists for: the agent's old copy of the rule was wrong");
}

/// The oracle agent's former private copy of the rule (removed): kept here only to show it drifted.
fn old_agent_rule(t: &engine::Task, height: u64, semantic: bool) -> bool {
    let all_acted = match t.state {
        TaskState::Requested => t.spec.is_some(),
        TaskState::Created => t.inputs.is_some(),
        TaskState::Prepared => true,
        TaskState::Started => t.miners.iter().all(|m| t.precommits.contains_key(m)),
        TaskState::Precommitted => t.miners.iter().all(|m| t.outputs.contains_key(m)),
        TaskState::Committed => !semantic,
        TaskState::Ended | TaskState::Failed => return false,
    };
    all_acted || height >= t.deadline.0
}

/// The team multiplier through the engine: the three miners of an honest task fail none of their rounds,
/// below `list_failure_rate`, so their 10 points each weigh double; the block producer's points (no
/// rounds, so no multiplier) weigh as they are. The points pool's 800 is split 20 : 20 : 20 : B with B the
/// producer's block points.
#[test]
fn the_team_multiplier_weighs_the_points_of_miners_below_the_list_threshold() {
    let mut p = params();
    p.epoch_length = 20;
    p.points_team_multiplier_milli = 2_000;
    p.points_block = 1;
    p.block_producer = Some(crate::harness::id("o2"));
    let mut net = setup(p, 0);
    let fund =
        net.tx("client", Call::Transfer { to: AccountId::system(engine::POINTS_POOL_NAME), amount: Amount(800) });
    net.block(vec![fund]);
    to_started(&mut net);
    let ms = miners(&net);
    commit_and_reveal(&mut net, &[ANSWER, ANSWER, ANSWER]);
    let to_end = 20 - net.chain.engine.height().0 as usize;
    net.empty_blocks(to_end);
    let rewarded: std::collections::BTreeMap<String, (u128, u128)> = net
        .events
        .iter()
        .filter_map(|e| match e {
            engine::Event::PointsRewarded { node, earned, amount, .. } => Some((net.name(node), (*earned, amount.0))),
            _ => None,
        })
        .collect();
    let (blocks, producer_paid) = rewarded["o2"];
    // Weights in thousandths: 10 × 2000 per miner, blocks × 1000 for the producer.
    let total = 3 * 20_000 + blocks * 1_000;
    for m in &ms {
        assert_eq!(rewarded[m], (10, 800 * 20_000 / total), "{m}");
    }
    assert_eq!(producer_paid, 800 - 3 * (800 * 20_000 / total), "the producer takes the rest");
    assert_eq!((blocks, producer_paid), (20, 200), "20 blocks: 800 split 20 : 20 : 20 : 20");
}
