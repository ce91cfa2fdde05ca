//! Repository automation in plain Rust. `tidy` reads the workspace's sources as text and reports what the
//! conventions forbid; `cargo test` runs it (`tests/tidy.rs`), and `cargo run -p xtask -- tidy` prints it.
//!
//! The checks rely on rustfmt's layout (CI checks it): a function ends at the first line that is its own
//! indentation followed by `}`, and a crate's unit tests start at a line `#[cfg(test)]` at column 0.

use std::path::{Path, PathBuf};

/// The pure crates: no IO, no clock, no floats in state, no unordered iteration reaching an output.
pub const PURE: &[&str] = &["types", "protocol", "api", "ledger", "engine", "sched", "embed"];

/// The only crates that may depend on commonware: consensus stays out of the pure core and of the node
/// until it is wired in on purpose, and a pure crate may not reach it through `bft` either.
pub const COMMONWARE_ALLOWED: &[&str] = &["bft"];

/// The longest a function may be, in lines.
pub const FN_LINES_MAX: usize = 70;

/// The most lines the `cli` crate's sources may hold in all: parsing, a context and printing. Logic a
/// test would want to call lives in a library crate.
pub const CLI_LINES_MAX: usize = 1_500;

/// Files of the pure crates that may use a hash map, and why its order never reaches an output.
pub const HASH_MAP_ALLOWED: &[(&str, &str)] = &[
    ("crates/ledger/src/state.rs", "iterated only for commutative sums (check_invariants) or after sorting"),
    ("crates/sched/src/scheduler.rs", "a slot index by client; never iterated"),
];

/// Files of the pure crates that may start threads: the scoped, read-only encoding of a big block and of
/// its state root's write set (the same bytes as the sequential path).
pub const THREADS_ALLOWED: &[&str] = &["crates/engine/src/engine.rs", "crates/engine/src/engine/root.rs"];

/// Files of the pure crates that may use floats: the MiniLM embedder, behind the `minilm` feature.
pub const FLOATS_ALLOWED: &[&str] = &["crates/embed/src/minilm.rs"];

/// The engine's protocol modules and the other modules each may name (`crate::module`): a module reaches
/// another only through its named functions, and only along these edges. "Routers never touch jobs" is
/// the absence of `jobs` from the routers' row. The engine core (`crate::engine`: ctx, dispatch, deadlines,
/// root, snapshot, fork) wires them together and is not listed.
pub const ENGINE_MODULE_DEPS: &[(&str, &[&str])] = &[
    ("draw", &["market"]),
    ("epoch", &["points", "nominate"]),
    ("equivocation", &["market", "nominate"]),
    ("governance", &["market"]),
    ("jobs", &["market"]),
    ("market", &["draw", "nominate"]),
    ("nominate", &["market", "routers"]),
    ("points", &[]),
    ("pouw", &["draw", "epoch", "market"]),
    ("routers", &["epoch", "market", "nominate"]),
    ("sig", &[]),
];

/// A function longer than [`FN_LINES_MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongFn {
    pub file: String,
    pub name: String,
    pub line: usize,
    pub lines: usize,
}

/// One source file: its path relative to the workspace root, and its lines up to its unit tests.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub crate_name: String,
    pub lines: Vec<String>,
    /// Index of the first line of the `#[cfg(test)]` part (or the number of lines).
    pub code_end: usize,
}

/// The workspace root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace root exists")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every `src/**/*.rs` of every crate under `crates/`, in path order.
pub fn sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    crates.sort();
    for c in crates {
        walk(&c.join("src"), &mut files);
    }
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable source file");
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let code_end = lines.iter().position(|l| l.starts_with("#[cfg(test)]")).unwrap_or(lines.len());
            let path = p.strip_prefix(root).expect("under the root").to_string_lossy().into_owned();
            let crate_name = path.split('/').nth(1).unwrap_or_default().to_string();
            Source { path, crate_name, lines, code_end }
        })
        .collect()
}

