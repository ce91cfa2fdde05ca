//! Federated training jobs in scenarios (DESIGN §6, seed 002), with the seed's worked numbers: 10 DOs
//! promised 1,000 each, so every DO and MPC deposits 10,000, and heartbeats time out after 3,600 blocks.
//! Horizontal jobs here have two MPCs: per DO 1,000, per MPC 1,000, GDS 10% = 1,200, price 13,200.

use crate::harness::{id, small_params, Net};
use engine::{Call, JobFault, JobKind, JobOrder, JobProgress, JobStage, JobStatus, Params, Role, WHOLE};
use expect_test::{expect, Expect};
use protocol::HoldOwner;
use types::{Amount, JobId};

pub(crate) const JOB: JobId = JobId([0x5e; 16]);
pub(crate) const DOS: [&str; 10] = ["do0", "do1", "do2", "do3", "do4", "do5", "do6", "do7", "do8", "do9"];
pub(crate) const START: u128 = 20_000;

pub(crate) fn params() -> Params {
    Params {
        data_owner_stake_min: Amount(100),
        mpc_stake_min: Amount(100),
        coordinator_stake_min: Amount(100),
        ..small_params()
    }
}

/// Every role registered in block 1; the log starts empty.
pub(crate) fn network(params: Params) -> Net {
    let mut accounts: Vec<(&str, u128, u128)> = vec![("gds", START, 100), ("qc", 30_000, 0), ("eve", START, 100)];
    accounts.extend(DOS.iter().map(|d| (*d, START, 100)));
    accounts.extend(["mpc1", "mpc2", "mpc3"].iter().map(|m| (*m, START, 100)));
    let mut net = Net::new(&accounts, params);
    let reg = |role: Role| Call::RegisterNode {
        roles: vec![role],
        services: vec![],
        capacity: 1,
        endpoint: "http://127.0.0.1:9000".into(),
    };
    let mut txs = vec![net.tx("gds", reg(Role::Coordinator))];
    txs.extend(DOS.iter().map(|d| net.tx(d, reg(Role::DataOwner))));
    for m in ["mpc1", "mpc2", "mpc3"] {
        txs.push(net.tx(m, reg(Role::Mpc)));
    }
    net.block(txs);
    net.log.clear();
    net
}

pub(crate) fn order(kind: JobKind, quote: u128) -> Call {
    Call::OrderJob {
        order: JobOrder {
            id: JOB,
            kind,
            qc: id("qc"),
            dos: DOS.iter().map(|d| id(d)).collect(),
            price_per_do: Amount(1_000),
            complexity: 1,
            mpc_factor: 1,
            epochs: 10,
            quote: Amount(quote),
            batches: 1,
            duration_max: 10_000,
        },
    }
}

pub(crate) fn status(stage: JobStage, epoch: u32, status: JobProgress) -> Call {
    Call::PostJobStatus { job: JOB, status: JobStatus { stage, epoch, batch: WHOLE, status } }
}

/// Order, stake the exact price, select `mpcs`, every member deposits: the job is dispatched.
pub(crate) fn dispatched(kind: JobKind, mpcs: &[&str], params: Params) -> Net {
    let mut net = network(params);
    let price = if kind == JobKind::Horizontal { 13_200 } else { 22_000 };
    let o = net.tx("gds", order(kind, price));
    let q = net.tx("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(price) });
    let s = net.tx("gds", Call::SelectMpcs { job: JOB, mpcs: mpcs.iter().map(|m| id(m)).collect() });
    net.block(vec![o, q, s]);
    let mut accepts: Vec<_> =
        DOS.iter().map(|d| net.tx(d, Call::AcceptJob { job: JOB, deposit: Amount(10_000) })).collect();
    accepts.extend(mpcs.iter().map(|m| net.tx(m, Call::AcceptJob { job: JOB, deposit: Amount(10_000) })));
    net.block(accepts);
    assert!(net.log.contains("JobDispatched"), "{}", net.log);
    // StakeIn, the deposits, and the GDS's report bond (10% of the deposit).
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount(price + 10_000 * (10 + mpcs.len() as u128) + 1_000));
    net.log.clear();
    net
}

/// Every DO and MPC completes the whole training.
pub(crate) fn complete_all(net: &mut Net, kind: JobKind, mpcs: &[&str]) {
    let mut txs: Vec<_> =
        DOS.iter().map(|d| net.tx(d, status(JobStage::Training, WHOLE, JobProgress::Completed))).collect();
    let mpc_stage = if kind == JobKind::Horizontal { JobStage::Aggregation } else { JobStage::Training };
    txs.extend(mpcs.iter().map(|m| net.tx(m, status(mpc_stage, WHOLE, JobProgress::Completed))));
    net.block(txs);
}

/// `n` empty blocks, left out of the log.
pub(crate) fn quiet_blocks(net: &mut Net, n: usize) {
    let len = net.log.len();
    net.empty_blocks(n);
    net.log.truncate(len);
}

/// The job's escrow is exactly zero and no hold names it; then the log (only the settlement's events,
/// the status lines are many) and every balance.
fn check(net: &mut Net, expected: Expect) {
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount::ZERO, "escrow left in the job");
    assert!(
        net.chain.engine.ledger().holds().all(|h| h.tag.owner != HoldOwner::Job(JOB)),
        "a hold still names the job"
    );
    net.log = net.log.lines().filter(|l| !l.contains("JobStatusUpdated")).map(|l| format!("{l}\n")).collect();
    net.balances();
    expected.assert_eq(&net.log);
}

pub(crate) fn free(net: &Net, name: &str) -> u128 {
    net.chain.engine.ledger().free(&id(name)).0
}

