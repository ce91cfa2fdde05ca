//! The end-of-block step: due deadlines in (height, deadline) order, and the epoch boundary.

use super::*;
use crate::governance::ProposalAction;
use types::overlay::OverlayMap;

/// The deadline queue: a set of `(height, deadline)` in processing order, forkable like the rest of the
/// state (an overlay: a fork copies only the entries it changes).
#[derive(Debug, Clone, Default)]
pub(crate) struct Deadlines(OverlayMap<(Height, Deadline), ()>);

impl Deadlines {
    pub(crate) fn insert(&mut self, entry: (Height, Deadline)) -> bool {
        self.0.insert(entry, ()).is_none()
    }
    pub(crate) fn remove(&mut self, entry: &(Height, Deadline)) -> bool {
        self.0.remove(entry).is_some()
    }
    pub(crate) fn first(&self) -> Option<&(Height, Deadline)> {
        self.0.first_key_value().map(|(k, _)| k)
    }
    pub(crate) fn pop_first(&mut self) -> Option<(Height, Deadline)> {
        self.0.pop_first().map(|(k, ())| k)
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Height, Deadline)> {
        self.0.keys()
    }
    pub(crate) fn flatten(&mut self) {
        self.0.flatten();
    }
    pub(crate) fn deep_clone(&self) -> Deadlines {
        Deadlines(self.0.deep_clone())
    }
}

impl FromIterator<(Height, Deadline)> for Deadlines {
    fn from_iter<I: IntoIterator<Item = (Height, Deadline)>>(iter: I) -> Self {
        Deadlines(iter.into_iter().map(|k| (k, ())).collect())
    }
}

impl Engine {
    /// The start of block `height`, before its transactions: a protocol upgrade scheduled for it switches
    /// `params.protocol_version`, so the whole block runs the new version's rules. (`check_shape` refused
    /// the block before this if the version is above what this binary implements.)
    pub(crate) fn begin_block(&mut self, height: Height, events: &mut Vec<EventRecord>) {
        let (mut ctx, s) = self.split(events, None);
        if let Some(version) = crate::governance::take_due_upgrade(&mut ctx, s.g, height) {
            self.params.protocol_version = version;
            self.dirty.insert(EngineKey::Params);
        }
    }

    /// The end-of-block step: due deadlines in (height, id) order, then the epoch hook.
    pub(crate) fn end_block(&mut self, height: Height, events: &mut Vec<EventRecord>) {
        while let Some(&(at, deadline)) = self.deadlines.first() {
            if at > height {
                break;
            }
            self.deadlines.pop_first();
            match deadline {
                Deadline::UnbondMaturity(account) => {
                    let amount = self.ledger.mature_unbonding(account, height);
                    if !amount.is_zero() {
                        events.push(EventRecord { tx: None, event: Event::UnbondMatured { account, amount } });
                    }
                }
                Deadline::HoldExpiry(hold) => {
                    let payer =
                        self.ledger.hold(hold).expect("an expiry deadline is removed when its hold closes").payer;
                    let amount = self.ledger.hold_expire(hold, height).expect("the hold's expiry height has come");
                    events.push(EventRecord { tx: None, event: Event::HoldExpired { hold, payer, amount } });
                }
                Deadline::RequestExpiry(id) => {
                    let (mut ctx, s) = self.split(events, None);
                    crate::market::expire_request(&mut ctx, s.m, s.draw, id);
                }
                Deadline::RequestClose(id) => {
                    let (mut ctx, s) = self.split(events, None);
                    crate::market::close_request(&mut ctx, s.m, id);
                }
                Deadline::ProposalEnd(id) => self.end_vote(id, events),
                Deadline::TaskAuto(id, stage) => {
                    let (mut ctx, s) = self.split(events, None);
                    s.pouw(&mut ctx).auto_advance(id, stage);
                }
                Deadline::TaskClose(id) => {
                    let (mut ctx, s) = self.split(events, None);
                    s.pouw(&mut ctx).close_task(id);
                }
                Deadline::JobLapse(id) => {
                    let (mut ctx, s) = self.split(events, None);
                    crate::jobs::lapse_job(&mut ctx, s.j, id);
                }
                Deadline::JobClose(id) => {
                    let (mut ctx, s) = self.split(events, None);
                    crate::jobs::close_job(&mut ctx, s.j, id);
                }
                Deadline::JobExpiry(id) => {
                    let (mut ctx, s) = self.split(events, None);
                    crate::jobs::expire_job(&mut ctx, s.j, id);
                }
                Deadline::JobDisputeEnd(id) => {
                    let (mut ctx, s) = self.split(events, None);
                    crate::jobs::end_dispute(&mut ctx, s.j, id);
                }
            }
        }
        let (mut ctx, s) = self.split(events, None);
        crate::epoch::book_block(&mut ctx, s.e);
        let (mut ctx, s) = self.split(events, None);
        s.pouw(&mut ctx).maybe_create_background_task();
        if height.0 % self.params.epoch_length == 0 {
            self.on_epoch_end(height.0 / self.params.epoch_length, height, events);
        }
    }

