//! The demo network's report as text: what `stakework demo` prints.

use crate::report::{NetReport, QueueFinding, ValidatorsReport};
use crate::wire_name;
use protocol::JobOutcome;
use std::fmt::Write;

fn ppb(p: u32) -> String {
    format!("{:.3}", f64::from(p) / 1e9)
}

/// The outcome's name as the node writes it.
fn outcome_name(o: &JobOutcome) -> &'static str {
    match o {
        JobOutcome::Completed => "completed",
        JobOutcome::Reported { .. } => "reported",
        JobOutcome::SelfReported { .. } => "self_reported",
        JobOutcome::Cancelled { .. } => "cancelled",
        JobOutcome::Withdrawn => "withdrawn",
        JobOutcome::Lapsed => "lapsed",
        JobOutcome::Expired { .. } => "expired",
    }
}

impl NetReport {
    /// The report as text, one finding after another.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "stakework demo: a whole network of real processes on loopback ({})\n", self.processes);
        self.render_clients(&mut s);
        render_queue(&mut s, &self.queue);
        let t = &self.tasks;
        let reasons: Vec<String> = t.failure_reasons.iter().map(|(r, n)| format!("{n}× {r}")).collect();
        let why = if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) };
        let _ = writeln!(s, "tasks: {} ended (passed Proof of Inference), {} failed{why}", t.ended, t.failed);
        let d = &self.dishonest_miner;
        let _ = writeln!(
            s,
            "dishonest miner {}: caught as the outlier {} times, passed {} times, reputation {}\n",
            d.name,
            d.caught_as_outlier,
            d.passed,
            ppb(d.reputation_ppb)
        );
        self.render_nodes(&mut s);
        self.render_job(&mut s);
        render_validators(&mut s, &self.validators);
        let _ = write!(
            s,
            "\nconservation (/v1/supply): {} ; agents stopped cleanly: {} ; every validator's replay from genesis \
             matches the root at height {}: {}",
            if self.supply.conserved { "OK" } else { "BROKEN" },
            self.agents_stopped_cleanly,
            self.head_height,
            self.replay_matches_head
        );
        s
    }

    fn render_clients(&self, s: &mut String) {
        let _ =
            writeln!(s, "clients: each one's burst of 12 requests was placed in the same block, for the busy miner;");
        let _ = writeln!(
            s,
            "prompts went through the router sealed to each miner's key (metered, unreadable to the router); answers were\nchecked against the miner's on-chain result hashes."
        );
        let _ = writeln!(
            s,
            "  {:<6} {:>12} {:>9} {:>16} {:>6} {:>5}",
            "client", "stake share", "requests", "mean wait", "good", "bad"
        );
        for c in &self.clients {
            let _ = writeln!(
                s,
                "  {:<6} {:>11.1}% {:>9} {:>9.2} blocks {:>6} {:>5}",
                c.name, c.stake_share_pct, c.requests, c.mean_wait_blocks, c.rated_good, c.rated_bad
            );
        }
    }

    fn render_nodes(&self, s: &mut String) {
        let _ = writeln!(s, "miners (totals over the run: points summed over its finished epochs)");
        let _ = writeln!(
            s,
            "  {:<8} {:>10} {:>16} {:>16} {:>10}",
            "miner", "net points", "miner rewards", "points rewards", "reputation"
        );
        for n in &self.nodes {
            let _ = writeln!(
                s,
                "  {:<8} {:>10} {:>16} {:>16} {:>10}",
                n.name,
                n.points_net,
                n.miner_rewards.to_swk_string(),
                n.points_rewards.to_swk_string(),
                ppb(n.reputation_ppb)
            );
        }
        let _ = match &self.router {
            None => writeln!(s, "\nrouter: no reward event yet"),
            Some(r) => writeln!(
                s,
                "\nrouter {}: {} bytes validated in its busiest epoch (router and nodes agree), latency factor {}, \
                 owed {} for that epoch; paid {} over the run",
                r.router,
                r.bandwidth,
                ppb(r.latency_factor.raw()),
                r.owed.to_swk_string(),
                r.amount.to_swk_string()
            ),
        };
    }

    fn render_job(&self, s: &mut String) {
        let j = &self.job;
        let _ = writeln!(
            s,
            "training job (coordinator, 2 data owners, 1 MPC node): {}, outcome {}, escrow now {}",
            wire_name(&j.phase),
            j.outcome.as_ref().map_or("?", outcome_name),
            j.escrow
        );
        for m in &j.movements {
            let _ = writeln!(s, "  {m}");
        }
    }
}

