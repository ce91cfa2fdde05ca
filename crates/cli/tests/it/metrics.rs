//! The Grafana dashboard (`deploy/grafana/stakework.json`) queries only metrics a live node exports: two
//! validator processes agree on blocks, take a transfer and refuse a stale one, and the first one's
//! `/metrics` must hold a sample of every metric name any of the dashboard's PromQL expressions names,
//! with each `…_bucket` that `histogram_quantile` reads belonging to a histogram (docs/METRICS.md).

use crate::support::{cli, key_of, Node};
use ed25519_dalek::SigningKey;
use engine::{Call, TxBody};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};
use types::Amount;

const DASHBOARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/stakework.json");

/// Every PromQL expression of a dashboard: panel targets' `expr` and the template variables' queries.
fn expressions(dashboard: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dashboard];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map {
                    match (k.as_str(), child) {
                        ("expr" | "definition", serde_json::Value::String(s)) => out.push(s.clone()),
                        _ => stack.push(child),
                    }
                }
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

/// The metric names an expression reads: identifiers with the `stakework_` prefix, outside label matchers'
/// quoted values. Every expression must read at least one (else the test could not see what it queries).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut quoted = false;
    let mut word = String::new();
    for c in expr.chars().chain(std::iter::once(' ')) {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && (c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            word.push(c);
            continue;
        }
        if word.starts_with("stakework_") {
            names.insert(std::mem::take(&mut word));
        }
        word.clear();
    }
    names
}

/// What an OpenMetrics text exports: each sample's name, and each family's declared type.
fn exported(text: &str) -> (BTreeSet<String>, Vec<(String, String)>) {
    let mut samples = BTreeSet::new();
    let mut types = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (parts.next(), parts.next()) {
                types.push((name.to_string(), kind.to_string()));
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            samples.insert(line[..end].to_string());
        }
    }
    (samples, types)
}

/// The dashboard's metric names the scrape lacks: not a sample, or a `_bucket`/`_sum`/`_count` whose
/// family (the name without the suffix) is not declared a histogram.
fn missing(dashboard: &serde_json::Value, scrape: &str) -> Vec<String> {
    let (samples, types) = exported(scrape);
    let histogram = |family: &str| types.iter().any(|(n, k)| n == family && k == "histogram");
    let mut gaps = Vec::new();
    for expr in expressions(dashboard) {
        let names = metric_names(&expr);
        if names.is_empty() {
            gaps.push(format!("(no stakework_ metric in {expr:?})"));
        }
        for name in names {
            let family = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s));
            let ok = samples.contains(&name) && family.is_none_or(histogram);
            if !ok && !gaps.contains(&name) {
                gaps.push(name);
            }
        }
    }
    gaps.sort();
    gaps
}

