//! Proof-of-Inference detection vs threshold and the share of dishonest miners (seed 001; DESIGN §5).
//!
//! Each task asks one of a few prompts; `redundancy` distinct miners are drawn from a population of `miners`
//! of which `dishonest_pct`% are dishonest. An honest miner answers with a paraphrase of the prompt's answer
//! (a seeded template: synonyms, optional sentences, sentence order), so honest outputs vary but agree. A
//! dishonest miner is lazy, in one of four ways: random words, the answer to another prompt, one canned
//! excuse (the same for every canned miner, so canned miners agree with one another), or an echo of the
//! prompt with filler. The outputs are judged exactly as the engine's `evaluate` does: each is embedded
//! with `NgramEmbedder::default()`, `poi_verdict(&embeddings, threshold_ppb)` scores them, and an output
//! that echoes the prompt (cosine to it at the threshold) fails and cannot make a majority
//! (`echoes`, `PoiVerdict::excluding`; `echo_check = false` judges by agreement alone, as before issue 19).
//!
//! Copiers are not a class of their own: a miner who copies another's output scores as its source, so no
//! similarity check can catch it. That is what commit–reveal is for: a miner commits `H(output ‖ salt)`
//! before any output is revealed, so a copier who commits blind can only guess, and a guess is a lazy
//! output. The summary measures what a copier would get without commit–reveal.
//!
//! Whether a lazy output is caught depends on the task as much as on the threshold: when three of five
//! miners are lazy, no threshold helps. So besides the raw rates the report measures the threshold's own
//! quality on the tasks whose honest miners are a strict majority (`_hm` columns), and recommends the
//! thresholds that catch at least 99% of lazy outputs there while failing at most 1% of honest ones.
//!
//! One run judges the same tasks at every threshold: the engine's `poi_verdict` is the per-output scores
//! followed by `verdict_from_scores(scores, threshold)`, so the scenario calls `poi_verdict` once per task
//! and re-applies `verdict_from_scores` to its scores for the other thresholds (a test checks the two agree).

use crate::figures::{opt, pct, ratio};
use crate::report::{Report, Table};
use crate::rng::Rng;
use crate::{Plot, PlotKind, Progress, Series, SimError};
use embed::{cosine_ppb, echoes, poi_verdict, verdict_from_scores, Embedder, Embedding, NgramEmbedder, PoiVerdict};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// PoI thresholds to try, in ppb (the engine's unit; 850,000,000 is the default service threshold).
    pub thresholds_ppb: Vec<u32>,
    /// Shares of dishonest miners in the population, in percent.
    pub dishonest_pct: Vec<u32>,
    /// Tasks per dishonest share (every threshold judges the same tasks).
    pub tasks: u32,
    /// Miners per task.
    pub redundancy: u32,
    /// Miners in the population the tasks draw from.
    pub miners: u32,
    /// How much honest answers vary: each sentence after the first is kept with this chance (percent); at
    /// 100 honest answers differ only in synonyms and word order.
    pub keep_pct: u32,
    /// Relative weights of the lazy strategies among dishonest miners.
    pub random_words: u32,
    pub unrelated: u32,
    pub canned: u32,
    pub echo: u32,
    /// Judge as the engine does since issue 19: an output whose cosine to the task's prompt reaches the
    /// threshold fails and does not count toward the majority (`embed::echoes`, `PoiVerdict::excluding`).
    /// `false` judges by agreement alone, as before.
    pub echo_check: bool,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            thresholds_ppb: (6..=19).map(|k| k * 50_000_000).collect(),
            dishonest_pct: vec![0, 10, 20, 33, 50, 67],
            tasks: 2000,
            redundancy: 5,
            miners: 100,
            keep_pct: 90,
            random_words: 1,
            unrelated: 1,
            canned: 1,
            echo: 1,
            echo_check: true,
            seed: 1,
        }
    }
}

/// What a miner returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Honest,
    RandomWords,
    Unrelated,
    Canned,
    Echo,
}

pub const LAZY: [Behaviour; 4] = [Behaviour::RandomWords, Behaviour::Unrelated, Behaviour::Canned, Behaviour::Echo];

impl Behaviour {
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Honest => "honest",
            Behaviour::RandomWords => "random_words",
            Behaviour::Unrelated => "unrelated",
            Behaviour::Canned => "canned",
            Behaviour::Echo => "echo",
        }
    }
}

/// A prompt and its answer as sentence templates: `{a|b}` picks one alternative; the first sentence always
/// opens the answer, each other one is kept with probability `keep_pct`% and the kept ones come in random
/// order.
struct Topic {
    prompt: &'static str,
    sentences: &'static [&'static str],
}

