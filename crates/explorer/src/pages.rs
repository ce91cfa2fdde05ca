//! The explorer's pages, each a function from the data it shows to a whole HTML page.

use crate::events::{event_table, value};
use crate::{account_link, amount, layout, node_link, percent, short};
use api::{
    AccountView, BlockView, EpochView, FinalityView, JobView, ListView, NodeView, PointsRow, PointsView,
    ReputationView, RouterView, TxReceipt,
};
use maud::{html, Markup};
use protocol::{Event, EventRecord, Proposal, Task};
use serde_json::Value;
use std::collections::BTreeMap;
use types::{AccountId, Amount, Hash};

/// A row of the home page's latest blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRow {
    pub height: u64,
    pub hash: Hash,
    pub txs: usize,
    pub events: usize,
}

/// The home page's chain summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub height: u64,
    pub finalized: u64,
    pub epoch: u64,
    pub supply: Amount,
    pub blocks: Vec<BlockRow>,
    pub nodes: Vec<NodeView>,
    /// Genesis names of accounts (not chain state; shown beside ids).
    pub names: BTreeMap<AccountId, String>,
}

pub fn home(h: &Home) -> Markup {
    let body = html! {
        dl {
            dt { "height" } dd { (h.height) }
            dt { "finalized height" } dd { (h.finalized) }
            dt { "epoch" } dd { a href={ "/epochs/" (h.epoch) } { (h.epoch) } " (in progress)" }
            dt { "supply" } dd { (amount(h.supply)) }
        }
        h2 { "Latest blocks" }
        table {
            tr { th { "height" } th { "hash" } th { "transactions" } th { "events" } }
            @for b in &h.blocks {
                tr {
                    td.num { a href={ "/blocks/" (b.height) } { (b.height) } }
                    td { code { (short(&b.hash.to_string())) } }
                    td.num { (b.txs) } td.num { (b.events) }
                }
            }
        }
        h2 { "Nodes" }
        (nodes_table(&h.nodes, &h.names))
    };
    layout("Chain", body)
}

fn nodes_table(nodes: &[NodeView], names: &BTreeMap<AccountId, String>) -> Markup {
    html! {
        table {
            tr { th { "node" } th { "name" } th { "roles" } th { "endpoint" } th { "status" } th { "bonded" } th { "reputation" } }
            @for n in nodes {
                tr {
                    td { (node_link(&n.account)) }
                    td { a href={ "/nodes/" (n.account) } { (names.get(&n.account).map_or("", String::as_str)) } }
                    td { (roles(n)) }
                    td { code { (n.endpoint) } }
                    td { (n.status.map_or("—".to_string(), |s| format!("{s:?}"))) }
                    td { (amount(n.bonded)) }
                    td { (rep_text(n.reputation.raw())) }
                }
            }
        }
    }
}

fn roles(n: &NodeView) -> String {
    n.roles.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(", ")
}

fn rep_text(ppb: u32) -> Markup {
    let class = if ppb < 300_000_000 {
        "bad"
    } else if ppb >= 700_000_000 {
        "good"
    } else {
        ""
    };
    html! { span class=(class) { (percent(ppb)) } }
}

pub fn block(b: &BlockView) -> Markup {
    let rows: Vec<(u64, EventRecord)> = b.events.iter().map(|e| (b.height, e.clone())).collect();
    let body = html! {
        dl {
            dt { "hash" } dd { code { (b.hash) } }
            dt { "parent" } dd { @if b.height > 1 { a href={ "/blocks/" (b.height - 1) } { code { (b.parent_hash) } } } @else { code { (b.parent_hash) } } }
            dt { "state root" } dd { code { (b.state_root) } }
            (finality(&b.finality, b.proposer))
        }
        h2 { "Transactions" }
        @if b.txs.is_empty() { p.note { "No transactions." } } @else {
            table {
                tr { th { "#" } th { "hash" } th { "signer" } th { "call" } th { "receipt" } }
                @for (i, t) in b.txs.iter().enumerate() {
                    tr {
                        td.num { (i) }
                        td { a href={ "/txs/" (t.hash) } { code { (short(&t.hash.to_string())) } } }
                        td { (account_link(&t.tx.body.signer)) }
                        td { (call_name(&t.tx.body.call)) }
                        td { (code_text(&t.code)) }
                    }
                }
            }
        }
        h2 { "Events" }
        (event_table(&rows, false))
    };
    layout(&format!("Block {}", b.height), body)
}

