//! Router economics vs latency and connectivity (seed 003; DESIGN §7), through the real engine.
//!
//! A network of `routers` routers, each with `nodes_per_router` nodes attached, runs `epochs` real epochs on
//! a [`TestChain`]: every epoch each router sends `ReportRouterEpoch` (per node: bytes in and out, latency,
//! online fraction; its own validator latency) and each node sends `ReportNodeTraffic` (the bytes it
//! exchanged). The engine's epoch end pays `R = kB · B · clamp01(1 − kL·(Ln + Lv)/Lmax) · S` from the
//! routers' pool (filled by emission) and slashes routers whose nodes' mean online fraction is not above
//! `router_connectivity_min`. Everything reported here is read back from the engine: `RouterRewarded`
//! (validated bandwidth, latency factor, owed, paid), `RouterSlashed`, `router_connectivity` and the
//! ledger's bonded collateral. Nothing in this module computes a reward or a slash.
//!
//! Each router has a seeded profile drawn from evenly spaced strata, so that every run spans the whole
//! ranges (with the defaults: latencies beyond the clamp, connectivities below 75%): node and validator
//! latency rise together in router order (a router far from its nodes is far from the validator too), and
//! connectivity is shuffled across routers. Each epoch jitters latency, online fraction and traffic per node. When
//! `overclaim_pct` > 0 the last router is the twin of router 0 (the very same draws) but reports its
//! traffic inflated by that much: the nodes' own claims cap its validated bandwidth.

use crate::figures::{ppb, ppb_pct, swk, SWK};
use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{Plot, PlotKind, Progress, Series, SimError};
use engine::testkit::{self, account, TestChain};
use engine::{Call, Event, EventRecord, NodeTraffic, Params, Role};
use std::collections::BTreeMap;
use std::fmt::Write;
use types::{AccountId, Amount, Ppb};

const MB: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Routers in the network; with `overclaim_pct` > 0 the last one over-claims its traffic.
    pub routers: u32,
    pub nodes_per_router: u32,
    pub epochs: u32,
    /// Blocks per epoch (at least 4: the first epoch registers and attaches before the first reports).
    pub epoch_length: u64,
    /// Range of the routers' mean latency to their nodes (ms).
    pub node_latency_ms_min: u32,
    pub node_latency_ms_max: u32,
    /// Range of the routers' latency to the validator (ms).
    pub validator_latency_ms_min: u32,
    pub validator_latency_ms_max: u32,
    /// Range of the routers' connectivity (their nodes' online share, percent).
    pub online_pct_min: u32,
    pub online_pct_max: u32,
    /// Per epoch and node, the online share moves by up to this many percentage points either way.
    pub online_jitter_pct: u32,
    /// Per epoch and node, latencies move by up to this percentage either way.
    pub latency_jitter_pct: u32,
    /// Mean traffic per node per epoch, in MB (10^6 bytes), and its per-epoch spread (percent either way).
    pub traffic_mb_per_node: u64,
    pub traffic_jitter_pct: u32,
    /// How much the over-claiming router inflates the bytes it reports (0: every router is honest).
    pub overclaim_pct: u32,
    /// Base units minted into the routers' pool at each epoch's end (default: 15% of 1,000 SWK).
    pub routers_pool_per_epoch: u64,
    /// Each router's bonded collateral at the start, and the registry's minimum (base units).
    pub collateral: u64,
    pub router_stake_min: u64,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            routers: 12,
            nodes_per_router: 5,
            epochs: 10,
            epoch_length: 4,
            node_latency_ms_min: 10,
            node_latency_ms_max: 900,
            validator_latency_ms_min: 10,
            validator_latency_ms_max: 200,
            online_pct_min: 50,
            online_pct_max: 100,
            online_jitter_pct: 3,
            latency_jitter_pct: 10,
            traffic_mb_per_node: 200,
            traffic_jitter_pct: 50,
            overclaim_pct: 50,
            routers_pool_per_epoch: 150_000_000_000,
            collateral: 200_000_000_000,
            router_stake_min: 100_000_000_000,
            seed: 1,
        }
    }
}

impl Config {
    fn overclaimer(&self) -> Option<u32> {
        (self.overclaim_pct > 0 && self.routers >= 2).then(|| self.routers - 1)
    }

