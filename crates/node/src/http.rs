//! HTTP/JSON API: the handlers of `api::ROUTES`. Every answer is one of the `api` crate's types, and
//! `/openapi.json` is `api::openapi()`, so the document and the server cannot drift.

use crate::mempool::Refusal;
use crate::Shared;
use api::{
    AccountView, ApiError, BlockEvents, BlockTxView, BlockView, CandidateView, CommissionView, ElectedView, EpochView,
    EventsPage, FinalityView, Health, HoldView, JobView, ListView, NodeView, NodesView, NominatedView, NominationView,
    ParamsView, PendingCommission, PointsRow, PointsView, PoolsView, ReputationView, RouterView, StoredOutcome,
    SubmitBatch, SubmitResult, SubmitStatus, SupplyView, TxReceipt, TxStatus, UnbondingView, ValidatorsView,
};
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use engine::SignedTx;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use types::{AccountId, Hash};

type App = Arc<Shared>;

use api::EVENT_BLOCKS_MAX;

/// The handler of each route of `api::ROUTES`.
fn handler(route: &api::Route) -> MethodRouter<App> {
    match (route.method, route.path) {
        ("post", "/v1/txs") => post(submit),
        ("get", "/v1/accounts/{id}") => get(account),
        ("get", "/v1/blocks/{id}") => get(block),
        ("get", "/v1/txs/{hash}") => get(tx_receipt),
        ("get", "/v1/params") => get(params),
        ("get", "/v1/nodes") => get(nodes),
        ("get", "/v1/nodes/{id}") => get(node_one),
        ("get", "/v1/services") => get(services),
        ("get", "/v1/services/{id}") => get(service_one),
        ("get", "/v1/reputation/{id}") => get(reputation),
        ("get", "/v1/requests/{id}") => get(request_one),
        ("get", "/v1/tasks") => get(tasks),
        ("get", "/v1/tasks/{id}") => get(task_one),
        ("get", "/v1/jobs") => get(jobs),
        ("get", "/v1/jobs/{id}") => get(job_one),
        ("get", "/v1/epoch") => get(epoch_view),
        ("get", "/v1/points") => get(points_view),
        ("get", "/v1/lists") => get(lists_view),
        ("get", "/v1/routers") => get(routers_view),
        ("get", "/v1/validators") => get(validators_view),
        ("get", "/v1/proposals") => get(proposals),
        ("get", "/v1/proposals/{id}") => get(proposal_one),
        ("get", "/v1/supply") => get(supply),
        ("get", "/v1/events") => get(events),
        ("get", "/v1/events/stream") => get(event_stream),
        ("get", "/health") => get(health),
        ("get", "/metrics") => get(metrics),
        ("get", "/openapi.json") => get(openapi),
        (method, path) => panic!("api::ROUTES names {method} {path}, which the node does not serve"),
    }
}

pub fn router(shared: App) -> Router {
    let mut r: Router<App> = Router::new();
    for route in api::ROUTES {
        r = r.route(route.path, handler(route));
    }
    r.merge(crate::explorer::routes())
        .fallback(|| async { fail(StatusCode::NOT_FOUND, "not_found", "no such route; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            fail(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
        })
        .layer(axum::middleware::from_fn_with_state(shared.clone(), count))
        .with_state(shared)
}

async fn count(State(s): State<App>, req: Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    s.metrics.http_answered(resp.status());
    resp
}

fn fail(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(ApiError { code: code.into(), message: message.into() })).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    // Storage trouble is the node's, not the caller's: 503, and the reason.
    fail(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string())
}

// ----- submit ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitQuery {
    wait: Option<String>,
    timeout_ms: Option<u64>,
}