/// The block's proposer (its builder, which a re-proposed era-end block's certificate leader need not be)
/// and its finality evidence.
fn finality(f: &FinalityView, proposer: Option<AccountId>) -> Markup {
    match f {
        FinalityView::SingleNode => {
            html! { dt { "proposer" } dd { "the single node (sequencer)" } dt { "finality" } dd { "sealed by the single node" } }
        }
        FinalityView::Certificate(c) => html! {
            dt { "proposer" } dd { (node_link(&proposer.unwrap_or(c.proposer))) }
            dt { "finality" } dd { "certificate of view " (c.view) ": " (c.signer_count) " of " (c.validators) " validators signed (quorum " (c.quorum) ")" }
        },
        FinalityView::Ancestor { certified_height } => html! {
            @if let Some(p) = proposer { dt { "proposer" } dd { (node_link(&p)) } }
            dt { "finality" } dd { "finalized as an ancestor of block " (certified_height.map_or("?".to_string(), |h| h.to_string())) }
        },
        FinalityView::Unrecorded => html! { dt { "finality" } dd { "not recorded" } },
    }
}

fn call_name<T: serde::Serialize>(call: &T) -> String {
    match serde_json::to_value(call) {
        Ok(Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
        Ok(Value::String(s)) => s,
        _ => "?".into(),
    }
}

fn code_text(code: &str) -> Markup {
    html! { @if code == "ok" { span.good { "ok" } } @else { span.bad { (code) } } }
}

pub fn tx(r: &TxReceipt) -> Markup {
    let rows: Vec<(u64, EventRecord)> = r.events.iter().map(|e| (r.height.unwrap_or(0), e.clone())).collect();
    let body = html! {
        dl {
            dt { "status" } dd { (r.status) }
            dt { "block" } dd { @if let Some(h) = r.height { a href={ "/blocks/" (h) } { (h) } " (index " (r.index.unwrap_or(0)) ")" } @else { "not yet in a block" } }
            dt { "receipt" } dd { @if let Some(c) = &r.code { (code_text(c)) } @else { "—" } @if let Some(m) = &r.message { " " (m) } }
        }
        h2 { "Events" }
        (event_table(&rows, true))
    };
    layout(&format!("Transaction {}", short(&r.hash.to_string())), body)
}

/// What an account page shows besides the account view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountExtra<'a> {
    /// Its genesis name, if it has one.
    pub name: Option<&'a str>,
    /// It is a registered node.
    pub is_node: bool,
    /// It is a validator candidate's stash.
    pub candidate: Option<&'a crate::validators::CandidateRole>,
}

pub fn account(a: &AccountView, extra: &AccountExtra<'_>, history: &[(u64, EventRecord)]) -> Markup {
    let (name, is_node) = (extra.name, extra.is_node);
    let body = html! {
        p { code { (a.id) } @if is_node { " — a registered node: " a href={ "/nodes/" (a.id) } { "its node page" } } }
        h2 { "Balances at block " (a.height) }
        table {
            tr { th { "free" } td { (amount(a.free)) } }
            tr { th { "held" } td { (amount(a.held)) } }
            tr { th { "bonded" } td { (amount(a.bonded)) } }
            tr { th { "unbonding" } td { (amount(a.unbonding)) } }
            tr { th { "next nonce" } td { (a.nonce) } }
        }
        h2 { "Holds it pays" }
        @if a.holds.is_empty() { p.note { "No open holds." } } @else {
            table {
                tr { th { "hold" } th { "amount" } th { "reason" } th { "owner" } th { "created" } th { "expires" } }
                @for h in &a.holds {
                    tr {
                        td { (h.id.0) } td { (amount(h.amount)) }
                        td { (json(&h.reason)) } td { (json(&h.owner)) }
                        td { a href={ "/blocks/" (h.created_at.0) } { (h.created_at.0) } }
                        td { (h.expires_at.map_or("never".to_string(), |e| e.0.to_string())) }
                    }
                }
            }
        }
        @if let Some(c) = extra.candidate { (crate::validators::candidate_section(c)) }
        (crate::stake::account_nominations(a, &crate::stake::nominator_shares(&a.id, history)))
        h2 { "Unbonding" }
        @if a.unbonding_chunks.is_empty() { p.note { "Nothing unbonding." } } @else {
            table {
                tr { th { "amount" } th { "unbonded at" } th { "matures at" } }
                @for c in &a.unbonding_chunks { tr { td { (amount(c.amount)) } td { (c.unbonded_at.0) } td { (c.matures_at.0) } } }
            }
        }
        h2 { "History (events naming it, newest first)" }
        (event_table(history, true))
    };
    layout(&format!("Account {}{}", name.map_or(String::new(), |n| format!("{n} · ")), short(&a.id.to_string())), body)
}