    fn validate(&self) -> Result<(), SimError> {
        let range = |name: &str, lo: u32, hi: u32, max: u32| {
            if lo > hi || hi > max {
                Err(SimError::Setting(format!(
                    "{name}: the minimum must not exceed the maximum, and the maximum is at most {max}"
                )))
            } else {
                Ok(())
            }
        };
        if self.routers == 0 || self.routers > 1_000 {
            return Err(SimError::Setting("routers: a network needs 1 to 1000 routers".into()));
        }
        if self.nodes_per_router == 0 || self.nodes_per_router > 1_000 {
            return Err(SimError::Setting("nodes_per_router: each router needs 1 to 1000 attached nodes".into()));
        }
        if self.routers * self.nodes_per_router > 100_000 {
            return Err(SimError::Setting("routers × nodes_per_router: at most 100000 nodes".into()));
        }
        if self.epochs == 0 || self.epochs > 10_000 {
            return Err(SimError::Setting("epochs: run 1 to 10000 epochs".into()));
        }
        if !(4..=1_000).contains(&self.epoch_length) {
            return Err(SimError::Setting(
                "epoch_length: 4 to 1000 blocks (setup takes the first two blocks of epoch 1)".into(),
            ));
        }
        range("node_latency_ms", self.node_latency_ms_min, self.node_latency_ms_max, 100_000)?;
        range("validator_latency_ms", self.validator_latency_ms_min, self.validator_latency_ms_max, 100_000)?;
        range("online_pct", self.online_pct_min, self.online_pct_max, 100)?;
        if self.online_jitter_pct > 100 || self.latency_jitter_pct > 100 || self.traffic_jitter_pct > 100 {
            return Err(SimError::Setting("the jitters are percentages from 0 to 100".into()));
        }
        if self.traffic_mb_per_node == 0 || self.traffic_mb_per_node > 1_000_000 {
            return Err(SimError::Setting("traffic_mb_per_node: 1 to 1000000 MB per node and epoch".into()));
        }
        if self.overclaim_pct > 1_000 {
            return Err(SimError::Setting("overclaim_pct: at most 1000".into()));
        }
        if self.collateral < self.router_stake_min {
            return Err(SimError::Setting(format!(
                "collateral {} is below router_stake_min {}: the routers could not register",
                self.collateral, self.router_stake_min
            )));
        }
        Ok(())
    }
}

/// A router's seeded profile (before the per-epoch jitter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouterProfile {
    pub node_latency_ms: u32,
    pub validator_latency_ms: u32,
    pub online: Ppb,
    /// The router whose draws this one copies, when it is the over-claiming twin.
    pub twin_of: Option<u32>,
}

/// One router in one epoch: what it and its nodes reported, and what the engine made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterEpoch {
    pub epoch: u32,
    pub router: u32,
    pub overclaims: bool,
    /// Mean of the latencies the router reported for its nodes (exact, not rounded).
    pub node_latency_ms: f64,
    pub validator_latency_ms: u32,
    /// `Engine::router_connectivity` once the reports are in.
    pub connectivity: Ppb,
    pub reported_bytes: u128,
    pub node_bytes: u128,
    /// From `RouterRewarded`.
    pub validated_bytes: u128,
    pub latency_factor: Ppb,
    pub reputation: Ppb,
    pub owed: u128,
    pub paid: u128,
    /// From `RouterSlashed` (0 if not slashed).
    pub slashed: u128,
    /// Bonded collateral after the epoch's end.
    pub collateral: u128,
}

impl RouterEpoch {
    pub fn latency_ms(&self) -> f64 {
        self.node_latency_ms + f64::from(self.validator_latency_ms)
    }
    /// Paid per validated MB, in base units.
    pub fn paid_per_mb(&self) -> f64 {
        if self.validated_bytes == 0 {
            0.0
        } else {
            self.paid as f64 * MB as f64 / self.validated_bytes as f64
        }
    }
}

/// The whole run, for the report and for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterRun {
    pub profiles: Vec<RouterProfile>,
    /// Per epoch, then per router.
    pub rows: Vec<RouterEpoch>,
    /// Per epoch: (owed to all routers, paid, minted into the pool).
    pub pool: Vec<(u128, u128, u128)>,
    /// Whether each router still holds the Router role at the end.
    pub registered_at_end: Vec<bool>,
    pub router_stake_min: u128,
    pub collateral_start: u128,
    /// kB: the reward per validated MB before latency and reputation.
    pub reward_per_mb: u128,
    pub connectivity_min: Ppb,
    pub slash: Ppb,
    /// The latency (ms) from which the reward is zero: `Lmax / kL`.
    pub clamp_ms: f64,
}

fn router_id(i: u32) -> AccountId {
    account(1, i)
}

fn node_id(router: u32, j: u32, per_router: u32) -> AccountId {
    account(2, router * per_router + j)
}

/// Router profiles from evenly spaced strata: latencies in router order, connectivity shuffled.
fn profiles(c: &Config, rng: &mut Rng) -> Vec<RouterProfile> {
    let twin = c.overclaimer();
    let distinct = c.routers - u32::from(twin.is_some());
    let stratum = |lo: u32, hi: u32, k: u32, rng: &mut Rng| {
        let u = u64::from(rng.below(1_000));
        let span = u64::from(hi - lo);
        lo + ((span * (u64::from(k) * 1_000 + u)) / (u64::from(distinct) * 1_000)) as u32
    };
    let mut order: Vec<u32> = (0..distinct).collect();
    for k in (1..distinct).rev() {
        let j = rng.below(k + 1);
        order.swap(k as usize, j as usize);
    }
    let mut out: Vec<RouterProfile> = (0..distinct)
        .map(|i| {
            let node_latency_ms = stratum(c.node_latency_ms_min, c.node_latency_ms_max, i, rng);
            let validator_latency_ms = stratum(c.validator_latency_ms_min, c.validator_latency_ms_max, i, rng);
            let pct_milli = stratum(c.online_pct_min * 1_000, c.online_pct_max * 1_000, order[i as usize], rng);
            let online = Ppb::new(pct_milli * 10_000).unwrap_or(Ppb::ONE);
            RouterProfile { node_latency_ms, validator_latency_ms, online, twin_of: None }
        })
        .collect();
    if twin.is_some() {
        out.push(RouterProfile { twin_of: Some(0), ..out[0] });
    }
    out
}

