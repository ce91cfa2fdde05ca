//! Child processes of the `stakework` binary: a node, agents, and the replay of a stopped node's log.
//! A [`Process`] is killed if it is dropped while running, so a failed run leaves nothing behind; a clean
//! stop is SIGTERM (sent through `nix`), then a wait.

use crate::{DevnetError, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use types::Hash;

/// How long a process may take to exit after SIGTERM: an agent first finishes the transaction it is
/// waiting on (up to 30 s when its validator was just killed and it fails over).
pub const STOP_PATIENCE: Duration = Duration::from_secs(35);

/// A running child process; killed (SIGKILL) if dropped while running.
#[derive(Debug)]
pub struct Process {
    pub name: String,
    child: Child,
    /// Where its standard error goes, if to a file.
    log: Option<PathBuf>,
}

/// How a process ended after [`Process::stop`].
#[derive(Debug)]
pub struct Stopped {
    pub name: String,
    /// Its exit status; `None` when it did not exit within the patience and was killed.
    pub status: Option<ExitStatus>,
    /// Everything it wrote to its log file.
    pub log: String,
}

impl Stopped {
    /// Whether it exited by itself with status 0.
    pub fn clean(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

/// Ask `child` to stop (SIGTERM), as an operator's `kill` would; it may have exited already.
pub fn sigterm(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
    }
}

impl Process {
    /// Wrap a spawned child.
    pub fn new(name: &str, child: Child, log: Option<PathBuf>) -> Process {
        Process { name: name.to_string(), child, log }
    }

    /// Its exit status if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kill it at once (SIGKILL): a crash, for tests of what survives one.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What it wrote to its log file so far (empty without one).
    pub fn log(&self) -> String {
        self.log.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default()
    }

    /// Read its first line of standard output (which must be piped) and return the `http://` address in
    /// it: how a node or a router on port 0 says where it listens.
    pub fn read_url(&mut self) -> Result<String> {
        let out = self.child.stdout.take().ok_or_else(|| DevnetError::Process(format!("{}: no stdout", self.name)))?;
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).map_err(DevnetError::io(format!("reading {}'s output", self.name)))?;
        let url = line.split_whitespace().find(|w| w.starts_with("http://"));
        url.map(str::to_string).ok_or_else(|| {
            DevnetError::Process(format!("{} did not start: {line:?} {}", self.name, self.log().trim_end()))
        })
    }

    /// SIGTERM, then wait up to `patience` for it to exit (killed after that).
    pub fn stop(mut self, patience: Duration) -> Stopped {
        sigterm(&self.child);
        let status = self.wait(patience);
        if status.is_none() {
            self.kill();
        }
        Stopped { name: self.name.clone(), status, log: self.log() }
    }

    /// Wait up to `patience` for it to exit by itself; its exit status.
    pub fn wait(&mut self, patience: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait up to `patience` for it to exit by itself, then read all of its (piped) standard output.
    pub fn output(mut self, patience: Duration) -> Result<(ExitStatus, String)> {
        let status = self
            .wait(patience)
            .ok_or_else(|| DevnetError::Process(format!("{} did not finish in {} s", self.name, patience.as_secs())))?;
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            o.read_to_string(&mut out).map_err(DevnetError::io(format!("reading {}'s output", self.name)))?;
        }
        Ok((status, out))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.kill();
        }
    }
}

/// Stop every process with SIGTERM, in order; how each ended.
pub fn stop_all(procs: Vec<Process>) -> Vec<Stopped> {
    procs.into_iter().map(|p| p.stop(STOP_PATIENCE)).collect()
}

/// Starts agents: the binary with `--node URL --keys-dir DIR` and a subcommand, standard error in
/// `LOGS/NAME.log`.
#[derive(Debug, Clone)]
pub struct Supervisor {
    pub exe: PathBuf,
    pub logs: PathBuf,
    pub node: String,
    pub keys: PathBuf,
}

