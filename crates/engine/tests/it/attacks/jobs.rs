//! Attacks on federated training jobs (seed 002, DESIGN §6): fines without evidence, silence of members
//! that finished, self-chosen progress, escrow with no end.
//!
//! The job is the scenarios' (crate::jobs): 10 DOs promised 1,000 each, two MPCs paid 1,000 each, the GDS
//! 1,200; every DO and MPC deposits 10,000; fee 1 per applied transaction (refused ones cost nothing).

use crate::harness::{id, Net};
use crate::jobs::{dispatched, free, params, quiet_blocks, status, DOS, JOB, START};
use engine::{Call, JobFault, JobKind, JobProgress, JobStage, WHOLE};
use protocol::HoldOwner;
use types::Amount;

const MPCS: [&str; 2] = ["mpc1", "mpc2"];

/// Every token, free, held, bonded or unbonding.
fn supply(net: &Net) -> u128 {
    net.chain.engine.ledger().total_supply().0
}

/// The job's escrow is empty and no hold names it.
fn assert_no_escrow(net: &Net) {
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount::ZERO, "escrow left in the job");
    assert!(net.chain.engine.ledger().holds().all(|h| h.tag.owner != HoldOwner::Job(JOB)), "a hold names the job");
}

/// The code the last block gave the transaction whose log line contains `what`.
fn code_of(net: &Net, what: &str) -> String {
    let line = net.log.lines().rev().find(|l| l.contains(what) && l.contains(" -> ")).expect("the transaction ran");
    line.rsplit(" -> ").next().expect("a code").to_string()
}

/// Issue 18, item 1. The ten DOs post Completed for the whole training; the MPCs keep aggregating (and
/// posting progress). A GDS that reports the ten done DOs for silence 3,600 blocks later would fine every
/// one of them and, with no good DO left to pay, keep the whole 10,000 penalty. Done members cannot be
/// reported for silence: the report is refused (`member_completed`), the MPCs finish and every party gets
/// exactly the happy outcome's amounts.
#[test]
fn finished_member_reported_silent() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    let done: Vec<_> =
        DOS.iter().map(|d| net.tx(d, status(JobStage::Training, WHOLE, JobProgress::Completed))).collect();
    net.block(done);
    // The MPCs are still aggregating: one new epoch each half timeout keeps them alive.
    for epoch in 1..=2 {
        quiet_blocks(&mut net, 1_799);
        let alive: Vec<_> =
            MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, epoch, JobProgress::InProgress))).collect();
        net.block(alive);
    }
    quiet_blocks(&mut net, 1);
    let offenders = DOS.iter().map(|d| id(d)).collect();
    let report = net.tx("gds", Call::ReportJobFailure { job: JOB, offenders, fault: JobFault::NoHeartbeat });
    net.block(vec![report]);
    assert_eq!(code_of(&net, "report NoHeartbeat"), "member_completed", "a done member is not silent");
    // The MPCs finish: the happy outcome.
    let finish: Vec<_> =
        MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, WHOLE, JobProgress::Completed))).collect();
    net.block(finish);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // The GDS (fees: register, order, select) gets its 1,200 and nothing more: its gain from the report is 0.
    let gds_gain = free(&net, "gds") as i128 - (START as i128 - 3 + 1_200);
    assert!(gds_gain <= 0, "the GDS gained {gds_gain} by reporting finished members");
    assert_eq!(free(&net, "gds"), START - 3 + 1_200);
    for d in DOS {
        // Fees: register, deposit, complete.
        assert_eq!(free(&net, d), START - 3 + 1_000, "{d} is paid its promised reward and its deposit back");
    }
    for m in MPCS {
        // Fees: register, deposit, two progress updates, complete.
        assert_eq!(free(&net, m), START - 5 + 1_000, "{m} is paid and its deposit returns");
    }
    assert_eq!(free(&net, "qc"), 30_000 - 13_200 - 1, "the QC pays the final price");
}
