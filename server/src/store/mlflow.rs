//! Rows for MLflow's tracking API (see `crate::mlflow`): experiments made by name,
//! runs that MLflow's client creates (no process: stored `Running` at once), and
//! recognising a run's token.

use runboard_shared::event::{EventBody, RunEvent};
use runboard_shared::run::{RunId, RunStatus};

use super::{NewRun, Result, Store, StoreError, append_event, now};

impl Store {
    /// Creates an experiment; false (nothing changed) when it exists.
    pub async fn create_experiment(&self, name: &str) -> Result<bool> {
        let done =
            sqlx::query("INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)")
                .bind(name)
                .bind(now())
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When an experiment was created (RFC 3339), or `None` when there is none.
    pub async fn experiment_created(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT created_at FROM experiments WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Stores a run that no process runs, already `Running` (creating its experiment
    /// if needed), and returns its status event. Admission never sees it `Queued`, so
    /// no driver is started for it.
    pub async fn create_external_run(&self, run: &NewRun) -> Result<RunEvent> {
        let mut tx = self.write.begin().await?;
        let at = now();
        sqlx::query("INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)")
            .bind(run.run_id.experiment())
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO runs (run_id, experiment, status, target, definition, run_token, created_at,
                               start_time, submitted_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.run_id.as_str())
        .bind(run.run_id.experiment())
        .bind(RunStatus::Running.as_str())
        .bind(&run.target)
        .bind(run.definition.to_string())
        .bind(&run.run_token)
        .bind(&at)
        .bind(&at)
        .bind(&run.submitted_by)
        .execute(&mut *tx)
        .await?;
        for (table, map) in [("properties", &run.properties), ("tags", &run.tags)] {
            for (k, v) in map {
                sqlx::query(&format!(
                    "INSERT INTO {table} (run_id, key, value) VALUES (?, ?, ?)"
                ))
                .bind(run.run_id.as_str())
                .bind(k)
                .bind(v)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("INSERT INTO status_history (run_id, status, at) VALUES (?, ?, ?)")
            .bind(run.run_id.as_str())
            .bind(RunStatus::Running.as_str())
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        let body = EventBody::Status {
            status: RunStatus::Running,
            error: None,
        };
        let event = append_event(&mut tx, &run.run_id, &at, body).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// The run whose token `token` is (a run's token reaches only its own run).
    pub async fn run_of_token(&self, token: &str) -> Result<Option<RunId>> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT run_id FROM runs WHERE run_token = ? LIMIT 1")
                .bind(token)
                .fetch_optional(&self.read)
                .await?;
        found
            .map(|id| RunId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }
}
