-- Runs that were deleted: their id, experiment and when, so that a link to one says
-- it was deleted rather than that it never existed. Nothing else of the run is kept.
CREATE TABLE deleted_runs (
    run_id      TEXT PRIMARY KEY,
    experiment  TEXT NOT NULL,
    deleted_at  TEXT NOT NULL
) WITHOUT ROWID;
