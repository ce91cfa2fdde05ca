//! The miner's HTTP endpoint (what a router relays to): `POST /infer {request, prompt}` waits for the
//! miner's answer to that request; `GET /health` answers while the miner runs. Prompts travel here,
//! off-chain; the chain only sees the request, its price and the hash of the result.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
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

#[derive(Debug, Deserialize)]
struct Infer {
    request: u64,
    prompt: String,
}

async fn infer(State(inbox): State<Arc<Inbox>>, body: String) -> (StatusCode, Json<serde_json::Value>) {
    let Ok(req) = serde_json::from_str::<Infer>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"code": "bad_json", "message": "expected {request, prompt}"})));
    };
    inbox.count(body.len());
    inbox.put_prompt(req.request, req.prompt);
    let waiter = inbox.clone();
    let answer = tokio::task::spawn_blocking(move || waiter.wait_answer(req.request, Duration::from_secs(30))).await;
    match answer {
        Ok(Some(answer)) => {
            let out = json!({"request": req.request, "answer": answer});
            inbox.count(out.to_string().len());
            (StatusCode::OK, Json(out))
        }
        _ => (
            StatusCode::GATEWAY_TIMEOUT,
            Json(json!({"code": "no_answer", "message": "the miner did not answer in time"})),
        ),
    }
}

/// Serve the endpoint on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    inbox: Arc<Inbox>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/infer", post(infer))
        .route("/health", get(|| async { Json(json!({"ok": true})) }))
        .with_state(inbox);
    axum::serve(listener, app).with_graceful_shutdown(stop).await
}
