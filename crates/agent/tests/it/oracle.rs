//! The oracle's semantic scores: each miner's upper-median similarity to the other outputs.

use agent::oracle::{semantic_scores, Similarity};
use agent::AgentError;
use protocol::{Task, TaskOrigin, TaskState};
use std::collections::{BTreeMap, BTreeSet};
use types::{AccountId, Height};

/// Similarity by shared words (a stand-in for MiniLM): 1.0 for equal texts.
struct Words;

impl Similarity for Words {
    fn similarity_ppb(&self, a: &str, b: &str) -> Result<i64, AgentError> {
        let (x, y): (BTreeSet<&str>, BTreeSet<&str>) = (a.split(' ').collect(), b.split(' ').collect());
        Ok((x.intersection(&y).count() * 1_000_000_000 / x.union(&y).count().max(1)) as i64)
    }
}

#[test]
fn honest_outputs_score_high_and_the_odd_one_out_low() {
    let miners: Vec<AccountId> = (1..=4).map(|i| AccountId([i; 32])).collect();
    let texts = [
        "plants make sugar from light",
        "plants make sugar from light",
        "plants make sugar from sunlight",
        "football results today",
    ];
    let task = Task {
        id: 1,
        origin: TaskOrigin::Background,
        service: 1,
        redundancy: 4,
        state: TaskState::Committed,
        stage: 0,
        deadline: Height(10),
        reassignments: 0,
        creator: AccountId([9; 32]),
        preparer: None,
        spec: None,
        inputs: None,
        miners: miners.clone(),
        precommits: BTreeMap::new(),
        outputs: miners.iter().zip(texts).map(|(m, t)| (*m, t.to_string())).collect(),
        replaced: BTreeSet::new(),
        created_at: Height(1),
        attestations: BTreeMap::new(),
        oracle_paid: types::Amount::ZERO,
        semantic_poi: true,
        avoided: BTreeSet::new(),
    };
    let scores: BTreeMap<AccountId, i64> = semantic_scores(&task, &Words).expect("scores").into_iter().collect();
    // Against the three others, an honest output's sorted similarities are [0, ~0.67, 1]: the upper
    // median is ~0.67 or 1. The odd one out scores 0 against everyone.
    assert!(scores[&miners[0]] >= 666_666_666, "{scores:?}");
    assert!(scores[&miners[2]] >= 666_666_666, "{scores:?}");
    assert_eq!(scores[&miners[3]], 0, "{scores:?}");
}
