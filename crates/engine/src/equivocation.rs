//! Equivocation slashing (issue 21; docs/PROTOCOL.md "Equivocation evidence (issue 21)").
//!
//! The model. `ReportEquivocation { evidence }` proves that the consensus key `evidence.offender` signed two
//! conflicting simplex votes in round (era, view) (`protocol::evidence`: two notarizes or two finalizes of
//! different proposals, or a nullify and a finalize). Checks, in this order, each with its code:
//! 1. the engine still keeps the set elected for that era (the era in force and the one before it, and the
//!    next once elected): else `evidence_era_unknown`;
//! 2. both signatures verify under the chain's consensus namespace, `consensus_namespace(chain_id)`, the
//!    bytes the node gives commonware, and the votes conflict: else `invalid_evidence`;
//! 3. the key was elected for that era: else `not_a_validator`;
//! 4. the reporter is neither the key nor its stash account: else `evidence_self_report`;
//! 5. the key was not already slashed for an equivocation in that era: else `evidence_already_reported`.
//!
//! Then, with the offence height the era's first block (`era × era_blocks`):
//! - `amount = equivocation_slash × (the stash's own stake + its nominations at the offence)`, taken pro rata
//!   by largest remainder (`nominate::slash_node`, as a router's slash; stake unbonded since the offence still
//!   pays);
//! - `reporter_reward = floor(amount × EQUIVOCATION_REPORTER_SHARE)` (10%) to the reporter's free balance,
//!   `burned = amount − reporter_reward` destroyed;
//! - the candidate is chilled: never elected again (the set in force is not changed mid-era), and (key, era)
//!   recorded so a second proof of the same era is refused.
//!
//! The transaction pays the normal fee (`min_fee` or more): a valid report earns far more, and a refused one
//! costs nothing, as every refused transaction. Seed: issue 21 item 3; the shape (a fraction slashed from
//! validator and nominators, a share to the reporter, the rest burned, the offender chilled) is Substrate's
//! offences/staking pallets'.

use crate::engine::Ctx;
use crate::market::{MarketKey, MarketState};
use crate::{Event, Rejection};
use ledger::SlashDestination;
use protocol::evidence::{consensus_namespace, Equivocation};
use protocol::validators::Candidate;
use types::{AccountId, Amount, Height, Ppb};

/// The reporter's share of an equivocation slash; the rest is burned.
pub const EQUIVOCATION_REPORTER_SHARE: Ppb = match Ppb::new(100_000_000) {
    Some(share) => share,
    None => panic!("10% is a ratio"),
};

/// Checks 1 to 5 of the module docs; the offender's candidate record.
fn check(ctx: &Ctx, m: &MarketState, reporter: AccountId, evidence: &Equivocation) -> Result<Candidate, Rejection> {
    let (key, era) = (evidence.offender, evidence.epoch);
    let current = protocol::validators::era_of(ctx.height, ctx.params.era_blocks);
    let set = m.vals.set(era).ok_or(Rejection::EvidenceEraUnknown { era, current })?;
    evidence.verify(&consensus_namespace(&ctx.params.chain_id)).map_err(Rejection::InvalidEvidence)?;
    if !set.iter().any(|e| e.key == key) {
        return Err(Rejection::NotAValidator { key, era });
    }
    let candidate = m.vals.candidates.get(&key).cloned().expect("an elected key is a candidate");
    if reporter == key || reporter == candidate.account {
        return Err(Rejection::EvidenceSelfReport);
    }
    if m.vals.reported.contains_key(&(key, era)) {
        return Err(Rejection::EvidenceAlreadyReported { key, era });
    }
    Ok(candidate)
}

/// `ReportEquivocation { evidence }` signed by `reporter` (see the module docs). Emits
/// `EquivocationSlashed`, then `SlashSplit` when the stash has nominators.
pub(crate) fn report(
    ctx: &mut Ctx,
    m: &mut MarketState,
    reporter: AccountId,
    evidence: &Equivocation,
) -> Result<(), Rejection> {
    let candidate = check(ctx, m, reporter, evidence)?;
    // After this point the command must succeed.
    let (key, era) = (evidence.offender, evidence.epoch);
    let offence = Height(era.saturating_mul(ctx.params.era_blocks));
    let rate = (ctx.params.equivocation_slash, offence);
    let to_reporter = SlashDestination::Account(reporter);
    let (amount, parts) = crate::nominate::slash_node(ctx, m, candidate.account, rate, to_reporter);
    let reporter_reward = EQUIVOCATION_REPORTER_SHARE.mul_floor(amount);
    let burned = Amount(amount.0 - reporter_reward.0);
    ctx.ledger.burn(reporter, burned).expect("the whole slash was just credited to the reporter's free balance");
    m.vals.candidates.insert(key, Candidate { chilled: true, ..candidate.clone() });
    ctx.touch(MarketKey::Candidate(key));
    m.vals.reported.insert((key, era), ctx.height);
    ctx.touch(MarketKey::Equivocation(key, era));
    let (account, view) = (candidate.account, evidence.view);
    ctx.emit(Event::EquivocationSlashed {
        offender: key,
        account,
        era,
        view,
        amount,
        reporter,
        reporter_reward,
        burned,
    });
    if let Some(parts) = parts {
        ctx.emit(Event::SlashSplit { node: account, epoch: era, parts });
    }
    Ok(())
}