const TOPICS: [Topic; 6] = [
    Topic {
        prompt: "How does photosynthesis work?",
        sentences: &[
            "{Photosynthesis|Photosynthesis in plants} {converts|turns|transforms} light energy, water and carbon \
                dioxide into {glucose|sugar} and oxygen.",
            "It {takes place|happens|occurs} {inside|within|in} the chloroplasts of \
                {plant cells|the cells of plants|leaf cells}, where chlorophyll {absorbs|captures} \
                {sunlight|the light}.",
            "The {light reactions|light-dependent reactions} {produce|make|generate} ATP and NADPH, \
                {which|and these} {power|drive|fuel} the Calvin cycle that {fixes|builds} carbon into \
                {sugars|glucose}.",
            "Oxygen is {released|given off} as a {by-product|byproduct|side product}.",
        ],
    },
    Topic {
        prompt: "What is ownership in Rust?",
        sentences: &[
            "{In Rust, every|Every} value has {a single|exactly one} owner, and the value is {dropped|freed} when \
                its owner goes out of scope.",
            "Ownership can be {moved|transferred} to another variable, after which the old {variable|binding} can \
                no longer be used.",
            "{Borrowing|References} {let|allow} code {use|read} a value without taking ownership: any number of \
                shared references or one mutable reference at a time.",
            "The {compiler|borrow checker} {enforces|checks} these rules at compile time, so \
                {memory safety|safe memory use} needs no garbage collector.",
        ],
    },
    Topic {
        prompt: "What is the difference between TCP and UDP?",
        sentences: &[
            "TCP is a {connection-oriented|reliable, connection-based} protocol, while UDP is \
                {connectionless|a connectionless protocol}.",
            "TCP {guarantees|ensures} that data arrives {in order|in sequence} and {retransmits|resends} lost \
                packets, using {acknowledgements|acks} and flow control.",
            "UDP {sends|transmits} independent datagrams with no {delivery guarantee|guarantee of delivery} and \
                {less|lower} overhead, {so it is|which makes it} {faster|quicker}.",
            "{Streaming, games and DNS|Games, voice calls and DNS} often use UDP, {while|whereas} web pages and \
                file transfers use TCP.",
        ],
    },
    Topic {
        prompt: "What causes inflation?",
        sentences: &[
            "Inflation is a {general|sustained} rise in prices, {which|and it} {reduces|erodes} the purchasing \
                power of money.",
            "{Demand-pull|Demand pull} inflation {happens|occurs} when demand for goods {grows|rises} faster than \
                the economy can produce them.",
            "Cost-push inflation {comes from|is caused by} {rising|higher} production costs such as wages \
                {or|and} energy prices.",
            "{Expanding|Growing} the money supply {too quickly|faster than output} {also|can also} {push|drive} \
                prices up, {which is why|so} central banks {raise|increase} interest rates.",
        ],
    },
    Topic {
        prompt: "How do vaccines work?",
        sentences: &[
            "Vaccines {train|teach} the immune system to {recognise|recognize} a pathogen without causing the disease.",
            "They {contain|carry} {an antigen|antigens}, {such as|like} a weakened virus, a protein fragment or \
                mRNA {instructions|that encodes a protein}.",
            "The body {responds|reacts} by {making|producing} antibodies and memory cells {that|which} \
                {remember|recall} the antigen.",
            "{If|When} the real pathogen {appears|arrives} later, the immune system {responds|reacts} \
                {faster|more quickly} and {more strongly|more effectively}.",
        ],
    },
    Topic {
        prompt: "How does binary search work?",
        sentences: &[
            "Binary search {finds|locates} a target value in a sorted {array|list} by \
                {repeatedly|again and again} halving the search range.",
            "It {compares|checks} the target with the middle element; if they {are equal|match}, the search \
                {ends|stops}.",
            "{If|When} the target is smaller, the search continues in the {left|lower} half, otherwise in the \
                {right|upper} half.",
            "{It takes|This needs} O(log n) {comparisons|steps}, {much|far} {faster|quicker} than a linear scan \
                of {large|big} inputs.",
        ],
    },
];

/// Common words for the random-words strategy.
const WORDS: &[&str] = &[
    "time",
    "people",
    "year",
    "way",
    "day",
    "thing",
    "world",
    "life",
    "hand",
    "part",
    "child",
    "eye",
    "place",
    "work",
    "week",
    "case",
    "point",
    "number",
    "group",
    "problem",
    "fact",
    "good",
    "new",
    "first",
    "last",
    "long",
    "great",
    "little",
    "own",
    "other",
    "old",
    "right",
    "big",
    "high",
    "different",
    "small",
    "large",
    "next",
    "early",
    "young",
    "important",
    "few",
    "public",
    "bad",
    "same",
    "able",
    "make",
    "know",
    "take",
    "see",
    "come",
    "think",
    "look",
    "want",
    "give",
    "use",
    "find",
    "tell",
    "ask",
    "seem",
    "feel",
    "try",
    "leave",
    "call",
    "river",
    "window",
    "garden",
    "music",
    "yellow",
    "table",
    "mountain",
    "coffee",
    "letter",
    "market",
    "winter",
    "story",
];

