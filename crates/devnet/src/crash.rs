//! One validator's crash in the middle of the demo's traffic: SIGKILL it, let the other three go on (f = 1
//! of 4, so finality must not stop), restart it from its data directory on the same addresses, and time
//! how long it takes to reach the others' height again. The agents that called it first fail over to the
//! next validator of their `--node` list meanwhile.

use crate::cluster::Cluster;
use crate::report::CrashRow;
use crate::{DevnetError, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// When to kill which validator, and for how long.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The validator to kill (an index into the cluster).
    pub victim: usize,
    /// Kill it once the others are this many blocks past the height the schedule starts from.
    pub after_blocks: u64,
    /// Keep it down at least this long, and until the others finalized `down_blocks_min` blocks…
    pub down_for: Duration,
    pub down_blocks_min: u64,
    /// …but no longer than this: if finality stopped, restart it anyway (the report then says so).
    pub down_max: Duration,
    /// How long the restarted validator may take to reach the others' height.
    pub catch_up_bound: Duration,
}

/// How often heights are read while waiting.
const POLL: Duration = Duration::from_millis(20);

/// Run `schedule` on `cluster` from height `from`; `abort` (set when the rest of the run failed) cuts the
/// waits short. The restarted validator is left running.
pub fn run(cluster: &mut Cluster, schedule: &Schedule, from: u64, abort: &AtomicBool) -> Result<CrashRow> {
    let victim = schedule.victim;
    let aborted = || abort.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(60);
    while cluster.others_heights(victim).is_none_or(|(_, max)| max < from + schedule.after_blocks) {
        if aborted() || Instant::now() > deadline {
            return Err(DevnetError::Network(format!(
                "the validators did not reach height {}",
                from + schedule.after_blocks
            )));
        }
        std::thread::sleep(POLL);
    }
    let name = cluster.validators[victim].name.clone();
    let killed_at = cluster.height(victim).or(cluster.others_heights(victim).map(|(_, max)| max)).unwrap_or(0);
    let killed = Instant::now();
    cluster.kill(victim);
    eprintln!("demo: killed validator {name} (SIGKILL) at height {killed_at}");
    let others = |c: &Cluster| c.others_heights(victim).map_or(0, |(_, max)| max);
    loop {
        let down = killed.elapsed();
        let long_enough = down >= schedule.down_for && others(cluster) >= killed_at + schedule.down_blocks_min;
        if long_enough || down >= schedule.down_max || aborted() {
            break;
        }
        std::thread::sleep(POLL);
    }
    let restarted_at = others(cluster);
    let down_ms = killed.elapsed().as_millis() as u64;
    let restarted = Instant::now();
    cluster.restart(victim)?;
    eprintln!("demo: restarted {name} from its data directory at height {restarted_at} (down {down_ms} ms)");
    let (mut catch_up_ms, mut caught_up_at) = (None, None);
    while restarted.elapsed() < schedule.catch_up_bound && !aborted() {
        // The others first: the restarted validator, read after them, must be at their lowest height.
        let target = cluster.others_heights(victim).map(|(min, _)| min);
        if let (Some(target), Some(h)) = (target, cluster.height(victim)) {
            if h >= target {
                catch_up_ms = Some(restarted.elapsed().as_millis() as u64);
                caught_up_at = Some(h);
                break;
            }
        }
        std::thread::sleep(POLL);
    }
    match catch_up_ms {
        Some(ms) => eprintln!("demo: {name} caught up with the others in {ms} ms"),
        None => eprintln!("demo: {name} did not catch up in {} s", schedule.catch_up_bound.as_secs()),
    }
    Ok(CrashRow {
        validator: name,
        killed_at,
        restarted_at,
        finalized_while_down: restarted_at.saturating_sub(killed_at),
        down_ms,
        catch_up_ms,
        caught_up_at,
        catch_up_bound_ms: schedule.catch_up_bound.as_millis() as u64,
        agents_failed_over: Vec::new(),
    })
}
