//! The tidy check, run by `cargo test`: the conventions that can be checked by reading the sources.

#[test]
fn the_tree_is_tidy() {
    let findings = xtask::tidy(&xtask::root());
    assert!(findings.is_empty(), "{} finding(s):\n{}", findings.len(), findings.join("\n"));
}

#[test]
fn the_checks_see_what_they_look_for() {
    let src = xtask::Source {
        path: "crates/engine/src/x.rs".into(),
        crate_name: "engine".into(),
        lines: ["fn long() {".to_string()]
            .into_iter()
            .chain((0..80).map(|i| format!("    let _x{i} = {i}; // f64 in a comment is fine")))
            .chain(["}".to_string(), "fn short() {".into(), "    let t: f64 = 0.5;".into(), "}".into()])
            .collect(),
        code_end: 85,
    };
    let long = xtask::long_functions(&src, xtask::FN_LINES_MAX);
    assert_eq!(long.len(), 1);
    assert_eq!((long[0].name.as_str(), long[0].lines), ("long", 82));
    assert_eq!(xtask::lines_with(&src, &["f64"]), vec![84]);
    assert!(!xtask::has_header(&src));
}

#[test]
fn an_engine_module_reaching_into_another_is_found() {
    let src = xtask::Source {
        path: "crates/engine/src/routers.rs".into(),
        crate_name: "engine".into(),
        lines: vec!["//! Routers.".into(), "use crate::jobs::JobsState;".into(), "use crate::market::Role;".into()],
        code_end: 3,
    };
    let mut findings = Vec::new();
    xtask::check_engine_module(&src, &mut findings);
    assert_eq!(findings, vec!["crates/engine/src/routers.rs:2: the routers module reaches into jobs".to_string()]);
}

#[test]
fn a_cli_over_its_line_budget_is_found() {
    let file = |n: usize| xtask::Source {
        path: format!("crates/cli/src/f{n}.rs"),
        crate_name: "cli".into(),
        lines: vec![String::new(); 800],
        code_end: 800,
    };
    assert_eq!(xtask::check_cli_budget(&[file(1)]), None);
    let over = xtask::check_cli_budget(&[file(1), file(2)]).expect("1,600 lines are over 1,500");
    assert!(over.contains("1600 lines"), "{over}");
}

#[test]
fn a_dependency_on_commonware_outside_bft_is_found() {
    let manifest =
        "[dependencies]\nengine.workspace = true\ncommonware-codec.workspace = true\nbft = { path = \"x\" }\n";
    let findings = xtask::check_manifest("engine", manifest);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(findings[0].starts_with("crates/engine/Cargo.toml:3: engine depends on commonware-codec"));
    assert!(findings[1].starts_with("crates/engine/Cargo.toml:4: engine depends on bft"));
    assert_eq!(xtask::check_manifest("node", "bft.workspace = true\n"), Vec::<String>::new());
    assert_eq!(xtask::check_manifest("bft", manifest), Vec::<String>::new());
    let real = xtask::manifests(&xtask::root());
    assert!(
        real.iter().any(|(name, m)| name == "bft" && m.contains("commonware-consensus")),
        "the check reads the tree"
    );
    assert!(real.iter().any(|(name, _)| name == "engine"));
}
