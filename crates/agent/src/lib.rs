//! stakework agents: long-running processes that act for a node operator over the node's HTTP API.
//!
//! - [`miner`]: registers (or checks its registration), sends heartbeats, serves the inference requests
//!   assigned to it through the stake-weighted `sched` queue (Busy when full, Ready when drained), and does
//!   its part of every Proof-of-Useful-Work task it was drawn for (spec, inputs, precommit, reveal);
//! - [`oracle`]: advances tasks once everyone acted or a deadline passed;
//! - [`router`]: relays clients' sealed prompts to miners, meters the bytes and reports each epoch;
//! - [`seal`]: the relay's end-to-end encryption between a client's and a miner's account keys;
//! - [`args`]: the agents' command-line settings (clap derives the flags from them);
//! - [`launch`]: an agent as a process: its backend, its endpoint's runtime, its loop until a signal;
//! - [`backend`]: where a miner's answers come from: an OpenAI-compatible HTTP server (llama.cpp server,
//!   vLLM, Ollama) or a built-in deterministic backend that says plainly it is not a model.
//!
//! Agents sign every transaction locally ([`client::Signer`]) and submit it with `?wait=commit`, so they
//! always know whether it took effect and never reuse or skip a nonce. They never hold protocol state the
//! node does not have: after a restart (of the agent or of the node) they read the chain again and carry on.
//!
//! They know nothing about the engine: they compile against the public contract (`protocol`, `api`) and
//! talk to nodes through the one `client`. Where an agent needs a rule's read side (may this task be
//! advanced?), it calls the same `protocol` query the engine calls.

pub mod args;
pub mod backend;
pub mod client;
pub mod gov_args;
pub mod launch;
pub mod miner;
pub mod oracle;
pub mod router;
pub mod seal;
pub mod serve;
pub mod training;

/// Why an agent step failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The node could not be reached or answered garbage; worth retrying.
    #[error("node unreachable: {0}")]
    Unreachable(String),
    /// The node refused the request with a stable code.
    #[error("[{code}] {message}")]
    Node { code: String, message: String },
    /// The inference backend failed, timed out or answered garbage.
    #[error("backend: {0}")]
    Backend(String),
    /// A setting is wrong (a key, a URL); retrying will not help.
    #[error("{0}")]
    Config(String),
}

impl From<::client::ClientError> for AgentError {
    fn from(e: ::client::ClientError) -> AgentError {
        match e {
            ::client::ClientError::Node { code, message, .. } => AgentError::Node { code, message },
            ::client::ClientError::Unreachable(m) => AgentError::Unreachable(m),
        }
    }
}

/// Where an agent's log lines go: standard error, prefixed with the agent's name.
#[derive(Debug, Clone)]
pub struct Log {
    pub name: String,
    pub quiet: bool,
}

impl Log {
    pub fn line(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{}: {msg}", self.name);
        }
    }
}
