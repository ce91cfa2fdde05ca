//! The Proof-of-Inference benchmark: task evaluations per second (embed k = 5 outputs of 1 KiB each
//! with the engine's integer n-gram embedder, then the verdict), the embedder's throughput, and as the
//! baseline in the same process a straightforward embedder (trigram strings counted in a hash map,
//! floating-point cosine) doing the same evaluations.

use crate::{check, BenchError};
use embed::{poi_verdict, Embedder, NgramEmbedder};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

/// Target (issue 5): task evaluations per second on one core.
pub const TARGET_EVALUATIONS_PER_S: f64 = 10_000.0;
/// The verdict's agreement threshold, in parts per billion.
const THRESHOLD_PPB: i64 = 850_000_000;

/// The figures; serialized as `stakework bench poi --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct PoiReport {
    pub outputs_per_task: usize,
    pub output_bytes: usize,
    pub evaluations_per_s: f64,
    pub embed_mb_per_s: f64,
    pub baseline_evaluations_per_s: f64,
    pub speedup_vs_baseline: f64,
    pub target_evaluations_per_s: f64,
    pub meets_target: bool,
}

const WORDS: &[&str] = &[
    "model",
    "inference",
    "token",
    "network",
    "miner",
    "oracle",
    "layer",
    "weights",
    "prompt",
    "answer",
    "vector",
    "gradient",
    "energy",
    "light",
    "carbon",
    "water",
    "cell",
    "protein",
    "market",
    "price",
    "stake",
    "block",
];

/// A 1 KiB answer from a fixed word sequence, and paraphrases that swap a few words.
fn outputs() -> Vec<String> {
    let mut seed = 7u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut base = String::new();
    while base.len() < 1024 {
        base.push_str(WORDS[next() % WORDS.len()]);
        base.push(' ');
    }
    base.truncate(1024);
    let mut outs: Vec<String> = (0..4).map(|i| base.replacen(WORDS[i], WORDS[i + 5], 3)).collect();
    let mut lazy = String::new();
    while lazy.len() < 1024 {
        lazy.push_str(&format!("x{} ", next()));
    }
    lazy.truncate(1024);
    outs.push(lazy);
    outs
}

fn naive_embed(text: &str) -> HashMap<String, f64> {
    let mut m = HashMap::new();
    for w in text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let chars: Vec<char> = format!("^{w}$").chars().collect();
        for g in chars.windows(3.min(chars.len())) {
            *m.entry(g.iter().collect::<String>()).or_insert(0.0) += 1.0;
        }
    }
    m
}

fn naive_cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let dot: f64 = a.iter().map(|(k, v)| v * b.get(k).copied().unwrap_or(0.0)).sum();
    let na: f64 = a.values().map(|v| v * v).sum::<f64>().sqrt();
    let nb: f64 = b.values().map(|v| v * v).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Time `evaluations` task evaluations, the embedder alone over as many, and a tenth as many baseline
/// evaluations.
pub fn run(evaluations: usize) -> Result<PoiReport, BenchError> {
    if evaluations < 10 {
        return Err(BenchError::Settings("time at least 10 evaluations".into()));
    }
    let outs = outputs();
    let e = NgramEmbedder::default();
    let verdict = poi_verdict(&outs.iter().map(|o| e.embed(o)).collect::<Vec<_>>(), THRESHOLD_PPB);
    check(
        verdict.passed == [true, true, true, true, false],
        &format!("the benchmark's outputs must give 4 agreeing and 1 outlier: {:?}", verdict.scores),
    )?;
    let secs = time_evaluations(&e, &outs, evaluations);
    let embed_secs = time_embedding(&e, &outs, evaluations);
    let base_n = (evaluations / 10).max(1);
    let base_secs = time_baseline(&outs, base_n);

    let bytes: usize = outs.iter().map(String::len).sum();
    let rate = evaluations as f64 / secs;
    let base_rate = base_n as f64 / base_secs;
    Ok(PoiReport {
        outputs_per_task: outs.len(),
        output_bytes: 1024,
        evaluations_per_s: rate,
        embed_mb_per_s: (bytes * evaluations) as f64 / embed_secs / 1e6,
        baseline_evaluations_per_s: base_rate,
        speedup_vs_baseline: rate / base_rate,
        target_evaluations_per_s: TARGET_EVALUATIONS_PER_S,
        meets_target: rate >= TARGET_EVALUATIONS_PER_S,
    })
}

/// Seconds for `n` evaluations: embed every output, then the verdict.
fn time_evaluations(e: &NgramEmbedder, outs: &[String], n: usize) -> f64 {
    let t = Instant::now();
    let mut passed = 0usize;
    for _ in 0..n {
        let v = poi_verdict(&outs.iter().map(|o| e.embed(o)).collect::<Vec<_>>(), THRESHOLD_PPB);
        passed += v.passed.iter().filter(|p| **p).count();
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(passed);
    secs
}

/// Seconds to embed every output `n` times.
fn time_embedding(e: &NgramEmbedder, outs: &[String], n: usize) -> f64 {
    let t = Instant::now();
    let mut embedded = 0usize;
    for _ in 0..n {
        for o in outs {
            embedded += e.embed(o).0.len();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(embedded);
    secs
}

/// Seconds for `n` baseline evaluations: string trigrams, hash maps, f64 cosines, the median per output.
fn time_baseline(outs: &[String], n: usize) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(naive_agreeing(outs));
    }
    t.elapsed().as_secs_f64()
}

/// How many outputs agree with the others (median cosine ≥ 0.85) by the baseline embedder.
fn naive_agreeing(outs: &[String]) -> usize {
    let v: Vec<_> = outs.iter().map(|o| naive_embed(o)).collect();
    let mut agree = 0;
    for i in 0..v.len() {
        let mut s: Vec<f64> = (0..v.len()).filter(|j| *j != i).map(|j| naive_cosine(&v[i], &v[j])).collect();
        s.sort_by(f64::total_cmp);
        agree += usize::from(s[(s.len() - 1) / 2] >= 0.85);
    }
    agree
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outputs_are_about_1_kib_and_both_embedders_see_four_agreeing() {
        let outs = outputs();
        assert_eq!(outs.len(), 5);
        assert_eq!(outs[4].len(), 1024, "the unrelated output");
        assert!(outs.iter().all(|o| o.len().abs_diff(1024) < 64), "paraphrases of a 1 KiB answer");
        assert_eq!(naive_agreeing(&outs), 4);
    }

    #[test]
    fn a_small_run_reports_consistent_figures() {
        let r = run(20).expect("a small run");
        assert_eq!((r.outputs_per_task, r.output_bytes), (5, 1024));
        assert!(
            (r.speedup_vs_baseline - r.evaluations_per_s / r.baseline_evaluations_per_s).abs()
                < 1e-9 * r.speedup_vs_baseline
        );
        assert!(matches!(run(9), Err(BenchError::Settings(_))));
    }
}
