//! The words people type for protocol values (`--role data-owner`, `--status in-progress`, `whole`), one
//! parser each; an unknown word is refused with the list of the words that are accepted.

use protocol::{JobFault, JobKind, JobProgress, JobStage, Rating, ReportedStatus, Role, WHOLE};

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
}
