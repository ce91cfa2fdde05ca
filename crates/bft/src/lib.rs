//! BFT consensus for stakework: N validators will agree on every [`engine::Block`] with commonware's
//! simplex (ed25519, round-robin leaders) and marshal (finalized blocks in order, backfill), pinned at
//! 2026.3.0.
//!
//! What it owns so far: the block as consensus carries it ([`ChainBlock`]; its digest is `Block::hash`) and
//! the application that proposes, verifies and finalizes blocks on forks of the engine ([`App`]).
//!
//! Invariants, as absences: no wall clock reaches a block (pacing only delays the proposer); no finalized
//! block is skipped (one that does not apply stops the validator); no block is acknowledged to marshal
//! before the [`Sink`] took it; no decoded block's digest is read from the wire (it is recomputed); no
//! engine rule lives here (blocks are built and checked only by `Engine::produce_block` and
//! `Engine::apply_block`).

pub mod app;
pub mod block;
pub mod pool;

pub use app::{App, AppConfig, FinalizeError, Sink, SinkError, TxSource};
pub use block::{to_digest, ChainBlock, Digest, BLOCK_BYTES_MAX};
pub use pool::MemoryPool;
