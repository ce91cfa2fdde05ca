//! Training-job agents (DESIGN §6): the coordinator (GDS) orders a job, selects its MPC nodes and watches
//! the members' heartbeats, reporting anyone silent for `job_heartbeat_timeout` blocks; a member (data
//! owner or MPC node) deposits and posts its progress epoch by epoch until it completes.

use crate::{AgentError, Log};
use ::client::{Client, ClientError, Outcome, Signer};
use api::JobView;
use protocol::{Call, JobFault, JobOrder, JobPhase, JobProgress, JobRole, JobStage, JobStatus, WHOLE};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use types::{AccountId, JobId};

const PATIENCE: Duration = Duration::from_secs(30);

fn job(api: &Client, id: &JobId) -> Result<JobView, ClientError> {
    api.job(id)
}

/// Submit `call`, retrying while the node is unreachable or too slow to commit it (a loaded machine),
/// until `stop`. A refusal is returned, not retried: the caller re-reads the job and decides.
fn submit_patiently(
    api: &Client,
    signer: &Signer,
    call: &Call,
    stop: &AtomicBool,
    log: &Log,
    what: &str,
) -> Result<Outcome, AgentError> {
    loop {
        match signer.submit(api, call.clone(), PATIENCE) {
            Ok(o) => return Ok(o),
            Err(e) if !stop.load(Ordering::Relaxed) => {
                log.line(&format!("{what}: will retry: {e}"));
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn must(o: Outcome, what: &str) -> Result<(), AgentError> {
    if o.ok() {
        Ok(())
    } else {
        Err(AgentError::Config(format!("{what}: {o:?}")))
    }
}

/// The GDS: order, select MPCs, then watch until the job settles; returns the job's final view.
pub fn run_coordinator(
    api: &Client,
    signer: &Signer,
    order: JobOrder,
    mpcs: Vec<AccountId>,
    stop: &AtomicBool,
    log: &Log,
) -> Result<JobView, AgentError> {
    let id = order.id;
    // Order, then select the MPCs; each step is taken only if the job's view says it is still to do, so a
    // retried submission that had in fact committed is not sent twice.
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(job(api, &id)?);
        }
        match job(api, &id) {
            Err(ClientError::Node { .. }) => {
                let call = Call::OrderJob { order: order.clone() };
                must(submit_patiently(api, signer, &call, stop, log, "order")?, "order")?;
                log.line(&format!("ordered job {id}"));
                continue;
            }
            Err(e) => log.line(&format!("will retry: {e}")),
            Ok(j) if j.job.mpcs.is_empty() => {
                let call = Call::SelectMpcs { job: id, mpcs: mpcs.clone() };
                must(submit_patiently(api, signer, &call, stop, log, "select MPCs")?, "select MPCs")?;
                log.line("selected the MPC nodes");
            }
            Ok(_) => break,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let params = api.params()?.params;
    while !stop.load(Ordering::Relaxed) {
        let j = match job(api, &id) {
            Ok(j) => j,
            Err(e) => {
                log.line(&format!("will retry: {e}"));
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
        };
        if j.job.phase == JobPhase::Settled {
            log.line(&format!("job settled: {:?}", j.job.outcome));
            return Ok(j);
        }
        if j.job.phase == JobPhase::Dispatched {
            // The engine's own check, for the block that would carry the report.
            let next = api.health()?.height.next();
            let silent: Vec<AccountId> =
                j.job.members.iter().filter(|(_, m)| m.silent_at(next, &params)).map(|(a, _)| *a).collect();
            if !silent.is_empty() {
                log.line(&format!("reporting {} silent member(s)", silent.len()));
                let call = Call::ReportJobFailure { job: id, offenders: silent, fault: JobFault::NoHeartbeat };
                let o = signer.submit(api, call, PATIENCE)?;
                log.line(&format!("report: {o:?}"));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(job(api, &id)?)
}

/// A vertical job's PSI stage, level by level (nothing happens for a horizontal job): a party of the
/// open level completes it (the intersection itself is the data owners' business, off chain); everyone
/// else posts its progress at the open level every `blocks_per_epoch` blocks, a heartbeat while it waits.
/// Whether training may start (false: stopped, refused, or the job ended).
fn run_psi(
    api: &Client,
    signer: &Signer,
    id: JobId,
    blocks_per_epoch: u64,
    stop: &AtomicBool,
    log: &Log,
) -> Result<bool, AgentError> {
    let me = signer.account;
    let (mut next_at, mut refusals) = (0u64, 0);
    while !stop.load(Ordering::Relaxed) {
        let j = job(api, &id)?.job;
        if j.phase != JobPhase::Dispatched {
            return Ok(false);
        }
        if !j.in_psi() {
            return Ok(true);
        }
        let (level, member) = (j.psi_level(), j.members.get(&me).ok_or(AgentError::Config("not a member".into()))?);
        let complete = j.psi_party(&me, level) && member.psi <= level;
        let height = api.height()?;
        if complete || height >= next_at {
            let status = if complete { JobProgress::Completed } else { JobProgress::InProgress };
            let status = JobStatus { stage: JobStage::Psi, epoch: level, batch: WHOLE, status };
            let o = signer.submit(api, Call::PostJobStatus { job: id, status }, PATIENCE)?;
            if !o.ok() {
                // The level may have moved on between the read and the post: read again, up to 3 times.
                refusals += 1;
                log.line(&format!("PSI status refused ({refusals}): {o:?}"));
                if refusals >= 3 {
                    return Ok(false);
                }
                continue;
            }
            refusals = 0;
            if complete {
                log.line(&format!("completed PSI level {level} of {}", j.psi_levels()));
            }
            next_at = height + blocks_per_epoch;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(false)
}

/// Wait for the order, deposit, and wait for dispatch: the stage the member posts and the job's epochs
/// (`None`: stopped, or the job settled first).
fn deposit_and_wait(
    api: &Client,
    signer: &Signer,
    id: JobId,
    stop: &AtomicBool,
    log: &Log,
) -> Result<Option<(JobStage, u32)>, AgentError> {
    let me = signer.account;
    let mut refusals = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        if let Ok(JobView { job: j, .. }) = job(api, &id) {
            let member = j.members.get(&me);
            let mpcs_chosen = !j.mpcs.is_empty();
            if member.is_none() && j.phase == JobPhase::Ordered && !mpcs_chosen {
                // An MPC node is a member only once the GDS has selected the MPCs: wait for that.
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            let Some(member) = member else {
                return Err(AgentError::Config(format!("{me} is not a member of job {id}")));
            };
            if member.deposit.is_none() && j.phase == JobPhase::Ordered {
                let call = Call::AcceptJob { job: id, deposit: j.deposit };
                let o = submit_patiently(api, signer, &call, stop, log, "deposit")?;
                if o.ok() {
                    log.line("deposited");
                } else {
                    // Perhaps an earlier attempt committed after all: look at the job again, give up after 3.
                    refusals += 1;
                    log.line(&format!("deposit refused ({refusals}): {o:?}"));
                    if refusals >= 3 {
                        must(o, "deposit")?;
                    }
                }
            }
            if j.phase == JobPhase::Dispatched {
                let stage = if member.role == JobRole::Mpc { JobStage::Aggregation } else { JobStage::Training };
                return Ok(Some((stage, j.epochs)));
            }
            if j.phase == JobPhase::Settled {
                return Ok(None);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A DO or MPC: deposit, then (vertical jobs) PSI level by level, then one status per epoch
/// (`blocks_per_epoch` apart), then completion.
pub fn run_member(
    api: &Client,
    signer: &Signer,
    id: JobId,
    blocks_per_epoch: u64,
    stop: &AtomicBool,
    log: &Log,
) -> Result<(), AgentError> {
    let Some((stage, epochs)) = deposit_and_wait(api, signer, id, stop, log)? else {
        return Ok(());
    };
    if !run_psi(api, signer, id, blocks_per_epoch, stop, log)? {
        return Ok(());
    }
    let mut epoch = 0u32;
    let mut next_at = api.height()?;
    while !stop.load(Ordering::Relaxed) && epoch <= epochs {
        let height = api.height()?;
        if height >= next_at {
            let status = if epoch == epochs {
                JobStatus { stage, epoch: WHOLE, batch: WHOLE, status: JobProgress::Completed }
            } else {
                JobStatus { stage, epoch, batch: WHOLE, status: JobProgress::InProgress }
            };
            let o = signer.submit(api, Call::PostJobStatus { job: id, status }, PATIENCE)?;
            if !o.ok() {
                log.line(&format!("status refused: {o:?}"));
                return Ok(());
            }
            epoch += 1;
            next_at = height + blocks_per_epoch;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    log.line("completed the whole training");
    Ok(())
}
