//! `stakework bench poi`: Proof-of-Inference evaluations per second (embed k = 5 outputs of 1 KiB each
//! with the engine's integer n-gram embedder, then the verdict), the embedder's throughput, and as the
//! baseline in the same process a straightforward embedder (trigram strings counted in a hash map,
//! floating-point cosine) doing the same evaluations.

use anyhow::ensure;
use clap::Args;
use embed::{poi_verdict, Embedder, NgramEmbedder};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct PoiArgs {
    /// Task evaluations to time.
    #[arg(long, default_value_t = 20_000)]
    pub evaluations: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    outputs_per_task: usize,
    output_bytes: usize,
    evaluations_per_s: f64,
    embed_mb_per_s: f64,
    baseline_evaluations_per_s: f64,
    speedup_vs_baseline: f64,
    target_evaluations_per_s: f64,
    meets_target: bool,
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

pub fn run(args: &PoiArgs, json: bool) -> anyhow::Result<()> {
    ensure!(
        cfg!(not(debug_assertions)),
        "benchmarks need an optimized build: cargo run --release --bin stakework -- bench poi"
    );
    ensure!(args.evaluations >= 10, "time at least 10 evaluations");
    let outs = outputs();
    let e = NgramEmbedder::default();
    let check = poi_verdict(&outs.iter().map(|o| e.embed(o)).collect::<Vec<_>>(), 850_000_000);
    ensure!(
        check.passed == [true, true, true, true, false],
        "the benchmark's outputs must give 4 agreeing and 1 outlier: {:?}",
        check.scores
    );

    let t = Instant::now();
    let mut passed = 0usize;
    for _ in 0..args.evaluations {
        let v = poi_verdict(&outs.iter().map(|o| e.embed(o)).collect::<Vec<_>>(), 850_000_000);
        passed += v.passed.iter().filter(|p| **p).count();
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(passed);
    let bytes: usize = outs.iter().map(String::len).sum();

    let t = Instant::now();
    let mut embedded = 0usize;
    for _ in 0..args.evaluations {
        for o in &outs {
            embedded += e.embed(o).0.len();
        }
    }
    let embed_secs = t.elapsed().as_secs_f64();
    std::hint::black_box(embedded);

    let base_n = (args.evaluations / 10).max(1);
    let t = Instant::now();
    for _ in 0..base_n {
        let v: Vec<_> = outs.iter().map(|o| naive_embed(o)).collect();
        let mut agree = 0;
        for i in 0..v.len() {
            let mut s: Vec<f64> = (0..v.len()).filter(|j| *j != i).map(|j| naive_cosine(&v[i], &v[j])).collect();
            s.sort_by(f64::total_cmp);
            agree += usize::from(s[(s.len() - 1) / 2] >= 0.85);
        }
        std::hint::black_box(agree);
    }
    let base_secs = t.elapsed().as_secs_f64();

    let rate = args.evaluations as f64 / secs;
    let base_rate = base_n as f64 / base_secs;
    let r = Report {
        outputs_per_task: outs.len(),
        output_bytes: 1024,
        evaluations_per_s: rate,
        embed_mb_per_s: (bytes * args.evaluations) as f64 / embed_secs / 1e6,
        baseline_evaluations_per_s: base_rate,
        speedup_vs_baseline: rate / base_rate,
        target_evaluations_per_s: 10_000.0,
        meets_target: rate >= 10_000.0,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        outln!("PoI benchmark: k = {} outputs of {} bytes per task, one core", r.outputs_per_task, r.output_bytes);
        outln!(
            "  task evaluations (embed all + verdict): {:>10.0}/s   target ≥ 10,000: {}",
            r.evaluations_per_s,
            if r.meets_target { "met" } else { "NOT met" }
        );
        outln!("  integer n-gram embedder:                {:>10.1} MB/s", r.embed_mb_per_s);
        outln!(
            "  baseline (string trigrams, hash map, f64): {:>7.0}/s   (integer = {:.1}× baseline)",
            r.baseline_evaluations_per_s,
            r.speedup_vs_baseline
        );
    }
    Ok(())
}
