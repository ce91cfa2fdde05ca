//! The explorer's HTML routes (`explorer` crate renders; this reads the same state and stored events the
//! JSON API reads). Unknown ids answer an HTML 404, bad input an HTML 400; nothing here panics on input.

use crate::http::{account_view, block_view, committed_receipt, job_view, load_outcome, node_view};
use crate::Shared;
use api::{PointsRow, ReputationView};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use explorer::pages::{self, Hit};
use explorer::validators::{CandidateRole, Election, ValidatorsPage};
use explorer::Markup;
use protocol::{Event, EventRecord};
use std::collections::HashMap;
use std::sync::Arc;
use types::AccountId;

type App = Arc<Shared>;

/// How far back history pages scan the stored events (blocks).
const SCAN_BLOCKS_MAX: u64 = 5_000;
/// Blocks on the home page.
const LATEST_BLOCKS: u64 = 20;

/// Why a page could not be served.
enum PageError {
    NotFound(String),
    Bad(String),
    Store(String),
}

impl From<store::StoreError> for PageError {
    fn from(e: store::StoreError) -> PageError {
        PageError::Store(e.to_string())
    }
}

type PageResult = Result<Markup, PageError>;

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/", get(|s: State<App>| serve(s, home)))
        .route(explorer::CSS_PATH, get(css))
        .route("/search", get(search))
        .route("/blocks/{height}", get(|s: State<App>, Path(p): Path<String>| serve(s, move |s| block(s, &p))))
        .route("/txs/{hash}", get(|s: State<App>, Path(p): Path<String>| serve(s, move |s| tx(s, &p))))
        .route("/accounts/{id}", get(|s: State<App>, Path(p): Path<String>| serve(s, move |s| account(s, &p))))
        .route("/nodes/{id}", get(|s: State<App>, Path(p): Path<String>| serve(s, move |s| node(s, &p))))
        .route(
            "/nodes/{id}/rewards/{epoch}",
            get(|s: State<App>, Path((id, ep)): Path<(String, String)>| serve(s, move |s| reward(s, &id, &ep))),
        )
        .route("/tasks/{id}", get(|s: State<App>, Path(p): Path<String>| serve(s, move |s| task(s, &p))))
        .route("/jobs/{id}", get(|s: State<App>, Path(p): Path<String>| serve(s, move |s| job(s, &p))))
        .route("/epochs/{n}", get(|s: State<App>, Path(p): Path<String>| serve(s, move |s| epoch(s, &p))))
        .route("/routers", get(|s: State<App>| serve(s, routers)))
        .route("/points", get(|s: State<App>| serve(s, points)))
        .route("/lists", get(|s: State<App>| serve(s, lists)))
        .route("/governance", get(|s: State<App>| serve(s, governance)))
        .route("/validators", get(|s: State<App>| serve(s, validators)))
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], explorer::CSS).into_response()
}

fn html(status: StatusCode, m: Markup) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], m.into_string()).into_response()
}

/// Build a page on the blocking pool (it reads the store) and answer it as HTML.
async fn serve(State(s): State<App>, build: impl FnOnce(&Shared) -> PageResult + Send + 'static) -> Response {
    let app = s.clone();
    match tokio::task::spawn_blocking(move || build(&app)).await {
        Ok(Ok(page)) => {
            let page = explorer::with_names(page.into_string(), &s.names);
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }
        Ok(Err(PageError::NotFound(msg))) => html(StatusCode::NOT_FOUND, explorer::not_found(&msg)),
        Ok(Err(PageError::Bad(msg))) => html(StatusCode::BAD_REQUEST, explorer::bad_request(&msg)),
        Ok(Err(PageError::Store(msg))) => {
            html(StatusCode::SERVICE_UNAVAILABLE, explorer::layout("Store unavailable", explorer::bad_request(&msg)))
        }
        Err(e) => html(StatusCode::SERVICE_UNAVAILABLE, explorer::bad_request(&e.to_string())),
    }
}

fn engine(s: &Shared) -> std::sync::RwLockReadGuard<'_, engine::Engine> {
    s.engine.read().expect("engine lock poisoned")
}

/// The stored events of heights `range` (clamped to the chain), each with its height.
fn events_in(s: &Shared, first: u64, last: u64) -> Result<Vec<(u64, EventRecord)>, PageError> {
    let last = last.min(s.store.last_height()?);
    let mut out = Vec::new();
    for h in first.max(1)..=last {
        if let Some(o) = load_outcome(s, h)? {
            out.extend(o.events.into_iter().map(|e| (h, e)));
        }
    }
    Ok(out)
}

