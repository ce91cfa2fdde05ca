//! A miner's queue as the chain saw it, from recorded events: its busy periods and each client's place in
//! them. A request is in its miner's queue from its `RequestSubmitted` event until its `RequestCompleted`
//! (or `RequestExpired`); a busy period is a stretch of events during which that set is never empty.
//!
//! Within a busy period the miner serves by stake (deficit round-robin, `sched`): while every client of the
//! period still has requests waiting, each gets turns in proportion to its stake, and a client with more
//! stake is served earlier on the whole. Two figures show it:
//! - the *mean queue position* of a client's requests: the place of each in the period's serving order,
//!   0 for the first served and 1 for the last;
//! - the *contended share*: of the requests served while every client of the period still had one waiting
//!   (up to and including the first client's last), the share that went to this client. Over a whole period
//!   everyone is served in the end, so the share of all its requests says nothing about priority.

use protocol::Event;
use std::collections::{BTreeMap, BTreeSet};
use types::AccountId;

/// One busy period of one miner's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyPeriod {
    pub miner: AccountId,
    /// The requests served in it, in the order the miner completed them: (request, client).
    pub served: Vec<(u64, AccountId)>,
    /// Requests of the period that expired instead of being served.
    pub expired: u64,
    /// Whether requests were still waiting when the events ended.
    pub open: bool,
}

/// One client's place in a busy period.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientPlace {
    pub client: AccountId,
    pub served: u64,
    /// Served while every client of the period still had a request waiting.
    pub contended: u64,
    /// Mean of (index in the serving order) / (requests served − 1); 0 when the period served one request.
    pub mean_position: f64,
}

/// Every busy period of every miner, in the order they ended (periods still open last, by miner).
pub fn busy_periods(events: &[Event]) -> Vec<BusyPeriod> {
    let mut client_of: BTreeMap<u64, AccountId> = BTreeMap::new();
    let mut waiting: BTreeMap<AccountId, (BTreeSet<u64>, BusyPeriod)> = BTreeMap::new();
    let mut done = Vec::new();
    for e in events {
        let (request, miner, served) = match e {
            Event::RequestSubmitted { request, client, miner, .. } => {
                client_of.insert(*request, *client);
                let empty = BusyPeriod { miner: *miner, served: Vec::new(), expired: 0, open: true };
                waiting.entry(*miner).or_insert_with(|| (BTreeSet::new(), empty)).0.insert(*request);
                continue;
            }
            Event::RequestCompleted { request, miner, .. } => (*request, *miner, true),
            Event::RequestExpired { request, miner, .. } => (*request, *miner, false),
            _ => continue,
        };
        let Some((queued, period)) = waiting.get_mut(&miner) else { continue };
        if !queued.remove(&request) {
            continue;
        }
        match client_of.get(&request) {
            Some(client) if served => period.served.push((request, *client)),
            _ => period.expired += 1,
        }
        if queued.is_empty() {
            if let Some((_, mut period)) = waiting.remove(&miner) {
                period.open = false;
                done.push(period);
            }
        }
    }
    done.extend(waiting.into_values().map(|(_, p)| p));
    done
}

impl BusyPeriod {
    /// The clients served in this period, in the order they were first served.
    pub fn clients(&self) -> Vec<AccountId> {
        let mut seen = Vec::new();
        for (_, c) in &self.served {
            if !seen.contains(c) {
                seen.push(*c);
            }
        }
        seen
    }

    /// Requests served while every client of the period still had one waiting: up to and including the
    /// earliest last request of any client.
    pub fn contended_len(&self) -> usize {
        let last = |c: &AccountId| self.served.iter().rposition(|(_, x)| x == c).unwrap_or(0);
        self.clients().iter().map(last).min().map_or(0, |i| i + 1)
    }

    /// Each client's place in the period, in the order they were first served.
    pub fn places(&self) -> Vec<ClientPlace> {
        let span = self.served.len().saturating_sub(1).max(1) as f64;
        let contended = self.contended_len();
        self.clients()
            .into_iter()
            .map(|client| {
                let mine: Vec<usize> =
                    self.served.iter().enumerate().filter(|(_, (_, c))| *c == client).map(|(i, _)| i).collect();
                let sum: usize = mine.iter().sum();
                ClientPlace {
                    client,
                    served: mine.len() as u64,
                    contended: mine.iter().filter(|i| **i < contended).count() as u64,
                    mean_position: if self.served.len() > 1 { sum as f64 / mine.len() as f64 / span } else { 0.0 },
                }
            })
            .collect()
    }
}

