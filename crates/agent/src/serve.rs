//! The miner's HTTP endpoint (what a router relays to): `POST /infer {request, prompt}` waits for the
//! miner's answer to that request; `GET /health` answers while the miner runs. Prompts travel here,
//! off-chain; the chain only sees the request, its price and the hash of the result.

use api::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[derive(Debug, Default)]
struct Slot {
    prompt: Option<String>,
    answer: Option<String>,
}

/// Prompts that arrived for requests, and the answers the miner produced; shared by the HTTP handlers and
/// the miner's loop.
#[derive(Debug, Default)]
pub struct Inbox {
    slots: Mutex<BTreeMap<u64, Slot>>,
    answered: Condvar,
    /// Bytes received and sent through `/infer` since the last [`Inbox::take_bytes`].
    bytes: Mutex<u64>,
}

impl Inbox {
    pub fn prompt(&self, request: u64) -> Option<String> {
        self.slots.lock().expect("inbox lock").get(&request).and_then(|s| s.prompt.clone())
    }

    pub fn answer(&self, request: u64, answer: String) {
        self.slots.lock().expect("inbox lock").entry(request).or_default().answer = Some(answer);
        self.answered.notify_all();
    }

    pub fn take_bytes(&self) -> u64 {
        std::mem::take(&mut *self.bytes.lock().expect("inbox lock"))
    }

    fn put_prompt(&self, request: u64, prompt: String) {
        self.slots.lock().expect("inbox lock").entry(request).or_default().prompt = Some(prompt);
    }

    /// Wait up to `timeout` for the answer to `request` (then forget the slot).
    fn wait_answer(&self, request: u64, timeout: Duration) -> Option<String> {
        let slots = self.slots.lock().expect("inbox lock");
        let (mut slots, _) = self
            .answered
            .wait_timeout_while(slots, timeout, |s| s.get(&request).is_none_or(|x| x.answer.is_none()))
            .expect("inbox lock");
        slots.remove(&request).and_then(|s| s.answer)
    }

    fn count(&self, n: usize) {
        *self.bytes.lock().expect("inbox lock") += n as u64;
    }
}

/// What a client sends, through a router, to a miner's `/infer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayRequest {
    pub request: u64,
    pub prompt: String,
}

/// A miner's answer to a [`RelayRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayAnswer {
    pub request: u64,
    pub answer: String,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ApiError { code: code.into(), message: message.into() })).into_response()
}

async fn infer(State(inbox): State<Arc<Inbox>>, body: String) -> Response {
    let Ok(req) = serde_json::from_str::<RelayRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_json", "expected {request, prompt}");
    };
    inbox.count(body.len());
    inbox.put_prompt(req.request, req.prompt);
    let waiter = inbox.clone();
    let answer = tokio::task::spawn_blocking(move || waiter.wait_answer(req.request, Duration::from_secs(30))).await;
    match answer {
        Ok(Some(answer)) => {
            let out = RelayAnswer { request: req.request, answer };
            inbox.count(serde_json::to_string(&out).map_or(0, |s| s.len()));
            (StatusCode::OK, Json(out)).into_response()
        }
        _ => error(StatusCode::GATEWAY_TIMEOUT, "no_answer", "the miner did not answer in time"),
    }
}

/// What a miner's `/health` says (routers probe it for the node's online fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerHealth {
    pub ok: bool,
}

/// Serve the endpoint on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    inbox: Arc<Inbox>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/infer", post(infer))
        .route("/health", get(|| async { Json(MinerHealth { ok: true }) }))
        .with_state(inbox);
    axum::serve(listener, app).with_graceful_shutdown(stop).await
}
