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
use types::Hash;

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

/// One block in which the nine honest DOs post `Completed` for `epoch`, the MPCs post aggregation
/// progress at `epoch`, and `idle` repeats "epoch 0, in progress".
fn honest_epoch_and_idle_heartbeat(net: &mut Net, epoch: u32, idle: &str) {
    let mut txs: Vec<_> = DOS
        .iter()
        .filter(|d| **d != idle)
        .map(|d| net.tx(d, status(JobStage::Training, epoch, JobProgress::Completed)))
        .collect();
    txs.extend(MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, epoch, JobProgress::InProgress))));
    txs.push(net.tx(idle, status(JobStage::Training, 0, JobProgress::InProgress)));
    net.block(txs);
}

/// Issue 18, item 3. do0 never trains: it posts "epoch 0, in progress" every 3,000 blocks (each a
/// heartbeat, so it cannot be reported), while the nine other DOs complete epochs 0, 1 and 2; then it
/// reports its own failure at epoch 0. Under the old rule x = 0/10 and do0 kept its whole deposit while
/// the nine honest DOs got nothing for three epochs' work. Now each good DO is paid by its own posted
/// progress: `⌊1,000 × 3 / 10⌋` = 300 each, 2,700 from do0's deposit; x is do0's posted progress (0).
#[test]
fn idle_heartbeats_then_failure_at_epoch_zero_keeps_the_deposit() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    for epoch in 0..3 {
        quiet_blocks(&mut net, 3_000);
        honest_epoch_and_idle_heartbeat(&mut net, epoch, "do0");
    }
    let fail = net.tx("do0", status(JobStage::Training, 0, JobProgress::Failed));
    net.block(vec![fail]);
    assert_eq!(code_of(&net, "Failed"), "ok");
    assert!(net.log.contains("JobSettled self-reported do0 at 0/10"), "x is do0's posted progress: {}", net.log);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // do0 (fees: register, deposit, three idle statuses, the failure) pays the nine DOs' completed share.
    let do0_gain = free(&net, "do0") as i128 - (START as i128 - 6 - 2_700);
    assert!(do0_gain <= 0, "the idle DO gained {do0_gain} over paying for the others' three epochs");
    assert_eq!(free(&net, "do0"), START - 6 - 2_700);
    for d in &DOS[1..] {
        // Fees: register, deposit, three epochs.
        assert_eq!(free(&net, d), START - 5 + 300, "{d} is paid its three completed epochs of ten");
    }
    for m in MPCS {
        assert_eq!(free(&net, m), START - 5, "{m}'s deposit returns");
    }
    assert_eq!(free(&net, "qc"), 30_000 - 1, "the QC is refunded in full");
    assert_eq!(free(&net, "gds"), START - 3, "the GDS gets nothing from a self-reported failure");
}

/// Issue 18, item 3. do0 goes silent from dispatch. When its heartbeat is 3,600 blocks old the GDS
/// reports it, and do0 races the report with its own failure at epoch 0 (first in the block). Under the
/// old rule the self-report settled the job first and do0 paid nothing (x = 0) instead of the 10,000
/// penalty. A member past its heartbeat timeout can no longer post (`heartbeat_expired`): it is
/// reportable instead, and the report settles with the penalty.
#[test]
fn silent_member_self_reports_to_escape_the_fine() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    quiet_blocks(&mut net, 1_799);
    let mut alive: Vec<_> =
        DOS[1..].iter().map(|d| net.tx(d, status(JobStage::Training, 1, JobProgress::InProgress))).collect();
    alive.extend(MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, 1, JobProgress::InProgress))));
    net.block(alive);
    quiet_blocks(&mut net, 1_799);
    let escape = net.tx("do0", status(JobStage::Training, 0, JobProgress::Failed));
    let report =
        net.tx("gds", Call::ReportJobFailure { job: JOB, offenders: vec![id("do0")], fault: JobFault::NoHeartbeat });
    net.block(vec![escape, report]);
    assert_eq!(code_of(&net, "Failed"), "heartbeat_expired", "a silent member cannot self-report");
    assert_eq!(code_of(&net, "report NoHeartbeat"), "ok");
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // do0 (fees: register, deposit; the refused status costs nothing) loses the whole penalty.
    let do0_gain = free(&net, "do0") as i128 - (START as i128 - 2 - 10_000);
    assert!(do0_gain <= 0, "the silent DO gained {do0_gain} by racing the report");
    assert_eq!(free(&net, "do0"), START - 2 - 10_000);
    for d in &DOS[1..] {
        assert_eq!(free(&net, d), START - 3 + 1_000, "{d} gets its promised reward from the penalty");
    }
    for m in MPCS {
        assert_eq!(free(&net, m), START - 3, "{m}'s deposit returns");
    }
    assert_eq!(free(&net, "qc"), 30_000 - 1, "the QC is refunded in full");
    assert_eq!(free(&net, "gds"), START - 4, "the penalty's rest goes to the treasury, not the reporter");
}

