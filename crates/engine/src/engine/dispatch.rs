//! Transaction dispatch: the signer's nonce and fee, then the call, routed to the module that owns it.

use super::*;
use crate::jobs;
use crate::market;

impl Engine {
    /// One transaction: read-only checks, then the call (all-or-nothing), then fee and nonce.
    pub(crate) fn apply_tx(
        &mut self,
        tx: &SignedTx,
        index: u32,
        events: &mut Vec<EventRecord>,
    ) -> Result<(), Rejection> {
        let b = &tx.body;
        if b.fee < self.params.min_fee {
            return Err(Rejection::FeeTooLow { min: self.params.min_fee, got: b.fee });
        }
        let expected = self.ledger.nonce(&b.signer);
        if b.nonce != expected {
            return Err(Rejection::BadNonce { expected, got: b.nonce });
        }
        let needed = b.fee.checked_add(b.call.free_needed()).ok_or(LedgerError::AmountOverflow)?;
        let needed =
            needed.checked_add(crate::jobs::free_needed(&self.params, &b.call)).ok_or(LedgerError::AmountOverflow)?;
        let available = self.ledger.free(&b.signer);
        if available < needed {
            return Err(LedgerError::InsufficientFunds { account: b.signer, needed, available }.into());
        }
        self.apply_call(b.signer, &b.call, index, events)?;
        // After this point the command must succeed: the call moved at most `needed - fee` out of free.
        if !b.fee.is_zero() {
            // Rules that differ by protocol version are matched here, explicitly (ARCHITECTURE.md).
            match self.params.protocol_version {
                1 => self.ledger.transfer(b.signer, self.treasury, b.fee),
                _ => self.ledger.burn(b.signer, b.fee), // version 2: fees are burned
            }
            .expect("free >= fee was checked before the call");
        }
        self.ledger.bump_nonce(b.signer);
        Ok(())
    }