async fn submit(
    State(s): State<App>,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(Query(q)) = query else {
        return fail(StatusCode::BAD_REQUEST, "bad_query", "query parameters are `wait=commit` and `timeout_ms`");
    };
    let wait = match q.wait.as_deref() {
        None => false,
        Some("commit") => true,
        Some(other) => {
            return fail(StatusCode::BAD_REQUEST, "bad_query", format!("wait={other:?}: the only value is `commit`"))
        }
    };
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !json_type {
        return fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        );
    }
    let bytes = match read_body(body, s.cfg.body_limit).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    // Parse straight into transactions; serde's error class tells malformed JSON from a bad transaction.
    let batch = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let parsed = if batch {
        serde_json::from_slice::<Vec<SignedTx>>(&bytes)
    } else {
        serde_json::from_slice(&bytes).map(|t| vec![t])
    };
    let txs = match parsed {
        Ok(t) => t,
        Err(e) if matches!(e.classify(), serde_json::error::Category::Data) => {
            return fail(StatusCode::UNPROCESSABLE_ENTITY, "invalid_tx", e.to_string())
        }
        Err(e) => return fail(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()),
    };
    if txs.is_empty() {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "invalid_tx", "the batch is empty");
    }
    // Subscribe before admitting, so a block sealed in between cannot be missed.
    let mut commits = s.commits.subscribe();
    // Signature checks are CPU work: run them on the blocking pool, not on an async worker, and no more
    // at once than there are cores, so requests finish in arrival order instead of all late together.
    let Ok(permit) = s.admission.acquire().await else {
        return fail(StatusCode::SERVICE_UNAVAILABLE, "admission_failed", "the node is stopping");
    };
    let app = s.clone();
    let Ok(mut results) = tokio::task::spawn_blocking(move || admit_all(&app, txs)).await else {
        return fail(StatusCode::SERVICE_UNAVAILABLE, "admission_failed", "admission stopped unexpectedly; retry");
    };
    drop(permit);
    if results.iter().any(|r| r.status == SubmitStatus::Accepted) {
        s.wake.notify_one();
    }
    if wait {
        let limit = q.timeout_ms.unwrap_or(s.cfg.wait_ms_max).min(s.cfg.wait_ms_max);
        wait_for_commit(&s, &mut commits, &mut results, Duration::from_millis(limit)).await;
    }
    if !batch {
        let r = results.pop().expect("one transaction was submitted");
        if r.status == SubmitStatus::Refused {
            let code = r.code.clone().unwrap_or_default();
            return fail(refusal_status(&code), &code, r.message.unwrap_or_default());
        }
        let status = if r.status == SubmitStatus::Committed { StatusCode::OK } else { StatusCode::ACCEPTED };
        return (status, Json(r)).into_response();
    }
    (StatusCode::OK, Json(SubmitBatch { results })).into_response()
}

/// Read a request body of at most `limit` bytes. An oversized body is still drained (up to 4× the limit)
/// before the 413 is sent: a server that answers and closes while the client is still sending makes the
/// client see a broken connection instead of the answer.
async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, Response> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(StatusCode::BAD_REQUEST, "body_unreadable", e.to_string()))?;
        total = total.saturating_add(chunk.len());
        if total <= limit {
            buf.extend_from_slice(&chunk);
        } else if total > limit.saturating_mul(4) {
            break;
        }
    }
    if total > limit {
        return Err(fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("bodies are limited to {limit} bytes"),
        ));
    }
    Ok(buf)
}

