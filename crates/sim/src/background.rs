//! Background work for idle miners on the real engine (seed 001, DESIGN §5, issue 19 item 7): where does
//! the background pool's share of emission go while some miners always serve users?
//!
//! One service. Each of the `busy` miners always serves one open user request: the client names, for each,
//! an avoid list of every other miner, so the request goes to that miner; it completes the request after a
//! seeded 1 to `serve_blocks_max` blocks, and the client sends the next in the same block. The `idle`
//! miners serve no user. Every miner does at once whatever a background task it is drawn for waits for
//! (spec, inputs, precommit, reveal, all with the same answer, so every task passes PoI); no oracle acts,
//! the end-of-block step advances each task `oracle_grace` blocks after it is ready. Each epoch mints
//! `emission_per_epoch`, `emission_share_background` of it into the background pool, which genesis funds
//! with one epoch's share (the budget the epoch sweep keeps); the sweep returns the rest to the treasury.
//!
//! Per epoch the report gives the pool's emission, what background tasks paid to idle and to busy miners
//! (each task's pot split as the engine splits it, `ledger::distribute`), what the sweep returned, and the
//! tasks created. Headline: the shares of the background emission that reached idle miners and that were
//! swept back. Every transaction must be accepted and the supply must equal genesis plus emission.

use crate::figures::{pct, swk};
use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{rejected, Plot, PlotKind, Progress, Series, SimError};
use engine::testkit::{self, account, TestChain};
use engine::{Call, Event, GenesisService, ListRef, Params, Role, TaskOrigin, TaskState, BACKGROUND_POOL_NAME};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use types::{AccountId, Amount, Hash};

const MINER: u8 = 1;
const CLIENT: u8 = 2;
const SERVICE: u32 = 1;
const ANSWER: &str = "Water evaporates, condenses into clouds and falls back as rain or snow.";
const STAKE: u128 = 1_000_000;

/// The scenario's knobs; `params` overrides engine parameters by name, as governance would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Miners that always serve one user request each.
    pub busy: u32,
    /// Miners that serve no user.
    pub idle: u32,
    pub epochs: u64,
    /// A request is completed 1 to this many blocks after it was sent (seeded).
    pub serve_blocks_max: u32,
    #[serde(deserialize_with = "param_values")]
    pub params: BTreeMap<String, String>,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { busy: 20, idle: 40, epochs: 10, serve_blocks_max: 3, params: BTreeMap::new(), seed: 1 }
    }
}

/// Engine parameter overrides as text, whether given as text or, as `--set` and `--sweep` give numbers, as
/// integers or booleans.
pub(crate) fn param_values<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = BTreeMap::<String, toml::Value>::deserialize(d)?;
    let text = |v: toml::Value| match v {
        toml::Value::String(s) => s,
        other => other.to_string(),
    };
    Ok(raw.into_iter().map(|(k, v)| (k, text(v))).collect())
}

/// The background scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Background;

impl crate::Scenario for Background {
    type Settings = Config;
    fn name(&self) -> &'static str {
        "background"
    }
    fn description(&self) -> &'static str {
        "background work while some miners always serve users: the share of background emission idle miners get"
    }
    fn defaults(&self) -> Config {
        Config::default()
    }
    fn run(&self, c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
        run(c, progress)
    }
}

impl Config {
    /// The engine parameters: the defaults' emission, pool shares and background reward, fee 1, a small
    /// stake, no heartbeats needed, then the overrides.
    pub fn params(&self) -> Result<Params, SimError> {
        let mut p = Params {
            chain_id: "stakework-sim".into(),
            min_fee: Amount(1),
            miner_stake_min: Amount(STAKE),
            heartbeat_timeout: 1 << 32,
            request_timeout: 1_000,
            ..Params::default()
        };
        for (name, value) in &self.params {
            p = p.with_set(name, value).map_err(|e| SimError::Setting(format!("params.{name}: {e}")))?;
        }
        Ok(p)
    }