/// One router's epoch draws: per node (latency, online, bytes), and the validator latency.
#[derive(Debug, Clone)]
struct Draw {
    nodes: Vec<(u32, Ppb, u64)>,
    validator_latency_ms: u32,
}

fn jitter(rng: &mut Rng, value: u64, pct: u32) -> u64 {
    let d = i64::from(rng.below(2 * pct + 1)) - i64::from(pct);
    (value as i64 * (100 + d) / 100).max(0) as u64
}

fn draw(c: &Config, p: &RouterProfile, rng: &mut Rng) -> Draw {
    let nodes = (0..c.nodes_per_router)
        .map(|_| {
            let latency = jitter(rng, u64::from(p.node_latency_ms), c.latency_jitter_pct) as u32;
            let tenths = i64::from(rng.below(20 * c.online_jitter_pct + 1)) - 10 * i64::from(c.online_jitter_pct);
            let online = (i64::from(p.online.raw()) + tenths * 1_000_000).clamp(0, i64::from(Ppb::ONE_RAW));
            let bytes = jitter(rng, c.traffic_mb_per_node * MB, c.traffic_jitter_pct);
            (latency, Ppb::new(online as u32).unwrap_or(Ppb::ONE), bytes)
        })
        .collect();
    let validator_latency_ms = jitter(rng, u64::from(p.validator_latency_ms), c.latency_jitter_pct) as u32;
    Draw { nodes, validator_latency_ms }
}

/// Seal the queued transactions (every one must be accepted) and return the blocks' events.
fn seal(chain: &mut TestChain, what: &str) -> Result<Vec<EventRecord>, SimError> {
    let outcomes = chain.seal().map_err(|r| crate::rejected(what, r))?;
    Ok(outcomes.into_iter().flat_map(|o| o.events).collect())
}

fn chain(c: &Config) -> Result<(TestChain, Params), SimError> {
    let params = Params {
        // The simulated nodes relay traffic the chain does not record (no requests or tasks): a large
        // allowance lets their bandwidth through the evidence cap, which the engine's attack tests cover.
        router_bytes_allowance: 1_000_000_000_000,
        epoch_length: c.epoch_length,
        router_stake_min: Amount(u128::from(c.router_stake_min)),
        emission_per_epoch: Amount(u128::from(c.routers_pool_per_epoch)),
        emission_share_miners: Ppb::ZERO,
        emission_share_points: Ppb::ZERO,
        emission_share_routers: Ppb::ONE,
        emission_share_background: Ppb::ZERO,
        ..Params::default()
    };
    let fees = Amount(params.min_fee.0 * (u128::from(c.epochs) + 4));
    let mut accounts = Vec::new();
    for r in 0..c.routers {
        // A router also pays one fee per node it accepts.
        let accepts = Amount(params.min_fee.0 * u128::from(c.nodes_per_router));
        accounts.push((router_id(r), Amount(fees.0 + accepts.0), Amount(u128::from(c.collateral))));
        for j in 0..c.nodes_per_router {
            // A node pays two fees an epoch (its traffic claim and a heartbeat).
            let node_fees = Amount(fees.0 + params.min_fee.0 * u128::from(c.epochs));
            accounts.push((node_id(r, j, c.nodes_per_router), node_fees, params.data_owner_stake_min));
        }
    }
    let mut chain = TestChain::new(&testkit::genesis(params.clone(), accounts, Vec::new()))
        .map_err(|e| SimError::Setting(format!("genesis: {e}")))?;
    let register =
        |role| Call::RegisterNode { roles: vec![role], services: vec![], capacity: 1, endpoint: "http://sim".into() };
    for r in 0..c.routers {
        chain.submit(router_id(r), register(Role::Router));
        for j in 0..c.nodes_per_router {
            chain.submit(node_id(r, j, c.nodes_per_router), register(Role::DataOwner));
        }
    }
    // Each router accepts its nodes in the block it registers in (acceptance needs the router's role only),
    // so that the reports of epoch 1 still come before its last block.
    for r in 0..c.routers {
        for j in 0..c.nodes_per_router {
            chain.submit(router_id(r), Call::AcceptNode { node: node_id(r, j, c.nodes_per_router) });
        }
    }
    seal(&mut chain, "registration")?;
    for r in 0..c.routers {
        for j in 0..c.nodes_per_router {
            chain.submit(node_id(r, j, c.nodes_per_router), Call::AttachRouter { router: router_id(r) });
        }
    }
    seal(&mut chain, "attachment")?;
    Ok((chain, params))
}

