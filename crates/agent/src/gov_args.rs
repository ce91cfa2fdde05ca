//! `stakework gov propose`'s changes: one flag set per governance action (the CLI only parses and submits).

use clap::Subcommand;
use protocol::ProposalAction;
use types::Amount;

#[derive(Debug, Subcommand)]
pub enum Change {
    /// Add a service.
    AddService {
        #[arg(long)]
        name: String,
        #[arg(long)]
        weight: u32,
        #[arg(long)]
        price: Amount,
    },
    /// Set a service's weight.
    SetWeight {
        #[arg(long)]
        service: u32,
        #[arg(long)]
        weight: u32,
    },
    /// Set a service's Proof-of-Inference rule: its threshold, and whether oracles' semantic attestations
    /// decide it (tasks submitted after the change follow it).
    SetPoi {
        #[arg(long)]
        service: u32,
        /// Median similarity an output needs, in ppb (500000000 to 1000000000).
        #[arg(long, value_parser = parse_ppb)]
        threshold: types::Ppb,
        /// Wait for oracles' semantic attestations, which then decide (`true` or `false`).
        #[arg(long, action = clap::ArgAction::Set)]
        semantic: bool,
    },
    /// Set a protocol parameter (see `query params` for the names).
    SetParam {
        #[arg(long)]
        name: String,
        #[arg(long)]
        value: String,
    },
    /// Switch to protocol version V (the current + 1) from block H (≥ voting_period + epoch_length blocks
    /// from now); see docs/PROTOCOL.md "Protocol versions".
    #[command(disable_version_flag = true)]
    Upgrade {
        #[arg(long)]
        version: u32,
        #[arg(long)]
        height: u64,
    },
}

/// A ratio in parts per billion: 0 to 1000000000.
fn parse_ppb(s: &str) -> Result<types::Ppb, String> {
    let raw: u32 = s.parse().map_err(|_| format!("{s:?} is not a whole number of ppb"))?;
    types::Ppb::new(raw).ok_or_else(|| format!("{raw} is above 1000000000 ppb (100%)"))
}

impl Change {
    pub fn action(&self) -> ProposalAction {
        match self {
            Change::AddService { name, weight, price } => {
                ProposalAction::AddService { name: name.clone(), weight: *weight, price: *price }
            }
            Change::SetWeight { service, weight } => {
                ProposalAction::SetServiceWeight { service: *service, weight: *weight }
            }
            Change::SetPoi { service, threshold, semantic } => {
                ProposalAction::SetServicePoi { service: *service, poi_threshold: *threshold, semantic_poi: *semantic }
            }
            Change::SetParam { name, value } => ProposalAction::SetParam { name: name.clone(), value: value.clone() },
            Change::Upgrade { version, height } => {
                ProposalAction::ScheduleUpgrade { version: *version, height: types::Height(*height) }
            }
        }
    }
}
