//! `Net`: a tiny network of named accounts driven block by block, with a readable log for snapshots.

use ed25519_dalek::SigningKey;
use engine::testkit::TestChain;
use engine::{Call, Event, Genesis, GenesisAccount, GenesisService, Params, SignatureCheck, SignedTx};
use std::collections::BTreeMap;
use std::fmt::Write;
use types::{AccountId, Amount};

pub fn key(name: &str) -> SigningKey {
    SigningKey::from_bytes(blake3::hash(format!("test-key/{name}").as_bytes()).as_bytes())
}

pub fn id(name: &str) -> AccountId {
    AccountId(key(name).verifying_key().to_bytes())
}

pub struct Net {
    /// The engine, driven through the shared test chain (nonces tracked there).
    pub chain: TestChain,
    names: BTreeMap<AccountId, String>,
    pub log: String,
    /// Every event of every block, in order.
    pub events: Vec<Event>,
    /// Every event record with its block's height, in order (what a node stores).
    pub records: Vec<(u64, engine::EventRecord)>,
}

/// Parameters that keep snapshots short: fee 1, short periods.
pub fn small_params() -> Params {
    Params {
        min_fee: Amount(1),
        epoch_length: 1_000,
        unbonding_period: 3,
        voting_period: 2,
        emission_per_epoch: Amount::ZERO,
        ..Params::default()
    }
}

impl Net {
    pub fn new(accounts: &[(&str, u128, u128)], params: Params) -> Net {
        Net::with_services(accounts, params, Vec::new(), 0)
    }

    /// A network with services and a miners' pool funded with `pool` base units.
    pub fn with_services(
        accounts: &[(&str, u128, u128)],
        params: Params,
        services: Vec<GenesisService>,
        pool: u128,
    ) -> Net {
        Net::with_system(accounts, params, services, &[(engine::MINERS_POOL_NAME, pool)])
    }

    /// A network with services and funded system accounts by name (treasury, miners-pool, background-pool).
    pub fn with_system(
        accounts: &[(&str, u128, u128)],
        params: Params,
        services: Vec<GenesisService>,
        system: &[(&str, u128)],
    ) -> Net {
        Net::with_validators(accounts, params, (services, system), Vec::new())
    }

    /// As [`Net::with_system`], with genesis validator candidates.
    pub fn with_validators(
        accounts: &[(&str, u128, u128)],
        params: Params,
        (services, system): (Vec<GenesisService>, &[(&str, u128)]),
        validators: Vec<engine::protocol::GenesisValidator>,
    ) -> Net {
        let mut genesis = Genesis {
            services,
            validators,
            params,
            accounts: accounts
                .iter()
                .map(|(n, free, bonded)| GenesisAccount {
                    id: id(n),
                    name: Some(n.to_string()),
                    free: Amount(*free),
                    bonded: Amount(*bonded),
                })
                .collect(),
        };
        for (name, free) in system.iter().filter(|(_, f)| *f > 0) {
            let id = AccountId::system(name);
            genesis.accounts.push(GenesisAccount { id, name: None, free: Amount(*free), bonded: Amount::ZERO });
        }
        let chain = TestChain::new(&genesis).expect("valid genesis");
        let engine = &chain.engine;
        let mut names: BTreeMap<AccountId, String> = accounts.iter().map(|(n, _, _)| (id(n), n.to_string())).collect();
        names.insert(engine.treasury(), "treasury".to_string());
        names.insert(AccountId::system(engine::MINERS_POOL_NAME), "miners-pool".to_string());
        names.insert(AccountId::system(engine::BACKGROUND_POOL_NAME), "background-pool".to_string());
        names.insert(AccountId::system(engine::POINTS_POOL_NAME), "points-pool".to_string());
        names.insert(AccountId::system(engine::ROUTERS_POOL_NAME), "routers-pool".to_string());
        for extra in ["bob", "carol", "dave"] {
            names.entry(id(extra)).or_insert_with(|| extra.to_string());
        }
        Net { chain, names, log: String::new(), events: Vec::new(), records: Vec::new() }
    }

