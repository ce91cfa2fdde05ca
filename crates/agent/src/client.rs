//! The client agent: submits requests (and tasks), sends each request's prompt to its miner through a
//! router, sealed to the miner's account (`crate::seal`: the router meters it but cannot read it), checks
//! the miner's on-chain result hash against the answer it got, and rates the request.

use crate::seal::{seal_request, Identity, SealedAnswer};
use crate::{AgentError, Log};
use ::client::{Client, Outcome, Signer};
use protocol::{Call, Event, Rating, RequestStatus, TaskState};
use std::time::{Duration, Instant};
use types::{AccountId, Amount};

/// Relay `prompt` for request `id` to `miner` through the router at `router`, sealed from `me` to the
/// miner; the miner's answer, opened. `None` when the router or the miner failed, or the answer did not
/// open (altered on the way).
pub fn relay(router: &str, me: &Identity, miner: &AccountId, id: u64, prompt: &str) -> Option<String> {
    let (sealed, session) = seal_request(me, miner, id, prompt).ok()?;
    let http = ureq::AgentBuilder::new().timeout(Duration::from_secs(110)).build();
    let body = serde_json::to_string(&sealed).ok()?;
    let answer = http
        .post(&format!("{}/relay/{miner}", router.trim_end_matches('/')))
        .set("Content-Type", "application/json")
        .send_string(&body)
        .ok()?
        .into_json::<SealedAnswer>()
        .ok()?;
    (answer.request == id).then(|| session.open_answer(&answer).ok()).flatten()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub requests: u64,
    pub answered: u64,
    pub rated_good: u64,
    pub rated_bad: u64,
    pub unserved: u64,
    pub tasks_ended: u64,
    pub tasks_failed: u64,
}

/// What `stakework client` prints once it is done (after "client NAME: ").
impl std::fmt::Display for ClientStats {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let s = self;
        write!(
            f,
            "{} requests, {} answered through the router, {} rated good, {} bad, {} unserved; tasks {} ended, {} failed",
            s.requests, s.answered, s.rated_good, s.rated_bad, s.unserved, s.tasks_ended, s.tasks_failed
        )
    }
}

/// What `stakework client --json` prints once it is done: its own figures (not the node's), read back by
/// whoever started it (the demo).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ClientReport {
    pub requests: u64,
    pub answered: u64,
    pub rated_good: u64,
    pub rated_bad: u64,
    pub unserved: u64,
    pub tasks_ended: u64,
    pub tasks_failed: u64,
    /// Mean blocks from a burst request's submission to its completion (0 without a burst).
    pub mean_wait_blocks: f64,
}

impl ClientReport {
    pub fn new(stats: &ClientStats, mean_wait_blocks: f64) -> ClientReport {
        ClientReport {
            requests: stats.requests,
            answered: stats.answered,
            rated_good: stats.rated_good,
            rated_bad: stats.rated_bad,
            unserved: stats.unserved,
            tasks_ended: stats.tasks_ended,
            tasks_failed: stats.tasks_failed,
            mean_wait_blocks,
        }
    }
}

fn submitted_request(o: &Outcome) -> Option<(u64, AccountId)> {
    o.events().iter().find_map(|e| match e.event {
        Event::RequestSubmitted { request, miner, .. } => Some((request, miner)),
        _ => None,
    })
}

/// Who the client is and how it reaches the network.
#[derive(Debug)]
pub struct ClientCtx<'a> {
    pub api: &'a Client,
    pub signer: &'a Signer,
    /// The router's relay URL.
    pub router: &'a str,
    pub log: &'a Log,
}

/// One request end to end: placed on chain, prompt relayed, result hash checked, rated. A request that
/// cannot be placed (no Ready miner, funds) or is never completed counts as unserved.
pub fn request_once(
    ctx: &ClientCtx,
    service: u32,
    max_price: Amount,
    prompt: &str,
    stats: &mut ClientStats,
) -> Result<(), AgentError> {
    let (api, signer, router, log) = (ctx.api, ctx.signer, ctx.router, ctx.log);
    let o = signer.submit(api, Call::SubmitRequest { service, max_price, avoid: vec![] }, Duration::from_secs(30))?;
    let Some((id, miner)) = submitted_request(&o) else {
        log.line(&format!("request not placed: {o:?}"));
        stats.unserved += 1;
        return Ok(());
    };
    stats.requests += 1;
    let answer = relay(router, &Identity::new(signer.key()), &miner, id, prompt);
    if answer.is_some() {
        stats.answered += 1;
    }
    settle(ctx, id, answer.as_deref(), stats)?;
    Ok(())
}

