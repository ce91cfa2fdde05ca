//! Snapshots: the engine's state in canonical form, checksummed, and its restoration with every check.

use super::*;

impl Engine {
    /// The whole state as bytes: magic ‖ blake3 checksum ‖ borsh(state). Restored by [`Engine::restore`].
    pub fn snapshot(&self) -> Vec<u8> {
        let snap = EngineSnapshot {
            params: self.params.clone(),
            height: self.height,
            last_block_hash: self.last_block_hash,
            state_root: self.state_root,
            deadlines: self.deadlines.iter().copied().collect(),
            ledger: self.ledger.snapshot(),
            market: self.m.clone(),
            governance: self.g.clone(),
            pouw: self.p.clone(),
            jobs: self.j.clone(),
            epoch: self.e.clone(),
            routers: self.r.clone(),
        };
        let body = types::encode(&snap);
        let mut out = Vec::with_capacity(body.len() + 40);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.extend_from_slice(&types::hash_bytes(&body).0);
        out.extend_from_slice(&body);
        out
    }

    /// Rebuild an engine from [`Engine::snapshot`] bytes, checking the checksum, every ledger invariant and
    /// that the deadline queue is exactly the one the holds and unbonding chunks imply.
    pub fn restore(bytes: &[u8]) -> Result<Engine, SnapshotError> {
        if bytes.len() < 40 || &bytes[..8] != SNAPSHOT_MAGIC || types::hash_bytes(&bytes[40..]).0[..] != bytes[8..40] {
            return Err(SnapshotError::Corrupt);
        }
        let snap: EngineSnapshot = borsh::from_slice(&bytes[40..]).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        let deadlines: BTreeSet<(Height, Deadline)> = snap.deadlines.into_iter().collect();
        let mut implied = BTreeSet::new();
        for h in &snap.ledger.holds {
            if let Some(at) = h.expires_at {
                implied.insert((at, Deadline::HoldExpiry(h.id)));
            }
        }
        for (id, a) in &snap.ledger.accounts {
            for c in &a.unbonding_chunks {
                implied.insert((c.matures_at, Deadline::UnbondMaturity(*id)));
            }
        }
        implied.extend(snap.market.implied_deadlines());
        implied.extend(snap.governance.implied_deadlines());
        implied.extend(snap.jobs.implied_deadlines());
        // Maturity entries may outlive a slashed chunk (they then release nothing) and closing a completed
        // request is housekeeping, so the queue must contain every implied deadline and only those besides.
        let extra_ok = deadlines.difference(&implied).all(|(_, d)| {
            matches!(
                d,
                Deadline::UnbondMaturity(_)
                    | Deadline::RequestClose(_)
                    | Deadline::TaskAuto(..)
                    | Deadline::TaskClose(_)
                    | Deadline::JobClose(_)
            )
        });
        if !implied.is_subset(&deadlines) || !extra_ok {
            return Err(SnapshotError::Deadlines);
        }
        Ok(Engine {
            treasury: AccountId::system(TREASURY_NAME),
            params: snap.params,
            ledger: Ledger::from_snapshot(snap.ledger)?,
            height: snap.height,
            last_block_hash: snap.last_block_hash,
            state_root: snap.state_root,
            deadlines: deadlines.into_iter().collect(),
            m: snap.market,
            g: snap.governance,
            p: snap.pouw,
            j: snap.jobs,
            e: snap.epoch,
            r: snap.routers,
            dirty: Dirty::default(),
            root_bufs: Default::default(),
            spare: Default::default(),
            block_buf: Vec::new(),
            draw: Default::default(),
            forked_at: None,
            max_protocol_version: PROTOCOL_VERSION_MAX,
        })
    }
}