/// Any serializable value as linked text (ids become links).
pub fn json<T: serde::Serialize>(v: &T) -> Markup {
    value("", &serde_json::to_value(v).unwrap_or(Value::Null))
}

/// Everything a node's page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePage {
    pub view: NodeView,
    /// Its genesis name, if it has one.
    pub name: Option<String>,
    pub reputation: ReputationView,
    /// Its reputation after each rating the chain recorded, by height, then now.
    pub series: Vec<(u64, u32)>,
    /// Finished epochs it was registered in.
    pub epochs: Vec<u64>,
    /// Its points in the epoch in progress.
    pub points: Option<PointsRow>,
    /// Events naming it, newest first.
    pub history: Vec<(u64, EventRecord)>,
    /// The first block `history` was read from (1: the whole chain).
    pub scanned_from: u64,
    /// Its account is a validator candidate's stash.
    pub candidate: Option<crate::validators::CandidateRole>,
}

pub fn node(p: &NodePage) -> Markup {
    let n = &p.view;
    let r = &p.reputation;
    let body = html! {
        dl {
            dt { "account" } dd { (account_link(&n.account)) }
            dt { "roles" } dd { (roles(n)) }
            dt { "endpoint" } dd { code { (n.endpoint) } }
            dt { "status" } dd { (n.status.map_or("—".to_string(), |s| format!("{s:?}"))) " (last heartbeat at block " (n.last_heartbeat.0) ")" }
            dt { "stake (bonded)" } dd { (amount(n.bonded)) }
            dt { "reputation" } dd { (rep_text(n.reputation.raw())) }
        }
        @if let Some(c) = &p.candidate { (crate::validators::candidate_section(c)) }
        (crate::stake::nominators(n))
        (crate::stake::commission(n, &crate::stake::commission_history(&n.account, &p.history, p.scanned_from <= 1)))
        h2 { "Reputation over time" }
        (crate::chart::ppb_line("reputation", &p.series))
        h2 { "Ratings behind it" }
        p { "Network ratings (Proof of Inference and deadlines): "
            span.good { (r.network_good) " Good" } ", " span.bad { (r.network_bad) " Bad" } }
        @match &r.client_ratings {
            Some(c) if !c.is_empty() => table {
                tr { th { "client" } th { "latest rating" } }
                @for (client, rating) in c { tr { td { (account_link(client)) } td { (format!("{rating:?}")) } } }
            },
            _ => p.note { "No client ratings." },
        }
        h2 { "Network ratings by task" }
        (network_ratings(&n.account, &p.history))
        h2 { "Points in the epoch in progress" }
        @if let Some(pt) = &p.points {
            p { "earned " (pt.earned) ", deducted " (pt.deducted) ", net " (pt.net) "; rounds " (pt.rounds) ", failed "
                @if pt.failures > 0 { span.bad { (pt.failures) } } @else { "0" } ", failure rate " (percent(pt.failure_rate_ppb)) }
        } @else { p.note { "No points yet this epoch." } }
        h2 { "Why this reward, per epoch" }
        @if p.epochs.is_empty() { p.note { "No finished epoch yet." } } @else {
            ul { @for e in &p.epochs { li { a href={ "/nodes/" (n.account) "/rewards/" (e) } { "epoch " (e) } } } }
        }
        h2 { "History (newest first)" }
        (event_table(&p.history, true))
    };
    let name = p.name.as_ref().map_or(String::new(), |n| format!("{n} · "));
    layout(&format!("Node {name}{}", short(&n.account.to_string())), body)
}

/// The network's ratings of `miner` (one per task round), in the order of `history` (newest first).
fn network_ratings(miner: &AccountId, history: &[(u64, EventRecord)]) -> Markup {
    let rows: Vec<(u64, u64, bool, u32)> = history
        .iter()
        .filter_map(|(h, r)| match &r.event {
            Event::NetworkRated { task, miner: m, good, reputation } if m == miner => {
                Some((*h, *task, *good, reputation.raw()))
            }
            _ => None,
        })
        .collect();
    html! {
        @if rows.is_empty() { p.note { "No network rating in the recent blocks." } } @else {
            table {
                tr { th { "block" } th { "task" } th { "rating" } th { "reputation after" } }
                @for (h, task, good, rep) in rows {
                    tr {
                        td.num { a href={ "/blocks/" (h) } { (h) } }
                        td { a href={ "/tasks/" (task) } { "task " (task) } }
                        td { @if good { span.good { "Good" } } @else { span.bad { "Bad" } } }
                        td { (rep_text(rep)) }
                    }
                }
            }
        }
    }
}