/// The scenario jobs' maximum duration (set in their order): blocks from dispatch to settlement by
/// recorded progress.
const DURATION: usize = 10_000;

/// Issue 18, item 4. The ten DOs and mpc1 complete the whole training; then the GDS, the QC and mpc2 (a
/// coalition, or three parties that simply vanish) never act again. Under the old rule the job had no
/// deadline: 133,200 (StakeIn and twelve deposits) stayed held forever, the honest members' included.
/// Now the job settles when its maximum duration passes: members who completed are paid their schema
/// share and released, mpc2 (not completed) is treated as silent and fined the penalty, which makes the
/// QC whole for what StakeIn paid out (any rest would go to the treasury), the GDS gets its share, and
/// the QC is refunded the rest of StakeIn.
#[test]
fn vanished_coordinator_qc_and_mpc_strand_the_escrow() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    let mut done: Vec<_> =
        DOS.iter().map(|d| net.tx(d, status(JobStage::Training, WHOLE, JobProgress::Completed))).collect();
    done.push(net.tx("mpc1", status(JobStage::Aggregation, WHOLE, JobProgress::Completed)));
    net.block(done);
    quiet_blocks(&mut net, DURATION - 2);
    assert_eq!(
        net.chain.engine.job_escrow(&JOB),
        Amount(13_200 + 12 * 10_000 + 1_000),
        "everything is held until the deadline"
    );
    quiet_blocks(&mut net, 2);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    for d in DOS {
        assert_eq!(free(&net, d), START - 3 + 1_000, "{d} completed: paid and released");
    }
    assert_eq!(free(&net, "mpc1"), START - 3 + 1_000, "mpc1 completed: paid and released");
    assert_eq!(free(&net, "mpc2"), START - 2 - 10_000, "mpc2 never completed: fined the penalty");
    assert_eq!(free(&net, "gds"), START - 3 + 1_200, "the GDS's schema share");
    // StakeIn 13,200 pays 12,200 out and refunds 1,000; the penalty makes the QC whole (10,000 of 12,200).
    assert_eq!(free(&net, "qc"), 30_000 - 1 - 13_200 + 1_000 + 10_000);
    // The coalition's money from the job (fees left out) is what the happy outcome gives it: no gain.
    let coalition = (-13_200i128 + 1_000 + 10_000) + 1_200 + (-10_000);
    let happy = -13_200i128 + 1_200 + 1_000;
    assert!(coalition - happy <= 0, "the coalition gained {}", coalition - happy);
}

/// Issue 18, item 2 (replacement). The GDS controls nine DOs and mpc3. Right after dispatch it nominates
/// mpc3 to replace mpc1, an honest MPC that has just posted its progress, and mpc3 deposits: under the old
/// rule mpc1's whole deposit was fined on the GDS's word, 1,000 to each DO (9,000 to the coalition). A
/// replacement now needs a verified stall: the MPC's heartbeat must be `job_heartbeat_timeout` blocks old
/// (`heartbeat_not_expired` otherwise; an MPC's own failure settles the job instead). The job completes with
/// mpc1 and every party gets the happy outcome.
#[test]
fn coordinator_replaces_a_live_mpc_and_takes_its_deposit() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    let alive = net.tx("mpc1", status(JobStage::Aggregation, 0, JobProgress::InProgress));
    let nominate = net.tx("gds", Call::ReplaceMpc { job: JOB, mpc: id("mpc1"), replacement: id("mpc3") });
    net.block(vec![alive, nominate]);
    assert_eq!(code_of(&net, "replace MPC"), "heartbeat_not_expired", "mpc1 is alive");
    let take_over = net.tx("mpc3", Call::AcceptJob { job: JOB, deposit: Amount(10_000) });
    net.block(vec![take_over]);
    let mut done: Vec<_> =
        DOS.iter().map(|d| net.tx(d, status(JobStage::Training, WHOLE, JobProgress::Completed))).collect();
    done.extend(MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, WHOLE, JobProgress::Completed))));
    net.block(done);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // Fees: register, deposit, progress, completion.
    assert_eq!(free(&net, "mpc1"), START - 4 + 1_000, "the honest MPC is paid and released");
    assert_eq!(free(&net, "mpc2"), START - 3 + 1_000);
    assert_eq!(free(&net, "mpc3"), START - 1, "the nominee never took a place (its refused deposit cost nothing)");
    let coalition_dos: u128 = DOS[1..].iter().map(|d| free(&net, d)).sum();
    let coalition_gain = coalition_dos as i128 - 9 * (START as i128 - 3 + 1_000);
    assert!(coalition_gain <= 0, "the coalition's DOs gained {coalition_gain}");
    assert_eq!(free(&net, "do0"), START - 3 + 1_000);
    assert_eq!(free(&net, "gds"), START - 3 + 1_200, "the refused nomination cost nothing and paid nothing");
}

