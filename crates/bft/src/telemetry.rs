//! What a validator reports for metrics: block execution times, the proposals and votes it sees (per
//! validator), how long a proposal takes to be finalized, marshal's finalized tip and how many peers are
//! connected, and the equivocations simplex reports. The node turns the numbers into Prometheus metrics
//! (docs/METRICS.md; this crate knows nothing about Prometheus) and the equivocations into evidence
//! transactions ([`crate::evidence::Reporter`]).
//!
//! Where the numbers come from. Simplex reports every vote it verified (the batcher's `Notarize`,
//! `Finalize`, `Nullify`, this validator's own included) and every certificate it formed or received to
//! its reporter; [`Observer`] sits in the reporter chain ([`crate::finality::Recorder`]) and reads them. A
//! view's proposal is counted once, when the first notarize vote or certificate of that view arrives,
//! for the view's leader (a notarize vote exists only for a proposal). Finality latency runs from that
//! moment to the view's finalization certificate: the time this validator waited, not a network-wide
//! figure. Time here is the monotonic clock and only ever reaches metrics, never a block.

use crate::block::Digest;
use crate::finality::{key_bytes, leader};
use crate::validator::Scheme;
use commonware_consensus::{simplex::types::Activity, types::Round};
use commonware_cryptography::{certificate::Attestation, ed25519::PublicKey};
use commonware_utils::ordered::Set;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use types::AccountId;

/// A simplex vote kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vote {
    Notarize,
    Finalize,
    Nullify,
}

impl Vote {
    /// The label value: `notarize`, `finalize` or `nullify`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vote::Notarize => "notarize",
            Vote::Finalize => "finalize",
            Vote::Nullify => "nullify",
        }
    }
}

/// Receives what a validator observes. Every method has an empty default, so a test sink ignores it.
pub trait Telemetry: Send + Sync + 'static {
    /// A block was executed (built by this leader or verified as a proposal): how long the engine took.
    fn block_executed(&self, _elapsed: Duration) {}
    /// The first sign of a proposal for a view, by `proposer` (the view's leader).
    fn proposal(&self, _proposer: AccountId) {}
    /// A verified vote by `validator`.
    fn vote(&self, _vote: Vote, _validator: AccountId) {}
    /// A view this validator saw proposed was finalized `elapsed` after that first sign.
    fn finality(&self, _elapsed: Duration) {}
    /// Marshal's finalized tip: the newest height with a finalization (possibly not yet durable here).
    fn finalized_tip(&self, _height: u64) {}
    /// How many other validators the p2p network holds a connection to.
    fn peers(&self, _connected: usize) {}
    /// Simplex reported that a validator signed two conflicting votes in one round: the evidence, not
    /// checked yet (see [`crate::evidence`]; the node checks and submits it with an
    /// [`crate::evidence::Reporter`]).
    fn equivocation(&self, _evidence: engine::protocol::Equivocation) {}
}

/// The telemetry that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTelemetry;

impl Telemetry for NoTelemetry {}

/// A shared [`Telemetry`], cloneable and printable so that configurations can carry it.
#[derive(Clone)]
pub struct TelemetryHandle(pub Arc<dyn Telemetry>);

impl Default for TelemetryHandle {
    fn default() -> Self {
        TelemetryHandle(Arc::new(NoTelemetry))
    }
}

impl std::fmt::Debug for TelemetryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TelemetryHandle")
    }
}

impl std::ops::Deref for TelemetryHandle {
    type Target = dyn Telemetry;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// Views whose proposal was seen and whose finalization was not, beyond which the oldest are forgotten
/// (a validator cut off from finalizations keeps seeing views).
const VIEWS_MAX: usize = 1024;

/// Reads simplex's activities for [`Telemetry`]; clones share the views seen (simplex's batcher and
/// voter each hold a clone of the reporter).
#[derive(Clone)]
pub struct Observer {
    telemetry: TelemetryHandle,
    participants: Set<PublicKey>,
    views: Arc<Mutex<Views>>,
}

#[derive(Default)]
struct Views {
    /// When the proposal of each open view was first seen.
    seen: BTreeMap<u64, Instant>,
    /// The newest finalized view: a view at or below it is not counted again.
    finalized: u64,
}

impl Observer {
    pub fn new(telemetry: TelemetryHandle, participants: Set<PublicKey>) -> Observer {
        Observer { telemetry, participants, views: Default::default() }
    }

