//! placeholder until e2e tests land
