//! The node's answers as the CLI prints them in text mode: one function per view, lines joined by newlines
//! (no newline after the last). `--json` prints the views themselves; these are for people reading a
//! terminal. Values that have no text form of their own print as their JSON.

use api::{
    AccountView, BlockView, EventsPage, FinalityView, JobView, NodeView, ParamsView, PointsView, ReputationView,
};
use api::{SubmitResult, TxReceipt};
use protocol::{Proposal, Service, WHOLE};
use std::fmt::Write;
use types::AccountId;

/// `v` as compact JSON (empty if it cannot be serialized, which the views never fail at).
pub fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Lines written with `writeln!` into a string, without the last newline.
struct Lines(String);

impl Lines {
    fn new() -> Lines {
        Lines(String::new())
    }
    fn line(&mut self, args: std::fmt::Arguments) {
        let _ = self.0.write_fmt(args);
        self.0.push('\n');
    }
    fn done(mut self) -> String {
        self.0.pop();
        self.0
    }
}

macro_rules! line {
    ($out:expr, $($t:tt)*) => { $out.line(format_args!($($t)*)) };
}

/// What became of a submitted transaction (`stakework tx …` and every command that submits one).
pub fn submit_result(result: &SubmitResult) -> String {
    let mut out = Lines::new();
    line!(out, "tx {} {}", result.hash, result.status);
    if let (Some(code), Some(message)) = (&result.code, &result.message) {
        line!(out, "  [{code}] {message}");
    }
    if let Some(r) = &result.receipt {
        line!(out, "  block {}  result {}", r.height.unwrap_or_default(), r.code.as_deref().unwrap_or("?"));
        if let Some(m) = &r.message {
            line!(out, "  {m}");
        }
        for e in &r.events {
            line!(out, "  event {}", json(&e.event));
        }
    }
    out.done()
}

/// `stakework query account`: balances, then unbonding chunks and holds.
pub fn account(a: &AccountView) -> String {
    let mut out = Lines::new();
    line!(out, "account {} at height {}", a.id, a.height);
    line!(out, "  free       {}", a.free.to_swk_string());
    line!(out, "  held       {}", a.held.to_swk_string());
    line!(out, "  bonded     {}", a.bonded.to_swk_string());
    line!(out, "  unbonding  {}", a.unbonding.to_swk_string());
    line!(out, "  nonce      {}", a.nonce);
    for c in &a.unbonding_chunks {
        line!(out, "  unbonding chunk {} free at height {}", c.amount.to_swk_string(), c.matures_at);
    }
    for h in &a.holds {
        line!(out, "  hold {} {} ({:?})", h.id, h.amount.to_swk_string(), h.reason);
    }
    out.done()
}

/// `stakework query block`: the header, a line per transaction and per event.
pub fn block(b: &BlockView) -> String {
    let mut out = Lines::new();
    line!(out, "block {}  hash {}", b.height, b.hash);
    line!(out, "  parent     {}", b.parent_hash);
    line!(out, "  state root {}", b.state_root);
    match &b.finality {
        FinalityView::SingleNode => line!(out, "  finality   sealed by a single node"),
        FinalityView::Certificate(c) => {
            // The block's builder; a re-proposed era-end block's certificate may name another view leader.
            line!(out, "  proposer   {} (view {})", b.proposer.unwrap_or(c.proposer), c.view);
            line!(out, "  finality   {} of {} validators signed (quorum {})", c.signer_count, c.validators, c.quorum);
        }
        FinalityView::Ancestor { certified_height } => {
            if let Some(p) = b.proposer {
                line!(out, "  proposer   {p}");
            }
            match certified_height {
                Some(h) => line!(out, "  finality   as an ancestor of certified block {h}"),
                None => line!(out, "  finality   as an ancestor of a certified block"),
            }
        }
        FinalityView::Unrecorded => line!(out, "  finality   not recorded"),
    }
    for t in &b.txs {
        line!(out, "  tx {} from {} nonce {} -> {}", t.hash, t.tx.body.signer.short(), t.tx.body.nonce, t.code);
    }
    for e in &b.events {
        line!(out, "  event {}", json(&e.event));
    }
    out.done()
}

