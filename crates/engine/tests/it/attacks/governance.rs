//! Attacks on governance (issue 19, item 5; DESIGN §8 and §12): a minority of bonded stake passing a
//! treasury drain, an oracle fee above the treasury, a zero quorum, and stake that votes and then leaves (to
//! vote again, or to shrink the quorum under its own vote).
//!
//! The drain each attacker is after: a passed `oracle_fee` change, then one task of its own advanced late by
//! its own oracle, which the treasury pays the fee for. Each test measures what the attacker's accounts own
//! (free, held, bonded, unbonding) before and after, and the treasury's balance.

use crate::harness::{id, small_params, Net};
use engine::{Call, GenesisService, Params, ProposalAction, Role};
use types::Amount;

/// What the treasury holds at genesis.
const TREASURY: u128 = 1_000_000;

/// Ten-block epochs, a four-block vote, an eight-block unbonding, tasks late after two blocks, no oracle
/// fee; the governance defaults (`quorum` and the pass rule) are the ones under test.
fn params() -> Params {
    Params {
        miner_stake_min: Amount(100),
        oracle_stake_min: Amount(100),
        task_deadline_requested: 2,
        oracle_grace: 5,
        selection_cooldown: 0,
        // No fee at first: whatever fee the attacker collects is the drain's.
        oracle_fee: Amount::ZERO,
        heartbeat_timeout: 1_000,
        epoch_length: 10,
        voting_period: 4,
        unbonding_period: 8,
        ..small_params()
    }
}

/// The attacker's accounts: `mallory` (an oracle) and her sybils.
const ATTACKER: [&str; 3] = ["mallory", "sybil", "sock"];

/// `accounts` (name, free, bonded) plus three honest miners bonded 100 each; the treasury holds
/// [`TREASURY`]; `mallory` registers as an oracle and the miners as miners in block 1.
fn network(accounts: &[(&str, u128, u128)]) -> Net {
    let mut all = accounts.to_vec();
    all.extend([("m1", 100, 100), ("m2", 100, 100), ("m3", 100, 100)]);
    let services = vec![GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(10),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    }];
    let mut net = Net::with_system(&all, params(), services, &[("treasury", TREASURY)]);
    let node = |roles, services| Call::RegisterNode { roles, services, capacity: 2, endpoint: "http://n".into() };
    let mut txs = vec![net.tx("mallory", node(vec![Role::Oracle], vec![]))];
    for m in ["m1", "m2", "m3"] {
        txs.push(net.tx(m, node(vec![Role::Miner], vec![1])));
    }
    net.block(txs);
    net
}

/// Everything an account owns: free, held, bonded and unbonding.
fn owned(net: &Net, who: &str) -> u128 {
    net.chain.engine.ledger().account(&id(who)).map_or(0, |a| a.total().expect("no overflow").0)
}

/// What the attacker's accounts own together.
fn attacker_owns(net: &Net) -> u128 {
    ATTACKER.iter().map(|a| owned(net, a)).sum()
}

fn treasury(net: &Net) -> u128 {
    net.chain.engine.ledger().free(&net.chain.engine.treasury()).0
}

fn propose_param(net: &mut Net, who: &str, name: &str, value: &str) -> engine::SignedTx {
    net.tx(who, Call::Propose { action: ProposalAction::SetParam { name: name.into(), value: value.into() } })
}

/// The id the next proposal will get (ids count up from 1).
fn next_proposal(net: &Net) -> u64 {
    net.chain.engine.proposals().map(|p| p.id).max().unwrap_or(0) + 1
}

fn vote(net: &mut Net, who: &str, proposal: u64) -> engine::SignedTx {
    net.tx(who, Call::Vote { proposal, approve: true })
}

/// Run empty blocks through the end of the current epoch (where passed proposals apply).
fn finish_epoch(net: &mut Net) {
    let length = net.chain.engine.params().epoch_length;
    let height = net.chain.engine.height().0;
    net.empty_blocks((length - height % length) as usize % length as usize);
}

/// The drain: `sybil` submits a task, nobody acts on it, and `mallory` advances it late. Under the old
/// rules the treasury paid her the oracle fee; oracle fees now come out of the task's own fee (see
/// `attacks::tasks::failed_task_pays_oracles_from_the_treasury`), so what she gets, sybil paid.
fn drain(net: &mut Net) {
    let task = net.tx("sybil", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(30), avoid: vec![] });
    net.block(vec![task]);
    let id = net.chain.engine.tasks().map(|t| t.id).max().expect("the task was submitted");
    net.empty_blocks(params().task_deadline_requested as usize);
    let advance = net.tx("mallory", Call::AdvanceTask { task: id });
    net.block(vec![advance]);
}

