//! Forks: an independent copy of the state that executes blocks and is then committed or dropped.
//!
//! Every map of the state is an [`types::overlay::OverlayMap`]: a fork shares the committed maps and writes
//! into its own deltas, so forking costs O(changes not yet folded), which is nothing after a block, and
//! executing a block on the fork costs what the block changes. The committed state is never written while
//! a fork runs: a validator verifies a proposed block on a fork and keeps it only if it votes for it.

use super::*;

/// Why a fork cannot be committed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForkError {
    #[error("not a fork of this state (it was forked from height {forked_at} but the state is at {head})")]
    NotDescended { forked_at: Height, head: Height },
}

/// Per-state-struct fold and deep copy of its overlay maps (invoked by each module on its own state).
macro_rules! overlay_maps {
    ($state:ty { $($map:ident $(. $inner:ident)?),* }) => {
        impl $state {
            /// Fold each map's changes into its own base (see [`types::overlay::OverlayMap::flatten`]).
            pub(crate) fn flatten(&mut self) {
                $( self.$map$(.$inner)?.flatten(); )*
            }
            /// Entries a clone would copy now.
            pub(crate) fn unshared_len(&self) -> usize {
                0 $( + self.$map$(.$inner)?.delta_len() )*
            }
            /// A copy that shares no storage: O(entries).
            pub(crate) fn deep_clone(&self) -> Self {
                let mut copy = self.clone();
                $( copy.$map$(.$inner)? = self.$map$(.$inner)?.deep_clone(); )*
                copy
            }
        }
    };
}

pub(crate) use overlay_maps;

impl Engine {
    /// An independent state at the same head: executing blocks on it never changes `self`, and it costs
    /// O(changes not yet folded), not O(state). Keep it with [`Engine::commit`] or drop it.
    pub fn fork(&self) -> Engine {
        let mut fork = self.clone();
        fork.forked_at = Some((self.height, self.last_block_hash));
        fork
    }

    /// Make `fork` (from [`Engine::fork`] of this state at its current head, then any number of blocks) the
    /// state. Refused, changing nothing, if `fork` was not forked from this state's head.
    pub fn commit(&mut self, fork: Engine) -> Result<(), ForkError> {
        let head = (self.height, self.last_block_hash);
        match fork.forked_at {
            Some(at) if at == head => {}
            other => {
                let forked_at = other.map_or(Height::GENESIS, |(h, _)| h);
                return Err(ForkError::NotDescended { forked_at, head: self.height });
            }
        }
        // Drop the old state before folding, so that the fork owns its maps' bases alone.
        drop(std::mem::replace(self, fork));
        self.forked_at = None;
        self.flatten();
        Ok(())
    }

    /// Fold every map's changes into its base where this state is the base's only owner (O(changes)).
    pub(crate) fn flatten(&mut self) {
        self.ledger.flatten();
        self.deadlines.flatten();
        self.m.flatten();
        self.g.flatten();
        self.p.flatten();
        self.j.flatten();
        self.e.flatten();
        self.r.flatten();
    }

    /// Map entries a fork made now would copy (0 after a block on a state that no fork shares).
    pub fn unshared_len(&self) -> usize {
        self.ledger.unshared_len()
            + self.m.unshared_len()
            + self.g.unshared_len()
            + self.p.unshared_len()
            + self.j.unshared_len()
            + self.e.unshared_len()
            + self.r.unshared_len()
    }

    /// A copy that shares no storage with this state: O(state). The baseline forks are measured against.
    pub fn deep_clone(&self) -> Engine {
        let mut copy = self.clone();
        copy.ledger = self.ledger.deep_clone();
        copy.deadlines = self.deadlines.deep_clone();
        copy.m = self.m.deep_clone();
        copy.g = self.g.deep_clone();
        copy.p = self.p.deep_clone();
        copy.j = self.j.deep_clone();
        copy.e = self.e.deep_clone();
        copy.r = self.r.deep_clone();
        copy
    }
}
