//! The benchmarks that start node processes, end to end on tiny sizes: they run and their checks hold.
//! Nothing here is timed (`stakework bench` refuses a debug build; the library does not).

use crate::support::BIN;
use bench::network::{run_process, NetworkConfig};
use bench::node::NodeConfig;
use std::path::Path;

#[test]
fn bench_network_finalizes_every_transfer_on_four_validators_and_on_the_baseline_node() {
    let _alone = crate::support::validators_lock();
    let node = NodeConfig { txs: 16, connections: 4, batch: 2, block_ms: 100 };
    let cfg = NetworkConfig { validators: 4, node };
    let r = run_process(&cfg, Path::new(BIN), &mut bench::Quiet).expect("the benchmark runs");
    assert_eq!((r.validators, r.submitted), (4, 16));
    assert_eq!(r.finalized, 16, "every transfer is finalized with an ok receipt");
    assert_eq!(r.baseline.committed, 16, "the baseline node commits the same transfers");
    assert!(r.agreed_height >= 1, "the validators were checked to agree on a block");
    let text = r.text();
    assert!(text.starts_with("network benchmark: 4 validators"), "{text}");
    assert!(text.contains("target ≥ 10,000"), "{text}");
}