/// The honest accounts own at least what they had at genesis less the fees they chose to pay (`least`);
/// the treasury lost nothing (it only gained fees); the supply is unchanged.
fn assert_honest_and_conserved(net: &Net, honest: &[(&str, u128)], treasury_before: u128, supply: u128) {
    for (who, least) in honest {
        assert!(owned(net, who) >= *least, "{who} owns {} < {least}\n{}", owned(net, who), net.log);
    }
    assert!(treasury(net) >= treasury_before, "the treasury lost {}\n{}", treasury_before - treasury(net), net.log);
    assert_eq!(net.chain.engine.ledger().total_supply().0, supply, "conservation");
    net.chain.engine.check_invariants().expect("conservation");
}

#[test]
fn minority_passes_a_treasury_drain() {
    // Mallory and her sybil hold 500 of 1,400 bonded (36%); alice and bob (600) abstain. She proposes an
    // oracle fee of 100 (within every bound: at most an oracle's minimum stake) and votes alone. On the old
    // rule a third of the bonded stake was a quorum and yes > no passed it: every late advance of her own
    // task then paid her 100 from the treasury.
    let accounts = [("mallory", 1_000, 100), ("sybil", 1_000, 400), ("alice", 100, 300), ("bob", 100, 300)];
    let mut net = network(&accounts);
    let (supply, before, treasury_before) =
        (net.chain.engine.ledger().total_supply().0, attacker_owns(&net), treasury(&net));
    let proposal = next_proposal(&net);
    let p = propose_param(&mut net, "mallory", "oracle_fee", "100");
    net.block(vec![p]);
    let (v1, v2) = (vote(&mut net, "mallory", proposal), vote(&mut net, "sybil", proposal));
    net.block(vec![v1, v2]);
    finish_epoch(&mut net);
    drain(&mut net);
    let gain = attacker_owns(&net) as i128 - before as i128;
    eprintln!("minority_passes_a_treasury_drain: attacker gain {gain}");
    assert!(gain <= 0, "the attacker gained {gain}\n{}", net.log);
    assert!(net.log.contains("passed false"), "a minority voting alone does not pass\n{}", net.log);
    assert_honest_and_conserved(&net, &[("alice", 400), ("bob", 400), ("m1", 199)], treasury_before, supply);
}

#[test]
fn oracle_fee_above_treasury_drains_it() {
    // A majority this time: mallory and her sybil hold 900 of 1,400 bonded (64%). They set the oracle fee to
    // a billion, far above the treasury's million: on the old rule one late advance handed mallory the whole
    // treasury. Bounded governance: no majority may set a fee above an oracle's minimum stake.
    let accounts = [("mallory", 1_000, 500), ("sybil", 1_000, 400), ("alice", 100, 200), ("bob", 100, 0)];
    let mut net = network(&accounts);
    let (supply, before, treasury_before) =
        (net.chain.engine.ledger().total_supply().0, attacker_owns(&net), treasury(&net));
    let proposal = next_proposal(&net);
    let p = propose_param(&mut net, "mallory", "oracle_fee", "1000000000");
    net.block(vec![p]);
    let (v1, v2) = (vote(&mut net, "mallory", proposal), vote(&mut net, "sybil", proposal));
    net.block(vec![v1, v2]);
    finish_epoch(&mut net);
    drain(&mut net);
    let gain = attacker_owns(&net) as i128 - before as i128;
    eprintln!("oracle_fee_above_treasury_drains_it: attacker gain {gain}");
    assert!(gain <= 0, "the attacker gained {gain}\n{}", net.log);
    assert!(net.log.contains("propose SetParam { name: \"oracle_fee\", value: \"1000000000\" } -> invalid_proposal"));
    assert_honest_and_conserved(&net, &[("alice", 300), ("bob", 100), ("m1", 199)], treasury_before, supply);
}

#[test]
fn zero_quorum_passes_anything() {
    // Alice (honest, 600 of 1,500 bonded) agrees with mallory (36%) to drop the quorum to 0, "so that
    // proposals stop failing for turnout". On the old rule it passed, and from then on one unit of stake
    // voting alone passed anything: mallory's sock, bonded 1, raises the oracle fee and drains.
    let accounts =
        [("mallory", 1_000, 100), ("sybil", 1_000, 399), ("sock", 10, 1), ("alice", 100, 600), ("bob", 100, 100)];
    let mut net = network(&accounts);
    let (supply, before, treasury_before) =
        (net.chain.engine.ledger().total_supply().0, attacker_owns(&net), treasury(&net));
    let proposal = next_proposal(&net);
    let p = propose_param(&mut net, "mallory", "quorum", "0");
    net.block(vec![p]);
    let votes =
        vec![vote(&mut net, "mallory", proposal), vote(&mut net, "sybil", proposal), vote(&mut net, "alice", proposal)];
    net.block(votes);
    finish_epoch(&mut net);
    let proposal = next_proposal(&net);
    let p = propose_param(&mut net, "sock", "oracle_fee", "100");
    net.block(vec![p]);
    let v = vote(&mut net, "sock", proposal);
    net.block(vec![v]);
    finish_epoch(&mut net);
    drain(&mut net);
    let gain = attacker_owns(&net) as i128 - before as i128;
    eprintln!("zero_quorum_passes_anything: attacker gain {gain}");
    assert!(gain <= 0, "the attacker gained {gain}\n{}", net.log);
    assert!(net.log.contains("propose SetParam { name: \"quorum\", value: \"0\" } -> invalid_proposal"), "{}", net.log);
    assert_honest_and_conserved(&net, &[("alice", 699), ("bob", 200), ("m1", 199)], treasury_before, supply);
}