/// The recent events (the last `SCAN_BLOCKS_MAX` blocks) that `keep` selects.
fn recent(s: &Shared, keep: impl Fn(&EventRecord) -> bool) -> Result<Vec<(u64, EventRecord)>, PageError> {
    let last = s.store.last_height()?;
    let mut all = events_in(s, last.saturating_sub(SCAN_BLOCKS_MAX) + 1, last)?;
    all.retain(|(_, e)| keep(e));
    Ok(all)
}

fn parse_account(text: &str) -> Result<AccountId, PageError> {
    api::path::account_id(text).ok_or_else(|| PageError::Bad(format!("“{text}” is not an account id (64 hex digits)")))
}

fn parse_number(text: &str, what: &str) -> Result<u64, PageError> {
    api::path::number(text).ok_or_else(|| PageError::Bad(format!("“{text}” is not a {what} (a number)")))
}

fn home(s: &Shared) -> PageResult {
    let (height, epoch, supply, nodes) = {
        let e = engine(s);
        let nodes = e.nodes().map(|(id, n)| node_view(&e, id, n)).collect();
        (e.height().0, e.epoch_of(e.height().next()), e.ledger().total_supply(), nodes)
    };
    let finalized = s.store.last_height()?;
    let mut blocks = Vec::new();
    for h in (finalized.saturating_sub(LATEST_BLOCKS) + 1..=finalized).rev() {
        if let Some(o) = load_outcome(s, h)? {
            blocks.push(pages::BlockRow { height: h, hash: o.block_hash, txs: o.txs.len(), events: o.events.len() });
        }
    }
    let names = s.names.clone();
    Ok(pages::home(&pages::Home { height, finalized, epoch, supply, blocks, nodes, names }))
}

fn block(s: &Shared, text: &str) -> PageResult {
    let height = parse_number(text, "block height")?;
    match block_view(s, height)? {
        Some(b) => Ok(pages::block(&b)),
        None => Err(PageError::NotFound(format!("No block at height {height}."))),
    }
}

fn tx(s: &Shared, text: &str) -> PageResult {
    let hash = api::path::hash(text)
        .ok_or_else(|| PageError::Bad(format!("“{text}” is not a transaction hash (64 hex digits)")))?;
    match committed_receipt(s, &hash)? {
        Some(r) => Ok(pages::tx(&r)),
        None => Err(PageError::NotFound(format!("No committed transaction {hash}."))),
    }
}

fn account(s: &Shared, text: &str) -> PageResult {
    let id = parse_account(text)?;
    let (view, known, is_node) = {
        let e = engine(s);
        (account_view(&e, id), e.ledger().account(&id).is_some(), e.node(&id).is_some())
    };
    let history: Vec<_> = recent(s, |e| explorer::events::names(e, &id))?.into_iter().rev().collect();
    if !known && history.is_empty() {
        return Err(PageError::NotFound(format!("No account {id} on this chain.")));
    }
    let candidate = candidate_role(s, &id, &history);
    let name = s.names.get(&id).map(String::as_str);
    let extra = pages::AccountExtra { name, is_node, candidate: candidate.as_ref() };
    Ok(pages::account(&view, &extra, &history))
}

fn node(s: &Shared, text: &str) -> PageResult {
    let id = parse_account(text)?;
    let (view, reputation, epochs, points) = {
        let e = engine(s);
        let Some(n) = e.node(&id) else { return Err(PageError::NotFound(format!("{id} is not a registered node."))) };
        let view = node_view(&e, &id, n);
        let rec = e.reputation_record(&id);
        let reputation = ReputationView {
            account: id,
            reputation: e.reputation(&id),
            client_ratings: rec.map(|r| r.by_client.iter().map(|(c, v)| (*c, v.rating)).collect()),
            network_good: rec.map_or(0, |r| r.network_good),
            network_bad: rec.map_or(0, |r| r.network_bad),
        };
        let current = e.epoch_of(e.height().next());
        let first = e.epoch_of(n.registered_at).max(1);
        let epochs: Vec<u64> = (first..current).rev().take(50).collect();
        let points = PointsRow::rows(e.epoch_points()).into_iter().find(|r| r.node == id);
        (view, reputation, epochs, points)
    };
    let scanned_from = s.store.last_height()?.saturating_sub(SCAN_BLOCKS_MAX) + 1;
    let history = recent(s, |e| explorer::events::names(e, &id))?;
    let mut series: Vec<(u64, u32)> = history
        .iter()
        .filter_map(|(h, r)| match &r.event {
            Event::RequestRated { miner, reputation, .. }
            | Event::RequestExpired { miner, reputation, .. }
            | Event::NetworkRated { miner, reputation, .. }
                if *miner == id =>
            {
                Some((*h, reputation.raw()))
            }
            _ => None,
        })
        .collect();
    series.push((s.store.last_height()?, view.reputation.raw()));
    let history: Vec<_> = history.into_iter().rev().collect();
    let candidate = candidate_role(s, &id, &history);
    let name = s.names.get(&id).cloned();
    Ok(pages::node(&pages::NodePage {
        view,
        name,
        reputation,
        series,
        epochs,
        points,
        history,
        scanned_from,
        candidate,
    }))
}

