//! Random training-job lifecycles (orders, stakes, MPC selections and changes, deposits, status updates,
//! self-reported failures, GDS reports, posted results, non-compliance reports with their dispute windows,
//! appeals decided by governance, the GDS's report bond, cancels, replacements, heartbeat timeouts and
//! lapses, several jobs at once): after every block the ledger conserves tokens (the harness checks every invariant); every job
//! pays out, in `RewardDistributed` and `Refund` events, exactly what went into its escrow; a settled job
//! has no hold left; no dispatched job outlives its maximum duration, and no dispute window outlives its job; a snapshot taken mid-run restores;
//! and once nobody acts for longer than the dispatch timeout and the longest duration, every job has
//! settled (lapsed, expired or otherwise) and no hold names a job at all.

use crate::harness::{id, small_params, Net};
use engine::{
    Call, Engine, Event, JobFault, JobKind, JobOrder, JobPhase, JobProgress, JobStage, JobStatus, Params, Role, WHOLE,
};
use proptest::prelude::*;
use protocol::HoldOwner;
use std::collections::BTreeMap;
use types::{Amount, Hash, JobId};

const DOS: [&str; 5] = ["d0", "d1", "d2", "d3", "d4"];
const MPCS: [&str; 4] = ["m0", "m1", "m2", "m3"];
const JOBS: u8 = 3;

#[derive(Debug, Clone)]
enum Op {
    Order {
        job: u8,
        kind: bool,
        dos: u8,
        price: u128,
        complexity: u32,
        epochs: u32,
        quote: u128,
        /// The order's maximum duration; above the network's `job_duration_max` (40) it is refused.
        duration: u64,
    },
    Stake {
        job: u8,
        exact: bool,
    },
    Select {
        job: u8,
        first: usize,
        count: usize,
    },
    Accept {
        job: u8,
        who: usize,
    },
    Status {
        job: u8,
        who: usize,
        stage: u8,
        epoch: u32,
        progress: u8,
    },
    Report {
        job: u8,
        offenders: u8,
        heartbeat: bool,
    },
    Cancel {
        job: u8,
    },
    /// A member posts the hash of its result (one of two).
    PostResult {
        job: u8,
        who: usize,
        hash: u8,
    },
    /// The GDS reports a member's result (one of two hashes) as non-compliant.
    NonCompliant {
        job: u8,
        who: usize,
        hash: u8,
    },
    /// A member posts a result and the GDS reports it (two blocks); then the accused may appeal (0: no,
    /// 1: governance votes to uphold the report, 2: to overturn it).
    Dispute {
        job: u8,
        who: usize,
        appeal: u8,
    },
    /// The accused appeals the job's open report; in the next block every bonded account votes `uphold`.
    Appeal {
        job: u8,
        uphold: bool,
    },
    Replace {
        job: u8,
        mpc: usize,
        nominee: usize,
    },
    Wait(usize),
    /// The GDS selects MPCs if none are selected, then the QC stakes what is due (two blocks).
    Prepare {
        job: u8,
        first: usize,
    },
    /// Every member still missing a deposit deposits, in one block.
    AcceptAll {
        job: u8,
    },
    /// Every member completes the whole training, in one block (some may be refused).
    CompleteAll {
        job: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let job = 0..JOBS;
    prop_oneof![
        2 => (job.clone(), any::<bool>(), 1u8..32, 1u128..5_000, 1u32..4, 1u32..6, 1u128..60_000, 1u64..44).prop_map(
            |(job, kind, dos, price, complexity, epochs, quote, duration)| Op::Order { job, kind, dos, price, complexity, epochs, quote, duration }
        ),
        3 => (job.clone(), proptest::bool::weighted(0.9)).prop_map(|(job, exact)| Op::Stake { job, exact }),
        2 => (job.clone(), 0usize..4, 1usize..3).prop_map(|(job, first, count)| Op::Select { job, first, count }),
        8 => (job.clone(), 0usize..9).prop_map(|(job, who)| Op::Accept { job, who }),
        10 => (job.clone(), 0usize..9, 0u8..3, 0u32..7, 0u8..9)
            .prop_map(|(job, who, stage, epoch, progress)| Op::Status { job, who, stage, epoch, progress }),
        2 => (job.clone(), 1u8..16, any::<bool>()).prop_map(|(job, offenders, heartbeat)| Op::Report { job, offenders, heartbeat }),
        1 => job.clone().prop_map(|job| Op::Cancel { job }),
        6 => (job.clone(), 0usize..9, 0u8..2).prop_map(|(job, who, hash)| Op::PostResult { job, who, hash }),
        4 => (job.clone(), 0usize..9, 0u8..3).prop_map(|(job, who, hash)| Op::NonCompliant { job, who, hash: u8::from(hash == 2) }),
        3 => (job.clone(), any::<bool>()).prop_map(|(job, uphold)| Op::Appeal { job, uphold }),
        4 => (job.clone(), 0usize..9, 0u8..3).prop_map(|(job, who, appeal)| Op::Dispute { job, who, appeal }),
        2 => (job, 0usize..4, 0usize..4).prop_map(|(job, mpc, nominee)| Op::Replace { job, mpc, nominee }),
        2 => (1usize..6).prop_map(Op::Wait),
        5 => (0..JOBS).prop_map(|job| Op::AcceptAll { job }),
        5 => (0..JOBS, 0usize..4).prop_map(|(job, first)| Op::Prepare { job, first }),
        2 => (0..JOBS).prop_map(|job| Op::CompleteAll { job }),
    ]
}

fn job_id(j: u8) -> JobId {
    JobId([j + 1; 16])
}

fn member(i: usize) -> &'static str {
    if i < DOS.len() {
        DOS[i]
    } else {
        MPCS[i - DOS.len()]
    }
}

