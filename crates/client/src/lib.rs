//! The one HTTP client of the node API, used by the agents, the CLI, the demo and the benchmarks.
//!
//! - typed: every route has a method that returns the `api` crate's type for it;
//! - blocking (ureq): every caller is a thread (an agent's loop, a CLI command, a benchmark worker), so an
//!   async runtime would buy nothing and cost a second HTTP stack;
//! - resilient: a list of node URLs, failover to the next one when a node cannot be reached, and retries
//!   with backoff for answers that say "try again" (503); a transaction is resent as the same signed bytes,
//!   so a retry never runs a call twice;
//! - the node's `{code, message}` errors surface as [`ClientError::Node`] with the stable code.

pub mod keys;
mod signer;
mod stream;
pub mod text;
pub mod words;

pub use signer::{Outcome, Signer};
pub use stream::EventStream;

use api::{
    AccountView, ApiError, BlockView, EpochView, EventsPage, Health, JobView, ListView, NodeView, NodesView,
    ParamsView, PointsView, ReputationView, RouterView, SubmitBatch, SubmitResult, SubmitStatus, SupplyView, TxReceipt,
};
use protocol::{Proposal, Request, Service, SignedTx, Task};
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use types::{AccountId, Hash, JobId};

/// The node a command talks to unless told otherwise.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:7650";

/// A fresh job id for a GDS: [`job_id`] at the current time (a clock before 1970 counts as 1970).
pub fn job_id_now(gds: &AccountId) -> JobId {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    job_id(gds, now.as_nanos())
}

/// A job id for a GDS: blake3 of its account and a time in nanoseconds, cut to 16 bytes, so ids made at
/// different times differ.
pub fn job_id(gds: &AccountId, nanos: u128) -> JobId {
    let mut h = blake3::Hasher::new();
    h.update(b"stakework/job-id/");
    h.update(&gds.0);
    h.update(&nanos.to_le_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&h.finalize().as_bytes()[..16]);
    JobId(id)
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The node answered with an error and its stable code.
    #[error("[{code}] {message} (HTTP {status})")]
    Node { status: u16, code: String, message: String },
    /// No node could be reached, or one answered something that is not the API's; worth retrying later.
    #[error("{0}")]
    Unreachable(String),
}

impl ClientError {
    /// The node's stable code, if the node answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Node { code, .. } => Some(code),
            ClientError::Unreachable(_) => None,
        }
    }
}

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts per call, over all URLs (at least 1).
    pub attempts: u32,
    /// The first pause between attempts; it doubles up to `backoff_max`.
    pub backoff: Duration,
    pub backoff_max: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { attempts: 4, backoff: Duration::from_millis(100), backoff_max: Duration::from_secs(2) }
    }
}

/// A client of one or more nodes of the same network.
#[derive(Debug)]
pub struct Client {
    urls: Vec<String>,
    /// The URL that answered last; calls start there.
    current: AtomicUsize,
    http: ureq::Agent,
    retry: Retry,
}

impl Clone for Client {
    fn clone(&self) -> Client {
        Client {
            urls: self.urls.clone(),
            current: AtomicUsize::new(self.current.load(Ordering::Relaxed)),
            http: self.http.clone(),
            retry: self.retry,
        }
    }
}

/// What one HTTP exchange gave (boxed: ureq's error is large).
type Sent = Result<ureq::Response, Box<ureq::Error>>;

enum Attempt<T> {
    Done(Result<T, ClientError>),
    /// Try again (same or next URL) with this reason.
    Again(ClientError),
}

impl Client {
    /// A client of the node at `url`.
    pub fn new(url: &str) -> Client {
        Client::with_urls(&[url])
    }

    /// A client of the nodes in a comma-separated list (`URL,URL,…`, as `--node` takes it); a list with no
    /// URL in it is taken as one URL, so the call that uses it reports what is wrong with it.
    pub fn from_list(list: &str) -> Client {
        let urls: Vec<&str> = list.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
        if urls.is_empty() {
            return Client::new(list);
        }
        Client::with_urls(&urls)
    }

