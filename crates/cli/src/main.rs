//! The `stakework` binary. Thin: it parses flags, calls the library crates and prints results.

/// `println!` for command output: a closed pipe (`stakework demo | head`) ends the program quietly
/// instead of panicking, and any other write error is reported.
macro_rules! outln {
    ($($t:tt)*) => { $crate::write_stdout(format_args!($($t)*)) };
}

mod bench;
mod demo;
mod genesis_cmd;
mod keys;

use clap::{Parser, Subcommand};

/// stakework: the coordination and settlement layer of a decentralized compute network.
///
/// One deterministic ledger (block height is time) settles the network: accounts, transfers, stake,
/// holds (escrow), fees and epochs. Start with `stakework demo`.
#[derive(Debug, Parser)]
#[command(name = "stakework", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a small network through the engine and print what happened: blocks, receipts, events,
    /// balances, the state root, the conservation check and a replay check.
    Demo(demo::DemoArgs),
    /// Measure performance and print figures with ratios against a baseline measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Check or print genesis files (parameters and initial balances, one TOML document).
    #[command(subcommand)]
    Genesis(genesis_cmd::GenesisCommand),
}

pub(crate) fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Bench(cmd) => bench::run(&cmd),
        Command::Genesis(cmd) => genesis_cmd::run(&cmd),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