fn reward(s: &Shared, id: &str, epoch_text: &str) -> PageResult {
    let id = parse_account(id)?;
    let epoch = parse_number(epoch_text, "epoch")?;
    let (len, current, per_mb) = {
        let e = engine(s);
        (e.params().epoch_length, e.epoch_of(e.height().next()), e.params().router_reward_per_mb)
    };
    if epoch == 0 || epoch >= current {
        return Err(PageError::NotFound(format!("Epoch {epoch} has not finished (epoch {current} is in progress).")));
    }
    let (first, last) = ((epoch - 1) * len + 1, epoch * len);
    // The boundary's payouts are in the epoch's last block; one more block in case they follow it.
    let events = events_in(s, first, last + 1)?;
    let x = explorer::reward::explain(id, epoch, first..=last, &events);
    Ok(explorer::reward::page(&x, s.names.get(&id).map(String::as_str), per_mb))
}

fn task(s: &Shared, text: &str) -> PageResult {
    let id = parse_number(text, "task id")?;
    let record = engine(s).task(id).cloned();
    let events = recent(s, |e| explorer::events::about_task(e, id))?;
    if record.is_none() && events.is_empty() {
        return Err(PageError::NotFound(format!("No task {id}.")));
    }
    Ok(pages::task(id, record.as_ref(), &events))
}

fn job(s: &Shared, text: &str) -> PageResult {
    let id = api::path::job_id(text)
        .ok_or_else(|| PageError::Bad(format!("“{text}” is not a job id (a UUID: 32 hex digits, dashes allowed)")))?;
    let record = {
        let e = engine(s);
        e.job(&id).map(|j| job_view(&e, j))
    };
    let key = id.to_string();
    let events = recent(s, |e| explorer::events::about_job(e, &key))?;
    if record.is_none() && events.is_empty() {
        return Err(PageError::NotFound(format!("No job {id}.")));
    }
    Ok(pages::job(&key, record.as_ref(), &events))
}

fn epoch(s: &Shared, text: &str) -> PageResult {
    let view = crate::http::epoch_view_of(&engine(s));
    let (len, current) = (view.epoch_length, view.epoch);
    let n = if text == "current" { current } else { parse_number(text, "epoch")? };
    if n == 0 || n > current {
        return Err(PageError::NotFound(format!("No epoch {n} yet (epoch {current} is in progress).")));
    }
    let events = if n < current {
        let mut ev = events_in(s, n * len, n * len + 1)?;
        ev.retain(|(_, r)| epoch_event(&r.event, n));
        ev
    } else {
        Vec::new()
    };
    Ok(pages::epoch(n, (n == current).then_some(&view), &events))
}

/// The events of an epoch's end: emission, payouts, slashes, sweeps and the network's list.
fn epoch_event(e: &Event, n: u64) -> bool {
    match e {
        Event::EmissionMinted { epoch, .. }
        | Event::MinerRewarded { epoch, .. }
        | Event::PointsRewarded { epoch, .. }
        | Event::RouterRewarded { epoch, .. }
        | Event::RouterSlashed { epoch, .. }
        | Event::EpochEnded { epoch, .. } => *epoch == n,
        Event::PoolSwept { .. } | Event::ListPublished { owner: None, .. } => true,
        _ => false,
    }
}

fn routers(s: &Shared) -> PageResult {
    Ok(pages::routers(&crate::http::routers_of(&engine(s))))
}

fn points(s: &Shared) -> PageResult {
    Ok(pages::points(&crate::http::points_view_of(&engine(s))))
}

