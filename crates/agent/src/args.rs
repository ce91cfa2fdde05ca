//! The agents' command-line settings: `stakework miner|oracle|client|coordinator|trainer` flags. clap
//! derives the flags from these types, so each field's doc comment is its `--help` line and the settings
//! an agent runs with are the ones typed here, not a copy of them in the CLI.

use crate::backend::Backend;
use crate::launch::ClientPlan;
use crate::miner::MinerConfig;
use crate::oracle::Similarity;
use crate::AgentError;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;
use types::{AccountId, Amount, JobId};

#[derive(Debug, Args)]
pub struct MinerArgs {
    /// Name of the miner's key (see `stakework keys`).
    #[arg(long)]
    pub from: String,
    /// The service it serves.
    #[arg(long, default_value_t = 1)]
    pub service: u32,
    /// Requests it serves at once; more are queued by client stake.
    #[arg(long, default_value_t = 4)]
    pub capacity: u32,
    /// Address of its HTTP endpoint (`/infer`, `/health`), where routers reach it.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The endpoint URL it registers (default: http:// and the address it listens on).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Attach to this router (an account id or key name; it must have accepted this miner) and report
    /// traffic through it.
    #[arg(long)]
    pub router: Option<String>,
    /// `builtin` (deterministic, not a model) or `openai` (an OpenAI-compatible server).
    #[arg(long, default_value = "builtin")]
    pub backend: String,
    /// The OpenAI-compatible server's base URL (llama.cpp server, vLLM, Ollama).
    #[arg(long)]
    pub backend_url: Option<String>,
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Seconds the backend may take per answer.
    #[arg(long, default_value_t = 60)]
    pub backend_timeout_s: u64,
    /// Return filler instead of answers (a dishonest miner, for demos: Proof of Inference catches it).
    #[arg(long)]
    pub lazy: bool,
    /// Extra milliseconds per answer (a slow miner, for demos).
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Milliseconds between looks at the chain.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
}

impl MinerArgs {
    /// The backend these flags name.
    pub fn backend(&self) -> Result<Box<dyn Backend>, AgentError> {
        let timeout = Duration::from_secs(self.backend_timeout_s);
        crate::launch::backend(&self.backend, self.backend_url.as_deref(), &self.model, timeout, self.lazy)
    }

    /// The miner's settings, attached to `router` (the `--router` flag resolved to an account).
    pub fn config(&self, router: Option<AccountId>) -> MinerConfig {
        MinerConfig {
            service: self.service,
            capacity: self.capacity,
            endpoint: String::new(),
            poll: Duration::from_millis(self.poll_ms),
            delay: Duration::from_millis(self.delay_ms),
            router,
            prompt_wait_blocks: 5,
        }
    }
}

#[derive(Debug, Args)]
pub struct OracleArgs {
    /// Name of the oracle's key; it must be registered with the oracle role.
    #[arg(long)]
    pub from: String,
    /// `minilm`: also attest semantic Proof-of-Inference scores with the MiniLM sentence embedder (needs a
    /// build with `--features minilm` and `--model-dir`).
    #[arg(long)]
    pub embedder: Option<String>,
    /// The MiniLM model directory (config.json, tokenizer.json, model.safetensors; scripts/fetch-minilm.sh).
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
}

/// An oracle's semantic embedder, if it attests scores.
pub type Semantic = Option<Box<dyn Similarity>>;

impl OracleArgs {
    /// The semantic embedder `--embedder` names, loaded from `--model-dir`.
    pub fn semantic(&self) -> Result<Semantic, AgentError> {
        match self.embedder.as_deref() {
            None => Ok(None),
            Some("minilm") => {
                let dir = self.model_dir.as_deref().ok_or_else(|| {
                    AgentError::Config("--embedder minilm needs --model-dir (see scripts/fetch-minilm.sh)".into())
                })?;
                load_minilm(dir)
            }
            Some(other) => Err(AgentError::Config(format!("unknown embedder {other:?}: the only one is minilm"))),
        }
    }
}

#[cfg(feature = "minilm")]
struct MiniLmSimilarity(embed::minilm::MiniLm);

