//! Engine integration tests: readable scenarios, a property test against a naive model, genesis checks.

mod attacks;
mod equivocation;
mod explorer;
mod fork;
mod genesis;
mod golden;
mod harness;
mod jobs;
mod jobs_props;
mod market;
mod market_props;
mod model;
mod nominators;
mod nominators_props;
mod points;
mod pouw;
mod routers;
mod scenarios;
mod upgrade;
mod validators;