    fn validate(&self) -> Result<(), SimError> {
        if self.busy == 0 || self.busy + self.idle > 1_000 || self.epochs == 0 || self.epochs > 10_000 {
            return Err(SimError::Setting("busy 1.., busy + idle at most 1,000, epochs 1 to 10,000".into()));
        }
        if self.serve_blocks_max == 0 || self.serve_blocks_max > 1_000 {
            return Err(SimError::Setting("serve_blocks_max is 1 to 1,000".into()));
        }
        Ok(())
    }
}

/// One epoch's flows of the background pool, in base units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpochFlows {
    pub minted: u128,
    pub paid_idle: u128,
    pub paid_busy: u128,
    pub swept: u128,
    pub created: u64,
    /// User requests the busy miners completed.
    pub served: u64,
}

/// What a run produced (also what tests read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub epochs: Vec<EpochFlows>,
    pub supply_start: u128,
    pub supply_end: u128,
    pub minted_total: u128,
    /// The background pool at genesis and at the end.
    pub pool_start: u128,
    pub pool_end: u128,
}

impl Outcome {
    pub fn total(&self) -> EpochFlows {
        self.epochs.iter().fold(EpochFlows::default(), |a, e| EpochFlows {
            minted: a.minted + e.minted,
            paid_idle: a.paid_idle + e.paid_idle,
            paid_busy: a.paid_busy + e.paid_busy,
            swept: a.swept + e.swept,
            created: a.created + e.created,
            served: a.served + e.served,
        })
    }
}

struct Sim<'a> {
    c: &'a Config,
    chain: TestChain,
    rng: Rng,
    client: AccountId,
    busy: Vec<AccountId>,
    /// Each busy miner's open request and the height at which it is completed.
    serving: BTreeMap<AccountId, (u64, u64)>,
    background: BTreeSet<u64>,
    out: Outcome,
}

fn genesis(c: &Config, p: Params) -> engine::Genesis {
    let miners = c.busy + c.idle;
    let mut accounts: Vec<(AccountId, Amount, Amount)> =
        (0..miners).map(|i| (account(MINER, i), Amount(1_000_000_000), Amount(STAKE))).collect();
    accounts.push((account(CLIENT, 0), Amount(1 << 100), Amount(STAKE)));
    let budget = p.emission_share_background.mul_floor(p.emission_per_epoch);
    if !budget.is_zero() {
        accounts.push((AccountId::system(BACKGROUND_POOL_NAME), budget, Amount::ZERO));
    }
    let service = GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(1_000),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    };
    testkit::genesis(p, accounts, vec![service])
}