impl Supervisor {
    /// A supervisor of agents of the node at `node`, with key files in `keys` and logs in `logs` (created).
    pub fn new(exe: &Path, logs: &Path, node: &str, keys: &Path) -> Result<Supervisor> {
        std::fs::create_dir_all(logs).map_err(DevnetError::io(format!("creating {}", logs.display())))?;
        Ok(Supervisor { exe: exe.to_path_buf(), logs: logs.to_path_buf(), node: node.to_string(), keys: keys.into() })
    }

    /// The same supervisor with its node list (`URL,URL,…`) rotated left by `k`: the agents it starts call
    /// node `k` (modulo the list's length) first and fail over to the ones after it, so the agents of a
    /// network of several nodes spread over them.
    pub fn rotated(&self, k: usize) -> Supervisor {
        Supervisor { node: rotate_list(&self.node, k), ..self.clone() }
    }

    /// The node its agents call first.
    pub fn first_node(&self) -> &str {
        self.node.split(',').next().unwrap_or_default().trim()
    }

    /// Start agent `name`: `stakework --node URL --keys-dir DIR ARGS…`, its standard output piped when
    /// `stdout` (to read its result or its address), else discarded.
    pub fn spawn(&self, name: &str, args: &[&str], stdout: bool) -> Result<Process> {
        let path = self.logs.join(format!("{name}.log"));
        let log = std::fs::File::create(&path).map_err(DevnetError::io(format!("creating {}", path.display())))?;
        let child = Command::new(&self.exe)
            .arg("--node")
            .arg(&self.node)
            .arg("--keys-dir")
            .arg(&self.keys)
            .args(args)
            .stdout(if stdout { Stdio::piped() } else { Stdio::null() })
            .stderr(log)
            .spawn()
            .map_err(DevnetError::io(format!("starting {name} ({})", self.exe.display())))?;
        Ok(Process::new(name, child, Some(path)))
    }

    /// Start an agent that prints its address on its first line (`router run`); the process and address.
    pub fn spawn_with_url(&self, name: &str, args: &[&str]) -> Result<(Process, String)> {
        let mut p = self.spawn(name, args, true)?;
        let url = p.read_url()?;
        Ok((p, url))
    }
}

/// A comma-separated list (`URL,URL,…`) rotated left by `k` modulo its length.
pub fn rotate_list(list: &str, k: usize) -> String {
    let mut urls: Vec<&str> = list.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
    if !urls.is_empty() {
        let n = urls.len();
        urls.rotate_left(k % n);
    }
    urls.join(",")
}

/// A `stakework node` process on a data directory, listening on loopback.
#[derive(Debug)]
pub struct Node {
    process: Process,
    pub url: String,
}

impl Node {
    /// Start `stakework node --data DATA [--genesis GENESIS] --listen LISTEN EXTRA…` and wait for the line
    /// that gives its address. `listen` is `127.0.0.1:0` for a port the OS picks, or a fixed address to
    /// restart a node where its agents expect it. Its standard error is inherited.
    pub fn start(exe: &Path, listen: &str, data: &Path, genesis: Option<&Path>, extra: &[&str]) -> Result<Node> {
        Node::start_with(exe, (listen, data, genesis), extra, None)
    }

    /// As [`Node::start`], its standard error written to the file `log` (read with [`Node::log`]): for a
    /// node expected to stop by itself with a message, such as one at an unsupported protocol upgrade.
    pub fn start_logged(
        exe: &Path,
        (listen, data, genesis): (&str, &Path, Option<&Path>),
        extra: &[&str],
        log: &Path,
    ) -> Result<Node> {
        Node::start_with(exe, (listen, data, genesis), extra, Some(log))
    }

    fn start_with(
        exe: &Path,
        (listen, data, genesis): (&str, &Path, Option<&Path>),
        extra: &[&str],
        log: Option<&Path>,
    ) -> Result<Node> {
        let mut c = Command::new(exe);
        c.args(["node", "--listen", listen]).arg("--data").arg(data);
        if let Some(g) = genesis {
            c.arg("--genesis").arg(g);
        }
        if let Some(path) = log {
            let file = std::fs::File::create(path).map_err(DevnetError::io(format!("creating {}", path.display())))?;
            c.stderr(file);
        }
        let child = c
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(DevnetError::io(format!("starting the node ({})", exe.display())))?;
        // Wrapped before reading so a node that printed something unexpected is still killed on drop.
        let mut process = Process::new("node", child, log.map(Path::to_path_buf));
        let url = process.read_url()?;
        Ok(Node { process, url })
    }

