//! The scheduler benchmark: stake-weighted picks per second of `sched::Scheduler` (deficit round-robin in
//! stake units, O(1) amortised per pick) with 10, 1,000 and 100,000 backlogged clients, against nginx's
//! smooth weighted round-robin (O(n) per pick) measured in the same process on the same weights.
//!
//! Every client stays backlogged: each starts with `CHUNK + 1` queued requests, picks are timed in chunks of
//! `CHUNK`, and between chunks (untimed) every request served is queued again for its client, so no client
//! can empty and leave the ring. Stakes are 1..=1000 from a fixed pseudo-random sequence; a second, equal-
//! stakes run shows the worst case for deficit round-robin, where every pick moves to the next client.

use crate::{next_rand, numbered_id, BenchError, Progress};
use sched::Scheduler;
use serde::Serialize;
use std::hint::black_box;
use std::time::{Duration, Instant};
use types::AccountId;

pub const CLIENT_COUNTS: [usize; 3] = [10, 1_000, 100_000];
/// Picks timed between two untimed refills; every client keeps more than this queued, so none empties.
const CHUNK: usize = 64;
const STAKE_MAX: u64 = 1_000;
pub const TARGET_PICKS_PER_S: f64 = 10_000_000.0;
pub const TARGET_GROWTH_MAX: f64 = 2.0;
/// Peer visits the O(n) baseline may spend per client count: 2,000 picks at 100,000 peers.
const NGINX_VISITS: usize = 200_000_000;
const NGINX_PICKS_MIN: usize = 2_000;

/// One client count's figures.
#[derive(Debug, Clone, Serialize)]
pub struct SchedRow {
    pub clients: usize,
    pub stake_min: u128,
    pub sched_picks: usize,
    pub sched_picks_per_s: f64,
    pub sched_ns_per_pick: f64,
    /// Consecutive picks of the same client, on average: stake ÷ minimum stake.
    pub sched_picks_per_turn: f64,
    /// All stakes equal: one pick per turn, every pick moves to the next client.
    pub sched_equal_stakes_ns_per_pick: f64,
    pub nginx_picks: usize,
    pub nginx_picks_per_s: f64,
    pub nginx_ns_per_pick: f64,
    pub sched_vs_nginx: f64,
}

/// The figures; serialized as `stakework bench sched --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct SchedReport {
    pub rows: Vec<SchedRow>,
    pub growth_ns_per_pick_100000_vs_10: f64,
    pub growth_equal_stakes_100000_vs_10: f64,
    pub target_picks_per_s_at_100000: f64,
    pub meets_rate_target: bool,
    pub target_growth_max: f64,
    pub meets_growth_target: bool,
}

/// What one timed run of the scheduler measured.
struct SchedRun {
    elapsed: Duration,
    turns: usize,
}

/// Run the benchmark with `picks` picks per client count.
pub fn run(picks: usize, progress: &mut dyn Progress) -> Result<SchedReport, BenchError> {
    if picks < 1 {
        return Err(BenchError::Settings("need at least one pick".into()));
    }
    // Warm-up (untimed), so the first client count is not measured on a cold CPU and cache, which would
    // flatter the growth ratio.
    time_sched(&stakes(CLIENT_COUNTS[0]), picks)?;
    let mut rows = Vec::with_capacity(CLIENT_COUNTS.len());
    for n in CLIENT_COUNTS {
        rows.push(measure(n, picks, progress)?);
    }
    let growth = rows[2].sched_ns_per_pick / rows[0].sched_ns_per_pick;
    let growth_equal = rows[2].sched_equal_stakes_ns_per_pick / rows[0].sched_equal_stakes_ns_per_pick;
    Ok(SchedReport {
        meets_rate_target: rows[2].sched_picks_per_s >= TARGET_PICKS_PER_S,
        rows,
        growth_ns_per_pick_100000_vs_10: growth,
        growth_equal_stakes_100000_vs_10: growth_equal,
        target_picks_per_s_at_100000: TARGET_PICKS_PER_S,
        target_growth_max: TARGET_GROWTH_MAX,
        meets_growth_target: growth <= TARGET_GROWTH_MAX,
    })
}

fn measure(n: usize, picks: usize, progress: &mut dyn Progress) -> Result<SchedRow, BenchError> {
    let stakes = stakes(n);
    progress.phase(&format!("sched: {n} clients, {picks} picks …"));
    let varied = time_sched(&stakes, picks)?;
    progress.phase(&format!("sched: {n} clients with equal stakes, {picks} picks …"));
    let equal = time_sched(&vec![STAKE_MAX.into(); n], picks)?;
    let nginx_picks = (NGINX_VISITS / n).max(NGINX_PICKS_MIN).min(picks);
    progress.phase(&format!("nginx smooth weighted round-robin: {n} peers, {nginx_picks} picks …"));
    let nginx = time_nginx(&stakes, nginx_picks);

    let sched_ns = varied.elapsed.as_secs_f64() * 1e9 / picks as f64;
    let nginx_ns = nginx.as_secs_f64() * 1e9 / nginx_picks as f64;
    Ok(SchedRow {
        clients: n,
        stake_min: stakes.iter().copied().min().unwrap_or_default(),
        sched_picks: picks,
        sched_picks_per_s: 1e9 / sched_ns,
        sched_ns_per_pick: sched_ns,
        sched_picks_per_turn: picks as f64 / varied.turns.max(1) as f64,
        sched_equal_stakes_ns_per_pick: equal.elapsed.as_secs_f64() * 1e9 / picks as f64,
        nginx_picks,
        nginx_picks_per_s: 1e9 / nginx_ns,
        nginx_ns_per_pick: nginx_ns,
        sched_vs_nginx: nginx_ns / sched_ns,
    })
}