/// Whether the places rank the clients by stake: sorted by stake, most first, their mean queue positions
/// strictly rise. Clients without a stake count as zero. Fewer than two clients show nothing: false.
pub fn ranked_by_stake(places: &[ClientPlace], stake: &dyn Fn(&AccountId) -> u128) -> bool {
    let mut by_stake: Vec<&ClientPlace> = places.iter().collect();
    by_stake.sort_by_key(|p| std::cmp::Reverse(stake(&p.client)));
    by_stake.len() >= 2 && by_stake.windows(2).all(|w| w[0].mean_position < w[1].mean_position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::{Amount, Hash, Height, Ppb};

    fn account(n: u8) -> AccountId {
        AccountId([n; 32])
    }

    fn submitted(request: u64, client: u8, miner: u8) -> Event {
        Event::RequestSubmitted {
            request,
            client: account(client),
            service: 2,
            miner: account(miner),
            price: Amount(1),
            expires_at: Height(1_000),
        }
    }

    fn completed(request: u64, miner: u8) -> Event {
        Event::RequestCompleted {
            request,
            miner: account(miner),
            result_hash: Hash([0; 32]),
            paid: Amount(1),
            fee: Amount::ZERO,
        }
    }

    /// Three clients with stakes 10, 30 and 60 place 12 requests each in one block at miner 9, which serves
    /// them by deficit round-robin as `sched` does (each turn: stake / 10 requests; the ring in join order
    /// c1, c2, c3, the order least favourable to the biggest client).
    fn drr_busy_period() -> Vec<Event> {
        let mut events: Vec<Event> = Vec::new();
        let mut ids: BTreeMap<u8, Vec<u64>> = BTreeMap::new();
        for (i, client) in [1u8, 2, 3].iter().flat_map(|c| std::iter::repeat_n(*c, 12)).enumerate() {
            events.push(submitted(i as u64, client, 9));
            ids.entry(client).or_default().push(i as u64);
        }
        let turn = |c: u8| match c {
            1 => 1,
            2 => 3,
            _ => 6,
        };
        while ids.values().any(|v| !v.is_empty()) {
            for c in [1u8, 2, 3] {
                let queue = ids.get_mut(&c).expect("client");
                for id in queue.drain(..turn(c).min(queue.len())) {
                    events.push(completed(id, 9));
                }
            }
        }
        events
    }

    #[test]
    fn a_busy_period_served_by_stake_ranks_the_clients_by_stake() {
        let periods = busy_periods(&drr_busy_period());
        assert_eq!(periods.len(), 1);
        let p = &periods[0];
        assert_eq!((p.served.len(), p.expired, p.open), (36, 0, false));
        let places = p.places();
        let place = |c: u8| places.iter().find(|x| x.client == account(c)).expect("client").clone();
        // Serving order: c1 0, c2 1-3, c3 4-9, c1 10, c2 11-13, c3 14-19, c1 20, c2 21-23, c1 24, c2 25-27,
        // c1 28-35. Mean positions over 35: c3 11.5, c2 15.5, c1 25.5.
        assert!((place(3).mean_position - 11.5 / 35.0).abs() < 1e-9, "{places:?}");
        assert!((place(2).mean_position - 15.5 / 35.0).abs() < 1e-9, "{places:?}");
        assert!((place(1).mean_position - 25.5 / 35.0).abs() < 1e-9, "{places:?}");
        // Contended: up to c3's last request (index 19): c1 2, c2 6, c3 12 of 20.
        assert_eq!(p.contended_len(), 20);
        assert_eq!([place(1).contended, place(2).contended, place(3).contended], [2, 6, 12]);
        let stake = |a: &AccountId| u128::from(a.0[0]) * 10;
        assert!(ranked_by_stake(&places, &stake));
    }

    #[test]
    fn a_queue_served_first_come_first_served_does_not_rank_by_stake() {
        let mut events: Vec<Event> = (0..36).map(|i| submitted(i, 1 + (i / 12) as u8, 9)).collect();
        events.extend((0..36).map(|i| completed(i, 9)));
        let places = busy_periods(&events)[0].places();
        let stake = |a: &AccountId| u128::from(a.0[0]) * 10;
        assert!(!ranked_by_stake(&places, &stake), "c1 (least stake) was served first: {places:?}");
        assert!(!ranked_by_stake(&places[..1], &stake), "one client shows no ranking");
    }

    #[test]
    fn a_busy_period_ends_when_the_queue_empties_and_expiries_count_apart() {
        let events = vec![
            submitted(1, 1, 9),
            submitted(2, 2, 8),
            completed(1, 9),
            submitted(3, 1, 9),
            Event::RequestExpired {
                request: 3,
                client: account(1),
                miner: account(9),
                refunded: Amount(1),
                reputation: Ppb::ZERO,
            },
            submitted(4, 3, 9),
        ];
        let periods = busy_periods(&events);
        assert_eq!(periods.len(), 4, "{periods:?}");
        assert_eq!(
            (periods[0].miner, periods[0].served.clone(), periods[0].open),
            (account(9), vec![(1, account(1))], false)
        );
        assert_eq!((periods[1].served.len(), periods[1].expired, periods[1].open), (0, 1, false));
        // Still waiting when the events end, by miner: miner 8's request 2, then miner 9's request 4.
        assert_eq!((periods[2].miner, periods[2].open), (account(8), true));
        assert_eq!((periods[3].miner, periods[3].open), (account(9), true));
        assert_eq!(periods[0].places()[0].mean_position, 0.0);
    }
}
