//! `stakework sim …` without building the whole CLI: the same flags and the same run and folder
//! (`sim::invocation`), minus the CLI's allocator tuning. `cargo run -p sim --example sim -- run npos --seed 1`.

use clap::Parser;
use sim::invocation::{Request, SimCommand};

#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    cmd: SimCommand,
}

fn main() {
    let SimCommand::Run { scenario, seed, set, sweep, out } = Args::parse().cmd else {
        for s in sim::SCENARIOS {
            println!("{:<10} {}", s.name(), s.description());
        }
        return;
    };
    let done = Request::parse(&scenario, seed, &set, sweep.as_deref())
        .and_then(|r| r.execute(out, &mut sim::progress::Bar::default()));
    match done {
        Ok(d) => println!("{}\nwritten to {}", d.summary, d.dir.display()),
        Err(e) => {
            eprintln!("scenario {scenario}: {e}");
            std::process::exit(1);
        }
    }
}
