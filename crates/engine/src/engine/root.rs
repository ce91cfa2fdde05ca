//! The state root: the previous root, the height and the block's sorted write set (ledger entries and
//! engine entries), encoded on two threads when the write set is big.

use super::*;
use crate::epoch::EpochKey;
use crate::governance::GovernanceKey;
use crate::jobs::JobsKey;
use crate::market::MarketKey;
use crate::pouw::PouwKey;
use crate::routers::RouterKey;

impl Engine {
    /// Chain the previous root with this block's sorted write set: O(changes), not O(state). Big write
    /// sets are encoded in two parts on two threads (read-only over the state); hashing the parts in
    /// order gives exactly the bytes of one sequential encoding.
    pub(crate) fn compute_root(&mut self, height: Height, genesis: bool) -> Hash {
        let write_set = self.ledger.take_write_set();
        let dirty = self.dirty.take_sorted();
        // Buffers reused block after block (fresh ones of several MB per block cost page faults).
        let mut bufs = std::mem::take(&mut self.root_bufs);
        for b in &mut bufs {
            b.clear();
        }
        let [head, tail] = &mut bufs;
        head.extend_from_slice(STATE_DOMAIN);
        head.extend_from_slice(&self.state_root.0);
        head.extend_from_slice(&height.0.to_le_bytes());
        if genesis {
            borsh::to_writer(&mut *head, &self.params).expect("writing to a Vec cannot fail");
        }
        let this = &*self;
        let encode_ledger = |keys: &[ledger::StateKey], out: &mut Vec<u8>| {
            for key in keys {
                this.ledger.encode_entry(key, out);
            }
        };
        let encode_engine = |keys: &[EngineKey], out: &mut Vec<u8>| {
            for key in keys {
                this.encode_engine_entry(key, out);
            }
        };
        if write_set.len() + dirty.len() < PARALLEL_ROOT_MIN {
            encode_ledger(&write_set, head);
            encode_engine(&dirty, head);
        } else {
            // The ledger's entries and the first engine entries on one thread, the rest on this one (engine
            // entries, tasks above all, are the bigger part).
            let (first, rest) = dirty.split_at(dirty.len() / 3);
            std::thread::scope(|s| {
                let part = s.spawn(|| {
                    encode_ledger(&write_set, head);
                    encode_engine(first, head);
                });
                encode_engine(rest, tail);
                part.join().expect("encoding cannot panic");
            });
        }
        let mut h = blake3::Hasher::new();
        h.update(head);
        h.update(tail);
        let root = Hash(*h.finalize().as_bytes());
        // Kept empty at rest (capacity stays), so that a fork does not copy the last block's encoding.
        for b in &mut bufs {
            b.clear();
        }
        self.root_bufs = bufs;
        self.ledger.recycle_write_set(write_set);
        self.dirty.recycle(dirty);
        root
    }

    /// `borsh(key) ‖ borsh(current value or None)` for an engine-level write-set entry: the engine's own
    /// entries here, every other entry by the module that owns it.
    pub(crate) fn encode_engine_entry(&self, key: &EngineKey, out: &mut Vec<u8>) {
        let ok = "writing to a Vec cannot fail";
        borsh::to_writer(&mut *out, key).expect(ok);
        match *key {
            EngineKey::Params => borsh::to_writer(out, &self.params).expect(ok),
            EngineKey::Counters => {
                let (next_service, next_request) = self.m.counters();
                let counters = (next_service, next_request, self.g.next_proposal(), self.p.next_task());
                borsh::to_writer(out, &(counters, self.g.pending())).expect(ok)
            }
            EngineKey::Node(id) => self.m.encode_entry(MarketKey::Node(id), out),
            EngineKey::Service(id) => self.m.encode_entry(MarketKey::Service(id), out),
            EngineKey::Request(id) => self.m.encode_entry(MarketKey::Request(id), out),
            EngineKey::Reputation(id) => self.m.encode_entry(MarketKey::Reputation(id), out),
            EngineKey::EpochWork(id) => self.m.encode_entry(MarketKey::EpochWork(id), out),
            EngineKey::Proposal(id) => self.g.encode_entry(GovernanceKey::Proposal(id), out),
            EngineKey::Task(id) => self.p.encode_entry(PouwKey::Task(id), out),
            EngineKey::Selected(id) => self.p.encode_entry(PouwKey::Selected(id), out),
            EngineKey::Job(id) => self.j.encode_entry(JobsKey::Job(id), out),
            EngineKey::Points(id) => self.e.encode_entry(EpochKey::Points(id), out),
            EngineKey::LastPoints => self.e.encode_entry(EpochKey::LastPoints, out),
            EngineKey::Lists(id) => self.e.encode_entry(EpochKey::Lists(id), out),
            EngineKey::Attachment(id) => self.r.encode_entry(RouterKey::Attachment(id), out),
            EngineKey::RouterReport(id) => self.r.encode_entry(RouterKey::RouterReport(id), out),
            EngineKey::TrafficClaim(id) => self.r.encode_entry(RouterKey::TrafficClaim(id), out),
            EngineKey::RouterAccepted(id) => self.r.encode_entry(RouterKey::Accepted(id), out),
            EngineKey::RouterRoster(id) => self.r.encode_entry(RouterKey::Roster(id), out),
            EngineKey::RouterEvidence(id) => self.r.encode_entry(RouterKey::Evidence(id), out),
            EngineKey::VoteLock(id) => self.g.encode_entry(GovernanceKey::VoteLock(id), out),
            EngineKey::TreasuryFloor => self.e.encode_entry(EpochKey::TreasuryFloor, out),
            EngineKey::Nominations(id) => self.m.encode_entry(MarketKey::Nominations(id), out),
            EngineKey::NominatedOut(id) => self.m.encode_entry(MarketKey::NominatedOut(id), out),
            EngineKey::Commission(id) => self.m.encode_entry(MarketKey::Commission(id), out),
            EngineKey::Upgrade => self.g.encode_entry(GovernanceKey::Upgrade, out),
            EngineKey::Candidate(id) => self.m.encode_entry(MarketKey::Candidate(id), out),
            EngineKey::ValidatorSet(era) => self.m.encode_entry(MarketKey::ValidatorSet(era), out),
            EngineKey::Equivocation(key, era) => self.m.encode_entry(MarketKey::Equivocation(key, era), out),
        }
    }
}