/// Issue 18, item 2 (the remainder). do3 and do7 go silent; the GDS reports them. The penalty (10,000) is
/// taken from their deposits, 5,000 each, and the eight good DOs get their promised 1,000 each. Under the
/// old rule the reporter kept the other 2,000, so a coordinator profited from its own report (and more the
/// more members it could get reported). The rest of a fine now goes to the treasury: the GDS's gain from
/// reporting is zero.
#[test]
fn coordinator_keeps_the_remainder_of_a_fine() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    let treasury = |net: &Net| net.chain.engine.ledger().free(&net.chain.engine.treasury()).0;
    quiet_blocks(&mut net, 1_799);
    let silent = ["do3", "do7"];
    let mut alive: Vec<_> = DOS
        .iter()
        .filter(|d| !silent.contains(d))
        .map(|d| net.tx(d, status(JobStage::Training, 1, JobProgress::InProgress)))
        .collect();
    alive.extend(MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, 1, JobProgress::InProgress))));
    net.block(alive);
    quiet_blocks(&mut net, 1_799);
    let before = treasury(&net);
    let offenders = silent.iter().map(|d| id(d)).collect();
    let report = net.tx("gds", Call::ReportJobFailure { job: JOB, offenders, fault: JobFault::NoHeartbeat });
    net.block(vec![report]);
    assert_eq!(code_of(&net, "report NoHeartbeat"), "ok");
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // The GDS paid three fees (register, order, select) and the report's: it gains nothing from the fine.
    let gds_gain = free(&net, "gds") as i128 - (START as i128 - 4);
    assert!(gds_gain <= 0, "the reporting GDS gained {gds_gain}");
    assert_eq!(free(&net, "gds"), START - 4);
    assert_eq!(treasury(&net), before + 2_000 + 1, "the fine's rest, and the report's fee");
    for d in silent {
        assert_eq!(free(&net, d), START - 2 - 5_000, "{d} pays half the penalty");
    }
    for d in DOS.iter().filter(|d| !silent.contains(d)) {
        assert_eq!(free(&net, d), START - 3 + 1_000, "{d} gets its promised reward");
    }
    for m in MPCS {
        assert_eq!(free(&net, m), START - 3, "{m}'s deposit returns");
    }
    assert_eq!(free(&net, "qc"), 30_000 - 1, "the QC is refunded in full");
}

/// Issue 18, item 2 (evidence, dispute and bond). The GDS controls the QC and nine DOs; do0 is honest.
/// Right after dispatch the GDS reports do0's results as non-compliant. Under the old rule the report
/// settled at once on the GDS's word: the QC was refunded its 13,200, do0's whole 10,000 deposit was
/// fined (1,000 to each of the nine coalition DOs, 1,000 to the treasury), and do0 lost 10,000 for work it
/// was never allowed to finish. A non-compliance report now names the result it rejects, the hash the
/// member posted: do0 has posted none, so there is nothing to reject (`result_not_posted`). The job runs
/// on and every party gets the happy outcome.
#[test]
fn coordinator_reports_an_honest_member_non_compliant() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    let report =
        net.tx("gds", Call::ReportJobFailure { job: JOB, offenders: vec![id("do0")], fault: JobFault::NonCompliant });
    net.block(vec![report]);
    assert_eq!(code_of(&net, "report NonCompliant"), "result_not_posted", "no result, nothing to reject");
    let mut done: Vec<_> =
        DOS.iter().map(|d| net.tx(d, status(JobStage::Training, WHOLE, JobProgress::Completed))).collect();
    done.extend(MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, WHOLE, JobProgress::Completed))));
    net.block(done);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // The coalition (QC, GDS, nine DOs), fees left out, against the happy outcome: no gain.
    let coalition = free(&net, "qc") as i128
        + free(&net, "gds") as i128
        + DOS[1..].iter().map(|d| free(&net, d) as i128).sum::<i128>();
    let happy = (30_000 - 1 - 13_200) + (START as i128 - 3 + 1_200) + 9 * (START as i128 - 3 + 1_000);
    assert!(coalition - happy <= 0, "the coalition gained {}", coalition - happy);
    assert_eq!(free(&net, "do0"), START - 3 + 1_000, "the honest DO is paid and released");
    for m in MPCS {
        assert_eq!(free(&net, m), START - 3 + 1_000, "{m} is paid and released");
    }
}

