//! Attacks on Proof of Useful Work tasks (seed 001, DESIGN §5): copied commitments, withholding reveals,
//! agreeing on junk, oracle fees above what a task brings in.
//!
//! The network is the PoUW scenarios' (crate::pouw): six miners, two oracles, a client; a k = 3 task of
//! service 1 costs 30 × 3 = 90, of which the protocol fee is 10% (9); fee 1 per applied transaction.

use crate::harness::Net;
use crate::pouw::{free, miners, params, salt, setup, task, to_started, ANSWER};
use engine::{output_commitment, Call, TaskState};
use types::Hash;

/// Every token, free, held, bonded or unbonding.
fn supply(net: &Net) -> u128 {
    net.chain.engine.ledger().total_supply().0
}

/// The code the last block gave the transaction whose log line contains `what`.
fn code_of(net: &Net, what: &str) -> String {
    let line = net.log.lines().rev().find(|l| l.contains(what) && l.contains(" -> ")).expect("the transaction ran");
    line.rsplit(" -> ").next().expect("a code").to_string()
}

/// The commitment miner `i` of task 1 binds to `output` with its salt.
fn commitment(net: &Net, i: usize, output: &str) -> Hash {
    let miner = task(net).miners[i];
    output_commitment(1, &miner, output, &salt(i))
}

/// Issue 19, item 1. ms[2] does no work: it waits for ms[0]'s precommit, precommits the same hash, waits
/// for ms[0]'s reveal and replays it. Under the old rule a commitment was `blake3(output ‖ salt)`, bound
/// to neither the task nor the miner, and duplicates were accepted, so the copy passed PoI and was paid a
/// third of the pot (27) for nothing. A commitment is now `H(task ‖ miner ‖ output ‖ salt)` and a
/// duplicate within a task is refused (`duplicate_commitment`): the copier cannot bind to an output it
/// has not seen, misses the precommit deadline, is replaced, and earns nothing; the honest three are paid.
#[test]
fn copied_commitment_and_replayed_reveal_is_paid() {
    let mut net = setup(params(), 0);
    to_started(&mut net);
    let total = supply(&net);
    let ms = miners(&net);
    let honest: Vec<_> = (0..2)
        .map(|i| {
            let c = commitment(&net, i, ANSWER);
            net.tx(&ms[i], Call::PrecommitOutput { task: 1, commitment: c })
        })
        .collect();
    net.block(honest);
    let copied = task(&net).precommits[&task(&net).miners[0]];
    let copy = net.tx(&ms[2], Call::PrecommitOutput { task: 1, commitment: copied });
    net.block(vec![copy]);
    let copier_start = free(&net, &ms[2]);
    if code_of(&net, &format!("{}#", ms[2])) == "ok" {
        // The old rule: the copy stands; after the honest reveals the copier replays ms[0]'s.
        let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
        net.block(vec![adv]);
        let reveals: Vec<_> = (0..2)
            .map(|i| net.tx(&ms[i], Call::RevealOutput { task: 1, output: ANSWER.into(), salt: salt(i) }))
            .collect();
        net.block(reveals);
        let replay = net.tx(&ms[2], Call::RevealOutput { task: 1, output: ANSWER.into(), salt: salt(0) });
        net.block(vec![replay]);
        let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
        net.block(vec![adv]);
    } else {
        assert_eq!(code_of(&net, &format!("{}#", ms[2])), "duplicate_commitment");
        // The copier cannot bind to the answer it has not seen; it stays silent and is replaced.
        net.empty_blocks(3);
        let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
        net.block(vec![adv]);
        let now = miners(&net);
        assert!(!now.contains(&ms[2]), "the copier was replaced: {now:?}");
        let newcomer = now.iter().position(|m| !ms.contains(m)).expect("a replacement");
        let c = commitment(&net, newcomer, ANSWER);
        let pre = net.tx(&now[newcomer], Call::PrecommitOutput { task: 1, commitment: c });
        net.block(vec![pre]);
        let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
        net.block(vec![adv]);
        let reveals: Vec<_> = (0..3)
            .map(|i| net.tx(&now[i], Call::RevealOutput { task: 1, output: ANSWER.into(), salt: salt(i) }))
            .collect();
        net.block(reveals);
        let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
        net.block(vec![adv]);
    }
    assert_eq!(task(&net).state, TaskState::Ended, "{}", net.log);
    assert_eq!(supply(&net), total, "conservation");
    let copier_gain = free(&net, &ms[2]) as i128 - copier_start as i128;
    assert!(copier_gain <= 0, "the copier gained {copier_gain} without doing any work");
    for m in &ms[..2] {
        assert!(task(&net).outputs.contains_key(&crate::harness::id(m)), "{m} revealed");
    }
}

