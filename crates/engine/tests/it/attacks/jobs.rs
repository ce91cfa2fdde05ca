//! Attacks on federated training jobs (seed 002, DESIGN §6): fines without evidence, silence of members
//! that finished, self-chosen progress, escrow with no end.