/// Issue 18, item 2, continued. The same coalition waits for do0 to post its result (hash R) and then
/// reports R as non-compliant: the report opens a dispute window (`job_dispute_window`, 3,600 blocks)
/// instead of settling. do0 appeals; its job's other members are the coalition, so the appeal goes to
/// governance, where every bonded account votes with its stake (eve, an uninvolved staker, has bonded
/// 10,000; the coalition's 1,000 votes no). The vote overturns the report when it ends: the GDS's bond
/// (10% of the deposit, 1,000, held since the order) goes to do0, and the job runs on to the happy
/// outcome. The coalition ends 1,000 (the bond) plus its extra fees below the happy outcome.
#[test]
fn coordinator_reports_an_honest_result_and_governance_overturns_it() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    let result = Hash([7; 32]);
    let bond = net.tx("eve", Call::Bond { amount: Amount(10_000) });
    let post = net.tx("do0", Call::PostJobResult { job: JOB, result });
    net.block(vec![bond, post]);
    let report = net.tx("gds", Call::ReportNonCompliance { job: JOB, member: id("do0"), result });
    net.block(vec![report]);
    assert_eq!(code_of(&net, "report non-compliant"), "ok");
    let not_accused = net.tx("do1", Call::AppealJobReport { job: JOB });
    net.block(vec![not_accused]);
    assert_eq!(code_of(&net, "appeal"), "not_authorized", "only the accused appeals");
    let appeal = net.tx("do0", Call::AppealJobReport { job: JOB });
    net.block(vec![appeal]);
    assert_eq!(code_of(&net, "appeal"), "ok");
    let proposal = net.chain.engine.job(&JOB).and_then(|j| j.dispute).and_then(|d| d.appeal).expect("appealed");
    let mut votes: Vec<_> =
        ["eve", "do0", "mpc1", "mpc2"].iter().map(|v| net.tx(v, Call::Vote { proposal, approve: true })).collect();
    votes.push(net.tx("gds", Call::Vote { proposal, approve: false }));
    votes.extend(DOS[1..].iter().map(|d| net.tx(d, Call::Vote { proposal, approve: false })));
    net.block(votes);
    net.empty_blocks(params().voting_period as usize);
    assert!(net.log.contains("JobReportOverturned do0 paid 1000"), "{}", net.log);
    let job = net.chain.engine.job(&JOB).expect("job");
    assert!(job.dispute.is_none() && job.bond.is_none(), "the report is void and the bond paid");
    // The job runs on to the happy outcome.
    let mut done: Vec<_> =
        DOS.iter().map(|d| net.tx(d, status(JobStage::Training, WHOLE, JobProgress::Completed))).collect();
    done.extend(MPCS.iter().map(|m| net.tx(m, status(JobStage::Aggregation, WHOLE, JobProgress::Completed))));
    net.block(done);
    assert!(net.log.contains("JobSettled Completed"), "{}", net.log);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // do0 (fees: register, deposit, result, appeal, vote, completion): its reward, its deposit, the bond.
    assert_eq!(free(&net, "do0"), START - 6 + 1_000 + 1_000);
    for m in MPCS {
        // Fees: register, deposit, vote, completion.
        assert_eq!(free(&net, m), START - 4 + 1_000, "{m} is paid and released");
    }
    // The coalition: the QC (stake), the GDS (register, order, select, report, vote) and nine DOs
    // (register, deposit, vote, completion), against the happy outcome's figures.
    let coalition = free(&net, "qc") as i128
        + free(&net, "gds") as i128
        + DOS[1..].iter().map(|d| free(&net, d) as i128).sum::<i128>();
    let happy = (30_000 - 1 - 13_200) + (START as i128 - 3 + 1_200) + 9 * (START as i128 - 3 + 1_000);
    assert!(coalition - happy <= 0, "the coalition gained {}", coalition - happy);
    assert_eq!(coalition - happy, -1_000 - 2 - 9, "the bond and the extra fees");
}

