//! Progress of a long run: the [`Progress`] trait scenarios report to, [`NoProgress`] for tests, and
//! [`Bar`], the progress bar `stakework sim run` draws on stderr.

use std::io::Write;
use std::time::{Duration, Instant};

/// Progress of a long run, reported by the scenario (the CLI draws a bar; tests pass [`NoProgress`]).
pub trait Progress {
    /// The amount of work in the run (rounds, blocks, …), with what is counted.
    fn start(&mut self, total: u64, unit: &str);
    /// `n` more units are done.
    fn advance(&mut self, n: u64);
}

/// Progress nobody watches.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _total: u64, _unit: &str) {}
    fn advance(&mut self, _n: u64) {}
}

/// A progress bar on stderr, redrawn at most twice a second, with the time spent and an estimate of the
/// time left.
#[derive(Debug)]
pub struct Bar {
    total: u64,
    done: u64,
    unit: String,
    started: Instant,
    drawn: Option<Instant>,
}

impl Default for Bar {
    fn default() -> Self {
        Bar { total: 0, done: 0, unit: String::new(), started: Instant::now(), drawn: None }
    }
}

impl Bar {
    fn draw(&mut self, last: bool) {
        if !last && self.drawn.is_some_and(|d| d.elapsed() < Duration::from_millis(500)) {
            return;
        }
        self.drawn = Some(Instant::now());
        let frac = if self.total == 0 { 1.0 } else { self.done as f64 / self.total as f64 };
        let width = 30;
        let filled = ((frac * width as f64) as usize).min(width);
        let secs = self.started.elapsed().as_secs_f64();
        let eta = if frac > 0.0 { secs / frac - secs } else { 0.0 };
        eprint!(
            "\r[{}{}] {:>3.0}% {}/{} {} · {:.1} s · eta {:.0} s   ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            self.done,
            self.total,
            self.unit,
            secs,
            eta.max(0.0)
        );
        if last {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

impl Progress for Bar {
    fn start(&mut self, total: u64, unit: &str) {
        self.total = total;
        self.done = 0;
        self.unit = unit.to_string();
        self.started = Instant::now();
        self.drawn = None;
        self.draw(false);
    }
    fn advance(&mut self, n: u64) {
        self.done += n;
        self.draw(self.done >= self.total);
    }
}