const CANNED: &str = "I am sorry, but I cannot help with that request right now. Please try again later.";

const ECHO_FILLER: &str =
    "This is a {good|great|common} question. The answer depends on {many|several} factors and {varies|differs} \
        from case to case.";

/// Expands `{a|b|c}` alternatives.
fn expand(template: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else { break };
        let options: Vec<&str> = rest[open + 1..open + close].split('|').collect();
        out.push_str(options[rng.below(options.len() as u32) as usize]);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// An honest answer to `topic`: a paraphrase from its template.
pub fn honest_output(topic: usize, keep_pct: u32, rng: &mut Rng) -> String {
    let t = &TOPICS[topic % TOPICS.len()];
    let mut kept: Vec<&str> = t.sentences[1..].iter().copied().filter(|_| rng.chance(keep_pct.min(100), 100)).collect();
    for i in (1..kept.len()).rev() {
        kept.swap(i, rng.below(i as u32 + 1) as usize);
    }
    let mut out = expand(t.sentences[0], rng);
    for s in kept {
        out.push(' ');
        out.push_str(&expand(s, rng));
    }
    out
}

/// What a miner of behaviour `b` returns for a task on `topic`.
pub fn output(b: Behaviour, topic: usize, keep_pct: u32, rng: &mut Rng) -> String {
    match b {
        Behaviour::Honest => honest_output(topic, keep_pct, rng),
        Behaviour::RandomWords => {
            let n = 15 + rng.below(21);
            (0..n).map(|_| WORDS[rng.below(WORDS.len() as u32) as usize]).collect::<Vec<_>>().join(" ")
        }
        Behaviour::Unrelated => {
            let other = (topic + 1 + rng.below(TOPICS.len() as u32 - 1) as usize) % TOPICS.len();
            honest_output(other, keep_pct, rng)
        }
        Behaviour::Canned => CANNED.to_string(),
        Behaviour::Echo => format!("{} {}", TOPICS[topic % TOPICS.len()].prompt, expand(ECHO_FILLER, rng)),
    }
}

/// The population: `miners` behaviours, the dishonest ones first, their strategies dealt by weight.
pub fn population(c: &Config, dishonest_pct: u32) -> Vec<Behaviour> {
    let miners = c.miners.max(c.redundancy);
    let dishonest = (u64::from(miners) * u64::from(dishonest_pct.min(100)) + 50) / 100;
    let weights = [c.random_words, c.unrelated, c.canned, c.echo];
    let deck: Vec<Behaviour> =
        LAZY.iter().zip(weights).flat_map(|(b, w)| std::iter::repeat_n(*b, w as usize)).collect();
    (0..u64::from(miners))
        .map(
            |i| {
                if i >= dishonest || deck.is_empty() {
                    Behaviour::Honest
                } else {
                    deck[(i % deck.len() as u64) as usize]
                }
            },
        )
        .collect()
}

/// Tallies for one (threshold, dishonest share).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub threshold_ppb: u32,
    pub dishonest_pct: u32,
    pub tasks: u64,
    pub no_majority: u64,
    /// Tasks with an agreeing majority in which a dishonest output passed.
    pub dishonest_majority: u64,
    pub honest: u64,
    pub honest_failed: u64,
    pub honest_passed: u64,
    /// Per lazy strategy (in [`LAZY`] order): outputs, and outputs failed as outliers and passed.
    pub lazy: [u64; 4],
    pub lazy_failed: [u64; 4],
    pub lazy_passed: [u64; 4],
    /// The same counts over the tasks whose honest miners are a strict majority.
    pub hm_honest: u64,
    pub hm_honest_failed: u64,
    pub hm_lazy: u64,
    pub hm_lazy_failed: u64,
}