fn network() -> Net {
    let params = Params {
        data_owner_stake_min: Amount(10),
        mpc_stake_min: Amount(10),
        coordinator_stake_min: Amount(10),
        job_heartbeat_timeout: 4,
        job_dispatch_timeout: 30,
        job_retention: 3,
        job_duration_max: 40,
        max_mpc_replacements: 2,
        voting_period: 2,
        job_dispute_window: 5,
        ..small_params()
    };
    let mut accounts: Vec<(&str, u128, u128)> = vec![("gds", 1_000_000, 10), ("qc", 10_000_000, 0)];
    accounts.extend(DOS.iter().chain(MPCS.iter()).map(|n| (*n, 1_000_000, 10)));
    let mut net = Net::new(&accounts, params);
    let reg = |role| Call::RegisterNode {
        roles: vec![role],
        services: vec![],
        capacity: 1,
        endpoint: "http://x.test".into(),
    };
    let mut txs = vec![net.tx("gds", reg(Role::Coordinator))];
    txs.extend(DOS.iter().map(|d| net.tx(d, reg(Role::DataOwner))));
    txs.extend(MPCS.iter().map(|m| net.tx(m, reg(Role::Mpc))));
    net.block(txs);
    net
}

/// The transaction an op stands for (signer, call), reading what it needs from the engine.
fn call(net: &Net, op: &Op) -> (&'static str, Call) {
    let job = |j: u8| net.chain.engine.job(&job_id(j));
    match op {
        Op::Order { job: j, kind, dos, price, complexity, epochs, quote, duration } => {
            let kind = if *kind { JobKind::Vertical } else { JobKind::Horizontal };
            let dos = DOS.iter().enumerate().filter(|(i, _)| dos & (1 << i) != 0).map(|(_, d)| id(d)).collect();
            let order = JobOrder {
                id: job_id(*j),
                kind,
                qc: id("qc"),
                dos,
                price_per_do: Amount(*price),
                complexity: *complexity,
                mpc_factor: 1,
                epochs: *epochs,
                quote: Amount(*quote),
                batches: 2,
                duration_max: *duration,
            };
            ("gds", Call::OrderJob { order })
        }
        Op::Stake { job: j, exact } => {
            let due = job(*j).map_or(Amount(5), |x| x.due());
            let amount = if *exact { due } else { Amount(due.0 + 1) };
            ("qc", Call::SubmitJobQuery { job: job_id(*j), amount })
        }
        Op::Select { job: j, first, count } => {
            let mpcs = (0..*count).map(|k| id(MPCS[(first + k) % MPCS.len()])).collect();
            ("gds", Call::SelectMpcs { job: job_id(*j), mpcs })
        }
        Op::Accept { job: j, who } => {
            let deposit = job(*j).map_or(Amount(1), |x| x.deposit);
            (member(*who), Call::AcceptJob { job: job_id(*j), deposit })
        }
        Op::Status { job: j, who, stage, epoch, progress } => {
            let stage = [JobStage::Training, JobStage::Psi, JobStage::Aggregation][*stage as usize];
            let epoch = if *epoch == 6 { WHOLE } else { *epoch };
            // Completions are likelier than failures, so some jobs complete.
            let status = [
                JobProgress::Started,
                JobProgress::InProgress,
                JobProgress::InProgress,
                JobProgress::Completed,
                JobProgress::Completed,
                JobProgress::Completed,
                JobProgress::Completed,
                JobProgress::Failed,
                JobProgress::Failed,
            ][*progress as usize];
            // MPCs of horizontal jobs aggregate: steer the stage so statuses are mostly valid.
            let stage = match (job(*j).map(|x| x.kind), *who >= DOS.len(), stage) {
                (Some(JobKind::Horizontal), true, JobStage::Training) => JobStage::Aggregation,
                (_, false, JobStage::Aggregation) => JobStage::Training,
                _ => stage,
            };
            // A vertical job in PSI: DOs' training statuses become statuses of the open PSI level, so
            // levels complete and training opens (the rest stay as drawn: mostly refused).
            let (stage, epoch) = match job(*j).filter(|x| x.in_psi()) {
                Some(x) if *who < DOS.len() && stage == JobStage::Training => (JobStage::Psi, x.psi_level()),
                _ => (stage, epoch),
            };
            (
                member(*who),
                Call::PostJobStatus { job: job_id(*j), status: JobStatus { stage, epoch, batch: WHOLE, status } },
            )
        }
        Op::Report { job: j, offenders, heartbeat } => {
            let members: Vec<_> = job(*j).map(|x| x.members.keys().copied().collect()).unwrap_or_default();
            let offenders: Vec<_> =
                members.iter().enumerate().filter(|(i, _)| offenders & (1 << (i % 4)) != 0).map(|(_, a)| *a).collect();
            let fault = if *heartbeat { JobFault::NoHeartbeat } else { JobFault::NonCompliant };
            ("gds", Call::ReportJobFailure { job: job_id(*j), offenders, fault })
        }
        Op::Cancel { job: j } => ("qc", Call::CancelJob { job: job_id(*j) }),
        Op::PostResult { job: j, who, hash } => {
            (member(*who), Call::PostJobResult { job: job_id(*j), result: Hash([*hash; 32]) })
        }
        Op::NonCompliant { job: j, who, hash } => {
            // Mostly a member that posted a result, named by the hash it posted (hash 0), so disputes open.
            let posted: Vec<_> = job(*j)
                .map(|x| x.members.iter().filter_map(|(a, m)| m.result.map(|r| (*a, r))).collect())
                .unwrap_or_default();
            let (member, result) = match posted.get(who % posted.len().max(1)) {
                Some((a, r)) if *hash == 0 => (*a, *r),
                Some((a, _)) => (*a, Hash([9; 32])),
                None => (id(member(*who)), Hash([*hash; 32])),
            };
            ("gds", Call::ReportNonCompliance { job: job_id(*j), member, result })
        }
        Op::Replace { job: j, mpc, nominee } => {
            let current =
                job(*j).and_then(|x| x.mpcs.get(mpc % x.mpcs.len().max(1)).copied()).unwrap_or(id(MPCS[*mpc]));
            ("gds", Call::ReplaceMpc { job: job_id(*j), mpc: current, replacement: id(MPCS[*nominee]) })
        }
        Op::Wait(_)
        | Op::Prepare { .. }
        | Op::AcceptAll { .. }
        | Op::CompleteAll { .. }
        | Op::Appeal { .. }
        | Op::Dispute { .. } => {
            unreachable!("several transactions or none")
        }
    }
}