impl Sim<'_> {
    fn request(&mut self, miner: AccountId) {
        let name = format!("not-{}", u32::from_be_bytes([miner.0[1], miner.0[2], miner.0[3], miner.0[4]]));
        let avoid = vec![ListRef { owner: Some(self.client), name }];
        self.chain.submit(self.client, Call::SubmitRequest { service: SERVICE, max_price: Amount(1_000), avoid });
    }

    /// Block 1: every miner registers, the client publishes one list per busy miner and sends each a request.
    fn setup(&mut self) -> Result<(), SimError> {
        let miners = self.c.busy + self.c.idle;
        let all: Vec<AccountId> = (0..miners).map(|i| account(MINER, i)).collect();
        for m in &all {
            let call = Call::RegisterNode {
                roles: vec![Role::Miner],
                services: vec![SERVICE],
                capacity: 1,
                endpoint: "http://sim".into(),
            };
            self.chain.submit(*m, call);
        }
        for (i, b) in self.busy.clone().iter().enumerate() {
            let nodes = all.iter().filter(|m| *m != b).copied().collect();
            self.chain.submit(self.client, Call::PublishList { name: format!("not-{i}"), nodes });
        }
        for b in self.busy.clone() {
            self.request(b);
        }
        self.seal("set-up")
    }

    fn seal(&mut self, what: &str) -> Result<(), SimError> {
        let outcomes = self.chain.seal().map_err(|r| rejected(what, r))?;
        for o in outcomes {
            let h = o.height.0;
            for e in o.events {
                self.book(h, e.event);
            }
        }
        Ok(())
    }

    fn epoch(&mut self, h: u64) -> &mut EpochFlows {
        let epoch = ((h.max(1) - 1) / self.chain.engine.params().epoch_length) as usize;
        if self.out.epochs.len() <= epoch {
            self.out.epochs.resize(epoch + 1, EpochFlows::default());
        }
        &mut self.out.epochs[epoch]
    }

    /// Book one event of block `h`.
    fn book(&mut self, h: u64, e: Event) {
        let pool = BACKGROUND_POOL_NAME.to_string();
        match e {
            Event::RequestSubmitted { request, miner, .. } => {
                let delay = 1 + u64::from(self.rng.below(self.c.serve_blocks_max));
                self.serving.insert(miner, (request, h + delay));
            }
            Event::RequestCompleted { .. } => self.epoch(h).served += 1,
            Event::BackgroundTaskCreated { task, .. } => {
                self.background.insert(task);
                self.epoch(h).created += 1;
            }
            Event::TaskEnded { task, passed, paid, .. } if self.background.contains(&task) && !paid.is_zero() => {
                let weights: Vec<(AccountId, u128)> = passed.iter().map(|m| (*m, 1)).collect();
                let split = ledger::distribute(paid, &weights).expect("a paid task has agreeing miners");
                let busy: u128 = split.iter().filter(|(m, _)| self.serving.contains_key(m)).map(|(_, a)| a.0).sum();
                let flows = self.epoch(h);
                flows.paid_busy += busy;
                flows.paid_idle += paid.0 - busy;
            }
            Event::EmissionMinted { parts, total, .. } => {
                self.out.minted_total += total.0;
                let minted = parts.iter().filter(|(n, _)| *n == pool).map(|(_, a)| a.0).sum::<u128>();
                self.epoch(h).minted += minted;
            }
            Event::PoolSwept { pool: p, amount } if p == pool => self.epoch(h).swept += amount.0,
            _ => {}
        }
    }

    /// One block: busy miners complete what is due (and get their next request), every participant of an
    /// open background task acts.
    fn step(&mut self, h: u64) -> Result<(), SimError> {
        for b in self.busy.clone() {
            let (request, due) = self.serving[&b];
            if due <= h {
                self.chain.submit(b, Call::CompleteRequest { request, result_hash: Hash([1; 32]) });
                self.request(b);
            }
        }
        let mut calls = Vec::new();
        for t in self.chain.engine.tasks().filter(|t| t.origin == TaskOrigin::Background) {
            let task = t.id;
            match t.state {
                TaskState::Requested if t.spec.is_none() => {
                    calls.push((t.creator, Call::PublishTaskSpec { task, spec: "Explain the water cycle.".into() }))
                }
                TaskState::Created if t.inputs.is_none() => {
                    let inputs = "Explain the water cycle in one sentence.".into();
                    calls.extend(t.preparer.map(|p| (p, Call::PrepareTask { task, inputs })));
                }
                TaskState::Started => {
                    calls.extend(t.miners.iter().filter(|m| !t.precommits.contains_key(m)).map(|m| {
                        (
                            *m,
                            Call::PrecommitOutput {
                                task,
                                commitment: engine::output_commitment(task, m, ANSWER, &salt(task, m)),
                            },
                        )
                    }))
                }
                TaskState::Precommitted => calls.extend(
                    t.miners
                        .iter()
                        .filter(|m| !t.outputs.contains_key(m))
                        .map(|m| (*m, Call::RevealOutput { task, output: ANSWER.into(), salt: salt(task, m) })),
                ),
                _ => {}
            }
        }
        for (who, call) in calls {
            self.chain.submit(who, call);
        }
        self.seal(&format!("block {h}"))
    }
}

fn salt(task: u64, who: &AccountId) -> Hash {
    let mut bytes = [0u8; 40];
    bytes[..8].copy_from_slice(&task.to_le_bytes());
    bytes[8..].copy_from_slice(&who.0);
    types::hash_bytes(&bytes)
}

