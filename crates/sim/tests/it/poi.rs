//! PoI detection vs threshold and dishonest share, judged by the engine's own verdict.

use embed::{poi_verdict, Embedder, NgramEmbedder};
use sim::poi::{copier_pass_rate, honest_output, output, run, simulate_share, verdicts, Cell, Config, LAZY};
use sim::rng::Rng;
use sim::NoProgress;

const LOW: u32 = 500_000_000;
const DEFAULT: u32 = 850_000_000;

fn small(tasks: u32) -> Config {
    Config { thresholds_ppb: vec![LOW, DEFAULT], dishonest_pct: vec![0, 20, 67], tasks, ..Config::default() }
}

fn cell(grid: &[Vec<Cell>], threshold: u32, pct: u32) -> &Cell {
    grid.iter().flatten().find(|x| x.threshold_ppb == threshold && x.dishonest_pct == pct).expect("a cell")
}

#[test]
fn poi_the_same_seed_gives_byte_identical_csv() {
    let c = Config { dishonest_pct: vec![0, 20], ..small(60) };
    let a = run(&c, &mut NoProgress);
    assert_eq!(a.files(), run(&c, &mut NoProgress).files());
    assert_ne!(a.files(), run(&Config { seed: 2, ..c }, &mut NoProgress).files(), "another seed draws other tasks");
}

/// The scenario judges every threshold from one `poi_verdict`'s scores; that must equal calling
/// `poi_verdict` at each threshold, as the engine does.
#[test]
fn poi_reusing_the_scores_gives_the_engines_verdict_at_every_threshold() {
    let e = NgramEmbedder::default();
    let mut rng = Rng::new(9);
    let thresholds: Vec<u32> = (6..=19).map(|k| k * 50_000_000).collect();
    for task in 0..40 {
        let outs: Vec<_> = (0..5)
            .map(|i| {
                if i < 3 {
                    honest_output(task, 90, &mut rng)
                } else {
                    output(LAZY[(task + i) % 4], task, 90, &mut rng)
                }
            })
            .map(|o| e.embed(&o))
            .collect();
        for (t, v) in thresholds.iter().zip(verdicts(&outs, &thresholds)) {
            assert_eq!(v, poi_verdict(&outs, i64::from(*t)), "task {task} at {t}");
        }
    }
}

#[test]
fn poi_a_low_threshold_catches_lazy_miners_and_the_default_fails_varied_honest_answers() {
    let c = small(400);
    let grid: Vec<Vec<Cell>> = c.dishonest_pct.iter().map(|&d| simulate_share(&c, d, &mut NoProgress)).collect();
    // No dishonest miner: at 0.50 every honest output passes.
    let honest_only = cell(&grid, LOW, 0);
    assert_eq!((honest_only.honest_failed, honest_only.no_majority), (0, 0), "{honest_only:?}");
    // At 0.85 paraphrases that drop a sentence now and then stop agreeing: a few percent of honest outputs
    // are failed (6.6% over 1,000 tasks at seed 1; 2,000 honest outputs here).
    let strict = cell(&grid, DEFAULT, 0);
    assert!(strict.false_positive().is_some_and(|f| f > 0.02), "{strict:?}");
    // 20% dishonest: where the honest miners are a majority the lazy ones are failed, and none is paid.
    let some = cell(&grid, LOW, 20);
    assert!(some.detection_hm().is_some_and(|d| d >= 0.99), "{some:?}");
    assert!(some.false_positive_hm().is_some_and(|f| f <= 0.01), "{some:?}");
    assert!(some.dishonest_passed().is_some_and(|p| p <= 0.005), "{some:?}");
    // Two thirds dishonest: most tasks find no majority, most honest work goes unpaid, and where lazy miners
    // agree (canned or echoed text) they outvote the honest ones.
    let most = cell(&grid, LOW, 67);
    assert!(most.no_majority_rate() > 0.5, "{most:?}");
    assert!(most.honest_unpaid().is_some_and(|u| u > 0.5), "{most:?}");
    assert!(most.dishonest_majority > 0 && most.honest_failed > 0, "{most:?}");
}

#[test]
fn poi_synonym_only_paraphrases_pass_the_default_threshold() {
    let c = Config { keep_pct: 100, ..small(300) };
    let cells = simulate_share(&c, 0, &mut NoProgress);
    let strict = cells.iter().find(|x| x.threshold_ppb == DEFAULT).expect("0.85");
    assert!(strict.false_positive().is_some_and(|f| f < 0.01), "{strict:?}");
}

#[test]
fn poi_a_copier_that_sees_an_output_passes_which_is_why_outputs_are_committed_first() {
    assert!(copier_pass_rate(&small(100), LOW, 100) >= 0.99);
}

#[test]
fn poi_the_report_recommends_a_range_and_explains_the_dishonest_majority() {
    let out = run(&Config { thresholds_ppb: vec![300_000_000, LOW, DEFAULT], ..small(200) }, &mut NoProgress);
    let headline: std::collections::BTreeMap<_, _> = out.headline.clone().into_iter().collect();
    assert_eq!(headline["recommended_min"], "0.50", "{headline:?}");
    assert!(out.summary.contains("**Half or more dishonest.**"), "{}", out.summary);
    let rows = out.files()[0].1.lines().count();
    assert_eq!(rows, 1 + 3 * 3, "one row per threshold and share");
}
