//! `Ctx`: everything a module's handler may touch besides its own state — the ledger, the height, the
//! parameters, the deadline queue, the block's write set and the event sink. A handler has the shape
//! `fn(ctx: &mut Ctx, state: &mut ModuleState, …) -> Result<_, Rejection>`; it reaches another module
//! only through that module's small named functions, passed in by the dispatcher.

use super::*;

/// The shared part of the state a handler works with (see the module comment).
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub ledger: &'a mut Ledger,
    pub params: &'a Params,
    pub height: Height,
    pub treasury: AccountId,
    /// The previous block's hash: the randomness of this block's draws.
    pub last_block_hash: Hash,
    deadlines: &'a mut deadlines::Deadlines,
    dirty: &'a mut Dirty,
    events: &'a mut Vec<EventRecord>,
    /// The transaction being applied (its index in the block), or `None` in the end-of-block step.
    pub tx: Option<u32>,
}

impl Ctx<'_> {
    /// Have the end-of-block step at `at` process `deadline`.
    pub(crate) fn schedule(&mut self, at: Height, deadline: impl Into<Deadline>) {
        self.deadlines.insert((at, deadline.into()));
    }
    /// Forget a scheduled deadline (its object closed before it came).
    pub(crate) fn unschedule(&mut self, at: Height, deadline: impl Into<Deadline>) {
        self.deadlines.remove(&(at, deadline.into()));
    }
    /// Record that `key`'s value changed in this block (it enters the state root).
    pub(crate) fn touch(&mut self, key: impl Into<EngineKey>) {
        self.dirty.insert(key.into());
    }
    /// What a draw of a miner reads now; with `cooldown`, miners selected for a task recently are skipped.
    pub(crate) fn draw_view<'b>(
        &'b self,
        market: &'b crate::market::MarketState,
        cooldown: Option<&'b types::overlay::OverlayMap<AccountId, Height>>,
    ) -> crate::draw::DrawView<'b> {
        crate::draw::DrawView {
            market,
            ledger: self.ledger,
            params: self.params,
            height: self.height,
            last_block_hash: self.last_block_hash,
            cooldown,
        }
    }
    /// Emit an event of the current transaction (or of the end-of-block step).
    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push(EventRecord { tx: self.tx, event });
    }
}

/// Each module's own state, borrowed apart from the [`Ctx`] so that a handler gets its module's state and
/// only the other modules' states the dispatcher hands it.
#[derive(Debug)]
pub(crate) struct States<'a> {
    pub m: &'a mut crate::market::MarketState,
    pub g: &'a mut crate::governance::GovernanceState,
    pub p: &'a mut crate::pouw::PouwState,
    pub j: &'a mut crate::jobs::JobsState,
    pub e: &'a mut crate::epoch::EpochState,
    pub r: &'a mut crate::routers::RouterState,
    /// The miners' selection index (derived from the market and the ledger; see `draw`).
    pub draw: &'a mut crate::draw::DrawIndex,
}

impl<'a> States<'a> {
    /// Proof of Useful Work's handlers over `ctx`, with the market and epoch states they report to.
    pub(crate) fn pouw<'b, 'c>(self, ctx: &'b mut Ctx<'c>) -> crate::pouw::Pouw<'b, 'c>
    where
        'a: 'b,
    {
        crate::pouw::Pouw { ctx, p: self.p, m: self.m, draw: self.draw, e: self.e }
    }
}

impl Engine {
    /// Split the state into the shared context and the modules' states, for one transaction (`tx`) or the
    /// end-of-block step (`None`).
    pub(crate) fn split<'a>(&'a mut self, events: &'a mut Vec<EventRecord>, tx: Option<u32>) -> (Ctx<'a>, States<'a>) {
        let ctx = Ctx {
            ledger: &mut self.ledger,
            params: &self.params,
            height: self.height,
            treasury: self.treasury,
            last_block_hash: self.last_block_hash,
            deadlines: &mut self.deadlines,
            dirty: &mut self.dirty,
            events,
            tx,
        };
        let states = States {
            m: &mut self.m,
            g: &mut self.g,
            p: &mut self.p,
            j: &mut self.j,
            e: &mut self.e,
            r: &mut self.r,
            draw: &mut self.draw,
        };
        (ctx, states)
    }
}