/// Run the scenario: the flows per epoch.
pub fn simulate(c: &Config, progress: &mut dyn Progress) -> Result<Outcome, SimError> {
    c.validate()?;
    let p = c.params()?;
    let blocks = c.epochs * p.epoch_length;
    let chain = TestChain::new(&genesis(c, p)).map_err(|e| SimError::Setting(format!("genesis: {e}")))?;
    let supply_start = chain.engine.ledger().total_supply().0;
    let pool = AccountId::system(BACKGROUND_POOL_NAME);
    let pool_start = chain.engine.ledger().free(&pool).0;
    let mut sim = Sim {
        c,
        chain,
        rng: Rng::new(c.seed),
        client: account(CLIENT, 0),
        busy: (0..c.busy).map(|i| account(MINER, i)).collect(),
        serving: BTreeMap::new(),
        background: BTreeSet::new(),
        out: Outcome { supply_start, pool_start, ..Outcome::default() },
    };
    progress.start(blocks, "blocks");
    sim.setup()?;
    for h in 2..=blocks {
        sim.step(h)?;
        progress.advance(1);
    }
    sim.chain.engine.check_invariants().map_err(|e| SimError::Unexpected(format!("invariants: {e}")))?;
    let mut out = sim.out;
    out.supply_end = sim.chain.engine.ledger().total_supply().0;
    out.pool_end = sim.chain.engine.ledger().free(&pool).0;
    if out.supply_end != out.supply_start + out.minted_total {
        return Err(SimError::Unexpected("the supply is not genesis plus emission".into()));
    }
    Ok(out)
}

/// Run and report: `epochs.csv`, `background-shares.png` and the summary.
pub fn run(c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
    let out = simulate(c, progress)?;
    let mut table =
        Table::with_header("epochs.csv", "epoch,minted,paid_idle,paid_busy,swept,tasks_created,requests_served");
    let share = |x: u128, of: u128| (of > 0).then(|| x as f64 / of as f64);
    let (mut idle_series, mut swept_series) = (Vec::new(), Vec::new());
    for (i, e) in out.epochs.iter().enumerate() {
        table.row(&[&(i + 1), &e.minted, &e.paid_idle, &e.paid_busy, &e.swept, &e.created, &e.served]);
        if let (Some(a), Some(b)) = (share(e.paid_idle, e.minted), share(e.swept, e.minted)) {
            idle_series.push(((i + 1) as f64, 100.0 * a));
            swept_series.push(((i + 1) as f64, 100.0 * b));
        }
    }
    let t = out.total();
    let (idle_share, swept_share) = (pct(share(t.paid_idle, t.minted)), pct(share(t.swept, t.minted)));
    let mut summary = String::from("# background: background work while some miners always serve users\n\n");
    let _ = writeln!(
        summary,
        "Seed {}: {} busy miners (always serving one user request each), {} idle, {} epochs. Of {:.1} SWK \
         background emission, idle miners were paid {:.1} SWK ({idle_share}), busy miners {:.1} SWK, and the \
         sweep returned {:.1} SWK ({swept_share}) to the treasury; {} background tasks were created.\n",
        c.seed,
        c.busy,
        c.idle,
        c.epochs,
        swk(t.minted),
        swk(t.paid_idle),
        swk(t.paid_busy),
        swk(t.swept),
        t.created
    );
    summary.push_str(&table.markdown());
    let plot = Plot {
        file: "background-shares.png".into(),
        title: "Background emission per epoch: paid to idle miners and swept back".into(),
        x_label: "epoch".into(),
        y_label: "% of the epoch's background emission".into(),
        kind: PlotKind::Line,
        series: vec![
            Series { name: "paid to idle miners".into(), points: idle_series },
            Series { name: "swept to the treasury".into(), points: swept_series },
        ],
    };
    let headline = vec![
        ("idle_share".to_string(), share(t.paid_idle, t.minted).map_or(String::new(), |x| format!("{x:.4}"))),
        ("swept_share".to_string(), share(t.swept, t.minted).map_or(String::new(), |x| format!("{x:.4}"))),
        ("tasks_created".to_string(), t.created.to_string()),
    ];
    Ok(Report { tables: vec![table], plots: vec![plot], summary, headline })
}
