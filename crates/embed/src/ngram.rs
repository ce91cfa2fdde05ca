//! The integer n-gram embedder: character n-grams hashed into a fixed number of integer counts, so every
//! node computes the same vector for the same text.

use crate::Embedder;

/// An integer embedding vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedding(pub Vec<i32>);

/// Character n-gram feature hashing into `dim` signed buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NgramEmbedder {
    pub dim: usize,
    pub n: usize,
}

impl Default for NgramEmbedder {
    /// 512 buckets of character trigrams.
    fn default() -> Self {
        NgramEmbedder { dim: 512, n: 3 }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const BOUNDARY: u32 = '\u{2}' as u32;

impl Embedder for NgramEmbedder {
    fn embed(&self, text: &str) -> Embedding {
        assert!(self.dim >= 1 && self.n >= 1, "an embedder needs at least one bucket and n ≥ 1");
        let mut v = vec![0i32; self.dim];
        let mut word: Vec<u32> = Vec::with_capacity(32);
        let mut flush = |word: &mut Vec<u32>| {
            if word.is_empty() {
                return;
            }
            word.insert(0, BOUNDARY);
            word.push(BOUNDARY);
            for gram in word.windows(self.n.min(word.len())) {
                let mut h = FNV_OFFSET;
                for c in gram {
                    for b in c.to_le_bytes() {
                        h ^= u64::from(b);
                        h = h.wrapping_mul(FNV_PRIME);
                    }
                }
                // Mix once more so the bucket and the sign come from well-spread bits.
                h ^= h >> 29;
                h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
                h ^= h >> 32;
                let bucket = (h % self.dim as u64) as usize;
                v[bucket] += if h >> 63 == 0 { 1 } else { -1 };
            }
            word.clear();
        };
        for c in text.chars() {
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase().map(u32::from));
            } else {
                flush(&mut word);
            }
        }
        flush(&mut word);
        Embedding(v)
    }
}

/// ⌊√x⌋ for a u128, by Newton's method from a power-of-two start above the root.
fn isqrt(x: u128) -> u128 {
    if x < 2 {
        return x;
    }
    let mut r = 1u128 << ((128 - x.leading_zeros()).div_ceil(2));
    loop {
        let next = (r + x / r) / 2;
        if next >= r {
            return r;
        }
        r = next;
    }
}

/// Cosine similarity in parts per billion, in [−10^9, 10^9]; 0 when either vector is all zeros.
pub fn cosine_ppb(a: &Embedding, b: &Embedding) -> i64 {
    assert_eq!(a.0.len(), b.0.len(), "embeddings of different dimension");
    let (mut dot, mut na, mut nb) = (0i128, 0u128, 0u128);
    for (x, y) in a.0.iter().zip(&b.0) {
        let (x, y) = (i128::from(*x), i128::from(*y));
        dot += x * y;
        na += (x * x) as u128;
        nb += (y * y) as u128;
    }
    if na == 0 || nb == 0 {
        return 0;
    }
    // dot / √(na·nb) = dot / (√na · √nb); the product of the two roots keeps the error to one part in ~1e9
    // for the vector norms of real texts, and rounds toward zero.
    let den = isqrt(na.saturating_mul(nb));
    let ppb = dot * 1_000_000_000 / den as i128;
    ppb.clamp(-1_000_000_000, 1_000_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn similar_texts_score_high_and_unrelated_ones_low() {
        let e = NgramEmbedder::default();
        let a = e.embed("The capital of France is Paris, a city on the Seine.");
        let b = e.embed("Paris, a city on the Seine, is the capital of France.");
        let c = e.embed("Bananas are rich in potassium and grow in tropical climates.");
        assert!(cosine_ppb(&a, &b) > 900_000_000, "reordered words: {}", cosine_ppb(&a, &b));
        assert!(cosine_ppb(&a, &c) < 300_000_000, "unrelated: {}", cosine_ppb(&a, &c));
        assert_eq!(cosine_ppb(&a, &a), 1_000_000_000);
        assert_eq!(e.embed("Hello, WORLD"), e.embed("hello world"), "case and punctuation do not matter");
        assert_eq!(cosine_ppb(&e.embed(""), &a), 0);
    }

    #[test]
    fn isqrt_is_exact() {
        for x in [0u128, 1, 2, 3, 4, 15, 16, 17, u64::MAX as u128, u128::MAX] {
            let r = isqrt(x);
            assert!(r * r <= x && (r + 1).checked_mul(r + 1).is_none_or(|s| s > x), "{x}");
        }
    }

    proptest! {
        #[test]
        fn cosine_is_symmetric_bounded_and_deterministic(a in ".{0,200}", b in ".{0,200}") {
            let e = NgramEmbedder::default();
            let (x, y) = (e.embed(&a), e.embed(&b));
            let c = cosine_ppb(&x, &y);
            prop_assert_eq!(c, cosine_ppb(&y, &x));
            prop_assert!((-1_000_000_000..=1_000_000_000).contains(&c));
            prop_assert_eq!(x, e.embed(&a));
        }
    }
}
