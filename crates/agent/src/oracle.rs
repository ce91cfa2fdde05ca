//! The oracle agent: watches open tasks and advances each once everyone it waits for has acted or its
//! deadline has passed (the engine checks the claim; a premature advance is refused and costs nothing).

use crate::chain::{NodeApi, Signer};
use crate::{AgentError, Log};
use engine::{Call, Task, TaskState};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OracleStats {
    pub advanced: u64,
    pub refused: u64,
}

/// Whether `t` may be advanced at `height` (the engine's rule, read from the task's public state).
pub fn advanceable(t: &Task, height: u64, semantic: bool) -> bool {
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

pub fn run_oracle(api: &NodeApi, signer: &Signer, poll: Duration, stop: &AtomicBool, log: &Log) -> OracleStats {
    let mut stats = OracleStats::default();
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = step(api, signer, &mut stats) {
            log.line(&format!("will retry: {e}"));
            std::thread::sleep(Duration::from_millis(500));
        }
        std::thread::sleep(poll);
    }
    stats
}

fn step(api: &NodeApi, signer: &Signer, stats: &mut OracleStats) -> Result<(), AgentError> {
    let height = api.height()?;
    let params: Value = api.get("/v1/params")?;
    let semantic = params["params"]["semantic_poi"].as_bool().unwrap_or(false);
    let tasks: Vec<Task> = api.get("/v1/tasks")?;
    for t in tasks.iter().filter(|t| advanceable(t, height + 1, semantic)) {
        if signer.submit(api, Call::AdvanceTask { task: t.id }, Duration::from_secs(30))?.ok() {
            stats.advanced += 1;
        } else {
            stats.refused += 1;
        }
    }
    Ok(())
}
