//! BFT consensus for stakework: N validators agree on every [`engine::Block`] with commonware's
//! simplex (ed25519, round-robin leaders) and marshal (finalized blocks in order, backfill), pinned at
//! 2026.3.0.
//!
//! What it owns: the block as consensus carries it ([`ChainBlock`]; its digest is `Block::hash`), the
//! application that proposes, verifies and finalizes blocks on forks of the engine ([`App`]), the wiring
//! of one validator ([`start_validator`]), each finalized block's evidence (its finalization certificate
//! and proposer, [`finality`]), transaction gossip ([`gossip`]), what it reports for metrics
//! ([`telemetry`]) and the equivocation evidence it makes of simplex's fault reports ([`evidence`]). See
//! docs/CONSENSUS.md and docs/PROTOCOL.md "Equivocation evidence".
//!
//! Invariants, as absences: no wall clock reaches a block (pacing only delays the proposer); no finalized
//! block is skipped (one that does not apply stops the validator); no block is acknowledged to marshal
//! before the [`Sink`] took it, with its finality evidence; no validator starts over a committed state below
//! the height it acknowledged to marshal; no decoded block's digest is read from the wire (it is recomputed); no
//! engine rule lives here (blocks are built and checked only by `Engine::produce_block` and
//! `Engine::apply_block`); no transaction is admitted without a valid signature for the chain.

pub mod app;
pub mod block;
pub mod evidence;
pub mod finality;
pub mod gossip;
pub mod net;
pub mod orchestrator;
pub mod pool;
pub mod telemetry;
pub mod validator;

pub use app::{check_proposer, App, AppConfig, AppError, FinalizeError, Finalizer, Refusal, Sink, SinkError, TxSource};
pub use block::{to_digest, ChainBlock, Digest, BLOCK_BYTES_MAX};
pub use evidence::{equivocation, Reporter};
pub use finality::{Certificate, Certificates, Finality, FinalityError};
pub use gossip::{start_gossip, Gossip, GossipError};
pub use net::{NetConfig, NetError};
pub use orchestrator::{EpochSchemes, Transition, Transitions};
pub use pool::MemoryPool;
pub use telemetry::{NoTelemetry, Telemetry, TelemetryHandle, Vote};
pub use validator::{start_validator, Channels, Scheme, ValidatorError, CHANNEL_TXS, LEADER_TIMEOUT};