    fn signer(&self, attestation: &Attestation<Scheme>) -> Option<AccountId> {
        self.participants.get(attestation.signer.get() as usize).map(key_bytes)
    }

    /// Count `activity`'s vote, its view's proposal the first time, and the finality latency.
    pub fn observe(&self, activity: &Activity<Scheme, Digest>) {
        let vote = |kind, a: &Attestation<Scheme>| {
            if let Some(v) = self.signer(a) {
                self.telemetry.vote(kind, v);
            }
        };
        match activity {
            Activity::Notarize(n) => {
                vote(Vote::Notarize, &n.attestation);
                self.proposed(n.proposal.round);
            }
            Activity::Finalize(f) => {
                vote(Vote::Finalize, &f.attestation);
                self.proposed(f.proposal.round);
            }
            Activity::Nullify(n) => vote(Vote::Nullify, &n.attestation),
            Activity::Notarization(n) | Activity::Certification(n) => self.proposed(n.proposal.round),
            Activity::Finalization(f) => self.finalized(f.proposal.round.view().get()),
            Activity::ConflictingNotarize(_) | Activity::ConflictingFinalize(_) | Activity::NullifyFinalize(_) => {
                if let Some(evidence) = crate::evidence::equivocation(activity, &self.participants) {
                    self.telemetry.equivocation(evidence);
                }
            }
            _ => {}
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Views> {
        self.views.lock().expect("a thread panicked holding the views seen")
    }

    fn proposed(&self, round: Round) {
        let view = round.view().get();
        let mut views = self.lock();
        if view <= views.finalized || views.seen.contains_key(&view) {
            return;
        }
        views.seen.insert(view, Instant::now());
        while views.seen.len() > VIEWS_MAX {
            views.seen.pop_first();
        }
        drop(views);
        self.telemetry.proposal(key_bytes(&leader(&self.participants, round.epoch().get(), view)));
    }

    fn finalized(&self, view: u64) {
        let mut views = self.lock();
        if view <= views.finalized {
            return;
        }
        let seen = views.seen.get(&view).copied();
        views.finalized = view;
        views.seen.retain(|v, _| *v > view);
        drop(views);
        if let Some(seen) = seen {
            self.telemetry.finality(seen.elapsed());
        }
    }
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer").field("participants", &self.participants.len()).finish()
    }
}

/// The number of connected peers in commonware's metrics text (`context.encode()`): the lookup network
/// (labelled `network` in [`crate::net`]) has its tracker keep one
/// `network_tracker_directory_connected{peer="…"}` sample per connected peer, removed on disconnect.
/// commonware offers no call that returns the count, so this reads its own gauge.
pub fn connected_peers(metrics_text: &str) -> usize {
    metrics_text
        .lines()
        .filter_map(|l| l.split_once('{'))
        .filter(|(name, _)| name.starts_with("network_tracker") && name.ends_with("_connected"))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_peers_counts_samples_not_comments() {
        // As commonware 2026.3.0 writes it.
        let text = "# HELP network_tracker_directory_connected Unix timestamp {x}.\n\
                    # TYPE network_tracker_directory_connected gauge\n\
                    network_tracker_directory_connected{peer=\"3c36\"} 1795705288158\n\
                    network_tracker_directory_connected{peer=\"9b87\"} 1795705288159\n\
                    network_tracker_directory_tracked 2\nvalidator_x_connected{peer=\"a\"} 1\n";
        assert_eq!(connected_peers(text), 2);
        assert_eq!(connected_peers("network_tracker_directory_tracked 3\n"), 0);
    }
}
