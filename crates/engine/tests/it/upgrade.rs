//! Protocol upgrades by governance (issue 21, item 4): an upgrade proposal's validation, the switch at
//! exactly its height (block H-1 under the old rules, block H under the new), and a binary that does not
//! implement the scheduled version refusing block H instead of executing it under the old rules.
//!
//! Version 2's rule change: transaction fees are burned instead of credited to the treasury.

use crate::harness::{id, small_params, Net};
use engine::{BlockError, Call, Params, ProposalAction, ProposalStatus, ScheduledUpgrade, SignatureCheck};
use types::{Amount, Height};

/// Ten-block epochs and a four-block vote: a proposal made in block 1 ends its vote at 5, so the
/// earliest upgrade height it may name is 5 + 10 = 15.
fn params(version: u32) -> Params {
    Params { epoch_length: 10, voting_period: 4, unbonding_period: 8, protocol_version: version, ..small_params() }
}

fn network(version: u32) -> Net {
    Net::new(&[("alice", 1_000, 1_000), ("bob", 1_000, 1_000)], params(version))
}

fn upgrade(version: u32, height: u64) -> Call {
    Call::Propose { action: ProposalAction::ScheduleUpgrade { version, height: Height(height) } }
}

/// The codes of the last block's receipts.
fn codes(net: &Net) -> Vec<String> {
    let last = net.log[net.log.rfind("block ").expect("a block")..].to_string();
    let receipts = last.lines().filter(|l| l.starts_with("  ") && !l.starts_with("  *"));
    receipts.filter_map(|l| l.rsplit(" -> ").next()).map(str::to_string).collect()
}

/// Block 1 proposes `version` at height 15, both vote yes in block 2, the tally at the end of block 5
/// records the pending upgrade.
fn schedule(net: &mut Net, version: u32) {
    let tx = net.tx("alice", upgrade(version, 15));
    net.block(vec![tx]);
    assert_eq!(codes(net), ["ok"]);
    let votes = vec![
        net.tx("alice", Call::Vote { proposal: 1, approve: true }),
        net.tx("bob", Call::Vote { proposal: 1, approve: true }),
    ];
    net.block(votes);
    net.empty_blocks(3);
    assert_eq!(net.chain.engine.height(), Height(5));
    assert_eq!(net.chain.engine.proposal(1).expect("proposal 1").status, ProposalStatus::Applied);
    assert_eq!(net.chain.engine.scheduled_upgrade(), Some(ScheduledUpgrade { version, height: Height(15) }));
}

#[test]
fn an_upgrade_proposal_names_the_next_version_at_least_an_epoch_after_its_vote() {
    let mut net = network(1);
    // In block 1 the vote would end at 1 + 4 = 5; the earliest height is 5 + 10 = 15. A refused
    // transaction keeps its nonce, so each is its signer's only one in the block.
    let txs = vec![net.tx("alice", upgrade(3, 15)), net.tx("bob", upgrade(1, 15))];
    net.block(txs);
    assert_eq!(codes(&net), ["upgrade_version_not_next", "upgrade_version_not_next"]);
    let mut net = network(1); // block 1 again, on a fresh chain
    let txs = vec![net.tx("alice", upgrade(2, 14)), net.tx("bob", upgrade(2, 15))];
    net.block(txs);
    assert_eq!(codes(&net), ["upgrade_too_soon", "ok"]);
    assert!(net.log.contains("propose ScheduleUpgrade"), "{}", net.log);
    // While it is open nothing is scheduled; once passed, a second upgrade is refused.
    assert_eq!(net.chain.engine.scheduled_upgrade(), None);
    let votes = vec![
        net.tx("alice", Call::Vote { proposal: 1, approve: true }),
        net.tx("bob", Call::Vote { proposal: 1, approve: true }),
    ];
    net.block(votes);
    net.empty_blocks(3);
    assert_eq!(net.chain.engine.scheduled_upgrade(), Some(ScheduledUpgrade { version: 2, height: Height(15) }));
    let tx = net.tx("alice", upgrade(2, 40));
    net.block(vec![tx]);
    assert_eq!(codes(&net), ["upgrade_pending"]);
    // `protocol_version` is not a parameter governance sets by SetParam.
    let tx = net.tx(
        "alice",
        Call::Propose { action: ProposalAction::SetParam { name: "protocol_version".into(), value: "2".into() } },
    );
    net.block(vec![tx]);
    assert_eq!(codes(&net), ["invalid_proposal"]);
}