    /// A client of several nodes: a call goes to the one that answered last, and on to the next when that
    /// one cannot be reached.
    pub fn with_urls<S: AsRef<str>>(urls: &[S]) -> Client {
        let urls: Vec<String> = urls.iter().map(|u| u.as_ref().trim_end_matches('/').to_string()).collect();
        assert!(!urls.is_empty(), "a client needs at least one node URL");
        let http =
            ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(3)).timeout(Duration::from_secs(60)).build();
        Client { urls, current: AtomicUsize::new(0), http, retry: Retry::default() }
    }

    /// The same client with other retry settings.
    pub fn retry(mut self, retry: Retry) -> Client {
        self.retry = Retry { attempts: retry.attempts.max(1), ..retry };
        self
    }

    /// The URL calls go to now.
    pub fn url(&self) -> &str {
        &self.urls[self.current.load(Ordering::Relaxed) % self.urls.len()]
    }

    /// GET `path` and read the answer as `T`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(path, |url| self.http.get(url).call().map_err(Box::new))
    }

    /// POST `body` as JSON to `path` and read the answer as `T`.
    pub fn post<T: DeserializeOwned, B: serde::Serialize>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        let text = serde_json::to_string(body).map_err(|e| ClientError::Unreachable(format!("encode: {e}")))?;
        self.call(path, |url| {
            self.http.post(url).set("Content-Type", "application/json").send_string(&text).map_err(Box::new)
        })
    }

    /// POST an already encoded JSON body to `path` (benchmarks encode their transactions ahead of time).
    pub fn post_encoded<T: DeserializeOwned>(&self, path: &str, json: &str) -> Result<T, ClientError> {
        self.call(path, |url| {
            self.http.post(url).set("Content-Type", "application/json").send_string(json).map_err(Box::new)
        })
    }

    /// GET `path` as text (for `/metrics`).
    pub fn get_text(&self, path: &str) -> Result<String, ClientError> {
        self.call_with(
            path,
            |url| self.http.get(url).call().map_err(Box::new),
            |url, resp| resp.into_string().map_err(|e| ClientError::Unreachable(format!("bad answer from {url}: {e}"))),
        )
    }

    fn call<T: DeserializeOwned>(&self, path: &str, send: impl Fn(&str) -> Sent) -> Result<T, ClientError> {
        self.call_with(path, send, |url, resp| {
            resp.into_json::<T>().map_err(|e| ClientError::Unreachable(format!("bad answer from {url}: {e}")))
        })
    }

    fn call_with<T>(
        &self,
        path: &str,
        send: impl Fn(&str) -> Sent,
        read: impl Fn(&str, ureq::Response) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let mut pause = self.retry.backoff;
        let mut last = ClientError::Unreachable("no attempt was made".into());
        for attempt in 0..self.retry.attempts {
            if attempt > 0 {
                std::thread::sleep(pause);
                pause = (pause * 2).min(self.retry.backoff_max);
            }
            let index = self.current.load(Ordering::Relaxed) % self.urls.len();
            let url = format!("{}{path}", self.urls[index]);
            match attempt_once(&self.urls[index], &url, send(&url), &read) {
                Attempt::Done(r) => return r,
                Attempt::Again(e) => {
                    // Unreachable: fail over to the next node; a busy node (503) gets another chance first.
                    if matches!(e, ClientError::Unreachable(_)) {
                        let _ = self.current.compare_exchange(
                            index,
                            (index + 1) % self.urls.len(),
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        );
                    }
                    last = e;
                }
            }
        }
        Err(last)
    }

    // ----- typed routes -------------------------------------------------------------------------

    pub fn health(&self) -> Result<Health, ClientError> {
        self.get("/health")
    }
    /// The height of the newest durable block.
    pub fn height(&self) -> Result<u64, ClientError> {
        Ok(self.health()?.height.0)
    }
    pub fn params(&self) -> Result<ParamsView, ClientError> {
        self.get("/v1/params")
    }
    pub fn account(&self, id: &AccountId) -> Result<AccountView, ClientError> {
        self.get(&format!("/v1/accounts/{id}"))
    }
    /// A block by height or by hash (`id` as the route takes it).
    pub fn block(&self, id: &str) -> Result<BlockView, ClientError> {
        self.get(&format!("/v1/blocks/{id}"))
    }
    pub fn tx(&self, hash: &Hash) -> Result<TxReceipt, ClientError> {
        self.get(&format!("/v1/txs/{hash}"))
    }
    pub fn nodes(&self) -> Result<NodesView, ClientError> {
        self.get("/v1/nodes")
    }
    pub fn node(&self, id: &AccountId) -> Result<NodeView, ClientError> {
        self.get(&format!("/v1/nodes/{id}"))
    }
    pub fn services(&self) -> Result<Vec<Service>, ClientError> {
        self.get("/v1/services")
    }
    pub fn service(&self, id: u32) -> Result<Service, ClientError> {
        self.get(&format!("/v1/services/{id}"))
    }
    pub fn reputation(&self, id: &AccountId) -> Result<ReputationView, ClientError> {
        self.get(&format!("/v1/reputation/{id}"))
    }
    pub fn request(&self, id: u64) -> Result<Request, ClientError> {
        self.get(&format!("/v1/requests/{id}"))
    }
    pub fn tasks(&self) -> Result<Vec<Task>, ClientError> {
        self.get("/v1/tasks")
    }
    pub fn task(&self, id: u64) -> Result<Task, ClientError> {
        self.get(&format!("/v1/tasks/{id}"))
    }
    pub fn jobs(&self) -> Result<Vec<JobView>, ClientError> {
        self.get("/v1/jobs")
    }
    pub fn job(&self, id: &JobId) -> Result<JobView, ClientError> {
        self.get(&format!("/v1/jobs/{id}"))
    }
    pub fn epoch(&self) -> Result<EpochView, ClientError> {
        self.get("/v1/epoch")
    }
    pub fn points(&self) -> Result<PointsView, ClientError> {
        self.get("/v1/points")
    }
    pub fn lists(&self) -> Result<Vec<ListView>, ClientError> {
        self.get("/v1/lists")
    }
    pub fn routers(&self) -> Result<Vec<RouterView>, ClientError> {
        self.get("/v1/routers")
    }
    pub fn proposals(&self) -> Result<Vec<Proposal>, ClientError> {
        self.get("/v1/proposals")
    }
    pub fn proposal(&self, id: u64) -> Result<Proposal, ClientError> {
        self.get(&format!("/v1/proposals/{id}"))
    }
    pub fn supply(&self) -> Result<SupplyView, ClientError> {
        self.get("/v1/supply")
    }
    /// Events of durable blocks from `since`, at most `limit` blocks.
    pub fn events(&self, since: u64, limit: u64) -> Result<EventsPage, ClientError> {
        self.get(&format!("/v1/events?since={since}&limit={limit}"))
    }
    pub fn metrics(&self) -> Result<String, ClientError> {
        self.get_text("/metrics")
    }
    pub fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.get("/openapi.json")
    }

    /// The live stream of durable blocks' outcomes, from `since` (a backlog of at most 1000 blocks) or
    /// live only.
    pub fn event_stream(&self, since: Option<u64>) -> Result<EventStream, ClientError> {
        let path = since.map_or_else(|| "/v1/events/stream".to_string(), |s| format!("/v1/events/stream?since={s}"));
        let http = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(3)).build();
        self.call_with(&path, |url| http.get(url).call().map_err(Box::new), |_, resp| Ok(EventStream::new(resp)))
    }

    /// Sign `call` with `key` (the chain id, the minimum fee unless `fee` is given, and the signer's next
    /// nonce read from the node) and submit it as [`Client::submit`] does.
    pub fn sign_and_submit(
        &self,
        key: &ed25519_dalek::SigningKey,
        fee: Option<types::Amount>,
        call: protocol::Call,
        wait: bool,
    ) -> Result<SubmitResult, ClientError> {
        let signer = keys::account_of(key);
        let params = self.params()?.params;
        let fee = fee.unwrap_or(params.min_fee);
        let nonce = self.account(&signer)?.nonce;
        let tx = protocol::TxBody { signer, nonce, fee, call }.sign(key, &params.chain_id);
        self.submit(&tx, wait)
    }

    /// Submit one signed transaction; with `wait`, answer once it is in a durable block. A refusal at the
    /// door is an `Ok` result with status `refused` and the node's code, like a refusal inside a batch.
    pub fn submit(&self, tx: &SignedTx, wait: bool) -> Result<SubmitResult, ClientError> {
        self.submit_to(if wait { "/v1/txs?wait=commit" } else { "/v1/txs" }, tx)
    }

    /// Submit `tx` and wait at most `wait` for its block (the node answers `pending` after that): what a
    /// caller that sends the same bytes again uses, so that each resend reaches a node (and, among
    /// validators, is gossiped again) instead of one long wait.
    pub fn submit_within(&self, tx: &SignedTx, wait: Duration) -> Result<SubmitResult, ClientError> {
        self.submit_to(&format!("/v1/txs?wait=commit&timeout_ms={}", wait.as_millis().max(1)), tx)
    }

    fn submit_to(&self, path: &str, tx: &SignedTx) -> Result<SubmitResult, ClientError> {
        match self.post::<SubmitResult, _>(path, tx) {
            Err(ClientError::Node { status, code, message }) if status != 503 || code == "mempool_full" => {
                Ok(SubmitResult {
                    hash: tx.hash(),
                    status: SubmitStatus::Refused,
                    code: Some(code),
                    message: Some(message),
                    receipt: None,
                })
            }
            other => other,
        }
    }

    /// Submit a batch; one result per transaction, in order.
    pub fn submit_batch(&self, txs: &[SignedTx], wait: bool) -> Result<SubmitBatch, ClientError> {
        let path = if wait { "/v1/txs?wait=commit" } else { "/v1/txs" };
        self.post(path, &txs)
    }
}