/// Run the scenario on the real engine and collect what it paid and slashed.
pub fn simulate(c: &Config, progress: &mut dyn Progress) -> Result<RouterRun, SimError> {
    c.validate()?;
    let mut rng = Rng::new(c.seed);
    let profiles = profiles(c, &mut rng);
    let (mut chain, params) = chain(c)?;
    progress.start(u64::from(c.epochs), "epochs");
    let mut rows = Vec::new();
    let mut pool = Vec::new();
    for epoch in 1..=c.epochs {
        let mut draws: Vec<Draw> = Vec::new();
        for p in &profiles {
            let d = match p.twin_of {
                Some(t) => draws[t as usize].clone(),
                None => draw(c, p, &mut rng),
            };
            draws.push(d);
        }
        let mut epoch_rows = submit_reports(c, &mut chain, epoch, &profiles, &draws);
        // The reports' block is never the epoch's last (epoch_length ≥ 4), so connectivity is read before the
        // epoch end clears the reports.
        let mut events = seal(&mut chain, "epoch reports")?;
        for row in &mut epoch_rows {
            row.connectivity = chain.engine.router_connectivity(&router_id(row.router)).unwrap_or(Ppb::ZERO);
        }
        let end = u64::from(epoch) * c.epoch_length;
        while chain.engine.height().0 < end {
            events.extend(seal(&mut chain, "epoch end")?);
        }
        pool.push(read_settlement(&chain, &events, u64::from(epoch), &mut epoch_rows));
        rows.extend(epoch_rows);
        progress.advance(1);
    }
    let registered_at_end = (0..c.routers).map(|r| chain.engine.has_role(&router_id(r), Role::Router)).collect();
    chain.engine.check_invariants().map_err(|e| SimError::Unexpected(format!("ledger invariant broken: {e:?}")))?;
    Ok(RouterRun {
        profiles,
        rows,
        pool,
        registered_at_end,
        router_stake_min: params.router_stake_min.0,
        collateral_start: u128::from(c.collateral),
        reward_per_mb: params.router_reward_per_mb.0,
        connectivity_min: params.router_connectivity_min,
        slash: params.router_slash,
        clamp_ms: f64::from(params.router_latency_max_ms) * 1_000.0
            / f64::from(params.router_latency_weight_milli.max(1)),
    })
}

/// Queue every router's and node's report for `epoch`; the rows carry the inputs, the engine's figures
/// are filled in later.
fn submit_reports(
    c: &Config,
    chain: &mut TestChain,
    epoch: u32,
    profiles: &[RouterProfile],
    draws: &[Draw],
) -> Vec<RouterEpoch> {
    let mut rows = Vec::new();
    for (r, (p, d)) in profiles.iter().zip(draws).enumerate() {
        let r = r as u32;
        let inflate = if p.twin_of.is_some() { 100 + u64::from(c.overclaim_pct) } else { 100 };
        let mut nodes = Vec::new();
        let (mut reported, mut confirmed, mut latency_sum) = (0u128, 0u128, 0u64);
        for (j, (latency, online, bytes)) in d.nodes.iter().enumerate() {
            let node = node_id(r, j as u32, c.nodes_per_router);
            let claim = bytes * inflate / 100;
            let bytes_in = claim * 2 / 5;
            nodes.push(NodeTraffic {
                node,
                bytes_in,
                bytes_out: claim - bytes_in,
                latency_ms: *latency,
                online: *online,
            });
            chain
                .submit(node, Call::ReportNodeTraffic { epoch: u64::from(epoch), router: router_id(r), bytes: *bytes });
            // A heartbeat, so that the engine's record (which caps connectivity) has the node online: the
            // simulated online fraction is the router's report, which can only lower it.
            chain.submit(node, Call::ReportStatus { status: engine::ReportedStatus::Ready });
            reported += u128::from(claim);
            confirmed += u128::from(*bytes);
            latency_sum += u64::from(*latency);
        }
        let call =
            Call::ReportRouterEpoch { epoch: u64::from(epoch), validator_latency_ms: d.validator_latency_ms, nodes };
        chain.submit(router_id(r), call);
        rows.push(RouterEpoch {
            epoch,
            router: r,
            overclaims: p.twin_of.is_some(),
            node_latency_ms: latency_sum as f64 / f64::from(c.nodes_per_router),
            validator_latency_ms: d.validator_latency_ms,
            connectivity: Ppb::ZERO,
            reported_bytes: reported,
            node_bytes: confirmed,
            validated_bytes: 0,
            latency_factor: Ppb::ZERO,
            reputation: Ppb::ZERO,
            owed: 0,
            paid: 0,
            slashed: 0,
            collateral: 0,
        });
    }
    rows
}

