//! A node process of this same binary on a local data directory, for the demo and the node benchmark.

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `stakework node` child process; killed if dropped while still running.
#[derive(Debug)]
pub struct LocalNode {
    child: Child,
    pub url: String,
}

impl LocalNode {
    /// Start `stakework node --data DATA --genesis GENESIS --listen 127.0.0.1:0 EXTRA…` and wait for the
    /// line that gives its address.
    pub fn start(data: &Path, genesis: &Path, extra: &[&str]) -> anyhow::Result<LocalNode> {
        let exe = std::env::current_exe().context("finding the stakework binary")?;
        let mut child = Command::new(exe)
            .args(["node", "--listen", "127.0.0.1:0"])
            .arg("--data")
            .arg(data)
            .arg("--genesis")
            .arg(genesis)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the node")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("node stdout")?).read_line(&mut line)?;
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_string);
        // Wrapped before the check so a node that printed something unexpected is still killed on drop.
        let mut node = LocalNode { child, url: String::new() };
        node.url = url.with_context(|| format!("the node did not start: {line:?}"))?;
        Ok(node)
    }

    /// Stop with SIGTERM and wait (up to 10 s) for a clean exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        sigterm(&self.child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("the node exited with {status}");
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("the node did not stop within 10 s")
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Ask `child` to stop (SIGTERM), as an operator's `kill` would; it may have exited already.
pub fn sigterm(child: &std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
    }
}
