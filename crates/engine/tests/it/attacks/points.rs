//! Attacks on epoch points (xx network, seed 004; DESIGN §7): a saboteur that makes its team's round fail
//! where the engine cannot name the culprit.
//!
//! Six miners and an oracle; a k = 3 task priced 30 per miner; fee 1 per transaction; the points pool holds
//! 1,000 and nothing is minted.

use crate::harness::{id, small_params, Net};
use engine::{output_commitment, Call, GenesisService, Params, Role, TaskState};
use types::{AccountId, Amount, Hash, Ppb};

const ANSWER: &str =
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen in the chloroplasts of plant cells.";
const GARBAGE: &str = "The stock market closed higher on strong earnings from the technology sector.";
const OTHER: &str = "Apples and pears are fruit that grow on trees in temperate orchards every autumn.";
const MINERS: [&str; 6] = ["m1", "m2", "m3", "m4", "m5", "m6"];

fn params() -> Params {
    Params {
        miner_stake_min: Amount(100),
        oracle_stake_min: Amount(100),
        task_deadline_requested: 3,
        task_deadline_created: 3,
        task_deadline_started: 3,
        task_deadline_precommitted: 3,
        oracle_grace: 2,
        selection_cooldown: 0,
        oracle_fee: Amount(0),
        protocol_fee: Ppb::new(100_000_000).expect("10%"),
        background_task_reward: Amount(0),
        epoch_length: 20,
        heartbeat_timeout: 1_000,
        points_blame_culprits: true,
        ..small_params()
    }
}

fn setup() -> Net {
    let mut accounts: Vec<(&str, u128, u128)> = MINERS.iter().map(|m| (*m, 100, 100)).collect();
    accounts.extend([("o1", 100, 100), ("client", 10_000, 0)]);
    let services = vec![GenesisService {
        name: "text".into(),
        weight: 1,
        price: Amount(30),
        poi_threshold: engine::POI_THRESHOLD_DEFAULT,
        semantic_poi: false,
    }];
    let system = [(engine::POINTS_POOL_NAME, 1_000)];
    let mut net = Net::with_system(&accounts, params(), services, &system);
    let mut txs: Vec<_> = MINERS
        .iter()
        .map(|m| {
            let call = Call::RegisterNode {
                roles: vec![Role::Miner],
                services: vec![1],
                capacity: 2,
                endpoint: "http://m".into(),
            };
            net.tx(m, call)
        })
        .collect();
    let oracle =
        Call::RegisterNode { roles: vec![Role::Oracle], services: vec![], capacity: 1, endpoint: "http://o".into() };
    txs.push(net.tx("o1", oracle));
    net.block(txs);
    net
}

fn advance(net: &mut Net) {
    let adv = net.tx("o1", Call::AdvanceTask { task: 1 });
    net.block(vec![adv]);
}

/// Submit a k = 3 task and drive it to Started; its three miners' names, then its creator and preparer.
fn to_started(net: &mut Net) -> (Vec<String>, [String; 2]) {
    let t = net.tx("client", Call::SubmitTask { service: 1, redundancy: 3, max_price: Amount(1_000), avoid: vec![] });
    net.block(vec![t]);
    let task = |net: &Net| net.chain.engine.task(1).expect("task 1 is open").clone();
    let creator = net.name(&task(net).creator);
    let spec = net.tx(&creator, Call::PublishTaskSpec { task: 1, spec: "Explain photosynthesis.".into() });
    net.block(vec![spec]);
    advance(net);
    let preparer = net.name(&task(net).preparer.expect("a preparer"));
    let inputs = net.tx(&preparer, Call::PrepareTask { task: 1, inputs: "Explain photosynthesis.".into() });
    net.block(vec![inputs]);
    advance(net);
    assert_eq!(task(net).state, TaskState::Started);
    (task(net).miners.iter().map(|m| net.name(m)).collect(), [creator, preparer])
}

/// Issue 19, item 8. With `points_blame_culprits` on, a round the engine can name no culprit for (no
/// agreeing majority: one honest answer, the saboteur's and a third unrelated one) still deducted the whole team: the honest
/// teammate lost `points_failure` (20 at the old 1/3 target, 190 at 5%) for the saboteur's answer. With no
/// known culprit nobody is deducted now: both members count a round they did not fail and earn nothing
/// for it; the saboteur never comes out ahead of the teammate it sabotaged.
#[test]
fn no_known_culprit_deducts_the_whole_team() {
    let mut net = setup();
    let total = net.chain.engine.ledger().total_supply();
    let (team, helpers) = to_started(&mut net);
    let (honest, saboteur, third) = (team[0].clone(), team[1].clone(), team[2].clone());
    let salt = |i: u8| Hash([i; 32]);
    let outputs = [(&honest, ANSWER), (&saboteur, GARBAGE), (&third, OTHER)];
    let pre: Vec<_> = outputs
        .iter()
        .zip(1u8..)
        .map(|((who, out), i)| {
            let commitment = output_commitment(1, &id(who), out, &salt(i));
            net.tx(who, Call::PrecommitOutput { task: 1, commitment })
        })
        .collect();
    net.block(pre);
    advance(&mut net);
    let reveal: Vec<_> = outputs
        .iter()
        .zip(1u8..)
        .map(|((who, out), i)| net.tx(who, Call::RevealOutput { task: 1, output: (*out).into(), salt: salt(i) }))
        .collect();
    net.block(reveal);
    advance(&mut net);
    assert!(net.log.contains("TaskFailed 1 (no agreeing majority) culprits [] realtime true"), "{}", net.log);
    let points = net.chain.engine.epoch_points().nodes.clone();
    let of = |who: &str| points.get(&id(who)).copied().unwrap_or_default();
    let (h, s) = (of(&honest), of(&saboteur));
    eprintln!(
        "honest teammate: earned {} deducted {}; saboteur: earned {} deducted {}",
        h.earned, h.deducted, s.earned, s.deducted
    );
    assert_eq!((h.rounds, h.failures, h.earned, h.deducted), (1, 0, 0, 0), "the honest teammate is not deducted");
    assert_eq!((s.rounds, s.failures, s.earned, s.deducted), (1, 0, 0, 0), "no evidence names the saboteur either");
    assert!(s.net() <= h.net(), "the saboteur gained on its teammate");
    // Nobody else took part in a round; at the epoch's end nobody has positive points and the pool keeps its 1,000.
    assert!(points.keys().all(|a: &AccountId| team.iter().any(|m| *a == id(m))));
    let to_end = 20 - net.chain.engine.height().0 as usize;
    net.empty_blocks(to_end);
    assert_eq!(net.chain.engine.last_epoch_points().0, 1);
    assert_eq!(net.chain.engine.ledger().free(&AccountId::system(engine::POINTS_POOL_NAME)), Amount(1_000));
    let list = engine::ListRef { owner: None, name: engine::UNDERPERFORMERS.into() };
    assert!(net.chain.engine.list(&list).expect("published").nodes.is_empty(), "nobody failed a round");
    // The client is refunded (its fee only); the miners paid their fees (register, precommit, reveal, and
    // the spec or inputs if drawn for them) and nothing more.
    assert_eq!(net.chain.engine.ledger().free(&id("client")).0, 10_000 - 1);
    for who in [&honest, &saboteur, &third] {
        let fees = 3 + helpers.iter().filter(|h| *h == who).count() as u128;
        assert_eq!(net.chain.engine.ledger().free(&id(who)).0, 100 - fees, "{who}");
    }
    assert_eq!(net.chain.engine.ledger().total_supply(), total, "conservation");
}
