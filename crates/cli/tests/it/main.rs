//! End-to-end tests of the `stakework` binary over real HTTP on loopback: every node here is a real
//! process started from the built binary, on a temporary data directory and a port the OS picks.

mod agents;
mod bad_input;
mod bench;
mod browser;
mod crash;
mod e2e;
mod exit_codes;
mod faults;
mod indexer;
mod jobs;
mod market;
mod metrics;
mod reconfigure;
mod routers;
mod sim;
mod support;
mod upgrade;
mod validators;
mod webdriver;
