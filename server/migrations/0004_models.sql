-- The model registry: a name with versions counting up from 1. Each version's files
-- are copies under <data>/models/<name>/<version>/; `path` is the registered file or
-- folder's name there. No foreign key to runs: a model outlives the run it came from.
CREATE TABLE models (
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    path        TEXT NOT NULL,
    run_id      TEXT,
    description TEXT NOT NULL,
    tags        TEXT NOT NULL,  -- JSON object
    properties  TEXT NOT NULL,  -- JSON object
    created_at  TEXT NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

CREATE INDEX models_by_run ON models (run_id);