impl Cell {
    pub fn dishonest(&self) -> u64 {
        self.lazy.iter().sum()
    }
    /// Dishonest outputs failed as outliers, over dishonest outputs (`None` without any).
    pub fn detection(&self) -> Option<f64> {
        ratio(self.lazy_failed.iter().sum(), self.dishonest())
    }
    /// Honest outputs failed as outliers, over honest outputs.
    pub fn false_positive(&self) -> Option<f64> {
        ratio(self.honest_failed, self.honest)
    }
    /// Tasks without an agreeing majority (nobody paid, nobody blamed), over tasks.
    pub fn no_majority_rate(&self) -> f64 {
        ratio(self.no_majority, self.tasks).unwrap_or(0.0)
    }
    /// Dishonest outputs that passed (and are paid), over dishonest outputs.
    pub fn dishonest_passed(&self) -> Option<f64> {
        ratio(self.lazy_passed.iter().sum(), self.dishonest())
    }
    /// Tasks with a majority in which a dishonest output passed, over tasks.
    pub fn dishonest_majority_rate(&self) -> f64 {
        ratio(self.dishonest_majority, self.tasks).unwrap_or(0.0)
    }
    /// Honest outputs that did not pass (failed, or in a task without a majority): honest work not paid.
    pub fn honest_unpaid(&self) -> Option<f64> {
        ratio(self.honest - self.honest_passed, self.honest)
    }
    /// Detection over the tasks with an honest majority: the threshold's own power.
    pub fn detection_hm(&self) -> Option<f64> {
        ratio(self.hm_lazy_failed, self.hm_lazy)
    }
    /// False positives over the tasks with an honest majority.
    pub fn false_positive_hm(&self) -> Option<f64> {
        ratio(self.hm_honest_failed, self.hm_honest)
    }
    pub fn detection_of(&self, b: Behaviour) -> Option<f64> {
        let k = LAZY.iter().position(|l| *l == b)?;
        ratio(self.lazy_failed[k], self.lazy[k])
    }
}

/// Draws the miners of one task (distinct, by a partial Fisher–Yates shuffle of `order`).
fn draw(pop: &[Behaviour], order: &mut [usize], k: usize, rng: &mut Rng) -> Vec<Behaviour> {
    (0..k)
        .map(|i| {
            let j = i + rng.below((pop.len() - i) as u32) as usize;
            order.swap(i, j);
            pop[order[i]]
        })
        .collect()
}

/// The verdicts of one task at every threshold: `poi_verdict` at the first, then the engine's
/// `verdict_from_scores` over the same scores (which is how `poi_verdict` ends).
pub fn verdicts(embeddings: &[Embedding], thresholds_ppb: &[u32]) -> Vec<PoiVerdict> {
    let Some((first, rest)) = thresholds_ppb.split_first() else { return Vec::new() };
    let v = poi_verdict(embeddings, i64::from(*first));
    let mut out: Vec<PoiVerdict> = rest.iter().map(|t| verdict_from_scores(v.scores.clone(), i64::from(*t))).collect();
    out.insert(0, v);
    out
}

/// Judges `tasks` tasks drawn for one dishonest share at every threshold (the same tasks for all).
pub fn simulate_share(c: &Config, dishonest_pct: u32, progress: &mut dyn Progress) -> Vec<Cell> {
    let pop = population(c, dishonest_pct);
    let k = c.redundancy.clamp(1, pop.len() as u32) as usize;
    let mut rng = Rng::new(c.seed ^ u64::from(dishonest_pct).wrapping_mul(0x9e37_79b9));
    let mut cells: Vec<Cell> =
        c.thresholds_ppb.iter().map(|&t| Cell { threshold_ppb: t, dishonest_pct, ..Cell::default() }).collect();
    let embedder = NgramEmbedder::default();
    let mut order: Vec<usize> = (0..pop.len()).collect();
    for task in 0..c.tasks {
        let topic = rng.below(TOPICS.len() as u32) as usize;
        let who = draw(&pop, &mut order, k, &mut rng);
        let embeddings: Vec<Embedding> =
            who.iter().map(|b| embedder.embed(&output(*b, topic, c.keep_pct, &mut rng))).collect();
        let prompt = [embedder.embed(TOPICS[topic % TOPICS.len()].prompt)];
        let judged = cells.iter_mut().zip(verdicts(&embeddings, &c.thresholds_ppb)).zip(&c.thresholds_ppb);
        for ((cell, verdict), threshold) in judged {
            let verdict = match c.echo_check {
                true => verdict.excluding(&echoes(&embeddings, &prompt, i64::from(*threshold))),
                false => verdict,
            };
            tally(cell, &who, &verdict);
        }
        if (task + 1) % 500 == 0 {
            progress.advance(500);
        }
    }
    progress.advance(u64::from(c.tasks % 500));
    cells
}