/// Issue 19, item 6. An oracle and a client collude: the client submits a task whose participants do not
/// act (here the drawn creator never publishes a spec), and the oracle advances it at every deadline. Under
/// the old rule each valid advance paid `oracle_fee` (5) from the treasury while the failed task refunded
/// the client in full: the pair took 10 from the treasury per task (+7 after their three fees). Oracle
/// fees now come out of the task's own fee — `protocol_fee` of the price, 9 of 90 — paid from the task's
/// hold as the oracle advances and never more than that fee in total; a failed task refunds the client
/// the price less the fees it paid. The treasury loses nothing and the pair's gain is negative.
#[test]
fn failed_task_pays_oracles_from_the_treasury() {
    let mut net = setup(params(), 0);
    let total = supply(&net);
    let treasury = |net: &Net| net.chain.engine.ledger().free(&net.chain.engine.treasury()).0;
    let treasury_start = treasury(&net);
    let (client_start, oracle_start) = (free(&net, "client"), free(&net, "o1"));
    let t = net
        .tx("client", Call::SubmitTask { service: 1, redundancy: 3, max_price: types::Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    // Nobody acts: o1 advances at each deadline (a replacement creator, then the failure).
    for _ in 0..2 {
        net.empty_blocks(3);
        let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
        net.block(vec![adv]);
        assert_eq!(code_of(&net, "o1#"), "ok");
    }
    assert_eq!(task(&net).state, TaskState::Failed, "{}", net.log);
    assert_eq!(supply(&net), total, "conservation");
    let fees_paid = 1 + 2; // the client's submission, o1's two advances (fee 1 each, to the treasury)
    let gain =
        (free(&net, "client") as i128 - client_start as i128) + (free(&net, "o1") as i128 - oracle_start as i128);
    assert!(gain <= 0, "the client and the oracle gained {gain} from the treasury");
    assert_eq!(treasury(&net) as i128 - treasury_start as i128, fees_paid, "the treasury pays no oracle fee");
    assert_eq!(free(&net, "o1"), oracle_start - 2 + 9, "o1 is paid 5 then 4: the task's whole fee, no more");
    assert_eq!(free(&net, "client"), client_start - 1 - 9, "the client pays the oracles' fees out of its price");
}

/// The points round ms[2] books when the two others reveal ANSWER and it either reveals junk or withholds
/// its reveal until the deadline passes: (rounds, failures, deducted), and whether it was rated Bad.
fn lazy_miner_round(withhold: bool) -> (u64, u64, u128, bool) {
    let mut net = setup(params(), 0);
    to_started(&mut net);
    let ms = miners(&net);
    let junk = "I am busy, here is some unrelated filler text about football scores.";
    let outputs = [ANSWER, ANSWER, junk];
    let pre: Vec<_> = (0..3)
        .map(|i| {
            let c = commitment(&net, i, outputs[i]);
            net.tx(&ms[i], Call::PrecommitOutput { task: 1, commitment: c })
        })
        .collect();
    net.block(pre);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    let shown = if withhold { 2 } else { 3 };
    let reveals: Vec<_> = (0..shown)
        .map(|i| net.tx(&ms[i], Call::RevealOutput { task: 1, output: outputs[i].into(), salt: salt(i) }))
        .collect();
    net.block(reveals);
    if withhold {
        net.empty_blocks(3);
    }
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    assert_eq!(task(&net).state, TaskState::Ended, "{}", net.log);
    let lazy = crate::harness::id(&ms[2]);
    let p = net.chain.engine.epoch_points().nodes.get(&lazy).cloned().unwrap_or_default();
    let bad = net.chain.engine.reputation_record(&lazy).is_some_and(|r| r.network_bad == 1);
    (p.rounds, p.failures, p.deducted, bad)
}

/// Issue 19, item 2. ms[2] precommitted junk; ms[0] and ms[1] reveal the same answer. Revealing the junk
/// makes ms[2] the outlier: a failed round, −20 points and a Bad rating. Under the old rule withholding the
/// reveal only dropped ms[2] from the task: a Bad rating but no round at all — no deduction and no failure
/// toward the `underperformers` list (+20 points over revealing). A missing reveal, like any missed
/// deadline, is now a failed round for that miner, exactly as if it had revealed the losing answer.
#[test]
fn withholding_a_losing_reveal_beats_revealing_it() {
    let revealed = lazy_miner_round(false);
    let withheld = lazy_miner_round(true);
    assert_eq!(revealed, (1, 1, 190, true), "the outlier's round (the 5% target deducts 190)");
    let gain = revealed.2 as i128 - withheld.2 as i128;
    assert!(gain <= 0, "withholding saved {gain} points over revealing the losing answer");
    assert_eq!(withheld, revealed, "withholding books the same failed round and the same Bad rating");
}

/// Issue 19, item 3. Two of the three miners are lazy and collude: both reveal the task's own inputs as
/// their "answer", which agree perfectly with each other; the honest miner reveals a real answer. Under
/// the old rule the echoes scored 1.0, passed as the majority and were paid 27 each, while the honest
/// miner was the outlier: rated Bad and booked a failed round. An output that copies (or nearly copies)
/// the task's spec or inputs now fails whatever its score and cannot make a majority: the echoes are the
/// known culprits (rated Bad, not paid), the honest miner is neither rated Bad nor an outlier, and the
/// task fails (the client is refunded its price less the oracle fees). Culprits are blamed alone here
/// (`points_blame_culprits`); under the team rule every realtime failure costs the whole team.
#[test]
fn two_lazy_miners_echo_the_prompt_and_outvote_the_honest_one() {
    let mut net = setup(engine::Params { points_blame_culprits: true, ..params() }, 0);
    to_started(&mut net);
    let total = supply(&net);
    let ms = miners(&net);
    let inputs = task(&net).inputs.expect("prepared");
    let outputs = [ANSWER, inputs.as_str(), inputs.as_str()];
    let start: Vec<u128> = ms.iter().map(|m| free(&net, m)).collect();
    let pre: Vec<_> = (0..3)
        .map(|i| {
            let c = commitment(&net, i, outputs[i]);
            net.tx(&ms[i], Call::PrecommitOutput { task: 1, commitment: c })
        })
        .collect();
    net.block(pre);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    let reveals: Vec<_> = (0..3)
        .map(|i| net.tx(&ms[i], Call::RevealOutput { task: 1, output: outputs[i].into(), salt: salt(i) }))
        .collect();
    net.block(reveals);
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
    assert_eq!(supply(&net), total, "conservation");
    let bad =
        |net: &Net, m: &str| net.chain.engine.reputation_record(&crate::harness::id(m)).map_or(0, |r| r.network_bad);
    let deducted = |net: &Net, m: &str| {
        net.chain.engine.epoch_points().nodes.get(&crate::harness::id(m)).map_or(0, |p| p.deducted)
    };
    for i in 1..3 {
        let gain = free(&net, &ms[i]) as i128 - start[i] as i128;
        assert!(gain <= 0, "echoing miner {} gained {gain}", ms[i]);
        assert_eq!((bad(&net, &ms[i]), deducted(&net, &ms[i])), (1, 190), "{} is a known culprit", ms[i]);
    }
    assert_eq!((bad(&net, &ms[0]), deducted(&net, &ms[0])), (0, 0), "the honest miner is not blamed");
    assert_eq!(task(&net).state, TaskState::Failed, "one honest answer is no majority of three");
    assert_eq!(free(&net, "client"), 10_000 - 1 - 9, "refunded less the oracle fees");
}
