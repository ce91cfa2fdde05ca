//! The rewards benchmark: epoch miner-reward settlement for many miners, through the engine's compute
//! step (`compute_miner_rewards`: scores, exact largest-remainder split) and the ledger's transfers, the
//! same two steps the engine's epoch hook takes. Baseline in the same process: a naive floor split
//! without remainder handling or ordering (which leaves units stranded), applied the same way.

use crate::{check, median, numbered_id, step, BenchError};
use engine::compute_miner_rewards;
use ledger::Ledger;
use serde::Serialize;
use std::time::Instant;
use types::{mul_div_floor, AccountId, Amount, Ppb};

/// Target (issue 4): settling 100,000 miners, in milliseconds.
pub const TARGET_MS: f64 = 100.0;
/// The epoch's pot in base units.
const POT: Amount = Amount(1_000_000_000_000_000);

/// The figures; serialized as `stakework bench rewards --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct RewardsReport {
    pub miners: usize,
    pub settle_ms_median: f64,
    pub compute_ms_median: f64,
    pub baseline_ms_median: f64,
    pub ratio_vs_baseline: f64,
    pub target_ms: f64,
    pub meets_target: bool,
    pub baseline_stranded_units: u128,
}

/// Each miner's (account, reputation, weighted work).
type Work = Vec<(AccountId, Ppb, u128)>;

/// Settle `miners` miners' rewards `runs` times, exactly and naively; medians of each.
pub fn run(miners: usize, runs: usize) -> Result<RewardsReport, BenchError> {
    if miners < 1 || runs < 1 {
        return Err(BenchError::Settings("need at least one miner and one run".into()));
    }
    let pool = AccountId::system(engine::MINERS_POOL_NAME);
    let work = work(miners);
    let (mut settle, mut compute, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    let mut stranded = 0;
    for _ in 0..runs {
        let (compute_ms, settle_ms) = time_exact(&mut fresh_ledger(pool, &work)?, pool, &work)?;
        compute.push(compute_ms);
        settle.push(settle_ms);
        let mut l = fresh_ledger(pool, &work)?;
        baseline.push(time_naive(&mut l, pool, &work)?);
        stranded = l.free(&pool).0;
    }
    let (settle_ms_median, baseline_ms_median) = (median(settle), median(baseline));
    Ok(RewardsReport {
        miners,
        settle_ms_median,
        compute_ms_median: median(compute),
        baseline_ms_median,
        ratio_vs_baseline: settle_ms_median / baseline_ms_median,
        target_ms: TARGET_MS,
        meets_target: settle_ms_median < TARGET_MS,
        baseline_stranded_units: stranded,
    })
}

/// Pseudo-random reputations and work (xorshift64 with a fixed seed), so runs are comparable.
fn work(miners: usize) -> Work {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..miners)
        .map(|i| {
            let reputation = Ppb::new((next() % 1_000_000_000) as u32).unwrap_or(Ppb::ONE);
            (numbered_id(i), reputation, u128::from(1 + next() % 1_000))
        })
        .collect()
}

/// A ledger with the pot in the pool and every miner bonded.
fn fresh_ledger(pool: AccountId, work: &Work) -> Result<Ledger, BenchError> {
    let mut l = Ledger::new();
    l.add_genesis_account(pool, POT, Amount::ZERO).map_err(step("funding the pool"))?;
    for (m, _, _) in work {
        l.add_genesis_account(*m, Amount::ZERO, Amount(1_000)).map_err(step("adding a miner"))?;
    }
    Ok(l)
}

/// The exact settlement: milliseconds to compute the plan, and to compute and apply it. The whole pot
/// must be paid out.
fn time_exact(l: &mut Ledger, pool: AccountId, work: &Work) -> Result<(f64, f64), BenchError> {
    let t = Instant::now();
    let plan = compute_miner_rewards(POT, work);
    let compute_ms = t.elapsed().as_secs_f64() * 1e3;
    for r in &plan {
        l.transfer(pool, r.miner, r.amount).map_err(step("paying a miner"))?;
    }
    let settle_ms = t.elapsed().as_secs_f64() * 1e3;
    check(l.free(&pool).is_zero(), "the exact split must pay out the whole pot")?;
    l.check_invariants().map_err(step("invariants after the settlement"))?;
    Ok((compute_ms, settle_ms))
}

/// The naive floor split applied the same way: milliseconds.
fn time_naive(l: &mut Ledger, pool: AccountId, work: &Work) -> Result<f64, BenchError> {
    let t = Instant::now();
    let scores: Vec<u128> = work.iter().map(|(_, r, v)| v * u128::from(r.raw())).collect();
    let total: u128 = scores.iter().sum();
    for ((m, _, _), s) in work.iter().zip(&scores) {
        let (part, _) = mul_div_floor(POT.0, *s, total).unwrap_or((0, 0));
        if part > 0 {
            l.transfer(pool, *m, Amount(part)).map_err(step("paying a miner"))?;
        }
    }
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_split_pays_the_whole_pot_and_the_naive_one_strands_units() {
        let r = run(1_000, 1).expect("a small run");
        assert_eq!(r.miners, 1_000);
        assert!(r.baseline_stranded_units > 0, "flooring 1,000 shares leaves a remainder");
        assert!(r.baseline_stranded_units < 1_000, "at most one unit per miner");
        assert!(r.compute_ms_median <= r.settle_ms_median);
    }

    #[test]
    fn no_miners_is_refused() {
        assert!(matches!(run(0, 1), Err(BenchError::Settings(_))));
    }
}
