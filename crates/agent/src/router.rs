//! The router agent: an HTTP relay between clients and miners (`POST /relay/{miner}` forwards to the
//! miner's registered endpoint `/infer`) that meters bytes and latency per node, probes every attached
//! node's `/health` for its online fraction, and submits its epoch report near each epoch's end.
//!
//! The bodies it relays are sealed end to end between the client's and the miner's accounts
//! (`crate::seal`): the router forwards them as opaque text and meters their sizes (ciphertext is what
//! travels, so it is what is counted, and what the miner counts too), but it holds no key that opens them.

use crate::{AgentError, Log};
use ::client::{Client, Signer};
use api::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use protocol::{Call, NodeTraffic};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use types::{AccountId, Ppb};

#[derive(Debug, Clone, Copy, Default)]
pub struct NodeMeter {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency_ms_sum: u64,
    pub latency_samples: u64,
    pub probes: u64,
    pub answered: u64,
}

/// Per-node traffic and probes since the last report.
#[derive(Debug, Default)]
pub struct Meter {
    nodes: Mutex<BTreeMap<AccountId, NodeMeter>>,
    endpoints: Mutex<BTreeMap<AccountId, String>>,
}

impl Meter {
    fn with(&self, node: AccountId, f: impl FnOnce(&mut NodeMeter)) {
        f(self.nodes.lock().expect("meter lock").entry(node).or_default());
    }
    /// The traffic and probes since the last call, per node.
    pub fn take(&self) -> BTreeMap<AccountId, NodeMeter> {
        std::mem::take(&mut *self.nodes.lock().expect("meter lock"))
    }

    /// Relay to `node` at `endpoint` without asking the chain (which the router does once per node).
    pub fn learn_endpoint(&self, node: AccountId, endpoint: String) {
        self.endpoints.lock().expect("meter lock").insert(node, endpoint);
    }
}

#[derive(Debug, Clone)]
struct Relay {
    api: Client,
    meter: Arc<Meter>,
    http: ureq::Agent,
}

fn error_body(code: &str, message: String) -> String {
    serde_json::to_string(&ApiError { code: code.into(), message }).unwrap_or_default()
}

fn endpoint(relay: &Relay, node: AccountId) -> Result<String, AgentError> {
    if let Some(e) = relay.meter.endpoints.lock().expect("meter lock").get(&node) {
        return Ok(e.clone());
    }
    let e = relay.api.node(&node)?.endpoint;
    relay.meter.endpoints.lock().expect("meter lock").insert(node, e.clone());
    Ok(e)
}

async fn relay(State(r): State<Relay>, Path(miner): Path<String>, body: String) -> (StatusCode, String) {
    let Ok(node) = miner.parse::<AccountId>() else {
        return (StatusCode::BAD_REQUEST, error_body("bad_account", "not an account id".into()));
    };
    let answer = tokio::task::spawn_blocking(move || {
        let url = format!("{}/infer", endpoint(&r, node)?.trim_end_matches('/'));
        let started = Instant::now();
        let resp = r.http.post(&url).set("Content-Type", "application/json").send_string(&body);
        let ms = started.elapsed().as_millis() as u64;
        let (status, text) = match resp {
            Ok(x) => (x.status(), x.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(s, x)) => (s, x.into_string().unwrap_or_default()),
            Err(e) => return Err(AgentError::Unreachable(format!("{url}: {e}"))),
        };
        r.meter.with(node, |m| {
            m.bytes_in += body.len() as u64;
            m.bytes_out += text.len() as u64;
            m.latency_ms_sum += ms;
            m.latency_samples += 1;
        });
        Ok((status, text))
    })
    .await;
    match answer {
        Ok(Ok((status, text))) => (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY), text),
        Ok(Err(e)) => (StatusCode::BAD_GATEWAY, error_body("miner_unreachable", e.to_string())),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, error_body("relay_failed", "relay task failed".into())),
    }
}

/// Serve the relay on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Client,
    meter: Arc<Meter>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let http =
        ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(2)).timeout(Duration::from_secs(100)).build();
    let app = Router::new().route("/relay/{miner}", post(relay)).with_state(Relay { api, meter, http });
    axum::serve(listener, app).with_graceful_shutdown(stop).await
}

/// Probe attached nodes and report each epoch, until `stop` is set. Returns the number of reports sent.
pub fn run_reporter(api: &Client, signer: &Signer, meter: &Meter, stop: &AtomicBool, log: &Log) -> u64 {
    let probe = ureq::AgentBuilder::new().timeout(Duration::from_secs(1)).build();
    let mut reported = 0u64;
    let mut last_epoch = 0u64;
    let mut validator = (0u64, 0u64);
    while !stop.load(Ordering::Relaxed) {
        let result = (|| -> Result<(), AgentError> {
            let t = Instant::now();
            let height = api.height()?;
            validator = (validator.0 + t.elapsed().as_millis() as u64, validator.1 + 1);
            let me = signer.account;
            let routers = api.routers()?;
            let attached: Vec<AccountId> =
                routers.into_iter().find(|r| r.router == me).map(|r| r.attached).unwrap_or_default();
            for node in &attached {
                let url = format!("{}/health", api.node(node)?.endpoint.trim_end_matches('/'));
                let ok = probe.get(&url).call().is_ok();
                meter.with(*node, |m| {
                    m.probes += 1;
                    m.answered += u64::from(ok);
                });
            }
            let epoch = api.epoch()?;
            let (e, last) = (epoch.epoch, epoch.last_height);
            // The last fifth of the epoch (at least 10 blocks), so a slow probe round cannot skip the window.
            let length = epoch.epoch_length;
            if e > last_epoch && height + (length / 5).max(10) >= last && height < last {
                let stats = meter.take();
                let nodes: Vec<NodeTraffic> = attached
                    .iter()
                    .map(|n| {
                        let m = stats.get(n).copied().unwrap_or_default();
                        NodeTraffic {
                            node: *n,
                            bytes_in: m.bytes_in,
                            bytes_out: m.bytes_out,
                            latency_ms: u32::try_from(m.latency_ms_sum / m.latency_samples.max(1)).unwrap_or(u32::MAX),
                            online: Ppb::from_ratio_floor(u128::from(m.answered), u128::from(m.probes.max(1)))
                                .unwrap_or(Ppb::ZERO),
                        }
                    })
                    .collect();
                let validator_latency_ms = u32::try_from(validator.0 / validator.1.max(1)).unwrap_or(u32::MAX);
                validator = (0, 0);
                let n = nodes.len();
                let o = signer.submit(
                    api,
                    Call::ReportRouterEpoch { epoch: e, validator_latency_ms, nodes },
                    Duration::from_secs(30),
                )?;
                log.line(&format!("epoch {e} report for {n} nodes: {o:?}"));
                last_epoch = e;
                reported += u64::from(o.ok());
            }
            Ok(())
        })();
        if let Err(e) = result {
            log.line(&format!("will retry: {e}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    reported
}