#[cfg(feature = "minilm")]
impl Similarity for MiniLmSimilarity {
    fn similarity_ppb(&self, a: &str, b: &str) -> Result<i64, AgentError> {
        self.0.similarity_ppb(a, b).map_err(|e| AgentError::Config(format!("MiniLM: {e}")))
    }
}

#[cfg(feature = "minilm")]
fn load_minilm(dir: &Path) -> Result<Semantic, AgentError> {
    let model = embed::minilm::MiniLm::load(dir)
        .map_err(|e| AgentError::Config(format!("loading MiniLM from {}: {e}", dir.display())))?;
    Ok(Some(Box::new(MiniLmSimilarity(model))))
}

#[cfg(not(feature = "minilm"))]
fn load_minilm(_dir: &Path) -> Result<Semantic, AgentError> {
    Err(AgentError::Config(
        "this stakework was built without MiniLM: build it with `cargo build --release -p cli --features minilm`"
            .into(),
    ))
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Name of the client's key.
    #[arg(long)]
    pub from: String,
    /// The router's relay URL (`stakework router run`).
    #[arg(long)]
    pub router: String,
    #[command(flatten)]
    pub plan: ClientPlan,
}

/// A training job's order (`stakework job order` and `stakework coordinator`): everything but its id.
#[derive(Debug, Args)]
pub struct OrderArgs {
    /// horizontal or vertical (a PSI stage among the data owners, then training).
    #[arg(long, value_parser = ::client::words::job_kind, default_value = "horizontal")]
    pub kind: protocol::JobKind,
    /// The query client who pays (an account id or key name).
    #[arg(long)]
    pub qc: String,
    /// A data owner (repeat for each; account ids or key names).
    #[arg(long = "do", required = true)]
    pub dos: Vec<String>,
    /// Price per data owner (base units or "1.5 SWK").
    #[arg(long)]
    pub price: Amount,
    /// Model complexity factor: each DO is paid price × factor.
    #[arg(long, default_value_t = 1)]
    pub complexity: u32,
    /// Vertical jobs: the MPC is paid price × number of DOs × this factor.
    #[arg(long, default_value_t = 1)]
    pub mpc_factor: u32,
    /// Training epochs (bounds status epochs; a self-reported failure at epoch e pays e/epochs).
    #[arg(long, default_value_t = 3)]
    pub epochs: u32,
    /// Batches per epoch (bounds status batches).
    #[arg(long, default_value_t = protocol::jobs::JOB_BATCHES_DEFAULT)]
    pub batches: u32,
    /// The quote given to the query client before the MPC nodes are chosen.
    #[arg(long)]
    pub quote: Amount,
    /// Blocks from dispatch after which the job settles by its recorded progress (at most the network's
    /// `job_duration_max`).
    #[arg(long, default_value_t = protocol::jobs::JOB_DURATION_DEFAULT)]
    pub duration: u64,
}

impl OrderArgs {
    /// The order these flags describe, with its id, and its QC and data owners resolved to accounts.
    pub fn order(&self, id: JobId, qc: AccountId, dos: Vec<AccountId>) -> protocol::JobOrder {
        protocol::JobOrder {
            id,
            kind: self.kind,
            qc,
            dos,
            price_per_do: self.price,
            complexity: self.complexity,
            mpc_factor: self.mpc_factor,
            epochs: self.epochs,
            batches: self.batches,
            quote: self.quote,
            duration_max: self.duration,
        }
    }
}

#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    /// Name of the coordinator's key (registered with the coordinator role).
    #[arg(long)]
    pub from: String,
    /// The job's UUID.
    #[arg(long)]
    pub id: JobId,
    #[command(flatten)]
    pub order: OrderArgs,
    /// An MPC node the coordinator selects (repeat for each; account ids or key names).
    #[arg(long = "mpc", required = true)]
    pub mpcs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TrainerArgs {
    /// Name of the member's key (a data owner or MPC node of the job).
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub job: JobId,
    /// Blocks between status updates (one per training epoch).
    #[arg(long, default_value_t = 2)]
    pub blocks_per_epoch: u64,
}
