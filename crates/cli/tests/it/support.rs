//! Start and stop real node processes; talk to them over HTTP.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_stakework");

/// Held by the tests that run several validator processes at once (the demo, the validators, the network
/// bench), so that two of them never share the machine's cores: four validators each verify every
/// signature and keep 1 s leader timeouts, and two such networks on two cores starve each other.
pub fn validators_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn key_of(home: &Path, name: &str) -> String {
    let out = cli(home, None, &["keys", "show", name, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("keys show --json");
    v["account"].as_str().expect("account").to_string()
}

/// Run the CLI; panics with its stderr if it fails.
pub fn cli(home: &Path, node: Option<&str>, args: &[&str]) -> String {
    let out = cli_raw(home, node, args);
    assert!(out.status.success(), "stakework {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn cli_raw(home: &Path, node: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.env("STAKEWORK_HOME", home).args(args);
    if let Some(n) = node {
        c.env("STAKEWORK_NODE", n);
    }
    c.output().expect("run stakework")
}

/// A genesis file funding the named keys with 1,000 SWK each; min fee 1000 base units.
pub fn write_genesis(dir: &Path, accounts: &[String]) -> PathBuf {
    let mut text =
        String::from("[params]\nchain_id = \"e2e\"\nmin_fee = 1000\nunbonding_period = 5\nvoting_period = 4\n");
    for a in accounts {
        text.push_str(&format!("[[accounts]]\nid = \"{a}\"\nfree = \"1000 SWK\"\n"));
    }
    let path = dir.join("genesis.toml");
    std::fs::write(&path, text).expect("write genesis");
    path
}

/// A validators' genesis: `head` (the `[params]` table and any `[[accounts]]`), then validator `v{i}` (a key
/// of `home`, at `127.0.0.1:ports[i]`, its own account bonded `bonds[i]`) added for each port with
/// `stakework genesis add-validator`, as docs/CONSENSUS.md tells an operator to build it.
pub fn write_validator_genesis(home: &Path, dir: &Path, head: &str, ports: &[u16], bonds: &[&str]) -> PathBuf {
    assert_eq!(ports.len(), bonds.len(), "one bond per validator");
    let path = dir.join("genesis.toml");
    std::fs::write(&path, head).expect("write genesis");
    let file = path.to_str().expect("utf8");
    for (i, (port, bond)) in ports.iter().zip(bonds).enumerate() {
        let (key, p2p) = (format!("v{i}"), format!("127.0.0.1:{port}"));
        cli(home, None, &["genesis", "add-validator", file, "--key", &key, "--p2p", &p2p, "--bond", bond]);
    }
    path
}

/// Start validator `v{i}` of `home` (`--validator-key`) on `dir/data{i}`, with `genesis` if given.
pub fn start_validator(home: &Path, dir: &Path, i: usize, genesis: Option<&Path>, block_ms: u64) -> Node {
    let key = home.join("keys").join(format!("v{i}.json"));
    let args = ["--validator-key", key.to_str().expect("utf8")];
    Node::start(&dir.join(format!("data{i}")), genesis, block_ms, &args)
}

/// The node's latest durable height.
pub fn height(node: &Node) -> u64 {
    node.health()["height"].as_u64().expect("height")
}

/// Wait up to `patience` until every node is at `h` or above; panics naming every node's height.
pub fn wait_all<'a>(nodes: impl IntoIterator<Item = &'a Node> + Clone, h: u64, patience: Duration) {
    let deadline = std::time::Instant::now() + patience;
    while nodes.clone().into_iter().any(|n| height(n) < h) {
        let heights: Vec<u64> = nodes.clone().into_iter().map(height).collect();
        assert!(
            std::time::Instant::now() < deadline,
            "validators stuck at {heights:?} after {patience:?}, waiting for {h}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A node process (devnet's), with helpers to read its HTTP answers as untyped JSON.
pub struct Node {
    node: Option<devnet::process::Node>,
    pub url: String,
}

impl Node {
    /// Start `stakework node` on port 0 and wait for its "listening on" line.
    pub fn start(data: &Path, genesis: Option<&Path>, block_ms: u64, extra: &[&str]) -> Node {
        Node::start_on("127.0.0.1:0", data, genesis, block_ms, extra)
    }

    /// As [`Node::start`], listening on `listen` (to restart a node at the address its agents know).
    pub fn start_on(listen: &str, data: &Path, genesis: Option<&Path>, block_ms: u64, extra: &[&str]) -> Node {
        let block_ms = block_ms.to_string();
        let mut args = vec!["--block-ms", block_ms.as_str()];
        args.extend_from_slice(extra);
        let node = devnet::process::Node::start(Path::new(BIN), listen, data, genesis, &args).expect("start node");
        Node { url: node.url.clone(), node: Some(node) }
    }

    /// As [`Node::start`] on a free port, its standard error written to `log`.
    pub fn start_logged(data: &Path, genesis: Option<&Path>, block_ms: u64, extra: &[&str], log: &Path) -> Node {
        let block_ms = block_ms.to_string();
        let mut args = vec!["--block-ms", block_ms.as_str()];
        args.extend_from_slice(extra);
        let at = ("127.0.0.1:0", data, genesis);
        let node = devnet::process::Node::start_logged(Path::new(BIN), at, &args, log).expect("start node");
        Node { url: node.url.clone(), node: Some(node) }
    }

    /// Wait up to `patience` for the node to exit by itself: its exit code and its log.
    pub fn wait_exit(&mut self, patience: Duration) -> (Option<i32>, String) {
        let node = self.node.as_mut().expect("a running node");
        let status = node.wait(patience);
        (status.and_then(|s| s.code()), node.log())
    }

    pub fn get(&self, path: &str) -> Result<serde_json::Value, (u16, serde_json::Value)> {
        match ureq::get(&format!("{}{path}", self.url)).timeout(Duration::from_secs(30)).call() {
            Ok(r) => Ok(r.into_json().expect("json")),
            Err(ureq::Error::Status(code, r)) => Err((code, r.into_json().unwrap_or_default())),
            Err(e) => Err((0, serde_json::json!({"transport": e.to_string()}))),
        }
    }

    /// POST raw bytes with a content type; returns (status, body).
    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, serde_json::Value) {
        let req = ureq::post(&format!("{}{path}", self.url))
            .timeout(Duration::from_secs(30))
            .set("Content-Type", content_type);
        match req.send_bytes(body) {
            Ok(r) => (r.status(), r.into_json().unwrap_or_default()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or_default()),
            Err(e) => (0, serde_json::json!({"transport": e.to_string()})),
        }
    }

    pub fn health(&self) -> serde_json::Value {
        self.get("/health").expect("health")
    }

    /// SIGTERM; the node must exit cleanly.
    pub fn sigterm(mut self) {
        if let Some(node) = self.node.take() {
            node.stop().expect("the node exits cleanly on SIGTERM");
        }
    }

    pub fn sigkill(mut self) {
        if let Some(node) = self.node.take() {
            node.kill();
        }
    }
}

/// Starts agent processes (`stakework miner|oracle|router run|client|…`) of the node at `url` with the keys
/// of `home`, their logs in `dir/logs`: devnet's supervisor, as the demo uses it.
pub fn supervisor(dir: &Path, home: &Path, url: &str) -> devnet::process::Supervisor {
    devnet::process::Supervisor::new(Path::new(BIN), &dir.join("logs"), url, &home.join("keys")).expect("supervisor")
}

/// Stop an agent with SIGTERM; it must exit cleanly and say it stopped. Returns its log.
pub fn stop_clean(agent: devnet::process::Process) -> String {
    let s = agent.stop(devnet::process::STOP_PATIENCE);
    assert!(s.clean(), "{} exited with {:?}: {}", s.name, s.status, s.log);
    s.log
}
