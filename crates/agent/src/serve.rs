//! The miner's HTTP endpoint (what a router relays to): `POST /infer` takes a [`SealedRequest`] (a prompt
//! sealed to this miner's account by the request's client, `crate::seal`), waits for the miner's answer to
//! that request and returns it sealed to the client; `GET /health` answers while the miner runs. Prompts
//! travel here, off-chain and encrypted end to end; the chain only sees the request, its price and the
//! hash of the result.

use crate::seal::{open_request, Identity, SealedRequest};
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
use types::AccountId;

#[derive(Debug, Default)]
struct Slot {
    prompt: Option<String>,
    answer: Option<String>,
}

/// Prompts that arrived for requests, and the answers the miner produced; shared by the HTTP handlers and
/// the miner's loop.
#[derive(Debug, Default)]
pub struct Inbox {
    /// Keyed by request and the client that sealed the prompt: a prompt counts only for the request's
    /// own client, so nobody can fill another client's slot.
    slots: Mutex<BTreeMap<(u64, AccountId), Slot>>,
    answered: Condvar,
    /// Bytes received and sent through `/infer` since the last [`Inbox::take_bytes`].
    bytes: Mutex<u64>,
}

impl Inbox {
    /// The prompt `client` sent for `request`, if it arrived.
    pub fn prompt(&self, request: u64, client: AccountId) -> Option<String> {
        self.slots.lock().expect("inbox lock").get(&(request, client)).and_then(|s| s.prompt.clone())
    }

    pub fn answer(&self, request: u64, client: AccountId, answer: String) {
        self.slots.lock().expect("inbox lock").entry((request, client)).or_default().answer = Some(answer);
        self.answered.notify_all();
    }

    pub fn take_bytes(&self) -> u64 {
        std::mem::take(&mut *self.bytes.lock().expect("inbox lock"))
    }

    fn put_prompt(&self, request: u64, client: AccountId, prompt: String) {
        self.slots.lock().expect("inbox lock").entry((request, client)).or_default().prompt = Some(prompt);
    }

    /// Wait up to `timeout` for the answer to `request` (then forget the slot).
    fn wait_answer(&self, request: u64, client: AccountId, timeout: Duration) -> Option<String> {
        let key = (request, client);
        let slots = self.slots.lock().expect("inbox lock");
        let (mut slots, _) = self
            .answered
            .wait_timeout_while(slots, timeout, |s| s.get(&key).is_none_or(|x| x.answer.is_none()))
            .expect("inbox lock");
        slots.remove(&key).and_then(|s| s.answer)
    }

    fn count(&self, n: usize) {
        *self.bytes.lock().expect("inbox lock") += n as u64;
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ApiError { code: code.into(), message: message.into() })).into_response()
}

#[derive(Debug, Clone)]
struct Endpoint {
    inbox: Arc<Inbox>,
    identity: Arc<Identity>,
}

async fn infer(State(ep): State<Endpoint>, body: String) -> Response {
    let Ok(req) = serde_json::from_str::<SealedRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_json", "expected a sealed request");
    };
    // A prompt that does not open (altered, sealed to another miner or by someone else) is refused before
    // it reaches the inbox, and its bytes are not counted as traffic this node confirms.
    let (prompt, session) = match open_request(&ep.identity, &req) {
        Ok(x) => x,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.code(), &e.to_string()),
    };
    let (inbox, request, client) = (ep.inbox, req.request, req.client);
    inbox.count(body.len());
    inbox.put_prompt(request, client, prompt);
    let waiter = inbox.clone();
    let answer =
        tokio::task::spawn_blocking(move || waiter.wait_answer(request, client, Duration::from_secs(90))).await;
    let Ok(Some(answer)) = answer else {
        return error(StatusCode::GATEWAY_TIMEOUT, "no_answer", "the miner did not answer in time");
    };
    match session.seal_answer(request, &answer).map(|a| serde_json::to_string(&a)) {
        Ok(Ok(out)) => {
            inbox.count(out.len());
            (StatusCode::OK, [(axum::http::header::CONTENT_TYPE, "application/json")], out).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "seal_failed", &e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), &e.to_string()),
    }
}

/// What a miner's `/health` says (routers probe it for the node's online fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerHealth {
    pub ok: bool,
}

/// Serve the endpoint of the miner `identity` on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    inbox: Arc<Inbox>,
    identity: Arc<Identity>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/infer", post(infer))
        .route("/health", get(|| async { Json(MinerHealth { ok: true }) }))
        .with_state(Endpoint { inbox, identity });
    axum::serve(listener, app).with_graceful_shutdown(stop).await
}