fn tally(cell: &mut Cell, who: &[Behaviour], verdict: &PoiVerdict) {
    cell.tasks += 1;
    cell.no_majority += u64::from(!verdict.majority);
    let honest_majority = who.iter().filter(|b| **b == Behaviour::Honest).count() * 2 > who.len();
    let mut lazy_passed_here = false;
    for (b, p) in who.iter().zip(&verdict.passed) {
        let failed = verdict.majority && !p;
        match LAZY.iter().position(|l| l == b) {
            None => {
                cell.honest += 1;
                cell.honest_failed += u64::from(failed);
                cell.honest_passed += u64::from(*p);
                if honest_majority {
                    cell.hm_honest += 1;
                    cell.hm_honest_failed += u64::from(failed);
                }
            }
            Some(i) => {
                cell.lazy[i] += 1;
                cell.lazy_failed[i] += u64::from(failed);
                cell.lazy_passed[i] += u64::from(*p);
                lazy_passed_here |= *p;
                if honest_majority {
                    cell.hm_lazy += 1;
                    cell.hm_lazy_failed += u64::from(failed);
                }
            }
        }
    }
    cell.dishonest_majority += u64::from(lazy_passed_here);
}

/// Pairwise similarities (ppb) of outputs to the same prompt, sorted: honest with honest, and honest with
/// each lazy strategy, and each lazy strategy with itself (in [`LAZY`] order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Similarities {
    pub honest: Vec<i64>,
    pub lazy_vs_honest: [Vec<i64>; 4],
    pub lazy_vs_same: [Vec<i64>; 4],
}

/// The `q`-quantile (0..=1) of a sorted list (0 when empty).
pub fn quantile(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize]
}

pub fn similarities(c: &Config, samples: u32) -> Similarities {
    let mut rng = Rng::new(c.seed ^ 0x7369_6d73);
    let e = NgramEmbedder::default();
    let mut s = Similarities::default();
    for _ in 0..samples {
        let topic = rng.below(TOPICS.len() as u32) as usize;
        let honest = e.embed(&honest_output(topic, c.keep_pct, &mut rng));
        let other = e.embed(&honest_output(topic, c.keep_pct, &mut rng));
        s.honest.push(cosine_ppb(&honest, &other));
        for (i, b) in LAZY.iter().enumerate() {
            let lazy = e.embed(&output(*b, topic, c.keep_pct, &mut rng));
            let lazy2 = e.embed(&output(*b, topic, c.keep_pct, &mut rng));
            s.lazy_vs_honest[i].push(cosine_ppb(&lazy, &honest));
            s.lazy_vs_same[i].push(cosine_ppb(&lazy, &lazy2));
        }
    }
    s.honest.sort_unstable();
    for v in s.lazy_vs_honest.iter_mut().chain(s.lazy_vs_same.iter_mut()) {
        v.sort_unstable();
    }
    s
}

/// The share of copies that pass when a copier may read an honest output before committing (what
/// commit–reveal prevents): `redundancy − 1` honest miners and one copy of the first one's output.
pub fn copier_pass_rate(c: &Config, threshold_ppb: u32, tasks: u32) -> f64 {
    let mut rng = Rng::new(c.seed ^ 0x636f_7079);
    let embedder = NgramEmbedder::default();
    let k = c.redundancy.max(2) as usize;
    let mut passed = 0u64;
    for _ in 0..tasks {
        let topic = rng.below(TOPICS.len() as u32) as usize;
        let mut outs: Vec<String> = (0..k - 1).map(|_| honest_output(topic, c.keep_pct, &mut rng)).collect();
        outs.push(outs[0].clone());
        let embeddings: Vec<Embedding> = outs.iter().map(|o| embedder.embed(o)).collect();
        passed += u64::from(poi_verdict(&embeddings, i64::from(threshold_ppb)).passed[k - 1]);
    }
    passed as f64 / f64::from(tasks.max(1))
}

fn thr(t: u32) -> String {
    format!("{:.2}", f64::from(t) / 1e9)
}

/// The engine's default service threshold (0.85).
pub const DEFAULT_THRESHOLD: u32 = 850_000_000;
/// What "works" means for the recommendation, on tasks with an honest majority.
pub const DETECTION_MIN: f64 = 0.99;
pub const FALSE_POSITIVE_MAX: f64 = 0.01;

/// Thresholds at which, at every dishonest share tried, detection over the tasks with an honest majority
/// is at least [`DETECTION_MIN`] and false positives there at most [`FALSE_POSITIVE_MAX`].
pub fn recommended(grid: &[Vec<Cell>]) -> Vec<u32> {
    let Some(first) = grid.first() else { return Vec::new() };
    first
        .iter()
        .map(|x| x.threshold_ppb)
        .filter(|t| {
            grid.iter().flatten().filter(|x| x.threshold_ppb == *t).all(|x| {
                x.detection_hm().is_none_or(|d| d >= DETECTION_MIN)
                    && x.false_positive_hm().is_none_or(|f| f <= FALSE_POSITIVE_MAX)
            })
        })
        .collect()
}

/// The poi scenario in the registry.
#[derive(Debug, Clone, Copy)]
pub struct Poi;