/// What went into and came out of each job's escrow, from the events.
fn flows(events: &[Event]) -> BTreeMap<JobId, (u128, u128)> {
    let mut f: BTreeMap<JobId, (u128, u128)> = BTreeMap::new();
    for e in events {
        match e {
            Event::JobQuerySubmitted { job, amount, .. } => f.entry(*job).or_default().0 += amount.0,
            Event::JobAccepted { job, deposit, .. } => f.entry(*job).or_default().0 += deposit.0,
            Event::JobBondPosted { job, bond, .. } => f.entry(*job).or_default().0 += bond.0,
            Event::RewardDistributed { job, payouts: list, .. } | Event::Refund { job, refunds: list } => {
                f.entry(*job).or_default().1 += list.iter().map(|(_, a)| a.0).sum::<u128>()
            }
            _ => {}
        }
    }
    f
}

fn check_jobs(net: &Net) -> Result<(), TestCaseError> {
    let flows = flows(&net.events);
    for job in net.chain.engine.jobs() {
        let (inflow, outflow) = flows.get(&job.id).copied().unwrap_or_default();
        let escrow = net.chain.engine.job_escrow(&job.id).0;
        prop_assert_eq!(inflow, outflow + escrow, "job {}: in {} out {} escrow {}", job.id, inflow, outflow, escrow);
        if job.phase == JobPhase::Dispatched {
            let expires_at = job.expires_at.expect("a dispatched job has a maximum duration");
            prop_assert!(expires_at > net.chain.engine.height(), "job {} outlived its maximum duration", job.id);
            if let Some(d) = job.dispute {
                prop_assert!(d.closes_at > net.chain.engine.height(), "job {}: a dispute outlived its window", job.id);
                prop_assert!(d.closes_at < expires_at, "job {}: a dispute window outlives the job", job.id);
            }
        }
        if job.phase != JobPhase::Dispatched {
            prop_assert!(job.dispute.is_none(), "job {}: a dispute without a dispatched job", job.id);
        }
        if job.phase == JobPhase::Settled {
            prop_assert_eq!(escrow, 0);
            prop_assert!(net.chain.engine.ledger().holds().all(|h| h.tag.owner != HoldOwner::Job(job.id)));
        }
    }
    Ok(())
}