/// Stakes 1..=1000 from xorshift64* with a fixed seed, so runs are comparable.
fn stakes(n: usize) -> Vec<u128> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n).map(|_| u128::from(1 + next_rand(&mut state) % STAKE_MAX)).collect()
}

/// Times `picks` picks with every client kept backlogged; pushes (the initial fill and the refills between
/// chunks) are not timed. The payload is the client's index, so refilling needs no lookup.
fn time_sched(stakes: &[u128], picks: usize) -> Result<SchedRun, BenchError> {
    let ids: Vec<AccountId> = (0..stakes.len()).map(numbered_id).collect();
    let mut s: Scheduler<u32> = Scheduler::new(1);
    for (i, (&id, &stake)) in ids.iter().zip(stakes).enumerate() {
        for _ in 0..=CHUNK {
            s.push(id, stake, i as u32).map_err(crate::step("queueing a request"))?;
        }
    }
    let mut served = [0u32; CHUNK];
    let mut elapsed = Duration::ZERO;
    let (mut done, mut turns, mut last) = (0, 0, u32::MAX);
    while done < picks {
        let chunk = &mut served[..CHUNK.min(picks - done)];
        let started = Instant::now();
        let filled = pick_into(&mut s, chunk);
        elapsed += started.elapsed();
        crate::check(filled, "a benchmark client ran out of requests")?;
        for &client in chunk.iter() {
            if client != last {
                turns += 1;
                last = client;
            }
            let i = client as usize;
            s.push(ids[i], stakes[i], client).map_err(crate::step("queueing a request"))?;
        }
        done += chunk.len();
    }
    crate::check(s.backlogged_clients() == stakes.len(), "every benchmark client stays backlogged")?;
    Ok(SchedRun { elapsed, turns })
}

/// Fill `chunk` with picks; false if the queue ran dry first (the refills prevent it). The timed loop
/// holds nothing else, not even the construction of the error.
fn pick_into(s: &mut Scheduler<u32>, chunk: &mut [u32]) -> bool {
    for slot in chunk.iter_mut() {
        let Some((_, client)) = s.pick() else { return false };
        *slot = client;
    }
    true
}

/// One upstream peer of nginx's smooth weighted round-robin (`ngx_http_upstream_get_peer`).
#[derive(Debug, Clone, Copy)]
struct Peer {
    weight: i64,
    current: i64,
}

/// nginx's pick: every peer gains its weight, the largest current wins (the first on a tie) and loses the
/// total. O(n) per pick.
fn nginx_pick(peers: &mut [Peer]) -> usize {
    let (mut best, mut best_current, mut total) = (0, i64::MIN, 0);
    for (i, peer) in peers.iter_mut().enumerate() {
        peer.current += peer.weight;
        total += peer.weight;
        if peer.current > best_current {
            best = i;
            best_current = peer.current;
        }
    }
    peers[best].current -= total;
    best
}

fn time_nginx(stakes: &[u128], picks: usize) -> Duration {
    let mut peers: Vec<Peer> = stakes
        .iter()
        .map(|&stake| Peer { weight: i64::try_from(stake).expect("stakes are at most 1000"), current: 0 })
        .collect();
    let mut sink = 0usize;
    let started = Instant::now();
    for _ in 0..picks {
        sink = sink.wrapping_add(nginx_pick(&mut peers));
    }
    let elapsed = started.elapsed();
    black_box(sink);
    elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_spreads_picks_smoothly_by_weight() {
        // nginx's documented example: weights 5, 1, 1 give a a b a c a a.
        let mut peers: Vec<Peer> = [5, 1, 1].iter().map(|&weight| Peer { weight, current: 0 }).collect();
        let picks: Vec<usize> = (0..7).map(|_| nginx_pick(&mut peers)).collect();
        assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn stakes_are_fixed_and_within_range() {
        let s = stakes(1_000);
        assert_eq!(s, stakes(1_000));
        assert!(s.iter().all(|&x| (1..=u128::from(STAKE_MAX)).contains(&x)));
        assert!(s.iter().min() < s.iter().max());
    }

    #[test]
    fn every_client_stays_backlogged_and_turns_follow_stake() {
        // Equal stakes: every pick is a new client's turn.
        let run = time_sched(&[7, 7, 7], 300).expect("a run");
        assert_eq!(run.turns, 300);
        // One client with all the stake but one unit per other client: long turns.
        let run = time_sched(&[1_000, 1], 3_000).expect("a run");
        assert!(run.turns < 100, "{} turns", run.turns);
    }
}
