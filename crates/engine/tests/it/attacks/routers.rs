//! Attacks on router rewards (seed 003, DESIGN §7): attachment without consent, self-reported bandwidth
//! and connectivity, escaping a slash, the 75% boundary.