/// The name of the function a line declares, if it does (`fn`, with any visibility and qualifiers).
fn declared_fn(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let mut rest = t;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe ", "extern \"C\" "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let after = rest.strip_prefix("fn ")?;
    let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
    Some(&after[..end])
}

/// Every function (outside unit tests) longer than `max` lines.
pub fn long_functions(src: &Source, max: usize) -> Vec<LongFn> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < src.code_end {
        let line = &src.lines[i];
        if let Some(name) = declared_fn(line) {
            let indent = &line[..line.len() - line.trim_start().len()];
            // The signature may span lines; a declaration without a body ends with `;`.
            let open = (i..src.code_end).find(|&j| {
                let l = src.lines[j].trim_end();
                l.ends_with('{') || l.ends_with(';') || l.ends_with('}')
            });
            if let Some(open) = open.filter(|&j| src.lines[j].trim_end().ends_with('{')) {
                let close = format!("{indent}}}");
                let end = (open + 1..src.code_end).find(|&k| src.lines[k] == close).unwrap_or(open);
                let lines = end - i + 1;
                if lines > max {
                    found.push(LongFn { file: src.path.clone(), name: name.to_string(), line: i + 1, lines });
                }
                i = end;
            }
        }
        i += 1;
    }
    found
}

/// Lines (1-based, outside unit tests) of `src` containing any of `needles` outside a comment.
pub fn lines_with(src: &Source, needles: &[&str]) -> Vec<usize> {
    src.lines[..src.code_end]
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            needles.iter().any(|n| code.contains(n))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// Whether the file opens with a `//!` header.
pub fn has_header(src: &Source) -> bool {
    src.lines.first().is_some_and(|l| l.starts_with("//!"))
}

/// The ratchet: functions outside the pure crates allowed to stay longer than [`FN_LINES_MAX`] for now,
/// as `path name lines`; an entry may only shrink or go.
pub fn ratchet(root: &Path) -> Vec<(String, String, usize)> {
    let text = std::fs::read_to_string(root.join("crates/xtask/long-functions.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(parts.len(), 3, "long-functions.txt: `path name lines`, got {l:?}");
            (parts[0].to_string(), parts[1].to_string(), parts[2].parse().expect("a line count"))
        })
        .collect()
}

/// Every finding of every check, as sentences; empty when the tree is tidy.
pub fn tidy(root: &Path) -> Vec<String> {
    let sources = sources(root);
    let mut out = Vec::new();
    check_lengths(root, &sources, &mut out);
    if let Some(finding) = check_cli_budget(&sources) {
        out.push(finding);
    }
    for (crate_name, manifest) in manifests(root) {
        out.extend(check_manifest(&crate_name, &manifest));
    }
    for src in &sources {
        if !has_header(src) {
            out.push(format!("{}: no `//!` header saying what the module is for", src.path));
        }
        for line in lines_with(src, &[concat!(".unwrap", "()")]) {
            out.push(format!("{}:{line}: `unwrap()` outside tests (use `expect` with the reason)", src.path));
        }
        if PURE.contains(&src.crate_name.as_str()) {
            check_pure(src, &mut out);
        }
        check_engine_module(src, &mut out);
    }
    out
}

/// Every crate's name and `Cargo.toml` text, in name order.
pub fn manifests(root: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root.join("crates"))
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|dir| {
            let name = dir.file_name()?.to_str()?.to_string();
            Some((name, std::fs::read_to_string(dir.join("Cargo.toml")).ok()?))
        })
        .collect();
    out.sort();
    out
}

/// A dependency a crate's manifest may not name: a commonware crate outside [`COMMONWARE_ALLOWED`], or
/// `bft` in a pure crate.
pub fn check_manifest(crate_name: &str, manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in manifest.lines().enumerate() {
        let dep = line.trim_start().split(['=', '.', ' ']).next().unwrap_or("");
        let commonware = dep.starts_with("commonware-") && !COMMONWARE_ALLOWED.contains(&crate_name);
        let bft = dep == "bft" && PURE.contains(&crate_name);
        if commonware || bft {
            out.push(format!(
                "crates/{crate_name}/Cargo.toml:{}: {crate_name} depends on {dep}; only bft may use commonware",
                i + 1
            ));
        }
    }
    out
}

