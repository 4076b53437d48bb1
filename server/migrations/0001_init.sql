-- Runboard's store. Times are RFC 3339 text in UTC, which sorts as time does.

CREATE TABLE experiments (
    name       TEXT PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE runs (
    run_id     TEXT PRIMARY KEY NOT NULL,
    experiment TEXT NOT NULL REFERENCES experiments(name),
    status     TEXT NOT NULL,
    target     TEXT NOT NULL,
    -- JSON: the estimator, the script's argv, the command line.
    definition TEXT NOT NULL,
    -- Token that lets the run's own script write to this run only.
    run_token  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    start_time TEXT,
    end_time   TEXT,
    error      TEXT
);
CREATE INDEX runs_by_time ON runs(created_at DESC, run_id DESC);
CREATE INDEX runs_by_experiment ON runs(experiment, created_at DESC, run_id DESC);
CREATE INDEX runs_by_status ON runs(status, created_at DESC, run_id DESC);

CREATE TABLE status_history (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    status TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX status_history_by_run ON status_history(run_id);

CREATE TABLE properties (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE tags (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- Files of a run: outputs/, logs/, user_logs/, system_logs/.
CREATE TABLE files (
    run_id   TEXT NOT NULL REFERENCES runs(run_id),
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    modified TEXT NOT NULL,
    PRIMARY KEY (run_id, path)
) WITHOUT ROWID;

-- The run's event log; seq is 1, 2, 3, … per run with no gaps.
CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    seq    INTEGER NOT NULL,
    at     TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- How far each log file has been read into events; written in the same transaction
-- as the event, so a restarted server resumes exactly where it stopped.
CREATE TABLE log_offsets (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    path   TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