/// Fill the rows from the epoch end's `RouterRewarded` / `RouterSlashed` events and the ledger; returns
/// (owed, paid, minted into the routers' pool).
fn read_settlement(
    chain: &TestChain,
    events: &[EventRecord],
    epoch: u64,
    rows: &mut [RouterEpoch],
) -> (u128, u128, u128) {
    let index: BTreeMap<AccountId, usize> = rows.iter().enumerate().map(|(i, r)| (router_id(r.router), i)).collect();
    let (mut owed_total, mut paid_total, mut minted) = (0u128, 0u128, 0u128);
    for e in events {
        match &e.event {
            Event::RouterRewarded { epoch: ep, router, bandwidth, latency_factor, reputation, owed, amount }
                if *ep == epoch =>
            {
                if let Some(&i) = index.get(router) {
                    rows[i].validated_bytes = *bandwidth;
                    rows[i].latency_factor = *latency_factor;
                    rows[i].reputation = *reputation;
                    rows[i].owed = owed.0;
                    rows[i].paid = amount.0;
                }
                owed_total += owed.0;
                paid_total += amount.0;
            }
            Event::RouterSlashed { epoch: ep, router, amount, .. } if *ep == epoch => {
                if let Some(&i) = index.get(router) {
                    rows[i].slashed = amount.0;
                }
            }
            Event::EmissionMinted { epoch: ep, parts, .. } if *ep == epoch => {
                minted += parts.iter().filter(|(n, _)| n == engine::ROUTERS_POOL_NAME).map(|(_, a)| a.0).sum::<u128>();
            }
            _ => {}
        }
    }
    for row in rows.iter_mut() {
        row.collateral = chain.engine.ledger().bonded(&router_id(row.router)).0;
    }
    (owed_total, paid_total, minted)
}

/// Per-router totals over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterTotals {
    pub router: u32,
    pub overclaims: bool,
    pub latency_ms: f64,
    pub node_latency_ms: f64,
    pub validator_latency_ms: f64,
    pub connectivity: f64,
    pub epochs_slashed: u32,
    pub reported_bytes: u128,
    pub validated_bytes: u128,
    pub paid: u128,
    pub slashed: u128,
    pub collateral_end: u128,
    /// The first epoch after which the collateral was below the router minimum.
    pub below_min_after: Option<u32>,
}

impl RouterTotals {
    pub fn paid_per_mb(&self) -> f64 {
        if self.validated_bytes == 0 {
            0.0
        } else {
            self.paid as f64 * MB as f64 / self.validated_bytes as f64
        }
    }
}

pub fn totals(run: &RouterRun) -> Vec<RouterTotals> {
    let mut by: BTreeMap<u32, Vec<&RouterEpoch>> = BTreeMap::new();
    for r in &run.rows {
        by.entry(r.router).or_default().push(r);
    }
    by.into_iter()
        .map(|(router, rows)| {
            let n = rows.len().max(1) as f64;
            RouterTotals {
                router,
                overclaims: rows.iter().any(|r| r.overclaims),
                latency_ms: rows.iter().map(|r| r.latency_ms()).sum::<f64>() / n,
                node_latency_ms: rows.iter().map(|r| r.node_latency_ms).sum::<f64>() / n,
                validator_latency_ms: rows.iter().map(|r| f64::from(r.validator_latency_ms)).sum::<f64>() / n,
                connectivity: rows.iter().map(|r| f64::from(r.connectivity.raw()) / 1e9).sum::<f64>() / n,
                epochs_slashed: rows.iter().filter(|r| r.slashed > 0).count() as u32,
                reported_bytes: rows.iter().map(|r| r.reported_bytes).sum(),
                validated_bytes: rows.iter().map(|r| r.validated_bytes).sum(),
                paid: rows.iter().map(|r| r.paid).sum(),
                slashed: rows.iter().map(|r| r.slashed).sum(),
                collateral_end: rows.last().map_or(0, |r| r.collateral),
                below_min_after: rows.iter().find(|r| r.collateral < run.router_stake_min).map(|r| r.epoch),
            }
        })
        .collect()
}

fn name(router: u32) -> String {
    format!("r{router:02}")
}

/// The scenario: `routers.csv`, `router-summary.csv`, two plots and the summary.
/// The routers scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Routers;

impl crate::Scenario for Routers {
    type Settings = Config;
    fn name(&self) -> &'static str {
        "routers"
    }
    fn description(&self) -> &'static str {
        "router economics vs latency and connectivity: rewards, slashes, an over-claiming router"
    }
    fn defaults(&self) -> Config {
        Config::default()
    }
    fn run(&self, c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
        run(c, progress)
    }
}

pub fn run(c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
    let run = simulate(c, progress)?;
    let totals = totals(&run);
    let tables = vec![epochs_table(&run), totals_table(&totals)];
    let plots = plots(&run, &totals);
    let summary = summary(c, &run, &totals);
    Ok(Report { tables, plots, summary, headline: headline(&run, &totals) })
}

fn class(overclaims: bool) -> &'static str {
    if overclaims {
        "overclaiming"
    } else {
        "honest"
    }
}

fn epochs_table(run: &RouterRun) -> Table {
    let mut t = Table::with_header(
        "routers.csv",
        "epoch,router,class,node_latency_ms,validator_latency_ms,latency_ms,latency_factor,connectivity,\
         reported_bytes,node_bytes,validated_bytes,owed,paid,paid_per_mb,slashed,collateral",
    );
    for r in &run.rows {
        t.row(&[
            &r.epoch,
            &name(r.router),
            &class(r.overclaims),
            &format!("{:.1}", r.node_latency_ms),
            &r.validator_latency_ms,
            &format!("{:.1}", r.latency_ms()),
            &ppb(r.latency_factor),
            &ppb(r.connectivity),
            &r.reported_bytes,
            &r.node_bytes,
            &r.validated_bytes,
            &r.owed,
            &r.paid,
            &format!("{:.3}", r.paid_per_mb()),
            &r.slashed,
            &r.collateral,
        ]);
    }
    t
}