    /// Wait up to `patience` for the node to exit by itself; its exit status.
    pub fn wait(&mut self, patience: Duration) -> Option<ExitStatus> {
        self.process.wait(patience)
    }

    /// What it wrote to its log file so far (empty unless started with [`Node::start_logged`]).
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Stop with SIGTERM and wait for a clean exit.
    pub fn stop(self) -> Result<()> {
        let stopped = self.process.stop(STOP_PATIENCE);
        match stopped.status {
            Some(s) if s.success() => Ok(()),
            Some(s) => Err(DevnetError::Process(format!("the node exited with {s}"))),
            None => Err(DevnetError::Process("the node did not stop in time".into())),
        }
    }

    /// Kill the node at once (SIGKILL): a crash.
    pub fn kill(mut self) {
        self.process.kill();
    }
}

/// What `stakework replay` found on a stopped node's data directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Replayed {
    /// The height the replay reached (every block's state root checked on the way).
    pub height: u64,
    pub state_root: Hash,
    /// Blocks replayed.
    pub replayed: u64,
    /// The state root of the block at the height asked for, once the replay checked it.
    pub root_at: Option<Hash>,
}

/// Replay the data directory's whole block log from genesis (`stakework replay --data DATA --at HEIGHT
/// --json`); `root_at` is the root at `at`, to compare with the head a running node served.
pub fn replay(exe: &Path, data: &Path, at: u64) -> Result<Replayed> {
    let out = Command::new(exe)
        .args(["replay", "--json", "--at", &at.to_string(), "--data"])
        .arg(data)
        .output()
        .map_err(DevnetError::io("running stakework replay"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(DevnetError::Process(format!("stakework replay failed: {}", err.trim_end())));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| DevnetError::Process(format!("stakework replay printed something else: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Process {
        let child = Command::new("sh").args(["-c", script]).stdout(Stdio::piped()).spawn().expect("sh");
        Process::new("sh", child, None)
    }

    #[test]
    fn the_address_is_read_from_the_first_line_and_sigterm_stops_the_process() {
        let mut p = sh("echo 'listening on http://127.0.0.1:7650 (pid $$)'; exec sleep 30");
        assert_eq!(p.read_url().expect("url"), "http://127.0.0.1:7650");
        let t0 = Instant::now();
        let stopped = p.stop(STOP_PATIENCE);
        assert!(t0.elapsed() < STOP_PATIENCE, "SIGTERM ended it, not the patience");
        assert!(stopped.status.is_some() && !stopped.clean(), "killed by a signal is not a clean exit: {stopped:?}");
    }

    #[test]
    fn a_rotated_list_starts_at_the_kth_node_and_keeps_the_others_in_order() {
        assert_eq!(rotate_list("a,b,c,d", 1), "b,c,d,a");
        assert_eq!(rotate_list("a, b,c,d", 6), "c,d,a,b");
        assert_eq!(rotate_list("a", 3), "a");
        assert_eq!(rotate_list("", 3), "");
        let sup = Supervisor { exe: "x".into(), logs: "l".into(), node: "a,b,c".into(), keys: "k".into() };
        assert_eq!(sup.rotated(2).first_node(), "c");
        assert_eq!(sup.first_node(), "a");
    }

    #[test]
    fn a_line_without_an_address_is_an_error_and_output_waits_for_the_exit() {
        assert!(sh("echo oops").read_url().is_err());
        let (status, out) = sh("echo '{\"requests\": 12}'").output(STOP_PATIENCE).expect("output");
        assert!(status.success());
        assert_eq!(out.trim(), "{\"requests\": 12}");
        assert!(sh("exec sleep 30").output(Duration::from_millis(100)).is_err(), "still running after the patience");
    }
}
