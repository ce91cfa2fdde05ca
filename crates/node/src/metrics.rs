//! Counters for `/metrics`, in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Metrics {
    pub txs_admitted: AtomicU64,
    pub txs_refused: AtomicU64,
    pub txs_committed: AtomicU64,
    pub txs_rejected_in_block: AtomicU64,
    pub blocks_sealed: AtomicU64,
    pub seal_micros_total: AtomicU64,
    pub http_requests: AtomicU64,
    pub http_client_errors: AtomicU64,
}

impl Metrics {
    pub fn render(&self, height: u64, mempool: usize) -> String {
        let mut s = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ =
                writeln!(s, "# HELP stakework_{name} {help}\n# TYPE stakework_{name} counter\nstakework_{name} {v}");
        };
        counter("txs_admitted_total", "Transactions admitted to the mempool.", self.txs_admitted.load(Relaxed));
        counter("txs_refused_total", "Transactions refused at the door.", self.txs_refused.load(Relaxed));
        counter("txs_committed_total", "Transactions included in durable blocks.", self.txs_committed.load(Relaxed));
        counter(
            "txs_rejected_in_block_total",
            "Included transactions whose receipt is a rejection.",
            self.txs_rejected_in_block.load(Relaxed),
        );
        counter("blocks_sealed_total", "Blocks sealed and made durable.", self.blocks_sealed.load(Relaxed));
        counter("http_requests_total", "HTTP requests served.", self.http_requests.load(Relaxed));
        counter(
            "http_client_errors_total",
            "HTTP requests answered with a 4xx.",
            self.http_client_errors.load(Relaxed),
        );
        let seal = self.seal_micros_total.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(s, "# HELP stakework_block_seal_seconds_total Time spent executing and persisting blocks.\n# TYPE stakework_block_seal_seconds_total counter\nstakework_block_seal_seconds_total {seal:.6}");
        let _ = writeln!(s, "# HELP stakework_height Height of the last durable block.\n# TYPE stakework_height gauge\nstakework_height {height}");
        let _ = writeln!(s, "# HELP stakework_mempool_txs Transactions waiting.\n# TYPE stakework_mempool_txs gauge\nstakework_mempool_txs {mempool}");
        s
    }
}
