//! BFT consensus for stakework: N validators will agree on every [`engine::Block`] with commonware's
//! simplex (ed25519, round-robin leaders) and marshal (finalized blocks in order, backfill), pinned at
//! 2026.3.0.
//!
//! What it owns so far: the block as consensus carries it ([`ChainBlock`]; its digest is `Block::hash`).
//!
//! Invariants, as absences: no decoded block's digest is read from the wire (it is recomputed); no engine
//! rule lives here.

pub mod block;

pub use block::{to_digest, ChainBlock, Digest, BLOCK_BYTES_MAX};