fn totals_table(totals: &[RouterTotals]) -> Table {
    let mut t = Table::with_header(
        "router-summary.csv",
        "router,class,node_latency_ms,validator_latency_ms,latency_ms,connectivity,epochs_slashed,\
         reported_bytes,validated_bytes,paid,paid_per_mb,slashed,collateral_end,below_min_after_epoch",
    );
    for r in totals {
        t.row(&[
            &name(r.router),
            &class(r.overclaims),
            &format!("{:.1}", r.node_latency_ms),
            &format!("{:.1}", r.validator_latency_ms),
            &format!("{:.1}", r.latency_ms),
            &format!("{:.4}", r.connectivity),
            &r.epochs_slashed,
            &r.reported_bytes,
            &r.validated_bytes,
            &r.paid,
            &format!("{:.3}", r.paid_per_mb()),
            &r.slashed,
            &r.collateral_end,
            &r.below_min_after.map_or(String::new(), |e| e.to_string()),
        ]);
    }
    t
}

fn plots(run: &RouterRun, totals: &[RouterTotals]) -> Vec<Plot> {
    let min = run.connectivity_min;
    let point = |r: &RouterEpoch| (r.latency_ms(), r.paid_per_mb());
    let above: Vec<(f64, f64)> =
        run.rows.iter().filter(|r| r.validated_bytes > 0 && r.connectivity > min).map(point).collect();
    let below: Vec<(f64, f64)> =
        run.rows.iter().filter(|r| r.validated_bytes > 0 && r.connectivity <= min).map(point).collect();
    let line = format!("{:.0}%", f64::from(min.raw()) / 1e7);
    let scatter = Plot {
        file: "router-reward-vs-latency.png".into(),
        title: "Router reward per validated MB vs latency (one dot per router and epoch)".into(),
        x_label: "latency Ln + Lv (ms)".into(),
        y_label: "paid per validated MB (base units)".into(),
        kind: PlotKind::Scatter,
        series: vec![
            Series { name: format!("connectivity ≥ {line}"), points: above },
            Series { name: format!("connectivity < {line} (slashed)"), points: below },
        ],
    };
    let start = run.collateral_start;
    let series = totals
        .iter()
        .map(|t| {
            let mut points = vec![(0.0, swk(start))];
            points.extend(
                run.rows.iter().filter(|r| r.router == t.router).map(|r| (f64::from(r.epoch), swk(r.collateral))),
            );
            Series { name: format!("{} ({:.0}% online)", name(t.router), t.connectivity * 100.0), points }
        })
        .collect();
    let collateral = Plot {
        file: "router-collateral.png".into(),
        title: format!("Router collateral over epochs (slashed {} below {line})", ppb_pct(run.slash)),
        x_label: "epoch".into(),
        y_label: "bonded collateral (SWK)".into(),
        kind: PlotKind::Line,
        series,
    };
    vec![scatter, collateral]
}

fn headline(run: &RouterRun, totals: &[RouterTotals]) -> Vec<(String, String)> {
    let paid: u128 = totals.iter().map(|t| t.paid).sum();
    let slashed: u128 = totals.iter().map(|t| t.slashed).sum();
    let best = totals.iter().max_by_key(|t| (t.paid, std::cmp::Reverse(t.router)));
    let worst = totals.iter().min_by_key(|t| (t.paid, t.router));
    let short = run.pool.iter().filter(|(owed, paid, _)| paid < owed).count();
    vec![
        ("total_paid_swk".into(), format!("{:.6}", swk(paid))),
        ("total_slashed_swk".into(), format!("{:.6}", swk(slashed))),
        ("best_router".into(), best.map_or(String::new(), |t| name(t.router))),
        ("best_router_paid_swk".into(), best.map_or(String::new(), |t| format!("{:.6}", swk(t.paid)))),
        ("worst_router".into(), worst.map_or(String::new(), |t| name(t.router))),
        ("worst_router_paid_swk".into(), worst.map_or(String::new(), |t| format!("{:.6}", swk(t.paid)))),
        ("pool_short_epochs".into(), short.to_string()),
    ]
}

