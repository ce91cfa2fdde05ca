//! The miner agent: registration, heartbeats, requests through the stake-weighted queue, PoUW tasks.

use crate::backend::Backend;
use crate::serve::Inbox;
use crate::{AgentError, Log};
use ::client::{Client, ClientError, Outcome, Signer};
use protocol::{output_commitment, Call, Event, ReportedStatus, RequestStatus, Role, Task, TaskState};
use sched::{QueueStatus, Scheduler};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use types::{AccountId, Hash};

#[derive(Debug, Clone)]
pub struct MinerConfig {
    pub service: u32,
    pub capacity: u32,
    pub endpoint: String,
    /// How often to look at the chain.
    pub poll: Duration,
    /// Extra time spent on every answer (a slow miner).
    pub delay: Duration,
    /// The router this miner attaches to (and reports its traffic through), if any.
    pub router: Option<AccountId>,
    /// Blocks a request waits for its prompt (relayed by a router) before it is served without one.
    pub prompt_wait_blocks: u64,
}

/// What the miner did, for its exit line and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MinerStats {
    pub requests_served: u64,
    pub task_actions: u64,
    pub heartbeats: u64,
    pub rejected: u64,
}

/// The miner's exit line after "stopped; ".
impl std::fmt::Display for MinerStats {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let s = self;
        write!(
            f,
            "{} requests served, {} task steps, {} heartbeats, {} rejected",
            s.requests_served, s.task_actions, s.heartbeats, s.rejected
        )
    }
}

#[derive(Debug)]
pub struct Miner<'a> {
    api: &'a Client,
    signer: Signer,
    backend: &'a dyn Backend,
    cfg: MinerConfig,
    queue: Scheduler<u64>,
    /// Requests seen on chain, waiting for their prompt: (client, stake, request, height seen).
    pending: Vec<(AccountId, u128, u64, u64)>,
    inbox: std::sync::Arc<Inbox>,
    /// Bytes relayed through the router this epoch, and the last epoch reported.
    traffic: u64,
    reported_epoch: u64,
    /// Requests already queued or served (so an event read twice is not served twice).
    seen: BTreeSet<u64>,
    /// Outputs and salts of tasks this miner precommitted, until it reveals them.
    outputs: BTreeMap<u64, (String, Hash)>,
    next_event_height: u64,
    last_heartbeat: u64,
    heartbeat_every: u64,
    pub stats: MinerStats,
    log: &'a Log,
}