#[test]
fn the_quote_is_topped_up_and_dispatch_waits_for_every_deposit() {
    let mut net = network(params());
    let o = net.tx("gds", order(JobKind::Horizontal, 13_000));
    let q = net.tx("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(13_000) });
    net.block(vec![o, q]);
    let s = net.tx("gds", Call::SelectMpcs { job: JOB, mpcs: vec![id("mpc1"), id("mpc2")] });
    let wrong = net.tx("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(13_000) });
    net.block(vec![s, wrong]);
    let top_up = net.tx("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(200) });
    let mut txs = vec![top_up];
    txs.extend(DOS.iter().map(|d| net.tx(d, Call::AcceptJob { job: JOB, deposit: Amount(10_000) })));
    txs.push(net.tx("mpc1", Call::AcceptJob { job: JOB, deposit: Amount(10_000) }));
    net.block(txs);
    assert_eq!(net.chain.engine.job(&JOB).expect("job").phase, engine::JobPhase::Ordered, "mpc2 has not deposited");
    let again = net.tx("mpc1", Call::AcceptJob { job: JOB, deposit: Amount(10_000) });
    net.block(vec![again]);
    let last = net.tx("mpc2", Call::AcceptJob { job: JOB, deposit: Amount(10_000) });
    net.block(vec![last]);
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount(13_200 + 12 * 10_000 + 1_000), "with the GDS's bond");
    // The ten DOs' deposits are alike: keep the MPCs' lines only.
    let from_do = |l: &str| l.trim_start().starts_with("do") || l.contains("JobAccepted do");
    net.log = net.log.lines().filter(|l| !from_do(l)).map(|l| format!("{l}\n")).collect();
    expect![[r#"
        block 2:
          gds#1 order job Horizontal for qc with DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] price 1000 quote 13000 -> ok
          qc#0 stake job 13000 -> ok
          * JobOrdered Horizontal by gds deposit 10000
          * JobBondPosted gds 1000
          * JobQuerySubmitted 13000 (staked 13000)
        block 3:
          gds#2 select MPCs [mpc1 mpc2] -> ok
          qc#1 stake job 13000 -> wrong_amount
          * MpcsSelected [mpc1 mpc2] per DO 1000 per MPC 1000 GDS 1200 total 13200
        block 4:
          qc#1 stake job 200 -> ok
          mpc1#1 accept job, deposit 10000 -> ok
          * JobQuerySubmitted 200 (staked 13200)
          * JobAccepted mpc1 10000
        block 5:
          mpc1#2 accept job, deposit 10000 -> insufficient_funds
        block 6:
          mpc2#1 accept job, deposit 10000 -> ok
          * JobAccepted mpc2 10000
          * JobDispatched DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] MPCs [mpc1 mpc2]
    "#]]
    .assert_eq(&net.log);
}

#[test]
fn a_quote_above_the_final_price_is_refunded_at_dispatch() {
    let mut net = network(params());
    let o = net.tx("gds", order(JobKind::Horizontal, 15_000));
    let q = net.tx("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(15_000) });
    let s = net.tx("gds", Call::SelectMpcs { job: JOB, mpcs: vec![id("mpc1"), id("mpc2")] });
    let mut txs = vec![o, q, s];
    txs.extend(DOS.iter().map(|d| net.tx(d, Call::AcceptJob { job: JOB, deposit: Amount(10_000) })));
    txs.extend(["mpc1", "mpc2"].iter().map(|m| net.tx(m, Call::AcceptJob { job: JOB, deposit: Amount(10_000) })));
    net.block(txs);
    assert!(net.log.contains("* Refund qc 1800"), "{}", net.log);
    assert_eq!(free(&net, "qc"), 30_000 - 13_200 - 1, "the QC paid the final price and one fee");
}

#[test]
fn outcome_1_every_member_completes_and_the_schema_is_paid() {
    let mpcs = ["mpc1", "mpc2"];
    let mut net = dispatched(JobKind::Horizontal, &mpcs, params());
    let progress = net.tx("do0", status(JobStage::Training, 3, JobProgress::InProgress));
    net.block(vec![progress]);
    complete_all(&mut net, JobKind::Horizontal, &mpcs);
    assert_eq!(free(&net, "do4"), START + 1_000 - 3, "deposit back plus the promised 1,000, less three fees");
    check(
        &mut net,
        expect![[r#"
            block 4:
              do0#2 status Training epoch 3 batch whole InProgress -> ok
            block 5:
              do0#3 status Training epoch whole batch whole Completed -> ok
              do1#2 status Training epoch whole batch whole Completed -> ok
              do2#2 status Training epoch whole batch whole Completed -> ok
              do3#2 status Training epoch whole batch whole Completed -> ok
              do4#2 status Training epoch whole batch whole Completed -> ok
              do5#2 status Training epoch whole batch whole Completed -> ok
              do6#2 status Training epoch whole batch whole Completed -> ok
              do7#2 status Training epoch whole batch whole Completed -> ok
              do8#2 status Training epoch whole batch whole Completed -> ok
              do9#2 status Training epoch whole batch whole Completed -> ok
              mpc1#2 status Aggregation epoch whole batch whole Completed -> ok
              mpc2#2 status Aggregation epoch whole batch whole Completed -> ok
              * RewardDistributed do0 1000, do1 1000, do2 1000, do3 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000, gds 1200, mpc1 1000, mpc2 1000
              * Refund do0 10000, do1 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc1 10000, mpc2 10000
              * JobSettled Completed
            balances (free held bonded unbonding):
              do0: 20996 0 100 0
              do1: 20997 0 100 0
              do2: 20997 0 100 0
              do3: 20997 0 100 0
              do4: 20997 0 100 0
              do5: 20997 0 100 0
              do6: 20997 0 100 0
              do7: 20997 0 100 0
              do8: 20997 0 100 0
              do9: 20997 0 100 0
              eve: 20000 0 100 0
              gds: 21197 0 100 0
              mpc1: 20997 0 100 0
              mpc2: 20997 0 100 0
              mpc3: 19999 0 100 0
              qc: 16799 0 0 0
              treasury: 42 0 0 0
        "#]],
    );
}

#[test]
fn outcome_2_gds_reports_a_do_without_heartbeat_after_3600_blocks() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    let dispatched_at = net.chain.engine.height().0;
    quiet_blocks(&mut net, 3_598);
    let alive = net.tx("do1", status(JobStage::Training, 5, JobProgress::InProgress));
    let early =
        net.tx("gds", Call::ReportJobFailure { job: JOB, offenders: vec![id("do3")], fault: JobFault::NoHeartbeat });
    net.block(vec![alive, early]);
    assert_eq!(net.chain.engine.height().0, dispatched_at + 3_599);
    let report =
        net.tx("gds", Call::ReportJobFailure { job: JOB, offenders: vec![id("do3")], fault: JobFault::NoHeartbeat });
    net.block(vec![report]);
    assert_eq!(
        net.chain.engine.height().0,
        dispatched_at + 3_600,
        "accepted exactly 3,600 blocks after the last heartbeat"
    );
    // QC refunded in full; do3 loses its whole deposit: 9 good DOs get 1,000 each, the GDS the rest.
    assert_eq!(free(&net, "qc"), 30_000 - 1);
    assert_eq!(free(&net, "do3"), START - 10_000 - 2);
    assert_eq!(
        free(&net, "gds"),
        START - 4,
        "the two refused reports cost no fee; the rest of the fine goes to the treasury"
    );
    check(
        &mut net,
        expect![[r#"
            block 3602:
              do1#2 status Training epoch 5 batch whole InProgress -> ok
              gds#3 report NoHeartbeat [do3] -> heartbeat_not_expired
            block 3603:
              gds#3 report NoHeartbeat [do3] -> ok
              * RewardDistributed do0 1000, do1 1000, do2 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000, treasury 1000
              * Refund do0 10000, do1 10000, do2 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc1 10000, mpc2 10000, qc 13200
              * JobSettled reported NoHeartbeat [do3]
            balances (free held bonded unbonding):
              do0: 20998 0 100 0
              do1: 20997 0 100 0
              do2: 20998 0 100 0
              do3: 9998 0 100 0
              do4: 20998 0 100 0
              do5: 20998 0 100 0
              do6: 20998 0 100 0
              do7: 20998 0 100 0
              do8: 20998 0 100 0
              do9: 20998 0 100 0
              eve: 20000 0 100 0
              gds: 19996 0 100 0
              mpc1: 19998 0 100 0
              mpc2: 19998 0 100 0
              mpc3: 19999 0 100 0
              qc: 29999 0 0 0
              treasury: 1031 0 0 0
        "#]],
    );
}

#[test]
fn several_offenders_share_the_penalty_equally() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    quiet_blocks(&mut net, 3_600);
    let offenders = vec![id("do3"), id("do7"), id("mpc2")];
    let report = net.tx("gds", Call::ReportJobFailure { job: JOB, offenders, fault: JobFault::NoHeartbeat });
    net.block(vec![report]);
    // 10,000 in three equal shares (3,334 + 3,333 + 3,333, the odd unit by account id); 8 good DOs get
    // 1,000 each and the GDS the remaining 2,000.
    let lost = |n: &str| START - 2 - free(&net, n);
    assert_eq!(lost("do3") + lost("do7") + lost("mpc2"), 10_000);
    assert!([lost("do3"), lost("do7"), lost("mpc2")].iter().all(|l| *l == 3_333 || *l == 3_334));
    check(
        &mut net,
        expect![[r#"
            block 3604:
              gds#3 report NoHeartbeat [do3 do7 mpc2] -> ok
              * RewardDistributed do0 1000, do1 1000, do2 1000, do4 1000, do5 1000, do6 1000, do8 1000, do9 1000, treasury 2000
              * Refund do0 10000, do1 10000, do2 10000, do3 6667, do4 10000, do5 10000, do6 10000, do7 6666, do8 10000, do9 10000, gds 1000, mpc1 10000, mpc2 6667, qc 13200
              * JobSettled reported NoHeartbeat [do3 do7 mpc2]
            balances (free held bonded unbonding):
              do0: 20998 0 100 0
              do1: 20998 0 100 0
              do2: 20998 0 100 0
              do3: 16665 0 100 0
              do4: 20998 0 100 0
              do5: 20998 0 100 0
              do6: 20998 0 100 0
              do7: 16664 0 100 0
              do8: 20998 0 100 0
              do9: 20998 0 100 0
              eve: 20000 0 100 0
              gds: 19996 0 100 0
              mpc1: 19998 0 100 0
              mpc2: 16665 0 100 0
              mpc3: 19999 0 100 0
              qc: 29999 0 0 0
              treasury: 2030 0 0 0
        "#]],
    );
}

#[test]
fn outcome_3_a_do_reports_its_own_failure_at_four_tenths() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    // do3 posts epoch 4 in progress (x = 4/10); the others have completed epochs 0 to 3.
    let mut txs = vec![net.tx("do3", status(JobStage::Training, 4, JobProgress::InProgress))];
    txs.extend(
        DOS.iter().filter(|d| **d != "do3").map(|d| net.tx(d, status(JobStage::Training, 3, JobProgress::Completed))),
    );
    net.block(txs);
    let fail = net.tx("do3", status(JobStage::Training, 4, JobProgress::Failed));
    net.block(vec![fail]);
    // Each of the 9 good DOs is paid its own 4/10 of 1,000 from do3's deposit; 6,400 returns to do3.
    assert_eq!(free(&net, "do3"), START - 3_600 - 4);
    assert_eq!(free(&net, "do0"), START + 400 - 3);
    check(
        &mut net,
        expect![[r#"
            block 4:
              do3#2 status Training epoch 4 batch whole InProgress -> ok
              do0#2 status Training epoch 3 batch whole Completed -> ok
              do1#2 status Training epoch 3 batch whole Completed -> ok
              do2#2 status Training epoch 3 batch whole Completed -> ok
              do4#2 status Training epoch 3 batch whole Completed -> ok
              do5#2 status Training epoch 3 batch whole Completed -> ok
              do6#2 status Training epoch 3 batch whole Completed -> ok
              do7#2 status Training epoch 3 batch whole Completed -> ok
              do8#2 status Training epoch 3 batch whole Completed -> ok
              do9#2 status Training epoch 3 batch whole Completed -> ok
            block 5:
              do3#3 status Training epoch 4 batch whole Failed -> ok
              * RewardDistributed do0 400, do1 400, do2 400, do4 400, do5 400, do6 400, do7 400, do8 400, do9 400
              * Refund do0 10000, do1 10000, do2 10000, do3 6400, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc1 10000, mpc2 10000, qc 13200
              * JobSettled self-reported do3 at 4/10
            balances (free held bonded unbonding):
              do0: 20397 0 100 0
              do1: 20397 0 100 0
              do2: 20397 0 100 0
              do3: 16396 0 100 0
              do4: 20397 0 100 0
              do5: 20397 0 100 0
              do6: 20397 0 100 0
              do7: 20397 0 100 0
              do8: 20397 0 100 0
              do9: 20397 0 100 0
              eve: 20000 0 100 0
              gds: 19997 0 100 0
              mpc1: 19998 0 100 0
              mpc2: 19998 0 100 0
              mpc3: 19999 0 100 0
              qc: 29999 0 0 0
              treasury: 40 0 0 0
        "#]],
    );
}

#[test]
fn outcome_4_gds_reports_a_stalled_mpc() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    quiet_blocks(&mut net, 3_000);
    let dos: Vec<_> = DOS.iter().map(|d| net.tx(d, status(JobStage::Training, 9, JobProgress::Completed))).collect();
    net.block(dos);
    quiet_blocks(&mut net, 599);
    let report =
        net.tx("gds", Call::ReportJobFailure { job: JOB, offenders: vec![id("mpc1")], fault: JobFault::NoHeartbeat });
    net.block(vec![report]);
    // mpc1's 10,000 pays every DO its promised 1,000; nothing is left for the GDS.
    assert_eq!(free(&net, "mpc1"), START - 10_000 - 2);
    assert_eq!(free(&net, "do0"), START + 1_000 - 3);
    check(
        &mut net,
        expect![[r#"
            block 3004:
              do0#2 status Training epoch 9 batch whole Completed -> ok
              do1#2 status Training epoch 9 batch whole Completed -> ok
              do2#2 status Training epoch 9 batch whole Completed -> ok
              do3#2 status Training epoch 9 batch whole Completed -> ok
              do4#2 status Training epoch 9 batch whole Completed -> ok
              do5#2 status Training epoch 9 batch whole Completed -> ok
              do6#2 status Training epoch 9 batch whole Completed -> ok
              do7#2 status Training epoch 9 batch whole Completed -> ok
              do8#2 status Training epoch 9 batch whole Completed -> ok
              do9#2 status Training epoch 9 batch whole Completed -> ok
            block 3604:
              gds#3 report NoHeartbeat [mpc1] -> ok
              * RewardDistributed do0 1000, do1 1000, do2 1000, do3 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000
              * Refund do0 10000, do1 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc2 10000, qc 13200
              * JobSettled reported NoHeartbeat [mpc1]
            balances (free held bonded unbonding):
              do0: 20997 0 100 0
              do1: 20997 0 100 0
              do2: 20997 0 100 0
              do3: 20997 0 100 0
              do4: 20997 0 100 0
              do5: 20997 0 100 0
              do6: 20997 0 100 0
              do7: 20997 0 100 0
              do8: 20997 0 100 0
              do9: 20997 0 100 0
              eve: 20000 0 100 0
              gds: 19996 0 100 0
              mpc1: 9998 0 100 0
              mpc2: 19998 0 100 0
              mpc3: 19999 0 100 0
              qc: 29999 0 0 0
              treasury: 40 0 0 0
        "#]],
    );
}

#[test]
fn outcome_5_an_mpc_reports_its_own_failure_at_half_way() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    // mpc1 aggregates epoch 5 (x = 5/10); every DO has completed epochs 0 to 4.
    let mut txs = vec![net.tx("mpc1", status(JobStage::Aggregation, 5, JobProgress::InProgress))];
    txs.extend(DOS.iter().map(|d| net.tx(d, status(JobStage::Training, 4, JobProgress::Completed))));
    net.block(txs);
    let fail = net.tx("mpc1", status(JobStage::Aggregation, 5, JobProgress::Failed));
    net.block(vec![fail]);
    // Every DO gets its own 5/10 of 1,000 from mpc1's deposit (5,000); mpc1 keeps the other 5,000.
    assert_eq!(free(&net, "mpc1"), START - 5_000 - 4);
    check(
        &mut net,
        expect![[r#"
            block 4:
              mpc1#2 status Aggregation epoch 5 batch whole InProgress -> ok
              do0#2 status Training epoch 4 batch whole Completed -> ok
              do1#2 status Training epoch 4 batch whole Completed -> ok
              do2#2 status Training epoch 4 batch whole Completed -> ok
              do3#2 status Training epoch 4 batch whole Completed -> ok
              do4#2 status Training epoch 4 batch whole Completed -> ok
              do5#2 status Training epoch 4 batch whole Completed -> ok
              do6#2 status Training epoch 4 batch whole Completed -> ok
              do7#2 status Training epoch 4 batch whole Completed -> ok
              do8#2 status Training epoch 4 batch whole Completed -> ok
              do9#2 status Training epoch 4 batch whole Completed -> ok
            block 5:
              mpc1#3 status Aggregation epoch 5 batch whole Failed -> ok
              * RewardDistributed do0 500, do1 500, do2 500, do3 500, do4 500, do5 500, do6 500, do7 500, do8 500, do9 500
              * Refund do0 10000, do1 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc1 5000, mpc2 10000, qc 13200
              * JobSettled self-reported mpc1 at 5/10
            balances (free held bonded unbonding):
              do0: 20497 0 100 0
              do1: 20497 0 100 0
              do2: 20497 0 100 0
              do3: 20497 0 100 0
              do4: 20497 0 100 0
              do5: 20497 0 100 0
              do6: 20497 0 100 0
              do7: 20497 0 100 0
              do8: 20497 0 100 0
              do9: 20497 0 100 0
              eve: 20000 0 100 0
              gds: 19997 0 100 0
              mpc1: 14996 0 100 0
              mpc2: 19998 0 100 0
              mpc3: 19999 0 100 0
              qc: 29999 0 0 0
              treasury: 41 0 0 0
        "#]],
    );
}

/// Outcome 6. A non-compliance report names the result it rejects (the hash the member posted) and opens
/// a dispute window of `job_dispute_window` blocks; unappealed, it stands when the window closes: the QC
/// is refunded, the offender pays the penalty (as 2) and the GDS's bond returns.
#[test]
fn outcome_6_non_compliant_results_horizontal_dos_and_vertical_mpc() {
    let result = types::Hash([7; 32]);
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    let early = net.tx("gds", Call::ReportNonCompliance { job: JOB, member: id("do1"), result });
    net.block(vec![early]);
    let post = net.tx("do1", Call::PostJobResult { job: JOB, result });
    let mpc = net.tx("mpc1", Call::PostJobResult { job: JOB, result });
    net.block(vec![post, mpc]);
    // Refused calls leave the nonce alone: one of the GDS's per block.
    let bad_hash = types::Hash([8; 32]);
    for call in [
        Call::ReportNonCompliance { job: JOB, member: id("mpc1"), result },
        Call::ReportNonCompliance { job: JOB, member: id("do1"), result: bad_hash },
        Call::ReportJobFailure { job: JOB, offenders: vec![id("do1")], fault: JobFault::NonCompliant },
        Call::ReportNonCompliance { job: JOB, member: id("do1"), result },
        Call::ReportNonCompliance { job: JOB, member: id("do1"), result },
    ] {
        let tx = net.tx("gds", call);
        net.block(vec![tx]);
    }
    let cancel = net.tx("qc", Call::CancelJob { job: JOB });
    let change = net.tx("do1", Call::PostJobResult { job: JOB, result: bad_hash });
    net.block(vec![cancel, change]);
    // Everyone completes inside the window: the job still waits for the dispute to end.
    complete_all(&mut net, JobKind::Horizontal, &["mpc1", "mpc2"]);
    assert_eq!(net.chain.engine.job(&JOB).expect("job").phase, engine::JobPhase::Dispatched, "{}", net.log);
    let closes_at = net.chain.engine.job(&JOB).and_then(|j| j.dispute).expect("an open report").closes_at;
    let now = net.chain.engine.height().0;
    quiet_blocks(&mut net, (closes_at.0 - now - 1) as usize);
    assert!(!net.log.contains("JobSettled"), "the report waits for its window to close");
    net.empty_blocks(1);
    // 10,000 from do1; 9 good DOs get 1,000 each, the treasury 1,000; the bond returns to the GDS.
    assert_eq!(free(&net, "do1"), START - 4 - 10_000);
    check(
        &mut net,
        expect![[r#"
        block 4:
          gds#3 report non-compliant do1 result 07070707 -> result_not_posted
        block 5:
          do1#2 post result 07070707 -> ok
          mpc1#2 post result 07070707 -> ok
          * JobResultPosted do1 07070707
          * JobResultPosted mpc1 07070707
        block 6:
          gds#3 report non-compliant mpc1 result 07070707 -> invalid_job_report
        block 7:
          gds#3 report non-compliant do1 result 08080808 -> result_mismatch
        block 8:
          gds#3 report NonCompliant [do1] -> invalid_job_report
        block 9:
          gds#3 report non-compliant do1 result 07070707 -> ok
          * NonComplianceReported do1 07070707 closes at 3609
        block 10:
          gds#4 report non-compliant do1 result 07070707 -> job_disputed
        block 11:
          qc#1 cancel job -> job_disputed
          do1#3 post result 08080808 -> job_disputed
        block 12:
          do0#2 status Training epoch whole batch whole Completed -> ok
          do1#3 status Training epoch whole batch whole Completed -> ok
          do2#2 status Training epoch whole batch whole Completed -> ok
          do3#2 status Training epoch whole batch whole Completed -> ok
          do4#2 status Training epoch whole batch whole Completed -> ok
          do5#2 status Training epoch whole batch whole Completed -> ok
          do6#2 status Training epoch whole batch whole Completed -> ok
          do7#2 status Training epoch whole batch whole Completed -> ok
          do8#2 status Training epoch whole batch whole Completed -> ok
          do9#2 status Training epoch whole batch whole Completed -> ok
          mpc1#3 status Aggregation epoch whole batch whole Completed -> ok
          mpc2#2 status Aggregation epoch whole batch whole Completed -> ok
        block 3609:
          * RewardDistributed do0 1000, do2 1000, do3 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000, treasury 1000
          * Refund do0 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc1 10000, mpc2 10000, qc 13200
          * JobSettled reported NonCompliant [do1]
        balances (free held bonded unbonding):
          do0: 20997 0 100 0
          do1: 9996 0 100 0
          do2: 20997 0 100 0
          do3: 20997 0 100 0
          do4: 20997 0 100 0
          do5: 20997 0 100 0
          do6: 20997 0 100 0
          do7: 20997 0 100 0
          do8: 20997 0 100 0
          do9: 20997 0 100 0
          eve: 20000 0 100 0
          gds: 19996 0 100 0
          mpc1: 19996 0 100 0
          mpc2: 19997 0 100 0
          mpc3: 19999 0 100 0
          qc: 29999 0 0 0
          treasury: 1044 0 0 0
    "#]],
    );

    let mut net = dispatched(JobKind::Vertical, &["mpc1"], params());
    run_psi(&mut net);
    net.log.clear();
    let post = net.tx("mpc1", Call::PostJobResult { job: JOB, result });
    net.block(vec![post]);
    let report = net.tx("gds", Call::ReportNonCompliance { job: JOB, member: id("mpc1"), result });
    net.block(vec![report]);
    quiet_blocks(&mut net, 3_599);
    net.empty_blocks(1);
    check(
        &mut net,
        expect![[r#"
            block 8:
              mpc1#2 post result 07070707 -> ok
              * JobResultPosted mpc1 07070707
            block 9:
              gds#3 report non-compliant mpc1 result 07070707 -> ok
              * NonComplianceReported mpc1 07070707 closes at 3609
            block 3609:
              * RewardDistributed do0 1000, do1 1000, do2 1000, do3 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000
              * Refund do0 10000, do1 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, qc 22000
              * JobSettled reported NonCompliant [mpc1]
            balances (free held bonded unbonding):
              do0: 20994 0 100 0
              do1: 20997 0 100 0
              do2: 20996 0 100 0
              do3: 20997 0 100 0
              do4: 20995 0 100 0
              do5: 20997 0 100 0
              do6: 20996 0 100 0
              do7: 20997 0 100 0
              do8: 20996 0 100 0
              do9: 20997 0 100 0
              eve: 20000 0 100 0
              gds: 19996 0 100 0
              mpc1: 9997 0 100 0
              mpc2: 19999 0 100 0
              mpc3: 19999 0 100 0
              qc: 29999 0 0 0
              treasury: 48 0 0 0
        "#]],
    );
}

#[test]
fn outcome_7_the_qc_cancels_60_percent_fined_40_percent_refunded() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    let cancel = net.tx("qc", Call::CancelJob { job: JOB });
    net.block(vec![cancel]);
    let again = net.tx("qc", Call::CancelJob { job: JOB });
    net.block(vec![again]);
    // 7,920 fined by schema share (600 per DO and MPC, 720 GDS); 5,280 refunded.
    assert_eq!(free(&net, "qc"), 30_000 - 13_200 + 5_280 - 2, "a rejected cancel costs no fee");
    check(
        &mut net,
        expect![[r#"
            block 4:
              qc#1 cancel job -> ok
              * RewardDistributed do0 600, do1 600, do2 600, do3 600, do4 600, do5 600, do6 600, do7 600, do8 600, do9 600, gds 720, mpc1 600, mpc2 600
              * Refund do0 10000, do1 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc1 10000, mpc2 10000, qc 5280
              * JobSettled Cancelled { fined: Amount(7920), refunded: Amount(5280) }
            block 5:
              qc#2 cancel job -> wrong_job_phase
            balances (free held bonded unbonding):
              do0: 20598 0 100 0
              do1: 20598 0 100 0
              do2: 20598 0 100 0
              do3: 20598 0 100 0
              do4: 20598 0 100 0
              do5: 20598 0 100 0
              do6: 20598 0 100 0
              do7: 20598 0 100 0
              do8: 20598 0 100 0
              do9: 20598 0 100 0
              eve: 20000 0 100 0
              gds: 20717 0 100 0
              mpc1: 20598 0 100 0
              mpc2: 20598 0 100 0
              mpc3: 19999 0 100 0
              qc: 22078 0 0 0
              treasury: 30 0 0 0
        "#]],
    );
}

#[test]
fn outcome_8_a_failing_mpc_is_replaced_and_the_job_completes() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], Params { max_mpc_replacements: 1, ..params() });
    // mpc1 stalls from dispatch; everyone else posts progress half way through the heartbeat timeout.
    quiet_blocks(&mut net, 1_799);
    let mut alive: Vec<_> =
        DOS.iter().map(|d| net.tx(d, status(JobStage::Training, 1, JobProgress::InProgress))).collect();
    alive.push(net.tx("mpc2", status(JobStage::Aggregation, 1, JobProgress::InProgress)));
    net.block(alive);
    net.log.clear();
    quiet_blocks(&mut net, 1_799);
    let nominate = net.tx("gds", Call::ReplaceMpc { job: JOB, mpc: id("mpc1"), replacement: id("mpc3") });
    let early = net.tx("mpc3", status(JobStage::Aggregation, 0, JobProgress::Started));
    net.block(vec![nominate, early]);
    let take_over = net.tx("mpc3", Call::AcceptJob { job: JOB, deposit: Amount(10_000) });
    net.block(vec![take_over]);
    let old = net.tx("mpc1", status(JobStage::Aggregation, 0, JobProgress::Started));
    let limit = net.tx("gds", Call::ReplaceMpc { job: JOB, mpc: id("mpc2"), replacement: id("eve") });
    net.block(vec![old, limit]);
    complete_all(&mut net, JobKind::Horizontal, &["mpc2", "mpc3"]);
    // mpc1 lost its deposit to the DOs (1,000 each, for the batches they redo) and earned nothing;
    // mpc3 is paid as an MPC of the completed job.
    assert_eq!(free(&net, "mpc1"), START - 10_000 - 2);
    assert_eq!(free(&net, "do0"), START + 2_000 - 4);
    check(
        &mut net,
        expect![[r#"
            block 3603:
              gds#3 replace MPC mpc1 with mpc3 -> ok
              mpc3#1 status Aggregation epoch 0 batch whole Started -> not_authorized
              * MpcReplacementNominated mpc1 -> mpc3
            block 3604:
              mpc3#1 accept job, deposit 10000 -> ok
              * JobAccepted mpc3 10000
              * RewardDistributed do0 1000, do1 1000, do2 1000, do3 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000
              * MpcReplaced mpc1 -> mpc3 (1)
            block 3605:
              mpc1#2 status Aggregation epoch 0 batch whole Started -> not_authorized
              gds#4 replace MPC mpc2 with eve -> replacement_limit
            block 3606:
              do0#3 status Training epoch whole batch whole Completed -> ok
              do1#3 status Training epoch whole batch whole Completed -> ok
              do2#3 status Training epoch whole batch whole Completed -> ok
              do3#3 status Training epoch whole batch whole Completed -> ok
              do4#3 status Training epoch whole batch whole Completed -> ok
              do5#3 status Training epoch whole batch whole Completed -> ok
              do6#3 status Training epoch whole batch whole Completed -> ok
              do7#3 status Training epoch whole batch whole Completed -> ok
              do8#3 status Training epoch whole batch whole Completed -> ok
              do9#3 status Training epoch whole batch whole Completed -> ok
              mpc2#3 status Aggregation epoch whole batch whole Completed -> ok
              mpc3#2 status Aggregation epoch whole batch whole Completed -> ok
              * RewardDistributed do0 1000, do1 1000, do2 1000, do3 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000, gds 1200, mpc2 1000, mpc3 1000
              * Refund do0 10000, do1 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc2 10000, mpc3 10000
              * JobSettled Completed
            balances (free held bonded unbonding):
              do0: 21996 0 100 0
              do1: 21996 0 100 0
              do2: 21996 0 100 0
              do3: 21996 0 100 0
              do4: 21996 0 100 0
              do5: 21996 0 100 0
              do6: 21996 0 100 0
              do7: 21996 0 100 0
              do8: 21996 0 100 0
              do9: 21996 0 100 0
              eve: 20000 0 100 0
              gds: 21196 0 100 0
              mpc1: 9998 0 100 0
              mpc2: 20996 0 100 0
              mpc3: 20997 0 100 0
              qc: 16799 0 0 0
              treasury: 54 0 0 0
        "#]],
    );
}

/// The PSI stage of a vertical job, one block per level: every party of the open level that has not
/// completed it posts Completed.
pub(crate) fn run_psi(net: &mut Net) {
    loop {
        let job = net.chain.engine.job(&JOB).expect("the job").clone();
        if !job.in_psi() {
            return;
        }
        let pairs = job.psi_pairs(job.psi_level());
        let txs = pairs
            .iter()
            .flat_map(|(a, b)| [*a, *b])
            .filter(|a| job.members[a].psi <= job.psi_level())
            .map(|a| {
                let name = DOS.iter().find(|d| id(d) == a).expect("a DO");
                net.tx(name, status(JobStage::Psi, job.psi_level(), JobProgress::Completed))
            })
            .collect();
        net.block(txs);
    }
}

/// Ten DOs intersect their rows in ⌈log₂ 10⌉ = 4 PSI levels (seed 002's tree): level 0 joins do0-do1,
/// do2-do3, do4-do5, do6-do7, do8-do9; level 1 do0-do2 and do4-do6 (do8 carries its set up); level 2
/// do0-do4; level 3 do0-do8. Before the last level completes, training is refused (`psi_incomplete`), a
/// level not yet open is refused, and a member that is not a party of the open level (do8 at level 1, the
/// MPC) may post progress as a heartbeat but not a completion; batches are checked against the order's
/// batches per epoch (1). Nobody is paid for PSI; training then runs and pays the schema.
#[test]
fn a_vertical_job_runs_psi_level_by_level_then_training_and_pays_its_mpc_per_do() {
    let mut net = dispatched(JobKind::Vertical, &["mpc1"], params());
    let batch = |stage, epoch, batch, status| Call::PostJobStatus {
        job: JOB,
        status: JobStatus { stage, epoch, batch, status },
    };
    let early = [
        ("do0", status(JobStage::Training, 0, JobProgress::InProgress)),
        ("mpc1", status(JobStage::Training, 0, JobProgress::InProgress)),
        ("do0", status(JobStage::Psi, 1, JobProgress::Started)),
        ("do0", status(JobStage::Psi, WHOLE, JobProgress::Completed)),
        ("mpc1", status(JobStage::Psi, 0, JobProgress::Completed)),
        ("mpc1", status(JobStage::Psi, 0, JobProgress::InProgress)),
        ("do1", batch(JobStage::Psi, 0, 1, JobProgress::InProgress)),
        ("do1", batch(JobStage::Psi, 0, 0, JobProgress::InProgress)),
    ];
    for (who, call) in early {
        let tx = net.tx(who, call);
        net.block(vec![tx]);
    }
    let psi = |net: &mut Net, who: &str, level, progress| {
        let tx = net.tx(who, status(JobStage::Psi, level, progress));
        net.block(vec![tx]);
    };
    // Level 0, then level 1: do8 has no partner there.
    let level0: Vec<_> = DOS.iter().map(|d| net.tx(d, status(JobStage::Psi, 0, JobProgress::Completed))).collect();
    net.block(level0);
    psi(&mut net, "do0", 0, JobProgress::InProgress);
    psi(&mut net, "do8", 1, JobProgress::Completed);
    psi(&mut net, "do8", 1, JobProgress::InProgress);
    psi(&mut net, "do0", 1, JobProgress::Completed);
    psi(&mut net, "do0", 1, JobProgress::Completed);
    run_psi(&mut net);
    let job = net.chain.engine.job(&JOB).expect("the job");
    let levels: Vec<String> = job
        .history
        .iter()
        .filter(|r| matches!(r.what, protocol::jobs::JobEntry::PsiLevelCompleted { .. }))
        .map(|r| format!("{}: {}", r.height, r.what))
        .collect();
    expect![[r#"
        [
            "12: PSI level 0 of 4 complete",
            "18: PSI level 1 of 4 complete",
            "19: PSI level 2 of 4 complete",
            "20: PSI level 3 complete, the last of 4: training is open",
        ]
    "#]]
    .assert_debug_eq(&levels);
    let late = net.tx("do0", status(JobStage::Psi, 3, JobProgress::InProgress));
    net.block(vec![late]);
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount(22_000 + 11 * 10_000 + 1_000), "PSI pays nobody");
    complete_all(&mut net, JobKind::Vertical, &["mpc1"]);
    // MPC: price × N_DO × factor = 10,000; GDS 10% of 20,000.
    assert_eq!(free(&net, "mpc1"), START + 10_000 - 4, "fees: register, deposit, PSI progress, completion");
    check(
        &mut net,
        expect![[r#"
            block 4:
              do0#2 status Training epoch 0 batch whole InProgress -> psi_incomplete
            block 5:
              mpc1#2 status Training epoch 0 batch whole InProgress -> psi_incomplete
            block 6:
              do0#2 status Psi epoch 1 batch whole Started -> invalid_job_status
            block 7:
              do0#2 status Psi epoch whole batch whole Completed -> invalid_job_status
            block 8:
              mpc1#2 status Psi epoch 0 batch whole Completed -> invalid_job_status
            block 9:
              mpc1#2 status Psi epoch 0 batch whole InProgress -> ok
            block 10:
              do1#2 status Psi epoch 0 batch 1 InProgress -> invalid_job_status
            block 11:
              do1#2 status Psi epoch 0 batch 0 InProgress -> ok
            block 12:
              do0#2 status Psi epoch 0 batch whole Completed -> ok
              do1#3 status Psi epoch 0 batch whole Completed -> ok
              do2#2 status Psi epoch 0 batch whole Completed -> ok
              do3#2 status Psi epoch 0 batch whole Completed -> ok
              do4#2 status Psi epoch 0 batch whole Completed -> ok
              do5#2 status Psi epoch 0 batch whole Completed -> ok
              do6#2 status Psi epoch 0 batch whole Completed -> ok
              do7#2 status Psi epoch 0 batch whole Completed -> ok
              do8#2 status Psi epoch 0 batch whole Completed -> ok
              do9#2 status Psi epoch 0 batch whole Completed -> ok
            block 13:
              do0#3 status Psi epoch 0 batch whole InProgress -> epoch_went_back
            block 14:
              do8#3 status Psi epoch 1 batch whole Completed -> invalid_job_status
            block 15:
              do8#3 status Psi epoch 1 batch whole InProgress -> ok
            block 16:
              do0#3 status Psi epoch 1 batch whole Completed -> ok
            block 17:
              do0#4 status Psi epoch 1 batch whole Completed -> invalid_job_status
            block 18:
              do2#3 status Psi epoch 1 batch whole Completed -> ok
              do4#3 status Psi epoch 1 batch whole Completed -> ok
              do6#3 status Psi epoch 1 batch whole Completed -> ok
            block 19:
              do0#4 status Psi epoch 2 batch whole Completed -> ok
              do4#4 status Psi epoch 2 batch whole Completed -> ok
            block 20:
              do0#5 status Psi epoch 3 batch whole Completed -> ok
              do8#4 status Psi epoch 3 batch whole Completed -> ok
            block 21:
              do0#6 status Psi epoch 3 batch whole InProgress -> invalid_job_status
            block 22:
              do0#6 status Training epoch whole batch whole Completed -> ok
              do1#4 status Training epoch whole batch whole Completed -> ok
              do2#4 status Training epoch whole batch whole Completed -> ok
              do3#3 status Training epoch whole batch whole Completed -> ok
              do4#5 status Training epoch whole batch whole Completed -> ok
              do5#3 status Training epoch whole batch whole Completed -> ok
              do6#4 status Training epoch whole batch whole Completed -> ok
              do7#3 status Training epoch whole batch whole Completed -> ok
              do8#5 status Training epoch whole batch whole Completed -> ok
              do9#3 status Training epoch whole batch whole Completed -> ok
              mpc1#3 status Training epoch whole batch whole Completed -> ok
              * RewardDistributed do0 1000, do1 1000, do2 1000, do3 1000, do4 1000, do5 1000, do6 1000, do7 1000, do8 1000, do9 1000, gds 2000, mpc1 10000
              * Refund do0 10000, do1 10000, do2 10000, do3 10000, do4 10000, do5 10000, do6 10000, do7 10000, do8 10000, do9 10000, gds 1000, mpc1 10000
              * JobSettled Completed
            balances (free held bonded unbonding):
              do0: 20993 0 100 0
              do1: 20995 0 100 0
              do2: 20995 0 100 0
              do3: 20996 0 100 0
              do4: 20994 0 100 0
              do5: 20996 0 100 0
              do6: 20995 0 100 0
              do7: 20996 0 100 0
              do8: 20994 0 100 0
              do9: 20996 0 100 0
              eve: 20000 0 100 0
              gds: 21997 0 100 0
              mpc1: 29996 0 100 0
              mpc2: 19999 0 100 0
              mpc3: 19999 0 100 0
              qc: 7999 0 0 0
              treasury: 60 0 0 0
        "#]],
    );
}

/// Nobody is paid for PSI (seed 002: "PSI Stage, no payment is required now"). A DO silent during PSI
/// and reported for it forfeits the penalty to the treasury, not to the other DOs, who trained nothing
/// yet; a job that expires in PSI blames the parties of the open level that did not complete it, and
/// pays the GDS no share. The QC is refunded in full either way.
#[test]
fn a_job_that_ends_in_psi_pays_nobody_for_it() {
    let mut net = dispatched(JobKind::Vertical, &["mpc1"], params());
    let supply = net.chain.engine.ledger().total_supply();
    let mut txs: Vec<_> =
        DOS[..9].iter().map(|d| net.tx(d, status(JobStage::Psi, 0, JobProgress::Completed))).collect();
    txs.push(net.tx("mpc1", status(JobStage::Psi, 0, JobProgress::InProgress)));
    net.block(txs);
    quiet_blocks(&mut net, 3_598);
    let treasury = |net: &Net| net.chain.engine.ledger().free(&net.chain.engine.treasury()).0;
    let before = treasury(&net);
    let offenders = vec![id("do9")];
    let report = net.tx("gds", Call::ReportJobFailure { job: JOB, offenders, fault: JobFault::NoHeartbeat });
    net.block(vec![report]);
    assert!(net.log.contains("JobSettled reported NoHeartbeat [do9]"), "{}", net.log);
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount::ZERO);
    assert_eq!(net.chain.engine.ledger().total_supply(), supply);
    assert_eq!(free(&net, "do9"), START - 2 - 10_000, "the penalty");
    for d in &DOS[..9] {
        assert_eq!(free(&net, d), START - 3, "{d}: deposit back, nothing for PSI");
    }
    assert_eq!(free(&net, "qc"), 30_000 - 1, "refunded in full");
    assert_eq!(free(&net, "gds"), START - 4, "the bond back, nothing from the fine");
    assert_eq!(treasury(&net) - before, 10_000 + 1, "the penalty and the report's fee");

    // Expiry in PSI level 1: do0, do2 and do4 completed it, do6 did not (do8 has no partner there).
    let mut net = dispatched(JobKind::Vertical, &["mpc1"], params());
    let level0: Vec<_> = DOS.iter().map(|d| net.tx(d, status(JobStage::Psi, 0, JobProgress::Completed))).collect();
    net.block(level0);
    let level1: Vec<_> =
        ["do0", "do2", "do4"].iter().map(|d| net.tx(d, status(JobStage::Psi, 1, JobProgress::Completed))).collect();
    net.block(level1);
    let expires_at = net.chain.engine.job(&JOB).and_then(|j| j.expires_at).expect("dispatched").0;
    let now = net.chain.engine.height().0;
    quiet_blocks(&mut net, (expires_at - now - 1) as usize);
    net.empty_blocks(1);
    let outcome = net.chain.engine.job(&JOB).and_then(|j| j.outcome.clone());
    assert_eq!(outcome, Some(engine::JobOutcome::Expired { offenders: vec![id("do6")] }));
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount::ZERO);
    assert_eq!(free(&net, "do6"), START - 3 - 10_000, "held the stage up: the penalty, to the treasury");
    for d in ["do0", "do2", "do4"] {
        assert_eq!(free(&net, d), START - 4, "{d}: deposit back, nothing for PSI");
    }
    assert_eq!(free(&net, "mpc1"), START - 2, "the MPC waited: deposit back");
    assert_eq!(free(&net, "qc"), 30_000 - 1, "refunded in full");
    assert_eq!(free(&net, "gds"), START - 3, "no share for a job that never trained");
}

#[test]
fn an_order_not_dispatched_in_time_lapses_and_a_withdrawn_one_returns_everything() {
    let mut net = network(Params { job_dispatch_timeout: 10, ..params() });
    let o = net.tx("gds", order(JobKind::Horizontal, 13_200));
    let q = net.tx("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(13_200) });
    let a = net.tx("do0", Call::AcceptJob { job: JOB, deposit: Amount(10_000) });
    net.block(vec![o, q, a]);
    quiet_blocks(&mut net, 9);
    net.empty_blocks(1);
    assert_eq!(free(&net, "qc"), 30_000 - 1);
    assert_eq!(free(&net, "do0"), START - 2);
    check(
        &mut net,
        expect![[r#"
            block 2:
              gds#1 order job Horizontal for qc with DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] price 1000 quote 13200 -> ok
              qc#0 stake job 13200 -> ok
              do0#1 accept job, deposit 10000 -> ok
              * JobOrdered Horizontal by gds deposit 10000
              * JobBondPosted gds 1000
              * JobQuerySubmitted 13200 (staked 13200)
              * JobAccepted do0 10000
            block 12:
              * Refund do0 10000, gds 1000, qc 13200
              * JobSettled Lapsed
            balances (free held bonded unbonding):
              do0: 19998 0 100 0
              do1: 19999 0 100 0
              do2: 19999 0 100 0
              do3: 19999 0 100 0
              do4: 19999 0 100 0
              do5: 19999 0 100 0
              do6: 19999 0 100 0
              do7: 19999 0 100 0
              do8: 19999 0 100 0
              do9: 19999 0 100 0
              eve: 20000 0 100 0
              gds: 19998 0 100 0
              mpc1: 19999 0 100 0
              mpc2: 19999 0 100 0
              mpc3: 19999 0 100 0
              qc: 29999 0 0 0
              treasury: 17 0 0 0
        "#]],
    );

    let mut net = network(params());
    let o = net.tx("gds", order(JobKind::Horizontal, 13_200));
    let q = net.tx("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(13_200) });
    let a = net.tx("do0", Call::AcceptJob { job: JOB, deposit: Amount(10_000) });
    let c = net.tx("qc", Call::CancelJob { job: JOB });
    net.block(vec![o, q, a, c]);
    check(
        &mut net,
        expect![[r#"
            block 2:
              gds#1 order job Horizontal for qc with DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] price 1000 quote 13200 -> ok
              qc#0 stake job 13200 -> ok
              do0#1 accept job, deposit 10000 -> ok
              qc#1 cancel job -> ok
              * JobOrdered Horizontal by gds deposit 10000
              * JobBondPosted gds 1000
              * JobQuerySubmitted 13200 (staked 13200)
              * JobAccepted do0 10000
              * Refund do0 10000, gds 1000, qc 13200
              * JobSettled Withdrawn
            balances (free held bonded unbonding):
              do0: 19998 0 100 0
              do1: 19999 0 100 0
              do2: 19999 0 100 0
              do3: 19999 0 100 0
              do4: 19999 0 100 0
              do5: 19999 0 100 0
              do6: 19999 0 100 0
              do7: 19999 0 100 0
              do8: 19999 0 100 0
              do9: 19999 0 100 0
              eve: 20000 0 100 0
              gds: 19998 0 100 0
              mpc1: 19999 0 100 0
              mpc2: 19999 0 100 0
              mpc3: 19999 0 100 0
              qc: 29998 0 0 0
              treasury: 18 0 0 0
        "#]],
    );
}

/// A fresh order (another job id) naming `duration_max`.
fn other_order(duration_max: u64) -> Call {
    let Call::OrderJob { order } = order(JobKind::Horizontal, 13_200) else { unreachable!("an order") };
    Call::OrderJob { order: JobOrder { id: JobId([0x5f; 16]), duration_max, ..order } }
}

/// The issue's bad input, and more: each is refused with its code and changes nothing (no balance, no
/// hold, nothing in the job).
#[test]
fn bad_job_input_is_refused_and_changes_nothing() {
    let mut net = dispatched(JobKind::Horizontal, &["mpc1", "mpc2"], params());
    let d = net.tx("do0", status(JobStage::Training, 5, JobProgress::InProgress));
    net.block(vec![d]);
    net.log.clear();
    let state = |net: &Net| {
        let accounts: Vec<_> =
            net.chain.engine.ledger().accounts_sorted().into_iter().map(|(a, x)| (a, x.clone())).collect();
        let holds: Vec<_> = net.chain.engine.ledger().holds().cloned().collect();
        (accounts, holds, net.chain.engine.job(&JOB).cloned())
    };
    let before = state(&net);
    let job = net.chain.engine.job(&JOB).expect("job").clone();
    let deposit = job.members[&id("do4")].deposit.expect("deposit");
    let stake = job.stake_in.expect("stake");
    let cases = vec![
        ("eve", status(JobStage::Training, 5, JobProgress::InProgress)),
        ("do1", status(JobStage::Psi, 0, JobProgress::Started)),
        ("do0", status(JobStage::Training, 4, JobProgress::InProgress)),
        ("do2", status(JobStage::Training, 10, JobProgress::InProgress)),
        ("do3", status(JobStage::Training, WHOLE, JobProgress::Failed)),
        ("mpc1", status(JobStage::Training, 1, JobProgress::InProgress)),
        ("gds", Call::ReportJobFailure { job: JOB, offenders: vec![id("do0")], fault: JobFault::NoHeartbeat }),
        ("qc", Call::ReportJobFailure { job: JOB, offenders: vec![id("do3")], fault: JobFault::NonCompliant }),
        ("eve", Call::CancelJob { job: JOB }),
        ("qc", Call::SubmitJobQuery { job: JOB, amount: Amount(1) }),
        ("do4", Call::HoldVoid { hold: deposit }),
        ("qc", Call::HoldPost { hold: stake, payouts: vec![(id("qc"), Amount(1))] }),
        ("mpc3", Call::AcceptJob { job: JOB, deposit: Amount(10_000) }),
        ("gds", Call::SelectMpcs { job: JOB, mpcs: vec![id("mpc3"), id("mpc2")] }),
        ("do5", order(JobKind::Horizontal, 1)),
        ("gds", order(JobKind::Horizontal, 1)),
        ("gds", Call::ReplaceMpc { job: JOB, mpc: id("do1"), replacement: id("mpc3") }),
        ("gds", Call::ReplaceMpc { job: JOB, mpc: id("mpc1"), replacement: id("mpc3") }),
        ("gds", other_order(0)),
        ("gds", other_order(params().job_duration_max + 1)),
    ];
    for (who, call) in cases {
        let tx = net.tx(who, call);
        net.block(vec![tx]);
    }
    assert_eq!(state(&net), before, "a refused call changed something");
    let cancel = net.tx("qc", Call::CancelJob { job: JOB });
    let again = net.tx("qc", Call::CancelJob { job: JOB });
    net.block(vec![cancel, again]);
    net.log = net
        .log
        .lines()
        .filter(|l| !l.starts_with("  *") && !l.starts_with("block"))
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    expect![[r#"
        eve#0 status Training epoch 5 batch whole InProgress -> not_authorized
        do1#2 status Psi epoch 0 batch whole Started -> invalid_job_status
        do0#3 status Training epoch 4 batch whole InProgress -> epoch_went_back
        do2#2 status Training epoch 10 batch whole InProgress -> invalid_job_status
        do3#2 status Training epoch whole batch whole Failed -> invalid_job_status
        mpc1#2 status Training epoch 1 batch whole InProgress -> invalid_job_status
        gds#3 report NoHeartbeat [do0] -> heartbeat_not_expired
        qc#1 report NonCompliant [do3] -> not_authorized
        eve#0 cancel job -> not_authorized
        qc#1 stake job 1 -> wrong_job_phase
        do4#2 void #7 -> not_authorized
        qc#1 post #2: 1 to qc -> not_authorized
        mpc3#1 accept job, deposit 10000 -> wrong_job_phase
        gds#3 select MPCs [mpc2 mpc3] -> wrong_job_phase
        do5#2 order job Horizontal for qc with DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] price 1000 quote 1 -> not_authorized
        gds#3 order job Horizontal for qc with DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] price 1000 quote 1 -> job_exists
        gds#3 replace MPC do1 with mpc3 -> invalid_job_report
        gds#3 replace MPC mpc1 with mpc3 -> heartbeat_not_expired
        gds#3 order job Horizontal for qc with DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] price 1000 quote 13200 -> invalid_job
        gds#3 order job Horizontal for qc with DOs [do0 do1 do2 do3 do4 do5 do6 do7 do8 do9] price 1000 quote 13200 -> invalid_job
        qc#1 cancel job -> ok
        qc#2 cancel job -> wrong_job_phase
    "#]]
    .assert_eq(&net.log);
}

/// A nominee cannot take over while a report is in dispute: the swap would fine and remove the accused
/// MPC of a vertical job before its report settles the job.
#[test]
fn a_replacement_waits_for_an_open_report_against_the_replaced_mpc() {
    let mut net = dispatched(JobKind::Vertical, &["mpc1"], params());
    let result = types::Hash([5; 32]);
    let post = net.tx("mpc1", Call::PostJobResult { job: JOB, result });
    net.block(vec![post]);
    quiet_blocks(&mut net, 3_600);
    let nominate = net.tx("gds", Call::ReplaceMpc { job: JOB, mpc: id("mpc1"), replacement: id("mpc3") });
    net.block(vec![nominate]);
    let report = net.tx("gds", Call::ReportNonCompliance { job: JOB, member: id("mpc1"), result });
    net.block(vec![report]);
    let take_over = net.tx("mpc3", Call::AcceptJob { job: JOB, deposit: Amount(10_000) });
    net.block(vec![take_over]);
    assert!(net.log.contains("accept job, deposit 10000 -> job_disputed"), "{}", net.log);
    quiet_blocks(&mut net, 3_598);
    net.empty_blocks(1);
    assert!(net.log.contains("JobSettled reported NonCompliant [mpc1]"), "{}", net.log);
    assert_eq!(net.chain.engine.job_escrow(&JOB), Amount::ZERO);
    assert_eq!(free(&net, "mpc3"), START - 1, "the refused deposit cost nothing");
}
