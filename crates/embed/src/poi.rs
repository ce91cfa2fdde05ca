//! Proof of Inference by integer similarity: exact integer cosine, each output's median similarity to the
//! others, and the verdict (a strict majority at the threshold passes, outliers fail).

use crate::{cosine_ppb, Embedding};

/// The Proof-of-Inference verdict over one task's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoiVerdict {
    /// Each output's median similarity to the others, in ppb.
    pub scores: Vec<i64>,
    /// Whether each output reached the threshold and belongs to the agreeing majority.
    pub passed: Vec<bool>,
    /// True when the outputs that reached the threshold are a strict majority; otherwise nobody is blamed.
    pub majority: bool,
}

/// Score each output by its median cosine similarity to the others (the upper median for an even count)
/// and decide: a strict majority at or above `threshold_ppb` succeeds, the rest are outliers; without such
/// a majority nobody passes and nobody is blamed. Fewer than two outputs have nothing to agree with.
pub fn poi_verdict(outputs: &[Embedding], threshold_ppb: i64) -> PoiVerdict {
    let k = outputs.len();
    if k < 2 {
        return PoiVerdict { scores: vec![0; k], passed: vec![false; k], majority: false };
    }
    let mut sim = vec![vec![0i64; k]; k];
    for i in 0..k {
        for j in i + 1..k {
            let c = cosine_ppb(&outputs[i], &outputs[j]);
            sim[i][j] = c;
            sim[j][i] = c;
        }
    }
    let scores: Vec<i64> = (0..k)
        .map(|i| {
            let mut others: Vec<i64> = (0..k).filter(|j| *j != i).map(|j| sim[i][j]).collect();
            others.sort_unstable();
            // The upper median: the score reaches the threshold exactly when the output agrees with at
            // least half of the others, so with k = 3 two agreeing outputs outvote one outlier.
            others[others.len() / 2]
        })
        .collect();
    verdict_from_scores(scores, threshold_ppb)
}

/// The verdict from per-output scores already computed (e.g. validators' semantic scores): a strict
/// majority at or above the threshold succeeds, otherwise nobody passes and nobody is blamed.
pub fn verdict_from_scores(scores: Vec<i64>, threshold_ppb: i64) -> PoiVerdict {
    let k = scores.len();
    let reach: Vec<bool> = scores.iter().map(|s| *s >= threshold_ppb).collect();
    let majority = k >= 2 && reach.iter().filter(|p| **p).count() * 2 > k;
    let passed = if majority { reach } else { vec![false; k] };
    PoiVerdict { scores, passed, majority }
}

/// Which outputs copy one of the task's `sources` (its spec and its inputs): an integer cosine at or above
/// `threshold_ppb` to any of them. Such an output echoes the question instead of answering it (issue 19:
/// two lazy miners echoing the prompt agree perfectly with each other).
pub fn echoes(outputs: &[Embedding], sources: &[Embedding], threshold_ppb: i64) -> Vec<bool> {
    outputs.iter().map(|o| sources.iter().any(|s| cosine_ppb(o, s) >= threshold_ppb)).collect()
}

impl PoiVerdict {
    /// The verdict with the `excluded` outputs (echoes) failing whatever their score: they never pass,
    /// and the rest must still be a strict majority of all outputs.
    pub fn excluding(self, excluded: &[bool]) -> PoiVerdict {
        let k = self.scores.len();
        let reach: Vec<bool> = self.passed.iter().zip(excluded).map(|(p, x)| *p && !*x).collect();
        let majority = self.majority && reach.iter().filter(|p| **p).count() * 2 > k;
        let passed = if majority { reach } else { vec![false; k] };
        PoiVerdict { scores: self.scores, passed, majority }
    }
}