fn render_queue(s: &mut String, q: &QueueFinding) {
    let _ = writeln!(s, "\nthe busy miner {} (capacity 1) serves its queue by client stake; per busy period:", q.miner);
    for (i, p) in q.periods.iter().enumerate() {
        let _ = writeln!(
            s,
            "  period {}: {} requests served, the first {} while every client still had one waiting",
            i + 1,
            p.requests,
            p.contended
        );
        let _ = writeln!(
            s,
            "    {:<6} {:>12} {:>7} {:>22} {:>15}",
            "client", "stake share", "served", "share while contended", "queue position"
        );
        for c in &p.clients {
            let _ = writeln!(
                s,
                "    {:<6} {:>11.1}% {:>7} {:>21.1}% {:>15.2}",
                c.name, c.stake_share_pct, c.served, c.contended_share_pct, c.mean_queue_position
            );
        }
    }
    let _ = writeln!(
        s,
        "  (queue position: the mean place of a client's requests in the period's serving order, 0 first, 1 last)"
    );
    let verdict = if q.stake_priority_visible {
        "stake priority: VISIBLE (in every busy period, more stake came first)"
    } else {
        "stake priority: NOT VISIBLE (the queue did not rank the clients by stake)"
    };
    let _ = writeln!(s, "  {verdict}\n");
}

fn secs(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1e3)
}

fn render_validators(s: &mut String, v: &ValidatorsReport) {
    let c = &v.crash;
    let _ = writeln!(
        s,
        "\nvalidators: {} on loopback, agreeing through commonware's simplex (f = 1 of 4); the demo and every \
         agent were given all of them, each agent's list starting at a different one",
        v.count
    );
    let _ = writeln!(
        s,
        "  {} killed (SIGKILL) at height {} in the middle of the traffic; the other {} finalized {} blocks while \
         it was down ({}){}",
        c.validator,
        c.killed_at,
        v.count.saturating_sub(1),
        c.finalized_while_down,
        secs(c.down_ms),
        if c.finalized_while_down > 0 { ": finality went on" } else { ": FINALITY STOPPED" }
    );
    let caught = match (c.catch_up_ms, c.caught_up_at) {
        (Some(ms), Some(h)) => format!("caught up with the others in {} (at height {h})", secs(ms)),
        _ => format!("did NOT catch up within {}", secs(c.catch_up_bound_ms)),
    };
    let _ = writeln!(s, "  restarted from its data directory at height {}; {caught}", c.restarted_at);
    let _ = writeln!(
        s,
        "  agents that called {} first and failed over to the next validator: {}",
        c.validator,
        if c.agents_failed_over.is_empty() { "none".into() } else { c.agents_failed_over.join(", ") }
    );
    let _ = writeln!(s, "  at the end, each validator at the common height {}:", v.common_height);
    let _ = writeln!(s, "    {:<4} {:<66} {:>12} {:>9}", "", "state root served", "replayed to", "replay");
    for f in &v.finals {
        let same = f.replayed_root == Some(f.root_served);
        let _ = writeln!(
            s,
            "    {:<4} {:<66} {:>12} {:>9}",
            f.name,
            f.root_served.to_string(),
            f.replayed_height,
            if same { "same" } else { "DIFFERS" }
        );
    }
    let verdict = if v.agree() { "all agree" } else { "they DISAGREE" };
    let _ = writeln!(s, "  {verdict}; validators stopped cleanly: {}", v.stopped_cleanly);
}