    pub fn names(&self, ids: &[AccountId]) -> String {
        let mut v: Vec<String> = ids.iter().map(|a| self.name(a)).collect();
        v.sort();
        v.join(" ")
    }

    /// `name amount, …` sorted by name.
    pub fn amounts(&self, list: &[(AccountId, Amount)]) -> String {
        let sorted: BTreeMap<String, Amount> = list.iter().map(|(a, x)| (self.name(a), *x)).collect();
        sorted.iter().map(|(n, x)| format!("{n} {x}")).collect::<Vec<_>>().join(", ")
    }

    fn outcome(&self, o: &engine::JobOutcome) -> String {
        use engine::JobOutcome::*;
        match o {
            Reported { fault, offenders } => format!("reported {fault:?} [{}]", self.names(offenders)),
            SelfReported { member, epoch, epochs } => {
                format!("self-reported {} at {epoch}/{epochs}", self.name(member))
            }
            other => format!("{other:?}"),
        }
    }

    pub fn name(&self, a: &AccountId) -> String {
        self.names.get(a).cloned().unwrap_or_else(|| a.short())
    }

    /// A transaction from `who` with its next nonce and fee 1.
    pub fn tx(&mut self, who: &str, call: Call) -> SignedTx {
        self.tx_with(who, 1, call)
    }

    pub fn tx_with(&mut self, who: &str, fee: u128, call: Call) -> SignedTx {
        let body = self.chain.body(id(who), Amount(fee), call);
        body.sign(&key(who), &self.chain.engine.params().chain_id)
    }

    /// Seal a block of `txs` (signatures checked for real) and log what happened.
    pub fn block(&mut self, txs: Vec<SignedTx>) {
        let sigs = engine::verify_signatures(&txs, &self.chain.engine.params().chain_id);
        self.block_with(txs, sigs);
    }

    pub fn block_with(&mut self, txs: Vec<SignedTx>, sigs: SignatureCheck) {
        self.block_by(None, txs, sigs);
    }

    /// A block proposed by the validator whose consensus key is `proposer`.
    pub fn block_by(&mut self, proposer: Option<AccountId>, txs: Vec<SignedTx>, sigs: SignatureCheck) {
        let described: Vec<String> = txs.iter().map(|t| self.describe(t)).collect();
        let (_, out) = self.chain.produce_by(proposer, txs, &sigs);
        // A test may make transactions it never sends: every signer's nonce is read again next block.
        self.chain.forget_nonces();
        let _ = writeln!(self.log, "block {}:", out.height);
        for (d, r) in described.iter().zip(&out.receipts) {
            let _ = writeln!(self.log, "  {d} -> {}", r.code());
        }
        for e in &out.events {
            let _ = writeln!(self.log, "  * {}", self.event(&e.event));
        }
        self.records.extend(out.events.iter().map(|e| (out.height.0, e.clone())));
        self.events.extend(out.events.into_iter().map(|e| e.event));
        self.chain.engine.check_invariants().expect("invariants after every block");
        if std::env::var_os("NET_LOG").is_some() {
            eprint!("{}", &self.log[self.log.rfind("block ").unwrap_or(0)..]);
        }
    }

    pub fn empty_blocks(&mut self, n: usize) {
        for _ in 0..n {
            self.block(Vec::new());
        }
    }

    pub fn balances(&mut self) {
        let _ = writeln!(self.log, "balances (free held bonded unbonding):");
        for (a, acct) in self
            .chain
            .engine
            .ledger()
            .accounts_sorted()
            .into_iter()
            .map(|(a, x)| (self.name(&a), x.clone()))
            .collect::<BTreeMap<_, _>>()
        {
            let _ = writeln!(self.log, "  {a}: {} {} {} {}", acct.free, acct.held, acct.bonded, acct.unbonding);
        }
    }

