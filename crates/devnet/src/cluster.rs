//! A network of validators on loopback: `n` `stakework node --validator-key` processes named in one
//! genesis (docs/CONSENSUS.md), each on its own data directory, that can be killed (SIGKILL, a crash) and
//! restarted from their data directories on the same addresses, as the demo and `bench network` do.
//!
//! The validators' keys are the well-known derived keys `LABEL/validator/I` (never use them for real
//! money), written as key files `vI.json` in the cluster's directory; each validator's staking account is
//! its own key's account, added to the genesis bonded if the genesis does not name it.

use crate::keys::{account_of, derived_key, write_key};
use crate::process::Node;
use crate::{DevnetError, Result};
use protocol::{Genesis, GenesisAccount, GenesisValidator};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use types::Amount;

/// What a validator bonds when the genesis does not name its account.
const VALIDATOR_BOND_SWK: u128 = 100;

/// `n` free loopback ports for the validators' p2p listeners, below the kernel's ephemeral range (32768
/// and up on Linux), so that no port-0 bind of another process takes one between this check and the
/// node's own bind. The start depends on the process id, so parallel runs look in different places.
pub fn free_p2p_ports(n: usize) -> Result<Vec<u16>> {
    let start = 20_000 + (std::process::id() % 1_000) as u16 * 10;
    let free = |p: &u16| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok();
    let ports: Vec<u16> = (start..32_000).filter(free).take(n).collect();
    if ports.len() < n {
        return Err(DevnetError::Network(format!("no {n} free loopback ports from {start}")));
    }
    Ok(ports)
}

/// One validator of a [`Cluster`]: where it lives and, while it runs, its process.
#[derive(Debug)]
pub struct Validator {
    pub name: String,
    pub data: PathBuf,
    pub key_file: PathBuf,
    /// Its HTTP address (`127.0.0.1:PORT`), fixed after its first start so a restart keeps it.
    pub listen: String,
    pub url: String,
    node: Option<Node>,
}

impl Validator {
    /// Whether its process runs (it was not killed or stopped).
    pub fn running(&self) -> bool {
        self.node.is_some()
    }
}

/// `n` validator processes agreeing through commonware; see the module doc.
#[derive(Debug)]
pub struct Cluster {
    exe: PathBuf,
    genesis_path: PathBuf,
    extra: Vec<String>,
    pub validators: Vec<Validator>,
}

impl Cluster {
    /// The genesis with `n` validators added: `genesis`'s own set is replaced, and each validator's account
    /// is bonded unless `genesis` names it. Also writes the validators' key files `vI.json` into `keys`.
    pub fn genesis(genesis: &Genesis, n: usize, label: &str, keys: &Path) -> Result<Genesis> {
        let ports = free_p2p_ports(n)?;
        let mut genesis = genesis.clone();
        genesis.validators.clear();
        for (i, port) in ports.iter().enumerate() {
            let key = derived_key(&format!("{label}/validator/{i}"));
            write_key(keys, &format!("v{i}"), &key)?;
            let account = account_of(&key);
            if !genesis.accounts.iter().any(|a| a.id == account) {
                let bonded = Amount::swk(VALIDATOR_BOND_SWK).expect("a small constant");
                genesis.accounts.push(GenesisAccount {
                    id: account,
                    name: Some(format!("v{i}")),
                    free: Amount::ZERO,
                    bonded,
                });
            }
            genesis.validators.push(GenesisValidator { key: account, p2p: format!("127.0.0.1:{port}"), account });
        }
        Ok(genesis)
    }