/// The participants of a task from its events, with what became of each.
fn participants(events: &[(u64, EventRecord)]) -> BTreeMap<AccountId, String> {
    let mut out = BTreeMap::new();
    for (_, r) in events {
        match &r.event {
            Event::TaskMinersSelected { miners, .. } => {
                for m in miners {
                    out.insert(*m, "selected".to_string());
                }
            }
            Event::TaskParticipantReplaced { old, new, .. } => {
                out.insert(*old, "replaced after missing a deadline".into());
                out.insert(*new, "selected as a replacement".into());
            }
            Event::TaskParticipantsDropped { miners, .. } => {
                for m in miners {
                    out.insert(*m, "dropped: missed the reveal".into());
                }
            }
            Event::TaskEnded { passed, failed, .. } => {
                for m in passed {
                    out.insert(*m, "passed".into());
                }
                for m in failed {
                    out.insert(*m, "failed Proof of Inference".into());
                }
            }
            Event::TaskFailed { culprits, .. } => {
                for m in culprits {
                    out.insert(*m, "culprit: missed a deadline".into());
                }
            }
            _ => {}
        }
    }
    out
}

pub fn task(id: u64, record: Option<&Task>, events: &[(u64, EventRecord)]) -> Markup {
    let people = participants(events);
    let body = html! {
        @if let Some(t) = record {
            dl {
                dt { "state" } dd { (format!("{:?}", t.state)) }
                dt { "deadline" } dd { "block " (t.deadline.0) }
                dt { "service" } dd { (t.service) }
                dt { "redundancy" } dd { (t.redundancy) }
                dt { "creator" } dd { (node_link(&t.creator)) }
                dt { "created at" } dd { a href={ "/blocks/" (t.created_at.0) } { (t.created_at.0) } }
            }
        } @else { p.note { "The task has finished and its record was forgotten; its events remain." } }
        h2 { "Miners" }
        @if people.is_empty() { p.note { "No miner selected yet." } } @else {
            table {
                tr { th { "miner" } th { "what became of it" } }
                @for (m, what) in &people {
                    tr { td { (node_link(m)) } td { @if what.starts_with("passed") || what.starts_with("selected") { (what) } @else { span.bad { (what) } } } }
                }
            }
        }
        h2 { "Timeline" }
        p.note { "Every state move, with the block it happened in and who acted (the oracle of an advance, the miner of a precommit or reveal)." }
        (event_table(events, true))
    };
    layout(&format!("Task {id}"), body)
}

pub fn job(id: &str, record: Option<&JobView>, events: &[(u64, EventRecord)]) -> Markup {
    let body = html! {
        @if let Some(j) = record {
            dl {
                dt { "escrow now" } dd { (amount(j.escrow)) }
                dt { "still due from the query client" } dd { (amount(j.due)) }
            }
            h2 { "Parties, schema and status" }
            (json_table(&serde_json::to_value(&j.job).unwrap_or(Value::Null)))
        } @else { p.note { "The job has settled and its record was forgotten; its events remain." } }
        h2 { "Status history and settlement" }
        (event_table(events, true))
    };
    layout(&format!("Job {id}"), body)
}

fn json_table(v: &Value) -> Markup {
    let Some(map) = v.as_object() else { return value("", v) };
    html! { table { @for (k, val) in map { tr { th { (k) } td { (value(k, val)) } } } } }
}

pub fn epoch(n: u64, current: Option<&EpochView>, events: &[(u64, EventRecord)]) -> Markup {
    let body = html! {
        @if let Some(e) = current {
            p { "In progress: blocks " (e.first_height) " to " (e.last_height) "; emission per epoch " (amount(e.emission_per_epoch)) "." }
            h2 { "Pools now" }
            table {
                tr { th { "miners" } td { (amount(e.pools.miners)) } }
                tr { th { "points" } td { (amount(e.pools.points)) } }
                tr { th { "routers" } td { (amount(e.pools.routers)) } }
                tr { th { "background" } td { (amount(e.pools.background)) } }
                tr { th { "treasury" } td { (amount(e.pools.treasury)) } }
            }
        }
        h2 { "Emission, payouts and sweeps of the epoch's end" }
        (event_table(events, true))
        p { a href={ "/epochs/" (n.saturating_sub(1).max(1)) } { "previous epoch" } " · " a href={ "/epochs/" (n + 1) } { "next epoch" } }
    };
    layout(&format!("Epoch {n}"), body)
}