fn summary(c: &Config, run: &RouterRun, totals: &[RouterTotals]) -> String {
    let mut s = String::new();
    let line = ppb_pct(run.connectivity_min);
    let _ = writeln!(s, "# Router economics vs latency and connectivity\n");
    let _ = writeln!(
        s,
        "{} routers with {} nodes each ran {} epochs of {} blocks on the real engine (seed {}). Node latencies \
         {}–{} ms, validator latencies {}–{} ms, connectivity {}–{}%, about {} MB per node and epoch. Each \
         router started with {:.0} SWK of collateral (the router minimum is {:.0} SWK); the routers' pool \
         received {:.3} SWK of emission per epoch. Every node has the neutral reputation S = 0.5 (nobody rated \
         it), which halves every reward.\n",
        c.routers,
        c.nodes_per_router,
        c.epochs,
        c.epoch_length,
        c.seed,
        c.node_latency_ms_min,
        c.node_latency_ms_max,
        c.validator_latency_ms_min,
        c.validator_latency_ms_max,
        c.online_pct_min,
        c.online_pct_max,
        c.traffic_mb_per_node,
        c.collateral as f64 / SWK,
        c.router_stake_min as f64 / SWK,
        c.routers_pool_per_epoch as f64 / SWK
    );
    let mut by_latency: Vec<&RouterTotals> = totals.iter().collect();
    by_latency.sort_by(|a, b| a.latency_ms.total_cmp(&b.latency_ms).then(a.router.cmp(&b.router)));
    s.push_str(&routers_md(c, &by_latency).markdown());
    latency_finding(&mut s, run, &by_latency);
    connectivity_finding(&mut s, c, run, totals, &line);
    overclaim_finding(&mut s, c, totals);
    pool_finding(&mut s, run);
    s
}

fn routers_md(c: &Config, by_latency: &[&RouterTotals]) -> Table {
    let mut md = Table::new(
        "",
        &[
            "router",
            "latency Ln + Lv (ms)",
            "connectivity",
            "validated GB",
            "paid (SWK)",
            "per MB (base units)",
            "epochs slashed",
            "collateral left (SWK)",
        ],
    );
    for t in by_latency {
        md.row(&[
            &format!("{}{}", name(t.router), if t.overclaims { " (over-claims)" } else { "" }),
            &format!("{:.0}", t.latency_ms),
            &format!("{:.1}%", t.connectivity * 100.0),
            &format!("{:.2}", t.validated_bytes as f64 / 1e9),
            &format!("{:.4}", swk(t.paid)),
            &format!("{:.0}", t.paid_per_mb()),
            &format!("{} of {}", t.epochs_slashed, c.epochs),
            &format!("{:.2}", swk(t.collateral_end)),
        ]);
    }
    md
}

fn latency_finding(s: &mut String, run: &RouterRun, by_latency: &[&RouterTotals]) {
    let clamped = run.rows.iter().filter(|r| r.latency_ms() >= run.clamp_ms).count();
    let clamped_paid: u128 = run.rows.iter().filter(|r| r.latency_ms() >= run.clamp_ms).map(|r| r.paid).sum();
    let paid_rows: Vec<&RouterEpoch> = run.rows.iter().filter(|r| r.validated_bytes > 0).collect();
    let fastest = paid_rows.iter().min_by(|a, b| a.latency_ms().total_cmp(&b.latency_ms()));
    let _ = writeln!(s, "\n## Latency\n");
    if let (Some(f), Some(first), Some(last)) = (fastest, by_latency.first(), by_latency.last()) {
        let _ = writeln!(
            s,
            "The reward per validated MB falls linearly with latency, `kB · S · (1 − (Ln + Lv)/{:.0} ms)`: the \
             fastest router-epoch ({:.0} ms) was paid {:.0} base units per MB (at zero latency it would be \
             kB · S = {}); over the run {} ({:.0} ms) averaged {:.0} per MB and {} ({:.0} ms) {:.0}. {} of {} \
             router-epochs had a latency at or beyond the {:.0} ms clamp and were paid {} in total — bandwidth \
             served that slowly earns nothing.",
            run.clamp_ms,
            f.latency_ms(),
            f.paid_per_mb(),
            f.reputation.mul_floor(Amount(run.reward_per_mb)).0,
            name(first.router),
            first.latency_ms,
            first.paid_per_mb(),
            name(last.router),
            last.latency_ms,
            last.paid_per_mb(),
            clamped,
            run.rows.len(),
            run.clamp_ms,
            clamped_paid
        );
    }
}