impl<'a> Miner<'a> {
    /// Connect, and register (or check the registration of) the key as a miner of `cfg.service`.
    pub fn start(
        api: &'a Client,
        signer: Signer,
        backend: &'a dyn Backend,
        cfg: MinerConfig,
        log: &'a Log,
        inbox: std::sync::Arc<Inbox>,
    ) -> Result<Miner<'a>, AgentError> {
        let me = signer.account;
        match api.node(&me) {
            Ok(n) if n.roles.contains(&Role::Miner) => {
                log.line(&format!("registered as a miner already; backend: {}", backend.describe()));
            }
            Ok(_) => return Err(AgentError::Config(format!("{me} is registered without the miner role"))),
            Err(ClientError::Node { .. }) => {
                let call = Call::RegisterNode {
                    roles: vec![Role::Miner],
                    services: vec![cfg.service],
                    capacity: cfg.capacity,
                    endpoint: cfg.endpoint.clone(),
                };
                match signer.submit(api, call, Duration::from_secs(30))? {
                    o if o.ok() => log.line(&format!("registered as a miner; backend: {}", backend.describe())),
                    Outcome::Committed { code, .. } | Outcome::Refused { code } => {
                        return Err(AgentError::Config(format!("registration refused: {code}")))
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(router) = cfg.router {
            let o = signer.submit(api, Call::AttachRouter { router }, Duration::from_secs(30))?;
            if !o.ok() {
                return Err(AgentError::Config(format!("cannot attach to router {router}: {o:?}")));
            }
            log.line(&format!("attached to router {router}"));
        }
        let timeout = api.params()?.params.heartbeat_timeout;
        let height = api.height()?;
        Ok(Miner {
            api,
            signer,
            backend,
            queue: Scheduler::new(cfg.capacity.max(1)),
            pending: Vec::new(),
            inbox,
            traffic: 0,
            reported_epoch: 0,
            cfg,
            seen: BTreeSet::new(),
            outputs: BTreeMap::new(),
            next_event_height: height.saturating_sub(100).max(1),
            last_heartbeat: height,
            heartbeat_every: (timeout / 2).max(1),
            stats: MinerStats::default(),
            log,
        })
    }

    /// Work until `stop` is set. Errors reaching the node are logged and retried; the loop never panics.
    pub fn run(&mut self, stop: &AtomicBool) -> MinerStats {
        while !stop.load(Ordering::Relaxed) {
            if let Err(e) = self.step() {
                self.log.line(&format!("will retry: {e}"));
                std::thread::sleep(Duration::from_millis(500));
            }
            std::thread::sleep(self.cfg.poll);
        }
        self.stats.clone()
    }

    fn send(&mut self, call: Call) -> Result<bool, AgentError> {
        let outcome = self.signer.submit(self.api, call, Duration::from_secs(30))?;
        if !outcome.ok() {
            self.stats.rejected += 1;
        }
        Ok(outcome.ok())
    }

    /// One pass: heartbeat, new requests, serve the queue, tasks.
    pub fn step(&mut self) -> Result<(), AgentError> {
        let height = self.api.height()?;
        if height >= self.last_heartbeat + self.heartbeat_every {
            let status = match self.queue.status() {
                QueueStatus::Busy => ReportedStatus::Busy,
                QueueStatus::Ready => ReportedStatus::Ready,
            };
            self.send(Call::ReportStatus { status })?;
            self.last_heartbeat = height;
            self.stats.heartbeats += 1;
        }
        self.read_requests(height)?;
        self.release_pending(height)?;
        self.serve_queue()?;
        self.report_traffic(height)?;
        self.do_tasks()
    }

    /// Requests whose prompt arrived, or that waited long enough, join the stake-weighted queue.
    fn release_pending(&mut self, height: u64) -> Result<(), AgentError> {
        let (ready, waiting): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.pending).into_iter().partition(|(client, _, id, seen)| {
                self.inbox.prompt(*id, *client).is_some() || height >= seen + self.cfg.prompt_wait_blocks
            });
        self.pending = waiting;
        for (client, stake, id, _) in ready {
            self.queue.push(client, stake, id).map_err(|e| AgentError::Config(e.to_string()))?;
        }
        if let Some(QueueStatus::Busy) = self.queue.take_status_change() {
            self.send(Call::ReportStatus { status: ReportedStatus::Busy })?;
        }
        Ok(())
    }

    /// Near the end of each epoch, report the bytes exchanged through the router (once per epoch).
    fn report_traffic(&mut self, height: u64) -> Result<(), AgentError> {
        self.traffic += self.inbox.take_bytes();
        let Some(router) = self.cfg.router else { return Ok(()) };
        let epoch = self.api.epoch()?;
        let (e, last) = (epoch.epoch, epoch.last_height);
        // Three blocks before the router's window (the last fifth of the epoch, at least 10 blocks): wide enough
        // that a loaded machine cannot miss it, and early enough that both claims are in before the epoch ends.
        let length = epoch.epoch_length;
        if e > self.reported_epoch && height + (length / 5).max(10) + 3 >= last && height < last {
            let bytes = std::mem::take(&mut self.traffic);
            self.send(Call::ReportNodeTraffic { epoch: e, router, bytes })?;
            self.reported_epoch = e;
        }
        Ok(())
    }

    fn read_requests(&mut self, height: u64) -> Result<(), AgentError> {
        let page = self.api.events(self.next_event_height, 200)?;
        let me = self.signer.account;
        for block in &page.blocks {
            for e in &block.events {
                let Event::RequestSubmitted { request: id, client, miner, .. } = e.event else { continue };
                if miner != me || !self.seen.insert(id) {
                    continue;
                }
                let stake = self.api.account(&client)?.bonded.0.max(1);
                self.pending.push((client, stake, id, height));
            }
        }
        self.next_event_height = page.next;
        Ok(())
    }

    /// Serve at most `capacity` requests, then return: requests whose prompts arrive meanwhile join the
    /// queue before the next picks, so the stake-weighted order applies to everything waiting.
    fn serve_queue(&mut self) -> Result<(), AgentError> {
        let mut served = 0;
        while served < self.cfg.capacity.max(1) {
            let Some((client, id)) = self.queue.dispatch() else { break };
            served += 1;
            let open = self.api.request(id).is_ok_and(|r| r.status == RequestStatus::Assigned);
            if open {
                std::thread::sleep(self.cfg.delay);
                let prompt = self
                    .inbox
                    .prompt(id, client)
                    .unwrap_or_else(|| format!("Request {id} for service {}", self.cfg.service));
                let answer = self.backend.complete(&prompt)?;
                let result_hash = Hash(*blake3::hash(answer.as_bytes()).as_bytes());
                self.inbox.answer(id, client, answer);
                if self.send(Call::CompleteRequest { request: id, result_hash })? {
                    self.stats.requests_served += 1;
                }
            }
            self.queue.complete();
        }
        if let Some(QueueStatus::Ready) = self.queue.take_status_change() {
            self.send(Call::ReportStatus { status: ReportedStatus::Ready })?;
        }
        Ok(())
    }

    fn do_tasks(&mut self) -> Result<(), AgentError> {
        let tasks = self.api.tasks()?;
        let me = self.signer.account;
        for t in tasks {
            let call = match t.state {
                TaskState::Requested if t.creator == me && t.spec.is_none() => {
                    Some(Call::PublishTaskSpec { task: t.id, spec: task_prompt(&t) })
                }
                TaskState::Created if t.preparer == Some(me) && t.inputs.is_none() => {
                    let spec = t.spec.clone().unwrap_or_default();
                    Some(Call::PrepareTask { task: t.id, inputs: spec })
                }
                TaskState::Started if t.miners.contains(&me) && !t.precommits.contains_key(&me) => {
                    std::thread::sleep(self.cfg.delay);
                    let output = self.backend.complete(t.inputs.as_deref().unwrap_or_default())?;
                    let salt = Hash(*blake3::hash(format!("{me}/{}/{}", t.id, t.created_at).as_bytes()).as_bytes());
                    let commitment = output_commitment(t.id, &me, &output, &salt);
                    self.outputs.insert(t.id, (output, salt));
                    Some(Call::PrecommitOutput { task: t.id, commitment })
                }
                TaskState::Precommitted if t.miners.contains(&me) && !t.outputs.contains_key(&me) => self
                    .outputs
                    .get(&t.id)
                    .map(|(output, salt)| Call::RevealOutput { task: t.id, output: output.clone(), salt: *salt }),
                _ => None,
            };
            if let Some(call) = call {
                if self.send(call)? {
                    self.stats.task_actions += 1;
                }
            }
        }
        Ok(())
    }
}

/// The spec a creator publishes: a background task's prompt, or for a user task a prompt derived from it
/// (the client's own prompt reaches miners through a router, off-chain).
fn task_prompt(t: &Task) -> String {
    match &t.spec {
        Some(s) => s.clone(),
        None => format!("Task {}: explain in one sentence how photosynthesis works.", t.id),
    }
}