impl crate::Scenario for Poi {
    type Settings = Config;
    fn name(&self) -> &'static str {
        "poi"
    }
    fn description(&self) -> &'static str {
        "Proof-of-Inference detection vs threshold and the share of dishonest miners"
    }
    fn defaults(&self) -> Config {
        Config::default()
    }
    fn run(&self, c: &Config, progress: &mut dyn Progress) -> Result<Report, SimError> {
        Ok(run(c, progress))
    }
}

fn poi_table(cells: &[&Cell]) -> Table {
    let mut t = Table::with_header(
        "poi.csv",
        "threshold,dishonest_share,tasks,detection,false_positive,no_majority,detection_hm,false_positive_hm,\
         honest_unpaid,dishonest_passed,dishonest_majority,detection_random_words,detection_unrelated,\
         detection_canned,detection_echo",
    );
    for x in cells {
        t.row(&[
            &thr(x.threshold_ppb),
            &format!("{:.2}", f64::from(x.dishonest_pct) / 100.0),
            &x.tasks,
            &opt(x.detection()),
            &opt(x.false_positive()),
            &format!("{:.6}", x.no_majority_rate()),
            &opt(x.detection_hm()),
            &opt(x.false_positive_hm()),
            &opt(x.honest_unpaid()),
            &opt(x.dishonest_passed()),
            &format!("{:.6}", x.dishonest_majority_rate()),
            &opt(x.detection_of(Behaviour::RandomWords)),
            &opt(x.detection_of(Behaviour::Unrelated)),
            &opt(x.detection_of(Behaviour::Canned)),
            &opt(x.detection_of(Behaviour::Echo)),
        ]);
    }
    t
}

pub fn run(c: &Config, progress: &mut dyn Progress) -> Report {
    progress.start(u64::from(c.tasks) * c.dishonest_pct.len() as u64, "tasks");
    let grid: Vec<Vec<Cell>> = c.dishonest_pct.iter().map(|&d| simulate_share(c, d, progress)).collect();
    let mut cells: Vec<&Cell> = grid.iter().flatten().collect();
    cells.sort_by_key(|x| (x.threshold_ppb, x.dishonest_pct));
    let csv = poi_table(&cells);
    let recommended = recommended(&grid);
    let at_default = |pct: u32| cells.iter().find(|x| x.threshold_ppb == DEFAULT_THRESHOLD && x.dishonest_pct == pct);
    let mut headline = vec![
        ("recommended_min".to_string(), recommended.first().map_or(String::new(), |t| thr(*t))),
        ("recommended_max".to_string(), recommended.last().map_or(String::new(), |t| thr(*t))),
    ];
    if let Some(x) = at_default(0) {
        headline.push(("false_positive_0.85".to_string(), opt(x.false_positive())));
        headline.push(("honest_unpaid_0.85".to_string(), opt(x.honest_unpaid())));
    }
    let sims = similarities(c, c.tasks.min(1000));
    Report { tables: vec![csv], plots: plots(&grid), summary: summary(c, &grid, &recommended, &sims), headline }
}

fn plots(grid: &[Vec<Cell>]) -> Vec<Plot> {
    let per_share = |f: fn(&Cell) -> Option<f64>| -> Vec<Series> {
        grid.iter()
            .filter_map(|row| {
                let points: Vec<(f64, f64)> =
                    row.iter().filter_map(|x| f(x).map(|y| (f64::from(x.threshold_ppb) / 1e9, y))).collect();
                let name = format!("{}% dishonest", row.first()?.dishonest_pct);
                (!points.is_empty()).then_some(Series { name, points })
            })
            .collect()
    };
    let plot = |file: &str, title: &str, y_label: &str, series| Plot {
        file: file.to_string(),
        title: title.to_string(),
        x_label: "PoI threshold (cosine)".to_string(),
        y_label: y_label.to_string(),
        kind: PlotKind::Line,
        series,
    };
    vec![
        plot("poi-detection.png", "Dishonest outputs failed as outliers", "detection rate", per_share(Cell::detection)),
        plot(
            "poi-false-positives.png",
            "Honest outputs failed as outliers",
            "false-positive rate",
            per_share(Cell::false_positive),
        ),
        plot(
            "poi-no-majority.png",
            "Tasks without an agreeing majority",
            "share of tasks",
            per_share(|x| Some(x.no_majority_rate())),
        ),
    ]
}

