//! The example queries of docs/INDEXER.md, kept here so that a test runs each against real tables.

/// (name, SQL): reward per node per epoch, fines by reason, a miner's failure rate per epoch.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "reward_per_node_per_epoch",
        "SELECT epoch, account, sum(amount)::text AS total, string_agg(DISTINCT kind, ',') AS kinds
FROM payouts
WHERE epoch IS NOT NULL
GROUP BY epoch, account
ORDER BY epoch, sum(amount) DESC",
    ),
    (
        "fines_by_reason",
        "SELECT reason, count(*) AS fines, count(DISTINCT account) AS accounts,
       COALESCE(sum(amount), 0)::text AS amount
FROM fines
GROUP BY reason
ORDER BY count(*) DESC, reason",
    ),
    (
        "miner_failure_rate_per_epoch",
        "WITH ends AS (
    SELECT (data->>'epoch')::bigint AS epoch, height FROM events WHERE kind = 'epoch_ended'
), judged AS (
    SELECT t.miner, t.passed,
           COALESCE((SELECT min(e.epoch) FROM ends e WHERE e.height >= t.height),
                    (SELECT COALESCE(max(epoch), 0) + 1 FROM ends)) AS epoch
    FROM task_results t
)
SELECT miner, epoch, count(*) FILTER (WHERE NOT passed) AS failed, count(*) AS judged,
       round(count(*) FILTER (WHERE NOT passed)::numeric / count(*), 3) AS failure_rate
FROM judged
GROUP BY miner, epoch
ORDER BY miner, epoch",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_docs_show_every_example_verbatim() {
        let doc = include_str!("../../../docs/INDEXER.md");
        for (name, sql) in super::EXAMPLES {
            assert!(doc.contains(sql), "docs/INDEXER.md does not show the example {name} as it is");
        }
        assert!(doc.contains(crate::schema::DDL.trim()), "docs/INDEXER.md does not show the schema as it is");
    }
}