/// Issue 18, item 2, continued. An accused member that does not appeal: the report stands when the
/// window closes (outcome 6) and the GDS's bond returns; an appeal filed too late for governance's vote
/// to end inside the window is refused (`invalid_appeal`).
#[test]
fn an_unappealed_report_stands_when_its_window_closes() {
    let mut net = dispatched(JobKind::Horizontal, &MPCS, params());
    let total = supply(&net);
    let result = Hash([9; 32]);
    let post = net.tx("do0", Call::PostJobResult { job: JOB, result });
    net.block(vec![post]);
    let report = net.tx("gds", Call::ReportNonCompliance { job: JOB, member: id("do0"), result });
    net.block(vec![report]);
    let closes_at = net.chain.engine.job(&JOB).and_then(|j| j.dispute).expect("open").closes_at.0;
    let now = net.chain.engine.height().0;
    quiet_blocks(&mut net, (closes_at - now - params().voting_period - 1) as usize);
    let late = net.tx("do0", Call::AppealJobReport { job: JOB });
    net.block(vec![late]);
    assert_eq!(code_of(&net, "appeal"), "invalid_appeal", "the vote could not end inside the window");
    let now = net.chain.engine.height().0;
    quiet_blocks(&mut net, (closes_at - now) as usize);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    assert_eq!(free(&net, "do0"), START - 3 - 10_000, "the penalty");
    assert_eq!(free(&net, "gds"), START - 4, "the bond returned; nothing from the fine");
    assert_eq!(free(&net, "qc"), 30_000 - 1, "the QC is refunded in full");
}

/// Issue 18, item 5. A vertical job: the DOs must first join their rows by private set intersection,
/// level by level, before anyone can train on the joined columns. do9 skips PSI and claims three trained
/// epochs right after dispatch; then do0, an honest DO still in PSI level 0, reports its own failure.
/// Under the old rule training statuses were accepted at once, and do9 was paid `⌊1,000 × 3 / 10⌋` = 300
/// from do0's deposit for epochs it cannot have trained. Training statuses are now refused until every
/// PSI level completed (`psi_incomplete`), nobody is paid for PSI, and do0's deposit returns whole.
#[test]
fn training_claimed_before_psi_is_paid() {
    let mut net = dispatched(JobKind::Vertical, &["mpc1"], params());
    let total = supply(&net);
    let mut txs: Vec<_> =
        (0..3).map(|e| net.tx("do9", status(JobStage::Training, e, JobProgress::Completed))).collect();
    txs.push(net.tx("do0", status(JobStage::Psi, 0, JobProgress::Started)));
    net.block(txs);
    assert_eq!(code_of(&net, "do9#2 status Training"), "psi_incomplete", "training before PSI");
    let fail = net.tx("do0", status(JobStage::Psi, 0, JobProgress::Failed));
    net.block(vec![fail]);
    assert_eq!(code_of(&net, "Failed"), "ok");
    assert!(net.log.contains("JobSettled self-reported do0 at 0/10"), "{}", net.log);
    assert_no_escrow(&net);
    assert_eq!(supply(&net), total, "conservation");
    // do9 (fees: register, deposit; refused transactions cost nothing) gains nothing from the job.
    let do9_gain = free(&net, "do9") as i128 - (START as i128 - 2);
    assert!(do9_gain <= 0, "the PSI skipper gained {do9_gain}");
    // do0 (fees: register, deposit, two PSI statuses) gets its deposit back: x = 0, nobody trained.
    assert_eq!(free(&net, "do0"), START - 4, "do0 reported honestly at PSI and owes nobody");
    for d in &DOS[1..9] {
        assert_eq!(free(&net, d), START - 2, "{d}'s deposit returns; PSI is not paid");
    }
    assert_eq!(free(&net, "mpc1"), START - 2, "mpc1's deposit returns");
    assert_eq!(free(&net, "qc"), 30_000 - 1, "the QC is refunded in full");
    assert_eq!(free(&net, "gds"), START - 3, "the GDS's bond returns; nothing for PSI");
}
