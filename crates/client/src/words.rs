//! The words people type for protocol values (`--role data-owner`, `--status in-progress`, `whole`), one
//! parser each; an unknown word is refused with the list of the words that are accepted.

use protocol::{JobFault, JobKind, JobProgress, JobStage, ListRef, NodeTraffic, Rating, ReportedStatus, Role, WHOLE};
use types::{AccountId, Ppb};

pub fn role(s: &str) -> Result<Role, String> {
    Ok(match s {
        "miner" => Role::Miner,
        "oracle" => Role::Oracle,
        "router" => Role::Router,
        "data-owner" => Role::DataOwner,
        "mpc" => Role::Mpc,
        "coordinator" => Role::Coordinator,
        _ => return Err("roles: miner, oracle, router, data-owner, mpc, coordinator".into()),
    })
}

pub fn status(s: &str) -> Result<ReportedStatus, String> {
    match s {
        "ready" => Ok(ReportedStatus::Ready),
        "busy" => Ok(ReportedStatus::Busy),
        _ => Err("status: ready or busy".into()),
    }
}

pub fn rating(s: &str) -> Result<Rating, String> {
    match s {
        "good" => Ok(Rating::Good),
        "fair" => Ok(Rating::Fair),
        "bad" => Ok(Rating::Bad),
        _ => Err("rating: good, fair or bad".into()),
    }
}

pub fn vote(s: &str) -> Result<bool, String> {
    match s {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("vote: yes or no".into()),
    }
}

pub fn job_kind(s: &str) -> Result<JobKind, String> {
    match s {
        "horizontal" => Ok(JobKind::Horizontal),
        "vertical" => Ok(JobKind::Vertical),
        _ => Err("expected horizontal or vertical".into()),
    }
}

pub fn job_stage(s: &str) -> Result<JobStage, String> {
    match s {
        "training" => Ok(JobStage::Training),
        "psi" => Ok(JobStage::Psi),
        "aggregation" => Ok(JobStage::Aggregation),
        _ => Err("expected training, psi or aggregation".into()),
    }
}

pub fn job_progress(s: &str) -> Result<JobProgress, String> {
    match s {
        "started" => Ok(JobProgress::Started),
        "in-progress" => Ok(JobProgress::InProgress),
        "completed" => Ok(JobProgress::Completed),
        "failed" => Ok(JobProgress::Failed),
        _ => Err("expected started, in-progress, completed or failed".into()),
    }
}

/// A number, or `whole` (0xffffffff: the whole training or the whole epoch).
pub fn job_index(s: &str) -> Result<u32, String> {
    if s == "whole" {
        return Ok(WHOLE);
    }
    match s.parse::<u32>() {
        Ok(WHOLE) | Err(_) => Err("expected a number below 4294967295, or `whole`".into()),
        Ok(n) => Ok(n),
    }
}

pub fn job_fault(s: &str) -> Result<JobFault, String> {
    match s {
        "no-heartbeat" => Ok(JobFault::NoHeartbeat),
        "non-compliant" => Ok(JobFault::NonCompliant),
        _ => Err("expected no-heartbeat or non-compliant".into()),
    }
}

/// `NAME` (the network's list) or `OWNER/NAME`; `owner` turns the owner's text (an account id or key
/// name) into its account.
pub fn list_ref<E>(text: &str, owner: impl FnOnce(&str) -> Result<AccountId, E>) -> Result<ListRef, E> {
    match text.split_once('/') {
        None => Ok(ListRef { owner: None, name: text.to_string() }),
        Some((who, name)) => Ok(ListRef { owner: Some(owner(who)?), name: name.to_string() }),
    }
}

/// A router's report line for one node, `ACCOUNT,BYTES_IN,BYTES_OUT,LATENCY_MS,ONLINE_PERCENT`; `node` turns
/// the account's text into its account (its error is reported as it is). The online percent may have
/// decimals and is kept in ppb (rounded to the nearest).
pub fn traffic(text: &str, node: impl FnOnce(&str) -> Result<AccountId, String>) -> Result<NodeTraffic, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [account, bytes_in, bytes_out, latency, online] = parts[..] else {
        return Err(format!("--traffic takes ACCOUNT,BYTES_IN,BYTES_OUT,LATENCY_MS,ONLINE_PERCENT, got {text:?}"));
    };
    let online: f64 = online.parse().map_err(|e| format!("online percent {online:?}: {e}"))?;
    if !(0.0..=100.0).contains(&online) {
        return Err(format!("online percent must be between 0 and 100, got {online}"));
    }
    Ok(NodeTraffic {
        node: node(account)?,
        bytes_in: bytes_in.parse().map_err(|e| format!("bytes in {bytes_in:?}: {e}"))?,
        bytes_out: bytes_out.parse().map_err(|e| format!("bytes out {bytes_out:?}: {e}"))?,
        latency_ms: latency.parse().map_err(|e| format!("latency {latency:?}: {e}"))?,
        online: Ppb::new((online * 10_000_000.0).round() as u32).ok_or("online fraction")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_and_others_are_refused_with_the_list() {
        assert_eq!(role("data-owner"), Ok(Role::DataOwner));
        assert_eq!(role("coordinator"), Ok(Role::Coordinator));
        assert!(role("Miner").expect_err("case matters").contains("data-owner"));
        assert_eq!(status("busy"), Ok(ReportedStatus::Busy));
        assert_eq!(rating("fair"), Ok(Rating::Fair));
        assert_eq!((vote("yes"), vote("no")), (Ok(true), Ok(false)));
        assert!(vote("maybe").is_err());
        assert_eq!(job_kind("vertical"), Ok(JobKind::Vertical));
        assert_eq!(job_stage("psi"), Ok(JobStage::Psi));
        assert_eq!(job_progress("in-progress"), Ok(JobProgress::InProgress));
        assert_eq!(job_fault("non-compliant"), Ok(JobFault::NonCompliant));
        assert!(job_fault("late").is_err());
    }

    #[test]
    fn an_index_is_a_number_below_whole_or_the_word_whole() {
        assert_eq!(job_index("whole"), Ok(WHOLE));
        assert_eq!(job_index("7"), Ok(7));
        assert!(job_index("4294967295").is_err(), "the number reserved for whole");
        assert!(job_index("-1").is_err());
    }

    #[test]
    fn a_list_is_the_networks_or_an_owners() {
        let owner = |_: &str| Ok::<_, String>(AccountId([1; 32]));
        assert_eq!(list_ref("slow", owner), Ok(ListRef { owner: None, name: "slow".into() }));
        assert_eq!(list_ref("me/slow", owner), Ok(ListRef { owner: Some(AccountId([1; 32])), name: "slow".into() }));
    }

    #[test]
    fn a_traffic_line_has_five_fields_and_a_percent_up_to_100() {
        let node = |_: &str| Ok(AccountId([2; 32]));
        let t = traffic("n, 10,20,30,99.5", node).expect("a good line");
        assert_eq!((t.bytes_in, t.bytes_out, t.latency_ms, t.online.raw()), (10, 20, 30, 995_000_000));
        assert!(traffic("n,1,2,3", node).expect_err("four fields").starts_with("--traffic takes"));
        assert_eq!(traffic("n,1,2,3,101", node), Err("online percent must be between 0 and 100, got 101".into()));
        assert_eq!(traffic("n,x,2,3,1", node), Err("bytes in \"x\": invalid digit found in string".into()));
        assert_eq!(traffic("n,1,2,3,1", |_| Err("no key".into())), Err("no key".into()));
    }
}