/// Wait for request `id`'s completion on chain (or its expiry), check the result hash against `answer`
/// and rate it. Returns the blocks from submission to completion, if it was completed.
fn settle(ctx: &ClientCtx, id: u64, answer: Option<&str>, stats: &mut ClientStats) -> Result<Option<u64>, AgentError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        match ctx.api.request(id) {
            Ok(r) if matches!(r.status, RequestStatus::Completed { .. }) => break Some(r),
            Err(::client::ClientError::Node { .. }) => break None,
            _ if Instant::now() > deadline => break None,
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let Some(r) = done else {
        stats.unserved += 1;
        return Ok(None);
    };
    let RequestStatus::Completed { at, result_hash } = r.status else { return Ok(None) };
    let good = answer.is_some_and(|a| blake3::hash(a.as_bytes()).as_bytes() == &result_hash.0);
    let rating = if good { Rating::Good } else { Rating::Bad };
    if ctx.signer.submit(ctx.api, Call::RateRequest { request: id, rating }, Duration::from_secs(30))?.ok() {
        if good {
            stats.rated_good += 1;
        } else {
            stats.rated_bad += 1;
        }
    }
    Ok(Some(at.0.saturating_sub(r.submitted_at.0)))
}

/// Order a task and wait for its end; true when it ended (passed PoI), false when it failed.
pub fn task_once(
    api: &Client,
    signer: &Signer,
    service: u32,
    redundancy: u32,
    max_price: Amount,
) -> Result<Option<bool>, AgentError> {
    let o = signer.submit(
        api,
        Call::SubmitTask { service, redundancy, max_price, avoid: vec![] },
        Duration::from_secs(30),
    )?;
    let submitted = o.events().iter().find_map(|e| match e.event {
        Event::TaskSubmitted { task, .. } => Some(task),
        _ => None,
    });
    let Some(id) = submitted else { return Ok(None) };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match api.task(id)?.state {
            TaskState::Ended => return Ok(Some(true)),
            TaskState::Failed => return Ok(Some(false)),
            _ if Instant::now() > deadline => return Ok(None),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A burst of requests placed in one block, prompts relayed in parallel: what a busy client does. Returns,
/// per request served, the blocks from submission to completion (the wait the miner's stake-weighted queue
/// decides when several clients' requests queue at once).
pub fn burst(
    ctx: &ClientCtx,
    service: u32,
    max_price: Amount,
    count: u32,
    stats: &mut ClientStats,
) -> Result<Vec<u64>, AgentError> {
    let calls = (0..count).map(|_| Call::SubmitRequest { service, max_price, avoid: vec![] }).collect();
    let outcomes = ctx.signer.submit_batch(ctx.api, calls)?;
    let placed: Vec<(u64, AccountId)> = outcomes.iter().filter_map(submitted_request).collect();
    stats.unserved += (count as usize - placed.len()) as u64;
    relay_burst(ctx, &placed, stats)
}

/// This client's requests placed on chain by someone else (the demo places every client's burst in one
/// batch, so they land in one block): wait until `count` requests of ours appear at or after height
/// `since`, up to `patience`. Returns (request, miner) in request order.
pub fn placed_requests(
    ctx: &ClientCtx,
    since: u64,
    count: u32,
    patience: Duration,
) -> Result<Vec<(u64, AccountId)>, AgentError> {
    let deadline = Instant::now() + patience;
    let (me, mut next, mut found) = (ctx.signer.account, since.max(1), Vec::new());
    while found.len() < count as usize {
        let page = ctx.api.events(next, 100)?;
        for b in &page.blocks {
            for e in &b.events {
                if let Event::RequestSubmitted { request, client, miner, .. } = e.event {
                    if client == me {
                        found.push((request, miner));
                    }
                }
            }
        }
        next = page.next.max(next);
        if found.len() < count as usize {
            if Instant::now() > deadline {
                return Err(AgentError::Config(format!("only {} of {count} requests were placed", found.len())));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(found)
}

/// Relay the prompts of requests already placed, in parallel, then check and rate each: the second half
/// of a burst. Returns, per request served, the blocks from submission to completion.
pub fn relay_burst(
    ctx: &ClientCtx,
    placed: &[(u64, AccountId)],
    stats: &mut ClientStats,
) -> Result<Vec<u64>, AgentError> {
    stats.requests += placed.len() as u64;
    let router = ctx.router;
    let me = &Identity::new(ctx.signer.key());
    let answers: Vec<Option<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = placed
            .iter()
            .map(|(id, miner)| {
                let prompt = format!("Burst request {id}: what does a router do?");
                s.spawn(move || relay(router, me, miner, *id, &prompt))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(None)).collect()
    });
    let mut waits = Vec::new();
    for ((id, _), answer) in placed.iter().zip(answers) {
        if answer.is_some() {
            stats.answered += 1;
        }
        waits.extend(settle(ctx, *id, answer.as_deref(), stats)?);
    }
    Ok(waits)
}