/// A markdown table: one row per threshold, one column per dishonest share.
fn matrix(grid: &[Vec<Cell>], f: fn(&Cell) -> Option<f64>) -> String {
    let mut columns = vec!["threshold".to_string()];
    columns.extend(grid.iter().filter_map(|row| row.first()).map(|x| format!("{}% dishonest", x.dishonest_pct)));
    let mut t = Table { file: String::new(), columns, rows: Vec::new() };
    let thresholds: Vec<u32> = grid.first().map(|r| r.iter().map(|x| x.threshold_ppb).collect()).unwrap_or_default();
    for (i, th) in thresholds.iter().enumerate() {
        t.push(std::iter::once(thr(*th)).chain(grid.iter().map(|row| pct(row.get(i).and_then(f)))).collect());
    }
    t.markdown()
}

fn summary(c: &Config, grid: &[Vec<Cell>], recommended: &[u32], sims: &Similarities) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Proof of Inference: detection vs threshold and dishonest share\n");
    let _ = writeln!(
        s,
        "{} tasks per dishonest share, {} miners each, drawn from {} miners. Honest miners paraphrase the answer \
         (synonyms, each sentence after the first kept with chance {}%); dishonest ones are lazy (weights: \
         random words {}, another prompt's answer {}, one canned excuse {}, an echo of the prompt {}). Outputs \
         are judged by the engine's rule: `NgramEmbedder::default()` and `poi_verdict`. Seed {}.\n",
        c.tasks, c.redundancy, c.miners, c.keep_pct, c.random_words, c.unrelated, c.canned, c.echo, c.seed
    );
    let q = |v: &[i64], p: f64| format!("{:.2}", quantile(v, p) as f64 / 1e9);
    let _ = writeln!(s, "## Similarity of outputs to the same prompt\n");
    let mut t = Table::new("", &["pair", "1st percentile", "median", "99th percentile"]);
    t.row(&[&"honest – honest", &q(&sims.honest, 0.01), &q(&sims.honest, 0.5), &q(&sims.honest, 0.99)]);
    for (i, b) in LAZY.iter().enumerate() {
        for (label, v) in [("honest", &sims.lazy_vs_honest[i]), (b.name(), &sims.lazy_vs_same[i])] {
            t.row(&[&format!("{} – {label}", b.name()), &q(v, 0.01), &q(v, 0.5), &q(v, 0.99)]);
        }
    }
    s.push_str(&t.markdown());
    let _ = writeln!(
        s,
        "\nAn output passes when it reaches the threshold with at least half of the others, so the threshold must \
         sit above what lazy outputs score against honest ones and below what honest paraphrases score against \
         each other.\n"
    );
    let _ = writeln!(
        s,
        "## Detection (dishonest outputs failed as outliers, all tasks)\n\n{}",
        matrix(grid, Cell::detection)
    );
    let _ = writeln!(s, "## Detection on tasks with an honest majority\n\n{}", matrix(grid, Cell::detection_hm));
    let _ =
        writeln!(s, "## False positives (honest outputs failed as outliers)\n\n{}", matrix(grid, Cell::false_positive));
    let _ = writeln!(s, "## Tasks without an agreeing majority\n\n{}", matrix(grid, |x| Some(x.no_majority_rate())));
    let _ = writeln!(
        s,
        "## Honest outputs not paid (failed, or in a task without a majority)\n\n{}",
        matrix(grid, Cell::honest_unpaid)
    );
    let _ = writeln!(s, "## Findings\n\n{}", findings(c, grid, recommended, sims));
    s
}