pub fn routers(rs: &[RouterView]) -> Markup {
    let body = html! {
        @if rs.is_empty() { p.note { "No router is registered." } }
        @for r in rs {
            h2 { "Router " (node_link(&r.router)) }
            p { "collateral " (amount(r.collateral)) "; connectivity "
                (r.connectivity_ppb.map_or("—".to_string(), percent)) }
            p { "attached: " @for a in &r.attached { (node_link(a)) " " } }
            @if let Some(s) = &r.score {
                p { "this epoch so far: bandwidth " (s.bandwidth) " bytes, latency factor " (percent(s.latency_factor.raw()))
                    ", S " (percent(s.reputation.raw())) ", reward " (amount(s.reward)) }
            }
        }
    };
    layout("Routers", body)
}

pub fn points(p: &PointsView) -> Markup {
    let body = html! {
        h2 { "Epoch " (p.epoch) " (in progress)" } (points_table(&p.current))
        h2 { "Epoch " (p.last_epoch) " (last finished)" } (points_table(&p.last))
    };
    layout("Epoch points", body)
}

fn points_table(rows: &[PointsRow]) -> Markup {
    html! {
        table {
            tr { th { "node" } th { "earned" } th { "deducted" } th { "net" } th { "rounds" } th { "failed" } th { "blocks" } th { "failure rate" } }
            @for r in rows {
                tr {
                    td { (node_link(&r.node)) } td.num { (r.earned) } td.num { (r.deducted) }
                    td.num { @if r.net == 0 { span.bad { "0" } } @else { (r.net) } }
                    td.num { (r.rounds) } td.num { (r.failures) } td.num { (r.blocks) } td { (percent(r.failure_rate_ppb)) }
                }
            }
        }
    }
}

pub fn lists(ls: &[ListView]) -> Markup {
    let body = html! {
        @if ls.is_empty() { p.note { "No list published yet." } }
        table {
            tr { th { "owner" } th { "name" } th { "published at" } th { "nodes" } }
            @for l in ls {
                tr {
                    td { @if let Some(o) = &l.owner { (account_link(o)) } @else { "the network" } }
                    td { (l.name) } td { (l.published_at.0) }
                    td { @for n in &l.nodes { (node_link(n)) " " } }
                }
            }
        }
    };
    layout("Curated lists", body)
}

pub fn governance(ps: &[Proposal]) -> Markup {
    let body = html! {
        @if ps.is_empty() { p.note { "No proposal yet." } }
        @for p in ps { h2 { "Proposal " (p.id) } (json_table(&serde_json::to_value(p).unwrap_or(Value::Null))) }
    };
    layout("Governance", body)
}

/// What a search can find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hit {
    Account(AccountId),
    /// A registered node, found by id or by its genesis name.
    Node(AccountId, String),
    Tx(Hash),
    Block(u64),
    Task(u64),
    Job(String),
}

impl Hit {
    pub fn url(&self) -> String {
        match self {
            Hit::Account(a) => format!("/accounts/{a}"),
            Hit::Node(a, _) => format!("/nodes/{a}"),
            Hit::Tx(h) => format!("/txs/{h}"),
            Hit::Block(h) => format!("/blocks/{h}"),
            Hit::Task(t) => format!("/tasks/{t}"),
            Hit::Job(j) => format!("/jobs/{j}"),
        }
    }
    fn label(&self) -> String {
        match self {
            Hit::Account(a) => format!("account {a}"),
            Hit::Node(a, name) => format!("node {name} ({a})"),
            Hit::Tx(h) => format!("transaction {h}"),
            Hit::Block(h) => format!("block {h}"),
            Hit::Task(t) => format!("task {t}"),
            Hit::Job(j) => format!("job {j}"),
        }
    }
}

