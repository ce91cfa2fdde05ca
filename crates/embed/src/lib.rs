//! Text embedders for Proof of Inference (seed 001, DESIGN §5), and the PoI verdict over a task's outputs.
//!
//! The engine needs an embedder every node computes bit for bit, so [`NgramEmbedder`] is pure integer
//! arithmetic: the text is lower-cased, split into words, and every character n-gram of each word (padded
//! with a boundary mark) is hashed with FNV-1a into one of `dim` buckets with a sign taken from another
//! hash bit (the "hashing trick"), giving a vector of small signed counts. Similarity is the cosine in
//! parts per billion, computed with an integer square root. It catches outputs that share no wording
//! (a lazy or random answer); outputs that share words but not meaning need a neural embedder.
//!
//! [`poi_verdict`] is the rule: each output's score is its (upper) median similarity to the others, so it
//! reaches the threshold when the output agrees with at least half of the others; outputs whose
//! score reaches the threshold pass; if they are a strict majority they succeed and the rest fail as
//! outliers, otherwise nobody is blamed and the task has no agreeing majority.
//!
//! Invariants (without the `minilm` feature): no IO, no clock, no floating point, no randomness; the same
//! text gives the same vector. The `minilm` feature adds [`minilm::MiniLm`], a neural sentence embedder
//! (all-MiniLM-L6-v2 on candle) that oracles run off the ledger; it reads model files and uses floats, and
//! the engine only ever sees the integer scores oracles attest.

#[cfg(feature = "minilm")]
pub mod minilm;
mod ngram;
mod poi;

pub use ngram::{cosine_ppb, Embedding, NgramEmbedder};
pub use poi::{echoes, poi_verdict, verdict_from_scores, weighted_median, PoiVerdict};

/// Anything that turns text into an embedding vector.
pub trait Embedder {
    fn embed(&self, text: &str) -> Embedding;
}