#[test]
fn a_rejected_upgrade_schedules_nothing() {
    let mut net = network(1);
    let tx = net.tx("alice", upgrade(2, 15));
    net.block(vec![tx]);
    let votes = vec![
        net.tx("alice", Call::Vote { proposal: 1, approve: true }),
        net.tx("bob", Call::Vote { proposal: 1, approve: false }),
    ];
    net.block(votes);
    net.empty_blocks(13);
    assert_eq!(net.chain.engine.proposal(1).expect("proposal 1").status, ProposalStatus::Rejected);
    assert_eq!(net.chain.engine.scheduled_upgrade(), None);
    assert_eq!(net.chain.engine.params().protocol_version, 1);
}

/// A transfer with fee 7 in the next block: (treasury's gain, tokens burned) in that block.
fn fee_goes_to(net: &mut Net) -> (u128, u128) {
    let treasury = net.chain.engine.treasury();
    let (t0, b0) = (net.chain.engine.ledger().free(&treasury).0, net.chain.engine.ledger().burned().0);
    let tx = net.tx_with("alice", 7, Call::Transfer { to: id("bob"), amount: Amount(1) });
    net.block(vec![tx]);
    assert_eq!(codes(net), ["ok"]);
    let (t1, b1) = (net.chain.engine.ledger().free(&treasury).0, net.chain.engine.ledger().burned().0);
    (t1 - t0, b1 - b0)
}

#[test]
fn the_rules_switch_at_exactly_the_scheduled_height() {
    let mut net = network(1);
    schedule(&mut net, 2);
    net.empty_blocks(8);
    assert_eq!(net.chain.engine.height(), Height(13));
    // Block 14 = H-1: version 1, the fee is credited to the treasury.
    assert_eq!(fee_goes_to(&mut net), (7, 0));
    assert_eq!(net.chain.engine.params().protocol_version, 1);
    // Block 15 = H: version 2 from the block's first transaction, the fee is burned.
    assert_eq!(fee_goes_to(&mut net), (0, 7));
    assert_eq!(net.chain.engine.params().protocol_version, 2);
    assert_eq!(net.chain.engine.scheduled_upgrade(), None);
    assert_eq!(fee_goes_to(&mut net), (0, 7));
    // The next upgrade goes to 3 (which this binary does not implement: it will stop at its height).
    let tx = net.tx("alice", upgrade(3, 40));
    net.block(vec![tx]);
    assert_eq!(codes(&net), ["ok"]);
}

#[test]
fn a_binary_that_does_not_know_the_version_refuses_block_h() {
    // A chain already at version 2 schedules version 3, which this build does not implement.
    let mut net = network(2);
    schedule(&mut net, 3);
    net.empty_blocks(9);
    assert_eq!(net.chain.engine.height(), Height(14));
    let root = net.chain.engine.state_root();
    let refused = net.chain.engine.produce_block(Vec::new(), &SignatureCheck::trusted_all_valid(0));
    let error = refused.expect_err("block 15 must not run under version 2's rules");
    assert_eq!(error, BlockError::UnsupportedProtocolVersion { version: 3, height: Height(15), max: 2 });
    assert_eq!(error.code(), "unsupported_protocol_version");
    assert_eq!(
        error.to_string(),
        "protocol version 3 scheduled at height 15 is not supported by this binary (supports up to 2); upgrade \
         stakework"
    );
    // Nothing changed: the node stops here.
    assert_eq!((net.chain.engine.height(), net.chain.engine.state_root()), (Height(14), root));
}

#[test]
fn a_rehearsal_limit_makes_version_2_unknown() {
    let mut net = network(1);
    assert!(net.chain.engine.set_max_protocol_version(engine::PROTOCOL_VERSION_MAX + 1).is_err());
    assert!(net.chain.engine.set_max_protocol_version(0).is_err());
    net.chain.engine.set_max_protocol_version(1).expect("1 is implemented");
    schedule(&mut net, 2);
    net.empty_blocks(9);
    // A fork inherits the limit, as a validator's proposal and verification states do.
    let mut fork = net.chain.engine.fork();
    let refused = fork.produce_block(Vec::new(), &SignatureCheck::trusted_all_valid(0));
    assert_eq!(
        refused.map(|_| ()),
        Err(BlockError::UnsupportedProtocolVersion { version: 2, height: Height(15), max: 1 })
    );
    // The same chain on a binary that implements 2 goes on.
    net.chain.engine.set_max_protocol_version(2).expect("2 is implemented");
    net.empty_blocks(1);
    assert_eq!(net.chain.engine.params().protocol_version, 2);
}
