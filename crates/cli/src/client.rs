//! A small blocking HTTP client for the node's API, with the node's `{code, message}` errors surfaced.

use anyhow::{anyhow, Context};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Where the node is: `--node URL`, else `$STAKEWORK_NODE`, else the default local address.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:7650";

#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent =
            ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(5)).timeout(Duration::from_secs(60)).build();
        Client { base: base.trim_end_matches('/').to_string(), agent }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        self.finish(&url, self.agent.get(&url).call())
    }

    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        self.finish(&url, self.agent.post(&url).set("Content-Type", "application/json").send_string(&body.to_string()))
    }

    fn finish<T: DeserializeOwned>(&self, url: &str, r: Result<ureq::Response, ureq::Error>) -> anyhow::Result<T> {
        match r {
            Ok(resp) => resp.into_json::<T>().with_context(|| format!("unexpected answer from {url}")),
            Err(ureq::Error::Status(status, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                match serde_json::from_str::<node::ApiError>(&body) {
                    Ok(e) => Err(anyhow!("[{}] {} (HTTP {status})", e.code, e.message)),
                    Err(_) => Err(anyhow!("HTTP {status} from {url}: {body}")),
                }
            }
            Err(e) => Err(anyhow!("cannot reach the node at {}: {e}", self.base)),
        }
    }
}
