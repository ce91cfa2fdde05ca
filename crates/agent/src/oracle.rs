//! The oracle agent: watches open tasks and advances each once everyone it waits for has acted or its
//! deadline has passed (the engine checks the claim; a premature advance is refused and costs nothing).

use crate::{AgentError, Log};
use ::client::{Client, Signer};
use protocol::{Call, Task, TaskState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OracleStats {
    pub advanced: u64,
    pub refused: u64,
    pub attested: u64,
}

/// The oracle's exit line after "stopped; ".
impl std::fmt::Display for OracleStats {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} advances, {} refused, {} attestations", self.advanced, self.refused, self.attested)
    }
}

/// A semantic similarity between two texts in ppb (the MiniLM sentence embedder in `stakework oracle
/// --embedder minilm`); the oracle attests each miner's median similarity to the other outputs.
pub trait Similarity: Send + Sync {
    fn similarity_ppb(&self, a: &str, b: &str) -> Result<i64, AgentError>;
}

/// Each miner's score: its median similarity to the other revealed outputs (the upper median for an even
/// count, as the engine's own Proof of Inference does).
pub fn semantic_scores(t: &Task, sim: &dyn Similarity) -> Result<Vec<(types::AccountId, i64)>, AgentError> {
    let outputs: Vec<(&types::AccountId, &String)> = t.outputs.iter().collect();
    let mut scores = Vec::with_capacity(outputs.len());
    for (i, (miner, text)) in outputs.iter().enumerate() {
        let mut sims = Vec::with_capacity(outputs.len());
        for (j, (_, other)) in outputs.iter().enumerate() {
            if i != j {
                sims.push(sim.similarity_ppb(text, other)?);
            }
        }
        sims.sort_unstable();
        let score = if sims.is_empty() { 0 } else { sims[sims.len() / 2] };
        scores.push((**miner, score));
    }
    Ok(scores)
}

pub fn run_oracle(
    api: &Client,
    signer: &Signer,
    poll: Duration,
    semantic: Option<&dyn Similarity>,
    stop: &AtomicBool,
    log: &Log,
) -> OracleStats {
    let mut stats = OracleStats::default();
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = step(api, signer, semantic, &mut stats) {
            log.line(&format!("will retry: {e}"));
            std::thread::sleep(Duration::from_millis(500));
        }
        std::thread::sleep(poll);
    }
    stats
}

/// One look at the open tasks: attest the committed ones (with an embedder), then advance the ready ones.
fn step(
    api: &Client,
    signer: &Signer,
    sim: Option<&dyn Similarity>,
    stats: &mut OracleStats,
) -> Result<(), AgentError> {
    // The engine's own query decides: the same rule, read from the same public records.
    let view = api.params()?;
    let tasks = api.tasks()?;
    if let Some(sim) = sim {
        attest(api, signer, sim, &tasks, stats)?;
    }
    let next = view.height.next();
    for t in tasks.iter().filter(|t| t.advanceable_at(next, &view.params, view.oracle_stake)) {
        if signer.submit(api, Call::AdvanceTask { task: t.id }, Duration::from_secs(30))?.ok() {
            stats.advanced += 1;
        } else {
            stats.refused += 1;
        }
    }
    Ok(())
}

/// Attest semantic scores for every committed task this oracle has not attested yet.
fn attest(
    api: &Client,
    signer: &Signer,
    sim: &dyn Similarity,
    tasks: &[Task],
    stats: &mut OracleStats,
) -> Result<(), AgentError> {
    for t in tasks.iter().filter(|t| t.state == TaskState::Committed && !t.attestations.contains_key(&signer.account)) {
        let scores = semantic_scores(t, sim)?;
        if signer.submit(api, Call::AttestPoi { task: t.id, scores }, Duration::from_secs(30))?.ok() {
            stats.attested += 1;
        }
    }
    Ok(())
}