    pub(crate) fn apply_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        index: u32,
        events: &mut Vec<EventRecord>,
    ) -> Result<(), Rejection> {
        let tx = Some(index);
        let event = match call {
            Call::Transfer { .. }
            | Call::Bond { .. }
            | Call::Unbond { .. }
            | Call::HoldCreate { .. }
            | Call::HoldPost { .. }
            | Call::HoldVoid { .. } => self.apply_ledger_call(signer, call)?,
            Call::RegisterNode { .. }
            | Call::DeregisterNode
            | Call::ReportStatus { .. }
            | Call::SubmitRequest { .. }
            | Call::CompleteRequest { .. }
            | Call::RateRequest { .. } => self.apply_market_call(signer, call, events, index)?,
            Call::Propose { action } => {
                let (mut ctx, s) = self.split(events, tx);
                crate::governance::propose(&mut ctx, s.g, s.m, signer, action)?
            }
            Call::Vote { proposal, approve } => {
                let (mut ctx, s) = self.split(events, tx);
                crate::governance::vote(&mut ctx, s.g, signer, *proposal, *approve)?
            }
            Call::SubmitTask { .. }
            | Call::PublishTaskSpec { .. }
            | Call::PrepareTask { .. }
            | Call::PrecommitOutput { .. }
            | Call::RevealOutput { .. }
            | Call::AdvanceTask { .. }
            | Call::AttestPoi { .. } => self.apply_task_call(signer, call, events, index)?,
            // Job calls emit their own events, in order (a call may also dispatch or settle the job).
            Call::OrderJob { .. }
            | Call::SubmitJobQuery { .. }
            | Call::SelectMpcs { .. }
            | Call::AcceptJob { .. }
            | Call::PostJobStatus { .. }
            | Call::ReportJobFailure { .. }
            | Call::CancelJob { .. }
            | Call::ReplaceMpc { .. }
            | Call::PostJobResult { .. }
            | Call::ReportNonCompliance { .. }
            | Call::AppealJobReport { .. } => return self.apply_job_call(signer, call, events, index),
            Call::AttachRouter { .. }
            | Call::ReportRouterEpoch { .. }
            | Call::ReportNodeTraffic { .. }
            | Call::AcceptNode { .. }
            | Call::DetachRouter { .. } => self.apply_router_call(signer, call, events, tx)?,
            Call::PublishList { name, nodes } => {
                let (mut ctx, s) = self.split(events, tx);
                crate::epoch::publish_list(&mut ctx, s.e, signer, name, nodes)?
            }
            Call::Nominate { .. } | Call::Unnominate { .. } | Call::SetCommission { .. } => {
                self.apply_nomination_call(signer, call, events, tx)?
            }
            // It emits its own events, the slash's then its split.
            Call::ReportEquivocation { evidence } => {
                let (mut ctx, s) = self.split(events, tx);
                return crate::equivocation::report(&mut ctx, s.m, signer, evidence);
            }
        };
        self.book_router_evidence(signer, call, events, tx);
        events.push(EventRecord { tx, event });
        Ok(())
    }

    /// A router call: attachment, acceptance, detachment and the epoch's traffic reports.
    fn apply_router_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        events: &mut Vec<EventRecord>,
        tx: Option<u32>,
    ) -> Result<Event, Rejection> {
        let (mut ctx, s) = self.split(events, tx);
        let ctx = &mut ctx;
        match call {
            Call::AttachRouter { router } => crate::routers::attach(ctx, s.r, s.m, signer, *router),
            Call::ReportRouterEpoch { epoch, validator_latency_ms, nodes } => {
                crate::routers::report_epoch(ctx, s.r, s.m, signer, (*epoch, *validator_latency_ms), nodes)
            }
            Call::ReportNodeTraffic { epoch, router, bytes } => {
                crate::routers::report_traffic(ctx, s.r, signer, (*epoch, *router), *bytes)
            }
            Call::AcceptNode { node } => crate::routers::accept_node(ctx, s.r, s.m, signer, *node),
            Call::DetachRouter { node } => crate::routers::detach(ctx, s.r, signer, *node),
            other => unreachable!("apply_call routes only router calls here, not {other:?}"),
        }
    }

    /// Work the engine saw a node do, kept as the evidence that caps its router's validated bytes.
    fn book_router_evidence(&mut self, signer: AccountId, call: &Call, events: &mut Vec<EventRecord>, tx: Option<u32>) {
        let (requests, bytes) = match call {
            // A status report is the node's heartbeat; attaching is a transaction it signed just now too.
            Call::ReportStatus { .. } | Call::AttachRouter { .. } => {
                let (mut ctx, s) = self.split(events, tx);
                return crate::routers::record_heartbeat(&mut ctx, s.r, signer);
            }
            Call::CompleteRequest { .. } => (1, 0),
            Call::RevealOutput { output, .. } => (0, output.len() as u64),
            Call::PrepareTask { inputs, .. } => (0, inputs.len() as u64),
            _ => return,
        };
        let (mut ctx, s) = self.split(events, tx);
        crate::routers::record_work(&mut ctx, s.r, signer, requests, bytes);
    }

    /// The ledger's own calls: transfers, bonds, and holds a payer manages itself.
    pub(crate) fn apply_ledger_call(&mut self, signer: AccountId, call: &Call) -> Result<Event, Rejection> {
        Ok(match call {
            Call::Transfer { to, amount } => {
                if amount.is_zero() {
                    return Err(LedgerError::ZeroAmount.into());
                }
                self.ledger.transfer(signer, *to, *amount)?;
                Event::TransferPosted { from: signer, to: *to, amount: *amount }
            }
            Call::Bond { amount } => {
                self.ledger.bond(signer, *amount)?;
                self.reweigh(signer);
                Event::Bonded { account: signer, amount: *amount }
            }
            Call::Unbond { amount } => return self.unbond_call(signer, *amount),
            Call::HoldCreate { amount, expires_at } => {
                let owner = HoldOwner::Payment(signer);
                let hold = self.ledger.hold_create(
                    signer,
                    *amount,
                    HoldTag::new(owner, HoldReason::Escrow),
                    self.height,
                    *expires_at,
                )?;
                if let Some(at) = expires_at {
                    self.deadlines.insert((*at, Deadline::HoldExpiry(hold)));
                }
                Event::HoldCreated { hold, payer: signer, amount: *amount, expires_at: *expires_at }
            }
            Call::HoldPost { hold, payouts } => {
                if payouts.len() > self.params.max_payouts as usize {
                    return Err(Rejection::TooManyPayouts { max: self.params.max_payouts, got: payouts.len() });
                }
                let expires_at = self.own_hold(signer, *hold)?;
                self.ledger.hold_post(*hold, payouts)?;
                let remaining = self.ledger.hold(*hold).map_or(Amount::ZERO, |h| h.amount);
                if remaining.is_zero() {
                    self.forget_expiry(*hold, expires_at);
                }
                Event::HoldPosted { hold: *hold, payouts: payouts.clone(), remaining }
            }
            Call::HoldVoid { hold } => {
                let expires_at = self.own_hold(signer, *hold)?;
                let amount = self.ledger.hold_void(*hold)?;
                self.forget_expiry(*hold, expires_at);
                Event::HoldVoided { hold: *hold, payer: signer, amount }
            }
            other => unreachable!("apply_call routes only ledger calls here, not {other:?}"),
        })
    }

    /// The nominators' calls (issue 21; see `nominate`).
    fn apply_nomination_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        events: &mut Vec<EventRecord>,
        tx: Option<u32>,
    ) -> Result<Event, Rejection> {
        let (mut ctx, s) = self.split(events, tx);
        let event = match call {
            Call::Nominate { node, amount } => crate::nominate::nominate(&mut ctx, s.m, signer, *node, *amount)?,
            Call::Unnominate { node, amount } => {
                // Stake that voted stays bonded until the tally, nominated or not (issue 19).
                let remaining = Amount(ctx.ledger.bonded(&signer).0.saturating_sub(amount.0));
                crate::governance::check_unlocked(s.g, &signer, remaining)?;
                let matures_at = crate::routers::unbond_matures_at(ctx.params, s.m, node, ctx.height);
                crate::nominate::unnominate(&mut ctx, s.m, signer, (*node, *amount), matures_at)?
            }
            Call::SetCommission { commission } => crate::nominate::set_commission(&mut ctx, s.m, signer, *commission)?,
            other => unreachable!("apply_call routes only nomination calls here, not {other:?}"),
        };
        if let Call::Nominate { node, .. } | Call::Unnominate { node, .. } = call {
            self.reweigh(*node);
        }
        Ok(event)
    }

    /// Unbond `amount`: a registered node keeps at least its roles' minimum bonded, and the stake an
    /// account nominated stays bonded (it leaves by `Unnominate`).
    pub(crate) fn unbond_call(&mut self, signer: AccountId, amount: Amount) -> Result<Event, Rejection> {
        let nominated = self.m.noms.out(&signer);
        if !nominated.is_zero() && self.ledger.bonded(&signer).0.saturating_sub(nominated.0) < amount.0 {
            return Err(Rejection::StakeNominated { nominated });
        }
        if let Some(node) = self.m.node(&signer) {
            let needed = market::stake_required(&self.params, &node.roles);
            let remaining = Amount(self.ledger.bonded(&signer).0.saturating_sub(nominated.0).saturating_sub(amount.0));
            if remaining < needed {
                return Err(Rejection::StakeBelowMinimum { needed, remaining });
            }
        }
        let remaining = Amount(self.ledger.bonded(&signer).0.saturating_sub(amount.0));
        crate::governance::check_unlocked(&self.g, &signer, remaining)?;
        let matures_at = crate::routers::unbond_matures_at(&self.params, &self.m, &signer, self.height)
            .ok_or(LedgerError::AmountOverflow)?;
        self.ledger.unbond(signer, amount, self.height, matures_at, self.params.max_unbonding_chunks as usize)?;
        self.deadlines.insert((matures_at, Deadline::UnbondMaturity(signer)));
        self.reweigh(signer);
        Ok(Event::UnbondStarted { account: signer, amount, matures_at })
    }

    /// The training-job calls; each emits its own events, in order.
    pub(crate) fn apply_job_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        events: &mut Vec<EventRecord>,
        index: u32,
    ) -> Result<(), Rejection> {
        let (mut ctx, s) = self.split(events, Some(index));
        let ctx = &mut ctx;
        match call {
            Call::OrderJob { order } => jobs::order_job(ctx, s.j, s.m, signer, order),
            Call::SubmitJobQuery { job, amount } => jobs::submit_job_query(ctx, s.j, signer, *job, *amount),
            Call::SelectMpcs { job, mpcs } => jobs::select_mpcs(ctx, s.j, s.m, signer, *job, mpcs),
            Call::AcceptJob { job, deposit } => jobs::accept_job(ctx, s.j, signer, *job, *deposit),
            Call::PostJobStatus { job, status } => jobs::post_job_status(ctx, s.j, signer, *job, *status),
            Call::ReportJobFailure { job, offenders, fault } => {
                jobs::report_job_failure(ctx, s.j, signer, *job, offenders, *fault)
            }
            Call::CancelJob { job } => jobs::cancel_job(ctx, s.j, signer, *job),
            Call::ReplaceMpc { job, mpc, replacement } => {
                jobs::replace_mpc(ctx, s.j, s.m, signer, *job, (*mpc, *replacement))
            }
            Call::PostJobResult { job, result } => jobs::post_job_result(ctx, s.j, signer, *job, *result),
            Call::ReportNonCompliance { job, member, result } => {
                jobs::report_non_compliance(ctx, s.j, signer, *job, (*member, *result))
            }
            Call::AppealJobReport { job } => {
                jobs::check_appeal(ctx, s.j, signer, *job)?;
                // After this point the command must succeed.
                let proposal = crate::governance::open_appeal(ctx, s.g, signer, *job);
                jobs::record_appeal(ctx, s.j, *job, proposal);
                Ok(())
            }
            other => unreachable!("apply_call routes only job calls here, not {other:?}"),
        }
    }

    /// The hold's expiry, if `signer` created it with `HoldCreate`; otherwise the rejection. Holds the
    /// engine created for a request, task or job belong to that object: their payer may not post or void
    /// them directly, or it could take back a price the engine still has to pay out.
    pub(crate) fn own_hold(&self, signer: AccountId, id: HoldId) -> Result<Option<Height>, Rejection> {
        let hold = self.ledger.hold(id).ok_or(LedgerError::UnknownHold(id))?;
        if hold.tag.owner != HoldOwner::Payment(signer) {
            return Err(Rejection::NotAuthorized);
        }
        Ok(hold.expires_at)
    }

    pub(crate) fn forget_expiry(&mut self, id: HoldId, expires_at: Option<Height>) {
        if let Some(at) = expires_at {
            self.deadlines.remove(&(at, Deadline::HoldExpiry(id)));
        }
    }

    /// The Proof-of-Useful-Work calls.
    fn apply_task_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        events: &mut Vec<EventRecord>,
        index: u32,
    ) -> Result<Event, Rejection> {
        let (mut ctx, s) = self.split(events, Some(index));
        let mut pouw = s.pouw(&mut ctx);
        match call {
            Call::SubmitTask { service, redundancy, max_price, avoid } => {
                crate::epoch::check_avoid(avoid)?;
                let avoided = pouw.e.avoided(avoid);
                pouw.submit_task(signer, (*service, *redundancy, *max_price), avoided)
            }
            Call::PublishTaskSpec { task, spec } => pouw.publish_spec(signer, *task, spec),
            Call::PrepareTask { task, inputs } => pouw.prepare_task(signer, *task, inputs),
            Call::PrecommitOutput { task, commitment } => pouw.precommit_output(signer, *task, *commitment),
            Call::RevealOutput { task, output, salt } => pouw.reveal_output(signer, *task, output, *salt),
            Call::AdvanceTask { task } => pouw.oracle_advance(signer, *task),
            Call::AttestPoi { task, scores } => pouw.attest_poi(signer, *task, scores),
            other => unreachable!("apply_call routes only task calls here, not {other:?}"),
        }
    }

    /// The market's calls: the registry and requests.
    fn apply_market_call(
        &mut self,
        signer: AccountId,
        call: &Call,
        events: &mut Vec<EventRecord>,
        index: u32,
    ) -> Result<Event, Rejection> {
        if let Call::SubmitRequest { avoid, .. } = call {
            crate::epoch::check_avoid(avoid)?;
        }
        let (mut ctx, s) = self.split(events, Some(index));
        let ctx = &mut ctx;
        match call {
            Call::RegisterNode { roles, services, capacity, endpoint } => {
                let what = (roles.as_slice(), services.as_slice());
                market::register_node(ctx, s.m, s.draw, signer, what, (*capacity, endpoint))
            }
            Call::DeregisterNode => {
                // Deregistering unbonds all of the node's stake.
                crate::governance::check_unlocked(s.g, &signer, Amount::ZERO)?;
                let matures_at = crate::routers::unbond_matures_at(ctx.params, s.m, &signer, ctx.height);
                let event = market::deregister_node(ctx, s.m, s.draw, signer, matures_at)?;
                crate::routers::on_deregistered(ctx, s.r, signer);
                Ok(event)
            }
            Call::ReportStatus { status } => market::report_status(ctx, s.m, s.draw, signer, *status),
            Call::SubmitRequest { service, max_price, avoid } => {
                let mut exclude = s.e.avoided(avoid);
                exclude.insert(signer);
                market::submit_request(ctx, s.m, s.draw, signer, (*service, *max_price), exclude)
            }
            Call::CompleteRequest { request, result_hash } => {
                market::complete_request(ctx, s.m, signer, *request, *result_hash)
            }
            Call::RateRequest { request, rating } => {
                market::rate_request(ctx, s.m, s.draw, signer, (*request, *rating))
            }
            other => unreachable!("apply_call routes only market calls here, not {other:?}"),
        }
    }
}