/// The accused appeals the job's open report (one block); if the appeal opened a proposal, every bonded
/// account votes in the next: `uphold` keeps the report, otherwise governance overturns it.
fn appeal_and_vote(net: &mut Net, job: u8, uphold: bool) {
    let accused = net.chain.engine.job(&job_id(job)).and_then(|x| x.dispute).map(|d| d.member);
    let signer = (0..DOS.len() + MPCS.len()).map(member).find(|m| Some(id(m)) == accused).unwrap_or("d0");
    let tx = net.tx(signer, Call::AppealJobReport { job: job_id(job) });
    net.block(vec![tx]);
    let proposal = net.chain.engine.job(&job_id(job)).and_then(|x| x.dispute).and_then(|d| d.appeal);
    if let Some(proposal) = proposal {
        let voters = ["gds"].into_iter().chain(DOS).chain(MPCS);
        let txs = voters.map(|v| net.tx(v, Call::Vote { proposal, approve: !uphold })).collect::<Vec<_>>();
        net.block(txs);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn random_job_lifecycles_conserve_tokens_and_strand_no_escrow(ops in proptest::collection::vec(op(), 1..80)) {
        let mut net = network();
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Wait(n) => net.empty_blocks(*n),
                Op::Prepare { job, first } => {
                    if net.chain.engine.job(&job_id(*job)).is_some_and(|x| x.mpcs.is_empty()) {
                        let (who, c) = call(&net, &Op::Select { job: *job, first: *first, count: 1 + first % 2 });
                        let tx = net.tx(who, c);
                        net.block(vec![tx]);
                    }
                    let (who, c) = call(&net, &Op::Stake { job: *job, exact: true });
                    let tx = net.tx(who, c);
                    net.block(vec![tx]);
                }
                Op::Dispute { job, who, appeal } => {
                    // The accused is a member the job's kind lets the GDS report: a DO of a horizontal job,
                    // an MPC of a vertical one.
                    let j = net.chain.engine.job(&job_id(*job));
                    let accused = j.and_then(|x| {
                        let list = if x.kind == JobKind::Horizontal { &x.dos } else { &x.mpcs };
                        list.get(who % list.len().max(1)).copied()
                    });
                    let signer = (0..DOS.len() + MPCS.len()).map(member).find(|m| Some(id(m)) == accused).unwrap_or("d0");
                    let result = Hash([3; 32]);
                    let post = net.tx(signer, Call::PostJobResult { job: job_id(*job), result });
                    net.block(vec![post]);
                    let report = net.tx("gds", Call::ReportNonCompliance { job: job_id(*job), member: id(signer), result });
                    net.block(vec![report]);
                    if *appeal > 0 {
                        appeal_and_vote(&mut net, *job, *appeal == 1);
                    }
                }
                Op::Appeal { job, uphold } => appeal_and_vote(&mut net, *job, *uphold),
                Op::AcceptAll { job } | Op::CompleteAll { job } => {
                    let accept = matches!(op, Op::AcceptAll { .. });
                    let txs: Vec<_> = (0..DOS.len() + MPCS.len())
                        .filter(|i| {
                            let j = net.chain.engine.job(&job_id(*job));
                            let nominee = j.and_then(|x| x.replacement).is_some_and(|(_, n)| n == id(member(*i)));
                            let m = j.and_then(|x| x.members.get(&id(member(*i))).cloned());
                            m.is_some_and(|m| m.deposit.is_none() == accept) || (accept && nominee)
                        })
                        .collect::<Vec<_>>()
                        .into_iter()
                        .map(|i| {
                            let op = if accept {
                                Op::Accept { job: *job, who: i }
                            } else {
                                Op::Status { job: *job, who: i, stage: 0, epoch: 6, progress: 3 }
                            };
                            let (who, c) = call(&net, &op);
                            net.tx(who, c)
                        })
                        .collect();
                    net.block(txs);
                }
                op => {
                    let (who, c) = call(&net, op);
                    let tx = net.tx(who, c);
                    net.block(vec![tx]);
                }
            }
            check_jobs(&net)?;
            if i == ops.len() / 2 {
                let restored = Engine::restore(&net.chain.engine.snapshot()).expect("a snapshot with open jobs restores");
                prop_assert_eq!(restored.state_root(), net.chain.engine.state_root());
            }
        }
        // Wind down with nobody acting: what is still ordered lapses (30 blocks), what is dispatched settles
        // by recorded progress when its maximum duration (at most 40 blocks) passes; no escrow is stranded.
        for _ in 0..41 {
            net.empty_blocks(1);
            check_jobs(&net)?;
        }
        prop_assert!(net.chain.engine.ledger().holds().all(|h| !matches!(h.tag.owner, HoldOwner::Job(_))), "a job's hold is stranded");
        prop_assert!(net.chain.engine.jobs().all(|j| j.phase == JobPhase::Settled));
        let settled = net.events.iter().filter(|e| matches!(e, Event::JobSettled { .. })).count();
        let ordered = net.events.iter().filter(|e| matches!(e, Event::JobOrdered { .. })).count();
        prop_assert_eq!(settled, ordered, "every ordered job settled exactly once");
        if std::env::var_os("JOB_STATS").is_some() {
            for e in &net.events {
                match e {
                    Event::JobSettled { outcome, .. } => eprintln!("STAT outcome {}", format!("{outcome:?}").split([' ', '{']).next().unwrap_or("")),
                    Event::MpcReplaced { .. } => eprintln!("STAT replaced"),
                    Event::MpcReplacementNominated { .. } => eprintln!("STAT nominated"),
                    Event::JobDispatched { .. } => eprintln!("STAT dispatched"),
                    Event::NonComplianceReported { .. } => eprintln!("STAT disputed"),
                    Event::JobReportOverturned { .. } => eprintln!("STAT overturned"),
                    _ => {}
                }
            }
        }
    }
}