fn findings(c: &Config, grid: &[Vec<Cell>], recommended: &[u32], sims: &Similarities) -> String {
    let t = recommended.first().copied().unwrap_or(DEFAULT_THRESHOLD);
    let copier = copier_pass_rate(c, t, c.tasks.min(500));
    [
        recommendation(grid, recommended, sims),
        minority(grid, t),
        majority(grid, t),
        format!(
            "**Copiers.** A miner that could read an honest output before committing would copy it and pass \
             {:.1}% of the time at {}, as often as the output it copied: similarity cannot catch a copy. \
             Commit–reveal is the defence: a copier commits blind, so its output is a guess, which is what the \
             lazy strategies model.",
            100.0 * copier,
            thr(t)
        ),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join("\n\n")
}

/// The recommended range, the similarities behind it, and how the engine's default fares.
fn recommendation(grid: &[Vec<Cell>], recommended: &[u32], sims: &Similarities) -> String {
    let mut s = match (recommended.first(), recommended.last()) {
        (Some(lo), Some(hi)) => format!(
            "**Recommended threshold: {}.** There, on every task whose honest miners are a majority, at least \
             {:.0}% of the lazy outputs fail as outliers and at most {:.0}% of the honest ones do.",
            if lo == hi { thr(*lo) } else { format!("{} to {}", thr(*lo), thr(*hi)) },
            100.0 * DETECTION_MIN,
            100.0 * FALSE_POSITIVE_MAX
        ),
        _ => format!(
            "**No threshold tried** catches {:.0}% of lazy outputs while failing at most {:.0}% of honest ones on \
             the tasks with an honest majority.",
            100.0 * DETECTION_MIN,
            100.0 * FALSE_POSITIVE_MAX
        ),
    };
    let lazy_high = sims.lazy_vs_honest.iter().map(|v| quantile(v, 0.99)).max().unwrap_or(0);
    let _ = write!(
        s,
        " Lazy outputs score at most {:.2} against honest ones (99th percentile), honest paraphrases at least \
         {:.2} against each other (1st percentile).",
        lazy_high as f64 / 1e9,
        quantile(&sims.honest, 0.01) as f64 / 1e9
    );
    let default = grid.iter().flatten().find(|x| x.threshold_ppb == DEFAULT_THRESHOLD && x.dishonest_pct == 0);
    if let Some(x) = default {
        let _ = write!(
            s,
            " At the engine's default 0.85, with no dishonest miner at all, {} of honest outputs are failed as \
             outliers and {} are not paid ({} of tasks find no majority){}",
            pct(x.false_positive()),
            pct(x.honest_unpaid()),
            pct(Some(x.no_majority_rate())),
            if x.false_positive().is_some_and(|f| f > FALSE_POSITIVE_MAX) {
                ": with honest answers that vary this much the default is too strict for the n-gram embedder; a \
                 service's threshold should be set from the similarity its honest outputs actually reach."
            } else {
                "."
            }
        );
    }
    s
}

/// Fewer than half dishonest: what the threshold decides, and why detection over all tasks stays lower.
fn minority(grid: &[Vec<Cell>], lo: u32) -> String {
    let minority = || grid.iter().flatten().filter(|x| x.dishonest_pct > 0 && x.dishonest_pct < 50);
    if minority().next().is_none() {
        return String::new();
    }
    let paid_max = |keep: &dyn Fn(u32) -> bool| {
        minority().filter(|x| keep(x.threshold_ppb)).filter_map(Cell::dishonest_passed).fold(0.0, f64::max)
    };
    let lowest = minority().map(|x| x.threshold_ppb).min().unwrap_or(lo);
    let at_lo: Vec<String> = minority()
        .filter(|x| x.threshold_ppb == lo)
        .map(|x| format!("{} at {}% dishonest", pct(x.detection()), x.dishonest_pct))
        .collect();
    format!(
        "With fewer than half of the miners dishonest, from {} up lazy outputs are paid at most {:.1}% of the \
         time (where three lazy miners in a task agree); at {} up to {:.1}% are paid, because they reach the \
         threshold with half of the others. Higher thresholds do not pay lazy outputs more, but honest paraphrases \
         stop agreeing: the honest majority breaks, the task ends with nobody blamed and nobody paid, and \
         detection falls with it.\n\nOver all tasks detection is lower than on honest-majority tasks ({} at {}) \
         because a lazy miner drawn with two or more lazy colleagues leaves the honest ones without a majority: \
         such a task fails with nobody blamed. No threshold changes that; only fewer dishonest miners do.",
        thr(lo),
        100.0 * paid_max(&|t| t >= lo),
        thr(lowest),
        100.0 * paid_max(&|t| t == lowest),
        at_lo.join(", "),
        thr(lo)
    )
}

/// Half or more dishonest: no majority, or a dishonest one.
fn majority(grid: &[Vec<Cell>], t: u32) -> String {
    let high: Vec<&Cell> = grid.iter().flatten().filter(|x| x.threshold_ppb == t && x.dishonest_pct >= 50).collect();
    if high.is_empty() {
        return String::new();
    }
    let figures: Vec<String> = high
        .iter()
        .map(|x| {
            format!(
                "with {}% dishonest {:.1}% of tasks have no majority, {:.1}% have lazy outputs paid, {} of honest \
                 outputs are failed and {} are not paid",
                x.dishonest_pct,
                100.0 * x.no_majority_rate(),
                100.0 * x.dishonest_majority_rate(),
                pct(x.false_positive()),
                pct(x.honest_unpaid())
            )
        })
        .collect();
    format!(
        "**Half or more dishonest.** At {}, {}. A verdict needs a strict majority that agrees. Lazy outputs mostly \
         disagree with one another, so many such tasks end without a majority: nobody is paid or blamed, honest \
         work is lost and lazy work is not caught. Where three of five return the same text (the canned excuse, or \
         echoes of the prompt) they are the majority, they are paid and the honest miners are failed as outliers. \
         No similarity rule protects a task whose majority is dishonest: selection by stake and reputation has to \
         keep dishonest miners rare.",
        thr(t),
        figures.join("; ")
    )
}