/// `stakework query tx`: status, place in its block, message and events.
pub fn receipt(r: &TxReceipt) -> String {
    let mut out = Lines::new();
    line!(out, "tx {} {}", r.hash, r.status);
    if let (Some(h), Some(i), Some(c)) = (r.height, r.index, &r.code) {
        line!(out, "  block {h} index {i} result {c}");
    }
    if let Some(m) = &r.message {
        line!(out, "  {m}");
    }
    for e in &r.events {
        line!(out, "  event {}", json(&e.event));
    }
    out.done()
}

/// `stakework query params`: the parameters in their JSON form, one line per field in the struct's order.
pub fn params(v: &ParamsView) -> String {
    let mut out = Lines::new();
    line!(out, "height {}", v.height.0);
    if let Ok(serde_json::Value::Object(p)) = serde_json::to_value(&v.params) {
        for (k, val) in p {
            line!(out, "  {k:<22} {}", val.as_str().map_or_else(|| val.to_string(), str::to_string));
        }
    }
    if let Some(u) = v.scheduled_upgrade {
        line!(out, "upgrade to protocol version {} scheduled at height {}", u.version, u.height.0);
    }
    out.done()
}

/// `stakework query events`: a line per event, then where the next page starts.
pub fn events(v: &EventsPage) -> String {
    let mut out = Lines::new();
    for b in &v.blocks {
        for e in &b.events {
            line!(out, "block {:>6}  {}", b.height, json(e));
        }
    }
    line!(out, "next: --since {}", v.next);
    out.done()
}

/// `stakework service list`: a table of id, name, weight and price.
pub fn services(services: &[Service]) -> String {
    let mut out = Lines::new();
    line!(out, "{:>4}  {:<24} {:>6}  price", "id", "name", "weight");
    for s in services {
        line!(out, "{:>4}  {:<24} {:>6}  {}", s.id, s.name, s.weight, s.price.to_swk_string());
    }
    out.done()
}

/// `stakework gov list`: a line per proposal (empty when there is none).
pub fn proposals(proposals: &[Proposal]) -> String {
    let mut out = Lines::new();
    for p in proposals {
        let (status, yes, no, action) = (json(&p.status), json(&p.yes), json(&p.no), json(&p.action));
        line!(out, "#{} {status} yes {yes} no {no} until height {}: {action}", p.id, p.voting_ends.0);
    }
    out.done()
}

/// `stakework query node`: the registry record of `id`, a field per line.
pub fn node(id: &AccountId, n: &NodeView) -> String {
    let mut out = Lines::new();
    line!(out, "node {id}");
    let rows = [
        ("roles", json(&n.roles)),
        ("services", json(&n.services)),
        ("capacity", json(&n.capacity)),
        ("endpoint", json(&n.endpoint)),
        ("status", json(&n.status)),
        ("bonded", json(&n.bonded)),
        ("reputation", json(&n.reputation)),
        ("last_heartbeat", json(&n.last_heartbeat)),
    ];
    for (k, v) in rows {
        line!(out, "  {k:<15} {v}");
    }
    out.done()
}

/// `stakework query reputation`: the reputation as a fraction and in ppb, and the ratings behind it.
pub fn reputation(id: &AccountId, r: &ReputationView) -> String {
    let rep = r.reputation.raw();
    let clients = r.client_ratings.as_ref().map_or(0, |m| m.len());
    let mut out = Lines::new();
    line!(out, "reputation of {id}: {:.4} ({rep} ppb)", f64::from(rep) / 1e9);
    line!(out, "  client ratings {clients}, network good {}, network bad {}", r.network_good, r.network_bad);
    out.done()
}

/// `stakework job list`: a line per job (empty when there is none).
pub fn jobs(jobs: &[JobView]) -> String {
    let mut out = Lines::new();
    for j in jobs {
        line!(out, "{}  {:?} {:?}  escrow {}", j.job.id, j.job.kind, j.job.phase, j.escrow.to_swk_string());
    }
    out.done()
}

