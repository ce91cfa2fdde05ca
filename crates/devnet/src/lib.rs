//! devnet: start, supervise, gather and report a network of `stakework` processes, for the demo and the
//! end-to-end tests.
//!
//! - [`process`]: child processes of the `stakework` binary (whose path the caller passes: the CLI its own
//!   `current_exe`, tests `CARGO_BIN_EXE_stakework`): a node on a data directory, agents with their logs in
//!   files, stopped with SIGTERM (through `nix`, never by running `kill`) and killed if dropped;
//! - [`keys`]: the well-known derived keys of demos, written as key files the agents load;
//! - [`queue`]: busy periods of a miner's queue and each client's place in them, from recorded events;
//! - [`report`]: the demo network's report rows, pure functions of recorded events and names;
//! - [`cluster`]: validator processes named in one genesis, killed and restarted on their data directories;
//! - [`crash`]: one validator of a cluster killed in the middle of a run, restarted, timed as it catches up;
//! - [`net`]: the demo network itself (four validators, miners, oracles, a router, clients, a training job);
//! - [`walkthrough`]: the scripted single-node tour of the ledger, the market and a task.
//!
//! Everything a report says is read from the chain (events, accounts, the supply audit) or from the
//! agents' own output; the replay check runs `stakework replay` on each stopped node's data directory.
//! devnet knows nothing about the engine, the ledger or the store: it talks to processes.

pub mod cluster;
pub mod crash;
pub mod keys;
pub mod net;
pub mod process;
pub mod queue;
pub mod report;
mod report_text;
pub mod walkthrough;
mod walkthrough_text;

/// Why a network could not be started, driven or reported.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// A node answered with an error or could not be reached.
    #[error("node: {0}")]
    Client(#[from] client::ClientError),
    /// A file, a directory or a process could not be created or read.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A process did not start, did not stop or printed something unexpected.
    #[error("{0}")]
    Process(String),
    /// The network did not do what the run needs (a registration refused, a deadline passed).
    #[error("{0}")]
    Network(String),
}

impl DevnetError {
    /// An IO error with what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevnetError {
        let what = what.into();
        move |source| DevnetError::Io { what, source }
    }
}

pub type Result<T> = std::result::Result<T, DevnetError>;

/// The name a value has on the wire (`good`, `precommitted`, `data_owner`): its serde form.
pub fn wire_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".into(),
    }
}
