//! A node process of this same binary on a local data directory, for the node benchmark: `devnet`'s node
//! process with this binary as its program.

use anyhow::Context;
use std::path::Path;

/// A running `stakework node` child process; killed if dropped while still running.
#[derive(Debug)]
pub struct LocalNode {
    _node: devnet::process::Node,
    pub url: String,
}

impl LocalNode {
    /// Start `stakework node --data DATA --genesis GENESIS --listen 127.0.0.1:0 EXTRA…` and wait for the
    /// line that gives its address.
    pub fn start(data: &Path, genesis: &Path, extra: &[&str]) -> anyhow::Result<LocalNode> {
        let exe = std::env::current_exe().context("finding the stakework binary")?;
        let node = devnet::process::Node::start(&exe, "127.0.0.1:0", data, Some(genesis), extra)?;
        Ok(LocalNode { url: node.url.clone(), _node: node })
    }
}
