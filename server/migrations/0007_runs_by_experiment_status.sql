-- The experiments page counts runs per experiment and status and finds the newest:
-- with this covering index that is one ordered scan of the index, no table reads and
-- no temporary sort, at any number of runs (`cargo xtask bench scale`, scenario 1).
CREATE INDEX runs_by_experiment_status ON runs(experiment, status, created_at);