/// What a query could name, before the node checks which exist: 64 hex digits are an account or a
/// transaction, a number a block, `task N` a task, `job ID` a job. (Names are looked up by the node.)
pub fn candidates(q: &str) -> Vec<Hit> {
    let q = q.trim();
    let lower = q.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("task") {
        return rest.trim().parse().map(|n| vec![Hit::Task(n)]).unwrap_or_default();
    }
    if let Some(rest) = lower.strip_prefix("job") {
        return api::path::job_id(rest.trim()).map(|j| vec![Hit::Job(j.to_string())]).unwrap_or_default();
    }
    if let Ok(h) = q.parse::<u64>() {
        return vec![Hit::Block(h)];
    }
    let mut out = Vec::new();
    if let Some(a) = api::path::account_id(q) {
        out.push(Hit::Account(a));
    }
    if let Some(h) = api::path::hash(q) {
        out.push(Hit::Tx(h));
    }
    out
}

pub fn search_results(q: &str, hits: &[Hit]) -> Markup {
    let body = html! {
        (crate::search_form(q))
        @if hits.is_empty() { p.error { "Nothing found for “" (q) "”." } p.note { "Search for a node's name, an account id or a transaction hash (64 hex digits), a block height, `task N` or `job ID`." } }
        @else { ul { @for h in hits { li { a href=(h.url()) { (h.label()) } } } } }
    };
    layout("Search", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_names_a_block_a_task_a_job_or_a_64_digit_id() {
        assert_eq!(candidates(" 12 "), vec![Hit::Block(12)]);
        assert_eq!(candidates("Task 7"), vec![Hit::Task(7)]);
        assert_eq!(candidates("task seven"), vec![]);
        let hex = "ab".repeat(32);
        let both = candidates(&hex);
        assert_eq!(both.len(), 2, "an account or a transaction");
        assert_eq!(both[0].url(), format!("/accounts/{hex}"));
        assert_eq!(both[1].url(), format!("/txs/{hex}"));
        assert!(candidates("nothing").is_empty());
        let job = candidates("job 07070707-0707-0707-0707-070707070707");
        assert!(matches!(&job[..], [Hit::Job(_)]), "{job:?}");
    }

    #[test]
    fn a_block_page_names_its_proposer_and_links_every_events_subjects() {
        let (proposer, miner) = (AccountId([3; 32]), AccountId([4; 32]));
        let cert = api::CertificateView {
            // The leader of a view that re-proposed the block: the page names the block's builder.
            proposer: AccountId([9; 32]),
            view: 9,
            parent_view: 8,
            signers: vec![proposer],
            signer_count: 3,
            quorum: 3,
            validators: 4,
            certificate: String::new(),
        };
        let b = BlockView {
            height: 7,
            hash: Hash([1; 32]),
            parent_hash: Hash([2; 32]),
            state_root: Hash([5; 32]),
            proposer: Some(proposer),
            txs: vec![],
            events: vec![EventRecord {
                tx: None,
                event: Event::PointsBooked { task: 2, node: miner, earned: 10, deducted: 0 },
            }],
            finality: FinalityView::Certificate(cert),
        };
        let html = block(&b).into_string();
        assert!(html.contains(&format!("href=\"/nodes/{proposer}\"")), "{html}");
        assert!(!html.contains(&AccountId([9; 32]).to_string()), "{html}");
        assert!(html.contains("3 of 4 validators signed"), "{html}");
        assert!(html.contains("href=\"/blocks/6\""), "the parent is linked: {html}");
        assert!(html.contains("href=\"/tasks/2\"") && html.contains(&format!("href=\"/accounts/{miner}\"")), "{html}");
    }

    #[test]
    fn the_search_page_says_nothing_was_found() {
        let html = search_results("zzz", &[]).into_string();
        assert!(html.contains("Nothing found for “zzz”"), "{html}");
        let html = search_results("1", &[Hit::Block(1), Hit::Task(1)]).into_string();
        assert!(html.contains("href=\"/blocks/1\"") && html.contains("href=\"/tasks/1\""), "{html}");
    }

    #[test]
    fn a_finished_tasks_page_lists_its_miners_and_what_became_of_each() {
        let (good, lazy) = (AccountId([1; 32]), AccountId([2; 32]));
        let rec = |event| (3, EventRecord { tx: None, event });
        let events = vec![
            rec(Event::TaskMinersSelected { task: 1, miners: vec![good, lazy] }),
            rec(Event::TaskEnded { task: 1, passed: vec![good], failed: vec![lazy], scores: vec![], paid: Amount(3) }),
        ];
        let html = task(1, None, &events).into_string();
        assert!(html.contains(&format!("href=\"/nodes/{lazy}\"")), "{html}");
        assert!(html.contains("failed Proof of Inference") && html.contains("forgotten"), "{html}");
    }
}
