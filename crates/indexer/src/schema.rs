//! The tables, created idempotently on every start, and the schema version they are at.

/// The version of the tables below; a database at another version is refused, never altered.
pub const SCHEMA_VERSION: i32 = 1;

/// Every statement that creates the schema. Amounts are `NUMERIC(39,0)` (a u128 in base units, exact);
/// accounts and hashes hex text; every typed row points at its event (`height`, `seq`).
pub const DDL: &str = r#"
CREATE TABLE IF NOT EXISTS indexer_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS indexer_cursor (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    height BIGINT NOT NULL,
    block_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    height BIGINT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    parent_hash TEXT NOT NULL,
    state_root TEXT NOT NULL,
    tx_count INT NOT NULL,
    event_count INT NOT NULL,
    finality TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    height BIGINT NOT NULL REFERENCES blocks (height),
    position INT NOT NULL,
    hash TEXT NOT NULL,
    signer TEXT NOT NULL,
    nonce BIGINT NOT NULL,
    fee NUMERIC(39,0) NOT NULL,
    call TEXT NOT NULL,
    code TEXT NOT NULL,
    tx JSONB NOT NULL,
    PRIMARY KEY (height, position)
);
CREATE INDEX IF NOT EXISTS txs_hash ON txs (hash);
CREATE INDEX IF NOT EXISTS txs_signer ON txs (signer);
CREATE TABLE IF NOT EXISTS events (
    height BIGINT NOT NULL REFERENCES blocks (height),
    seq INT NOT NULL,
    tx INT,
    kind TEXT NOT NULL,
    data JSONB NOT NULL,
    PRIMARY KEY (height, seq)
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind);
CREATE TABLE IF NOT EXISTS payouts (
    height BIGINT NOT NULL,
    seq INT NOT NULL,
    part INT NOT NULL,
    kind TEXT NOT NULL,
    epoch BIGINT,
    account TEXT NOT NULL,
    amount NUMERIC(39,0) NOT NULL,
    job TEXT,
    request BIGINT,
    PRIMARY KEY (height, seq, part),
    FOREIGN KEY (height, seq) REFERENCES events (height, seq)
);
CREATE INDEX IF NOT EXISTS payouts_account ON payouts (account);
CREATE TABLE IF NOT EXISTS fines (
    height BIGINT NOT NULL,
    seq INT NOT NULL,
    part INT NOT NULL,
    reason TEXT NOT NULL,
    account TEXT,
    amount NUMERIC(39,0),
    job TEXT,
    task BIGINT,
    PRIMARY KEY (height, seq, part),
    FOREIGN KEY (height, seq) REFERENCES events (height, seq)
);
CREATE TABLE IF NOT EXISTS refunds (
    height BIGINT NOT NULL,
    seq INT NOT NULL,
    part INT NOT NULL,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    amount NUMERIC(39,0) NOT NULL,
    job TEXT,
    request BIGINT,
    PRIMARY KEY (height, seq, part),
    FOREIGN KEY (height, seq) REFERENCES events (height, seq)
);
CREATE TABLE IF NOT EXISTS slashes (
    height BIGINT NOT NULL,
    seq INT NOT NULL,
    epoch BIGINT NOT NULL,
    account TEXT NOT NULL,
    offence TEXT NOT NULL,
    amount NUMERIC(39,0) NOT NULL,
    connectivity_ppb BIGINT NOT NULL,
    PRIMARY KEY (height, seq),
    FOREIGN KEY (height, seq) REFERENCES events (height, seq)
);
CREATE TABLE IF NOT EXISTS points (
    height BIGINT NOT NULL,
    seq INT NOT NULL,
    epoch BIGINT NOT NULL,
    node TEXT NOT NULL,
    earned NUMERIC(39,0) NOT NULL,
    deducted NUMERIC(39,0) NOT NULL,
    amount NUMERIC(39,0) NOT NULL,
    PRIMARY KEY (height, seq),
    FOREIGN KEY (height, seq) REFERENCES events (height, seq)
);
CREATE TABLE IF NOT EXISTS ratings (
    height BIGINT NOT NULL,
    seq INT NOT NULL,
    request BIGINT NOT NULL,
    miner TEXT NOT NULL,
    rating TEXT NOT NULL,
    reputation_ppb BIGINT NOT NULL,
    PRIMARY KEY (height, seq),
    FOREIGN KEY (height, seq) REFERENCES events (height, seq)
);
CREATE TABLE IF NOT EXISTS task_results (
    height BIGINT NOT NULL,
    seq INT NOT NULL,
    part INT NOT NULL,
    task BIGINT NOT NULL,
    miner TEXT NOT NULL,
    passed BOOLEAN NOT NULL,
    reason TEXT,
    score_ppb BIGINT,
    PRIMARY KEY (height, seq, part),
    FOREIGN KEY (height, seq) REFERENCES events (height, seq)
);
CREATE INDEX IF NOT EXISTS task_results_miner ON task_results (miner);
"#;