fn connectivity_finding(s: &mut String, c: &Config, run: &RouterRun, totals: &[RouterTotals], line: &str) {
    let below = run.rows.iter().filter(|r| r.connectivity <= run.connectivity_min).count();
    let slashed = run.rows.iter().filter(|r| r.slashed > 0).count();
    let wrongly = run.rows.iter().filter(|r| (r.slashed > 0) != (r.connectivity <= run.connectivity_min)).count();
    let _ = writeln!(s, "\n## Connectivity\n");
    let pattern = if wrongly == 0 {
        format!("every router-epoch at or below {line} was slashed and none above it")
    } else {
        format!("{wrongly} router-epochs break the rule that exactly those at or below {line} are slashed")
    };
    let _ = writeln!(
        s,
        "{below} of {} router-epochs had a connectivity below {line} and {slashed} were slashed, {} of the \
         collateral each time: {pattern}. Connectivity does not change the reward: a slashed router is still \
         paid for its bandwidth.",
        run.rows.len(),
        ppb_pct(run.slash)
    );
    let worst = totals.iter().min_by(|a, b| a.connectivity.total_cmp(&b.connectivity).then(a.router.cmp(&b.router)));
    if let Some(w) = worst {
        let fell = match w.below_min_after {
            Some(e) => format!(
                "its collateral fell below the {:.0} SWK router minimum after epoch {e}, yet no rule acts on that: \
                 it {} a registered router and kept reporting and earning",
                run.router_stake_min as f64 / SWK,
                if run.registered_at_end[w.router as usize] { "is still" } else { "is no longer" }
            ),
            None => {
                format!("its collateral stayed above the {:.0} SWK router minimum", run.router_stake_min as f64 / SWK)
            }
        };
        let _ = writeln!(
            s,
            "\nThe least connected router, {} ({:.1}% online on average), was slashed in {} of {} epochs: \
             {:.2} SWK → {:.2} SWK ({:.1}% left); {fell}. It was paid {:.4} SWK over the run against {:.2} SWK \
             slashed.",
            name(w.router),
            w.connectivity * 100.0,
            w.epochs_slashed,
            c.epochs,
            c.collateral as f64 / SWK,
            swk(w.collateral_end),
            w.collateral_end as f64 * 100.0 / c.collateral.max(1) as f64,
            swk(w.paid),
            swk(w.slashed)
        );
    }
    let best = totals.iter().map(|t| t.paid).max().unwrap_or(0) / u128::from(c.epochs.max(1));
    let first_slash = run.slash.mul_floor(Amount(run.collateral_start)).0;
    if best > 0 {
        let _ = writeln!(
            s,
            "\nAt these parameters one slash of the starting collateral ({:.2} SWK) costs as much as {:.0} epochs of \
             the best-paid router's mean reward ({:.4} SWK per epoch): connectivity, not latency, dominates a \
             router's economics.",
            swk(first_slash),
            first_slash as f64 / best as f64,
            swk(best)
        );
    }
}

fn overclaim_finding(s: &mut String, c: &Config, totals: &[RouterTotals]) {
    let _ = writeln!(s, "\n## Over-claiming\n");
    let cheat = totals.iter().find(|t| t.overclaims);
    let twin = totals.first();
    match (cheat, twin) {
        (Some(x), Some(t)) => {
            let _ = writeln!(
                s,
                "{} is a copy of {} (the same nodes' traffic, latencies and online shares) that reports {}% more \
                 bytes than its nodes confirm: {:.2} GB reported, {:.2} GB validated ({} validated {:.2} GB). It \
                 was paid {:.6} SWK, {} — the nodes' own counts cap the validated bandwidth, so over-claiming \
                 gains nothing (and costs nothing either: the rule has no penalty for it).",
                name(x.router),
                name(t.router),
                c.overclaim_pct,
                x.reported_bytes as f64 / 1e9,
                x.validated_bytes as f64 / 1e9,
                name(t.router),
                t.validated_bytes as f64 / 1e9,
                swk(x.paid),
                if x.paid == t.paid {
                    format!("exactly what {} was paid", name(t.router))
                } else {
                    format!("while {} was paid {:.6} SWK", name(t.router), swk(t.paid))
                }
            );
        }
        _ => {
            let _ = writeln!(s, "No router over-claimed in this run (`overclaim_pct` = 0 or a single router).");
        }
    }
}

fn pool_finding(s: &mut String, run: &RouterRun) {
    let short = run.pool.iter().filter(|(owed, paid, _)| paid < owed).count();
    let max_owed = run.pool.iter().map(|(o, _, _)| *o).max().unwrap_or(0);
    let minted: u128 = run.pool.iter().map(|(_, _, m)| *m).sum();
    let paid: u128 = run.pool.iter().map(|(_, p, _)| *p).sum();
    let _ = writeln!(s, "\n## The routers' pool\n");
    let per_epoch = run.pool.first().map_or(0, |(_, _, m)| *m);
    let per_mb = run.rows.first().map_or(0, |r| r.reputation.mul_floor(Amount(run.reward_per_mb)).0);
    if short == 0 {
        let _ = writeln!(
            s,
            "The pool was never short: the most the routers were owed in one epoch was {:.4} SWK. Of the {:.3} SWK \
             minted into it, {:.4} SWK was paid and the rest went back to the treasury at each epoch's end.",
            swk(max_owed),
            swk(minted),
            swk(paid)
        );
        if per_mb > 0 {
            let _ = writeln!(
                s,
                "\nAt {per_mb} base units per MB (zero latency, S = 0.5), the {:.3} SWK minted per epoch pays for \
                 {:.0} GB of validated traffic per epoch; beyond that every router would be paid pro rata.",
                swk(per_epoch),
                per_epoch as f64 / per_mb as f64 / 1e3
            );
        }
    } else {
        let _ = writeln!(
            s,
            "The pool was short in {short} of {} epochs (owed up to {:.4} SWK in an epoch): every router's reward \
             was scaled down by the same ratio (largest remainder), and the pool paid out exactly what it held. \
             Paid {:.4} SWK of {:.3} SWK minted.",
            run.pool.len(),
            swk(max_owed),
            swk(paid),
            swk(minted)
        );
    }
}
