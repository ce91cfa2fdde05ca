//! PostgreSQL: connect, create the schema, read and check the cursor, and write one block with its cursor
//! in one transaction.

use crate::rows::{self, Rows};
use crate::schema::{DDL, SCHEMA_VERSION};
use crate::IndexError;
use api::BlockView;
use postgres::{Client, NoTls, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// The last block written: every block up to `height` is in the tables, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub height: u64,
    pub block_hash: String,
}

/// What one written block held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    pub txs: u64,
    pub events: u64,
}

fn pg(e: postgres::Error) -> IndexError {
    IndexError::Postgres(e.to_string())
}

fn i64_of(v: u64, what: &str) -> Result<i64, IndexError> {
    i64::try_from(v).map_err(|_| IndexError::Postgres(format!("{what} {v} does not fit a BIGINT")))
}

/// Parse `url` and connect within `timeout`.
pub fn connect(url: &str, timeout: Duration) -> Result<Client, IndexError> {
    let mut config = postgres::Config::from_str(url).map_err(|e| IndexError::BadPostgresUrl(e.to_string()))?;
    config.connect_timeout(timeout);
    config.connect(NoTls).map_err(|e| IndexError::PostgresUnreachable(e.to_string()))
}

/// Create the tables if they are missing and check the schema version (under a lock, so that two
/// indexers starting at once do not race on the DDL).
pub fn ensure_schema(db: &mut Client) -> Result<(), IndexError> {
    let mut tx = db.transaction().map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock(7650)", &[]).map_err(pg)?;
    tx.batch_execute(DDL).map_err(pg)?;
    tx.execute(
        "INSERT INTO indexer_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING",
        &[&SCHEMA_VERSION.to_string()],
    )
    .map_err(pg)?;
    let found: String =
        tx.query_one("SELECT value FROM indexer_meta WHERE key = 'schema_version'", &[]).map_err(pg)?.get(0);
    if found != SCHEMA_VERSION.to_string() {
        return Err(IndexError::SchemaVersion { found, expected: SCHEMA_VERSION });
    }
    tx.commit().map_err(pg)
}

/// The cursor, after checking that the tables hold exactly the blocks 1..=cursor (no gap, none beyond).
pub fn cursor(db: &mut Client) -> Result<Option<Cursor>, IndexError> {
    let row = db.query_opt("SELECT height, block_hash FROM indexer_cursor", &[]).map_err(pg)?;
    let cursor = row.map(|r| Cursor { height: r.get::<_, i64>(0).unsigned_abs(), block_hash: r.get(1) });
    let r = db
        .query_one("SELECT count(*), COALESCE(min(height), 0), COALESCE(max(height), 0) FROM blocks", &[])
        .map_err(pg)?;
    let (count, min, max) = (r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2));
    let expected = cursor.as_ref().map_or(0, |c| c.height);
    let contiguous = count == max && (count == 0 || min == 1);
    if !contiguous || max.unsigned_abs() != expected {
        return Err(IndexError::Gap(format!(
            "the blocks table holds {count} blocks from {min} to {max} but the cursor is at {expected}"
        )));
    }
    if let Some(c) = &cursor {
        let hash: String = db
            .query_one("SELECT hash FROM blocks WHERE height = $1", &[&i64_of(c.height, "height")?])
            .map_err(pg)?
            .get(0);
        if hash != c.block_hash {
            return Err(IndexError::Gap(format!(
                "the cursor's hash {} is not the stored block {}'s hash {hash}",
                c.block_hash, c.height
            )));
        }
    }
    Ok(cursor)
}

/// Write `block` (the one after `prev`) and move the cursor to it, in one transaction: either all of it is
/// committed or none of it. The cursor moves only from `prev`, so a second writer fails instead of writing
/// a block twice.
pub fn write_block(db: &mut Client, prev: Option<&Cursor>, block: &BlockView) -> Result<Written, IndexError> {
    let mut tx = db.transaction().map_err(pg)?;
    let height = i64_of(block.height, "height")?;
    let hash = block.hash.to_string();
    let moved = match prev {
        None => tx
            .execute(
                "INSERT INTO indexer_cursor (height, block_hash) VALUES ($1, $2) ON CONFLICT (one) DO NOTHING",
                &[&height, &hash],
            )
            .map_err(pg)?,
        Some(p) => tx
            .execute(
                "UPDATE indexer_cursor SET height = $1, block_hash = $2 WHERE height = $3 AND block_hash = $4",
                &[&height, &hash, &i64_of(p.height, "height")?, &p.block_hash],
            )
            .map_err(pg)?,
    };
    if moved != 1 {
        return Err(IndexError::CursorMoved(block.height));
    }
    let finality = serde_json::to_value(&block.finality).ok();
    let finality = finality.as_ref().and_then(|v| v["kind"].as_str()).unwrap_or("unknown").to_string();
    tx.execute(
        "INSERT INTO blocks (height, hash, parent_hash, state_root, tx_count, event_count, finality) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &height,
            &hash,
            &block.parent_hash.to_string(),
            &block.state_root.to_string(),
            &count(block.txs.len())?,
            &count(block.events.len())?,
            &finality,
        ],
    )
    .map_err(pg)?;
    write_txs(&mut tx, height, block)?;
    write_events(&mut tx, height, block)?;
    tx.commit().map_err(pg)?;
    Ok(Written { txs: block.txs.len() as u64, events: block.events.len() as u64 })
}

