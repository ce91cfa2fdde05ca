//! The walkthrough's sentences: a line per call and per event, and the report as text.

use crate::walkthrough::{Demo, WalkReport};
use crate::wire_name;
use protocol::{Call, Event, EventRecord, Role};
use std::fmt::Write;
use types::{AccountId, Amount};

impl Demo {
    /// What a call does, in a few words.
    pub(crate) fn describe(&self, call: &Call) -> String {
        match call {
            Call::Transfer { to, amount } => format!("transfer {} to {}", amount.to_swk_string(), self.name(to)),
            Call::Bond { amount } => format!("bond {}", amount.to_swk_string()),
            Call::Unbond { amount } => format!("unbond {}", amount.to_swk_string()),
            Call::HoldCreate { amount, expires_at } => format!(
                "hold {} until height {}",
                amount.to_swk_string(),
                expires_at.map_or("-".into(), |h| h.to_string())
            ),
            Call::HoldPost { hold, payouts } => {
                let p: Vec<String> =
                    payouts.iter().map(|(a, v)| format!("{} to {}", v.to_swk_string(), self.name(a))).collect();
                format!("post hold {hold}: {}", p.join(", "))
            }
            Call::HoldVoid { hold } => format!("void hold {hold}"),
            Call::RegisterNode { roles, .. } => {
                format!("register as {}", if roles.contains(&Role::Oracle) { "oracle" } else { "miner" })
            }
            Call::SubmitRequest { service, .. } => format!("request inference from service {service}"),
            Call::CompleteRequest { request, .. } => format!("complete request #{request}"),
            Call::RateRequest { request, rating } => format!("rate request #{request} {rating:?}"),
            Call::SubmitTask { redundancy, .. } => format!("order a task (k = {redundancy})"),
            Call::PublishTaskSpec { task, .. } => format!("publish the spec of task #{task}"),
            Call::PrepareTask { task, .. } => format!("prepare the inputs of task #{task}"),
            Call::PrecommitOutput { task, .. } => format!("precommit an output for task #{task}"),
            Call::RevealOutput { task, output, .. } => {
                format!("reveal task #{task}: \"{}…\"", output.chars().take(24).collect::<String>())
            }
            Call::AdvanceTask { task } => format!("advance task #{task}"),
            other => format!("{other:?}"),
        }
    }

    /// Every event from block 1, one line each (epoch ends and the task's intermediate steps left out).
    pub(crate) fn event_lines(&self) -> crate::Result<Vec<String>> {
        let page = self.client.events(1, api::EVENT_BLOCKS_MAX)?;
        let mut lines = Vec::new();
        for b in &page.blocks {
            for e in &b.events {
                let line = self.event_line(e);
                if !matches!(e.event, Event::EpochEnded { .. }) && !line.is_empty() {
                    lines.push(format!("height {:>3}  {line}", b.height));
                }
            }
        }
        Ok(lines)
    }

    /// A sentence for a ledger event; market and task events go to `market_line`.
    fn event_line(&self, e: &EventRecord) -> String {
        let who = |a: &AccountId| self.name(a);
        let swk = |a: &Amount| a.to_swk_string();
        match &e.event {
            Event::TransferPosted { from, to, amount } => {
                format!("TransferPosted {} -> {} {}", who(from), who(to), swk(amount))
            }
            Event::Bonded { account, amount } => format!("Bonded {} {}", who(account), swk(amount)),
            Event::UnbondStarted { account, amount, matures_at } => {
                format!("UnbondStarted {} {} (free at height {matures_at})", who(account), swk(amount))
            }
            Event::UnbondMatured { account, amount } => format!("UnbondMatured {} {}", who(account), swk(amount)),
            Event::HoldCreated { hold, payer, amount, .. } => {
                format!("HoldCreated #{} {} from {}", hold.0, swk(amount), who(payer))
            }
            Event::HoldPosted { hold, payouts, remaining } => {
                format!("HoldPosted #{} to {} recipients, {} still held", hold.0, payouts.len(), swk(remaining))
            }
            Event::HoldVoided { hold, payer, amount } => {
                format!("HoldVoided #{} {} back to {}", hold.0, swk(amount), who(payer))
            }
            Event::HoldExpired { hold, payer, amount } => {
                format!("HoldExpired #{} {} back to {}", hold.0, swk(amount), who(payer))
            }
            Event::EpochEnded { epoch, .. } => format!("EpochEnded epoch {epoch}"),
            _ => self.market_line(e),
        }
    }