#[test]
fn vote_then_unbond_and_vote_again() {
    // The attacker holds 450 of 1,500 bonded (30%, under the old third). Alice (honest) proposes a faster
    // unbonding, 2 blocks, and the attacker gladly votes for it: on the old rule nothing related it to the
    // 4-block vote. Then the sybil votes for the attacker's fee, unbonds, gets its stake back two blocks
    // later, hands it to the sock, which bonds it and votes the same stake again: 800 yes from 450. (The
    // sybil has no other money to bond than the 350 it unbonds: fresh stake bonded by the sock would be a new
    // vote, not the same one twice; its 40 free pay the drain's task of k = 3.)
    let accounts = [("mallory", 1_000, 100), ("sybil", 40, 350), ("sock", 10, 0), ("alice", 100, 750), ("bob", 100, 0)];
    let mut net = network(&accounts);
    let (supply, before, treasury_before) =
        (net.chain.engine.ledger().total_supply().0, attacker_owns(&net), treasury(&net));
    let proposal = next_proposal(&net);
    let p = propose_param(&mut net, "alice", "unbonding_period", "2");
    net.block(vec![p]);
    let votes =
        vec![vote(&mut net, "alice", proposal), vote(&mut net, "mallory", proposal), vote(&mut net, "sybil", proposal)];
    net.block(votes);
    finish_epoch(&mut net);
    // The attacker's proposal, voted for and left in the block it opens in.
    let proposal = next_proposal(&net);
    let p = propose_param(&mut net, "mallory", "oracle_fee", "100");
    let (v1, v2) = (vote(&mut net, "mallory", proposal), vote(&mut net, "sybil", proposal));
    let leave = net.tx("sybil", Call::Unbond { amount: Amount(350) });
    net.block(vec![p, v1, v2, leave]);
    net.empty_blocks(2);
    let hand = net.tx("sybil", Call::Transfer { to: id("sock"), amount: Amount(350) });
    let bond = net.tx("sock", Call::Bond { amount: Amount(350) });
    let again = vote(&mut net, "sock", proposal);
    net.block(vec![hand, bond, again]);
    finish_epoch(&mut net);
    drain(&mut net);
    let gain = attacker_owns(&net) as i128 - before as i128;
    eprintln!("vote_then_unbond_and_vote_again: attacker gain {gain}");
    assert!(gain <= 0, "the attacker gained {gain}\n{}", net.log);
    assert!(!net.log.contains(&format!("VoteCast {proposal} sock")), "the same stake voted twice\n{}", net.log);
    assert_honest_and_conserved(&net, &[("alice", 100 - 2 + 750), ("bob", 100), ("m1", 199)], treasury_before, supply);
}

#[test]
fn vote_then_unbond_to_shrink_the_quorum() {
    // The attacker holds 450 of 1,500 bonded (30%), under the old third. It votes yes with all of it and
    // then the sybil unbonds its 350: the vote stays counted while the bonded total it is measured against
    // falls to 1,150, whose third (384) the attacker's 450 clears.
    let accounts = [("mallory", 1_000, 100), ("sybil", 1_000, 350), ("alice", 100, 750), ("bob", 100, 0)];
    let mut net = network(&accounts);
    let (supply, before, treasury_before) =
        (net.chain.engine.ledger().total_supply().0, attacker_owns(&net), treasury(&net));
    let proposal = next_proposal(&net);
    let p = propose_param(&mut net, "mallory", "oracle_fee", "100");
    net.block(vec![p]);
    let (v1, v2) = (vote(&mut net, "mallory", proposal), vote(&mut net, "sybil", proposal));
    net.block(vec![v1, v2]);
    let leave = net.tx("sybil", Call::Unbond { amount: Amount(350) });
    net.block(vec![leave]);
    finish_epoch(&mut net);
    drain(&mut net);
    let gain = attacker_owns(&net) as i128 - before as i128;
    eprintln!("vote_then_unbond_to_shrink_the_quorum: attacker gain {gain}");
    assert!(gain <= 0, "the attacker gained {gain}\n{}", net.log);
    assert!(net.log.contains("sybil#1 unbond 350 -> vote_locked"), "the stake that voted is locked\n{}", net.log);
    assert!(net.log.contains("passed false"), "{}", net.log);
    assert_honest_and_conserved(&net, &[("alice", 850), ("bob", 100), ("m1", 199)], treasury_before, supply);
}