    fn describe(&self, t: &SignedTx) -> String {
        let who = self.name(&t.body.signer);
        let what = match &t.body.call {
            Call::Transfer { to, amount } => format!("transfer {amount} to {}", self.name(to)),
            Call::Bond { amount } => format!("bond {amount}"),
            Call::Unbond { amount } => format!("unbond {amount}"),
            Call::HoldCreate { amount, expires_at } => match expires_at {
                Some(h) => format!("hold {amount} until {h}"),
                None => format!("hold {amount}"),
            },
            Call::HoldPost { hold, payouts } => {
                let p: Vec<String> = payouts.iter().map(|(a, v)| format!("{v} to {}", self.name(a))).collect();
                format!("post {hold}: {}", p.join(", "))
            }
            Call::HoldVoid { hold } => format!("void {hold}"),
            Call::RegisterNode { roles, services, capacity, .. } => {
                format!("register {roles:?} services {services:?} capacity {capacity}")
            }
            Call::DeregisterNode => "deregister".to_string(),
            Call::ReportStatus { status } => format!("report {status:?}"),
            Call::SubmitRequest { service, max_price, avoid } => {
                format!("request service {service} (max {max_price}){}", avoiding(avoid))
            }
            Call::CompleteRequest { request, .. } => format!("complete request {request}"),
            Call::RateRequest { request, rating } => format!("rate request {request} {rating:?}"),
            Call::Propose { action } => format!("propose {action:?}"),
            Call::Vote { proposal, approve } => {
                format!("vote {} on proposal {proposal}", if *approve { "yes" } else { "no" })
            }
            Call::SubmitTask { service, redundancy, avoid, .. } => {
                format!("task service {service} k={redundancy}{}", avoiding(avoid))
            }
            Call::PublishTaskSpec { task, .. } => format!("publish spec of task {task}"),
            Call::PrepareTask { task, .. } => format!("prepare task {task}"),
            Call::PrecommitOutput { task, .. } => format!("precommit task {task}"),
            Call::RevealOutput { task, output, .. } => {
                format!("reveal task {task} {:?}", output.chars().take(12).collect::<String>())
            }
            Call::AdvanceTask { task } => format!("advance task {task}"),
            Call::AttestPoi { task, scores } => format!("attest task {task} ({} scores)", scores.len()),
            Call::OrderJob { order } => format!(
                "order job {:?} for {} with DOs [{}] price {} quote {}",
                order.kind,
                self.name(&order.qc),
                self.names(&order.dos),
                order.price_per_do,
                order.quote
            ),
            Call::SubmitJobQuery { amount, .. } => format!("stake job {amount}"),
            Call::SelectMpcs { mpcs, .. } => format!("select MPCs [{}]", self.names(mpcs)),
            Call::AcceptJob { deposit, .. } => format!("accept job, deposit {deposit}"),
            Call::PostJobStatus { status, .. } => format!("status {}", job_status(status)),
            Call::ReportJobFailure { offenders, fault, .. } => {
                format!("report {fault:?} [{}]", self.names(offenders))
            }
            Call::CancelJob { .. } => "cancel job".to_string(),
            Call::ReplaceMpc { mpc, replacement, .. } => {
                format!("replace MPC {} with {}", self.name(mpc), self.name(replacement))
            }
            Call::PostJobResult { result, .. } => format!("post result {}", short(result)),
            Call::ReportNonCompliance { member, result, .. } => {
                format!("report non-compliant {} result {}", self.name(member), short(result))
            }
            Call::AppealJobReport { .. } => "appeal the report".to_string(),
            Call::AttachRouter { router } => format!("attach to router {}", self.name(router)),
            Call::ReportRouterEpoch { epoch, validator_latency_ms, nodes } => {
                format!("router report epoch {epoch}: {} nodes, validator {validator_latency_ms} ms", nodes.len())
            }
            Call::ReportNodeTraffic { epoch, router, bytes } => {
                format!("traffic epoch {epoch} via {}: {bytes} bytes", self.name(router))
            }
            Call::PublishList { name, nodes } => format!("publish list {name} [{}]", self.names(nodes)),
            Call::AcceptNode { node } => format!("accept node {}", self.name(node)),
            Call::DetachRouter { node } => format!("detach {}", self.name(node)),
            Call::Nominate { node, amount } => format!("nominate {} {amount}", self.name(node)),
            Call::Unnominate { node, amount } => format!("unnominate {} {amount}", self.name(node)),
            Call::SetCommission { commission } => format!("commission {}", commission.raw()),
            Call::ReportEquivocation { evidence } => {
                format!(
                    "report {} {} era {} view {}",
                    evidence.kind(),
                    self.name(&evidence.offender),
                    evidence.epoch,
                    evidence.view
                )
            }
        };
        format!("{who}#{} {what}", t.body.nonce)
    }

