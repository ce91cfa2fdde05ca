//! Attack tests (issues 18 and 19, DESIGN §12): each test plays an attacker through real transactions and
//! asserts that the attacker gains at most zero and that every honest party gets its due. Each is named
//! after its attack, and docs/PROTOCOL.md names the rule that closes it.

mod background;
mod governance;
mod jobs;
mod points;
mod reputation;
mod routers;
mod tasks;