fn dashboard() -> serde_json::Value {
    let text = std::fs::read_to_string(DASHBOARD).expect("deploy/grafana/stakework.json");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// The checker itself: a dashboard naming a metric the node does not export, or reading buckets of a
/// counter, is caught.
#[test]
fn a_dashboard_metric_the_node_does_not_export_is_caught() {
    let scrape = "# TYPE stakework_height gauge\nstakework_height 3\n# TYPE stakework_blocks_sealed counter\n\
                  stakework_blocks_sealed_total 3\n# TYPE stakework_fsync_seconds histogram\n\
                  stakework_fsync_seconds_bucket{le=\"1.0\"} 1\nstakework_fsync_seconds_count 1\n# EOF\n";
    let board = serde_json::json!({"panels": [{"targets": [
        {"expr": "max(stakework_height{instance=~\"stakework_nope\"})"},
        {"expr": "histogram_quantile(0.9, rate(stakework_fsync_seconds_bucket[5m]))"},
        {"expr": "rate(stakework_blocks_sealed_total[1m]) / rate(stakework_gone_total[1m])"},
        {"expr": "rate(stakework_blocks_sealed_bucket[1m])"},
        {"expr": "up"},
    ]}]});
    assert_eq!(
        missing(&board, scrape),
        ["(no stakework_ metric in \"up\")", "stakework_blocks_sealed_bucket", "stakework_gone_total"]
    );
    let named: BTreeSet<String> = expressions(&dashboard()).iter().flat_map(|e| metric_names(e)).collect();
    assert!(named.len() > 15, "the dashboard names every metric: {named:?}");
}

/// The genesis of two validators (each bonded 100 SWK) and a funded user.
fn write_genesis(home: &Path, dir: &Path, ports: &[u16], user: &str) -> std::path::PathBuf {
    let text = format!(
        "[params]\nchain_id = \"metrics\"\nmin_fee = 1000\n[[accounts]]\nid = \"{user}\"\nfree = \"1000 SWK\"\n"
    );
    let path = dir.join("genesis.toml");
    std::fs::write(&path, text).expect("write genesis");
    let file = path.to_str().expect("utf8");
    for (i, port) in ports.iter().enumerate() {
        let (key, p2p) = (format!("v{i}"), format!("127.0.0.1:{port}"));
        cli(home, None, &["genesis", "add-validator", file, "--key", &key, "--p2p", &p2p, "--bond", "100 SWK"]);
    }
    path
}

fn transfer(user: &SigningKey, nonce: u64, amount: u128) -> Vec<u8> {
    let tx = TxBody {
        signer: types::AccountId(user.verifying_key().to_bytes()),
        nonce,
        fee: Amount(1_000),
        call: Call::Transfer { to: types::AccountId([7; 32]), amount: Amount(amount) },
    }
    .sign(user, "metrics");
    serde_json::to_vec(&tx).expect("json")
}

fn scrape(node: &Node) -> String {
    let r = ureq::get(&format!("{}/metrics", node.url)).timeout(Duration::from_secs(10)).call().expect("metrics");
    assert_eq!(r.content_type(), "application/openmetrics-text");
    r.into_string().expect("text")
}

fn value(text: &str, sample: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0.0)
}

#[test]
fn every_metric_the_dashboard_queries_is_exported_by_a_live_validator() {
    let _alone = crate::support::validators_lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    for i in 0..2 {
        cli(&home, None, &["keys", "new", &format!("v{i}")]);
    }
    let ports = devnet::cluster::free_p2p_ports(2).expect("free loopback ports");
    let user = SigningKey::from_bytes(&[78; 32]);
    let genesis = write_genesis(&home, dir.path(), &ports, &types::AccountId(user.verifying_key().to_bytes()).to_hex());
    let nodes: Vec<Node> = (0..2)
        .map(|i| {
            let key = home.join("keys").join(format!("v{i}.json"));
            let args = ["--validator-key", key.to_str().expect("utf8")];
            Node::start(&dir.path().join(format!("data{i}")), Some(&genesis), 200, &args)
        })
        .collect();

    let (status, v) =
        nodes[0].post_raw("/v1/txs?wait=commit&timeout_ms=30000", "application/json", &transfer(&user, 0, 5));
    assert_eq!((status, v["receipt"]["code"].as_str()), (200, Some("ok")), "{v}");
    // Another transaction with the used nonce: refused at the door with `bad_nonce`.
    let (status, v) = nodes[0].post_raw("/v1/txs", "application/json", &transfer(&user, 0, 6));
    assert_eq!((status, v["code"].as_str()), (422, Some("bad_nonce")), "{v}");

    // Peers and both validators' votes show once the network has run a little.
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = scrape(&nodes[0]);
        let voted = (0..2).all(|i| {
            let key = key_of(&home, &format!("v{i}"));
            value(&text, &format!("stakework_votes_total{{validator=\"{key}\",vote=\"finalize\"}}")) > 0.0
        });
        if value(&text, "stakework_peers") >= 1.0 && voted {
            break text;
        }
        assert!(Instant::now() < deadline, "no peer or votes of both validators after 30 s:\n{text}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let code = "stakework_tx_rejections_total{code=\"bad_nonce\",stage=\"admission\"}";
    assert_eq!(value(&text, code), 1.0, "{text}");
    assert!(value(&text, "stakework_submit_to_commit_seconds_count") >= 1.0, "{text}");
    assert!(value(&text, "stakework_finality_seconds_count") >= 1.0, "{text}");
    assert!(value(&text, "stakework_block_fsync_seconds_count") >= 1.0, "{text}");
    assert!(value(&text, "stakework_finalized_height") >= value(&text, "stakework_height") - 0.5, "{text}");
    assert_eq!(
        missing(&dashboard(), &text),
        Vec::<String>::new(),
        "the dashboard queries what /metrics lacks:\n{text}"
    );
    for node in nodes {
        node.sigterm();
    }
}