fn lists(s: &Shared) -> PageResult {
    Ok(pages::lists(&crate::http::lists_of(&engine(s))))
}

fn validators(s: &Shared) -> PageResult {
    let view = crate::http::validators_of(&engine(s));
    let elected = |set: Vec<protocol::validators::Elected>| {
        set.into_iter().map(|v| api::ElectedView { key: v.key, account: v.account, weight: v.weight }).collect()
    };
    let elections = recent(s, |e| matches!(e.event, Event::ValidatorSetElected { .. }))?
        .into_iter()
        .rev()
        .filter_map(|(height, r)| match r.event {
            Event::ValidatorSetElected { era, validators } => Some(Election { height, era, set: elected(validators) }),
            _ => None,
        })
        .collect();
    Ok(explorer::validators::page(&ValidatorsPage { view, elections }))
}

/// `account`'s role if it is a validator candidate's stash: its key, whether it is chilled or in the set
/// of the latest block's era, and its `ValidatorRewarded` events in `history` (newest first).
fn candidate_role(s: &Shared, account: &AccountId, history: &[(u64, EventRecord)]) -> Option<CandidateRole> {
    let (candidate, elected) = {
        let e = engine(s);
        let candidate = e.validator_candidates().into_iter().find(|c| c.account == *account)?;
        let era = e.era_of(e.height());
        let elected = e.validator_set(era).is_some_and(|set| set.iter().any(|v| v.key == candidate.key));
        (candidate, elected)
    };
    let rewards = history
        .iter()
        .filter_map(|(h, r)| match &r.event {
            Event::ValidatorRewarded { account: a, amount, .. } if a == account => Some((*h, *amount)),
            _ => None,
        })
        .collect();
    Some(CandidateRole { key: candidate.key, chilled: candidate.chilled, elected, rewards })
}

fn governance(s: &Shared) -> PageResult {
    let ps: Vec<protocol::Proposal> = engine(s).proposals().cloned().collect();
    Ok(pages::governance(&ps))
}

async fn search(State(s): State<App>, Query(q): Query<HashMap<String, String>>) -> Response {
    let q = q.get("q").cloned().unwrap_or_default();
    let app = s.clone();
    let query = q.clone();
    let found = tokio::task::spawn_blocking(move || find(&app, &query)).await;
    match found {
        Ok(Ok(hits)) if hits.len() == 1 => Redirect::to(&hits[0].url()).into_response(),
        Ok(Ok(hits)) if hits.is_empty() => html(StatusCode::NOT_FOUND, pages::search_results(&q, &hits)),
        Ok(Ok(hits)) => html(StatusCode::OK, pages::search_results(&q, &hits)),
        Ok(Err(PageError::Store(m) | PageError::Bad(m) | PageError::NotFound(m))) => {
            html(StatusCode::SERVICE_UNAVAILABLE, explorer::bad_request(&m))
        }
        Err(e) => html(StatusCode::SERVICE_UNAVAILABLE, explorer::bad_request(&e.to_string())),
    }
}

/// The candidates of a query that exist on this chain.
fn find(s: &Shared, q: &str) -> Result<Vec<Hit>, PageError> {
    let last = s.store.last_height()?;
    let mut hits = Vec::new();
    let wanted = q.trim().to_lowercase();
    for (id, name) in &s.names {
        if !wanted.is_empty() && name.to_lowercase() == wanted {
            let node = engine(s).node(id).is_some();
            hits.push(if node { Hit::Node(*id, name.clone()) } else { Hit::Account(*id) });
        }
    }
    for hit in pages::candidates(q) {
        let exists = match &hit {
            Hit::Block(h) => *h >= 1 && *h <= last,
            Hit::Tx(h) => s.store.tx_location(h)?.is_some(),
            Hit::Node(..) => true,
            Hit::Account(a) => {
                let e = engine(s);
                e.ledger().account(a).is_some() || e.node(a).is_some()
            }
            Hit::Task(t) => {
                engine(s).task(*t).is_some() || !recent(s, |e| explorer::events::about_task(e, *t))?.is_empty()
            }
            Hit::Job(j) => {
                let known = api::path::job_id(j).is_some_and(|id| engine(s).job(&id).is_some());
                known || !recent(s, |e| explorer::events::about_job(e, j))?.is_empty()
            }
        };
        if exists {
            hits.push(hit);
        }
    }
    Ok(hits)
}