/// The stake-weighted median of `(value, stake)` pairs: the smallest value at which the stake of values at
/// or below it reaches half the total. `None` when there is no stake.
pub fn weighted_median(mut votes: Vec<(i64, u128)>) -> Option<i64> {
    votes.sort_unstable();
    let total: u128 = votes.iter().map(|(_, w)| *w).sum();
    if total == 0 {
        return None;
    }
    let mut acc = 0u128;
    for (v, w) in votes {
        acc += w;
        if acc * 2 >= total {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Embedder, NgramEmbedder};

    const ANSWER: &str = "Photosynthesis converts light energy, water and carbon dioxide into glucose and oxygen inside the chloroplasts of plant cells.";

    /// Copies and near-copies of the task's text are echoes; an answer is not. Excluding the two echoes of
    /// three leaves no majority, though the echoes agree perfectly with each other.
    #[test]
    fn echoes_of_the_prompt_fail_and_cannot_make_a_majority() {
        let e = NgramEmbedder::default();
        let prompt = "Explain photosynthesis in one sentence.";
        let outs: Vec<_> =
            [ANSWER, prompt, "Explain photosynthesis in one sentence!"].iter().map(|o| e.embed(o)).collect();
        let echo = echoes(&outs, &[e.embed(prompt)], 850_000_000);
        assert_eq!(echo, [false, true, true]);
        let v = poi_verdict(&outs, 850_000_000);
        assert_eq!(v.passed, [false, true, true], "by agreement alone the echoes win");
        let v = v.excluding(&echo);
        assert!(!v.majority && v.passed == [false, false, false]);
        let honest = poi_verdict(&[e.embed(ANSWER), e.embed(ANSWER), e.embed(prompt)], 850_000_000);
        let kept = honest.excluding(&[false, false, true]);
        assert!(kept.majority && kept.passed == [true, true, false], "two answers of three still pass");
    }

    #[test]
    fn honest_miners_agree_and_a_lazy_one_is_the_outlier() {
        let e = NgramEmbedder::default();
        let outs = [
            ANSWER.to_string(),
            ANSWER.replace("inside", "within"),
            ANSWER.replace("plant cells", "the cells of plants"),
            ANSWER.to_string(),
            "lorem ipsum dolor sit amet consectetur adipiscing".to_string(),
        ];
        let v = poi_verdict(&outs.iter().map(|o| e.embed(o)).collect::<Vec<_>>(), 850_000_000);
        assert_eq!(v.passed, [true, true, true, true, false], "{:?}", v.scores);
        assert!(v.majority);
    }

    #[test]
    fn the_stake_weighted_median_follows_the_stake() {
        assert_eq!(weighted_median(vec![(900, 1), (100, 1), (500, 1)]), Some(500));
        assert_eq!(weighted_median(vec![(900, 5), (100, 1), (500, 1)]), Some(900), "one big validator");
        assert_eq!(weighted_median(vec![(100, 1), (900, 1)]), Some(100), "ties go to the lower value");
        assert_eq!(weighted_median(vec![(100, 0)]), None);
    }

    #[test]
    fn with_three_outputs_two_that_agree_outvote_one_outlier() {
        let e = NgramEmbedder::default();
        let outs = [ANSWER, ANSWER, "unrelated words about the football results of last weekend"];
        let v = poi_verdict(&outs.iter().map(|o| e.embed(o)).collect::<Vec<_>>(), 850_000_000);
        assert_eq!(v.passed, [true, true, false], "{:?}", v.scores);
    }

    #[test]
    fn without_an_agreeing_majority_nobody_is_blamed() {
        let e = NgramEmbedder::default();
        let outs = ["alpha beta gamma delta", "one two three four", ANSWER, "red green blue yellow"];
        let v = poi_verdict(&outs.iter().map(|o| e.embed(o)).collect::<Vec<_>>(), 850_000_000);
        assert!(!v.majority);
        assert_eq!(v.passed, [false; 4]);
        assert_eq!(poi_verdict(&[e.embed(ANSWER)], 0).passed, [false]);
    }
}