fn count(n: usize) -> Result<i32, IndexError> {
    i32::try_from(n).map_err(|_| IndexError::Postgres(format!("{n} rows in one block do not fit an INT")))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, IndexError> {
    serde_json::to_string(v).map_err(|e| IndexError::Postgres(format!("encoding a row as JSON: {e}")))
}

fn write_txs(tx: &mut Transaction<'_>, height: i64, block: &BlockView) -> Result<(), IndexError> {
    let insert = tx
        .prepare(
            "INSERT INTO txs (height, position, hash, signer, nonce, fee, call, code, tx) \
             VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7, $8, $9::text::jsonb)",
        )
        .map_err(pg)?;
    for (i, t) in block.txs.iter().enumerate() {
        let body = &t.tx.body;
        let call = serde_json::to_value(&body.call).ok();
        let call = call.as_ref().and_then(|v| v["call"].as_str()).unwrap_or("unknown").to_string();
        tx.execute(
            &insert,
            &[
                &height,
                &count(i)?,
                &t.hash.to_string(),
                &body.signer.to_string(),
                &i64_of(body.nonce, "nonce")?,
                &body.fee.to_string(),
                &call,
                &t.code,
                &json(&t.tx)?,
            ],
        )
        .map_err(pg)?;
    }
    Ok(())
}

fn write_events(tx: &mut Transaction<'_>, height: i64, block: &BlockView) -> Result<(), IndexError> {
    let insert = tx
        .prepare("INSERT INTO events (height, seq, tx, kind, data) VALUES ($1, $2, $3, $4, $5::text::jsonb)")
        .map_err(pg)?;
    for (i, record) in block.events.iter().enumerate() {
        let seq = count(i)?;
        let tx_index = record.tx.map(|t| count(t as usize)).transpose()?;
        tx.execute(&insert, &[&height, &seq, &tx_index, &rows::kind(&record.event), &json(record)?]).map_err(pg)?;
        write_rows(tx, height, seq, &rows::rows(&record.event))?;
    }
    Ok(())
}

fn opt_i64(v: Option<u64>) -> Result<Option<i64>, IndexError> {
    v.map(|v| i64_of(v, "id")).transpose()
}

fn write_rows(tx: &mut Transaction<'_>, h: i64, seq: i32, r: &Rows) -> Result<(), IndexError> {
    for (part, p) in r.payouts.iter().enumerate() {
        tx.execute(
            "INSERT INTO payouts (height, seq, part, kind, epoch, account, amount, job, request) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9)",
            &[
                &h,
                &seq,
                &count(part)?,
                &p.kind,
                &opt_i64(p.epoch)?,
                &p.account,
                &p.amount,
                &p.job,
                &opt_i64(p.request)?,
            ],
        )
        .map_err(pg)?;
    }
    for (part, f) in r.fines.iter().enumerate() {
        tx.execute(
            "INSERT INTO fines (height, seq, part, reason, account, amount, job, task) \
             VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7, $8)",
            &[&h, &seq, &count(part)?, &f.reason, &f.account, &f.amount, &f.job, &opt_i64(f.task)?],
        )
        .map_err(pg)?;
    }
    for (part, f) in r.refunds.iter().enumerate() {
        tx.execute(
            "INSERT INTO refunds (height, seq, part, kind, account, amount, job, request) \
             VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7, $8)",
            &[&h, &seq, &count(part)?, &f.kind, &f.account, &f.amount, &f.job, &opt_i64(f.request)?],
        )
        .map_err(pg)?;
    }
    write_one_row_kinds(tx, h, seq, r)?;
    for (part, t) in r.task_results.iter().enumerate() {
        tx.execute(
            "INSERT INTO task_results (height, seq, part, task, miner, passed, reason, score_ppb) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&h, &seq, &count(part)?, &i64_of(t.task, "task")?, &t.miner, &t.passed, &t.reason, &t.score_ppb],
        )
        .map_err(pg)?;
    }
    Ok(())
}

/// The kinds of which an event gives at most one row.
fn write_one_row_kinds(tx: &mut Transaction<'_>, h: i64, seq: i32, r: &Rows) -> Result<(), IndexError> {
    for s in &r.slashes {
        tx.execute(
            "INSERT INTO slashes (height, seq, epoch, account, offence, amount, connectivity_ppb) \
             VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7)",
            &[&h, &seq, &i64_of(s.epoch, "epoch")?, &s.account, &s.offence, &s.amount, &s.connectivity_ppb],
        )
        .map_err(pg)?;
    }
    for p in &r.points {
        tx.execute(
            "INSERT INTO points (height, seq, epoch, node, earned, deducted, amount) \
             VALUES ($1, $2, $3, $4, $5::text::numeric, $6::text::numeric, $7::text::numeric)",
            &[&h, &seq, &i64_of(p.epoch, "epoch")?, &p.node, &p.earned, &p.deducted, &p.amount],
        )
        .map_err(pg)?;
    }
    for x in &r.ratings {
        tx.execute(
            "INSERT INTO ratings (height, seq, request, miner, rating, reputation_ppb) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&h, &seq, &i64_of(x.request, "request")?, &x.miner, &x.rating, &x.reputation_ppb],
        )
        .map_err(pg)?;
    }
    Ok(())
}
