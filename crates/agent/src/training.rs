//! Training-job agents (DESIGN §6): the coordinator (GDS) orders a job, selects its MPC nodes and watches
//! the members' heartbeats, reporting anyone silent for `job_heartbeat_timeout` blocks; a member (data
//! owner or MPC node) deposits and posts its progress epoch by epoch until it completes.

use crate::chain::{NodeApi, Outcome, Signer};
use crate::{AgentError, Log};
use engine::{Call, JobFault, JobOrder, JobProgress, JobStage, JobStatus, WHOLE};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use types::{AccountId, JobId};

const PATIENCE: Duration = Duration::from_secs(30);

fn job(api: &NodeApi, id: &JobId) -> Result<Value, AgentError> {
    api.get(&format!("/v1/jobs/{id}"))
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
    api: &NodeApi,
    signer: &Signer,
    order: JobOrder,
    mpcs: Vec<AccountId>,
    stop: &AtomicBool,
    log: &Log,
) -> Result<Value, AgentError> {
    let id = order.id;
    if api.get::<Value>(&format!("/v1/jobs/{id}")).is_err() {
        must(signer.submit(api, Call::OrderJob { order }, PATIENCE)?, "order")?;
        log.line(&format!("ordered job {id}"));
    }
    if job(api, &id)?["mpcs"].as_array().is_none_or(Vec::is_empty) {
        must(signer.submit(api, Call::SelectMpcs { job: id, mpcs }, PATIENCE)?, "select MPCs")?;
        log.line("selected the MPC nodes");
    }
    let params: Value = api.get("/v1/params")?;
    let timeout = params["params"]["job_heartbeat_timeout"].as_u64().unwrap_or(3_600);
    while !stop.load(Ordering::Relaxed) {
        let j = match job(api, &id) {
            Ok(j) => j,
            Err(e) => {
                log.line(&format!("will retry: {e}"));
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
        };
        if j["phase"] == "settled" {
            log.line(&format!("job settled: {}", j["outcome"]));
            return Ok(j);
        }
        if j["phase"] == "dispatched" {
            let height = api.height()?;
            let silent: Vec<AccountId> = j["members"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, m)| m["heartbeat"].as_u64().is_some_and(|h| height + 1 >= h + timeout))
                .filter_map(|(a, _)| a.parse().ok())
                .collect();
            if !silent.is_empty() {
                log.line(&format!("reporting {} silent member(s)", silent.len()));
                let call = Call::ReportJobFailure { job: id, offenders: silent, fault: JobFault::NoHeartbeat };
                let o = signer.submit(api, call, PATIENCE)?;
                log.line(&format!("report: {o:?}"));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    job(api, &id)
}

/// A DO or MPC: deposit, then one status per epoch (`blocks_per_epoch` apart), then completion.
pub fn run_member(
    api: &NodeApi,
    signer: &Signer,
    id: JobId,
    blocks_per_epoch: u64,
    stop: &AtomicBool,
    log: &Log,
) -> Result<(), AgentError> {
    let me = signer.account.to_string();
    // Wait for the order, then deposit.
    let (stage, epochs) = loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if let Ok(j) = job(api, &id) {
            let role = j["members"][me.as_str()]["role"].clone();
            if role.is_null() {
                return Err(AgentError::Config(format!("{me} is not a member of job {id}")));
            }
            if j["members"][me.as_str()]["deposit"].is_null() && j["phase"] == "ordered" {
                let deposit =
                    serde_json::from_value(j["deposit"].clone()).map_err(|e| AgentError::Config(e.to_string()))?;
                must(signer.submit(api, Call::AcceptJob { job: id, deposit }, PATIENCE)?, "deposit")?;
                log.line("deposited");
            }
            if j["phase"] == "dispatched" {
                let stage = if role == "mpc" { JobStage::Aggregation } else { JobStage::Training };
                break (stage, j["epochs"].as_u64().unwrap_or(1) as u32);
            }
            if j["phase"] == "settled" {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    };
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
