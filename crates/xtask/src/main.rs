//! `cargo run -p xtask -- tidy`: print what the tidy check finds (the same as `cargo test -p xtask`).

fn main() {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "tidy" => {
            let findings = xtask::tidy(&xtask::root());
            for f in &findings {
                println!("{f}");
            }
            println!("{} finding(s)", findings.len());
            std::process::exit(i32::from(!findings.is_empty()));
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- tidy");
            std::process::exit(2);
        }
    }
}
