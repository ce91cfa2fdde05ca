//! stakework's benchmarks, behind `stakework bench …`. Each one measures a figure and a baseline in the
//! same process (so machine noise affects both alike) and returns a typed report; the CLI prints it as
//! text or JSON. Benchmarks are timed only when the CLI runs them, never in tests: the tests here run
//! them on tiny inputs for what they check, not for their figures.
//!
//! - [`ledger`]: transfers applied per second by the engine against a bare hash map, and ed25519
//!   verification single against batched;
//! - [`node`]: committed transfers per second through a real node process, with commit latency;
//! - [`network`]: finalized transfers per second through validator processes, with finality latency,
//!   against one node loaded the same way;
//! - [`sched`]: the miner's stake-weighted queue against nginx's smooth weighted round-robin;
//! - [`rewards`]: epoch miner-reward settlement against a naive floor split;
//! - [`poi`]: Proof-of-Inference evaluations against a straightforward embedder;
//! - [`fork`]: verifying a block on a fork of the engine's state and committing it, against a full copy.

pub mod command;
pub mod fork;
pub mod ledger;
pub mod network;
pub mod node;
pub mod poi;
pub mod rewards;
pub mod sched;
pub mod text;

/// Why a benchmark did not produce figures.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The settings cannot make a run; nothing was measured.
    #[error("{0}")]
    Settings(String),
    /// Something the benchmark checks went wrong: a rejected transfer, a signature that did not verify,
    /// a broken invariant. The figures would mean nothing.
    #[error("{0}")]
    Check(String),
    /// A step failed (a genesis, a request to the node), with what was being done.
    #[error("{step}: {cause}")]
    Step { step: &'static str, cause: String },
}

/// Fail with [`BenchError::Check`] unless `ok`.
fn check(ok: bool, what: &str) -> Result<(), BenchError> {
    if ok {
        Ok(())
    } else {
        Err(BenchError::Check(what.to_string()))
    }
}

/// A failed step as a [`BenchError::Step`].
fn step<E: std::fmt::Display>(step: &'static str) -> impl FnOnce(E) -> BenchError {
    move |e| BenchError::Step { step, cause: e.to_string() }
}

/// Where a benchmark reports how far it got (the CLI: a line on stderr; tests: nowhere).
pub trait Progress {
    /// `done` of `total` items of a long step (signing, deriving keys).
    fn count(&mut self, label: &str, done: usize, total: usize);
    /// A phase begins.
    fn phase(&mut self, text: &str);
}

/// Progress on stderr, as `stakework bench` shows it: a counter rewritten in place (every 5%), and a
/// line per phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl Progress for Stderr {
    fn count(&mut self, label: &str, done: usize, total: usize) {
        use std::io::Write;
        if done % (total / 20).max(1) == 0 || done == total {
            eprint!("\r{label}: {done}/{total} ({:.0}%)   ", 100.0 * done as f64 / total.max(1) as f64);
            if done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    }
    fn phase(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn count(&mut self, _: &str, _: usize, _: usize) {}
    fn phase(&mut self, _: &str) {}
}

/// The median of `v` (the upper one of an even count); 0 when empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The `p` quantile (0..=1) of sorted `v`, the nearest rank; 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// xorshift64*: a fixed, seedable sequence, so runs are comparable.
fn next_rand(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// A synthetic account id with `i` in its first bytes.
fn numbered_id(i: usize) -> types::AccountId {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&(i as u64).to_le_bytes());
    types::AccountId(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_percentiles_pick_the_right_rank() {
        assert_eq!(median(vec![5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(median(Vec::new()), 0.0);
        let v: Vec<f64> = (1..=101).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 51.0);
        assert_eq!(percentile(&v, 0.99), 100.0);
        assert_eq!(percentile(&v, 1.0), 101.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn the_sequence_is_fixed_by_its_seed() {
        let (mut a, mut b) = (1u64, 1u64);
        let xs: Vec<u64> = (0..4).map(|_| next_rand(&mut a)).collect();
        assert_eq!(xs, (0..4).map(|_| next_rand(&mut b)).collect::<Vec<_>>());
        assert!(xs.windows(2).all(|w| w[0] != w[1]));
    }
}
