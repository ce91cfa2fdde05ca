//! `stakework sim` as a user runs it: a scenario folder with CSV, PNG plots and a summary; a TOML scenario
//! file with a sweep; bad input refused with the reason and nothing written.

use crate::support::{cli, cli_raw};

fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("png");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", path.display());
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

#[test]
fn a_network_run_writes_csv_plots_and_a_summary_and_replays_byte_identically() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = home.path().join("run");
    let args = |dir: &std::path::Path| {
        vec![
            "--json".to_string(),
            "sim".into(),
            "run".into(),
            "network".into(),
            "--seed".into(),
            "3".into(),
            "--set".into(),
            "miners=80".into(),
            "--set".into(),
            "tasks=400".into(),
            "--set".into(),
            "tasks_per_block=8".into(),
            "--out".into(),
            dir.display().to_string(),
        ]
    };
    let a: Vec<String> = args(&out);
    let json = cli(home.path(), None, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let v: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON line");
    assert_eq!(v["scenario"], "network");
    assert_eq!(v["headline"]["rejected_txs"], "0", "{v}");
    for f in ["epochs.csv", "miners.csv", "service-vs-stake.csv", "summary.md"] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    for p in ["points-per-class.png", "rewards-per-class.png", "service-vs-stake.png"] {
        assert_eq!(png_size(&out.join(p)), (900, 540));
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary");
    assert!(summary.contains("## Performance") && summary.contains("peak memory"), "{summary}");
    let epochs = std::fs::read_to_string(out.join("epochs.csv")).expect("csv");
    assert!(epochs.starts_with("epoch,class,miners,"), "{epochs}");
    let again = home.path().join("again");
    let b: Vec<String> = args(&again);
    cli(home.path(), None, &b.iter().map(String::as_str).collect::<Vec<_>>());
    for f in ["epochs.csv", "miners.csv", "service-vs-stake.csv"] {
        assert_eq!(
            std::fs::read(out.join(f)).expect("a"),
            std::fs::read(again.join(f)).expect("b"),
            "{f} is byte-identical for the same seed"
        );
    }
}

#[test]
fn a_toml_scenario_with_a_sweep_gives_one_row_per_value() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = home.path().join("xx.toml");
    std::fs::write(&file, "scenario = \"xx\"\n[xx]\nrounds = 20000\nseed = 5\n").expect("write");
    let out = home.path().join("sweep");
    let f = file.display().to_string();
    let o = out.display().to_string();
    cli(home.path(), None, &["sim", "run", &f, "--sweep", "points_failure=20,90,190", "--out", &o]);
    let sweep = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    let rows: Vec<&str> = sweep.lines().collect();
    assert_eq!(rows[0], "points_failure,good_mean_net,good_floored,bad_net_raw,good_pool_share");
    assert_eq!(rows.len(), 4, "{sweep}");
    assert!(rows[1].starts_with("20,") && rows[3].starts_with("190,"), "{sweep}");
    assert_eq!(png_size(&out.join("sweep.png")), (900, 540));
}

#[test]
fn bad_scenarios_and_settings_are_refused_with_the_reason_and_write_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = home.path().join("never");
    let o = out.display().to_string();
    let bad_file = home.path().join("bad.toml");
    std::fs::write(&bad_file, "scenario = \"network\"\n[network]\nminers = 100\nwhatever = 1\n").expect("write");
    let bf = bad_file.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["sim", "run", "nosuch", "--out", &o], "unknown scenario"),
        (vec!["sim", "run", "network", "--set", "miners", "--out", &o], "expected KEY=VALUE"),
        (vec!["sim", "run", "network", "--set", "nosuch=1", "--out", &o], "nosuch"),
        (vec!["sim", "run", "network", "--set", "params.epoch_length=x", "--out", &o], "epoch_length"),
        (vec!["sim", "run", "network", "--set", "miners=4", "--out", &o], "redundancy"),
        (vec!["sim", "run", "network", "--set", "tasks_per_block=1000", "--out", &o], "half the miners"),
        (vec!["sim", "run", &bf, "--out", &o], "whatever"),
        (vec!["sim", "run", "xx", "--sweep", "points_failure", "--out", &o], "--sweep"),
    ];
    for (args, why) in cases {
        let r = cli_raw(home.path(), None, &args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?} must fail");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote nothing");
    }
}
