//! The node's HTTP API in process: a node on a loopback port 0, every route of `api::ROUTES` called, each
//! answer read back as the `api` type the route documents, and every status checked against the route's
//! documented statuses (error codes included).

use api::{ApiError, Route, ROUTES};
use ed25519_dalek::SigningKey;
use protocol::{Call, Genesis, GenesisAccount, GenesisService, TxBody};
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use types::{AccountId, Amount};

struct TestNode {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestNode {
    fn start(genesis: &Genesis) -> TestNode {
        TestNode::start_with(genesis, 20)
    }

    /// A node on a fresh directory sealing a block every `block_ms` milliseconds.
    fn start_with(genesis: &Genesis, block_ms: u64) -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut node = TestNode::on(dir.path(), Some(genesis.to_toml()), block_ms);
        node._dir = Some(dir);
        node
    }

    /// A node on the data directory `data` (its first start needs `genesis`), stopped gracefully on drop.
    fn on(data: &std::path::Path, genesis: Option<String>, block_ms: u64) -> TestNode {
        let mut cfg = node::NodeConfig::new(data.to_path_buf(), "127.0.0.1:0".parse().expect("addr"));
        cfg.genesis_toml = genesis;
        cfg.block_ms = block_ms;
        TestNode::with(cfg)
    }

    /// A node running `cfg`, stopped gracefully on drop.
    fn with(cfg: node::NodeConfig) -> TestNode {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, addr) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
            let until = async move {
                let _ = stopped.await;
            };
            rt.block_on(node::run_until(cfg, |n| ready.send(n.addr).expect("ready"), until)).expect("node runs");
        });
        let addr = addr.recv().expect("the node started");
        TestNode { url: format!("http://{addr}"), stop: Some(stop), thread: Some(thread), _dir: None }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(n: u8) -> AccountId {
    AccountId(key(n).verifying_key().to_bytes())
}

fn genesis() -> Genesis {
    let mut g = Genesis::default();
    g.params.chain_id = "api-test".into();
    g.params.min_fee = Amount(1);
    let one = Amount(1);
    g.params.miner_stake_min = one;
    g.params.oracle_stake_min = one;
    g.params.router_stake_min = one;
    g.params.data_owner_stake_min = one;
    g.params.mpc_stake_min = one;
    g.params.coordinator_stake_min = one;
    // An oracle's fee is at most its minimum stake.
    g.params.oracle_fee = one;
    g.accounts = vec![
        GenesisAccount { id: account(1), name: Some("alice".into()), free: Amount(1_000_000), bonded: Amount(100) },
        GenesisAccount { id: account(2), name: Some("bob".into()), free: Amount(1_000), bonded: Amount(0) },
    ];
    // Nodes 3..=8: five miners (the first also a data owner) and a coordinator.
    g.accounts.extend((3..=8).map(|n| GenesisAccount {
        id: account(n),
        name: None,
        free: Amount(1_000),
        bonded: Amount(100),
    }));
    g.services = vec![GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(10),
        poi_threshold: protocol::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    }];
    g
}

/// Calls routes over real HTTP, checks each status against the route's documentation, and remembers which
/// routes answered 2xx.
struct Probe {
    url: String,
    http: ureq::Agent,
    covered: BTreeSet<(&'static str, &'static str)>,
}

impl Probe {
    fn route(method: &str, template: &str) -> &'static Route {
        ROUTES
            .iter()
            .find(|r| r.method == method && r.path == template)
            .unwrap_or_else(|| panic!("{method} {template} is not in api::ROUTES"))
    }

    fn send(&mut self, method: &'static str, template: &'static str, path: &str, body: Option<&str>) -> (u16, String) {
        let url = format!("{}{path}", self.url);
        let answer = match body {
            Some(b) => self.http.post(&url).set("Content-Type", "application/json").send_string(b),
            None => self.http.request(&method.to_uppercase(), &url).call(),
        };
        let (status, text) = match answer {
            Ok(r) => (r.status(), r.into_string().expect("body")),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().expect("body")),
            Err(e) => panic!("{url}: {e}"),
        };
        let route = Probe::route(method, template);
        assert!(
            route.answers.iter().any(|a| a.status == status),
            "{method} {path} answered {status}, which {template} does not document: {text}"
        );
        if status < 300 {
            self.covered.insert((route.method, route.path));
        }
        (status, text)
    }

    /// A 2xx answer, read as `T`.
    fn ok<T: DeserializeOwned>(&mut self, template: &'static str, path: &str) -> T {
        let (status, text) = self.send("get", template, path, None);
        assert!(status < 300, "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path} is not its documented type: {e}: {text}"))
    }

    /// An error answer with `status` and `code`.
    fn fails(&mut self, template: &'static str, path: &str, status: u16, code: &str) {
        let (got, text) = self.send("get", template, path, None);
        let e: ApiError =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not an ApiError: {e}: {text}"));
        assert_eq!((got, e.code.as_str()), (status, code), "GET {path}: {text}");
    }
}

fn transfer(client: &client::Client, from: u8, to: AccountId, amount: u128) -> protocol::SignedTx {
    let nonce = client.account(&account(from)).expect("account").nonce;
    TxBody { signer: account(from), nonce, fee: Amount(1), call: Call::Transfer { to, amount: Amount(amount) } }
        .sign(&key(from), "api-test")
}

mod explorer;
mod finality;
mod queries;
mod race;
mod stake;
mod start;
mod submit;
mod validators;
mod world;

fn probe(node: &TestNode) -> Probe {
    Probe { url: node.url.clone(), http: ureq::AgentBuilder::new().build(), covered: BTreeSet::new() }
}

/// Every route of `api::ROUTES` answered 2xx in one of the tests of this file.
fn assert_all_covered(covered: &BTreeSet<(&'static str, &'static str)>) {
    let all: BTreeSet<_> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let missing: Vec<_> = all.difference(covered).collect();
    assert!(missing.is_empty(), "routes never exercised: {missing:?}");
}

#[test]
fn every_route_answers_its_documented_type_and_statuses() {
    let node = TestNode::start(&genesis());
    let client = client::Client::new(&node.url);
    let mut p = probe(&node);
    submit::submissions(&mut p, &client);
    world::populate(&client);
    queries::queries(&mut p, &client);
    assert_all_covered(&p.covered);
}

/// The client fails over: a dead node first in its list, a live one second; calls land on the live one
/// and stay there. A refused port is a transport error, retried on the next URL, never shown to the caller.
#[test]
fn the_client_fails_over_to_the_next_node() {
    let node = TestNode::start(&genesis());
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_url = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let client = client::Client::with_urls(&[dead_url.as_str(), node.url.as_str()]);
    assert_eq!(client.url(), dead_url);
    let health = client.health().expect("answered by the live node");
    assert_eq!(health.status, "ok");
    assert_eq!(client.url(), node.url, "later calls start at the node that answered");
    let only_dead = client::Client::with_urls(&[dead_url.as_str()]).retry(client::Retry {
        attempts: 2,
        backoff: std::time::Duration::from_millis(10),
        backoff_max: std::time::Duration::from_millis(10),
    });
    let err = only_dead.health().expect_err("nobody answers");
    assert!(matches!(err, client::ClientError::Unreachable(ref m) if m.contains("cannot reach the node")), "{err}");
}