fn refusal_status(code: &str) -> StatusCode {
    match code {
        "bad_signature" => StatusCode::UNAUTHORIZED,
        "nonce_in_use" => StatusCode::CONFLICT,
        "too_many_pending" => StatusCode::TOO_MANY_REQUESTS,
        "mempool_full" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The door, for a request's transactions at once. Signature and fee are checked first, outside every
/// lock. Then, in one consistent view of the chain, the committed check (one store read), the stale nonce
/// and the mempool's rules (no nonce gap, a cap per signer, funds for everything the signer has waiting,
/// de-duplication).
///
/// The view is the engine's read lock: the sequencer takes a block from the mempool, applies it and makes
/// it durable only under the engine's write lock, so while the read lock is held the store's index, the
/// nonces and the mempool all describe the same moment. Read apart, a resend could miss a block in the
/// index, then find the nonce it consumed (`bad_nonce` for a committed transaction), or find the mempool
/// already emptied of it (a second "accepted" for a committed hash).
fn admit_all(s: &Shared, txs: Vec<SignedTx>) -> Vec<SubmitResult> {
    let hashes: Vec<Hash> = txs.iter().map(SignedTx::hash).collect();
    let refuse = |hash: Hash, code: &str, message: String| {
        s.metrics.refused(code);
        SubmitResult {
            hash,
            status: SubmitStatus::Refused,
            code: Some(code.into()),
            message: Some(message),
            receipt: None,
        }
    };
    let (chain_id, min_fee) = {
        let e = s.engine.read().expect("engine lock poisoned");
        (e.params().chain_id.clone(), e.params().min_fee)
    };
    // What the signature and the fee say; a committed transaction is answered with its receipt instead.
    let verdicts: Vec<_> = txs.iter().map(|tx| signature_and_fee(tx, &chain_id, min_fee)).collect();
    let e = s.engine.read().expect("engine lock poisoned");
    let locations = match s.store.tx_locations(&hashes) {
        Ok(l) => l,
        Err(err) => return hashes.iter().map(|h| refuse(*h, "store_unavailable", err.to_string())).collect(),
    };
    let height = e.height().0;
    let mut mp = s.mempool.lock().expect("mempool lock poisoned");
    let mut results = Vec::with_capacity(txs.len());
    let mut gossip = Vec::new(); // in consensus mode, what was admitted (or sent again) goes to the others
    for (((tx, hash), location), verdict) in txs.into_iter().zip(hashes).zip(locations).zip(verdicts) {
        match location.map(|(height, index)| load_outcome(s, height).map(|o| o.and_then(|o| o.receipt(index)))) {
            // Applied in a block already: answer with its receipt, it never runs twice. A transaction
            // rejected in its block changed nothing, its nonce included, so it may be admitted again.
            Some(Ok(Some(receipt))) if receipt.ok() => {
                let status = SubmitStatus::Committed;
                results.push(SubmitResult { hash, status, code: None, message: None, receipt: Some(receipt) });
                continue;
            }
            Some(Err(err)) => {
                results.push(refuse(hash, "store_unavailable", err.to_string()));
                continue;
            }
            _ => {}
        }
        if let Some((code, message)) = verdict {
            results.push(refuse(hash, code, message));
            continue;
        }
        let (nonce, free) = (e.ledger().nonce(&tx.body.signer), e.ledger().free(&tx.body.signer));
        if tx.body.nonce < nonce {
            let msg = format!("nonce {} is already used; the next nonce is {nonce}", tx.body.nonce);
            results.push(refuse(hash, "bad_nonce", msg));
            continue;
        }
        let copy = s.gossip.get().map(|_| tx.clone());
        results.push(match mp.admit(hash, tx, height, nonce, free) {
            Ok(true) => {
                s.metrics.admitted();
                gossip.extend(copy);
                SubmitResult { hash, status: SubmitStatus::Accepted, code: None, message: None, receipt: None }
            }
            Ok(false) => {
                gossip.extend(copy); // a resend is gossiped again: the first gossip may have been lost
                SubmitResult { hash, status: SubmitStatus::Duplicate, code: None, message: None, receipt: None }
            }
            Err(r) => refusal(hash, r, &refuse),
        });
    }
    drop((mp, e));
    spread(s, gossip);
    results
}

/// In consensus mode, send what the door admitted to the other validators.
fn spread(s: &Shared, txs: Vec<SignedTx>) {
    if let (Some(g), false) = (s.gossip.get(), txs.is_empty()) {
        // The gossip task ends only when the node is stopping; nothing to tell the client.
        let _ = g.submit(txs);
    }
}

/// A refusal's code and message if the signature does not verify or the fee is below the minimum.
fn signature_and_fee(tx: &SignedTx, chain_id: &str, min_fee: types::Amount) -> Option<(&'static str, String)> {
    if !engine::verify_one(tx, chain_id) {
        let msg = format!("the signature does not verify for signer {} on chain {chain_id}", tx.body.signer);
        return Some(("bad_signature", msg));
    }
    (tx.body.fee < min_fee).then(|| ("fee_too_low", format!("fee {} is below the minimum {min_fee}", tx.body.fee)))
}

fn refusal(hash: Hash, r: Refusal, refuse: &impl Fn(Hash, &str, String) -> SubmitResult) -> SubmitResult {
    match r {
        Refusal::NonceInUse => {
            refuse(hash, "nonce_in_use", "another transaction with this signer and nonce is waiting".into())
        }
        Refusal::NonceGap { next } => {
            refuse(hash, "nonce_gap", format!("the signer's next usable nonce is {next}; submit that one first"))
        }
        Refusal::TooManyPending => refuse(
            hash,
            "too_many_pending",
            format!("the signer already has {} transactions waiting", crate::mempool::PENDING_PER_SIGNER_MAX),
        ),
        Refusal::InsufficientFunds { needed, free } => refuse(
            hash,
            "insufficient_funds",
            format!("free balance {free} does not cover {needed} (this and the signer's waiting transactions)"),
        ),
        Refusal::Full => refuse(hash, "mempool_full", "the mempool is full; retry later".into()),
    }
}

async fn wait_for_commit(
    s: &Shared,
    commits: &mut tokio::sync::broadcast::Receiver<Arc<StoredOutcome>>,
    results: &mut [SubmitResult],
    limit: Duration,
) {
    let mut waiting: BTreeSet<Hash> = results
        .iter()
        .filter(|r| matches!(r.status, SubmitStatus::Accepted | SubmitStatus::Duplicate))
        .map(|r| r.hash)
        .collect();
    let deadline = tokio::time::Instant::now() + limit;
    while !waiting.is_empty() {
        match tokio::time::timeout_at(deadline, commits.recv()).await {
            Err(_) => break,
            Ok(Ok(outcome)) => {
                for t in &outcome.txs {
                    if waiting.remove(&t.hash) {
                        if let Some(r) = results.iter_mut().find(|r| r.hash == t.hash) {
                            r.status = SubmitStatus::Committed;
                            r.receipt = outcome.receipt(t.index);
                        }
                    }
                }
            }
            // Fell behind the broadcast: look the rest up in the store.
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                let still: Vec<Hash> = waiting.iter().copied().collect();
                for r in results.iter_mut().filter(|r| still.contains(&r.hash)) {
                    if let Ok(Some(receipt)) = committed_receipt(s, &r.hash) {
                        waiting.remove(&r.hash);
                        r.status = SubmitStatus::Committed;
                        r.receipt = Some(receipt);
                    }
                }
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
        }
    }
    for r in results.iter_mut().filter(|r| waiting.contains(&r.hash)) {
        r.status = SubmitStatus::Pending;
    }
}

/// The node's stored outcome (receipts and events) of the block at `height`, decoded.
pub(crate) fn load_outcome(s: &Shared, height: u64) -> Result<Option<StoredOutcome>, store::StoreError> {
    let Some(bytes) = s.store.outcome(height)? else { return Ok(None) };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| store::StoreError::CorruptBlock { height, reason: format!("outcome does not decode: {e}") })
}

/// How the block at `height` was finalized: sealed by this node alone, or the evidence a validator stored
/// with it (`unrecorded` for a block stored before evidence was kept).
pub(crate) fn load_finality(s: &Shared, height: u64) -> Result<FinalityView, store::StoreError> {
    if s.cfg.validator_key.is_none() {
        return Ok(FinalityView::SingleNode);
    }
    let Some(bytes) = s.store.finality(height)? else { return Ok(FinalityView::Unrecorded) };
    serde_json::from_slice(&bytes).map_err(|e| store::StoreError::CorruptBlock {
        height,
        reason: format!("finality evidence does not decode: {e}"),
    })
}

pub(crate) fn committed_receipt(s: &Shared, hash: &Hash) -> Result<Option<TxReceipt>, store::StoreError> {
    let Some((height, index)) = s.store.tx_location(hash)? else { return Ok(None) };
    Ok(load_outcome(s, height)?.and_then(|o| o.receipt(index)))
}

// ----- queries -----------------------------------------------------------------------------------

fn path_text(raw: Result<Path<String>, PathRejection>) -> Option<String> {
    raw.ok().map(|Path(v)| v)
}

fn parse_account(raw: Result<Path<String>, PathRejection>) -> Option<AccountId> {
    path_text(raw).and_then(|v| api::path::account_id(&v))
}

fn bad_account() -> Response {
    fail(StatusCode::BAD_REQUEST, "bad_account_id", "an account id is 64 hex digits")
}

fn parse_number(raw: Result<Path<String>, PathRejection>) -> Option<u64> {
    path_text(raw).and_then(|v| api::path::number(&v))
}

fn bad_id(what: &str) -> Response {
    fail(StatusCode::BAD_REQUEST, &format!("bad_{what}_id"), format!("a {what} id is a number"))
}

fn hold_view(h: &engine::Hold) -> HoldView {
    HoldView {
        id: h.id,
        payer: h.payer,
        owner: h.tag.owner,
        reason: h.tag.reason,
        amount: h.amount,
        created_at: h.created_at,
        expires_at: h.expires_at,
    }
}

async fn account(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = parse_account(id) else { return bad_account() };
    let e = s.engine.read().expect("engine lock poisoned");
    Json(account_view(&e, id)).into_response()
}

/// An account's balances, unbonding chunks and the holds it pays, now.
pub(crate) fn account_view(e: &engine::Engine, id: AccountId) -> AccountView {
    let a = e.ledger().account(&id).cloned().unwrap_or_default();
    let chunks = a.unbonding_chunks.iter();
    AccountView {
        id,
        free: a.free,
        held: a.held,
        bonded: a.bonded,
        unbonding: a.unbonding,
        nonce: a.nonce,
        unbonding_chunks: chunks
            .map(|c| UnbondingView { amount: c.amount, unbonded_at: c.unbonded_at, matures_at: c.matures_at })
            .collect(),
        holds: e.ledger().holds().filter(|h| h.payer == id).map(hold_view).collect(),
        nominated: e
            .nominations_by(&id)
            .into_iter()
            .map(|(node, n)| NominatedView { node, active: n.active, unbonding: chunks_of(&n) })
            .collect(),
        height: e.height().0,
    }
}

async fn block(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = path_text(id).and_then(|v| api::path::block_id(&v)) else {
        return fail(StatusCode::BAD_REQUEST, "bad_block_id", "a block id is a height or 64 hex digits");
    };
    let height = match id {
        api::path::BlockId::Height(h) => h,
        api::path::BlockId::Hash(hash) => match s.store.height_of_block(&hash) {
            Ok(Some(h)) => h,
            Ok(None) => return fail(StatusCode::NOT_FOUND, "not_found", format!("no block with hash {hash}")),
            Err(e) => return internal(e),
        },
    };
    match block_view(&s, height) {
        Ok(Some(b)) => Json(b).into_response(),
        Ok(None) => fail(StatusCode::NOT_FOUND, "not_found", format!("no block at height {height}")),
        Err(e) => internal(e),
    }
}

/// The durable block at `height` with its receipts, events and finality (`None` if there is none).
pub(crate) fn block_view(s: &Shared, height: u64) -> Result<Option<BlockView>, store::StoreError> {
    let (Some(b), Some(outcome)) = (s.store.block(height)?, load_outcome(s, height)?) else { return Ok(None) };
    let finality = load_finality(s, height)?;
    let txs = b
        .txs
        .iter()
        .zip(&outcome.txs)
        .map(|(tx, c)| BlockTxView { hash: c.hash, code: c.code.clone(), tx: tx.clone() })
        .collect();
    Ok(Some(BlockView {
        height,
        hash: b.hash(),
        parent_hash: b.parent_hash,
        state_root: b.state_root,
        proposer: b.proposer,
        txs,
        events: outcome.events,
        finality,
    }))
}

async fn tx_receipt(State(s): State<App>, hash: Result<Path<String>, PathRejection>) -> Response {
    let Some(hash) = path_text(hash).and_then(|v| api::path::hash(&v)) else {
        return fail(StatusCode::BAD_REQUEST, "bad_tx_hash", "a transaction hash is 64 hex digits");
    };
    match committed_receipt(&s, &hash) {
        Ok(Some(r)) => Json(r).into_response(),
        Ok(None) if s.mempool.lock().expect("mempool lock poisoned").contains(&hash) => Json(TxReceipt {
            hash,
            status: TxStatus::Pending,
            height: None,
            index: None,
            code: None,
            message: None,
            events: Vec::new(),
        })
        .into_response(),
        Ok(None) => fail(StatusCode::NOT_FOUND, "not_found", format!("no transaction {hash}")),
        Err(e) => internal(e),
    }
}

async fn params(State(s): State<App>) -> Response {
    let e = s.engine.read().expect("engine lock poisoned");
    Json(ParamsView {
        params: e.params().clone(),
        height: e.height(),
        treasury: e.treasury(),
        oracle_stake: e.oracle_stake(),
        scheduled_upgrade: e.scheduled_upgrade(),
        max_protocol_version: e.max_protocol_version(),
    })
    .into_response()
}

pub(crate) fn node_view(e: &engine::Engine, id: &AccountId, n: &engine::NodeRecord) -> NodeView {
    NodeView {
        account: *id,
        roles: n.roles.clone(),
        services: n.services.clone(),
        capacity: n.capacity,
        endpoint: n.endpoint.clone(),
        status: e.miner_status_at(id, e.height()),
        last_heartbeat: n.last_heartbeat,
        registered_at: n.registered_at,
        bonded: e.ledger().bonded(id),
        reputation: e.reputation(id),
        own_stake: e.own_stake(id),
        nominated_total: e.nominated_to(id),
        selection_weight: types::Amount(e.selection_weight(id)),
        nominations: e
            .nominations(id)
            .into_iter()
            .map(|(nominator, n)| NominationView { nominator, active: n.active, unbonding: chunks_of(&n) })
            .collect(),
        commission: commission_view(e.commission(id)),
    }
}

/// A nomination's unbonding chunks as the API shows them.
fn chunks_of(n: &engine::Nomination) -> Vec<UnbondingView> {
    n.unbonding
        .iter()
        .map(|c| UnbondingView { amount: c.amount, unbonded_at: c.unbonded_at, matures_at: c.matures_at })
        .collect()
}

fn commission_view(c: engine::Commission) -> CommissionView {
    CommissionView {
        current: c.current,
        pending: c.pending.map(|(commission, effective_at)| PendingCommission { commission, effective_at }),
    }
}

async fn nodes(State(s): State<App>) -> Response {
    let e = s.engine.read().expect("engine lock poisoned");
    let nodes = e.nodes().map(|(id, n)| node_view(&e, id, n)).collect();
    Json(NodesView { height: e.height(), nodes }).into_response()
}

async fn node_one(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = parse_account(id) else { return bad_account() };
    let e = s.engine.read().expect("engine lock poisoned");
    match e.node(&id) {
        Some(n) => Json(node_view(&e, &id, n)).into_response(),
        None => fail(StatusCode::NOT_FOUND, "not_found", format!("{id} is not registered")),
    }
}

async fn services(State(s): State<App>) -> Response {
    let e = s.engine.read().expect("engine lock poisoned");
    Json(e.services().cloned().collect::<Vec<_>>()).into_response()
}

async fn service_one(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = parse_number(id) else { return bad_id("service") };
    let e = s.engine.read().expect("engine lock poisoned");
    match u32::try_from(id).ok().and_then(|id| e.service(id)) {
        Some(sv) => Json(sv).into_response(),
        None => fail(StatusCode::NOT_FOUND, "not_found", format!("no service {id}")),
    }
}

async fn reputation(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = parse_account(id) else { return bad_account() };
    let e = s.engine.read().expect("engine lock poisoned");
    let rec = e.reputation_record(&id);
    Json(ReputationView {
        account: id,
        reputation: e.reputation(&id),
        client_ratings: rec.map(|r| r.by_client.iter().map(|(c, v)| (*c, v.rating)).collect()),
        network_good: rec.map_or(0, |r| r.network_good),
        network_bad: rec.map_or(0, |r| r.network_bad),
    })
    .into_response()
}

async fn request_one(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = parse_number(id) else { return bad_id("request") };
    let e = s.engine.read().expect("engine lock poisoned");
    match e.request(id) {
        Some(r) => Json(r).into_response(),
        None => {
            fail(StatusCode::NOT_FOUND, "not_found", format!("no request {id} (it may have expired or been forgotten)"))
        }
    }
}

async fn tasks(State(s): State<App>) -> Response {
    let e = s.engine.read().expect("engine lock poisoned");
    Json(e.tasks().cloned().collect::<Vec<_>>()).into_response()
}

async fn task_one(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = parse_number(id) else { return bad_id("task") };
    let e = s.engine.read().expect("engine lock poisoned");
    match e.task(id) {
        Some(t) => Json(t).into_response(),
        None => fail(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no task {id} (never existed, or forgotten after it finished)"),
        ),
    }
}

pub(crate) fn job_view(e: &engine::Engine, job: &engine::Job) -> JobView {
    JobView { job: job.clone(), escrow: e.job_escrow(&job.id), due: job.due(), height: e.height().0 }
}

async fn jobs(State(s): State<App>) -> Response {
    let e = s.engine.read().expect("engine lock poisoned");
    Json(e.jobs().map(|j| job_view(&e, j)).collect::<Vec<_>>()).into_response()
}

async fn job_one(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = path_text(id).and_then(|v| api::path::job_id(&v)) else {
        return fail(StatusCode::BAD_REQUEST, "bad_job_id", "a job id is a UUID (32 hex digits, dashes allowed)");
    };
    let e = s.engine.read().expect("engine lock poisoned");
    match e.job(&id) {
        Some(j) => Json(job_view(&e, j)).into_response(),
        None => fail(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no job {id} (never ordered, or forgotten after it settled)"),
        ),
    }
}

async fn epoch_view(State(s): State<App>) -> Response {
    Json(epoch_view_of(&s.engine.read().expect("engine lock poisoned"))).into_response()
}

/// The current epoch, its bounds and pools (the JSON API's and the explorer's).
pub(crate) fn epoch_view_of(e: &engine::Engine) -> EpochView {
    let p = e.params();
    let epoch = e.epoch_of(e.height().next());
    let pool = |name: &str| e.ledger().free(&types::AccountId::system(name));
    EpochView {
        height: e.height().0,
        epoch,
        epoch_length: p.epoch_length,
        first_height: (epoch - 1) * p.epoch_length + 1,
        last_height: epoch * p.epoch_length,
        emission_per_epoch: p.emission_per_epoch,
        pools: PoolsView {
            miners: pool(engine::MINERS_POOL_NAME),
            points: pool(engine::POINTS_POOL_NAME),
            routers: pool(engine::ROUTERS_POOL_NAME),
            background: pool(engine::BACKGROUND_POOL_NAME),
            treasury: e.ledger().free(&e.treasury()),
        },
        minted: e.ledger().minted(),
    }
}

async fn points_view(State(s): State<App>) -> Response {
    Json(points_view_of(&s.engine.read().expect("engine lock poisoned"))).into_response()
}

/// This epoch's points so far and the last epoch's (the JSON API's and the explorer's).
pub(crate) fn points_view_of(e: &engine::Engine) -> PointsView {
    let (last_epoch, last) = e.last_epoch_points();
    PointsView {
        epoch: e.epoch_of(e.height().next()),
        current: PointsRow::rows(e.epoch_points()),
        last_epoch,
        last: PointsRow::rows(last),
    }
}

async fn lists_view(State(s): State<App>) -> Response {
    Json(lists_of(&s.engine.read().expect("engine lock poisoned"))).into_response()
}

/// Every published list (the JSON API's and the explorer's).
pub(crate) fn lists_of(e: &engine::Engine) -> Vec<ListView> {
    e.lists()
        .into_iter()
        .map(|(owner, name, l)| ListView {
            owner,
            name: name.to_string(),
            nodes: l.nodes.clone(),
            published_at: l.published_at,
        })
        .collect()
}

async fn routers_view(State(s): State<App>) -> Response {
    Json(routers_of(&s.engine.read().expect("engine lock poisoned"))).into_response()
}

/// Every router with its collateral, roster, report and formula terms (the JSON API's and the explorer's).
pub(crate) fn routers_of(e: &engine::Engine) -> Vec<RouterView> {
    e.nodes()
        .filter(|(_, n)| n.roles.contains(&engine::Role::Router))
        .map(|(id, _)| {
            let report = e.router_report(id);
            RouterView {
                router: *id,
                collateral: e.ledger().bonded(id),
                attached: e.attached(id),
                report: report.cloned(),
                score: report.map(|r| e.router_score(id, r)),
                connectivity_ppb: e.router_connectivity(id).map(|c| c.raw()),
            }
        })
        .collect()
}

async fn validators_view(State(s): State<App>) -> Response {
    Json(validators_of(&s.engine.read().expect("engine lock poisoned"))).into_response()
}

/// The era of the latest block, its set, the next era's once elected, and every candidate with its weight
/// now (the JSON API's and the explorer's).
pub(crate) fn validators_of(e: &engine::Engine) -> ValidatorsView {
    let era = e.era_of(e.height());
    let view = |set: &[protocol::validators::Elected]| {
        set.iter().map(|v| ElectedView { key: v.key, account: v.account, weight: v.weight }).collect::<Vec<_>>()
    };
    let candidates = e
        .validator_candidates()
        .into_iter()
        .map(|c| {
            let weight = e.candidate_weight(&c.account);
            CandidateView { key: c.key, account: c.account, p2p: c.p2p, chilled: c.chilled, weight }
        })
        .collect();
    ValidatorsView {
        height: e.height().0,
        era,
        era_blocks: e.params().era_blocks,
        validators_max: e.params().validators_max,
        current: e.validator_set(era).map(view).unwrap_or_default(),
        next: e.validator_set(era + 1).map(view),
        candidates,
    }
}

async fn proposals(State(s): State<App>) -> Response {
    let e = s.engine.read().expect("engine lock poisoned");
    Json(e.proposals().cloned().collect::<Vec<_>>()).into_response()
}

async fn proposal_one(State(s): State<App>, id: Result<Path<String>, PathRejection>) -> Response {
    let Some(id) = parse_number(id) else { return bad_id("proposal") };
    let e = s.engine.read().expect("engine lock poisoned");
    match e.proposal(id) {
        Some(p) => Json(p).into_response(),
        None => fail(StatusCode::NOT_FOUND, "not_found", format!("no proposal {id}")),
    }
}

async fn supply(State(s): State<App>) -> Response {
    let e = s.engine.read().expect("engine lock poisoned");
    let l = e.ledger();
    let accounts_total = l
        .accounts_sorted()
        .iter()
        .try_fold(types::Amount::ZERO, |acc, (_, a)| a.total().and_then(|t| acc.checked_add(t)));
    let check = e.check_invariants();
    Json(SupplyView {
        height: e.height(),
        genesis: l.genesis_supply(),
        minted: l.minted(),
        burned: l.burned(),
        total_supply: l.total_supply(),
        accounts_total,
        conserved: check.is_ok() && accounts_total == Some(l.total_supply()),
        violation: check.err().map(|v| v.to_string()),
    })
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    since: Option<u64>,
    limit: Option<u64>,
}

fn read_events(s: &Shared, since: u64, limit: u64) -> Result<EventsPage, store::StoreError> {
    let last = s.store.last_height()?;
    let since = since.max(1);
    let end = last.min(since.saturating_add(limit.clamp(1, EVENT_BLOCKS_MAX)) - 1);
    let mut blocks = Vec::new();
    for h in since..=end {
        let Some(o) = load_outcome(s, h)? else { break };
        if !o.events.is_empty() {
            blocks.push(BlockEvents { height: h, events: o.events });
        }
    }
    Ok(EventsPage { next: end.max(since - 1) + 1, blocks })
}

async fn events(State(s): State<App>, query: Result<Query<EventsQuery>, QueryRejection>) -> Response {
    let Ok(Query(q)) = query else {
        return fail(StatusCode::BAD_REQUEST, "bad_query", "query parameters are `since` and `limit` (numbers)");
    };
    let app = s.clone();
    let read = tokio::task::spawn_blocking(move || {
        read_events(&app, q.since.unwrap_or(1), q.limit.unwrap_or(EVENT_BLOCKS_MAX))
    });
    match read.await {
        Ok(Ok(page)) => Json(page).into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    since: Option<u64>,
}

async fn event_stream(State(s): State<App>, query: Result<Query<StreamQuery>, QueryRejection>) -> Response {
    let Ok(Query(q)) = query else {
        return fail(StatusCode::BAD_REQUEST, "bad_query", "the query parameter is `since` (a number)");
    };
    let rx = s.commits.subscribe();
    let shutdown = s.shutdown.clone();
    let app = s.clone();
    let backlog = tokio::task::spawn_blocking(move || stream_backlog(&app, q.since)).await;
    let mut backlog = match backlog {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let last_sent = backlog.last().map_or(0, |o| o.height);
    backlog.reverse();
    let state = (backlog, rx, last_sent, shutdown);
    let stream = futures_util::stream::unfold(state, |(mut backlog, mut rx, mut last, mut shutdown)| async move {
        let outcome = if let Some(o) = backlog.pop() {
            o
        } else {
            loop {
                tokio::select! {
                    r = rx.recv() => match r {
                        Ok(o) if o.height > last => break o,
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                    // The node is stopping: end the stream so graceful shutdown can finish.
                    _ = shutdown.changed() => return None,
                }
            }
        };
        last = outcome.height;
        let data = serde_json::to_string(&*outcome).unwrap_or_default();
        let ev = SseEvent::default().event("block").id(outcome.height.to_string()).data(data);
        Some((Ok::<_, std::convert::Infallible>(ev), (backlog, rx, last, shutdown)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// Stored outcomes from `since` (at most `EVENT_BLOCKS_MAX` blocks), for a stream's backlog.
fn stream_backlog(s: &Shared, since: Option<u64>) -> Result<Vec<Arc<StoredOutcome>>, store::StoreError> {
    let Some(since) = since else { return Ok(Vec::new()) };
    let last = s.store.last_height()?;
    let mut backlog = Vec::new();
    for h in since.max(1)..=last.min(since.saturating_add(EVENT_BLOCKS_MAX)) {
        let Some(o) = load_outcome(s, h)? else { break };
        backlog.push(Arc::new(o));
    }
    Ok(backlog)
}

async fn health(State(s): State<App>) -> Response {
    let (height, root, hash) = {
        let e = s.engine.read().expect("engine lock poisoned");
        (e.height(), e.state_root(), e.last_block_hash())
    };
    let mempool = s.mempool.lock().expect("mempool lock poisoned").len();
    Json(Health { status: "ok".into(), height, state_root: root, last_block_hash: hash, mempool: mempool as u64 })
        .into_response()
}

async fn metrics(State(s): State<App>) -> Response {
    let height = s.engine.read().expect("engine lock poisoned").height().0;
    let mempool = s.mempool.lock().expect("mempool lock poisoned").len();
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], s.metrics.render(height, mempool)).into_response()
}

async fn openapi() -> Response {
    Json(api::openapi()).into_response()
}