    /// A proposal's vote ends: the tally. An appeal is decided, and an upgrade scheduled, now; other passed
    /// proposals wait for the epoch boundary.
    fn end_vote(&mut self, id: u64, events: &mut Vec<EventRecord>) {
        let (mut ctx, s) = self.split(events, None);
        let outcome = match crate::governance::tally(&mut ctx, s.g, id) {
            Some(action @ ProposalAction::OverturnJobReport { job }) => {
                Some((crate::jobs::overturn_report(&mut ctx, s.j, job, id), action))
            }
            Some(action @ ProposalAction::ScheduleUpgrade { version, height }) => {
                Some((crate::governance::schedule_upgrade(&mut ctx, s.g, (version, height)), action))
            }
            _ => None,
        };
        if let Some((outcome, action)) = outcome {
            crate::governance::record_applied(&mut ctx, s.g, id, action, outcome);
        }
    }

    /// The epoch hook: miner rewards with the weights in force during the epoch, then the changes
    /// governance passed, which take effect from the next epoch. Emission and points (later) settle here.
    pub(crate) fn on_epoch_end(&mut self, epoch: u64, height: Height, events: &mut Vec<EventRecord>) {
        let (mut ctx, s) = self.split(events, None);
        crate::epoch::mint_emission(&mut ctx, s.e, epoch);
        crate::market::settle_miner_rewards(&mut ctx, s.m, epoch);
        let (mut ctx, s) = self.split(events, None);
        crate::epoch::settle_points(&mut ctx, s.e, &s.m.noms, epoch);
        let (mut ctx, s) = self.split(events, None);
        for router in crate::routers::settle(&mut ctx, s.r, s.m, epoch) {
            self.reweigh(router);
        }
        let (mut ctx, s) = self.split(events, None);
        crate::epoch::sweep_pools(&mut ctx);
        crate::epoch::close_epoch_points(&mut ctx, s.e, epoch);
        self.apply_passed_proposals(events);
        // The next epoch's treasury cap, from the balance it begins with and the parameters it runs under.
        let (mut ctx, s) = self.split(events, None);
        crate::epoch::set_treasury_floor(&mut ctx, s.e);
        events.push(EventRecord { tx: None, event: Event::EpochEnded { epoch, height } });
    }

    /// At the epoch boundary: apply passed proposals in the order they passed. Governance decides what
    /// passed; the market and the parameters change through their own functions.
    pub(crate) fn apply_passed_proposals(&mut self, events: &mut Vec<EventRecord>) {
        for (id, action) in crate::governance::take_passed(&mut self.g) {
            let outcome = crate::governance::check_action(&self.params, &self.m, &action)
                .and_then(|()| self.apply_action(&action));
            let (mut ctx, s) = self.split(events, None);
            crate::governance::record_applied(&mut ctx, s.g, id, action, outcome);
        }
    }

    fn apply_action(&mut self, action: &ProposalAction) -> Result<(), Rejection> {
        match action {
            ProposalAction::AddService { name, weight, price } => {
                let mut none = Vec::new();
                let (mut ctx, s) = self.split(&mut none, None);
                let threshold = crate::market::POI_THRESHOLD_DEFAULT;
                crate::market::add_service(&mut ctx, s.m, name, (*weight, *price), (threshold, false)).map(|_| ())
            }
            ProposalAction::SetServiceWeight { service, weight } => {
                let mut none = Vec::new();
                let (mut ctx, s) = self.split(&mut none, None);
                crate::market::set_service_weight(&mut ctx, s.m, *service, *weight)
            }
            ProposalAction::SetServicePoi { service, poi_threshold, semantic_poi } => {
                let mut none = Vec::new();
                let (mut ctx, s) = self.split(&mut none, None);
                crate::market::set_service_poi(&mut ctx, s.m, *service, (*poi_threshold, *semantic_poi))
            }
            ProposalAction::SetParam { name, value } => {
                self.params = self.params.with_set(name, value).map_err(Rejection::InvalidProposal)?;
                self.draw.clear();
                self.dirty.insert(EngineKey::Params);
                Ok(())
            }
            ProposalAction::OverturnJobReport { .. } | ProposalAction::ScheduleUpgrade { .. } => {
                unreachable!("appeals and upgrades are applied at their tally, never queued for the epoch boundary")
            }
        }
    }
}
