//! `stakework bench sched`: stake-weighted picks per second of `sched::Scheduler` (deficit round-robin in
//! stake units, O(1) amortised per pick) with 10, 1,000 and 100,000 backlogged clients, against nginx's
//! smooth weighted round-robin (O(n) per pick) measured in the same process on the same weights.
//!
//! Every client stays backlogged: each starts with `CHUNK + 1` queued requests, picks are timed in chunks of
//! `CHUNK`, and between chunks (untimed) every request served is queued again for its client, so no client
//! can empty and leave the ring. Stakes are 1..=1000 from a fixed pseudo-random sequence; a second, equal-
//! stakes run shows the worst case for deficit round-robin, where every pick moves to the next client.

use anyhow::{bail, ensure};
use sched::Scheduler;
use serde::Serialize;
use std::hint::black_box;
use std::time::{Duration, Instant};
use types::AccountId;

const CLIENT_COUNTS: [usize; 3] = [10, 1_000, 100_000];
/// Picks timed between two untimed refills; every client keeps more than this queued, so none empties.
const CHUNK: usize = 64;
const STAKE_MAX: u64 = 1_000;
const TARGET_PICKS_PER_S: f64 = 10_000_000.0;
const TARGET_GROWTH_MAX: f64 = 2.0;
/// Peer visits the O(n) baseline may spend per client count: 2,000 picks at 100,000 peers.
const NGINX_VISITS: usize = 200_000_000;
const NGINX_PICKS_MIN: usize = 2_000;

#[derive(Debug, clap::Args)]
pub struct SchedArgs {
    /// Picks measured per client count.
    #[arg(long, default_value_t = 2_000_000)]
    pub picks: usize,
}

#[derive(Debug, Serialize)]
struct SchedRow {
    clients: usize,
    stake_min: u128,
    sched_picks: usize,
    sched_picks_per_s: f64,
    sched_ns_per_pick: f64,
    /// Consecutive picks of the same client, on average: stake ÷ minimum stake.
    sched_picks_per_turn: f64,
    /// All stakes equal: one pick per turn, every pick moves to the next client.
    sched_equal_stakes_ns_per_pick: f64,
    nginx_picks: usize,
    nginx_picks_per_s: f64,
    nginx_ns_per_pick: f64,
    sched_vs_nginx: f64,
}

#[derive(Debug, Serialize)]
struct SchedReport {
    rows: Vec<SchedRow>,
    growth_ns_per_pick_100000_vs_10: f64,
    growth_equal_stakes_100000_vs_10: f64,
    target_picks_per_s_at_100000: f64,
    meets_rate_target: bool,
    target_growth_max: f64,
    meets_growth_target: bool,
}

/// What one timed run of the scheduler measured.
struct SchedRun {
    elapsed: Duration,
    turns: usize,
}

pub fn run(args: &SchedArgs, json: bool) -> anyhow::Result<()> {
    ensure!(args.picks >= 1, "need at least one pick");
    ensure!(
        cfg!(not(debug_assertions)),
        "benchmarks need an optimized build: cargo run --release -p cli -- bench sched"
    );
    // Warm-up (untimed), so the first client count is not measured on a cold CPU and cache, which would
    // flatter the growth ratio.
    time_sched(&stakes(CLIENT_COUNTS[0]), args.picks)?;
    let mut rows = Vec::with_capacity(CLIENT_COUNTS.len());
    for n in CLIENT_COUNTS {
        rows.push(measure(n, args.picks)?);
    }
    let growth = rows[2].sched_ns_per_pick / rows[0].sched_ns_per_pick;
    let growth_equal = rows[2].sched_equal_stakes_ns_per_pick / rows[0].sched_equal_stakes_ns_per_pick;
    let report = SchedReport {
        meets_rate_target: rows[2].sched_picks_per_s >= TARGET_PICKS_PER_S,
        rows,
        growth_ns_per_pick_100000_vs_10: growth,
        growth_equal_stakes_100000_vs_10: growth_equal,
        target_picks_per_s_at_100000: TARGET_PICKS_PER_S,
        target_growth_max: TARGET_GROWTH_MAX,
        meets_growth_target: growth <= TARGET_GROWTH_MAX,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn measure(n: usize, picks: usize) -> anyhow::Result<SchedRow> {
    let stakes = stakes(n);
    eprintln!("sched: {n} clients, {picks} picks …");
    let varied = time_sched(&stakes, picks)?;
    eprintln!("sched: {n} clients with equal stakes, {picks} picks …");
    let equal = time_sched(&vec![STAKE_MAX.into(); n], picks)?;
    let nginx_picks = (NGINX_VISITS / n).max(NGINX_PICKS_MIN).min(picks);
    eprintln!("nginx smooth weighted round-robin: {n} peers, {nginx_picks} picks …");
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
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            u128::from(1 + state.wrapping_mul(0x2545_F491_4F6C_DD1D) % STAKE_MAX)
        })
        .collect()
}

