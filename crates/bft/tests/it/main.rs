//! Integration tests of the `bft` crate: validators on commonware's deterministic runtime and simulated
//! network, running the real engine. Every scenario prints its seed; the same seed replays it exactly.

mod evidence;
mod finality;
mod harness;
mod reconfigure;
mod scenarios;
