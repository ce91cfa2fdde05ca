//! `stakework job …`: federated training jobs, one subcommand per role's call (DESIGN §6), and
//! `stakework query job ID`.

use crate::keys::{load, resolve_account, resolve_accounts};
use crate::tx::{submit_call, TxArgs};
use anyhow::bail;
use clap::Subcommand;
use client::Client;
use protocol::{Call, JobFault, JobProgress, JobStage, JobStatus};
use std::path::Path;
use types::{Amount, Hash, JobId};

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// As the coordinator (GDS), order a job: its data owners, price per DO and quote for the query client.
    Order {
        #[command(flatten)]
        common: TxArgs,
        /// The job's UUID (default: a fresh one, printed).
        #[arg(long)]
        id: Option<JobId>,
        #[command(flatten)]
        order: agent::args::OrderArgs,
    },
    /// As the query client, stake what is due: the quote, or the rest of the final price (a top-up).
    Query {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
        /// Amount to stake (default: what the node says is due).
        #[arg(long)]
        amount: Option<Amount>,
    },
    /// As the GDS, select the MPC nodes (or change them before dispatch; their number stays).
    SelectMpcs {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
        /// An MPC node (repeat for each).
        #[arg(long = "mpc", required = true)]
        mpcs: Vec<String>,
    },
    /// As a data owner or MPC node of the job (or a nominated replacement), hold your deposit.
    Accept {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
    },
    /// As a data owner or MPC node, post your status (every update is also a heartbeat).
    Status {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
        /// training, psi (vertical jobs) or aggregation (MPC nodes).
        #[arg(long = "type", value_parser = client::words::job_stage)]
        stage: JobStage,
        /// Epoch (or PSI level), or `whole`.
        #[arg(long, value_parser = client::words::job_index)]
        epoch: u32,
        /// Batch within the epoch, or `whole`.
        #[arg(long, value_parser = client::words::job_index, default_value = "whole")]
        batch: u32,
        /// started, in-progress, completed or failed (failed reports your own failure and ends the job).
        #[arg(long, value_parser = client::words::job_progress)]
        status: JobProgress,
    },
    /// As the GDS, report offenders with no heartbeat for the timeout (non-compliant results: `report-result`).
    Report {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
        /// An offending member (repeat for each).
        #[arg(long = "offender", required = true)]
        offenders: Vec<String>,
        /// no-heartbeat or non-compliant.
        #[arg(long, value_parser = client::words::job_fault)]
        fault: JobFault,
    },
    /// As a data owner or MPC node, post (or replace) the hash of your result: the evidence a
    /// non-compliance report must name.
    PostResult {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
        /// The result's hash (64 hex digits).
        #[arg(long)]
        result: Hash,
    },
    /// As the GDS, reject a member's posted result as non-compliant: a dispute window opens, and the
    /// report settles the job when it closes unless governance overturns it on the member's appeal.
    ReportResult {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
        #[arg(long)]
        member: String,
        /// The hash the member posted.
        #[arg(long)]
        result: Hash,
    },
    /// As the member accused of a non-compliant result, appeal to governance (a proposal bonded stake
    /// votes on; passed, it voids the report and pays you the GDS's bond).
    Appeal {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
    },
    /// As the query client, cancel the job (after dispatch, 60% of StakeIn is fined).
    Cancel {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
    },
    /// As the GDS, nominate a replacement for a failing MPC node; it takes over when it deposits.
    ReplaceMpc {
        #[command(flatten)]
        common: TxArgs,
        job: JobId,
        #[arg(long)]
        mpc: String,
        #[arg(long = "with")]
        replacement: String,
    },
    /// Jobs the node holds.
    List,
}

pub fn run(cmd: &JobCommand, client: &Client, keys: &Path, json: bool) -> anyhow::Result<()> {
    let (common, call) = match cmd {
        JobCommand::Order { common, id, order } => {
            let id = match id {
                Some(id) => *id,
                None => client::job_id_now(&crate::keys::account_of(&load(keys, &common.from)?)),
            };
            if !json {
                outln!("job {id}");
            }
            let order = order.order(id, resolve_account(keys, &order.qc)?, resolve_accounts(keys, &order.dos)?);
            (common, Call::OrderJob { order })
        }
        JobCommand::Query { common, job, amount } => {
            let amount = match amount {
                Some(a) => *a,
                None => client.job(job)?.due,
            };
            if amount.is_zero() {
                bail!("nothing is due on job {job}");
            }
            (common, Call::SubmitJobQuery { job: *job, amount })
        }
        JobCommand::SelectMpcs { common, job, mpcs } => {
            (common, Call::SelectMpcs { job: *job, mpcs: resolve_accounts(keys, mpcs)? })
        }
        JobCommand::Accept { common, job } => {
            (common, Call::AcceptJob { job: *job, deposit: client.job(job)?.job.deposit })
        }
        JobCommand::Status { common, job, stage, epoch, batch, status } => {
            let status = JobStatus { stage: *stage, epoch: *epoch, batch: *batch, status: *status };
            (common, Call::PostJobStatus { job: *job, status })
        }
        JobCommand::Report { common, job, offenders, fault } => {
            (common, Call::ReportJobFailure { job: *job, offenders: resolve_accounts(keys, offenders)?, fault: *fault })
        }
        JobCommand::PostResult { common, job, result } => (common, Call::PostJobResult { job: *job, result: *result }),
        JobCommand::ReportResult { common, job, member, result } => {
            let member = resolve_account(keys, member)?;
            (common, Call::ReportNonCompliance { job: *job, member, result: *result })
        }
        JobCommand::Appeal { common, job } => (common, Call::AppealJobReport { job: *job }),
        JobCommand::Cancel { common, job } => (common, Call::CancelJob { job: *job }),
        JobCommand::ReplaceMpc { common, job, mpc, replacement } => {
            let mpc = resolve_account(keys, mpc)?;
            (common, Call::ReplaceMpc { job: *job, mpc, replacement: resolve_account(keys, replacement)? })
        }
        JobCommand::List => {
            let jobs: Vec<api::JobView> = client.get("/v1/jobs")?;
            return crate::print(&jobs, json, |j| client::text::jobs(j));
        }
    };
    submit_call(client, keys, common, call, json)
}
