//! The reports as the CLI prints them in text mode: a few lines each, figures with their target and the
//! ratio against the baseline. Floats are formatted here, for display only.

use crate::sched::SchedReport;
use crate::{fork::ForkReport, ledger::LedgerReport, network::NetworkReport, node::NodeReport};
use crate::{poi::PoiReport, rewards::RewardsReport};
use std::fmt::Write;

/// Lines written with `line!`, joined by newlines (no newline after the last).
macro_rules! lines {
    ($($fmt:literal $(, $arg:expr)* ;)*) => {{
        let mut out = String::new();
        $( let _ = writeln!(out, $fmt $(, $arg)*); )*
        out.pop();
        out
    }};
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

impl LedgerReport {
    /// The report as `stakework bench ledger` prints it.
    pub fn text(&self) -> String {
        let r = self;
        lines! {
            "ledger benchmark: {} accounts, blocks of {} transfers, {} transfers, one core", r.accounts, r.block_txs, r.transfers;
            "  engine apply (fees, nonces, events, state root): {:>12.0} transfers/s  ({:.0} ns each)  target ≥ 1,000,000: {}", r.apply_transfers_per_s, r.apply_ns_per_transfer, met(r.meets_target);
            "  baseline: bare HashMap (ahash) debit+credit:     {:>12.0} transfers/s  (engine = {:.2}× baseline)", r.baseline_hashmap_transfers_per_s, r.apply_vs_baseline;
            "  ed25519 verify_strict, one by one:               {:>12.0} signatures/s", r.verify_single_per_s;
            "  ed25519 batch verification:                      {:>12.0} signatures/s  (batch = {:.2}× single)", r.verify_batch_per_s, r.batch_vs_single;
        }
    }
}

impl NodeReport {
    /// The report as `stakework bench node` prints it.
    pub fn text(&self) -> String {
        let r = self;
        let p99 = if r.p99_within_two_blocks { "yes" } else { "no" };
        lines! {
            "node benchmark: {} transfers, {} connections × batches of {}, block every {} ms, fsync per block", r.submitted, r.connections, r.batch, r.block_ms;
            "  committed:            {} of {} in {:.2} s", r.committed, r.submitted, r.seconds;
            "  committed transfers/s: {:>10.0}   target ≥ 20,000: {}", r.committed_per_s, met(r.meets_target);
            "  commit latency (per batch, submit → receipt): p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms; p99 ≤ 2 blocks: {}", r.latency_ms_p50, r.latency_ms_p90, r.latency_ms_p99, r.latency_ms_max, p99;
            "  node: {} blocks, mean seal (execute + fsynced append) {:.1} ms", r.blocks, r.seal_ms_mean;
            "  bound: one core verifies {:.0} signatures/s (verify_strict); committed = {:.2}× that", r.verify_single_core_per_s, r.committed_vs_single_core_verify;
        }
    }
}

impl NetworkReport {
    /// The report as `stakework bench network` prints it.
    pub fn text(&self) -> String {
        let (r, b) = (self, &self.baseline);
        lines! {
            "network benchmark: {} validators on loopback sharing this machine's cores, {} transfers, {} connections × batches of {} spread over the validators, block every {} ms", r.validators, r.submitted, r.connections, r.batch, r.block_ms;
            "  finalized:             {} of {} in {:.2} s; {} blocks, {:.0} transfers a block; all validators serve the same block {}", r.finalized, r.submitted, r.seconds, r.blocks, r.txs_per_block_mean, r.agreed_height;
            "  finalized transfers/s: {:>10.0}   target ≥ 10,000: {}", r.finalized_per_s, met(r.meets_rate_target);
            "  finality latency (per batch, submit → finalized receipt): p50 {:.0} ms (target ≤ 300: {}), p90 {:.0} ms, p99 {:.0} ms (target ≤ 1,000: {}), max {:.0} ms", r.latency_ms_p50, met(r.meets_p50_target), r.latency_ms_p90, r.latency_ms_p99, met(r.meets_p99_target), r.latency_ms_max;
            "  baseline, one node (the bench node path, same transfers): {:.0} committed/s, p50 {:.0} ms, p99 {:.0} ms; {} blocks, mean seal {:.1} ms", b.committed_per_s, b.latency_ms_p50, b.latency_ms_p99, b.blocks, b.seal_ms_mean;
            "  network = {:.2}× one node; one core verifies {:.0} signatures/s (verify_strict)", r.finalized_vs_single_node, b.verify_single_core_per_s;
        }
    }
}

impl SchedReport {
    /// The report as `stakework bench sched` prints it: a row per client count.
    pub fn text(&self) -> String {
        let mut out = lines! {
            "sched benchmark: stake-weighted picks, one core; stakes 1..=1000 pseudo-random, every client backlogged";
            "{:>9}  {:>14}  {:>9}  {:>10}  {:>13}  {:>14}  {:>13}  {:>11}", "clients", "sched picks/s", "ns/pick", "picks/turn", "equal ns/pick", "nginx picks/s", "nginx ns/pick", "sched/nginx";
        };
        for r in &self.rows {
            let _ = write!(
                out,
                "\n{:>9}  {:>14.0}  {:>9.1}  {:>10.1}  {:>13.1}  {:>14.0}  {:>13.1}  {:>10.1}×",
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
        let rate = self.rows.get(2).map_or(0.0, |r| r.sched_picks_per_s);
        let tail = lines! {
            "growth of ns/pick, 100,000 vs 10 clients: {:.2}×  target ≤ {:.0}×: {}  (equal stakes: {:.2}×)", self.growth_ns_per_pick_100000_vs_10, self.target_growth_max, met(self.meets_growth_target), self.growth_equal_stakes_100000_vs_10;
            "sched at 100,000 clients: {:.0} picks/s  target ≥ 10,000,000: {}", rate, met(self.meets_rate_target);
            "(picks/turn = stake ÷ minimum stake on average; \"equal\" = all stakes equal, a new client every pick)";
        };
        format!("{out}\n{tail}")
    }
}

impl RewardsReport {
    /// The report as `stakework bench rewards` prints it, for a median of `runs` runs.
    pub fn text(&self, runs: usize) -> String {
        let r = self;
        lines! {
            "epoch miner-reward settlement, {} miners, median of {} runs, one core", r.miners, runs;
            "  exact (compute + apply):  {:>8.1} ms  (compute {:.1} ms)  target < 100 ms: {}", r.settle_ms_median, r.compute_ms_median, met(r.meets_target);
            "  baseline naive floor:     {:>8.1} ms  (exact = {:.2}× baseline; the baseline strands {} base units)", r.baseline_ms_median, r.ratio_vs_baseline, r.baseline_stranded_units;
        }
    }
}

impl PoiReport {
    /// The report as `stakework bench poi` prints it.
    pub fn text(&self) -> String {
        let r = self;
        lines! {
            "PoI benchmark: k = {} outputs of {} bytes per task, one core", r.outputs_per_task, r.output_bytes;
            "  task evaluations (embed all + verdict): {:>10.0}/s   target ≥ 10,000: {}", r.evaluations_per_s, met(r.meets_target);
            "  integer n-gram embedder:                {:>10.1} MB/s", r.embed_mb_per_s;
            "  baseline (string trigrams, hash map, f64): {:>7.0}/s   (integer = {:.1}× baseline)", r.baseline_evaluations_per_s, r.speedup_vs_baseline;
        }
    }
}

impl ForkReport {
    /// The report as `stakework bench fork` prints it.
    pub fn text(&self) -> String {
        let r = self;
        lines! {
            "fork benchmark: {} accounts, blocks of {} transfers, median of {} blocks", r.accounts, r.txs_per_block, r.blocks;
            "  fork + apply + commit:        {:>9.2} ms per block  (fork alone {:.1} µs)", r.fork_apply_commit_ms_median, r.fork_us_median;
            "  baseline copy + apply + keep: {:>9.2} ms per block  (full copy alone {:.2} ms; fork = {:.1}× cheaper)", r.clone_apply_keep_ms_median, r.deep_clone_ms_median, r.ratio_vs_baseline;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::poi::PoiReport;

    #[test]
    fn a_report_prints_its_figures_and_whether_the_target_is_met() {
        let r = PoiReport {
            outputs_per_task: 5,
            output_bytes: 1024,
            evaluations_per_s: 12_345.6,
            embed_mb_per_s: 80.25,
            baseline_evaluations_per_s: 1_000.0,
            speedup_vs_baseline: 12.3456,
            target_evaluations_per_s: 10_000.0,
            meets_target: true,
        };
        let text = r.text();
        assert_eq!(text.lines().count(), 4);
        assert!(!text.ends_with('\n'));
        assert_eq!(
            text.lines().nth(1),
            Some("  task evaluations (embed all + verdict):      12346/s   target ≥ 10,000: met")
        );
        assert!(text.ends_with("(integer = 12.3× baseline)"));
    }
}