/// `stakework query job`: the parties, the money, each member's last status, the outcome and the history.
pub fn job(v: &JobView) -> String {
    let j = &v.job;
    let mut out = Lines::new();
    line!(out, "job {} ({:?}) at height {}: {:?}", j.id, j.kind, v.height, j.phase);
    line!(out, "  GDS {}", j.gds);
    line!(out, "  QC  {}", j.qc);
    line!(out, "  escrow {}  (StakeIn {}, deposits {} each)", v.escrow, j.staked, j.deposit);
    if !v.due.is_zero() {
        line!(out, "  due from the QC: {}", v.due);
    }
    match &j.schema {
        Some(s) => line!(out, "  schema: per DO {}, per MPC {}, GDS {}, price {}", s.per_do, s.per_mpc, s.gds, s.total),
        None => line!(out, "  schema: not yet (quote {}; MPC nodes not selected)", j.quote),
    }
    for (who, m) in &j.members {
        let last = m.last_status.map_or("no status yet".to_string(), |s| {
            let n = |x: u32| if x == WHOLE { "whole".to_string() } else { x.to_string() };
            format!("{:?} epoch {} batch {} {:?}", s.stage, n(s.epoch), n(s.batch), s.status)
        });
        let deposit = if m.deposit.is_some() { "deposit held" } else { "no deposit" };
        line!(out, "  {:?} {who}: {deposit}, heartbeat at {}, {last}", m.role, m.heartbeat);
    }
    if let Some((old, new)) = &j.replacement {
        line!(out, "  replacement nominated: {new} for {old}");
    }
    if let Some(o) = &j.outcome {
        line!(out, "  outcome: {}", json(o));
    }
    line!(out, "  history:");
    for r in &j.history {
        line!(out, "    {:>8}  {}", r.height, r.what);
    }
    out.done()
}

/// `stakework query points`: the epoch in progress and the last finished one, a row per node.
pub fn points(v: &PointsView) -> String {
    let mut out = Lines::new();
    for (title, rows, epoch) in
        [("epoch in progress", &v.current, v.epoch), ("last finished epoch", &v.last, v.last_epoch)]
    {
        line!(out, "{title} ({epoch}):");
        line!(
            out,
            "  {:<16} {:>10} {:>10} {:>10} {:>7} {:>8}",
            "node",
            "earned",
            "deducted",
            "net",
            "rounds",
            "failures"
        );
        for r in rows {
            let node = r.node.to_string();
            let node = node.get(..16).unwrap_or(&node);
            line!(
                out,
                "  {node:<16} {:>10} {:>10} {:>10} {:>7} {:>8}",
                r.earned,
                r.deducted,
                r.net,
                r.rounds,
                r.failures
            );
        }
    }
    out.done()
}

/// `stakework keys new|show`: a key's name, account and file.
pub fn key(name: &str, account: &AccountId, path: &std::path::Path) -> String {
    format!("{name}: {account}\n  file: {}", path.display())
}

/// `stakework keys list`: a line per key, or where there is none.
pub fn keys(rows: &[(String, AccountId)], dir: &std::path::Path) -> String {
    if rows.is_empty() {
        return format!("no keys in {}", dir.display());
    }
    let mut out = Lines::new();
    for (n, a) in rows {
        line!(out, "{n:<20} {a}");
    }
    out.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::{Amount, Ppb};

    #[test]
    fn a_table_has_a_header_and_a_row_per_service() {
        let service = Service {
            id: 1,
            name: "text".into(),
            weight: 2,
            price: Amount(1_500_000_000),
            poi_threshold: Ppb::new(0).expect("zero is a ppb"),
            semantic_poi: false,
        };
        let text = services(&[service]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "  id  name                     weight  price");
        assert!(lines[1].starts_with("   1  text                          2  "), "{text:?}");
        assert!(!text.ends_with('\n'));
    }

    #[test]
    fn an_empty_list_prints_nothing_and_an_empty_page_says_where_to_go_on() {
        assert_eq!(proposals(&[]), "");
        assert_eq!(jobs(&[]), "");
        assert_eq!(events(&EventsPage { next: 7, blocks: vec![] }), "next: --since 7");
    }

    #[test]
    fn reputation_prints_a_fraction_and_ppb() {
        let id = AccountId([7; 32]);
        let view = ReputationView {
            account: id,
            reputation: Ppb::new(750_000_000).expect("below one"),
            client_ratings: None,
            network_good: 3,
            network_bad: 1,
        };
        let text = reputation(&id, &view);
        assert_eq!(text.lines().nth(1), Some("  client ratings 0, network good 3, network bad 1"));
        assert!(text.starts_with("reputation of ") && text.contains(": 0.7500 (750000000 ppb)"), "{text}");
    }
}
