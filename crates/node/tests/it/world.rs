//! A little world for the queries to find: registered nodes, a request, a task, a training job and a
//! proposal, each made by a real signed transaction.

use crate::{account, key};
use client::{Client, Signer};
use protocol::{Call, JobKind, JobOrder, ProposalAction, Role};
use std::time::Duration;
use types::{Amount, JobId};

pub const JOB: JobId = JobId([7; 16]);

fn signer(n: u8) -> Signer {
    Signer::new(key(n), "api-test", Amount(1))
}

fn must(client: &Client, n: u8, call: Call) {
    let o = signer(n).submit(client, call.clone(), Duration::from_secs(30)).expect("submitted");
    assert!(o.ok(), "{call:?}: {o:?}");
}

pub fn populate(client: &Client) {
    for n in 3..=7 {
        let roles = if n == 3 { vec![Role::Miner, Role::DataOwner] } else { vec![Role::Miner] };
        must(client, n, Call::RegisterNode { roles, services: vec![1], capacity: 4, endpoint: "http://m".into() });
    }
    let coordinator = vec![Role::Coordinator];
    must(
        client,
        8,
        Call::RegisterNode { roles: coordinator, services: vec![], capacity: 1, endpoint: "http://g".into() },
    );
    must(client, 2, Call::SubmitRequest { service: 1, max_price: Amount(10), avoid: vec![] });
    must(client, 1, Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] });
    let order = JobOrder {
        id: JOB,
        kind: JobKind::Horizontal,
        qc: account(1),
        dos: vec![account(3)],
        price_per_do: Amount(10),
        complexity: 1,
        mpc_factor: 1,
        epochs: 1,
        quote: Amount(20),
        batches: protocol::jobs::JOB_BATCHES_DEFAULT,
        duration_max: protocol::jobs::JOB_DURATION_DEFAULT,
    };
    must(client, 8, Call::OrderJob { order });
    let action = ProposalAction::SetParam { name: "min_fee".into(), value: "2".into() };
    must(client, 1, Call::Propose { action });
}