    /// A sentence for a market or task event; the steps a task goes through are left out (empty).
    fn market_line(&self, e: &EventRecord) -> String {
        let who = |a: &AccountId| self.name(a);
        let names = |list: &[AccountId]| list.iter().map(|a| self.name(a)).collect::<Vec<_>>().join(" ");
        let swk = |a: &Amount| a.to_swk_string();
        match &e.event {
            Event::NodeRegistered { account, roles, .. } => {
                format!("NodeRegistered {} as {}", who(account), roles.first().map_or("?".into(), wire_name))
            }
            Event::RequestSubmitted { request, client, miner, price, .. } => {
                format!("RequestSubmitted #{request} by {} to {} for {}", who(client), who(miner), swk(price))
            }
            Event::RequestCompleted { request, miner, paid, fee, .. } => {
                format!("RequestCompleted #{request} by {}: paid {}, fee {}", who(miner), swk(paid), swk(fee))
            }
            Event::RequestRated { request, miner, rating, reputation } => format!(
                "RequestRated #{request} {}: {} reputation {:.3}",
                wire_name(rating),
                who(miner),
                f64::from(reputation.raw()) / 1e9
            ),
            Event::TaskSubmitted { task, creator, .. } => format!("TaskSubmitted #{task} creator {}", who(creator)),
            Event::TaskMinersSelected { task, miners } => format!("TaskMinersSelected #{task} {}", names(miners)),
            Event::TaskAdvanced { task, from, to, oracle, .. } => format!(
                "TaskAdvanced #{task} {} -> {} by {}",
                wire_name(from),
                wire_name(to),
                oracle.as_ref().map_or("the engine".into(), who)
            ),
            Event::TaskEnded { task, passed, failed, paid, .. } => format!(
                "TaskEnded #{task}: Proof of Inference passed [{}], failed [{}]; paid {}",
                names(passed),
                names(failed),
                swk(paid)
            ),
            Event::TaskFailed { task, reason, .. } => format!("TaskFailed #{task}: {reason}"),
            Event::TaskSpecPublished { .. }
            | Event::TaskInputsPrepared { .. }
            | Event::OutputPrecommitted { .. }
            | Event::OutputRevealed { .. }
            | Event::StatusReported { .. } => String::new(),
            _ => raw_line(e),
        }
    }
}

/// An event the walkthrough has no sentence for: its name and the record as the node sends it.
fn raw_line(e: &EventRecord) -> String {
    match serde_json::to_value(e) {
        Ok(v) => format!("{} {v}", v.get("event").and_then(serde_json::Value::as_str).unwrap_or("?")),
        Err(_) => format!("{:?}", e.event),
    }
}

impl WalkReport {
    /// The walkthrough as text: each step's transactions, the events, balances, the audit and the replay.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "stakework demo — a real node process at {} on a fresh data directory, chain {}\n",
            self.node_url, self.chain_id
        );
        for (i, step) in self.steps.iter().enumerate() {
            let _ = writeln!(s, "step {}: {}", i + 1, step.title);
            for t in &step.txs {
                let at = t.height.map_or_else(|| "at the door".to_string(), |h| format!("block {h}"));
                let _ = writeln!(s, "  {:<58} {:<10} {:<20} {}", t.what, t.status, at, t.result);
            }
        }
        let _ = writeln!(s, "\nevents (from /v1/events)");
        for e in &self.events {
            let _ = writeln!(s, "  {e}");
        }
        let _ = writeln!(s, "\nbalances (SWK, from /v1/accounts)");
        let _ = writeln!(s, "  {:<10} {:>14} {:>10} {:>10} {:>10}", "account", "free", "held", "bonded", "unbonding");
        let f = |a: &Amount| a.to_swk_string().trim_end_matches(" SWK").to_string();
        for b in &self.balances {
            let (free, held, bonded, unbonding) = (f(&b.free), f(&b.held), f(&b.bonded), f(&b.unbonding));
            let _ = writeln!(s, "  {:<10} {free:>14} {held:>10} {bonded:>10} {unbonding:>10}", b.name);
        }
        let y = &self.supply;
        let _ = writeln!(
            s,
            "\nconservation (/v1/supply): accounts sum to {} = total supply {} (genesis {} + minted {} - burned {}) -> {}",
            y.accounts_total.map_or("?".into(), Amount::to_swk_string),
            y.total_supply.to_swk_string(),
            y.genesis.to_swk_string(),
            y.minted.to_swk_string(),
            y.burned.to_swk_string(),
            if y.conserved { "OK" } else { "BROKEN" }
        );
        let _ = writeln!(s, "head:   height {}  state root {}", self.head_height, self.head_state_root);
        let _ = write!(
            s,
            "replay: node stopped; {} blocks replayed from genesis with every root checked; head root {}",
            self.replayed_blocks,
            if self.replay_matches_head { "matches, OK" } else { "MISMATCH" }
        );
        s
    }
}