    fn event(&self, e: &Event) -> String {
        match e {
            Event::TransferPosted { from, to, amount } => {
                format!("TransferPosted {} -> {} {amount}", self.name(from), self.name(to))
            }
            Event::Bonded { account, amount } => format!("Bonded {} {amount}", self.name(account)),
            Event::UnbondStarted { account, amount, matures_at } => {
                format!("UnbondStarted {} {amount} matures at {matures_at}", self.name(account))
            }
            Event::UnbondMatured { account, amount } => {
                format!("UnbondMatured {} {amount}", self.name(account))
            }
            Event::HoldCreated { hold, payer, amount, expires_at } => {
                format!("HoldCreated {hold} by {} {amount} expires {expires_at:?}", self.name(payer))
            }
            Event::HoldPosted { hold, payouts, remaining } => {
                format!("HoldPosted {hold} {} payouts, {remaining} left", payouts.len())
            }
            Event::HoldVoided { hold, payer, amount } => {
                format!("HoldVoided {hold} {amount} back to {}", self.name(payer))
            }
            Event::HoldExpired { hold, payer, amount } => {
                format!("HoldExpired {hold} {amount} back to {}", self.name(payer))
            }
            Event::EpochEnded { epoch, height } => format!("EpochEnded {epoch} at {height}"),
            Event::NodeRegistered { account, roles, .. } => format!("NodeRegistered {} {roles:?}", self.name(account)),
            Event::NodeDeregistered { account, unbonding, .. } => {
                format!("NodeDeregistered {} unbonding {unbonding}", self.name(account))
            }
            Event::StatusReported { account, status } => format!("StatusReported {} {status:?}", self.name(account)),
            Event::RequestSubmitted { request, client, miner, price, .. } => {
                format!("RequestSubmitted {request} by {} to {} price {price}", self.name(client), self.name(miner))
            }
            Event::RequestCompleted { request, miner, paid, fee, .. } => {
                format!("RequestCompleted {request} by {} paid {paid} fee {fee}", self.name(miner))
            }
            Event::RequestRated { request, miner, rating, reputation } => {
                format!("RequestRated {request} {rating:?}: {} reputation {}", self.name(miner), reputation.raw())
            }
            Event::RequestExpired { request, client, miner, refunded, reputation } => format!(
                "RequestExpired {request}: {refunded} back to {}, {} reputation {}",
                self.name(client),
                self.name(miner),
                reputation.raw()
            ),
            Event::MinerRewarded { epoch, miner, amount, score, .. } => {
                format!("MinerRewarded epoch {epoch} {} {amount} (score {score})", self.name(miner))
            }
            Event::ProposalCreated { proposal, proposer, voting_ends, .. } => {
                format!("ProposalCreated {proposal} by {} voting until {voting_ends}", self.name(proposer))
            }
            Event::VoteCast { proposal, voter, approve, stake } => {
                format!("VoteCast {proposal} {} {} with {stake}", self.name(voter), if *approve { "yes" } else { "no" })
            }
            Event::ProposalTallied { proposal, yes, no, quorum, passed } => {
                format!("ProposalTallied {proposal} yes {yes} no {no} quorum {quorum} passed {passed}")
            }
            Event::ProposalApplied { proposal, applied, reason, .. } => {
                format!("ProposalApplied {proposal} applied {applied} {}", reason.clone().unwrap_or_default())
            }
            Event::TaskSubmitted { task, creator, .. } => {
                format!("TaskSubmitted {task} creator {}", self.name(creator))
            }
            Event::BackgroundTaskCreated { task, creator, .. } => {
                format!("BackgroundTaskCreated {task} creator {}", self.name(creator))
            }
            Event::TaskSpecPublished { task, .. } => format!("TaskSpecPublished {task}"),
            Event::PoiAttested { task, oracle, stake } => {
                format!("PoiAttested {task} by {} stake {stake}", self.name(oracle))
            }
            Event::TaskInputsPrepared { task, .. } => format!("TaskInputsPrepared {task}"),
            Event::TaskMinersSelected { task, miners } => format!("TaskMinersSelected {task} {}", self.names(miners)),
            Event::OutputPrecommitted { task, miner } => format!("OutputPrecommitted {task} {}", self.name(miner)),
            Event::OutputRevealed { task, miner } => format!("OutputRevealed {task} {}", self.name(miner)),
            Event::TaskAdvanced { task, from, to, oracle, fee } => format!(
                "TaskAdvanced {task} {from:?} -> {to:?} by {} fee {fee}",
                oracle.map_or("the engine".to_string(), |o| self.name(&o))
            ),
            Event::TaskParticipantReplaced { task, old, new } => {
                format!("TaskParticipantReplaced {task} {} -> {}", self.name(old), self.name(new))
            }
            Event::TaskParticipantsDropped { task, miners } => {
                format!("TaskParticipantsDropped {task} {}", self.names(miners))
            }
            Event::TaskEnded { task, passed, failed, paid, .. } => {
                format!("TaskEnded {task} passed [{}] failed [{}] paid {paid}", self.names(passed), self.names(failed))
            }
            Event::TaskFailed { task, reason, culprits, realtime, .. } => {
                format!("TaskFailed {task} ({reason}) culprits [{}] realtime {realtime}", self.names(culprits))
            }
            Event::JobOrdered { kind, gds, deposit, .. } => {
                format!("JobOrdered {kind:?} by {} deposit {deposit}", self.name(gds))
            }
            Event::JobQuerySubmitted { amount, staked, .. } => format!("JobQuerySubmitted {amount} (staked {staked})"),
            Event::MpcsSelected { mpcs, schema, .. } => format!(
                "MpcsSelected [{}] per DO {} per MPC {} GDS {} total {}",
                self.names(mpcs),
                schema.per_do,
                schema.per_mpc,
                schema.gds,
                schema.total
            ),
            Event::JobAccepted { member, deposit, .. } => format!("JobAccepted {} {deposit}", self.name(member)),
            Event::JobDispatched { dos, mpcs, .. } => {
                format!("JobDispatched DOs [{}] MPCs [{}]", self.names(dos), self.names(mpcs))
            }
            Event::JobStatusUpdated { member, status, .. } => {
                format!("JobStatusUpdated {} {}", self.name(member), job_status(status))
            }
            Event::MpcReplacementNominated { mpc, replacement, .. } => {
                format!("MpcReplacementNominated {} -> {}", self.name(mpc), self.name(replacement))
            }
            Event::MpcReplaced { old, new, replacements, .. } => {
                format!("MpcReplaced {} -> {} ({replacements})", self.name(old), self.name(new))
            }
            Event::RewardDistributed { payouts, .. } => format!("RewardDistributed {}", self.amounts(payouts)),
            Event::Refund { refunds, .. } => format!("Refund {}", self.amounts(refunds)),
            Event::JobSettled { outcome, .. } => format!("JobSettled {}", self.outcome(outcome)),
            Event::JobBondPosted { gds, bond, .. } => format!("JobBondPosted {} {bond}", self.name(gds)),
            Event::JobResultPosted { member, result, .. } => {
                format!("JobResultPosted {} {}", self.name(member), short(result))
            }
            Event::NonComplianceReported { member, result, closes_at, .. } => {
                format!("NonComplianceReported {} {} closes at {closes_at}", self.name(member), short(result))
            }
            Event::JobReportAppealed { member, proposal, .. } => {
                format!("JobReportAppealed {} proposal {proposal}", self.name(member))
            }
            Event::JobReportOverturned { member, bond, .. } => {
                format!("JobReportOverturned {} paid {bond}", self.name(member))
            }
            Event::EmissionMinted { epoch, total, parts } => {
                let p: Vec<String> = parts.iter().map(|(n, a)| format!("{n} {a}")).collect();
                format!("EmissionMinted epoch {epoch} {total}: {}", p.join(", "))
            }
            Event::PointsRewarded { node, earned, deducted, amount, .. } => {
                format!("PointsRewarded {} {amount} (earned {earned} deducted {deducted})", self.name(node))
            }
            Event::NetworkRated { task, miner, good, reputation } => {
                format!("NetworkRated task {task} {} good {good} reputation {}", self.name(miner), reputation.raw())
            }
            Event::PointsBooked { task, node, earned, deducted } => {
                format!("PointsBooked task {task} {} +{earned} -{deducted}", self.name(node))
            }
            Event::PoolSwept { pool, amount } => format!("PoolSwept {pool} {amount}"),
            Event::ListPublished { owner, name, nodes } => {
                format!("ListPublished {}/{name} {nodes} nodes", owner.map_or("network".to_string(), |o| self.name(&o)))
            }
            Event::RouterAttached { node, router } => {
                format!("RouterAttached {} -> {}", self.name(node), self.name(router))
            }
            Event::RouterReported { router, nodes, .. } => {
                format!("RouterReported {} {nodes} nodes", self.name(router))
            }
            Event::NodeTrafficReported { node, bytes, .. } => {
                format!("NodeTrafficReported {} {bytes}", self.name(node))
            }
            Event::RouterRewarded { router, bandwidth, latency_factor, reputation, owed, amount, .. } => format!(
                "RouterRewarded {} {amount} (owed {owed}; B {bandwidth} latency {} S {})",
                self.name(router),
                latency_factor.raw(),
                reputation.raw()
            ),
            Event::RouterSlashed { router, connectivity, amount, .. } => {
                format!("RouterSlashed {} {amount} (connectivity {})", self.name(router), connectivity.raw())
            }
            Event::RouterAcceptedNode { router, node } => {
                format!("RouterAcceptedNode {} <- {}", self.name(router), self.name(node))
            }
            Event::RouterDetached { node, router } => {
                format!("RouterDetached {} -> {}", self.name(node), self.name(router))
            }
            Event::Nominated { nominator, node, amount, active } => {
                format!("Nominated {} -> {} {amount} (active {active})", self.name(nominator), self.name(node))
            }
            Event::Unnominated { nominator, node, amount, active, matures_at } => format!(
                "Unnominated {} -> {} {amount} (active {active}) matures at {matures_at}",
                self.name(nominator),
                self.name(node)
            ),
            Event::CommissionSet { node, commission, effective_at } => {
                format!("CommissionSet {} {} from {effective_at}", self.name(node), commission.raw())
            }
            Event::RewardSplit { node, kind, commission, parts, .. } => {
                format!("RewardSplit {} {kind:?} commission {commission}: {}", self.name(node), self.amounts(parts))
            }
            Event::SlashSplit { node, parts, .. } => {
                format!("SlashSplit {}: {}", self.name(node), self.amounts(parts))
            }
            Event::ValidatorSetElected { era, validators } => {
                let set: Vec<String> =
                    validators.iter().map(|v| format!("{} {}", self.name(&v.account), v.weight)).collect();
                format!("ValidatorSetElected era {era}: {}", set.join(", "))
            }
            Event::ValidatorRewarded { account, amount, .. } => {
                format!("ValidatorRewarded {} {amount}", self.name(account))
            }
            Event::EquivocationSlashed { offender, account, era, view, amount, reporter, reporter_reward, burned } => {
                format!(
                    "EquivocationSlashed {} ({}) era {era} view {view}: {amount}, {reporter_reward} to {}, {burned} burned",
                    self.name(offender),
                    self.name(account),
                    self.name(reporter)
                )
            }
        }
    }
}

fn job_status(s: &engine::JobStatus) -> String {
    let n = |v: u32| if v == engine::WHOLE { "whole".to_string() } else { v.to_string() };
    format!("{:?} epoch {} batch {} {:?}", s.stage, n(s.epoch), n(s.batch), s.status)
}

fn avoiding(lists: &[engine::ListRef]) -> String {
    if lists.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
    format!(" avoiding {}", names.join(","))
}

/// The first four bytes of a hash, in hex: enough to tell results apart in a log.
fn short(h: &types::Hash) -> String {
    h.0[..4].iter().map(|b| format!("{b:02x}")).collect()
}
