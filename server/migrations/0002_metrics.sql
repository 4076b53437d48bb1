-- Scalar series (metrics logged with Run.log, TensorBoard scalars). The points live
-- in <run>/metrics/<id>.bin (see server/src/series.rs); `count` says how many of
-- them are committed.
CREATE TABLE series (
    run_id     TEXT NOT NULL REFERENCES runs(run_id),
    id         INTEGER NOT NULL,
    source     TEXT NOT NULL,     -- 'metric' or 'tensorboard'
    tb_run     TEXT NOT NULL,     -- TensorBoard run ('' for metrics)
    name       TEXT NOT NULL,
    count      INTEGER NOT NULL,
    last_step  INTEGER,
    last_wall  REAL,
    last_value REAL,
    PRIMARY KEY (run_id, id),
    UNIQUE (run_id, source, tb_run, name)
) WITHOUT ROWID;

-- Metric values that are not numbers (log_list, log_row, log_table, log_image, text).
CREATE TABLE metric_values (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    name   TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, name, seq)
) WITHOUT ROWID;

-- Non-scalar TensorBoard summaries, counted.
CREATE TABLE tb_other (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    tb_run TEXT NOT NULL,
    tag    TEXT NOT NULL,
    kind   TEXT NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (run_id, tb_run, tag, kind)
) WITHOUT ROWID;
