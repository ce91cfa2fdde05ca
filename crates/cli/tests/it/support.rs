//! Start and stop real node processes; talk to them over HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_stakework");

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
    let mut text = String::from("[params]\nchain_id = \"e2e\"\nmin_fee = 1000\nunbonding_period = 5\n");
    for a in accounts {
        text.push_str(&format!("[[accounts]]\nid = \"{a}\"\nfree = \"1000 SWK\"\n"));
    }
    let path = dir.join("genesis.toml");
    std::fs::write(&path, text).expect("write genesis");
    path
}

pub struct Node {
    pub child: Child,
    pub url: String,
}

impl Node {
    /// Start `stakework node` on port 0 and wait for its "listening on" line.
    pub fn start(data: &Path, genesis: Option<&Path>, block_ms: u64, extra: &[&str]) -> Node {
        Node::start_on("127.0.0.1:0", data, genesis, block_ms, extra)
    }

    /// As [`Node::start`], listening on `listen` (to restart a node at the address its agents know).
    pub fn start_on(listen: &str, data: &Path, genesis: Option<&Path>, block_ms: u64, extra: &[&str]) -> Node {
        let mut c = Command::new(BIN);
        c.args(["node", "--data"]).arg(data).args(["--listen", listen, "--block-ms", &block_ms.to_string()]);
        if let Some(g) = genesis {
            c.arg("--genesis").arg(g);
        }
        c.args(extra).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = c.spawn().expect("spawn node");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read node output");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("node did not report its address: {line:?}"))
            .to_string();
        Node { child, url }
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

    pub fn sigterm(mut self) {
        sigterm(&self.child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "node exited with {status} on SIGTERM");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("node did not stop within 10 s of SIGTERM");
    }

    pub fn sigkill(mut self) {
        let _ = self.child.kill(); // SIGKILL on unix
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent process (`stakework miner|oracle …`), killed if the test ends without stopping it.
#[derive(Debug)]
pub struct Agent {
    pub child: Child,
}

impl Agent {
    pub fn start(home: &Path, node: &str, args: &[&str]) -> Agent {
        let child = Command::new(BIN)
            .env("STAKEWORK_HOME", home)
            .env("STAKEWORK_NODE", node)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn agent");
        Agent { child }
    }

    /// Start an agent that prints its address on its first stdout line (`stakework router run`).
    pub fn start_with_url(home: &Path, node: &str, args: &[&str]) -> (Agent, String) {
        let mut child = Command::new(BIN)
            .env("STAKEWORK_HOME", home)
            .env("STAKEWORK_NODE", node)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn agent");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read agent output");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address: {line:?}"));
        (Agent { child }, url.to_string())
    }

    /// SIGTERM, then the exit status and everything the agent logged.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        sigterm(&self.child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut log = String::new();
                if let Some(mut err) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut log);
                }
                return (status, log);
            }
            assert!(Instant::now() < deadline, "agent did not stop within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM to a child process (as an operator's `kill` would).
pub fn sigterm(child: &Child) {
    let pid = i32::try_from(child.id()).expect("a pid fits in i32");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
}
