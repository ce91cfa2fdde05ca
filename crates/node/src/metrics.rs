//! The node's metrics, kept with `prometheus-client` and served at `/metrics` in the OpenMetrics text
//! format. Every name, label and meaning is listed in docs/METRICS.md; the Grafana dashboard in
//! `deploy/grafana/stakework.json` queries them, and the CLI's `metrics` test fails if one it queries is
//! not exported.
//!
//! The gauges that mirror state (height, mempool size) are set when `/metrics` is read, so they are
//! never stale; the rest are updated where the event happens. In consensus mode the validator reports
//! through [`bft::Telemetry`], which this type implements. No rule reads a metric.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use types::AccountId;

/// The content type of `/metrics` (as `api::ROUTES` declares it).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where a transaction was turned down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Refused at the door (`POST /v1/txs`): never entered the mempool.
    Admission,
    /// Included in a block whose receipt is a rejection.
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RejectionLabels {
    code: String,
    stage: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ValidatorLabels {
    validator: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct VoteLabels {
    validator: String,
    vote: &'static str,
}

/// Every metric the node exports, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    txs_admitted: Counter,
    txs_refused: Counter,
    txs_committed: Counter,
    txs_rejected_in_block: Counter,
    blocks_sealed: Counter,
    block_seal_seconds: Counter<f64, AtomicU64>,
    http_requests: Counter,
    http_client_errors: Counter,
    rejections: Family<RejectionLabels, Counter>,
    block_execution: Histogram,
    block_fsync: Histogram,
    finality: Histogram,
    submit_to_commit: Histogram,
    height: Gauge,
    finalized_height: Gauge,
    mempool: Gauge,
    peers: Gauge,
    proposals: Family<ValidatorLabels, Counter>,
    votes: Family<VoteLabels, Counter>,
}

/// Buckets from 100 µs to about 52 s, each twice the last.
fn seconds_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.000_1, 2.0, 20)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("stakework");
        let counter = |r: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            r.register(name, help, c.clone());
            c
        };
        let gauge = |r: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            r.register(name, help, g.clone());
            g
        };
        let histogram = |r: &mut Registry, name: &str, help: &str| {
            let h = Histogram::new(seconds_buckets());
            r.register_with_unit(name, help, Unit::Seconds, h.clone());
            h
        };
        let block_seal_seconds = Counter::<f64, AtomicU64>::default();
        r.register_with_unit(
            "block_seal",
            "Time spent executing and persisting blocks (single-node mode)",
            Unit::Seconds,
            block_seal_seconds.clone(),
        );
        let rejections = Family::<RejectionLabels, Counter>::default();
        r.register("tx_rejections", "Transactions turned down, by stable code and stage", rejections.clone());
        let proposals = Family::<ValidatorLabels, Counter>::default();
        r.register("proposals", "Proposals seen, by the validator that led the view", proposals.clone());
        let votes = Family::<VoteLabels, Counter>::default();
        r.register("votes", "Verified consensus votes seen, by validator and kind", votes.clone());
        Metrics {
            txs_admitted: counter(&mut r, "txs_admitted", "Transactions admitted to the mempool"),
            txs_refused: counter(&mut r, "txs_refused", "Transactions refused at the door"),
            txs_committed: counter(&mut r, "txs_committed", "Transactions included in durable blocks"),
            txs_rejected_in_block: counter(
                &mut r,
                "txs_rejected_in_block",
                "Included transactions whose receipt is a rejection",
            ),
            blocks_sealed: counter(&mut r, "blocks_sealed", "Blocks made durable"),
            http_requests: counter(&mut r, "http_requests", "HTTP requests served"),
            http_client_errors: counter(&mut r, "http_client_errors", "HTTP requests answered with a 4xx"),
            block_execution: histogram(&mut r, "block_execution", "Engine time to build or verify a block"),
            block_fsync: histogram(&mut r, "block_fsync", "Time of a block's durable write (store append with fsync)"),
            finality: histogram(
                &mut r,
                "finality",
                "From a block's proposal (first notarize seen; the seal in single-node mode) to its finalization",
            ),
            submit_to_commit: histogram(
                &mut r,
                "submit_to_commit",
                "From a transaction's admission into this node's mempool to its block being durable",
            ),
            height: gauge(&mut r, "height", "Height of the last durable block"),
            finalized_height: gauge(
                &mut r,
                "finalized_height",
                "Newest finalized height known (marshal's tip in consensus mode; the durable height otherwise)",
            ),
            mempool: gauge(&mut r, "mempool_txs", "Transactions waiting"),
            peers: gauge(&mut r, "peers", "Other validators the p2p network is connected to (0 in single-node mode)"),
            block_seal_seconds,
            rejections,
            proposals,
            votes,
            registry: r,
        }
    }

    /// A transaction entered the mempool.
    pub fn admitted(&self) {
        self.txs_admitted.inc();
    }

    /// A transaction was refused at the door with `code`.
    pub fn refused(&self, code: &str) {
        self.txs_refused.inc();
        self.rejected(code, Stage::Admission);
    }

    fn rejected(&self, code: &str, stage: Stage) {
        let stage = match stage {
            Stage::Admission => "admission",
            Stage::Block => "block",
        };
        self.rejections.get_or_create(&RejectionLabels { code: code.to_string(), stage }).inc();
    }

    /// An HTTP answer with `status`.
    pub fn http_answered(&self, status: axum::http::StatusCode) {
        self.http_requests.inc();
        if status.is_client_error() {
            self.http_client_errors.inc();
        }
    }

    /// A block became durable: its receipts' codes, how long its write took, and when each of its
    /// transactions this node admitted was admitted.
    pub fn block_durable<'a>(
        &self,
        codes: impl Iterator<Item = &'a str>,
        fsync: Duration,
        admitted: &[Instant],
        height: u64,
    ) {
        self.blocks_sealed.inc();
        let mut n = 0;
        for code in codes {
            n += 1;
            if code != "ok" {
                self.txs_rejected_in_block.inc();
                self.rejected(code, Stage::Block);
            }
        }
        self.txs_committed.inc_by(n);
        self.block_fsync.observe(fsync.as_secs_f64());
        for since in admitted {
            self.submit_to_commit.observe(since.elapsed().as_secs_f64());
        }
        self.height.set(height as i64);
    }

    /// Single-node mode: the sequencer sealed a block, `execution` in the engine, `total` from the start of
    /// the seal to durable (its finality: nothing else has to agree).
    pub fn sealed(&self, execution: Duration, total: Duration, height: u64) {
        self.block_execution.observe(execution.as_secs_f64());
        self.finality.observe(total.as_secs_f64());
        self.block_seal_seconds.inc_by(total.as_secs_f64());
        self.finalized_height.set(height as i64);
    }

    /// The Prometheus text, with the gauges that mirror state set first.
    pub fn render(&self, height: u64, mempool: usize) -> String {
        self.height.set(height as i64);
        self.mempool.set(mempool as i64);
        if self.finalized_height.get() < height as i64 {
            self.finalized_height.set(height as i64);
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// What the validator reports, in consensus mode; with the reporter that turns the equivocations it
/// observes into evidence transactions signed by the validator key.
pub(crate) struct Telemetry(pub std::sync::Arc<crate::Shared>, pub bft::Reporter);

impl bft::Telemetry for Telemetry {
    fn block_executed(&self, elapsed: Duration) {
        self.0.metrics.block_execution.observe(elapsed.as_secs_f64());
    }

    fn proposal(&self, proposer: AccountId) {
        self.0.metrics.proposals.get_or_create(&ValidatorLabels { validator: proposer.to_hex() }).inc();
    }

    fn vote(&self, vote: bft::Vote, validator: AccountId) {
        let labels = VoteLabels { validator: validator.to_hex(), vote: vote.as_str() };
        self.0.metrics.votes.get_or_create(&labels).inc();
    }

    fn finality(&self, elapsed: Duration) {
        self.0.metrics.finality.observe(elapsed.as_secs_f64());
    }

    fn finalized_tip(&self, height: u64) {
        self.0.metrics.finalized_height.set(height as i64);
    }

    fn peers(&self, connected: usize) {
        self.0.metrics.peers.set(connected as i64);
    }

    fn equivocation(&self, evidence: engine::protocol::Equivocation) {
        crate::consensus::report_equivocation(&self.0, &self.1, &evidence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_counted_by_code_and_stage() {
        let m = Metrics::new();
        m.refused("bad_nonce");
        m.refused("bad_nonce");
        m.block_durable(["ok", "insufficient_funds"].into_iter(), Duration::from_millis(2), &[Instant::now()], 1);
        let text = m.render(1, 0);
        assert!(text.contains("stakework_tx_rejections_total{code=\"bad_nonce\",stage=\"admission\"} 2"), "{text}");
        assert!(
            text.contains("stakework_tx_rejections_total{code=\"insufficient_funds\",stage=\"block\"} 1"),
            "{text}"
        );
        assert!(text.contains("stakework_txs_committed_total 2"), "{text}");
        assert!(text.contains("stakework_block_fsync_seconds_count 1"), "{text}");
        assert!(text.contains("stakework_submit_to_commit_seconds_count 1"), "{text}");
        assert!(text.contains("stakework_height 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn the_old_counter_names_stay() {
        let m = Metrics::new();
        m.sealed(Duration::from_millis(1), Duration::from_millis(3), 1);
        let text = m.render(1, 0);
        for name in [
            "stakework_txs_admitted_total",
            "stakework_txs_refused_total",
            "stakework_txs_rejected_in_block_total",
            "stakework_blocks_sealed_total",
            "stakework_block_seal_seconds_total",
            "stakework_http_requests_total",
            "stakework_http_client_errors_total",
            "stakework_mempool_txs",
        ] {
            assert!(text.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} missing:\n{text}");
        }
    }
}
