-- Sweeps (HyperDrive). A sweep is a parent run (target 'hyperdrive', driven by
-- server/src/sweep.rs, not by a compute target); its children are ordinary runs with
-- parent_run_id set. Everything the scheduler needs to resume after a restart with the
-- same decisions is here: the configuration with its seed, each child's index and
-- parameters, how many intervals the policy has looked at, and why it stopped one.
ALTER TABLE runs ADD COLUMN parent_run_id TEXT REFERENCES runs(run_id);
CREATE INDEX runs_by_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE sweeps (
    run_id     TEXT PRIMARY KEY NOT NULL REFERENCES runs(run_id),
    config     TEXT NOT NULL,  -- runboard_shared::sweep::SweepConfig, the seed filled in
    template   TEXT NOT NULL,  -- JSON: what every child's definition shares (environment, python)
    started_at TEXT NOT NULL   -- RFC 3339; max_duration_minutes counts from here
) WITHOUT ROWID;

CREATE TABLE sweep_children (
    sweep_id   TEXT NOT NULL REFERENCES runs(run_id),
    idx        INTEGER NOT NULL,            -- 0, 1, 2, …: the sampling's child index
    run_id     TEXT NOT NULL UNIQUE REFERENCES runs(run_id),
    parameters TEXT NOT NULL,               -- JSON object: name → value
    evaluated  INTEGER NOT NULL DEFAULT 0,  -- intervals the policy has looked at
    stopped    TEXT,                        -- why the scheduler stopped it, if it did
    PRIMARY KEY (sweep_id, idx)
) WITHOUT ROWID;
