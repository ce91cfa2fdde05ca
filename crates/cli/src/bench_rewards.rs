//! `stakework bench rewards`: epoch miner-reward settlement for many miners, through the engine's compute
//! step (`compute_miner_rewards`: scores, exact largest-remainder split) and the ledger's transfers, the
//! same two steps the engine's epoch hook takes. Baseline in the same process: a naive floor split
//! without remainder handling or ordering (which leaves units stranded), applied the same way.

use anyhow::ensure;
use clap::Args;
use engine::compute_miner_rewards;
use ledger::Ledger;
use serde::Serialize;
use std::time::Instant;
use types::{mul_div_floor, AccountId, Amount, Ppb};

#[derive(Debug, Args)]
pub struct RewardsArgs {
    /// Miners with work in the epoch.
    #[arg(long, default_value_t = 100_000)]
    pub miners: usize,
    /// Timed runs; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    miners: usize,
    settle_ms_median: f64,
    compute_ms_median: f64,
    baseline_ms_median: f64,
    ratio_vs_baseline: f64,
    target_ms: f64,
    meets_target: bool,
    baseline_stranded_units: u128,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn id(i: usize) -> AccountId {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&(i as u64).to_le_bytes());
    AccountId(b)
}

pub fn run(args: &RewardsArgs, json: bool) -> anyhow::Result<()> {
    ensure!(
        cfg!(not(debug_assertions)),
        "benchmarks need an optimized build: cargo run --release --bin stakework -- bench rewards"
    );
    ensure!(args.miners >= 1 && args.runs >= 1, "need at least one miner and one run");
    let pool = AccountId::system(engine::MINERS_POOL_NAME);
    let pot = Amount(1_000_000_000_000_000);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let work: Vec<(AccountId, Ppb, u128)> = (0..args.miners)
        .map(|i| (id(i), Ppb::new((next() % 1_000_000_000) as u32).unwrap_or(Ppb::ONE), u128::from(1 + next() % 1_000)))
        .collect();
    let fresh_ledger = || -> anyhow::Result<Ledger> {
        let mut l = Ledger::new();
        l.add_genesis_account(pool, pot, Amount::ZERO)?;
        for (m, _, _) in &work {
            l.add_genesis_account(*m, Amount::ZERO, Amount(1_000))?;
        }
        Ok(l)
    };
    let (mut settle, mut compute, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    let mut stranded = 0;
    for _ in 0..args.runs {
        let mut l = fresh_ledger()?;
        let t = Instant::now();
        let plan = compute_miner_rewards(pot, &work);
        compute.push(t.elapsed().as_secs_f64() * 1e3);
        for r in &plan {
            l.transfer(pool, r.miner, r.amount)?;
        }
        settle.push(t.elapsed().as_secs_f64() * 1e3);
        ensure!(l.free(&pool).is_zero(), "the exact split must pay out the whole pot");
        l.check_invariants()?;

        let mut l = fresh_ledger()?;
        let t = Instant::now();
        let scores: Vec<u128> = work.iter().map(|(_, r, v)| v * u128::from(r.raw())).collect();
        let total: u128 = scores.iter().sum();
        for ((m, _, _), s) in work.iter().zip(&scores) {
            let (part, _) = mul_div_floor(pot.0, *s, total).unwrap_or((0, 0));
            if part > 0 {
                l.transfer(pool, *m, Amount(part))?;
            }
        }
        baseline.push(t.elapsed().as_secs_f64() * 1e3);
        stranded = l.free(&pool).0;
    }
    let r = Report {
        miners: args.miners,
        settle_ms_median: median(settle),
        compute_ms_median: median(compute),
        baseline_ms_median: median(baseline),
        ratio_vs_baseline: 0.0,
        target_ms: 100.0,
        meets_target: false,
        baseline_stranded_units: stranded,
    };
    let r = Report {
        ratio_vs_baseline: r.settle_ms_median / r.baseline_ms_median,
        meets_target: r.settle_ms_median < 100.0,
        ..r
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        outln!("epoch miner-reward settlement, {} miners, median of {} runs, one core", r.miners, args.runs);
        outln!(
            "  exact (compute + apply):  {:>8.1} ms  (compute {:.1} ms)  target < 100 ms: {}",
            r.settle_ms_median,
            r.compute_ms_median,
            if r.meets_target { "met" } else { "NOT met" }
        );
        outln!(
            "  baseline naive floor:     {:>8.1} ms  (exact = {:.2}× baseline; the baseline strands {} base units)",
            r.baseline_ms_median,
            r.ratio_vs_baseline,
            r.baseline_stranded_units
        );
    }
    Ok(())
}
