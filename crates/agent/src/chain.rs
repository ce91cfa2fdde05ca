//! The node's HTTP API as an agent sees it, and a signer that keeps its nonce right.

use crate::AgentError;
use ed25519_dalek::SigningKey;
use engine::{Call, TxBody};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;
use types::{AccountId, Amount};

#[derive(Debug, Clone)]
pub struct NodeApi {
    base: String,
    http: ureq::Agent,
}

impl NodeApi {
    pub fn new(base: &str) -> NodeApi {
        let http =
            ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(3)).timeout(Duration::from_secs(30)).build();
        NodeApi { base: base.trim_end_matches('/').to_string(), http }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, AgentError> {
        let url = format!("{}{path}", self.base);
        finish(&url, self.http.get(&url).call())
    }

    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, AgentError> {
        let url = format!("{}{path}", self.base);
        finish(&url, self.http.post(&url).set("Content-Type", "application/json").send_string(&body.to_string()))
    }

    /// The height of the newest durable block.
    pub fn height(&self) -> Result<u64, AgentError> {
        let h: Value = self.get("/health")?;
        h["height"].as_u64().ok_or_else(|| AgentError::Unreachable("/health has no height".into()))
    }
}

fn finish<T: DeserializeOwned>(url: &str, r: Result<ureq::Response, ureq::Error>) -> Result<T, AgentError> {
    match r {
        Ok(resp) => resp.into_json::<T>().map_err(|e| AgentError::Unreachable(format!("bad answer from {url}: {e}"))),
        Err(ureq::Error::Status(status, resp)) => {
            let body: Value = resp.into_json().unwrap_or(Value::Null);
            match (body["code"].as_str(), body["message"].as_str()) {
                (Some(code), Some(message)) if status < 500 => {
                    Err(AgentError::Node { code: code.to_string(), message: message.to_string() })
                }
                _ => Err(AgentError::Unreachable(format!("HTTP {status} from {url}: {body}"))),
            }
        }
        Err(e) => Err(AgentError::Unreachable(format!("{url}: {e}"))),
    }
}

/// What happened to a submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Included in a durable block; `code` is `ok` or why the block rejected it (then it changed nothing);
    /// `events` are the transaction's events.
    Committed { code: String, events: Vec<Value> },
    /// Refused at the door (never in a block).
    Refused { code: String },
}

impl Outcome {
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Committed { code, .. } if code == "ok")
    }
}

/// Signs for one key and submits one transaction at a time, waiting for its block, so the next nonce is
/// always known: the account's nonce after an accepted transaction, unchanged after a rejected one.
#[derive(Debug)]
pub struct Signer {
    key: SigningKey,
    pub account: AccountId,
    chain_id: String,
    fee: Amount,
}

impl Signer {
    pub fn connect(api: &NodeApi, key: SigningKey) -> Result<Signer, AgentError> {
        let params: Value = api.get("/v1/params")?;
        let chain_id = params["params"]["chain_id"].as_str().ok_or_else(|| AgentError::Config("no chain id".into()))?;
        let fee: Amount = serde_json::from_value(params["params"]["min_fee"].clone())
            .map_err(|e| AgentError::Config(format!("min_fee: {e}")))?;
        let account = AccountId(key.verifying_key().to_bytes());
        Ok(Signer { key, account, chain_id: chain_id.to_string(), fee })
    }

    /// Sign `calls` with consecutive nonces from the account's current one and submit them as one batch,
    /// waiting for their blocks. Returns one outcome per call (a refused call leaves the later ones with a
    /// nonce gap: they are refused too and change nothing).
    pub fn submit_batch(&self, api: &NodeApi, calls: Vec<Call>) -> Result<Vec<Outcome>, AgentError> {
        let account: Value = api.get(&format!("/v1/accounts/{}", self.account))?;
        let first = account["nonce"].as_u64().unwrap_or(0);
        let txs: Vec<Value> = calls
            .into_iter()
            .enumerate()
            .map(|(i, call)| {
                let body = TxBody { signer: self.account, nonce: first + i as u64, fee: self.fee, call };
                serde_json::to_value(body.sign(&self.key, &self.chain_id))
                    .map_err(|e| AgentError::Config(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let body = Value::Array(txs);
        for _ in 0..20 {
            let r: Value = api.post("/v1/txs?wait=commit", &body)?;
            let results = r["results"].as_array().cloned().unwrap_or_default();
            if results.iter().all(|x| x["status"] == "committed" || x["status"] == "refused") {
                return Ok(results
                    .iter()
                    .map(|x| {
                        let code = x["receipt"]["code"].as_str().or(x["code"].as_str()).unwrap_or("").to_string();
                        if x["status"] == "committed" {
                            Outcome::Committed {
                                code,
                                events: x["receipt"]["events"].as_array().cloned().unwrap_or_default(),
                            }
                        } else {
                            Outcome::Refused { code }
                        }
                    })
                    .collect());
            }
        }
        Err(AgentError::Unreachable("the batch was not committed in time".into()))
    }

    /// Sign `call` with the account's current nonce, submit it and wait for its block. A node that is
    /// restarting or unreachable is retried with backoff (up to about `patience`); a transaction the node
    /// already has is answered with its original receipt, so a retry never runs a call twice.
    pub fn submit(&self, api: &NodeApi, call: Call, patience: Duration) -> Result<Outcome, AgentError> {
        let deadline = std::time::Instant::now() + patience;
        let mut backoff = Duration::from_millis(100);
        let account: Value = api.get(&format!("/v1/accounts/{}", self.account))?;
        let nonce = account["nonce"].as_u64().unwrap_or(0);
        let tx = TxBody { signer: self.account, nonce, fee: self.fee, call }.sign(&self.key, &self.chain_id);
        let body = serde_json::to_value(&tx).map_err(|e| AgentError::Config(e.to_string()))?;
        loop {
            match api.post::<Value>("/v1/txs?wait=commit", &body) {
                Ok(r) => {
                    let code = r["receipt"]["code"].as_str().unwrap_or("").to_string();
                    if r["status"] == "committed" {
                        let events = r["receipt"]["events"].as_array().cloned().unwrap_or_default();
                        return Ok(Outcome::Committed { code, events });
                    }
                    // Accepted but not yet in a block within the node's wait: ask again (idempotent).
                }
                Err(AgentError::Node { code, .. }) => return Ok(Outcome::Refused { code }),
                Err(e) if std::time::Instant::now() >= deadline => return Err(e),
                Err(_) => {}
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            if std::time::Instant::now() >= deadline {
                return Err(AgentError::Unreachable("the transaction was not committed in time".into()));
            }
        }
    }
}
