//! Agent integration tests.

mod backend;
