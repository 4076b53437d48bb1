//! Rows for MLflow's tracking API (see `crate::mlflow`): experiments made by name,
//! runs that MLflow's client creates (no process: stored `Running` at once), and
//! recognising a run's token.

use runboard_shared::event::RunEvent;
use runboard_shared::run::{RunId, RunStatus};

use super::{NewRun, Result, Store, StoreError, insert_run, now};

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
        let event = insert_run(&mut tx, run, None, RunStatus::Running).await?;
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