fn attempt_once<T>(
    base: &str,
    url: &str,
    answer: Sent,
    read: &impl Fn(&str, ureq::Response) -> Result<T, ClientError>,
) -> Attempt<T> {
    match answer.map_err(|e| *e) {
        Ok(resp) => Attempt::Done(read(url, resp)),
        Err(ureq::Error::Status(status, resp)) => {
            let body = resp.into_string().unwrap_or_default();
            let err = match serde_json::from_str::<ApiError>(&body) {
                Ok(e) => ClientError::Node { status, code: e.code, message: e.message },
                Err(_) => ClientError::Unreachable(format!("HTTP {status} from {url}: {body}")),
            };
            // A node that is busy or cannot read its store now may answer the same call later.
            let transient = status == 503 && !matches!(&err, ClientError::Node { code, .. } if code == "mempool_full");
            if transient {
                Attempt::Again(err)
            } else {
                Attempt::Done(Err(err))
            }
        }
        Err(e) => Attempt::Again(ClientError::Unreachable(format!("cannot reach the node at {base}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_depend_on_the_gds_and_the_time() {
        let (a, b) = (AccountId([1; 32]), AccountId([2; 32]));
        assert_eq!(job_id(&a, 5), job_id(&a, 5));
        assert_ne!(job_id(&a, 5), job_id(&a, 6));
        assert_ne!(job_id(&a, 5), job_id(&b, 5));
    }
}