fn client_id(i: usize) -> AccountId {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&(i as u64).to_le_bytes());
    AccountId(id)
}

/// Times `picks` picks with every client kept backlogged; pushes (the initial fill and the refills between
/// chunks) are not timed. The payload is the client's index, so refilling needs no lookup.
fn time_sched(stakes: &[u128], picks: usize) -> anyhow::Result<SchedRun> {
    let ids: Vec<AccountId> = (0..stakes.len()).map(client_id).collect();
    let mut s: Scheduler<u32> = Scheduler::new(1);
    for (i, (&id, &stake)) in ids.iter().zip(stakes).enumerate() {
        for _ in 0..=CHUNK {
            s.push(id, stake, i as u32)?;
        }
    }
    let mut served = [0u32; CHUNK];
    let mut elapsed = Duration::ZERO;
    let (mut done, mut turns, mut last) = (0, 0, u32::MAX);
    while done < picks {
        let chunk = &mut served[..CHUNK.min(picks - done)];
        let started = Instant::now();
        for slot in chunk.iter_mut() {
            let Some((_, client)) = s.pick() else { bail!("a benchmark client ran out of requests") };
            *slot = client;
        }
        elapsed += started.elapsed();
        for &client in chunk.iter() {
            if client != last {
                turns += 1;
                last = client;
            }
            let i = client as usize;
            s.push(ids[i], stakes[i], client)?;
        }
        done += chunk.len();
    }
    ensure!(s.backlogged_clients() == stakes.len(), "every benchmark client stays backlogged");
    Ok(SchedRun { elapsed, turns })
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

fn print_table(report: &SchedReport) {
    outln!("sched benchmark: stake-weighted picks, one core; stakes 1..=1000 pseudo-random, every client backlogged");
    outln!(
        "{:>9}  {:>14}  {:>9}  {:>10}  {:>13}  {:>14}  {:>13}  {:>11}",
        "clients",
        "sched picks/s",
        "ns/pick",
        "picks/turn",
        "equal ns/pick",
        "nginx picks/s",
        "nginx ns/pick",
        "sched/nginx"
    );
    for r in &report.rows {
        outln!(
            "{:>9}  {:>14.0}  {:>9.1}  {:>10.1}  {:>13.1}  {:>14.0}  {:>13.1}  {:>10.1}×",
            r.clients,
            r.sched_picks_per_s,
            r.sched_ns_per_pick,
            r.sched_picks_per_turn,
            r.sched_equal_stakes_ns_per_pick,
            r.nginx_picks_per_s,
            r.nginx_ns_per_pick,
            r.sched_vs_nginx
        );
    }
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    outln!(
        "growth of ns/pick, 100,000 vs 10 clients: {:.2}×  target ≤ {:.0}×: {}  (equal stakes: {:.2}×)",
        report.growth_ns_per_pick_100000_vs_10,
        report.target_growth_max,
        met(report.meets_growth_target),
        report.growth_equal_stakes_100000_vs_10
    );
    outln!(
        "sched at 100,000 clients: {:.0} picks/s  target ≥ 10,000,000: {}",
        report.rows[2].sched_picks_per_s,
        met(report.meets_rate_target)
    );
    outln!("(picks/turn = stake ÷ minimum stake on average; \"equal\" = all stakes equal, a new client every pick)");
}
