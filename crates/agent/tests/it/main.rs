//! Agent integration tests.

mod backend;
mod oracle;
mod relay;