/// The `cli` crate within [`CLI_LINES_MAX`] lines (tests included).
pub fn check_cli_budget(sources: &[Source]) -> Option<String> {
    let total: usize = sources.iter().filter(|s| s.crate_name == "cli").map(|s| s.lines.len()).sum();
    (total > CLI_LINES_MAX).then(|| {
        format!("crates/cli/src: {total} lines, over the budget of {CLI_LINES_MAX}: move logic into a library crate")
    })
}

/// An engine module names only the modules its [`ENGINE_MODULE_DEPS`] row allows.
pub fn check_engine_module(src: &Source, out: &mut Vec<String>) {
    let Some(module) = src.path.strip_prefix("crates/engine/src/").and_then(|m| m.strip_suffix(".rs")) else {
        return;
    };
    let Some((_, allowed)) = ENGINE_MODULE_DEPS.iter().find(|(m, _)| *m == module) else { return };
    for (i, line) in src.lines[..src.code_end].iter().enumerate() {
        for (other, _) in ENGINE_MODULE_DEPS {
            let named = line.contains(&format!("crate::{other}::")) || line.contains(&format!("crate::{other};"));
            if named && *other != module && !allowed.contains(other) {
                out.push(format!("{}:{}: the {module} module reaches into {other}", src.path, i + 1));
            }
        }
    }
}

fn check_pure(src: &Source, out: &mut Vec<String>) {
    let path = src.path.as_str();
    for line in lines_with(src, &["std::time", "Instant::", "SystemTime"]) {
        out.push(format!("{path}:{line}: a clock in a pure crate (time is block height)"));
    }
    if !THREADS_ALLOWED.contains(&path) {
        for line in lines_with(src, &["std::thread", "thread::spawn", "thread::scope"]) {
            out.push(format!("{path}:{line}: a thread in a pure crate"));
        }
    }
    if !HASH_MAP_ALLOWED.iter().any(|(p, _)| *p == path) {
        for line in lines_with(src, &["HashMap", "HashSet"]) {
            out.push(format!(
                "{path}:{line}: a hash map in a pure crate (its order may reach an output); use BTreeMap"
            ));
        }
    }
    if !FLOATS_ALLOWED.contains(&path) {
        for line in lines_with(src, &["f32", "f64"]) {
            out.push(format!("{path}:{line}: a float in a pure crate"));
        }
    }
}

fn check_lengths(root: &Path, sources: &[Source], out: &mut Vec<String>) {
    let allowed = ratchet(root);
    let mut seen = Vec::new();
    for src in sources {
        for f in long_functions(src, FN_LINES_MAX) {
            let entry = allowed.iter().find(|(p, n, _)| *p == f.file && *n == f.name);
            match entry {
                _ if PURE.contains(&src.crate_name.as_str()) => out.push(format!(
                    "{}:{}: fn {} is {} lines; a pure crate allows {FN_LINES_MAX}",
                    f.file, f.line, f.name, f.lines
                )),
                Some((_, _, max)) if f.lines <= *max => seen.push((f.file.clone(), f.name.clone())),
                Some((_, _, max)) => out.push(format!(
                    "{}:{}: fn {} grew to {} lines; the ratchet allows {max}, and only less",
                    f.file, f.line, f.name, f.lines
                )),
                None => out.push(format!(
                    "{}:{}: fn {} is {} lines, over {FN_LINES_MAX}: split it",
                    f.file, f.line, f.name, f.lines
                )),
            }
        }
    }
    for (p, n, _) in &allowed {
        if !seen.iter().any(|(sp, sn)| sp == p && sn == n) {
            out.push(format!(
                "crates/xtask/long-functions.txt: {p} {n} is no longer over {FN_LINES_MAX} lines (or gone): remove it"
            ));
        }
    }
}