    /// Start one validator process per validator of `genesis` (made by [`Cluster::genesis`], key files in
    /// `keys`), data directories `DIR/vI`, every node with the flags `extra` (`--block-ms`, …), and wait
    /// until every one of them answers.
    pub fn start(exe: &Path, dir: &Path, genesis: &Genesis, keys: &Path, extra: &[&str]) -> Result<Cluster> {
        let genesis_path = dir.join("genesis.toml");
        std::fs::write(&genesis_path, genesis.to_toml()).map_err(DevnetError::io("writing the genesis file"))?;
        let mut cluster = Cluster {
            exe: exe.to_path_buf(),
            genesis_path,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            validators: Vec::new(),
        };
        for i in 0..genesis.validators.len() {
            let name = format!("v{i}");
            let mut v = Validator {
                data: dir.join(&name),
                key_file: keys.join(format!("{name}.json")),
                name,
                listen: "127.0.0.1:0".into(),
                url: String::new(),
                node: None,
            };
            let node = cluster.spawn(&v)?;
            v.url = node.url.clone();
            v.listen = node.url.trim_start_matches("http://").to_string();
            v.node = Some(node);
            cluster.validators.push(v);
        }
        Ok(cluster)
    }

    fn spawn(&self, v: &Validator) -> Result<Node> {
        let mut args: Vec<&str> = vec!["--validator-key", v.key_file.to_str().unwrap_or_default()];
        args.extend(self.extra.iter().map(String::as_str));
        Node::start(&self.exe, &v.listen, &v.data, Some(&self.genesis_path), &args)
    }

    /// Every validator's URL, running or not, comma-separated: what agents take as `--node` to fail over.
    pub fn url_list(&self) -> String {
        self.validators.iter().map(|v| v.url.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Kill validator `i` at once (SIGKILL): a crash.
    pub fn kill(&mut self, i: usize) {
        if let Some(node) = self.validators[i].node.take() {
            node.kill();
        }
    }

    /// Restart validator `i` from its data directory on its HTTP address.
    pub fn restart(&mut self, i: usize) -> Result<()> {
        if self.validators[i].running() {
            return Err(DevnetError::Process(format!("{} is running", self.validators[i].name)));
        }
        let node = self.spawn(&self.validators[i])?;
        self.validators[i].node = Some(node);
        Ok(())
    }

    /// Stop every running validator with SIGTERM; the first one that did not exit cleanly is an error
    /// (all are stopped either way).
    pub fn stop(mut self) -> Result<()> {
        self.stop_all()
    }

    /// [`Cluster::stop`], keeping the validators' places so that [`Cluster::restart_all`] can start them
    /// again from their data directories.
    pub fn stop_all(&mut self) -> Result<()> {
        let mut first = Ok(());
        for v in &mut self.validators {
            if let Some(node) = v.node.take() {
                let r = node.stop().map_err(|e| DevnetError::Process(format!("{}: {e}", v.name)));
                if first.is_ok() {
                    first = r;
                }
            }
        }
        first
    }

    /// Restart every stopped validator from its data directory on its HTTP address.
    pub fn restart_all(&mut self) -> Result<()> {
        for i in 0..self.validators.len() {
            if !self.validators[i].running() {
                self.restart(i)?;
            }
        }
        Ok(())
    }

    /// Wait until every running validator's finalized height is at least `h`, for at most `patience`.
    pub fn wait_height(&self, h: u64, patience: Duration) -> Result<()> {
        let deadline = Instant::now() + patience;
        loop {
            let heights = self.heights();
            if heights.iter().all(|(_, got)| got.is_some_and(|g| g >= h)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DevnetError::Network(format!("validators at {heights:?}, not all at {h}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Validator `i`'s finalized height; `None` if it is not running or did not answer.
    pub fn height(&self, i: usize) -> Option<u64> {
        let v = &self.validators[i];
        v.running().then(|| client::Client::new(&v.url).height().ok()).flatten()
    }

    /// The lowest and the highest finalized height among the running validators other than `i` that
    /// answered; `None` if none did.
    pub fn others_heights(&self, i: usize) -> Option<(u64, u64)> {
        let heights: Vec<u64> = (0..self.validators.len()).filter(|j| *j != i).filter_map(|j| self.height(j)).collect();
        Some((*heights.iter().min()?, *heights.iter().max()?))
    }

    /// Each running validator's name and finalized height (`None` if it did not answer).
    pub fn heights(&self) -> Vec<(String, Option<u64>)> {
        self.validators
            .iter()
            .filter(|v| v.running())
            .map(|v| (v.name.clone(), client::Client::new(&v.url).height().ok()))
            .collect()
    }
}
